/*
 * decider - answer policy requests: provider lookup, then one Redis script
 *
 * SYNOPSIS
 *	#include "decider.h"
 *
 *	struct decider *decider_new(struct event_base *base, struct limits *l);
 *	void decider_reload(struct decider *d, struct limits *l);
 *	void decider_ask(struct decider *d, const struct policy_request *req,
 *			 decider_fn fn, void *arg);
 *	void decider_free(struct decider *d);
 *
 * DESCRIPTION
 *	decider_ask() decides about one parsed request and calls
 *	fn(arg, action) exactly once with the action (the text after
 *	"action="), perhaps before it returns, otherwise from the event loop.
 *	It never blocks: the MX lookup and the Redis script run
 *	asynchronously, and whatever is still unanswered when [policy]
 *	decision_timeout has passed gets the failure action (tempfail_reply,
 *	or DUNNO where the limits fail open).  The request need not outlive
 *	the call.  This is the whole decision as one call, for the policy
 *	server and for anything else that asks the same question.
 *
 *	decider_reload() makes new limits current (holding a reference);
 *	decisions in flight finish with the limits they began with.  The
 *	Redis connection of the first limits stays (a change of [redis]
 *	needs a restart).
 */
#ifndef OUTPOST_DECIDER_H
#define OUTPOST_DECIDER_H

#include <event2/event.h>

#include "throttle_limits.h"
#include "request.h"

struct decider;

typedef void (*decider_fn)(void *arg, const char *action);

struct decider *decider_new(struct event_base *base, struct limits *l);
void decider_reload(struct decider *d, struct limits *l);
void decider_ask(struct decider *d, const struct policy_request *req,
		 decider_fn fn, void *arg);
void decider_free(struct decider *d);

#endif
