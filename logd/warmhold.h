/*
 * warmhold - outpost-logd holds a pool's warm-up while its reputation suffers
 *
 * SYNOPSIS
 *	#include "warmhold.h"
 *
 *	struct warmhold *warmhold_new(struct event_base *base,
 *				      const struct outpost_conf *conf,
 *				      struct rconn *rc,
 *				      const struct blwatch *bw);
 *	int warmhold_reasons(const struct conf_pool *p,
 *			     const struct warmhold_rates *r,
 *			     const char *listed_addr, const char *listed_on,
 *			     char *why, size_t len);
 *	void warmhold_free(struct warmhold *wh);
 *
 * DESCRIPTION
 *	A [pool NAME] with a warm-up schedule may set hold_bounce_rate,
 *	hold_complaint_rate or hold_when_listed.  Every WARMHOLD_INTERVAL
 *	seconds (or every [logd] blocklist_interval when shorter) and at
 *	start, warmhold_new()'s timer reads the pools' bounce and complaint
 *	rates of the last 24 hours from the statistics (stats(3); from
 *	hold_min_messages messages on) and asks the blocklist watch whether
 *	a list lists one of the pool's addresses.  A day on which one of
 *	them is at or above its threshold is held: it does not count as a
 *	day of the warm-up, so the cap stays the previous day's (the pool's
 *	start date moves a day later, once per day, never past day 1).  The
 *	hold and its reasons are kept in P{rl}:warmup:POOL:hold (a hash:
 *	day, why, checked; TTL two days) for outpostctl warmup status; the
 *	first hold of a day is logged at warning priority.
 *	warmhold_new() returns NULL when no pool holds.  conf, rc and bw
 *	must outlive the hold.
 *
 *	warmhold_reasons() is the pure rule: it writes why a pool holds
 *	("bounce rate 7.1% >= 5.0% (24h, 140 messages); 192.0.2.10 listed
 *	on zen") and returns 1, or returns 0 when it does not.
 */
#ifndef OUTPOST_WARMHOLD_H
#define OUTPOST_WARMHOLD_H

#include <stddef.h>

#include <event2/event.h>

#include "blwatch.h"
#include "conf.h"
#include "redisconn.h"

#define WARMHOLD_INTERVAL 60

/* a pool's counts over the last 24 hours */
struct warmhold_rates {
    long long delivered, bounced, complaints;
};

struct warmhold;

struct warmhold *warmhold_new(struct event_base *base, const struct outpost_conf *conf,
			      struct rconn *rc, const struct blwatch *bw);
int warmhold_reasons(const struct conf_pool *p, const struct warmhold_rates *r,
		     const char *listed_addr, const char *listed_on, char *why, size_t len);
void warmhold_free(struct warmhold *wh);

#endif
