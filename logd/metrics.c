/*
 * metrics - what outpost-logd tells Prometheus (see metrics.h)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backoff.h"
#include "metrics.h"
#include "events.h"
#include "msg.h"
#include "pool_select.h"
#include "stats.h"
#include "xalloc.h"

/* a set of strings, each with its index in insertion order */
struct strset {
    char **key;
    size_t n;
    size_t *slot;		/* index + 1; 0: empty */
    size_t cap;			/* slots, a power of two */
};

/* one count under four labels */
struct row {
    char *sender, *provider, *pool, *counter;
    unsigned long long n;
};

struct table {
    struct row *rows;
    struct strset idx;		/* "sender|provider|pool|counter" */
};

struct metrics {
    const struct outpost_conf *conf;
    const struct provider_table *providers;
    struct strset senders;	/* the sender domains labelled by name */
    struct table node;		/* this node's counts */
};

/* the families of the cluster totals, one per counter of stats(3) */
static const struct {
    const char *counter, *family, *help;
} cluster_families[] = {
    {STATS_ACCEPTED, "outpost_cluster_accepted_total",
     "Recipients accepted by the milters of all nodes (from Redis: do not sum over nodes)."},
    {STATS_DELIVERED, "outpost_cluster_delivered_total",
     "Recipients delivered, all nodes (from Redis: do not sum over nodes)."},
    {STATS_DEFERRED, "outpost_cluster_deferred_total",
     "Delivery attempts deferred, all nodes (from Redis: do not sum over nodes)."},
    {STATS_BOUNCED, "outpost_cluster_bounced_total",
     "Recipients bounced, from logs and DSNs, all nodes (from Redis: do not sum over nodes)."},
    {STATS_BOUNCED_HARD, "outpost_cluster_bounced_hard_total",
     "Hard bounces, all nodes (from Redis: do not sum over nodes)."},
    {STATS_BOUNCED_SOFT, "outpost_cluster_bounced_soft_total",
     "Soft bounces, all nodes (from Redis: do not sum over nodes)."},
    {STATS_EXPIRED, "outpost_cluster_expired_total",
     "Recipients given up after the queue lifetime, all nodes (from Redis: do not sum over nodes)."},
    {STATS_COMPLAINTS, "outpost_cluster_complaints_total",
     "Complaint reports, all nodes (from Redis: do not sum over nodes)."},
    {STATS_UNSUBSCRIBES, "outpost_cluster_unsubscribes_total",
     "Unsubscribe requests, all nodes (from Redis: do not sum over nodes)."},
    {STATS_SUPPRESSED, "outpost_cluster_suppressed_total",
     "Recipients refused as suppressed, all nodes (from Redis: do not sum over nodes)."},
    {STATS_THROTTLED, "outpost_cluster_throttled_total",
     "Recipients deferred by a rate limit or warm-up cap, all nodes (from Redis: do not sum over nodes)."},
    {STATS_SPILLED, "outpost_cluster_spilled_total",
     "Recipients sent through an overflow pool, all nodes (from Redis: do not sum over nodes)."},
    {STATS_BACKOFF, "outpost_cluster_backoffs_total",
     "Backoffs started because a provider said slow down, all nodes (from Redis: do not sum over nodes)."},
    {STATS_OPENS, "outpost_cluster_opens_total",
     "Opens by people (outpost-httpd), all nodes (from Redis: do not sum over nodes)."},
    {STATS_OPENS_UNIQUE, "outpost_cluster_opens_unique_total",
     "Messages opened at least once by a person, all nodes (from Redis: do not sum over nodes)."},
    {STATS_OPENS_MACHINE, "outpost_cluster_opens_machine_total",
     "Opens by image proxies and scanners, all nodes (from Redis: do not sum over nodes)."},
    {STATS_CLICKS, "outpost_cluster_clicks_total",
     "Clicks by people (outpost-httpd), all nodes (from Redis: do not sum over nodes)."},
    {STATS_CLICKS_UNIQUE, "outpost_cluster_clicks_unique_total",
     "Messages with at least one click by a person, all nodes (from Redis: do not sum over nodes)."},
    {STATS_CLICKS_MACHINE, "outpost_cluster_clicks_machine_total",
     "Clicks by link scanners, all nodes (from Redis: do not sum over nodes)."},
    {STATS_TLS_VERIFIED, "outpost_cluster_tls_verified_total",
     "Recipients delivered over TLS with a verified certificate, all nodes (from Redis: do not sum over nodes)."},
    {STATS_TLS_UNVERIFIED, "outpost_cluster_tls_unverified_total",
     "Recipients delivered over TLS without verification, all nodes (from Redis: do not sum over nodes)."},
    {STATS_TLS_NONE, "outpost_cluster_tls_none_total",
     "Recipients delivered in plaintext, all nodes (from Redis: do not sum over nodes)."},
};

#define N_CLUSTER (sizeof(cluster_families) / sizeof(cluster_families[0]))

/* ---------------------------------------------------------------- tables */

/* hash - FNV-1a */
static size_t
hash(const char *s)
{
    size_t h = 1469598103934665603ULL;

    for (; *s; s++)
	h = (h ^ (unsigned char) *s) * 1099511628211ULL;
    return h;
}

/* strset_find - the index of k, or -1 */
static long
strset_find(const struct strset *s, const char *k)
{
    size_t i;

    if (s->cap == 0)
	return -1;
    for (i = hash(k) & (s->cap - 1); s->slot[i]; i = (i + 1) & (s->cap - 1))
	if (strcmp(s->key[s->slot[i] - 1], k) == 0)
	    return (long) (s->slot[i] - 1);
    return -1;
}

/* strset_add - add k (not yet in the set); its index */
static size_t
strset_add(struct strset *s, const char *k)
{
    size_t i, j;

    if (2 * (s->n + 1) > s->cap) {
	size_t cap = s->cap ? 2 * s->cap : 64;

	free(s->slot);
	s->slot = xcalloc(cap, sizeof(*s->slot));
	s->cap = cap;
	for (j = 0; j < s->n; j++) {
	    for (i = hash(s->key[j]) & (cap - 1); s->slot[i]; i = (i + 1) & (cap - 1))
		;
	    s->slot[i] = j + 1;
	}
    }
    s->key = xreallocarray(s->key, s->n + 1, sizeof(*s->key));
    s->key[s->n] = xstrdup(k);
    for (i = hash(k) & (s->cap - 1); s->slot[i]; i = (i + 1) & (s->cap - 1))
	;
    s->slot[i] = s->n + 1;
    return s->n++;
}

/* strset_free - release the set */
static void
strset_free(struct strset *s)
{
    size_t i;

    for (i = 0; i < s->n; i++)
	free(s->key[i]);
    free(s->key);
    free(s->slot);
    memset(s, 0, sizeof(*s));
}

/* table_add - add n under these labels */
static void
table_add(struct table *t, const char *sender, const char *provider, const char *pool,
	  const char *counter, unsigned long long n)
{
    char key[4 * STATS_NAME_MAX + 4];
    long i;

    snprintf(key, sizeof(key), "%s|%s|%s|%s", sender, provider, pool, counter);
    if ((i = strset_find(&t->idx, key)) < 0) {
	i = (long) strset_add(&t->idx, key);
	t->rows = xreallocarray(t->rows, t->idx.n, sizeof(*t->rows));
	t->rows[i].sender = xstrdup(sender);
	t->rows[i].provider = xstrdup(provider);
	t->rows[i].pool = xstrdup(pool);
	t->rows[i].counter = xstrdup(counter);
	t->rows[i].n = 0;
    }
    t->rows[i].n += n;
}

/* table_free - release the rows */
static void
table_free(struct table *t)
{
    size_t i;

    for (i = 0; i < t->idx.n; i++) {
	free(t->rows[i].sender);
	free(t->rows[i].provider);
	free(t->rows[i].pool);
	free(t->rows[i].counter);
    }
    free(t->rows);
    t->rows = NULL;
    strset_free(&t->idx);
}

/* ---------------------------------------------------------------- labels */

/* provider_label - a provider of the table, or "other" */
static const char *
provider_label(const struct metrics *m, const char *provider)
{
    return provider_by_name(m->providers, provider) >= 0 ? provider : "other";
}

/* pool_label - a configured pool, "default", or "other" */
static const char *
pool_label(const struct metrics *m, const char *pool)
{
    return strcmp(pool, POOL_DEFAULT) == 0 || conf_pool_find(m->conf, pool) ? pool : "other";
}

/* sender_label - the sender domain, while there is room for its name */
static const char *
sender_label(struct metrics *m, const char *sender)
{
    if (*sender == '\0')
	return "-";
    if (strset_find(&m->senders, sender) >= 0)
	return sender;
    if (m->senders.n >= (size_t) m->conf->logd.metrics_max_senders
	|| strcmp(sender, "other") == 0)
	return "other";
    strset_add(&m->senders, sender);
    return sender;
}

/* ---------------------------------------------------------------- this node */

/* metrics_new - no counts yet */
struct metrics *
metrics_new(const struct outpost_conf *conf, const struct provider_table *providers)
{
    struct metrics *m = xcalloc(1, sizeof(*m));

    m->conf = conf;
    m->providers = providers;
    return m;
}

/* metrics_tap - one increment that track(3) adds to its batch */
void
metrics_tap(const char *sender, const char *provider, const char *pool,
	    const char *counter, long long n, void *arg)
{
    struct metrics *m = arg;

    if (n <= 0)
	return;
    table_add(&m->node, sender_label(m, sender ? sender : ""),
	      provider_label(m, provider ? provider : ""), pool_label(m, pool ? pool : ""),
	      counter, (unsigned long long) n);
}

/* is_reason - a row of a bounce reason */
static int
is_reason(const struct row *r)
{
    return strncmp(r->counter, STATS_REASON_PREFIX, strlen(STATS_REASON_PREFIX)) == 0;
}

/* node_deliveries - deliveries by outcome, bounces by class */
static void
node_deliveries(struct prom *p, const struct table *t)
{
    static const char *const outcomes[] = {STATS_DELIVERED, STATS_DEFERRED, STATS_BOUNCED,
	STATS_EXPIRED, NULL};
    static const char *const tls[] = {STATS_TLS_VERIFIED, STATS_TLS_UNVERIFIED,
	STATS_TLS_NONE};
    size_t i;
    int k;

    prom_family(p, "outpost_logd_deliveries_total", PROM_COUNTER,
		"Recipients by delivery outcome read from this node's mail log since the "
		"start (delivered, deferred: each attempt, bounced, expired).");
    for (k = 0; outcomes[k]; k++)
	for (i = 0; i < t->idx.n; i++)
	    if (strcmp(t->rows[i].counter, outcomes[k]) == 0)
		prom_counter(p, (const char *[]) {"sender", t->rows[i].sender,
			     "provider", t->rows[i].provider, "pool", t->rows[i].pool,
			     "outcome", outcomes[k], NULL}, t->rows[i].n);
    prom_family(p, "outpost_logd_bounces_total", PROM_COUNTER,
		"Bounces read from this node's mail log since the start, hard or soft.");
    for (k = 0; k < 2; k++)
	for (i = 0; i < t->idx.n; i++)
	    if (strcmp(t->rows[i].counter, k ? STATS_BOUNCED_SOFT : STATS_BOUNCED_HARD) == 0)
		prom_counter(p, (const char *[]) {"sender", t->rows[i].sender,
			     "provider", t->rows[i].provider, "pool", t->rows[i].pool,
			     "class", k ? "soft" : "hard", NULL}, t->rows[i].n);
    prom_family(p, "outpost_logd_tls_deliveries_total", PROM_COUNTER,
		"Recipients delivered, read from this node's mail log since the start, by "
		"the TLS of their session: verified, unverified or none (plaintext).");
    for (k = 0; k < 3; k++)
	for (i = 0; i < t->idx.n; i++)
	    if (strcmp(t->rows[i].counter, tls[k]) == 0)
		prom_counter(p, (const char *[]) {"sender", t->rows[i].sender,
			     "provider", t->rows[i].provider, "pool", t->rows[i].pool,
			     "tls", tls[k] + 4, NULL}, t->rows[i].n);
}

/* node_families - what this process counted */
static void
node_families(struct prom *p, const struct table *t, const struct track_counts *tc,
	      long long overlong)
{
    struct table agg = {0};
    size_t i;

    prom_family(p, "outpost_logd_lines_total", PROM_COUNTER,
		"Log lines read by this process, by result.");
    prom_counter(p, (const char *[]) {"result", "mail", NULL},
		 (unsigned long long) (tc->lines - tc->ignored - tc->garbage));
    prom_counter(p, (const char *[]) {"result", "ignored", NULL},
		 (unsigned long long) tc->ignored);
    prom_counter(p, (const char *[]) {"result", "garbage", NULL},
		 (unsigned long long) tc->garbage);
    prom_counter(p, (const char *[]) {"result", "overlong", NULL},
		 (unsigned long long) overlong);
    prom_family(p, "outpost_logd_filter_lines_total", PROM_COUNTER,
		"Delivery lines to a content filter ([logd] filter_relays), not counted "
		"as deliveries.");
    prom_counter(p, NULL, (unsigned long long) tc->filter_lines);
    node_deliveries(p, t);
    prom_family(p, "outpost_logd_bounce_reasons_total", PROM_COUNTER,
		"Bounces read from this node's mail log since the start, by provider and "
		"reason (the classifier's names).");
    for (i = 0; i < t->idx.n; i++)	/* summed over senders and pools */
	if (is_reason(&t->rows[i]))
	    table_add(&agg, t->rows[i].provider, t->rows[i].counter, "", "", t->rows[i].n);
    for (i = 0; i < agg.idx.n; i++)
	prom_counter(p, (const char *[]) {"provider", agg.rows[i].sender, "reason",
		     agg.rows[i].provider + strlen(STATS_REASON_PREFIX), NULL}, agg.rows[i].n);
    table_free(&agg);
    prom_family(p, "outpost_logd_backoffs_total", PROM_COUNTER,
		"Backoffs this node started since the start, because a deferral matched a "
		"backoff rule.");
    for (i = 0; i < t->idx.n; i++)	/* summed over senders */
	if (strcmp(t->rows[i].counter, STATS_BACKOFF) == 0)
	    table_add(&agg, t->rows[i].provider, t->rows[i].pool, "", "", t->rows[i].n);
    for (i = 0; i < agg.idx.n; i++)
	prom_counter(p, (const char *[]) {"provider", agg.rows[i].sender, "pool",
		     agg.rows[i].provider, NULL}, agg.rows[i].n);
    table_free(&agg);
    prom_family(p, "outpost_logd_redis_errors_total", PROM_COUNTER,
		"Redis commands of this process that got no answer.");
    prom_counter(p, NULL, rconn_failure_count());
    prom_family(p, "outpost_logd_events_lost_total", PROM_COUNTER,
		"Events not written to a tenant's stream (events(3)).");
    prom_counter(p, NULL, events_failures());
}

/* ---------------------------------------------------------------- the cluster */

struct cluster {
    struct stats_field *v;	/* the total hash */
    long long *n;
    size_t nv;
    struct table rate[2];	/* per sender: delivered, bounced, complaints */
    struct backoff_state *b;	/* backoffs in force */
    size_t nb;
    struct strset top;		/* senders labelled by name */
};

/* keep_total - one field of the total hash */
static void
keep_total(const struct stats_field *f, long long n, void *arg)
{
    struct cluster *c = arg;

    c->v = xreallocarray(c->v, c->nv + 1, sizeof(*c->v));
    c->n = xreallocarray(c->n, c->nv + 1, sizeof(*c->n));
    c->v[c->nv] = *f;
    c->n[c->nv++] = n;
}

/* keep_rate - a field of an hour, for the rates */
static void
keep_rate(const struct stats_field *f, long long n, void *arg)
{
    struct table *t = arg;
    int c = stats_counter_index(f->counter);

    if ((c == SC_DELIVERED || c == SC_BOUNCED || c == SC_COMPLAINTS) && n > 0)
	table_add(t, f->sender, "", "", f->counter, (unsigned long long) n);
}

/* keep_backoff - a backoff still in force */
static void
keep_backoff(const struct backoff_state *st, void *arg)
{
    struct cluster *c = arg;

    if (st->until <= (long long) time(NULL))
	return;
    c->b = xreallocarray(c->b, c->nb + 1, sizeof(*c->b));
    c->b[c->nb++] = *st;
}

struct volume {
    const char *sender;
    long long n;
};

/* cmp_volume - most mail first, then by name */
static int
cmp_volume(const void *a, const void *b)
{
    const struct volume *x = a, *y = b;

    if (x->n != y->n)
	return x->n > y->n ? -1 : 1;
    return strcmp(x->sender, y->sender);
}

/* choose_top - the senders with the most mail get a label of their own */
static void
choose_top(struct cluster *c, size_t max)
{
    struct strset seen = {0};
    struct volume *v = NULL;
    size_t i, nv = 0;
    long k;

    for (i = 0; i < c->nv; i++) {
	if ((k = strset_find(&seen, c->v[i].sender)) < 0) {
	    k = (long) strset_add(&seen, c->v[i].sender);
	    v = xreallocarray(v, seen.n, sizeof(*v));
	    v[k].sender = seen.key[k];
	    v[k].n = 0;
	    nv++;
	}
	v[k].n += c->n[i];
    }
    if (nv > 1)
	qsort(v, nv, sizeof(*v), cmp_volume);
    for (i = 0; i < nv && c->top.n < max; i++)
	if (strcmp(v[i].sender, "other") != 0)
	    strset_add(&c->top, v[i].sender);
    free(v);
    strset_free(&seen);
}

/* top_label - a sender of the top set, or "other" */
static const char *
top_label(const struct cluster *c, const char *sender)
{
    return strset_find(&c->top, sender) >= 0 ? sender : "other";
}

/* cluster_read - everything the cluster families need, or -1 */
static int
cluster_read(struct rconn *rc, const char *prefix, long long now, struct cluster *c)
{
    if (stats_read_total(rc, prefix, keep_total, c) < 0
	|| stats_read(rc, prefix, now - 23 * 3600, now, keep_rate, &c->rate[0]) < 0
	|| stats_read(rc, prefix, now - (7 * 24 - 1) * 3600, now, keep_rate, &c->rate[1]) < 0
	|| backoff_list(rc, prefix, keep_backoff, c) < 0)
	return -1;
    return 0;
}

/* cluster_free - release what cluster_read() gathered */
static void
cluster_free(struct cluster *c)
{
    free(c->v);
    free(c->n);
    free(c->b);
    table_free(&c->rate[0]);
    table_free(&c->rate[1]);
    strset_free(&c->top);
}

/* list_label - a [blocklist NAME] of the configuration, else "other" */
static const char *
list_label(const struct metrics *m, const char *name)
{
    size_t i;

    for (i = 0; i < m->conf->blocklists.n; i++)
	if (strcmp(CONF_VEC_AT(&m->conf->blocklists, i, struct conf_blocklist)->named.name,
		   name) == 0)
	    return name;
    return "other";
}

/* cluster_totals - one family per counter, and the reasons */
static void
cluster_totals(struct prom *p, const struct metrics *m, const struct cluster *c)
{
    struct table t = {0}, reasons = {0}, blocked = {0};
    size_t i, k;

    for (i = 0; i < c->nv; i++) {
	const struct stats_field *f = &c->v[i];
	const char *prov = provider_label(m, f->provider), *pool = pool_label(m, f->pool);

	if (c->n[i] <= 0)
	    continue;
	if (strncmp(f->counter, STATS_REASON_PREFIX, strlen(STATS_REASON_PREFIX)) == 0)
	    table_add(&reasons, prov, f->counter + strlen(STATS_REASON_PREFIX), "", "",
		      (unsigned long long) c->n[i]);
	else if (strncmp(f->counter, STATS_BLOCKED_PREFIX, strlen(STATS_BLOCKED_PREFIX)) == 0)
	    table_add(&blocked, list_label(m, f->counter + strlen(STATS_BLOCKED_PREFIX)), pool,
		      "", "", (unsigned long long) c->n[i]);
	else if (stats_counter_index(f->counter) >= 0)
	    table_add(&t, top_label(c, f->sender), prov, pool, f->counter,
		      (unsigned long long) c->n[i]);
    }
    for (k = 0; k < N_CLUSTER; k++) {
	prom_family(p, cluster_families[k].family, PROM_COUNTER, cluster_families[k].help);
	for (i = 0; i < t.idx.n; i++)
	    if (strcmp(t.rows[i].counter, cluster_families[k].counter) == 0)
		prom_counter(p, (const char *[]) {"sender", t.rows[i].sender, "provider",
			     t.rows[i].provider, "pool", t.rows[i].pool, NULL}, t.rows[i].n);
    }
    prom_family(p, "outpost_cluster_bounce_reasons_total", PROM_COUNTER,
		"Bounces by provider and reason, all nodes (from Redis: do not sum over nodes).");
    for (i = 0; i < reasons.idx.n; i++)
	prom_counter(p, (const char *[]) {"provider", reasons.rows[i].sender, "reason",
		     reasons.rows[i].provider, NULL}, reasons.rows[i].n);
    prom_family(p, "outpost_bounces_blocklisted_total", PROM_COUNTER,
		"Bounces whose wording names a DNS blocklist, by [blocklist] (other: a list "
		"not configured) and pool, all nodes (from Redis: do not sum over nodes).");
    for (i = 0; i < blocked.idx.n; i++)
	prom_counter(p, (const char *[]) {"list", blocked.rows[i].sender, "pool",
		     blocked.rows[i].provider, NULL}, blocked.rows[i].n);
    table_free(&t);
    table_free(&reasons);
    table_free(&blocked);
}

/* one label set of a gauge family, summed */
struct gsum {
    const char *a, *b;		/* sender and window, or provider and pool */
    unsigned long long delivered, bounced, complaints;
    unsigned long long n;	/* backoffs in force */
    long long until;
};

/* gsum_at - the sum of a label pair, added if new */
static struct gsum *
gsum_at(struct strset *idx, struct gsum **v, const char *a, const char *b)
{
    char key[2 * STATS_NAME_MAX + 2];
    long k;

    snprintf(key, sizeof(key), "%s|%s", a, b);
    if ((k = strset_find(idx, key)) < 0) {
	k = (long) strset_add(idx, key);
	*v = xreallocarray(*v, idx->n, sizeof(**v));
	memset(&(*v)[k], 0, sizeof(**v));
	(*v)[k].a = a;
	(*v)[k].b = b;
    }
    return &(*v)[k];
}

/* rate_lines - one ratio family over both windows */
static void
rate_lines(struct prom *p, const struct cluster *c, int complaints)
{
    static const char *const wname[2] = {"24h", "7d"};
    struct strset idx = {0};
    struct gsum *v = NULL, *g;
    size_t i;
    int w;

    prom_family(p, complaints ? "outpost_cluster_complaint_ratio"
		: "outpost_cluster_bounce_ratio", PROM_GAUGE, complaints
		? "Complaints per delivered recipient over the window, all nodes."
		: "Bounced per delivered or bounced recipient over the window, all nodes.");
    for (w = 0; w < 2; w++) {
	for (i = 0; i < c->rate[w].idx.n; i++) {
	    const struct row *r = &c->rate[w].rows[i];
	    int k = stats_counter_index(r->counter);

	    g = gsum_at(&idx, &v, top_label(c, r->sender), wname[w]);
	    if (k == SC_DELIVERED)
		g->delivered += r->n;
	    else if (k == SC_BOUNCED)
		g->bounced += r->n;
	    else
		g->complaints += r->n;
	}
    }
    for (i = 0; i < idx.n; i++) {
	g = &v[i];
	if (complaints ? g->delivered == 0 : g->delivered + g->bounced == 0)
	    continue;
	prom_gauge(p, (const char *[]) {"sender", g->a, "window", g->b, NULL}, complaints
		   ? (double) g->complaints / (double) g->delivered
		   : (double) g->bounced / (double) (g->delivered + g->bounced));
    }
    free(v);
    strset_free(&idx);
}

/* cluster_backoffs - the backoffs in force, per provider and pool */
static void
cluster_backoffs(struct prom *p, const struct metrics *m, const struct cluster *c)
{
    struct strset idx = {0};
    struct gsum *v = NULL, *g;
    size_t i;

    for (i = 0; i < c->nb; i++) {
	g = gsum_at(&idx, &v, provider_label(m, c->b[i].provider), pool_label(m, c->b[i].pool));
	g->n++;
	if (c->b[i].until > g->until)
	    g->until = c->b[i].until;
    }
    prom_family(p, "outpost_cluster_backoffs_active", PROM_GAUGE,
		"Backoffs in force, by provider (\"other\": recipient domains) and pool.");
    for (i = 0; i < idx.n; i++)
	prom_gauge(p, (const char *[]) {"provider", v[i].a, "pool", v[i].b, NULL},
		   (double) v[i].n);
    prom_family(p, "outpost_cluster_backoff_until_timestamp_seconds", PROM_GAUGE,
		"When the last backoff in force of the provider and pool ends (UNIX time).");
    for (i = 0; i < idx.n; i++)
	prom_gauge(p, (const char *[]) {"provider", v[i].a, "pool", v[i].b, NULL},
		   (double) v[i].until);
    free(v);
    strset_free(&idx);
}

/* metrics_render - the whole page; never NULL */
struct prom *
metrics_render(struct metrics *m, struct rconn *rc, const struct track_counts *tc,
	       long long overlong, long long now)
{
    struct prom *p = prom_new(m->conf->general.node);
    struct cluster c;
    int ok;

    memset(&c, 0, sizeof(c));
    node_families(p, &m->node, tc, overlong);
    ok = cluster_read(rc, m->conf->redis.prefix, now, &c) == 0;
    prom_family(p, "outpost_logd_redis_up", PROM_GAUGE,
		"1 if the outpost_cluster_* figures of this page could be read from Redis.");
    prom_gauge(p, NULL, ok ? 1 : 0);
    if (ok) {
	choose_top(&c, (size_t) m->conf->logd.metrics_max_senders);
	cluster_totals(p, m, &c);
	rate_lines(p, &c, 0);
	rate_lines(p, &c, 1);
	cluster_backoffs(p, m, &c);
    }
    cluster_free(&c);
    return p;
}

/* metrics_free - release the counts */
void
metrics_free(struct metrics *m)
{
    if (m == NULL)
	return;
    strset_free(&m->senders);
    table_free(&m->node);
    free(m);
}
