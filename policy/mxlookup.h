/*
 * mxlookup - asynchronous, cached MX lookups that name a domain's provider
 *
 * SYNOPSIS
 *	#include "mxlookup.h"
 *
 *	struct mxlookup *mx_new(struct event_base *base);
 *	void mx_configure(struct mxlookup *m, struct limits *l);
 *	int mx_lookup(struct mxlookup *m, const char *domain,
 *		      const char **provider, mx_cb cb, void *arg);
 *	void mx_free(struct mxlookup *m);
 *
 * DESCRIPTION
 *	A domain belongs to the provider whose MX patterns match one of its
 *	MX hosts (the most preferred first).  Lookups run through c-ares on
 *	the caller's libevent loop and never block it.  Answers are cached for
 *	their TTL, clamped to [policy] mx_min_ttl and mx_max_ttl; a failed
 *	lookup (no MX, NXDOMAIN, timeout) means "no provider": the domain
 *	stands for itself, and that is cached for mx_negative_ttl.  Many
 *	requests for one domain share one lookup.  The cache holds at most
 *	mx_cache_size domains.
 *
 *	mx_lookup() returns 1 with *provider set (a provider name, or NULL
 *	for none) when the answer is known, or 0 when cb(arg, provider) will
 *	be called later, from the event loop.  The provider name is valid
 *	during the call only.
 *
 *	mx_configure() takes the provider table and settings of new limits
 *	(holding a reference) and empties the cache; lookups in flight finish
 *	against the new table.
 */
#ifndef OUTPOST_MXLOOKUP_H
#define OUTPOST_MXLOOKUP_H

#include <event2/event.h>

#include "throttle_limits.h"

struct mxlookup;

typedef void (*mx_cb)(void *arg, const char *provider);

struct mxlookup *mx_new(struct event_base *base);
void mx_configure(struct mxlookup *m, struct limits *l);
int mx_lookup(struct mxlookup *m, const char *domain, const char **provider,
	      mx_cb cb, void *arg);
void mx_free(struct mxlookup *m);

#endif
