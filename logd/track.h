/*
 * track - turn log lines into statistics, events and backoffs
 *
 * SYNOPSIS
 *	#include "track.h"
 *
 *	struct track *track_new(const struct outpost_conf *conf,
 *				const struct provider_table *providers,
 *				const struct backoff_rules *rules,
 *				struct rconn *rc, struct stats_batch *batch);
 *	void track_line(struct track *t, const char *line, size_t len,
 *			long long now);
 *	int track_flush(struct track *t);
 *	const struct track_counts *track_counts(const struct track *t);
 *	void track_free(struct track *t);
 *
 * DESCRIPTION
 *	track_line() reads one log line (maillog(3)) and records what it
 *	says in the batch: for each delivery attempt, one of the counters
 *	delivered, deferred, bounced (with bounced_hard or bounced_soft and
 *	reason.NAME, from the same classifier as DSNs), expired, under the
 *	sender domain, provider and pool, in the hour the line was logged;
 *	and one entry of the event stream (queue id, recipient, relay,
 *	status, DSN, reply, delay, ...).  A recipient sent over SMTP or LMTP
 *	also counts in tls_verified, tls_unverified or tls_none, by the TLS
 *	line of its SMTP client's session (tlssess(3)).
 *
 *	The sender comes from the queue manager's "from=" line of the same
 *	queue id: its domain, or for a tagged return path the sender's own
 *	domain behind it (retpath(3)), as the milter and the intake count
 *	it.  It is remembered until "removed" (Postfix) or until
 *	TRACK_MAX_QUEUE ids are held (the oldest half is forgotten).
 *	Deliveries of the null sender (the MTA's own bounces) are not
 *	counted.  An expired message counts once per recipient that was
 *	deferred in its last attempt.
 *
 *	A deferral that a backoff rule matches starts or extends the backoff
 *	of that provider (or recipient domain) on that pool at once, through
 *	backoff_set(); repeated deferrals within TRACK_BACKOFF_HOLDOFF
 *	seconds do not write again.  One that Redis does not take waits
 *	(the latest per provider and pool) for track_flush().
 *
 *	A deferral or bounce logged more than [logd] max_line_age before now
 *	(a replayed or long-unread log) is counted in the statistics and the
 *	event stream like any other, in the hour it was logged, but starts no
 *	backoff and suppresses no one: what a provider said hours ago says
 *	nothing about now, and an old bounce was acted on when it was new.
 *	These are counted in too_old (the first is logged).
 *
 *	Each recipient's delivered, deferred, bounced (reason, class hard
 *	or soft) and expired also goes to the event stream of its sender
 *	domain's tenant (events(3)), named by queue id, recipient, status
 *	and time, so that lines read twice write one event; an expired
 *	message names the recipients deferred in its last attempt (at most
 *	TRACK_MAX_DEFERRED).  track_flush() writes them first.
 *
 *	A delivery line whose next hop is one of [logd] filter_relays
 *	(route_filter()), the hop of a message to a content filter that
 *	hands it back to the MTA under a new queue id, counts nowhere: no
 *	statistic, event, backoff or suppression (the copy the filter
 *	re-injects is counted when it is delivered).  These lines are
 *	counted in filter_lines.
 *
 *	A hard synchronous bounce puts the recipient on the global
 *	suppression list (reason hard-bounce, source "log"), unless [logd]
 *	suppress_hard_bounces = no.  track_flush() writes the suppressions
 *	gathered since the last call (the caller flushes them before the
 *	counts and the file position, so that a line is not passed over
 *	before its suppression is stored); it returns 0, or -1 when Redis
 *	failed (they are kept for the next call).
 */
#ifndef OUTPOST_TRACK_H
#define OUTPOST_TRACK_H

#include <stddef.h>

#include "backoff.h"
#include "conf.h"
#include "provider.h"
#include "redisconn.h"
#include "stats.h"

#define TRACK_MAX_QUEUE 200000
#define TRACK_BACKOFF_HOLDOFF 10
#define TRACK_MAX_SUPPRESS 100000	/* hard bounces waiting for Redis */
#define TRACK_MAX_DEFERRED 100	/* recipients of one id an "expired" event names */

struct track_counts {
    long long lines;
    long long deliveries;	/* recipients of delivery lines */
    long long ignored;
    long long garbage;
    long long backoffs;		/* backoffs written */
    long long no_sender;	/* deliveries whose from= line was not seen */
    long long hard_bounces;
    long long too_old;		/* deferrals and bounces too old to act on */
    long long filter_lines;	/* delivery lines to [logd] filter_relays */
};

struct track;

struct track *track_new(const struct outpost_conf *conf,
			const struct provider_table *providers,
			const struct backoff_rules *rules, struct rconn *rc,
			struct stats_batch *batch);
void track_line(struct track *t, const char *line, size_t len, long long now);
int track_flush(struct track *t);
const struct track_counts *track_counts(const struct track *t);
void track_free(struct track *t);

#endif
