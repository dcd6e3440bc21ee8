/*
 * plan - what becomes of one message at its end (outpost-milter)
 *
 * SYNOPSIS
 *	#include "plan.h"
 *
 *	void plan_message(const struct msg_state *st,
 *			  const struct plan_steps *steps, void *arg,
 *			  struct plan *p);
 *
 * DESCRIPTION
 *	At the end of each message the filter asks plan_message() what to
 *	do, then carries the plan out (filter.c); nothing here calls
 *	libmilter, so the order below is tested without an MTA
 *	(tests/unit/test_plan.c).  st is what the message told us; steps are
 *	the pieces of work whose result the plan depends on, called with
 *	arg, in this order and only when the plan still needs them:
 *
 *	1. A report to an intake address: steps->report reads and acts on
 *	   it; when it fails (Redis), the message is tempfailed with the
 *	   reply it set, and nothing else happens.
 *	2. Recipients dropped by the suppression check ([suppress] action =
 *	   discard): none left, the message is discarded (nothing else
 *	   happens, nothing is counted); else they are to be deleted.
 *	3. The envelope sender: steps->sender gives the tagged return path
 *	   (intake_sender(3)), or leaves the sender as it is.
 *	4. Header fields to add: st->hdr, the List-Unsubscribe fields
 *	   (listunsub(3)).  They are decided at the end of the header, not
 *	   here, because the signer must hash them with the others before
 *	   it starts on the body; the plan only carries them out, and
 *	   since the signatures cover them, the MTA refusing one tempfails
 *	   a signed message (451 4.3.0) instead of sending it with a
 *	   signature that cannot verify.
 *	5. A new body, when the message is tracked (st->tracking):
 *	   steps->body rewrites its links and adds the open pixel
 *	   (tracking(3)) and returns 1 with the new body, or 0 when the
 *	   message goes unchanged (it says why itself).  The signing step
 *	   that follows hashes whichever body leaves.
 *	6. Signing, when a signer follows the message (st->signing):
 *	   steps->sign gives the DKIM-Signature values to add on top; on an
 *	   error the message is tempfailed (451 4.7.0) or sent unsigned, as
 *	   [dkim] on_error says.  sign_refused_tempfails says what to do
 *	   when the MTA refuses a signature header.
 *	7. Counting: p->count asks the caller to add the accepted
 *	   recipients to the statistics once it has carried the plan out
 *	   without a tempfail.
 *
 *	The plan points into st and into what the steps filled in (their
 *	strings must stay valid until the plan is carried out).
 *
 *	Carrying it out, in this order: PLAN_DISCARD and PLAN_TEMPFAIL end
 *	the message at once (with p->reply for a tempfail); else delete
 *	p->del (a refusal tempfails the message: 451 4.3.0, never deliver
 *	to a suppressed address), change the sender to p->sender when set,
 *	add p->hdr (a refusal tempfails a signed message), replace the body with p->body when set, insert p->sig
 *	at the top (p->sig[0] ends up first), count.
 *
 * DIAGNOSTICS
 *	A warning for a message that was to be signed and is not.
 */
#ifndef OUTPOST_PLAN_H
#define OUTPOST_PLAN_H

#include <stddef.h>

#include "addr.h"

#define PLAN_HDR_MAX 8		/* headers added before signing */
#define PLAN_SIG_MAX 8		/* DKIM-Signature headers */

enum plan_verdict { PLAN_CONTINUE, PLAN_DISCARD, PLAN_TEMPFAIL };
enum plan_sign_result { PLAN_SIGNED, PLAN_SIGN_FAILED };

struct plan_reply {
    const char *rcode;		/* "451" */
    const char *xcode;		/* "4.3.0" */
    char text[128];
};

struct plan_header {
    const char *name;
    const char *value;		/* as smfi_addheader() takes it */
};

/* what one message told us, at its end */
struct msg_state {
    const char *qid;		/* for log lines */
    int report;			/* sent to an intake address */
    size_t accepted;		/* recipients accepted, dropped ones included */
    char *const *drop;		/* RCPT TO arguments dropped (action = discard) */
    size_t ndrop;
    int signing;		/* a signer follows the message */
    const struct plan_header *hdr;	/* fields to add, the signer has them */
    size_t nhdr;
    int tracking;		/* links to rewrite: ask steps->body */
};

/* what the signing step says */
struct plan_sign {
    int result;			/* enum plan_sign_result */
    size_t n;			/* PLAN_SIGNED: signatures, top first */
    const char *sig[PLAN_SIG_MAX];
    const char *domain;		/* the From: domain */
    const char *why;		/* PLAN_SIGN_FAILED: why */
    int tempfail_on_error;	/* [dkim] on_error = tempfail */
};

/* the work a plan depends on */
struct plan_steps {
    int (*report)(void *arg, struct plan_reply *reply);	/* 0, or -1: tempfail */
    int (*sender)(void *arg, char *out, size_t size);	/* 1: out is the new sender */
    void (*sign)(void *arg, struct plan_sign *out);
    int (*body)(void *arg, const char **body, size_t *len);	/* 1: a new body */
};

struct plan {
    int verdict;		/* enum plan_verdict */
    struct plan_reply reply;	/* PLAN_TEMPFAIL */
    char *const *del;		/* recipients to delete */
    size_t ndel;
    char sender[ADDR_MAX + 2];	/* "<new sender>"; "": keep it */
    struct plan_header hdr[PLAN_HDR_MAX];	/* to add before signing */
    size_t nhdr;
    const char *body;		/* the new body; NULL: keep it */
    size_t body_len;
    const char *sig[PLAN_SIG_MAX];	/* DKIM-Signature values, top first */
    size_t nsig;
    const char *sign_domain;	/* for the log line */
    int sign_refused_tempfails;	/* a refused signature header: tempfail */
    int count;			/* count the recipients once carried out */
};

void plan_message(const struct msg_state *st, const struct plan_steps *steps,
		  void *arg, struct plan *p);

#endif
