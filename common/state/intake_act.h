/*
 * intake_act - act on a classified recipient: suppression rules and counters
 *
 * SYNOPSIS
 *	#include "intake_act.h"
 *
 *	int intake_event_of(int bounce_kind, const struct bounce_rcpt *rc);
 *	const char *intake_event_name(int event);
 *
 *	struct intake_store *intake_store_new(struct rconn *rc,
 *					      const char *prefix);
 *	void intake_store_free(struct intake_store *s);
 *	int intake_act(struct intake_store *s, const struct intake_rules *rules,
 *		       const struct intake_event *ev,
 *		       struct intake_result *res);
 *	int intake_count(struct intake_store *s, long long now,
 *			 const char *sender_domain, const char *provider,
 *			 const char *what);
 *	int intake_stats(struct intake_store *s, const char *day,
 *			 void (*fn)(const char *field, long long n, void *),
 *			 void *arg);
 *	int intake_id_put(struct intake_store *s, unsigned long long id,
 *			  const char *rcpt, const char *sender_domain,
 *			  long long ttl);
 *	int intake_id_get(struct intake_store *s, unsigned long long id,
 *			  char *rcpt, size_t rsize, char *sender_domain,
 *			  size_t ssize);
 *	const char *intake_error(const struct intake_store *s);
 *
 * DESCRIPTION
 *	Whatever reads bounces (outpost-milter at SMTP time, a log follower
 *	reading the MTA's delivery log) ends with the same decision about
 *	one recipient, taken here:
 *
 *	INTAKE_HARD	suppressed at once, globally (reason hard-bounce)
 *	INTAKE_SOFT	remembered; suppressed globally (soft-bounce, for
 *			rules->soft_expiry seconds, 0 = for good) once
 *			rules->soft_limit soft bounces fell within
 *			rules->soft_window seconds
 *	INTAKE_COMPLAINT  suppressed at once, globally (complaint)
 *	INTAKE_UNSUBSCRIBE  suppressed in the sender domain's scope
 *			(unsubscribe); nothing without a sender domain
 *
 *	intake_event_of() maps a bounce(3) verdict to an event: an ARF
 *	report is a complaint (unless its Feedback-Type is not-spam), an
 *	unsubscribe request an unsubscribe, a DSN hard or soft by its hard
 *	flag; -1 for what is not acted on (delivered, relayed or expanded,
 *	a delay warning, auto-replies, unknown).
 *
 *	intake_act() applies the rule for ev and counts the event in the
 *	day's statistics hash as "SENDER PROVIDER EVENT" (and
 *	"SENDER PROVIDER suppressed" when an entry was written).  ev->id
 *	names the report (its Message-ID or queue id): a soft bounce seen
 *	again under the same id (a report retried after a temporary
 *	failure) is not counted twice in the window.  It returns 0 with
 *	res filled in, or -1 on a Redis problem (intake_error() says what;
 *	the caller tempfails the report so that it comes again: the
 *	suppression is idempotent).
 *
 *	intake_count() counts anything else ("forged", "stale",
 *	"unattributed", "autoreply" ...) the same way.  intake_stats()
 *	calls fn for every field of a day's hash (day: "YYYYMMDD").
 *
 *	intake_id_put() and intake_id_get() keep (recipient, sender domain)
 *	under a 64-bit id for tokens too long to carry them (see verp(3)),
 *	for ttl seconds.  intake_id_get() returns 1 when found, 0 when not
 *	(expired), -1 on error.
 *
 *	Layout in Redis (P = [redis] prefix; all under the hash tag
 *	{intake}, every key with a TTL):
 *
 *	P{intake}:soft:ADDR	sorted set: report id -> time (ms) of each
 *				soft bounce; TTL the window
 *	P{intake}:stats:YYYYMMDD  hash: "SENDER PROVIDER EVENT" -> count;
 *				TTL INTAKE_STATS_TTL
 *	P{intake}:id:HEX	"RCPT SENDER"; TTL [intake] token_max_age
 *
 *	On a Redis Cluster (rconn_is_cluster()) the same keys spread over
 *	INTAKE_BUCKETS tags {intake:B}, B = 0 ... INTAKE_BUCKETS - 1:
 *	P{intake:B}:soft:ADDR with B the bucket of ADDR (CRC16 of the
 *	address modulo INTAKE_BUCKETS), P{intake:B}:id:HEX with B the id
 *	modulo INTAKE_BUCKETS, and P{intake:B}:stats:YYYYMMDD, one hash per
 *	day and bucket: an event is counted in its recipient's bucket (the
 *	one script that counts a soft bounce and adds it to the window
 *	touches one slot), any other count in the bucket of its field.
 *	intake_stats() reads the day's INTAKE_BUCKETS hashes and sums them.
 *	On a single Redis the names stay as above.
 *
 * DIAGNOSTICS
 *	Functions that talk to Redis return -1 and leave the reason in
 *	intake_error().
 */
#ifndef OUTPOST_INTAKE_ACT_H
#define OUTPOST_INTAKE_ACT_H

#include <stddef.h>

#include "addr.h"

#define INTAKE_STATS_TTL (35 * 86400)
#define INTAKE_BUCKETS 16		/* {intake:B} tags on a cluster */

struct rconn;
struct intake_store;
struct bounce_rcpt;

enum intake_event_kind {
    INTAKE_HARD, INTAKE_SOFT, INTAKE_COMPLAINT, INTAKE_UNSUBSCRIBE,
};

struct intake_rules {
    long soft_limit;		/* soft bounces ... */
    long long soft_window;	/* ... within this many seconds */
    long long soft_expiry;	/* a soft-bounce entry lasts this long; 0: for good */
};

struct intake_event {
    int kind;			/* enum intake_event_kind */
    const char *rcpt;		/* normalised address */
    const char *sender_domain;	/* "" if unknown */
    const char *provider;	/* recipient's provider, or NULL: "other" */
    const char *id;		/* the report's id, for soft bounces */
    const char *source;		/* entry source: "dsn", "arf", "unsub", "log" */
    long long now;		/* epoch seconds */
};

struct intake_result {
    int suppressed;		/* 1: an entry was written */
    long soft_count;		/* soft bounces within the window */
};

int intake_event_of(int bounce_kind, const struct bounce_rcpt *rc);
const char *intake_event_name(int event);

struct intake_store *intake_store_new(struct rconn *rc, const char *prefix);
void intake_store_free(struct intake_store *s);
int intake_act(struct intake_store *s, const struct intake_rules *rules,
	       const struct intake_event *ev, struct intake_result *res);
int intake_count(struct intake_store *s, long long now, const char *sender_domain,
		 const char *provider, const char *what);
int intake_stats(struct intake_store *s, const char *day,
		 void (*fn)(const char *field, long long n, void *), void *arg);
int intake_id_put(struct intake_store *s, unsigned long long id, const char *rcpt,
		  const char *sender_domain, long long ttl);
int intake_id_get(struct intake_store *s, unsigned long long id, char *rcpt,
		  size_t rsize, char *sender_domain, size_t ssize);
const char *intake_error(const struct intake_store *s);

#endif
