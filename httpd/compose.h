/*
 * compose - the RFC 5322 message of POST /v1/messages
 *
 * SYNOPSIS
 *	#include "compose.h"
 *
 *	int compose_parse(const char *body, size_t len,
 *			  const struct compose_limits *lim,
 *			  struct compose_req *req, char *why, size_t whylen);
 *	void compose_req_free(struct compose_req *req);
 *	char *compose_common(const struct compose_req *req,
 *			     const char *campaign_header, long long now,
 *			     size_t max, size_t *len);
 *	char *compose_head(const struct compose_req *req, size_t i,
 *			   size_t *len);
 *
 * DESCRIPTION
 *	compose_parse() reads the JSON body of a request (a bounded pull
 *	reader, json_scan(3): linear in len, nothing kept but the decoded
 *	fields) into req:
 *
 *	    {"from": ADDR, "to": ADDR | [ADDR, ...], "subject": "...",
 *	     "text": "...", "html": "...", "headers": {"Name": "value"},
 *	     "campaign": "..."}
 *
 *	where ADDR is "user@example.com" or {"email": "...", "name": "..."}.
 *	Every string must be valid UTF-8; addresses are normalised (addr(3))
 *	and must be ASCII; names, the subject and header values may hold no
 *	control character (CR and LF least of all: no header can be
 *	injected); header names are RFC 5322 field names, and neither those
 *	the relay or the other fields set (From, To, Cc, Bcc, Sender,
 *	Subject, Date, Message-ID, MIME-Version, Content-*, DKIM-Signature,
 *	Received, Return-Path, the campaign header) nor non-ASCII values are
 *	taken; the campaign is [A-Za-z0-9._-], at most 64 bytes.  Limits:
 *	lim->max_rcpts recipients, lim->max_headers extra headers.  It
 *	returns 0, or -1 with why naming the field ("to[2]: domain label
 *	starts with '-'").  req is zeroed first and must be freed with
 *	compose_req_free() either way.
 *
 *	The message for recipient i is compose_head(req, i) followed by
 *	compose_common(req, ...): the head holds To and Message-ID (one per
 *	copy, @ the sender's domain); the common part From, Subject, Date
 *	(now, UNIX seconds), MIME-Version, the campaign header, the extra
 *	headers, and the body: text/plain or text/html, or
 *	multipart/alternative of both, in quoted-printable UTF-8 (lines of
 *	at most 76 bytes).  Display names and the subject that are not
 *	plain ASCII become RFC 2047 encoded words (B, UTF-8, each at most
 *	75 bytes, folded).  Lines end in CRLF.  compose_common() returns
 *	NULL when the message would exceed max bytes.  Both return a
 *	string the caller frees.
 */
#ifndef OUTPOST_HTTPD_COMPOSE_H
#define OUTPOST_HTTPD_COMPOSE_H

#include <stddef.h>

#include "addr.h"

#define COMPOSE_CAMPAIGN_MAX 64

struct compose_addr {
    char addr[ADDR_MAX];		/* normalised */
    char *name;				/* NULL: none */
};

struct compose_hdr {
    char *name;
    char *value;
};

struct compose_req {
    struct compose_addr from;
    struct compose_addr *to;
    size_t nto;
    char *subject;			/* NULL: none */
    char *text;				/* NULL: none */
    char *html;				/* NULL: none */
    struct compose_hdr *hdrs;
    size_t nhdrs;
    char campaign[COMPOSE_CAMPAIGN_MAX + 1];	/* "": none */
};

struct compose_limits {
    size_t max_rcpts;
    size_t max_headers;
    const char *campaign_header;	/* refused among the headers */
};

int compose_parse(const char *body, size_t len, const struct compose_limits *lim,
		  struct compose_req *req, char *why, size_t whylen);
void compose_req_free(struct compose_req *req);
char *compose_common(const struct compose_req *req, const char *campaign_header,
		     long long now, size_t max, size_t *len);
char *compose_head(const struct compose_req *req, size_t i, size_t *len);

#endif
