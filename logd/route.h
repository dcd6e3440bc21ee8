/*
 * route - which provider and which IP pool a logged delivery went through
 *
 * SYNOPSIS
 *	#include "route.h"
 *
 *	const char *route_provider(const struct outpost_conf *conf,
 *				   const char *relay_host,
 *				   const char *rcpt_domain);
 *	const char *route_pool(const struct outpost_conf *conf,
 *			       const char *service);
 *	int route_mx_match(const char *pattern, const char *host);
 *
 * DESCRIPTION
 *	route_provider() names the provider of a delivery: the [provider
 *	NAME] whose mx patterns ("host" or "*.domain") match the host the
 *	log line says it talked to (relay=host[ip]), or failing that whose
 *	domains list the recipient's domain.  NULL when none does.
 *
 *	route_pool() names the pool of a delivery from the service part of
 *	the log tag (postfix/NAME/smtp with -o syslog_name=postfix/NAME in
 *	master.cf; Sendmail's mailer): the [pool NAME] of that name, or the
 *	one whose transport is that service.  "default" otherwise.
 */
#ifndef OUTPOST_ROUTE_H
#define OUTPOST_ROUTE_H

#include "conf.h"

const char *route_provider(const struct outpost_conf *conf, const char *relay_host,
			   const char *rcpt_domain);
const char *route_pool(const struct outpost_conf *conf, const char *service);
int route_mx_match(const char *pattern, const char *host);

#endif
