/*
 * report_digest - what intake needs of a report, and its wire form
 *
 * SYNOPSIS
 *	#include "report_digest.h"
 *
 *	void report_digest_make(const char *msg, size_t len, int flags,
 *				struct report_digest *d);
 *	void report_digest_free(struct report_digest *d);
 *
 *	unsigned char *report_digest_encode(const struct report_digest *d,
 *					    size_t *len);
 *	int report_digest_decode(const unsigned char *p, size_t len,
 *				 struct report_digest *d, const char **why);
 *
 *	void report_digest_put32(unsigned char *p, uint32_t v);
 *	uint32_t report_digest_get32(const unsigned char *p);
 *
 * DESCRIPTION
 *	report_digest_make() reads one report (the outside bytes, hostile):
 *	with REPORT_DIGEST_PARSE it runs bounce_parse() (MIME, DSN, ARF,
 *	SES, the classifier) and keeps the kind, the recipients (with the
 *	DNS blocklist a blocked one's diagnostic names, blname(3)) and the
 *	original's envelope sender and Return-Path address; always, it keeps
 *	the Message-ID and whom the Subject or From names (an unsubscribe
 *	request without a token).  Nothing in a digest points into msg.
 *	outpost-intake-parse(8) calls it in a process without keys;
 *	the milter gets the digest back through the wire form.
 *
 *	report_digest_encode() returns the wire form of d in a buffer the
 *	caller frees (*len bytes, at most REPORT_DIGEST_WIRE_MAX).
 *	report_digest_decode() reads one back, checking every length against
 *	the end of the buffer and the size of its field: no NUL inside a
 *	string, at most BOUNCE_MAX_RCPTS recipients, known kinds and reasons,
 *	nothing left over.  The caller frees d with report_digest_free(),
 *	also after an error.
 *
 *	Requests to the parser are framed as REPORT_DIGEST_REQ_HDR bytes
 *	(length, 4 bytes big-endian; flags, 1 byte) and the message; answers
 *	as a 4-byte length and the wire form.  report_digest_put32() and
 *	report_digest_get32() write and read those lengths.
 *
 * DIAGNOSTICS
 *	report_digest_decode() returns -1 with *why set on a malformed
 *	buffer; the digest is then empty.
 */
#ifndef OUTPOST_REPORT_DIGEST_H
#define OUTPOST_REPORT_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "bounce.h"
#include "mime.h"

#define REPORT_DIGEST_PARSE	1	/* read the report, not its header only */

#define REPORT_DIGEST_VERSION	2
#define REPORT_DIGEST_REQ_HDR	5
#define REPORT_DIGEST_REQ_MAX	(MIME_MAX_SIZE + 1)	/* one more: "too large" */
/* the wire form at its largest: every string full, every recipient used */
#define REPORT_DIGEST_RCPT_WIRE	(9 * 2 + ADDR_MAX + 16 + 4 + 32 + 32 + 2 + 256 \
				 + BLNAME_ZONE_MAX + 32 + BLNAME_IP_MAX)
#define REPORT_DIGEST_WIRE_MAX	(3 + 5 * 2 + 128 + 3 * ADDR_MAX + 256 + 2 \
				 + BOUNCE_MAX_RCPTS * REPORT_DIGEST_RCPT_WIRE)

struct report_digest {
    struct bounce_report r;		/* kind, rcpts (addr, status, replycode, reason,
					 * hard, feedback_type, action, reporting_mta,
					 * bl_zone, bl_family, bl_ip), truncated,
					 * over_budget, orig_mail_from; no orig_headers */
    int readable;			/* bounce_parse() succeeded, or was not asked */
    char why[128];			/* why not readable */
    char orig_return_path[ADDR_MAX];	/* the original's Return-Path, normalised */
    char message_id[256];		/* "" if none */
    char named_rcpt[ADDR_MAX];		/* whom Subject or From names, normalised */
};

void report_digest_make(const char *msg, size_t len, int flags, struct report_digest *d);
void report_digest_free(struct report_digest *d);
unsigned char *report_digest_encode(const struct report_digest *d, size_t *len);
int report_digest_decode(const unsigned char *p, size_t len, struct report_digest *d,
			 const char **why);
void report_digest_put32(unsigned char *p, uint32_t v);
uint32_t report_digest_get32(const unsigned char *p);

#endif
