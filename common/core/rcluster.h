/*
 * rcluster - a small synchronous Redis Cluster client over redisconn
 *
 * SYNOPSIS
 *	#include "rcluster.h"
 *
 *	struct rcluster *rcluster_new(const struct conf_redis *conf,
 *				      const struct conf_strlist *seeds);
 *	void rcluster_free(struct rcluster *c);
 *	redisReply *rcluster_command(struct rcluster *c, int firstkey,
 *				     int nkeys, int argc, const char **argv,
 *				     const size_t *argvlen);
 *	redisReply *rcluster_eval(struct rcluster *c, struct rscript *s,
 *				  int nkeys, int argc, const char **argv,
 *				  const size_t *argvlen);
 *	int rcluster_refresh(struct rcluster *c);
 *	int rcluster_slot_owner(struct rcluster *c, unsigned slot,
 *				char *host, size_t hostlen, int *port);
 *	const char *rcluster_error(const struct rcluster *c);
 *	int rcluster_maybe_ran(const struct rcluster *c);
 *	size_t rcluster_masters(struct rcluster *c, struct rconn **v,
 *				size_t max);
 *	size_t rcluster_pipeline(struct rcluster *c, size_t n,
 *				 const struct rconn_cmd *cmd,
 *				 redisReply **reply);
 *	struct rcluster_flight *rcluster_pipeline_start(struct rcluster *c,
 *					size_t n, const struct rconn_cmd *cmd);
 *	size_t rcluster_pipeline_finish(struct rcluster_flight *f,
 *					redisReply **reply);
 *	void rcluster_counts(const struct rcluster *c,
 *			     unsigned long long *moved,
 *			     unsigned long long *ask,
 *			     unsigned long long *refreshed);
 *	unsigned long long rcluster_tryagains(const struct rcluster *c);
 *
 *	unsigned rcluster_keyslot(const char *key, size_t len);
 *	int rcluster_parse_redirect(const char *s, size_t len, int *slot,
 *				    char *host, size_t hostlen, int *port);
 *	int rcluster_map_parse(const redisReply *r, int shards,
 *			       const char *asked, struct rcluster_map *m);
 *	int rcluster_reply_kind(const redisReply *r);
 *	long long rcluster_tryagain_wait(int n, long long elapsed_ms,
 *					 long long budget_ms);
 *
 * DESCRIPTION
 *	An rcluster speaks to the masters of one Redis Cluster.  It knows
 *	which master serves each of the 16384 hash slots (the slot map, read
 *	with CLUSTER SHARDS, or CLUSTER SLOTS from a server older than 7.0
 *	or a user not granted CLUSTER SHARDS)
 *	and keeps one rconn per node: each connects, authenticates ([redis]
 *	username and password, the same on every node), times out, backs off
 *	and logs exactly as redisconn.h says.  [redis] server, db and the
 *	sentinels are not used (a cluster has database 0 only: a db other
 *	than 0 is warned of at rcluster_new()).  seeds are
 *	"host:port" strings, asked in turn for the map when no known node
 *	answers.  The map is read on first use.
 *
 *	rcluster_command() sends argv to the master of the slot of its keys:
 *	argv[firstkey] to argv[firstkey + nkeys - 1], which must all hash to
 *	one slot (else the command is refused, unsent, and NULL returned
 *	with the reason in rcluster_error()); nkeys 0 sends it to any
 *	master.  A MOVED reply updates the map for that slot and sends the
 *	command again to the new owner; ASK sends ASKING and the command to
 *	the node named, once, and leaves the map alone (the slot is moving).
 *	At most RCLUSTER_MAX_HOPS redirections per command.  When a node
 *	cannot be reached before the command is sent, the map is read again
 *	(a failover may have promoted a replica) and the command sent to the
 *	owner named then; a command cut while it ran is never sent again
 *	here (rconn resends the repeatable ones on the same node, and
 *	rcluster_eval()'s scripts when their rscript says repeatable).  A
 *	TRYAGAIN reply (the slot is being migrated and the command's keys
 *	are split between its two nodes for a moment: the command did not
 *	run, so any command, scripts too, may be sent again) is waited out:
 *	the command is sent again from the start (the map's owner, which
 *	answers ASK, MOVED once the migration has ended, or TRYAGAIN again)
 *	after 5 ms, then twice as long each time up to 320 ms, for at most
 *	[redis] command_timeout since the command was first sent; only
 *	then is the TRYAGAIN reply the caller's.  Replies, error replies
 *	and NULL are as rconn_command() gives them; an error reply other
 *	than MOVED, ASK and TRYAGAIN (CLUSTERDOWN, ...) is the caller's.
 *
 *	rcluster_eval() runs a script as rconn_eval() does (EVALSHA, EVAL on
 *	NOSCRIPT), on the master of its keys; argv holds the nkeys keys, then
 *	the arguments.  A script without keys goes to any master.
 *
 *	rcluster_maybe_ran() says, after a NULL, whether the command was
 *	sent to a node (it may have run), as rconn_maybe_ran() does.
 *	rcluster_masters() reads the map again and puts the connections of
 *	the masters that serve slots in v (at most max; they stay the
 *	rcluster's): for SCAN, which walks one node, and checks of every
 *	master.  It returns their number, 0 when no node gave a map.
 *	The node connections are plain rconns: [redis] cluster is not
 *	copied to them.
 *
 *	rcluster_pipeline() is rconn_pipeline() on a cluster: the commands
 *	grouped by the master of their first key's slot, written to every
 *	master before any reply is read (256 commands to each in turn, so
 *	that all masters start at once), then MOVED, ASK, TRYAGAIN and the
 *	commands of a node not reached sent again one by one through the
 *	map, as rcluster_command() sends them (not those of a write that
 *	was cut: they may have run, and get NULL).
 *	rcluster_pipeline_start() and rcluster_pipeline_finish() are its
 *	halves (rconn_pipeline_start()).
 *
 *	rcluster_refresh() reads the map now: 0, or -1 when no node gave
 *	one (the old map is kept).  rcluster_slot_owner() reads the map
 *	now and gives the address of the master of slot: 0, or -1 when no
 *	node gave a map or the slot has no master (the reason in
 *	rcluster_error()); for a client of its own, such as the
 *	asynchronous one of outpost-policyd.  rcluster_counts() gives the MOVED and
 *	ASK replies followed and the maps read since rcluster_new() (for
 *	metrics and tests); rcluster_tryagains() the commands sent again
 *	after a TRYAGAIN.
 *
 *	rcluster_keyslot() is the slot of a key: CRC16 (XMODEM) modulo
 *	16384 of the key, or of the part between the first '{' and the first
 *	'}' after it when that part is not empty (a hash tag).
 *	rcluster_parse_redirect() reads a "MOVED slot host:port" or "ASK
 *	slot host:port" error text of len bytes: it returns RCLUSTER_MOVED
 *	or RCLUSTER_ASK with the three parts (host empty: the node that sent
 *	it), 0 for any other error, -1 for a redirection it cannot read.
 *	rcluster_map_parse() reads a CLUSTER SHARDS (shards 1) or CLUSTER
 *	SLOTS (shards 0) reply into m: the master of each slot that has one
 *	online.  asked is the host of the node asked, used where the reply
 *	leaves the address empty.  Returns the number of slots served, or
 *	-1 for a reply it cannot read (m is then undefined).  These three
 *	read server text: linear time, bounded output, any bytes.
 *	rcluster_reply_kind() classifies a reply: RCLUSTER_MOVED,
 *	RCLUSTER_ASK, RCLUSTER_TRYAGAIN (error replies that begin so), or
 *	0 for any other reply.  rcluster_tryagain_wait() is the wait in ms
 *	before sending a command again after its n-th TRYAGAIN (n from 0:
 *	5 ms doubling, at most 320 ms), elapsed_ms after it was first sent,
 *	shortened to end within budget_ms; -1 when the budget is spent.
 *	The asynchronous client (rasync.h) uses both.
 *
 *	One rcluster serves one thread at a time.
 */
#ifndef OUTPOST_RCLUSTER_H
#define OUTPOST_RCLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis.h>

#include "conf.h"
#include "redisconn.h"

#define RCLUSTER_SLOTS		16384
#define RCLUSTER_MAX_NODES	256	/* masters in one map */
#define RCLUSTER_MAX_HOPS	5	/* redirections of one command */
#define RCLUSTER_HOSTLEN	256

#define RCLUSTER_MOVED		1
#define RCLUSTER_ASK		2
#define RCLUSTER_TRYAGAIN	3

#define RCLUSTER_TRYAGAIN_FIRST_MS	5	/* the first wait after TRYAGAIN */
#define RCLUSTER_TRYAGAIN_MAX_MS	320	/* the longest one */

struct rcluster_map {
    uint16_t owner[RCLUSTER_SLOTS];	/* node index + 1; 0: no master */
    size_t n;				/* nodes */
    struct {
	char host[RCLUSTER_HOSTLEN];
	int port;
    } node[RCLUSTER_MAX_NODES];
};

struct rcluster;

struct rcluster *rcluster_new(const struct conf_redis *conf,
			      const struct conf_strlist *seeds);
void rcluster_free(struct rcluster *c);
redisReply *rcluster_command(struct rcluster *c, int firstkey, int nkeys,
			     int argc, const char **argv, const size_t *argvlen);
redisReply *rcluster_eval(struct rcluster *c, struct rscript *s, int nkeys,
			  int argc, const char **argv, const size_t *argvlen);
int rcluster_refresh(struct rcluster *c);
int rcluster_slot_owner(struct rcluster *c, unsigned slot, char *host, size_t hostlen,
			int *port);
const char *rcluster_error(const struct rcluster *c);
int rcluster_maybe_ran(const struct rcluster *c);
size_t rcluster_masters(struct rcluster *c, struct rconn **v, size_t max);
size_t rcluster_pipeline(struct rcluster *c, size_t n, const struct rconn_cmd *cmd,
			 redisReply **reply);
struct rcluster_flight;
struct rcluster_flight *rcluster_pipeline_start(struct rcluster *c, size_t n,
						const struct rconn_cmd *cmd);
size_t rcluster_pipeline_finish(struct rcluster_flight *f, redisReply **reply);
void rcluster_counts(const struct rcluster *c, unsigned long long *moved,
		     unsigned long long *ask, unsigned long long *refreshed);
unsigned long long rcluster_tryagains(const struct rcluster *c);

unsigned rcluster_keyslot(const char *key, size_t len);
int rcluster_parse_redirect(const char *s, size_t len, int *slot, char *host,
			    size_t hostlen, int *port);
int rcluster_map_parse(const redisReply *r, int shards, const char *asked,
		       struct rcluster_map *m);
int rcluster_reply_kind(const redisReply *r);
long long rcluster_tryagain_wait(int n, long long elapsed_ms, long long budget_ms);

#endif
