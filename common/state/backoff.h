/*
 * backoff - when a provider says "slow down": the rules, and the state
 *	     in Redis that outpost-policyd honours
 *
 * SYNOPSIS
 *	#include "backoff.h"
 *
 *	int backoff_rules_parse(const char *buf, size_t len, const char *name,
 *				struct backoff_rules *out, char *err,
 *				size_t errlen);
 *	int backoff_rules_load(const char *path, int builtin,
 *			       struct backoff_rules *out, char *err,
 *			       size_t errlen);
 *	void backoff_rules_free(struct backoff_rules *r);
 *	const struct backoff_rule *backoff_match(const struct backoff_rules *r,
 *						 const char *provider,
 *						 const char *dsn,
 *						 const char *text);
 *
 *	int backoff_key(char *buf, size_t len, const char *prefix,
 *			const char *provider, const char *pool);
 *	int backoff_set(struct rconn *rc, const char *prefix,
 *			const char *provider, const char *pool,
 *			long long duration_ms, const struct conf_rate *rate,
 *			const char *reason);
 *	int backoff_list(struct rconn *rc, const char *prefix,
 *			 void (*fn)(const struct backoff_state *, void *),
 *			 void *arg);
 *	long long backoff_clear(struct rconn *rc, const char *prefix,
 *				const char *provider, const char *pool);
 *
 * DESCRIPTION
 *	A rules file has one rule a line; '#' starts a comment:
 *
 *	    # provider  dsn      reply text (glob)      for   rate
 *	    google      4.7.28   *                      1h    60/m
 *	    yahoo       *        "*TSS04*"              1h    30/m
 *
 *	provider is a provider name or '*'; dsn a glob of the enhanced
 *	status code; the reply text a glob (fnmatch, case-insensitive) of
 *	the remote server's reply, double-quoted when it holds spaces; "for"
 *	a duration and rate a rate as in outpost.conf(5).  The first rule
 *	that matches a deferral wins.  BACKOFF_BUILTIN_RULES are the rules
 *	for the big providers' published throttling replies; with builtin
 *	set, backoff_rules_load() appends them after the file's (path may be
 *	NULL: built-in rules only).  Errors read "FILE:LINE: problem".
 *
 *	In Redis (doc/REDIS-KEYS.md) a backoff is the hash
 *
 *	    P{rl}:backoff:PROVIDER:POOL
 *		until		UNIX seconds (Redis' clock) it ends
 *		interval_ms	one message per this many ms meanwhile
 *		burst		messages allowed at once (1)
 *		rate		the rate as written ("60/m"), for people
 *		reason		the reply that caused it
 *		since		UNIX seconds it began
 *		tat		outpost-policyd's GCRA state (its own field)
 *
 *	with a TTL a minute past "until".  PROVIDER is the provider name,
 *	or the recipient domain when no provider is known; POOL the IP pool.
 *	The {rl} hash tag puts it in the slot of outpost-policyd's other
 *	throttling keys, whose script reads it.
 *
 *	backoff_set() starts or extends a backoff (until never moves back;
 *	the rate is replaced) in one script call.  backoff_list() calls fn
 *	for each backoff, backoff_clear() deletes those of a provider (NULL:
 *	all) on a pool (NULL: all) and returns how many, or -1.  Both use
 *	SCAN, never KEYS, and fail (-1) when Redis refuses a command with
 *	an error reply, as when it cannot be reached.
 */
#ifndef OUTPOST_BACKOFF_H
#define OUTPOST_BACKOFF_H

#include <stddef.h>

#include "confval.h"

struct rconn;

#define BACKOFF_TEXT_MAX 256
#define BACKOFF_MAX_RULES 1000

struct backoff_rule {
    char provider[64];
    char dsn[32];
    char text[BACKOFF_TEXT_MAX];
    long long duration_ms;
    struct conf_rate rate;
    char origin[64];		/* "FILE:LINE" or "built-in:N" */
};

struct backoff_rules {
    struct backoff_rule *v;
    size_t n;
};

struct backoff_state {
    char provider[256];
    char pool[256];
    long long until;
    long long since;
    long long interval_ms;
    long burst;
    char rate[64];
    char reason[BACKOFF_TEXT_MAX];
};

extern const char BACKOFF_BUILTIN_RULES[];

int backoff_rules_parse(const char *buf, size_t len, const char *name,
			struct backoff_rules *out, char *err, size_t errlen);
int backoff_rules_load(const char *path, int builtin, struct backoff_rules *out,
		       char *err, size_t errlen);
void backoff_rules_free(struct backoff_rules *r);
const struct backoff_rule *backoff_match(const struct backoff_rules *r,
					 const char *provider, const char *dsn,
					 const char *text);

int backoff_key(char *buf, size_t len, const char *prefix, const char *provider,
		const char *pool);
int backoff_set(struct rconn *rc, const char *prefix, const char *provider,
		const char *pool, long long duration_ms, const struct conf_rate *rate,
		const char *reason);
int backoff_list(struct rconn *rc, const char *prefix,
		 void (*fn)(const struct backoff_state *, void *), void *arg);
long long backoff_clear(struct rconn *rc, const char *prefix, const char *provider,
			const char *pool);

#endif
