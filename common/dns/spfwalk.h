/*
 * spfwalk - follow a domain's SPF record through DNS and count its cost
 *
 * SYNOPSIS
 *	#include "spfwalk.h"
 *
 *	void spfwalk_run(struct spfwalk *w, const char *domain,
 *			 spfwalk_lookup_fn lookup, void *ctx);
 *	void spfwalk_free(struct spfwalk *w);
 *
 * DESCRIPTION
 *	spfwalk_run() fetches the SPF record of domain and every record it
 *	reaches through include: and redirect=, checks each one's syntax
 *	(spfrec), and counts what RFC 7208 section 4.6.4 limits: terms that
 *	query DNS (include, a, mx, ptr, exists, redirect; at most 10) and
 *	void lookups (a query answered with NXDOMAIN or no records; at most
 *	2).  It counts every term, not only those an evaluation for one
 *	address happens to reach, since some sender will reach them all.
 *	An mx with more than 10 hosts and include/redirect loops are errors.
 *
 *	The result is in w: status SPFW_OK, SPFW_NONE (no SPF record),
 *	SPFW_PERMERROR (syntax, limits, a missing include target, several
 *	records) or SPFW_TEMPERROR (a DNS query failed: SERVFAIL or timeout,
 *	never confused with "missing"); problem says what and where; the
 *	top-level record and its parsed terms with the lookups each caused
 *	(cost[]) let the caller suggest a fix; notes lists what could not be
 *	followed (macros, ptr).  Lookups go through the caller's lookup
 *	function (dnsq_lookup() in real use).  At most SPFWALK_MAX_QUERIES
 *	queries are made and SPFWALK_MAX_DEPTH levels followed, whatever the
 *	records say.
 */
#ifndef OUTPOST_SPFWALK_H
#define OUTPOST_SPFWALK_H

#include "dnsq.h"
#include "spfrec.h"

#define SPFWALK_MAX_LOOKUPS 10
#define SPFWALK_MAX_VOIDS 2
#define SPFWALK_MAX_DEPTH 10
#define SPFWALK_MAX_QUERIES 100

typedef enum dnsq_status (*spfwalk_lookup_fn)(void *ctx, const char *name,
					       int type, struct dnsq_result *res);

enum spfwalk_status { SPFW_OK, SPFW_NONE, SPFW_PERMERROR, SPFW_TEMPERROR };

struct spfwalk {
    enum spfwalk_status status;
    int lookups;		/* DNS-querying terms, all levels */
    int voids;			/* void lookups, all levels */
    int queries;		/* DNS queries made */
    char problem[600];		/* the first problem found, "" when none */
    char notes[400];		/* what was not followed, "" when nothing */
    char *record;		/* the domain's own SPF record, NULL if none */
    struct spf_record top;	/* its terms (empty if it did not parse) */
    int cost[SPFREC_MAX_TERMS];	/* lookups caused by each top-level term */
    /* private */
    spfwalk_lookup_fn lookup;
    void *ctx;
    const char *chain[SPFWALK_MAX_DEPTH + 1];
};

void spfwalk_run(struct spfwalk *w, const char *domain, spfwalk_lookup_fn lookup,
		 void *ctx);
void spfwalk_free(struct spfwalk *w);
const char *spfwalk_status_name(enum spfwalk_status st);

#endif
