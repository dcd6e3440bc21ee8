/*
 * evkeys - the Redis keys of a tenant's events and webhooks
 *
 * SYNOPSIS
 *	#include "evkeys.h"
 *
 *	void evkeys_stream(char *buf, size_t len, const char *prefix,
 *			   const char *tenant);
 *	void evkeys_dead(char *buf, size_t len, const char *prefix,
 *			 const char *tenant);
 *	void evkeys_state(char *buf, size_t len, const char *prefix,
 *			  const char *tenant);
 *	void evkeys_lease(char *buf, size_t len, const char *prefix,
 *			  const char *tenant);
 *
 * DESCRIPTION
 *	Each tenant's keys carry the hash tag {ev:TENANT}, so that they
 *	stay in one slot of a cluster while tenants spread over slots
 *	(doc/REDIS-KEYS.md): PREFIX{ev:TENANT}:s is the event stream,
 *	:dead the events whose webhook failed for longer than
 *	webhook_retry, :wh the dispatcher's last success and error, :lease
 *	the node whose outpost-webhookd posts the tenant's events.
 *	EVKEYS_GROUP is the consumer group of outpost-webhookd.
 *	A key longer than len is cut (len EVKEYS_MAX holds any: tenant
 *	names are short config words).
 */
#ifndef OUTPOST_EVKEYS_H
#define OUTPOST_EVKEYS_H

#include <stddef.h>

#define EVKEYS_MAX	512
#define EVKEYS_GROUP	"webhook"
#define EVKEYS_STREAM_MAXLEN "1000000"

void evkeys_stream(char *buf, size_t len, const char *prefix, const char *tenant);
void evkeys_dead(char *buf, size_t len, const char *prefix, const char *tenant);
void evkeys_state(char *buf, size_t len, const char *prefix, const char *tenant);
void evkeys_lease(char *buf, size_t len, const char *prefix, const char *tenant);

#endif
