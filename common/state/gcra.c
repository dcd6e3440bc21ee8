/*
 * gcra - the arithmetic of the generic cell rate algorithm (see gcra.h)
 */
#include "config.h"

#include <limits.h>

#include "gcra.h"

/* gcra_init - emission interval and tolerance of a rate and burst */
void
gcra_init(struct gcra *g, const struct conf_rate *rate, long burst)
{
    long long t;

    if (rate->count <= 0) {
	g->interval_us = g->tolerance_us = 0;
	return;
    }
    /* any duration: T to the millisecond when period_ms * 1000 would not fit */
    if (rate->period_ms <= GCRA_NEVER_US / 1000)
	t = rate->period_ms * 1000 / rate->count;
    else if ((t = rate->period_ms / rate->count) > GCRA_NEVER_US / 1000)
	t = GCRA_NEVER_US;
    else
	t *= 1000;
    if (t < 1)
	t = 1;
    if (burst < 1)
	burst = 1;
    g->interval_us = t;
    g->tolerance_us = burst - 1 > GCRA_NEVER_US / t ? GCRA_NEVER_US
	: t * (long long) (burst - 1);
}

/* gcra_step - may one event pass at now_us? */
int
gcra_step(const struct gcra *g, long long tat_us, long long now_us,
	  long long *new_tat_us, long long *wait_us)
{
    long long tat = tat_us < now_us ? now_us : tat_us;
    long long allow_at = tat - g->tolerance_us;

    if (allow_at > now_us) {
	*wait_us = allow_at - now_us;
	*new_tat_us = tat_us;
	return 0;
    }
    *wait_us = 0;
    *new_tat_us = gcra_add(tat, g->interval_us);
    return 1;
}

/* gcra_available - events that would pass at now_us, one after another */
long
gcra_available(const struct gcra *g, long long tat_us, long long now_us)
{
    long long tat = tat_us < now_us ? now_us : tat_us;
    long long room = now_us + g->tolerance_us - tat;	/* >= 0 means one passes */

    if (g->interval_us <= 0 || room < 0)
	return 0;
    return (long) (room / g->interval_us) + 1;
}

/* gcra_add - a TAT moved on, stopping at the end of time */
long long
gcra_add(long long tat_us, long long us)
{
    return tat_us > LLONG_MAX - us ? LLONG_MAX : tat_us + us;
}
