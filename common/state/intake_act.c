/*
 * intake_act - act on a classified recipient (see intake_act.h)
 *
 * Suppression entries go through suppress(3); the soft-bounce window and
 * the counters live under the {intake} hash tag, one script per event.
 * On a Redis Cluster the tag is {intake:B}, B one of INTAKE_BUCKETS
 * buckets of the recipient or id, so that the intake spreads over slots;
 * a script's keys (the soft set and the day's counters) share the
 * recipient's bucket.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "bounce.h"
#include "intake_act.h"
#include "pool_select.h"
#include "rcluster.h"
#include "redisconn.h"
#include "stats.h"
#include "suppress.h"
#include "xalloc.h"

struct intake_store {
    struct rconn *rc;
    struct sup_store *sup;
    char *prefix;
    struct rscript event;
    char err[256];
};

static const char *const event_names[] = {
    "hard-bounce", "soft-bounce", "complaint", "unsubscribe",
};

/*
 * KEYS: stats, soft set (only for a soft bounce: an empty key name would
 * be refused by an ACL that limits keys to the prefix).  ARGV: field,
 * stats ttl, now (ms), window (ms), report id.  Returns the soft bounces
 * within the window (0 when not a soft bounce).
 */
static const char event_lua[] =
    "if redis.call('HINCRBY', KEYS[1], ARGV[1], 1) == 1 then\n"
    "  redis.call('EXPIRE', KEYS[1], ARGV[2])\n"
    "end\n"
    "if KEYS[2] == nil then return 0 end\n"
    "local now, win = tonumber(ARGV[3]), tonumber(ARGV[4])\n"
    "redis.call('ZADD', KEYS[2], 'NX', now, ARGV[5])\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - win)\n"
    "redis.call('PEXPIRE', KEYS[2], win)\n"
    "return redis.call('ZCARD', KEYS[2])\n";

/* intake_event_name - "hard-bounce" ... */
const char *
intake_event_name(int event)
{
    if (event < 0 || event > INTAKE_UNSUBSCRIBE)
	return "none";
    return event_names[event];
}

/* intake_event_of - what a parsed recipient calls for; -1: nothing */
int
intake_event_of(int bounce_kind, const struct bounce_rcpt *rc)
{
    switch (bounce_kind) {
    case BOUNCE_ARF:
	/*
	 * "not-spam" takes a complaint back; "auth-failure" (RFC 6591) tells
	 * of a failed SPF, DKIM or DMARC check: neither is a complaint by
	 * the recipient
	 */
	return strcasecmp(rc->feedback_type, "not-spam") == 0
	    || strcasecmp(rc->feedback_type, "auth-failure") == 0
	    ? -1 : INTAKE_COMPLAINT;
    case BOUNCE_UNSUBSCRIBE:
	return INTAKE_UNSUBSCRIBE;
    case BOUNCE_DSN:
	if (rc->reason == BR_DELIVERED || rc->reason == BR_VACATION
	    || strcmp(rc->action, "delayed") == 0 || strcmp(rc->action, "delivered") == 0
	    || strcmp(rc->action, "relayed") == 0 || strcmp(rc->action, "expanded") == 0)
	    return -1;
	if (rc->reason == BR_FEEDBACK)
	    return INTAKE_COMPLAINT;
	return rc->hard ? INTAKE_HARD : INTAKE_SOFT;
    default:
	return -1;
    }
}

/* intake_store_new - over a connection the caller keeps owning */
struct intake_store *
intake_store_new(struct rconn *rc, const char *prefix)
{
    struct intake_store *s = xcalloc(1, sizeof(*s));

    s->rc = rc;
    s->sup = sup_store_new(rc, prefix);
    s->prefix = xstrdup(prefix);
    rscript_init(&s->event, event_lua);
    /*
     * Sent again on a connection cut while it ran: a soft bounce is kept
     * once per report id; the statistics may count the event twice, as
     * they would when the reporting MTA sends the report again after 4xx.
     */
    s->event.repeatable = 1;
    return s;
}

/* intake_store_free - release (not the connection) */
void
intake_store_free(struct intake_store *s)
{
    if (s == NULL)
	return;
    sup_store_free(s->sup);
    free(s->prefix);
    free(s);
}

/* intake_error - why the last call failed */
const char *
intake_error(const struct intake_store *s)
{
    return s->err;
}

/* failed - note a NULL or error reply; 1 if failed */
static int
failed(struct intake_store *s, redisReply *r, int want_type)
{
    if (r == NULL)
	snprintf(s->err, sizeof(s->err), "%s", rconn_error(s->rc));
    else if (r->type == REDIS_REPLY_ERROR)
	snprintf(s->err, sizeof(s->err), "redis: %s", r->str);
    else if (want_type >= 0 && r->type != want_type)
	snprintf(s->err, sizeof(s->err), "redis: unexpected reply type %d", r->type);
    else
	return 0;
    return 1;
}

/* bucket_of - the bucket of a recipient or a field: -1 on one Redis */
static int
bucket_of(const struct intake_store *s, const char *what)
{
    if (!rconn_is_cluster(s->rc))
	return -1;
    return (int) (rcluster_keyslot(what, strlen(what)) % INTAKE_BUCKETS);
}

/* tag - "P{intake}", or "P{intake:B}" for a bucket B >= 0 */
static void
tag(const struct intake_store *s, int bucket, char *buf, size_t size)
{
    if (bucket < 0)
	snprintf(buf, size, "%s{intake}", s->prefix);
    else
	snprintf(buf, size, "%s{intake:%d}", s->prefix, bucket);
}

/* stats_key - "P{intake}:stats:YYYYMMDD" of a day, in a bucket's tag */
static void
stats_key(const struct intake_store *s, int bucket, const char *day,
	  char *buf, size_t size)
{
    char t[96];

    tag(s, bucket, t, sizeof(t));
    snprintf(buf, size, "%s:stats:%s", t, day);
}

/* run_event - count, and for a soft bounce add it to the window; -1 error */
static long long
run_event(struct intake_store *s, long long now, const char *field, int bucket,
	  const char *soft_key, long long window_ms, const char *id)
{
    char stats[128], ttl[16], nows[24], win[24], day[16];
    const char *argv[7];
    time_t t = (time_t) now;
    struct tm tm;
    redisReply *r;
    long long n = -1;
    int k = 0;

    gmtime_r(&t, &tm);
    strftime(day, sizeof(day), "%Y%m%d", &tm);
    stats_key(s, bucket, day, stats, sizeof(stats));
    snprintf(ttl, sizeof(ttl), "%d", INTAKE_STATS_TTL);
    snprintf(nows, sizeof(nows), "%lld", now * 1000);
    snprintf(win, sizeof(win), "%lld", window_ms);
    argv[k++] = stats;
    if (soft_key)
	argv[k++] = soft_key;
    argv[k++] = field;
    argv[k++] = ttl;
    argv[k++] = nows;
    argv[k++] = win;
    argv[k++] = id && *id ? id : nows;
    r = rconn_eval(s->rc, &s->event, soft_key ? 2 : 1, k, argv, NULL);
    if (!failed(s, r, REDIS_REPLY_INTEGER))
	n = r->integer;
    if (r)
	freeReplyObject(r);
    return n;
}

/* field - "SENDER PROVIDER WHAT" */
static void
field(char *buf, size_t size, const char *sender, const char *provider,
      const char *what)
{
    snprintf(buf, size, "%s %s %s", sender && *sender ? sender : "-",
	     provider && *provider ? provider : "other", what);
}

/* intake_count - count one occurrence of what */
int
intake_count(struct intake_store *s, long long now, const char *sender_domain,
	     const char *provider, const char *what)
{
    char f[DOMAIN_MAX + 96];

    field(f, sizeof(f), sender_domain, provider, what);
    return run_event(s, now, f, bucket_of(s, f), NULL, 0, NULL) < 0 ? -1 : 0;
}

/* suppress - write the entry of an event; -1 on error */
static int
suppress(struct intake_store *s, const struct intake_rules *rules,
	 const struct intake_event *ev, struct intake_result *res)
{
    static const int reasons[] = {
	SUP_HARD_BOUNCE, SUP_SOFT_BOUNCE, SUP_COMPLAINT, SUP_UNSUBSCRIBE,
    };
    struct sup_entry e;

    memset(&e, 0, sizeof(e));
    snprintf(e.target, sizeof(e.target), "%s", ev->rcpt);
    if (ev->kind == INTAKE_UNSUBSCRIBE)
	snprintf(e.scope, sizeof(e.scope), "%s", ev->sender_domain);
    e.reason = reasons[ev->kind];
    e.created = ev->now;
    if (ev->kind == INTAKE_SOFT && rules->soft_expiry > 0)
	e.expires = ev->now + rules->soft_expiry;
    if (ev->source && sup_source_valid(ev->source, strlen(ev->source)))
	snprintf(e.source, sizeof(e.source), "%s", ev->source);
    if (sup_add(s->sup, &e, 0) < 0) {
	snprintf(s->err, sizeof(s->err), "%s", sup_error(s->sup));
	return -1;
    }
    res->suppressed = 1;		/* written, or a permanent entry stays */
    return 0;
}

/* intake_act - apply the rule for one event and count it */
int
intake_act(struct intake_store *s, const struct intake_rules *rules,
	   const struct intake_event *ev, struct intake_result *res)
{
    char f[DOMAIN_MAX + 96], soft[ADDR_MAX + 96], t[96];
    long long n;
    int b;

    memset(res, 0, sizeof(*res));
    if (ev->kind < INTAKE_HARD || ev->kind > INTAKE_UNSUBSCRIBE || ev->rcpt == NULL
	|| *ev->rcpt == '\0') {
	snprintf(s->err, sizeof(s->err), "intake: no recipient or unknown event");
	return -1;
    }
    field(f, sizeof(f), ev->sender_domain, ev->provider, intake_event_name(ev->kind));
    b = bucket_of(s, ev->rcpt);
    if (ev->kind == INTAKE_SOFT) {
	tag(s, b, t, sizeof(t));
	snprintf(soft, sizeof(soft), "%s:soft:%s", t, ev->rcpt);
	if ((n = run_event(s, ev->now, f, b, soft, rules->soft_window * 1000, ev->id)) < 0)
	    return -1;
	res->soft_count = (long) n;
	if (n < rules->soft_limit)
	    return 0;
    } else if (ev->kind == INTAKE_UNSUBSCRIBE
	       && (ev->sender_domain == NULL || *ev->sender_domain == '\0')) {
	/* nobody to unsubscribe from: count only */
	return run_event(s, ev->now, f, b, NULL, 0, NULL) < 0 ? -1 : 0;
    }
    if (suppress(s, rules, ev, res) < 0)
	return -1;
    if (ev->kind != INTAKE_SOFT && run_event(s, ev->now, f, b, NULL, 0, NULL) < 0)
	return -1;
    /*
     * Complaints and unsubscribes also go to the hourly statistics that
     * "outpostctl stats" rates against the providers' thresholds.  Bounces
     * do not: outpost-logd counts them from the MTA's log, and a bounce the
     * MTA made itself comes back here too.  The rate is what matters, so a
     * failed count is not an intake failure.
     */
    if (ev->kind == INTAKE_COMPLAINT || ev->kind == INTAKE_UNSUBSCRIBE)
	(void) stats_incr(s->rc, s->prefix, ev->sender_domain,
			  ev->provider && *ev->provider ? ev->provider : "other", POOL_DEFAULT,
			  ev->kind == INTAKE_COMPLAINT ? STATS_COMPLAINTS : STATS_UNSUBSCRIBES, 1);
    return intake_count(s, ev->now, ev->sender_domain, ev->provider, "suppressed");
}

/* one counter of a bucket, while intake_stats() sums the buckets */
struct counter {
    char *field;
    long long n;
};

/* counter_cmp - qsort by field */
static int
counter_cmp(const void *a, const void *b)
{
    return strcmp(((const struct counter *) a)->field, ((const struct counter *) b)->field);
}

/* intake_stats - every counter of a day (on a cluster, summed over the buckets) */
int
intake_stats(struct intake_store *s, const char *day,
	     void (*fn)(const char *field, long long n, void *), void *arg)
{
    struct counter *v = NULL;
    size_t nv = 0, cap = 0, i, j;
    char k[128];
    redisReply *r;
    int b, nb = rconn_is_cluster(s->rc) ? INTAKE_BUCKETS : 0, rc = 0;

    if (nb == 0) {				/* one Redis: one hash, as it is */
	stats_key(s, -1, day, k, sizeof(k));
	r = rconn_commandv(s->rc, "HGETALL", k, NULL);
	if (failed(s, r, REDIS_REPLY_ARRAY)) {
	    if (r)
		freeReplyObject(r);
	    return -1;
	}
	for (i = 0; i + 1 < r->elements; i += 2)
	    fn(r->element[i]->str, strtoll(r->element[i + 1]->str, NULL, 10), arg);
	freeReplyObject(r);
	return 0;
    }
    for (b = 0; b < nb && rc == 0; b++) {
	stats_key(s, b, day, k, sizeof(k));
	r = rconn_commandv(s->rc, "HGETALL", k, NULL);
	if (failed(s, r, REDIS_REPLY_ARRAY)) {
	    rc = -1;
	} else {
	    for (i = 0; i + 1 < r->elements; i += 2) {
		if (nv == cap)
		    v = xreallocarray(v, cap = cap ? 2 * cap : 64, sizeof(*v));
		v[nv].field = xstrdup(r->element[i]->str);
		v[nv++].n = strtoll(r->element[i + 1]->str, NULL, 10);
	    }
	}
	if (r)
	    freeReplyObject(r);
    }
    if (rc == 0 && nv > 0)
	qsort(v, nv, sizeof(*v), counter_cmp);
    for (i = 0; rc == 0 && i < nv; i = j) {
	long long sum = 0;

	for (j = i; j < nv && strcmp(v[j].field, v[i].field) == 0; j++)
	    sum += v[j].n;
	fn(v[i].field, sum, arg);
    }
    for (i = 0; i < nv; i++)
	free(v[i].field);
    free(v);
    return rc;
}

/* id_key - "P{intake}:id:HEX" (on a cluster, in the id's bucket) */
static void
id_key(const struct intake_store *s, unsigned long long id, char *buf, size_t size)
{
    char t[96];

    tag(s, rconn_is_cluster(s->rc) ? (int) (id % INTAKE_BUCKETS) : -1, t, sizeof(t));
    snprintf(buf, size, "%s:id:%016llx", t, id);
}

/* intake_id_put - keep (rcpt, sender) under id for ttl seconds */
int
intake_id_put(struct intake_store *s, unsigned long long id, const char *rcpt,
	      const char *sender_domain, long long ttl)
{
    char k[128], v[ADDR_MAX + DOMAIN_MAX + 2], t[24];
    redisReply *r;
    int rc;

    id_key(s, id, k, sizeof(k));
    snprintf(v, sizeof(v), "%s %s", rcpt, sender_domain);
    snprintf(t, sizeof(t), "%lld", ttl > 0 ? ttl : 1);
    r = rconn_commandv(s->rc, "SET", k, v, "EX", t, NULL);
    rc = failed(s, r, REDIS_REPLY_STATUS) ? -1 : 0;
    if (r)
	freeReplyObject(r);
    return rc;
}

/* intake_id_get - what an id stands for; 1 found, 0 gone, -1 error */
int
intake_id_get(struct intake_store *s, unsigned long long id, char *rcpt,
	      size_t rsize, char *sender_domain, size_t ssize)
{
    char k[128];
    const char *sp;
    redisReply *r;
    int rc = -1;

    id_key(s, id, k, sizeof(k));
    r = rconn_commandv(s->rc, "GET", k, NULL);
    if (failed(s, r, -1))
	goto out;
    if (r->type == REDIS_REPLY_NIL) {
	rc = 0;
	goto out;
    }
    /* the last space: a quoted local part may hold spaces, a domain none */
    if (r->type != REDIS_REPLY_STRING || (sp = memrchr(r->str, ' ', r->len)) == NULL) {
	snprintf(s->err, sizeof(s->err), "redis: bad value under %s", k);
	goto out;
    }
    snprintf(rcpt, rsize, "%.*s", (int) (sp - r->str), r->str);
    snprintf(sender_domain, ssize, "%.*s", (int) (r->len - (size_t) (sp + 1 - r->str)), sp + 1);
    rc = 1;
out:
    if (r)
	freeReplyObject(r);
    return rc;
}
