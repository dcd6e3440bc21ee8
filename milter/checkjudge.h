/*
 * checkjudge - the receiver's verdict on a test message (outpostctl test-send)
 *
 * SYNOPSIS
 *	#include "checkjudge.h"
 *
 *	void checkjudge_run(const struct check_facts *f,
 *			    struct check_report *r);
 *	int checkjudge_one_click(const char *unsub, size_t ulen,
 *				 const char *post, size_t plen,
 *				 const char **why);
 *	int checkjudge_received_tls(const char *received, size_t len);
 *	const char *check_status_name(enum check_status st);
 *
 * DESCRIPTION
 *	checkjudge_run() turns what the milter found out about a test
 *	message (the facts: DKIM results from libopendkim, the SPF result
 *	from libspf2, the DMARC record, header fields, the hop's TLS) into
 *	the checks a receiving mailbox provider makes, in this order:
 *
 *	dkim		a signature that verifies (none: no signature).
 *	spf		the return path's SPF result for the connecting address.
 *	dmarc		a record for the From: domain and an aligned pass
 *			through DKIM d= or the SPF domain (none: no record).
 *	received	the hops of the Received path, the last one named.
 *	tls		the hop into the receiver was encrypted.
 *	one-click	List-Unsubscribe with an https URI and
 *			List-Unsubscribe-Post: List-Unsubscribe=One-Click.
 *	bulk-sender	what Gmail and Yahoo require of bulk mail: one-click
 *			unsubscribe, From: aligned, a DMARC record (p=none at
 *			least).
 *
 *	Each check is pass, fail or none with a detail and, for a failure,
 *	the fix (dnsfix(3): the words outpostctl verify uses).  Details and
 *	fixes hold no tab, CR or LF (outside text is flattened), so that a
 *	check fits one tab-separated line.
 *
 *	checkjudge_one_click() reads the two header fields (either may be
 *	NULL): 1 when they make a one-click unsubscribe, else 0 with why.
 *	checkjudge_received_tls() says whether a Received field records an
 *	encrypted hop (RFC 3848: with ESMTPS, ESMTPSA, UTF8SMTPS, ...).
 *	Both are pure functions over buffers with lengths, linear in them.
 */
#ifndef OUTPOST_CHECKJUDGE_H
#define OUTPOST_CHECKJUDGE_H

#include <stddef.h>

#include "addr.h"
#include "dmarcrec.h"

#define CHECK_SIG_MAX	8		/* DKIM signatures judged */
#define CHECK_MAX	8		/* checks in a report */
#define CHECK_TEXT_MAX	1024		/* a detail or a fix */
#define CHECK_HDR_MAX	2048		/* a header field kept for judging */

enum check_status { CHECK_PASS, CHECK_FAIL, CHECK_NONE };
enum check_dmarc { CHECK_DMARC_NONE, CHECK_DMARC_FOUND, CHECK_DMARC_BAD,
		   CHECK_DMARC_TROUBLE };

struct check_sig {
    char domain[DOMAIN_MAX];		/* d= */
    char selector[64];			/* s= */
    int pass;
    char why[128];			/* when not */
};

/* what the milter found out */
struct check_facts {
    char from_domain[DOMAIN_MAX];	/* "": unreadable */
    char from_why[128];
    size_t nsig;
    struct check_sig sig[CHECK_SIG_MAX];
    char client_ip[64];			/* the connecting client */
    char spf_domain[DOMAIN_MAX];	/* of MAIL FROM, else HELO */
    char spf_result[16];		/* pass, fail, softfail, neutral, none, ... */
    int dmarc;				/* enum check_dmarc */
    char dmarc_name[DOMAIN_MAX + 8];	/* where it was looked up */
    struct dmarc_record dmarc_rec;
    char dmarc_err[128];
    const char *unsub, *unsub_post;	/* header fields, NULL: absent */
    size_t unsub_len, unsub_post_len;
    const char *received;		/* the top Received field, NULL: none */
    size_t received_len;
    size_t nreceived;
    char tls_version[32];		/* the MTA's {tls_version}, "": none */
};

struct check_item {
    const char *name;
    enum check_status status;
    char detail[CHECK_TEXT_MAX];
    char fix[CHECK_TEXT_MAX];		/* "": none */
};

struct check_report {
    size_t n;
    struct check_item item[CHECK_MAX];
};

void checkjudge_run(const struct check_facts *f, struct check_report *r);
int checkjudge_one_click(const char *unsub, size_t ulen, const char *post,
			 size_t plen, const char **why);
int checkjudge_received_tls(const char *received, size_t len);
const char *check_status_name(enum check_status st);

#endif
