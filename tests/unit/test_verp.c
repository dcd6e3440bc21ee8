/*
 * test_verp - return-path tokens: round trips, forgery, staleness, limits;
 * the intake event of a classified recipient
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "bounce.h"
#include "intake_act.h"
#include "testutil.h"
#include "verp.h"

#define SECRET "0123456789abcdef-secret"
#define TODAY 20000u

static struct verp_keys *
keys(const char *text)
{
    char err[256];
    struct verp_keys *k = verp_keys_parse(text, strlen(text), "secrets", err, sizeof(err));

    if (k == NULL)
	fail_msg("%s", err);
    return k;
}

/* round trip: recipient and sender domain, any case */
static void
test_roundtrip(void **state)
{
    struct verp_keys *k = keys(SECRET "\n");
    struct verp_token t;
    char tok[65], upper[65];
    size_t n, i;

    (void) state;
    n = verp_encode(k, VERP_BOUNCE, TODAY, "alice.smith+news@gmail.test", "shop.test",
		    tok, sizeof(tok));
    assert_true(n > VERP_MAC_CHARS);
    assert_int_equal(strlen(tok), n);
    assert_int_equal(strspn(tok, "abcdefghijklmnopqrstuvwxyz234567"), n);
    assert_int_equal(verp_decode(k, VERP_BOUNCE, tok, n, TODAY, 30, &t), VERP_OK);
    assert_string_equal(t.rcpt, "alice.smith+news@gmail.test");
    assert_string_equal(t.sender_domain, "shop.test");
    assert_int_equal(t.day, TODAY);
    /* an MTA that upper-cases local parts does no harm */
    for (i = 0; i <= n; i++)
	upper[i] = (char) (tok[i] >= 'a' && tok[i] <= 'z' ? tok[i] - 32 : tok[i]);
    assert_int_equal(verp_decode(k, VERP_BOUNCE, upper, n, TODAY, 30, &t), VERP_OK);
    assert_string_equal(t.rcpt, "alice.smith+news@gmail.test");
    /* odd bytes survive */
    n = verp_encode(k, VERP_BOUNCE, TODAY, "\"x y\"@e.test", "", tok, sizeof(tok));
    assert_true(n > 0);
    assert_int_equal(verp_decode(k, VERP_BOUNCE, tok, n, TODAY, 30, &t), VERP_OK);
    assert_string_equal(t.rcpt, "\"x y\"@e.test");
    assert_string_equal(t.sender_domain, "");
    verp_keys_free(k);
}

/* a byte flipped anywhere, another key, another kind: forged */
static void
test_forgery(void **state)
{
    struct verp_keys *k = keys(SECRET), *other = keys("another-secret-of-16+");
    struct verp_token t;
    char tok[65], bad[65];
    size_t n, i;
    int st;

    (void) state;
    n = verp_encode(k, VERP_BOUNCE, TODAY, "bob@example.test", "shop.test", tok, sizeof(tok));
    assert_true(n > 0);
    for (i = 0; i < n; i++) {
	memcpy(bad, tok, n + 1);
	bad[i] = bad[i] == 'a' ? 'b' : 'a';
	st = verp_decode(k, VERP_BOUNCE, bad, n, TODAY, 30, &t);
	assert_true(st == VERP_FORGED || st == VERP_MALFORMED);
    }
    assert_int_equal(verp_decode(other, VERP_BOUNCE, tok, n, TODAY, 30, &t), VERP_FORGED);
    assert_int_equal(verp_decode(k, VERP_UNSUB, tok, n, TODAY, 30, &t), VERP_FORGED);
    /* truncated, extended, foreign characters */
    assert_int_not_equal(verp_decode(k, VERP_BOUNCE, tok, n - 1, TODAY, 30, &t), VERP_OK);
    memcpy(bad, tok, n);
    bad[n] = 'a';
    assert_int_not_equal(verp_decode(k, VERP_BOUNCE, bad, n + 1, TODAY, 30, &t), VERP_OK);
    memcpy(bad, tok, n + 1);
    bad[3] = '1';
    assert_int_equal(verp_decode(k, VERP_BOUNCE, bad, n, TODAY, 30, &t), VERP_MALFORMED);
    assert_int_equal(verp_decode(k, VERP_BOUNCE, "", 0, TODAY, 30, &t), VERP_MALFORMED);
    verp_keys_free(k);
    verp_keys_free(other);
}

/* age: up to max_age days, one day ahead; across the 16-bit wrap */
static void
test_staleness(void **state)
{
    struct verp_keys *k = keys(SECRET);
    struct verp_token t;
    char tok[65];
    size_t n;

    (void) state;
    n = verp_encode(k, VERP_BOUNCE, TODAY, "a@b.test", "c.test", tok, sizeof(tok));
    assert_int_equal(verp_decode(k, VERP_BOUNCE, tok, n, TODAY + 30, 30, &t), VERP_OK);
    assert_int_equal(verp_decode(k, VERP_BOUNCE, tok, n, TODAY + 31, 30, &t), VERP_STALE);
    assert_int_equal(verp_decode(k, VERP_BOUNCE, tok, n, TODAY - 1, 30, &t), VERP_OK);
    assert_int_equal(verp_decode(k, VERP_BOUNCE, tok, n, TODAY - 2, 30, &t), VERP_STALE);
    n = verp_encode(k, VERP_BOUNCE, 65535, "a@b.test", "c.test", tok, sizeof(tok));
    assert_int_equal(verp_decode(k, VERP_BOUNCE, tok, n, 3, 30, &t), VERP_OK);
    assert_int_equal(verp_day(86400LL * 65537 + 5), 1);
    verp_keys_free(k);
}

/* a long recipient does not fit in 62 characters: the id form does */
static void
test_limits(void **state)
{
    struct verp_keys *k = keys(SECRET);
    struct verp_token t;
    char tok[63], big[VERP_TOKEN_MAX + 2];
    size_t n;

    (void) state;
    n = verp_encode(k, VERP_BOUNCE, TODAY, "firstname.lastname@gmail.test", "shop.test",
		    tok, sizeof(tok));
    assert_true(n > 0 && n <= 62);
    n = verp_encode(k, VERP_BOUNCE, TODAY,
		    "a.very.long.local.part.indeed.12345@subdomain.example.test",
		    "shop.test", tok, sizeof(tok));
    assert_int_equal(n, 0);
    n = verp_encode_id(k, VERP_BOUNCE, TODAY, 0x0123456789abcdefULL, tok, sizeof(tok));
    assert_true(n > 0 && n <= 40);
    assert_int_equal(verp_decode(k, VERP_BOUNCE, tok, n, TODAY, 30, &t), VERP_OK);
    assert_int_equal(t.mode, 1);
    assert_true(t.id == 0x0123456789abcdefULL);
    memset(big, 'a', sizeof(big));
    assert_int_equal(verp_decode(k, VERP_BOUNCE, big, sizeof(big), TODAY, 30, &t),
		     VERP_MALFORMED);
    verp_keys_free(k);
}

/* rotation: the first key signs, every key verifies */
static void
test_rotation(void **state)
{
    struct verp_keys *old = keys("# old\nthe-old-secret-000000\n");
    struct verp_keys *both = keys("the-new-secret-111111\n\n  the-old-secret-000000  \n");
    struct verp_token t;
    char tok[65];
    size_t n;

    (void) state;
    n = verp_encode(old, VERP_BOUNCE, TODAY, "a@b.test", "", tok, sizeof(tok));
    assert_int_equal(verp_decode(both, VERP_BOUNCE, tok, n, TODAY, 30, &t), VERP_OK);
    n = verp_encode(both, VERP_BOUNCE, TODAY, "a@b.test", "", tok, sizeof(tok));
    assert_int_equal(verp_decode(old, VERP_BOUNCE, tok, n, TODAY, 30, &t), VERP_FORGED);
    verp_keys_free(old);
    verp_keys_free(both);
}

/*
 * b32_bits - nbits of buf (most significant first) as base32, zero padded;
 * what a token of version 1 looked like, made here by hand
 */
static size_t
b32_bits(const unsigned char *buf, size_t nbits, char *out)
{
    static const char a[] = "abcdefghijklmnopqrstuvwxyz234567";
    size_t i, j, n = 0;
    unsigned v;

    for (i = 0; i < nbits; i += 5) {
	for (v = 0, j = i; j < i + 5; j++)
	    v = v << 1 | (j < nbits ? (buf[j / 8] >> (7 - j % 8)) & 1 : 0);
	out[n++] = a[v];
    }
    out[n] = '\0';
    return n;
}

/* a token bound to a domain holds there only; one of version 1 as it was made */
static void
test_bound(void **state)
{
    struct verp_keys *k = keys(SECRET);
    unsigned char body[11], data[12], full[32];
    struct verp_token t;
    char tok[65];
    size_t n;

    (void) state;
    n = verp_encode_bound(k, VERP_UNSUB, TODAY, "mia@gmail.test", "", "shop.test", tok,
			  sizeof(tok));
    assert_true(n > 0);
    assert_int_equal(verp_decode_bound(k, VERP_UNSUB, tok, n, "shop.test", TODAY, 30, &t),
		     VERP_OK);
    assert_string_equal(t.rcpt, "mia@gmail.test");
    assert_int_equal(verp_decode_bound(k, VERP_UNSUB, tok, n, "Shop.TEST", TODAY, 30, &t),
		     VERP_OK);
    assert_int_equal(verp_decode_bound(k, VERP_UNSUB, tok, n, "other.test", TODAY, 30, &t),
		     VERP_FORGED);
    assert_int_equal(verp_decode(k, VERP_UNSUB, tok, n, TODAY, 30, &t), VERP_FORGED);
    n = verp_encode_id_bound(k, VERP_BOUNCE, TODAY, 42, "shop.test", tok, sizeof(tok));
    assert_int_equal(verp_decode_bound(k, VERP_BOUNCE, tok, n, "shop.test", TODAY, 30, &t),
		     VERP_OK);
    assert_int_equal(t.id, 42);
    assert_int_equal(verp_decode_bound(k, VERP_BOUNCE, tok, n, "shop.tes", TODAY, 30, &t),
		     VERP_FORGED);
    /* unbound: good where nothing is bound */
    n = verp_encode(k, VERP_BOUNCE, TODAY, "a@b.test", "c.test", tok, sizeof(tok));
    assert_int_equal(verp_decode(k, VERP_BOUNCE, tok, n, TODAY, 30, &t), VERP_OK);
    assert_int_equal(verp_decode_bound(k, VERP_BOUNCE, tok, n, "c.test", TODAY, 30, &t),
		     VERP_FORGED);

    /* version 1, mode 1, TODAY, id 42: HMAC(kind | body), bound to nothing */
    memset(body, 0, sizeof(body));
    body[0] = 1 << 5 | 1 << 4 | (TODAY >> 12);
    body[1] = (unsigned char) (TODAY >> 4);
    body[2] = (unsigned char) ((TODAY & 0xf) << 4);
    body[10] = 42 << 4 & 0xff;		/* the id's last 8 bits end at bit 84 */
    body[9] = 42 >> 4;
    data[0] = VERP_BOUNCE;
    memcpy(data + 1, body, sizeof(body));
    verp_keys_hmac(k, 0, data, sizeof(data), full);
    n = b32_bits(full, VERP_MAC_BYTES * 8, tok);
    n += b32_bits(body, 84, tok + n);
    assert_int_equal(verp_decode_bound(k, VERP_BOUNCE, tok, n, "other.test", TODAY, 30, &t),
		     VERP_OK);
    assert_int_equal(t.version, 1);
    assert_int_equal(t.id, 42);
    assert_int_equal(verp_decode(k, VERP_BOUNCE, tok, n, TODAY, 30, &t), VERP_OK);
    tok[0] = tok[0] == 'a' ? 'b' : 'a';
    assert_int_equal(verp_decode(k, VERP_BOUNCE, tok, n, TODAY, 30, &t), VERP_FORGED);
    verp_keys_free(k);
}

/* secrets: too short, none, a file others may read */
static void
test_keys(void **state)
{
    char err[256], *path;
    struct verp_keys *k;

    (void) state;
    assert_null(verp_keys_parse("short\n", 6, "f", err, sizeof(err)));
    assert_string_equal(err, "f:1: secret shorter than 16 bytes");
    assert_null(verp_keys_parse("# nothing\n\n", 11, "f", err, sizeof(err)));
    assert_string_equal(err, "f: no secret");
    path = testutil_write_tmp(SECRET "\n");
    chmod(path, 0644);
    assert_null(verp_keys_load(path, 0, 0, err, sizeof(err)));
    assert_non_null(strstr(err, "must be private"));
    chmod(path, 0600);
    k = verp_keys_load(path, 1, getuid(), err, sizeof(err));
    assert_non_null(k);
    verp_keys_free(k);
    assert_null(verp_keys_load(path, 1, getuid() + 1, err, sizeof(err)));
    assert_non_null(strstr(err, "not by the daemon user"));
    unlink(path);
    free(path);
}

/* what a classified recipient calls for */
static void
test_event_of(void **state)
{
    struct bounce_rcpt rc;

    (void) state;
    memset(&rc, 0, sizeof(rc));
    rc.reason = BR_USERUNKNOWN;
    rc.hard = 1;
    strcpy(rc.action, "failed");
    assert_int_equal(intake_event_of(BOUNCE_DSN, &rc), INTAKE_HARD);
    rc.reason = BR_MAILBOXFULL;
    rc.hard = 0;
    assert_int_equal(intake_event_of(BOUNCE_DSN, &rc), INTAKE_SOFT);
    strcpy(rc.action, "delayed");
    assert_int_equal(intake_event_of(BOUNCE_DSN, &rc), -1);
    strcpy(rc.action, "delivered");
    assert_int_equal(intake_event_of(BOUNCE_DSN, &rc), -1);
    rc.action[0] = '\0';
    rc.reason = BR_FEEDBACK;
    strcpy(rc.feedback_type, "abuse");
    assert_int_equal(intake_event_of(BOUNCE_ARF, &rc), INTAKE_COMPLAINT);
    strcpy(rc.feedback_type, "not-spam");
    assert_int_equal(intake_event_of(BOUNCE_ARF, &rc), -1);
    /* RFC 6591: a failed authentication, not the recipient's complaint */
    strcpy(rc.feedback_type, "auth-failure");
    assert_int_equal(intake_event_of(BOUNCE_ARF, &rc), -1);
    strcpy(rc.feedback_type, "fraud");
    assert_int_equal(intake_event_of(BOUNCE_ARF, &rc), INTAKE_COMPLAINT);
    assert_int_equal(intake_event_of(BOUNCE_UNSUBSCRIBE, &rc), INTAKE_UNSUBSCRIBE);
    assert_int_equal(intake_event_of(BOUNCE_AUTOREPLY, &rc), -1);
    assert_int_equal(intake_event_of(BOUNCE_UNKNOWN, &rc), -1);
    assert_string_equal(intake_event_name(INTAKE_SOFT), "soft-bounce");
}

/* the return-path domain of a sender domain: one expansion for all */
static void
test_return_domain(void **state)
{
    char out[64];

    (void) state;
    assert_int_equal(verp_return_domain("bounces.%d", "shop.test", out, sizeof(out)), 17);
    assert_string_equal(out, "bounces.shop.test");
    assert_int_equal(verp_return_domain("%d.rp.example", "shop.test", out, sizeof(out)), 20);
    assert_string_equal(out, "shop.test.rp.example");
    assert_int_equal(verp_return_domain("%d", "shop.test", out, sizeof(out)), 9);
    assert_string_equal(out, "shop.test");
    /* no %d: one domain for every sender */
    assert_int_equal(verp_return_domain("rp.example", "shop.test", out, sizeof(out)), 10);
    assert_string_equal(out, "rp.example");
    /* unset, or too long: nothing */
    assert_int_equal(verp_return_domain(NULL, "shop.test", out, sizeof(out)), 0);
    assert_int_equal(verp_return_domain("bounces.%d", "shop.test", out, 17), 0);
    assert_string_equal(out, "");
    assert_int_equal(verp_return_domain("bounces.%d", "shop.test", out, 18), 17);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_roundtrip),
	cmocka_unit_test(test_forgery),
	cmocka_unit_test(test_staleness),
	cmocka_unit_test(test_limits),
	cmocka_unit_test(test_rotation),
	cmocka_unit_test(test_bound),
	cmocka_unit_test(test_keys),
	cmocka_unit_test(test_event_of),
	cmocka_unit_test(test_return_domain),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
