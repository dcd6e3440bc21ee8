/*
 * dmarcrec - parse a DMARC record (RFC 7489) and judge identifier alignment
 *
 * SYNOPSIS
 *	#include "dmarcrec.h"
 *
 *	int dmarcrec_is_dmarc(const char *buf, size_t len);
 *	int dmarcrec_parse(const char *buf, size_t len, struct dmarc_record *d,
 *			   char *err, size_t errlen);
 *	const char *dmarc_policy_name(enum dmarc_policy p);
 *	int dmarc_org_domain(const char *domain, char *out, size_t outlen);
 *	int dmarc_aligned(const char *from_domain, const char *other,
 *			  char mode);
 *
 * DESCRIPTION
 *	dmarcrec_is_dmarc() tells whether a TXT record at _dmarc.DOMAIN is a
 *	DMARC record (it starts with the tag v=DMARC1).
 *
 *	dmarcrec_parse() reads the tags v (must be first and DMARC1), p, sp,
 *	adkim, aspf, pct, rua, ruf, fo, ri, rf and checks their values.  It
 *	returns -1 with "what is wrong" in err for a record that a receiver
 *	would discard.  A missing or invalid p=, or an invalid sp=, is not
 *	fatal when rua= holds a valid URI (RFC 7489 6.6.3: the record then
 *	acts as p=none; the other URIs are skipped); that, unknown tags,
 *	unusable report URIs and other oddities are noted in d->note for a
 *	warning.
 *
 *	dmarc_org_domain() finds the organizational domain with the Public
 *	Suffix List (libpsl, its built-in list or the system's newer one):
 *	the registrable domain, or the name itself when it has none.
 *	dmarc_aligned() applies relaxed ('r': same organizational domain) or
 *	strict ('s': equal) alignment between the From: domain and a DKIM d=
 *	or SPF-checked return-path domain.  Both take normalised
 *	(lower-case, A-label) names.
 */
#ifndef OUTPOST_DMARCREC_H
#define OUTPOST_DMARCREC_H

#include <stddef.h>

enum dmarc_policy {
    DMARC_P_UNSET = -1, DMARC_P_NONE, DMARC_P_QUARANTINE, DMARC_P_REJECT,
};

struct dmarc_record {
    enum dmarc_policy p;	/* DMARC_P_NONE when missing, rua= usable */
    enum dmarc_policy sp;	/* DMARC_P_UNSET: same as p */
    char adkim, aspf;		/* 'r' (default) or 's' */
    int pct;			/* 0-100, default 100 */
    char rua[512];		/* as written, "" when absent */
    char note[256];		/* a non-fatal problem, "" when none */
};

int dmarcrec_is_dmarc(const char *buf, size_t len);
int dmarcrec_parse(const char *buf, size_t len, struct dmarc_record *d,
		   char *err, size_t errlen);
const char *dmarc_policy_name(enum dmarc_policy p);
int dmarc_org_domain(const char *domain, char *out, size_t outlen);
int dmarc_aligned(const char *from_domain, const char *other, char mode);

#endif
