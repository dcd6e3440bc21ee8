/*
 * spfrec - parse an SPF record (RFC 7208) into its terms
 *
 * SYNOPSIS
 *	#include "spfrec.h"
 *
 *	int spfrec_is_spf(const char *buf, size_t len);
 *	int spfrec_parse(const char *buf, size_t len, struct spf_record *rec,
 *			 char *err, size_t errlen);
 *	void spfrec_free(struct spf_record *rec);
 *	int spfrec_queries_dns(enum spf_kind kind);
 *	const char *spfrec_kind_name(enum spf_kind kind);
 *
 * DESCRIPTION
 *	spfrec_is_spf() tells whether a TXT record is an SPF record at all
 *	("v=spf1" followed by a space or the end, case-insensitive): other
 *	TXT records at the same name are not SPF's business.
 *
 *	spfrec_parse() checks the record against RFC 7208's grammar: the
 *	version, terms separated by spaces, each a mechanism ([qualifier]
 *	all, include, a, mx, ptr, ip4, ip6, exists with their arguments and
 *	CIDR lengths) or a modifier (name=value; redirect and exp at most
 *	once), domain-specs with valid macros and a real top-level label.
 *	It returns 0 and fills rec, or -1 with "term 'TERM': what is wrong"
 *	in err; the record is then left empty.  Records longer than
 *	SPFREC_MAX_LEN or with more than SPFREC_MAX_TERMS terms are refused.
 *
 *	Every string in rec is a NUL-terminated copy; spfrec_free() releases
 *	them.  spfrec_queries_dns() is true for the terms that count against
 *	the limit of 10 DNS lookups (include, a, mx, ptr, exists, redirect).
 */
#ifndef OUTPOST_SPFREC_H
#define OUTPOST_SPFREC_H

#include <stddef.h>

#define SPFREC_MAX_LEN 4096
#define SPFREC_MAX_TERMS 128

enum spf_kind {
    SPF_ALL, SPF_INCLUDE, SPF_A, SPF_MX, SPF_PTR, SPF_IP4, SPF_IP6, SPF_EXISTS,
    SPF_REDIRECT, SPF_EXP, SPF_UNKNOWN_MOD,
};

struct spf_term {
    enum spf_kind kind;
    char qualifier;		/* '+', '-', '~' or '?' (mechanisms) */
    char *text;			/* the term as written */
    char *arg;			/* domain-spec, address, or modifier value; NULL if none */
    int cidr4, cidr6;		/* -1 when not given */
    int has_macro;		/* arg holds a macro ('%') */
};

struct spf_record {
    struct spf_term *v;
    size_t n;
};

int spfrec_is_spf(const char *buf, size_t len);
int spfrec_parse(const char *buf, size_t len, struct spf_record *rec,
		 char *err, size_t errlen);
void spfrec_free(struct spf_record *rec);
int spfrec_queries_dns(enum spf_kind kind);
const char *spfrec_kind_name(enum spf_kind kind);

#endif
