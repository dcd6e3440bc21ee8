/*
 * throttle_limits - the throttling policy of one configuration, ready to use
 * (see throttle_limits.h)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "throttle_limits.h"
#include "msg.h"
#include "pool_select.h"
#include "xalloc.h"

/* limits_key - "<prefix>{rl}:<kind>:<a>[:<b>]" */
int
limits_key(char *buf, size_t len, const char *prefix, const char *kind,
	   const char *a, const char *b)
{
    int n = snprintf(buf, len, "%s{rl}:%s:%s%s%s", prefix, kind, a,
		     b ? ":" : "", b ? b : "");

    return n < 0 || (size_t) n >= len ? -1 : n;
}

/* key_dup - a key name in new memory */
static char *
key_dup(const char *prefix, const char *kind, const char *a, const char *b)
{
    char buf[512];

    if (limits_key(buf, sizeof(buf), prefix, kind, a, b) < 0)
	msg_fatal("key name too long: %s %s", kind, a);
    return xstrdup(buf);
}

/* num_dup - a number as a new string */
static char *
num_dup(long long v)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%lld", v);
    return xstrdup(buf);
}

/* build_pool - schedule, split, chain and keys of one pool */
static int
build_pool(struct limits *l, size_t i, char *err, size_t errlen)
{
    const struct outpost_conf *conf = l->conf;
    const struct conf_pool *cp = CONF_VEC_AT(&conf->pools, i, struct conf_pool);
    struct pool_rt *p = &l->pools[i];
    const struct conf_pool *q;
    const char *why;
    size_t j;

    p->name = cp->named.name;
    /* FILTER wants transport:nexthop; a bare transport name gets its colon */
    p->filter = xmalloc(strlen(cp->transport) + 2);
    sprintf(p->filter, "%s%s", cp->transport, strchr(cp->transport, ':') ? "" : ":");
    if (warmup_schedule_parse(&cp->schedule, &p->sched, &why) < 0) {
	snprintf(err, errlen, "%s:%d: [pool %s] %s", conf->path, cp->named.line, cp->named.name, why);
	return -1;
    }
    p->split_pct = xcalloc(l->providers.n ? l->providers.n : 1, sizeof(int));
    for (j = 0; j < cp->split.n; j++) {
	const char *item = cp->split.v[j];
	const char *colon = strrchr(item, ':');
	char name[128];
	int idx;

	snprintf(name, sizeof(name), "%.*s", (int) (colon - item), item);
	if ((idx = provider_by_name(&l->providers, name)) < 0) {
	    snprintf(err, errlen, "%s:%d: [pool %s] split: unknown provider %s",
		     conf->path, cp->named.line, cp->named.name, name);
	    return -1;
	}
	p->split_pct[idx] = atoi(colon + 1);
    }
    /* the chain: this pool, then each overflow in turn (conf.c checked it ends) */
    p->chain[p->nchain++] = (int) i;
    for (q = cp; q->overflow != NULL; ) {
	q = conf_pool_find(conf, q->overflow);
	if (p->nchain == LIMITS_MAX_CHAIN) {
	    snprintf(err, errlen, "%s:%d: [pool %s] overflow: at most %d pools in a chain",
		     conf->path, cp->named.line, cp->named.name, LIMITS_MAX_CHAIN);
	    return -1;
	}
	for (j = 0; j < conf->pools.n; j++)
	    if (CONF_VEC_AT(&conf->pools, j, struct conf_pool) == q)
		p->chain[p->nchain++] = (int) j;
    }
    p->start_key = key_dup(l->prefix, "warmup", cp->named.name, "start");
    p->today_key = key_dup(l->prefix, "warmup", cp->named.name, "today");
    p->nsched_argv = 1 + 2 * p->sched.n;
    p->sched_argv = xcalloc(p->nsched_argv, sizeof(char *));
    p->sched_argv[0] = num_dup((long long) p->sched.n);
    for (j = 0; j < p->sched.n; j++) {
	p->sched_argv[1 + 2 * j] = num_dup(p->sched.v[j].day);
	p->sched_argv[2 + 2 * j] = num_dup(p->sched.v[j].cap);
    }
    return 0;
}

/* limits_build - everything a decision needs from one configuration */
struct limits *
limits_build(struct outpost_conf *conf, char *err, size_t errlen)
{
    struct limits *l = xcalloc(1, sizeof(*l));
    const char *why;
    size_t i;

    l->refs = 1;
    l->conf = conf;
    l->prefix = conf->redis.prefix ? conf->redis.prefix : "";
    if (strlen(l->prefix) > LIMITS_MAX_PREFIX || strchr(l->prefix, '{')) {
	snprintf(err, errlen, "%s: [redis] prefix: at most %d characters, without '{'",
		 conf->path, LIMITS_MAX_PREFIX);
	goto fail;
    }
    if (warmup_tz_parse(conf->policy.timezone, &l->tz, &why) < 0) {
	snprintf(err, errlen, "%s: [policy] %s", conf->path, why);
	goto fail;
    }
    if (provider_table_build(conf, &l->providers, err, errlen) < 0)
	goto fail;
    l->npools = conf->pools.n;
    l->pools = xcalloc(l->npools ? l->npools : 1, sizeof(*l->pools));
    for (i = 0; i < l->npools; i++)
	if (build_pool(l, i, err, errlen) < 0)
	    goto fail;
    gcra_init(&l->domain_gcra, &conf->policy.domain_rate, conf->policy.domain_burst);
    gcra_init(&l->sender_gcra, &conf->policy.sender_rate, conf->policy.sender_burst);
    l->domain_over = xcalloc(conf->domains.n + 1, sizeof(struct gcra));
    for (i = 0; i < conf->domains.n; i++) {
	const struct conf_domain *d = CONF_VEC_AT(&conf->domains, i, struct conf_domain);

	gcra_init(&l->domain_over[i], &d->rate, d->burst);
    }
    l->sender_over = xcalloc(conf->senders.n + 1, sizeof(struct gcra));
    for (i = 0; i < conf->senders.n; i++) {
	const struct conf_sender *s = CONF_VEC_AT(&conf->senders, i, struct conf_sender);

	gcra_init(&l->sender_over[i], &s->rate, s->burst);
    }
    return l;

fail:
    limits_unref(l);
    return NULL;
}

/* limits_ref - one more user */
struct limits *
limits_ref(struct limits *l)
{
    l->refs++;
    return l;
}

/* limits_unref - one user fewer; free with the last */
void
limits_unref(struct limits *l)
{
    size_t i, j;

    if (l == NULL || --l->refs > 0)
	return;
    for (i = 0; i < l->npools; i++) {
	struct pool_rt *p = &l->pools[i];

	free(p->filter);
	free(p->split_pct);
	free(p->start_key);
	free(p->today_key);
	for (j = 0; j < p->nsched_argv && p->sched_argv; j++)
	    free(p->sched_argv[j]);
	free(p->sched_argv);
    }
    free(l->pools);
    free(l->domain_over);
    free(l->sender_over);
    provider_table_free(&l->providers);
    conf_free(l->conf);
    free(l);
}

/* limits_pool_for - the sender's pool, by the one rule of pool_select() */
int
limits_pool_for(const struct limits *l, const char *sasl, const char *sender_domain)
{
    return pool_select(l->conf, sasl, sender_domain);
}

/* limits_domain_gcra - a recipient domain's rate (domains are case-blind) */
const struct gcra *
limits_domain_gcra(const struct limits *l, const char *domain)
{
    size_t i;

    for (i = 0; i < l->conf->domains.n; i++)
	if (strcasecmp(CONF_VEC_AT(&l->conf->domains, i, struct conf_domain)->named.name, domain) == 0)
	    return &l->domain_over[i];
    return l->domain_gcra.interval_us > 0 ? &l->domain_gcra : NULL;
}

/* limits_sender_gcra - a sender's rate */
const struct gcra *
limits_sender_gcra(const struct limits *l, const char *sender)
{
    size_t i;

    for (i = 0; i < l->conf->senders.n; i++)
	if (strcasecmp(CONF_VEC_AT(&l->conf->senders, i, struct conf_sender)->named.name, sender) == 0)
	    return &l->sender_over[i];
    return l->sender_gcra.interval_us > 0 ? &l->sender_gcra : NULL;
}
