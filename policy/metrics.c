/*
 * metrics - what outpost-policyd tells Prometheus (see metrics.h)
 */
#include "config.h"

#include "events.h"
#include "metrics.h"

/* upper bounds of the decision latency buckets, seconds */
static const double bounds[] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
};

static struct {
    unsigned long long answers[MA_COUNT];
    unsigned long long fail_open;
    unsigned long long redis_errors;
    struct prom_hist latency;
    int ready;
} m;

/* init - the histogram's buckets, on first use */
static void
init(void)
{
    if (!m.ready) {
	prom_hist_init(&m.latency, bounds, sizeof(bounds) / sizeof(bounds[0]));
	m.ready = 1;
    }
}

/* metrics_decision - one answer given */
void
metrics_decision(enum metrics_answer answer, int fail_open, long long us)
{
    init();
    PROM_INC(m.answers[answer]);
    if (fail_open)
	PROM_INC(m.fail_open);
    prom_hist_observe_us(&m.latency, us);
}

/* metrics_redis_error - one decision Redis did not make */
void
metrics_redis_error(void)
{
    PROM_INC(m.redis_errors);
}

/* metrics_render - the page */
struct prom *
metrics_render(const char *node)
{
    static const char *const names[MA_COUNT] = {"dunno", "filter", "defer", "tempfail"};
    struct prom *p = prom_new(node);
    int i;

    init();
    prom_family(p, "outpost_policyd_decisions_total", PROM_COUNTER,
		"Policy requests answered by this process, by answer: dunno, filter (another "
		"pool), defer (a limit or warm-up cap), tempfail (Redis unavailable).");
    for (i = 0; i < MA_COUNT; i++)
	prom_counter(p, (const char *[]) {"answer", names[i], NULL}, PROM_GET(m.answers[i]));
    prom_family(p, "outpost_policyd_fail_open_total", PROM_COUNTER,
		"Requests answered DUNNO unchecked because Redis could not answer and the "
		"limits that applied fail open.");
    prom_counter(p, NULL, PROM_GET(m.fail_open));
    prom_family(p, "outpost_policyd_redis_errors_total", PROM_COUNTER,
		"Decisions Redis did not make: no connection, an error, or no reply within "
		"decision_timeout.");
    prom_counter(p, NULL, PROM_GET(m.redis_errors));
    prom_family(p, "outpost_policyd_events_lost_total", PROM_COUNTER,
		"Events not written to a tenant's stream (events(3)).");
    prom_counter(p, NULL, events_failures());
    prom_family(p, "outpost_policyd_decision_duration_seconds", PROM_HISTOGRAM,
		"Time from a policy request to its answer, MX lookup and Redis included.");
    prom_histogram(p, NULL, &m.latency);
    return p;
}
