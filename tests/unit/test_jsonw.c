/* test_jsonw - the JSON writer: layout, escaping, invalid UTF-8, times */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "jsonw.h"

struct capture {
    FILE *fp;
    char *buf;
    size_t len;
};

/* begin - a writer into memory */
static void
begin(struct capture *c, struct jsonw *w)
{
    c->fp = open_memstream(&c->buf, &c->len);
    assert_non_null(c->fp);
    jsonw_init(w, c->fp);
}

/* finish - what was written; the caller frees it */
static char *
finish(struct capture *c)
{
    fclose(c->fp);
    return c->buf;
}

static void
test_values(void **state)
{
    struct capture c;
    struct jsonw w;
    char *out;

    (void) state;
    begin(&c, &w);
    jsonw_object(&w, NULL);
    jsonw_string(&w, "name", "warm1");
    jsonw_int(&w, "used", -12);
    jsonw_double(&w, "ratio", 0.25);
    jsonw_double(&w, "nan", NAN);
    jsonw_bool(&w, "yes", 1);
    jsonw_bool(&w, "no", 0);
    jsonw_null(&w, "none");
    jsonw_string(&w, "absent", NULL);
    jsonw_time(&w, "at", 1796549400);
    jsonw_time(&w, "never", 0);
    jsonw_object(&w, "inner");
    jsonw_end(&w);
    jsonw_end(&w);
    out = finish(&c);
    assert_string_equal(out, "{\"name\":\"warm1\",\"used\":-12,\"ratio\":0.25,\"nan\":null,"
			"\"yes\":true,\"no\":false,\"none\":null,\"absent\":null,"
			"\"at\":\"2026-12-06T09:30:00Z\",\"never\":null,\"inner\":{}}\n");
    free(out);
}

static void
test_rows_one_a_line(void **state)
{
    struct capture c;
    struct jsonw w;
    char *out;

    (void) state;
    begin(&c, &w);
    jsonw_object(&w, NULL);
    jsonw_array(&w, "rows");
    jsonw_object(&w, NULL);
    jsonw_int(&w, "n", 1);
    jsonw_array(&w, "tags");
    jsonw_string(&w, NULL, "a");
    jsonw_string(&w, NULL, "b");
    jsonw_end(&w);
    jsonw_end(&w);
    jsonw_object(&w, NULL);
    jsonw_int(&w, "n", 2);
    jsonw_end(&w);
    jsonw_end(&w);
    jsonw_array(&w, "empty");
    jsonw_end(&w);
    jsonw_end(&w);
    out = finish(&c);
    assert_string_equal(out, "{\"rows\":[\n{\"n\":1,\"tags\":[\"a\",\"b\"]},\n{\"n\":2}\n],"
			"\"empty\":[]}\n");
    free(out);
}

/* one - a document holding one string */
static char *
one(const char *s, size_t len)
{
    struct capture c;
    struct jsonw w;

    begin(&c, &w);
    jsonw_array(&w, NULL);
    jsonw_stringn(&w, NULL, s, len);
    jsonw_end(&w);
    return finish(&c);
}

static void
test_escaping(void **state)
{
    static const struct {
	const char *in;
	size_t len;
	const char *want;
    } cases[] = {
	{"a\"b\\c", 5, "[\"a\\\"b\\\\c\"]\n"},
	{"l1\nl2\r\t", 7, "[\"l1\\nl2\\r\\t\"]\n"},
	{"\x01\x1f\x7f", 3, "[\"\\u0001\\u001f\\u007f\"]\n"},
	{"nul\0in", 6, "[\"nul\\u0000in\"]\n"},
	/* valid UTF-8 passes: é, €, U+1F600 */
	{"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9, "[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"]\n"},
	/* invalid: a lone byte, an overlong '/', a surrogate, a cut sequence,
	   above U+10FFFF, a stray continuation byte */
	{"\xff", 1, "[\"\\ufffd\"]\n"},
	{"\xc0\xaf", 2, "[\"\\ufffd\\ufffd\"]\n"},
	{"\xed\xa0\x80", 3, "[\"\\ufffd\\ufffd\\ufffd\"]\n"},
	{"x\xe2\x82", 3, "[\"x\\ufffd\\ufffd\"]\n"},
	{"\xf4\x90\x80\x80", 4, "[\"\\ufffd\\ufffd\\ufffd\\ufffd\"]\n"},
	{"\x80z", 2, "[\"\\ufffdz\"]\n"},
    };
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	char *out = one(cases[i].in, cases[i].len);

	assert_string_equal(out, cases[i].want);
	free(out);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_values),
	cmocka_unit_test(test_rows_one_a_line),
	cmocka_unit_test(test_escaping),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
