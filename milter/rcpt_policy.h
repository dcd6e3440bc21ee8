/*
 * rcpt_policy - ask outpost-policyd about each recipient (outpost-milter, Sendmail)
 *
 * SYNOPSIS
 *	#include "rcpt_policy.h"
 *
 *	void rcpt_policy_init(const struct outpost_conf *conf);
 *	int rcpt_policy_enabled(void);
 *	sfsistat rcpt_policy(SMFICTX *ctx, struct rcpt_policy_msg *pm,
 *			     const char *rcpt);
 *	void rcpt_policy_shutdown(void);
 *
 * DESCRIPTION
 *	Sendmail has no policy protocol.  With [milter] policy_service set,
 *	the milter asks outpost-policyd (throttling, warm-up) at each RCPT,
 *	over the same protocol Postfix's check_policy_service speaks, and
 *	turns the answer into the recipient's reply.
 *
 *	rcpt_policy_init() opens nothing yet (connections are made on first
 *	use); it logs a warning for each [pool] with an overflow, which
 *	Sendmail cannot carry out (see FILTER below).
 *	rcpt_policy_enabled() is 1 when policy_service is set.
 *
 *	rcpt_policy() builds the request from the MTA's macros: {client_addr},
 *	{client_name}, s (HELO name), r (protocol), {auth_authen}, i (queue
 *	id), {mail_addr} and {rcpt_addr} (else rcpt, the RCPT TO argument);
 *	instance is made at the first RCPT of each message and kept in
 *	*pm, which the caller clears with the message.  It returns:
 *
 *	SMFIS_CONTINUE	the answer lets the recipient pass (DUNNO, OK ...),
 *			or policyd failed and policy_default_action = accept
 *			(logged as a warning)
 *	SMFIS_TEMPFAIL	DEFER_IF_PERMIT, DEFER, 4NN: that reply (set with
 *			smfi_setreply); FILTER transport:nexthop (a spill-over
 *			to another pool, which needs Postfix transports):
 *			451 4.7.1; an answer it cannot carry out: 451 4.3.0;
 *			policyd unreachable, slow or garbled and
 *			policy_default_action = tempfail: 451 4.3.0
 *	SMFIS_REJECT	REJECT, 5NN: that reply
 *
 *	rcpt_policy_shutdown() closes the idle connections.
 *
 * DIAGNOSTICS
 *	A log line for each refused recipient, each FILTER, and each
 *	failure to ask; passes are logged at debug level.
 */
#ifndef OUTPOST_RCPT_POLICY_H
#define OUTPOST_RCPT_POLICY_H

#include <libmilter/mfapi.h>

struct outpost_conf;

/* per message: cleared (memset) with the message */
struct rcpt_policy_msg {
    char instance[48];
};

void rcpt_policy_init(const struct outpost_conf *conf);
int rcpt_policy_enabled(void);
sfsistat rcpt_policy(SMFICTX *ctx, struct rcpt_policy_msg *pm, const char *rcpt);
void rcpt_policy_shutdown(void);

#endif
