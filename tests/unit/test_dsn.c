/* test_dsn - delivery-status and feedback-report field parsers */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arf.h"
#include "dsn.h"

static void
test_groups(void **state)
{
    const char body[] =
	"Reporting-MTA: dns; mx.example.org\n"
	"\n"
	"Final-Recipient: rfc822; <Alice@example.org>\n"
	"Original-Recipient: rfc822;alice@example.org\n"
	"Action: Failed\n"
	"Status: 5.2.1 (mailbox disabled)\n"
	"Remote-MTA: dns; mx.example.net\n"
	"Diagnostic-Code: smtp; 550 5.2.1 <alice@example.org>...\n"
	"    Mailbox disabled\n"
	"\n"
	"Final-Recipient: rfc822; bob@example.org\n"
	"Action: delayed\n"
	"Status: 4.4.7\n"
	"Final-Recipient: rfc822; carol@example.org\n"
	"Action: failed\n"
	"Diagnostic-Code: X-Unix; 67\n";
    struct dsn_report r;

    (void) state;
    assert_int_equal(dsn_parse(body, strlen(body), &r), 3);
    assert_string_equal(r.reporting_mta, "mx.example.org");
    assert_string_equal(r.rcpts[0].final_rcpt, "Alice@example.org");
    assert_string_equal(r.rcpts[0].action, "failed");
    assert_string_equal(r.rcpts[0].status, "5.2.1");
    assert_string_equal(r.rcpts[0].status_comment, "(mailbox disabled)");
    assert_string_equal(r.rcpts[0].diag_type, "smtp");
    assert_string_equal(r.rcpts[0].diag,
			"550 5.2.1 <alice@example.org>... Mailbox disabled");
    assert_string_equal(r.rcpts[0].remote_mta, "mx.example.net");
    /* no empty line between groups: a new Final-Recipient starts one */
    assert_string_equal(r.rcpts[1].final_rcpt, "bob@example.org");
    assert_string_equal(r.rcpts[1].status, "4.4.7");
    assert_string_equal(r.rcpts[2].final_rcpt, "carol@example.org");
    assert_string_equal(r.rcpts[2].diag_type, "x-unix");
    assert_string_equal(r.rcpts[2].status, "");
    dsn_free(&r);
}

static void
test_original_only(void **state)
{
    const char body[] = "Original-Recipient: rfc822;dave@example.org\n"
	"Action: failed\nStatus: 5.1.1\n";
    struct dsn_report r;

    (void) state;
    assert_int_equal(dsn_parse(body, strlen(body), &r), 1);
    assert_string_equal(r.rcpts[0].final_rcpt, "dave@example.org");
    dsn_free(&r);
    assert_int_equal(dsn_parse("Action: failed\n", 15, &r), 0);
    dsn_free(&r);
}

static void
test_limit(void **state)
{
    size_t  cap = 40 * (DSN_MAX_RCPTS + 10), o = 0;
    char   *buf = malloc(cap);
    struct dsn_report r;

    (void) state;
    for (int i = 0; i < DSN_MAX_RCPTS + 5; i++)
	o += (size_t) snprintf(buf + o, cap - o,
			       "Final-Recipient: rfc822; u%d@x.org\n\n", i);
    assert_int_equal(dsn_parse(buf, o, &r), DSN_MAX_RCPTS);
    assert_int_equal(r.truncated, 1);
    dsn_free(&r);
    free(buf);
}

static void
test_status_find(void **state)
{
    char    out[16];

    (void) state;
    assert_int_equal(dsn_status_find("host 192.0.2.1 said: 550 5.1.1 no", out,
				     sizeof(out)), 0);
    assert_string_equal(out, "5.1.1");
    assert_int_equal(dsn_status_find("(#4.4.1)", out, sizeof(out)), 0);
    assert_string_equal(out, "4.4.1");
    assert_int_equal(dsn_status_find("550 5.7.509 Access denied", out,
				     sizeof(out)), 0);
    assert_string_equal(out, "5.7.509");
    assert_int_equal(dsn_status_find("Exim 4.72 and v1.5.2.1", out,
				     sizeof(out)), -1);
    assert_int_equal(dsn_status_find("", out, sizeof(out)), -1);
}

static void
test_arf(void **state)
{
    const char body[] =
	"Feedback-Type: Abuse\n"
	"User-Agent: SomeGenerator/1.0\n"
	"Version: 1\n"
	"Original-Mail-From: <bounce@example.com>\n"
	"\n"
	"Original-Rcpt-To: <one@example.net>\n"
	"Original-Rcpt-To: two@example.net\n"
	"Source-IP: 192.0.2.1\n"
	"Reported-Domain: example.com\n";
    struct arf_report a;

    (void) state;
    assert_int_equal(arf_parse(body, strlen(body), &a), 0);
    assert_string_equal(a.feedback_type, "abuse");
    assert_string_equal(a.orig_mail_from, "bounce@example.com");
    assert_int_equal(a.nrcpts, 2);
    assert_string_equal(a.rcpts[0], "one@example.net");
    assert_string_equal(a.rcpts[1], "two@example.net");
    assert_string_equal(a.source_ip, "192.0.2.1");
    assert_string_equal(a.reported_domain, "example.com");
    arf_free(&a);
    assert_int_equal(arf_parse("Version: 1\n", 11, &a), -1);
    arf_free(&a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_groups),
	cmocka_unit_test(test_original_only),
	cmocka_unit_test(test_limit),
	cmocka_unit_test(test_status_find),
	cmocka_unit_test(test_arf),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
