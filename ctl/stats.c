/*
 * stats - outpostctl stats: delivery statistics from Redis
 *
 * SYNOPSIS
 *	outpostctl stats [--since WHEN] [--by sender|provider|pool|campaign]
 *			 [--json]
 *
 * DESCRIPTION
 *	Sums the hourly counters of stats(3) from WHEN until now (a duration
 *	back from now such as "24h" or "3d", or a UTC date "YYYY-MM-DD" or
 *	hour "YYYY-MM-DDTHH"; default 24h, at most 8 days), one row per sender
 *	domain, provider (default) or pool, and a total.  Each row also shows
 *	its bounce and complaint rates over the last 24 hours and 7 days,
 *	flagged "warn" or "bad" against the thresholds providers publish
 *	(complaints 0.1% / 0.3%; bounces 2% / 5%).  When outpost-httpd
 *	counted opens or clicks, a second table gives them per row (total,
 *	unique, machine).  --by campaign has a row per campaign (the
 *	"campaign.COUNTER.NAME" counters of stats(3)): opens and clicks only.
 *	A last part shows the blocklists: every target a [blocklist] lists
 *	now (outpost-logd's watch, blstate(3)) since when, and the bounces in
 *	the period whose wording named a list, per list and pool.
 *
 *	--json prints one JSON object instead of a table (outpostctl(8),
 *	JSON OUTPUT): {"since", "until", "by", "rows":[...], "total",
 *	"blocklists":{"listed":[{list, target, since, checked, code,
 *	reason}], "bounces":[{list, pool, bounces}]}}.
 *
 * DIAGNOSTICS
 *	Exit status 0; 1 when Redis cannot be read; 2 for bad arguments.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blstate.h"
#include "conf.h"
#include "confval.h"
#include "ctl.h"
#include "jsonw.h"
#include "msg.h"
#include "redisconn.h"
#include "stats.h"
#include "xalloc.h"

#define MAX_REASONS 48

enum by { BY_SENDER, BY_PROVIDER, BY_POOL, BY_CAMPAIGN };

struct row {
    char name[STATS_NAME_MAX];
    long long c[SC_COUNT];
    char reason[MAX_REASONS][48];
    long long rn[MAX_REASONS];
    int nreasons;
    long long w[2][3];		/* 24h, 7d: delivered, bounced, complaints */
};

/* bounces naming a blocklist, per list and pool ("blocked.LIST") */
struct blk {
    char list[STATS_NAME_MAX];
    char pool[STATS_NAME_MAX];
    long long n;
};

struct table {
    enum by by;
    struct row *v;
    size_t n;
    struct row total;
    int window;			/* -1: the main period; 0: 24h; 1: 7d */
    struct blk *blk;
    size_t nblk;
    struct blstate *listed;	/* targets listed now */
    size_t nlisted;
};

const struct ctl_usage ctl_stats_usage[] = {
    {"stats [--since WHEN] [--by sender|provider|pool|campaign] [--json]",
     "delivery statistics, bounce and complaint rates, opens and clicks"},
    {NULL, NULL},
};

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
	return 0;
    }
    return -1;
}

/* row_for - the row of a name, made when new */
static struct row *
row_for(struct table *t, const char *name)
{
    size_t i;

    for (i = 0; i < t->n; i++)
	if (strcmp(t->v[i].name, name) == 0)
	    return &t->v[i];
    t->v = xreallocarray(t->v, t->n + 1, sizeof(*t->v));
    memset(&t->v[t->n], 0, sizeof(t->v[t->n]));
    snprintf(t->v[t->n].name, sizeof(t->v[t->n].name), "%s", name);
    return &t->v[t->n++];
}

/* add_reason - a bounce reason's count */
static void
add_reason(struct row *r, const char *reason, long long n)
{
    int i;

    for (i = 0; i < r->nreasons; i++)
	if (strcmp(r->reason[i], reason) == 0)
	    break;
    if (i == r->nreasons) {
	if (r->nreasons == MAX_REASONS)
	    return;
	snprintf(r->reason[i], sizeof(r->reason[i]), "%s", reason);
	r->nreasons++;
    }
    r->rn[i] += n;
}

/* add_one - a field into a row */
static void
add_one(struct table *t, struct row *r, const struct stats_field *f, long long n)
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
add_campaign(struct table *t, const struct stats_field *f, long long n)
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
add_blocked(struct table *t, const struct stats_field *f, long long n)
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
    struct table *t = arg;

    if (strcmp(b->state, "listed") != 0)
	return;
    t->listed = xreallocarray(t->listed, t->nlisted + 1, sizeof(*t->listed));
    t->listed[t->nlisted++] = *b;
}

/* add_field - stats_read() callback */
static void
add_field(const struct stats_field *f, long long n, void *arg)
{
    struct table *t = arg;
    const char *name = t->by == BY_SENDER ? f->sender
	: t->by == BY_PROVIDER ? f->provider : f->pool;

    if (t->window < 0
	&& strncmp(f->counter, STATS_BLOCKED_PREFIX, strlen(STATS_BLOCKED_PREFIX)) == 0)
	add_blocked(t, f, n);

    if (t->by == BY_CAMPAIGN) {
	add_campaign(t, f, n);
	return;
    }

    add_one(t, row_for(t, name), f, n);
    add_one(t, &t->total, f, n);
}

/* rate - a / b, 0 when b is 0 */
static double
rate(long long a, long long b)
{
    return b > 0 ? (double) a / (double) b : 0.0;
}

/* tls_shares - of the deliveries counted by TLS: the share over TLS, and verified */
static void
tls_shares(const struct row *r, double *tls, double *verified)
{
    long long all = r->c[SC_TLS_VERIFIED] + r->c[SC_TLS_UNVERIFIED] + r->c[SC_TLS_NONE];

    *tls = rate(r->c[SC_TLS_VERIFIED] + r->c[SC_TLS_UNVERIFIED], all);
    *verified = rate(r->c[SC_TLS_VERIFIED], all);
}

/* print_json_row - one row as a JSON object (key: "total", or NULL in rows) */
static void
print_json_row(struct jsonw *w, const char *key, const struct row *r)
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
	double b = rate(r->w[i][1], r->w[i][0] + r->w[i][1]);
	double c = rate(r->w[i][2], r->w[i][0]);

	snprintf(k, sizeof(k), "bounce_rate_%s", win[i]);
	jsonw_double(w, k, b);
	snprintf(k, sizeof(k), "bounce_flag_%s", win[i]);
	jsonw_string(w, k, stats_rate_flag(b, STATS_BOUNCE_WARN, STATS_BOUNCE_BAD));
	snprintf(k, sizeof(k), "complaint_rate_%s", win[i]);
	jsonw_double(w, k, c);
	snprintf(k, sizeof(k), "complaint_flag_%s", win[i]);
	jsonw_string(w, k, stats_rate_flag(c, STATS_COMPLAINT_WARN, STATS_COMPLAINT_BAD));
    }
    tls_shares(r, &tls, &verified);
    jsonw_double(w, "tls_share", tls);
    jsonw_double(w, "tls_verified_share", verified);
    jsonw_end(w);
}

/* pct - a rate with its flag: "0.12%" or "0.35%!bad" */
static const char *
pct(double r, double warn, double bad, char *buf, size_t len)
{
    const char *flag = stats_rate_flag(r, warn, bad);

    snprintf(buf, len, "%.2f%%%s%s", r * 100, strcmp(flag, "ok") ? "!" : "",
	     strcmp(flag, "ok") ? flag : "");
    return buf;
}

/* print_text_row - one line of the table */
static void
print_text_row(const struct row *r)
{
    char b24[32], b7[32], c24[32], c7[32];

    printf("%-24.24s %9lld %9lld %9lld %8lld %6lld %6lld %7lld %6lld %6lld %6lld %6lld %6lld %6lld"
	   "  %-10s %-10s %-10s %-10s\n", r->name, r->c[SC_ACCEPTED], r->c[SC_DELIVERED],
	   r->c[SC_DEFERRED], r->c[SC_BOUNCED], r->c[SC_BOUNCED_HARD], r->c[SC_BOUNCED_SOFT],
	   r->c[SC_EXPIRED], r->c[SC_COMPLAINTS], r->c[SC_UNSUBSCRIBES],
	   r->c[SC_SUPPRESSED], r->c[SC_THROTTLED], r->c[SC_SPILLED], r->c[SC_BACKOFF],
	   pct(rate(r->w[0][1], r->w[0][0] + r->w[0][1]), STATS_BOUNCE_WARN, STATS_BOUNCE_BAD,
	       b24, sizeof(b24)),
	   pct(rate(r->w[1][1], r->w[1][0] + r->w[1][1]), STATS_BOUNCE_WARN, STATS_BOUNCE_BAD,
	       b7, sizeof(b7)),
	   pct(rate(r->w[0][2], r->w[0][0]), STATS_COMPLAINT_WARN, STATS_COMPLAINT_BAD,
	       c24, sizeof(c24)),
	   pct(rate(r->w[1][2], r->w[1][0]), STATS_COMPLAINT_WARN, STATS_COMPLAINT_BAD,
	       c7, sizeof(c7)));
}

/* print_web_row - one line of the opens and clicks table */
static void
print_web_row(const struct row *r)
{
    printf("%-24.24s %9lld %9lld %9lld %9lld %9lld %9lld\n", r->name, r->c[SC_OPENS],
	   r->c[SC_OPENS_UNIQUE], r->c[SC_OPENS_MACHINE], r->c[SC_CLICKS],
	   r->c[SC_CLICKS_UNIQUE], r->c[SC_CLICKS_MACHINE]);
}

/* print_web - opens and clicks, when there are any */
static void
print_web(const struct table *t, const char *by)
{
    size_t k;

    if (t->by != BY_CAMPAIGN && t->total.c[SC_OPENS] + t->total.c[SC_OPENS_MACHINE]
	+ t->total.c[SC_CLICKS] + t->total.c[SC_CLICKS_MACHINE] == 0)
	return;
    printf("%s%-24s %9s %9s %9s %9s %9s %9s\n", t->by == BY_CAMPAIGN ? "" : "\n", by,
	   "opens", "unique", "machine", "clicks", "unique", "machine");
    for (k = 0; k < t->n; k++)
	print_web_row(&t->v[k]);
    print_web_row(&t->total);
}

/* print_tls_row - one line of the TLS table */
static void
print_tls_row(const struct row *r)
{
    double tls, verified;

    tls_shares(r, &tls, &verified);
    printf("%-24.24s %9lld %10lld %9lld %8.2f%% %8.2f%%\n", r->name, r->c[SC_TLS_VERIFIED],
	   r->c[SC_TLS_UNVERIFIED], r->c[SC_TLS_NONE], tls * 100, verified * 100);
}

/* print_tls - how deliveries left, when outpost-logd counted any */
static void
print_tls(const struct table *t, const char *by)
{
    size_t k;

    if (t->total.c[SC_TLS_VERIFIED] + t->total.c[SC_TLS_UNVERIFIED]
	+ t->total.c[SC_TLS_NONE] == 0)
	return;
    printf("\n%-24s %9s %10s %9s %9s %9s\n", by, "verified", "unverified", "plaintext",
	   "tls%", "verified%");
    for (k = 0; k < t->n; k++)
	print_tls_row(&t->v[k]);
    print_tls_row(&t->total);
}

/* print_json_blocklists - the listings now, the bounces naming a list */
static void
print_json_blocklists(struct jsonw *w, const struct table *t)
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

/* utc - UNIX seconds as "2026-01-02T03:04:05Z" */
static const char *
utc(long long when, char *buf, size_t len)
{
    time_t tt = (time_t) when;
    struct tm tm;

    if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
	snprintf(buf, len, "%lld", when);
    return buf;
}

/* print_blocklists - the listings now, the bounces naming a list */
static void
print_blocklists(const struct table *t, int lists)
{
    char since[32];
    size_t k;

    if (!lists && t->nlisted == 0 && t->nblk == 0)
	return;
    printf("\nblocklists: %s\n", t->nlisted ? "listed now" : "nothing listed now");
    for (k = 0; k < t->nlisted; k++)
	printf("  %-16s %-28s since %s  %s%s%s\n", t->listed[k].list, t->listed[k].target,
	       utc(t->listed[k].since, since, sizeof(since)), t->listed[k].code,
	       t->listed[k].reason[0] ? "  " : "", t->listed[k].reason);
    if (t->nblk == 0)
	return;
    printf("bounces naming a blocklist:\n  %-16s %-28s %9s\n", "list", "pool", "bounces");
    for (k = 0; k < t->nblk; k++)
	printf("  %-16s %-28s %9lld\n", t->blk[k].list, t->blk[k].pool, t->blk[k].n);
}

/* cmp_row - by name */
static int
cmp_row(const void *a, const void *b)
{
    return strcmp(((const struct row *) a)->name, ((const struct row *) b)->name);
}

/* cmd_stats - outpostctl stats */
int
cmd_stats(const char *path, int argc, char **argv)
{
    static const char *bynames[] = {"sender", "provider", "pool", "campaign"};
    struct table t;
    struct outpost_conf *conf;
    struct rconn *rc;
    struct jsonw w;
    long long now = (long long) time(NULL), since = now - 24 * 3600;
    int i, json = 0, rv = 0;
    size_t k;

    memset(&t, 0, sizeof(t));
    t.by = BY_PROVIDER;
    for (i = 1; i < argc; i++) {
	if (strcmp(argv[i], "--json") == 0) {
	    json = 1;
	} else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc) {
	    if (parse_since(argv[++i], now, &since) < 0) {
		msg_error("stats: --since %s: expected a duration such as "
			  "24h or a UTC date YYYY-MM-DD[THH]", argv[i]);
		return 2;
	    }
	} else if (strcmp(argv[i], "--by") == 0 && i + 1 < argc) {
	    i++;
	    for (k = 0; k < 4 && strcmp(argv[i], bynames[k]) != 0; k++)
		 /* look */ ;
	    if (k == 4)
		return ctl_usage("stats", NULL);
	    t.by = (enum by) k;
	} else {
	    return ctl_usage("stats", NULL);
	}
    }
    if (now - since > (long long) STATS_MAX_HOURS * 3600) {
	msg_warn("stats: hourly counters are kept for %d days: "
		 "showing those", STATS_MAX_HOURS / 24);
	since = now - (long long) STATS_MAX_HOURS * 3600 + 3600;
    }
    conf = ctl_load_conf(path);
    rc = rconn_new(&conf->redis);
    snprintf(t.total.name, sizeof(t.total.name), "TOTAL");
    t.window = -1;
    if (stats_read(rc, conf->redis.prefix, since, now, add_field, &t) < 0)
	rv = 1;
    t.window = 0;
    if (rv == 0 && stats_read(rc, conf->redis.prefix, now - 23 * 3600, now, add_field, &t) < 0)
	rv = 1;
    t.window = 1;
    if (rv == 0 && stats_read(rc, conf->redis.prefix, now - 167 * 3600, now, add_field, &t) < 0)
	rv = 1;
    if (rv == 0 && blstate_read(rc, conf->redis.prefix, add_listed, &t) < 0)
	rv = 1;
    if (rv) {
	msg_error("stats: cannot read Redis: %s", rconn_error(rc));
	goto out;
    }
    if (t.n > 1)
	qsort(t.v, t.n, sizeof(*t.v), cmp_row);
    if (json) {
	jsonw_init(&w, stdout);
	jsonw_object(&w, NULL);
	jsonw_time(&w, "since", since);
	jsonw_time(&w, "until", now);
	jsonw_string(&w, "by", bynames[t.by]);
	jsonw_array(&w, "rows");
	for (k = 0; k < t.n; k++)
	    print_json_row(&w, NULL, &t.v[k]);
	jsonw_end(&w);
	print_json_row(&w, "total", &t.total);
	print_json_blocklists(&w, &t);
	jsonw_end(&w);
    } else if (t.by == BY_CAMPAIGN) {
	print_web(&t, bynames[t.by]);
    } else {
	printf("%-24s %9s %9s %9s %8s %6s %6s %7s %6s %6s %6s %6s %6s %6s  %-10s %-10s %-10s %-10s\n",
	       bynames[t.by], "accepted", "delivered", "deferred", "bounced", "hard", "soft",
	       "expired", "compl", "unsub", "suppr", "thrott", "spill", "backof", "bounce24h",
	       "bounce7d", "compl24h", "compl7d");
	for (k = 0; k < t.n; k++)
	    print_text_row(&t.v[k]);
	print_text_row(&t.total);
	for (i = 0; i < t.total.nreasons; i++)
	    printf("%s%s %lld", i ? "," : "bounce reasons:", t.total.reason[i],
		   t.total.rn[i]);
	if (t.total.nreasons)
	    printf("\n");
	print_web(&t, bynames[t.by]);
	print_tls(&t, bynames[t.by]);
	print_blocklists(&t, conf->blocklists.n > 0);
    }
out:
    free(t.v);
    free(t.blk);
    free(t.listed);
    rconn_free(rc);
    conf_free(conf);
    return rv;
}
