/* test_json_scan - the bounded JSON reader: tokens, errors, skipping, escapes */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json_scan.h"

/* types - the token types of a whole text, as letters; "!" ends on an error */
static const char *
types(const char *text, size_t len)
{
    static char out[256];
    static const char letters[] = "E{}[]ksnl";
    struct json_scan s;
    struct json_tok t;
    size_t o = 0;
    int type;

    json_scan_init(&s, text, len);
    while ((type = json_scan_next(&s, &t)) > 0 && o + 2 < sizeof(out))
	out[o++] = letters[type];
    out[o++] = type == JSON_EOF ? '.' : '!';
    out[o] = '\0';
    return out;
}

#define TYPES(text) types(text, strlen(text))

static void
test_tokens(void **state)
{
    (void) state;
    assert_string_equal(TYPES("{\"a\": [1, -2.5e+3, true, null, \"x\"], \"b\": {}}"),
			"{k[nnlls]k{}}.");
    assert_string_equal(TYPES("  \"alone\"  "), "s.");
    assert_string_equal(TYPES("[]"), "[].");
    /* a string folded by a mailer keeps going */
    assert_string_equal(TYPES("[\"a\n b\"]"), "[s].");
    /* the bytes after the document are not read */
    assert_string_equal(TYPES("{\"a\":1}\n-- \nsignature {"), "{kn}.");
}

static void
test_errors(void **state)
{
    (void) state;
    assert_string_equal(TYPES("{\"a\" 1}"), "{k!");		/* no colon */
    assert_string_equal(TYPES("{\"a\":1,}"), "{kn!");		/* trailing comma */
    assert_string_equal(TYPES("[1 2]"), "[n!");			/* no comma */
    assert_string_equal(TYPES("[1}"), "[n!");			/* wrong end */
    assert_string_equal(TYPES("{1:2}"), "{!");			/* key not a string */
    assert_string_equal(TYPES("[\"a\\x\"]"), "[!");		/* bad escape */
    assert_string_equal(TYPES("[\"a\\u12\"]"), "[!");		/* short \u */
    assert_string_equal(TYPES("[-]"), "[!");
    assert_string_equal(TYPES("[1.]"), "[!");
    assert_string_equal(TYPES("[tru]"), "[!");
    assert_string_equal(TYPES("{\"a\":[1,"), "{k[n!");		/* cut short */
    assert_string_equal(TYPES(""), "!");
    /* a string that runs to the end of the buffer: no read past it */
    assert_string_equal(types("[\"abc\"]", 4), "[!");
}

static void
test_depth(void **state)
{
    char deep[JSON_MAX_DEPTH + 2];
    const char *r;

    (void) state;
    memset(deep, '[', sizeof(deep) - 1);
    deep[sizeof(deep) - 1] = '\0';
    r = TYPES(deep);
    assert_int_equal(strlen(r), JSON_MAX_DEPTH + 1);
    assert_int_equal(r[JSON_MAX_DEPTH], '!');
}

static void
test_skip(void **state)
{
    const char text[] = "{\"skip\": {\"a\": [1, {\"b\": 2}]}, \"keep\": \"v\"}";
    struct json_scan s;
    struct json_tok t;

    (void) state;
    json_scan_init(&s, text, strlen(text));
    assert_int_equal(json_scan_next(&s, &t), JSON_BEGIN_OBJECT);
    assert_int_equal(json_scan_next(&s, &t), JSON_KEY);
    assert_true(json_tok_is(&t, "skip"));
    assert_int_equal(json_scan_next(&s, &t), JSON_BEGIN_OBJECT);
    assert_int_equal(json_scan_skip(&s, &t), 0);
    assert_int_equal(json_scan_next(&s, &t), JSON_KEY);
    assert_true(json_tok_is(&t, "keep"));
    assert_false(json_tok_is(&t, "kee"));
    assert_int_equal(json_scan_next(&s, &t), JSON_STRING);
    assert_int_equal(t.len, 1);
    assert_int_equal(json_scan_next(&s, &t), JSON_END_OBJECT);
    assert_int_equal(json_scan_next(&s, &t), JSON_EOF);
}

static void
test_unescape(void **state)
{
    const char raw[] = "a\\\"b\\\\c\\/d\\n\\u00e9\\ud83d\\ude00\\ud800x\\u0000";
    char out[64], small[4];
    size_t n;

    (void) state;
    n = json_unescape(raw, strlen(raw), out, sizeof(out));
    assert_int_equal(n, strlen(out));
    assert_string_equal(out, "a\"b\\c/d\n\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbdx?");
    /* cut at the buffer, never in the middle of a character */
    assert_int_equal(json_unescape("ab\\u00e9", 8, small, sizeof(small)), 2);
    assert_string_equal(small, "ab");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_tokens),
	cmocka_unit_test(test_errors),
	cmocka_unit_test(test_depth),
	cmocka_unit_test(test_skip),
	cmocka_unit_test(test_unescape),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
