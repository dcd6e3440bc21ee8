/*
 * filter - the libmilter callbacks of outpost-milter
 *
 * SYNOPSIS
 *	#include "filter.h"
 *
 *	extern struct smfiDesc filter_desc;
 *	void filter_init(const struct outpost_conf *conf);
 *	void filter_set_signer(struct dkimsign *ds);
 *
 * DESCRIPTION
 *	filter_desc is what main registers with smfi_register().  The
 *	callbacks are thin: they keep what the MTA tells them in a
 *	per-connection struct filter_conn (one struct filter_msg per
 *	message, reset at end of message and at abort) and delegate each
 *	decision to plain modules (dkimsign, rcpt_check, plan) that tests
 *	drive without an MTA: at end of message, plan_message() (plan(3))
 *	says what to do and fi_eom carries it out.  filter_init() reads what negotiation depends on
 *	([suppress] enabled: RCPT events and the right to delete recipients).
 *
 *	Negotiation asks only for the events used, with no reply wherever
 *	no decision is taken (SMFIP_NR_*), and for SMFIP_HDR_LEADSPC so that
 *	header white space reaches the signer exactly.
 *
 *	filter_set_signer() installs the signing state used by messages that
 *	begin from now on (NULL: sign nothing); messages in flight keep
 *	theirs.  It takes over the caller's reference.
 *
 * DIAGNOSTICS
 *	One log line per message that is signed, not signed, or failed.
 */
#ifndef OUTPOST_FILTER_H
#define OUTPOST_FILTER_H

#include <libmilter/mfapi.h>

#include "dkimsign.h"

struct outpost_conf;

extern struct smfiDesc filter_desc;

void filter_init(const struct outpost_conf *conf);
void filter_set_signer(struct dkimsign *ds);

#endif
