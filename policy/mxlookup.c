/*
 * mxlookup - asynchronous, cached MX lookups that name a domain's provider
 * (see mxlookup.h)
 */
#include "config.h"

#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ares.h>

#include "aresev.h"
#include "dnsq.h"
#include "monotime.h"
#include "msg.h"
#include "mxlookup.h"
#include "xalloc.h"

struct mx_waiter {
    mx_cb cb;
    void *arg;
    struct mx_waiter *next;
};

struct mx_entry {
    struct mx_entry *next;	/* hash chain */
    char *domain;
    int provider;		/* index in the current table, -1: none */
    long long expires_ms;
    int pending;		/* a query is in flight */
    struct mx_waiter *waiters;
    struct mxlookup *owner;
};

struct mxlookup {
    struct event_base *base;
    struct aresev *ares;	/* NULL until the first configuration */
    struct limits *limits;
    struct mx_entry **buckets;
    size_t nbuckets;
    size_t count;
    int destroying;
};

/* hash - FNV-1a of a domain */
static size_t
hash(const char *s)
{
    size_t h = 2166136261u;

    for (; *s; s++)
	h = (h ^ (unsigned char) *s) * 16777619u;
    return h;
}

/* mx_new - a resolver on an event loop */
struct mxlookup *
mx_new(struct event_base *base)
{
    struct mxlookup *m = xcalloc(1, sizeof(*m));

    m->base = base;
    return m;
}

/* flush - forget answers (not the lookups in flight) */
static void
flush(struct mxlookup *m)
{
    size_t i;

    for (i = 0; i < m->nbuckets; i++) {
	struct mx_entry **pp = &m->buckets[i], *e;

	while ((e = *pp) != NULL) {
	    if (e->pending) {
		pp = &e->next;
		continue;
	    }
	    *pp = e->next;
	    free(e->domain);
	    free(e);
	    m->count--;
	}
    }
}

/* mx_configure - use the providers and settings of new limits */
void
mx_configure(struct mxlookup *m, struct limits *l)
{
    const struct conf_policy *p = &l->conf->policy;

    limits_ref(l);
    limits_unref(m->limits);
    m->limits = l;
    flush(m);
    if (m->nbuckets == 0) {
	m->nbuckets = 4096;
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): a table of pointers */
	m->buckets = xcalloc(m->nbuckets, sizeof(*m->buckets));
    }
    if (m->ares == NULL)		/* else keep lookups in flight */
	m->ares = aresev_new(m->base, "mx lookup", p->mx_timeout_ms / 2, 2);
}

/* match_mx - the provider of the most preferred MX host that has one */
static int
match_mx(const struct provider_table *t, struct ares_mx_reply *mx)
{
    int best = -1, best_pref = 1 << 20;

    for (; mx; mx = mx->next) {
	int p = provider_by_mx(t, mx->host);

	if (p >= 0 && mx->priority < best_pref) {
	    best = p;
	    best_pref = mx->priority;
	}
    }
    return best;
}

/* on_answer - a lookup is done: cache it and wake its waiters */
static void
on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    struct mx_entry *e = arg;
    struct mxlookup *m;
    struct mx_waiter *w, *next;
    const struct conf_policy *p;
    struct ares_mx_reply *mx = NULL;
    long long ttl_ms;
    const char *name;

    (void) timeouts;
    m = e->owner;
    w = e->waiters;
    e->waiters = NULL;
    e->pending = 0;
    p = &m->limits->conf->policy;
    e->provider = -1;
    ttl_ms = p->mx_negative_ttl_ms;
    if (status == ARES_SUCCESS && ares_parse_mx_reply(abuf, alen, &mx) == ARES_SUCCESS) {
	long ttl = dnsq_answer_ttl(abuf, alen);

	e->provider = match_mx(&m->limits->providers, mx);
	ares_free_data(mx);
	ttl_ms = ttl < 0 ? p->mx_min_ttl_ms : ttl * 1000LL;
	if (ttl_ms < p->mx_min_ttl_ms)
	    ttl_ms = p->mx_min_ttl_ms;
	if (ttl_ms > p->mx_max_ttl_ms)
	    ttl_ms = p->mx_max_ttl_ms;
    } else if (status != ARES_ENODATA && status != ARES_ENOTFOUND) {
	msg_info("mx lookup %s: %s: the domain stands for itself", e->domain,
		 ares_strerror(status));
    }
    e->expires_ms = monotime_ms() + ttl_ms;
    name = e->provider >= 0 ? m->limits->providers.v[e->provider].name : NULL;
    msg_debug("mx lookup %s: provider %s", e->domain, name ? name : "(none)");
    for (; w; w = next) {
	next = w->next;
	if (!m->destroying)
	    w->cb(w->arg, name);
	free(w);
    }
}

/* evict - make room: expired answers first, then all answers */
static void
evict(struct mxlookup *m)
{
    long long now = monotime_ms();
    size_t i;
    int pass;

    for (pass = 0; pass < 2 && m->count >= (size_t) m->limits->conf->policy.mx_cache_size;
	 pass++) {
	for (i = 0; i < m->nbuckets; i++) {
	    struct mx_entry **pp = &m->buckets[i], *e;

	    while ((e = *pp) != NULL) {
		if (e->pending || (pass == 0 && e->expires_ms > now)) {
		    pp = &e->next;
		    continue;
		}
		*pp = e->next;
		free(e->domain);
		free(e);
		m->count--;
	    }
	}
    }
}

/* mx_lookup - the provider of a domain, now or later */
int
mx_lookup(struct mxlookup *m, const char *domain, const char **provider, mx_cb cb,
	  void *arg)
{
    size_t b = hash(domain) & (m->nbuckets - 1);
    struct mx_entry *e;
    struct mx_waiter *w;

    if (domain[0] == '[') {		/* an address literal has no MX */
	*provider = NULL;
	return 1;
    }
    for (e = m->buckets[b]; e; e = e->next)
	if (strcmp(e->domain, domain) == 0)
	    break;
    if (e && !e->pending && e->expires_ms > monotime_ms()) {
	*provider = e->provider >= 0 ? m->limits->providers.v[e->provider].name : NULL;
	return 1;
    }
    if (e == NULL) {
	if (m->count >= (size_t) m->limits->conf->policy.mx_cache_size)
	    evict(m);
	e = xcalloc(1, sizeof(*e));
	e->domain = xstrdup(domain);
	e->next = m->buckets[b];
	m->buckets[b] = e;
	m->count++;
    }
    w = xmalloc(sizeof(*w));
    w->cb = cb;
    w->arg = arg;
    w->next = e->waiters;
    e->waiters = w;
    if (e->pending)
	return 0;			/* one lookup serves them all */
    e->pending = 1;
    e->owner = m;
    ares_query(aresev_channel(m->ares), domain, ns_c_in, ns_t_mx, on_answer, e);
    return 0;
}

/* mx_free - stop the resolver and forget everything */
void
mx_free(struct mxlookup *m)
{
    m->destroying = 1;
    aresev_free(m->ares);
    m->count = 0;
    flush(m);
    free(m->buckets);
    limits_unref(m->limits);
    free(m);
}
