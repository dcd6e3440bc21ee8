/* test_mime - the bounded MIME reader */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mime.h"

static const char multipart_crlf[] =
    "From: a@example.org\r\n"
    "Content-Type: multipart/mixed;\r\n"
    "\tboundary=\"outer\"\r\n"
    "\r\n"
    "preamble\r\n"
    "--outer\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "caf=C3=A9 soft=\r\nbreak\r\n"
    "--outer\r\n"
    "Content-Type: multipart/alternative; boundary=inner\r\n"
    "\r\n"
    "--inner\r\n"
    "Content-Type: text/html\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "PGI+aGk8L2I+\r\n"
    "--inner--\r\n"
    "--outer\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "Message-ID: <x@example.org>\r\n"
    "\r\n"
    "body\r\n"
    "--outer--\r\n"
    "epilogue\r\n";

static void
test_multipart(void **state)
{
    struct mime_msg m;
    const char *why = NULL;

    (void) state;
    assert_int_equal(mime_parse(multipart_crlf, strlen(multipart_crlf), &m,
				&why), 0);
    assert_int_equal(m.nparts, 3);
    assert_string_equal(m.parts[0].type, "text/plain");
    assert_string_equal(m.parts[0].body, "caf\xc3\xa9 soft" "break");
    assert_string_equal(m.parts[1].type, "text/html");
    assert_string_equal(m.parts[1].body, "<b>hi</b>");
    assert_int_equal(m.parts[1].depth, 2);
    assert_string_equal(m.parts[2].type, "message/rfc822");
    assert_non_null(strstr(m.parts[2].body, "Message-ID: <x@example.org>\n"));
    assert_null(strchr(m.parts[2].body, '\r'));
    assert_int_equal(m.truncated, 0);
    mime_free(&m);
}

static void
test_headers(void **state)
{
    const char hdr[] = "Subject: one\n two\nX-Empty:\nContent-Type: text/plain;"
	" charset=\"a;b\"; format=flowed\n";
    char    out[64];

    (void) state;
    assert_int_equal(mime_header(hdr, strlen(hdr), "subject", out,
				 sizeof(out)), 7);
    assert_string_equal(out, "one two");
    assert_int_equal(mime_header(hdr, strlen(hdr), "X-Empty", out,
				 sizeof(out)), 0);
    assert_int_equal(mime_header(hdr, strlen(hdr), "X-None", out,
				 sizeof(out)), -1);
    /* a short buffer cuts, never overflows */
    assert_int_equal(mime_header(hdr, strlen(hdr), "Subject", out, 4), 3);
    assert_string_equal(out, "one");
    assert_int_equal(mime_param("text/plain; charset=\"a;b\"; format=flowed",
				"format", out, sizeof(out)), 0);
    assert_string_equal(out, "flowed");
    assert_int_equal(mime_param("text/plain; charset=\"a;b\"", "charset", out,
				sizeof(out)), 0);
    assert_string_equal(out, "a;b");
    assert_int_equal(mime_param("text/plain", "charset", out, sizeof(out)), -1);
}

static void
test_decoders(void **state)
{
    char    out[64], s[128];
    size_t  n;

    (void) state;
    n = mime_base64_decode("aGVs\nbG8=", 9, out);
    assert_int_equal(n, 5);
    assert_memory_equal(out, "hello", 5);
    n = mime_qp_decode("a=3Db=\nc=ZZ", 11, out);
    out[n] = 0;
    assert_string_equal(out, "a=bc=ZZ");
    snprintf(s, sizeof(s), "=?UTF-8?B?w6k=?= =?iso-8859-1?Q?a_b?= plain");
    mime_decode_words(s);
    assert_string_equal(s, "\xc3\xa9" "a b plain");
    snprintf(s, sizeof(s), "=?broken");
    mime_decode_words(s);
    assert_string_equal(s, "=?broken");
}

static void
test_limits(void **state)
{
    struct mime_msg m;
    const char *why = NULL;
    size_t  cap = 64 * (MIME_MAX_DEPTH + 10) + 64, o = 0;
    char   *buf = malloc(cap);
    int     i;

    (void) state;
    /* nesting deeper than the limit: kept as an opaque leaf */
    for (i = 0; i < MIME_MAX_DEPTH + 5; i++)
	o += (size_t) snprintf(buf + o, cap - o,
			       "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n",
			       i, i);
    o += (size_t) snprintf(buf + o, cap - o, "\ninner text\n");
    assert_int_equal(mime_parse(buf, o, &m, &why), 0);
    assert_int_equal(m.truncated, 1);
    assert_true(m.nparts >= 1);
    mime_free(&m);
    free(buf);

    /* too large: refused with a reason */
    assert_int_equal(mime_parse("x", (size_t) MIME_MAX_SIZE + 1, &m, &why), -1);
    assert_non_null(strstr(why, "larger"));
    mime_free(&m);
}

static void
test_not_mime(void **state)
{
    struct mime_msg m;
    const char *why = NULL;
    const char text[] = "no header here\njust text\n";
    const char missing[] = "Content-Type: multipart/mixed; boundary=zz\n\nno delimiter\n";

    (void) state;
    assert_int_equal(mime_parse(text, strlen(text), &m, &why), 0);
    assert_int_equal(m.nparts, 1);
    assert_string_equal(m.parts[0].body, text);
    mime_free(&m);
    assert_int_equal(mime_parse(missing, strlen(missing), &m, &why), 0);
    assert_int_equal(m.nparts, 1);
    assert_string_equal(m.parts[0].body, "no delimiter\n");
    mime_free(&m);
    assert_int_equal(mime_parse("", 0, &m, &why), 0);
    mime_free(&m);
}

static void
test_fields(void **state)
{
    const char block[] = "A: 1\nB: two\n  folded\n\nC : 3\nnot a field\n";
    char    name[16], val[32];
    size_t  pos = 0;

    (void) state;
    assert_int_equal(mime_field_next(block, strlen(block), &pos, name,
				     sizeof(name), val, sizeof(val)), 1);
    assert_string_equal(name, "A");
    assert_string_equal(val, "1");
    assert_int_equal(mime_field_next(block, strlen(block), &pos, name,
				     sizeof(name), val, sizeof(val)), 1);
    assert_string_equal(val, "two folded");
    assert_int_equal(mime_field_next(block, strlen(block), &pos, name,
				     sizeof(name), val, sizeof(val)), 0);
    assert_int_equal(mime_field_next(block, strlen(block), &pos, name,
				     sizeof(name), val, sizeof(val)), 1);
    assert_string_equal(name, "C");
    assert_int_equal(mime_field_next(block, strlen(block), &pos, name,
				     sizeof(name), val, sizeof(val)), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_multipart),
	cmocka_unit_test(test_headers),
	cmocka_unit_test(test_decoders),
	cmocka_unit_test(test_limits),
	cmocka_unit_test(test_not_mime),
	cmocka_unit_test(test_fields),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
