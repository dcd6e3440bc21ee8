/*
 * stats_report - the delivery statistics of a period, summed by sender
 *		  domain, provider, pool or campaign: what "outpostctl stats"
 *		  and outpost-httpd's GET /v1/stats show
 *
 * SYNOPSIS
 *	#include "stats_report.h"
 *
 *	int stats_report_init(struct stats_report *r, int by,
 *			      const char *since, long long now,
 *			      const char **why);
 *	int stats_report_read(struct stats_report *r, struct rconn *rc,
 *			      const char *prefix);
 *	void stats_report_json(const struct stats_report *r,
 *			       struct jsonw *w);
 *	void stats_report_free(struct stats_report *r);
 *	double stats_report_rate(long long a, long long b);
 *	void stats_report_tls(const struct stats_row *row, double *tls,
 *			      double *verified);
 *
 * DESCRIPTION
 *	stats_report_init() prepares a report by STATS_BY_SENDER,
 *	STATS_BY_PROVIDER, STATS_BY_POOL or STATS_BY_CAMPAIGN from since
 *	until now: since is a duration back from now ("24h", "3d"), a UTC
 *	date "YYYY-MM-DD" or hour "YYYY-MM-DDTHH", or NULL for 24h.  A
 *	start further back than the hourly counters are kept is moved up
 *	(r->clamped set).  It returns 0, or -1 with *why for a since it
 *	cannot read.  Set r->keep to count only some sender domains: it is
 *	asked for each sender of a counter (and each listed target) and
 *	returns non-zero to count it.
 *
 *	stats_report_read() sums the hourly counters of stats(3) of the
 *	period into a row per name and a total, and the delivered, bounced
 *	and complaint counts of the last 24 hours and 7 days into each row's
 *	w[][] (the rates); rows are sorted by name.  Names are found through
 *	a hash keyed afresh for each report (SipHash), and at most
 *	STATS_REPORT_ROWS_MAX get a row: the counts of names met after that
 *	(campaigns come and go without bound) go into one last row named
 *	STATS_REPORT_OTHER, and r->folded is set.  It also gathers the
 *	bounces of the period that named a blocklist ("blocked.LIST"), per
 *	list and pool, into blk, and the targets the blocklist watch finds
 *	listed now (blstate(3)) into listed; r->keep, when set, is asked
 *	about each listed target too.  It returns 0, or -1 on a Redis
 *	problem.
 *
 *	stats_report_json() writes the document of "outpostctl stats
 *	--json": {"since", "until", "by", "rows":[...], "folded", "total",
 *	"blocklists":{"listed":[...], "bounces":[...]}}; each row has name,
 *	every counter of stats_counter_names, reasons, the bounce and
 *	complaint rates and flags of 24h and 7d, and the TLS shares.
 *
 *	stats_report_rate() is a / b, 0 when b is 0; stats_report_tls() the
 *	share of deliveries over TLS and over verified TLS among those
 *	counted by TLS.
 */
#ifndef OUTPOST_STATS_REPORT_H
#define OUTPOST_STATS_REPORT_H

#include "stats.h"

struct blstate;
struct jsonw;
struct rconn;

#define STATS_REPORT_REASONS 48
#define STATS_REPORT_ROWS_MAX 5000	/* rows by name; the other names in one more */
#define STATS_REPORT_OTHER "(others)"

enum stats_by { STATS_BY_SENDER, STATS_BY_PROVIDER, STATS_BY_POOL, STATS_BY_CAMPAIGN };

extern const char *const stats_by_names[4];

struct stats_row {
    char name[STATS_NAME_MAX];
    long long c[SC_COUNT];
    char reason[STATS_REPORT_REASONS][48];
    long long rn[STATS_REPORT_REASONS];
    int nreasons;
    long long w[2][3];		/* 24h, 7d: delivered, bounced, complaints */
};

/* bounces naming a blocklist, per list and pool ("blocked.LIST") */
struct stats_blk {
    char list[STATS_NAME_MAX];
    char pool[STATS_NAME_MAX];
    long long n;
};

struct stats_report {
    int by;			/* enum stats_by */
    long long since, until;
    int clamped;		/* since was moved up */
    int (*keep)(const char *name, void *arg);	/* NULL: every sender and target */
    void *keep_arg;
    struct stats_row *v;
    size_t n;
    int folded;			/* the last row is STATS_REPORT_OTHER: names beyond the limit */
    struct stats_row total;
    /* private: the rows by name */
    size_t cap;
    size_t *slot;		/* open addressing: row index + 1, 0 empty */
    size_t nslot;
    void *hkey;			/* the keyed hash of this report's names */
    int window;			/* while reading: -1 the period; 0: 24h; 1: 7d */
    struct stats_blk *blk;
    size_t nblk;
    struct blstate *listed;	/* targets listed now */
    size_t nlisted;
};

int stats_report_init(struct stats_report *r, int by, const char *since, long long now,
		      const char **why);
int stats_report_read(struct stats_report *r, struct rconn *rc, const char *prefix);
void stats_report_json(const struct stats_report *r, struct jsonw *w);
void stats_report_free(struct stats_report *r);
double stats_report_rate(long long a, long long b);
void stats_report_tls(const struct stats_row *row, double *tls, double *verified);

#endif
