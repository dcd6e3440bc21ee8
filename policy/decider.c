/*
 * decider - answer policy requests: provider lookup, then one Redis script
 * (see decider.h)
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "decide.h"
#include "decider.h"
#include "events.h"
#include "gcra_lua.h"
#include "metrics.h"
#include "monotime.h"
#include "msg.h"
#include "mxlookup.h"
#include "rasync.h"
#include "rcluster.h"
#include "redisconn.h"
#include "stats.h"
#include "xalloc.h"

struct dreq {
    struct decider *d;
    struct limits *l;
    decider_fn fn;
    void *arg;
    int answered;
    int waiting;		/* lookups and commands in flight */
    int sent_source;		/* EVAL after NOSCRIPT, once */
    int failed;			/* Redis did not decide: the failure answer */
    long long start_us;
    long long deadline_ms;
    char qid[32];		/* the request's queue_id, or "NOQUEUE" */
    char rcpt[ADDR_MAX];	/* normalised, for the tenant's event; "" none */
    struct dreq *prev, *next;	/* the deadline list, oldest first */
    struct decide_plan plan;
};

#define DECIDER_OTHER_SLOTS 48	/* slots of statistics keys and tenants' event
				 * streams, [redis] cluster */

struct decider {
    struct event_base *base;
    struct limits *first;	/* owns the [redis] settings in use */
    struct limits *cur;
    struct mxlookup *mx;
    struct rasync *ra;
    struct rasync *other[DECIDER_OTHER_SLOTS];	/* statistics on other cluster slots */
    struct rscript script;
    struct event *tick;
    struct dreq *head, *tail;
};

static void go_redis(struct dreq *r);
static void count_outcome(struct dreq *r, const redisReply *reply, const char *action);
static void on_event(void *arg, redisReply *reply);
static struct rasync *conn_for(struct decider *d, const char *key);
static void tenants_connect(struct decider *d, const struct limits *l);

/*
 * copy_qid - the queue id for log lines.  Postfix sends one from the second
 * recipient of a message on; anything but a short run of letters and digits
 * is not a queue id and stays out of the log.
 */
static void
copy_qid(char *out, size_t size, const struct policy_str *q)
{
    size_t i;

    for (i = 0; q->p && i < q->len && i + 1 < size; i++)
	if (!((q->p[i] >= '0' && q->p[i] <= '9') || (q->p[i] >= 'A' && q->p[i] <= 'Z')
	      || (q->p[i] >= 'a' && q->p[i] <= 'z')))
	    break;
    if (q->p == NULL || q->len == 0 || i != q->len)
	snprintf(out, size, "NOQUEUE");
    else
	snprintf(out, size, "%.*s", (int) q->len, q->p);
}

/* release - free a request once answered and nothing refers to it */
static void
release(struct dreq *r)
{
    if (!r->answered || r->waiting > 0)
	return;
    decide_plan_free(&r->plan);
    limits_unref(r->l);
    free(r);
}

/* unlink_req - off the deadline list */
static void
unlink_req(struct dreq *r)
{
    struct decider *d = r->d;

    if (r->prev)
	r->prev->next = r->next;
    else if (d->head == r)
	d->head = r->next;
    else
	return;				/* not on the list */
    if (r->next)
	r->next->prev = r->prev;
    else
	d->tail = r->prev;
    r->prev = r->next = NULL;
}

/* count - the answer in the metrics, by its first word */
static void
count(const struct dreq *r, const char *action)
{
    int dunno = strncmp(action, "DUNNO", 5) == 0;
    enum metrics_answer a;

    if (dunno)
	a = MA_DUNNO;
    else if (strncmp(action, "FILTER", 6) == 0)
	a = MA_FILTER;
    else
	a = r->failed ? MA_TEMPFAIL : MA_DEFER;
    metrics_decision(a, r->failed && dunno, monotime_us() - r->start_us);
}

/* finish - answer once */
static void
finish(struct dreq *r, const char *action)
{
    if (r->answered)
	return;
    r->answered = 1;
    unlink_req(r);
    count(r, action);
    if (strncmp(action, "DUNNO", 5) != 0 && strncmp(action, "FILTER", 6) != 0)
	msg_info("%s: %s: %s", r->qid, r->plan.domain, action);
    r->fn(r->arg, action);
    release(r);
}

/* fail - Redis could not answer in time */
static void
fail(struct dreq *r)
{
    char out[DECIDE_ANSWER_MAX];

    r->failed = 1;
    decide_failure(r->l, &r->plan, out, sizeof(out));
    if (strncmp(out, "DUNNO", 5) == 0)
	msg_warn("%s: %s: FAIL-OPEN: accepted UNCHECKED, no decision from Redis "
		 "(the limits' on_error = dunno)", r->qid, r->plan.domain);
    finish(r, out);
}

/* redis_failed - Redis did not decide: counted, then the failure answer */
static void
redis_failed(struct dreq *r)
{
    metrics_redis_error();
    fail(r);
}

/* on_tick - answer what has waited past decision_timeout */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct decider *d = arg;
    long long now = monotime_ms();

    (void) fd;
    (void) what;
    while (d->head && d->head->deadline_ms <= now) {
	msg_warn("%s: %s: no decision within decision_timeout", d->head->qid,
		 d->head->plan.domain);
	redis_failed(d->head);
    }
}

/* on_reply - the script has answered (or the connection failed) */
static void
on_reply(void *arg, redisReply *reply)
{
    struct dreq *r = arg;
    char out[DECIDE_ANSWER_MAX];

    r->waiting--;
    if (r->answered) {
	release(r);
	return;
    }
    if (reply == NULL) {
	redis_failed(r);
	return;
    }
    if (reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "NOSCRIPT", 8) == 0
	&& !r->sent_source) {
	/* a restart or SCRIPT FLUSH lost the script: send it along once */
	r->sent_source = 1;
	r->plan.argv[0] = "EVAL";
	r->plan.argvlen[0] = 4;
	r->plan.argv[1] = gcra_lua;
	r->plan.argvlen[1] = strlen(gcra_lua);
	if (rasync_command(r->d->ra, r->plan.argc, r->plan.argv, r->plan.argvlen,
			   on_reply, r) < 0) {
	    redis_failed(r);
	    return;
	}
	r->waiting++;
	return;
    }
    if (decide_answer(r->l, &r->plan, reply, out, sizeof(out)) < 0) {
	metrics_redis_error();
	r->failed = 1;
    }
    count_outcome(r, reply, out);
}

/*
 * count_outcome - answer, then count a refusal or a spill-over.  The count
 * goes out on the same connection behind whatever is queued there and
 * nobody waits for its reply: it costs no round trip, and only refused or
 * spilled recipients send it.
 */
static void
count_outcome(struct dreq *r, const redisReply *reply, const char *action)
{
    struct rasync *ra = r->d->ra, *era;
    const char *counter, *provider, *pool;
    struct stats_cmd c;
    struct events_cmd ec;
    struct ev_record e;
    int have, have_ev = 0;

    counter = decide_counted(r->l, &r->plan, reply, &provider, &pool);
    have = counter && stats_cmd_make(&c, r->l->prefix, rasync_slot(ra) >= 0,
				     (long long) time(NULL),
				     r->plan.sender_domain, provider, pool, counter, 1) == 0;
    if (have)
	ra = conn_for(r->d, c.key[0]);
    if (counter && strcmp(counter, STATS_THROTTLED) == 0) {
	memset(&e, 0, sizeof(e));
	e.type = EV_THROTTLED;
	e.rcpt = r->rcpt;
	e.sender = r->plan.sender_domain;
	e.qid = strcmp(r->qid, "NOQUEUE") != 0 ? r->qid : NULL;
	e.provider = provider;
	e.pool = pool;
	e.reason = "rate-limit";
	if ((have_ev = events_cmd_make(&ec, r->l->conf, &e)) < 0)
	    events_failed("outpost-policyd", "a name too long for a key");
	have_ev = have_ev == 0;
	/*
	 * argv points into r: queued (hiredis copies it) before r goes; no
	 * wait.  Never sent again after a cut: it may have been appended.
	 */
	if (have_ev && ((era = conn_for(r->d, ec.key[0])) == NULL
			|| rasync_command_once(era, ec.argc, ec.argv, ec.argvlen, on_event,
					       NULL) < 0))
	    events_failed("outpost-policyd", "Redis busy or down");
    }
    finish(r, action);			/* r may be gone from here on */
    if (have && (ra == NULL || rasync_command(ra, c.argc, c.argv, c.argvlen, NULL, NULL) < 0))
	msg_debug("statistics: %s not counted (Redis busy or down)", counter);
}

/*
 * tenants_connect - on a cluster, the slots of the tenants' event streams,
 * connected before the first throttled event (a connection that is not up
 * yet refuses commands)
 */
static void
tenants_connect(struct decider *d, const struct limits *l)
{
    char key[512];
    size_t i;

    for (i = 0; i < l->conf->tenants.n; i++)
	if (events_key(key, sizeof(key), l->prefix,
		       CONF_VEC_AT(&l->conf->tenants, i, struct conf_tenant)->named.name) > 0)
	    (void) conn_for(d, key);
}

/*
 * conn_for - the connection for a command on key: the decisions' own, or
 * on a cluster, where the key is in another slot, that slot's (made on
 * first use; at most DECIDER_OTHER_SLOTS of them, then NULL)
 */
static struct rasync *
conn_for(struct decider *d, const char *key)
{
    int slot = rasync_slot(d->ra), want;
    size_t i;

    if (slot < 0 || (want = (int) rcluster_keyslot(key, strlen(key))) == slot)
	return d->ra;
    for (i = 0; i < DECIDER_OTHER_SLOTS && d->other[i]; i++)
	if (rasync_slot(d->other[i]) == want)
	    return d->other[i];
    if (i == DECIDER_OTHER_SLOTS)
	return NULL;
    d->other[i] = rasync_new_for(d->base, &d->first->conf->redis, gcra_lua,
				 d->first->conf->policy.max_pending, key);
    return d->other[i];
}

/* on_event - the reply of an event's append: a failure is counted */
static void
on_event(void *arg, redisReply *reply)
{
    (void) arg;
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY)
	events_failed("outpost-policyd", reply && reply->type == REDIS_REPLY_ERROR
		      ? reply->str : "no reply");
}

/* go_redis - run the script */
static void
go_redis(struct dreq *r)
{
    if (decide_command(r->l, &r->plan, r->d->script.sha1, (long long) time(NULL)) < 0) {
	msg_warn("%s: %s: key names too long", r->qid, r->plan.domain);
	fail(r);
	return;
    }
    if (rasync_command(r->d->ra, r->plan.argc, r->plan.argv, r->plan.argvlen,
		       on_reply, r) < 0) {
	redis_failed(r);
	return;
    }
    r->waiting++;
}

/* with_provider - the provider is known: plan and ask */
static void
with_provider(struct dreq *r, const char *provider)
{
    char out[DECIDE_ANSWER_MAX];
    int idx = provider ? provider_by_name(&r->l->providers, provider) : -1;

    if (decide_plan_limits(r->l, &r->plan, idx, out, sizeof(out)) == DECIDE_ANSWERED) {
	finish(r, out);
	return;
    }
    go_redis(r);
}

/* on_mx - the MX lookup is done */
static void
on_mx(void *arg, const char *provider)
{
    struct dreq *r = arg;

    r->waiting--;
    if (r->answered) {
	release(r);
	return;
    }
    with_provider(r, provider);
}

/* decider_ask - decide about one request */
void
decider_ask(struct decider *d, const struct policy_request *req, decider_fn fn, void *arg)
{
    struct dreq *r = xmalloc(sizeof(*r));
    char out[DECIDE_ANSWER_MAX];
    const char *provider, *why;
    int rc;

    memset(r, 0, offsetof(struct dreq, plan));
    r->d = d;
    r->l = limits_ref(d->cur);
    r->fn = fn;
    r->arg = arg;
    copy_qid(r->qid, sizeof(r->qid), &req->queue_id);
    if (r->l->conf->tenants.n > 0 && req->recipient.p
	&& addr_normalize(req->recipient.p, req->recipient.len, r->rcpt, sizeof(r->rcpt),
			  &why) < 0)
	r->rcpt[0] = '\0';
    r->start_us = monotime_us();
    rc = decide_prepare(r->l, req, &r->plan, out, sizeof(out));
    if (rc == DECIDE_ANSWERED) {
	finish(r, out);
	return;
    }
    r->deadline_ms = monotime_ms() + r->l->conf->policy.decision_timeout_ms;
    r->prev = d->tail;
    if (d->tail)
	d->tail->next = r;
    else
	d->head = r;
    d->tail = r;
    if (rc == DECIDE_READY) {
	go_redis(r);
	return;
    }
    r->waiting++;
    if (mx_lookup(d->mx, r->plan.domain, &provider, on_mx, r) == 1) {
	r->waiting--;
	with_provider(r, provider);
    }
}

/* decider_new - decisions on an event loop */
struct decider *
decider_new(struct event_base *base, struct limits *l)
{
    struct decider *d = xcalloc(1, sizeof(*d));
    struct timeval tv = {0, 20000};
    char key[512];
    int i;

    d->base = base;
    d->first = limits_ref(l);
    d->cur = limits_ref(l);
    rscript_init(&d->script, gcra_lua);
    d->mx = mx_new(base);
    mx_configure(d->mx, l);
    /* every throttling key has the tag {rl}: one slot, one connection */
    snprintf(key, sizeof(key), "%s{rl}:", l->prefix);
    d->ra = rasync_new_for(base, &l->conf->redis, gcra_lua, l->conf->policy.max_pending, key);
    /* and, on a cluster, the statistics' slots, ready before the first count */
    for (i = 0; rasync_slot(d->ra) >= 0 && i < STATS_BUCKETS; i++)
	if (stats_tag(key, sizeof(key), l->prefix, i) > 0)
	    (void) conn_for(d, key);
    tenants_connect(d, l);
    d->tick = event_new(base, -1, EV_PERSIST, on_tick, d);
    event_add(d->tick, &tv);
    return d;
}

/* decider_reload - new limits for new decisions */
void
decider_reload(struct decider *d, struct limits *l)
{
    limits_unref(d->cur);
    d->cur = limits_ref(l);
    mx_configure(d->mx, l);
    tenants_connect(d, l);
}

/* decider_free - answer what waits, then stop */
void
decider_free(struct decider *d)
{
    size_t i;

    while (d->head)
	fail(d->head);
    rasync_free(d->ra);
    for (i = 0; i < DECIDER_OTHER_SLOTS && d->other[i]; i++)
	rasync_free(d->other[i]);
    mx_free(d->mx);
    event_free(d->tick);
    limits_unref(d->cur);
    limits_unref(d->first);
    free(d);
}
