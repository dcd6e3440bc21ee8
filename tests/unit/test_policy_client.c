/*
 * test_policy_client - the milter's connections to a policy server: persistence,
 * a server that closed an idle connection, timeouts, a server that is not there
 *
 * The server is a thread of the test on a unix socket; what it answers is set
 * per test (server_mode).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "monotime.h"
#include "policy_client.h"

enum { SRV_ANSWER, SRV_CLOSE_AFTER, SRV_SILENT, SRV_GARBAGE };

struct server {
    char path[108];
    int lfd;
    int mode;			/* SRV_* */
    int accepted;		/* connections accepted */
    int requests;		/* requests answered */
    char last[2048];		/* the last request */
    pthread_t tid;
};

static struct server srv;

/* serve_conn - answer requests on one connection, as the mode says */
static void
serve_conn(int fd)
{
    char buf[4096];
    size_t got = 0;
    ssize_t n;
    char *end;

    for (;;) {
	n = read(fd, buf + got, sizeof(buf) - 1 - got);
	if (n <= 0)
	    break;
	got += (size_t) n;
	buf[got] = '\0';
	while ((end = strstr(buf, "\n\n")) != NULL) {
	    size_t len = (size_t) (end - buf) + 2;

	    snprintf(srv.last, sizeof(srv.last), "%.*s", (int) len, buf);
	    memmove(buf, buf + len, got - len + 1);
	    got -= len;
	    if (srv.mode == SRV_SILENT) {
		sleep(1);
		return;
	    }
	    srv.requests++;
	    if (srv.mode == SRV_GARBAGE) {
		(void) !write(fd, "no equals sign\n\n", 16);
		continue;
	    }
	    if (strstr(srv.last, "recipient=slow@") != NULL)
		(void) !write(fd, "action=DEFER_IF_PERMIT 4.7.1 too fast\n\n", 39);
	    else
		(void) !write(fd, "action=DUNNO\n\n", 14);
	    if (srv.mode == SRV_CLOSE_AFTER)
		return;
	}
    }
}

/* server_main - accept connections one after the other */
static void *
server_main(void *arg)
{
    int fd;

    (void) arg;
    while ((fd = accept(srv.lfd, NULL, NULL)) >= 0) {
	srv.accepted++;
	serve_conn(fd);
	close(fd);
    }
    return NULL;
}

/* setup - a listening server in a fresh directory */
static int
setup(void **state)
{
    struct sockaddr_un sun;
    char dir[] = "/tmp/outpost-pc-XXXXXX";

    (void) state;
    memset(&srv, 0, sizeof(srv));
    if (mkdtemp(dir) == NULL)
	return -1;
    snprintf(srv.path, sizeof(srv.path), "%s/policy.sock", dir);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", srv.path);
    srv.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (bind(srv.lfd, (struct sockaddr *) &sun, sizeof(sun)) < 0 || listen(srv.lfd, 8) < 0)
	return -1;
    return pthread_create(&srv.tid, NULL, server_main, NULL) == 0 ? 0 : -1;
}

/* teardown - stop the server, remove its socket */
static int
teardown(void **state)
{
    char *slash;

    (void) state;
    shutdown(srv.lfd, SHUT_RDWR);
    close(srv.lfd);
    pthread_join(srv.tid, NULL);
    unlink(srv.path);
    if ((slash = strrchr(srv.path, '/')) != NULL) {
	*slash = '\0';
	rmdir(srv.path);
    }
    return 0;
}

/* new_client - a client of the test server */
static struct policy_client *
new_client(long long timeout_ms)
{
    char svc[200], err[300];
    struct policy_client *pc;

    snprintf(svc, sizeof(svc), "unix:%s", srv.path);
    pc = policy_client_new(svc, timeout_ms, err, sizeof(err));
    if (pc == NULL)
	fail_msg("%s", err);
    return pc;
}

/* ask - one request for rcpt; the client's return code */
static int
ask(struct policy_client *pc, const char *rcpt, struct policy_verdict *v, char *err)
{
    struct policy_query q = {.sender = "news@shop.test", .recipient = rcpt,
	.client_address = "127.0.0.1", .instance = "i1"};

    return policy_client_ask(pc, &q, v, err, 300);
}

static void
test_persistent(void **state)
{
    struct policy_client *pc = new_client(2000);
    struct policy_verdict v;
    char err[300];
    int i;

    (void) state;
    for (i = 0; i < 5; i++) {
	assert_int_equal(ask(pc, "a@gmail.test", &v, err), 0);
	assert_int_equal(v.kind, POLICY_CONTINUE);
    }
    assert_int_equal(ask(pc, "slow@gmail.test", &v, err), 0);
    assert_int_equal(v.kind, POLICY_TEMPFAIL);
    assert_string_equal(v.text, "too fast");
    assert_int_equal(srv.requests, 6);
    assert_int_equal(srv.accepted, 1);		/* one connection for all */
    assert_non_null(strstr(srv.last, "request=smtpd_access_policy\nprotocol_state=RCPT\n"));
    assert_non_null(strstr(srv.last, "\nrecipient=slow@gmail.test\n"));
    policy_client_free(pc);
}

static void
test_server_closed_idle(void **state)
{
    struct policy_client *pc = new_client(2000);
    struct policy_verdict v;
    char err[300];
    int i;

    (void) state;
    srv.mode = SRV_CLOSE_AFTER;		/* each connection: one answer, then closed */
    for (i = 0; i < 3; i++) {
	if (ask(pc, "a@gmail.test", &v, err) != 0)
	    fail_msg("request %d: %s", i, err);
	assert_int_equal(v.kind, POLICY_CONTINUE);
	usleep(20000);			/* the server's close arrives */
    }
    assert_int_equal(srv.requests, 3);
    assert_int_equal(srv.accepted, 3);
    policy_client_free(pc);
}

static void
test_timeout(void **state)
{
    struct policy_client *pc = new_client(200);
    struct policy_verdict v;
    long long t0, ms;
    char err[300];

    (void) state;
    srv.mode = SRV_SILENT;
    t0 = monotime_ms();
    assert_int_equal(ask(pc, "a@gmail.test", &v, err), -1);
    ms = monotime_ms() - t0;
    assert_string_equal(err, "timed out");
    assert_true(ms >= 190 && ms < 900);
    assert_int_equal(srv.accepted, 1);		/* a timeout is not retried */
    policy_client_free(pc);
}

static void
test_garbage(void **state)
{
    struct policy_client *pc = new_client(2000);
    struct policy_verdict v;
    char err[300];

    (void) state;
    srv.mode = SRV_GARBAGE;
    assert_int_equal(ask(pc, "a@gmail.test", &v, err), -1);
    assert_string_equal(err, "bad answer: answer line without '='");
    policy_client_free(pc);
}

static void
test_no_server(void **state)
{
    struct policy_client *pc;
    struct policy_verdict v;
    char err[300];

    (void) state;
    pc = policy_client_new("unix:/nonexistent/outpost/policy.sock", 500, err, sizeof(err));
    assert_non_null(pc);
    assert_int_equal(ask(pc, "a@gmail.test", &v, err), -1);
    assert_non_null(strstr(err, "connect /nonexistent/outpost/policy.sock: "));
    policy_client_free(pc);
    assert_null(policy_client_new("inet:127.0.0.1:10040", 500, err, sizeof(err)));
    assert_non_null(strstr(err, "only unix:/path"));
    assert_null(policy_client_new("unix:relative", 500, err, sizeof(err)));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(test_persistent, setup, teardown),
	cmocka_unit_test_setup_teardown(test_server_closed_idle, setup, teardown),
	cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
	cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
	cmocka_unit_test(test_no_server),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
