/* test_warmhold - when a pool's warm-up holds, and the reasons it gives */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "warmhold.h"

/* pool - a pool holding at 5% bounces, 0.3% complaints, when listed; from 100 messages */
static struct conf_pool
pool(void)
{
    struct conf_pool p;

    memset(&p, 0, sizeof(p));
    p.named.name = "warm";
    p.hold_bounce = 0.05;
    p.hold_complaint = 0.003;
    p.hold_when_listed = 1;
    p.hold_min_messages = 100;
    return p;
}

static void
test_rates(void **state)
{
    struct conf_pool p = pool();
    struct warmhold_rates r = {95, 5, 0};
    char why[512];

    (void) state;
    assert_int_equal(warmhold_reasons(&p, &r, NULL, NULL, why, sizeof(why)), 1);
    assert_string_equal(why, "bounce rate 5.0% >= 5.0% (24h, 100 messages)");
    r.bounced = 4;			/* 4 of 99: under */
    assert_int_equal(warmhold_reasons(&p, &r, NULL, NULL, why, sizeof(why)), 0);
    assert_string_equal(why, "");
    r = (struct warmhold_rates) {1000, 0, 3};
    assert_int_equal(warmhold_reasons(&p, &r, NULL, NULL, why, sizeof(why)), 1);
    assert_string_equal(why, "complaint rate 0.3% >= 0.3% (24h, 1000 delivered)");
    r.complaints = 2;
    assert_int_equal(warmhold_reasons(&p, &r, NULL, NULL, why, sizeof(why)), 0);
}

static void
test_min_messages(void **state)
{
    struct conf_pool p = pool();
    struct warmhold_rates r = {40, 59, 20};	/* 99 messages: too few to judge */
    char why[512];

    (void) state;
    assert_int_equal(warmhold_reasons(&p, &r, NULL, NULL, why, sizeof(why)), 0);
    p.hold_min_messages = 1;
    assert_int_equal(warmhold_reasons(&p, &r, NULL, NULL, why, sizeof(why)), 1);
    assert_string_equal(why, "bounce rate 59.6% >= 5.0% (24h, 99 messages); "
			"complaint rate 50.0% >= 0.3% (24h, 40 delivered)");
}

static void
test_listed(void **state)
{
    struct conf_pool p = pool();
    struct warmhold_rates r = {0, 0, 0};
    char why[512], small[12];

    (void) state;
    assert_int_equal(warmhold_reasons(&p, &r, "192.0.2.10", "zen", why, sizeof(why)), 1);
    assert_string_equal(why, "192.0.2.10 listed on zen");
    p.hold_when_listed = 0;
    assert_int_equal(warmhold_reasons(&p, &r, "192.0.2.10", "zen", why, sizeof(why)), 0);
    /* no thresholds at all: never */
    p.hold_bounce = p.hold_complaint = 0;
    r = (struct warmhold_rates) {0, 1000, 1000};
    assert_int_equal(warmhold_reasons(&p, &r, NULL, NULL, why, sizeof(why)), 0);
    /* a short buffer is cut, still terminated */
    p.hold_when_listed = 1;
    assert_int_equal(warmhold_reasons(&p, &r, "192.0.2.10", "zen", small, sizeof(small)), 1);
    assert_string_equal(small, "192.0.2.10 ");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_rates),
	cmocka_unit_test(test_min_messages),
	cmocka_unit_test(test_listed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
