/*
 * decide - what one RCPT request asks of Redis, and what to answer
 *
 * SYNOPSIS
 *	#include "decide.h"
 *
 *	int decide_prepare(const struct limits *l,
 *			   const struct policy_request *req,
 *			   struct decide_plan *plan, char *out, size_t outlen);
 *	int decide_plan_limits(const struct limits *l, struct decide_plan *plan,
 *			       int provider, char *out, size_t outlen);
 *	int decide_command(const struct limits *l, struct decide_plan *plan,
 *			   const char *sha1, long long now_s);
 *	int decide_answer(const struct limits *l,
 *			   const struct decide_plan *plan,
 *			   const redisReply *r, char *out, size_t outlen);
 *	const char *decide_counted(const struct limits *l,
 *				   const struct decide_plan *plan,
 *				   const redisReply *r, const char **provider,
 *				   const char **pool);
 *	void decide_failure(const struct limits *l,
 *			    const struct decide_plan *plan, char *out,
 *			    size_t outlen);
 *	void decide_plan_free(struct decide_plan *plan);
 *
 * DESCRIPTION
 *	The decision logic as plain functions, without I/O, so that the
 *	policy server, the milter (for Sendmail) and the tests share it:
 *
 *	decide_prepare() reads a parsed request: anything but RCPT, or a
 *	recipient without a usable domain, is answered at once (DECIDE_ANSWERED,
 *	the action in out: "DUNNO").  Otherwise it notes the recipient domain,
 *	the sender key and the sender's pool, and returns DECIDE_NEED_MX when
 *	the domain's provider must be found from its MX records (the caller
 *	looks it up and calls decide_plan_limits()), or DECIDE_READY when the
 *	domain is a provider's own (decide_plan_limits() was called).
 *
 *	decide_plan_limits() lists the limits that apply once the provider is
 *	known (-1: none; the domain stands for itself): the provider's rate,
 *	the domain's, the sender's, and the pool chain.  When none applies it
 *	returns DECIDE_ANSWERED with "DUNNO" in out.
 *
 *	decide_command() builds the EVALSHA argv of gcra.lua in the plan
 *	(plan->argc, plan->argv, plan->argvlen; argv[1] is the SHA1, so that a
 *	caller may swap in EVAL and the script source).  Returns -1 when the
 *	keys do not fit.
 *
 *	decide_answer() turns the script's reply into the action ("DUNNO",
 *	"FILTER transport:nexthop" or the configured defer_reply); a reply
 *	that is not what the script returns counts as a failure: the action
 *	of decide_failure(), and -1 (0 otherwise).
 *	decide_counted() says which statistics counter the script's reply
 *	adds to: STATS_THROTTLED when a limit refused the recipient,
 *	STATS_SPILLED when it went to an overflow pool, NULL when neither
 *	(accepted as asked, or a failure: no decision, nothing to count).
 *	*provider is the provider's name or "other", *pool the sender's own
 *	pool or "default"; the sender domain is plan->sender_domain.
 *	decide_failure() is the action when Redis cannot answer: the
 *	tempfail_reply, or "DUNNO" when every kind of limit that applied is
 *	set to fail open (*_on_error = dunno).
 */
#ifndef OUTPOST_DECIDE_H
#define OUTPOST_DECIDE_H

#include <stddef.h>

#include <hiredis.h>

#include "addr.h"
#include "throttle_limits.h"
#include "request.h"

enum { DECIDE_ANSWERED, DECIDE_NEED_MX, DECIDE_READY };

#define DECIDE_MAX_LIMITS 3
#define DECIDE_ANSWER_MAX 512

struct decide_limit {
    char kind;			/* 'p'rovider, 'd'omain, 's'ender */
    const char *name;		/* points into the plan or the limits */
    const struct gcra *gcra;
};

struct decide_plan {
    char domain[DOMAIN_MAX];	/* recipient domain, normalised */
    char sender_key[ADDR_MAX];	/* SASL user or sender domain; "" none */
    char sender_domain[DOMAIN_MAX];	/* of the envelope sender; "" none */
    int pool;			/* the sender's pool, -1: none */
    int provider;		/* -1: none */
    int nlim;
    struct decide_limit lim[DECIDE_MAX_LIMITS];
    int on_error;		/* enum conf_on_error */
    int argc;
    const char **argv;		/* allocated by decide_command() */
    size_t *argvlen;
    size_t used;
    char buf[4096];		/* key names and numbers of argv */
};

int decide_prepare(const struct limits *l, const struct policy_request *req,
		   struct decide_plan *plan, char *out, size_t outlen);
int decide_plan_limits(const struct limits *l, struct decide_plan *plan,
		       int provider, char *out, size_t outlen);
int decide_command(const struct limits *l, struct decide_plan *plan,
		   const char *sha1, long long now_s);
int decide_answer(const struct limits *l, const struct decide_plan *plan,
		  const redisReply *r, char *out, size_t outlen);
const char *decide_counted(const struct limits *l, const struct decide_plan *plan,
			   const redisReply *r, const char **provider, const char **pool);
void decide_failure(const struct limits *l, const struct decide_plan *plan,
		    char *out, size_t outlen);
void decide_plan_free(struct decide_plan *plan);

#endif
