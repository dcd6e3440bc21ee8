/*
 * test_parser_pool - the milter's side of the report parser: a real parser
 * answers a digest; one that dies, answers nonsense or announces an answer
 * too long fails that report only, and the next report gets a new parser
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bounce.h"
#include "parser_pool.h"
#include "report_digest.h"
#include "testutil.h"

static const char dsn[] =
    "From: MAILER-DAEMON@mx.example\n"
    "To: b-x@bounces.shop.example\n"
    "Subject: Undelivered Mail Returned to Sender\n"
    "Message-ID: <dsn-1@mx.example>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n"
    "\n"
    "--B\n"
    "Content-Type: text/plain\n"
    "\n"
    "Not delivered.\n"
    "--B\n"
    "Content-Type: message/delivery-status\n"
    "\n"
    "Reporting-MTA: dns; mx.example\n"
    "\n"
    "Final-Recipient: rfc822; alice@example.org\n"
    "Action: failed\n"
    "Status: 5.1.1\n"
    "\n"
    "--B--\n";

/* use - run the given parser from now on */
static void
use(const char *program)
{
    parser_pool_shutdown();
    setenv("OUTPOST_INTAKE_PARSER", program, 1);
    parser_pool_init(1);
}

/* script - an executable shell script; the caller unlinks and frees */
static char *
script(const char *text)
{
    char *path = testutil_write_tmp(text);

    chmod(path, 0755);
    return path;
}

/* run - one report through the pool */
static int
run(struct report_digest *d)
{
    return parser_pool_run(dsn, strlen(dsn), REPORT_DIGEST_PARSE, d, "TEST");
}

/* the parser of the build tree reads a DSN */
static void
test_real(void **state)
{
    struct report_digest d;

    (void) state;
    use(TEST_BUILDDIR "/outpost-intake-parse");
    assert_int_equal(parser_pool_check((char[128]) {0}, 128), 0);
    assert_int_equal(run(&d), 0);
    assert_int_equal(d.readable, 1);
    assert_int_equal(d.r.kind, BOUNCE_DSN);
    assert_int_equal(d.r.nrcpts, 1);
    assert_string_equal(d.r.rcpts[0].addr, "alice@example.org");
    assert_int_equal(d.r.rcpts[0].hard, 1);
    assert_string_equal(d.message_id, "<dsn-1@mx.example>");
    report_digest_free(&d);
    /* the same process serves the next one */
    assert_int_equal(run(&d), 0);
    assert_int_equal(d.r.nrcpts, 1);
    report_digest_free(&d);
}

/* a parser that fails, each way; the real one afterwards still works */
static void
test_failures(void **state)
{
    static const char *const bad[] = {
	"#!/bin/sh\nexit 3\n",
	/* a length, then bytes that are not a digest */
	"#!/bin/sh\nprintf '\\000\\000\\000\\003abc' >&0\nexec sleep 30\n",
	/* an answer longer than any digest */
	"#!/bin/sh\nprintf '\\377\\377\\377\\377' >&0\nexec sleep 30\n",
	/* half an answer, then the end */
	"#!/bin/sh\nprintf '\\000\\000\\000\\100\\001' >&0\n",
    };
    struct report_digest d;
    char err[256];
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
	char *p = script(bad[i]);

	use(p);
	assert_int_equal(parser_pool_check(err, sizeof(err)), 0);
	if (run(&d) != -1)
	    fail_msg("parser %zu: the report did not fail", i);
	assert_int_equal(d.r.nrcpts, 0);
	assert_null(d.r.rcpts);
	unlink(p);
	free(p);
    }
    use(TEST_BUILDDIR "/outpost-intake-parse");
    assert_int_equal(run(&d), 0);
    assert_int_equal(d.r.kind, BOUNCE_DSN);
    report_digest_free(&d);
}

/* a program that is not there: the check says so, a report fails */
static void
test_missing(void **state)
{
    struct report_digest d;
    char err[256];

    (void) state;
    use("/nonexistent/outpost-intake-parse");
    assert_int_equal(parser_pool_check(err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/outpost-intake-parse"));
    assert_int_equal(run(&d), -1);
    parser_pool_shutdown();
}

/*
 * the parser answers no request it did not get whole: a length, then the
 * end of input before the first byte of the report, is a request cut
 * short (it exits), not a report of uninitialised bytes
 */
static void
test_cut_short(void **state)
{
    unsigned char hdr[REPORT_DIGEST_REQ_HDR], ans[64];
    char *const argv[] = {(char *) "outpost-intake-parse", NULL};
    int sv[2], status;
    ssize_t n;
    pid_t pid;

    (void) state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    if ((pid = fork()) == 0) {
	if (dup2(sv[1], 0) < 0)
	    _exit(127);
	close(sv[0]);
	close(sv[1]);
	execv(TEST_BUILDDIR "/outpost-intake-parse", argv);
	_exit(127);
    }
    assert_true(pid > 0);
    close(sv[1]);
    report_digest_put32(hdr, 64);
    hdr[4] = REPORT_DIGEST_PARSE;
    assert_int_equal(write(sv[0], hdr, sizeof(hdr)), (ssize_t) sizeof(hdr));
    assert_int_equal(shutdown(sv[0], SHUT_WR), 0);
    n = read(sv[0], ans, sizeof(ans));
    close(sv[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (n != 0)
	fail_msg("the parser answered %zd bytes to a request cut short", n);
    /* it fails (a signal if its stderr is a file: no file may grow in its sandbox) */
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
	fail_msg("the parser ended as after a good request");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_real),
	cmocka_unit_test(test_failures),
	cmocka_unit_test(test_missing),
	cmocka_unit_test(test_cut_short),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
