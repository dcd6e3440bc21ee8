/*
 * retpath - the sender's own domain behind a tagged return path
 *
 * SYNOPSIS
 *	#include "retpath.h"
 *
 *	const char *retpath_pattern(const struct outpost_conf *conf);
int retpath_domain_match(const char *pattern, const char *dom, char *out, size_t size);
 *	int retpath_domain_match(const char *pattern, const char *dom,
 *				 char *out, size_t size);
 *	int retpath_sender_domain(const char *pattern,
 *				  const char *bounce_local, const char *addr,
 *				  char *out, size_t size,
 *				  unsigned long long *id);
 *
 * DESCRIPTION
 *	With [intake] rewrite_sender, outgoing mail leaves with the envelope
 *	sender BOUNCE_LOCAL-TOKEN@BOUNCE_DOMAIN (verp(3), outpost-milter(8)),
 *	so that the MTA's log names the bounce domain where the message
 *	names its sender: statistics kept under it would split one tenant
 *	in two.  This module maps the tagged address back.
 *
 *	retpath_pattern() is the bounce-domain pattern in force ("%d"
 *	stands for the sender domain), or NULL when nothing is tagged: the
 *	one place that knows which setting names it.
 *
 *	retpath_domain_match() returns 1 when the domain dom is the bounce
 *	domain of pattern (any case), with the part "%d" stands for in out
 *	(lower case; "" without "%d"; out may be NULL), else 0.
 *
 *	retpath_sender_domain() gives in out the lower-case sender domain of
 *	the envelope sender addr: the sender domain a BOUNCE_LOCAL-TOKEN
 *	local part holds inline (the token's MAC is not checked: a forged
 *	one names no more than the sender could have named itself); else,
 *	when the domain matches a pattern with "%d", the part "%d" stands
 *	for; else the address's own domain.  It returns RETPATH_PLAIN (not
 *	a tagged address), RETPATH_MAPPED, or RETPATH_ID when the token
 *	names an id kept in Redis (intake_id_get(3)) and the pattern has no
 *	"%d": *id is set and out holds the bounce domain, for the caller to
 *	replace when it can.  An address without '@' gives "".  pattern
 *	NULL: always the address's own domain.  Linear in the address;
 *	out is always terminated.
 */
#ifndef OUTPOST_RETPATH_H
#define OUTPOST_RETPATH_H

#include <stddef.h>

struct outpost_conf;

enum retpath_kind { RETPATH_PLAIN = 0, RETPATH_MAPPED, RETPATH_ID };

const char *retpath_pattern(const struct outpost_conf *conf);
int retpath_domain_match(const char *pattern, const char *dom, char *out, size_t size);
int retpath_sender_domain(const char *pattern, const char *bounce_local,
			  const char *addr, char *out, size_t size,
			  unsigned long long *id);

#endif
