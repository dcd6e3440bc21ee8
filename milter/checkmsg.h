/*
 * checkmsg - a test message evaluated as a receiving MTA does
 *
 * SYNOPSIS
 *	#include "checkmsg.h"
 *
 *	void checkmsg_begin(struct checkmsg *cm, unsigned long long id);
 *	void checkmsg_header(struct checkmsg *cm, const char *name,
 *			     const char *value, int add_space);
 *	void checkmsg_eoh(struct checkmsg *cm, const char *qid);
 *	void checkmsg_body(struct checkmsg *cm, const unsigned char *buf,
 *			   size_t len);
 *	int checkmsg_eom(struct checkmsg *cm, const struct checkmsg_conn *cc,
 *			 const struct outpost_conf *conf, const char *qid);
 *	void checkmsg_reset(struct checkmsg *cm);
 *
 * DESCRIPTION
 *	The message outpostctl test-send sent to the check address comes
 *	back through the MX of the bounce domain (intake_check(3) decides
 *	that it is to be evaluated here).  checkmsg_begin() starts it with
 *	the report id of its token; the filter then feeds it the header
 *	fields as the MTA gives them (at most CHECKMSG_HDR_MAX fields and
 *	CHECKMSG_HDRBYTES_MAX bytes are kept; beyond that the DKIM check
 *	fails with "header too large"), the end of the header, which starts
 *	a libopendkim verifying handle, and the body chunks, which are
 *	hashed as they come and not kept.
 *
 *	checkmsg_eom() finishes the evaluation in the milter proper (not in
 *	the sandboxed report parser, which may not use the network): the
 *	DKIM signatures with their keys from the DNS, SPF with libspf2 for
 *	the client address and the envelope sender's domain, the DMARC
 *	record of the From: domain (dnsq(3), dmarcrec(3)), the hop's TLS
 *	({tls_version}, else the top Received field), then checkjudge(3)
 *	judges, and the report is stored in Redis:
 *
 *	    P{intake}:testsend:ID (string, TTL CHECKMSG_TTL seconds): one line per
 *	    check, "NAME TAB STATUS TAB DETAIL TAB FIX", in checkjudge(3)'s
 *	    order; ID is the token's id in 16 hex digits.
 *
 *	Each DNS question is bounded by the resolver's timeout and attempts
 *	(resolv.conf) and libopendkim's CHECKMSG_DNS_TIMEOUT; milter
 *	threads are one per connection, so other messages go on meanwhile.
 *	checkmsg_eom() returns 0, or -1 when Redis failed (the caller
 *	tempfails the message so that it comes again).
 *
 * DIAGNOSTICS
 *	One log line per evaluated message with its failed checks.
 */
#ifndef OUTPOST_CHECKMSG_H
#define OUTPOST_CHECKMSG_H

#include <stddef.h>
#include <sys/socket.h>

#include "addr.h"

#define CHECKMSG_HDR_MAX	200		/* header fields kept */
#define CHECKMSG_HDRBYTES_MAX	(128 * 1024)	/* their bytes */
#define CHECKMSG_DNS_TIMEOUT	5		/* seconds, libopendkim's key queries */
#define CHECKMSG_TTL		3600		/* seconds the report is kept */

struct outpost_conf;

/* what the connection says about the hop */
struct checkmsg_conn {
    const struct sockaddr *client;	/* NULL: unknown */
    const char *sender_domain;		/* of MAIL FROM, "" for <> */
    const char *tls_version;		/* {tls_version}, NULL: none */
};

struct checkmsg {
    int on;				/* the message is evaluated */
    unsigned long long id;		/* of the report */
    char **hdrs;			/* "Name: value", CRLF inside */
    size_t *hdrlens, nhdrs, hdrbytes;
    int too_big;
    void *lib, *dkim;			/* libopendkim's DKIM_LIB, DKIM */
    int dkim_stat;			/* of dkim_eoh(), dkim_body() */
};

void checkmsg_begin(struct checkmsg *cm, unsigned long long id);
void checkmsg_header(struct checkmsg *cm, const char *name, const char *value,
		     int add_space);
void checkmsg_eoh(struct checkmsg *cm, const char *qid);
void checkmsg_body(struct checkmsg *cm, const unsigned char *buf, size_t len);
int checkmsg_eom(struct checkmsg *cm, const struct checkmsg_conn *cc,
		 const struct outpost_conf *conf, const char *qid);
void checkmsg_reset(struct checkmsg *cm);

#endif
