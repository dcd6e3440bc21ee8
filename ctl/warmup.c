/*
 * warmup - outpostctl warmup and throttle: the state of outpost-policyd
 *
 * SYNOPSIS
 *	outpostctl warmup status
 *	outpostctl warmup start POOL [YYYY-MM-DD]
 *	outpostctl throttle status
 *
 * DESCRIPTION
 *	warmup status prints, for each [pool NAME], its start date, today's
 *	day of the warm-up, today's cap and how much of it is used (in
 *	total and per provider), and the pool it spills over to.  "Today" is
 *	taken from Redis' clock in the configured time zone, as
 *	outpost-policyd does.
 *
 *	warmup start sets a pool's start date (default: today); day 1 of its
 *	schedule is that date.
 *
 *	throttle status prints each rate limit that has state in Redis
 *	(provider, recipient domain, sender): how many messages may pass at
 *	once now and when the limit is fully rested; then each backoff
 *	(a provider asking a pool to slow down) in force.
 *
 * DIAGNOSTICS
 *	Exit 0; 1 on a Redis or configuration problem; 2 on bad usage.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../policy/limits.h"
#include "conf.h"
#include "ctl.h"
#include "msg.h"
#include "redisconn.h"
#include "ctl_warmup.h"
#include "../common/warmup.h"

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
	fprintf(stderr, "outpostctl: redis: %s\n", r && r->str ? r->str : rconn_error(rc));
    }
    if (r)
	freeReplyObject(r);
    return ok ? 0 : -1;
}

/* get_str - a string value, or "" */
static void
get_str(struct rconn *rc, const char *key, char *out, size_t len)
{
    redisReply *r = rconn_commandv(rc, "GET", key, NULL);

    out[0] = '\0';
    if (r && r->type == REDIS_REPLY_STRING)
	snprintf(out, len, "%s", r->str);
    if (r)
	freeReplyObject(r);
}

/* pool_status - one pool's line(s) */
static void
pool_status(struct rconn *rc, const struct limits *l, const struct pool_rt *p, long today)
{
    char start[32], date[16];
    long day;
    long long cap;
    redisReply *r;
    size_t i;

    get_str(rc, p->start_key, start, sizeof(start));
    if (p->sched.n == 0) {
	printf("pool %s: filter %s, no warm-up schedule (no cap)\n", p->name, p->filter);
	return;
    }
    if (start[0] == '\0') {
	printf("pool %s: filter %s, warm-up not started (starts at first use), "
	       "day 1 cap %lld\n", p->name, p->filter, warmup_cap(&p->sched, 1));
	return;
    }
    day = today - atol(start) + 1;
    cap = warmup_cap(&p->sched, day);
    warmup_date_format(atol(start), date, sizeof(date));
    r = rconn_commandv(rc, "HGETALL", p->today_key, NULL);
    {
	long long used = 0;
	int current = 0;

	for (i = 0; r && r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2)
	    if (strcmp(r->element[i]->str, "day") == 0 && atol(r->element[i + 1]->str) == today)
		current = 1;
	for (i = 0; current && i + 1 < r->elements; i += 2)
	    if (strcmp(r->element[i]->str, "used") == 0)
		used = atoll(r->element[i + 1]->str);
	printf("pool %s: filter %s, started %s, day %ld, cap %lld, used %lld (%.1f%%)%s%s\n",
	       p->name, p->filter, date, day, cap, used, cap > 0 ? 100.0 * used / cap : 100.0,
	       p->nchain > 1 ? ", spills over to " : "",
	       p->nchain > 1 ? l->pools[p->chain[1]].name : "");
	for (i = 0; current && i + 1 < r->elements; i += 2) {
	    const char *f = r->element[i]->str;
	    int idx;

	    if (strncmp(f, "p:", 2) != 0)
		continue;
	    idx = provider_by_name(&l->providers, f + 2);
	    if (idx >= 0 && p->split_pct[idx] > 0)
		printf("  provider %s: used %s of %lld (%d%%)\n", f + 2, r->element[i + 1]->str,
		       cap * p->split_pct[idx] / 100, p->split_pct[idx]);
	    else
		printf("  provider %s: used %s\n", f + 2, r->element[i + 1]->str);
	}
    }
    if (r)
	freeReplyObject(r);
}

/* warmup_status - every pool */
static int
warmup_status(struct rconn *rc, const struct limits *l)
{
    long long sec, usec;
    long today;
    size_t i;
    char date[16];

    if (redis_now(rc, &sec, &usec) < 0)
	return 1;
    today = warmup_day_number(sec, warmup_tz_offset(&l->tz, sec));
    warmup_date_format(today, date, sizeof(date));
    printf("today: %s (%s)\n", date, l->conf->policy.timezone);
    if (l->npools == 0)
	printf("no [pool NAME] configured\n");
    for (i = 0; i < l->npools; i++)
	pool_status(rc, l, &l->pools[i], today);
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
	fprintf(stderr, "outpostctl: no [pool %s] in %s\n", pool, l->conf->path);
	return 1;
    }
    if (date) {
	if (warmup_date_parse(date, &day, &why) < 0) {
	    fprintf(stderr, "outpostctl: %s: %s\n", date, why);
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
	fprintf(stderr, "outpostctl: redis: %s\n", r ? r->str : rconn_error(rc));
	if (r)
	    freeReplyObject(r);
	return 1;
    }
    freeReplyObject(r);
    warmup_date_format(day, num, sizeof(num));
    printf("pool %s: warm-up starts %s\n", pool, num);
    return 0;
}

/* cmd_warmup - outpostctl warmup status | start POOL [DATE] */
int
cmd_warmup(const char *conf_path, int argc, char **argv)
{
    char err[600];
    struct outpost_conf *conf = ctl_load_conf(conf_path);
    struct limits *l = limits_build(conf, err, sizeof(err));
    struct rconn *rc;
    int rc_exit;

    if (l == NULL) {
	fprintf(stderr, "outpostctl: %s\n", err);
	return 1;
    }
    rc = rconn_new(&l->conf->redis);
    if (argc == 2 && strcmp(argv[1], "status") == 0) {
	rc_exit = warmup_status(rc, l);
    } else if ((argc == 3 || argc == 4) && strcmp(argv[1], "start") == 0) {
	rc_exit = warmup_start(rc, l, argv[2], argc == 4 ? argv[3] : NULL);
    } else {
	fprintf(stderr, "usage: outpostctl warmup status | start POOL [YYYY-MM-DD]\n");
	rc_exit = 2;
    }
    rconn_free(rc);
    limits_unref(l);
    return rc_exit;
}

/* scan_keys - every key matching a pattern (bounded), in a reply array */
static redisReply *
scan_keys(struct rconn *rc, const char *pattern)
{
    const char *argv[4] = {"KEYS", pattern};

    /* KEYS, not SCAN: an operator's one-off look, on a namespace of limits */
    return rconn_command(rc, 2, argv, NULL);
}

/* limit_line - one GCRA key */
static void
limit_line(struct rconn *rc, const struct limits *l, const char *key, long long now_us)
{
    const char *rest = key + strlen(l->prefix) + strlen("{rl}:g:");
    char kind = rest[0];
    const char *name = rest + 2;
    const struct gcra *g = NULL;
    char tat[64];
    long long t;

    if (kind == 'p') {
	int i = provider_by_name(&l->providers, name);

	g = i >= 0 && l->providers.v[i].has_rate ? &l->providers.v[i].gcra : NULL;
    } else if (kind == 'd') {
	g = limits_domain_gcra(l, name);
    } else if (kind == 's') {
	g = limits_sender_gcra(l, name);
    }
    get_str(rc, key, tat, sizeof(tat));
    t = atoll(tat);
    printf("%-8s %-40s ", kind == 'p' ? "provider" : kind == 'd' ? "domain" : "sender", name);
    if (g == NULL) {
	printf("no limit configured any more\n");
	return;
    }
    printf("rate %.3g/s burst %lld: %ld may pass now, rested in %.1f s\n",
	   1e6 / (double) g->interval_us, g->tolerance_us / g->interval_us + 1,
	   gcra_available(g, t, now_us), t > now_us ? (t - now_us) / 1e6 : 0.0);
}

/* cmd_throttle - outpostctl throttle status */
int
cmd_throttle(const char *conf_path, int argc, char **argv)
{
    char err[600], pattern[256];
    struct outpost_conf *conf = ctl_load_conf(conf_path);
    struct limits *l = limits_build(conf, err, sizeof(err));
    struct rconn *rc;
    redisReply *r;
    long long sec, usec;
    size_t i;

    if (l == NULL) {
	fprintf(stderr, "outpostctl: %s\n", err);
	return 1;
    }
    if (argc != 2 || strcmp(argv[1], "status") != 0) {
	fprintf(stderr, "usage: outpostctl throttle status\n");
	limits_unref(l);
	return 2;
    }
    rc = rconn_new(&l->conf->redis);
    if (redis_now(rc, &sec, &usec) < 0) {
	rconn_free(rc);
	limits_unref(l);
	return 1;
    }
    for (i = 0; i < l->providers.n; i++)
	if (l->providers.v[i].has_rate)
	    printf("provider %s: rate %ld per %lld ms, burst %ld\n", l->providers.v[i].name,
		   l->providers.v[i].rate.count, l->providers.v[i].rate.period_ms,
		   l->providers.v[i].burst);
    snprintf(pattern, sizeof(pattern), "%s{rl}:g:*", l->prefix);
    r = scan_keys(rc, pattern);
    printf("limits with state in Redis: %zu\n", r && r->type == REDIS_REPLY_ARRAY ? r->elements : 0);
    for (i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
	limit_line(rc, l, r->element[i]->str, sec * 1000000 + usec);
    if (r)
	freeReplyObject(r);
    snprintf(pattern, sizeof(pattern), "%s{rl}:backoff:*", l->prefix);
    r = scan_keys(rc, pattern);
    for (i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
	redisReply *h = rconn_commandv(rc, "HMGET", r->element[i]->str, "until",
				       "interval_ms", "burst", NULL);

	if (h && h->type == REDIS_REPLY_ARRAY && h->elements == 3
	    && h->element[0]->type == REDIS_REPLY_STRING && atoll(h->element[0]->str) > sec)
	    printf("backoff  %-40s one per %s ms (burst %s) for %lld s more\n",
		   r->element[i]->str + strlen(l->prefix) + strlen("{rl}:backoff:"),
		   h->element[1]->type == REDIS_REPLY_STRING ? h->element[1]->str : "1000",
		   h->element[2]->type == REDIS_REPLY_STRING ? h->element[2]->str : "1",
		   atoll(h->element[0]->str) - sec);
	if (h)
	    freeReplyObject(h);
    }
    if (r)
	freeReplyObject(r);
    rconn_free(rc);
    limits_unref(l);
    return 0;
}
