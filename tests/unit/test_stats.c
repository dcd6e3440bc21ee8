/* test_stats - statistics key and field names */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stats.h"
#include "stats_report.h"

static void
test_fields(void **state)
{
    char buf[STATS_NAME_MAX * 4 + 4];
    struct stats_field f;

    (void) state;
    assert_true(stats_field_make(buf, sizeof(buf), "shop.test", "google", "warm1",
				 STATS_DELIVERED) > 0);
    assert_string_equal(buf, "shop.test|google|warm1|delivered");
    assert_int_equal(stats_field_split(buf, strlen(buf), &f), 0);
    assert_string_equal(f.sender, "shop.test");
    assert_string_equal(f.provider, "google");
    assert_string_equal(f.pool, "warm1");
    assert_string_equal(f.counter, "delivered");
    /* empty names become "-", '|' and control bytes '_' */
    stats_field_make(buf, sizeof(buf), "", NULL, "a|b", "reason.user\nunknown");
    assert_string_equal(buf, "-|-|a_b|reason.user_unknown");
    assert_int_equal(stats_field_make(buf, 8, "a", "b", "c", "delivered"), -1);
    /* malformed fields are refused */
    assert_int_equal(stats_field_split("a|b|c", 5, &f), -1);
    assert_int_equal(stats_field_split("a|b|c|d|e", 9, &f), -1);
    assert_int_equal(stats_field_split("a|b|c|", 6, &f), -1);
}

static void
test_hour_key(void **state)
{
    char buf[64];

    (void) state;
    /* 2026-11-28 15:48:42 UTC */
    assert_true(stats_hour_key(buf, sizeof(buf), "op:", 1795880922LL) > 0);
    assert_string_equal(buf, "op:{st}:h:2026112815");
    assert_int_equal(stats_hour_key(buf, 8, "op:", 0), -1);
}

static void
test_counters_flags(void **state)
{
    (void) state;
    assert_int_equal(stats_counter_index("bounced_hard"), SC_BOUNCED_HARD);
    assert_int_equal(stats_counter_index("throttled"), SC_THROTTLED);
    assert_int_equal(stats_counter_index("reason.userunknown"), -1);
    assert_string_equal(stats_rate_flag(0.0005, STATS_COMPLAINT_WARN, STATS_COMPLAINT_BAD), "ok");
    assert_string_equal(stats_rate_flag(0.001, STATS_COMPLAINT_WARN, STATS_COMPLAINT_BAD), "warn");
    assert_string_equal(stats_rate_flag(0.004, STATS_COMPLAINT_WARN, STATS_COMPLAINT_BAD), "bad");
}

static void
test_cmd(void **state)
{
    struct stats_cmd c;
    char big[600];

    (void) state;
    assert_int_equal(stats_cmd_make(&c, "op:", 0, 1795880922LL, "shop.test", "google", "warm1",
				    STATS_THROTTLED, 2), 0);
    assert_int_equal(c.argc, 8);
    assert_string_equal(c.argv[0], "EVAL");
    assert_string_equal(c.argv[2], "2");
    assert_string_equal(c.argv[3], "op:{st}:h:2026112815");
    assert_string_equal(c.argv[4], "op:{st}:total");
    assert_string_equal(c.argv[5], "shop.test|google|warm1|throttled");
    assert_string_equal(c.argv[6], "2");
    /* the hour's key lives until the end of the hour and STATS_HOUR_TTL more */
    assert_int_equal(strtoll(c.argv[7], NULL, 10), 1795881600LL + STATS_HOUR_TTL);
    assert_int_equal(c.argvlen[5], strlen("shop.test|google|warm1|throttled"));
    assert_int_equal(stats_counter_index("spilled"), SC_SPILLED);
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(stats_cmd_make(&c, big, 0, 0, "a", "b", "c", "accepted", 1), -1);
}

/* the cluster layout: a fixed bucket per sender (FNV-1a of the stored name) */
static void
test_cluster(void **state)
{
    struct stats_cmd c;
    char buf[64];

    (void) state;
    /* known answers: the layout of stored data must never change */
    assert_int_equal(stats_sender_bucket("shop.test"), 5);
    assert_int_equal(stats_sender_bucket("other.test"), 9);
    assert_int_equal(stats_sender_bucket(""), 8);	/* stored as "-" */
    assert_int_equal(stats_sender_bucket("a|b"), 1);	/* stored as "a_b" */
    assert_true(stats_tag(buf, sizeof(buf), "op:", 5) > 0);
    assert_string_equal(buf, "op:{st:5}");
    assert_true(stats_tag(buf, sizeof(buf), "op:", -1) > 0);
    assert_string_equal(buf, "op:{st}");
    assert_int_equal(stats_tag(buf, 6, "op:", 5), -1);
    assert_int_equal(stats_cmd_make(&c, "op:", 1, 1795880922LL, "shop.test", "google",
				    "warm1", STATS_THROTTLED, 2), 0);
    assert_string_equal(c.argv[3], "op:{st:5}:h:2026112815");
    assert_string_equal(c.argv[4], "op:{st:5}:total");
    assert_string_equal(c.argv[5], "shop.test|google|warm1|throttled");
}

/* the state of a batch that cannot be written is set again at each retry */
static void
test_state_bounded(void **state)
{
    struct stats_batch *b = stats_batch_new("op:");
    char pos[32];
    int i;

    (void) state;
    for (i = 0; i < 1000; i++) {
	snprintf(pos, sizeof(pos), "12:%d", i);
	stats_batch_state(b, "op:{st}:logd:n1", "pos", pos);
	stats_batch_state(b, "op:{st}:logd:n1", "updated", "1795880922");
    }
    assert_int_equal(stats_batch_state_size(b), 2);
    stats_batch_state(b, "op:{st}:logd:n1", "offset", "7");
    assert_int_equal(stats_batch_state_size(b), 3);
    stats_batch_free(b);
}

/* --since: a duration, a UTC date or hour; a day the month does not have is refused */
static void
test_since(void **state)
{
    struct stats_report r;
    const char *why;
    long long now = 1795880922LL;	/* 2026-11-28T14:28:42Z */

    (void) state;
    assert_int_equal(stats_report_init(&r, STATS_BY_PROVIDER, "3d", now, &why), 0);
    assert_int_equal(r.since, now - 3 * 86400);
    stats_report_free(&r);
    assert_int_equal(stats_report_init(&r, STATS_BY_PROVIDER, "2026-11-27", now, &why), 0);
    assert_int_equal(r.since, 1795737600LL);
    stats_report_free(&r);
    assert_int_equal(stats_report_init(&r, STATS_BY_PROVIDER, "2026-11-27T10", now, &why), 0);
    assert_int_equal(r.since, 1795737600LL + 10 * 3600);
    stats_report_free(&r);
    assert_int_equal(stats_report_init(&r, STATS_BY_PROVIDER, "2026-11-31", now, &why), -1);
    assert_int_equal(stats_report_init(&r, STATS_BY_PROVIDER, "2026-02-29T10", now, &why), -1);
    assert_int_equal(stats_report_init(&r, STATS_BY_PROVIDER, "2026-11-27T24", now, &why), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_fields),
	cmocka_unit_test(test_hour_key),
	cmocka_unit_test(test_counters_flags),
	cmocka_unit_test(test_cmd),
	cmocka_unit_test(test_cluster),
	cmocka_unit_test(test_state_bounded),
	cmocka_unit_test(test_since),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
