/*
 * warmhold - outpost-logd holds a pool's warm-up while its reputation
 * suffers (see warmhold.h)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msg.h"
#include "stats.h"
#include "throttle_limits.h"
#include "warmhold.h"
#include "warmup.h"
#include "xalloc.h"

struct warmhold {
    const struct outpost_conf *conf;
    struct rconn *rc;
    const struct blwatch *bw;
    struct warmup_tz tz;
    struct event *timer;
    long interval_s;
    struct warmhold_rates *rates;	/* per pool of conf */
};

/*
 * KEYS[1] the pool's start day, KEYS[2] its hold hash; ARGV: today, why,
 * now.  The first hold of a day moves the start a day later (not past
 * today: day 1 stays day 1).  Returns 0: already held today, 1: held now.
 */
static struct rscript hold_script = {
    "local today = tonumber(ARGV[1])\n"
    "local held = tonumber(redis.call('HGET', KEYS[2], 'day') or '')\n"
    "redis.call('HSET', KEYS[2], 'why', ARGV[2], 'checked', ARGV[3])\n"
    "redis.call('EXPIRE', KEYS[2], 172800)\n"
    "if held == today then return 0 end\n"
    "local start = tonumber(redis.call('GET', KEYS[1]) or '')\n"
    "if start and start < today then\n"
    "  redis.call('SET', KEYS[1], string.format('%d', start + 1))\n"
    "end\n"
    "redis.call('HSET', KEYS[2], 'day', string.format('%d', today))\n"
    "return 1\n", "", 1		/* the same twice: the day's mark stops a second move */
};

/* pct - a rate for people: "7.1%" */
static void
pct(char *buf, size_t len, double r)
{
    snprintf(buf, len, "%.1f%%", r * 100);
}

/* append - add a reason to why, after "; " */
static void
append(char *why, size_t len, const char *reason)
{
    size_t used = strlen(why);

    snprintf(why + used, len - used, "%s%s", used ? "; " : "", reason);
}

/* warmhold_reasons - why a pool holds; 1 when it does */
int
warmhold_reasons(const struct conf_pool *p, const struct warmhold_rates *r,
		 const char *listed_addr, const char *listed_on, char *why, size_t len)
{
    long long n = r->delivered + r->bounced;
    char a[32], b[32], one[300];

    why[0] = '\0';
    if (p->hold_bounce > 0 && n >= p->hold_min_messages
	&& (double) r->bounced >= p->hold_bounce * (double) n) {
	pct(a, sizeof(a), (double) r->bounced / (double) n);
	pct(b, sizeof(b), p->hold_bounce);
	snprintf(one, sizeof(one), "bounce rate %s >= %s (24h, %lld messages)", a, b, n);
	append(why, len, one);
    }
    if (p->hold_complaint > 0 && r->delivered >= p->hold_min_messages
	&& (double) r->complaints >= p->hold_complaint * (double) r->delivered) {
	pct(a, sizeof(a), (double) r->complaints / (double) r->delivered);
	pct(b, sizeof(b), p->hold_complaint);
	snprintf(one, sizeof(one), "complaint rate %s >= %s (24h, %lld delivered)", a, b,
		 r->delivered);
	append(why, len, one);
    }
    if (p->hold_when_listed && listed_addr && listed_on) {
	snprintf(one, sizeof(one), "%s listed on %s", listed_addr, listed_on);
	append(why, len, one);
    }
    return why[0] != '\0';
}

/* add_rate - stats_read() callback: a pool's counts */
static void
add_rate(const struct stats_field *f, long long n, void *arg)
{
    struct warmhold *wh = arg;
    int c = stats_counter_index(f->counter);
    size_t i;

    if (c != SC_DELIVERED && c != SC_BOUNCED && c != SC_COMPLAINTS)
	return;
    for (i = 0; i < wh->conf->pools.n; i++)
	if (strcmp(CONF_VEC_AT(&wh->conf->pools, i, struct conf_pool)->named.name,
		   f->pool) == 0)
	    break;
    if (i == wh->conf->pools.n)
	return;
    if (c == SC_DELIVERED)
	wh->rates[i].delivered += n;
    else if (c == SC_BOUNCED)
	wh->rates[i].bounced += n;
    else
	wh->rates[i].complaints += n;
}

/* holds - whether a pool may hold at all */
static int
holds(const struct conf_pool *p)
{
    return p->schedule.n > 0 && (p->hold_bounce > 0 || p->hold_complaint > 0
				 || p->hold_when_listed);
}

/* hold - mark today held for a pool; log the first time */
static void
hold(struct warmhold *wh, const struct conf_pool *p, long today, long long now,
     const char *why)
{
    char start[600], key[600], day[24], nows[24];
    const char *argv[5];
    redisReply *r;

    if (limits_key(start, sizeof(start), wh->conf->redis.prefix, "warmup", p->named.name,
		   "start") < 0
	|| limits_key(key, sizeof(key), wh->conf->redis.prefix, "warmup", p->named.name,
		      "hold") < 0)
	return;
    if (hold_script.sha1[0] == '\0')
	rscript_init(&hold_script, hold_script.source);
    snprintf(day, sizeof(day), "%ld", today);
    snprintf(nows, sizeof(nows), "%lld", now);
    argv[0] = start;
    argv[1] = key;
    argv[2] = day;
    argv[3] = why;
    argv[4] = nows;
    r = rconn_eval(wh->rc, &hold_script, 2, 5, argv, NULL);
    if (r == NULL || r->type != REDIS_REPLY_INTEGER)
	msg_warn("warm-up hold of pool %s: %s", p->named.name,
		 r && r->type == REDIS_REPLY_ERROR ? r->str : rconn_error(wh->rc));
    else if (r->integer == 1)
	msg_warn("warm-up of pool %s held today: %s", p->named.name, why);
    if (r)
	freeReplyObject(r);
}

/* check - every pool that may hold */
static void
check(struct warmhold *wh)
{
    long long now = (long long) time(NULL);
    long today = warmup_day_number(now, warmup_tz_offset(&wh->tz, now));
    char why[512];
    size_t i, k;

    memset(wh->rates, 0, wh->conf->pools.n * sizeof(*wh->rates));
    if (stats_read(wh->rc, wh->conf->redis.prefix, now - 23 * 3600, now, add_rate, wh) < 0) {
	msg_warn("warm-up hold: cannot read the statistics: %s", rconn_error(wh->rc));
	return;
    }
    for (i = 0; i < wh->conf->pools.n; i++) {
	const struct conf_pool *p = CONF_VEC_AT(&wh->conf->pools, i, struct conf_pool);
	const char *addr = NULL, *list = NULL;

	if (!holds(p))
	    continue;
	for (k = 0; list == NULL && k < p->addresses.n; k++)
	    if ((list = blwatch_listed(wh->bw, p->addresses.v[k])) != NULL)
		addr = p->addresses.v[k];
	if (warmhold_reasons(p, &wh->rates[i], addr, list, why, sizeof(why)))
	    hold(wh, p, today, now, why);
    }
}

/* on_timer - check, and again after the interval */
static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct warmhold *wh = arg;
    struct timeval tv = {wh->interval_s, 0};

    (void) fd;
    (void) what;
    check(wh);
    evtimer_add(wh->timer, &tv);
}

/* warmhold_new - start checking, or NULL when no pool holds */
struct warmhold *
warmhold_new(struct event_base *base, const struct outpost_conf *conf, struct rconn *rc,
	     const struct blwatch *bw)
{
    struct warmhold *wh;
    struct timeval first = {1, 0};	/* the watch's first answers come meanwhile */
    const char *why;
    size_t i, n = 0;

    for (i = 0; i < conf->pools.n; i++)
	n += holds(CONF_VEC_AT(&conf->pools, i, struct conf_pool));
    if (n == 0)
	return NULL;
    wh = xcalloc(1, sizeof(*wh));
    if (warmup_tz_parse(conf->policy.timezone, &wh->tz, &why) < 0)
	msg_fatal("[policy] timezone: %s", why);	/* conf_load() checked it */
    wh->conf = conf;
    wh->rc = rc;
    wh->bw = bw;
    wh->rates = xcalloc(conf->pools.n, sizeof(*wh->rates));
    wh->interval_s = WARMHOLD_INTERVAL;
    if (conf->blocklists.n > 0 && conf->logd.blocklist_interval_ms > 0
	&& conf->logd.blocklist_interval_ms / 1000 < wh->interval_s)
	wh->interval_s = conf->logd.blocklist_interval_ms < 1000 ? 1
	    : (long) (conf->logd.blocklist_interval_ms / 1000);
    wh->timer = evtimer_new(base, on_timer, wh);
    evtimer_add(wh->timer, &first);
    msg_info("warm-up hold: %zu pool%s checked every %ld s", n, n == 1 ? "" : "s",
	     wh->interval_s);
    return wh;
}

/* warmhold_free - stop checking */
void
warmhold_free(struct warmhold *wh)
{
    if (wh == NULL)
	return;
    event_free(wh->timer);
    free(wh->rates);
    free(wh);
}
