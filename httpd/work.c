/*
 * work - what outpost-httpd asks of Redis, in a thread of its own (work.h)
 *
 * One thread, one connection: unsubscribe requests first (a person waits
 * for each), then the counts, up to BATCH events per round: one script
 * call marks which are unique, one stats(3) batch writes them all.  The
 * unsubscribes come under a mutex; opens and clicks on a stack of their
 * own without a lock, which the worker takes whole.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "hmetrics.h"
#include "hsettings.h"
#include "intake_act.h"
#include "msg.h"
#include "redisconn.h"
#include "events.h"
#include "stats.h"
#include "suppress.h"
#include "tally.h"
#include "work.h"
#include "xalloc.h"

#define BATCH		4096	/* events a round, at most */
#define SLOTS		(2 * BATCH)	/* a power of two, at most 65536 */
#define SEEN_KEY_MAX	128
#define FLUSH_MS	100	/* counts are written at least this often */
#define CAMPAIGN_PREFIX	"campaign."

/* a queued event: its strings follow it, in the same allocation */
struct evnode {
    struct work_event ev;
    struct evnode *next;
    char buf[];
};

struct work {
    const struct outpost_conf *conf;	/* at start: Redis, its prefix */
    struct hsettings *hs;	/* the worker's: the tenants of the moment */
    struct hmetrics *m;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;
    int idle;			/* the worker waits with nothing to do (atomic) */
    long queued, max;		/* queued: unsubscribes and events (atomic) */
    long nevents;		/* events not yet in pend (atomic) */
    struct work_unsub *uhead, *utail;
    struct evnode *stack;	/* events pushed, the last first (atomic) */
    struct evnode *ehead, *etail;	/* the worker's: taken off it, in order */
    /* the worker's own */
    struct rconn *rc;
    struct intake_store *intake;
    struct sup_store *sup;
    struct stats_batch *batch;
    struct events_batch *events;	/* the tenants' streams */
    struct evnode *pend[BATCH];	/* events waiting for the seen script */
    size_t npend;
    /*
     * A write that timed out may have reached Redis: the seen marks carry
     * the round's tag (id:round), and each stats batch moves the field
     * "batch" of this process's state hash from its number to the next,
     * guarded (stats(3)), so that neither counts twice when sent again.
     */
    char id[17];		/* this process's, random */
    unsigned long long round;	/* of the counts; the next is round + 1 */
    char state_key[256];	/* P{st}:httpd:ID, field "batch" */
    unsigned long long batches;	/* stats batches written: the field's value */
    int staged;			/* the batch holds its guard */
    /* a round's tables, made once */
    struct tally *sums;		/* its counts, summed */
    unsigned short slot[SLOTS];	/* repeat()'s */
    char keys[BATCH][SEEN_KEY_MAX];	/* the seen script's keys */
    const char *argv[BATCH + 2];
    size_t idx[BATCH];		/* the event of each key */
};

/*
 * KEYS: seen keys; ARGV[1]: their TTL, ARGV[2]: the round's tag.  Returns 1
 * for each key set now, or set by this round already: a round that timed
 * out after it reached Redis finds its own marks when it is sent again.
 */
static struct rscript seen_script = {
    "local out = {}\n"
    "for i = 1, #KEYS do\n"
    "  if redis.call('SET', KEYS[i], ARGV[2], 'NX', 'EX', ARGV[1]) then\n"
    "    out[i] = 1\n"
    "  else\n"
    "    out[i] = redis.call('GET', KEYS[i]) == ARGV[2] and 1 or 0\n"
    "  end\n"
    "end\n"
    "return out\n", "", 0
};

static void *run(void *arg);

/* follow - the settings in force, for this round's events (a reload's tenants) */
static void
follow(struct work *w)
{
    struct hsettings *hs = hsettings_current();

    if (hs == w->hs) {
	hsettings_unref(hs);
	return;
    }
    events_batch_conf(w->events, hs->conf);
    hsettings_unref(w->hs);
    w->hs = hs;
}

/* work_start - the worker thread and its queue */
struct work *
work_start(const struct outpost_conf *conf, struct hmetrics *m)
{
    struct work *w = xcalloc(1, sizeof(*w));
    unsigned char rnd[8];
    size_t i;
    int err;

    w->conf = conf;
    w->m = m;
    w->max = conf->httpd.queue_max;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    if (seen_script.sha1[0] == '\0')
	rscript_init(&seen_script, seen_script.source);
    w->rc = rconn_new(&conf->redis);
    w->intake = intake_store_new(w->rc, conf->redis.prefix);
    w->sup = sup_store_new(w->rc, conf->redis.prefix);
    w->batch = stats_batch_new(conf->redis.prefix);
    w->hs = hsettings_current();
    w->events = events_batch_new(w->hs->conf);
    w->sums = tally_new(2 * BATCH);	/* at most two counters an event */
    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
	msg_fatal("OpenSSL RAND_bytes failed");
    for (i = 0; i < sizeof(rnd); i++)
	snprintf(w->id + 2 * i, 3, "%02x", rnd[i]);
    snprintf(w->state_key, sizeof(w->state_key), "%s{st}:httpd:%s", conf->redis.prefix,
	     w->id);
    if ((err = pthread_create(&w->thread, NULL, run, w)) != 0)
	msg_fatal("pthread_create: %s", strerror(err));
    return w;
}

/* work_unsub - queue an unsubscribe request; -1: the queue is full */
int
work_unsub(struct work *w, struct work_unsub *job)
{
    pthread_mutex_lock(&w->lock);
    if (w->stop || __atomic_load_n(&w->queued, __ATOMIC_RELAXED) >= w->max) {
	pthread_mutex_unlock(&w->lock);
	return -1;
    }
    job->result = WORK_PENDING;
    job->next = NULL;
    if (w->utail)
	w->utail->next = job;
    else
	w->uhead = job;
    w->utail = job;
    __atomic_add_fetch(&w->queued, 1, __ATOMIC_RELAXED);
    PROM_INC(w->m->queued);
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    return 0;
}

/* copy_str - s, of len bytes, at *p; the copy */
static const char *
copy_str(char **p, const char *s, size_t len)
{
    char *c = *p;

    memcpy(c, s, len + 1);
    *p += len + 1;
    return c;
}

/* work_event - queue an open or a click; -1: dropped */
int
work_event(struct work *w, const struct work_event *ev)
{
    const char *url = ev->url ? ev->url : "";
    size_t ls = strlen(ev->sender_domain), lp = strlen(ev->provider),
	lc = strlen(ev->campaign), lr = strlen(ev->rcpt), lm = strlen(ev->msgid),
	lu = strlen(url);
    struct evnode *n = xmalloc(sizeof(*n) + ls + lp + lc + lr + lm + lu + 6);
    char *p = n->buf;
    long ne;

    n->ev = *ev;
    n->ev.sender_domain = copy_str(&p, ev->sender_domain, ls);
    n->ev.provider = copy_str(&p, ev->provider, lp);
    n->ev.campaign = copy_str(&p, ev->campaign, lc);
    n->ev.rcpt = copy_str(&p, ev->rcpt, lr);
    n->ev.msgid = copy_str(&p, ev->msgid, lm);
    n->ev.url = copy_str(&p, url, lu);
    /* no lock: the threads that answer HTTP would take turns at it */
    if (__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
	free(n);
	PROM_INC(w->m->dropped);
	return -1;
    }
    if (__atomic_add_fetch(&w->queued, 1, __ATOMIC_RELAXED) > w->max) {
	__atomic_sub_fetch(&w->queued, 1, __ATOMIC_RELAXED);
	free(n);
	PROM_INC(w->m->dropped);
	return -1;
    }
    /* counted before it is pushed: the worker never takes more than counted */
    ne = __atomic_add_fetch(&w->nevents, 1, __ATOMIC_SEQ_CST);
    n->next = __atomic_load_n(&w->stack, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(&w->stack, &n->next, n, 1, __ATOMIC_RELEASE,
					__ATOMIC_RELAXED))
	/* void */ ;
    PROM_INC(w->m->queued);
    /*
     * Counts wait for a batch or FLUSH_MS: no wake-up per event, only when
     * the worker sleeps with nothing to do (it says so before it looks at
     * nevents one last time: one of the two sees the other; an event it
     * wakes for but finds not yet pushed is taken FLUSH_MS later) or a
     * batch is full.
     */
    if (ne == BATCH || __atomic_load_n(&w->idle, __ATOMIC_SEQ_CST)) {
	pthread_mutex_lock(&w->lock);
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
    }
    return 0;
}

/* unsub_event - the "unsubscribe" event; the same request twice is one */
static void
unsub_event(struct work *w, const struct work_unsub *job)
{
    struct ev_record e;
    char once[600];

    memset(&e, 0, sizeof(e));
    e.type = EV_UNSUBSCRIBE;
    e.time = job->now * 1000;
    e.rcpt = job->rcpt;
    e.sender = job->sender_domain;
    e.provider = job->provider;
    e.source = job->source;
    /* the same name as the mailto: unsubscribe's (outpost-milter) */
    snprintf(once, sizeof(once), "unsub:%s:%s", job->rcpt, job->sender_domain);
    e.once = once;
    (void) events_append(w->rc, w->hs->conf, &e);
}

/* track_events - the pending opens and clicks into the events batch */
static void
track_events(struct work *w)
{
    struct ev_record e;
    size_t i;

    for (i = 0; i < w->npend; i++) {
	const struct work_event *ev = &w->pend[i]->ev;

	memset(&e, 0, sizeof(e));
	e.type = ev->kind == WEBTOKEN_OPEN ? EV_OPEN : EV_CLICK;
	e.time = ev->when_ms;
	e.rcpt = ev->rcpt;
	e.sender = ev->sender_domain;
	e.msgid = ev->msgid;
	e.campaign = ev->campaign;
	e.provider = ev->provider;
	e.url = ev->url;
	e.machine = ev->machine ? "1" : NULL;
	(void) events_batch_add(w->events, &e);	/* a fresh once each */
    }
}

/* do_unsub - suppress once; a repeat finds the entry and writes nothing */
static int
do_unsub(struct work *w, struct work_unsub *job)
{
    struct intake_rules rules = {0, 0, 0};
    struct intake_event ev;
    struct intake_result res;
    struct sup_entry hit;
    int st;

    if ((st = sup_check(w->sup, job->rcpt, job->sender_domain, job->now, NULL, &hit)) < 0) {
	msg_warn("redis: unsubscribe of %s from %s: %s (answered 503)", job->rcpt,
		 job->sender_domain, sup_error(w->sup));
	PROM_INC(w->m->write_errors);
	return WORK_FAILED;
    }
    /*
     * Done already only when the entry found is this unsubscribe's own: the
     * address, permanent, in the sender domain's scope.  Another (a global
     * soft bounce, a parent domain's entry) may expire or be removed, and
     * the unsubscribe would go with it.
     */
    if (st == 1 && hit.expires == 0 && strcmp(hit.target, job->rcpt) == 0
	&& strcmp(hit.scope, job->sender_domain) == 0)
	return WORK_ALREADY;
    memset(&ev, 0, sizeof(ev));
    ev.kind = INTAKE_UNSUBSCRIBE;
    ev.rcpt = job->rcpt;
    ev.sender_domain = job->sender_domain;
    ev.provider = job->provider;
    ev.source = job->source;
    ev.now = job->now;
    if (intake_act(w->intake, &rules, &ev, &res) < 0) {
	msg_warn("redis: unsubscribe of %s from %s: %s (answered 503)", job->rcpt,
		 job->sender_domain, intake_error(w->intake));
	PROM_INC(w->m->write_errors);
	return WORK_FAILED;
    }
    msg_info("unsubscribed %s from %s (%s)", job->rcpt, job->sender_domain, job->source);
    unsub_event(w, job);
    return WORK_DONE;
}

/* flush_sums - each sum to the stats batch, and to its campaign's counter */
static void
flush_sums(struct work *w)
{
    char name[STATS_NAME_MAX];
    size_t k;

    for (k = 0; k < tally_size(w->sums); k++) {
	const struct tally_sum *e = tally_get(w->sums, k);

	stats_batch_add(w->batch, e->when, e->sender_domain, e->provider, "-", e->counter, e->n);
	if (e->campaign[0]) {
	    snprintf(name, sizeof(name), CAMPAIGN_PREFIX "%s.%s", e->counter, e->campaign);
	    stats_batch_add(w->batch, e->when, e->sender_domain, e->provider, "-", name, e->n);
	}
    }
    tally_reset(w->sums);
}

/* add - one to a counter of an event (the table has room for two an event) */
static void
add(struct work *w, const struct work_event *ev, const char *counter)
{
    (void) tally_add(w->sums, ev->when, ev->sender_domain, ev->provider, ev->campaign,
		     counter);
}

/*
 * repeat - an event of the same kind, message and recipient came earlier in
 * this batch (then only the earlier one may be unique).  slot is an open
 * addressing table of SLOTS entries: index in pend + 1, 0 for free.
 */
static int
repeat(const struct work *w, size_t i, unsigned short *slot)
{
    const struct work_event *ev = &w->pend[i]->ev, *e;
    size_t h = ((size_t) ev->seen[0] << 8 | ev->seen[1]) ^ (size_t) ev->kind;

    for (h &= SLOTS - 1; slot[h]; h = (h + 1) & (SLOTS - 1)) {
	e = &w->pend[slot[h] - 1]->ev;
	if (e->kind == ev->kind && memcmp(e->seen, ev->seen, sizeof(ev->seen)) == 0)
	    return 1;
    }
    slot[h] = (unsigned short) (i + 1);
    return 0;
}

/*
 * count - the pending events into the batch: first which are unique (one
 * script call), then every counter; -1 when Redis could not say
 */
static int
count(struct work *w)
{
    static struct msg_limit said_failed = MSG_LIMIT_INIT(60);
    const char **argv = w->argv;
    char (*keys)[SEEN_KEY_MAX] = w->keys;
    char ttl[24], tag[64];
    size_t i, j, nk = 0, *idx = w->idx;
    unsigned short *slot = w->slot;
    redisReply *r = NULL;
    int rv = -1;

    memset(slot, 0, SLOTS * sizeof(*slot));
    for (i = 0; i < w->npend; i++) {
	const struct work_event *ev = &w->pend[i]->ev;
	int c;

	if (ev->machine || repeat(w, i, slot))
	    continue;
	c = snprintf(keys[nk], sizeof(keys[nk]), "%s{web}:seen:%c:", w->conf->redis.prefix,
		     ev->kind);
	for (j = 0; j < sizeof(ev->seen) && c + 2 < (int) sizeof(keys[nk]); j++) {
	    keys[nk][c++] = "0123456789abcdef"[ev->seen[j] >> 4];
	    keys[nk][c++] = "0123456789abcdef"[ev->seen[j] & 15];
	}
	keys[nk][c] = '\0';
	argv[nk] = keys[nk];
	idx[nk++] = i;
    }
    if (nk > 0) {
	snprintf(ttl, sizeof(ttl), "%lld", w->hs->conf->intake.token_max_age_ms / 1000);
	snprintf(tag, sizeof(tag), "%s:%llu", w->id, w->round + 1);
	argv[nk] = ttl;
	argv[nk + 1] = tag;
	r = rconn_eval(w->rc, &seen_script, (int) nk, (int) nk + 2, argv, NULL);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != nk) {
	    msg_warn_limited(&said_failed, "redis: counting opens and clicks: %s (retrying)",
			     r ? (r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply")
			     : rconn_error(w->rc));
	    goto out;
	}
	msg_limit_reset(&said_failed);
    }
    for (i = 0, j = 0; i < w->npend; i++) {
	const struct work_event *ev = &w->pend[i]->ev;
	int open = ev->kind == WEBTOKEN_OPEN;

	if (ev->machine) {
	    add(w, ev, open ? STATS_OPENS_MACHINE : STATS_CLICKS_MACHINE);
	    continue;
	}
	add(w, ev, open ? STATS_OPENS : STATS_CLICKS);
	if (r && j < nk && idx[j] == i && r->element[j++]->integer == 1)
	    add(w, ev, open ? STATS_OPENS_UNIQUE : STATS_CLICKS_UNIQUE);
    }
    flush_sums(w);
    rv = 0;
out:
    if (r)
	freeReplyObject(r);
    return rv;
}

/* take - the unsubscribes queued (under the lock) */
static struct work_unsub *
take(struct work *w)
{
    struct work_unsub *u = w->uhead, *j;
    long took = 0;

    for (j = u; j; j = j->next)
	took++;
    w->uhead = w->utail = NULL;
    __atomic_sub_fetch(&w->queued, took, __ATOMIC_RELAXED);
    PROM_ADD(w->m->queued, -took);
    return u;
}

/*
 * take_events - the events pushed so far, in the order they came, after
 * those left from the last round; up to a batch of them into pend
 */
static void
take_events(struct work *w)
{
    struct evnode *n = __atomic_exchange_n(&w->stack, NULL, __ATOMIC_ACQUIRE);
    struct evnode *last = n, *next, *rev = NULL;
    long ne = 0;

    /* the stack holds the last first: turn it, after what is left */
    for (; n; n = next) {
	next = n->next;
	n->next = rev;
	rev = n;
    }
    if (rev) {
	if (w->etail)
	    w->etail->next = rev;
	else
	    w->ehead = rev;
	w->etail = last;
    }
    for (; w->ehead && w->npend < BATCH; ne++) {
	w->pend[w->npend++] = w->ehead;
	if ((w->ehead = w->ehead->next) == NULL)
	    w->etail = NULL;
    }
    __atomic_sub_fetch(&w->nevents, ne, __ATOMIC_SEQ_CST);
    __atomic_sub_fetch(&w->queued, ne, __ATOMIC_RELAXED);
    PROM_ADD(w->m->queued, -ne);
}

/*
 * flush - the stats batch, guarded: 0 written (or found written by an
 * attempt that timed out), -1 kept for the next attempt, which is the same
 * batch: nothing is added to it until it is written
 */
static int
flush(struct work *w)
{
    char expect[24], next[24];

    if (stats_batch_size(w->batch) == 0)
	return 0;
    if (!w->staged) {
	/* once a batch: stats(3) keeps them while it retries */
	snprintf(expect, sizeof(expect), "%llu", w->batches);
	snprintf(next, sizeof(next), "%llu", w->batches + 1);
	stats_batch_state(w->batch, w->state_key, "batch", next);
	stats_batch_guard(w->batch, "batch", w->batches ? expect : "", next);
	w->staged = 1;
    }
    if (stats_batch_flush(w->batch, w->rc, 0) < 0) {
	PROM_INC(w->m->write_errors);
	return -1;
    }
    w->batches++;
    w->staged = 0;
    return 0;
}

/* run - the worker: unsubscribes at once, counts in batches */
static void *
run(void *arg)
{
    struct work *w = arg;
    struct work_unsub *u, *next;
    struct timespec ts;
    int failing = 0, stop;
    size_t n;

    for (;;) {
	/* counts go out in a batch: when it is full, or FLUSH_MS after the first */
	clock_gettime(CLOCK_REALTIME, &ts);
	/*
	 * After a failure too: Redis late past command_timeout on a busy host
	 * is back at once, and a second of waiting at tens of thousands of
	 * events a second fills the queue; while Redis is away, the
	 * connection's own back-off spaces the attempts.
	 */
	ts.tv_nsec += FLUSH_MS * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&w->lock);
	while (!w->stop && w->uhead == NULL) {
	    long ne = __atomic_load_n(&w->nevents, __ATOMIC_SEQ_CST);

	    if (!failing && w->npend + (size_t) ne >= BATCH)
		break;
	    if (w->npend == 0 && ne == 0 && stats_batch_size(w->batch) == 0
		&& events_batch_size(w->events) == 0) {
		/* said before nevents is read again: see work_event() */
		__atomic_store_n(&w->idle, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&w->nevents, __ATOMIC_SEQ_CST) == 0)
		    pthread_cond_wait(&w->wake, &w->lock);
		__atomic_store_n(&w->idle, 0, __ATOMIC_SEQ_CST);
		/* something came: its batch is due FLUSH_MS from now */
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += FLUSH_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
	    } else if (pthread_cond_timedwait(&w->wake, &w->lock, &ts) == ETIMEDOUT) {
		break;
	    }
	}
	stop = w->stop;
	u = take(w);
	pthread_mutex_unlock(&w->lock);
	take_events(w);
	follow(w);
	for (; u; u = next) {
	    next = u->next;
	    u->result = stop ? WORK_FAILED : do_unsub(w, u);
	    u->done(u);
	}
	/* a batch that could not be written is written first, as it was */
	failing = flush(w) < 0;
	n = w->npend;
	if (!failing && n > 0 && count(w) == 0) {
	    w->round++;
	    track_events(w);
	    while (w->npend > 0)
		free(w->pend[--w->npend]);
	    PROM_ADD(w->m->written, n);
	    failing = flush(w) < 0;
	}
	failing |= w->npend > 0;
	if (events_batch_size(w->events) > 0 && events_batch_flush(w->events, w->rc) < 0)
	    failing = 1;
	if (stop)
	    break;
    }
    return NULL;
}

/* work_stop - answer what waits, write what can be, join */
void
work_stop(struct work *w)
{
    pthread_mutex_lock(&w->lock);
    __atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
}

/* work_free - release, once nothing can queue */
void
work_free(struct work *w)
{
    struct evnode *n;
    redisReply *r;

    if (w == NULL)
	return;
    /* the guard's state goes with the process that wrote it */
    if (w->batches > 0 && (r = rconn_commandv(w->rc, "DEL", w->state_key, NULL)) != NULL)
	freeReplyObject(r);
    /* what came after the last round (work_event() raced work_stop()) */
    take_events(w);
    PROM_ADD(w->m->dropped, (long) w->npend);
    while ((n = w->ehead) != NULL) {
	w->ehead = n->next;
	PROM_INC(w->m->dropped);
	free(n);
    }
    while (w->npend > 0)
	free(w->pend[--w->npend]);
    stats_batch_free(w->batch);
    tally_free(w->sums);
    events_batch_free(w->events);
    hsettings_unref(w->hs);
    sup_store_free(w->sup);
    intake_store_free(w->intake);
    rconn_free(w->rc);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
