/*
 * metrics - what outpost-milter tells Prometheus (see metrics.h)
 */
#include "config.h"

#include "dkimsign.h"
#include "intake.h"
#include "keytable.h"
#include "listunsub.h"
#include "tracking.h"
#include "events.h"
#include "metrics.h"
#include "redisconn.h"

static struct {
    unsigned long long checks[MS_COUNT];
    unsigned long long refused[2];	/* reject, discard */
    unsigned long long fail_open[MF_COUNT];
    unsigned long long listunsub[LISTUNSUB_NSTATUS];
    unsigned long long tracking[TRACKING_NSTATUS];
} m;

/* metrics_suppress_check - one recipient checked */
void
metrics_suppress_check(enum metrics_sup result)
{
    PROM_INC(m.checks[result]);
}

/* metrics_refused - one suppressed recipient refused or dropped */
void
metrics_refused(int discard)
{
    PROM_INC(m.refused[discard != 0]);
}

/* metrics_fail_open - one recipient accepted unchecked */
void
metrics_fail_open(enum metrics_check check)
{
    PROM_INC(m.fail_open[check]);
}

/* metrics_list_unsubscribe - one opted-in message, by listunsub_make()'s status */
void
metrics_list_unsubscribe(int status)
{
    if (status >= 0 && status < LISTUNSUB_NSTATUS && status != LISTUNSUB_NOT_OPTED)
	PROM_INC(m.listunsub[status]);
}

/* tracked - a status that is a series of its own */
static int
tracked(int status)
{
    return status >= 0 && status < TRACKING_NSTATUS && status != TRACKING_NOT_OPTED
	&& status != TRACKING_RW + TRACKRW_OK && status != TRACKING_RW + TRACKRW_TOO_BIG;
}

/* metrics_tracking - one opted-in message, by tracking(3)'s status */
void
metrics_tracking(int status)
{
    if (tracked(status))
	PROM_INC(m.tracking[status]);
}

/* one_label - a counter with one label per value */
static void
one_label(struct prom *p, const char *label, const char *const *names,
	  const unsigned long long *n, int count)
{
    int i;

    for (i = 0; i < count; i++)
	prom_counter(p, (const char *[]) {label, names[i], NULL}, n[i]);
}

/* recipients - suppression and fail-open */
static void
recipients(struct prom *p)
{
    static const char *const checks[MS_COUNT] = {"not_suppressed", "suppressed", "error"};
    static const char *const actions[2] = {"reject", "discard"};
    static const char *const kinds[MF_COUNT] = {"suppress", "policy"};
    unsigned long long n[MS_COUNT];
    int i;

    prom_family(p, "outpost_milter_suppression_checks_total", PROM_COUNTER,
		"Recipients checked against the suppression list, by result.");
    for (i = 0; i < MS_COUNT; i++)
	n[i] = PROM_GET(m.checks[i]);
    one_label(p, "result", checks, n, MS_COUNT);
    prom_family(p, "outpost_milter_suppressed_total", PROM_COUNTER,
		"Suppressed recipients refused (reject) or dropped (discard).");
    for (i = 0; i < 2; i++)
	n[i] = PROM_GET(m.refused[i]);
    one_label(p, "action", actions, n, 2);
    prom_family(p, "outpost_milter_fail_open_total", PROM_COUNTER,
		"Recipients accepted UNCHECKED because Redis (suppress) or outpost-policyd "
		"(policy) could not answer and the check fails open.");
    for (i = 0; i < MF_COUNT; i++)
	n[i] = PROM_GET(m.fail_open[i]);
    one_label(p, "check", kinds, n, MF_COUNT);
}

/* dkim - messages and signatures */
static void
dkim(struct prom *p)
{
    static const char *const results[] = {"signed", "no_key", "not_authorised", "bad_from",
	"error"};
    struct dkimsign_stats s;
    unsigned long long n[5];
    int alg, k;

    dkimsign_stats_get(&s);
    prom_family(p, "outpost_milter_dkim_messages_total", PROM_COUNTER,
		"Messages signed, or why not: no key for the From: domain, client not "
		"authorised, no usable From:, internal error.");
    n[0] = s.signed_msgs;
    n[1] = s.no_key;
    n[2] = s.not_authorised;
    n[3] = s.bad_from;
    n[4] = s.errors;
    one_label(p, "result", results, n, 5);
    prom_family(p, "outpost_milter_dkim_signatures_total", PROM_COUNTER,
		"DKIM signatures made, or begun and failed, by algorithm.");
    for (alg = DKIM_ALG_RSA; alg <= DKIM_ALG_ED25519; alg++)
	for (k = 0; k < 2; k++)
	    prom_counter(p, (const char *[]) {"algorithm", dkim_alg_name(alg), "result",
			 k ? "failed" : "made", NULL}, k ? s.failed[alg] : s.made[alg]);
}

/* intake - reports and what they did */
static void
intake(struct prom *p)
{
    static const char *const kinds[] = {"bounce", "complaint", "unsubscribe"};
    static const char *const events[] = {"hard_bounce", "soft_bounce", "complaint",
	"unsubscribe"};
    static const char *const whys[] = {"forged", "stale", "malformed", "unattributed"};
    struct intake_stats s;
    unsigned long long n[4];
    int i;

    intake_stats_get(&s);
    prom_family(p, "outpost_milter_intake_reports_total", PROM_COUNTER,
		"Reports received at the bounce, complaint and unsubscribe addresses.");
    for (i = 0; i < 3; i++)
	n[i] = s.by_addr[INTAKE_ADDR_BOUNCE + i];
    one_label(p, "kind", kinds, n, 3);
    prom_family(p, "outpost_milter_intake_events_total", PROM_COUNTER,
		"What the reports led to, by event.");
    for (i = 0; i < 4; i++)
	n[i] = s.by_event[INTAKE_HARD + i];
    one_label(p, "event", events, n, 4);
    prom_family(p, "outpost_milter_intake_rejected_total", PROM_COUNTER,
		"Reports that changed nothing, by why: the return-path token was forged, "
		"stale, malformed or missing.");
    n[0] = s.forged;
    n[1] = s.stale;
    n[2] = s.malformed;
    n[3] = s.unattributed;
    one_label(p, "why", whys, n, 4);
    prom_family(p, "outpost_milter_intake_tempfails_total", PROM_COUNTER,
		"Reports answered with a temporary failure because Redis could not take them.");
    prom_counter(p, NULL, s.tempfail);
    prom_family(p, "outpost_milter_intake_unread_total", PROM_COUNTER,
		"Reports not read, by why: busy (as many reports as may be read at once "
		"were being read: answered 4xx) or over_budget (the report cost more CPU "
		"than one may).");
    prom_counter(p, (const char *[]) {"why", "busy", NULL}, s.busy);
    prom_counter(p, (const char *[]) {"why", "over_budget", NULL}, s.over_budget);
    prom_family(p, "outpost_milter_intake_truncated_total", PROM_COUNTER,
		"Reports naming more recipients than one report may (1000): read and "
		"acted on up to that many, the rest skipped.");
    prom_counter(p, NULL, s.truncated);
    prom_family(p, "outpost_milter_envelope_senders_tagged_total", PROM_COUNTER,
		"Outgoing messages whose envelope sender was given a return-path token.");
    prom_counter(p, NULL, s.rewritten);
}

/* metrics_render - the page */
struct prom *
metrics_render(const char *node)
{
    struct prom *p = prom_new(node);

    recipients(p);
    dkim(p);
    intake(p);
    prom_family(p, "outpost_milter_list_unsubscribe_total", PROM_COUNTER,
		"Messages of senders that asked for List-Unsubscribe fields: added, or "
		"not: present, recipients (not exactly one), no_token.");
    for (int i = 0; i < LISTUNSUB_NSTATUS; i++)
	if (i != LISTUNSUB_NOT_OPTED)
	    prom_counter(p, (const char *[]) {"result", listunsub_status_name(i), NULL},
			 PROM_GET(m.listunsub[i]));
    prom_family(p, "outpost_milter_tracking_total", PROM_COUNTER,
		"Messages of senders that asked for open and click tracking: rewritten, "
		"or sent unchanged and why.");
    for (int i = 0; i < TRACKING_NSTATUS; i++)
	if (tracked(i))
	    prom_counter(p, (const char *[]) {"result", tracking_status_name(i), NULL},
			 PROM_GET(m.tracking[i]));
    prom_family(p, "outpost_milter_redis_errors_total", PROM_COUNTER,
		"Redis commands of this process that got no answer.");
    prom_counter(p, NULL, rconn_failure_count());
    prom_family(p, "outpost_milter_events_lost_total", PROM_COUNTER,
		"Events not written to a tenant's stream (events(3)).");
    prom_counter(p, NULL, events_failures());
    return p;
}
