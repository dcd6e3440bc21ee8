/*
 * test_authlimit - failed authentications per client address: charged,
 * refused past the burst, recovered as the (injected) clock runs, IPv6
 * counted per /64, the table bounded whatever the number of clients, and
 * the counts right when threads charge at once
 */
#include "config.h"

#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "authlimit.h"

#define T0 1000000000000LL	/* a monotonic clock, in microseconds */
#define SEC 1000000LL

static const struct conf_rate per_second = {1, 1000};	/* 60/m: one per second */

/* client - the limiter's name of an address */
static struct authlimit_client
client(const char *addr)
{
    struct authlimit_client c;

    authlimit_client(addr, &c);
    return c;
}

/* the burst passes, the next is refused, the rate lets one through again */
static void
test_charge_refuse_recover(void **state)
{
    struct authlimit *al = authlimit_new(64);
    struct authlimit_client a = client("192.0.2.7"), b = client("192.0.2.8");
    long long wait;

    (void) state;
    assert_int_equal(authlimit_wait(al, &per_second, 3, &a, T0), 0);
    assert_int_equal(authlimit_fail(al, &per_second, 3, &a, T0, &wait), 0);
    assert_int_equal(authlimit_wait(al, &per_second, 3, &a, T0), 0);
    assert_int_equal(authlimit_fail(al, &per_second, 3, &a, T0, &wait), 0);
    assert_int_equal(authlimit_wait(al, &per_second, 3, &a, T0), 0);
    /* the third takes it over: said once, with the time to wait */
    assert_int_equal(authlimit_fail(al, &per_second, 3, &a, T0, &wait), 1);
    assert_int_equal(wait, SEC);
    assert_int_equal(authlimit_wait(al, &per_second, 3, &a, T0), SEC);
    assert_int_equal(authlimit_wait(al, &per_second, 3, &a, T0 + SEC / 4), 3 * SEC / 4);
    /* another address is not concerned */
    assert_int_equal(authlimit_wait(al, &per_second, 3, &b, T0), 0);
    /* one interval later one more try; failing again is a new episode */
    assert_int_equal(authlimit_wait(al, &per_second, 3, &a, T0 + SEC), 0);
    assert_int_equal(authlimit_fail(al, &per_second, 3, &a, T0 + SEC, &wait), 1);
    assert_int_equal(wait, SEC);
    assert_true(authlimit_wait(al, &per_second, 3, &a, T0 + SEC) > 0);
    /* quiet long enough: the whole burst is back, the slot holds nothing */
    assert_int_equal(authlimit_used(al, T0 + 3 * SEC), 1);
    assert_int_equal(authlimit_used(al, T0 + 4 * SEC), 0);
    assert_int_equal(authlimit_fail(al, &per_second, 3, &a, T0 + 4 * SEC, &wait), 0);
    assert_int_equal(authlimit_fail(al, &per_second, 3, &a, T0 + 4 * SEC, &wait), 0);
    assert_int_equal(authlimit_fail(al, &per_second, 3, &a, T0 + 4 * SEC, &wait), 1);
    /* a looser rate (a reload) counts the same history with its own terms */
    assert_int_equal(authlimit_wait(al, &per_second, 10, &a, T0 + 4 * SEC), 0);
    authlimit_free(al);
}

/* a burst of 0 turns the limit off: nothing charged, nothing refused */
static void
test_off(void **state)
{
    struct authlimit *al = authlimit_new(64);
    struct authlimit_client a = client("192.0.2.7");
    long long wait = -1;
    int i;

    (void) state;
    for (i = 0; i < 100; i++)
	assert_int_equal(authlimit_fail(al, &per_second, 0, &a, T0, &wait), 0);
    assert_int_equal(wait, 0);
    assert_int_equal(authlimit_wait(al, &per_second, 0, &a, T0), 0);
    assert_int_equal(authlimit_used(al, T0), 0);
    /* and the history kept meanwhile is none: the burst is whole */
    assert_int_equal(authlimit_wait(al, &per_second, 1, &a, T0), 0);
    authlimit_free(al);
}

/* one IPv6 client is a /64; IPv4 (mapped too) is per address; nonsense is one */
static void
test_grouping(void **state)
{
    struct authlimit *al = authlimit_new(64);
    struct authlimit_client v6 = client("2001:db8:1:2::1"), v6same =
	client("2001:db8:1:2:ffff:ffff:ffff:fffe"), v6other = client("2001:db8:1:3::1");
    struct authlimit_client v4 = client("10.0.0.1"), v4mapped = client("::ffff:10.0.0.1");
    struct authlimit_client v4other = client("10.0.0.2"), bad = client("nonsense"),
	bad2 = client("<script>");
    long long wait;

    (void) state;
    assert_string_equal(v6.text, "2001:db8:1:2::/64");
    assert_string_equal(v4.text, "10.0.0.1");
    assert_string_equal(v4mapped.text, "10.0.0.1");
    assert_string_equal(bad.text, "(not an address)");
    assert_int_equal(authlimit_fail(al, &per_second, 1, &v6, T0, &wait), 1);
    assert_true(authlimit_wait(al, &per_second, 1, &v6same, T0) > 0);
    assert_int_equal(authlimit_wait(al, &per_second, 1, &v6other, T0), 0);
    assert_int_equal(authlimit_fail(al, &per_second, 1, &v4mapped, T0, &wait), 1);
    assert_true(authlimit_wait(al, &per_second, 1, &v4, T0) > 0);
    assert_int_equal(authlimit_wait(al, &per_second, 1, &v4other, T0), 0);
    assert_int_equal(authlimit_fail(al, &per_second, 1, &bad, T0, &wait), 1);
    assert_true(authlimit_wait(al, &per_second, 1, &bad2, T0) > 0);
    /* the /64 of ::/64 (::1) is not the IPv4 nor the nonsense name */
    assert_int_equal(authlimit_wait(al, &per_second, 1, &v4other, T0), 0);
    assert_int_equal(authlimit_wait(al, &per_second, 1, &(struct authlimit_client) {{0}, ""},
				     T0), 0);
    authlimit_free(al);
}

/* many more clients than slots: memory stays, the worst offender stays limited */
static void
test_full(void **state)
{
    struct authlimit *al = authlimit_new(16);
    struct authlimit_client worst = client("198.51.100.1"), c;
    char addr[64];
    long long wait;
    int i;

    (void) state;
    for (i = 0; i < 3; i++)
	authlimit_fail(al, &per_second, 3, &worst, T0, &wait);
    assert_true(authlimit_wait(al, &per_second, 3, &worst, T0) > 0);
    for (i = 0; i < 20000; i++) {
	snprintf(addr, sizeof(addr), "2001:db8:%x:%x::1", i >> 16, i & 0xffff);
	authlimit_client(addr, &c);
	authlimit_fail(al, &per_second, 3, &c, T0, &wait);
	assert_true(authlimit_used(al, T0) <= 16);
    }
    assert_int_equal(authlimit_used(al, T0), 16);
    /* evicted first: those closest to recovery, never the one far over */
    assert_int_equal(authlimit_wait(al, &per_second, 3, &worst, T0), SEC);
    /* clients each over the limit: still 16 slots */
    for (i = 0; i < 1000; i++) {
	snprintf(addr, sizeof(addr), "203.0.113.%d", i % 250);
	authlimit_client(addr, &c);
	authlimit_fail(al, &per_second, 3, &c, T0 + SEC / 2, &wait);
    }
    assert_true(authlimit_used(al, T0 + SEC / 2) <= 16);
    authlimit_free(al);
}

/* huge rates and bursts the configuration accepts: no overflow, the limit holds */
static void
test_huge(void **state)
{
    static const struct conf_rate yearly = {1, 365LL * 86400 * 1000};
    static const struct conf_rate never = {1, LLONG_MAX};	/* "1/9223372036854775807ms" */
    struct authlimit *al = authlimit_new(64);
    struct authlimit_client a = client("192.0.2.7"), b = client("192.0.2.8");
    long long wait;
    int i;

    (void) state;
    /* one a year with a burst of a million: the first failure is far from the limit */
    assert_int_equal(authlimit_fail(al, &yearly, 1000000, &a, T0, &wait), 0);
    assert_int_equal(wait, 0);
    assert_int_equal(authlimit_wait(al, &yearly, 1000000, &a, T0), 0);
    /* one in 292 million years with a burst of 2: the second failure stops it for good */
    assert_int_equal(authlimit_fail(al, &never, 2, &b, T0, &wait), 0);
    assert_int_equal(authlimit_fail(al, &never, 2, &b, T0, &wait), 1);
    assert_true(wait > 1000LL * 365 * 86400 * SEC);
    assert_true(authlimit_wait(al, &never, 2, &b, T0 + 100 * 365LL * 86400 * SEC) > 0);
    /* failures still charged while over the limit (requests in flight) never wrap */
    for (i = 0; i < 10; i++)
	authlimit_fail(al, &never, 2, &b, T0, &wait);
    assert_true(authlimit_wait(al, &never, 2, &b, T0) > 0);
    assert_true(authlimit_retry(al, &(struct conf_httpd) {.api_auth_failures = never,
				.api_auth_burst = 2}, &b) > 0);
    authlimit_free(al);
}

struct hammer {
    struct authlimit *al;
    struct authlimit_client c;
};

/* hammer - a thread's share of failures */
static void *
hammer(void *arg)
{
    struct hammer *h = arg;
    static const struct conf_rate hourly = {1, 3600000};
    long long wait;
    int i;

    for (i = 0; i < 5000; i++)
	authlimit_fail(h->al, &hourly, 1, &h->c, T0, &wait);
    return NULL;
}

/* threads charging one client at once: every failure counted */
static void
test_threads(void **state)
{
    static const struct conf_rate hourly = {1, 3600000};
    struct hammer h;
    pthread_t t[4];
    int i;

    (void) state;
    h.al = authlimit_new(AUTHLIMIT_SLOTS);
    authlimit_client("192.0.2.99", &h.c);
    for (i = 0; i < 4; i++)
	assert_int_equal(pthread_create(&t[i], NULL, hammer, &h), 0);
    for (i = 0; i < 4; i++)
	pthread_join(t[i], NULL);
    /* 20000 failures at one an hour, a burst of 1: 20000 hours to wait */
    assert_int_equal(authlimit_wait(h.al, &hourly, 1, &h.c, T0), 20000LL * 3600 * SEC);
    authlimit_free(h.al);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_charge_refuse_recover),
	cmocka_unit_test(test_off),
	cmocka_unit_test(test_grouping),
	cmocka_unit_test(test_full),
	cmocka_unit_test(test_huge),
	cmocka_unit_test(test_threads),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
