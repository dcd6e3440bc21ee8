/*
 * rcpt_check - the suppression check of each recipient (see rcpt_check.h)
 *
 * Nothing here calls libmilter: the callbacks in main.c gather what the MTA
 * says and turn the verdicts into replies.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "conf.h"
#include "metrics.h"
#include "msg.h"
#include "pool_select.h"
#include "provider.h"
#include "rcpt_check.h"
#include "redisconn.h"
#include "stats.h"
#include "suppress.h"
#include "xalloc.h"

/* One Redis connection with its store; idle ones wait in a pool. */
struct pooled {
    struct rconn *rc;
    struct sup_store *store;
    struct pooled *next;
};

static const struct outpost_conf *check_conf;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pooled *pool_idle;
static struct provider_table providers;	/* read-only once built */

/* rcpt_check_init - remember the configuration (it outlives the milter) */
void
rcpt_check_init(const struct outpost_conf *conf)
{
    char err[512];

    check_conf = conf;
    provider_table_free(&providers);
    if (provider_table_build(conf, &providers, err, sizeof(err)) < 0)
	msg_fatal("%s", err);
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
    provider_table_free(&providers);
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
	p->rc = rconn_new(&check_conf->redis);
	p->store = sup_store_new(p->rc, check_conf->redis.prefix);
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
    char addr[ADDR_MAX];
    const char *why;

    out[0] = '\0';
    if (mail_from == NULL
	|| addr_normalize(mail_from, strlen(mail_from), addr, sizeof(addr), &why) < 0)
	return;
    snprintf(out, size, "%s", addr_domain(addr));
}

/* provider_of - the provider index of a recipient; providers.n: other */
static size_t
provider_of(const char *addr)
{
    int i = provider_by_domain(&providers, addr_domain(addr));

    return i < 0 ? providers.n : (size_t) i;
}

/* pool_of - the sender's pool, as far as the milter can tell */
static const char *
pool_of(const char *auth_user, const char *sender_domain)
{
    return pool_select_name(check_conf, auth_user, sender_domain);
}

/* provider_name - the label of a provider index */
static const char *
provider_name(size_t i)
{
    return i < providers.n ? providers.v[i].name : "other";
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
count_suppressed(struct rconn *rc, const char *addr, const char *sender_domain,
		 const char *auth_user)
{
    if (!check_conf->milter.statistics)
	return;
    if (stats_incr(rc, check_conf->redis.prefix, sender_domain,
		   provider_name(provider_of(addr)), pool_of(auth_user, sender_domain),
		   STATS_SUPPRESSED, 1) < 0)
	count_lost("a suppressed recipient", addr);
}

/* rcpt_check - see the header */
enum rcpt_verdict
rcpt_check(const char *qid, const char *rcpt, const char *sender_domain,
	   const char *auth_user, struct rcpt_reply *reply)
{
    const struct conf_suppress *sc = &check_conf->suppress;
    const char *action = sc->action == CONF_SUP_DISCARD ? "discard" : "reject";
    const char *sender = sender_domain && *sender_domain ? sender_domain : "<>";
    struct sup_entry hit;
    struct pooled *p;
    char addr[ADDR_MAX], day[32];
    const char *why;
    int n;

    if (!sc->enabled)
	return RCPT_ACCEPT;
    if (addr_normalize(rcpt, strlen(rcpt), addr, sizeof(addr), &why) < 0) {
	/* the MTA accepted it; no suppression entry can name it */
	msg_debug("%s: suppress: %s: %s: not checked", qid, rcpt, why);
	return RCPT_ACCEPT;
    }
    p = pool_get();
    n = sup_check(p->store, addr, sender_domain, (long long) time(NULL), action, &hit);
    metrics_suppress_check(n < 0 ? MS_ERROR : n > 0 ? MS_SUPPRESSED : MS_CLEAN);
    if (n < 0)
	msg_warn("%s: suppress: %s from %s: %s", qid, addr, sender, sup_error(p->store));
    if (n > 0)
	count_suppressed(p->rc, addr, sender_domain, auth_user);
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
rcpt_msg_accepted(struct rcpt_msg *m, const char *rcpt)
{
    char addr[ADDR_MAX];
    const char *why;

    m->accepted++;
    if (!check_conf->milter.statistics)
	return;
    if (m->tally == NULL)
	m->tally = xcalloc(providers.n + 1, sizeof(*m->tally));
    if (addr_normalize(rcpt, strlen(rcpt), addr, sizeof(addr), &why) < 0)
	m->tally[providers.n]++;
    else
	m->tally[provider_of(addr)]++;
}

/* rcpt_msg_count - add this message's recipients to "accepted" */
void
rcpt_msg_count(struct rcpt_msg *m, const char *sender_domain, const char *auth_user)
{
    struct stats_batch *b;
    struct pooled *p;
    const char *pool;
    long long now = (long long) time(NULL);
    size_t i;

    if (m->tally == NULL || sender_domain == NULL || *sender_domain == '\0') {
	free(m->tally);
	m->tally = NULL;
	return;
    }
    pool = pool_of(auth_user, sender_domain);
    b = stats_batch_new(check_conf->redis.prefix);
    for (i = 0; i <= providers.n; i++)
	if (m->tally[i] > 0)
	    stats_batch_add(b, now, sender_domain, provider_name(i), pool,
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
rcpt_msg_drop(struct rcpt_msg *m, const char *rcpt)
{
    if (m->ndrop == m->cap) {
	m->cap = m->cap ? 2 * m->cap : 8;
	m->drop = xreallocarray(m->drop, m->cap, sizeof(*m->drop));
    }
    m->drop[m->ndrop++] = xstrdup(rcpt);
    m->accepted++;
}

/* rcpt_msg_eom - delete the dropped recipients; 1 if none is left */
int
rcpt_msg_eom(struct rcpt_msg *m, const char *qid,
	     int (*delrcpt)(void *arg, const char *rcpt), void *arg)
{
    size_t i;
    int rc;

    if (m->ndrop == 0)
	return 0;
    if (m->ndrop >= m->accepted) {
	rc = 1;				/* nobody left: discard the message */
    } else {
	rc = 0;
	for (i = 0; i < m->ndrop; i++) {
	    if (delrcpt(arg, m->drop[i]) < 0) {
		msg_warn("%s: suppress: cannot delete recipient %s", qid, m->drop[i]);
		rc = -1;
		break;
	    }
	}
    }
    for (i = 0; i < m->ndrop; i++)
	free(m->drop[i]);
    m->ndrop = 0;			/* the tally stays for rcpt_msg_count() */
    return rc;
}
