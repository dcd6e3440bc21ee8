/*
 * addr - one normaliser for e-mail addresses and domain names
 *
 * SYNOPSIS
 *	#include "addr.h"
 *
 *	int addr_normalize(const char *in, size_t len, char *out, size_t outsz,
 *			   const char **why);
 *	int domain_normalize(const char *in, size_t len, char *out,
 *			     size_t outsz, const char **why);
 *	const char *addr_domain(const char *normalized);
 *	int addr_domain_normalize(const char *in, size_t len, char *out,
 *				  size_t outsz, const char **why);
 *
 * DESCRIPTION
 *	addr_normalize() turns what an MTA, a report or an operator calls an
 *	address ("<Alice@Exämple.ORG>", " bob@example.org. ") into the one form
 *	under which Outpost stores and looks it up: no angle brackets or
 *	source route, local part and domain in lower case, the domain in
 *	A-labels (IDNA 2008 / UTS #46 through libidn2), no trailing dot.
 *	Lower-casing the local part is deliberate: a suppression must match
 *	however a list spells the address, and the providers that matter
 *	treat local parts case-insensitively.  Quotes around a local part
 *	that needs none ("alice"@example.org) are dropped, since they name
 *	the same mailbox (RFC 5321 section 4.1.2); a local part that needs
 *	them is kept as written.
 *
 *	domain_normalize() does the same for a bare domain.  An address
 *	literal ("[192.0.2.1]") is accepted as a domain.
 *
 *	Both return 0 on success, or -1 with *why pointing at a static text
 *	("local part longer than 64 octets", "domain label starts with '-'",
 *	...).  RFC 5321 limits apply: local part 64, domain 255 (253 as text),
 *	whole address 254 octets.  out must hold ADDR_MAX bytes.
 *
 *	addr_domain() returns the part of a normalised address after '@'.
 *
 *	addr_domain_normalize() gives the normalised domain of an address
 *	(after its last '@') whatever its local part: the domain of an
 *	address that an MTA accepted and addr_normalize() refuses, such as
 *	a local part longer than 64 octets, still names the domain's
 *	entries and scopes.  out must hold DOMAIN_MAX bytes.
 */
#ifndef OUTPOST_ADDR_H
#define OUTPOST_ADDR_H

#include <stddef.h>

#define ADDR_MAX 256		/* 254 octets + NUL, rounded */
#define DOMAIN_MAX 254		/* 253 octets + NUL */

int addr_normalize(const char *in, size_t len, char *out, size_t outsz,
		   const char **why);
int domain_normalize(const char *in, size_t len, char *out, size_t outsz,
		     const char **why);
const char *addr_domain(const char *normalized);
int addr_domain_normalize(const char *in, size_t len, char *out, size_t outsz,
			  const char **why);

#endif
