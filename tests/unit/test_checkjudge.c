/* test_checkjudge - the receiver's verdict on a test message */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "checkjudge.h"

/* good - the facts of a message that passes everything */
static void
good(struct check_facts *f)
{
    static const char unsub[] = " <https://u.shop.example/x>, <mailto:u@bounces.shop.example>";
    static const char post[] = " List-Unsubscribe=One-Click";
    static const char rcvd[] = " from relay.shop.example (relay [192.0.2.9])\r\n\tby mx.example "
	"(Postfix) with ESMTPS id 4AB; Sun, 6 Dec 2026 10:00:00 +0000";
    char err[128];

    memset(f, 0, sizeof(*f));
    strcpy(f->from_domain, "shop.example");
    f->nsig = 1;
    strcpy(f->sig[0].domain, "shop.example");
    strcpy(f->sig[0].selector, "s1");
    f->sig[0].pass = 1;
    strcpy(f->client_ip, "192.0.2.9");
    strcpy(f->spf_domain, "bounces.shop.example");
    strcpy(f->spf_result, "pass");
    f->dmarc = CHECK_DMARC_FOUND;
    strcpy(f->dmarc_name, "_dmarc.shop.example");
    assert_int_equal(dmarcrec_parse("v=DMARC1; p=none", 16, &f->dmarc_rec, err, sizeof(err)), 0);
    f->unsub = unsub;
    f->unsub_len = strlen(unsub);
    f->unsub_post = post;
    f->unsub_post_len = strlen(post);
    f->received = rcvd;
    f->received_len = strlen(rcvd);
    f->nreceived = 2;
}

/* find - the check named name */
static const struct check_item *
find(const struct check_report *r, const char *name)
{
    size_t i;

    for (i = 0; i < r->n; i++)
	if (strcmp(r->item[i].name, name) == 0)
	    return &r->item[i];
    fail_msg("no check %s", name);
    return NULL;
}

/* expect - check name has status, its detail (and fix) holding the needles */
static void
expect(const struct check_report *r, const char *name, enum check_status st,
       const char *detail, const char *fix)
{
    const struct check_item *it = find(r, name);

    if (it->status != st)
	fail_msg("%s: %s, want %s (%s)", name, check_status_name(it->status),
		 check_status_name(st), it->detail);
    if (detail && strstr(it->detail, detail) == NULL)
	fail_msg("%s: detail '%s' lacks '%s'", name, it->detail, detail);
    if (fix && strstr(it->fix, fix) == NULL)
	fail_msg("%s: fix '%s' lacks '%s'", name, it->fix, fix);
    if (st != CHECK_FAIL && fix == NULL && it->status == CHECK_PASS && it->fix[0])
	fail_msg("%s: a pass with a fix", name);
    if (strpbrk(it->detail, "\t\r\n") || strpbrk(it->fix, "\t\r\n"))
	fail_msg("%s: control characters in the text", name);
}

static void
test_all_pass(void **state)
{
    struct check_facts f;
    struct check_report r;

    (void) state;
    good(&f);
    checkjudge_run(&f, &r);
    assert_int_equal(r.n, 7);
    expect(&r, "dkim", CHECK_PASS, "d=shop.example s=s1", NULL);
    expect(&r, "spf", CHECK_PASS, "192.0.2.9", NULL);
    expect(&r, "dmarc", CHECK_PASS, "DKIM d=shop.example and SPF bounces.shop.example", NULL);
    expect(&r, "received", CHECK_PASS, "2 hops; the last: from relay.shop.example", NULL);
    expect(&r, "tls", CHECK_PASS, "ESMTPS", NULL);
    expect(&r, "one-click", CHECK_PASS, NULL, NULL);
    expect(&r, "bulk-sender", CHECK_PASS, "p=none", NULL);
}

static void
test_dkim_broken(void **state)
{
    struct check_facts f;
    struct check_report r;

    (void) state;
    good(&f);
    f.sig[0].pass = 0;
    strcpy(f.sig[0].why, "key retrieval failed");
    checkjudge_run(&f, &r);
    expect(&r, "dkim", CHECK_FAIL, "key retrieval failed", "s1._domainkey.shop.example");
    /* SPF still aligns (relaxed): DMARC passes */
    expect(&r, "dmarc", CHECK_PASS, "SPF bounces.shop.example", NULL);
    strcpy(f.spf_domain, "other.example");
    checkjudge_run(&f, &r);
    expect(&r, "dmarc", CHECK_FAIL, "neither", "bounces.%d");
    expect(&r, "bulk-sender", CHECK_FAIL, "From: aligned", "key whose d= is shop.example");
    f.nsig = 0;
    checkjudge_run(&f, &r);
    expect(&r, "dkim", CHECK_NONE, "not signed", "dkim keygen shop.example");
}

static void
test_spf_and_dmarc(void **state)
{
    struct check_facts f;
    struct check_report r;

    (void) state;
    good(&f);
    strcpy(f.spf_result, "fail");
    checkjudge_run(&f, &r);
    expect(&r, "spf", CHECK_FAIL, "fail for bounces.shop.example from 192.0.2.9",
	   "add ip4:192.0.2.9 to the SPF record of bounces.shop.example");
    expect(&r, "dmarc", CHECK_PASS, "DKIM d=shop.example", NULL);
    strcpy(f.spf_result, "temperror");
    checkjudge_run(&f, &r);
    expect(&r, "spf", CHECK_FAIL, "temperror", "name servers for bounces.shop.example");
    good(&f);
    f.dmarc = CHECK_DMARC_NONE;
    checkjudge_run(&f, &r);
    expect(&r, "dmarc", CHECK_NONE, "_dmarc.shop.example: no DMARC record",
	   "publish _dmarc.shop.example TXT \"v=DMARC1; p=none");
    expect(&r, "bulk-sender", CHECK_FAIL, "a DMARC record", "_dmarc.shop.example");
}

static void
test_headers(void **state)
{
    struct check_facts f;
    struct check_report r;
    const char *why;

    (void) state;
    assert_int_equal(checkjudge_one_click(NULL, 0, NULL, 0, &why), 0);
    assert_int_equal(checkjudge_one_click("<mailto:x@y>", 12, "List-Unsubscribe=One-Click",
					  26, &why), 0);
    assert_non_null(strstr(why, "no https"));
    assert_int_equal(checkjudge_one_click("(<https://c>) <mailto:x@y>", 26,
					  "List-Unsubscribe=One-Click", 26, &why), 0);
    assert_int_equal(checkjudge_one_click("<https://x>", 11, NULL, 0, &why), 0);
    assert_int_equal(checkjudge_one_click("<https://x>", 11, " List-Unsubscribe=Two", 21,
					  &why), 0);
    assert_int_equal(checkjudge_one_click("<HTTPS://x>", 11, " list-unsubscribe=one-click\r\n",
					  29, &why), 1);
    assert_int_equal(checkjudge_received_tls("from a by b with ESMTP id 1", 27), 0);
    assert_int_equal(checkjudge_received_tls("from a by b with ESMTPSA id 1", 29), 1);
    assert_int_equal(checkjudge_received_tls("from a by b with\r\n\tUTF8SMTPS;", 30), 1);
    assert_int_equal(checkjudge_received_tls("from withESMTPS by b", 20), 0);
    assert_int_equal(checkjudge_received_tls("with", 4), 0);
    good(&f);
    f.unsub_post = NULL;
    f.received = "from a\tby b\n with SMTP; date";
    f.received_len = strlen(f.received);
    checkjudge_run(&f, &r);
    expect(&r, "one-click", CHECK_FAIL, "no List-Unsubscribe-Post", "One-Click");
    expect(&r, "tls", CHECK_FAIL, "not encrypted", "smtp_tls_security_level");
    expect(&r, "received", CHECK_PASS, "the last: from a by b with SMTP", NULL);
    strcpy(f.tls_version, "TLSv1.3");
    checkjudge_run(&f, &r);
    expect(&r, "tls", CHECK_PASS, "TLSv1.3", NULL);
    f.from_domain[0] = '\0';
    strcpy(f.from_why, "more than one From: field");
    checkjudge_run(&f, &r);
    expect(&r, "dmarc", CHECK_FAIL, "more than one From:", NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_all_pass),
	cmocka_unit_test(test_dkim_broken),
	cmocka_unit_test(test_spf_and_dmarc),
	cmocka_unit_test(test_headers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
