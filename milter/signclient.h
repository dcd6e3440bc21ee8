/*
 * signclient - may this client have its mail signed (and tagged)?
 *
 * SYNOPSIS
 *	#include "signclient.h"
 *
 *	int signclient_check(const struct conf_dkim *dk,
 *			     const struct sockaddr *addr,
 *			     const char *auth_user);
 *
 * DESCRIPTION
 *	The one rule for the clients whose mail outpost-milter signs and
 *	whose envelope sender it tags (intake(3)): a client in [dkim]
 *	sign_networks, or one that authenticated with SASL when [dkim]
 *	sign_authenticated is on.  The list is the one of the settings in
 *	force (settings(3)); nothing else keeps a copy.
 *
 *	signclient_check() returns 0 (may not), or SIGNCLIENT_NETWORK and/or
 *	SIGNCLIENT_SASL: what made the client one.  addr may be NULL
 *	(unknown), auth_user NULL or "" (none).  The signer restricts a SASL
 *	user further to its own domains ([dkim] sasl_domains, dkimsign(3)).
 */
#ifndef OUTPOST_SIGNCLIENT_H
#define OUTPOST_SIGNCLIENT_H

#include <sys/socket.h>

#include "conf.h"

#define SIGNCLIENT_NETWORK	1	/* in sign_networks */
#define SIGNCLIENT_SASL		2	/* authenticated, sign_authenticated on */

int signclient_check(const struct conf_dkim *dk, const struct sockaddr *addr,
		     const char *auth_user);

#endif
