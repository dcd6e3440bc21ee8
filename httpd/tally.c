/*
 * tally - a round's counts summed before they go to stats(3) (tally.h)
 *
 * The sums sit in an array in the order they were made; an open addressing
 * table of twice their room (a power of two) finds a sum by its fields.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tally.h"
#include "xalloc.h"

struct tally {
    struct tally_sum *sum;	/* max of them, n in use */
    size_t n, max;
    size_t *slot;		/* index in sum + 1, 0 for free */
    size_t *at;			/* the slot of each sum */
    size_t mask;		/* slots - 1 */
};

/* tally_new - an empty table with room for max sums */
struct tally *
tally_new(size_t max)
{
    struct tally *t = xcalloc(1, sizeof(*t));
    size_t slots = 16;

    while (slots < 2 * max)
	slots *= 2;
    t->max = max;
    t->sum = xcalloc(max ? max : 1, sizeof(*t->sum));
    t->slot = xcalloc(slots, sizeof(*t->slot));
    t->at = xcalloc(max ? max : 1, sizeof(*t->at));
    t->mask = slots - 1;
    return t;
}

/* hash - FNV-1a of the fields that name a sum */
static size_t
hash(long long hour, const char *sender, const char *provider, const char *campaign,
     const char *counter)
{
    const char *f[4] = {sender, provider, campaign, counter}, *p;
    uint32_t h = 2166136261u;
    int i;

    for (i = 0; i < 4; i++) {
	for (p = f[i]; *p; p++)
	    h = (h ^ (unsigned char) *p) * 16777619u;
	h = (h ^ 0xff) * 16777619u;	/* "ab","c" is not "a","bc" */
    }
    return (size_t) (h ^ (uint32_t) hour ^ (uint32_t) (hour >> 32));
}

/* same_str - equal strings, the same pointer at once */
static int
same_str(const char *a, const char *b)
{
    return a == b || strcmp(a, b) == 0;
}

/* tally_add - one more in a sum; -1 when a new sum finds no room */
int
tally_add(struct tally *t, long long when, const char *sender_domain, const char *provider,
	  const char *campaign, const char *counter)
{
    long long hour = when / 3600;
    size_t i;
    struct tally_sum *s;

    for (i = hash(hour, sender_domain, provider, campaign, counter) & t->mask; t->slot[i];
	 i = (i + 1) & t->mask) {
	s = &t->sum[t->slot[i] - 1];
	if (s->when / 3600 == hour && same_str(s->counter, counter)
	    && same_str(s->sender_domain, sender_domain) && same_str(s->provider, provider)
	    && same_str(s->campaign, campaign)) {
	    s->n++;
	    return 0;
	}
    }
    if (t->n == t->max)
	return -1;
    t->sum[t->n] = (struct tally_sum) {when, sender_domain, provider, campaign, counter, 1};
    t->at[t->n] = i;
    t->slot[i] = ++t->n;
    return 0;
}

/* tally_size - the number of sums */
size_t
tally_size(const struct tally *t)
{
    return t->n;
}

/* tally_get - sum i, in the order they were made */
const struct tally_sum *
tally_get(const struct tally *t, size_t i)
{
    return i < t->n ? &t->sum[i] : NULL;
}

/* tally_reset - empty, clearing only the slots in use */
void
tally_reset(struct tally *t)
{
    size_t k;

    for (k = 0; k < t->n; k++)
	t->slot[t->at[k]] = 0;
    t->n = 0;
}

/* tally_free - release */
void
tally_free(struct tally *t)
{
    if (t == NULL)
	return;
    free(t->sum);
    free(t->slot);
    free(t->at);
    free(t);
}
