/*
 * events - the event stream of each tenant
 *
 * SYNOPSIS
 *	#include "events.h"
 *
 *	int events_append(struct rconn *rc, const struct outpost_conf *conf,
 *			  const struct ev_record *e);
 *	int events_cmd_make(struct events_cmd *c,
 *			    const struct outpost_conf *conf,
 *			    const struct ev_record *e);
 *	unsigned long long events_failures(void);
 *	void events_failed(const char *program, const char *why);
 *
 *	struct events_batch *events_batch_new(const struct outpost_conf *conf);
 *	void events_batch_conf(struct events_batch *b,
 *			       const struct outpost_conf *conf);
 *	int events_batch_add(struct events_batch *b, const struct ev_record *e);
 *	int events_batch_flush(struct events_batch *b, struct rconn *rc);
 *	size_t events_batch_size(const struct events_batch *b);
 *	void events_batch_free(struct events_batch *b);
 *
 *	int events_scan(struct rconn *rc, const char *prefix,
 *			const char *tenant, const char *after, long limit,
 *			events_scan_fn fn, void *arg);
 *	typedef void (*events_scan_fn)(const char *id, size_t n, const char *const *kv,
			       const size_t *kvlen, void *arg);

int events_scan(struct rconn *rc, const char *prefix, const char *tenant,
		const char *after, long limit, events_scan_fn fn, void *arg);
int events_read(struct rconn *rc, const char *prefix,
 *			const char *tenant, const char *after, long limit,
 *			struct jsonw *w);
 *	int events_key(char *buf, size_t len, const char *prefix,
 *		       const char *tenant);
 *	int events_id_valid(const char *id);
 *	void events_json_entry(struct jsonw *w, const char *id,
 *			       size_t n, const char *const *kv,
 *			       const size_t *kvlen);
 *
 * DESCRIPTION
 *	Every program that sees something happen to a recipient (accepted,
 *	delivered, deferred, bounced, expired, complaint, unsubscribe, open,
 *	click, suppressed, throttled) appends one entry to the stream of the
 *	tenant of the sender domain (conf_tenant_of_domain()):
 *
 *	P{ev:TENANT}:s	a Redis Stream, XADD MAXLEN ~ EVENTS_MAXLEN; the
 *			entry ID is the event's id.  Its fields are strings,
 *			absent when not known: type, time (UNIX ms), rcpt,
 *			sender, msgid, qid, campaign, provider, pool,
 *			reason, class, dsn, reply (at most EVENTS_REPLY_MAX
 *			bytes), source, url, machine.
 *	P{ev:TENANT}:once:HEX  the id an event was given, for
 *			EVENTS_ONCE_TTL seconds; HEX is SHA-256 (first 16
 *			bytes) of the event's "once" text.
 *
 *	An event whose sender domain belongs to no tenant is not written.
 *	The append is one script: when the once key exists the event was
 *	written already and its id is the answer; else XADD, then the once
 *	key.  So an event written again (a Redis call retried after its
 *	reply was lost, outpost-logd reading the same lines after a
 *	restart, the same unsubscribe twice) is written once.  A program
 *	names what makes an event the same in e->once ("log:QID:RCPT:...");
 *	with once NULL, a random text is taken: the call itself may then be
 *	sent again safely, but a second call is a second event.
 *
 *	events_append() writes one event now: 0 (written, or written
 *	before), 1 (no tenant: nothing to write), -1 (Redis failed: counted
 *	in events_failures(), and the caller goes on: an event never fails
 *	or delays mail).  events_cmd_make() builds the same as one
 *	self-contained EVAL in c (argv points into c), for an asynchronous
 *	connection: 0, 1 no tenant, -1 a name too long.  events_failed()
 *	counts a failure there and logs it, at most once a minute.
 *
 *	A batch (outpost-logd) gathers events, copied, and writes those of
 *	each tenant in one script call per EVENTS_BATCH_CALL events; its
 *	events_batch_conf() gives the tenants of a reloaded conf (which must
 *	live as long as the batch, or until the next call) to the events
 *	added after it.
 *	events_batch_add() returns 0, 1 (no tenant), or -1 when
 *	EVENTS_BATCH_MAX wait already (the event is dropped and counted).
 *	events_batch_flush() returns 0 and empties the batch, or -1 and
 *	keeps what was not written when Redis could not be reached (written
 *	again later, they are written once).  Events that Redis refused (an
 *	error reply: a key of another type, out of memory) are not tried
 *	again: they are lost and counted, so that they never hold up the
 *	caller.  Events still in a batch when it is freed are counted as
 *	failures.
 *
 *	events_scan() calls fn for each entry after the id after ("" or
 *	NULL: from the start), at most limit (1 .. EVENTS_READ_MAX): its
 *	id and its n field/value pairs (kv[2i], kv[2i+1], binary-safe,
 *	valid during the call).  It returns the number of entries, -1 on a
 *	Redis problem (logged), -2 for an after that is not a stream id.
 *
 *	events_read() writes the JSON body of GET /v1/events into w:
 *	{"events":[{"id":"...","type":"...","time":N,...}],"next":"ID"},
 *	at most limit (1 .. EVENTS_READ_MAX) entries after the id after
 *	("" or NULL: from the start); next is the last id given, or after
 *	(or "0-0") when there was none.  It returns the number of entries,
 *	-1 on a Redis problem (nothing written to w), -2 for an after that
 *	is not a stream id.  events_id_valid() says whether a text is one
 *	("MS" or "MS-SEQ", digits, each part below 2^64: what Redis
 *	takes).  events_json_entry() writes one entry of n field/value
 *	pairs (kv[2i], kv[2i+1]): time as a number, the others as strings.
 *
 *	events_key() writes the stream's key: its length, or -1.
 */
#ifndef OUTPOST_EVENTS_H
#define OUTPOST_EVENTS_H

#include <stddef.h>

struct rconn;
struct jsonw;
struct outpost_conf;

#define EVENTS_MAXLEN		1000000	/* entries kept per tenant, about */
#define EVENTS_ONCE_TTL		86400	/* seconds an event's once key lasts */
#define EVENTS_REPLY_MAX	512	/* bytes of the remote reply kept */
#define EVENTS_READ_MAX		1000
#define EVENTS_BATCH_MAX	100000	/* events waiting in a batch */
#define EVENTS_BATCH_CALL	200	/* events per script call */
#define EVENTS_NFIELDS		16
#define EVENTS_ONCE_MAX		1024	/* bytes of a once text used */

/* the types of event */
#define EV_ACCEPTED	"accepted"
#define EV_DELIVERED	"delivered"
#define EV_DEFERRED	"deferred"
#define EV_BOUNCED	"bounced"
#define EV_EXPIRED	"expired"
#define EV_COMPLAINT	"complaint"
#define EV_UNSUBSCRIBE	"unsubscribe"
#define EV_OPEN		"open"
#define EV_CLICK	"click"
#define EV_SUPPRESSED	"suppressed"
#define EV_THROTTLED	"throttled"

/* one event; NULL or "" fields are left out */
struct ev_record {
    const char *type;
    long long time;		/* UNIX ms; 0: now */
    const char *rcpt;
    const char *sender;		/* sender domain: it names the tenant */
    const char *msgid;
    const char *qid;
    const char *campaign;
    const char *provider;
    const char *pool;
    const char *reason;
    const char *class;		/* "hard", "soft" */
    const char *dsn;
    const char *reply;
    const char *source;
    const char *url;
    const char *machine;	/* "1" */
    const char *once;		/* what makes it the same event; NULL: none */
};

#define EVENTS_CMD_ARGC (8 + 2 * EVENTS_NFIELDS)

/* one append as a command of its own (events_cmd_make) */
struct events_cmd {
    int argc;
    const char *argv[EVENTS_CMD_ARGC];
    size_t argvlen[EVENTS_CMD_ARGC];
    char key[2][512];
    char time[32];
    char nf[8];
};

struct events_batch;

int events_append(struct rconn *rc, const struct outpost_conf *conf, const struct ev_record *e);
int events_cmd_make(struct events_cmd *c, const struct outpost_conf *conf,
		    const struct ev_record *e);
unsigned long long events_failures(void);
void events_failed(const char *program, const char *why);

struct events_batch *events_batch_new(const struct outpost_conf *conf);
void events_batch_conf(struct events_batch *b, const struct outpost_conf *conf);
int events_batch_add(struct events_batch *b, const struct ev_record *e);
int events_batch_flush(struct events_batch *b, struct rconn *rc);
size_t events_batch_size(const struct events_batch *b);
void events_batch_free(struct events_batch *b);

typedef void (*events_scan_fn)(const char *id, size_t n, const char *const *kv,
			       const size_t *kvlen, void *arg);

int events_scan(struct rconn *rc, const char *prefix, const char *tenant,
		const char *after, long limit, events_scan_fn fn, void *arg);
int events_read(struct rconn *rc, const char *prefix, const char *tenant,
		const char *after, long limit, struct jsonw *w);
int events_key(char *buf, size_t len, const char *prefix, const char *tenant);
int events_id_valid(const char *id);
void events_json_entry(struct jsonw *w, const char *id, size_t n,
		       const char *const *kv, const size_t *kvlen);

#endif
