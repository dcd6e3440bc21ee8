/*
 * track - log lines to statistics, events and backoffs (see track.h)
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "blname.h"
#include "bounce_class.h"
#include "events.h"
#include "intake_act.h"
#include "maillog.h"
#include "msg.h"
#include "pool_select.h"
#include "retpath.h"
#include "route.h"
#include "suppress.h"
#include "tlssess.h"
#include "track.h"
#include "xalloc.h"

#define NBUCKETS 65536
#define HOLDOFF_SLOTS 64

/* what is known about a queue id between its lines */
struct qent {
    struct qent *next;
    char qid[32];
    char sender[256];		/* sender domain; "" null sender */
    int null_sender;
    int ndeferred;		/* recipients deferred in this attempt */
    char provider[64];		/* of the last deferral */
    char pool[64];
    long long seq;
    char **deferred;		/* recipients deferred in this attempt (of a
				 * tenant's sender; at most TRACK_MAX_DEFERRED),
				 * for the "expired" events; NULL: none */
};

struct holdoff {
    char key[600];
    long long at;
};

/* a backoff that Redis did not take: written with the next track_flush() */
struct pending_backoff {
    struct backoff_rule rule;	/* a copy: SIGHUP may replace the rules */
    char group[256];
    char pool[64];
    char sender[256];
    char label[64];
    char reply[ML_TEXT_MAX];
    long long when;
};

struct track {
    const struct outpost_conf *conf;
    const struct provider_table *providers;
    const struct backoff_rules *rules;
    struct rconn *rc;
    struct stats_batch *batch;
    struct qent *bucket[NBUCKETS];
    size_t nq;
    long long seq;
    struct holdoff holdoff[HOLDOFF_SLOTS];
    struct pending_backoff backoff[HOLDOFF_SLOTS];	/* Redis was away */
    size_t nbackoff;
    struct track_counts counts;
    struct sup_store *sup;	/* NULL: [logd] suppress_hard_bounces = no */
    struct sup_entry *pending;	/* hard bounces not yet in the suppression list */
    size_t npending, cap_pending;
    struct intake_store *intake;	/* soft bounces: the [intake] rule */
    const char *retpath;	/* bounce-domain pattern; NULL: senders are not tagged */
    struct intake_store *ids;	/* long tokens' (recipient, sender) under an id */
    struct intake_rules soft_rules;
    struct soft_bounce *soft;	/* soft bounces not yet counted */
    size_t nsoft, cap_soft;
    long long max_age;		/* [logd] max_line_age in seconds; 0: none */
    struct tlssess *tls;	/* the SMTP clients' TLS sessions */
    struct events_batch *events;	/* the tenants' event streams */
};

static int flush_backoffs(struct track *);

/* a soft bounce waiting for track_flush(): the same rule as a soft DSN's */
struct soft_bounce {
    char rcpt[ADDR_MAX];
    char sender[256];
    char provider[64];
    char id[320];		/* the log's queue id and recipient: counted once */
    long long when;
};

/* track_new - a tracker writing into batch */
struct track *
track_new(const struct outpost_conf *conf, const struct provider_table *providers,
	  const struct backoff_rules *rules, struct rconn *rc, struct stats_batch *batch)
{
    struct track *t = xcalloc(1, sizeof(*t));

    t->conf = conf;
    t->providers = providers;
    t->rules = rules;
    t->rc = rc;
    t->batch = batch;
    if ((t->retpath = retpath_pattern(conf)) != NULL)
	t->ids = intake_store_new(rc, conf->redis.prefix);
    t->max_age = conf->logd.max_line_age_ms / 1000;
    t->tls = tlssess_new();
    t->events = events_batch_new(conf);
    if (conf->logd.suppress_hard_bounces) {
	t->sup = sup_store_new(rc, conf->redis.prefix);
	t->intake = intake_store_new(rc, conf->redis.prefix);
	t->soft_rules.soft_limit = conf->intake.soft_bounce_limit;
	t->soft_rules.soft_window = conf->intake.soft_bounce_window_ms / 1000;
	t->soft_rules.soft_expiry = conf->intake.soft_bounce_expiry_ms / 1000;
    }
    return t;
}

/* ---------------------------------------------------------------- queue ids */

/* qhash - FNV-1a of a queue id */
static unsigned
qhash(const char *s)
{
    unsigned h = 2166136261u;

    while (*s)
	h = (h ^ (unsigned char) *s++) * 16777619u;
    return h % NBUCKETS;
}

/* qfind - the entry of a queue id, or NULL */
static struct qent *
qfind(struct track *t, const char *qid)
{
    struct qent *e;

    for (e = t->bucket[qhash(qid)]; e; e = e->next)
	if (strcmp(e->qid, qid) == 0)
	    return e;
    return NULL;
}

/* qdeferred_clear - forget the recipients deferred */
static void
qdeferred_clear(struct qent *e)
{
    int i;

    for (i = 0; i < e->ndeferred && i < TRACK_MAX_DEFERRED && e->deferred; i++)
	free(e->deferred[i]);
    free(e->deferred);
    e->deferred = NULL;
    e->ndeferred = 0;
}

/* qfree - release an entry */
static void
qfree(struct qent *e)
{
    qdeferred_clear(e);
    free(e);
}

/* qremove - forget a queue id */
static void
qremove(struct track *t, const char *qid)
{
    struct qent **pp = &t->bucket[qhash(qid)], *e;

    for (; (e = *pp) != NULL; pp = &e->next) {
	if (strcmp(e->qid, qid) == 0) {
	    *pp = e->next;
	    qfree(e);
	    t->nq--;
	    return;
	}
    }
}

/* qpurge - forget the older half (ids whose "removed" line never came) */
static void
qpurge(struct track *t)
{
    long long cut = t->seq - (long long) t->nq / 2;
    size_t i;

    for (i = 0; i < NBUCKETS; i++) {
	struct qent **pp = &t->bucket[i], *e;

	while ((e = *pp) != NULL) {
	    if (e->seq < cut) {
		*pp = e->next;
		qfree(e);
		t->nq--;
	    } else {
		pp = &e->next;
	    }
	}
    }
}

/* qput - the entry of a queue id, made when new */
static struct qent *
qput(struct track *t, const char *qid)
{
    struct qent *e = qfind(t, qid);
    unsigned h;

    if (e == NULL) {
	if (t->nq >= TRACK_MAX_QUEUE)
	    qpurge(t);
	e = xcalloc(1, sizeof(*e));
	snprintf(e->qid, sizeof(e->qid), "%s", qid);
	h = qhash(qid);
	e->next = t->bucket[h];
	t->bucket[h] = e;
	t->nq++;
    }
    e->seq = ++t->seq;
    return e;
}

/* sender_domain - the lower-case domain of an address ("" for none) */
static void
sender_domain(const char *addr, char *out, size_t len)
{
    const char *at = strrchr(addr, '@');
    size_t i;

    out[0] = '\0';
    if (at == NULL)
	return;
    for (i = 0; at[1 + i] && i + 1 < len; i++)
	out[i] = (char) tolower((unsigned char) at[1 + i]);
    out[i] = '\0';
}

/*
 * envelope_domain - the domain statistics count a sender under: the sender's
 * own, also when the MTA logs the tagged return path (retpath(3))
 */
static void
envelope_domain(struct track *t, const char *addr, char *out, size_t len)
{
    char rcpt[ADDR_MAX], dom[DOMAIN_MAX];
    unsigned long long id;

    if (retpath_sender_domain(t->retpath, t->conf->intake.bounce_local, addr, out, len,
			      &id) != RETPATH_ID)
	return;
    /* rare: a recipient too long for the token; else the bounce domain stays */
    if (intake_id_get(t->ids, id, rcpt, sizeof(rcpt), dom, sizeof(dom)) == 1 && dom[0])
	snprintf(out, len, "%s", dom);
}

/* ---------------------------------------------------------------- seams */

/* classify - the classifier of DSNs, on a synchronous bounce */
static int
classify(const struct ml_event *ev, const char *reply, int *hard)
{
    struct bounce_evidence be;
    char code[8] = "";
    const char *at;
    int reason;

    bounce_replycode_find(reply, ev->dsn, code, sizeof(code));
    memset(&be, 0, sizeof(be));
    be.status = ev->dsn;
    be.replycode = code;
    be.text = reply;
    be.action = "failed";
    be.command = bounce_command_find(ev->text);
    be.diag_type = ev->relay_ip[0] ? "smtp" : "";
    /* the receiver's own vocabulary is keyed by its host and the recipient's domain */
    be.rhost = ev->relay_host[0] && strcmp(ev->relay_host, "none") != 0 ? ev->relay_host : NULL;
    if (ev->nrcpt > 0 && (at = strrchr(ev->rcpt[0], '@')) != NULL)
	be.domain = at + 1;	/* one relay: the recipients of one line share a receiver */
    reason = bounce_classify(&be);
    *hard = bounce_is_hard(reason, ev->dsn, code);
    return reason;
}

/*
 * track_suppress - a hard bounce: its address goes on the global suppression
 * list (reason hard-bounce, source "log") with the next track_flush()
 */
static void
track_suppress(struct track *t, const char *rcpt, const char *sender, const char *reason,
	       long long when)
{
    struct sup_entry *e;
    const char *why;
    char addr[ADDR_MAX];

    t->counts.hard_bounces++;
    msg_info("hard bounce: %s (sender domain %s): %s%s", rcpt, *sender ? sender : "-",
	     reason, t->sup ? ": suppressed" : "");
    if (t->sup == NULL)
	return;
    if (sup_target_normalize(rcpt, strlen(rcpt), addr, sizeof(addr), &why) < 0) {
	msg_warn("hard bounce: %s: %s: not suppressed", rcpt, why);
	return;
    }
    if (t->npending >= TRACK_MAX_SUPPRESS) {
	msg_error("hard bounce: %s not suppressed: %d suppressions wait for Redis",
		  addr, TRACK_MAX_SUPPRESS);
	return;
    }
    if (t->npending == t->cap_pending) {
	t->cap_pending = t->cap_pending ? 2 * t->cap_pending : 16;
	t->pending = xreallocarray(t->pending, t->cap_pending, sizeof(*t->pending));
    }
    e = &t->pending[t->npending++];
    memset(e, 0, sizeof(*e));
    snprintf(e->target, sizeof(e->target), "%s", addr);
    e->reason = SUP_HARD_BOUNCE;
    e->created = when;
    snprintf(e->source, sizeof(e->source), "log");
}

/*
 * track_soft - a soft bounce in the log counts toward the soft-bounce rule
 * of [intake] (suppressed after soft_bounce_limit within soft_bounce_window),
 * exactly as a soft DSN does, with the next track_flush()
 */
static void
track_soft(struct track *t, const struct ml_event *ev, const char *rcpt,
	   const char *sender, const char *provider, long long when)
{
    struct soft_bounce *sb;
    const char *why;
    char addr[ADDR_MAX];

    if (t->intake == NULL)
	return;
    if (addr_normalize(rcpt, strlen(rcpt), addr, sizeof(addr), &why) < 0) {
	msg_warn("soft bounce: %s: %s: not counted", rcpt, why);
	return;
    }
    if (t->nsoft >= TRACK_MAX_SUPPRESS) {
	msg_error("soft bounce: %s not counted: %d soft bounces wait for Redis",
		  addr, TRACK_MAX_SUPPRESS);
	return;
    }
    if (t->nsoft == t->cap_soft) {
	t->cap_soft = t->cap_soft ? 2 * t->cap_soft : 16;
	t->soft = xreallocarray(t->soft, t->cap_soft, sizeof(*t->soft));
    }
    sb = &t->soft[t->nsoft++];
    snprintf(sb->rcpt, sizeof(sb->rcpt), "%s", addr);
    snprintf(sb->sender, sizeof(sb->sender), "%s", sender);
    snprintf(sb->provider, sizeof(sb->provider), "%s", provider);
    snprintf(sb->id, sizeof(sb->id), "log:%s:%s", ev->qid, addr);
    sb->when = when;
}

/* flush_soft - apply the soft-bounce rule; what is not done waits */
static int
flush_soft(struct track *t)
{
    struct intake_result res;
    size_t i;

    for (i = 0; i < t->nsoft; i++) {
	struct intake_event ev = {
	    INTAKE_SOFT, t->soft[i].rcpt, t->soft[i].sender, t->soft[i].provider,
	    t->soft[i].id, "log", t->soft[i].when,
	};

	if (intake_act(t->intake, &t->soft_rules, &ev, &res) < 0) {
	    msg_warn("redis: counting the soft bounce of %s: %s", t->soft[i].rcpt,
		     intake_error(t->intake));
	    memmove(t->soft, t->soft + i, (t->nsoft - i) * sizeof(*t->soft));
	    t->nsoft -= i;
	    return -1;
	}
	if (res.suppressed)
	    msg_info("soft bounce: %s suppressed after %ld soft bounces", t->soft[i].rcpt,
		     res.soft_count);
    }
    t->nsoft = 0;
    return 0;
}

/* track_flush - write the suppressions gathered; kept when Redis fails */
int
track_flush(struct track *t)
{
    struct sup_batch *b;
    size_t i;
    int rc = 0;

    /* before the file position: a line read again writes its events once */
    if (events_batch_size(t->events) > 0 && events_batch_flush(t->events, t->rc) < 0)
	return -1;
    if (t->nbackoff > 0 && flush_backoffs(t) < 0)
	return -1;
    if (t->nsoft > 0 && flush_soft(t) < 0)
	return -1;
    if (t->npending == 0)
	return 0;
    b = sup_batch_new(t->sup, 0);
    for (i = 0; i < t->npending && rc >= 0; i++)
	rc = sup_batch_add(b, &t->pending[i]);
    if (rc >= 0)
	rc = sup_batch_flush(b);
    if (rc < 0)
	msg_warn("redis: suppressing %zu hard-bounced address%s: %s", t->npending,
		 t->npending == 1 ? "" : "es", sup_error(t->sup));
    else
	t->npending = 0;		/* written again after a failure: no harm */
    sup_batch_free(b);
    return rc < 0 ? -1 : 0;
}

/* ---------------------------------------------------------------- backoff */

/* holdoff_passed - 1 when this backoff was not written in the last seconds */
static int
holdoff_passed(struct track *t, const char *group, const char *pool, long long now)
{
    char key[600];
    size_t i, oldest = 0;

    snprintf(key, sizeof(key), "%s:%s", group, pool);
    for (i = 0; i < HOLDOFF_SLOTS; i++) {
	if (strcmp(t->holdoff[i].key, key) == 0) {
	    /* written "later" than now: the clock went back, that is no holdoff */
	    if (now >= t->holdoff[i].at && now - t->holdoff[i].at < TRACK_BACKOFF_HOLDOFF)
		return 0;
	    t->holdoff[i].at = now;
	    return 1;
	}
	if (t->holdoff[i].at < t->holdoff[oldest].at)
	    oldest = i;
    }
    snprintf(t->holdoff[oldest].key, sizeof(t->holdoff[oldest].key), "%s", key);
    t->holdoff[oldest].at = now;
    return 1;
}

/* start_backoff - write one backoff; counted and logged when Redis took it */
static int
start_backoff(struct track *t, const struct backoff_rule *r, const char *group,
	      const char *pool, const char *sender, const char *label, const char *reply,
	      long long when)
{
    if (backoff_set(t->rc, t->conf->redis.prefix, group, pool, r->duration_ms, &r->rate,
		    reply) < 0)
	return -1;
    t->counts.backoffs++;
    stats_batch_add(t->batch, when, sender, label, pool, STATS_BACKOFF, 1);
    msg_info("backoff: %s on pool %s for %llds at %ld per %llds (rule %s): %.200s",
	     group, pool, r->duration_ms / 1000, r->rate.count,
	     r->rate.period_ms / 1000, r->origin, reply);
    return 0;
}

/* keep_backoff - Redis is away: the backoff waits (the latest per provider and pool) */
static void
keep_backoff(struct track *t, const struct backoff_rule *r, const char *group,
	     const char *pool, const char *sender, const char *label, const char *reply,
	     long long when)
{
    struct pending_backoff *b;
    size_t i;

    for (i = 0; i < t->nbackoff; i++)
	if (strcmp(t->backoff[i].group, group) == 0 && strcmp(t->backoff[i].pool, pool) == 0)
	    break;
    if (i == HOLDOFF_SLOTS) {
	msg_error("backoff: %s on pool %s not started: %d backoffs wait for Redis",
		  group, pool, HOLDOFF_SLOTS);
	return;
    }
    if (i == t->nbackoff)
	t->nbackoff++;
    b = &t->backoff[i];
    b->rule = *r;
    snprintf(b->group, sizeof(b->group), "%s", group);
    snprintf(b->pool, sizeof(b->pool), "%s", pool);
    snprintf(b->sender, sizeof(b->sender), "%s", sender);
    snprintf(b->label, sizeof(b->label), "%s", label);
    snprintf(b->reply, sizeof(b->reply), "%s", reply);
    b->when = when;
}

/* flush_backoffs - the backoffs that waited for Redis; what fails waits on */
static int
flush_backoffs(struct track *t)
{
    size_t i;

    for (i = 0; i < t->nbackoff; i++) {
	struct pending_backoff *b = &t->backoff[i];

	if (start_backoff(t, &b->rule, b->group, b->pool, b->sender, b->label, b->reply,
			  b->when) < 0) {
	    memmove(t->backoff, t->backoff + i, (t->nbackoff - i) * sizeof(*t->backoff));
	    t->nbackoff -= i;
	    return -1;
	}
    }
    t->nbackoff = 0;
    return 0;
}

/* check_backoff - a deferral that asks us to slow down */
static void
check_backoff(struct track *t, const struct ml_event *ev, const char *group,
	      const char *sender, const char *provider_label, const char *pool,
	      const char *reply, long long when, long long now)
{
    const struct backoff_rule *r = backoff_match(t->rules, group, ev->dsn, reply);

    if (r == NULL || !holdoff_passed(t, group, pool, now))
	return;
    if (start_backoff(t, r, group, pool, sender, provider_label, reply, when) < 0)
	keep_backoff(t, r, group, pool, sender, provider_label, reply, when);
}

/* ---------------------------------------------------------------- lines */

/*
 * acts_not - a deferral or bounce too old to act on: counted, and said once
 * a run, so that an operator replaying an old log knows why nothing happened
 */
static void
acts_not(struct track *t, const struct ml_event *ev, const char *rcpt)
{
    if (t->counts.too_old++ == 0)
	msg_info("%s: %s to %s is older than [logd] max_line_age (%llds): counted in "
		 "the statistics, but old lines start no backoff and suppress no one",
		 ev->qid, maillog_status_name(ev->status), rcpt, t->max_age);
}

/* add_event - one entry of the event stream */
static void
add_event(struct track *t, const struct ml_event *ev, const char *rcpt, long long when,
	  const char *sender, const char *provider, const char *pool,
	  const char *reason, const char *reply)
{
    char ts[32], delay[32], relay[350];
    const char *f[24];
    int n = 0;

    snprintf(ts, sizeof(ts), "%lld", when);
    if (ev->delay >= 0)
	snprintf(delay, sizeof(delay), "%.2f", ev->delay);
    else
	delay[0] = '\0';
    snprintf(relay, sizeof(relay), "%s%s%s%s", ev->relay_host, ev->relay_ip[0] ? "[" : "",
	     ev->relay_ip, ev->relay_ip[0] ? "]" : "");
#define F(k, v) (f[n++] = (k), f[n++] = (v))
    F("time", ts);
    F("qid", ev->qid);
    F("rcpt", rcpt);
    F("sender", sender);
    F("relay", relay);
    F("provider", provider);
    F("pool", pool);
    F("status", maillog_status_name(ev->status));
    F("dsn", ev->dsn);
    F("delay", delay);
    F("reason", reason);
    F("reply", reply);
#undef F
    stats_batch_event(t->batch, n / 2, f);
}

/*
 * count_blocklist - a blocked bounce whose reply names a blocklist counts
 * as "blocked.LIST" (LIST: the [blocklist NAME] it names, or "other")
 */
static void
count_blocklist(struct track *t, int reason, const char *reply, long long when,
		const char *sender, const char *provider, const char *pool)
{
    char counter[STATS_NAME_MAX];
    struct blname b;

    if (reason != BR_BLOCKED || !blname_find(reply, strlen(reply), &b))
	return;
    snprintf(counter, sizeof(counter), "%s%s", STATS_BLOCKED_PREFIX, blname_list(&t->conf->blocklists, &b));
    stats_batch_add(t->batch, when, sender, provider, pool, counter, 1);
}

/*
 * tenant_event - the event of one recipient for its tenant's stream; the
 * queue id, recipient, status and time name it, so that a line read again
 * after a restart writes nothing twice (events(3))
 */
static void
tenant_event(struct track *t, const struct ml_event *ev, const char *rcpt,
	     long long when, const char *sender, const char *provider, const char *pool,
	     const char *reason, const char *class, const char *reply)
{
    static const char *const type[] = {
	[ML_SENT] = EV_DELIVERED, [ML_DEFERRED] = EV_DEFERRED,
	[ML_BOUNCED] = EV_BOUNCED, [ML_EXPIRED_STATUS] = EV_EXPIRED,
    };
    struct ev_record e;
    char once[600];

    if (ev->status < ML_SENT || ev->status > ML_EXPIRED_STATUS)
	return;
    memset(&e, 0, sizeof(e));
    e.type = type[ev->status];
    e.time = when * 1000;
    e.rcpt = rcpt;
    e.sender = sender;
    e.msgid = ev->qid;
    e.qid = ev->qid;
    e.provider = provider;
    e.pool = pool;
    e.reason = reason;
    e.class = class;
    e.dsn = ev->dsn;
    e.reply = reply;
    snprintf(once, sizeof(once), "log:%s:%s:%s:%lld", ev->qid, rcpt, e.type, when);
    e.once = once;
    (void) events_batch_add(t->events, &e);
}

/* one_delivery - the record of one recipient of a delivery line */
static void
one_delivery(struct track *t, const struct ml_event *ev, struct qent *q,
	     const char *rcpt, long long when, long long now, int old, int tls)
{
    char rdom[256];
    const char *sender = q ? q->sender : "";
    const char *provider, *pool, *group, *label, *reply, *reason = "", *class = NULL;
    char replybuf[ML_TEXT_MAX];
    size_t rlen;

    sender_domain(rcpt, rdom, sizeof(rdom));
    provider = route_provider(t->providers, ev->relay_host, rdom);
    pool = route_pool(t->conf, ev->service);
    label = provider ? provider : "other";
    group = provider ? provider : rdom;
    reply = maillog_reply(ev, &rlen);
    snprintf(replybuf, sizeof(replybuf), "%.*s", (int) rlen, reply);
    t->counts.deliveries++;
    switch (ev->status) {
    case ML_SENT:
	stats_batch_add(t->batch, when, sender, label, pool, STATS_DELIVERED, 1);
	/* over SMTP or LMTP on TCP, not local ("host[private/dovecot-lmtp]") */
	if (ev->relay_ip[0] && strchr(ev->relay_ip, '/') == NULL)
	    stats_batch_add(t->batch, when, sender, label, pool, tlssess_counter(tls), 1);
	break;
    case ML_DEFERRED:
	stats_batch_add(t->batch, when, sender, label, pool, STATS_DEFERRED, 1);
	if (q) {
	    /* kept for a tenant's "expired" events only: a few, of a few messages */
	    if (q->ndeferred < TRACK_MAX_DEFERRED
		&& conf_tenant_of_domain(t->conf, q->sender) != NULL) {
		q->deferred = xreallocarray(q->deferred, (size_t) q->ndeferred + 1,
					    sizeof(*q->deferred));
		q->deferred[q->ndeferred] = xstrdup(rcpt);
	    }
	    q->ndeferred++;
	    snprintf(q->provider, sizeof(q->provider), "%s", label);
	    snprintf(q->pool, sizeof(q->pool), "%s", pool);
	}
	if (old)
	    acts_not(t, ev, rcpt);
	else
	    check_backoff(t, ev, group, sender, label, pool, replybuf, when, now);
	break;
    case ML_BOUNCED:{
	    int hard, r = classify(ev, replybuf, &hard);
	    char counter[64];

	    reason = bounce_reason_name(r);
	    snprintf(counter, sizeof(counter), "%s%s", STATS_REASON_PREFIX, reason);
	    stats_batch_add(t->batch, when, sender, label, pool, STATS_BOUNCED, 1);
	    stats_batch_add(t->batch, when, sender, label, pool,
			    hard ? STATS_BOUNCED_HARD : STATS_BOUNCED_SOFT, 1);
	    stats_batch_add(t->batch, when, sender, label, pool, counter, 1);
	    class = hard ? "hard" : "soft";
	    count_blocklist(t, r, replybuf, when, sender, label, pool);
	    if (old)
		acts_not(t, ev, rcpt);
	    else if (hard)
		track_suppress(t, rcpt, sender, reason, when);
	    else
		track_soft(t, ev, rcpt, sender, label, when);
	    break;
	}
    case ML_EXPIRED_STATUS:
	stats_batch_add(t->batch, when, sender, label, pool, STATS_EXPIRED, 1);
	break;
    }
    add_event(t, ev, rcpt, when, sender, label, pool, reason, replybuf);
    tenant_event(t, ev, rcpt, when, sender, label, pool, reason, class, replybuf);
}

/* on_delivery - a delivery line: each of its recipients */
static void
on_delivery(struct track *t, const struct ml_event *ev, long long when, long long now,
	    int old)
{
    struct qent *q;
    int i, tls;

    /* the hop to a content filter: its re-injected copy is the delivery */
    if (route_filter(t->conf, ev)) {
	t->counts.filter_lines++;
	return;
    }
    q = qfind(t, ev->qid);
    tls = tlssess_level(t->tls, ev);
    if (q && q->null_sender)
	return;				/* the MTA's own bounce */
    if (q == NULL)
	t->counts.no_sender += ev->nrcpt;
    if (ev->rcpt_truncated)
	msg_warn("queue id %s: more than %d recipients on one line; counted %d",
		 ev->qid, ML_MAX_RCPTS, ML_MAX_RCPTS);
    for (i = 0; i < ev->nrcpt; i++)
	one_delivery(t, ev, q, ev->rcpt[i], when, now, old, tls);
}

/* on_expired - Postfix gave up: the recipients deferred last time */
static void
on_expired(struct track *t, const struct ml_event *ev, long long when)
{
    struct qent *q = qfind(t, ev->qid);
    char dom[256];
    int n = q && q->ndeferred > 0 ? q->ndeferred : 1, i;

    envelope_domain(t, ev->sender, dom, sizeof(dom));
    if (ev->sender[0] == '\0')
	return;
    stats_batch_add(t->batch, when, dom, q && q->provider[0] ? q->provider : "other",
		    q && q->pool[0] ? q->pool : POOL_DEFAULT, STATS_EXPIRED, n);
    for (i = 0; q && q->deferred && i < q->ndeferred && i < TRACK_MAX_DEFERRED; i++) {
	struct ev_record e;
	char once[600];

	memset(&e, 0, sizeof(e));
	e.type = EV_EXPIRED;
	e.time = when * 1000;
	e.rcpt = q->deferred[i];
	e.sender = dom;
	e.msgid = ev->qid;
	e.qid = ev->qid;
	e.provider = q->provider;
	e.pool = q->pool;
	e.reason = "expired";
	e.class = "soft";
	snprintf(once, sizeof(once), "log:%s:%s:%s:%lld", ev->qid, e.rcpt, e.type, when);
	e.once = once;
	(void) events_batch_add(t->events, &e);
    }
}

/* track_line - one log line */
void
track_line(struct track *t, const char *line, size_t len, long long now)
{
    struct ml_event ev;
    struct qent *q;
    long long when;
    int kind = maillog_parse(line, len, &ev), old;

    t->counts.lines++;
    if (kind == ML_GARBAGE) {
	t->counts.garbage++;
	msg_debug("garbage line: %.*s", (int) (len > 200 ? 200 : len), line);
	return;
    }
    if (kind == ML_IGNORED) {
	t->counts.ignored++;
	return;
    }
    old = maillog_too_old(&ev.time, now, t->max_age, &when);
    switch (kind) {
    case ML_FROM:
	q = qput(t, ev.qid);
	envelope_domain(t, ev.sender, q->sender, sizeof(q->sender));
	q->null_sender = ev.sender[0] == '\0';
	qdeferred_clear(q);		/* a new attempt begins */
	break;
    case ML_DELIVERY:
	on_delivery(t, &ev, when, now, old);
	break;
    case ML_EXPIRED:
	on_expired(t, &ev, when);
	break;
    case ML_REMOVED:
	qremove(t, ev.qid);
	break;
    case ML_TLS:
	tlssess_note(t->tls, &ev);
	break;
    }
}

/* track_counts - what was read so far */
const struct track_counts *
track_counts(const struct track *t)
{
    return &t->counts;
}

/* track_free - release the queue id table */
void
track_free(struct track *t)
{
    size_t i;

    if (t == NULL)
	return;
    sup_store_free(t->sup);
    free(t->pending);
    intake_store_free(t->intake);
    intake_store_free(t->ids);
    free(t->soft);
    tlssess_free(t->tls);
    events_batch_free(t->events);
    for (i = 0; i < NBUCKETS; i++) {
	struct qent *e, *next;

	for (e = t->bucket[i]; e; e = next) {
	    next = e->next;
	    qfree(e);
	}
    }
    free(t);
}
