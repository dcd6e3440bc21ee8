/*
 * test_report_digest - the digest of a report and its wire form: round trips
 * over the bounce corpus, and hostile answers (truncated, oversized, wrong
 * lengths, bad values) refused
 */
#include "config.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bounce.h"
#include "report_digest.h"
#include "xalloc.h"

#define CORPUS TEST_SRCDIR "/tests/data/bounces"

static const char complaint[] =
    "From: feedback@isp.example\n"
    "To: fbl@bounces.shop.example\n"
    "Subject: complaint about alice@isp.example\n"
    "Message-ID: <fbl-1@isp.example>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=feedback-report; boundary=\"b\"\n"
    "\n"
    "--b\n"
    "Content-Type: text/plain\n"
    "\n"
    "A complaint.\n"
    "--b\n"
    "Content-Type: message/feedback-report\n"
    "\n"
    "Feedback-Type: abuse\n"
    "User-Agent: test/1.0\n"
    "Version: 1\n"
    "Original-Rcpt-To: <alice@isp.example>\n"
    "\n"
    "--b\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "Return-Path: <b-TOKEN@bounces.shop.example>\n"
    "From: news@shop.example\n"
    "To: alice@isp.example\n"
    "Subject: news\n"
    "\n"
    "Hello.\n"
    "--b--\n";

/* read_file - a whole corpus file */
static char *
read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n = 0;

    if (f == NULL || fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0)
	fail_msg("%s: cannot read", path);
    rewind(f);
    buf = xmalloc((size_t) n + 1);
    if (fread(buf, 1, (size_t) n, f) != (size_t) n)
	fail_msg("%s: short read", path);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t) n;
    return buf;
}

/* same - two digests say the same */
static void
same(const struct report_digest *a, const struct report_digest *b)
{
    size_t i;

    assert_int_equal(a->readable, b->readable);
    assert_string_equal(a->why, b->why);
    assert_string_equal(a->orig_return_path, b->orig_return_path);
    assert_string_equal(a->message_id, b->message_id);
    assert_string_equal(a->named_rcpt, b->named_rcpt);
    assert_int_equal(a->r.kind, b->r.kind);
    assert_int_equal(a->r.truncated, b->r.truncated);
    assert_int_equal(a->r.over_budget, b->r.over_budget);
    assert_string_equal(a->r.orig_mail_from, b->r.orig_mail_from);
    assert_int_equal(a->r.nrcpts, b->r.nrcpts);
    for (i = 0; i < a->r.nrcpts; i++) {
	assert_string_equal(a->r.rcpts[i].addr, b->r.rcpts[i].addr);
	assert_string_equal(a->r.rcpts[i].status, b->r.rcpts[i].status);
	assert_string_equal(a->r.rcpts[i].replycode, b->r.rcpts[i].replycode);
	assert_int_equal(a->r.rcpts[i].reason, b->r.rcpts[i].reason);
	assert_int_equal(a->r.rcpts[i].hard, b->r.rcpts[i].hard);
	assert_string_equal(a->r.rcpts[i].feedback_type, b->r.rcpts[i].feedback_type);
	assert_string_equal(a->r.rcpts[i].action, b->r.rcpts[i].action);
	assert_string_equal(a->r.rcpts[i].reporting_mta, b->r.rcpts[i].reporting_mta);
	assert_string_equal(a->r.rcpts[i].bl_zone, b->r.rcpts[i].bl_zone);
	assert_string_equal(a->r.rcpts[i].bl_family, b->r.rcpts[i].bl_family);
	assert_string_equal(a->r.rcpts[i].bl_ip, b->r.rcpts[i].bl_ip);
    }
}

/* every report of the corpus survives the trip, and every cut of it is refused */
static void
test_corpus_roundtrip(void **state)
{
    struct report_digest d, back;
    struct dirent *e;
    unsigned char *w;
    const char *why;
    char path[4096], *msg;
    size_t len, wlen, cut, n = 0, with_rcpts = 0;
    DIR *dir = opendir(CORPUS);

    (void) state;
    assert_non_null(dir);
    while ((e = readdir(dir)) != NULL) {
	if (strstr(e->d_name, ".eml") == NULL)
	    continue;
	snprintf(path, sizeof(path), "%s/%s", CORPUS, e->d_name);
	msg = read_file(path, &len);
	report_digest_make(msg, len, REPORT_DIGEST_PARSE, &d);
	assert_null(d.r.orig_headers);
	w = report_digest_encode(&d, &wlen);
	assert_true(wlen <= REPORT_DIGEST_WIRE_MAX);
	if (report_digest_decode(w, wlen, &back, &why) < 0)
	    fail_msg("%s: %s", e->d_name, why);
	same(&d, &back);
	with_rcpts += d.r.nrcpts > 0;
	report_digest_free(&back);
	for (cut = 0; cut < wlen; cut++) {
	    assert_int_equal(report_digest_decode(w, cut, &back, &why), -1);
	    assert_int_equal(back.r.nrcpts, 0);
	    assert_null(back.r.rcpts);
	}
	free(w);
	report_digest_free(&d);
	free(msg);
	n++;
    }
    closedir(dir);
    assert_true(n > 100);
    assert_true(with_rcpts > n / 2);
}

/* what the milter needs beyond bounce_parse(): Message-ID, Return-Path, named address */
static void
test_make_fields(void **state)
{
    struct report_digest d;

    (void) state;
    report_digest_make(complaint, strlen(complaint), REPORT_DIGEST_PARSE, &d);
    assert_int_equal(d.readable, 1);
    assert_int_equal(d.r.kind, BOUNCE_ARF);
    assert_string_equal(d.message_id, "<fbl-1@isp.example>");
    assert_string_equal(d.orig_return_path, "b-token@bounces.shop.example");
    assert_string_equal(d.named_rcpt, "alice@isp.example");
    report_digest_free(&d);

    /* without REPORT_DIGEST_PARSE: the header only, no recipients */
    report_digest_make(complaint, strlen(complaint), 0, &d);
    assert_int_equal(d.readable, 1);
    assert_int_equal(d.r.nrcpts, 0);
    assert_string_equal(d.orig_return_path, "");
    assert_string_equal(d.named_rcpt, "alice@isp.example");
    report_digest_free(&d);

    /* no address in the Subject: the sender */
    report_digest_make("From: Bob <Bob@Example.ORG>\nSubject: stop\n\nplease\n", 44, 0, &d);
    assert_string_equal(d.named_rcpt, "bob@example.org");
    assert_string_equal(d.message_id, "");
    report_digest_free(&d);
}

/* a report too large to read says why */
static void
test_make_unreadable(void **state)
{
    struct report_digest d, back;
    size_t len = MIME_MAX_SIZE + 1, wlen;
    char *big = xmalloc(len + 1);
    unsigned char *w;
    const char *why;

    (void) state;
    memset(big, 'a', len);
    memcpy(big, "Subject: x\n\n", 12);
    big[len] = '\0';
    report_digest_make(big, len, REPORT_DIGEST_PARSE, &d);
    assert_int_equal(d.readable, 0);
    assert_true(d.why[0] != '\0');
    w = report_digest_encode(&d, &wlen);
    assert_int_equal(report_digest_decode(w, wlen, &back, &why), 0);
    same(&d, &back);
    report_digest_free(&back);
    report_digest_free(&d);
    free(w);
    free(big);
}

/* the largest digest: every field full, every recipient */
static void
test_largest(void **state)
{
    struct report_digest d, back;
    unsigned char *w;
    const char *why;
    size_t i, wlen;

    (void) state;
    memset(&d, 0, sizeof(d));
    d.readable = 1;
    d.r.kind = BOUNCE_DSN;
    memset(d.why, 'w', sizeof(d.why) - 1);
    memset(d.r.orig_mail_from, 'o', sizeof(d.r.orig_mail_from) - 1);
    memset(d.orig_return_path, 'r', sizeof(d.orig_return_path) - 1);
    memset(d.message_id, 'm', sizeof(d.message_id) - 1);
    memset(d.named_rcpt, 'n', sizeof(d.named_rcpt) - 1);
    d.r.nrcpts = BOUNCE_MAX_RCPTS;
    d.r.rcpts = xcalloc(BOUNCE_MAX_RCPTS, sizeof(*d.r.rcpts));
    for (i = 0; i < BOUNCE_MAX_RCPTS; i++) {
	struct bounce_rcpt *rc = &d.r.rcpts[i];

	memset(rc->addr, 'a', sizeof(rc->addr) - 1);
	memset(rc->status, 's', sizeof(rc->status) - 1);
	memset(rc->replycode, '5', sizeof(rc->replycode) - 1);
	memset(rc->feedback_type, 'f', sizeof(rc->feedback_type) - 1);
	memset(rc->action, 'x', sizeof(rc->action) - 1);
	memset(rc->reporting_mta, 'h', sizeof(rc->reporting_mta) - 1);
	memset(rc->bl_zone, 'z', sizeof(rc->bl_zone) - 1);
	snprintf(rc->bl_family, sizeof(rc->bl_family), "spameatingmonkey");
	memset(rc->bl_ip, '1', sizeof(rc->bl_ip) - 1);
	rc->reason = BR_COUNT - 1;
	rc->hard = 1;
    }
    w = report_digest_encode(&d, &wlen);
    assert_true(wlen <= REPORT_DIGEST_WIRE_MAX);
    assert_int_equal(report_digest_decode(w, wlen, &back, &why), 0);
    same(&d, &back);
    report_digest_free(&back);
    free(w);
    report_digest_free(&d);
}

/* a small valid answer with one recipient, built by hand */
static size_t
answer(unsigned char *p)
{
    static const unsigned char a[] = {
	REPORT_DIGEST_VERSION, 1, BOUNCE_DSN,
	0, 0,				/* why */
	0, 0,				/* orig_mail_from */
	0, 0,				/* orig_return_path */
	0, 3, '<', 'i', '>',		/* message_id */
	0, 0,				/* named_rcpt */
	0, 1,				/* one recipient */
	0, 3, 'a', '@', 'b',		/* addr */
	0, 5, '5', '.', '1', '.', '1',	/* status */
	0, 3, '5', '5', '0',		/* replycode */
	BR_USERUNKNOWN, 1,
	0, 0,				/* feedback_type */
	0, 6, 'f', 'a', 'i', 'l', 'e', 'd',	/* action */
	0, 0,				/* reporting_mta */
	0, 0,				/* bl_zone */
	0, 5, 's', 'o', 'r', 'b', 's',	/* bl_family */
	0, 0,				/* bl_ip */
    };

    memcpy(p, a, sizeof(a));
    return sizeof(a);
}

/* refused - the buffer must not decode, and leave nothing behind */
static void
refused(const unsigned char *p, size_t len, const char *what)
{
    struct report_digest d;
    const char *why = NULL;

    if (report_digest_decode(p, len, &d, &why) != -1)
	fail_msg("accepted: %s", what);
    assert_non_null(why);
    assert_int_equal(d.r.nrcpts, 0);
    assert_null(d.r.rcpts);
}

/* hostile answers: every wrong length and value */
static void
test_hostile(void **state)
{
    unsigned char a[256], b[256], *big;
    struct report_digest d;
    const char *why;
    size_t n = answer(a);

    (void) state;
    assert_int_equal(report_digest_decode(a, n, &d, &why), 0);
    assert_string_equal(d.message_id, "<i>");
    assert_string_equal(d.r.rcpts[0].addr, "a@b");
    assert_string_equal(d.r.rcpts[0].action, "failed");
    assert_string_equal(d.r.rcpts[0].bl_family, "sorbs");
    report_digest_free(&d);
    memcpy(b, a, n);
    b[n - 3] = 'x';			/* "sorbx": a family blname does not know */
    refused(b, n, "unknown blocklist family");

    memcpy(b, a, n);
    b[n] = 0;
    refused(b, n + 1, "a byte left over");
    refused(a, 0, "empty");
    refused(a, n - 1, "cut in the last string");

    memcpy(b, a, n);
    b[0] = REPORT_DIGEST_VERSION - 1;
    refused(b, n, "the version before");
    memcpy(b, a, n);
    b[1] = 8;
    refused(b, n, "unknown flag");
    memcpy(b, a, n);
    b[2] = BOUNCE_AUTOREPLY + 1;
    refused(b, n, "unknown kind");

    memcpy(b, a, n);
    b[10] = 4;				/* message_id says 4 bytes: 3 and a NUL follow */
    refused(b, n, "string length off by one");
    memcpy(b, a, n);
    b[9] = 0xff;			/* 0xff03: beyond the buffer */
    refused(b, n, "string length beyond the end");
    memcpy(b, a, n);
    b[12] = '\0';
    refused(b, n, "NUL inside a string");

    memcpy(b, a, n);
    b[17] = 2;
    refused(b, n, "two recipients said, one sent");
    memcpy(b, a, n);
    b[16] = 0xff;
    b[17] = 0xff;
    refused(b, n, "65535 recipients");

    memcpy(b, a, n);
    b[35] = BR_COUNT;
    refused(b, n, "unknown reason");
    memcpy(b, a, n);
    b[36] = 2;
    refused(b, n, "hard neither 0 nor 1");

    /* a string longer than its field: replycode holds 3 */
    {
	static const unsigned char rc4[] = {0, 4, '5', '5', '0', '0'};

	memcpy(b, a, 30);
	memcpy(b + 30, rc4, sizeof(rc4));
	memcpy(b + 30 + sizeof(rc4), a + 35, n - 35);
	refused(b, n + 1, "replycode of 4 bytes");
	b[31] = 3;			/* the same, told right: 3 bytes and a stray one */
	refused(b, n + 1, "a byte left over after the replycode");
    }

    /* message_id of 255 bytes fits its field, of 256 does not */
    big = xcalloc(1, REPORT_DIGEST_WIRE_MAX + 2);
    memcpy(big, a, 9);
    big[9] = 0;
    big[10] = 255;
    memset(big + 11, 'm', 255);		/* then zeros: named_rcpt "", no recipients */
    assert_int_equal(report_digest_decode(big, 11 + 255 + 4, &d, &why), 0);
    assert_int_equal(strlen(d.message_id), 255);
    report_digest_free(&d);
    big[9] = 1;
    big[10] = 0;
    big[11 + 255] = 'm';
    refused(big, 11 + 256 + 4, "message_id too long for its field");
    /* over the largest possible answer */
    refused(big, REPORT_DIGEST_WIRE_MAX + 1, "longer than any answer");
    free(big);
}

/* the framing of lengths */
static void
test_put32(void **state)
{
    unsigned char b[4];

    (void) state;
    report_digest_put32(b, 0x01020304u);
    assert_int_equal(b[0], 1);
    assert_int_equal(b[3], 4);
    assert_int_equal(report_digest_get32(b), 0x01020304u);
    report_digest_put32(b, 0xffffffffu);
    assert_int_equal(report_digest_get32(b), 0xffffffffu);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_corpus_roundtrip),
	cmocka_unit_test(test_make_fields),
	cmocka_unit_test(test_make_unreadable),
	cmocka_unit_test(test_largest),
	cmocka_unit_test(test_hostile),
	cmocka_unit_test(test_put32),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
