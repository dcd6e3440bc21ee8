/*
 * rcpt_check - the suppression check of each recipient (see rcpt_check.h)
 *
 * Nothing here calls libmilter: the callbacks in filter.c gather what the MTA
 * says and turn the verdicts into replies.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "addr.h"
#include "conf.h"
#include "events.h"
#include "metrics.h"
#include "msg.h"
#include "provider.h"
#include "rcpt_check.h"
#include "recipient.h"
#include "redisconn.h"
#include "settings.h"
#include "stats.h"
#include "suppress.h"
#include "xalloc.h"

/* One Redis connection with its store; idle ones wait in a pool. */
struct pooled {
    struct rconn *rc;
    struct sup_store *store;
    struct pooled *next;
};

static const struct outpost_conf *redis_conf;	/* [redis]: read at start only */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pooled *pool_idle;

/* rcpt_check_init - remember the [redis] settings (they outlive the milter) */
void
rcpt_check_init(const struct outpost_conf *conf)
{
    redis_conf = conf;
}

/* rcpt_check_shutdown - close the idle connections */
void
rcpt_check_shutdown(void)
{
    struct pooled *p;

    pthread_mutex_lock(&pool_lock);
    while ((p = pool_idle) != NULL) {
	pool_idle = p->next;
	sup_store_free(p->store);
	rconn_free(p->rc);
	free(p);
    }
    pthread_mutex_unlock(&pool_lock);
}

/* pool_get - an idle connection, or a new one */
static struct pooled *
pool_get(void)
{
    struct pooled *p;

    pthread_mutex_lock(&pool_lock);
    if ((p = pool_idle) != NULL)
	pool_idle = p->next;
    pthread_mutex_unlock(&pool_lock);
    if (p == NULL) {
	p = xcalloc(1, sizeof(*p));
	p->rc = rconn_new(&redis_conf->redis);
	p->store = sup_store_new(p->rc, redis_conf->redis.prefix);
    }
    return p;
}

/* pool_put - give a connection back */
static void
pool_put(struct pooled *p)
{
    pthread_mutex_lock(&pool_lock);
    p->next = pool_idle;
    pool_idle = p;
    pthread_mutex_unlock(&pool_lock);
}

/* rcpt_sender_domain - the domain of MAIL FROM, "" for <> */
void
rcpt_sender_domain(const char *mail_from, char *out, size_t size)
{
    char dom[DOMAIN_MAX];
    const char *why;

    out[0] = '\0';
    /* a local part over 64 octets (VERP) must not lose the domain's scopes */
    if (mail_from == NULL
	|| addr_domain_normalize(mail_from, strlen(mail_from), dom, sizeof(dom), &why) < 0)
	return;
    snprintf(out, size, "%s", dom);
}

/* provider_name - the label of a provider index; providers.n: other */
static const char *
provider_name(const struct settings *set, size_t i)
{
    return i < set->providers.n ? set->providers.v[i].name : "other";
}

/*
 * count_lost - a count did not reach Redis.  Logged at most once a minute:
 * with Redis down, every message would say it again.
 */
static void
count_lost(const char *what, const char *who)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static time_t last;
    static long lost;
    time_t now = time(NULL);
    long n = 0;

    pthread_mutex_lock(&lock);
    lost++;
    if (now - last >= 60) {
	n = lost;
	lost = 0;
	last = now;
    }
    pthread_mutex_unlock(&lock);
    if (n > 0)
	msg_warn("statistics: %s (%s) not counted: Redis unavailable "
		 "(%ld count%s lost since the last warning)", what, who, n, n == 1 ? "" : "s");
}

/* count_suppressed - one more suppressed recipient in the hourly statistics */
static void
count_suppressed(const struct settings *set, struct rconn *rc, const struct recipient *r,
		 const char *sender_domain)
{
    if (!set->conf->milter.statistics)
	return;
    if (stats_incr(rc, redis_conf->redis.prefix, sender_domain, r->provider_name, r->pool,
		   STATS_SUPPRESSED, 1) < 0)
	count_lost("a suppressed recipient", r->addr);
}

/* suppressed_event - the "suppressed" event of a refused or dropped recipient */
static void
suppressed_event(const struct settings *set, struct rconn *rc, const char *qid,
		 const struct recipient *r, const char *sender_domain,
		 const struct sup_entry *hit)
{
    struct ev_record e;

    if (sender_domain == NULL || conf_tenant_of_domain(set->conf, sender_domain) == NULL)
	return;
    memset(&e, 0, sizeof(e));
    e.type = EV_SUPPRESSED;
    e.rcpt = r->addr[0] ? r->addr : r->raw;
    e.sender = sender_domain;
    e.qid = strcmp(qid, "NOQUEUE") != 0 ? qid : NULL;
    e.provider = r->provider_name;
    e.pool = r->pool;
    e.reason = sup_reason_name(hit->reason);
    e.source = hit->source;
    (void) events_append(rc, set->conf, &e);
}

/* rcpt_check - see the header */
enum rcpt_verdict
rcpt_check(const char *qid, const struct settings *set, const struct recipient *r,
	   const char *sender_domain, struct rcpt_reply *reply)
{
    const struct conf_suppress *sc = &set->conf->suppress;
    const char *action = sc->action == CONF_SUP_DISCARD ? "discard" : "reject";
    const char *sender = sender_domain && *sender_domain ? sender_domain : "<>";
    const char *addr = r->addr, *target = r->addr;
    char dom[DOMAIN_MAX + 1];
    struct sup_entry hit;
    struct pooled *p;
    char day[32];
    int n;

    if (!sc->enabled)
	return RCPT_ACCEPT;
    if (addr[0] == '\0' && r->domain[0] == '\0') {
	/* the MTA accepted it; no suppression entry can name it */
	msg_debug("%s: suppress: %s: %s: not checked", qid, r->raw, r->why);
	return RCPT_ACCEPT;
    }
    if (addr[0] == '\0') {
	/* an address entry cannot name it (r->why), its domain's entries can */
	snprintf(dom, sizeof(dom), "@%s", r->domain);
	target = dom;
	addr = r->raw;
    }
    p = pool_get();
    n = sup_check(p->store, target, sender_domain, (long long) time(NULL), action, &hit);
    metrics_suppress_check(n < 0 ? MS_ERROR : n > 0 ? MS_SUPPRESSED : MS_CLEAN);
    if (n < 0)
	msg_warn("%s: suppress: %s from %s: %s", qid, addr, sender, sup_error(p->store));
    if (n > 0) {
	count_suppressed(set, p->rc, r, sender_domain);
	suppressed_event(set, p->rc, qid, r, sender_domain, &hit);
    }
    pool_put(p);

    if (n < 0 && sc->on_redis_error == CONF_ON_ERROR_ACCEPT) {
	metrics_fail_open(MF_SUPPRESS);
	msg_warn("%s: suppress: FAIL-OPEN: %s from %s accepted UNCHECKED "
		 "([suppress] on_redis_error = accept)", qid, addr, sender);
	return RCPT_ACCEPT;
    }
    if (n < 0) {
	reply->rcode = "451";
	reply->xcode = "4.3.0";
	snprintf(reply->text, sizeof(reply->text),
		 "suppression list unavailable, try again later");
	return RCPT_TEMPFAIL;
    }
    if (n == 0) {
	msg_debug("%s: suppress: %s from %s: not suppressed", qid, addr, sender);
	return RCPT_ACCEPT;
    }
    metrics_refused(sc->action == CONF_SUP_DISCARD);
    sup_time_format(hit.created, day, sizeof(day));
    day[10] = '\0';			/* the date is enough */
    msg_info("%s: suppress: %s from %s: %s (%s, scope %s, since %s, source %s)",
	     qid, addr, sender, sc->action == CONF_SUP_DISCARD ? "dropped" : "rejected",
	     sup_reason_name(hit.reason), hit.scope[0] ? hit.scope : "global", day,
	     hit.source[0] ? hit.source : "-");
    if (sc->action == CONF_SUP_DISCARD)
	return RCPT_DROP;
    reply->rcode = "550";
    reply->xcode = "5.7.1";
    /* no address in the text: a '%' in it would upset libmilter */
    snprintf(reply->text, sizeof(reply->text), "recipient suppressed (%s%s since %s)",
	     hit.target[0] == '@' ? "domain, " : "", sup_reason_name(hit.reason), day);
    return RCPT_REJECT;
}

/* rcpt_msg_reset - forget the recipients of the last message */
void
rcpt_msg_reset(struct rcpt_msg *m)
{
    size_t i;

    for (i = 0; i < m->ndrop; i++)
	free(m->drop[i]);
    free(m->drop);
    for (i = 0; i < m->nacc; i++)
	free(m->acc[i].addr);
    free(m->acc);
    free(m->tally);
    memset(m, 0, sizeof(*m));
}

/* rcpt_msg_keep - a recipient that stays, but is not outgoing mail (not counted) */
void
rcpt_msg_keep(struct rcpt_msg *m)
{
    m->accepted++;
}

/* rcpt_msg_accepted - one more recipient accepted, counted by provider */
void
rcpt_msg_accepted(struct rcpt_msg *m, const struct settings *set, const struct recipient *r)
{
    m->accepted++;
    m->pool = r->pool;
    if (r->addr[0] && set->conf->tenants.n > 0) {
	if (m->nacc == m->cap_acc) {
	    m->cap_acc = m->cap_acc ? 2 * m->cap_acc : 8;
	    m->acc = xreallocarray(m->acc, m->cap_acc, sizeof(*m->acc));
	}
	m->acc[m->nacc].addr = xstrdup(r->addr);
	m->acc[m->nacc++].provider = r->provider;
    }
    if (!set->conf->milter.statistics)
	return;
    if (m->tally == NULL)
	m->tally = xcalloc(set->providers.n + 1, sizeof(*m->tally));
    m->tally[r->provider]++;
}

/* field_copy - a header field's value, unfolded, without spaces around */
static void
field_copy(char *out, size_t size, const char *v)
{
    size_t n = 0;

    while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
	v++;
    for (; *v && n + 1 < size; v++)
	if (*v != '\r' && *v != '\n')
	    out[n++] = *v;
    while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
	n--;
    out[n] = '\0';
}

/* rcpt_msg_header - keep the Message-ID and the campaign for the events */
void
rcpt_msg_header(struct rcpt_msg *m, const struct settings *set, const char *name,
		const char *value)
{
    const char *ch = set->conf->milter.campaign_header;

    if (set->conf->tenants.n == 0)
	return;
    if (m->msgid[0] == '\0' && strcasecmp(name, "Message-ID") == 0)
	field_copy(m->msgid, sizeof(m->msgid), value);
    else if (m->campaign[0] == '\0' && ch && strcasecmp(name, ch) == 0)
	field_copy(m->campaign, sizeof(m->campaign), value);
}

/* accepted_events - one "accepted" event per recipient, in one round trip */
static void
accepted_events(struct rcpt_msg *m, const struct settings *set, const char *sender_domain,
		const char *qid)
{
    struct events_batch *b;
    struct pooled *p;
    struct ev_record e;
    char once[600];
    size_t i;

    if (m->nacc == 0 || conf_tenant_of_domain(set->conf, sender_domain) == NULL)
	return;
    b = events_batch_new(set->conf);
    memset(&e, 0, sizeof(e));
    e.type = EV_ACCEPTED;
    e.sender = sender_domain;
    e.qid = qid;
    e.msgid = m->msgid[0] ? m->msgid : qid;
    e.campaign = m->campaign;
    e.pool = m->pool;
    for (i = 0; i < m->nacc; i++) {
	e.rcpt = m->acc[i].addr;
	e.provider = provider_name(set, m->acc[i].provider);
	snprintf(once, sizeof(once), "accepted:%s:%s", qid, e.rcpt);
	e.once = once;
	(void) events_batch_add(b, &e);
    }
    p = pool_get();
    (void) events_batch_flush(b, p->rc);	/* what failed is counted when freed */
    pool_put(p);
    events_batch_free(b);
}

/* rcpt_msg_count - add this message's recipients to "accepted" */
void
rcpt_msg_count(struct rcpt_msg *m, const struct settings *set, const char *sender_domain,
	       const char *qid)
{
    struct stats_batch *b;
    struct pooled *p;
    long long now = (long long) time(NULL);
    size_t i;

    if (sender_domain && *sender_domain)
	accepted_events(m, set, sender_domain, qid);
    if (m->tally == NULL || sender_domain == NULL || *sender_domain == '\0') {
	free(m->tally);
	m->tally = NULL;
	return;
    }
    b = stats_batch_new(redis_conf->redis.prefix);
    for (i = 0; i <= set->providers.n; i++)
	if (m->tally[i] > 0)
	    stats_batch_add(b, now, sender_domain, provider_name(set, i), m->pool,
			    STATS_ACCEPTED, m->tally[i]);
    free(m->tally);
    m->tally = NULL;
    if (stats_batch_size(b) > 0) {
	p = pool_get();
	if (stats_batch_flush(b, p->rc, 0) < 0)
	    count_lost("accepted recipients", sender_domain);
	pool_put(p);
    }
    stats_batch_free(b);
}

/* rcpt_msg_drop - one more recipient accepted, to be deleted at EOM */
void
rcpt_msg_drop(struct rcpt_msg *m, const struct recipient *r)
{
    if (m->ndrop == m->cap) {
	m->cap = m->cap ? 2 * m->cap : 8;
	m->drop = xreallocarray(m->drop, m->cap, sizeof(*m->drop));
    }
    m->drop[m->ndrop++] = xstrdup(r->raw);
    m->accepted++;
}
