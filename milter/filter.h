/*
 * filter - the libmilter callbacks of outpost-milter
 *
 * SYNOPSIS
 *	#include "filter.h"
 *
 *	extern struct smfiDesc filter_desc;
 *
 * DESCRIPTION
 *	filter_desc is what main registers with smfi_register().  The
 *	callbacks are thin: they keep what the MTA tells them in a
 *	per-connection struct filter_conn (one struct filter_msg per
 *	message, reset at end of message and at abort) and delegate each
 *	decision to plain modules (dkimsign, rcpt_check, plan) that tests
 *	drive without an MTA: each recipient is read once (recipient(3)), and
 *	at end of message plan_message() (plan(3)) says what to do and fi_eom
 *	carries it out.
 *
 *	Negotiation asks only for the events used, with no reply wherever
 *	no decision is taken (SMFIP_NR_*), and for SMFIP_HDR_LEADSPC so that
 *	header white space reaches the signer exactly.
 *
 *	Negotiation reads the settings in force when the connection opens,
 *	each message those in force at its MAIL FROM (settings(3)): a reload
 *	never changes a message in flight.
 *
 * DIAGNOSTICS
 *	One log line per message that is signed, not signed, or failed.
 */
#ifndef OUTPOST_FILTER_H
#define OUTPOST_FILTER_H

#include <libmilter/mfapi.h>

extern struct smfiDesc filter_desc;

#endif
