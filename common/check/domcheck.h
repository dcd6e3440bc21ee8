/*
 * domcheck - check what a sending domain publishes, say exactly what is
 *	      wrong and give the record that fixes it
 *
 * SYNOPSIS
 *	#include "domcheck.h"
 *
 *	void domcheck_run(struct domcheck *dc, const struct onboard *o,
 *			  struct dnsq *dq);
 *	void domcheck_json(const struct domcheck *dc, struct jsonw *w);
 *	const char *domcheck_status_name(int status);
 *	int domcheck_dkim_record(const struct keyentry *e, const char *name,
 *				 const char *txt, char *why, size_t whylen);
 *	void domcheck_free(struct domcheck *dc);
int domcheck_dkim_record(const struct keyentry *e, const char *name, const char *txt,
			 char *why, size_t whylen);
 *
 * DESCRIPTION
 *	domcheck_run() asks the DNS (through dq, libspf2's SPF evaluations
 *	too: spfdns(3)) about the domain of o (onboard(3)) and
 *	fills dc with one verdict per finding, DOMCHECK_PASS, _WARN or _FAIL,
 *	the check's name, why, and the fix (a zone-file line or advice) when
 *	one would help; dc->counts[] counts each status.  The checks, in
 *	order:
 *
 *	spf		the record's syntax, its DNS-querying terms (at most 10)
 *			and void lookups (at most 2), counted over every include
 *			and redirect (spfwalk); then, for each relay address, an
 *			evaluation with libspf2, which must give "pass".
 *	dkim		each selector the key table holds for the domain: the
 *			published p= must be the public half of the private key.
 *	dmarc		the record (at _dmarc.DOMAIN, else at the organizational
 *			domain's): present, parses, its policy; then whether
 *			alignment is possible with the key table's d= and the
 *			return-path domain under adkim=/aspf=.
 *	ptr		each relay address has a PTR whose name resolves back
 *			to the address.
 *	return-path	the bounce domain ([intake] bounce_domain, as the milter
 *			expands it): its MX reaches the relay and its SPF
 *			passes for every relay address; a warning when it is
 *			not set.
 *
 *	DNS trouble (SERVFAIL, timeout) is reported as such, never as a
 *	missing record: for an SPF evaluation, as temperror.  Lookups block:
 *	a daemon calls domcheck_run() from a thread that may wait, with
 *	dnsq_timeout(3) set; the SPF evaluations of one run then wait on the
 *	DNS for at most 10 such timeouts together, and so does each walk of a
 *	record (spfwalk's up to 100 queries), which then stops and says so.
 *
 *	domcheck_json() writes {"domain":..., "checks":[{"check", "status",
 *	"detail", "fix"}, ...], "pass":N, "warn":N, "fail":N}: what
 *	outpostctl verify --json prints and GET /v1/domains/D/verify answers.
 *	domcheck_free() releases the verdicts (dc itself is the caller's).
 *
 *	domcheck_dkim_record() is the dkim check of one published TXT record
 *	txt (found at name) against the key table's entry e, without the
 *	DNS: DOMCHECK_PASS when its p= is e's public key, DOMCHECK_WARN when
 *	it is but t=y, DOMCHECK_FAIL otherwise, with why in why.
 */
#ifndef OUTPOST_DOMCHECK_H
#define OUTPOST_DOMCHECK_H

#include <stddef.h>

#include "addr.h"

struct dnsq;
struct jsonw;
struct keyentry;
struct onboard;

enum domcheck_status { DOMCHECK_PASS, DOMCHECK_WARN, DOMCHECK_FAIL };

struct domcheck_item {
    const char *check;		/* "spf", "dkim", ...: static */
    int status;			/* enum domcheck_status */
    char *detail;
    char *fix;			/* NULL: nothing to publish */
};

struct domcheck {
    char domain[DOMAIN_MAX];
    struct domcheck_item *v;
    size_t n;
    int counts[3];		/* by enum domcheck_status */
};

void domcheck_run(struct domcheck *dc, const struct onboard *o, struct dnsq *dq);
void domcheck_json(const struct domcheck *dc, struct jsonw *w);
const char *domcheck_status_name(int status);
void domcheck_free(struct domcheck *dc);
int domcheck_dkim_record(const struct keyentry *e, const char *name, const char *txt,
			 char *why, size_t whylen);

#endif
