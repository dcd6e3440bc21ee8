/*
 * hmetrics - what outpost-httpd tells Prometheus (see hmetrics.h)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "events.h"
#include "hmetrics.h"
#include "redisconn.h"
#include "webtoken.h"
#include "xalloc.h"

static const char *const routes[HM_ROUTES] = {"unsubscribe", "open", "click"};

/* hmetrics_new - all zero */
struct hmetrics *
hmetrics_new(const char *node)
{
    struct hmetrics *m = xcalloc(1, sizeof(*m));

    m->node = xstrdup(node);
    return m;
}

const unsigned hm_api_status[HM_API_STATUSES] = {
    200, 202, 204, 400, 401, 403, 404, 405, 409, 413, 429, 500, 503,
};

/* hmetrics_api - count an answer of the platform API (enum hm_api) */
void
hmetrics_api(struct hmetrics *m, int route, unsigned status)
{
    int i;

    for (i = 0; i < HM_API_STATUSES && hm_api_status[i] != status; i++)
	 /* look */ ;
    PROM_INC(m->api[route][i]);
}

/* api - the platform API's answers by endpoint and status */
static void
api(struct prom *p, struct hmetrics *m)
{
    static const char *const names[HM_API_ROUTES] = {
	"other", "suppression", "list", "import", "stats", "messages", "events", "verify",
    };
    char code[16];
    int r, i;

    prom_family(p, "outpost_httpd_api_requests_total", PROM_COUNTER,
		"Answers of the platform API (api_listen) by endpoint and HTTP status "
		"(401: no valid key, 403: out of its scope or domains, 429: its rate limit, "
		"503: Redis away).");
    for (r = 0; r < HM_API_ROUTES; r++)
	for (i = 0; i <= HM_API_STATUSES; i++) {
	    if (i == HM_API_STATUSES)
		snprintf(code, sizeof(code), "other");
	    else
		snprintf(code, sizeof(code), "%u", hm_api_status[i]);
	    prom_counter(p, (const char *[]) {"endpoint", names[r], "status", code, NULL},
			 PROM_GET(m->api[r][i]));
	}
    prom_family(p, "outpost_httpd_api_auth_failures_total", PROM_COUNTER,
		"Platform API requests refused for want of a valid key (401): each charges "
		"its client address ([httpd] api_auth_failures).");
    prom_counter(p, NULL, PROM_GET(m->auth_failures));
    prom_family(p, "outpost_httpd_api_auth_limited_total", PROM_COUNTER,
		"Platform API requests refused (429) because their client address failed "
		"to authenticate too often; Redis was not asked.");
    prom_counter(p, NULL, PROM_GET(m->auth_limited));
}

/* hmetrics_free - release */
void
hmetrics_free(struct hmetrics *m)
{
    if (m == NULL)
	return;
    free(m->node);
    free(m);
}

/* unsubscribes - requests by source and result */
static void
unsubscribes(struct prom *p, struct hmetrics *m)
{
    static const char *const sources[2] = {"one-click", "web"};
    static const char *const results[HM_UNSUB_RESULTS] = {
	"done", "already", "redis_error", "busy", "not_one_click",
    };
    int s, r;

    prom_family(p, "outpost_httpd_unsubscribes_total", PROM_COUNTER,
		"Unsubscribe requests (POST /u/) by source and result: done (suppressed now), "
		"already (suppressed before), redis_error and busy (answered 503: "
		"the recipient retries), not_one_click (a POST without the RFC 8058 body).");
    for (s = 0; s < 2; s++)
	for (r = 0; r < HM_UNSUB_RESULTS; r++)
	    prom_counter(p, (const char *[]) {"source", sources[s], "result", results[r],
			 NULL}, PROM_GET(m->unsub[s][r]));
    prom_family(p, "outpost_httpd_unsubscribe_pages_total", PROM_COUNTER,
		"Confirmation pages shown (GET /u/); a GET never unsubscribes.");
    prom_counter(p, NULL, PROM_GET(m->pages));
}

/* tokens - refused tokens, events */
static void
tokens(struct prom *p, struct hmetrics *m)
{
    int r, s;

    prom_family(p, "outpost_httpd_tokens_refused_total", PROM_COUNTER,
		"Requests whose token was malformed, forged (no secret signs it) or stale.");
    for (r = 0; r < HM_ROUTES; r++)
	for (s = WEBTOKEN_MALFORMED; s <= WEBTOKEN_STALE; s++)
	    prom_counter(p, (const char *[]) {"route", routes[r], "why",
			 webtoken_status_name(s), NULL}, PROM_GET(m->refused[r][s]));
    prom_family(p, "outpost_httpd_events_total", PROM_COUNTER,
		"Opens and clicks seen by this process, by person or machine.");
    for (r = HM_OPEN; r <= HM_CLICK; r++)
	for (s = 0; s < 2; s++)
	    prom_counter(p, (const char *[]) {"route", routes[r], "by",
			 s ? "machine" : "person", NULL}, PROM_GET(m->events[r][s]));
    prom_family(p, "outpost_httpd_machine_signals_total", PROM_COUNTER,
		"Machine opens and clicks by the signal that named them (outpost-httpd(8)).");
    for (s = MACHINE_AGENT; s <= MACHINE_EARLY; s++)
	prom_counter(p, (const char *[]) {"signal", machine_signal_name(s), NULL},
		     PROM_GET(m->signals[s]));
}

/* hmetrics_render - the page */
struct prom *
hmetrics_render(void *arg)
{
    struct hmetrics *m = arg;
    struct prom *p = prom_new(m->node);

    unsubscribes(p, m);
    tokens(p, m);
    api(p, m);
    prom_family(p, "outpost_httpd_events_dropped_total", PROM_COUNTER,
		"Opens and clicks not counted because the queue to Redis was full.");
    prom_counter(p, NULL, PROM_GET(m->dropped));
    prom_family(p, "outpost_httpd_events_written_total", PROM_COUNTER,
		"Opens and clicks written to the statistics in Redis.");
    prom_counter(p, NULL, PROM_GET(m->written));
    prom_family(p, "outpost_httpd_redis_errors_total", PROM_COUNTER,
		"Writes to Redis that failed (retried, or answered 503).");
    prom_counter(p, NULL, PROM_GET(m->write_errors));
    prom_family(p, "outpost_httpd_other_requests_total", PROM_COUNTER,
		"Requests for no known page, with a wrong method or too large a body.");
    prom_counter(p, NULL, PROM_GET(m->other));
    prom_family(p, "outpost_httpd_queue_depth", PROM_GAUGE,
		"Writes waiting for Redis.");
    prom_gauge(p, NULL, (double) PROM_GET(m->queued));
    prom_family(p, "outpost_httpd_redis_failures_total", PROM_COUNTER,
		"Redis commands that failed for want of a connection.");
    prom_counter(p, NULL, rconn_failure_count());
    prom_family(p, "outpost_httpd_reloads_total", PROM_COUNTER,
		"Reloads on SIGHUP: done (the new settings in force), refused (a bad "
		"configuration or secret file: the running one is kept).");
    prom_counter(p, (const char *[]) {"result", "done", NULL}, PROM_GET(m->reloads[0]));
    prom_counter(p, (const char *[]) {"result", "refused", NULL}, PROM_GET(m->reloads[1]));
    prom_family(p, "outpost_httpd_events_lost_total", PROM_COUNTER,
		"Events not written to a tenant's stream (events(3)).");
    prom_counter(p, NULL, events_failures());
    return p;
}
