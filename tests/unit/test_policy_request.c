/*
 * test_policy_request - the policy protocol parser, good input and garbage
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "request.h"

#define S(lit) lit, sizeof(lit) - 1

/* a real request as Postfix 3.7 sends it */
static const char rcpt[] =
    "request=smtpd_access_policy\n"
    "protocol_state=RCPT\n"
    "protocol_name=ESMTP\n"
    "client_address=192.0.2.7\n"
    "helo_name=app.shop.test\n"
    "sender=news@shop.test\n"
    "recipient=Alice@Gmail.test\n"
    "sasl_username=shop\n"
    "ccert_subject=\n"
    "some_future_attribute=with = signs\n"
    "\n";

static void
test_parse_rcpt(void **state)
{
    struct policy_request req;
    const char *why = NULL;

    (void) state;
    assert_int_equal(request_end(rcpt, sizeof(rcpt) - 1), sizeof(rcpt) - 1);
    assert_int_equal(request_parse(rcpt, sizeof(rcpt) - 1, &req, &why), 0);
    assert_true(request_str_eq(&req.protocol_state, "RCPT"));
    assert_true(request_str_eq(&req.request, "smtpd_access_policy"));
    assert_true(request_str_eq(&req.recipient, "Alice@Gmail.test"));
    assert_true(request_str_eq(&req.sender, "news@shop.test"));
    assert_true(request_str_eq(&req.sasl_username, "shop"));
    assert_true(request_str_eq(&req.client_address, "192.0.2.7"));
    assert_null(req.queue_id.p);
    assert_int_equal(req.nattrs, 10);
}

static void
test_end_incomplete(void **state)
{
    (void) state;
    assert_int_equal(request_end(S("")), 0);
    assert_int_equal(request_end(S("a=b\n")), 0);
    assert_int_equal(request_end(S("a=b\nc=d")), 0);
    assert_int_equal(request_end(S("a=b\n\n")), 5);
    assert_int_equal(request_end(S("a=b\n\nc=d\n\n")), 5);
    assert_int_equal(request_end(S("a=b\r\n\r\nx")), 7);
    assert_int_equal(request_end(S("\n")), 1);
}

static void
test_crlf_and_empty_value(void **state)
{
    struct policy_request req;
    const char *why;

    (void) state;
    assert_int_equal(request_parse(S("protocol_state=RCPT\r\nsender=\r\n\r\n"), &req, &why), 0);
    assert_true(request_str_eq(&req.protocol_state, "RCPT"));
    assert_non_null(req.sender.p);
    assert_int_equal(req.sender.len, 0);
}

static void
test_last_value_wins(void **state)
{
    struct policy_request req;
    const char *why;

    (void) state;
    assert_int_equal(request_parse(S("recipient=a@x\nrecipient=b@y\n\n"), &req, &why), 0);
    assert_true(request_str_eq(&req.recipient, "b@y"));
}

static void
test_empty_request(void **state)
{
    struct policy_request req;
    const char *why;

    (void) state;
    /* nothing but the empty line: valid, and no attribute is set */
    assert_int_equal(request_parse(S("\n"), &req, &why), 0);
    assert_null(req.protocol_state.p);
    assert_int_equal(req.nattrs, 0);
}

static void
test_garbage(void **state)
{
    static const struct {
	const char *in;
	size_t len;
	const char *why;
    } bad[] = {
	{S("no equals sign\n\n"), "line without '=' in request"},
	{S("=value\n\n"), "empty attribute name in request"},
	{S("bad name=x\n\n"), "control character or space in an attribute name"},
	{S("a\tb=x\n\n"), "control character or space in an attribute name"},
	{S("a=b\0c\n\n"), "NUL byte in request"},
	{S("a=b\n"), "request not ended by an empty line"},
	{S("a=b"), "request not ended by an empty line"},
	{S("a=b\n\nc=d\n\n"), "data after the empty line that ends a request"},
    };
    struct policy_request req;
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
	const char *why = NULL;

	assert_int_equal(request_parse(bad[i].in, bad[i].len, &req, &why), -1);
	assert_string_equal(why, bad[i].why);
    }
}

static void
test_too_many_lines(void **state)
{
    static char buf[REQUEST_MAX_LINES * 4 + 16];
    struct policy_request req;
    const char *why;
    size_t n = 0;
    int i;

    (void) state;
    for (i = 0; i <= REQUEST_MAX_LINES; i++) {
	memcpy(buf + n, "a=b\n", 4);
	n += 4;
    }
    buf[n++] = '\n';
    assert_int_equal(request_parse(buf, n, &req, &why), -1);
    assert_string_equal(why, "too many lines in request");
    /* one line fewer is fine */
    assert_int_equal(request_parse(buf + 4, n - 4, &req, &why), 0);
}

static void
test_str_eq(void **state)
{
    struct policy_str s = {"RCPTX", 4};
    struct policy_str none = {NULL, 0};

    (void) state;
    assert_true(request_str_eq(&s, "RCPT"));
    assert_false(request_str_eq(&s, "RCPTX"));
    assert_false(request_str_eq(&s, "RCP"));
    assert_false(request_str_eq(&none, ""));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_parse_rcpt),
	cmocka_unit_test(test_end_incomplete),
	cmocka_unit_test(test_crlf_and_empty_value),
	cmocka_unit_test(test_last_value_wins),
	cmocka_unit_test(test_empty_request),
	cmocka_unit_test(test_garbage),
	cmocka_unit_test(test_too_many_lines),
	cmocka_unit_test(test_str_eq),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
