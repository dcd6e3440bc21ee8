/* test_backoff - backoff rules: parsing, errors, matching */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "backoff.h"

/* parse_ok - rules of a text, must parse */
static void
parse_ok(const char *text, struct backoff_rules *r)
{
    char err[300];

    memset(r, 0, sizeof(*r));
    if (backoff_rules_parse(text, strlen(text), "t.rules", r, err, sizeof(err)) < 0)
	fail_msg("refused: %s", err);
}

/* parse_bad - the text is refused with an error holding needle */
static void
parse_bad(const char *text, const char *needle)
{
    struct backoff_rules r = {0};
    char err[300];

    if (backoff_rules_parse(text, strlen(text), "t.rules", &r, err, sizeof(err)) == 0)
	fail_msg("'%s' accepted", text);
    if (strstr(err, needle) == NULL)
	fail_msg("'%s': error '%s' lacks '%s'", text, err, needle);
    backoff_rules_free(&r);
}

static void
test_parse(void **state)
{
    struct backoff_rules r;

    (void) state;
    parse_ok("# comment\n\n  google 4.7.28 * 1h 60/m   # why\r\n"
	     "yahoo * \"*TSS04 deferred*\" 30m 10/s\n*\t4.7.*\t\"*slow down*\"\t1h30m\t1/s", &r);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.v[0].provider, "google");
    assert_string_equal(r.v[0].dsn, "4.7.28");
    assert_int_equal(r.v[0].duration_ms, 3600000);
    assert_int_equal(r.v[0].rate.count, 60);
    assert_int_equal(r.v[0].rate.period_ms, 60000);
    assert_string_equal(r.v[0].origin, "t.rules:3");
    assert_string_equal(r.v[1].text, "*TSS04 deferred*");
    assert_int_equal(r.v[2].duration_ms, 5400000);
    backoff_rules_free(&r);
}

static void
test_errors(void **state)
{
    (void) state;
    parse_bad("google 4.7.28 * 1h", "t.rules:1: expected");
    parse_bad("\ngoogle 4.7.28 * 1h 60/m extra", "t.rules:2: more than five");
    parse_bad("google 4.7.28 \"*unterminated 1h 60/m", "badly quoted");
    parse_bad("goo/gle 4.7.28 * 1h 60/m", "provider");
    parse_bad("google 4.7.x * 1h 60/m", "dsn");
    parse_bad("google 4.7.28 * soon 60/m", "duration");
    parse_bad("google 4.7.28 * 0 60/m", "duration");
    parse_bad("google 4.7.28 * 1h fast", "rate");
    parse_bad("google 4.7.28 \"a\"b 1h 60/m", "badly quoted");
}

static void
test_builtin_match(void **state)
{
    struct backoff_rules r;
    const struct backoff_rule *m;
    char err[300];

    (void) state;
    assert_int_equal(backoff_rules_load(NULL, 1, &r, err, sizeof(err)), 0);
    m = backoff_match(&r, "google", "4.7.28", "421-4.7.28 Our system has detected an "
		      "unusual rate of unsolicited mail");
    assert_non_null(m);
    assert_string_equal(m->provider, "google");
    assert_non_null(backoff_match(&r, "google", "4.7.0",
				  "421-4.7.0 Try again later, RATE LIMIT exceeded"));
    assert_null(backoff_match(&r, "google", "4.7.0", "421-4.7.0 TLS required"));
    assert_non_null(backoff_match(&r, "yahoo", "4.7.0", "421 4.7.0 [TSS04] Messages from "
				  "192.0.2.1 temporarily deferred"));
    assert_non_null(backoff_match(&r, "yahoo", "4.7.0", "421 4.7.0 [TS02] Messages from x"));
    assert_null(backoff_match(&r, "yahoo", "4.7.0", "421 4.7.0 [TS00] nothing"));
    assert_non_null(backoff_match(&r, "microsoft", "4.7.650", "451 4.7.650 The mail server "
				  "has been temporarily rate limited"));
    assert_non_null(backoff_match(&r, "microsoft", "4.7.500", "451 4.7.500 Server busy"));
    /* any provider (or a bare domain) that answers 4.7.28 */
    assert_non_null(backoff_match(&r, "example.org", "4.7.28", "slow"));
    assert_null(backoff_match(&r, "microsoft", "4.2.2", "mailbox full"));
    backoff_rules_free(&r);
    /* the file's rules come first */
    assert_int_equal(backoff_rules_load(TEST_SRCDIR "/conf-examples/backoff.rules", 1, &r,
					err, sizeof(err)), 0);
    assert_true(r.n > 9);
    backoff_rules_free(&r);
    assert_int_equal(backoff_rules_load("/nonexistent/rules", 1, &r, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/rules: cannot open"));
}

static void
test_key(void **state)
{
    char buf[64];

    (void) state;
    assert_int_equal(backoff_key(buf, sizeof(buf), "op:", "google", "warm1"),
		     (int) strlen("op:{rl}:backoff:google:warm1"));
    assert_string_equal(buf, "op:{rl}:backoff:google:warm1");
    assert_int_equal(backoff_key(buf, 10, "op:", "google", "warm1"), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_parse),
	cmocka_unit_test(test_errors),
	cmocka_unit_test(test_builtin_match),
	cmocka_unit_test(test_key),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
