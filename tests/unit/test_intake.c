/*
 * test_intake - the milter's intake without an MTA: what a report costs in
 * memory while it is collected
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "intake.h"
#include "mime.h"
#include "recipient.h"
#include "testutil.h"

/* a report collected is never given more room than max_report_size and its NUL */
static void
test_buffer_within_cap(void **state)
{
    static unsigned char chunk[65536];
    char text[512], err[256], *secret, *path;
    struct outpost_conf *conf;
    struct intake_setup *is;
    struct intake_msg m;
    struct recipient r;
    size_t total = 0;

    (void) state;
    secret = testutil_write_tmp("0123456789abcdef-secret\n");
    chmod(secret, 0600);
    snprintf(text, sizeof(text), "[intake]\nbounce_domain = bounces.%%d\nsecret_file = %s\n"
	     "max_report_size = 100000\n", secret);
    path = testutil_write_tmp(text);
    if ((conf = conf_load(path, err, sizeof(err))) == NULL)
	fail_msg("%s", err);
    setenv("OUTPOST_INTAKE_PARSER", TEST_BUILDDIR "/outpost-intake-parse", 1);
    intake_init(conf);
    if ((is = intake_setup_new(conf, getuid(), err, sizeof(err))) == NULL)
	fail_msg("%s", err);
    memset(&m, 0, sizeof(m));
    memset(&r, 0, sizeof(r));
    intake_msg_begin(&m, is, conf);
    snprintf(r.addr, sizeof(r.addr), "unsub@bounces.shop.test");
    assert_int_equal(intake_rcpt(&m, &r), 1);
    intake_header(&m, "Subject", "unsubscribe", 1);
    intake_eoh(&m);
    memset(chunk, 'x', sizeof(chunk));
    while (m.len + 1000 <= 100000) {
	intake_body(&m, chunk, 1000);
	total += 1000;
	if (m.cap > 100000 + 1)
	    fail_msg("%zu bytes kept in %zu bytes of room", m.len, m.cap);
    }
    assert_int_equal(m.too_large, 0);
    /* one byte too many: given up, and the room is given back */
    intake_body(&m, chunk, sizeof(chunk));
    assert_int_equal(m.too_large, 1);
    assert_null(m.buf);
    intake_msg_reset(&m);
    intake_setup_unref(is);
    intake_shutdown();
    conf_free(conf);
    unlink(path);
    unlink(secret);
    free(path);
    free(secret);
}

/*
 * a report larger than the parser reads (MIME_MAX_SIZE) is too large
 * whatever max_report_size says: it is not collected for nothing
 */
static void
test_cap_of_the_reader(void **state)
{
    static unsigned char chunk[1 << 20];
    char text[512], err[256], *secret, *path;
    struct outpost_conf *conf;
    struct intake_setup *is;
    struct intake_msg m;
    struct recipient r;

    (void) state;
    secret = testutil_write_tmp("0123456789abcdef-secret\n");
    chmod(secret, 0600);
    snprintf(text, sizeof(text), "[intake]\nbounce_domain = bounces.%%d\nsecret_file = %s\n"
	     "max_report_size = 64M\n", secret);
    path = testutil_write_tmp(text);
    if ((conf = conf_load(path, err, sizeof(err))) == NULL)
	fail_msg("%s", err);
    setenv("OUTPOST_INTAKE_PARSER", TEST_BUILDDIR "/outpost-intake-parse", 1);
    intake_init(conf);
    if ((is = intake_setup_new(conf, getuid(), err, sizeof(err))) == NULL)
	fail_msg("%s", err);
    memset(&m, 0, sizeof(m));
    memset(&r, 0, sizeof(r));
    intake_msg_begin(&m, is, conf);
    snprintf(r.addr, sizeof(r.addr), "fbl@bounces.shop.test");
    assert_int_equal(intake_rcpt(&m, &r), 1);
    intake_eoh(&m);
    memset(chunk, 'x', sizeof(chunk));
    while (m.len + sizeof(chunk) <= MIME_MAX_SIZE)
	intake_body(&m, chunk, sizeof(chunk));
    assert_int_equal(m.too_large, 0);
    intake_body(&m, chunk, sizeof(chunk));
    if (!m.too_large)
	fail_msg("%zu bytes collected, more than the parser reads (%d)", m.len, MIME_MAX_SIZE);
    assert_null(m.buf);
    intake_msg_reset(&m);
    intake_setup_unref(is);
    intake_shutdown();
    conf_free(conf);
    unlink(path);
    unlink(secret);
    free(path);
    free(secret);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_buffer_within_cap),
	cmocka_unit_test(test_cap_of_the_reader),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
