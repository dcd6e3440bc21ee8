/*
 * request - parse one Postfix policy delegation request
 *
 * SYNOPSIS
 *	#include "request.h"
 *
 *	size_t request_end(const char *buf, size_t len);
 *	int request_parse(const char *buf, size_t len,
 *			  struct policy_request *req, const char **why);
 *
 * DESCRIPTION
 *	Postfix (SMTPD_POLICY_README) sends "name=value" lines ended by an
 *	empty line.  request_end() returns the length of the first complete
 *	request in buf, the empty line included, or 0 when the empty line has
 *	not arrived yet.
 *
 *	request_parse() reads one complete request (as delimited by
 *	request_end()) into req: each attribute Outpost uses is a pointer into
 *	buf and a length (an absent attribute has p == NULL); the others are
 *	ignored, as the protocol asks.  A trailing carriage return is removed
 *	from each line.  It returns 0, or -1 with *why pointing at a static
 *	text when a line has no '=', an attribute name is empty or holds a
 *	space or control character, or the request holds a NUL byte or more than
 *	REQUEST_MAX_LINES lines.  It never reads beyond buf + len and never
 *	writes to buf.
 */
#ifndef OUTPOST_REQUEST_H
#define OUTPOST_REQUEST_H

#include <stddef.h>

#define REQUEST_MAX_LINES 512

struct policy_str {
    const char *p;		/* NULL: not in the request */
    size_t len;
};

struct policy_request {
    struct policy_str request;	/* "smtpd_access_policy" */
    struct policy_str protocol_state;	/* "RCPT", "DATA", ... */
    struct policy_str recipient;
    struct policy_str sender;
    struct policy_str sasl_username;
    struct policy_str client_address;
    struct policy_str queue_id;
    struct policy_str instance;
    size_t nattrs;		/* lines read, the known ones and others */
};

size_t request_end(const char *buf, size_t len);
int request_parse(const char *buf, size_t len, struct policy_request *req,
		  const char **why);
int request_str_eq(const struct policy_str *s, const char *lit);

#endif
