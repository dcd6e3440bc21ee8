/*
 * fromhdr - the domain of the one author in a From: header field
 *
 * SYNOPSIS
 *	#include "fromhdr.h"
 *
 *	int fromhdr_domain(const char *value, size_t len, char *domain,
 *			   size_t domainsz, const char **why);
 *
 * DESCRIPTION
 *	fromhdr_domain() reads the value of a From: header field (RFC 5322
 *	section 3.6.2: a mailbox-list; display names, quoted strings,
 *	comments, angle brackets and folding allowed) and stores the domain
 *	of its address, normalised by domain_normalize(), in domain (which
 *	should hold DOMAIN_MAX bytes).  The domain is what DMARC aligns on,
 *	so it is the domain whose key signs.
 *
 *	It is a pure function over (value, len); it reads at most
 *	FROMHDR_MAX bytes and never allocates.
 *
 * DIAGNOSTICS
 *	Returns 0, or -1 with *why pointing at a static text: more than one
 *	address (DMARC cannot align such a message), text after the
 *	angle-addr (a reader may take it for the author), group syntax, an
 *	address without '@', an unterminated quoted string, comment or angle
 *	bracket, comments nested too deep, a bad domain, a value longer than
 *	FROMHDR_MAX.
 */
#ifndef OUTPOST_FROMHDR_H
#define OUTPOST_FROMHDR_H

#include <stddef.h>

#define FROMHDR_MAX 4096	/* longer From: values are refused */

int fromhdr_domain(const char *value, size_t len, char *domain, size_t domainsz,
		   const char **why);

#endif
