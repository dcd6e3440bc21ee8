/* test_confval - value parsers of outpost.conf */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "confval.h"

static void
test_duration(void **state)
{
    long long ms;
    const char *why;

    (void) state;
    assert_int_equal(confval_duration("30s", &ms, &why), 0);
    assert_int_equal(ms, 30000);
    assert_int_equal(confval_duration("7d", &ms, &why), 0);
    assert_int_equal(ms, 7LL * 86400 * 1000);
    assert_int_equal(confval_duration("1h30m", &ms, &why), 0);
    assert_int_equal(ms, 5400000);
    assert_int_equal(confval_duration("250ms", &ms, &why), 0);
    assert_int_equal(ms, 250);
    assert_int_equal(confval_duration("15", &ms, &why), 0);
    assert_int_equal(ms, 15000);
    assert_int_equal(confval_duration("2w", &ms, &why), 0);
    assert_int_equal(ms, 14LL * 86400 * 1000);
    assert_int_equal(confval_duration("", &ms, &why), -1);
    assert_int_equal(confval_duration("5x", &ms, &why), -1);
    assert_non_null(strstr(why, "unit"));
    assert_int_equal(confval_duration("s", &ms, &why), -1);
    assert_int_equal(confval_duration("-5s", &ms, &why), -1);
    assert_int_equal(confval_duration("99999999999999999999d", &ms, &why), -1);
    assert_int_equal(confval_duration("9999999999999999d", &ms, &why), -1);
}

static void
test_rate(void **state)
{
    struct conf_rate r;
    const char *why;

    (void) state;
    assert_int_equal(confval_rate("600/m", &r, &why), 0);
    assert_int_equal(r.count, 600);
    assert_int_equal(r.period_ms, 60000);
    assert_int_equal(confval_rate("10/s", &r, &why), 0);
    assert_int_equal(r.period_ms, 1000);
    assert_int_equal(confval_rate("5000/1h", &r, &why), 0);
    assert_int_equal(r.count, 5000);
    assert_int_equal(r.period_ms, 3600000);
    assert_int_equal(confval_rate("100/30s", &r, &why), 0);
    assert_int_equal(r.period_ms, 30000);
    assert_int_equal(confval_rate("600", &r, &why), -1);
    assert_int_equal(confval_rate("0/m", &r, &why), -1);
    assert_int_equal(confval_rate("/m", &r, &why), -1);
    assert_int_equal(confval_rate("5/0s", &r, &why), -1);
    assert_int_equal(confval_rate("5/fortnight", &r, &why), -1);
}

static void
test_size(void **state)
{
    unsigned long long n;
    const char *why;

    (void) state;
    assert_int_equal(confval_size("512", &n, &why), 0);
    assert_int_equal(n, 512);
    assert_int_equal(confval_size("64k", &n, &why), 0);
    assert_int_equal(n, 65536);
    assert_int_equal(confval_size("10M", &n, &why), 0);
    assert_int_equal(n, 10485760);
    assert_int_equal(confval_size("1GB", &n, &why), 0);
    assert_int_equal(n, 1073741824ULL);
    assert_int_equal(confval_size("1T", &n, &why), -1);
    assert_int_equal(confval_size("k", &n, &why), -1);
    assert_int_equal(confval_size("99999999999999999999G", &n, &why), -1);
}

static void
test_bool_long(void **state)
{
    int b;
    long l;
    const char *why;

    (void) state;
    assert_int_equal(confval_bool("Yes", &b, &why), 0);
    assert_int_equal(b, 1);
    assert_int_equal(confval_bool("off", &b, &why), 0);
    assert_int_equal(b, 0);
    assert_int_equal(confval_bool("maybe", &b, &why), -1);
    assert_int_equal(confval_long("42", 0, 100, &l, &why), 0);
    assert_int_equal(l, 42);
    assert_int_equal(confval_long("420", 0, 100, &l, &why), -1);
    assert_int_equal(confval_long("4x", 0, 100, &l, &why), -1);
}

static void
test_list(void **state)
{
    struct conf_strlist l = {0};
    const char *why;

    (void) state;
    assert_int_equal(confval_list("a, b  c,,d", &l, &why), 0);
    assert_int_equal(l.n, 4);
    assert_string_equal(l.v[0], "a");
    assert_string_equal(l.v[3], "d");
    assert_int_equal(confval_list("e", &l, &why), 0);
    assert_int_equal(l.n, 5);
    conf_strlist_free(&l);
}

static void
test_cidr(void **state)
{
    struct cidr c;
    struct cidr_list cl;
    const char *why;

    (void) state;
    assert_int_equal(confval_cidr("192.0.2.0/24", &c, &why), 0);
    assert_int_equal(c.prefix, 24);
    cl.v = &c;
    cl.n = 1;
    assert_true(cidr_list_match_str(&cl, "192.0.2.77"));
    assert_false(cidr_list_match_str(&cl, "192.0.3.1"));
    assert_false(cidr_list_match_str(&cl, "2001:db8::1"));
    assert_true(cidr_list_match_str(&cl, "::ffff:192.0.2.5"));
    assert_int_equal(confval_cidr("2001:db8::/32", &c, &why), 0);
    assert_true(cidr_list_match_str(&cl, "2001:db8:1::1"));
    assert_false(cidr_list_match_str(&cl, "2001:db9::1"));
    assert_int_equal(confval_cidr("10.0.0.0/7", &c, &why), 0);
    assert_true(cidr_list_match_str(&cl, "11.255.0.1"));
    assert_int_equal(confval_cidr("127.0.0.1", &c, &why), 0);
    assert_int_equal(c.prefix, 32);
    assert_int_equal(confval_cidr("10.1.2.3/8", &c, &why), -1);
    assert_non_null(strstr(why, "prefix"));
    assert_int_equal(confval_cidr("10.0.0.0/33", &c, &why), -1);
    assert_int_equal(confval_cidr("example.org", &c, &why), -1);
    assert_int_equal(confval_cidr("/24", &c, &why), -1);
}

/* next hops as Postfix's relay= field names them */
static void
test_nexthop(void **state)
{
    struct conf_nexthop nh;
    const char *why;

    (void) state;
    assert_int_equal(confval_nexthop("127.0.0.1:10024", &nh, &why), 0);
    assert_string_equal(nh.host, "127.0.0.1");
    assert_int_equal(nh.port, 10024);
    assert_false(nh.socket);
    assert_int_equal(confval_nexthop("[::1]:10024", &nh, &why), 0);
    assert_string_equal(nh.host, "::1");
    assert_int_equal(nh.port, 10024);
    assert_int_equal(confval_nexthop("::1", &nh, &why), 0);
    assert_string_equal(nh.host, "::1");
    assert_int_equal(nh.port, 0);
    assert_int_equal(confval_nexthop("filter.test", &nh, &why), 0);
    assert_string_equal(nh.host, "filter.test");
    assert_int_equal(nh.port, 0);
    assert_int_equal(confval_nexthop("unix:/var/run/amavis/amavisd.sock", &nh, &why), 0);
    assert_string_equal(nh.host, "/var/run/amavis/amavisd.sock");
    assert_true(nh.socket);
    assert_int_equal(confval_nexthop("private/amavis", &nh, &why), 0);
    assert_string_equal(nh.host, "private/amavis");
    assert_true(nh.socket);
    assert_int_equal(confval_nexthop("127.0.0.1:", &nh, &why), -1);
    assert_int_equal(confval_nexthop("127.0.0.1:70000", &nh, &why), -1);
    assert_int_equal(confval_nexthop("[::1]10024", &nh, &why), -1);
    assert_int_equal(confval_nexthop("[::1", &nh, &why), -1);
    assert_int_equal(confval_nexthop(":25", &nh, &why), -1);
    assert_int_equal(confval_nexthop("unix:", &nh, &why), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_duration),
	cmocka_unit_test(test_rate),
	cmocka_unit_test(test_size),
	cmocka_unit_test(test_bool_long),
	cmocka_unit_test(test_list),
	cmocka_unit_test(test_cidr),
	cmocka_unit_test(test_nexthop),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
