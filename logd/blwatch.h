/*
 * blwatch - outpost-logd asks the blocklists on a schedule
 *
 * SYNOPSIS
 *	#include "blwatch.h"
 *
 *	struct blwatch *blwatch_new(struct event_base *base,
 *				    const struct outpost_conf *conf,
 *				    struct rconn *rc);
 *	void blwatch_render(const struct blwatch *bw, struct prom *p);
 *	const char *blwatch_listed(const struct blwatch *bw,
 *				   const char *target);
 *	void blwatch_free(struct blwatch *bw);
 *
 * DESCRIPTION
 *	blwatch_new() asks every [blocklist NAME] about every target
 *	outpostctl reputation checks (dnsbl_targets_collect(3)) at once and
 *	then every [logd] blocklist_interval, through c-ares on the event
 *	loop: the log is followed while the answers come.  It returns NULL
 *	when there is nothing to ask (no lists, no targets, an interval of
 *	0).  It reads the key table, so it is called before privileges are
 *	dropped.  conf must outlive the watch.
 *
 *	A target newly listed is logged at warning priority with the
 *	answer; one no longer listed at info priority.  An unknown answer
 *	(refused, timed out, unexpected) keeps the last known state.
 *	With rc, each answer is also written to Redis (blstate(3): listed or
 *	clean, since when, the code and, for a listing, the list's TXT
 *	reason, asked right after; unknown only while no answer was usable
 *	yet, as an unknown keeps the last known state there too), where
 *	outpostctl stats shows the listings; rc must outlive the watch.
 *
 *	blwatch_render() adds to a metrics page outpost_blocklisted{list,
 *	target} (1 listed, 0 clean; absent until a list first answered) and
 *	outpost_blocklist_answered{list,target} (0 when the last question
 *	got no usable answer).
 *
 *	blwatch_listed() names the first list whose last known answer lists
 *	target (as configured: a pool address), or gives NULL.
 */
#ifndef OUTPOST_BLWATCH_H
#define OUTPOST_BLWATCH_H

#include <event2/event.h>

#include "conf.h"
#include "prom.h"
#include "redisconn.h"

struct blwatch;

struct blwatch *blwatch_new(struct event_base *base, const struct outpost_conf *conf,
			    struct rconn *rc);
void blwatch_render(const struct blwatch *bw, struct prom *p);
const char *blwatch_listed(const struct blwatch *bw, const char *target);
void blwatch_free(struct blwatch *bw);

#endif
