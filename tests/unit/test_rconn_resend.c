/*
 * test_rconn_resend - a command cut while it ran is sent again on a new
 * connection only when running it twice does what running it once does:
 * a plain SET is, a conditional one (NX, XX, GET) is not, since its second
 * run answers differently from its first (SET NX: nil, "someone else has
 * the key", when the first run took it)
 *
 * The server is a thread of the test on a loopback TCP port: its first
 * connection reads one command and closes without answering (the command
 * ran, its reply was lost); later connections answer as Redis would once
 * the first run was made.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <signal.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"
#include "redisconn.h"

struct server {
    int lfd, port;
    int conns;				/* connections accepted */
    int commands;			/* commands read, the lost one included */
    char answer[64];			/* the reply after the cut */
    pthread_t tid;
};

static struct server srv;

/* serve - first connection: answer PING, read one command, close; then answer */
static void *
serve(void *arg)
{
    char buf[4096];
    int fd, first, pinged;
    ssize_t n;

    (void) arg;
    while ((fd = accept(srv.lfd, NULL, NULL)) >= 0) {
	first = srv.conns++ == 0;
	pinged = 0;
	/* each command here is small: one read is one command */
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
	    if (first && !pinged) {
		pinged = 1;
		if (write(fd, "+PONG\r\n", 7) < 0)
		    break;
		continue;
	    }
	    __atomic_add_fetch(&srv.commands, 1, __ATOMIC_SEQ_CST);
	    if (first)
		break;
	    if (write(fd, srv.answer, strlen(srv.answer)) < 0)
		break;
	}
	close(fd);
    }
    return NULL;
}

/* run - one command against a server that cuts its first connection */
static redisReply *
run(const char *answer, int argc, const char **argv, int *ran)
{
    struct sockaddr_in sin;
    socklen_t sl = sizeof(sin);
    struct conf_redis conf;
    char addr[32];
    struct rconn *c;
    redisReply *r;

    memset(&srv, 0, sizeof(srv));
    snprintf(srv.answer, sizeof(srv.answer), "%s", answer);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    srv.lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(srv.lfd >= 0);
    assert_int_equal(bind(srv.lfd, (struct sockaddr *) &sin, sizeof(sin)), 0);
    assert_int_equal(listen(srv.lfd, 8), 0);
    assert_int_equal(getsockname(srv.lfd, (struct sockaddr *) &sin, &sl), 0);
    srv.port = ntohs(sin.sin_port);
    assert_int_equal(pthread_create(&srv.tid, NULL, serve, NULL), 0);

    memset(&conf, 0, sizeof(conf));
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", srv.port);
    conf.server = addr;
    conf.prefix = "t:";
    conf.connect_timeout_ms = 5000;
    conf.command_timeout_ms = 5000;
    conf.reconnect_min_ms = 100;
    conf.reconnect_max_ms = 100;
    c = rconn_new(&conf);
    /* a connection up and idle: the cut comes while the command runs */
    r = rconn_commandv(c, "PING", NULL);
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);
    r = rconn_command(c, argc, argv, NULL);
    *ran = rconn_maybe_ran(c);
    rconn_free(c);
    shutdown(srv.lfd, SHUT_RDWR);
    pthread_join(srv.tid, NULL);
    close(srv.lfd);
    return r;
}

/* SET NX cut while it ran: its outcome is unknown, never "the key was taken" */
static void
test_set_nx_not_again(void **state)
{
    const char *nx[] = {"SET", "k", "-", "NX", "EX", "60"};
    const char *xx[] = {"SET", "k", "v", "xx"};
    const char *get[] = {"set", "k", "v", "GET"};
    redisReply *r;
    int ran;

    (void) state;
    r = run("$-1\r\n", 6, nx, &ran);
    assert_null(r);
    assert_int_equal(ran, 1);
    assert_int_equal(srv.commands, 1);
    r = run("$-1\r\n", 4, xx, &ran);
    assert_null(r);
    assert_int_equal(srv.commands, 1);
    r = run("$1\r\nv\r\n", 4, get, &ran);
    assert_null(r);
    assert_int_equal(srv.commands, 1);
}

/* a plain SET runs the same twice: it is sent again and answered */
static void
test_plain_set_again(void **state)
{
    const char *set[] = {"SET", "k", "v", "EX", "60"};
    const char *getk[] = {"GET", "k"};
    redisReply *r;
    int ran;

    (void) state;
    r = run("+OK\r\n", 5, set, &ran);
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STATUS);
    assert_int_equal(srv.commands, 2);
    freeReplyObject(r);
    r = run("$1\r\nv\r\n", 2, getk, &ran);
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_int_equal(srv.commands, 2);
    freeReplyObject(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_set_nx_not_again),
	cmocka_unit_test(test_plain_set_again),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
