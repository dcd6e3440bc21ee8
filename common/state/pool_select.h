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

#endif
