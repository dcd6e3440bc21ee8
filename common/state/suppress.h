/*
 * suppress - the suppression list: addresses and domains never to mail
 *
 * SYNOPSIS
 *	#include "suppress.h"
 *
 *	Pure functions (no Redis):
 *
 *	int sup_target_normalize(const char *in, size_t len, char *out,
 *				 size_t outsz, const char **why);
 *	int sup_reason_code(const char *name, size_t len);
 *	const char *sup_reason_name(int reason);
 *	unsigned sup_bucket(const char *target);
 *	void sup_spread_place(const char *target, unsigned *tag,
 *			      unsigned *sub);
 *	unsigned sup_spread_bucket(const char *target);
 *	size_t sup_value_encode(const struct sup_entry *e, unsigned char *buf);
 *	int sup_value_decode(const unsigned char *v, size_t len,
 *			     struct sup_entry *e);
 *	int sup_time_parse(const char *s, size_t len, long long *t,
 *			   const char **why);
 *	void sup_time_format(long long t, char *buf, size_t size);
 *	int sup_csv_parse(const char *line, size_t len, long long now,
 *			  struct sup_entry *e, const char **why);
 *	size_t sup_csv_format(const struct sup_entry *e, char *buf,
 *			      size_t size);
 *	int sup_csv_is_header(const char *line, size_t len);
 *
 *	The store in Redis:
 *
 *	struct sup_store *sup_store_new(struct rconn *rc, const char *prefix);
 *	void sup_store_free(struct sup_store *s);
 *	unsigned sup_store_buckets(const struct sup_store *s);
 *	unsigned sup_store_bucket(const struct sup_store *s,
 *				  const char *target);
 *	int sup_check(struct sup_store *s, const char *rcpt,
 *		      const char *sender_domain, long long now,
 *		      const char *action, struct sup_entry *hit);
 *	int sup_add(struct sup_store *s, const struct sup_entry *e, int force);
 *	int sup_remove(struct sup_store *s, const char *target,
 *		       const char *scope);
 *	struct sup_batch *sup_batch_new(struct sup_store *s, int force);
 *	int sup_batch_add(struct sup_batch *b, const struct sup_entry *e);
 *	int sup_batch_flush(struct sup_batch *b);
 *	size_t sup_batch_max(const struct sup_batch *b);
 *	void sup_batch_free(struct sup_batch *b);
 *	int sup_walk(struct sup_store *s, long long purge_before,
 *		     int (*fn)(const struct sup_entry *, void *), void *arg);
 *	int sup_walk_buckets(struct sup_store *s, unsigned first,
 *			     unsigned count, int (*fn)(const struct sup_entry *,
 *			     void *), void *arg);
 *	long long sup_count(struct sup_store *s);
 *	int sup_stats(struct sup_store *s, const char *day,
 *		      void (*fn)(const char *field, long long n, void *),
 *		      void *arg);
 *	const char *sup_error(const struct sup_store *s);
 *
 * DESCRIPTION
 *	An entry (struct sup_entry) names a target, a normalised address
 *	("alice@example.org") or a whole domain ("@example.org"); a scope,
 *	global ("") or one sender domain; a reason (SUP_HARD_BOUNCE ...);
 *	where it came from (source, a short token such as "import" or
 *	"dsn"); when it was made; and when it expires (0: never).
 *
 *	Layout in Redis (P = [redis] prefix):
 *
 *	P{sup}:b:HHHHH	hash; one of SUP_BUCKETS buckets, chosen by a hash
 *			of the target (sup_bucket), so that each stays
 *			small enough for Redis' compact listpack encoding.
 *			Field: the target for a global entry, "ID:target"
 *			for a scoped one (ID = the sender domain's scope
 *			id; ':' cannot start or occur unquoted in a
 *			normalised address).  Value: sup_value_encode().
 *	P{sup}:l:HHHHH	the same for fields longer than SUP_FIELD_MAX
 *			bytes (they would spoil the compact encoding of a
 *			whole bucket); rare.
 *	P{sup}:scopes	hash: sender domain -> scope id
 *	P{sup}:scopeids	hash: scope id -> sender domain
 *	P{sup}:meta	hash: "entries" (count), "nextscope"
 *	P{sup}:stats:YYYYMMDD  hash: "SENDER REASON ACTION" -> decisions
 *			that day (UTC); expires after SUP_STATS_TTL.
 *
 *	All keys share the hash tag {sup}: the Lua scripts touch several.
 *
 *	On a Redis Cluster (rconn_is_cluster()) the entries spread over the
 *	slots instead (the spread layout; scopes, meta and stats stay in
 *	{sup}, with the same names and content):
 *
 *	P{sup:TTT}:b:SSS  hash; bucket SSS (of SUP_TAG_BUCKETS) of tag TTT
 *			(of SUP_TAGS), both in hex (sup_spread_place()).
 *			The tag is D * 256 + A: D a hash of the recipient
 *			domain ("@domain", SUP_TAG_DOMAINS values), A a
 *			hash of the address modulo 256; so the four
 *			candidates of one recipient share a tag, and a big
 *			domain spreads over 256 tags (131072 buckets, so
 *			that one mailbox provider's tens of millions of
 *			addresses still fit Redis' compact encoding).  A
 *			domain entry is written into each of its domain's
 *			256 tags (same SSS), the first (A = 0) counting it
 *			and listing it: domain entries are few.
 *			Fields and values as in {sup}.
 *	P{sup:TTT}:l	the long fields of the whole tag.
 *	P{sup:TTT}:scopes  hash: the copy of P{sup}:scopes for the scopes
 *			of the tag's entries, written by the script that
 *			writes the entry (ids are allocated in {sup}).
 *
 *	A bucket's global number is TTT * SUP_TAG_BUCKETS + SSS
 *	(sup_spread_bucket()), below SUP_SPREAD_BUCKETS: 2^21 buckets, a
 *	few dozen entries each at 100 million.  sup_store_buckets() and
 *	sup_store_bucket() give the count and the bucket of a target in
 *	the layout of the store, as sup_walk_buckets() numbers them.
 *
 *	sup_check() looks up, in one round trip, the recipient globally and
 *	in the sender's scopes, and its domain ("@domain") globally and in
 *	the sender's scopes.  The sender's scopes are those of the sender
 *	domain and of each of its parent domains that has one ("bounce.
 *	tenant.example" falls under "tenant.example", even if it has a scope
 *	of its own too).  Expired entries are ignored.  It returns 1 with
 *	*hit filled in when the recipient is suppressed, 0 when not, -1 on
 *	a Redis problem (sup_error() says what).  Unless action is NULL,
 *	the decision is counted in the day's stats hash as "SENDER REASON
 *	ACTION" (or "SENDER none pass"): by the check's script on a single
 *	Redis; on a cluster in the process (the hash is in another slot),
 *	written with one pipelined round trip to {sup} at most once a second,
 *	by a later call, and by sup_store_free() and sup_stats(): up to a
 *	second of counts is lost if the process dies.
 *
 *	sup_add() stores one entry (a round trip); sup_batch_*() store many,
 *	several hundred per round trip.  On a cluster a flush holds up to
 *	16384 entries: after one call to {sup} for the scope ids not yet
 *	known to the store, an entry that replaces whatever is there (a
 *	permanent one, or force) is one HSET (and, the first time the batch
 *	writes that tag and scope, one HSET of the tag's scope copy); the
 *	expiring entries go in one add script per tag (one refused with
 *	TRYAGAIN while its slot moves is sent again by the cluster client,
 *	rcluster.h, for up to [redis] command_timeout); all
 *	are written to every master at once (rconn_pipeline_start()), and
 *	sup_batch_add() returns while the masters work: their replies are
 *	read by the next flush, so an error shows one flush late.
 *	sup_batch_flush() finishes everything.  sup_batch_max() is the
 *	number of entries a failure may leave unwritten (two flushes on a
 *	cluster).  An entry replaces an existing one for the same target
 *	and scope, except that an expiring entry never replaces a permanent
 *	one unless force is set.  sup_add() returns 1 when it wrote the
 *	entry, 0 when it kept a permanent one; the batch functions return
 *	the number of entries handled; -1 is a Redis problem.
 *
 *	sup_remove() returns 1 if the entry existed, 0 if not, -1 on error.
 *
 *	sup_walk() calls fn for every entry, in no particular order, reading
 *	a few hundred buckets per round trip (on a cluster a tag per script
 *	call, 16 tags at once, the empty ones skipped; each domain entry
 *	once, from its first tag).  With purge_before > 0, entries
 *	that expired before it are deleted and not shown.  fn returns 0 to go
 *	on; anything else stops the walk and is returned.
 *	sup_walk_buckets() walks only the buckets first to first + count - 1
 *	(a page of a listing: its cursor is a bucket number, below
 *	sup_store_buckets()), in order of bucket, so that sup_store_bucket()
 *	of an entry's target says where it is (on a cluster too, the entries
 *	of a tag's long bucket among them).  With purge, the expired copies
 *	of a domain entry are deleted in every tag.
 *
 *	sup_csv_parse() reads one CSV row "address,reason,scope,time[,expires
 *	[,source]]" (RFC 4180 quoting; time and expires as epoch seconds or
 *	"YYYY-MM-DDTHH:MM:SSZ"; empty time = now; scope "" or "global" =
 *	global; a UTF-8 byte order mark before it is skipped).
 *	sup_csv_format() writes the same form; a field that starts with = +
 *	or -, or with ' before one of those or another ', gets a ' in front
 *	so that a spreadsheet does not run it as a formula, and
 *	sup_csv_parse() takes one ' off such a field.
 *	sup_csv_is_header() is true for a header row: its first field is
 *	"address" (after blanks and a UTF-8 byte order mark).
 *
 * DIAGNOSTICS
 *	Parsers return -1 with *why set to a static text.  Redis functions
 *	return -1 and leave the reason in sup_error().
 */
#ifndef OUTPOST_SUPPRESS_H
#define OUTPOST_SUPPRESS_H

#include <stddef.h>

#include "addr.h"

struct rconn;

enum sup_reason {
    SUP_NONE = 0,
    SUP_HARD_BOUNCE = 1,
    SUP_SOFT_BOUNCE = 2,
    SUP_COMPLAINT = 3,
    SUP_UNSUBSCRIBE = 4,
    SUP_MANUAL = 5,
};

#define SUP_REASON_MAX	5
#define SUP_SOURCE_MAX	32		/* bytes of the source token */
#define SUP_VALUE_MAX	(9 + SUP_SOURCE_MAX)
#define SUP_BUCKET_BITS	18		/* 262144 buckets */
#define SUP_BUCKETS	(1u << SUP_BUCKET_BITS)
#define SUP_TAG_DOMAINS	16		/* spread layout: domain hashes ... */
#define SUP_TAG_SPREAD	256		/* ... times 256: 4096 tags */
#define SUP_TAGS	(SUP_TAG_DOMAINS * SUP_TAG_SPREAD)
#define SUP_TAG_BUCKETS	512		/* buckets per tag */
#define SUP_SPREAD_BUCKETS (SUP_TAGS * SUP_TAG_BUCKETS)	/* 2^21 */
#define SUP_BUCKETS_MAX	SUP_SPREAD_BUCKETS	/* of either layout */
#define SUP_FIELD_MAX	64		/* Redis hash-max-listpack-value */
#define SUP_CSV_LINE_MAX 1024		/* longest CSV row accepted */
#define SUP_STATS_TTL	(35 * 86400)

struct sup_entry {
    char target[ADDR_MAX];		/* "user@domain" or "@domain" */
    char scope[DOMAIN_MAX];		/* "" = global */
    int reason;				/* enum sup_reason */
    long long created;			/* epoch seconds */
    long long expires;			/* epoch seconds, 0 = never */
    char source[SUP_SOURCE_MAX + 1];
};

struct sup_store;
struct sup_batch;

int sup_target_normalize(const char *in, size_t len, char *out, size_t outsz,
			 const char **why);
int sup_reason_code(const char *name, size_t len);
const char *sup_reason_name(int reason);
unsigned sup_bucket(const char *target);
void sup_spread_place(const char *target, unsigned *tag, unsigned *sub);
unsigned sup_spread_bucket(const char *target);
size_t sup_value_encode(const struct sup_entry *e, unsigned char *buf);
int sup_value_decode(const unsigned char *v, size_t len, struct sup_entry *e);
int sup_source_valid(const char *s, size_t len);
int sup_time_parse(const char *s, size_t len, long long *t, const char **why);
void sup_time_format(long long t, char *buf, size_t size);
int sup_csv_parse(const char *line, size_t len, long long now,
		  struct sup_entry *e, const char **why);
size_t sup_csv_format(const struct sup_entry *e, char *buf, size_t size);
int sup_csv_is_header(const char *line, size_t len);

struct sup_store *sup_store_new(struct rconn *rc, const char *prefix);
void sup_store_free(struct sup_store *s);
unsigned sup_store_buckets(const struct sup_store *s);
unsigned sup_store_bucket(const struct sup_store *s, const char *target);
int sup_check(struct sup_store *s, const char *rcpt, const char *sender_domain,
	      long long now, const char *action, struct sup_entry *hit);
int sup_add(struct sup_store *s, const struct sup_entry *e, int force);
int sup_remove(struct sup_store *s, const char *target, const char *scope);
struct sup_batch *sup_batch_new(struct sup_store *s, int force);
int sup_batch_add(struct sup_batch *b, const struct sup_entry *e);
int sup_batch_flush(struct sup_batch *b);
size_t sup_batch_max(const struct sup_batch *b);
void sup_batch_free(struct sup_batch *b);
int sup_walk(struct sup_store *s, long long purge_before,
	     int (*fn)(const struct sup_entry *, void *), void *arg);
int sup_walk_buckets(struct sup_store *s, unsigned first, unsigned count,
		     int (*fn)(const struct sup_entry *, void *), void *arg);
long long sup_count(struct sup_store *s);
int sup_stats(struct sup_store *s, const char *day,
	      void (*fn)(const char *field, long long n, void *), void *arg);
const char *sup_error(const struct sup_store *s);

#endif
