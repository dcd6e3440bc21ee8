/*
 * stats_report - the delivery statistics of a period (see stats_report.h)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "blstate.h"
#include "confval.h"
#include "jsonw.h"
#include "msg.h"
#include "redisconn.h"
#include "stats_report.h"
#include "xalloc.h"

const char *const stats_by_names[4] = {"sender", "provider", "pool", "campaign"};

/* parse_since - a duration back from now, a date or a date and hour (UTC) */
static int
parse_since(const char *s, long long now, long long *since)
{
    long long ms;
    const char *why;
    int y, m, d, h = 0, n = 0;
    struct tm tm;

    if (confval_duration(s, &ms, &why) == 0) {
	*since = now - ms / 1000;
	return 0;
    }
    if ((sscanf(s, "%4d-%2d-%2dT%2d%n", &y, &m, &d, &h, &n) == 4 && s[n] == '\0')
	|| (h = 0, sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) == 3 && s[n] == '\0')) {
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	if (m < 1 || m > 12 || d < 1 || d > 31 || h < 0 || h > 23)
	    return -1;
	*since = (long long) timegm(&tm);
	/* timegm() moves 2026-02-31 to March 3: a mistyped day, refused */
	return tm.tm_mday == d && tm.tm_mon == m - 1 ? 0 : -1;
    }
    return -1;
}

/* stats_report_init - an empty report of a period */
int
stats_report_init(struct stats_report *r, int by, const char *since, long long now,
		  const char **why)
{
    memset(r, 0, sizeof(*r));
    r->by = by;
    r->until = now;
    r->since = now - 24 * 3600;
    if (since && parse_since(since, now, &r->since) < 0) {
	*why = "since: expected a duration such as 24h or a UTC date YYYY-MM-DD[THH]";
	return -1;
    }
    if (now - r->since > (long long) STATS_MAX_HOURS * 3600) {
	r->since = now - (long long) STATS_MAX_HOURS * 3600 + 3600;
	r->clamped = 1;
    }
    snprintf(r->total.name, sizeof(r->total.name), "TOTAL");
    return 0;
}

/* name_hash - the report's keyed hash of a name (names come from outside) */
static size_t
name_hash(struct stats_report *t, const char *name)
{
    EVP_MAC_CTX *c;
    unsigned char out[8];
    size_t len = 0, h = 0, i;

    if (t->hkey == NULL) {
	unsigned char key[16];
	EVP_MAC *mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_SIPHASH, NULL);
	OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &(size_t) {8}),
	OSSL_PARAM_END};

	if (mac == NULL || RAND_bytes(key, sizeof(key)) != 1
	    || (c = EVP_MAC_CTX_new(mac)) == NULL)
	    msg_fatal("OpenSSL: SipHash is not available");
	if (EVP_MAC_init(c, key, sizeof(key), params) != 1)
	    msg_fatal("OpenSSL: SipHash is not available");
	EVP_MAC_free(mac);
	t->hkey = c;
    }
    if ((c = EVP_MAC_CTX_dup(t->hkey)) == NULL
	|| EVP_MAC_update(c, (const unsigned char *) name, strlen(name)) != 1
	|| EVP_MAC_final(c, out, &len, sizeof(out)) != 1)
	msg_fatal("OpenSSL: SipHash failed");
    EVP_MAC_CTX_free(c);
    for (i = 0; i < len; i++)
	h = h << 8 | out[i];
    return h;
}

/* index_rows - the slots of every row, in a table twice as big as before */
static void
index_rows(struct stats_report *t, size_t nslot)
{
    size_t i, j;

    free(t->slot);
    t->slot = xcalloc(nslot, sizeof(*t->slot));
    t->nslot = nslot;
    for (i = 0; i < t->n; i++) {
	for (j = name_hash(t, t->v[i].name) & (nslot - 1); t->slot[j]; j = (j + 1) & (nslot - 1))
	    continue;
	t->slot[j] = i + 1;
    }
}

/* new_row - a row for name at the end */
static struct stats_row *
new_row(struct stats_report *t, const char *name)
{
    if (t->n == t->cap) {
	t->cap = t->cap ? t->cap * 2 : 64;
	t->v = xreallocarray(t->v, t->cap, sizeof(*t->v));
    }
    memset(&t->v[t->n], 0, sizeof(t->v[t->n]));
    snprintf(t->v[t->n].name, sizeof(t->v[t->n].name), "%s", name);
    return &t->v[t->n++];
}

/* row_for - the row of a name, made when new; past the limit, the others' row */
static struct stats_row *
row_for(struct stats_report *t, const char *name)
{
    size_t j;

    if (t->nslot == 0)
	index_rows(t, 256);
    for (j = name_hash(t, name) & (t->nslot - 1); t->slot[j]; j = (j + 1) & (t->nslot - 1))
	if (strcmp(t->v[t->slot[j] - 1].name, name) == 0)
	    return &t->v[t->slot[j] - 1];
    if (t->n >= STATS_REPORT_ROWS_MAX) {
	/* the one more row, made once: later names all land in it */
	if (!t->folded)
	    new_row(t, STATS_REPORT_OTHER);
	t->folded = 1;
	return &t->v[STATS_REPORT_ROWS_MAX];
    }
    t->slot[j] = t->n + 1;
    new_row(t, name);
    if (2 * t->n > t->nslot)
	index_rows(t, 2 * t->nslot);
    return &t->v[t->n - 1];
}

/* add_reason - a bounce reason's count */
static void
add_reason(struct stats_row *r, const char *reason, long long n)
{
    int i;

    for (i = 0; i < r->nreasons; i++)
	if (strcmp(r->reason[i], reason) == 0)
	    break;
    if (i == r->nreasons) {
	if (r->nreasons == STATS_REPORT_REASONS)
	    return;
	snprintf(r->reason[i], sizeof(r->reason[i]), "%s", reason);
	r->nreasons++;
    }
    r->rn[i] += n;
}

/* add_one - a field into a row */
static void
add_one(struct stats_report *t, struct stats_row *r, const struct stats_field *f, long long n)
{
    int c = stats_counter_index(f->counter);

    if (t->window >= 0) {
	if (c == SC_DELIVERED)
	    r->w[t->window][0] += n;
	else if (c == SC_BOUNCED)
	    r->w[t->window][1] += n;
	else if (c == SC_COMPLAINTS)
	    r->w[t->window][2] += n;
	return;
    }
    if (c >= 0)
	r->c[c] += n;
    else if (strncmp(f->counter, STATS_REASON_PREFIX, strlen(STATS_REASON_PREFIX)) == 0)
	add_reason(r, f->counter + strlen(STATS_REASON_PREFIX), n);
}

/* add_campaign - "campaign.COUNTER.NAME" into the row of NAME */
static void
add_campaign(struct stats_report *t, const struct stats_field *f, long long n)
{
    const char *rest = f->counter + strlen(STATS_CAMPAIGN_PREFIX), *dot;
    struct stats_field g = *f;

    if (strncmp(f->counter, STATS_CAMPAIGN_PREFIX, strlen(STATS_CAMPAIGN_PREFIX)) != 0
	|| (dot = strchr(rest, '.')) == NULL || (size_t) (dot - rest) >= sizeof(g.counter))
	return;
    memcpy(g.counter, rest, (size_t) (dot - rest));
    g.counter[dot - rest] = '\0';
    add_one(t, row_for(t, dot + 1), &g, n);
    add_one(t, &t->total, &g, n);
}

/* add_blocked - a "blocked.LIST" count into its list and pool */
static void
add_blocked(struct stats_report *t, const struct stats_field *f, long long n)
{
    const char *list = f->counter + strlen(STATS_BLOCKED_PREFIX);
    size_t i;

    for (i = 0; i < t->nblk; i++)
	if (strcmp(t->blk[i].list, list) == 0 && strcmp(t->blk[i].pool, f->pool) == 0)
	    break;
    if (i == t->nblk) {
	t->blk = xreallocarray(t->blk, t->nblk + 1, sizeof(*t->blk));
	snprintf(t->blk[i].list, sizeof(t->blk[i].list), "%s", list);
	snprintf(t->blk[i].pool, sizeof(t->blk[i].pool), "%s", f->pool);
	t->blk[i].n = 0;
	t->nblk++;
    }
    t->blk[i].n += n;
}

/* add_listed - blstate_read() callback: a target listed now */
static void
add_listed(const struct blstate *b, void *arg)
{
    struct stats_report *t = arg;

    if (strcmp(b->state, "listed") != 0 || (t->keep && !t->keep(b->target, t->keep_arg)))
	return;
    t->listed = xreallocarray(t->listed, t->nlisted + 1, sizeof(*t->listed));
    t->listed[t->nlisted++] = *b;
}

/* add_field - stats_read() callback */
static void
add_field(const struct stats_field *f, long long n, void *arg)
{
    struct stats_report *t = arg;
    const char *name = t->by == STATS_BY_SENDER ? f->sender
	: t->by == STATS_BY_PROVIDER ? f->provider : f->pool;

    if (t->keep && !t->keep(f->sender, t->keep_arg))
	return;
    if (t->window < 0
	&& strncmp(f->counter, STATS_BLOCKED_PREFIX, strlen(STATS_BLOCKED_PREFIX)) == 0)
	add_blocked(t, f, n);
    if (t->by == STATS_BY_CAMPAIGN) {
	add_campaign(t, f, n);
	return;
    }
    add_one(t, row_for(t, name), f, n);
    add_one(t, &t->total, f, n);
}

/* cmp_row - by name */
static int
cmp_row(const void *a, const void *b)
{
    return strcmp(((const struct stats_row *) a)->name, ((const struct stats_row *) b)->name);
}

/* stats_report_read - the period, then the 24-hour and 7-day windows */
int
stats_report_read(struct stats_report *t, struct rconn *rc, const char *prefix)
{
    long long now = t->until;

    t->window = -1;
    if (stats_read(rc, prefix, t->since, now, add_field, t) < 0)
	return -1;
    t->window = 0;
    if (stats_read(rc, prefix, now - 23 * 3600, now, add_field, t) < 0)
	return -1;
    t->window = 1;
    if (stats_read(rc, prefix, now - 167 * 3600, now, add_field, t) < 0)
	return -1;
    if (blstate_read(rc, prefix, add_listed, t) < 0)
	return -1;
    /* by name; the others' row, if any, stays last */
    if (t->n > 1)
	qsort(t->v, t->n > STATS_REPORT_ROWS_MAX ? STATS_REPORT_ROWS_MAX : t->n, sizeof(*t->v),
	      cmp_row);
    free(t->slot);			/* the rows moved: the index is stale */
    t->slot = NULL;
    t->nslot = 0;
    return 0;
}

/* stats_report_rate - a / b, 0 when b is 0 */
double
stats_report_rate(long long a, long long b)
{
    return b > 0 ? (double) a / (double) b : 0.0;
}

/* stats_report_tls - of the deliveries counted by TLS: the share over TLS, and verified */
void
stats_report_tls(const struct stats_row *r, double *tls, double *verified)
{
    long long all = r->c[SC_TLS_VERIFIED] + r->c[SC_TLS_UNVERIFIED] + r->c[SC_TLS_NONE];

    *tls = stats_report_rate(r->c[SC_TLS_VERIFIED] + r->c[SC_TLS_UNVERIFIED], all);
    *verified = stats_report_rate(r->c[SC_TLS_VERIFIED], all);
}

/* json_row - one row as a JSON object (key: "total", or NULL in rows) */
static void
json_row(struct jsonw *w, const char *key, const struct stats_row *r)
{
    static const char *win[2] = {"24h", "7d"};
    char k[32];
    double tls, verified;
    int i;

    jsonw_object(w, key);
    jsonw_string(w, "name", r->name);
    for (i = 0; i < SC_COUNT; i++)
	jsonw_int(w, stats_counter_names[i], r->c[i]);
    jsonw_object(w, "reasons");
    for (i = 0; i < r->nreasons; i++)
	jsonw_int(w, r->reason[i], r->rn[i]);
    jsonw_end(w);
    for (i = 0; i < 2; i++) {
	double b = stats_report_rate(r->w[i][1], r->w[i][0] + r->w[i][1]);
	double c = stats_report_rate(r->w[i][2], r->w[i][0]);

	snprintf(k, sizeof(k), "bounce_rate_%s", win[i]);
	jsonw_double(w, k, b);
	snprintf(k, sizeof(k), "bounce_flag_%s", win[i]);
	jsonw_string(w, k, stats_rate_flag(b, STATS_BOUNCE_WARN, STATS_BOUNCE_BAD));
	snprintf(k, sizeof(k), "complaint_rate_%s", win[i]);
	jsonw_double(w, k, c);
	snprintf(k, sizeof(k), "complaint_flag_%s", win[i]);
	jsonw_string(w, k, stats_rate_flag(c, STATS_COMPLAINT_WARN, STATS_COMPLAINT_BAD));
    }
    stats_report_tls(r, &tls, &verified);
    jsonw_double(w, "tls_share", tls);
    jsonw_double(w, "tls_verified_share", verified);
    jsonw_end(w);
}

/* json_blocklists - the listings now, the bounces naming a list */
static void
json_blocklists(struct jsonw *w, const struct stats_report *t)
{
    size_t k;

    jsonw_object(w, "blocklists");
    jsonw_array(w, "listed");
    for (k = 0; k < t->nlisted; k++) {
	jsonw_object(w, NULL);
	jsonw_string(w, "list", t->listed[k].list);
	jsonw_string(w, "target", t->listed[k].target);
	jsonw_time(w, "since", t->listed[k].since);
	jsonw_time(w, "checked", t->listed[k].checked);
	jsonw_string(w, "code", t->listed[k].code);
	jsonw_string(w, "reason", t->listed[k].reason);
	jsonw_end(w);
    }
    jsonw_end(w);
    jsonw_array(w, "bounces");
    for (k = 0; k < t->nblk; k++) {
	jsonw_object(w, NULL);
	jsonw_string(w, "list", t->blk[k].list);
	jsonw_string(w, "pool", t->blk[k].pool);
	jsonw_int(w, "bounces", t->blk[k].n);
	jsonw_end(w);
    }
    jsonw_end(w);
    jsonw_end(w);
}

/* stats_report_json - the whole report as one document */
void
stats_report_json(const struct stats_report *r, struct jsonw *w)
{
    size_t k;

    jsonw_object(w, NULL);
    jsonw_time(w, "since", r->since);
    jsonw_time(w, "until", r->until);
    jsonw_string(w, "by", stats_by_names[r->by]);
    jsonw_array(w, "rows");
    for (k = 0; k < r->n; k++)
	json_row(w, NULL, &r->v[k]);
    jsonw_end(w);
    jsonw_bool(w, "folded", r->folded);
    json_row(w, "total", &r->total);
    json_blocklists(w, r);
    jsonw_end(w);
}

/* stats_report_free - release the rows */
void
stats_report_free(struct stats_report *r)
{
    free(r->v);
    free(r->blk);
    free(r->listed);
    free(r->slot);
    EVP_MAC_CTX_free(r->hkey);
    r->v = NULL;
    r->blk = NULL;
    r->listed = NULL;
    r->slot = NULL;
    r->hkey = NULL;
    r->n = r->nblk = r->nlisted = r->cap = r->nslot = 0;
    r->folded = 0;
}
