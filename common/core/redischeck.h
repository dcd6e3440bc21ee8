/*
 * redischeck - is the Redis server fit to keep Outpost's state?
 *
 * SYNOPSIS
 *	#include "redischeck.h"
 *
 *	void rcheck_at_start(const struct conf_redis *conf);
 *	int rcheck_report(const struct conf_redis *conf, FILE *out);
 *
 *	int rcheck_enforced(void);
 *	int rcheck_connected(rcheck_cmd_fn cmd, void *arg,
 *			     const struct conf_redis *conf);
 *
 *	void rcheck_facts_init(struct rcheck_facts *f);
 *	int rcheck_next(struct rcheck_facts *f);
 *	void rcheck_feed(struct rcheck_facts *f, int i, const redisReply *r);
 *	void rcheck_info_parse(const char *text, size_t len,
 *			       struct rcheck_facts *f);
 *	void rcheck_judge(const struct rcheck_facts *f, int allow_eviction,
 *			  struct rcheck_verdict *v);
 *	int rcheck_apply(const struct rcheck_facts *f,
 *			 const struct conf_redis *conf);
 *
 * DESCRIPTION
 *	Suppressions are compliance data: a Redis that evicts keys when it
 *	reaches maxmemory drops them without a word, and one without
 *	persistence forgets them all when it restarts.  This module asks the
 *	server (the master found through the sentinels, if any) for its
 *	maxmemory-policy and persistence and judges the answer:
 *
 *	- any maxmemory-policy but noeviction (volatile-* policies too: they
 *	  evict the keys that have a TTL: rate, warm-up and statistics keys,
 *	  suppressions with an expiry) is refused unless [redis]
 *	  allow_eviction is set;
 *	- no AOF and no RDB save points is a warning;
 *	- what could not be read is said, never guessed.
 *
 *	INFO memory and INFO persistence are asked first: they give
 *	maxmemory_policy and aof_enabled and need no CONFIG permission.
 *	CONFIG GET is asked only for what they left unknown: the RDB save
 *	points when AOF is off, or everything where INFO is refused.  Where an
 *	ACL or a rename-command refuses CONFIG too, the save points stay
 *	unknown and the last RDB save time and the changes since are reported.
 *
 *	rcheck_at_start() is called once by each daemon before it serves:
 *	it connects, checks, logs what it found and exits (msg_fatal) on an
 *	evicting policy that is not allowed.  If Redis cannot be reached, the
 *	daemon starts as always and the first connection is checked instead.
 *	From then on every connection of the process (redisconn's and
 *	policyd's asynchronous one) calls rcheck_connected() or, having
 *	gathered the replies itself, rcheck_apply() (rcheck_enforced() says
 *	whether to): on an evicting policy it logs an error and returns
 *	RCHECK_REFUSED, and the caller drops the connection
 *	and treats Redis as unreachable (the [suppress] and [policy]
 *	on_redis_error setting applies) until a later attempt finds the
 *	policy fixed.  The daemon keeps running, so fixing Redis is enough
 *	to recover.  Warnings and the summary are logged once per process.
 *	Programs that never call rcheck_at_start() (outpostctl) check
 *	nothing on connect.
 *
 *	rcheck_report() is outpostctl check-config's: it prints what it
 *	found to out and returns 1 when a daemon would refuse the server,
 *	0 otherwise (Redis unreachable included: it says so).
 *
 *	rcheck_info_parse() reads INFO text (outside input: linear, bounded,
 *	no NUL needed) into the INFO fields of f.  rcheck_next() gives the
 *	index in rcheck_cmds[] of the command to send next (-1: done), given
 *	the replies so far; rcheck_feed() takes the reply to command i;
 *	rcheck_judge() is a pure function of the facts.
 */
#ifndef OUTPOST_REDISCHECK_H
#define OUTPOST_REDISCHECK_H

#include <stddef.h>
#include <stdio.h>

#include <hiredis.h>

#include "conf.h"

#define RCHECK_NCMDS 5

/* the commands, in the order rcheck_feed() expects their replies */
extern const char *const rcheck_cmds[RCHECK_NCMDS][3];
extern const int rcheck_argc[RCHECK_NCMDS];

struct rcheck_facts {
    /* what CONFIG GET said */
    char policy[32];		/* maxmemory-policy; "" unknown */
    int aof;			/* 1 on, 0 off, -1 unknown */
    int save_known;		/* save[] was read by CONFIG GET */
    char save[128];		/* RDB save points; "" none */
    /* what INFO said: used where CONFIG GET gave nothing */
    char info_policy[32];	/* maxmemory_policy; "" unknown */
    int info_aof;		/* aof_enabled; -1 unknown */
    long long rdb_last_save;	/* rdb_last_save_time; -1 unknown */
    long long rdb_changes;	/* rdb_changes_since_last_save; -1 */
    unsigned asked;		/* bit i: rcheck_cmds[i] sent */
    char config_err[96];	/* why CONFIG GET failed; "" */
    char info_err[96];		/* why INFO failed; "" */
};

struct rcheck_verdict {
    int refuse;			/* evicting, not allowed */
    char summary[256];		/* what was found */
    char eviction[512];		/* "" or why the policy is a danger */
    char persistence[320];	/* "" or the warning */
    char unchecked[320];	/* "" or what could not be checked */
};

typedef redisReply *(*rcheck_cmd_fn)(void *arg, int argc, const char **argv);

void rcheck_at_start(const struct conf_redis *conf);
int rcheck_report(const struct conf_redis *conf, FILE *out);
#define RCHECK_OK 0
#define RCHECK_REFUSED (-1)		/* evicting policy: drop the connection */
#define RCHECK_IOERR (-2)		/* the connection failed meanwhile */

int rcheck_connected(rcheck_cmd_fn cmd, void *arg, const struct conf_redis *conf);
int rcheck_apply(const struct rcheck_facts *f, const struct conf_redis *conf);
int rcheck_enforced(void);

void rcheck_facts_init(struct rcheck_facts *f);
int rcheck_next(struct rcheck_facts *f);
void rcheck_feed(struct rcheck_facts *f, int i, const redisReply *r);
void rcheck_info_parse(const char *text, size_t len, struct rcheck_facts *f);
void rcheck_judge(const struct rcheck_facts *f, int allow_eviction,
		  struct rcheck_verdict *v);

#endif
