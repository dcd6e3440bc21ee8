/* test_suppress - suppression list: targets, value codec, times, CSV rows */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "suppress.h"

#define NOW 1717243200LL		/* 2024-06-01T12:00:00Z */

/* row_ok - a CSV row parses */
static struct sup_entry
row_ok(const char *line)
{
    struct sup_entry e;
    const char *why = NULL;

    if (sup_csv_parse(line, strlen(line), NOW, &e, &why) != 0)
	fail_msg("'%s' refused: %s", line, why);
    return e;
}

/* row_bad - a CSV row is refused for a reason mentioning needle */
static void
row_bad(const char *line, const char *needle)
{
    struct sup_entry e;
    const char *why = NULL;

    if (sup_csv_parse(line, strlen(line), NOW, &e, &why) == 0)
	fail_msg("'%s' accepted", line);
    if (strstr(why, needle) == NULL)
	fail_msg("'%s': reason '%s' lacks '%s'", line, why, needle);
}

static void
test_targets(void **state)
{
    char out[ADDR_MAX];
    const char *why;

    (void) state;
    assert_int_equal(sup_target_normalize("<Bob@Example.ORG>", 17, out, sizeof(out), &why), 0);
    assert_string_equal(out, "bob@example.org");
    assert_int_equal(sup_target_normalize(" @Example.ORG.", 14, out, sizeof(out), &why), 0);
    assert_string_equal(out, "@example.org");
    assert_int_equal(sup_target_normalize("@b\xc3\xbc\x63her.example", 16, out, sizeof(out), &why), 0);
    assert_string_equal(out, "@xn--bcher-kva.example");
    assert_int_equal(sup_target_normalize("@a@b.example", 12, out, sizeof(out), &why), -1);
    assert_int_equal(sup_target_normalize("@", 1, out, sizeof(out), &why), -1);
    assert_int_equal(sup_target_normalize("nobody", 6, out, sizeof(out), &why), -1);
    /* a source route is an address, not a domain entry */
    assert_int_equal(sup_target_normalize("@r.example:u@example.org", 24, out, sizeof(out), &why), 0);
    assert_string_equal(out, "u@example.org");
}

static void
test_reasons(void **state)
{
    int i;

    (void) state;
    for (i = 1; i <= SUP_REASON_MAX; i++) {
	const char *n = sup_reason_name(i);

	assert_int_equal(sup_reason_code(n, strlen(n)), i);
    }
    assert_int_equal(sup_reason_code("Hard-Bounce", 11), SUP_HARD_BOUNCE);
    assert_int_equal(sup_reason_code("hard", 4), -1);
    assert_int_equal(sup_reason_code("none", 4), -1);
    assert_string_equal(sup_reason_name(99), "unknown");
}

static void
test_value_codec(void **state)
{
    struct sup_entry e = {0}, d;
    unsigned char buf[SUP_VALUE_MAX];
    size_t n;

    (void) state;
    e.reason = SUP_COMPLAINT;
    e.created = NOW;
    e.expires = 0xfffffff0LL;
    strcpy(e.source, "arf");
    n = sup_value_encode(&e, buf);
    assert_int_equal(n, 12);
    memset(&d, 0, sizeof(d));
    assert_int_equal(sup_value_decode(buf, n, &d), 0);
    assert_int_equal(d.reason, SUP_COMPLAINT);
    assert_int_equal(d.created, NOW);
    assert_int_equal(d.expires, 0xfffffff0LL);
    assert_string_equal(d.source, "arf");
    /* expiry sits in bytes 5..8 (the Lua scripts read it there) */
    assert_int_equal(buf[5], 0xff);
    assert_int_equal(buf[8], 0xf0);
    /* foreign or truncated values are refused */
    assert_int_equal(sup_value_decode(buf, 8, &d), -1);
    buf[0] = 0x23;
    assert_int_equal(sup_value_decode(buf, n, &d), -1);
    buf[0] = 0x10;			/* reason 0 */
    assert_int_equal(sup_value_decode(buf, n, &d), -1);
}

static void
test_bucket(void **state)
{
    static unsigned count[1024];
    char addr[64];
    unsigned i, b, max = 0;

    (void) state;
    assert_int_equal(sup_bucket("alice@example.org"), sup_bucket("alice@example.org"));
    assert_true(sup_bucket("alice@example.org") < SUP_BUCKETS);
    /* sequential addresses spread evenly over the low bits */
    for (i = 0; i < 102400; i++) {
	snprintf(addr, sizeof(addr), "user%u@example.org", i);
	b = sup_bucket(addr);
	assert_true(b < SUP_BUCKETS);
	count[b % 1024]++;
    }
    for (i = 0; i < 1024; i++)
	if (count[i] > max)
	    max = count[i];
    assert_true(max < 160);		/* mean 100 */
}

/* the spread layout: a recipient's candidates in one tag, a domain over 256 */
static void
test_spread(void **state)
{
    static unsigned per_tag[SUP_TAG_SPREAD], per_domain[SUP_TAG_DOMAINS];
    char addr[64];
    unsigned i, tag, sub, dtag, dsub, b, max = 0;

    (void) state;
    sup_spread_place("@example.org", &dtag, &dsub);
    assert_int_equal(dtag % SUP_TAG_SPREAD, 0);	/* a domain entry's first tag */
    assert_true(dtag < SUP_TAGS);
    assert_true(dsub < SUP_TAG_BUCKETS);
    for (i = 0; i < 100 * SUP_TAG_SPREAD; i++) {
	snprintf(addr, sizeof(addr), "user%u@example.org", i);
	sup_spread_place(addr, &tag, &sub);
	/* the address's tag is one of its domain's SUP_TAG_SPREAD */
	assert_int_equal(tag / SUP_TAG_SPREAD, dtag / SUP_TAG_SPREAD);
	assert_true(sub < SUP_TAG_BUCKETS);
	b = sup_spread_bucket(addr);
	assert_int_equal(b, tag * SUP_TAG_BUCKETS + sub);
	assert_true(b < SUP_SPREAD_BUCKETS);
	per_tag[tag % SUP_TAG_SPREAD]++;
    }
    for (i = 0; i < SUP_TAG_SPREAD; i++)	/* mean 100: every tag used */
	assert_true(per_tag[i] > 50 && per_tag[i] < 150);
    /* domains spread over the domain parts of the tag */
    for (i = 0; i < 100 * SUP_TAG_DOMAINS; i++) {
	snprintf(addr, sizeof(addr), "@d%u.example", i);
	sup_spread_place(addr, &tag, &sub);
	per_domain[tag / SUP_TAG_SPREAD]++;
    }
    for (i = 0; i < SUP_TAG_DOMAINS; i++)
	if (per_domain[i] > max)
	    max = per_domain[i];
    assert_true(max < 160);		/* mean 100 */
    assert_int_equal(sup_spread_bucket("@example.org"), dtag * SUP_TAG_BUCKETS + dsub);
}

static void
test_times(void **state)
{
    long long t;
    const char *why;
    char buf[32];

    (void) state;
    assert_int_equal(sup_time_parse("1717243200", 10, &t, &why), 0);
    assert_int_equal(t, NOW);
    assert_int_equal(sup_time_parse("2024-06-01T12:00:00Z", 20, &t, &why), 0);
    assert_int_equal(t, NOW);
    assert_int_equal(sup_time_parse("2024-06-01 12:00:00Z", 20, &t, &why), 0);
    assert_int_equal(t, NOW);
    assert_int_equal(sup_time_parse("2024-06-01", 10, &t, &why), 0);
    assert_int_equal(t, NOW - 12 * 3600);
    assert_int_equal(sup_time_parse("2024-13-01", 10, &t, &why), -1);
    /* a day the month does not have is refused, not moved into the next month */
    assert_int_equal(sup_time_parse("2026-02-31", 10, &t, &why), -1);
    assert_int_equal(sup_time_parse("2026-02-29T12:00:00Z", 20, &t, &why), -1);
    assert_int_equal(sup_time_parse("2026-04-31", 10, &t, &why), -1);
    assert_int_equal(sup_time_parse("2024-02-29", 10, &t, &why), 0);
    assert_int_equal(sup_time_parse("2000-02-29", 10, &t, &why), 0);
    assert_int_equal(sup_time_parse("2100-02-29", 10, &t, &why), -1);
    assert_int_equal(sup_time_parse("2026-12-31", 10, &t, &why), 0);
    assert_int_equal(sup_time_parse("2024-02-30", 10, &t, &why), -1);
    assert_int_equal(sup_time_parse("2023-02-29", 10, &t, &why), -1);
    assert_int_equal(sup_time_parse("2024-04-31T00:00:00Z", 20, &t, &why), -1);
    assert_int_equal(sup_time_parse("2024-02-29", 10, &t, &why), 0);
    assert_int_equal(t, 1709164800);
    assert_int_equal(sup_time_parse("2024-06-01T25:00:00Z", 20, &t, &why), -1);
    assert_int_equal(sup_time_parse("99999999999", 11, &t, &why), -1);
    assert_int_equal(sup_time_parse("yesterday", 9, &t, &why), -1);
    assert_int_equal(sup_time_parse("", 0, &t, &why), -1);
    sup_time_format(NOW, buf, sizeof(buf));
    assert_string_equal(buf, "2024-06-01T12:00:00Z");
}

static void
test_csv_rows(void **state)
{
    struct sup_entry e;

    (void) state;
    e = row_ok("Alice@Example.ORG,hard-bounce,global,2024-06-01T12:00:00Z\r\n");
    assert_string_equal(e.target, "alice@example.org");
    assert_int_equal(e.reason, SUP_HARD_BOUNCE);
    assert_string_equal(e.scope, "");
    assert_int_equal(e.created, NOW);
    assert_int_equal(e.expires, 0);

    e = row_ok("@example.net, unsubscribe , Tenant.Example ,1717243200,2024-07-01,crm");
    assert_string_equal(e.target, "@example.net");
    assert_string_equal(e.scope, "tenant.example");
    assert_int_equal(e.expires, 1719792000LL);
    assert_string_equal(e.source, "crm");

    /* a spreadsheet's byte order mark opens a file without a header */
    e = row_ok("\xef\xbb\xbf" "Alice@Example.ORG,hard-bounce,global,1");
    assert_string_equal(e.target, "alice@example.org");
    e = row_ok("\xef\xbb\xbf\"Alice@Example.ORG\",hard-bounce,global,1");
    assert_string_equal(e.target, "alice@example.org");
    /* nor after blanks, where it would survive an export and lose it on import */
    e = row_ok(" \xef\xbb\xbf \xef\xbb\xbf\vAlice@Example.ORG,hard-bounce,global,1");
    assert_string_equal(e.target, "alice@example.org");

    e = row_ok("\"\"\"odd, name\"\"@example.org\",manual,,");
    assert_string_equal(e.target, "\"odd, name\"@example.org");
    assert_int_equal(e.created, NOW);

    /* quotes dropped from a local part must not leave a mark a row cannot hold */
    row_bad("\"\"\"\xef\xbb\xbf" "1\"\"@g\",hard-bounce,global,1", "byte order mark");
    row_bad("alice@example.org,bounced,global,1", "unknown reason");
    row_bad("alice@example.org,manual", "expected address");
    row_bad("alice,manual,global,1", "no '@'");
    row_bad("alice@example.org,manual,not a domain,1", "domain");
    row_bad("alice@example.org,manual,global,soon", "time");
    row_bad("alice@example.org,manual,global,1,0", "expires");
    /* the entry's created must be a time ("created": null is no answer of the API's) */
    row_bad("alice@example.org,manual,global,0", "time");
    row_bad("alice@example.org,manual,global,1970-01-01", "time");
    row_bad("alice@example.org,manual,global,1,,bad source!", "source");
    row_bad("alice@example.org,manual,global,1,,src,extra", "too many");
    row_bad("\"alice@example.org,manual,global,1", "unterminated");
    row_bad("\"alice\"x@example.org,manual,global,1", "closing quote");
    row_bad("ali\"ce@example.org,manual,global,1", "quote inside");
}

static void
test_csv_long(void **state)
{
    char line[SUP_CSV_LINE_MAX + 100];

    (void) state;
    memset(line, 'a', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    row_bad(line, "too long");
}

static void
test_csv_roundtrip(void **state)
{
    struct sup_entry e = {0}, back;
    char buf[SUP_CSV_LINE_MAX];
    size_t n;

    (void) state;
    strcpy(e.target, "\"a,b\"@example.org");
    strcpy(e.scope, "tenant.example");
    e.reason = SUP_SOFT_BOUNCE;
    e.created = NOW;
    e.expires = NOW + 86400;
    strcpy(e.source, "dsn");
    n = sup_csv_format(&e, buf, sizeof(buf));
    assert_int_equal(n, strlen(buf));
    assert_string_equal(buf, "\"\"\"a,b\"\"@example.org\",soft-bounce,tenant.example,"
			"2024-06-01T12:00:00Z,2024-06-02T12:00:00Z,dsn\n");
    back = row_ok(buf);
    assert_string_equal(back.target, e.target);
    assert_string_equal(back.scope, e.scope);
    assert_int_equal(back.reason, e.reason);
    assert_int_equal(back.created, e.created);
    assert_int_equal(back.expires, e.expires);
    assert_string_equal(back.source, e.source);
    /* a cell a spreadsheet would run as a formula is written after a quote mark */
    strcpy(e.target, "=cmd|'/ccalc'!a0@example.org");
    strcpy(e.source, "-x");
    e.scope[0] = '\0';
    e.expires = 0;
    n = sup_csv_format(&e, buf, sizeof(buf));
    assert_string_equal(buf, "'=cmd|'/ccalc'!a0@example.org,soft-bounce,global,"
			"2024-06-01T12:00:00Z,,'-x\n");
    back = row_ok(buf);
    assert_string_equal(back.target, e.target);
    assert_string_equal(back.source, e.source);
    /* and a quote mark that would read as that guard gets one too */
    strcpy(e.target, "'+1@example.org");
    n = sup_csv_format(&e, buf, sizeof(buf));
    assert_true(strncmp(buf, "''+1@example.org,", 17) == 0);
    back = row_ok(buf);
    assert_string_equal(back.target, "'+1@example.org");
    strcpy(e.target, "'a@example.org");
    n = sup_csv_format(&e, buf, sizeof(buf));
    assert_true(strncmp(buf, "'a@example.org,", 15) == 0);
    assert_string_equal(row_ok(buf).target, "'a@example.org");
    /* a domain entry cannot hold a formula: written as it is */
    strcpy(e.target, "@example.net");
    n = sup_csv_format(&e, buf, sizeof(buf));
    assert_true(strncmp(buf, "@example.net,", 13) == 0);
    /* a short buffer is never overrun and the full length is reported */
    strcpy(e.target, "\"a,b\"@example.org");
    strcpy(e.scope, "tenant.example");
    e.expires = NOW + 86400;
    strcpy(e.source, "dsn");
    n = sup_csv_format(&e, buf, sizeof(buf));
    assert_int_equal(sup_csv_format(&e, buf, 10), n);
    assert_int_equal(strlen(buf), 9);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_targets),
	cmocka_unit_test(test_reasons),
	cmocka_unit_test(test_value_codec),
	cmocka_unit_test(test_bucket),
	cmocka_unit_test(test_spread),
	cmocka_unit_test(test_times),
	cmocka_unit_test(test_csv_rows),
	cmocka_unit_test(test_csv_long),
	cmocka_unit_test(test_csv_roundtrip),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
