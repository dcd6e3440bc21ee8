/*
 * aresev - a c-ares resolver channel on a libevent loop
 *
 * SYNOPSIS
 *	#include "aresev.h"
 *
 *	struct aresev *aresev_new(struct event_base *base, const char *who,
 *				  long long timeout_ms, int tries);
 *	ares_channel aresev_channel(const struct aresev *a);
 *	void aresev_free(struct aresev *a);
 *
 * DESCRIPTION
 *	aresev_new() starts a c-ares channel whose sockets are watched by
 *	base (one persistent event per socket c-ares opens, at most 32 at
 *	once) and whose timeouts are noticed by a tick every 100 ms; each
 *	try waits timeout_ms (at least 1), tries times.  who names the user
 *	in the log ("mx lookup", "blocklists").  It exits through
 *	msg_fatal() when c-ares cannot start: a resolver is needed at start.
 *
 *	aresev_channel() is the channel to ask with ares_query().
 *
 *	aresev_free() destroys the channel, which calls back every question
 *	still out with ARES_EDESTRUCTION (the caller's callbacks must expect
 *	it), then frees the events.  NULL is ignored.
 */
#ifndef OUTPOST_ARESEV_H
#define OUTPOST_ARESEV_H

#include <ares.h>
#include <event2/event.h>

struct aresev;

struct aresev *aresev_new(struct event_base *base, const char *who, long long timeout_ms,
			  int tries);
ares_channel aresev_channel(const struct aresev *a);
void aresev_free(struct aresev *a);

#endif
