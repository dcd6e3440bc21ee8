/*
 * tally - a round's opens and clicks summed by hour, sender, provider,
 * campaign and counter, before they go to stats(3)
 *
 * SYNOPSIS
 *	#include "tally.h"
 *
 *	struct tally *tally_new(size_t max);
 *	int tally_add(struct tally *t, long long when, const char *sender_domain,
 *		      const char *provider, const char *campaign,
 *		      const char *counter);
 *	size_t tally_size(const struct tally *t);
 *	const struct tally_sum *tally_get(const struct tally *t, size_t i);
 *	void tally_reset(struct tally *t);
 *	void tally_free(struct tally *t);
 *
 * DESCRIPTION
 *	A burst of opens and clicks shares a few senders, providers and
 *	campaigns: summed first, it costs stats(3) one increment per sum, not
 *	one per event.
 *
 *	tally_new() makes a table with room for max sums.  tally_add() adds
 *	one to the sum of (the hour of when, sender_domain, provider,
 *	campaign, counter): 0, or -1 when the table holds max sums already
 *	and this is a new one (nothing is added).  It keeps the pointers, not
 *	copies: the strings must live until tally_reset().  A sum's when is
 *	that of its first event.
 *
 *	tally_size() and tally_get() list the sums, in the order of their
 *	first event.  tally_reset() empties the table in time proportional
 *	to the sums it held, not to its room.
 */
#ifndef OUTPOST_HTTPD_TALLY_H
#define OUTPOST_HTTPD_TALLY_H

#include <stddef.h>

struct tally_sum {
    long long when;		/* UNIX seconds, of the first event */
    const char *sender_domain;
    const char *provider;
    const char *campaign;
    const char *counter;
    long long n;
};

struct tally;

struct tally *tally_new(size_t max);
int tally_add(struct tally *t, long long when, const char *sender_domain,
	      const char *provider, const char *campaign, const char *counter);
size_t tally_size(const struct tally *t);
const struct tally_sum *tally_get(const struct tally *t, size_t i);
void tally_reset(struct tally *t);
void tally_free(struct tally *t);

#endif
