/* test_spfrec - SPF record syntax (RFC 7208 section 12) */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "spfrec.h"

/* parse_ok - the record parses into n terms */
static struct spf_record
parse_ok(const char *rec, size_t n)
{
    struct spf_record r;
    char err[300];

    if (spfrec_parse(rec, strlen(rec), &r, err, sizeof(err)) != 0)
	fail_msg("'%s' refused: %s", rec, err);
    assert_int_equal(r.n, n);
    return r;
}

/* parse_bad - the record is refused and err mentions needle */
static void
parse_bad(const char *rec, const char *needle)
{
    struct spf_record r;
    char err[300];

    if (spfrec_parse(rec, strlen(rec), &r, err, sizeof(err)) == 0)
	fail_msg("'%s' accepted", rec);
    if (strstr(err, needle) == NULL)
	fail_msg("'%s': error '%s' lacks '%s'", rec, err, needle);
    assert_int_equal(r.n, 0);
}

static void
test_is_spf(void **state)
{
    (void) state;
    assert_true(spfrec_is_spf("v=spf1", 6));
    assert_true(spfrec_is_spf("V=SPF1 -all", 11));
    assert_false(spfrec_is_spf("v=spf10 -all", 12));
    assert_false(spfrec_is_spf("v=spf", 5));
    assert_false(spfrec_is_spf("google-site-verification=x", 26));
}

static void
test_terms(void **state)
{
    struct spf_record r;

    (void) state;
    r = parse_ok("v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx:mail.example.com/24//64 "
		 "include:_spf.example.net ~all", 6);
    assert_int_equal(r.v[0].kind, SPF_IP4);
    assert_string_equal(r.v[0].arg, "192.0.2.0");
    assert_int_equal(r.v[0].cidr4, 24);
    assert_int_equal(r.v[1].kind, SPF_IP6);
    assert_int_equal(r.v[1].cidr6, 32);
    assert_int_equal(r.v[2].kind, SPF_A);
    assert_null(r.v[2].arg);
    assert_int_equal(r.v[3].kind, SPF_MX);
    assert_string_equal(r.v[3].arg, "mail.example.com");
    assert_int_equal(r.v[3].cidr4, 24);
    assert_int_equal(r.v[3].cidr6, 64);
    assert_int_equal(r.v[4].kind, SPF_INCLUDE);
    assert_string_equal(r.v[4].arg, "_spf.example.net");
    assert_int_equal(r.v[5].kind, SPF_ALL);
    assert_int_equal(r.v[5].qualifier, '~');
    assert_true(spfrec_queries_dns(SPF_INCLUDE));
    assert_false(spfrec_queries_dns(SPF_IP4));
    spfrec_free(&r);

    r = parse_ok("v=spf1  a/24   redirect=_spf.example.com  ", 2);
    assert_int_equal(r.v[0].cidr4, 24);
    assert_int_equal(r.v[1].kind, SPF_REDIRECT);
    spfrec_free(&r);

    r = parse_ok("v=spf1 exists:%{i}.%{l1r+-}._spf.%{d} exp=explain.%{d} foo=bar -all", 4);
    assert_true(r.v[0].has_macro);
    assert_int_equal(r.v[1].kind, SPF_EXP);
    assert_int_equal(r.v[2].kind, SPF_UNKNOWN_MOD);
    spfrec_free(&r);

    r = parse_ok("v=spf1", 0);
    spfrec_free(&r);
    r = parse_ok("v=spf1 PTR:Example.COM. -ALL", 2);
    spfrec_free(&r);
}

static void
test_errors(void **state)
{
    (void) state;
    parse_bad("v=spf1 ip4:300.1.1.1 -all", "term 'ip4:300.1.1.1'");
    parse_bad("v=spf1 ip4:192.0.2.1/33", "0-32");
    parse_bad("v=spf1 ip6:192.0.2.1", "IPv6");
    parse_bad("v=spf1 ip4:192.0.2.1/024", "0-32");
    parse_bad("v=spf1 include -all", "term 'include'");
    parse_bad("v=spf1 include:localhost", "top-level");
    parse_bad("v=spf1 include:example.123", "top-level");
    parse_bad("v=spf1 a:example.com/64", "0-32");
    parse_bad("v=spf1 all:x", "no argument");
    parse_bad("v=spf1 foo:example.com", "unknown mechanism");
    parse_bad("v=spf1 redirect=a.example redirect=b.example", "twice");
    parse_bad("v=spf1 -redirect=a.example", "qualifier");
    parse_bad("v=spf1 exists:%{x}.example.com", "macro letter");
    parse_bad("v=spf1 exists:%{c}.example.com", "exp=");
    parse_bad("v=spf1 exists:%{i.example.com", "'}'");
    parse_bad("v=spf1 exists:%x.example.com", "'%'");
    parse_bad("v=spf1 ptr/24", "unexpected");
    parse_bad("v=spf1\t-all", "v=spf1");
    parse_bad("v=spf1 -all\x01", "0x01");
    parse_bad("spf1 -all", "v=spf1");
}

static void
test_limits(void **state)
{
    char big[SPFREC_MAX_LEN + 64];
    size_t n;
    struct spf_record r;
    char err[300];

    (void) state;
    strcpy(big, "v=spf1");
    for (n = 0; strlen(big) + 3 < sizeof(big) - 1 && n <= SPFREC_MAX_TERMS; n++)
	strcat(big, " a");
    assert_int_equal(spfrec_parse(big, strlen(big), &r, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "terms"));
    memset(big, 'a', sizeof(big));
    memcpy(big, "v=spf1 ", 7);
    assert_int_equal(spfrec_parse(big, sizeof(big), &r, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "longer"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_is_spf),
	cmocka_unit_test(test_terms),
	cmocka_unit_test(test_errors),
	cmocka_unit_test(test_limits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
