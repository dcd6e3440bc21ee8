/*
 * dsn - RFC 3464 delivery status notification fields
 *
 * SYNOPSIS
 *	#include "dsn.h"
 *
 *	int dsn_parse(const char *body, size_t len, struct dsn_report *out);
 *	void dsn_free(struct dsn_report *r);
 *	int dsn_status_find(const char *text, char *out, size_t outsz);
 *	void dsn_addr_value(const char *value, char *out, size_t outsz);
 *
 * DESCRIPTION
 *	dsn_parse() reads the body of a message/delivery-status part (LF line
 *	ends): the per-message fields (Reporting-MTA) and one dsn_rcpt per
 *	per-recipient group, with Final-Recipient, Original-Recipient,
 *	Action, Status, Remote-MTA and Diagnostic-Code (and PowerMTA's
 *	X-PowerMTA-BounceCategory, its own verdict).  It is lenient about
 *	what the wild does: recipient groups not separated by an empty line
 *	(a new Final-Recipient starts a new group), a missing Final-Recipient
 *	(Original-Recipient or X-Actual-Recipient stands in), comments after
 *	the status code, unknown fields.  At most DSN_MAX_RCPTS recipients
 *	are kept (out->truncated is set beyond); long values are cut.
 *	It returns the number of recipients.
 *
 *	dsn_status_find() copies the first enhanced status code
 *	("5.1.1", "4.4.7", "5.7.509") found in text; it returns 0, or -1 when
 *	there is none.  dsn_addr_value() turns "rfc822; <a@b>" into "a@b".
 */
#ifndef OUTPOST_DSN_H
#define OUTPOST_DSN_H

#include <stddef.h>

#include "addr.h"

#define DSN_MAX_RCPTS	1000
#define DSN_DIAG_MAX	1024

struct dsn_rcpt {
    char final_rcpt[ADDR_MAX];
    char orig_rcpt[ADDR_MAX];
    char action[32];
    char status[16];
    char status_comment[128];	/* "(mailbox disabled, ...)" after it */
    char remote_mta[256];
    char diag_type[32];		/* "smtp", "x-unix", ... lower case */
    char diag[DSN_DIAG_MAX];	/* Diagnostic-Code text after the type */
    char category[32];		/* PowerMTA's X-PowerMTA-BounceCategory */
};

struct dsn_report {
    char reporting_mta[256];
    struct dsn_rcpt *rcpts;
    size_t nrcpts;
    int truncated;
};

int dsn_parse(const char *body, size_t len, struct dsn_report *out);
void dsn_free(struct dsn_report *r);
int dsn_status_find(const char *text, char *out, size_t outsz);
void dsn_addr_value(const char *value, char *out, size_t outsz);

#endif
