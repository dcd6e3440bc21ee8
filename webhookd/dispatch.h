/*
 * dispatch - each tenant's events, read from its stream and posted in order
 *
 * SYNOPSIS
 *	#include "dispatch.h"
 *
 *	struct dispatch *dispatch_new(struct event_base *base,
 *				      const struct outpost_conf *conf,
 *				      struct rasync *redis,
 *				      struct evdns_base *dns, SSL_CTX *tls,
 *				      char *err, size_t errlen);
 *	void dispatch_start(struct dispatch *d, struct rasync *redis);
 *	int dispatch_reload(struct dispatch *d,
 *			    const struct outpost_conf *conf,
 *			    char *err, size_t errlen);
 *	void dispatch_refused(struct dispatch *d);
 *	size_t dispatch_tenants(const struct dispatch *d);
 *	struct prom *dispatch_render(void *d);
 *	void dispatch_free(struct dispatch *d);
 *
 *	extern const char dispatch_dead_lua[];
 *
 * DESCRIPTION
 *	dispatch_new() reads each tenant's secret and checks its URL (NULL
 *	and a message in err when one is wrong); redis may be NULL until
 *	dispatch_start() begins the loops on it.  conf must live as long
 *	as d: its [general] node and [redis] are used until the end.
 *
 *	dispatch_reload() (SIGHUP) takes the tenants and the [webhookd]
 *	settings of conf, which must live until the next reload or the end:
 *	every secret is read and every URL checked first, and when one is
 *	wrong it returns -1 with the reason in err and nothing changes.
 *	Else a tenant given a webhook begins its loop (its lease first), one
 *	that keeps it takes its new secret, webhook_retry and, when they
 *	changed, its new URL, request_timeout and keepalive_idle (a POST in
 *	flight to the old URL is dropped and its batch, not acknowledged, is
 *	posted to the new one), and one whose webhook is gone stops (its events stay in
 *	its stream and are posted when it is configured again; its metrics
 *	leave the page, and start from zero when it comes back).  A tenant
 *	taken away is kept, retired, until dispatch_free(), so that the
 *	answers of its last commands find it; one given its webhook back is
 *	a new one.
 *	[general] node and [redis] stay those of the start.  Reloads, done
 *	and refused (dispatch_refused() counts one refused before), are
 *	counted in the metrics.
 *
 *	For every [tenant NAME] with a webhook_url, a loop on the event
 *	stream PREFIX{ev:NAME}:s (evkeys(3)) through the consumer group
 *	"webhook" (made at start, from the stream's first entry, if it is
 *	missing), as the consumer [general] node, on the one node that holds
 *	the tenant's lease (PREFIX{ev:NAME}:lease, renewed three times in
 *	claim_idle; a node that let it lapse stops at its next step):
 *
 *	1. the entries this consumer read and did not acknowledge (after a
 *	   crash: those of the batch in flight) are posted first, oldest
 *	   first; on taking the lease, the entries any other consumer left
 *	   unacknowledged are claimed (XAUTOCLAIM) and so join them;
 *	2. then new entries, up to [webhookd] batch_events and batch_bytes
 *	   per POST (whbatch(3)); a stream with nothing new is read again
 *	   after poll_interval;
 *	3. a batch is acknowledged (XACK) only after a 2xx answer.  Until
 *	   then nothing after it is posted: a failed batch is posted again
 *	   after a delay that doubles from backoff_min to backoff_max, with
 *	   jitter.  The events of a failed batch that were written longer
 *	   than the tenant's webhook_retry ago are moved, with the error, to
 *	   the dead-letter stream PREFIX{ev:NAME}:dead (at most dead_max
 *	   entries) and acknowledged in one script (dispatch_dead_lua), and
 *	   the rest goes on.
 *
 *	So every event is posted at least once, and one tenant's events
 *	reach it in the order of the stream (so in order per recipient);
 *	an event is posted twice only when its batch's answer was not a
 *	2xx (a timeout, a cut connection: the receiver may have taken it)
 *	or when the dispatcher stopped between the POST and the XACK.
 *	Redis away only delays the loop: every step is retried.
 *
 *	The last success and the last error are written to
 *	PREFIX{ev:NAME}:wh (fields ok_at, error, error_at: UNIX ms), which
 *	outpostctl webhooks status shows.  dispatch_render() makes the
 *	metrics page (prom(3)), from the loop.
 */
#ifndef OUTPOST_DISPATCH_H
#define OUTPOST_DISPATCH_H

#include <stddef.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "conf.h"
#include "prom.h"
#include "rasync.h"

struct dispatch;

extern const char dispatch_dead_lua[];

struct dispatch *dispatch_new(struct event_base *base, const struct outpost_conf *conf,
			      struct rasync *redis, struct evdns_base *dns, SSL_CTX *tls,
			      char *err, size_t errlen);
void dispatch_start(struct dispatch *d, struct rasync *redis);
int dispatch_reload(struct dispatch *d, const struct outpost_conf *conf, char *err,
		    size_t errlen);
void dispatch_refused(struct dispatch *d);
size_t dispatch_tenants(const struct dispatch *d);
struct prom *dispatch_render(void *d);
void dispatch_free(struct dispatch *d);

#endif
