/*
 * test_retpath - the sender's own domain behind a tagged return path: a token
 * that names it, a bounce domain with "%d", a fixed bounce domain, plain
 * senders, and what must not be mistaken for a tag
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "retpath.h"
#include "verp.h"

#define SECRET "0123456789abcdef-secret"
#define DAY 20000u

static struct verp_keys *k;

/* setup - one key for the tokens the milter would make */
static int
setup(void **state)
{
    char err[256];

    (void) state;
    k = verp_keys_parse(SECRET, strlen(SECRET), "secrets", err, sizeof(err));
    return k ? 0 : -1;
}

/* teardown - release the key */
static int
teardown(void **state)
{
    (void) state;
    verp_keys_free(k);
    return 0;
}

/* map - run retpath_sender_domain; the domain in out */
static int
map(const char *pattern, const char *addr, char *out, size_t size,
    unsigned long long *id)
{
    return retpath_sender_domain(pattern, "b", addr, out, size, id);
}

/* "bounce.%d": the token names no sender domain, the pattern strips */
static void
test_per_sender(void **state)
{
    char tok[128], addr[256], out[256];
    unsigned long long id;

    (void) state;
    assert_true(verp_encode(k, VERP_BOUNCE, DAY, "alice@gmail.test", "", tok, sizeof(tok)) > 0);
    snprintf(addr, sizeof(addr), "b-%s@bounce.shop.test", tok);
    assert_int_equal(map("bounce.%d", addr, out, sizeof(out), &id), RETPATH_MAPPED);
    assert_string_equal(out, "shop.test");
    /* any case, and a domain of several labels */
    assert_int_equal(map("bounce.%d", "B-x@Bounce.Mail.Shop.TEST", out, sizeof(out), &id),
		     RETPATH_MAPPED);
    assert_string_equal(out, "mail.shop.test");
    /* a suffix after %d */
    assert_int_equal(map("%d.bounces.relay.test", "b-x@shop.test.bounces.relay.test", out,
			 sizeof(out), &id), RETPATH_MAPPED);
    assert_string_equal(out, "shop.test");
    /* the pattern alone, with nothing for %d, is not a match */
    assert_int_equal(map("bounce.%d", "b-x@bounce.", out, sizeof(out), &id), RETPATH_PLAIN);
    assert_string_equal(out, "bounce.");
}

/* retpath_domain_match: is a domain the bounce domain, and for whom */
static void
test_domain_match(void **state)
{
    char out[256];

    (void) state;
    assert_true(retpath_domain_match("bounce.%d", "bounce.shop.test", out, sizeof(out)));
    assert_string_equal(out, "shop.test");
    assert_true(retpath_domain_match("%d.bounces.relay.test", "Shop.Test.bounces.relay.test",
				     out, sizeof(out)));
    assert_string_equal(out, "shop.test");
    assert_false(retpath_domain_match("bounce.%d", "bounce.", out, sizeof(out)));
    assert_string_equal(out, "");
    assert_false(retpath_domain_match("bounce.%d", "shop.test", NULL, 0));
    /* a fixed domain: equal, in any case, and nothing for %d */
    assert_true(retpath_domain_match("bounce.relay.test", "Bounce.Relay.Test", out, sizeof(out)));
    assert_string_equal(out, "");
    assert_false(retpath_domain_match("bounce.relay.test", "x.bounce.relay.test", NULL, 0));
}

/* a fixed bounce domain: the token names the sender domain inline */
static void
test_inline(void **state)
{
    char tok[128], addr[256], out[256];
    unsigned long long id = 7;

    (void) state;
    assert_true(verp_encode(k, VERP_BOUNCE, DAY, "alice@gmail.test", "Shop.test", tok,
			    sizeof(tok)) > 0);
    snprintf(addr, sizeof(addr), "b-%s@bounces.relay.test", tok);
    assert_int_equal(map("bounces.relay.test", addr, out, sizeof(out), &id), RETPATH_MAPPED);
    assert_string_equal(out, "shop.test");
    assert_true(id == 0);
    /* the inline domain wins over the pattern */
    snprintf(addr, sizeof(addr), "b-%s@bounce.other.test", tok);
    assert_int_equal(map("bounce.%d", addr, out, sizeof(out), &id), RETPATH_MAPPED);
    assert_string_equal(out, "shop.test");
    /* a token naming an id: the caller looks it up */
    assert_true(verp_encode_id(k, VERP_BOUNCE, DAY, 0x1234567890abcdefULL, tok,
			       sizeof(tok)) > 0);
    snprintf(addr, sizeof(addr), "b-%s@bounces.relay.test", tok);
    assert_int_equal(map("bounces.relay.test", addr, out, sizeof(out), &id), RETPATH_ID);
    assert_string_equal(out, "bounces.relay.test");
    assert_true(id == 0x1234567890abcdefULL);
    /* ... but not under another domain */
    snprintf(addr, sizeof(addr), "b-%s@elsewhere.test", tok);
    assert_int_equal(map("bounces.relay.test", addr, out, sizeof(out), &id), RETPATH_PLAIN);
    assert_string_equal(out, "elsewhere.test");
}

/* plain senders keep their own domain, lower case */
static void
test_plain(void **state)
{
    char out[256];
    unsigned long long id;

    (void) state;
    assert_int_equal(map("bounce.%d", "news@Shop.Test", out, sizeof(out), &id), RETPATH_PLAIN);
    assert_string_equal(out, "shop.test");
    assert_int_equal(map(NULL, "b-aaaaaaaaaaaaaaaaaaaaaaa@bounce.shop.test", out, sizeof(out),
			 &id), RETPATH_PLAIN);
    assert_string_equal(out, "bounce.shop.test");
    /* no '@', the null sender */
    assert_int_equal(map("bounce.%d", "", out, sizeof(out), &id), RETPATH_PLAIN);
    assert_string_equal(out, "");
    assert_int_equal(map("bounce.%d", "postmaster", out, sizeof(out), &id), RETPATH_PLAIN);
    assert_string_equal(out, "");
    /* something like a token that is not one: the domain decides */
    assert_int_equal(map("bounces.relay.test", "b-notatoken!@shop.test", out, sizeof(out), &id),
		     RETPATH_PLAIN);
    assert_string_equal(out, "shop.test");
    assert_int_equal(map("bounces.relay.test", "bob-x@shop.test", out, sizeof(out), &id),
		     RETPATH_PLAIN);
    assert_string_equal(out, "shop.test");
    /* too long for out: empty, terminated */
    assert_int_equal(map(NULL, "a@abcdefghij.test", out, 8, &id), RETPATH_PLAIN);
    assert_string_equal(out, "");
}

/* verp_peek reads what verp_decode reads, without the key */
static void
test_peek(void **state)
{
    char tok[128];
    struct verp_token t;
    size_t n;

    (void) state;
    n = verp_encode(k, VERP_BOUNCE, DAY, "alice@gmail.test", "shop.test", tok, sizeof(tok));
    assert_int_equal(verp_peek(tok, n, &t), VERP_OK);
    assert_string_equal(t.rcpt, "alice@gmail.test");
    assert_string_equal(t.sender_domain, "shop.test");
    tok[0] = tok[0] == 'a' ? 'b' : 'a';		/* a forged MAC reads the same */
    assert_int_equal(verp_peek(tok, n, &t), VERP_OK);
    assert_int_equal(verp_decode(k, VERP_BOUNCE, tok, n, DAY, 30, &t), VERP_FORGED);
    assert_int_equal(verp_peek(tok, n - 1, &t), VERP_MALFORMED);
    assert_int_equal(verp_peek(tok, 10, &t), VERP_MALFORMED);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_per_sender),
	cmocka_unit_test(test_domain_match),
	cmocka_unit_test(test_inline),
	cmocka_unit_test(test_plain),
	cmocka_unit_test(test_peek),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
