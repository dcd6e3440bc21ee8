/*
 * rasync - an asynchronous Redis connection on a libevent loop
 *
 * SYNOPSIS
 *	#include "rasync.h"
 *
 *	struct rasync *rasync_new(struct event_base *base,
 *				  const struct conf_redis *conf,
 *				  const char *script, long max_pending);
 *	struct rasync *rasync_new_for(struct event_base *base,
 *				      const struct conf_redis *conf,
 *				      const char *script, long max_pending,
 *				      const char *key);
 *	int rasync_slot(const struct rasync *ra);
 *	int rasync_command(struct rasync *ra, int argc, const char **argv,
 *			   const size_t *argvlen, rasync_fn fn, void *arg);
 *	int rasync_command_once(struct rasync *ra, int argc, const char **argv,
 *				const size_t *argvlen, rasync_fn fn, void *arg);
 *	int rasync_ready(const struct rasync *ra);
 *	void rasync_free(struct rasync *ra);
 *
 * DESCRIPTION
 *	One hiredis asynchronous connection: many commands in flight on it
 *	are pipelined by themselves.  It connects at once and again after
 *	any failure, with a delay that doubles from [redis] reconnect_min to
 *	reconnect_max; on each connect it sends AUTH and SELECT as configured
 *	and SCRIPT LOAD of the script, so that EVALSHA finds it, and is
 *	ready only once they are answered.  A refused AUTH (WRONGPASS,
 *	NOAUTH, NOPERM), SELECT or SCRIPT LOAD is a failed connection: retried
 *	after the backoff, logged once and then at most every 5 minutes
 *	while it lasts; "connected again" is said only after it succeeded.  With
 *	[redis] sentinels the master is asked of the sentinels at each
 *	connect (that question is synchronous, bounded by connect_timeout).
 *	In a daemon that called rcheck_at_start(), the connection is ready
 *	only once the server's maxmemory-policy has been checked (see
 *	redischeck.h): an evicting one is logged and the connection dropped
 *	and retried after the backoff.
 *
 *	A connection that does not come up within connect_timeout, or that
 *	leaves commands unanswered for command_timeout, is dropped.
 *
 *	A connection that was up and breaks (the server closed it: CLIENT
 *	KILL, its client timeout; or a failover: READONLY) is replaced at
 *	once, not after the backoff delay, and the commands given meanwhile
 *	wait for it (bounded by max_pending) instead of failing: they are
 *	sent as soon as it is ready, or get NULL if it fails.  A command
 *	with a callback that was in flight is sent once more on the new
 *	connection: when refused with READONLY (it did not run), and when
 *	the connection broke before its reply (it may have run: a caller
 *	gives rasync_command() a callback only for commands that may run
 *	twice, as policyd's GCRA script, whose second run can only count the
 *	message once more against its limit, as the client's retry after a
 *	4xx would; the others go through rasync_command_once(), below).
 *	Fire-and-forget commands (statistics counters) are never sent twice
 *	after a cut (they are after a refusal: READONLY, MOVED, ASK,
 *	TRYAGAIN, since the refused command did not run).
 *	A connection that breaks again within a second of such a reconnect
 *	backs off as usual.
 *
 *	With [redis] cluster, a connection serves one hash slot, the slot of
 *	the key given to rasync_new_for() (every command sent on it must
 *	have its keys there; rasync_slot() tells which): at each connect the
 *	slot map is read from the cluster (synchronously, bounded by
 *	connect_timeout, as the sentinels are asked) and the connection made
 *	to the master of that slot.  A MOVED reply (a failover or a
 *	resharding gave the slot to another master) is taken as READONLY
 *	is: the command did not run, the connection is made again to the
 *	new master and the command sent there.  While the slot is being
 *	migrated, an ASK reply (the key is already on the importing node)
 *	sends ASKING and the command to the node named, once, on a second
 *	connection kept to it (made at the first ASK, set up with AUTH and
 *	SCRIPT LOAD, dropped when it leaves a command unanswered for
 *	command_timeout); the slot map is left alone.  A TRYAGAIN reply
 *	(the command's keys are split between the two nodes for a moment;
 *	the command did not run) sends the command again on the slot's
 *	connection after a libevent timer: 5 ms, then twice as long each
 *	time up to 320 ms, for at most command_timeout since the caller
 *	gave it (rcluster_tryagain_wait()); each try is routed afresh
 *	(ASK, MOVED once the migration has ended).  Only then is the
 *	TRYAGAIN the caller's, an error reply.  fn is called once, with the
 *	final reply.  rasync_new() is rasync_new_for() without a key: on a
 *	cluster, the slot of the empty key (0).
 *
 *	rasync_command() sends a command built from argv (hiredis copies it
 *	into its output buffer at once).  fn(arg, reply) is called once, from
 *	the event loop, with the reply (freed by hiredis after fn returns), or
 *	with NULL when the connection failed; fn NULL: nobody waits for the
 *	reply (fire and forget).  rasync_command() returns -1
 *	without calling fn when Redis is not connected or max_pending
 *	commands are already waiting: the caller answers at once.
 *
 *	rasync_command_once() is rasync_command() for a command with a
 *	callback that must not run twice (an XADD, a counter): when the
 *	connection is cut while it ran, fn gets NULL (it may have run) and
 *	the command is never sent again.  A refusal that says it did not run
 *	(READONLY, MOVED, ASK, TRYAGAIN) and a hold through a quick reconnect
 *	before it was written send it again as for rasync_command().
 *
 *	conf must stay valid as long as the connection.
 */
#ifndef OUTPOST_RASYNC_H
#define OUTPOST_RASYNC_H

#include <stddef.h>

#include <event2/event.h>
#include <hiredis.h>

#include "conf.h"

struct rasync;

typedef void (*rasync_fn)(void *arg, redisReply *r);

struct rasync *rasync_new(struct event_base *base, const struct conf_redis *conf,
			  const char *script, long max_pending);
struct rasync *rasync_new_for(struct event_base *base, const struct conf_redis *conf,
			      const char *script, long max_pending, const char *key);
int rasync_slot(const struct rasync *ra);
int rasync_command(struct rasync *ra, int argc, const char **argv,
		   const size_t *argvlen, rasync_fn fn, void *arg);
int rasync_command_once(struct rasync *ra, int argc, const char **argv,
			const size_t *argvlen, rasync_fn fn, void *arg);
int rasync_ready(const struct rasync *ra);
void rasync_free(struct rasync *ra);

#endif
