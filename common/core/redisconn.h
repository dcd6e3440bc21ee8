/*
 * redisconn - the one Redis connection module of Outpost
 *
 * SYNOPSIS
 *	#include "redisconn.h"
 *
 *	struct rconn *rconn_new(const struct conf_redis *conf);
 *	void rconn_free(struct rconn *c);
 *	redisReply *rconn_command(struct rconn *c, int argc, const char **argv,
 *				  const size_t *argvlen);
 *	redisReply *rconn_command_repeat(struct rconn *c, int argc,
 *					 const char **argv,
 *					 const size_t *argvlen, int repeat);
 *	redisReply *rconn_commandv(struct rconn *c, const char *arg, ...);
 *	redisReply *rconn_eval(struct rconn *c, struct rscript *s, int nkeys,
 *			       int argc, const char **argv, const size_t *argvlen);
 *	const char *rconn_error(const struct rconn *c);
 *	int rconn_maybe_ran(const struct rconn *c);
 *	long long rconn_scan(struct rconn *c, const char *pattern,
 *			     int (*fn)(const char *key, size_t len, void *arg),
 *			     void *arg);
 *	size_t rconn_masters(struct rconn *c, struct rconn **v, size_t max);
 *	int rconn_is_cluster(const struct rconn *c);
 *	size_t rconn_pipeline(struct rconn *c, size_t n,
 *			      const struct rconn_cmd *cmd, redisReply **reply);
 *	struct rconn_flight *rconn_pipeline_start(struct rconn *c, size_t n,
 *						  const struct rconn_cmd *cmd);
 *	size_t rconn_pipeline_finish(struct rconn_flight *f,
 *				     redisReply **reply);
 *	int rconn_command_keys(int argc, const char **argv,
 *			       const size_t *argvlen, int *first, int *step);
 *	void rconn_scan_pattern(char *buf, size_t len, const char *literal,
 *				const char *glob);
 *	unsigned long long rconn_failure_count(void);
 *
 *	void rscript_init(struct rscript *s, const char *source);
 *
 *	int rconn_parse_server(const char *server, char *host, size_t hostlen,
 *			       int *port, const char **why);
 *	int rconn_sentinel_resolve(const struct conf_redis *conf, char *host,
 *				   size_t hostlen, int *port, char *err,
 *				   size_t errlen);
 *
 * DESCRIPTION
 *	An rconn is a synchronous hiredis connection that (re)connects by
 *	itself: on first use, and after any failure once a backoff delay has
 *	passed (reconnect_min, doubling up to reconnect_max).  While it waits,
 *	commands fail at once, so a caller answers "try again later" without
 *	stalling.  Connect and command timeouts come from [redis].  A
 *	failure is logged with the delay before the next attempt; the same
 *	failure again (a wrong password: WRONGPASS at every attempt) at most
 *	once a minute, with the count of those not logged.
 *
 *	A connection cut under a healthy process costs no command.  Before
 *	each command an idle connection is checked (poll(2), no wait): one
 *	the server has closed (CLIENT KILL, its client timeout, a restart)
 *	is replaced at once, before anything is sent on it.  A connection
 *	cut while a command ran (EOF, ECONNRESET, EPIPE on one that was up
 *	before the command) is replaced at once and the command sent once
 *	more, if it may run twice: read-only commands, SET and DEL (the
 *	list is in redisconn.c; not SET NX, XX or GET, whose second run
 *	answers otherwise), and scripts whose rscript says repeatable.
 *	Counters (INCR, HINCRBY and scripts that count) are not sent again:
 *	the reply that was lost may mean the count was made.  A command
 *	refused with READONLY (a failover demoted the server: it did not
 *	run) is sent once more after a reconnect, which asks the sentinels.
 *	Only when that fails too does the backoff begin.
 *
 *	With [redis] sentinels, the master's address is asked of each
 *	sentinel in turn (SENTINEL get-master-addr-by-name) at every connect,
 *	and ROLE must say "master"; a READONLY reply (a failover demoted our
 *	server) drops the connection so that the next command asks again.
 *	Because a demoted master keeps accepting writes until Sentinel
 *	reconfigures it, the sentinels are also asked again once a second
 *	while connected, and a new master address means a reconnect.
 *
 *	In the daemons (after rcheck_at_start(), see redischeck.h) each new
 *	connection is checked: a server whose maxmemory-policy evicts keys
 *	is dropped like an unreachable one, and retried after the backoff.
 *
 *	Commands are built from argv only: outside data never passes through
 *	a format string.  rconn_command() returns a reply the caller frees
 *	with freeReplyObject(), or NULL on a connection problem (the reason
 *	is in rconn_error()).  Error replies (REDIS_REPLY_ERROR) are returned
 *	as replies.  After a NULL, rconn_maybe_ran() says whether the
 *	command was sent (it may have run) or failed before (no connection).
 *	rconn_commandv() takes NUL-terminated strings ending
 *	with NULL.  rconn_command_repeat() is rconn_command() told whether
 *	the command may be sent again after a cut (repeat 1 or 0; -1: by its
 *	name, as rconn_command() does): the cluster client's scripts.
 *
 *	rconn_eval() runs a Lua script by EVALSHA, and by EVAL when the
 *	server answers NOSCRIPT (after a restart or SCRIPT FLUSH).  argv holds
 *	the keys first, then the arguments; argc counts both.  The owner of
 *	an rscript sets repeatable to 1 when running it twice does no harm
 *	(it reads, or writes the same again); rscript_init() leaves it.
 *
 *	With [redis] cluster, an rconn is a Redis Cluster client (rcluster.h)
 *	behind the same calls: rconn_command() sends a command to the master
 *	of the slot of its keys (found by the command's name: argv[1] for
 *	most, every argument of MGET, DEL, EXISTS, UNLINK ..., the numkeys
 *	keys of EVAL and EVALSHA, none for PING, INFO, CONFIG, TIME ..., which
 *	any master answers) and follows MOVED and ASK; rconn_eval() sends
 *	the script where its keys live.  A command whose keys are in two
 *	slots is not sent: NULL, and rconn_error() says so (the keys of one
 *	call must share a {hash tag}).  Each node's connection behaves as
 *	above (timeouts, backoff, the maxmemory-policy check of each new
 *	connection); server, db and sentinels are not used.
 *	rconn_command_keys() is that reading of a command (pure): the number
 *	of its keys, the first at argv[*first], then every *step-th (2 for
 *	MSET's key value pairs); 0 and *first 0 for none.
 *	rconn_masters() puts in v the plain connections behind c (at most
 *	max): every master of a cluster (the map read again), else c itself.
 *	rconn_is_cluster() is 1 when c is a Redis Cluster client, for the
 *	modules whose key layout differs there (keys spread over slots).
 *
 *	rconn_pipeline() sends n commands and reads their replies into
 *	reply[0..n-1] (each freed by the caller; NULL for a command that
 *	got none): on a single server all are written, then all read, one
 *	round trip; on a cluster each master's share is written to it
 *	before any reply is read, so the masters work in parallel, and a
 *	command answered MOVED or ASK, or meant for a node that could not
 *	be reached before it was sent, is sent again alone as
 *	rconn_command() does.  Nothing is sent again after a cut: a NULL
 *	reply may have run.  It returns the number of NULL replies.  A
 *	script goes as EVALSHA: NOSCRIPT is the caller's (rconn_eval()).
 *	rconn_pipeline_start() and rconn_pipeline_finish() are its two
 *	halves, for a caller with other work to do while the servers run
 *	the commands: start writes them all (on a cluster a chunk to each
 *	master in turn, so that all begin at once) and returns the flight;
 *	finish reads the replies and frees the flight.  cmd and what it
 *	points to must stay as they are until finish, and nothing else may
 *	be sent on c in between.
 *	rconn_pipe_send() and rconn_pipe_read() are the two halves on one
 *	plain connection, for rcluster: the commands cmd[which[i]] (which
 *	NULL: cmd[i]) are written, then their replies read into
 *	reply[which[i]]; the send gives -1 when nothing was sent, or when
 *	the write was cut (rconn_maybe_ran() then 1: some commands may have
 *	reached the server and run).
 *	rconn_pipe_more() writes more after rconn_pipe_send(), before the
 *	read, on the same connection only (-1, none sent, when it is gone).
 *
 *	rconn_scan() walks the keys that match a glob pattern with SCAN
 *	(RCONN_SCAN_COUNT at a time), never KEYS, which blocks a large
 *	production server: constant memory on both sides.  fn gets each
 *	key (NUL-terminated, valid during the call) and may send commands
 *	on c; it returns 0 to go on, 1 to stop, -1 to fail.  SCAN may give
 *	a key twice, and a key added or deleted meanwhile may be missed.
 *	On a cluster it walks every master in turn.
 *	Returns the number of keys seen, or -1 (logged with msg_warn()).
 *	rconn_scan_pattern() writes the pattern of the keys that begin with
 *	literal (a prefix and a key's fixed part, glob bytes escaped) and
 *	go on as glob says ("*").
 *	rconn_failure_count() is the number of commands, over all the
 *	connections of the process, that rconn_command() answered NULL
 *	since the start (for metrics; safe from any thread); on a cluster,
 *	the commands a node's connection answered NULL.
 *
 *	One rconn serves one thread at a time.
 */
#ifndef OUTPOST_REDISCONN_H
#define OUTPOST_REDISCONN_H

#include <stddef.h>

#include <hiredis.h>

#include "conf.h"

struct rconn;

struct rconn_cmd {
    int argc;
    const char **argv;
    const size_t *argvlen;		/* NULL: NUL-terminated argv */
    int slot1;				/* its cluster slot + 1, when the caller knows; else 0 */
};

struct rscript {
    const char *source;
    char sha1[41];
    int repeatable;		/* may run twice: sent again on a cut connection */
};

struct rconn *rconn_new(const struct conf_redis *conf);
void rconn_free(struct rconn *c);
redisReply *rconn_command(struct rconn *c, int argc, const char **argv,
			  const size_t *argvlen);
redisReply *rconn_command_repeat(struct rconn *c, int argc, const char **argv,
				 const size_t *argvlen, int repeat);
redisReply *rconn_commandv(struct rconn *c, const char *arg, ...)
    __attribute__((sentinel));
redisReply *rconn_eval(struct rconn *c, struct rscript *s, int nkeys,
		       int argc, const char **argv, const size_t *argvlen);
const char *rconn_error(const struct rconn *c);
int rconn_maybe_ran(const struct rconn *c);
#define RCONN_SCAN_COUNT "1000"
long long rconn_scan(struct rconn *c, const char *pattern,
		     int (*fn)(const char *key, size_t len, void *arg), void *arg);
size_t rconn_masters(struct rconn *c, struct rconn **v, size_t max);
int rconn_is_cluster(const struct rconn *c);
size_t rconn_pipeline(struct rconn *c, size_t n, const struct rconn_cmd *cmd,
		      redisReply **reply);
int rconn_pipe_send(struct rconn *c, const struct rconn_cmd *cmd, const size_t *which,
		    size_t n);
int rconn_pipe_more(struct rconn *c, const struct rconn_cmd *cmd, const size_t *which,
		    size_t n);
size_t rconn_pipe_read(struct rconn *c, const size_t *which, size_t n, redisReply **reply);
struct rconn_flight;
struct rconn_flight *rconn_pipeline_start(struct rconn *c, size_t n,
					  const struct rconn_cmd *cmd);
size_t rconn_pipeline_finish(struct rconn_flight *f, redisReply **reply);
int rconn_command_keys(int argc, const char **argv, const size_t *argvlen, int *first,
		       int *step);
void rconn_scan_pattern(char *buf, size_t len, const char *literal, const char *glob);
unsigned long long rconn_failure_count(void);
void rconn_drop(struct rconn *c);

void rscript_init(struct rscript *s, const char *source);

int rconn_parse_server(const char *server, char *host, size_t hostlen,
		       int *port, const char **why);
int rconn_sentinel_resolve(const struct conf_redis *conf, char *host,
			   size_t hostlen, int *port, char *err, size_t errlen);

#endif
