/*
 * gcra - the arithmetic of the generic cell rate algorithm (see gcra.h)
 */
#include "config.h"

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
    /* period_ms * 1000 fits easily: durations are far below 2^53 ms */
    t = rate->period_ms * 1000 / rate->count;
    if (t < 1)
	t = 1;
    if (burst < 1)
	burst = 1;
    g->interval_us = t;
    g->tolerance_us = t * (long long) (burst - 1);
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
    *new_tat_us = tat + g->interval_us;
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
