/* test_dmarcrec - tag lists, DMARC records and identifier alignment */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dmarcrec.h"
#include "taglist.h"

/* dmarc_ok - the record parses */
static struct dmarc_record
dmarc_ok(const char *rec)
{
    struct dmarc_record d;
    char err[300];

    if (dmarcrec_parse(rec, strlen(rec), &d, err, sizeof(err)) != 0)
	fail_msg("'%s' refused: %s", rec, err);
    return d;
}

/* dmarc_bad - refused with needle in the error */
static void
dmarc_bad(const char *rec, const char *needle)
{
    struct dmarc_record d;
    char err[300];

    if (dmarcrec_parse(rec, strlen(rec), &d, err, sizeof(err)) == 0)
	fail_msg("'%s' accepted", rec);
    if (strstr(err, needle) == NULL)
	fail_msg("'%s': error '%s' lacks '%s'", rec, err, needle);
}

/* printable - no control character in s */
static int
printable(const char *s)
{
    for (; *s; s++)
	if ((unsigned char) *s < 0x20 || *s == 0x7f)
	    return 0;
    return 1;
}

static void
test_taglist(void **state)
{
    struct taglist tl;
    char err[200];
    const char *rec = " v=DKIM1 ;k = rsa;\tp=MIIB AAAA ; ";

    (void) state;
    assert_int_equal(taglist_parse(rec, strlen(rec), &tl, err, sizeof(err)), 0);
    assert_int_equal(tl.n, 3);
    assert_string_equal(taglist_get(&tl, "k"), "rsa");
    assert_string_equal(taglist_get(&tl, "p"), "MIIB AAAA");
    assert_null(taglist_get(&tl, "t"));
    taglist_free(&tl);
    assert_int_equal(taglist_parse("", 0, &tl, err, sizeof(err)), 0);
    assert_int_equal(tl.n, 0);
    assert_int_equal(taglist_parse("a=1; a=2", 8, &tl, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "twice"));
    assert_int_equal(taglist_parse("a=1;; b=2", 9, &tl, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "empty"));
    assert_int_equal(taglist_parse("a=1; b", 6, &tl, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "tag=value"));
    assert_int_equal(taglist_parse("1a=1", 4, &tl, err, sizeof(err)), -1);
    assert_int_equal(taglist_parse("a-b=1", 5, &tl, err, sizeof(err)), -1);
    assert_int_equal(taglist_parse("a=\x01", 3, &tl, err, sizeof(err)), -1);
    assert_int_equal(taglist_parse("a=b\0c", 5, &tl, err, sizeof(err)), -1);
    /* folding white space inside a value unfolds: no line break reaches a message */
    assert_int_equal(taglist_parse("a=x\r\n y; b=1", 12, &tl, err, sizeof(err)), 0);
    assert_string_equal(taglist_get(&tl, "a"), "x   y");
    taglist_free(&tl);
    /* a record's control characters do not reach the message (a terminal's) */
    assert_int_equal(taglist_parse("a=1; \x1b[2J", 8, &tl, err, sizeof(err)), -1);
    assert_true(printable(err));
    assert_int_equal(taglist_parse("\x1b[2J=1", 7, &tl, err, sizeof(err)), -1);
    assert_true(printable(err));
    assert_int_equal(taglist_parse("a\x1b[2J=1", 8, &tl, err, sizeof(err)), -1);
    assert_true(printable(err));
}

static void
test_dmarc(void **state)
{
    struct dmarc_record d;

    (void) state;
    assert_true(dmarcrec_is_dmarc("v=DMARC1; p=none", 16));
    assert_true(dmarcrec_is_dmarc("v = DMARC1", 10));
    assert_false(dmarcrec_is_dmarc("v=dmarc1; p=none", 16));
    assert_false(dmarcrec_is_dmarc("p=none; v=DMARC1", 16));
    assert_false(dmarcrec_is_dmarc("v=DMARC10", 9));

    d = dmarc_ok("v=DMARC1; p=reject; sp=quarantine; adkim=s; aspf=r; pct=50; "
		 "rua=mailto:a@example.com,mailto:b@example.net!10m; fo=0:d; ri=3600");
    assert_int_equal(d.p, DMARC_P_REJECT);
    assert_int_equal(d.sp, DMARC_P_QUARANTINE);
    assert_int_equal(d.adkim, 's');
    assert_int_equal(d.aspf, 'r');
    assert_int_equal(d.pct, 50);
    assert_string_equal(d.note, "");

    d = dmarc_ok("v=DMARC1; p=none");
    assert_int_equal(d.sp, DMARC_P_UNSET);
    assert_int_equal(d.adkim, 'r');
    assert_int_equal(d.pct, 100);
    assert_string_equal(d.rua, "");

    /* RFC 7489 6.6.3: no valid p= but a valid rua= acts as p=none */
    d = dmarc_ok("v=DMARC1; rua=mailto:x@example.com");
    assert_int_equal(d.p, DMARC_P_NONE);
    assert_non_null(strstr(d.note, "p= is missing"));
    /* one usable URI is enough; the others are noted as skipped */
    d = dmarc_ok("v=DMARC1; rua=mailto:x@example.com, bogus");
    assert_int_equal(d.p, DMARC_P_NONE);
    d = dmarc_ok("v=DMARC1; p=none; rua=bogus,mailto:x@example.com");
    assert_non_null(strstr(d.note, "'bogus'"));
    assert_null(strstr(d.note, "no usable"));
    d = dmarc_ok("v=DMARC1; p=none; rua=bogus");
    assert_non_null(strstr(d.note, "no usable"));
    dmarc_bad("v=DMARC1; rua=bogus, mailto:", "p= (the policy) is missing");
    /* RFC 7489 6.6.3: so does an invalid sp=, the record's policies unused */
    d = dmarc_ok("v=DMARC1; p=reject; sp=all; rua=mailto:x@example.com");
    assert_int_equal(d.p, DMARC_P_NONE);
    assert_int_equal(d.sp, DMARC_P_UNSET);
    assert_non_null(strstr(d.note, "sp= is invalid"));
    d = dmarc_ok("v=DMARC1; p=none; foo=bar");
    assert_non_null(strstr(d.note, "unknown tag 'foo'"));

    dmarc_bad("v=DMARC1", "p= (the policy) is missing");
    dmarc_bad("v=DMARC1; p=block", "p='block'");
    dmarc_bad("v=DMARC1; p=none; sp=all", "sp='all'");
    dmarc_bad("v=DMARC1; p=none; adkim=x", "adkim");
    dmarc_bad("v=DMARC1; p=none; pct=101", "pct='101'");
    dmarc_bad("v=DMARC1; p=none; pct=-1", "pct");
    dmarc_bad("v=DMARC1; p=none; fo=2", "fo='2'");
    dmarc_bad("v=DMARC1; p=none; ri=soon", "ri=");
    dmarc_bad("v=DMARC1; p=none; p=reject", "twice");
    dmarc_bad("p=none", "v=DMARC1");
}

static void
test_alignment(void **state)
{
    char org[256];

    (void) state;
    assert_int_equal(dmarc_org_domain("news.shop.example.co.uk", org, sizeof(org)), 0);
    assert_string_equal(org, "example.co.uk");
    assert_int_equal(dmarc_org_domain("a.b.shop.test", org, sizeof(org)), 0);
    assert_string_equal(org, "shop.test");
    assert_true(dmarc_aligned("shop.example", "shop.example", 's'));
    assert_true(dmarc_aligned("shop.example", "bounce.shop.example", 'r'));
    assert_false(dmarc_aligned("shop.example", "bounce.shop.example", 's'));
    assert_false(dmarc_aligned("shop.example", "relay.example", 'r'));
    /* two customers under one public suffix do not align */
    assert_false(dmarc_aligned("a.github.io", "b.github.io", 'r'));
    assert_false(dmarc_aligned("a.example.co.uk", "b.example2.co.uk", 'r'));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_taglist),
	cmocka_unit_test(test_dmarc),
	cmocka_unit_test(test_alignment),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
