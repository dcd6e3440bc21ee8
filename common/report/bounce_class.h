/*
 * bounce_class - why a message failed, and whether to stop sending
 *
 * SYNOPSIS
 *	#include "bounce_class.h"
 *
 *	int bounce_classify(const struct bounce_evidence *ev);
 *	const char *bounce_reason_name(int reason);
 *	int bounce_is_hard(int reason, const char *status,
 *			   const char *replycode);
 *	int bounce_pseudo_status(int reason, int temporary, char *out,
 *				 size_t outsz);
 *	int bounce_replycode_find(const char *text, const char *status,
 *				  char *out, size_t outsz);
 *	const char *bounce_command_find(const char *text);
 *	int bounce_text_is_temporary(const char *text);
 *	int bounce_provider_reason(const char *domain, int reason);
 *	int bounce_lda_named(const char *text);
 *
 * DESCRIPTION
 *	bounce_classify() names the reason of one failed recipient from the
 *	evidence a report gives: the enhanced status code (RFC 3463), the
 *	SMTP reply code, the diagnostic wording, the DSN Action and the SMTP
 *	command that was refused.  The reason names follow the vocabulary
 *	of the Sisimai project (userunknown, mailboxfull, blocked, ...), so
 *	that figures compare with other tools.  The status code decides when
 *	it is specific; the wording decides when the code is generic
 *	(X.0.0, X.7.1, none) or contradicted by a more specific phrase.
 *	A code that names a missing mailbox (X.1.1) beside words that say
 *	the refusal passes ("temporarily unavailable", "try again later")
 *	and do not name it is no missing mailbox: another reason the words
 *	give, else onhold.
 *	The phrase tables are written for formats and wording, not for any
 *	one sample.  First come the fixed messages of the program that
 *	wrote the notice (ev->mta names it where its words must be read
 *	in its own sense: "qmail", "exim", "imail", "fml") and of local
 *	delivery agents, then the rules of large receivers
 *	(bounce_rhost(3)), then the generic reading by status code,
 *	command and wording.
 *
 *	bounce_is_hard() says whether the address should be suppressed at
 *	once: the mailbox or domain does not exist or has moved
 *	(userunknown, hostunknown, hasmoved), or the domain accepts no mail
 *	at all (notaccept with a permanent code).  Everything else is soft:
 *	a policy, content, reputation or capacity problem is not a property
 *	of the address.
 *
 *	bounce_pseudo_status() gives the status code to report when a
 *	bounce carries none: class 4 or 5, subject 0, and a detail number
 *	of 900 and above that stands for the reason (the convention of
 *	Sisimai).  bounce_replycode_find() finds the SMTP reply code in a
 *	text, preferring the one that goes with status.
 *	bounce_command_find() names the SMTP command a text says was
 *	refused ("RCPT", "MAIL", "DATA", "HELO", "EHLO", "CONN") or NULL.
 *	bounce_text_is_temporary() says whether the wording calls the
 *	failure temporary (" temporar", " persistent").
 *	bounce_provider_reason() refines an undecided reason (undefined,
 *	onhold) by the recipient's domain, for providers whose refusals
 *	mean one thing whatever their wording (a Google Groups list refuses
 *	the poster: rejected); any other reason is returned unchanged.
 *	bounce_lda_named() says whether a text quotes the error of a local
 *	delivery agent (dovecot, mail.local, procmail, maildrop, vpopmail,
 *	vmailmgr), whose words the classifier reads in that agent's sense.
 */
#ifndef OUTPOST_BOUNCE_CLASS_H
#define OUTPOST_BOUNCE_CLASS_H

#include <stddef.h>

enum bounce_reason {
    BR_UNDEFINED = 0,
    BR_ONHOLD,
    BR_DELIVERED,
    BR_FEEDBACK,
    BR_VACATION,
    BR_USERUNKNOWN,
    BR_HOSTUNKNOWN,
    BR_HASMOVED,
    BR_NOTACCEPT,
    BR_MAILBOXFULL,
    BR_SUSPEND,
    BR_FILTERED,
    BR_REJECTED,
    BR_BLOCKED,
    BR_SPAMDETECTED,
    BR_VIRUSDETECTED,
    BR_POLICYVIOLATION,
    BR_AUTHFAILURE,
    BR_REQUIREPTR,
    BR_BADREPUTATION,
    BR_SECURITYERROR,
    BR_NORELAYING,
    BR_NOTCOMPLIANTRFC,
    BR_CONTENTERROR,
    BR_MESGTOOBIG,
    BR_EXCEEDLIMIT,
    BR_TOOMANYCONN,
    BR_SPEEDING,
    BR_EXPIRED,
    BR_NETWORKERROR,
    BR_SYSTEMERROR,
    BR_SYSTEMFULL,
    BR_MAILERERROR,
    BR_SYNTAXERROR,
    BR_UNSUBSCRIBE,
    BR_FAILEDSTARTTLS,
    BR_COUNT
};

struct bounce_evidence {
    const char *status;		/* "5.1.1" or "" */
    const char *replycode;	/* "550" or "" */
    const char *text;		/* diagnostic wording, any case */
    const char *action;		/* DSN Action: "failed", "delayed", "" */
    const char *command;	/* "RCPT", "DATA", ... or NULL */
    const char *diag_type;	/* DSN diagnostic type: "smtp", "x-unix", "" */
    const char *rhost;		/* remote MTA's host name, or NULL */
    const char *domain;		/* the recipient's domain, or NULL */
    const char *lhost;		/* reporting MTA's host name, or NULL */
    const char *mta;		/* the notice's MTA ("qmail", "exim",
				 * "imail", "fml"), or NULL */
};

int bounce_classify(const struct bounce_evidence *ev);
const char *bounce_reason_name(int reason);
int bounce_is_hard(int reason, const char *status, const char *replycode);
int bounce_pseudo_status(int reason, int temporary, char *out,
			     size_t outsz);
int bounce_replycode_find(const char *text, const char *status,
			      char *out, size_t outsz);
const char *bounce_command_find(const char *text);
int bounce_text_is_temporary(const char *text);
int bounce_provider_reason(const char *domain, int reason);
int bounce_lda_named(const char *text);

#endif
