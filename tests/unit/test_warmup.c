/*
 * test_warmup - warm-up schedules, dates, days across zones and midnights
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "warmup.h"

/* parse - a schedule from a comma-separated text */
static int
parse(const char *text, struct warmup_schedule *s, const char **why)
{
    struct conf_strlist l = {0};
    int rc;

    confval_list(text, &l, why);
    rc = warmup_schedule_parse(&l, s, why);
    conf_strlist_free(&l);
    return rc;
}

static void
test_schedule_ramp(void **state)
{
    struct warmup_schedule s;
    const char *why;
    long d;

    (void) state;
    assert_int_equal(parse("1:200, 30:2000000", &s, &why), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(warmup_cap(&s, 0), 0);	/* not started yet */
    assert_int_equal(warmup_cap(&s, -5), 0);
    assert_int_equal(warmup_cap(&s, 1), 200);
    assert_int_equal(warmup_cap(&s, 30), 2000000);
    assert_int_equal(warmup_cap(&s, 31), 2000000);
    assert_int_equal(warmup_cap(&s, 400), 2000000);
    /* geometric: the factor is 10000^(1/29) ~ 1.374 each day */
    assert_int_equal(warmup_cap(&s, 2), 275);
    assert_int_equal(warmup_cap(&s, 15), 17063);
    for (d = 2; d <= 30; d++)
	assert_true(warmup_cap(&s, d) > warmup_cap(&s, d - 1));
}

static void
test_schedule_steps(void **state)
{
    struct warmup_schedule s;
    const char *why;

    (void) state;
    assert_int_equal(parse("3:50 5:100 6:1000", &s, &why), 0);
    assert_int_equal(warmup_cap(&s, 1), 50);	/* before the first point */
    assert_int_equal(warmup_cap(&s, 3), 50);
    assert_int_equal(warmup_cap(&s, 4), 71);	/* 50 * sqrt(2) */
    assert_int_equal(warmup_cap(&s, 5), 100);
    assert_int_equal(warmup_cap(&s, 6), 1000);
    assert_int_equal(parse("", &s, &why), 0);
    assert_int_equal(warmup_cap(&s, 3), -1);	/* no schedule: no cap */
}

static void
test_schedule_errors(void **state)
{
    struct warmup_schedule s;
    const char *why = NULL;

    (void) state;
    assert_int_equal(parse("1:200, 1:300", &s, &why), -1);
    assert_string_equal(why, "schedule: days must increase");
    assert_int_equal(parse("0:200", &s, &why), -1);
    assert_int_equal(parse("1:0", &s, &why), -1);
    assert_int_equal(parse("1-200", &s, &why), -1);
    assert_int_equal(parse("1:2x", &s, &why), -1);
    assert_int_equal(parse("1:", &s, &why), -1);
    assert_int_equal(parse("99999:1", &s, &why), -1);
    assert_int_equal(parse("1:99999999999999999999", &s, &why), -1);
}

static void
test_dates(void **state)
{
    long day;
    char buf[16];
    const char *why;

    (void) state;
    assert_int_equal(warmup_date_parse("1970-01-01", &day, &why), 0);
    assert_int_equal(day, 0);
    assert_int_equal(warmup_date_parse("2024-03-01", &day, &why), 0);
    assert_int_equal(day, 19783);
    warmup_date_format(19783, buf, sizeof(buf));
    assert_string_equal(buf, "2024-03-01");
    assert_int_equal(warmup_date_parse("2024-02-29", &day, &why), 0);
    assert_int_equal(day, 19782);
    assert_int_equal(warmup_date_parse("2023-02-29", &day, &why), -1);
    assert_int_equal(warmup_date_parse("2100-02-29", &day, &why), -1);
    assert_int_equal(warmup_date_parse("2000-02-29", &day, &why), 0);
    assert_int_equal(warmup_date_parse("2024-13-01", &day, &why), -1);
    assert_int_equal(warmup_date_parse("2024-1-01", &day, &why), -1);
    assert_int_equal(warmup_date_parse("2024-04-31", &day, &why), -1);
    for (day = 0; day < 50000; day += 37) {
	long back;

	warmup_date_format(day, buf, sizeof(buf));
	assert_int_equal(warmup_date_parse(buf, &back, &why), 0);
	assert_int_equal(back, day);
    }
}

static void
test_days_utc(void **state)
{
    long long t = 1709251200;	/* 2024-03-01 00:00:00 UTC */

    (void) state;
    assert_int_equal(warmup_day_number(t, 0), 19783);
    assert_int_equal(warmup_day_number(t - 1, 0), 19782);
    assert_int_equal(warmup_next_midnight(t - 1, 0), t);
    assert_int_equal(warmup_next_midnight(t, 0), t + 86400);
    /* before 1970: floor, not truncation */
    assert_int_equal(warmup_day_number(-1, 0), -1);
}

static void
test_days_offsets(void **state)
{
    struct warmup_tz tz;
    const char *why;
    long long t = 1709251200 - 3600;	/* 2024-02-29 23:00 UTC */

    (void) state;
    assert_int_equal(warmup_tz_parse("+02:00", &tz, &why), 0);
    assert_int_equal(warmup_tz_offset(&tz, t), 7200);
    /* already March 1st at UTC+2, still February 29th in UTC and UTC-5 */
    assert_int_equal(warmup_day_number(t, 7200), 19783);
    assert_int_equal(warmup_day_number(t, 0), 19782);
    assert_int_equal(warmup_tz_parse("-0500", &tz, &why), 0);
    assert_int_equal(tz.offset_s, -18000);
    assert_int_equal(warmup_day_number(t, tz.offset_s), 19782);
    /* the next day at UTC+2 began at 22:00 UTC the evening before */
    assert_int_equal(warmup_next_midnight(t, 7200), 1709251200 + 86400 - 7200);
    assert_int_equal(warmup_tz_parse("UTC", &tz, &why), 0);
    assert_int_equal(tz.offset_s, 0);
    assert_int_equal(warmup_tz_parse("+2", &tz, &why), -1);
    assert_int_equal(warmup_tz_parse("+25:00", &tz, &why), -1);
    assert_int_equal(warmup_tz_parse("../etc/passwd", &tz, &why), -1);
    assert_int_equal(warmup_tz_parse("No/Such_Zone", &tz, &why), -1);
}

static void
test_days_named_zone(void **state)
{
    struct warmup_tz tz;
    const char *why;
    long long winter = 1709251200;	/* 2024-03-01: CET, +1 */
    long long summer = 1719792000;	/* 2024-07-01: CEST, +2 */
    long long dst = 1711846800;		/* 2024-03-31 01:00 UTC: the switch */

    (void) state;
    assert_int_equal(warmup_tz_parse("Europe/Paris", &tz, &why), 0);
    assert_int_equal(warmup_tz_offset(&tz, winter), 3600);
    assert_int_equal(warmup_tz_offset(&tz, summer), 7200);
    assert_int_equal(warmup_tz_offset(&tz, dst - 1), 3600);
    assert_int_equal(warmup_tz_offset(&tz, dst), 7200);
    /* 23:30 UTC on June 30th is July 1st in Paris */
    assert_int_equal(warmup_day_number(summer - 1800, warmup_tz_offset(&tz, summer - 1800)),
		     warmup_day_number(summer, 0));
    assert_int_equal(warmup_tz_parse("America/New_York", &tz, &why), 0);
    assert_int_equal(warmup_tz_offset(&tz, winter), -18000);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_schedule_ramp),
	cmocka_unit_test(test_schedule_steps),
	cmocka_unit_test(test_schedule_errors),
	cmocka_unit_test(test_dates),
	cmocka_unit_test(test_days_utc),
	cmocka_unit_test(test_days_offsets),
	cmocka_unit_test(test_days_named_zone),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
