/*
 * warmup - outpostctl warmup and throttle: the state of outpost-policyd
 *
 * SYNOPSIS
 *	outpostctl warmup status [--json]
 *	outpostctl warmup start POOL [YYYY-MM-DD]
 *	outpostctl throttle status [--json]
 *
 * DESCRIPTION
 *	warmup status prints, for each [pool NAME], its start date, today's
 *	day of the warm-up, today's cap and how much of it is used (in
 *	total and per provider), the pool it spills over to, and whether
 *	outpost-logd holds it today and why (warmhold: a bounce or complaint
 *	rate over the pool's threshold, a listed address).  "Today" is
 *	taken from Redis' clock in the configured time zone, as
 *	outpost-policyd does.
 *
 *	warmup start sets a pool's start date (default: today); day 1 of its
 *	schedule is that date.
 *
 *	throttle status prints each rate limit that has state in Redis
 *	(provider, recipient domain, sender): how many messages may pass at
 *	once now and when the limit is fully rested; then each backoff
 *	(a provider asking a pool to slow down) in force.  Keys are found
 *	with SCAN (rconn_scan), never KEYS.
 *
 *	--json prints {"today", "timezone", "pools":[...]} and {"now",
 *	"providers":[...], "limits":[...], "backoffs":[...]} (outpostctl(8),
 *	JSON OUTPUT).
 *
 * DIAGNOSTICS
 *	Exit 0; 1 on a Redis or configuration problem; 2 on bad usage.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "throttle_limits.h"
#include "conf.h"
#include "backoff.h"
#include "ctl.h"
#include "jsonw.h"
#include "msg.h"
#include "redisconn.h"
#include "ctl_warmup.h"
#include "warmup.h"

/* redis_now - Redis' clock: seconds and microseconds */
static int
redis_now(struct rconn *rc, long long *sec, long long *usec)
{
    redisReply *r = rconn_commandv(rc, "TIME", NULL);
    int ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2;

    if (ok) {
	*sec = atoll(r->element[0]->str);
	*usec = atoll(r->element[1]->str);
    } else {
	msg_error("redis: %s", r && r->str ? r->str : rconn_error(rc));
    }
    if (r)
	freeReplyObject(r);
    return ok ? 0 : -1;
}

/* get_str - a string value, or "" when there is none; -1 when the read failed */
static int
get_str(struct rconn *rc, const char *key, char *out, size_t len)
{
    redisReply *r = rconn_commandv(rc, "GET", key, NULL);

    out[0] = '\0';
    if (ctl_refused(rc, r, "GET", key))
	return -1;
    if (r->type == REDIS_REPLY_STRING)
	snprintf(out, len, "%s", r->str);
    freeReplyObject(r);
    return 0;
}

/* provider_json - a provider's use of a pool's day */
static void
provider_json(struct jsonw *w, const char *name, long long used, long long cap, int pct)
{
    jsonw_object(w, NULL);
    jsonw_string(w, "name", name);
    jsonw_int(w, "used", used);
    if (pct > 0) {
	jsonw_int(w, "cap", cap * pct / 100);
	jsonw_int(w, "split_percent", pct);
    } else {
	jsonw_null(w, "cap");
	jsonw_null(w, "split_percent");
    }
    jsonw_end(w);
}

/* pool_json - the head of a pool's JSON row (its providers follow) */
static void
pool_json(struct jsonw *w, const struct limits *l, const struct pool_rt *p,
	  const char *start, long day, long long used)
{
    int sched = p->sched.n > 0;
    long long cap = sched ? warmup_cap(&p->sched, start[0] ? day : 1) : 0;
    char date[16];

    jsonw_string(w, "name", p->name);
    jsonw_string(w, "filter", p->filter);
    jsonw_bool(w, "schedule", sched);
    if (start[0]) {
	warmup_date_format(atol(start), date, sizeof(date));
	jsonw_string(w, "start_date", date);
	jsonw_int(w, "warmup_day", day);
    } else {
	jsonw_null(w, "start_date");
	jsonw_null(w, "warmup_day");
    }
    if (sched)
	jsonw_int(w, "cap", cap);
    else
	jsonw_null(w, "cap");
    jsonw_int(w, "used", used);
    if (sched)
	jsonw_double(w, "used_ratio", cap > 0 ? (double) used / (double) cap : 1.0);
    else
	jsonw_null(w, "used_ratio");
    jsonw_string(w, "spills_over_to", p->nchain > 1 ? l->pools[p->chain[1]].name : NULL);
}

/* pool_text - the head line of a pool */
static void
pool_text(const struct limits *l, const struct pool_rt *p, const char *start, long day,
	  long long used)
{
    long long cap;
    char date[16];

    if (p->sched.n == 0) {
	printf("pool %s: filter %s, no warm-up schedule (no cap)\n", p->name, p->filter);
	return;
    }
    if (start[0] == '\0') {
	printf("pool %s: filter %s, warm-up not started (starts at first use), "
	       "day 1 cap %lld\n", p->name, p->filter, warmup_cap(&p->sched, 1));
	return;
    }
    cap = warmup_cap(&p->sched, day);
    warmup_date_format(atol(start), date, sizeof(date));
    printf("pool %s: filter %s, started %s, day %ld, cap %lld, used %lld (%.1f%%)%s%s\n",
	   p->name, p->filter, date, day, cap, used, cap > 0 ? 100.0 * used / cap : 100.0,
	   p->nchain > 1 ? ", spills over to " : "",
	   p->nchain > 1 ? l->pools[p->chain[1]].name : "");
}

/*
 * held - why outpost-logd holds the pool today, or "" (P{rl}:warmup:POOL:hold);
 * -1 when the read failed
 */
static int
held(struct rconn *rc, const struct limits *l, const struct pool_rt *p, long today,
     char *why, size_t len)
{
    char key[600];
    redisReply *r;

    why[0] = '\0';
    if (limits_key(key, sizeof(key), l->prefix, "warmup", p->name, "hold") < 0)
	return 0;
    r = rconn_commandv(rc, "HMGET", key, "day", "why", NULL);
    if (ctl_refused(rc, r, "HMGET", key))
	return -1;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2
	&& r->element[0]->type == REDIS_REPLY_STRING && atol(r->element[0]->str) == today
	&& r->element[1]->type == REDIS_REPLY_STRING)
	snprintf(why, len, "%s", r->element[1]->str);
    freeReplyObject(r);
    return 0;
}

/*
 * pool_status - one pool: text line(s), or a JSON row (w not NULL); -1, with
 * nothing printed, when Redis could not be read
 */
static int
pool_status(struct rconn *rc, const struct limits *l, const struct pool_rt *p, long today,
	    struct jsonw *w)
{
    char start[32], why[512];
    long day;
    long long used = 0, cap;
    int current = 0;
    redisReply *r;
    size_t i, n = 0;

    if (get_str(rc, p->start_key, start, sizeof(start)) < 0)
	return -1;
    day = start[0] ? today - atol(start) + 1 : 0;
    cap = p->sched.n > 0 ? warmup_cap(&p->sched, start[0] ? day : 1) : 0;
    r = rconn_commandv(rc, "HGETALL", p->today_key, NULL);
    if (ctl_refused(rc, r, "HGETALL", p->today_key))
	return -1;
    if (r->type == REDIS_REPLY_ARRAY)
	n = r->elements;
    for (i = 0; i + 1 < n; i += 2)
	if (strcmp(r->element[i]->str, "day") == 0 && atol(r->element[i + 1]->str) == today)
	    current = 1;
    for (i = 0; current && i + 1 < n; i += 2)
	if (strcmp(r->element[i]->str, "used") == 0)
	    used = atoll(r->element[i + 1]->str);
    if (held(rc, l, p, today, why, sizeof(why)) < 0) {
	freeReplyObject(r);
	return -1;
    }
    if (w) {
	jsonw_object(w, NULL);
	pool_json(w, l, p, start, day, used);
	jsonw_string(w, "held", why[0] ? why : NULL);
	jsonw_array(w, "providers");
    } else {
	pool_text(l, p, start, day, used);
	if (why[0])
	    printf("  held today (the warm-up does not advance): %s\n", why);
    }
    /* the providers' shares: only of a started schedule, in text */
    for (i = 0; current && i + 1 < n && (w || (p->sched.n > 0 && start[0])); i += 2) {
	const char *f = r->element[i]->str;
	int idx, pct;

	if (strncmp(f, "p:", 2) != 0)
	    continue;
	idx = provider_by_name(&l->providers, f + 2);
	pct = idx >= 0 ? p->split_pct[idx] : 0;
	if (w)
	    provider_json(w, f + 2, atoll(r->element[i + 1]->str), cap, pct);
	else if (pct > 0)
	    printf("  provider %s: used %s of %lld (%d%%)\n", f + 2, r->element[i + 1]->str,
		   cap * pct / 100, pct);
	else
	    printf("  provider %s: used %s\n", f + 2, r->element[i + 1]->str);
    }
    if (w) {
	jsonw_end(w);
	jsonw_end(w);
    }
    freeReplyObject(r);
    return 0;
}

/* warmup_status - every pool */
static int
warmup_status(struct rconn *rc, const struct limits *l, int json)
{
    long long sec, usec;
    long today;
    size_t i;
    char date[16];
    struct jsonw w;

    if (redis_now(rc, &sec, &usec) < 0)
	return 1;
    today = warmup_day_number(sec, warmup_tz_offset(&l->tz, sec));
    warmup_date_format(today, date, sizeof(date));
    if (json) {
	jsonw_init(&w, stdout);
	jsonw_object(&w, NULL);
	jsonw_string(&w, "today", date);
	jsonw_string(&w, "timezone", l->conf->policy.timezone);
	jsonw_array(&w, "pools");
    } else {
	printf("today: %s (%s)\n", date, l->conf->policy.timezone);
	if (l->npools == 0)
	    printf("no [pool NAME] configured\n");
    }
    for (i = 0; i < l->npools; i++)
	if (pool_status(rc, l, &l->pools[i], today, json ? &w : NULL) < 0)
	    return 1;
    if (json) {
	jsonw_end(&w);
	jsonw_end(&w);
    }
    return 0;
}

/* warmup_start - set a pool's start date */
static int
warmup_start(struct rconn *rc, const struct limits *l, const char *pool, const char *date)
{
    long day;
    const char *why;
    char num[32];
    redisReply *r;
    size_t i;

    for (i = 0; i < l->npools; i++)
	if (strcmp(l->pools[i].name, pool) == 0)
	    break;
    if (i == l->npools) {
	msg_error("no [pool %s] in %s", pool, l->conf->path);
	return 1;
    }
    if (date) {
	if (warmup_date_parse(date, &day, &why) < 0) {
	    msg_error("%s: %s", date, why);
	    return 2;
	}
    } else {
	long long sec, usec;

	if (redis_now(rc, &sec, &usec) < 0)
	    return 1;
	day = warmup_day_number(sec, warmup_tz_offset(&l->tz, sec));
    }
    snprintf(num, sizeof(num), "%ld", day);
    r = rconn_commandv(rc, "SET", l->pools[i].start_key, num, NULL);
    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
	msg_error("redis: %s", r ? r->str : rconn_error(rc));
	if (r)
	    freeReplyObject(r);
	return 1;
    }
    freeReplyObject(r);
    warmup_date_format(day, num, sizeof(num));
    printf("pool %s: warm-up starts %s\n", pool, num);
    return 0;
}

const struct ctl_usage ctl_warmup_usage[] = {
    {"warmup status [--json]", "each IP pool's warm-up: day, cap and use today"},
    {"warmup start POOL [YYYY-MM-DD]", "set the day a pool's warm-up starts (default today)"},
    {NULL, NULL},
};

const struct ctl_usage ctl_throttle_usage[] = {
    {"throttle status [--json]", "the rate limits and backoffs in force"},
    {NULL, NULL},
};

/* cmd_warmup - outpostctl warmup status [--json] | start POOL [DATE] */
int
cmd_warmup(const char *conf_path, int argc, char **argv)
{
    char err[600];
    struct outpost_conf *conf;
    struct limits *l;
    struct rconn *rc;
    int rc_exit, status = argc >= 2 && strcmp(argv[1], "status") == 0;
    int json = status && argc == 3 && strcmp(argv[2], "--json") == 0;

    if (!(status && (argc == 2 || json))
	&& !((argc == 3 || argc == 4) && strcmp(argv[1], "start") == 0))
	return ctl_usage("warmup", argc >= 2 ? argv[1] : NULL);
    conf = ctl_load_conf(conf_path);
    if ((l = limits_build(conf, err, sizeof(err))) == NULL) {
	msg_error("%s", err);
	return 1;
    }
    rc = rconn_new(&l->conf->redis);
    if (status)
	rc_exit = warmup_status(rc, l, json);
    else
	rc_exit = warmup_start(rc, l, argv[2], argc == 4 ? argv[3] : NULL);
    rconn_free(rc);
    limits_unref(l);
    return rc_exit;
}

struct throttle {
    struct rconn *rc;
    const struct limits *l;
    long long now_us;
    struct jsonw *w;		/* NULL: text */
    long long n;
};

/* limit_row - one GCRA key (rconn_scan callback) */
static int
limit_row(const char *key, size_t len, void *arg)
{
    struct throttle *t = arg;
    const struct limits *l = t->l;
    size_t skip = strlen(l->prefix) + strlen("{rl}:g:");
    const char *rest = key + skip;
    char kind = len > skip + 2 ? rest[0] : '?';
    const char *name = len > skip + 2 ? rest + 2 : key;
    const char *kname = kind == 'p' ? "provider" : kind == 'd' ? "domain"
	: kind == 's' ? "sender" : "other";
    const struct gcra *g = NULL;
    char tat[64];
    long long tt;

    if (kind == 'p') {
	int i = provider_by_name(&l->providers, name);

	g = i >= 0 && l->providers.v[i].has_rate ? &l->providers.v[i].gcra : NULL;
    } else if (kind == 'd') {
	g = limits_domain_gcra(l, name);
    } else if (kind == 's') {
	g = limits_sender_gcra(l, name);
    }
    if (get_str(t->rc, key, tat, sizeof(tat)) < 0)
	return -1;
    tt = atoll(tat);
    t->n++;
    if (t->w) {
	jsonw_object(t->w, NULL);
	jsonw_string(t->w, "kind", kname);
	jsonw_string(t->w, "name", name);
	jsonw_bool(t->w, "configured", g != NULL);
	if (g) {
	    jsonw_double(t->w, "rate_per_second", 1e6 / (double) g->interval_us);
	    jsonw_int(t->w, "burst", g->tolerance_us / g->interval_us + 1);
	    jsonw_int(t->w, "available", gcra_available(g, tt, t->now_us));
	    jsonw_double(t->w, "rested_in_seconds", tt > t->now_us ? (tt - t->now_us) / 1e6 : 0.0);
	} else {
	    jsonw_null(t->w, "rate_per_second");
	    jsonw_null(t->w, "burst");
	    jsonw_null(t->w, "available");
	    jsonw_null(t->w, "rested_in_seconds");
	}
	jsonw_end(t->w);
	return 0;
    }
    printf("%-8s %-40s ", kname, name);
    if (g == NULL)
	printf("no limit configured any more\n");
    else
	printf("rate %.3g/s burst %lld: %ld may pass now, rested in %.1f s\n",
	       1e6 / (double) g->interval_us, g->tolerance_us / g->interval_us + 1,
	       gcra_available(g, tt, t->now_us), tt > t->now_us ? (tt - t->now_us) / 1e6 : 0.0);
    return 0;
}

/* backoff_row - one backoff in force (backoff_list callback) */
static void
backoff_row(const struct backoff_state *st, void *arg)
{
    struct throttle *t = arg;
    long long sec = t->now_us / 1000000;

    if (st->until <= sec)
	return;
    if (t->w == NULL) {
	char name[sizeof(st->provider) + sizeof(st->pool)];

	snprintf(name, sizeof(name), "%s:%s", st->provider, st->pool);
	printf("backoff  %-40s one per %lld ms (burst %ld) for %lld s more\n", name,
	       st->interval_ms > 0 ? st->interval_ms : 1000, st->burst > 0 ? st->burst : 1,
	       st->until - sec);
	return;
    }
    jsonw_object(t->w, NULL);
    jsonw_string(t->w, "provider", st->provider);
    jsonw_string(t->w, "pool", st->pool);
    jsonw_double(t->w, "interval_seconds", st->interval_ms / 1000.0);
    jsonw_int(t->w, "burst", st->burst);
    jsonw_time(t->w, "until", st->until);
    jsonw_int(t->w, "left_seconds", st->until - sec);
    jsonw_end(t->w);
}

/* throttle_status - the providers' rates, the limits and backoffs in Redis */
static int
throttle_status(struct rconn *rc, const struct limits *l, int json)
{
    struct throttle t = {rc, l, 0, NULL, 0};
    struct jsonw w;
    char pattern[600], literal[300];
    long long sec, usec;
    size_t i;
    int ok;

    if (redis_now(rc, &sec, &usec) < 0)
	return 1;
    t.now_us = sec * 1000000 + usec;
    if (json) {
	t.w = &w;
	jsonw_init(&w, stdout);
	jsonw_object(&w, NULL);
	jsonw_time(&w, "now", sec);
	jsonw_array(&w, "providers");
    }
    for (i = 0; i < l->providers.n; i++) {
	const struct provider *pv = &l->providers.v[i];

	if (!pv->has_rate)
	    continue;
	if (json) {
	    jsonw_object(&w, NULL);
	    jsonw_string(&w, "name", pv->name);
	    jsonw_double(&w, "rate_per_second",
			 pv->rate.count * 1000.0 / (double) pv->rate.period_ms);
	    jsonw_int(&w, "burst", pv->burst);
	    jsonw_end(&w);
	} else {
	    printf("provider %s: rate %ld per %lld ms, burst %ld\n", pv->name,
		   pv->rate.count, pv->rate.period_ms, pv->burst);
	}
    }
    if (json) {
	jsonw_end(&w);
	jsonw_array(&w, "limits");
    }
    limits_key(literal, sizeof(literal), l->prefix, "g", "", NULL);
    rconn_scan_pattern(pattern, sizeof(pattern), literal, "*");
    ok = rconn_scan(rc, pattern, limit_row, &t) >= 0;
    if (json) {
	jsonw_end(&w);
	jsonw_array(&w, "backoffs");
    } else {
	printf("limits with state in Redis: %lld\n", t.n);
    }
    ok = ok && backoff_list(rc, l->prefix, backoff_row, &t) >= 0;
    if (json) {
	jsonw_end(&w);
	jsonw_end(&w);
    }
    if (!ok)
	msg_error("throttle status: Redis failed: %s", rconn_error(rc));
    return ok ? 0 : 1;
}

/* cmd_throttle - outpostctl throttle status [--json] */
int
cmd_throttle(const char *conf_path, int argc, char **argv)
{
    char err[600];
    struct outpost_conf *conf;
    struct limits *l;
    struct rconn *rc;
    int json = argc == 3 && strcmp(argv[2], "--json") == 0, status;

    if ((argc != 2 && !json) || strcmp(argv[1], "status") != 0)
	return ctl_usage("throttle", NULL);
    conf = ctl_load_conf(conf_path);
    if ((l = limits_build(conf, err, sizeof(err))) == NULL) {
	msg_error("%s", err);
	return 1;
    }
    rc = rconn_new(&l->conf->redis);
    status = throttle_status(rc, l, json);
    rconn_free(rc);
    limits_unref(l);
    return status;
}
