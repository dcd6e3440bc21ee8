/*
 * gcra - the arithmetic of the generic cell rate algorithm
 *
 * SYNOPSIS
 *	#include "gcra.h"
 *
 *	void gcra_init(struct gcra *g, const struct conf_rate *rate, long burst);
 *	int gcra_step(const struct gcra *g, long long tat_us, long long now_us,
 *		      long long *new_tat_us, long long *wait_us);
 *	long gcra_available(const struct gcra *g, long long tat_us,
 *			    long long now_us);
 *	long long gcra_add(long long tat_us, long long us);
 *
 * DESCRIPTION
 *	A limit of COUNT events per PERIOD with a burst of B keeps one number
 *	per limit: the theoretical arrival time (TAT) of the next event.  Each
 *	event is spaced by the emission interval T = PERIOD / COUNT; an event
 *	at time t is allowed when TAT - t <= tau, with tau = (B - 1) * T, and
 *	then moves TAT to max(TAT, t) + T.  B events may pass at once after a
 *	quiet spell, then one every T.
 *
 *	The same arithmetic runs inside Redis (policy/gcra.lua) on Redis' own
 *	clock; this module is its reference, used by the tests and by
 *	"outpostctl throttle status" to explain a stored TAT.
 *
 *	gcra_init() derives T and tau in microseconds (T is at least 1 us;
 *	a burst below 1 counts as 1).  gcra_step() returns 1 and the new TAT
 *	when an event at now_us is allowed, or 0 and how long to wait.
 *	gcra_available() says how many events would pass right now.
 *
 *	Any rate and burst the configuration accepts are safe: T and tau
 *	stop at GCRA_NEVER_US ("never"; T + tau + a clock fit), and gcra_add()
 *	moves a TAT on (tat_us + us, us >= 0) without going past LLONG_MAX.
 */
#ifndef OUTPOST_GCRA_H
#define OUTPOST_GCRA_H

#include "confval.h"

#define GCRA_NEVER_US (1LL << 61)	/* the longest T and tau: 73,000 years */

struct gcra {
    long long interval_us;	/* T: spacing of events */
    long long tolerance_us;	/* tau: how far TAT may run ahead */
};

void gcra_init(struct gcra *g, const struct conf_rate *rate, long burst);
int gcra_step(const struct gcra *g, long long tat_us, long long now_us,
	      long long *new_tat_us, long long *wait_us);
long gcra_available(const struct gcra *g, long long tat_us, long long now_us);
long long gcra_add(long long tat_us, long long us);

#endif
