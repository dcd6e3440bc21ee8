/*
 * intake - bounce, complaint and unsubscribe mail, and the tagged return path
 * (see intake.h)
 *
 * Nothing here calls libmilter: filter.c gathers what the MTA says and turns
 * the verdicts into replies and actions.  Reports are rare next to outgoing
 * mail, so one Redis connection under a lock serves them and the occasional
 * SET of a long recipient's id.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/rand.h>

#include "addr.h"
#include "bounce.h"
#include "conf.h"
#include "intake.h"
#include "events.h"
#include "intake_act.h"
#include "mime.h"
#include "msg.h"
#include "parser_pool.h"
#include "provider.h"
#include "recipient.h"
#include "redisconn.h"
#include "report_digest.h"
#include "retpath.h"
#include "stats.h"
#include "verp.h"
#include "xalloc.h"

#define LOCAL_MAX 64			/* RFC 5321 local part */

/*
 * Reports read and acted on at once, each read in a parser process of its
 * own (parser_pool(3)): reading each may cost up to BOUNCE_CPU_BUDGET_MS of
 * CPU, acting on it up to BOUNCE_MAX_RCPTS calls on the one intake
 * connection, and anyone can send them; beyond this a report is answered
 * 4xx at once instead of holding a milter thread.
 */
#define INTAKE_MAX_PARSING 4

/* what intake needs of one configuration; immutable, reference counted */
struct intake_setup {
    int refs;				/* under setup_lock */
    int per_sender;			/* bounce_domain holds "%d" */
    char *bounce_domain;		/* as configured: verp_return_domain(), retpath(3) */
    char *bounce_local, *complaint_local, *unsub_local;
    struct conf_strlist complaint_addrs;	/* normalised */
    struct verp_keys *keys;
    long max_age_days;
    struct intake_rules rules;
    size_t max_size;
    int keep, rewrite;
    struct provider_table providers;
    /* a blocked bounce naming a blocklist: counted under a list and pool */
    struct conf_vec blocklists;		/* struct conf_blocklist *: name, zone, kind */
    struct conf_vec pools;		/* struct conf_pool *: name, addresses */
    char *node, *relay_hostname;	/* our names: a DSN we made ourselves */
};

/* what one report says about whom */
struct attrib {
    char rcpt[ADDR_MAX];		/* "" : the report names them */
    char sender[DOMAIN_MAX];		/* "" : unknown */
};

static pthread_mutex_t setup_lock = PTHREAD_MUTEX_INITIALIZER;

static pthread_mutex_t redis_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct outpost_conf *redis_conf;
static struct rconn *conn;
static struct intake_store *store;

static struct intake_stats stats;

static int handling;			/* reports being read or acted on now */

#define COUNT(f) __atomic_fetch_add(&stats.f, 1, __ATOMIC_RELAXED)

/* ---------------------------------------------------------------- setup */

/* intake_init - the Redis settings (the first configuration outlives us) */
void
intake_init(const struct outpost_conf *conf)
{
    redis_conf = conf;
    parser_pool_init(INTAKE_MAX_PARSING);
}

/* vec_push - one more element */
static void
vec_push(struct conf_vec *v, void *e)
{
    v->v = xreallocarray(v->v, v->n + 1, sizeof(*v->v));
    v->v[v->n++] = e;
}

/* copy_lists - the blocklists, pools and names a blocked bounce is counted by */
static void
copy_lists(struct intake_setup *is, const struct outpost_conf *conf)
{
    size_t i, k;

    for (i = 0; i < conf->blocklists.n; i++) {
	const struct conf_blocklist *b = CONF_VEC_AT(&conf->blocklists, i, struct conf_blocklist);
	struct conf_blocklist *c = xcalloc(1, sizeof(*c));

	c->named.name = xstrdup(b->named.name);
	c->zone = xstrdup(b->zone);
	c->kind = b->kind;
	vec_push(&is->blocklists, c);
    }
    for (i = 0; i < conf->pools.n; i++) {
	const struct conf_pool *p = CONF_VEC_AT(&conf->pools, i, struct conf_pool);
	struct conf_pool *c = xcalloc(1, sizeof(*c));

	c->named.name = xstrdup(p->named.name);
	for (k = 0; k < p->addresses.n; k++)
	    conf_strlist_add(&c->addresses, p->addresses.v[k], strlen(p->addresses.v[k]));
	vec_push(&is->pools, c);
    }
    is->node = xstrdup(conf->general.node);
    is->relay_hostname = conf->dns.relay_hostname ? xstrdup(conf->dns.relay_hostname) : NULL;
}

/* free_lists - release what copy_lists() made */
static void
free_lists(struct intake_setup *is)
{
    size_t i;

    for (i = 0; i < is->blocklists.n; i++) {
	struct conf_blocklist *c = is->blocklists.v[i];

	free(c->named.name);
	free(c->zone);
	free(c);
    }
    for (i = 0; i < is->pools.n; i++) {
	struct conf_pool *c = is->pools.v[i];

	free(c->named.name);
	conf_strlist_free(&c->addresses);
	free(c);
    }
    free(is->blocklists.v);
    free(is->pools.v);
    free(is->node);
    free(is->relay_hostname);
}

/* intake_setup_new - copy what intake needs; NULL setup when it is off */
struct intake_setup *
intake_setup_new(const struct outpost_conf *conf, uid_t owner, char *err,
		 size_t errlen)
{
    const struct conf_intake *in = &conf->intake;
    struct intake_setup *is;
    const char *why;
    char a[ADDR_MAX];
    size_t i;

    err[0] = '\0';
    if (in->bounce_domain == NULL)
	return NULL;
    is = xcalloc(1, sizeof(*is));
    is->refs = 1;
    if ((is->keys = verp_keys_load(in->secret_file, 1, owner, err, errlen)) == NULL
	|| parser_pool_check(err, errlen) < 0)
	goto fail;
    if (provider_table_build(conf, &is->providers, err, errlen) < 0)
	goto fail;
    is->per_sender = strstr(in->bounce_domain, "%d") != NULL;
    is->bounce_domain = xstrdup(in->bounce_domain);
    is->bounce_local = xstrdup(in->bounce_local);
    is->complaint_local = xstrdup(in->complaint_local);
    is->unsub_local = xstrdup(in->unsubscribe_local);
    for (i = 0; i < in->complaint_addresses.n; i++) {
	const char *v = in->complaint_addresses.v[i];

	if (addr_normalize(v, strlen(v), a, sizeof(a), &why) < 0) {
	    snprintf(err, errlen, "%s: [intake] complaint_addresses: %s: %s", conf->path, v, why);
	    goto fail;
	}
	conf_strlist_add(&is->complaint_addrs, a, strlen(a));
    }
    is->max_age_days = (long) (in->token_max_age_ms / 86400000LL);
    is->rules.soft_limit = in->soft_bounce_limit;
    is->rules.soft_window = in->soft_bounce_window_ms / 1000;
    is->rules.soft_expiry = in->soft_bounce_expiry_ms / 1000;
    /* the parser reads no more than MIME_MAX_SIZE: a larger report is not kept for it */
    is->max_size = in->max_report_size > MIME_MAX_SIZE ? MIME_MAX_SIZE
	: (size_t) in->max_report_size;
    is->keep = in->keep_reports;
    is->rewrite = in->rewrite_sender;
    copy_lists(is, conf);
    return is;
fail:
    intake_setup_unref(is);
    return NULL;
}

/* intake_setup_unref - drop a reference; free on the last */
void
intake_setup_unref(struct intake_setup *is)
{
    int last;

    if (is == NULL)
	return;
    pthread_mutex_lock(&setup_lock);
    last = --is->refs == 0;
    pthread_mutex_unlock(&setup_lock);
    if (!last)
	return;
    verp_keys_free(is->keys);
    provider_table_free(&is->providers);
    free(is->bounce_domain);
    free(is->bounce_local);
    free(is->complaint_local);
    free(is->unsub_local);
    conf_strlist_free(&is->complaint_addrs);
    free_lists(is);
    free(is);
}

/* intake_setup_rewrites - whether envelope senders may be changed */
int
intake_setup_rewrites(const struct intake_setup *is)
{
    return is != NULL && is->rewrite;
}

/* intake_shutdown - release the connection */
void
intake_shutdown(void)
{
    parser_pool_shutdown();
    pthread_mutex_lock(&redis_lock);
    intake_store_free(store);
    rconn_free(conn);
    store = NULL;
    conn = NULL;
    pthread_mutex_unlock(&redis_lock);
}

/* intake_stats_log - the counters so far */
void
intake_stats_log(void)
{
    msg_info("intake: rewritten=%lu (id=%lu domain-only=%lu) reports=%lu acted=%lu "
	     "suppressed=%lu forged=%lu stale=%lu malformed=%lu unattributed=%lu "
	     "tempfail=%lu busy=%lu over-budget=%lu truncated=%lu", stats.rewritten,
	     stats.rewritten_id, stats.rewritten_domain, stats.reports, stats.acted,
	     stats.suppressed, stats.forged, stats.stale, stats.malformed,
	     stats.unattributed, stats.tempfail, stats.busy, stats.over_budget,
	     stats.truncated);
}

/* intake_stats_get - a copy of the counters, each read whole */
void
intake_stats_get(struct intake_stats *out)
{
    const unsigned long *from = (const unsigned long *) &stats;
    unsigned long *to = (unsigned long *) out;
    size_t i;

    /* the struct holds unsigned longs only */
    for (i = 0; i < sizeof(stats) / sizeof(unsigned long); i++)
	to[i] = __atomic_load_n(&from[i], __ATOMIC_RELAXED);
}

/* redis_get - the store, under redis_lock (the caller unlocks) */
static struct intake_store *
redis_get(void)
{
    pthread_mutex_lock(&redis_lock);
    if (store == NULL) {
	if (redis_conf == NULL)
	    msg_fatal("intake: intake_init() was not called");
	conn = rconn_new(&redis_conf->redis);
	store = intake_store_new(conn, redis_conf->redis.prefix);
    }
    return store;
}

/* ---------------------------------------------------------------- addresses */

/* domain_match - is d the bounce domain? sender gets the "%d" part */
static int
domain_match(const struct intake_setup *is, const char *d, char *sender, size_t size)
{
    return retpath_domain_match(is->bounce_domain, d, sender, size);
}

/* local_is - local part equal to name, or name-SOMETHING */
static int
local_is(const char *local, size_t len, const char *name)
{
    size_t n = strlen(name);

    return len >= n && strncmp(local, name, n) == 0 && (len == n || local[n] == '-');
}

/* classify_addr - which intake address a normalised address is */
static int
classify_addr(const struct intake_setup *is, const char *a)
{
    const char *at = strrchr(a, '@');
    size_t i, ll;

    for (i = 0; i < is->complaint_addrs.n; i++)
	if (strcmp(a, is->complaint_addrs.v[i]) == 0)
	    return INTAKE_ADDR_COMPLAINT;
    if (at == NULL || !domain_match(is, at + 1, NULL, 0))
	return INTAKE_NONE;
    ll = (size_t) (at - a);
    if (local_is(a, ll, is->bounce_local))
	return INTAKE_ADDR_BOUNCE;
    if (ll == strlen(is->complaint_local) && strncmp(a, is->complaint_local, ll) == 0)
	return INTAKE_ADDR_COMPLAINT;
    if (local_is(a, ll, is->unsub_local))
	return INTAKE_ADDR_UNSUB;
    return INTAKE_NONE;
}

/* ---------------------------------------------------------------- message */

/* intake_msg_begin - a new message takes a reference to is (may be NULL) */
void
intake_msg_begin(struct intake_msg *m, struct intake_setup *is,
		 const struct outpost_conf *conf)
{
    m->conf = conf;
    pthread_mutex_lock(&setup_lock);
    if ((m->setup = is) != NULL)
	is->refs++;
    pthread_mutex_unlock(&setup_lock);
}

/* intake_msg_reset - forget the message */
void
intake_msg_reset(struct intake_msg *m)
{
    intake_setup_unref(m->setup);
    free(m->buf);
    memset(m, 0, sizeof(*m));
}

/* intake_msg_mta - the MTA's own name ({j} at connect): its DSNs say it */
void
intake_msg_mta(struct intake_msg *m, const char *name)
{
    snprintf(m->mta_name, sizeof(m->mta_name), "%s", name ? name : "");
}

/* intake_rcpt - 1 if r is an intake address (then the message is a report) */
int
intake_rcpt(struct intake_msg *m, const struct recipient *r)
{
    int kind;

    if (m->setup == NULL || r->addr[0] == '\0')
	return 0;
    if ((kind = classify_addr(m->setup, r->addr)) == INTAKE_NONE)
	return 0;
    if (m->addr_kind == INTAKE_NONE) {	/* the first one decides */
	m->addr_kind = kind;
	snprintf(m->env_rcpt, sizeof(m->env_rcpt), "%s", r->addr);
    }
    return 1;
}

/* intake_rcpt_accepted - one more recipient of outgoing mail */
void
intake_rcpt_accepted(struct intake_msg *m, const struct recipient *r)
{
    if (m->nrcpts++ == 0)
	snprintf(m->first_rcpt, sizeof(m->first_rcpt), "%s", r->addr);
}

/* intake_keeps_reports - deliver reports after reading them? */
int
intake_keeps_reports(const struct intake_msg *m)
{
    return m->setup && m->setup->keep;
}

/* intake_is_report - the message goes to an intake address */
int
intake_is_report(const struct intake_msg *m)
{
    return m->addr_kind != INTAKE_NONE;
}

/* append - collect report bytes, up to the limit */
static void
append(struct intake_msg *m, const char *p, size_t n)
{
    if (m->addr_kind == INTAKE_NONE || m->too_large)
	return;
    if (m->len + n > m->setup->max_size) {
	m->too_large = 1;
	free(m->buf);
	m->buf = NULL;
	m->len = m->cap = 0;
	return;
    }
    if (m->len + n + 1 > m->cap) {
	while (m->len + n + 1 > m->cap)
	    m->cap = m->cap ? 2 * m->cap : 16384;
	/* doubling must not take more than the cap: room for a report and its NUL */
	if (m->cap > m->setup->max_size + 1)
	    m->cap = m->setup->max_size + 1;
	m->buf = xreallocarray(m->buf, m->cap, 1);
    }
    memcpy(m->buf + m->len, p, n);
    m->len += n;
    m->buf[m->len] = '\0';
}

/* intake_header - one header field of a report */
void
intake_header(struct intake_msg *m, const char *name, const char *value, int add_space)
{
    append(m, name, strlen(name));
    append(m, add_space ? ": " : ":", add_space ? 2 : 1);
    append(m, value, strlen(value));
    append(m, "\n", 1);
}

/* intake_eoh - the blank line after the header */
void
intake_eoh(struct intake_msg *m)
{
    append(m, "\n", 1);
}

/* intake_body - a body chunk of a report */
void
intake_body(struct intake_msg *m, const unsigned char *buf, size_t len)
{
    append(m, (const char *) buf, len);
}

/* ---------------------------------------------------------------- reports */

/*
 * resolve - check the token of a tagged address (local part "NAME-TOKEN",
 * domain); fills a.  Returns VERP_* or -1 on a Redis problem.
 */
static int
resolve(const struct intake_setup *is, int kind, const char *addr,
	const char *name, long long now, struct attrib *a, const char *qid)
{
    const char *at = strrchr(addr, '@'), *tok;
    struct verp_token t;
    struct intake_store *s;
    char implied[DOMAIN_MAX];
    int st, n;

    memset(a, 0, sizeof(*a));
    if (at == NULL || !domain_match(is, at + 1, implied, sizeof(implied))
	|| !local_is(addr, (size_t) (at - addr), name) || addr[strlen(name)] != '-')
	return VERP_MALFORMED;
    tok = addr + strlen(name) + 1;
    /* with "bounces.%d" the token is bound to the domain that names its sender */
    st = verp_decode_bound(is->keys, kind, tok, (size_t) (at - tok), implied, verp_day(now),
			   is->max_age_days, &t);
    if (st != VERP_OK)
	return st;
    if (t.mode == 1) {
	s = redis_get();
	n = intake_id_get(s, t.id, a->rcpt, sizeof(a->rcpt), a->sender, sizeof(a->sender));
	if (n < 0)
	    msg_warn("%s: intake: token id lookup: %s", qid, intake_error(s));
	pthread_mutex_unlock(&redis_lock);
	if (n < 0)
	    return -1;
	if (n == 0)
	    return VERP_STALE;		/* its TTL is the token's age limit */
    } else {
	snprintf(a->rcpt, sizeof(a->rcpt), "%s", t.rcpt);
	snprintf(a->sender, sizeof(a->sender), "%s", t.sender_domain);
    }
    if (a->sender[0] == '\0')
	snprintf(a->sender, sizeof(a->sender), "%s", implied);
    return VERP_OK;
}

/* token_in_original - the tagged return path the returned original carries */
static int
token_in_original(const struct intake_setup *is, const struct report_digest *d,
		  long long now, struct attrib *a, const char *qid)
{
    int st = VERP_MALFORMED;

    if (d->r.orig_mail_from[0])
	st = resolve(is, VERP_BOUNCE, d->r.orig_mail_from, is->bounce_local, now, a, qid);
    if (st == VERP_MALFORMED && d->orig_return_path[0])
	st = resolve(is, VERP_BOUNCE, d->orig_return_path, is->bounce_local, now, a, qid);
    return st;
}

/* unsub_target - whom an unsubscribe mail without a token is about */
static void
unsub_target(const struct report_digest *d, struct attrib *a)
{
    /* "unsubscribe alice@example.org" names the address; else the sender */
    snprintf(a->rcpt, sizeof(a->rcpt), "%s", d->named_rcpt);
}

/* attribute_unsub - the recipient and sender of a mail to the unsubscribe address */
static int
attribute_unsub(const struct intake_msg *m, const struct report_digest *d,
		long long now, struct attrib *a, const char *qid)
{
    const struct intake_setup *is = m->setup;
    const char *at = strrchr(m->env_rcpt, '@');
    size_t nl = strlen(is->unsub_local);
    char dom[DOMAIN_MAX];
    const char *why;

    if (m->env_rcpt[nl] == '-') {
	const char *x = m->env_rcpt + nl + 1;

	/* unsub-shop.example@...: the sender domain, spelled out */
	if (memchr(x, '.', (size_t) (at - x))) {
	    if (domain_normalize(x, (size_t) (at - x), dom, sizeof(dom), &why) < 0)
		return VERP_MALFORMED;
	    unsub_target(d, a);
	    snprintf(a->sender, sizeof(a->sender), "%s", dom);
	    return VERP_OK;
	}
	return resolve(is, VERP_UNSUB, m->env_rcpt, is->unsub_local, now, a, qid);
    }
    unsub_target(d, a);
    domain_match(is, at + 1, a->sender, sizeof(a->sender));
    return VERP_OK;
}

/*
 * act_event - the event of an intake action for the tenant's stream (under
 * redis_lock); the report's id names it, an unsubscribe its recipient and
 * sender, so that the same report or request read twice writes one event.
 * The tenants are those of the message's configuration, not the first one:
 * a tenant added by a reload gets its events.
 */
static void
act_event(const struct outpost_conf *conf, int event, const char *rcpt,
	  const char *sender, const char *provider, const char *reason, const char *id,
	  long long now, const char *qid)
{
    static const char *const types[] = {EV_BOUNCED, EV_BOUNCED, EV_COMPLAINT, EV_UNSUBSCRIBE};
    static const char *const sources[] = {"dsn", "dsn", "fbl", "mailto"};
    struct ev_record e;
    char once[700];

    memset(&e, 0, sizeof(e));
    e.type = types[event];
    e.time = now * 1000;
    e.rcpt = rcpt;
    e.sender = sender;
    e.provider = provider;
    e.reason = event == INTAKE_UNSUBSCRIBE ? NULL : reason;
    e.class = event == INTAKE_HARD ? "hard" : event == INTAKE_SOFT ? "soft" : NULL;
    e.source = sources[event];
    if (event == INTAKE_UNSUBSCRIBE)
	snprintf(once, sizeof(once), "unsub:%s:%s", rcpt, sender);
    else
	snprintf(once, sizeof(once), "intake:%s:%s:%s", id ? id : qid, rcpt, e.type);
    e.once = once;
    (void) events_append(conn, conf, &e);
}

/* same_host - one host name, whatever the case and a trailing dot */
static int
same_host(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);

    if (la > 0 && a[la - 1] == '.')
	la--;
    if (lb > 0 && b[lb - 1] == '.')
	lb--;
    return la > 0 && la == lb && strncasecmp(a, b, la) == 0;
}

/*
 * own_dsn - a DSN this relay made itself (its Reporting-MTA is our node or
 * relay name, or the name the MTA gave itself: Postfix writes its
 * myhostname there): outpost-logd read the refusal in the log already,
 * counted it and wrote its event
 */
static int
own_dsn(const struct intake_msg *m, const struct bounce_rcpt *br)
{
    const struct intake_setup *is = m->setup;
    const char *r;

    if (br == NULL || (r = br->reporting_mta)[0] == '\0')
	return 0;
    return (is->node && same_host(r, is->node))
	|| (is->relay_hostname && same_host(r, is->relay_hostname))
	|| same_host(r, m->mta_name);
}

/*
 * logged_of - what outpost-logd did already about a recipient of a report:
 * 0 nothing (a receiver's DSN, a complaint); 1 its event (a DSN of our
 * own: the log holds the refusal); 2 the soft-bounce rule too (our own
 * DSN of a permanent refusal, status=bounced in the log, which outpost-logd
 * counts toward the rule unless [logd] suppress_hard_bounces is off:
 * counted here again, one soft bounce would weigh two in its window).  An
 * own DSN with a 4.x.x status is about a message that expired: the log
 * has no bounce to count for it.
 */
static int
logged_of(const struct intake_msg *m, const struct bounce_report *r,
	  const struct bounce_rcpt *br)
{
    if (r->kind == BOUNCE_ARF || !own_dsn(m, br))
	return 0;
    return m->conf->logd.suppress_hard_bounces && br->status[0] == '5' ? 2 : 1;
}

/* act - apply one event (its stream event too, unless logged); -1 on a Redis problem */
static int
act(const struct intake_msg *m, int event, const char *rcpt, const char *sender,
    const char *reason, const char *id, long long now, const char *qid, int logged)
{
    const struct intake_setup *is = m->setup;
    static const char *const sources[] = {"dsn", "dsn", "arf", "unsub"};
    struct intake_event ev;
    struct intake_result res;
    struct intake_store *s;
    int p, rc;

    if (event == INTAKE_SOFT && logged == 2) {
	msg_info("%s: intake: soft-bounce (%s) for %s from %s: counted by outpost-logd "
		 "from the log", qid, reason, rcpt, *sender ? sender : "-");
	return 0;
    }
    p = provider_by_domain(&is->providers, addr_domain(rcpt));
    ev.kind = event;
    ev.rcpt = rcpt;
    ev.sender_domain = sender;
    ev.provider = p >= 0 ? is->providers.v[p].name : NULL;
    ev.id = id;
    ev.source = sources[event];
    ev.now = now;
    s = redis_get();
    rc = intake_act(s, &is->rules, &ev, &res);
    if (rc < 0)
	msg_warn("%s: intake: %s for %s: %s", qid, intake_event_name(event), rcpt,
		 intake_error(s));
    else if (!logged)
	act_event(m->conf, event, rcpt, sender, ev.provider, reason, id, now, qid);
    pthread_mutex_unlock(&redis_lock);
    if (rc < 0)
	return -1;
    COUNT(acted);
    COUNT(by_event[event]);
    if (res.suppressed)
	COUNT(suppressed);
    if (event == INTAKE_SOFT)
	msg_info("%s: intake: soft-bounce (%s) for %s from %s: %ld of %ld%s", qid, reason,
		 rcpt, *sender ? sender : "-", res.soft_count, is->rules.soft_limit,
		 res.suppressed ? ": suppressed" : "");
    else
	msg_info("%s: intake: %s (%s) for %s from %s: %s", qid, intake_event_name(event),
		 reason, rcpt, *sender ? sender : "-",
		 res.suppressed ? (event == INTAKE_UNSUBSCRIBE ? "suppressed in the sender's scope"
				   : "suppressed") : "no sender domain, not suppressed");
    return 0;
}

/*
 * count_blocklist - a blocked recipient whose diagnostic names a DNS
 * blocklist counts as "blocked.LIST" under the pool whose address it names
 * ("-" when none).  A DSN this relay made itself (its Reporting-MTA is our
 * node or relay name) is not counted: outpost-logd counted the refusal in
 * the log.  A lost count is logged, never a reason to retry the report.
 */
static void
count_blocklist(const struct intake_msg *m, const struct bounce_rcpt *br, const char *rcpt,
		const char *sender, const char *qid)
{
    const struct intake_setup *is = m->setup;
    char counter[STATS_NAME_MAX];
    const char *pool, *list;
    struct blname b;
    int p;

    if (br == NULL || br->reason != BR_BLOCKED || (!br->bl_zone[0] && !br->bl_family[0]))
	return;
    if (own_dsn(m, br))
	return;
    memset(&b, 0, sizeof(b));
    snprintf(b.zone, sizeof(b.zone), "%s", br->bl_zone);
    b.family = blname_family_named(br->bl_family);
    list = blname_list(&is->blocklists, &b);
    pool = blname_pool(&is->pools, br->bl_ip);
    p = provider_by_domain(&is->providers, addr_domain(rcpt));
    snprintf(counter, sizeof(counter), "%s%s", STATS_BLOCKED_PREFIX, list);
    (void) redis_get();
    if (stats_incr(conn, redis_conf->redis.prefix, sender,
		   p >= 0 ? is->providers.v[p].name : "other", pool ? pool : "", counter, 1) < 0)
	msg_warn("%s: intake: counting %s for %s: %s", qid, counter, rcpt, rconn_error(conn));
    pthread_mutex_unlock(&redis_lock);
    msg_info("%s: intake: %s refused by blocklist %s (pool %s)", qid, rcpt, list,
	     pool ? pool : "-");
}

/* count - a non-event ("forged" ...); -1 on a Redis problem */
static int
count(const char *sender, const char *what, long long now)
{
    struct intake_store *s = redis_get();
    int rc = intake_count(s, now, sender, NULL, what);

    if (rc < 0)
	msg_warn("intake: counting %s: %s", what, intake_error(s));
    pthread_mutex_unlock(&redis_lock);
    return rc;
}

/* rcpt_find - the report's record for rcpt, else its first */
static const struct bounce_rcpt *
rcpt_find(const struct bounce_report *r, const char *rcpt)
{
    size_t i;

    for (i = 0; i < r->nrcpts; i++)
	if (strcmp(r->rcpts[i].addr, rcpt) == 0)
	    return &r->rcpts[i];
    return r->nrcpts ? &r->rcpts[0] : NULL;
}

/* act_report - the events a parsed, attributed report calls for */
static int
act_report(const struct intake_msg *m, const struct bounce_report *r,
	   const struct attrib *a, const char *id, long long now, const char *qid)
{
    const struct bounce_rcpt *br;
    int ev, acted = 0;
    size_t i;

    if (m->addr_kind == INTAKE_ADDR_UNSUB) {
	if (a->rcpt[0] == '\0')
	    return count(a->sender, "unattributed", now);
	return act(m, INTAKE_UNSUBSCRIBE, a->rcpt, a->sender, "request", id, now, qid, 0);
    }
    if (a->rcpt[0]) {
	/* the token names the one recipient: the report's verdict applies to it */
	br = rcpt_find(r, a->rcpt);
	ev = br ? intake_event_of(r->kind, br) : -1;
	if (br == NULL && r->kind == BOUNCE_ARF)
	    ev = INTAKE_COMPLAINT;
	if (ev < 0)
	    return count(a->sender, r->kind == BOUNCE_AUTOREPLY ? "autoreply" : "not-acted",
			 now);
	if (act(m, ev, a->rcpt, a->sender,
		br ? bounce_reason_name(br->reason) : "feedback", id, now, qid,
		logged_of(m, r, br)) < 0)
	    return -1;
	count_blocklist(m, br, a->rcpt, a->sender, qid);
	return 0;
    }
    /* a token for several recipients: the report names them */
    for (i = 0; i < r->nrcpts; i++) {
	br = &r->rcpts[i];
	if (br->addr[0] == '\0' || (ev = intake_event_of(r->kind, br)) < 0)
	    continue;
	if (act(m, ev, br->addr, a->sender, bounce_reason_name(br->reason), id, now, qid,
		logged_of(m, r, br)) < 0)
	    return -1;
	count_blocklist(m, br, br->addr, a->sender, qid);
	acted++;
    }
    return acted ? 0 : count(a->sender, "not-acted", now);
}

/* token_failed - log and count a token that does not hold */
static int
token_failed(const struct intake_msg *m, int st, long long now, const char *qid)
{
    if (st == VERP_FORGED)
	COUNT(forged);
    else if (st == VERP_STALE)
	COUNT(stale);
    else if (m->addr_kind == INTAKE_ADDR_BOUNCE)
	COUNT(malformed);
    else
	COUNT(unattributed);
    msg_warn("%s: intake: report to %s: %s token: nothing done", qid, m->env_rcpt,
	     m->addr_kind == INTAKE_ADDR_COMPLAINT && st == VERP_MALFORMED ? "no"
	     : verp_status_name(st));
    return count("", m->addr_kind == INTAKE_ADDR_COMPLAINT && st == VERP_MALFORMED
		 ? "unattributed" : verp_status_name(st), now);
}

/*
 * parse - read the report in a parser process: 1 read, 0 not readable
 * (counted), -1 on a Redis problem or when the parser failed, -2 when all
 * parsers are busy.  REPORT_DIGEST_PARSE in flags: the whole report, not
 * its header only.
 */
static int
parse(const struct intake_msg *m, int flags, struct report_digest *d, long long now,
      const char *qid)
{
    int rc = parser_pool_run(m->buf ? m->buf : "", m->len, flags, d, qid);

    if (rc == -2) {
	COUNT(busy);
	msg_warn("%s: intake: report to %s: %d reports are being read: try later",
		 qid, m->env_rcpt, INTAKE_MAX_PARSING);
	return -2;
    }
    if (rc < 0) {
	msg_warn("%s: intake: report to %s: the report parser failed: try later", qid,
		 m->env_rcpt);
	return -1;
    }
    if (d->readable) {
	if (d->r.truncated) {
	    COUNT(truncated);
	    msg_warn("%s: intake: report to %s names more than %d recipients: "
		     "the rest not read", qid, m->env_rcpt, BOUNCE_MAX_RCPTS);
	}
	return 1;
    }
    if (d->r.over_budget)
	COUNT(over_budget);
    msg_warn("%s: intake: report to %s: %s: not read", qid, m->env_rcpt, d->why);
    return count("", d->r.over_budget ? "over-budget" : "unreadable", now) < 0 ? -1 : 0;
}

/* handling_begin - a place among the INTAKE_MAX_PARSING; 0 when all are taken */
static int
handling_begin(void)
{
    if (__atomic_add_fetch(&handling, 1, __ATOMIC_ACQ_REL) <= INTAKE_MAX_PARSING)
	return 1;
    __atomic_sub_fetch(&handling, 1, __ATOMIC_ACQ_REL);
    return 0;
}

/* handling_end - give the place back */
static void
handling_end(void)
{
    __atomic_sub_fetch(&handling, 1, __ATOMIC_ACQ_REL);
}

/*
 * attribute - the token of the intake address, checked before the report
 * is read; a complaint's token is in the report.  VERP_*, -1 on a Redis
 * problem.
 */
static int
attribute(const struct intake_msg *m, const struct report_digest *d, long long now,
	  struct attrib *a, const char *qid)
{
    if (m->addr_kind == INTAKE_ADDR_BOUNCE)
	return resolve(m->setup, VERP_BOUNCE, m->env_rcpt, m->setup->bounce_local, now,
		       a, qid);
    if (m->addr_kind == INTAKE_ADDR_UNSUB)
	return attribute_unsub(m, d, now, a, qid);
    return VERP_OK;
}

/* tempfail - the reply that asks the sender to try again */
static enum intake_verdict
tempfail(struct intake_reply *reply, const char *xcode, const char *text)
{
    reply->rcode = "451";
    reply->xcode = xcode;
    snprintf(reply->text, sizeof(reply->text), "%s", text);
    return INTAKE_TEMPFAIL;
}

/* intake_eom - attribute, read and act on a report */
enum intake_verdict
intake_eom(struct intake_msg *m, const char *qid, struct intake_reply *reply)
{
    struct report_digest d;
    struct attrib a;
    char id[256];
    long long now = (long long) time(NULL);
    int st, rc = 0, reading = 0;

    if (m->addr_kind == INTAKE_NONE)
	return INTAKE_DONE;
    COUNT(reports);
    COUNT(by_addr[m->addr_kind]);
    memset(&d, 0, sizeof(d));
    if (m->too_large) {
	msg_warn("%s: intake: report to %s larger than [intake] max_report_size: not read",
		 qid, m->env_rcpt);
	rc = count("", "too-large", now);
	goto out;
    }
    /* an unsubscribe request is about its sender or its token, not its text */
    if (m->addr_kind == INTAKE_ADDR_UNSUB && (rc = parse(m, 0, &d, now, qid)) <= 0)
	goto read_failed;
    /* a forged or stale token costs no parsing */
    if ((st = attribute(m, &d, now, &a, qid)) < 0) {
	rc = -1;
	goto out;
    }
    if (st != VERP_OK) {
	rc = token_failed(m, st, now, qid);
	goto out;
    }
    if (m->addr_kind != INTAKE_ADDR_UNSUB) {
	/* its place among the INTAKE_MAX_PARSING is its own until out */
	if (!handling_begin()) {
	    rc = -2;
	    COUNT(busy);
	    msg_warn("%s: intake: report to %s: %d reports are being handled: try later",
		     qid, m->env_rcpt, INTAKE_MAX_PARSING);
	    goto read_failed;
	}
	reading = 1;
	if ((rc = parse(m, REPORT_DIGEST_PARSE, &d, now, qid)) <= 0)
	    goto read_failed;
    }
    if (m->addr_kind == INTAKE_ADDR_COMPLAINT
	&& (st = token_in_original(m->setup, &d, now, &a, qid)) != VERP_OK) {
	rc = st < 0 ? -1 : token_failed(m, st, now, qid);
	goto out;
    }
    snprintf(id, sizeof(id), "%s", d.message_id[0] ? d.message_id : qid);
    msg_debug("%s: intake: %s report to %s about %s from %s", qid, bounce_kind_name(d.r.kind),
	      m->env_rcpt, a.rcpt[0] ? a.rcpt : "(its recipients)", a.sender);
    rc = act_report(m, &d.r, &a, id, now, qid);
    goto out;
read_failed:
    if (rc == -2) {
	if (reading)
	    handling_end();
	return tempfail(reply, "4.3.2", "too many reports at once, try again later");
    }
out:
    if (reading)
	handling_end();
    report_digest_free(&d);
    if (rc < 0) {
	COUNT(tempfail);
	return tempfail(reply, "4.3.0", "report not processed, try again later");
    }
    return INTAKE_DONE;
}

/* ---------------------------------------------------------------- test send */

/* intake_check - the check address of outpostctl test-send (see intake.h) */
int
intake_check(const struct intake_msg *m, const char *addr, const char *sender_domain,
	     int may_sign, unsigned long long *id, const char *qid)
{
    const struct intake_setup *is = m->setup;
    const char *at = strrchr(addr, '@'), *tok;
    size_t nl = strlen(VERP_CHECK_LOCAL);
    struct verp_token t;
    int st;

    if (is == NULL || at == NULL || !domain_match(is, at + 1, NULL, 0)
	|| (size_t) (at - addr) <= nl + 1 || strncmp(addr, VERP_CHECK_LOCAL, nl) != 0
	|| addr[nl] != '-')
	return INTAKE_CHECK_NO;
    /* from our own clients it is outgoing mail: it leaves and comes back */
    if (may_sign && !(sender_domain && *sender_domain
		      && domain_match(is, sender_domain, NULL, 0)))
	return INTAKE_CHECK_NO;
    tok = addr + nl + 1;
    st = verp_decode(is->keys, VERP_CHECK, tok, (size_t) (at - tok),
		     verp_day((long long) time(NULL)), 1, &t);
    if (st == VERP_OK && t.mode != 1)
	st = VERP_MALFORMED;
    if (st != VERP_OK) {
	if (st == VERP_FORGED)
	    COUNT(forged);
	else if (st == VERP_STALE)
	    COUNT(stale);
	else
	    COUNT(malformed);
	msg_warn("%s: intake: test message to %s: %s token: not evaluated, dropped", qid,
		 addr, verp_status_name(st));
	return INTAKE_CHECK_FORGED;
    }
    *id = t.id;
    return INTAKE_CHECK_EVAL;
}

/* ---------------------------------------------------------------- senders */

/*
 * make_token - the token of one message; 0 if none fits.  sender is the
 * sender domain it names, bound the one it is bound to (the "%d" part of a
 * per-sender bounce domain, else "").
 */
static size_t
make_token(const struct intake_setup *is, const char *rcpt, const char *sender,
	   const char *bound, long long now, char *tok, size_t room, const char *qid)
{
    unsigned day = verp_day(now);
    unsigned long long id;
    struct intake_store *s;
    size_t n;
    int rc;

    if ((n = verp_encode_bound(is->keys, VERP_BOUNCE, day, rcpt, sender, bound, tok,
				 room)) > 0) {
	COUNT(rewritten);
	return n;
    }
    if (*rcpt && RAND_bytes((unsigned char *) &id, sizeof(id)) == 1) {
	s = redis_get();
	rc = intake_id_put(s, id, rcpt, sender, is->max_age_days * 86400LL);
	if (rc < 0)
	    msg_warn("%s: intake: cannot keep the token of %s: %s; the token names "
		     "the sender domain only", qid, rcpt, intake_error(s));
	pthread_mutex_unlock(&redis_lock);
	if (rc == 0
	    && (n = verp_encode_id_bound(is->keys, VERP_BOUNCE, day, id, bound, tok,
					 room)) > 0) {
	    COUNT(rewritten);
	    COUNT(rewritten_id);
	    return n;
	}
    }
    if ((n = verp_encode_bound(is->keys, VERP_BOUNCE, day, "", sender, bound, tok,
				 room)) > 0) {
	COUNT(rewritten);
	COUNT(rewritten_domain);
    }
    return n;
}

/* intake_sender - the tagged envelope sender of outgoing mail */
int
intake_sender(struct intake_msg *m, const char *sender_domain, int may_sign,
	      const char *qid, char *out, size_t size)
{
    const struct intake_setup *is = m->setup;
    char dom[DOMAIN_MAX + 64], tok[LOCAL_MAX + 1];
    const char *rcpt;
    size_t room;

    if (is == NULL || !is->rewrite || m->addr_kind != INTAKE_NONE || sender_domain == NULL
	|| *sender_domain == '\0' || domain_match(is, sender_domain, NULL, 0)
	|| m->nrcpts == 0 || !may_sign)
	return 0;
    if (verp_return_domain(is->bounce_domain, sender_domain, dom, DOMAIN_MAX) == 0)
	return 0;
    rcpt = m->nrcpts == 1 ? m->first_rcpt : "";
    room = LOCAL_MAX - strlen(is->bounce_local) - 1 + 1;
    if (make_token(is, rcpt, is->per_sender ? "" : sender_domain,
		   is->per_sender ? sender_domain : "", (long long) time(NULL), tok, room,
		   qid) == 0) {
	msg_warn("%s: intake: sender domain %s too long for a token: sender kept", qid,
		 sender_domain);
	return 0;
    }
    if ((size_t) snprintf(out, size, "%s-%s@%s", is->bounce_local, tok, dom) >= size)
	return 0;
    msg_debug("%s: intake: envelope sender %s", qid, out);
    return 1;
}

/* intake_unsub_address - the unsubscribe address a List-Unsubscribe field names */
int
intake_unsub_address(const struct intake_msg *m, const char *sender_domain, char *out,
		     size_t size)
{
    const struct intake_setup *is = m->setup;
    char dom[DOMAIN_MAX + 64], tok[LOCAL_MAX + 1];
    size_t room;
    int n = -1;

    if (is == NULL || m->addr_kind != INTAKE_NONE || sender_domain == NULL
	|| *sender_domain == '\0'
	|| verp_return_domain(is->bounce_domain, sender_domain, dom, DOMAIN_MAX) == 0)
	return 0;
    room = LOCAL_MAX - strlen(is->unsub_local) - 1 + 1;
    /* the one recipient signed in; else the mail's sender is the one who leaves */
    if (m->nrcpts == 1 && strlen(is->unsub_local) < LOCAL_MAX
	&& verp_encode_bound(is->keys, VERP_UNSUB, verp_day((long long) time(NULL)),
			     m->first_rcpt, is->per_sender ? "" : sender_domain,
			     is->per_sender ? sender_domain : "", tok, room) > 0)
	n = snprintf(out, size, "%s-%s@%s", is->unsub_local, tok, dom);
    else if (is->per_sender)
	n = snprintf(out, size, "%s@%s", is->unsub_local, dom);
    else if (strlen(is->unsub_local) + 1 + strlen(sender_domain) <= LOCAL_MAX)
	n = snprintf(out, size, "%s-%s@%s", is->unsub_local, sender_domain, dom);
    return n > 0 && (size_t) n < size;
}
