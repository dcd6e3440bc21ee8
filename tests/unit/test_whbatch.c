/*
 * test_whbatch - a webhook batch: what goes in it, its JSON body, its
 * signature (against Python's hmac on the same input) and the backoff
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

#include "whbatch.h"

/* str - a string reply */
static redisReply *
str(const char *s)
{
    redisReply *r = calloc(1, sizeof(*r));

    r->type = REDIS_REPLY_STRING;
    r->str = (char *) s;
    r->len = strlen(s);
    return r;
}

/* arr - an array reply of n elements */
static redisReply *
arr(size_t n, redisReply **el)
{
    redisReply *r = calloc(1, sizeof(*r));

    r->type = REDIS_REPLY_ARRAY;
    r->elements = n;
    r->element = calloc(n ? n : 1, sizeof(*el));
    if (n)
	memcpy(r->element, el, n * sizeof(*el));
    return r;
}

/* entry - [id, [k, v, ...]]; fields NULL: a trimmed entry (nil fields) */
static redisReply *
entry(const char *id, const char **kv, size_t n)
{
    redisReply *f[16], *e[2];
    size_t i;

    for (i = 0; i < n; i++)
	f[i] = str(kv[i]);
    e[0] = str(id);
    if (kv) {
	e[1] = arr(n, f);
    } else {
	e[1] = calloc(1, sizeof(redisReply));
	e[1]->type = REDIS_REPLY_NIL;
    }
    return arr(2, e);
}

/* drop - free a reply made here (strings are literals) */
static void
drop(redisReply *r)
{
    size_t i;

    if (r->type == REDIS_REPLY_ARRAY) {
	for (i = 0; i < r->elements; i++)
	    drop(r->element[i]);
	free(r->element);
    }
    free(r);
}

static const char *ev1[] = {"type", "delivered", "time", "1733500000123", "rcpt",
    "a@gmail.test"};
static const char *ev2[] = {"type", "bounced", "time", "soon", "reply", "550 \"no\"\n",
    "id", "forged"};

/* test_body - the contract's shape; time a number; id from the stream only */
static void
test_body(void **state)
{
    redisReply *e[] = {entry("1733500000000-0", ev1, 6), entry("1733500000001-0", NULL, 0),
	entry("1733500000002-5", ev2, 8)};
    redisReply *all = arr(3, e);
    size_t len;
    char *body = whbatch_body(all, 3, &len);

    (void) state;
    assert_int_equal(len, strlen(body));
    assert_string_equal(body, "{\"events\":[\n"
			"{\"id\":\"1733500000000-0\",\"type\":\"delivered\","
			"\"time\":1733500000123,\"rcpt\":\"a@gmail.test\"},\n"
			"{\"id\":\"1733500000002-5\",\"type\":\"bounced\","
			"\"reply\":\"550 \\\"no\\\"\\n\"}\n],\"next\":\"1733500000002-5\"}\n");
    free(body);
    body = whbatch_body(all, 1, &len);
    assert_non_null(strstr(body, "\"next\":\"1733500000000-0\""));
    assert_null(strstr(body, "bounced"));
    free(body);
    drop(all);
}

/* test_take - count and bytes limit a batch; the first always goes */
static void
test_take(void **state)
{
    redisReply *e[] = {entry("1-0", ev1, 6), entry("2-0", ev1, 6), entry("3-0", ev1, 6)};
    redisReply *all = arr(3, e);

    (void) state;
    assert_int_equal(whbatch_take(all, 100, 1 << 20), 3);
    assert_int_equal(whbatch_take(all, 2, 1 << 20), 2);
    assert_int_equal(whbatch_take(all, 100, 1), 1);
    assert_int_equal(whbatch_take(all, 100, 200), 2);
    drop(all);
    all = arr(0, NULL);
    assert_int_equal(whbatch_take(all, 100, 100), 0);
    drop(all);
}

/*
 * test_take_escaped - the bytes limit holds for the body as sent: control
 * characters are escaped there, six bytes each
 */
static void
test_take_escaped(void **state)
{
    static char ctl[101];
    const char *kv[] = {"type", "delivered", "reply", ctl};
    redisReply *e[8];
    redisReply *all;
    size_t i, n, len;
    char *body;

    (void) state;
    memset(ctl, 1, sizeof(ctl) - 1);
    for (i = 0; i < 8; i++)
	e[i] = entry("1-0", kv, 4);
    all = arr(8, e);
    n = whbatch_take(all, 100, 2000);
    body = whbatch_body(all, n, &len);
    assert_in_range(n, 1, 8);
    /* the events within 2000 bytes; the braces and "next" around them besides */
    assert_in_range(len, 1, 2000 + 64);
    free(body);
    drop(all);
}

/*
 * test_sign - python3 -c 'import hmac,hashlib;
 * print(hmac.new(b"s3cret", b"1733500000.{}", hashlib.sha256).hexdigest())'
 */
static void
test_sign(void **state)
{
    char sig[WHBATCH_SIG_MAX];

    (void) state;
    whbatch_sign("s3cret", 6, 1733500000, "{}", 2, sig);
    assert_string_equal(sig, "t=1733500000,v1="
			"3e98b8a4df3282d16c1b9b644c0811f8146f7d5962128f54a4bc41f1131d9b8a");
}

/* test_backoff - doubles from min, capped, jitter in the upper half */
static void
test_backoff(void **state)
{
    (void) state;
    assert_int_equal(whbatch_backoff(1000, 300000, 1, 0), 500);
    assert_int_equal(whbatch_backoff(1000, 300000, 1, 500), 1000);
    assert_int_equal(whbatch_backoff(1000, 300000, 3, 0), 2000);
    assert_int_equal(whbatch_backoff(1000, 300000, 60, 0), 150000);
    assert_true(whbatch_backoff(1000, 300000, 60, 123456789) <= 300000);
    assert_int_equal(whbatch_id_ms("1733500000000-7"), 1733500000000LL);
    assert_int_equal(whbatch_id_ms("x-1"), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_body),
	cmocka_unit_test(test_take),
	cmocka_unit_test(test_take_escaped),
	cmocka_unit_test(test_sign),
	cmocka_unit_test(test_backoff),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
