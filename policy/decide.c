/*
 * decide - what one RCPT request asks of Redis, and what to answer
 * (see decide.h)
 */
#include "config.h"

#include <ctype.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "msg.h"
#include "pool_select.h"
#include "stats.h"
#include "xalloc.h"

/* answer - copy a fixed action */
static int
answer(char *out, size_t outlen, const char *action)
{
    snprintf(out, outlen, "%s", action);
    return DECIDE_ANSWERED;
}

/* sender_key - the SASL user (in lower case, as [sender] names match) or the
 * sender's domain, as configured */
static void
sender_key(const struct limits *l, const struct policy_request *req,
	   const char *sender_domain, char *out, size_t outlen)
{
    int kind = l->conf->policy.sender_key;
    const struct policy_str *sasl = &req->sasl_username;
    size_t i;

    out[0] = '\0';
    if (kind != CONF_SENDER_DOMAIN && sasl->p && sasl->len > 0 && sasl->len < outlen) {
	for (i = 0; i < sasl->len; i++)
	    out[i] = (char) tolower((unsigned char) sasl->p[i]);
	out[sasl->len] = '\0';
	return;
    }
    if (kind != CONF_SENDER_SASL)
	snprintf(out, outlen, "%s", sender_domain);
}

/* prepare_on_error - the failure answer while any kind of limit may apply */
static int
prepare_on_error(const struct conf_policy *cp, const struct decide_plan *plan)
{
    if (cp->provider_on_error == CONF_ON_ERROR_ACCEPT
	&& cp->domain_on_error == CONF_ON_ERROR_ACCEPT
	&& (plan->sender_key[0] == '\0' || cp->sender_on_error == CONF_ON_ERROR_ACCEPT)
	&& (plan->pool < 0 || cp->warmup_on_error == CONF_ON_ERROR_ACCEPT))
	return CONF_ON_ERROR_ACCEPT;
    return CONF_ON_ERROR_TEMPFAIL;
}

/* decide_prepare - read the request; answer it or say what is needed */
int
decide_prepare(const struct limits *l, const struct policy_request *req,
	       struct decide_plan *plan, char *out, size_t outlen)
{
    char addr[ADDR_MAX], *sender_domain = plan->sender_domain, sasl[ADDR_MAX] = "";
    const char *why;
    int provider;

    plan->argv = NULL;
    plan->argvlen = NULL;
    plan->nlim = 0;
    plan->provider = -1;
    plan->on_error = CONF_ON_ERROR_TEMPFAIL;
    plan->sender_domain[0] = '\0';
    if (!request_str_eq(&req->protocol_state, "RCPT"))
	return answer(out, outlen, "DUNNO");
    if (req->recipient.p == NULL
	|| addr_normalize(req->recipient.p, req->recipient.len, addr, sizeof(addr), &why) < 0
	|| strchr(addr, '@') == NULL) {
	msg_debug("recipient without a usable domain: DUNNO");
	return answer(out, outlen, "DUNNO");
    }
    snprintf(plan->domain, sizeof(plan->domain), "%s", addr_domain(addr));
    if (req->sender.p && req->sender.len > 0
	&& addr_normalize(req->sender.p, req->sender.len, addr, sizeof(addr), &why) == 0
	&& strchr(addr, '@') != NULL)
	snprintf(sender_domain, sizeof(plan->sender_domain), "%s", addr_domain(addr));
    if (req->sasl_username.p && req->sasl_username.len < sizeof(sasl)) {
	memcpy(sasl, req->sasl_username.p, req->sasl_username.len);
	sasl[req->sasl_username.len] = '\0';
    }
    sender_key(l, req, sender_domain, plan->sender_key, sizeof(plan->sender_key));
    plan->pool = limits_pool_for(l, sasl, sender_domain);
    if ((provider = provider_by_domain(&l->providers, plan->domain)) < 0) {
	/* no decision before the provider is known: open only if every kind is */
	plan->on_error = prepare_on_error(&l->conf->policy, plan);
	return DECIDE_NEED_MX;
    }
    if (decide_plan_limits(l, plan, provider, out, outlen) == DECIDE_ANSWERED)
	return DECIDE_ANSWERED;
    return DECIDE_READY;
}

/* add_limit - one rate limit that applies */
static void
add_limit(struct decide_plan *plan, char kind, const char *name,
	  const struct gcra *g, int on_error, int *fail_open)
{
    if (g == NULL || g->interval_us <= 0)
	return;
    plan->lim[plan->nlim].kind = kind;
    plan->lim[plan->nlim].name = name;
    plan->lim[plan->nlim].gcra = g;
    plan->nlim++;
    if (on_error != CONF_ON_ERROR_ACCEPT)
	*fail_open = 0;
}

/* decide_plan_limits - the limits of this recipient, once its provider is known */
int
decide_plan_limits(const struct limits *l, struct decide_plan *plan, int provider,
		   char *out, size_t outlen)
{
    const struct conf_policy *cp = &l->conf->policy;
    int fail_open = 1;

    plan->provider = provider;
    plan->nlim = 0;
    if (provider >= 0 && l->providers.v[provider].has_rate)
	add_limit(plan, 'p', l->providers.v[provider].name, &l->providers.v[provider].gcra,
		  cp->provider_on_error, &fail_open);
    add_limit(plan, 'd', plan->domain, limits_domain_gcra(l, plan->domain),
	      cp->domain_on_error, &fail_open);
    if (plan->sender_key[0])
	add_limit(plan, 's', plan->sender_key, limits_sender_gcra(l, plan->sender_key),
		  cp->sender_on_error, &fail_open);
    if (plan->pool >= 0 && cp->warmup_on_error != CONF_ON_ERROR_ACCEPT)
	fail_open = 0;
    plan->on_error = fail_open ? CONF_ON_ERROR_ACCEPT : CONF_ON_ERROR_TEMPFAIL;
    if (plan->nlim == 0 && plan->pool < 0)
	return answer(out, outlen, "DUNNO");
    return DECIDE_READY;
}

/* put_str - append a string to the plan's buffer and to argv */
static int
put_str(struct decide_plan *plan, const char *s, size_t len)
{
    if (plan->used + len + 1 > sizeof(plan->buf))
	return -1;
    memcpy(plan->buf + plan->used, s, len);
    plan->buf[plan->used + len] = '\0';
    plan->argv[plan->argc] = plan->buf + plan->used;
    plan->argvlen[plan->argc++] = len;
    plan->used += len + 1;
    return 0;
}

/* put_num - append a number */
static int
put_num(struct decide_plan *plan, long long v)
{
    char num[32];
    int n = snprintf(num, sizeof(num), "%lld", v);

    return put_str(plan, num, (size_t) n);
}

/* put_key - append a key name */
static int
put_key(const struct limits *l, struct decide_plan *plan, const char *kind,
	const char *a, const char *b)
{
    char key[600];
    int n = limits_key(key, sizeof(key), l->prefix, kind, a, b);

    return n < 0 ? -1 : put_str(plan, key, (size_t) n);
}

/* put_ref - append a string that outlives the plan (no copy) */
static void
put_ref(struct decide_plan *plan, const char *s)
{
    plan->argv[plan->argc] = s;
    plan->argvlen[plan->argc++] = strlen(s);
}

/* decide_command - EVALSHA sha1 nkeys KEYS... ARGV... */
int
decide_command(const struct limits *l, struct decide_plan *plan, const char *sha1,
	       long long now_s)
{
    const struct pool_rt *pool = plan->pool >= 0 ? &l->pools[plan->pool] : NULL;
    int npools = pool ? pool->nchain : 0;
    const char *group = plan->provider >= 0 ? l->providers.v[plan->provider].name : plan->domain;
    /* EVALSHA sha nkeys, tz NG, NP group; 3 per limit, 4 per pool + schedule */
    size_t max = 7 + (size_t) plan->nlim * 3 + (size_t) npools * 4;
    char kind[4];
    int i, j, nkeys;

    for (j = 0; j < npools; j++)
	max += l->pools[pool->chain[j]].nsched_argv;
    decide_plan_free(plan);
    plan->argv = xreallocarray(NULL, max, sizeof(*plan->argv));
    plan->argvlen = xreallocarray(NULL, max, sizeof(*plan->argvlen));
    plan->argc = 0;
    plan->used = 0;
    put_ref(plan, "EVALSHA");
    put_ref(plan, sha1);
    nkeys = plan->nlim + 3 * npools;
    if (put_num(plan, nkeys) < 0)
	return -1;
    for (i = 0; i < plan->nlim; i++) {
	snprintf(kind, sizeof(kind), "g:%c", plan->lim[i].kind);
	if (put_key(l, plan, kind, plan->lim[i].name, NULL) < 0)
	    return -1;
    }
    for (j = 0; j < npools; j++) {
	const struct pool_rt *p = &l->pools[pool->chain[j]];

	put_ref(plan, p->start_key);
	put_ref(plan, p->today_key);
	if (put_key(l, plan, "backoff", group, p->name) < 0)
	    return -1;
    }
    if (put_num(plan, warmup_tz_offset(&l->tz, now_s)) < 0 || put_num(plan, plan->nlim) < 0)
	return -1;
    for (i = 0; i < plan->nlim; i++)
	if (put_num(plan, plan->lim[i].gcra->interval_us) < 0
	    || put_num(plan, plan->lim[i].gcra->tolerance_us) < 0)
	    return -1;
    if (put_num(plan, npools) < 0)
	return -1;
    put_ref(plan, plan->provider >= 0 ? group : "");
    for (j = 0; j < npools; j++) {
	const struct pool_rt *p = &l->pools[pool->chain[j]];
	size_t k;

	for (k = 0; k < p->nsched_argv; k++)
	    put_ref(plan, p->sched_argv[k]);
	if (put_num(plan, plan->provider >= 0 ? p->split_pct[plan->provider] : 0) < 0)
	    return -1;
    }
    return 0;
}

/* safe_name - a name as it may appear in an answer line */
static void
safe_name(const char *in, char *out, size_t outlen)
{
    size_t i;

    for (i = 0; in[i] && i + 1 < outlen; i++)
	out[i] = (in[i] > ' ' && in[i] < 0x7f) ? in[i] : '?';
    out[i] = '\0';
}

/* fill_reply - defer_reply with $limit and $retry replaced */
static void
fill_reply(const char *tmpl, const char *limit, long long retry, char *out, size_t outlen)
{
    size_t o = 0;
    const char *p;
    char num[32];

    snprintf(num, sizeof(num), "%lld", retry);
    for (p = tmpl; *p && o + 1 < outlen; p++) {
	const char *sub = NULL;

	if (strncmp(p, "$limit", 6) == 0)
	    sub = limit, p += 5;
	else if (strncmp(p, "$retry", 6) == 0)
	    sub = num, p += 5;
	if (sub == NULL) {
	    out[o++] = *p;
	    continue;
	}
	while (*sub && o + 1 < outlen)
	    out[o++] = *sub++;
    }
    out[o] = '\0';
}

/* decide_answer - the action for gcra.lua's reply; -1: the failure action */
int
decide_answer(const struct limits *l, const struct decide_plan *plan,
	      const redisReply *r, char *out, size_t outlen)
{
    const struct pool_rt *pool = plan->pool >= 0 ? &l->pools[plan->pool] : NULL;
    int npools = pool ? pool->nchain : 0;
    long long code, idx, wait;
    char what[400], name[300];

    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 3
	|| r->element[0]->type != REDIS_REPLY_INTEGER
	|| r->element[1]->type != REDIS_REPLY_INTEGER
	|| r->element[2]->type != REDIS_REPLY_INTEGER) {
	if (r && r->type == REDIS_REPLY_ERROR)
	    msg_warn("redis: script error: %s", r->str);
	else
	    msg_warn("redis: unexpected reply from the throttling script");
	decide_failure(l, plan, out, outlen);
	return -1;
    }
    code = r->element[0]->integer;
    idx = r->element[1]->integer;
    wait = r->element[2]->integer;
    if (code == 0) {
	if (idx > 1 && idx <= npools)
	    snprintf(out, outlen, "FILTER %s", l->pools[pool->chain[idx - 1]].filter);
	else
	    snprintf(out, outlen, "DUNNO");
	return 0;
    }
    if (code == 1 && idx >= 1 && idx <= plan->nlim) {
	const struct decide_limit *lim = &plan->lim[idx - 1];

	safe_name(lim->name, name, sizeof(name));
	snprintf(what, sizeof(what), "rate limit of %s %s",
		 lim->kind == 'p' ? "provider" : lim->kind == 'd' ? "domain" : "sender", name);
    } else if (code == 1 && idx > plan->nlim && idx <= plan->nlim + npools) {
	safe_name(plan->provider >= 0 ? l->providers.v[plan->provider].name : plan->domain,
		  name, sizeof(name));
	snprintf(what, sizeof(what), "backoff of %s on pool %s", name,
		 l->pools[pool->chain[idx - plan->nlim - 1]].name);
    } else if (code == 2 && idx >= 1 && idx <= npools) {
	snprintf(what, sizeof(what), "warm-up cap of pool %s for today",
		 l->pools[pool->chain[idx - 1]].name);
    } else {
	msg_warn("redis: throttling script answered %lld %lld", code, idx);
	decide_failure(l, plan, out, outlen);
	return -1;
    }
    /* whole seconds, rounded up: retrying earlier would be refused again */
    fill_reply(l->conf->policy.defer_reply, what, wait <= 0 ? 1 : (wait + 999999) / 1000000,
	       out, outlen);
    return 0;
}

/* decide_counted - the statistics counter of a reply, if any */
const char *
decide_counted(const struct limits *l, const struct decide_plan *plan,
	       const redisReply *r, const char **provider, const char **pool)
{
    const struct pool_rt *own = plan->pool >= 0 ? &l->pools[plan->pool] : NULL;
    long long code, idx;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 3
	|| r->element[0]->type != REDIS_REPLY_INTEGER
	|| r->element[1]->type != REDIS_REPLY_INTEGER)
	return NULL;
    code = r->element[0]->integer;
    idx = r->element[1]->integer;
    *provider = plan->provider >= 0 ? l->providers.v[plan->provider].name : "other";
    *pool = own ? own->name : POOL_DEFAULT;
    if (code == 1 || code == 2)
	return STATS_THROTTLED;
    if (code == 0 && own && idx > 1 && idx <= own->nchain)
	return STATS_SPILLED;
    return NULL;
}

/* decide_failure - Redis could not answer */
void
decide_failure(const struct limits *l, const struct decide_plan *plan, char *out,
	       size_t outlen)
{
    if (plan->on_error == CONF_ON_ERROR_ACCEPT)
	snprintf(out, outlen, "DUNNO");
    else
	snprintf(out, outlen, "%s", l->conf->policy.tempfail_reply);
}

/* decide_plan_free - release the argv of a plan */
void
decide_plan_free(struct decide_plan *plan)
{
    free(plan->argv);
    free(plan->argvlen);
    plan->argv = NULL;
    plan->argvlen = NULL;
}
