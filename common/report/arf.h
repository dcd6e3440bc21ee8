/*
 * arf - RFC 5965 abuse reporting format (feedback reports)
 *
 * SYNOPSIS
 *	#include "arf.h"
 *
 *	int arf_parse(const char *body, size_t len, struct arf_report *out);
 *	void arf_free(struct arf_report *r);
 *
 * DESCRIPTION
 *	arf_parse() reads the fields of a message/feedback-report part (LF
 *	line ends): Feedback-Type (lower case), User-Agent, Version,
 *	Original-Mail-From, Original-Rcpt-To (repeatable), Source-IP,
 *	Reported-Domain, Arrival-Date.  It is lenient about the variants
 *	seen in the wild: empty lines between fields, "Removal-Recipient"
 *	standing for Original-Rcpt-To, angle brackets, "Received-Date" for
 *	Arrival-Date.  At most ARF_MAX_RCPTS recipients are kept.
 *
 *	It returns 0 when a Feedback-Type was found, -1 otherwise (the
 *	other fields are still filled in).
 */
#ifndef OUTPOST_ARF_H
#define OUTPOST_ARF_H

#include <stddef.h>

#include "addr.h"

#define ARF_MAX_RCPTS	100

struct arf_report {
    char feedback_type[32];
    char user_agent[128];
    char version[16];
    char orig_mail_from[ADDR_MAX];
    char source_ip[64];
    char reported_domain[256];
    char arrival_date[64];
    char (*rcpts)[ADDR_MAX];
    size_t nrcpts;
    int truncated;
};

int arf_parse(const char *body, size_t len, struct arf_report *out);
void arf_free(struct arf_report *r);

#endif
