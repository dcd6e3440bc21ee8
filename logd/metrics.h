/*
 * metrics - the Prometheus text endpoint of outpost-logd
 *
 * SYNOPSIS
 *	#include "metrics.h"
 *
 *	int metrics_render(struct rconn *rc, const char *prefix,
 *			   const struct track_counts *tc, long long overlong,
 *			   long long now, struct evbuffer *out);
 *	int metrics_start(struct event_base *base, const char *listen,
 *			  struct metrics_source *src, char *err,
 *			  size_t errlen);
 *	void metrics_stop(void);
 *	void metrics_stop(void);
void metrics_label(struct evbuffer *out, const char *value);
 *
 * DESCRIPTION
 *	GET /metrics answers, in the Prometheus text format 0.0.4:
 *
 *	outpost_COUNTER_total{sender,provider,pool}  every counter of
 *		stats(3) since the start (delivered, deferred, bounced,
 *		bounced_hard, ..., throttled)
 *	outpost_bounce_reason_total{sender,provider,pool,reason}
 *	outpost_bounce_rate{sender,window} and
 *	outpost_complaint_rate{sender,window}  over the last 24h and 7d
 *	outpost_backoff_active{provider,pool}  1 while a backoff holds,
 *		outpost_backoff_until_seconds{provider,pool} its end
 *	outpost_logd_lines_total{result}  lines read by this process:
 *		delivery, ignored, garbage, overlong
 *
 *	Label values are escaped as the format requires.  A Redis failure
 *	answers 503.
 */
#ifndef OUTPOST_METRICS_H
#define OUTPOST_METRICS_H

#include <stddef.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "redisconn.h"
#include "track.h"

struct metrics_source {
    struct rconn *rc;
    const char *prefix;
    const struct track_counts *(*counts)(void *arg);
    long long (*overlong)(void *arg);
    void *arg;
};

int metrics_render(struct rconn *rc, const char *prefix, const struct track_counts *tc,
		   long long overlong, long long now, struct evbuffer *out);
int metrics_start(struct event_base *base, const char *listen,
		  struct metrics_source *src, char *err, size_t errlen);
void metrics_stop(void);
void metrics_label(struct evbuffer *out, const char *value);

#endif
