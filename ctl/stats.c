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
 *	The sums are stats_report(3)'s, which outpost-httpd's API shares.
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
#include "ctl.h"
#include "jsonw.h"
#include "msg.h"
#include "redisconn.h"
#include "stats.h"
#include "stats_report.h"

const struct ctl_usage ctl_stats_usage[] = {
    {"stats [--since WHEN] [--by sender|provider|pool|campaign] [--json]",
     "delivery statistics, bounce and complaint rates, opens and clicks"},
    {NULL, NULL},
};

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
print_text_row(const struct stats_row *r)
{
    char b24[32], b7[32], c24[32], c7[32];
    double b[2], c[2];
    int i;

    for (i = 0; i < 2; i++) {
	b[i] = stats_report_rate(r->w[i][1], r->w[i][0] + r->w[i][1]);
	c[i] = stats_report_rate(r->w[i][2], r->w[i][0]);
    }
    printf("%-24.24s %9lld %9lld %9lld %8lld %6lld %6lld %7lld %6lld %6lld %6lld %6lld %6lld %6lld"
	   "  %-10s %-10s %-10s %-10s\n", r->name, r->c[SC_ACCEPTED], r->c[SC_DELIVERED],
	   r->c[SC_DEFERRED], r->c[SC_BOUNCED], r->c[SC_BOUNCED_HARD], r->c[SC_BOUNCED_SOFT],
	   r->c[SC_EXPIRED], r->c[SC_COMPLAINTS], r->c[SC_UNSUBSCRIBES],
	   r->c[SC_SUPPRESSED], r->c[SC_THROTTLED], r->c[SC_SPILLED], r->c[SC_BACKOFF],
	   pct(b[0], STATS_BOUNCE_WARN, STATS_BOUNCE_BAD, b24, sizeof(b24)),
	   pct(b[1], STATS_BOUNCE_WARN, STATS_BOUNCE_BAD, b7, sizeof(b7)),
	   pct(c[0], STATS_COMPLAINT_WARN, STATS_COMPLAINT_BAD, c24, sizeof(c24)),
	   pct(c[1], STATS_COMPLAINT_WARN, STATS_COMPLAINT_BAD, c7, sizeof(c7)));
}

/* print_web_row - one line of the opens and clicks table */
static void
print_web_row(const struct stats_row *r)
{
    printf("%-24.24s %9lld %9lld %9lld %9lld %9lld %9lld\n", r->name, r->c[SC_OPENS],
	   r->c[SC_OPENS_UNIQUE], r->c[SC_OPENS_MACHINE], r->c[SC_CLICKS],
	   r->c[SC_CLICKS_UNIQUE], r->c[SC_CLICKS_MACHINE]);
}

/* print_web - opens and clicks, when there are any */
static void
print_web(const struct stats_report *t, const char *by)
{
    size_t k;

    if (t->by != STATS_BY_CAMPAIGN && t->total.c[SC_OPENS] + t->total.c[SC_OPENS_MACHINE]
	+ t->total.c[SC_CLICKS] + t->total.c[SC_CLICKS_MACHINE] == 0)
	return;
    printf("%s%-24s %9s %9s %9s %9s %9s %9s\n", t->by == STATS_BY_CAMPAIGN ? "" : "\n", by,
	   "opens", "unique", "machine", "clicks", "unique", "machine");
    for (k = 0; k < t->n; k++)
	print_web_row(&t->v[k]);
    print_web_row(&t->total);
}

/* print_tls_row - one line of the TLS table */
static void
print_tls_row(const struct stats_row *r)
{
    double tls, verified;

    stats_report_tls(r, &tls, &verified);
    printf("%-24.24s %9lld %10lld %9lld %8.2f%% %8.2f%%\n", r->name, r->c[SC_TLS_VERIFIED],
	   r->c[SC_TLS_UNVERIFIED], r->c[SC_TLS_NONE], tls * 100, verified * 100);
}

/* print_tls - how deliveries left, when outpost-logd counted any */
static void
print_tls(const struct stats_report *t, const char *by)
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
print_blocklists(const struct stats_report *t, int lists)
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

/* cmd_stats - outpostctl stats */
int
cmd_stats(const char *path, int argc, char **argv)
{
    struct stats_report t;
    struct outpost_conf *conf;
    struct rconn *rc;
    struct jsonw w;
    long long now = (long long) time(NULL);
    const char *since = NULL, *why;
    int i, json = 0, rv = 0, by = STATS_BY_PROVIDER;
    size_t k;

    for (i = 1; i < argc; i++) {
	if (strcmp(argv[i], "--json") == 0) {
	    json = 1;
	} else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc) {
	    since = argv[++i];
	} else if (strcmp(argv[i], "--by") == 0 && i + 1 < argc) {
	    i++;
	    for (k = 0; k < 4 && strcmp(argv[i], stats_by_names[k]) != 0; k++)
		 /* look */ ;
	    if (k == 4)
		return ctl_usage("stats", NULL);
	    by = (int) k;
	} else {
	    return ctl_usage("stats", NULL);
	}
    }
    if (stats_report_init(&t, by, since, now, &why) < 0) {
	msg_error("stats: --since %s: expected a duration such as "
		  "24h or a UTC date YYYY-MM-DD[THH]", since);
	return 2;
    }
    if (t.clamped)
	msg_warn("stats: hourly counters are kept for %d days: "
		 "showing those", STATS_MAX_HOURS / 24);
    conf = ctl_load_conf(path);
    rc = rconn_new(&conf->redis);
    if (stats_report_read(&t, rc, conf->redis.prefix) < 0) {
	msg_error("stats: cannot read Redis: %s", rconn_error(rc));
	rv = 1;
	goto out;
    }
    if (json) {
	jsonw_init(&w, stdout);
	stats_report_json(&t, &w);
    } else if (t.by == STATS_BY_CAMPAIGN) {
	print_web(&t, stats_by_names[t.by]);
    } else {
	printf("%-24s %9s %9s %9s %8s %6s %6s %7s %6s %6s %6s %6s %6s %6s  %-10s %-10s %-10s %-10s\n",
	       stats_by_names[t.by], "accepted", "delivered", "deferred", "bounced", "hard",
	       "soft", "expired", "compl", "unsub", "suppr", "thrott", "spill", "backof",
	       "bounce24h", "bounce7d", "compl24h", "compl7d");
	for (k = 0; k < t.n; k++)
	    print_text_row(&t.v[k]);
	print_text_row(&t.total);
	for (i = 0; i < t.total.nreasons; i++)
	    printf("%s%s %lld", i ? "," : "bounce reasons:", t.total.reason[i],
		   t.total.rn[i]);
	if (t.total.nreasons)
	    printf("\n");
	print_web(&t, stats_by_names[t.by]);
	print_tls(&t, stats_by_names[t.by]);
	print_blocklists(&t, conf->blocklists.n > 0);
    }
out:
    stats_report_free(&t);
    rconn_free(rc);
    conf_free(conf);
    return rv;
}
