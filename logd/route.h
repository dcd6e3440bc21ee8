/*
 * route - which provider and which IP pool a logged delivery went through
 *
 * SYNOPSIS
 *	#include "route.h"
 *
 *	const char *route_provider(const struct provider_table *t,
 *				   const char *relay_host,
 *				   const char *rcpt_domain);
 *	const char *route_pool(const struct outpost_conf *conf,
 *			       const char *service);
 *	int route_filter(const struct outpost_conf *conf,
 *			 const struct ml_event *ev);
 *
 * DESCRIPTION
 *	route_provider() names the provider of a delivery in the provider
 *	table outpost-policyd uses (provider(3): the built-in providers and
 *	[provider NAME] sections): the one whose MX patterns match the host
 *	the log line says it talked to (relay=host[ip]), or failing that
 *	whose domains list the recipient's domain.  NULL when none does.
 *
 *	route_pool() names the pool of a delivery from the service the log
 *	line names (maillog(3): NAME in postfix/NAME/smtp, with -o
 *	syslog_name=postfix/NAME in master.cf; smtp in postfix/smtp;
 *	Sendmail's mailer): the [pool NAME] whose transport is that service,
 *	else the one of that name (pool_by_service()).  "default" otherwise.
 *
 *	route_filter() says whether a delivery line's next hop is one of
 *	[logd] filter_relays: a content filter (amavis, a second Postfix
 *	instance) that hands the message back to the MTA, not a delivery.
 *	An entry matches the address between the brackets of the relay
 *	field, or its host name, and the port when it names one; a socket
 *	entry matches the path between the brackets ("host[private/amavis]").
 *	IP addresses compare by value ("::1" is "0:0::1").
 */
#ifndef OUTPOST_ROUTE_H
#define OUTPOST_ROUTE_H

#include "conf.h"
#include "maillog.h"
#include "provider.h"

const char *route_provider(const struct provider_table *t, const char *relay_host,
			   const char *rcpt_domain);
const char *route_pool(const struct outpost_conf *conf, const char *service);
int route_filter(const struct outpost_conf *conf, const struct ml_event *ev);

#endif
