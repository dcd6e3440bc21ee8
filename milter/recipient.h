/*
 * recipient - one RCPT TO, read once (outpost-milter)
 *
 * SYNOPSIS
 *	#include "recipient.h"
 *
 *	void recipient_parse(struct recipient *r, const char *raw,
 *			     const struct settings *set,
 *			     const char *auth_user,
 *			     const char *sender_domain);
 *
 * DESCRIPTION
 *	The filter reads each recipient once, at RCPT, and hands the
 *	struct recipient to everything that looks at it: the intake, the
 *	suppression check, the policy service, the statistics.
 *
 *	recipient_parse() fills r from raw, the RCPT TO argument as the MTA
 *	gives it (angle brackets or not; r->raw points to it: the MTA's
 *	spelling is what smfi_delrcpt() wants).  r->addr is the normalised
 *	address (addr_normalize(3)), "" when it cannot be read (r->why says
 *	why); r->domain its domain, also when only the local part is
 *	unreadable (addr_domain_normalize(3)).  r->provider is the index of the
 *	provider whose domains ([provider NAME] domains, or the built-in
 *	table of set) list the recipient's domain, set->providers.n for any
 *	other (r->provider_name "other"): the milter does no DNS, so a
 *	domain hosted by a provider under a name of its own is "other" here
 *	(outpost-policyd and outpost-logd also match MX hosts).  r->pool is
 *	the sender's pool (pool_select_name(3): the
 *	pool the milter counts a message under).  The strings stay valid while
 *	raw and set do.
 *	A spill-over that outpost-policyd decides later is not known here.
 */
#ifndef OUTPOST_RECIPIENT_H
#define OUTPOST_RECIPIENT_H

#include <stddef.h>

#include "addr.h"

struct outpost_conf;
struct settings;

struct recipient {
    const char *raw;		/* the RCPT TO argument */
    char addr[ADDR_MAX];	/* normalised; "" when unreadable */
    const char *why;		/* why unreadable */
    const char *domain;		/* of addr, else of raw; "" when unreadable */
    size_t provider;		/* index in set->providers; .n: other */
    const char *provider_name;	/* "other" for any other domain */
    const char *pool;		/* the sender's pool */
    char dom[DOMAIN_MAX];	/* the domain of an unreadable addr */
};

void recipient_parse(struct recipient *r, const char *raw, const struct settings *set,
		     const char *auth_user, const char *sender_domain);

#endif
