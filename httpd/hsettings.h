/*
 * hsettings - the configuration in force in outpost-httpd, one snapshot
 *
 * SYNOPSIS
 *	#include "hsettings.h"
 *
 *	struct hsettings *hsettings_new(struct outpost_conf *conf, uid_t owner,
 *					char *err, size_t errlen);
 *	struct hsettings *hsettings_ref(struct hsettings *s);
 *	void hsettings_unref(struct hsettings *s);
 *	void hsettings_install(struct hsettings *s);
 *	struct hsettings *hsettings_current(void);
 *	int hsettings_fixed(const struct outpost_conf *running,
 *			    const struct outpost_conf *next);
 *
 * DESCRIPTION
 *	A struct hsettings is everything a request reads: the configuration
 *	itself, the token secrets of [intake] secret_file (the first signs,
 *	every one verifies: webtoken(3)), the provider table and the rules of
 *	machine opens.  It is immutable and reference counted, as the
 *	milter's settings(3) are: a reload (SIGHUP) builds a new one and
 *	installs it; each request keeps the one in force when it began
 *	until its end (its answer given, or, for the API, its worker's and
 *	the submissions' work done), so nothing a thread reads is freed
 *	under it.  So a reload changes, for the requests that begin after
 *	it: the secrets, [intake] token_max_age, [provider NAME], the
 *	[tenant NAME]s (the API's keys belong to them), [httpd]
 *	max_body, trusted_proxies, machine_networks, machine_user_agents,
 *	machine_delay, api_max_message, api_max_recipients, api_import_max,
 *	api_auth_failures, api_auth_burst,
 *	[milter] campaign_header (POST /v1/messages) and what GET
 *	/v1/domains/D/verify checks ([dns], [dkim], [pool NAME]...).  The
 *	worker of work(3) takes the new tenants at its next round.
 *
 *	What needs a new socket, thread or connection stays as it was at
 *	start: hsettings_fixed() compares those settings of running and
 *	next (confdiff(3): [general], [redis], [httpd] listen, api_listen,
 *	metrics_listen, threads, max_connections, max_connections_per_ip,
 *	request_timeout, queue_max, submit, submit_connections,
 *	submit_timeout), warns of each one changed, and returns how many.
 *
 *	hsettings_new() builds a snapshot of conf, which it owns from then on
 *	(hsettings_unref() of the last reference frees it); the secret file
 *	must belong to owner.  On an error it returns NULL with the reason in
 *	err, and conf stays the caller's.
 *
 *	hsettings_install() makes s (taking over the caller's reference) the
 *	one new requests use; hsettings_current() returns a reference to it
 *	(NULL before the first install), which the caller gives back with
 *	hsettings_unref().
 */
#ifndef OUTPOST_HTTPD_HSETTINGS_H
#define OUTPOST_HTTPD_HSETTINGS_H

#include <stddef.h>
#include <sys/types.h>

#include "conf.h"
#include "machine.h"
#include "provider.h"

struct verp_keys;

struct hsettings {
    int refs;
    struct outpost_conf *conf;		/* owned */
    struct verp_keys *keys;		/* [intake] secret_file */
    struct provider_table providers;	/* built-in and [provider NAME] */
    struct machine_rules rules;		/* into conf */
};

struct hsettings *hsettings_new(struct outpost_conf *conf, uid_t owner, char *err,
				size_t errlen);
struct hsettings *hsettings_ref(struct hsettings *s);
void hsettings_unref(struct hsettings *s);
void hsettings_install(struct hsettings *s);
struct hsettings *hsettings_current(void);
int hsettings_fixed(const struct outpost_conf *running, const struct outpost_conf *next);

#endif
