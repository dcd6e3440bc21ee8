/*
 * pool_select - the IP pool a sender's mail leaves by
 *
 * SYNOPSIS
 *	#include "pool_select.h"
 *
 *	int pool_select(const struct outpost_conf *conf, const char *sasl,
 *			const char *sender_domain);
 *	const char *pool_select_name(const struct outpost_conf *conf,
 *				     const char *sasl,
 *				     const char *sender_domain);
 *
 *	int pool_by_service(const struct outpost_conf *conf,
 *			    const char *service);
 *	int pool_service_shared(const struct outpost_conf *conf, size_t i);
size_t pool_service_warn(const struct outpost_conf *conf);
 *	size_t pool_service_warn(const struct outpost_conf *conf);
 *
 * DESCRIPTION
 *	The one rule that picks a sender's pool, for every program that
 *	needs it: the [pool NAME] whose senders list names the SASL user,
 *	else the one whose senders list names the sender domain, else
 *	[policy] default_pool.  outpost-policyd throttles and routes by it
 *	(limits_pool_for()); outpost-milter counts its statistics under it.
 *	A spill-over to another pool, which outpost-policyd decides later,
 *	is not part of it.
 *
 *	pool_select() returns the pool's index in conf->pools, or -1 when
 *	none applies.  pool_select_name() returns its name, or "default"
 *	(the name statistics use for mail of no pool); the name lives as
 *	long as conf.  sasl and sender_domain may be NULL or "".
 *
 *	The pool that delivered, as a log line names it: pool_by_service()
 *	returns the index of the pool whose transport is the master.cf
 *	service a delivery line names (its transport up to the colon:
 *	"smtp" for smtp: or smtp:[relay]:25), else of the pool whose name it
 *	is, or -1 (no pool claims it: "default").  Two pools on one service
 *	cannot be told apart in the log: the first in the file takes its
 *	lines, and pool_service_shared() returns, for pool i, the index of
 *	the earlier pool on the same service (-1 when there is none).
 *	pool_service_warn() logs a warning (msg(3)) for each such pool and
 *	returns how many there are: outpost-logd says it at start, and
 *	outpostctl check-config.
 */
#ifndef OUTPOST_POOL_SELECT_H
#define OUTPOST_POOL_SELECT_H

#include "conf.h"

/* The pool of mail that no [pool NAME] and no [policy] default_pool claims */
#define POOL_DEFAULT "default"

int pool_select(const struct outpost_conf *conf, const char *sasl,
		const char *sender_domain);
const char *pool_select_name(const struct outpost_conf *conf, const char *sasl,
			     const char *sender_domain);
int pool_by_service(const struct outpost_conf *conf, const char *service);
int pool_service_shared(const struct outpost_conf *conf, size_t i);
size_t pool_service_warn(const struct outpost_conf *conf);

#endif
