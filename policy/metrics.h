/*
 * metrics - what outpost-policyd tells Prometheus
 *
 * SYNOPSIS
 *	#include "metrics.h"
 *
 *	void metrics_decision(enum metrics_answer answer, int fail_open,
 *			      long long us);
 *	void metrics_redis_error(void);
 *	struct prom *metrics_render(const char *node);
 *
 * DESCRIPTION
 *	Counts in process memory since the start, for this node only (sum()
 *	over nodes is right; a restart starts again from 0):
 *
 *	outpost_policyd_decisions_total{answer}  requests answered: dunno,
 *		filter (another pool), defer (a limit or a warm-up cap),
 *		tempfail (Redis could not answer and a limit fails closed)
 *	outpost_policyd_fail_open_total  requests answered DUNNO UNCHECKED
 *		because Redis could not answer and every limit that applied
 *		is set to fail open (*_on_error = dunno)
 *	outpost_policyd_redis_errors_total  decisions Redis did not make:
 *		no connection, an error reply, or no reply within
 *		decision_timeout
 *	outpost_policyd_decision_duration_seconds  a histogram of the time
 *		from the request to the answer, MX lookup and Redis included
 *
 *	metrics_decision() counts one answer and its latency in
 *	microseconds; metrics_render() makes the page (prom(3)).
 */
#ifndef OUTPOST_POLICY_METRICS_H
#define OUTPOST_POLICY_METRICS_H

#include "prom.h"

enum metrics_answer { MA_DUNNO, MA_FILTER, MA_DEFER, MA_TEMPFAIL, MA_COUNT };

void metrics_decision(enum metrics_answer answer, int fail_open, long long us);
void metrics_redis_error(void);
struct prom *metrics_render(const char *node);

#endif
