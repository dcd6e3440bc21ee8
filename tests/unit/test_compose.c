/*
 * test_compose - the JSON body of POST /v1/messages and the message built
 * from it: fields refused with their name, no header injection, encoded
 * words, quoted-printable lines, multipart/alternative
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compose.h"

static const struct compose_limits lim = {3, 4, "X-Campaign-ID"};

/* parse - compose_parse() of a C string; the reason in why */
static int
parse(const char *json, struct compose_req *req, char *why)
{
    return compose_parse(json, strlen(json), &lim, req, why, 300);
}

/* build - the whole message for recipient i */
static char *
build(const struct compose_req *req, size_t i)
{
    size_t hl, bl;
    char *h = compose_head(req, i, &hl), *b = compose_common(req, "X-Campaign-ID",
							     1733500000, 1 << 20, &bl);
    char *m;

    assert_non_null(b);
    m = malloc(hl + bl + 1);
    memcpy(m, h, hl);
    memcpy(m + hl, b, bl + 1);
    free(h);
    free(b);
    return m;
}

/* lines_ok - CRLF only, each line at most max bytes, printable ASCII */
static void
lines_ok(const char *m, size_t max)
{
    size_t col = 0;

    for (; *m; m++) {
	if (*m == '\r') {
	    assert_int_equal(m[1], '\n');
	    m++;
	    col = 0;
	    continue;
	}
	assert_true(*m != '\n');
	assert_true((unsigned char) *m >= 32 && (unsigned char) *m < 127);
	assert_true(++col <= max);
    }
}

static void
test_minimal(void **state)
{
    struct compose_req req;
    char why[300], *m;

    (void) state;
    assert_int_equal(parse("{\"from\":\"News@Shop.TEST\",\"to\":\"bob@example.com\","
			   "\"subject\":\"Hello\",\"text\":\"Hi Bob.\\n\"}", &req, why), 0);
    assert_string_equal(req.from.addr, "news@shop.test");
    m = build(&req, 0);
    assert_non_null(strstr(m, "To: bob@example.com\r\n"));
    assert_non_null(strstr(m, "From: news@shop.test\r\n"));
    assert_non_null(strstr(m, "Subject: Hello\r\n"));
    assert_non_null(strstr(m, "@shop.test>\r\n"));
    assert_non_null(strstr(m, "Date: Fri, 06 Dec 2024 15:46:40 +0000\r\n"));
    assert_non_null(strstr(m, "Content-Type: text/plain; charset=utf-8\r\n"));
    assert_non_null(strstr(m, "\r\n\r\nHi Bob.\r\n"));
    assert_null(strstr(m, "multipart"));
    lines_ok(m, 998);
    free(m);
    compose_req_free(&req);
}

static void
test_refused(void **state)
{
    static const struct {
	const char *json, *why;
    } bad[] = {
	{"[]", "the body must be a JSON object"},
	{"{\"from\":\"a@shop.test\",\"to\":\"b@x.test\"}", "text: text or html is needed"},
	{"{\"to\":\"b@x.test\",\"text\":\"x\"}", "from: missing"},
	{"{\"from\":\"a@shop.test\",\"text\":\"x\"}", "to: missing"},
	{"{\"from\":\"a@shop.test\",\"to\":[\"b@x.test\",\"c@-x.test\"],\"text\":\"x\"}", "to[1]: "},
	{"{\"from\":\"a@shop.test\",\"to\":[\"b@x.test\",\"c@x.test\",\"d@x.test\",\"e@x.test\"],"
	 "\"text\":\"x\"}", "to: more than 3 recipients"},
	{"{\"from\":\"a@shop.test\",\"to\":\"b@x.test\",\"subject\":\"a\\r\\nBcc: e@x.test\","
	 "\"text\":\"x\"}", "subject: control characters"},
	{"{\"from\":{\"email\":\"a@shop.test\",\"name\":\"A\\nB\"},\"to\":\"b@x.test\",\"text\":\"x\"}",
	 "from: control characters"},
	{"{\"from\":\"a@shop.test\",\"to\":\"b@x.test\",\"text\":\"x\","
	 "\"headers\":{\"X-A\":\"1\\r\\nBcc: e@x.test\"}}", "headers.X-A: control characters"},
	{"{\"from\":\"a@shop.test\",\"to\":\"b@x.test\",\"text\":\"x\","
	 "\"headers\":{\"content-type\":\"text/html\"}}", "headers.content-type: set by the relay"},
	{"{\"from\":\"a@shop.test\",\"to\":\"b@x.test\",\"text\":\"x\","
	 "\"headers\":{\"X-Campaign-ID\":\"c\"}}", "headers.X-Campaign-ID: set by the relay"},
	{"{\"from\":\"a@shop.test\",\"to\":\"b@x.test\",\"text\":\"x\","
	 "\"headers\":{\"Bad Name\":\"c\"}}", "headers: \"Bad Name\" is not a header name"},
	{"{\"from\":\"a@shop.test\",\"to\":\"b@x.test\",\"text\":\"x\",\"campaign\":\"a b\"}",
	 "campaign: "},
	{"{\"from\":\"a@shop.test\",\"to\":\"b@x.test\",\"text\":\"\\xff\"}", "not valid JSON"},
	{"{\"from\":\"a@shop.test\",\"to\":\"b@x.test\",\"text\":\"\xff\"}", "text: not valid UTF-8"},
	{"{\"from\":\"a@shop.test\",\"to\":\"b@x.test\",\"text\":\"x\",\"bcc\":\"x\"}",
	 "unknown field \"bcc\""},
	{"{\"from\":\"a@shop.test\",\"from\":\"b@shop.test\",\"to\":\"b@x.test\",\"text\":\"x\"}",
	 "from: given twice"},
	{"{\"from\":\"a@shop.test\",\"to\":\"b@x.test\",\"text\":\"x\"} {}", "text after"},
	{"{\"from\":\"j\xc3\xb6@shop.test\",\"to\":\"b@x.test\",\"text\":\"x\"}", "from: the address must be ASCII"},
    };
    struct compose_req req;
    char why[300];
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
	why[0] = '\0';
	if (parse(bad[i].json, &req, why) != -1 || strstr(why, bad[i].why) == NULL)
	    fail_msg("%s: got \"%s\", want \"%s\"", bad[i].json, why, bad[i].why);
	compose_req_free(&req);
    }
}

static void
test_encoded(void **state)
{
    struct compose_req req;
    char why[300], *m, *p;

    (void) state;
    assert_int_equal(parse("{\"from\":{\"email\":\"a@shop.test\",\"name\":\"Sh\\u00f6p \\\"News\\\"\"},"
			   "\"to\":{\"email\":\"b@x.test\",\"name\":\"Bob \\\"B\\\" Smith\"},"
			   "\"subject\":\"Gr\\u00fc\\u00dfe aus K\\u00f6ln, ein sehr langer Betreff "
			   "\\u2014 der gefaltet werden muss, weil er so lang ist \\ud83d\\ude00\","
			   "\"text\":\"x\"}", &req, why), 0);
    m = build(&req, 0);
    assert_non_null(strstr(m, "To: \"Bob \\\"B\\\" Smith\" <b@x.test>\r\n"));
    assert_non_null(strstr(m, "From: =?UTF-8?B?"));
    assert_non_null(p = strstr(m, "Subject: =?UTF-8?B?"));
    /* folded: a second encoded word on a continuation line */
    assert_non_null(strstr(p, "?=\r\n =?UTF-8?B?"));
    lines_ok(m, 78);
    free(m);
    compose_req_free(&req);
}

static void
test_qp_alternative(void **state)
{
    struct compose_req req;
    char why[300], *m, *b;
    char json[4000];

    (void) state;
    snprintf(json, sizeof(json), "{\"from\":\"a@shop.test\",\"to\":[\"b@x.test\",\"c@x.test\"],"
	     "\"text\":\"%0200d\\n.dot\\nFrom me\\ntrail \\nA=B \\u00e9\","
	     "\"html\":\"<p>x</p>\",\"campaign\":\"spring-26\","
	     "\"headers\":{\"Reply-To\":\"help@shop.test\"}}", 7);
    assert_int_equal(parse(json, &req, why), 0);
    m = build(&req, 1);
    lines_ok(m, 998);
    assert_non_null(strstr(m, "To: c@x.test\r\n"));
    assert_non_null(strstr(m, "X-Campaign-ID: spring-26\r\n"));
    assert_non_null(strstr(m, "Reply-To: help@shop.test\r\n"));
    assert_non_null(b = strstr(m, "multipart/alternative; boundary=\"=_"));
    assert_non_null(strstr(m, "Content-Type: text/html; charset=utf-8\r\n"));
    b = strstr(m, "quoted-printable\r\n\r\n");
    assert_non_null(b);
    lines_ok(b, 76);
    assert_non_null(strstr(b, "\r\n=2Edot\r\n=46rom me\r\ntrail=20\r\nA=3DB =C3=A9\r\n"));
    free(m);
    compose_req_free(&req);
}

/* a soft break that puts "From " or '.' first on a line encodes it too */
static void
test_qp_soft_break(void **state)
{
    struct compose_req req;
    char why[300], *m, *b;
    char json[400];

    (void) state;
    snprintf(json, sizeof(json), "{\"from\":\"a@shop.test\",\"to\":\"b@x.test\","
	     "\"text\":\"%075dFrom me\\n%075d.dot\"}", 7, 8);
    assert_int_equal(parse(json, &req, why), 0);
    m = build(&req, 0);
    b = strstr(m, "quoted-printable\r\n\r\n");
    assert_non_null(b);
    lines_ok(b, 76);
    assert_non_null(strstr(b, "7=\r\n=46rom me\r\n"));
    assert_non_null(strstr(b, "8=\r\n=2Edot"));
    free(m);
    compose_req_free(&req);
}

static void
test_too_large(void **state)
{
    struct compose_req req;
    char why[300];
    size_t len;
    char *m;

    (void) state;
    assert_int_equal(parse("{\"from\":\"a@shop.test\",\"to\":\"b@x.test\",\"text\":\"hello\"}",
			   &req, why), 0);
    assert_null(compose_common(&req, NULL, 0, 100, &len));
    assert_non_null(m = compose_common(&req, NULL, 0, 1000, &len));
    free(m);
    compose_req_free(&req);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_minimal),
	cmocka_unit_test(test_refused),
	cmocka_unit_test(test_encoded),
	cmocka_unit_test(test_qp_alternative),
	cmocka_unit_test(test_qp_soft_break),
	cmocka_unit_test(test_too_large),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
