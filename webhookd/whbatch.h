/*
 * whbatch - a webhook batch: which events go, its body, its signature
 *
 * SYNOPSIS
 *	#include "whbatch.h"
 *
 *	size_t whbatch_take(const redisReply *entries, size_t max_events,
 *			    size_t max_bytes);
 *	char *whbatch_body(const redisReply *entries, size_t n, size_t *len);
 *	void whbatch_sign(const char *secret, size_t secret_len, long long t,
 *			  const char *body, size_t len,
 *			  char out[WHBATCH_SIG_MAX]);
 *	long long whbatch_backoff(long long min_ms, long long max_ms,
 *				  int failures, unsigned long rnd);
 *	long long whbatch_id_ms(const char *id);
 *
 * DESCRIPTION
 *	Pure functions over the entries of an XREADGROUP reply (an array
 *	of [ID, [field, value, ...]]), for outpost-webhookd and its tests.
 *
 *	whbatch_take() says how many entries from the first make the next
 *	batch: at most max_events, and no more than max_bytes of fields
 *	and values, but always the first one (a large event goes alone).
 *	An entry whose fields are nil (trimmed from the stream while it
 *	waited) counts as one event of no size.
 *
 *	whbatch_body() writes the first n entries as the webhook body,
 *	{"events":[{"id":"ID","type":"delivered","time":1733500000000,...}],
 *	"next":"LAST-ID"}: the stream ID as "id", "time" as a number (left
 *	out when it is not one), every other field as a string (UTF-8
 *	made valid by jsonw(3)); a field named "id" is left out.  Trimmed
 *	entries are left out; "next" is still the last ID.  Returns the
 *	body (the caller frees it) and its length in *len.
 *
 *	whbatch_sign() writes the Outpost-Signature header's value,
 *	"t=T,v1=HEX", HEX the HMAC-SHA256 of "T." and the body under the
 *	secret.
 *
 *	whbatch_backoff() is the delay after the given number of failures
 *	in a row (1 or more): min_ms doubled each time, capped at max_ms,
 *	then the upper half of it chosen at random by rnd ("equal jitter"),
 *	so that retries of many tenants do not beat in step.
 *
 *	whbatch_id_ms() is the time part of a stream ID (UNIX ms), or -1.
 */
#ifndef OUTPOST_WHBATCH_H
#define OUTPOST_WHBATCH_H

#include <stddef.h>

#include <hiredis.h>

#define WHBATCH_SIG_MAX 96

size_t whbatch_take(const redisReply *entries, size_t max_events, size_t max_bytes);
char *whbatch_body(const redisReply *entries, size_t n, size_t *len);
void whbatch_sign(const char *secret, size_t secret_len, long long t, const char *body,
		  size_t len, char out[WHBATCH_SIG_MAX]);
long long whbatch_backoff(long long min_ms, long long max_ms, int failures,
			  unsigned long rnd);
long long whbatch_id_ms(const char *id);

#endif
