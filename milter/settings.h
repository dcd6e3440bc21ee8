/*
 * settings - the configuration in force in outpost-milter, one snapshot
 *
 * SYNOPSIS
 *	#include "settings.h"
 *
 *	struct settings *settings_new(struct outpost_conf *conf, uid_t owner,
 *				      char *err, size_t errlen);
 *	struct settings *settings_ref(struct settings *s);
 *	void settings_unref(struct settings *s);
 *	void settings_install(struct settings *s);
 *	struct settings *settings_current(void);
 *
 * DESCRIPTION
 *	A struct settings is everything a message reads: the configuration
 *	itself, the provider table, the signing state with its keys
 *	(dkimsign(3)), the intake's state with its secrets (intake(3)) and
 *	what the List-Unsubscribe fields and the tracking need (listunsub(3),
 *	tracking(3)).
 *	It is immutable and reference counted: a reload (SIGHUP) builds a
 *	new one and installs it; each SMTP connection negotiates with the
 *	one in force when it opens, each message keeps the one in force at
 *	its MAIL FROM until its end.  So a reload changes, for the messages
 *	that begin after it: [dkim] (and the keys), [intake] (and its
 *	secrets), [suppress] action and on_redis_error, [milter] statistics,
 *	[provider NAME] domains, [pool NAME] senders and [policy]
 *	default_pool (the pool counted in the statistics), [milter]
 *	list_unsubscribe_senders, the tracking keys, [httpd] public_url and
 *	[tenant NAME] domains (the stream each event goes to, the intake's
 *	too); and, for the
 *	connections that open after it, which events the filter asks for
 *	([suppress] enabled, [intake] bounce_domain and rewrite_sender,
 *	[milter] list_unsubscribe_senders and tracking_senders).
 *	The rest is read at start only: [general] (but for node, which
 *	nodeinfo(3) publishes again), [redis], and the [milter] socket,
 *	timeouts, policy service and metrics endpoint.
 *
 *	settings_new() builds a snapshot of conf, which it owns from then on
 *	(settings_unref() of the last reference frees it); keys and secrets
 *	must belong to owner.  On an error it returns NULL with the reason
 *	in err, and conf stays the caller's.
 *
 *	settings_install() makes s (taking over the caller's reference) the
 *	one new connections and messages use; settings_current() returns a
 *	reference to it (NULL before the first install), which the caller
 *	gives back with settings_unref().
 */
#ifndef OUTPOST_SETTINGS_H
#define OUTPOST_SETTINGS_H

#include <stddef.h>
#include <sys/types.h>

#include "provider.h"

struct outpost_conf;
struct dkimsign;
struct intake_setup;
struct listunsub;
struct tracking;

struct settings {
    int refs;
    struct outpost_conf *conf;		/* owned */
    struct provider_table providers;	/* built-in and [provider NAME] */
    struct dkimsign *signer;		/* NULL: no [dkim] key_table */
    struct intake_setup *intake;	/* NULL: intake off */
    struct listunsub *listunsub;	/* NULL: no List-Unsubscribe fields */
    struct tracking *tracking;		/* NULL: no open and click tracking */
};

struct settings *settings_new(struct outpost_conf *conf, uid_t owner, char *err,
			      size_t errlen);
struct settings *settings_ref(struct settings *s);
void settings_unref(struct settings *s);
void settings_install(struct settings *s);
struct settings *settings_current(void);

#endif
