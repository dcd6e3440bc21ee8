/*
 * policy_answer - the milter's side of the Postfix policy protocol
 *
 * SYNOPSIS
 *	#include "policy_answer.h"
 *
 *	size_t policy_request_format(const struct policy_query *q,
 *				     char *buf, size_t size);
 *	size_t policy_answer_end(const char *buf, size_t len);
 *	int policy_answer_parse(const char *buf, size_t len,
 *				struct policy_verdict *v, const char **why);
 *	int policy_action_map(const char *action, size_t len,
 *			      struct policy_verdict *v);
 *
 * DESCRIPTION
 *	For MTAs without a policy protocol (Sendmail), outpost-milter asks
 *	outpost-policyd itself, as Postfix's check_policy_service would.
 *	These are the pure parts: the request, and what its answer means.
 *
 *	policy_request_format() writes an smtpd_access_policy request for
 *	protocol_state RCPT ("name=value" lines and an empty line) from q;
 *	a NULL or empty member is left out.  A CR, LF or NUL cannot be in
 *	a value (it would end the line): such bytes are sent as '?'.  It
 *	returns the length written, or 0 when the request does not fit in
 *	size bytes (then buf holds nothing useful).
 *
 *	policy_answer_end() returns the length of the first complete answer
 *	in buf (its empty line included), or 0 when it has not all arrived.
 *
 *	policy_answer_parse() reads one complete answer: "action=..." and
 *	an empty line; other attributes are ignored, as Postfix does.  It
 *	returns policy_action_map() of the action, or -1 with *why set
 *	(static text) when a line has no '=', the action is missing or
 *	given twice, or the answer holds a NUL byte or more than
 *	POLICY_ANSWER_MAX bytes.  It never reads beyond buf + len.
 *
 *	policy_action_map() sorts an action as access(5) defines it, names
 *	case-insensitive, and returns the kind it stored in v->kind:
 *
 *	POLICY_CONTINUE	OK, DUNNO, digits only (but not 4NN, 5NN), PREPEND,
 *			WARN, INFO, DEFER_IF_REJECT (nothing to do here)
 *	POLICY_FILTER	FILTER transport:nexthop (v->filter holds it; the
 *			caller decides, the MTA may have no transports)
 *	POLICY_TEMPFAIL	DEFER, DEFER_IF_PERMIT, "4NN text": v->rcode,
 *			v->xcode and v->text are the recipient's reply
 *	POLICY_REJECT	REJECT, "5NN text": likewise, a 5xx reply
 *	POLICY_UNKNOWN	anything else, e.g. HOLD, DISCARD, REDIRECT, BCC,
 *			which a milter cannot carry out per recipient
 *
 *	Replies follow Postfix: DEFER and DEFER_IF_PERMIT give 450, REJECT
 *	554, and the enhanced status code is the one that opens the text
 *	when its class matches (4.x.x for 4NN), else 4.7.1 or 5.7.1.  The
 *	text keeps printable ASCII only (others become '?'), and each '%'
 *	is doubled, as smfi_setreply() wants.  v->action is the action's
 *	first word, for the logs.
 */
#ifndef OUTPOST_POLICY_ANSWER_H
#define OUTPOST_POLICY_ANSWER_H

#include <stddef.h>

#define POLICY_ANSWER_MAX 2048	/* longest answer accepted */
#define POLICY_TEXT_MAX 512	/* reply text kept, '%' doubled */

enum policy_kind {
    POLICY_CONTINUE, POLICY_FILTER, POLICY_TEMPFAIL, POLICY_REJECT, POLICY_UNKNOWN,
};

/* One RCPT as the policy server sees it; NULL or "": not sent. */
struct policy_query {
    const char *protocol_name;	/* "SMTP", "ESMTP" */
    const char *client_address;
    const char *client_name;
    const char *helo_name;
    const char *sender;		/* without angle brackets; "" for <> */
    const char *recipient;
    const char *sasl_username;
    const char *queue_id;
    const char *instance;	/* the same for every RCPT of one message */
};

struct policy_verdict {
    int kind;			/* enum policy_kind */
    char action[32];		/* first word, for logs */
    char rcode[4];		/* "450", "554" */
    char xcode[12];		/* "4.7.1" */
    char text[POLICY_TEXT_MAX];
    char filter[256];		/* POLICY_FILTER: "transport:nexthop" */
};

size_t policy_request_format(const struct policy_query *q, char *buf, size_t size);
size_t policy_answer_end(const char *buf, size_t len);
int policy_answer_parse(const char *buf, size_t len, struct policy_verdict *v,
			const char **why);
int policy_action_map(const char *action, size_t len, struct policy_verdict *v);

#endif
