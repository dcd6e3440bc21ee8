/*
 * bounce - read a bounce, complaint, auto-reply or unsubscribe message
 *
 * SYNOPSIS
 *	#include "bounce.h"
 *
 *	int bounce_parse(const char *msg, size_t len,
 *			 struct bounce_report *out, const char **why);
 *	int bounce_parse_within(const char *msg, size_t len,
 *				long long budget_ns,
 *				struct bounce_report *out, const char **why);
 *	void bounce_report_free(struct bounce_report *r);
 *	const char *bounce_kind_name(int kind);
 *
 * DESCRIPTION
 *	bounce_parse() reads one message held in memory (as the milter sees
 *	it at end of message, or a file) and says what it is and whom it is
 *	about:
 *
 *	BOUNCE_DSN	a delivery report: an RFC 3464 multipart/report, or
 *			one of the plain-text formats of common MTAs and
 *			providers (Postfix, Sendmail, Exim, qmail, Exchange,
 *			Gmail, Yahoo, Amazon SES notifications, ...)
 *	BOUNCE_ARF	an RFC 5965 complaint (feedback report)
 *	BOUNCE_UNSUBSCRIBE  a request to stop mailing the sender
 *	BOUNCE_AUTOREPLY    an RFC 3834 automatic reply (vacation)
 *	BOUNCE_UNKNOWN	none of these
 *
 *	For each recipient it fills one bounce_rcpt: the address (normalised
 *	with addr_normalize() when possible), the enhanced status code (a
 *	pseudo code X.0.9NN when the report has none, see bounce_class(3)),
 *	the SMTP reply code, the reason (enum bounce_reason), the hard/soft
 *	verdict, the Feedback-Type for complaints, and the diagnostic text.
 *	out->orig_headers holds the header block of the returned original
 *	message when the report includes it (for a VERP or X- token, the
 *	Message-ID or the envelope sender); NULL otherwise.
 *
 *	Limits: MIME_MAX_SIZE bytes, MIME_MAX_DEPTH, MIME_MAX_PARTS (see
 *	mime(3)), BOUNCE_MAX_RCPTS recipients (out->truncated is set beyond;
 *	the rest of the report is not read).  Every reader is linear in the
 *	message; as a last guard, a report that has cost the calling thread
 *	more than BOUNCE_CPU_BUDGET_MS of CPU time is given up
 *	(out->over_budget is set and bounce_parse() fails).
 *	bounce_parse_within() is bounce_parse() with a budget of budget_ns
 *	nanoseconds of CPU time instead (tests show the budget with it).
 *	The caller frees out with bounce_report_free(), also after an error.
 *
 * DIAGNOSTICS
 *	bounce_parse() returns the kind, or -1 with *why set when the message
 *	cannot be read at all (too large, or over its CPU budget).
 */
#ifndef OUTPOST_BOUNCE_H
#define OUTPOST_BOUNCE_H

#include <stddef.h>

#include "addr.h"
#include "blname.h"
#include "bounce_class.h"
#include "dsn.h"

#define BOUNCE_MAX_RCPTS 1000
#define BOUNCE_CPU_BUDGET_MS 1000

enum bounce_kind {
    BOUNCE_UNKNOWN = 0,
    BOUNCE_DSN,
    BOUNCE_ARF,
    BOUNCE_UNSUBSCRIBE,
    BOUNCE_AUTOREPLY,
};

struct bounce_rcpt {
    char addr[ADDR_MAX];
    char status[16];		/* "5.1.1", or "" */
    char replycode[4];		/* "550", or "" */
    int reason;			/* enum bounce_reason */
    int hard;			/* suppress at once */
    char feedback_type[32];	/* complaints: "abuse", "opt-out", ... */
    char action[32];		/* DSN Action, lower case */
    char command[16];		/* refused SMTP command, or "" */
    char remote_mta[256];
    char reporting_mta[256];	/* the DSN's Reporting-MTA, or "" */
    char diag[DSN_DIAG_MAX];	/* diagnostic text, one line */
    /* a blocked recipient's diagnostic naming a DNS blocklist (blname(3));
     * filled by report_digest_make() */
    char bl_zone[BLNAME_ZONE_MAX];	/* the list's zone, or "" */
    char bl_family[32];		/* the list's operator, or "" */
    char bl_ip[BLNAME_IP_MAX];	/* the address it names, or "" */
};

struct bounce_report {
    int kind;			/* enum bounce_kind */
    struct bounce_rcpt *rcpts;
    size_t nrcpts;
    int truncated;
    int over_budget;		/* gave up: BOUNCE_CPU_BUDGET_MS spent */
    long long cpu_limit_ns;		/* private: thread CPU time to stop at */
    char *orig_headers;		/* returned message's headers, or NULL */
    size_t orig_headers_len;
    char source_ip[64];		/* complaints: Source-IP */
    char orig_mail_from[ADDR_MAX];	/* complaints: Original-Mail-From */
    char mta[16];			/* the notice's MTA where its words
					 * matter: "qmail", "exim", "imail",
					 * "fml" */
};

int bounce_parse(const char *msg, size_t len, struct bounce_report *out,
		     const char **why);
int bounce_parse_within(const char *msg, size_t len, long long budget_ns,
			struct bounce_report *out, const char **why);
void bounce_report_free(struct bounce_report *r);
const char *bounce_kind_name(int kind);

#endif
