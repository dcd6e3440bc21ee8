/*
 * bounce_rhost - the vocabularies of large receivers
 *
 * SYNOPSIS
 *	#include "bounce_rhost.h"
 *
 *	int bounce_rhost_reason(const struct bounce_evidence *ev,
 *				const char *folded);
 *	const char *bounce_rhost_provider(const char *rhost,
 *					  const char *domain,
 *					  const char *lhost);
 *	int bounce_rhost_find(const char *text, char *out, size_t outsz);
 *
 * DESCRIPTION
 *	Large mail receivers answer with their own words and their own
 *	error-code systems (Orange's "OFR_"/"LPN" numbers, Cox's "AUP#"
 *	labels, GoDaddy's "IB" codes, Microsoft's 5.7.x sub-codes, Yahoo's
 *	bracketed tags).  Their replies mean what their documentation says
 *	they mean, whatever a generic phrase table would read into them.
 *
 *	bounce_rhost_provider() names the receiver whose rules apply: the
 *	recipient's domain is matched against the tail of each provider's
 *	mail host names (mail for a provider's own domain goes to its
 *	hosts); then the remote MTA's host name (rhost, from Remote-MTA,
 *	"host X said", relay=) is matched by suffix against them; then the
 *	reporting MTA's (lhost: a provider reporting on its own users).
 *	It returns NULL for any other receiver.
 *
 *	bounce_rhost_reason() applies that provider's rules to the reply
 *	(ev->rhost, ev->domain and ev->lhost choose the provider): folded
 *	is the reply's text, lower case with blanks folded to one space.  A rule may require an enhanced status code (exact, or a
 *	range of the last number: 5.7.606 to 5.7.649), a reply code or a
 *	refused SMTP command.  It returns BR_UNDEFINED when no rule speaks;
 *	the generic classifier decides then.
 *
 *	bounce_rhost_find() copies into out the remote MTA's host name that
 *	a notice names ("Remote-MTA: dns; X", "host X[addr] said",
 *	"host X [addr]:", "while talking to X.:", "relay=X[addr]",
 *	"Generating server: X"), lower case; it returns 0, or -1 when the
 *	text names none.
 *
 *	All functions take NULL or "" for what is unknown, read their
 *	input once per pattern (linear time) and allocate nothing.
 */
#ifndef OUTPOST_BOUNCE_RHOST_H
#define OUTPOST_BOUNCE_RHOST_H

#include <stddef.h>

#include "bounce_class.h"

int bounce_rhost_reason(const struct bounce_evidence *ev,
			    const char *folded);
const char *bounce_rhost_provider(const char *rhost, const char *domain,
				  const char *lhost);
int bounce_rhost_find(const char *text, char *out, size_t outsz);

#endif
