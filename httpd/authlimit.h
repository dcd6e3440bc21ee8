/*
 * authlimit - failed authentications of the platform API per client address
 *
 * SYNOPSIS
 *	#include "authlimit.h"
 *
 *	struct authlimit *authlimit_new(size_t slots);
 *	void authlimit_free(struct authlimit *al);
 *	void authlimit_client(const char *addr, struct authlimit_client *c);
 *	long long authlimit_wait(struct authlimit *al,
 *				 const struct conf_rate *rate, long burst,
 *				 const struct authlimit_client *c,
 *				 long long now_us);
 *	int authlimit_fail(struct authlimit *al, const struct conf_rate *rate,
 *			   long burst, const struct authlimit_client *c,
 *			   long long now_us, long long *wait_us);
 *	size_t authlimit_used(struct authlimit *al, long long now_us);
long authlimit_retry(struct authlimit *al, const struct conf_httpd *h,
		     const struct authlimit_client *c);
void authlimit_charge(struct authlimit *al, const struct conf_httpd *h,
		      const struct authlimit_client *c);
 *
 *	long authlimit_retry(struct authlimit *al, const struct conf_httpd *h,
 *			     const struct authlimit_client *c);
 *	void authlimit_charge(struct authlimit *al, const struct conf_httpd *h,
 *			      const struct authlimit_client *c);
 *
 * DESCRIPTION
 *	A request of the API that ends in 401 charges its client address;
 *	an address over its limit (rate COUNT/PERIOD with a burst: the GCRA
 *	of gcra(3), in this process' memory) is refused every request, even
 *	one with a good key, before anything asks Redis: a client cannot
 *	guess keys or load Redis at the speed of the network.
 *
 *	authlimit_client() makes the limiter's name of an address given as
 *	text (what the pages take for the client: the peer, or the last
 *	address of X-Forwarded-For from a trusted proxy): an IPv4 address
 *	(an IPv4-mapped IPv6 one too) stands for itself, an IPv6 address
 *	for its /64, since one host holds a whole /64.  Text that is no
 *	address (a proxy's nonsense) counts as one client of its own.
 *	c->text says the client in log lines ("2001:db8:1:2::/64").
 *
 *	authlimit_wait() returns 0 when c may try now, or the microseconds
 *	until it may (it is over its limit).  authlimit_fail() charges one
 *	failure at now_us; it returns 1 when this failure took c over the
 *	limit (the moment to say so in the log: once per episode), with
 *	*wait_us the time until it may try again, else 0.  A burst of 0 (or
 *	less) turns the limit off: nothing waits, nothing is charged.  The
 *	rate and burst are given with each call, so that a reload takes
 *	effect at once; the clock is the caller's (monotonic microseconds).
 *
 *	The table has a fixed number of slots (slots, rounded up to a
 *	multiple of AUTHLIMIT_WAYS), in sets of AUTHLIMIT_WAYS chosen by a
 *	keyed hash (SipHash with a random key of this process), so that no
 *	one can aim at one set.  A new client takes a free slot of its set,
 *	or one whose limit has recovered (it holds nothing then), or else
 *	the one closest to recovery: filling the table evicts entries, it
 *	never grows memory, and the clients furthest over the limit stay.
 *	Each set has its own mutex: any thread may call.
 *
 *	authlimit_used() counts the slots that hold a client not yet
 *	recovered at now_us (for the tests).
 *
 *	What outpost-httpd calls, with [httpd] api_auth_failures and
 *	api_auth_burst of h on the monotonic clock (al NULL: no limit):
 *	authlimit_retry() returns the seconds c must wait (Retry-After, at
 *	least 1), or 0 when it may try; authlimit_charge() charges a 401 and,
 *	when it takes c over the limit, logs it (at most a line a second
 *	whatever the number of clients: msg_info_limited()).  The refusal's
 *	message is AUTHLIMIT_MESSAGE.
 */
#ifndef OUTPOST_HTTPD_AUTHLIMIT_H
#define OUTPOST_HTTPD_AUTHLIMIT_H

#include <stddef.h>

#include "conf.h"
#include "confval.h"

#define AUTHLIMIT_SLOTS 4096	/* outpost-httpd's table */
#define AUTHLIMIT_WAYS	8	/* slots of one set */
#define AUTHLIMIT_MESSAGE "too many failed authentications from this address; see Retry-After"

struct authlimit;

struct authlimit_client {
    unsigned char key[16];	/* IPv4-mapped, or the /64 and zeros */
    char text[64];		/* for the log */
};

struct authlimit *authlimit_new(size_t slots);
void authlimit_free(struct authlimit *al);
void authlimit_client(const char *addr, struct authlimit_client *c);
long long authlimit_wait(struct authlimit *al, const struct conf_rate *rate, long burst,
			 const struct authlimit_client *c, long long now_us);
int authlimit_fail(struct authlimit *al, const struct conf_rate *rate, long burst,
		   const struct authlimit_client *c, long long now_us, long long *wait_us);
size_t authlimit_used(struct authlimit *al, long long now_us);
long authlimit_retry(struct authlimit *al, const struct conf_httpd *h,
		     const struct authlimit_client *c);
void authlimit_charge(struct authlimit *al, const struct conf_httpd *h,
		      const struct authlimit_client *c);

#endif
