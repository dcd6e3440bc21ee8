/*
 * plan - what becomes of one message at its end (see plan.h)
 *
 * Each step below is one function; plan_message() is their order.  A new
 * step is one more function and one more line there.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "msg.h"
#include "plan.h"

static int plan_report(const struct msg_state *st, const struct plan_steps *steps,
		       void *arg, struct plan *p);
static int plan_recipients(const struct msg_state *st, struct plan *p);
static void plan_sender(const struct plan_steps *steps, void *arg, struct plan *p);
static void plan_headers(const struct msg_state *st, struct plan *p);
static void plan_body(const struct msg_state *st, const struct plan_steps *steps,
		      void *arg, struct plan *p);
static int plan_sign(const struct msg_state *st, const struct plan_steps *steps,
		     void *arg, struct plan *p);

/* tempfail - end the message with a 451 reply */
static int
tempfail(struct plan *p, const char *xcode, const char *text)
{
    p->verdict = PLAN_TEMPFAIL;
    p->reply.rcode = "451";
    p->reply.xcode = xcode;
    snprintf(p->reply.text, sizeof(p->reply.text), "%s", text);
    return -1;
}

/* plan_report - read a report; -1: tempfail */
static int
plan_report(const struct msg_state *st, const struct plan_steps *steps, void *arg,
	    struct plan *p)
{
    if (!st->report)
	return 0;
    if (steps->report(arg, &p->reply) < 0) {
	p->verdict = PLAN_TEMPFAIL;
	return -1;
    }
    return 0;
}

/* plan_recipients - the dropped recipients; -1: nobody is left, discard */
static int
plan_recipients(const struct msg_state *st, struct plan *p)
{
    if (st->ndrop == 0)
	return 0;
    if (st->ndrop >= st->accepted) {
	p->verdict = PLAN_DISCARD;
	return -1;
    }
    p->del = st->drop;
    p->ndel = st->ndrop;
    return 0;
}

/* plan_sender - the tagged return path, if any */
static void
plan_sender(const struct plan_steps *steps, void *arg, struct plan *p)
{
    char addr[ADDR_MAX];

    if (steps->sender(arg, addr, sizeof(addr)) == 1)
	snprintf(p->sender, sizeof(p->sender), "<%s>", addr);
}

/* plan_headers - the fields decided at the end of the header (List-Unsubscribe) */
static void
plan_headers(const struct msg_state *st, struct plan *p)
{
    size_t i;

    for (i = 0; i < st->nhdr && i < PLAN_HDR_MAX; i++)
	p->hdr[i] = st->hdr[i];
    p->nhdr = i;
}

/* plan_body - a new body: the tracked links and the open pixel */
static void
plan_body(const struct msg_state *st, const struct plan_steps *steps, void *arg,
	  struct plan *p)
{
    const char *body;
    size_t len;

    p->body = NULL;
    p->body_len = 0;
    if (st->tracking && steps->body && steps->body(arg, &body, &len) == 1) {
	p->body = body;
	p->body_len = len;
    }
}

/* plan_sign - the signatures to add; -1: tempfail */
static int
plan_sign(const struct msg_state *st, const struct plan_steps *steps, void *arg,
	  struct plan *p)
{
    struct plan_sign s;
    size_t i;

    if (!st->signing)
	return 0;
    memset(&s, 0, sizeof(s));
    steps->sign(arg, &s);
    if (s.result == PLAN_SIGNED && s.n <= PLAN_SIG_MAX) {
	for (i = 0; i < s.n; i++)
	    p->sig[i] = s.sig[i];
	p->nsig = s.n;
	p->sign_domain = s.domain;
	p->sign_refused_tempfails = s.tempfail_on_error;
	return 0;
    }
    msg_warn("%s: not signed: %s", st->qid, s.why ? s.why : "too many signatures");
    if (s.tempfail_on_error)
	return tempfail(p, "4.7.0", "DKIM signing failed, try again later");
    return 0;
}

/* plan_message - the order of the steps */
void
plan_message(const struct msg_state *st, const struct plan_steps *steps, void *arg,
	     struct plan *p)
{
    memset(p, 0, sizeof(*p));
    p->verdict = PLAN_CONTINUE;
    if (plan_report(st, steps, arg, p) < 0)
	return;
    /* suppressed recipients go first: maybe nothing is left */
    if (plan_recipients(st, p) < 0)
	return;
    plan_sender(steps, arg, p);
    plan_headers(st, p);
    plan_body(st, steps, arg, p);
    if (plan_sign(st, steps, arg, p) < 0)
	return;
    p->count = 1;
}
