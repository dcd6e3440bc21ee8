/*
 * test_tally - the worker's sums of a round's opens and clicks: one sum per
 * hour, sender, provider, campaign and counter, each event in exactly one
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tally.h"

#define T0 1796580000LL		/* an hour's start */

/* events of one key count together; any field apart makes another sum */
static void
test_sums(void **state)
{
    struct tally *t = tally_new(16);
    char other[] = "shop.test";	/* equal text at another address */
    const struct tally_sum *s;

    (void) state;
    assert_int_equal(tally_add(t, T0, "shop.test", "google", "", "opens"), 0);
    assert_int_equal(tally_add(t, T0 + 3599, other, "google", "", "opens"), 0);
    assert_int_equal(tally_add(t, T0 + 3600, "shop.test", "google", "", "opens"), 0);
    assert_int_equal(tally_add(t, T0, "shop.test", "yahoo", "", "opens"), 0);
    assert_int_equal(tally_add(t, T0, "shop.test", "google", "spring", "opens"), 0);
    assert_int_equal(tally_add(t, T0, "shop.test", "google", "", "clicks"), 0);
    assert_int_equal(tally_add(t, T0, "news.test", "google", "", "opens"), 0);
    /* the fields are not run together: "ab"+"c" is not "a"+"bc" */
    assert_int_equal(tally_add(t, T0, "ab", "c", "", "opens"), 0);
    assert_int_equal(tally_add(t, T0, "a", "bc", "", "opens"), 0);
    assert_int_equal(tally_size(t), 8);
    s = tally_get(t, 0);
    assert_int_equal(s->n, 2);
    assert_int_equal(s->when, T0);
    assert_string_equal(s->sender_domain, "shop.test");
    s = tally_get(t, 1);
    assert_int_equal(s->n, 1);
    assert_int_equal(s->when, T0 + 3600);
    assert_string_equal(tally_get(t, 2)->provider, "yahoo");
    assert_string_equal(tally_get(t, 3)->campaign, "spring");
    assert_string_equal(tally_get(t, 4)->counter, "clicks");
    assert_string_equal(tally_get(t, 7)->sender_domain, "a");
    assert_null(tally_get(t, 8));
    tally_free(t);
}

/* a new sum past the room is refused; the existing ones still count */
static void
test_full(void **state)
{
    struct tally *t = tally_new(2);

    (void) state;
    assert_int_equal(tally_add(t, T0, "a.test", "google", "", "opens"), 0);
    assert_int_equal(tally_add(t, T0, "b.test", "google", "", "opens"), 0);
    assert_int_equal(tally_add(t, T0, "c.test", "google", "", "opens"), -1);
    assert_int_equal(tally_add(t, T0, "a.test", "google", "", "opens"), 0);
    assert_int_equal(tally_size(t), 2);
    assert_int_equal(tally_get(t, 0)->n, 2);
    tally_free(t);
}

/*
 * rounds of random events against a plain count: every event is in
 * exactly one sum, and a reset table forgets the previous round
 */
static void
test_rounds(void **state)
{
    static const char *const senders[] = {"a.test", "b.test", "c.test", "d.test", "e.test"};
    static const char *const providers[] = {"google", "yahoo", "other"};
    static const char *const campaigns[] = {"", "spring", "autumn", "x"};
    static const char *const counters[] = {"opens", "opens_unique", "clicks", "clicks_machine"};
    enum { EVENTS = 3000, KEYS = 5 * 3 * 4 * 4 * 3 };
    struct tally *t = tally_new(KEYS);
    static long long plain[KEYS];
    int round, i, k, s, p, c, u, h;
    long long total;
    size_t j;

    (void) state;
    srand(42);
    for (round = 0; round < 20; round++) {
	memset(plain, 0, sizeof(plain));
	for (i = 0; i < EVENTS; i++) {
	    s = rand() % 5, p = rand() % 3, c = rand() % 4, u = rand() % 4, h = rand() % 3;
	    plain[(((s * 3 + p) * 4 + c) * 4 + u) * 3 + h]++;
	    assert_int_equal(tally_add(t, T0 + h * 3600 + rand() % 3600, senders[s],
				       providers[p], campaigns[c], counters[u]), 0);
	}
	total = 0;
	for (j = 0; j < tally_size(t); j++) {
	    const struct tally_sum *e = tally_get(t, j);

	    for (s = 0; strcmp(senders[s], e->sender_domain) != 0; s++)
		/* void */ ;
	    for (p = 0; strcmp(providers[p], e->provider) != 0; p++)
		/* void */ ;
	    for (c = 0; strcmp(campaigns[c], e->campaign) != 0; c++)
		/* void */ ;
	    for (u = 0; strcmp(counters[u], e->counter) != 0; u++)
		/* void */ ;
	    h = (int) (e->when / 3600 - T0 / 3600);
	    k = (((s * 3 + p) * 4 + c) * 4 + u) * 3 + h;
	    /* each key once: a second sum of it would find plain[k] at 0 */
	    assert_int_equal(e->n, plain[k]);
	    plain[k] = 0;
	    total += e->n;
	}
	assert_int_equal(total, EVENTS);
	tally_reset(t);
	assert_int_equal(tally_size(t), 0);
    }
    tally_free(t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_sums),
	cmocka_unit_test(test_full),
	cmocka_unit_test(test_rounds),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
