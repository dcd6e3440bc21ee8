/*
 * dispatch - each tenant's events, read from its stream and posted in order
 * (see dispatch.h)
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <openssl/crypto.h>

#include "dispatch.h"
#include "evkeys.h"
#include "monotime.h"
#include "msg.h"
#include "whbatch.h"
#include "whpost.h"
#include "xalloc.h"

/*
 * KEYS[1] the stream, KEYS[2] the dead-letter stream; ARGV[1] the group,
 * ARGV[2] the error, ARGV[3] dead_max, ARGV[4...] the IDs.  An entry is
 * moved only when this XACK acknowledged it, so a second run (a command
 * sent again after a cut connection) moves nothing twice.  One trimmed
 * from the stream meanwhile is only acknowledged: a dead letter without
 * its event would be posted again, by a replay, as an event of no type.
 */
const char dispatch_dead_lua[] =
    "local n = 0\n"
    "for i = 4, #ARGV do\n"
    "  local id = ARGV[i]\n"
    "  if redis.call('XACK', KEYS[1], ARGV[1], id) == 1 then\n"
    "    local e = redis.call('XRANGE', KEYS[1], id, id)\n"
    "    if e[1] then\n"
    "      local f = {'XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'id', id, 'error', ARGV[2]}\n"
    "      for _, v in ipairs(e[1][2]) do f[#f + 1] = v end\n"
    "      redis.call(unpack(f))\n"
    "      n = n + 1\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return n\n";

/*
 * KEYS[1] the stream, KEYS[2] the lease; ARGV[1] the group, ARGV[2] the
 * consumer (this node), ARGV[3] how many.  Makes up to that many new entries
 * ours (pending) and answers only how many: the read of our own after it
 * carries them.  Takes none when the lease is not ours: a node that lost
 * Redis for claim_idle still thinks it holds the tenant until its next
 * renewal, and what it took then would be posted beside the new holder's,
 * or wait in its pending list, claimed by nobody.
 */
static const char take_new_lua[] =
    "if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end\n"
    "local r = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3],\n"
    "  'STREAMS', KEYS[1], '>')\n"
    "return r and #r[1][2] or 0\n";

/*
 * KEYS[1] the lease; ARGV[1] this node, ARGV[2] its length in ms.  Answers 1
 * when this node held it (now renewed), 2 when it takes it now (from nobody,
 * or from a node that let it lapse), 0 when another node holds it.
 */
static const char lease_lua[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end\n"
    "if v then return 0 end\n"
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])\n"
    "return 2\n";

#define SECRET_MAX	1024
#define REDIS_RETRY_MS	500	/* a step that Redis did not answer, again after */
#define LAG_EVERY_MS	1000	/* the lag gauge is asked for this often */

enum step { S_GROUP, S_CLAIM, S_READ, S_POST, S_DEAD };

struct tenant {
    struct dispatch *d;
    char *name;				/* [tenant NAME] */
    char *url;				/* its webhook_url */
    long long retry_ms;			/* its webhook_retry */
    int on;				/* configured now (a reload may take it away) */
    int seen;				/* dispatch_reload()'s mark */
    struct rasync *ra;			/* [redis] cluster: its slot's connection */
    char stream[EVKEYS_MAX], dead[EVKEYS_MAX], state[EVKEYS_MAX], lease[EVKEYS_MAX];
    char secret[SECRET_MAX];
    size_t secret_len;
    struct whpost *post;
    struct event *timer;		/* the next step, after a delay */
    struct event *lag_timer;
    struct event *lease_timer;
    int holder;			/* this node posts the tenant (holds the lease) */
    int running;			/* a step is scheduled or in flight */
    enum step step;
    char claim_cursor[64];		/* XAUTOCLAIM's, "0-0" when a round is done */
    int claim_due;			/* took the lease: claim what others left first */
    /* the batch in flight: its IDs, kept to acknowledge them */
    char **ids;
    size_t nids;
    size_t live;			/* of them, still in the stream (not trimmed) */
    char *body;
    size_t body_len;
    int more;			/* ours may hold more than the last read gave */
    int ack;			/* the batch was answered 2xx: XACK it first */
    int asked_new;			/* the read in flight took new entries too */
    size_t acking;			/* events posted in the XACK in flight */
    int failures;			/* failed POSTs in a row */
    char why[256];			/* of the last failure */
    /* metrics */
    unsigned long long sent, batches, failed[WHPOST_NRESULTS], dead_total;
    unsigned long long conns;		/* opened by the posters it had before this one */
    long long lag;			/* pending + unread; -1: unknown */
    long long dead_len;
};

struct dispatch {
    struct event_base *base;
    struct evdns_base *dns;
    SSL_CTX *tls;
    const struct outpost_conf *fixed;	/* at start: [general] node, [redis] */
    const struct outpost_conf *conf;	/* in force: [webhookd] */
    struct rasync *redis;
    struct tenant **t;			/* every tenant configured since start */
    size_t n;
    int started;			/* dispatch_start() was called */
    unsigned long long reloads[2];	/* done, refused */
};

#define TENANT_MAX_PENDING 100000	/* commands waiting on a tenant's own connection */

/* tra - the Redis connection of a tenant: its slot's on a cluster, else the one */
static struct rasync *
tra(const struct tenant *t)
{
    return t->ra ? t->ra : t->d->redis;
}

static void step_now(struct tenant *t);
static void step_later(struct tenant *t, long long ms);

/* random_ulong - for the jitter of the backoff */
static unsigned long
random_ulong(void)
{
    unsigned long r = 0;

    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
	r = (unsigned long) monotime_us();
    return r;
}

/* now_ms - wall clock, UNIX ms */
static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* batch_clear - forget the batch in flight */
static void
batch_clear(struct tenant *t)
{
    size_t i;

    for (i = 0; i < t->nids; i++)
	free(t->ids[i]);
    free(t->ids);
    free(t->body);
    t->ids = NULL;
    t->body = NULL;
    t->nids = t->live = t->body_len = 0;
}

/*
 * command - send one command of this tenant's loop; -1: Redis is away, and
 * the step is made again later (after a POST: from the read of our own
 * events, which posts the batch again)
 */
static int
command(struct tenant *t, int argc, const char **argv, const size_t *argvlen,
	rasync_fn fn)
{
    if (rasync_command(tra(t), argc, argv, argvlen, fn, t) < 0) {
	if (t->step == S_DEAD)
	    t->step = S_READ;
	step_later(t, REDIS_RETRY_MS);
	return -1;
    }
    return 0;
}

/* redis_failed - a step's command got no answer or an error: again later */
static int
redis_failed(struct tenant *t, const redisReply *r, const char *what)
{
    if (r && r->type != REDIS_REPLY_ERROR)
	return 0;
    if (r)
	msg_warn("tenant %s: %s: %s", t->name, what, r->str);
    /* the stream or its group is gone (deleted, a flushed server): make them again */
    if (r && strncmp(r->str, "NOGROUP", 7) == 0) {
	batch_clear(t);
	t->ack = 0;
	t->step = S_GROUP;
    }
    step_later(t, REDIS_RETRY_MS);
    return 1;
}

/* note_state - the last success or error, for outpostctl (fire and forget) */
static void
note_state(struct tenant *t, int ok)
{
    char ms[32];
    const char *ok_argv[] = {"HSET", t->state, "ok_at", ms};
    const char *err_argv[] = {"HSET", t->state, "error", t->why, "error_at", ms};

    snprintf(ms, sizeof(ms), "%lld", now_ms());
    if (ok)
	rasync_command(tra(t), 4, ok_argv, NULL, NULL, NULL);
    else
	rasync_command(tra(t), 6, err_argv, NULL, NULL, NULL);
}

/* on_group - the consumer group exists (made now, or BUSYGROUP) */
static void
on_group(void *arg, redisReply *r)
{
    struct tenant *t = arg;

    if (!t->on)			/* taken away by a reload: its loop ends here */
	return;
    if (!(r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9) == 0)
	&& redis_failed(t, r, "XGROUP CREATE"))
	return;
    t->step = S_CLAIM;
    step_now(t);
}

/* on_claim - XAUTOCLAIM answered: its entries are ours now */
static void
on_claim(void *arg, redisReply *r)
{
    struct tenant *t = arg;

    if (!t->on)			/* taken away by a reload: its loop ends here */
	return;
    if (redis_failed(t, r, "XAUTOCLAIM"))
	return;
    if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2
	&& r->element[0]->type == REDIS_REPLY_STRING
	&& r->element[0]->len < sizeof(t->claim_cursor)) {
	memcpy(t->claim_cursor, r->element[0]->str, r->element[0]->len);
	t->claim_cursor[r->element[0]->len] = 0;
	if (r->element[1]->type == REDIS_REPLY_ARRAY && r->element[1]->elements > 0)
	    msg_info("tenant %s: took over %zu events another node left", t->name,
		     r->element[1]->elements);
    } else {
	strcpy(t->claim_cursor, "0-0");
    }
    if (strcmp(t->claim_cursor, "0-0") == 0)
	t->claim_due = 0;
    t->step = S_READ;
    t->more = 1;			/* what it claimed is ours now */
    step_now(t);
}

static void on_posted(void *arg, int result, int status, const char *why);

/* send_batch - the entries just read become the batch in flight */
static void
send_batch(struct tenant *t, const redisReply *entries)
{
    const struct conf_webhookd *w = &t->d->conf->webhookd;
    size_t i, n = whbatch_take(entries, (size_t) w->batch_events, w->batch_bytes);
    char sig[WHBATCH_SIG_MAX];

    batch_clear(t);
    t->ids = xcalloc(n, sizeof(*t->ids));
    for (i = 0; i < n; i++) {
	const redisReply *e = entries->element[i];

	if (e->type == REDIS_REPLY_ARRAY && e->elements >= 1
	    && e->element[0]->type == REDIS_REPLY_STRING)
	    t->ids[t->nids++] = xstrndup(e->element[0]->str, e->element[0]->len);
	if (e->type == REDIS_REPLY_ARRAY && e->elements == 2
	    && e->element[1]->type == REDIS_REPLY_ARRAY)
	    t->live++;
    }
    /* a full read, or one not all taken: more of ours may wait */
    t->more = n < entries->elements || entries->elements >= (size_t) w->batch_events;
    t->body = whbatch_body(entries, n, &t->body_len);
    whbatch_sign(t->secret, t->secret_len, now_ms() / 1000, t->body, t->body_len, sig);
    if (t->live == 0) {			/* trimmed from the stream while they waited */
	t->ack = 1;			/* nothing posted: not a success, not sent */
	t->step = S_READ;
	step_now(t);
	return;
    }
    t->step = S_POST;
    if (whpost_send(t->post, t->body, t->body_len, sig, t->live, on_posted, t) < 0)
	on_posted(t, WHPOST_OTHER, 0, "cannot make the request");
}

/* stream_entries - the entries of an XREADGROUP reply, or NULL when none */
static const redisReply *
stream_entries(const redisReply *r)
{
    const redisReply *s;

    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1)
	return NULL;
    s = r->element[0];
    if (s->type != REDIS_REPLY_ARRAY || s->elements != 2
	|| s->element[1]->type != REDIS_REPLY_ARRAY || s->element[1]->elements == 0)
	return NULL;
    return s->element[1];
}

/*
 * on_read - our oldest pending entries (XREADGROUP ... 0), read after the
 * new ones were made ours (XREADGROUP ... >) when ours were all posted
 */
static void
on_read(void *arg, redisReply *r)
{
    struct tenant *t = arg;
    const redisReply *entries;

    if (!t->on)			/* taken away by a reload: its loop ends here */
	return;
    if (redis_failed(t, r, "XREADGROUP"))
	return;
    if ((entries = stream_entries(r)) != NULL) {
	send_batch(t, entries);
    } else if (!t->asked_new) {
	t->more = 0;			/* none of ours left: take new ones */
	step_now(t);
    } else {
	step_later(t, t->d->conf->webhookd.poll_interval_ms);
    }
}

/* on_acked - the XACK of a batch answered 2xx */
static void
on_acked(void *arg, redisReply *r)
{
    struct tenant *t = arg;

    /* not acknowledged: the read after it gives the batch again (at least once) */
    if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
	if (r)
	    msg_warn("tenant %s: XACK: %s", t->name,
		     r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
	return;
    }
    t->sent += t->acking;
    t->batches += t->acking > 0;
}

/* on_dead - the old events of a failed batch are in the dead-letter stream */
static void
on_dead(void *arg, redisReply *r)
{
    struct tenant *t = arg;

    if (!t->on)			/* taken away by a reload: its loop ends here */
	return;
    t->step = S_READ;
    t->more = 1;
    if (redis_failed(t, r, "dead-letter script"))
	return;
    if (r->type == REDIS_REPLY_INTEGER && r->integer > 0) {
	t->dead_total += (unsigned long long) r->integer;
	msg_warn("tenant %s: %lld events failed for longer than webhook_retry: "
		 "moved to %s", t->name, r->integer, t->dead);
    }
    batch_clear(t);
    step_later(t, whbatch_backoff(t->d->conf->webhookd.backoff_min_ms,
				  t->d->conf->webhookd.backoff_max_ms, t->failures,
				  random_ulong()));
}

/* give_up_old - the events of the failed batch past webhook_retry go dead */
static int
give_up_old(struct tenant *t)
{
    long long limit = now_ms() - t->retry_ms;
    const char **argv = xcalloc(t->nids + 8, sizeof(*argv));	/* 8 before the IDs */
    char maxlen[32];
    int argc = 0;
    size_t i;

    snprintf(maxlen, sizeof(maxlen), "%ld", t->d->conf->webhookd.dead_max);
    argv[argc++] = "EVAL";
    argv[argc++] = dispatch_dead_lua;
    argv[argc++] = "2";
    argv[argc++] = t->stream;
    argv[argc++] = t->dead;
    argv[argc++] = EVKEYS_GROUP;
    argv[argc++] = t->why;
    argv[argc++] = maxlen;
    for (i = 0; i < t->nids; i++) {
	long long ms = whbatch_id_ms(t->ids[i]);

	if (ms >= 0 && ms < limit)
	    argv[argc++] = t->ids[i];
    }
    if (argc == 8) {
	free(argv);
	return 0;
    }
    t->step = S_DEAD;
    command(t, argc, argv, NULL, on_dead);
    free(argv);
    return 1;
}

/* on_posted - the answer to the batch */
static void
on_posted(void *arg, int result, int status, const char *why)
{
    struct tenant *t = arg;

    (void) status;
    if (result == WHPOST_OK) {
	if (t->failures)
	    msg_info("tenant %s: webhook answers again", t->name);
	t->failures = 0;
	note_state(t, 1);
	t->ack = 1;			/* sent in front of the next read */
	t->step = S_READ;
	step_now(t);
	return;
    }
    t->failed[result]++;
    t->failures++;
    snprintf(t->why, sizeof(t->why), "%s", why);
    if (t->failures == 1)
	msg_warn("tenant %s: webhook %s: %s (posted again after a delay)",
		 t->name, t->url, why);
    else
	msg_debug("tenant %s: webhook: %s (failure %d)", t->name, why,
		  t->failures);
    note_state(t, 0);
    if (give_up_old(t))
	return;
    t->step = S_READ;
    t->more = 1;
    batch_clear(t);
    step_later(t, whbatch_backoff(t->d->conf->webhookd.backoff_min_ms,
				  t->d->conf->webhookd.backoff_max_ms, t->failures,
				  random_ulong()));
}

/* send_ack - the XACK of the batch answered 2xx; -1: Redis is away */
static int
send_ack(struct tenant *t)
{
    const char **argv = xcalloc(t->nids + 3, sizeof(*argv));
    size_t i;
    int rc;

    if (t->live < t->nids)
	msg_warn("tenant %s: %zu events were trimmed from its stream before they "
		 "could be posted", t->name, t->nids - t->live);
    argv[0] = "XACK";
    argv[1] = t->stream;
    argv[2] = EVKEYS_GROUP;
    for (i = 0; i < t->nids; i++)
	argv[3 + i] = t->ids[i];
    t->acking = t->live;
    rc = rasync_command(tra(t), (int) t->nids + 3, argv, NULL, on_acked, t);
    free(argv);
    t->ack = 0;
    batch_clear(t);			/* hiredis has copied the IDs */
    return rc;
}

/*
 * read_step - one pipeline: the XACK of the last batch, the new entries made
 * ours (when ours were all posted: take_new_lua), then our oldest pending
 * ones.  Only the
 * last reply is used: it is right whatever happened to the others (an XACK
 * refused: the batch comes again; a reply lost to a cut connection: Redis'
 * pending list still says what is ours, oldest first).
 */
static void
read_step(struct tenant *t, const char *count)
{
    const char *node = t->d->fixed->general.node;
    const char *take[] = {"EVAL", take_new_lua, "2", t->stream, t->lease, EVKEYS_GROUP, node,
    count};
    const char *argv[] = {"XREADGROUP", "GROUP", EVKEYS_GROUP, node, "COUNT", count,
    "STREAMS", t->stream, "0"};

    if (t->ack && send_ack(t) < 0) {
	t->more = 1;			/* not acknowledged: posted again */
	step_later(t, REDIS_RETRY_MS);
	return;
    }
    t->asked_new = !t->more;
    if (t->asked_new && rasync_command(tra(t), 8, take, NULL, NULL, NULL) < 0) {
	step_later(t, REDIS_RETRY_MS);
	return;
    }
    command(t, 9, argv, NULL, on_read);
}

/* step_now - carry out the tenant's next step */
static void
step_now(struct tenant *t)
{
    const struct conf_webhookd *w = &t->d->conf->webhookd;
    const char *node = t->d->fixed->general.node;
    char count[32], idle[32];

    /* another node took the tenant over (this one let its lease lapse): stop here */
    if (!t->holder) {
	t->running = 0;
	batch_clear(t);
	t->ack = 0;
	return;
    }
    snprintf(count, sizeof(count), "%ld", w->batch_events);
    switch (t->step) {
    case S_GROUP:{
	    const char *argv[] = {"XGROUP", "CREATE", t->stream, EVKEYS_GROUP, "0", "MKSTREAM"};

	    command(t, 6, argv, NULL, on_group);
	    break;
	}
    case S_CLAIM:{
	    const char *argv[] = {"XAUTOCLAIM", t->stream, EVKEYS_GROUP, node, idle,
	    t->claim_cursor, "COUNT", count};

	    /* only the lease's holder posts: all that others left is orphaned */
	    snprintf(idle, sizeof(idle), "0");
	    command(t, 8, argv, NULL, on_claim);
	    break;
	}
    case S_READ:
	/* a claim round is due: it goes before the next read (an XACK first) */
	if (!t->ack && t->claim_due) {
	    t->step = S_CLAIM;
	    step_now(t);
	    return;
	}
	read_step(t, count);
	break;
    default:
	msg_fatal("tenant %s: step %d out of turn", t->name, (int) t->step);
    }
}

/* on_timer - a delay has passed */
static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    step_now(arg);
}

/* step_later - the next step after ms */
static void
step_later(struct tenant *t, long long ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

    evtimer_add(t->timer, &tv);
}

/* on_lag - XINFO GROUPS answered: pending plus unread */
static void
on_lag(void *arg, redisReply *r)
{
    struct tenant *t = arg;
    size_t i, j;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY)
	return;
    for (i = 0; i < r->elements; i++) {
	const redisReply *g = r->element[i];
	long long pending = -1, unread = -1;
	int ours = 0;

	if (g->type != REDIS_REPLY_ARRAY)
	    continue;
	for (j = 0; j + 1 < g->elements; j += 2) {
	    const redisReply *k = g->element[j], *v = g->element[j + 1];

	    if (k->type != REDIS_REPLY_STRING)
		continue;
	    if (strcmp(k->str, "name") == 0 && v->type == REDIS_REPLY_STRING)
		ours = strcmp(v->str, EVKEYS_GROUP) == 0;
	    else if (strcmp(k->str, "pending") == 0 && v->type == REDIS_REPLY_INTEGER)
		pending = v->integer;
	    else if (strcmp(k->str, "lag") == 0 && v->type == REDIS_REPLY_INTEGER)
		unread = v->integer;
	}
	if (ours)
	    t->lag = pending >= 0 && unread >= 0 ? pending + unread : -1;
    }
}

/* lease_later - the next turn of the lease */
static void
lease_later(struct tenant *t, long long ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

    evtimer_add(t->lease_timer, &tv);
}

/* on_lease - the lease script answered */
static void
on_lease(void *arg, redisReply *r)
{
    struct tenant *t = arg;

    if (!t->on)			/* taken away by a reload: its loop ends here */
	return;
    if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
	lease_later(t, REDIS_RETRY_MS);
	return;
    }
    lease_later(t, t->d->conf->webhookd.claim_idle_ms / 3);
    if (r->integer == 0) {
	if (t->holder)
	    msg_warn("tenant %s: another node took its webhook over", t->name);
	t->holder = 0;
	return;
    }
    if (r->integer == 2) {
	msg_info("tenant %s: this node posts its events now", t->name);
	t->claim_due = 1;		/* first what the last holder left */
	strcpy(t->claim_cursor, "0-0");
    }
    t->holder = 1;
    if (!t->running) {
	t->running = 1;
	t->step = S_GROUP;
	t->more = 1;
	step_now(t);
    }
}

/*
 * on_lease_timer - take or renew the lease, three times in claim_idle: a
 * node that did not renew it for claim_idle is taken for dead
 */
static void
on_lease_timer(evutil_socket_t fd, short what, void *arg)
{
    struct tenant *t = arg;
    char ms[32];
    const char *argv[] = {"EVAL", lease_lua, "1", t->lease, t->d->fixed->general.node, ms};

    (void) fd;
    (void) what;
    snprintf(ms, sizeof(ms), "%lld", t->d->conf->webhookd.claim_idle_ms);
    if (rasync_command(tra(t), 6, argv, NULL, on_lease, t) < 0)
	lease_later(t, REDIS_RETRY_MS);
}

/* on_dead_len - XLEN of the dead-letter stream */
static void
on_dead_len(void *arg, redisReply *r)
{
    struct tenant *t = arg;

    if (r && r->type == REDIS_REPLY_INTEGER)
	t->dead_len = r->integer;
}

/* on_lag_timer - ask for the lag and the dead-letter count */
static void
on_lag_timer(evutil_socket_t fd, short what, void *arg)
{
    struct tenant *t = arg;
    const char *info[] = {"XINFO", "GROUPS", t->stream};
    const char *xlen[] = {"XLEN", t->dead};

    (void) fd;
    (void) what;
    if (rasync_ready(tra(t))) {
	rasync_command(tra(t), 3, info, NULL, on_lag, t);
	rasync_command(tra(t), 2, xlen, NULL, on_dead_len, t);
    }
}

/* read_secret - the first line of a tenant's webhook_secret_file */
static int
read_secret(const struct conf_tenant *ct, char *secret, size_t *len, char *err,
	    size_t errlen)
{
    const char *path = ct->webhook_secret_file;
    FILE *fp = fopen(path, "r");
    size_t n;

    if (fp == NULL) {
	snprintf(err, errlen, "[tenant %s] webhook_secret_file %s: %s", ct->named.name,
		 path, strerror(errno));
	return -1;
    }
    if (fgets(secret, SECRET_MAX, fp) == NULL)
	secret[0] = 0;
    fclose(fp);
    n = strcspn(secret, "\r\n");
    secret[n] = 0;
    *len = n;
    if (n == 0) {
	snprintf(err, errlen, "[tenant %s] webhook_secret_file %s: empty first line",
		 ct->named.name, path);
	return -1;
    }
    return 0;
}

/* find - the tenant of that name configured now, or NULL */
static struct tenant *
find(const struct dispatch *d, const char *name)
{
    size_t i;

    for (i = 0; i < d->n; i++)
	if (d->t[i]->on && strcmp(d->t[i]->name, name) == 0)
	    return d->t[i];
    return NULL;
}

/*
 * tenant_new - a tenant given a webhook: its keys and timers, not yet on
 * (one that was taken away before stays retired: see tenant_off())
 */
static struct tenant *
tenant_new(struct dispatch *d, const char *name)
{
    struct tenant *t = xcalloc(1, sizeof(*t));
    const char *prefix = d->fixed->redis.prefix;

    t->d = d;
    t->name = xstrdup(name);
    t->lag = t->dead_len = -1;
    evkeys_stream(t->stream, sizeof(t->stream), prefix, name);
    evkeys_dead(t->dead, sizeof(t->dead), prefix, name);
    evkeys_state(t->state, sizeof(t->state), prefix, name);
    evkeys_lease(t->lease, sizeof(t->lease), prefix, name);
    strcpy(t->claim_cursor, "0-0");
    t->timer = evtimer_new(d->base, on_timer, t);
    t->lag_timer = event_new(d->base, -1, EV_PERSIST, on_lag_timer, t);
    t->lease_timer = evtimer_new(d->base, on_lease_timer, t);
    t->step = S_GROUP;
    d->t = xreallocarray(d->t, d->n + 1, sizeof(*d->t));
    d->t[d->n++] = t;
    return t;
}

/* tenant_run - begin the tenant's loop: its lease first */
static void
tenant_run(struct tenant *t)
{
    struct dispatch *d = t->d;
    struct timeval lag_every = {LAG_EVERY_MS / 1000, (LAG_EVERY_MS % 1000) * 1000};

    /* on a cluster every key of a tenant is in the slot of its tag */
    if (t->ra == NULL && d->fixed->redis.cluster.n > 0)
	t->ra = rasync_new_for(d->base, &d->fixed->redis, dispatch_dead_lua,
			       TENANT_MAX_PENDING, t->stream);
    t->running = 0;
    t->holder = 0;
    event_add(t->lag_timer, &lag_every);
    lease_later(t, 0);
}

/* tenant_post - the tenant's poster for a new URL or timeout; a POST in flight is sent again */
static void
tenant_post(struct tenant *t, struct whpost *post, const char *url)
{
    if (t->post) {
	t->conns += whpost_connections(t->post);
	whpost_free(t->post);		/* drops a POST in flight without a call */
	if (t->on && t->step == S_POST) {
	    /* not acknowledged: the read of our own events gives it again */
	    batch_clear(t);
	    t->step = S_READ;
	    t->more = 1;
	    step_later(t, 0);
	}
    }
    t->post = post;
    free(t->url);
    t->url = xstrdup(url);
}

/*
 * tenant_off - a tenant a reload took away: its loop stops, its events wait.
 * It is retired, never on again (a tenant given its webhook back is a new
 * one), and kept until dispatch_free(): the answers of the commands it has
 * in flight still find it, and end there.
 */
static void
tenant_off(struct tenant *t)
{
    msg_info("tenant %s: no webhook configured now: its events are no longer posted", t->name);
    t->on = 0;
    t->holder = 0;
    t->running = 0;
    whpost_free(t->post);		/* the batch in flight stays unacknowledged */
    t->post = NULL;
    evtimer_del(t->timer);
    event_del(t->lag_timer);
    evtimer_del(t->lease_timer);
    batch_clear(t);
    t->ack = 0;
    if (t->ra) {
	rasync_free(t->ra);		/* its commands in flight get NULL, and end */
	t->ra = NULL;
    }
}

/* one tenant of a configuration, read before anything changes */
struct prep {
    const struct conf_tenant *ct;
    struct tenant *t;			/* known already, or NULL */
    char secret[SECRET_MAX];
    size_t secret_len;
    struct whpost *post;		/* a new poster, or NULL: keep the tenant's */
};

/* prep_free - what a refused configuration had prepared */
static void
prep_free(struct prep *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
	whpost_free(p[i].post);
	OPENSSL_cleanse(p[i].secret, sizeof(p[i].secret));
    }
    free(p);
}

/*
 * dispatch_reload - the tenants of conf: each secret read and each URL
 * checked first (NULL and err when one is wrong: nothing changes), then
 * the new ones begin, the changed ones take their new secret and URL, the
 * ones taken away stop
 */
int
dispatch_reload(struct dispatch *d, const struct outpost_conf *conf, char *err,
		size_t errlen)
{
    struct prep *p = xcalloc(conf->tenants.n + 1, sizeof(*p));
    long long timeout = conf->webhookd.request_timeout_ms;
    long long keepalive = conf->webhookd.keepalive_idle_ms;
    size_t i, np = 0;
    struct tenant *t;

    for (i = 0; i < conf->tenants.n; i++) {
	const struct conf_tenant *ct = CONF_VEC_AT(&conf->tenants, i, struct conf_tenant);
	struct prep *q = &p[np];

	if (ct->webhook_url == NULL)
	    continue;
	np++;
	q->ct = ct;
	q->t = find(d, ct->named.name);
	if (read_secret(ct, q->secret, &q->secret_len, err, errlen) < 0)
	    goto refused;
	if ((q->t == NULL || q->t->post == NULL || strcmp(q->t->url, ct->webhook_url) != 0
	     || timeout != d->conf->webhookd.request_timeout_ms
	     || keepalive != d->conf->webhookd.keepalive_idle_ms)
	    && (q->post = whpost_new(d->base, d->dns, d->tls, ct->webhook_url, timeout,
				     keepalive, err, errlen)) == NULL)
	    goto refused;
    }
    d->conf = conf;
    for (i = 0; i < d->n; i++)
	d->t[i]->seen = 0;
    for (i = 0; i < np; i++) {
	t = p[i].t ? p[i].t : tenant_new(d, p[i].ct->named.name);
	t->seen = 1;
	memcpy(t->secret, p[i].secret, sizeof(t->secret));
	t->secret_len = p[i].secret_len;
	t->retry_ms = p[i].ct->webhook_retry_ms;
	if (p[i].post) {
	    tenant_post(t, p[i].post, p[i].ct->webhook_url);
	    p[i].post = NULL;
	}
	if (!t->on) {
	    t->on = 1;
	    if (d->started) {
		msg_info("tenant %s: posting its events to %s", t->name, t->url);
		tenant_run(t);
	    }
	}
    }
    for (i = 0; i < d->n; i++)
	if (d->t[i]->on && !d->t[i]->seen)
	    tenant_off(d->t[i]);
    prep_free(p, np);
    d->reloads[0] += d->started;
    return 0;
refused:
    prep_free(p, np);
    d->reloads[1] += d->started;
    return -1;
}

/* dispatch_refused - count a reload refused before it reached dispatch_reload() */
void
dispatch_refused(struct dispatch *d)
{
    d->reloads[1]++;
}

/* dispatch_new - a loop per tenant with a webhook; NULL and err on a bad one */
struct dispatch *
dispatch_new(struct event_base *base, const struct outpost_conf *conf, struct rasync *redis,
	     struct evdns_base *dns, SSL_CTX *tls, char *err, size_t errlen)
{
    struct dispatch *d = xcalloc(1, sizeof(*d));

    d->base = base;
    d->dns = dns;
    d->tls = tls;
    d->fixed = d->conf = conf;
    d->redis = redis;
    if (dispatch_reload(d, conf, err, errlen) < 0) {
	dispatch_free(d);
	return NULL;
    }
    return d;
}

/* dispatch_start - begin every tenant's loop on this Redis connection */
void
dispatch_start(struct dispatch *d, struct rasync *redis)
{
    size_t i;

    d->redis = redis;
    d->started = 1;
    for (i = 0; i < d->n; i++)
	if (d->t[i]->on)
	    tenant_run(d->t[i]);
}

/* dispatch_tenants - how many tenants have a webhook now */
size_t
dispatch_tenants(const struct dispatch *d)
{
    size_t i, n = 0;

    for (i = 0; i < d->n; i++)
	n += d->t[i]->on;
    return n;
}

/* dispatch_render - the metrics page */
struct prom *
dispatch_render(void *arg)
{
    struct dispatch *d = arg;
    struct prom *p = prom_new(d->fixed->general.node);
    size_t i;
    int k;

#define EACH(body) \
    for (i = 0; i < d->n; i++) { \
	const struct tenant *t = d->t[i]; \
	const char *l[] = {"tenant", t->name, NULL}; \
	if (t->on) { body; } \
    }
    prom_family(p, "outpost_webhook_events_sent_total", PROM_COUNTER,
		"Events posted and acknowledged with a 2xx answer");
    EACH(prom_counter(p, l, t->sent));
    prom_family(p, "outpost_webhook_batches_total", PROM_COUNTER,
		"POSTs answered with a 2xx");
    EACH(prom_counter(p, l, t->batches));
    prom_family(p, "outpost_webhook_failures_total", PROM_COUNTER,
		"POSTs that failed, by kind: status (not 2xx), timeout, refused, tls, other");
    for (i = 0; i < d->n; i++)
	for (k = 1; k < WHPOST_NRESULTS && d->t[i]->on; k++) {
	    const char *l[] = {"tenant", d->t[i]->name, "kind", whpost_result_name[k], NULL};

	    prom_counter(p, l, d->t[i]->failed[k]);
	}
    prom_family(p, "outpost_webhook_connections_total", PROM_COUNTER,
		"Connections opened to the webhook (over TLS: handshakes); a POST uses the "
		"open one while it is kept");
    EACH(prom_counter(p, l, t->conns + (t->post ? whpost_connections(t->post) : 0)));
    prom_family(p, "outpost_webhook_dead_lettered_total", PROM_COUNTER,
		"Events moved to the dead-letter stream after webhook_retry");
    EACH(prom_counter(p, l, t->dead_total));
    prom_family(p, "outpost_webhook_lag", PROM_GAUGE,
		"Events not yet acknowledged: read and pending, and not yet read");
    EACH(if (t->lag >= 0 && t->holder) prom_gauge(p, l, (double) t->lag));
    prom_family(p, "outpost_webhook_holder", PROM_GAUGE,
		"1 when this node posts the tenant's events (holds its lease)");
    EACH(prom_gauge(p, l, t->holder));
    prom_family(p, "outpost_webhook_dead_letters", PROM_GAUGE,
		"Entries in the dead-letter stream");
    EACH(if (t->dead_len >= 0 && t->holder) prom_gauge(p, l, (double) t->dead_len));
#undef EACH
    prom_family(p, "outpost_webhook_reloads_total", PROM_COUNTER,
		"Reloads on SIGHUP: done (the new tenants in force), refused (a bad "
		"configuration, URL or secret: the running one is kept)");
    prom_counter(p, (const char *[]) {"result", "done", NULL}, d->reloads[0]);
    prom_counter(p, (const char *[]) {"result", "refused", NULL}, d->reloads[1]);
    return p;
}

/* dispatch_free - stop; a batch in flight is posted again at the next start */
void
dispatch_free(struct dispatch *d)
{
    size_t i;

    if (d == NULL)
	return;
    for (i = 0; i < d->n; i++) {
	struct tenant *t = d->t[i];

	if (t->ra)
	    rasync_free(t->ra);		/* commands in flight get NULL: t is still whole */
	whpost_free(t->post);
	if (t->timer)
	    event_free(t->timer);
	if (t->lag_timer)
	    event_free(t->lag_timer);
	if (t->lease_timer)
	    event_free(t->lease_timer);
	batch_clear(t);
	OPENSSL_cleanse(t->secret, sizeof(t->secret));
	free(t->name);
	free(t->url);
	free(t);
    }
    free(d->t);
    free(d);
}
