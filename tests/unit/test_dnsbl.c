/* test_dnsbl - blocklist query names, answer codes, delisting pages */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dnsbl.h"

static char *zen_listed[] = {"127.0.0.2-127.0.0.11"};
static char *zen_refused[] = {"127.255.255.252-127.255.255.255"};

/* zen - an ip list as Spamhaus ZEN is configured */
static struct conf_blocklist
zen(void)
{
    struct conf_blocklist b;

    memset(&b, 0, sizeof(b));
    b.named.name = "zen";
    b.zone = "zen.spamhaus.org";
    b.kind = CONF_BL_IP;
    b.listed.v = zen_listed;
    b.listed.n = 1;
    b.refused.v = zen_refused;
    b.refused.n = 1;
    return b;
}

/* answer - an A answer of the given addresses */
static struct dnsq_result
answer(enum dnsq_status st, char **v, size_t n)
{
    struct dnsq_result r;

    r.status = st;
    r.v = v;
    r.n = n;
    return r;
}

static void
test_names_ip(void **state)
{
    struct conf_blocklist b = zen();
    char out[DNSBL_NAME_MAX];

    (void) state;
    assert_int_equal(dnsbl_query_name(&b, "192.0.2.1", out, sizeof(out)), 0);
    assert_string_equal(out, "1.2.0.192.zen.spamhaus.org");
    assert_int_equal(dnsbl_query_name(&b, "2001:db8::1", out, sizeof(out)), 0);
    assert_string_equal(out, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
			"8.b.d.0.1.0.0.2.zen.spamhaus.org");
    b.key = "abcdef0123";
    b.zone = "zen.dq.spamhaus.net";
    assert_int_equal(dnsbl_query_name(&b, "127.0.0.2", out, sizeof(out)), 0);
    assert_string_equal(out, "2.0.0.127.abcdef0123.zen.dq.spamhaus.net");
    /* a domain is not asked of an ip list */
    assert_int_equal(dnsbl_query_name(&b, "example.com", out, sizeof(out)), -1);
    assert_int_equal(dnsbl_query_name(&b, "", out, sizeof(out)), -1);
    /* too small a buffer is refused, not cut */
    assert_int_equal(dnsbl_query_name(&b, "127.0.0.2", out, 20), -1);
}

static void
test_names_domain(void **state)
{
    struct conf_blocklist b = zen();
    char out[DNSBL_NAME_MAX], longname[300];

    (void) state;
    b.kind = CONF_BL_DOMAIN;
    b.zone = "dbl.spamhaus.org";
    assert_int_equal(dnsbl_query_name(&b, "Shop.Example.", out, sizeof(out)), 0);
    assert_string_equal(out, "shop.example.dbl.spamhaus.org");
    assert_int_equal(dnsbl_query_name(&b, "192.0.2.1x", out, sizeof(out)), 0);
    assert_int_equal(dnsbl_query_name(&b, "localhost", out, sizeof(out)), -1);
    assert_int_equal(dnsbl_query_name(&b, "a..b", out, sizeof(out)), -1);
    assert_int_equal(dnsbl_query_name(&b, ".a.b", out, sizeof(out)), -1);
    assert_int_equal(dnsbl_query_name(&b, "a b.c", out, sizeof(out)), -1);
    assert_int_equal(dnsbl_query_name(&b, "a%s.c", out, sizeof(out)), -1);
    assert_true(dnsbl_domain_ok("news.shop.example"));
    assert_false(dnsbl_domain_ok("-"));
    assert_false(dnsbl_domain_ok("bad\x1b[0m.example"));
    /* a label longer than 63, a name longer than the DNS allows */
    memset(longname, 'a', 64);
    strcpy(longname + 64, ".com");
    assert_int_equal(dnsbl_query_name(&b, longname, out, sizeof(out)), -1);
    memset(longname, 'a', 240);
    longname[60] = longname[120] = longname[180] = '.';
    strcpy(longname + 240, ".com");
    assert_int_equal(dnsbl_query_name(&b, longname, out, sizeof(out)), -1);
}

static void
test_classify(void **state)
{
    struct conf_blocklist b = zen();
    char *listed[] = {"127.0.0.4", "127.0.0.10"};
    char *refused[] = {"127.0.0.2", "127.255.255.254"};
    char *odd[] = {"192.0.2.80"};
    char *outside[] = {"127.0.0.1"};
    struct dnsq_result a;
    const char *code, *why;

    (void) state;
    a = answer(DNSQ_NXDOMAIN, NULL, 0);
    assert_int_equal(dnsbl_classify(&b, &a, &code, &why), DNSBL_CLEAN);
    a = answer(DNSQ_NODATA, NULL, 0);
    assert_int_equal(dnsbl_classify(&b, &a, &code, &why), DNSBL_CLEAN);
    a = answer(DNSQ_OK, listed, 2);
    assert_int_equal(dnsbl_classify(&b, &a, &code, &why), DNSBL_LISTED);
    assert_string_equal(code, "127.0.0.4");
    /* a refused code wins over a listed one in the same answer */
    a = answer(DNSQ_OK, refused, 2);
    assert_int_equal(dnsbl_classify(&b, &a, &code, &why), DNSBL_UNKNOWN);
    assert_string_equal(code, "127.255.255.254");
    assert_non_null(strstr(why, "refused"));
    /* answers outside the codes: not clean, not listed */
    a = answer(DNSQ_OK, odd, 1);
    assert_int_equal(dnsbl_classify(&b, &a, &code, &why), DNSBL_UNKNOWN);
    assert_string_equal(code, "192.0.2.80");
    a = answer(DNSQ_OK, outside, 1);
    assert_int_equal(dnsbl_classify(&b, &a, &code, &why), DNSBL_UNKNOWN);
    /* without listed codes any 127/8 answer is a listing */
    b.listed.n = 0;
    assert_int_equal(dnsbl_classify(&b, &a, &code, &why), DNSBL_LISTED);
    a = answer(DNSQ_OK, odd, 1);
    assert_int_equal(dnsbl_classify(&b, &a, &code, &why), DNSBL_UNKNOWN);
    /* DNS trouble is never clean */
    a = answer(DNSQ_SERVFAIL, NULL, 0);
    assert_int_equal(dnsbl_classify(&b, &a, &code, &why), DNSBL_UNKNOWN);
    assert_null(code);
    a = answer(DNSQ_TIMEOUT, NULL, 0);
    assert_int_equal(dnsbl_classify(&b, &a, &code, &why), DNSBL_UNKNOWN);
    assert_non_null(strstr(why, "timeout"));
    a = answer(DNSQ_ERROR, NULL, 0);
    assert_int_equal(dnsbl_classify(&b, &a, &code, &why), DNSBL_UNKNOWN);
}

static void
test_codes(void **state)
{
    unsigned long lo, hi;

    (void) state;
    assert_int_equal(dnsbl_code_parse("127.0.0.2-127.0.0.11", &lo, &hi), 0);
    assert_int_equal(lo, 0x7f000002UL);
    assert_int_equal(hi, 0x7f00000bUL);
    assert_int_equal(dnsbl_code_parse("127.0.0.2", &lo, &hi), 0);
    assert_int_equal(lo, hi);
    assert_int_equal(dnsbl_code_parse("127.0.0.11-127.0.0.2", &lo, &hi), -1);
    assert_int_equal(dnsbl_code_parse("127.0.0.2-", &lo, &hi), -1);
    assert_int_equal(dnsbl_code_parse("127.0.0/24", &lo, &hi), -1);
    assert_int_equal(dnsbl_code_parse("::1", &lo, &hi), -1);
}

static void
test_delist(void **state)
{
    struct conf_blocklist b = zen();
    char *u;

    (void) state;
    assert_null(dnsbl_delist_url(&b, "192.0.2.1"));
    b.delist_url = "https://check.example/?q=%s&again=%s%";
    u = dnsbl_delist_url(&b, "192.0.2.1");
    assert_string_equal(u, "https://check.example/?q=192.0.2.1&again=192.0.2.1%");
    free(u);
    b.delist_url = "https://check.example/";
    u = dnsbl_delist_url(&b, "192.0.2.1");
    assert_string_equal(u, "https://check.example/");
    free(u);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_names_ip),
	cmocka_unit_test(test_names_domain),
	cmocka_unit_test(test_classify),
	cmocka_unit_test(test_codes),
	cmocka_unit_test(test_delist),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
