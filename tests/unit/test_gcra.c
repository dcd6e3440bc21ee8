/*
 * test_gcra - the arithmetic of the rate limits
 */
#include "config.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gcra.h"

#define SEC 1000000LL

static void
test_init(void **state)
{
    struct conf_rate r = {600, 60000};	/* 600/m */
    struct conf_rate tiny = {3, 1};	/* 3 per ms: 333 us */
    struct conf_rate fast = {10, 0};	/* degenerate: at least 1 us */
    struct conf_rate none = {0, 0};
    struct gcra g;

    (void) state;
    gcra_init(&g, &r, 10);
    assert_int_equal(g.interval_us, 100000);
    assert_int_equal(g.tolerance_us, 900000);
    gcra_init(&g, &r, 0);		/* a burst below 1 is 1 */
    assert_int_equal(g.tolerance_us, 0);
    gcra_init(&g, &tiny, 1);
    assert_int_equal(g.interval_us, 333);
    gcra_init(&g, &fast, 1);
    assert_int_equal(g.interval_us, 1);
    gcra_init(&g, &none, 5);
    assert_int_equal(g.interval_us, 0);
}

/* a burst passes at once, the next one waits exactly one interval */
static void
test_burst_then_wait(void **state)
{
    struct conf_rate r = {1, 1000};	/* 1/s */
    struct gcra g;
    long long tat = 0, now = 1000 * SEC, nt, wait;
    int i;

    (void) state;
    gcra_init(&g, &r, 5);
    for (i = 0; i < 5; i++) {
	assert_int_equal(gcra_step(&g, tat, now, &nt, &wait), 1);
	assert_int_equal(wait, 0);
	tat = nt;
    }
    assert_int_equal(tat, now + 5 * SEC);
    assert_int_equal(gcra_step(&g, tat, now, &nt, &wait), 0);
    assert_int_equal(wait, 1 * SEC);
    assert_int_equal(nt, tat);		/* a refusal changes nothing */
    /* just before the wait is over: still refused; at it: allowed */
    assert_int_equal(gcra_step(&g, tat, now + SEC - 1, &nt, &wait), 0);
    assert_int_equal(wait, 1);
    assert_int_equal(gcra_step(&g, tat, now + SEC, &nt, &wait), 1);
    assert_int_equal(nt, now + 6 * SEC);
}

/* a long quiet spell does not bank more than the burst */
static void
test_no_banking(void **state)
{
    struct conf_rate r = {10, 60000};	/* 10/m */
    struct gcra g;
    long long tat = 5 * SEC, now = 3600 * SEC, nt, wait;
    int passed = 0;

    (void) state;
    gcra_init(&g, &r, 3);
    while (gcra_step(&g, tat, now, &nt, &wait))
	tat = nt, passed++;
    assert_int_equal(passed, 3);
    assert_int_equal(wait, 6 * SEC);
}

/* a steady stream at the rate passes forever; faster is refused */
static void
test_steady_rate(void **state)
{
    struct conf_rate r = {100, 1000};	/* 100/s: 10 ms */
    struct gcra g;
    long long tat = 0, now = SEC, nt, wait;
    int i, refused = 0;

    (void) state;
    gcra_init(&g, &r, 1);
    for (i = 0; i < 1000; i++, now += 10000) {
	if (gcra_step(&g, tat, now, &nt, &wait))
	    tat = nt;
	else
	    refused++;
    }
    assert_int_equal(refused, 0);
    for (i = 0; i < 1000; i++, now += 5000) {
	if (gcra_step(&g, tat, now, &nt, &wait))
	    tat = nt;
	else
	    refused++;
    }
    assert_int_equal(refused, 500);
}

/* the longest periods and largest bursts the configuration accepts: no overflow */
static void
test_huge(void **state)
{
    struct conf_rate daily = {1, 86400000};	/* a provider's 1/d, burst up to 10^9 */
    struct conf_rate never = {1, LLONG_MAX};
    struct conf_rate many = {LONG_MAX, LLONG_MAX};
    long long now = 100 * SEC, nt, wait;
    struct gcra g;

    (void) state;
    gcra_init(&g, &daily, 1000000000);
    assert_int_equal(g.interval_us, 86400 * SEC);
    assert_true(g.tolerance_us > 1000LL * 365 * 86400 * SEC);
    assert_int_equal(gcra_step(&g, 0, now, &nt, &wait), 1);
    assert_int_equal(nt, now + 86400 * SEC);
    gcra_init(&g, &never, 2);
    assert_true(g.interval_us > 1000LL * 365 * 86400 * SEC);
    assert_true(g.tolerance_us >= g.interval_us);
    assert_int_equal(gcra_step(&g, 0, now, &nt, &wait), 1);
    assert_true(nt > now);
    assert_int_equal(gcra_step(&g, nt, now, &nt, &wait), 1);
    assert_true(nt > now);
    assert_int_equal(gcra_step(&g, nt, now, &nt, &wait), 0);
    assert_true(wait > 1000LL * 365 * 86400 * SEC);
    gcra_init(&g, &many, 1000000000);
    assert_true(g.interval_us >= 1 && g.tolerance_us >= 0);
}

static void
test_available(void **state)
{
    struct conf_rate r = {1, 1000};
    struct gcra g;
    long long now = 100 * SEC;

    (void) state;
    gcra_init(&g, &r, 4);
    assert_int_equal(gcra_available(&g, 0, now), 4);
    assert_int_equal(gcra_available(&g, now + 1 * SEC, now), 3);
    assert_int_equal(gcra_available(&g, now + 3 * SEC, now), 1);
    assert_int_equal(gcra_available(&g, now + 3 * SEC + 1, now), 0);
    assert_int_equal(gcra_available(&g, now + 4 * SEC, now), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_init),
	cmocka_unit_test(test_burst_then_wait),
	cmocka_unit_test(test_no_banking),
	cmocka_unit_test(test_steady_rate),
	cmocka_unit_test(test_available),
	cmocka_unit_test(test_huge),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
