/*
 * throttle_limits - the throttling policy of one configuration, ready to use
 *
 * SYNOPSIS
 *	#include "throttle_limits.h"
 *
 *	struct limits *limits_build(struct outpost_conf *conf, char *err,
 *				    size_t errlen);
 *	struct limits *limits_ref(struct limits *l);
 *	void limits_unref(struct limits *l);
 *	int limits_pool_for(const struct limits *l, const char *sasl,
 *			    const char *sender_domain);
 *	const struct gcra *limits_domain_gcra(const struct limits *l,
 *					      const char *domain);
 *	const struct gcra *limits_sender_gcra(const struct limits *l,
 *					      const char *sender);
 *	int limits_key(char *buf, size_t len, const char *prefix,
 *		       const char *kind, const char *a, const char *b);
 *
 * DESCRIPTION
 *	limits_build() turns a loaded configuration into what a decision
 *	needs: the provider table, the pools with their parsed schedules,
 *	spill-over chains and Redis key names, the rates of domains and
 *	senders.  It takes ownership of conf (freed with the limits).  On an
 *	error it returns NULL with "FILE:LINE: problem" in err and frees conf.
 *
 *	Limits are reference counted: a reload builds new ones while
 *	decisions in flight keep the old ones alive.
 *
 *	limits_pool_for() picks the sender's pool by the rule of
 *	pool_select(3): by SASL user, then by sender domain, then [policy]
 *	default_pool; -1 when none applies.
 *	limits_domain_gcra() and limits_sender_gcra() return the rate of a
 *	recipient domain or a sender (their own section, or the default), or
 *	NULL when none is set.
 *
 *	limits_key() writes the Redis key "<prefix>{rl}:<kind>:<a>[:<b>]";
 *	every throttling key carries the hash tag {rl}, so that one script
 *	may use them all.  It returns -1 when the key does not fit.
 */
#ifndef OUTPOST_THROTTLE_LIMITS_H
#define OUTPOST_THROTTLE_LIMITS_H

#include <stddef.h>

#include "conf.h"
#include "gcra.h"
#include "provider.h"
#include "warmup.h"

#define LIMITS_MAX_CHAIN 4	/* a pool and the pools it spills over to */
#define LIMITS_MAX_PREFIX 64

struct pool_rt {
    const char *name;
    char *filter;		/* "transport:nexthop" for FILTER */
    struct warmup_schedule sched;
    int *split_pct;		/* per provider index; 0: no share */
    int chain[LIMITS_MAX_CHAIN];	/* this pool, then its overflow pools */
    int nchain;
    char *start_key;
    char *today_key;
    char **sched_argv;		/* "npoints", "day", "cap", ... */
    size_t nsched_argv;
};

struct limits {
    int refs;
    struct outpost_conf *conf;
    const char *prefix;
    struct provider_table providers;
    struct pool_rt *pools;
    size_t npools;
    struct warmup_tz tz;
    struct gcra domain_gcra;	/* interval 0: no default */
    struct gcra sender_gcra;
    struct gcra *domain_over;	/* one per [domain NAME] */
    struct gcra *sender_over;	/* one per [sender NAME] */
};

struct limits *limits_build(struct outpost_conf *conf, char *err, size_t errlen);
struct limits *limits_ref(struct limits *l);
void limits_unref(struct limits *l);
int limits_pool_for(const struct limits *l, const char *sasl,
		    const char *sender_domain);
const struct gcra *limits_domain_gcra(const struct limits *l, const char *domain);
const struct gcra *limits_sender_gcra(const struct limits *l, const char *sender);
int limits_key(char *buf, size_t len, const char *prefix, const char *kind,
	       const char *a, const char *b);

#endif
