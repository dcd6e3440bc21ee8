/*
 * stats - delivery statistics in Redis, per hour, sender domain, provider
 *	   and pool
 *
 * SYNOPSIS
 *	#include "stats.h"
 *
 *	int stats_incr(struct rconn *rc, const char *prefix,
 *		       const char *sender_domain, const char *provider,
 *		       const char *pool, const char *counter, long long n);
 *	int stats_cmd_make(struct stats_cmd *c, const char *prefix,
 *			   int cluster, long long when, const char *sender_domain,
 *			   const char *provider, const char *pool,
 *			   const char *counter, long long n);
 *
 *	struct stats_batch *stats_batch_new(const char *prefix);
 *	void stats_batch_add(struct stats_batch *b, long long when,
 *			     const char *sender_domain, const char *provider,
 *			     const char *pool, const char *counter, long long n);
 *	void stats_batch_tap(struct stats_batch *b, stats_tap_fn fn,
 *			     void *arg);
 *	void stats_batch_event(struct stats_batch *b, int nfields,
 *			       const char *const *fields);
 *	void stats_batch_state(struct stats_batch *b, const char *key,
 *			       const char *field, const char *value);
 *	void stats_batch_guard(struct stats_batch *b, const char *field,
 *			       const char *expect, const char *value);
 *	int stats_batch_flush(struct stats_batch *b, struct rconn *rc,
 *			      long events_max);
 *	int stats_batch_finish(struct stats_batch *b, struct rconn *rc,
 *			       const char *state_key);
 *	size_t stats_batch_size(const struct stats_batch *b);
 *	size_t stats_batch_state_size(const struct stats_batch *b);
 *	void stats_batch_free(struct stats_batch *b);
 *
 *	int stats_read(struct rconn *rc, const char *prefix, long long from,
 *		       long long to, void (*fn)(const struct stats_field *,
 *		       long long n, void *), void *arg);
 *	int stats_read_total(struct rconn *rc, const char *prefix,
 *			     void (*fn)(const struct stats_field *,
 *			     long long n, void *), void *arg);
 *
 *	int stats_hour_key(char *buf, size_t len, const char *prefix,
 *			   long long when);
 *	int stats_field_make(char *buf, size_t len, const char *sender_domain,
 *			     const char *provider, const char *pool,
 *			     const char *counter);
 *	int stats_field_split(const char *s, size_t len,
 *			      struct stats_field *f);
 *	int stats_sender_bucket(const char *sender_domain);
 *	int stats_tag(char *buf, size_t len, const char *prefix, int bucket);
 *	int stats_counter_index(const char *name);
 *	const char *stats_rate_flag(double rate, double warn, double bad);
 *
 * DESCRIPTION
 *	Every program counts through this module, so that all counters share
 *	one layout (doc/REDIS-KEYS.md):
 *
 *	P{st}:h:YYYYMMDDHH  hash per UTC hour; field "SENDER|PROVIDER|POOL|
 *			COUNTER", value the count; TTL STATS_HOUR_TTL.
 *	P{st}:total	the same fields summed since the start: monotonic
 *			counters for Prometheus.  No TTL: its size is bounded
 *			by the number of sender domains, providers and pools.
 *
 *	COUNTER is one of the STATS_* names below, or "reason.NAME" for a
 *	bounce reason (Sisimai's names: userunknown, mailboxfull, ...), or
 *	"campaign.COUNTER.NAME" for the opens and clicks of a campaign
 *	(outpost-httpd(8)): campaigns come and go without bound, so these
 *	fields go to the hourly hashes only, never to the total.
 *	"blocked.LIST" counts the bounces whose wording names a DNS
 *	blocklist (blname(3)): LIST is a [blocklist NAME] or "other", so it
 *	is bounded by the configuration and goes to both hashes.
 *	An empty sender, provider or pool is stored as "-".  A '|' in a
 *	name is replaced by '_' (domains and section names never hold one).
 *
 *	On a Redis Cluster (rconn_is_cluster(); stats_cmd_make()'s cluster)
 *	the counts spread over STATS_BUCKETS tags by sender:
 *	P{st:B}:h:YYYYMMDDHH and P{st:B}:total, B = stats_sender_bucket()
 *	(FNV-1a of the stored sender name, modulo STATS_BUCKETS), with the
 *	same fields: a count stays one script call on one master, and a
 *	reader reads the same hours (or the total) of each bucket in turn,
 *	one script call each.  P{st}:events and the state hashes stay in
 *	{st}.  stats_tag() writes "P{st}", or "P{st:B}" for bucket B >= 0.
 *
 *	stats_incr() adds n now, to both hashes, in one round trip (a Lua
 *	script: HINCRBY, HINCRBY, EXPIRE).  It returns 0, or -1 when Redis
 *	could not be reached (the count is lost; callers log and go on).
 *
 *	stats_cmd_make() builds the same increment as one self-contained
 *	command (EVAL of a three-line script, so that no SCRIPT LOAD is
 *	needed) in c->argc, c->argv, c->argvlen, for a program with a
 *	connection of its own, such as an asynchronous one that sends it
 *	without waiting for the reply.  The argv points into c.  It returns
 *	0, or -1 when the names do not fit.
 *
 *	A batch gathers many increments (summed per hour and field), events
 *	for the P{st}:events stream (XADD with MAXLEN ~ events_max; 0: none)
 *	and state fields of one hash (P{st}:... keys only), and writes them
 *	all in one script call: all or nothing.  The log follower stores its
 *	file position this way, so that a restart neither loses nor counts
 *	twice.  stats_batch_flush() returns 0 and empties the batch, or -1
 *	and keeps it for the next attempt.  A state field set again replaces
 *	its value (stats_batch_state_size(): the fields waiting), so that a
 *	batch retried while Redis is away does not grow.
 *
 *	stats_batch_tap() names a function that sees each increment as
 *	stats_batch_add() takes it (sender, provider, pool, counter, n),
 *	whether or not it reaches Redis later: a program keeps its own
 *	in-memory counts (outpost-logd's per-node metrics) this way.
 *
 *	On a cluster a batch spans buckets, so no one script covers it.  A
 *	guarded batch writes, in one script in {st}: the guard, the state,
 *	the events and its counts grouped by bucket into the pending hash
 *	"<state key>:pending" with a unique id; then each bucket's counts in
 *	a script of that bucket that skips them when the bucket's marker
 *	(the state key with {st:B} for {st}) already holds the id, and sets
 *	it; then the pending hash is deleted.  A process stopped anywhere in
 *	between leaves the pending hash: stats_batch_finish() (a follower
 *	calls it at start with its state key; the next guarded flush does
 *	too) writes what is left of it, each bucket once.  It returns 0 (at
 *	once on a single Redis), or -1 on a Redis problem.  A batch without
 *	a guard writes bucket by bucket; the buckets written leave it, so a
 *	failure half way keeps only the rest for the next attempt.
 *
 *	A write that timed out may still have reached Redis.  With a guard
 *	(stats_batch_guard(): the state field that the batch moves from
 *	expect to value), the script writes only while the field holds
 *	expect; when it already holds value, the earlier attempt was applied
 *	and the batch is dropped as written (0).  When it holds something
 *	else, another writer owns the state: the batch is dropped and 1
 *	returned.
 *
 *	stats_read() calls fn for each field of each hour from "from" to "to"
 *	(UNIX seconds, both hours included; at most STATS_MAX_HOURS);
 *	stats_read_total() for each field of the total hash.  They return 0,
 *	or -1 on a Redis problem.
 *
 *	stats_rate_flag() says "ok", "warn" (rate >= warn) or "bad" (>= bad).
 */
#ifndef OUTPOST_STATS_H
#define OUTPOST_STATS_H

#include <stddef.h>

struct rconn;

#define STATS_HOUR_TTL	(8 * 86400)	/* 7 days of rates, and a margin */
#define STATS_MAX_HOURS	(8 * 24)
#define STATS_NAME_MAX	256
#define STATS_BUCKETS	16		/* on a cluster: {st:0} ... {st:15} */

/* the counters every program may add to */
#define STATS_ACCEPTED		"accepted"	/* milter: message accepted */
#define STATS_DELIVERED		"delivered"	/* log: status=sent */
#define STATS_DEFERRED		"deferred"	/* log: each 4xx attempt */
#define STATS_BOUNCED		"bounced"	/* log or DSN: failed */
#define STATS_BOUNCED_HARD	"bounced_hard"
#define STATS_BOUNCED_SOFT	"bounced_soft"
#define STATS_EXPIRED		"expired"	/* log: queue lifetime over */
#define STATS_COMPLAINTS	"complaints"	/* ARF report */
#define STATS_UNSUBSCRIBES	"unsubscribes"
#define STATS_SUPPRESSED	"suppressed"	/* milter: recipient refused */
#define STATS_THROTTLED		"throttled"	/* policyd: deferred by a limit */
#define STATS_SPILLED		"spilled"	/* policyd: sent through an overflow pool */
#define STATS_BACKOFF		"backoff"	/* log: a provider said slow down */
#define STATS_OPENS		"opens"		/* httpd: the open pixel, by a person */
#define STATS_OPENS_UNIQUE	"opens_unique"	/* the first for its message and recipient */
#define STATS_OPENS_MACHINE	"opens_machine"	/* by a proxy or scanner */
#define STATS_CLICKS		"clicks"
#define STATS_CLICKS_UNIQUE	"clicks_unique"
#define STATS_CLICKS_MACHINE	"clicks_machine"
#define STATS_TLS_VERIFIED	"tls_verified"	/* log: sent over TLS, certificate verified */
#define STATS_TLS_UNVERIFIED	"tls_unverified"	/* log: sent over TLS, not verified */
#define STATS_TLS_NONE		"tls_none"	/* log: sent in plaintext */
#define STATS_REASON_PREFIX	"reason."
#define STATS_CAMPAIGN_PREFIX	"campaign."	/* "campaign.COUNTER.NAME": hourly only */
#define STATS_BLOCKED_PREFIX	"blocked."	/* "blocked.LIST": a bounce naming a blocklist */

enum stats_counter {
    SC_ACCEPTED, SC_DELIVERED, SC_DEFERRED, SC_BOUNCED, SC_BOUNCED_HARD,
    SC_BOUNCED_SOFT, SC_EXPIRED, SC_COMPLAINTS, SC_UNSUBSCRIBES,
    SC_SUPPRESSED, SC_THROTTLED, SC_BACKOFF, SC_SPILLED, SC_OPENS, SC_OPENS_UNIQUE,
    SC_OPENS_MACHINE, SC_CLICKS, SC_CLICKS_UNIQUE, SC_CLICKS_MACHINE,
    SC_TLS_VERIFIED, SC_TLS_UNVERIFIED, SC_TLS_NONE, SC_COUNT
};

extern const char *const stats_counter_names[SC_COUNT];

/* complaint rate thresholds the big mailbox providers publish */
#define STATS_COMPLAINT_WARN	0.001
#define STATS_COMPLAINT_BAD	0.003
/* bounce rates beyond which list hygiene is in doubt */
#define STATS_BOUNCE_WARN	0.02
#define STATS_BOUNCE_BAD	0.05

struct stats_field {
    char sender[STATS_NAME_MAX];
    char provider[STATS_NAME_MAX];
    char pool[STATS_NAME_MAX];
    char counter[STATS_NAME_MAX];
};

struct stats_batch;

typedef void (*stats_tap_fn)(const char *sender, const char *provider, const char *pool,
			     const char *counter, long long n, void *arg);

#define STATS_CMD_ARGC	8
#define STATS_FIELD_MAX	(4 * STATS_NAME_MAX + 4)

/* one increment as a command of its own (stats_cmd_make) */
struct stats_cmd {
    int argc;
    const char *argv[STATS_CMD_ARGC];
    size_t argvlen[STATS_CMD_ARGC];
    char key[2][512];
    char field[STATS_FIELD_MAX];
    char num[2][32];
};

int stats_incr(struct rconn *rc, const char *prefix, const char *sender_domain,
	       const char *provider, const char *pool, const char *counter,
	       long long n);

int stats_cmd_make(struct stats_cmd *c, const char *prefix, int cluster, long long when,
		   const char *sender_domain, const char *provider, const char *pool,
		   const char *counter, long long n);

struct stats_batch *stats_batch_new(const char *prefix);
void stats_batch_add(struct stats_batch *b, long long when,
		     const char *sender_domain, const char *provider,
		     const char *pool, const char *counter, long long n);
void stats_batch_tap(struct stats_batch *b, stats_tap_fn fn, void *arg);
void stats_batch_event(struct stats_batch *b, int nfields,
		       const char *const *fields);
void stats_batch_state(struct stats_batch *b, const char *key,
		       const char *field, const char *value);
void stats_batch_guard(struct stats_batch *b, const char *field, const char *expect,
		       const char *value);
int stats_batch_flush(struct stats_batch *b, struct rconn *rc, long events_max);
int stats_batch_finish(struct stats_batch *b, struct rconn *rc, const char *state_key);
size_t stats_batch_size(const struct stats_batch *b);
size_t stats_batch_state_size(const struct stats_batch *b);
void stats_batch_free(struct stats_batch *b);

int stats_read(struct rconn *rc, const char *prefix, long long from, long long to,
	       void (*fn)(const struct stats_field *, long long, void *), void *arg);
int stats_read_total(struct rconn *rc, const char *prefix,
		     void (*fn)(const struct stats_field *, long long, void *),
		     void *arg);

int stats_hour_key(char *buf, size_t len, const char *prefix, long long when);
int stats_field_make(char *buf, size_t len, const char *sender_domain,
		     const char *provider, const char *pool, const char *counter);
int stats_field_split(const char *s, size_t len, struct stats_field *f);
int stats_sender_bucket(const char *sender_domain);
int stats_tag(char *buf, size_t len, const char *prefix, int bucket);
int stats_counter_index(const char *name);
const char *stats_rate_flag(double rate, double warn, double bad);

#endif
