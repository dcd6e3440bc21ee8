/* test_policy_answer - the milter's policy requests and the meaning of the answers */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "policy_answer.h"

/* map - policy_action_map of a C string */
static int
map(const char *action, struct policy_verdict *v)
{
    return policy_action_map(action, strlen(action), v);
}

/* expect_reply - action gives kind with that code, enhanced code and text */
static void
expect_reply(const char *action, int kind, const char *rcode, const char *xcode,
	     const char *text)
{
    struct policy_verdict v;

    if (map(action, &v) != kind || v.kind != kind)
	fail_msg("%s: kind %d, want %d", action, v.kind, kind);
    assert_string_equal(v.rcode, rcode);
    assert_string_equal(v.xcode, xcode);
    assert_string_equal(v.text, text);
}

static void
test_pass(void **state)
{
    const char *pass[] = {
	"DUNNO", "dunno", "OK", "ok", " DUNNO ", "PREPEND X-Foo: bar", "WARN look",
	"INFO fyi", "DEFER_IF_REJECT 4.7.1 later", "200", "12345",
    };
    struct policy_verdict v;
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(pass) / sizeof(pass[0]); i++)
	if (map(pass[i], &v) != POLICY_CONTINUE)
	    fail_msg("%s: not a pass (%d)", pass[i], v.kind);
    map("PREPEND X-Foo: bar", &v);
    assert_string_equal(v.action, "PREPEND");
}

static void
test_defer(void **state)
{
    (void) state;
    /* what outpost-policyd says by default (defer_reply) */
    expect_reply("DEFER_IF_PERMIT 4.7.1 rate limit of provider gmail; retry in 3 s",
		 POLICY_TEMPFAIL, "450", "4.7.1", "rate limit of provider gmail; retry in 3 s");
    expect_reply("DEFER_IF_PERMIT 4.3.0 policy state unavailable, try again later",
		 POLICY_TEMPFAIL, "450", "4.3.0", "policy state unavailable, try again later");
    expect_reply("defer_if_permit", POLICY_TEMPFAIL, "450", "4.7.1", "Service unavailable");
    expect_reply("DEFER come back later", POLICY_TEMPFAIL, "450", "4.7.1",
		 "come back later");
    expect_reply("421 4.4.5 busy", POLICY_TEMPFAIL, "421", "4.4.5", "busy");
    expect_reply("451 slow down", POLICY_TEMPFAIL, "451", "4.7.1", "slow down");
    expect_reply("452", POLICY_TEMPFAIL, "452", "4.7.1", "Service unavailable");
    /* a 5.x.x code cannot go with a 4xx reply: the default class replaces it */
    expect_reply("DEFER 5.7.1 odd", POLICY_TEMPFAIL, "450", "4.7.1", "odd");
    expect_reply("450 4.2.123 three digits", POLICY_TEMPFAIL, "450", "4.2.123",
		 "three digits");
    /* not a status code: stays in the text */
    expect_reply("450 4.2 text", POLICY_TEMPFAIL, "450", "4.7.1", "4.2 text");
    expect_reply("450 4.2.1234 text", POLICY_TEMPFAIL, "450", "4.7.1", "4.2.1234 text");
    expect_reply("450 4.2.1x", POLICY_TEMPFAIL, "450", "4.7.1", "4.2.1x");
}

static void
test_reject(void **state)
{
    (void) state;
    expect_reply("REJECT", POLICY_REJECT, "554", "5.7.1", "Access denied");
    expect_reply("reject 5.7.9 go away", POLICY_REJECT, "554", "5.7.9", "go away");
    expect_reply("550 5.1.1 no such user", POLICY_REJECT, "550", "5.1.1", "no such user");
    expect_reply("550 4.1.1 mixed", POLICY_REJECT, "550", "5.7.1", "mixed");
}

static void
test_text(void **state)
{
    char want[POLICY_TEXT_MAX], longer[3 * POLICY_TEXT_MAX];
    struct policy_verdict v;

    (void) state;
    /* '%' doubled for smfi_setreply, controls masked */
    expect_reply("DEFER 100% full\x01\x7f", POLICY_TEMPFAIL, "450", "4.7.1",
		 "100%% full??");
    /* an overlong text is cut, never a half "%%" */
    memset(longer, '%', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    memcpy(longer, "DEFER ", 6);
    assert_int_equal(map(longer, &v), POLICY_TEMPFAIL);
    assert_true(strlen(v.text) < POLICY_TEXT_MAX);
    assert_int_equal(strlen(v.text) % 2, 0);
    memset(want, 'x', sizeof(want));
    memcpy(longer, "REJECT ", 7);
    memset(longer + 7, 'x', sizeof(longer) - 8);
    map(longer, &v);
    assert_int_equal(strlen(v.text), POLICY_TEXT_MAX - 1);
    assert_memory_equal(v.text, want, POLICY_TEXT_MAX - 1);
}

static void
test_filter_and_unknown(void **state)
{
    const char *unknown[] = {
	"HOLD", "DISCARD spam", "REDIRECT a@b", "BCC c@d", "FILTER", "FILTER   ",
	"", "   ", "GARBAGE", "350 continue", "4500 x", "45 x", "DEFERRED",
    };
    struct policy_verdict v;
    size_t i;

    (void) state;
    assert_int_equal(map("FILTER smtp_spill:", &v), POLICY_FILTER);
    assert_string_equal(v.filter, "smtp_spill:");
    assert_int_equal(map("filter relay:[10.0.0.1]:25", &v), POLICY_FILTER);
    assert_string_equal(v.filter, "relay:[10.0.0.1]:25");
    for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
	if (map(unknown[i], &v) != POLICY_UNKNOWN)
	    fail_msg("'%s': not unknown (%d)", unknown[i], v.kind);
}

static void
test_answer(void **state)
{
    struct policy_verdict v;
    const char *why = NULL;
    const char *a;

    (void) state;
    a = "action=DEFER_IF_PERMIT 4.7.1 slow\n\n";
    assert_int_equal(policy_answer_end(a, strlen(a)), strlen(a));
    assert_int_equal(policy_answer_parse(a, strlen(a), &v, &why), POLICY_TEMPFAIL);
    assert_string_equal(v.text, "slow");
    a = "foo=bar\r\nAction=dunno\r\n\r\n";
    assert_int_equal(policy_answer_parse(a, strlen(a), &v, &why), POLICY_CONTINUE);
    a = "action=DUNNO\n\naction=REJECT\n\n";	/* only the first answer counts */
    assert_int_equal(policy_answer_end(a, strlen(a)), 14);
    assert_int_equal(policy_answer_parse(a, 14, &v, &why), POLICY_CONTINUE);

    assert_int_equal(policy_answer_end("action=DUNNO\n", 13), 0);
    assert_int_equal(policy_answer_end("", 0), 0);
    assert_int_equal(policy_answer_end("\n", 1), 1);

    a = "\n";
    assert_int_equal(policy_answer_parse(a, 1, &v, &why), -1);
    assert_string_equal(why, "answer without action");
    a = "action=DUNNO\naction=REJECT\n\n";
    assert_int_equal(policy_answer_parse(a, strlen(a), &v, &why), -1);
    assert_string_equal(why, "two actions in one answer");
    a = "DUNNO\n\n";
    assert_int_equal(policy_answer_parse(a, strlen(a), &v, &why), -1);
    assert_string_equal(why, "answer line without '='");
    assert_int_equal(policy_answer_parse("action=OK\0\n\n", 12, &v, &why), -1);
    assert_string_equal(why, "NUL byte in answer");
    /* no empty line: what there is still counts (the caller frames answers) */
    a = "action=REJECT";
    assert_int_equal(policy_answer_parse(a, strlen(a), &v, &why), POLICY_REJECT);
}

static void
test_answer_too_long(void **state)
{
    static char big[POLICY_ANSWER_MAX + 10];
    struct policy_verdict v;
    const char *why = NULL;

    (void) state;
    memset(big, 'x', sizeof(big));
    memcpy(big, "action=", 7);
    big[sizeof(big) - 2] = '\n';
    big[sizeof(big) - 1] = '\n';
    assert_int_equal(policy_answer_parse(big, sizeof(big), &v, &why), -1);
    assert_string_equal(why, "answer too long");
}

static void
test_request(void **state)
{
    struct policy_query q = {
	.protocol_name = "ESMTP", .client_address = "127.0.0.1", .client_name = "",
	.helo_name = "client.test", .sender = "", .recipient = "a@gmail.test",
	.sasl_username = NULL, .queue_id = "4BxyzQ", .instance = "1f.2a.3",
    };
    char buf[512], tiny[64];
    size_t n;

    (void) state;
    n = policy_request_format(&q, buf, sizeof(buf));
    assert_string_equal(buf,
			"request=smtpd_access_policy\nprotocol_state=RCPT\n"
			"protocol_name=ESMTP\nclient_address=127.0.0.1\n"
			"helo_name=client.test\nsender=\nrecipient=a@gmail.test\n"
			"queue_id=4BxyzQ\ninstance=1f.2a.3\n\n");
    assert_int_equal(n, strlen(buf));
    /* a line end in a value cannot end the line */
    q.recipient = "a@b\nrecipient=evil@c\r";
    policy_request_format(&q, buf, sizeof(buf));
    assert_non_null(strstr(buf, "\nrecipient=a@b?recipient=evil@c?\n"));
    assert_int_equal(policy_request_format(&q, tiny, sizeof(tiny)), 0);
    assert_int_equal(policy_request_format(&q, buf, 0), 0);
    /* no sender at all: not sent */
    q.sender = NULL;
    policy_request_format(&q, buf, sizeof(buf));
    assert_null(strstr(buf, "sender="));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_pass),
	cmocka_unit_test(test_defer),
	cmocka_unit_test(test_reject),
	cmocka_unit_test(test_text),
	cmocka_unit_test(test_filter_and_unknown),
	cmocka_unit_test(test_answer),
	cmocka_unit_test(test_answer_too_long),
	cmocka_unit_test(test_request),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
