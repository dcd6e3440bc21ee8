/*
 * test_webtoken - web link tokens: round trips of each kind, forgery, other
 * kinds, staleness, secret rotation, refused URLs, strict form, limits
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "verp.h"
#include "webtoken.h"

#define OLD "old-secret-0123456789"
#define NEW "new-secret-abcdefghij"
#define NOW 1800000000LL
#define AGE (30LL * 86400)

static struct verp_keys *
keys(const char *text)
{
    char err[256];
    struct verp_keys *k = verp_keys_parse(text, strlen(text), "secrets", err, sizeof(err));

    if (k == NULL)
	fail_msg("%s", err);
    return k;
}

static struct webtoken_in
click(const char *url)
{
    struct webtoken_in in = {WEBTOKEN_CLICK, NOW, "alice@gmail.test", "shop.test",
			     "<m1@shop.test>", "spring-sale", 3, url, strlen(url)};

    return in;
}

/* each kind reads back what was written */
static void
test_roundtrip(void **state)
{
    struct verp_keys *k = keys(NEW "\n");
    struct webtoken_in u = {WEBTOKEN_UNSUB, NOW, "alice@gmail.test", "shop.test",
			    NULL, NULL, 0, NULL, 0};
    struct webtoken_in o = {WEBTOKEN_OPEN, NOW, "bob@yahoo.test", "shop.test",
			    "<m2@shop.test>", "", 0, NULL, 0};
    struct webtoken_in c = click("https://shop.test/p?id=7&x=%20y#top");
    struct webtoken t;
    char tok[WEBTOKEN_MAX + 1];
    size_t n;

    (void) state;
    n = webtoken_encode(k, &u, tok, sizeof(tok));
    assert_true(n > 0);
    assert_int_equal(strlen(tok), n);
    assert_int_equal(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789-_"), n);
    assert_int_equal(webtoken_decode(k, WEBTOKEN_UNSUB, tok, n, NOW + 60, AGE, &t),
		     WEBTOKEN_OK);
    assert_string_equal(t.rcpt, "alice@gmail.test");
    assert_string_equal(t.sender_domain, "shop.test");
    assert_true(t.issued == NOW);

    n = webtoken_encode(k, &o, tok, sizeof(tok));
    assert_true(n > 0);
    assert_int_equal(webtoken_decode(k, WEBTOKEN_OPEN, tok, n, NOW, AGE, &t), WEBTOKEN_OK);
    assert_string_equal(t.rcpt, "bob@yahoo.test");
    assert_string_equal(t.msgid, "<m2@shop.test>");
    assert_string_equal(t.campaign, "");

    n = webtoken_encode(k, &c, tok, sizeof(tok));
    assert_true(n > 0);
    assert_int_equal(webtoken_decode(k, WEBTOKEN_CLICK, tok, n, NOW, AGE, &t), WEBTOKEN_OK);
    assert_string_equal(t.url, "https://shop.test/p?id=7&x=%20y#top");
    assert_string_equal(t.campaign, "spring-sale");
    assert_int_equal(t.link, 3);
    verp_keys_free(k);
}

/* any changed character, and a token of another kind, is refused */
static void
test_forged(void **state)
{
    struct verp_keys *k = keys(NEW "\n");
    struct verp_keys *other = keys("another-secret-0123\n");
    struct webtoken_in c = click("https://shop.test/");
    struct webtoken t;
    char tok[WEBTOKEN_MAX + 1], bad[WEBTOKEN_MAX + 1];
    size_t n, i;
    int st;

    (void) state;
    n = webtoken_encode(k, &c, tok, sizeof(tok));
    assert_true(n > 0);
    for (i = 0; i < n; i++) {
	memcpy(bad, tok, n + 1);
	bad[i] = bad[i] == 'A' ? 'B' : 'A';
	st = webtoken_decode(k, WEBTOKEN_CLICK, bad, n, NOW, AGE, &t);
	/* the last character may carry unused bits: malformed, not forged */
	assert_true(st == WEBTOKEN_FORGED || (i == n - 1 && st == WEBTOKEN_MALFORMED));
    }
    assert_int_equal(webtoken_decode(other, WEBTOKEN_CLICK, tok, n, NOW, AGE, &t),
		     WEBTOKEN_FORGED);
    /* a genuine click token is no unsubscribe token, nor an open token */
    assert_int_equal(webtoken_decode(k, WEBTOKEN_UNSUB, tok, n, NOW, AGE, &t),
		     WEBTOKEN_FORGED);
    assert_int_equal(webtoken_decode(k, WEBTOKEN_OPEN, tok, n, NOW, AGE, &t),
		     WEBTOKEN_FORGED);
    /* cut short, or longer */
    st = webtoken_decode(k, WEBTOKEN_CLICK, tok, n - 4, NOW, AGE, &t);
    assert_true(st == WEBTOKEN_FORGED || st == WEBTOKEN_MALFORMED);
    memcpy(bad, tok, n);
    memcpy(bad + n, "AAAA", 5);
    assert_int_equal(webtoken_decode(k, WEBTOKEN_CLICK, bad, n + 4, NOW, AGE, &t),
		     WEBTOKEN_FORGED);
    verp_keys_free(k);
    verp_keys_free(other);
}

/* too old, or too far ahead */
static void
test_stale(void **state)
{
    struct verp_keys *k = keys(NEW "\n");
    struct webtoken_in u = {WEBTOKEN_UNSUB, NOW, "a@b.test", "c.test", NULL, NULL, 0,
			    NULL, 0};
    struct webtoken t;
    char tok[WEBTOKEN_MAX + 1];
    size_t n;

    (void) state;
    n = webtoken_encode(k, &u, tok, sizeof(tok));
    assert_int_equal(webtoken_decode(k, 'u', tok, n, NOW + AGE, AGE, &t), WEBTOKEN_OK);
    assert_int_equal(webtoken_decode(k, 'u', tok, n, NOW + AGE + 1, AGE, &t),
		     WEBTOKEN_STALE);
    assert_int_equal(webtoken_decode(k, 'u', tok, n, NOW - 86400, AGE, &t), WEBTOKEN_OK);
    assert_int_equal(webtoken_decode(k, 'u', tok, n, NOW - 86401, AGE, &t),
		     WEBTOKEN_STALE);
    verp_keys_free(k);
}

/* the first secret signs, every one verifies; a retired one verifies nothing */
static void
test_rotation(void **state)
{
    struct verp_keys *old = keys(OLD "\n");
    struct verp_keys *both = keys(NEW "\n" OLD "\n");
    struct verp_keys *retired = keys(NEW "\n");
    struct webtoken_in u = {WEBTOKEN_UNSUB, NOW, "a@b.test", "c.test", NULL, NULL, 0,
			    NULL, 0};
    struct webtoken t;
    char tok[WEBTOKEN_MAX + 1], tok2[WEBTOKEN_MAX + 1];
    size_t n, n2;

    (void) state;
    n = webtoken_encode(old, &u, tok, sizeof(tok));
    assert_int_equal(webtoken_decode(both, 'u', tok, n, NOW, AGE, &t), WEBTOKEN_OK);
    assert_int_equal(webtoken_decode(retired, 'u', tok, n, NOW, AGE, &t), WEBTOKEN_FORGED);
    n2 = webtoken_encode(both, &u, tok2, sizeof(tok2));
    assert_true(n2 == n && strcmp(tok, tok2) != 0);
    assert_int_equal(webtoken_decode(retired, 'u', tok2, n2, NOW, AGE, &t), WEBTOKEN_OK);
    verp_keys_free(old);
    verp_keys_free(both);
    verp_keys_free(retired);
}

/* only http(s) URLs of printable ASCII are carried */
static void
test_urls(void **state)
{
    static const char *const refused[] = {
	"javascript:alert(1)", "data:text/html,x", "//evil.test/", "ftp://x.test/",
	"https://x.test/a b", "https://x.test/\r\nSet-Cookie: a=b", "https://x.test/\x7f",
	"https://x.test/caf\xc3\xa9", "http://", "",
    };
    struct verp_keys *k = keys(NEW "\n");
    struct webtoken_in c;
    char tok[WEBTOKEN_MAX + 1], big[WEBTOKEN_URL_MAX + 8];
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
	c = click(refused[i]);
	assert_int_equal(webtoken_encode(k, &c, tok, sizeof(tok)), 0);
	assert_false(webtoken_url_ok(refused[i], strlen(refused[i])));
    }
    assert_true(webtoken_url_ok("HTTPS://X.TEST/", 15));
    memcpy(big, "https://x.test/", 15);
    memset(big + 15, 'a', sizeof(big) - 16);
    big[sizeof(big) - 1] = '\0';
    c = click(big);
    assert_int_equal(webtoken_encode(k, &c, tok, sizeof(tok)), 0);
    big[WEBTOKEN_URL_MAX - 1] = '\0';
    c = click(big);
    assert_true(webtoken_encode(k, &c, tok, sizeof(tok)) > 0);
    /* a buffer too small for the token */
    assert_int_equal(webtoken_encode(k, &c, tok, 100), 0);
    verp_keys_free(k);
}

/* strict base64url: no padding, no other character, unused bits zero */
static void
test_form(void **state)
{
    struct verp_keys *k = keys(NEW "\n");
    struct webtoken_in u = {WEBTOKEN_UNSUB, NOW, "a@b.test", "c.test", NULL, NULL, 0,
			    NULL, 0};
    struct webtoken t;
    char tok[WEBTOKEN_MAX + 8], big[WEBTOKEN_MAX + 2];
    size_t n;

    (void) state;
    n = webtoken_encode(k, &u, tok, sizeof(tok));
    tok[n] = '=';
    assert_int_equal(webtoken_decode(k, 'u', tok, n + 1, NOW, AGE, &t), WEBTOKEN_MALFORMED);
    tok[n] = '\0';
    tok[3] = '+';
    assert_int_equal(webtoken_decode(k, 'u', tok, n, NOW, AGE, &t), WEBTOKEN_MALFORMED);
    assert_int_equal(webtoken_decode(k, 'u', "", 0, NOW, AGE, &t), WEBTOKEN_MALFORMED);
    assert_int_equal(webtoken_decode(k, 'u', "AAAA", 4, NOW, AGE, &t), WEBTOKEN_MALFORMED);
    memset(big, 'A', sizeof(big));
    assert_int_equal(webtoken_decode(k, 'u', big, sizeof(big), NOW, AGE, &t),
		     WEBTOKEN_MALFORMED);
    assert_string_equal(webtoken_status_name(WEBTOKEN_FORGED), "forged");
    verp_keys_free(k);
}

/* the 6 bits of a base64url character */
static int
b64_bits(char c)
{
    const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    return (int) (strchr(a, c) - a);
}

/*
 * every length of the last group: its unused bits set is malformed, its used
 * bits changed is forged; a character out of the alphabet anywhere in a
 * group is malformed
 */
static void
test_tails(void **state)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    static const char bad[] = "=+/.~ \x80";
    struct verp_keys *k = keys(NEW "\n");
    char rcpt[16], tok[WEBTOKEN_MAX + 8], copy[WEBTOKEN_MAX + 8];
    struct webtoken_in u = {WEBTOKEN_UNSUB, NOW, rcpt, "c.test", NULL, NULL, 0, NULL, 0};
    struct webtoken t;
    int seen[4] = {0, 0, 0, 0}, i, bit, v, unused;
    size_t n, j, b;

    (void) state;
    for (i = 0; i < 3; i++) {
	snprintf(rcpt, sizeof(rcpt), "%.*s@b.test", i + 1, "xyz");
	n = webtoken_encode(k, &u, tok, sizeof(tok));
	assert_true(n > 0);
	assert_int_equal(webtoken_decode(k, 'u', tok, n, NOW, AGE, &t), WEBTOKEN_OK);
	assert_string_equal(t.rcpt, rcpt);
	seen[n % 4] = 1;
	unused = n % 4 == 2 ? 4 : n % 4 == 3 ? 2 : 0;
	for (bit = 0; bit < 6; bit++) {
	    memcpy(copy, tok, n);
	    v = b64_bits(copy[n - 1]) ^ (1 << bit);
	    copy[n - 1] = a[v];
	    assert_int_equal(webtoken_decode(k, 'u', copy, n, NOW, AGE, &t),
			     bit < unused ? WEBTOKEN_MALFORMED : WEBTOKEN_FORGED);
	}
	/* a character out of the alphabet, at each place of the last groups */
	for (j = n > 8 ? n - 8 : 0; j < n; j++) {
	    for (b = 0; b < sizeof(bad) - 1; b++) {
		memcpy(copy, tok, n);
		copy[j] = bad[b];
		assert_int_equal(webtoken_decode(k, 'u', copy, n, NOW, AGE, &t),
				 WEBTOKEN_MALFORMED);
	    }
	}
	/* a character more makes a length no base64 has */
	if (n % 4 == 0) {
	    memcpy(copy, tok, n);
	    copy[n] = 'A';
	    assert_int_equal(webtoken_decode(k, 'u', copy, n + 1, NOW, AGE, &t),
			     WEBTOKEN_MALFORMED);
	}
    }
    /* the three lengths of a last group were all tried */
    assert_true(seen[0] && seen[2] && seen[3]);
    verp_keys_free(k);
}

/* the secrets' HMAC is HMAC-SHA256 as OpenSSL computes it, for short and long secrets */
static void
test_hmac(void **state)
{
    static const char *const secrets[] = {
	"0123456789abcdef\n",
	"a-secret-of-exactly-sixty-four-bytes-0123456789abcdef0123456789\n",
	"a-secret-longer-than-one-block-of-sha256-so-it-is-hashed-first-0123456789\n",
    };
    unsigned char mine[32], ref[32];
    unsigned int n = 0;
    const char *msg = "outpost-web1 some body bytes";
    size_t i, kl;

    (void) state;
    for (i = 0; i < 3; i++) {
	struct verp_keys *k = keys(secrets[i]);

	kl = strlen(secrets[i]) - 1;
	verp_keys_hmac(k, 0, msg, strlen(msg), mine);
	assert_non_null(HMAC(EVP_sha256(), secrets[i], (int) kl, (const unsigned char *) msg,
			     strlen(msg), ref, &n));
	assert_int_equal(n, 32);
	assert_memory_equal(mine, ref, 32);
	/* and again: the prepared state is not used up */
	verp_keys_hmac(k, 0, msg, strlen(msg), mine);
	assert_memory_equal(mine, ref, 32);
	verp_keys_free(k);
    }
}

/* fields that do not fit are refused, not cut */
static void
test_limits(void **state)
{
    struct verp_keys *k = keys(NEW "\n");
    char longer[300], tok[WEBTOKEN_MAX + 1];
    struct webtoken_in o = {WEBTOKEN_OPEN, NOW, "a@b.test", "c.test", "<m@x>", NULL, 0,
			    NULL, 0};

    (void) state;
    memset(longer, 'x', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    o.campaign = longer;
    assert_int_equal(webtoken_encode(k, &o, tok, sizeof(tok)), 0);
    o.campaign = "";
    o.msgid = longer;
    assert_int_equal(webtoken_encode(k, &o, tok, sizeof(tok)), 0);
    longer[WEBTOKEN_MSGID_MAX - 1] = '\0';
    assert_true(webtoken_encode(k, &o, tok, sizeof(tok)) > 0);
    o.kind = 'x';
    assert_int_equal(webtoken_encode(k, &o, tok, sizeof(tok)), 0);
    verp_keys_free(k);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_roundtrip),
	cmocka_unit_test(test_forged),
	cmocka_unit_test(test_stale),
	cmocka_unit_test(test_rotation),
	cmocka_unit_test(test_urls),
	cmocka_unit_test(test_form),
	cmocka_unit_test(test_tails),
	cmocka_unit_test(test_limits),
	cmocka_unit_test(test_hmac),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
