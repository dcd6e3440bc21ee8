/*
 * metrics - what outpost-milter tells Prometheus
 *
 * SYNOPSIS
 *	#include "metrics.h"
 *
 *	void metrics_suppress_check(enum metrics_sup result);
 *	void metrics_refused(int discard);
 *	void metrics_fail_open(enum metrics_check check);
 *	void metrics_list_unsubscribe(int status);
 *	void metrics_tracking(int status);
 *	struct prom *metrics_render(const char *node);
 *
 * DESCRIPTION
 *	Counts in process memory since the start, for this node only (sum()
 *	over nodes is right; a restart starts again from 0).  The counting
 *	functions are atomic: any libmilter thread calls them, and
 *	metrics_render() runs in the thread of the metrics endpoint
 *	(promhttp(3)).  The page holds:
 *
 *	outpost_milter_suppression_checks_total{result}  recipients
 *		checked against the suppression list: not_suppressed,
 *		suppressed, error (Redis could not answer)
 *	outpost_milter_suppressed_total{action}  recipients refused
 *		(reject) or dropped (discard) as suppressed
 *	outpost_milter_fail_open_total{check}  recipients accepted
 *		UNCHECKED because Redis (suppress) or outpost-policyd
 *		(policy) could not answer and the check is set to fail open
 *	outpost_milter_dkim_messages_total{result}  messages signed, or
 *		not: no_key, not_authorised, bad_from, error
 *	outpost_milter_dkim_signatures_total{algorithm,result}  made or
 *		failed, rsa or ed25519 (dkimsign(3))
 *	outpost_milter_intake_reports_total{kind}  reports received at
 *		the bounce, complaint and unsubscribe addresses
 *	outpost_milter_intake_events_total{event}  what they led to:
 *		hard_bounce, soft_bounce, complaint, unsubscribe
 *	outpost_milter_intake_rejected_total{why}  reports that changed
 *		nothing: forged, stale, malformed, unattributed tokens
 *	outpost_milter_intake_tempfails_total  reports answered 4xx
 *		because Redis could not take them
 *	outpost_milter_intake_unread_total{why}  reports not read: busy
 *		(too many being read at once), over_budget (CPU budget spent)
 *	outpost_milter_envelope_senders_tagged_total  outgoing messages
 *		whose envelope sender carries a return-path token
 *	outpost_milter_list_unsubscribe_total{result}  messages of the
 *		senders of [milter] list_unsubscribe_senders: added,
 *		present (the sender's own field kept), recipients (not
 *		exactly one recipient: none added), no_token (listunsub(3))
 *	outpost_milter_tracking_total{result}  messages of the senders
 *		of [milter] tracking_senders: rewritten, or sent unchanged
 *		and why (tracking(3))
 *	outpost_milter_redis_errors_total  Redis commands without an
 *		answer (rconn(3))
 */
#ifndef OUTPOST_MILTER_METRICS_H
#define OUTPOST_MILTER_METRICS_H

#include "prom.h"

enum metrics_sup { MS_CLEAN, MS_SUPPRESSED, MS_ERROR, MS_COUNT };
enum metrics_check { MF_SUPPRESS, MF_POLICY, MF_COUNT };

void metrics_suppress_check(enum metrics_sup result);
void metrics_refused(int discard);
void metrics_fail_open(enum metrics_check check);
void metrics_list_unsubscribe(int status);
void metrics_tracking(int status);
struct prom *metrics_render(const char *node);

#endif
