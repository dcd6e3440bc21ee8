/* test_dnsbl - blocklist query names, answer codes, delisting pages */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
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
    char *other127[] = {"127.0.0.3"};
    char *spamhaus_error[] = {"127.255.255.254"};
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
    /* without listed codes any 127/8 answer is a listing ... */
    b.listed.n = 0;
    a = answer(DNSQ_OK, other127, 1);
    assert_int_equal(dnsbl_classify(&b, &a, &code, &why), DNSBL_LISTED);
    a = answer(DNSQ_OK, odd, 1);
    assert_int_equal(dnsbl_classify(&b, &a, &code, &why), DNSBL_UNKNOWN);
    /*
     * ... but the lists' error answers, even without refused codes: 127.0.0.1
     * (RFC 5782 5: never an entry) and Spamhaus' 127.255.255.0/24
     */
    b.refused.n = 0;
    a = answer(DNSQ_OK, outside, 1);
    assert_int_equal(dnsbl_classify(&b, &a, &code, &why), DNSBL_UNKNOWN);
    assert_string_equal(code, "127.0.0.1");
    a = answer(DNSQ_OK, spamhaus_error, 1);
    assert_int_equal(dnsbl_classify(&b, &a, &code, &why), DNSBL_UNKNOWN);
    assert_string_equal(code, "127.255.255.254");
    assert_non_null(strstr(why, "error"));
    a = answer(DNSQ_OK, refused, 2);
    assert_int_equal(dnsbl_classify(&b, &a, &code, &why), DNSBL_UNKNOWN);
    assert_string_equal(code, "127.255.255.254");
    b.refused.n = 1;
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

/* put_name - a name as DNS labels; the bytes written */
static size_t
put_name(unsigned char *p, const char *name)
{
    size_t n = 0, l;
    const char *dot;

    while (*name) {
	dot = strchr(name, '.');
	l = dot ? (size_t) (dot - name) : strlen(name);
	p[n++] = (unsigned char) l;
	memcpy(p + n, name, l);
	n += l;
	name += l + (dot != NULL);
    }
    p[n++] = 0;
    return n;
}

/*
 * raw_answer - a reply to "A qname" whose answer section holds rrs, each
 * "owner A a.b.c.d" or "owner CNAME target"; its length
 */
static int
raw_answer(unsigned char *buf, const char *qname, const char *const *rrs, size_t nrr)
{
    size_t n = 12, i, rdstart;
    char owner[256], type[16], data[256];
    unsigned a[4];

    memset(buf, 0, 12);
    buf[2] = 0x81;
    buf[3] = 0x80;
    buf[5] = 1;
    buf[7] = (unsigned char) nrr;
    n += put_name(buf + n, qname);
    memcpy(buf + n, "\0\1\0\1", 4);
    n += 4;
    for (i = 0; i < nrr; i++) {
	assert_int_equal(sscanf(rrs[i], "%255s %15s %255s", owner, type, data), 3);
	n += put_name(buf + n, owner);
	memcpy(buf + n, strcmp(type, "A") == 0 ? "\0\1\0\1" : "\0\5\0\1", 4);
	memcpy(buf + n + 4, "\0\0\0\74\0\0", 6);	/* TTL 60, RDLENGTH below */
	n += 10;
	rdstart = n;
	if (strcmp(type, "A") == 0) {
	    assert_int_equal(sscanf(data, "%u.%u.%u.%u", &a[0], &a[1], &a[2], &a[3]), 4);
	    buf[n++] = (unsigned char) a[0];
	    buf[n++] = (unsigned char) a[1];
	    buf[n++] = (unsigned char) a[2];
	    buf[n++] = (unsigned char) a[3];
	} else {
	    n += put_name(buf + n, data);
	}
	buf[rdstart - 1] = (unsigned char) (n - rdstart);
    }
    return (int) n;
}

/* parsed - dnsq's reading of such a reply: -1, or the addresses found */
static int
parsed(const char *qname, const char *const *rrs, size_t nrr, char *out, size_t outlen)
{
    unsigned char buf[2048];
    struct dnsq_result r;
    int len = raw_answer(buf, qname, rrs, nrr);
    size_t i;

    memset(&r, 0, sizeof(r));
    if (dnsq_parse_answer(buf, len, DNSQ_T_A, &r) < 0) {
	dnsq_result_free(&r);
	return -1;
    }
    out[0] = '\0';
    for (i = 0; i < r.n; i++)
	snprintf(out + strlen(out), outlen - strlen(out), "%s%s", i ? " " : "", r.v[i]);
    dnsq_result_free(&r);
    return 0;
}

static void
test_answer_names(void **state)
{
    const char *q = "2.0.0.127.zen.example";
    const char *same[] = {"2.0.0.127.ZEN.example A 127.0.0.2"};
    const char *other[] = {"other.example A 127.0.0.2"};
    const char *mixed[] = {"other.example A 127.0.0.3", "2.0.0.127.zen.example A 127.0.0.2"};
    const char *chain[] = {"2.0.0.127.zen.example CNAME x.example", "x.example CNAME y.example",
			   "y.example A 127.0.0.4"};
    const char *backwards[] = {"y.example A 127.0.0.4", "x.example CNAME y.example",
			       "2.0.0.127.zen.example CNAME x.example"};
    const char *loop[] = {"2.0.0.127.zen.example CNAME x.example",
			  "x.example CNAME 2.0.0.127.zen.example"};
    const char *astray[] = {"2.0.0.127.zen.example CNAME x.example", "z.example A 127.0.0.2"};
    char out[200];

    (void) state;
    assert_int_equal(parsed(q, same, 1, out, sizeof(out)), 0);
    assert_string_equal(out, "127.0.0.2");
    /* records for another name are no answer: never a listing, never clean */
    assert_int_equal(parsed(q, other, 1, out, sizeof(out)), -1);
    assert_int_equal(parsed(q, mixed, 2, out, sizeof(out)), 0);
    assert_string_equal(out, "127.0.0.2");
    /* the records of the name a CNAME chain leads to, in any order */
    assert_int_equal(parsed(q, chain, 3, out, sizeof(out)), 0);
    assert_string_equal(out, "127.0.0.4");
    assert_int_equal(parsed(q, backwards, 3, out, sizeof(out)), 0);
    assert_string_equal(out, "127.0.0.4");
    /* a loop ends; it leads to no address */
    assert_int_equal(parsed(q, loop, 2, out, sizeof(out)), 0);
    assert_string_equal(out, "");
    assert_int_equal(parsed(q, astray, 2, out, sizeof(out)), -1);
}

/* set_ttl - the TTL of the only record of a raw_answer() to "q A ..." */
static void
set_ttl(unsigned char *buf, const char *q, unsigned long ttl)
{
    unsigned char scratch[256];
    size_t at = 12 + 2 * put_name(scratch, q) + 4 + 4;

    buf[at] = (unsigned char) (ttl >> 24);
    buf[at + 1] = (unsigned char) (ttl >> 16);
    buf[at + 2] = (unsigned char) (ttl >> 8);
    buf[at + 3] = (unsigned char) ttl;
}

static void
test_answer_ttl(void **state)
{
    const char *q = "mx.example";
    const char *rr[] = {"mx.example A 192.0.2.1"};
    unsigned char buf[512];
    int len = raw_answer(buf, q, rr, 1);

    (void) state;
    assert_int_equal(dnsq_answer_ttl(buf, len), 60);
    set_ttl(buf, q, 86400);
    assert_int_equal(dnsq_answer_ttl(buf, len), 86400);
    /* RFC 2181 section 8: a TTL with its top bit set is taken as zero */
    set_ttl(buf, q, 0x80000000UL);
    assert_int_equal(dnsq_answer_ttl(buf, len), 0);
    set_ttl(buf, q, 0xffffffffUL);
    assert_int_equal(dnsq_answer_ttl(buf, len), 0);
    set_ttl(buf, q, 0x7fffffffUL);
    assert_int_equal(dnsq_answer_ttl(buf, len), 0x7fffffffL);
}

static void
test_unaskable(void **state)
{
    struct dnsq *q = dnsq_new();
    struct dnsq_result r;
    char name[400];
    size_t i;

    (void) state;
    /* a label of 64 octets: no query can carry it, no such name exists */
    memset(name, 'a', 64);
    strcpy(name + 64, ".example");
    assert_int_equal(dnsq_lookup(q, name, DNSQ_T_TXT, &r), DNSQ_NXDOMAIN);
    dnsq_result_free(&r);
    /* a name of more than 253 octets */
    for (i = 0; i < 5; i++) {
	memset(name + i * 60, 'b', 59);
	name[i * 60 + 59] = '.';
    }
    strcpy(name + 300, "example");
    assert_int_equal(dnsq_lookup(q, name, DNSQ_T_A, &r), DNSQ_NXDOMAIN);
    dnsq_result_free(&r);
    dnsq_free(q);
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
	cmocka_unit_test(test_answer_names),
	cmocka_unit_test(test_unaskable),
	cmocka_unit_test(test_answer_ttl),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
