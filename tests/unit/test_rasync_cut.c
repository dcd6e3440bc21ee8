/*
 * test_rasync_cut - the asynchronous Redis client when the connection is
 * cut while a command with a callback ran: rasync_command() sends it once
 * more on the new connection (for commands that may run twice), while
 * rasync_command_once() never does (an XADD, a counter: it may have run),
 * and its callback gets NULL, once
 *
 * The server is a thread of the test on a unix socket.  It answers SCRIPT
 * LOAD (what rasync sends at connect, with no password nor database set)
 * with a SHA1, as Redis does; on its first connection it reads one INCR and
 * closes without answering (the INCR ran, its reply was lost); later
 * connections answer INCR and PING.  It counts each INCR it is given.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>

#include "conf.h"
#include "monotime.h"
#include "rasync.h"

#define GIVE_UP_MS 20000		/* a guard against a hang, not a measure */

struct server {
    char dir[64];
    char path[108];
    int lfd;
    int conns;				/* connections accepted */
    int incrs;				/* INCRs read, the lost one included */
    pthread_t tid;
};

static struct server srv;

/* what the client saw */
struct seen {
    int calls;				/* callback calls */
    int nulls;				/* ... with NULL */
    int done;				/* the PING after it answered */
};

/* say - write all of s */
static int
say(int fd, const char *s)
{
    size_t len = strlen(s);
    ssize_t n;

    while (len > 0 && (n = write(fd, s, len)) > 0)
	s += n, len -= (size_t) n;
    return len == 0 ? 0 : -1;
}

/* line - a "\r\n"-ended line at buf[at..got); its length, or 0 if incomplete */
static size_t
line(const char *buf, size_t at, size_t got)
{
    size_t i;

    for (i = at; i + 1 < got; i++)
	if (buf[i] == '\r' && buf[i + 1] == '\n')
	    return i + 2 - at;
    return 0;
}

/* one_command - parse one command at buf; its length, 0 if incomplete; argv[0] in a */
static size_t
one_command(const char *buf, size_t got, char *a, size_t size)
{
    size_t at = 0, l;
    long argc, i, len;

    a[0] = '\0';
    if ((l = line(buf, at, got)) == 0)
	return 0;
    argc = strtol(buf + 1, NULL, 10);
    at += l;
    for (i = 0; i < argc; i++) {
	if ((l = line(buf, at, got)) == 0)
	    return 0;
	len = strtol(buf + at + 1, NULL, 10);
	at += l;
	if (at + (size_t) len + 2 > got)
	    return 0;
	if (i == 0)
	    snprintf(a, size, "%.*s", (int) (len < (long) size - 1 ? len : (long) size - 1),
		     buf + at);
	at += (size_t) len + 2;
    }
    return at;
}

/* serve - one connection; the first one is closed at its first INCR */
static void
serve(int fd, int first)
{
    char buf[65536], a[32], answer[32];
    size_t got = 0, used;
    ssize_t n;
    int incr;

    while ((n = read(fd, buf + got, sizeof(buf) - got)) > 0) {
	got += (size_t) n;
	while ((used = one_command(buf, got, a, sizeof(a))) > 0) {
	    memmove(buf, buf + used, got - used);
	    got -= used;
	    if (strcasecmp(a, "SCRIPT") == 0) {
		if (say(fd, "$40\r\ne0e1f9fabfc9d4800c877a703b823ac0578ff8db\r\n") < 0)
		    return;
	    } else if (strcasecmp(a, "PING") == 0) {
		if (say(fd, "+PONG\r\n") < 0)
		    return;
	    } else if (strcasecmp(a, "INCR") == 0) {
		incr = __atomic_add_fetch(&srv.incrs, 1, __ATOMIC_SEQ_CST);
		if (first)
		    return;		/* it ran; its reply is lost */
		snprintf(answer, sizeof(answer), ":%d\r\n", incr);
		if (say(fd, answer) < 0)
		    return;
	    } else if (say(fd, "-ERR unknown command\r\n") < 0) {
		return;
	    }
	}
    }
}

/* server_main - accept connections until the listening socket is shut */
static void *
server_main(void *arg)
{
    int fd;

    (void) arg;
    while ((fd = accept(srv.lfd, NULL, NULL)) >= 0) {
	serve(fd, __atomic_fetch_add(&srv.conns, 1, __ATOMIC_SEQ_CST) == 0);
	close(fd);
    }
    return NULL;
}

/* server_start - listen on a unix socket in a directory of our own */
static void
server_start(void)
{
    struct sockaddr_un sun;

    memset(&srv, 0, sizeof(srv));
    snprintf(srv.dir, sizeof(srv.dir), "/tmp/rasync-cut.XXXXXX");
    assert_non_null(mkdtemp(srv.dir));
    snprintf(srv.path, sizeof(srv.path), "%s/redis.sock", srv.dir);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", srv.path);
    srv.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(srv.lfd >= 0);
    assert_int_equal(bind(srv.lfd, (struct sockaddr *) &sun, sizeof(sun)), 0);
    assert_int_equal(listen(srv.lfd, 8), 0);
    assert_int_equal(pthread_create(&srv.tid, NULL, server_main, NULL), 0);
}

/* server_stop - stop accepting, wait for the thread, remove the socket */
static void
server_stop(void)
{
    shutdown(srv.lfd, SHUT_RDWR);
    pthread_join(srv.tid, NULL);
    close(srv.lfd);
    unlink(srv.path);
    rmdir(srv.dir);
}

/* on_incr - the INCR's reply, or NULL */
static void
on_incr(void *arg, redisReply *r)
{
    struct seen *s = arg;

    s->calls++;
    if (r == NULL)
	s->nulls++;
    else
	assert_int_equal(r->type, REDIS_REPLY_INTEGER);
}

/* on_ping - the PING sent after the INCR answered */
static void
on_ping(void *arg, redisReply *r)
{
    struct seen *s = arg;

    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STATUS);
    s->done = 1;
}

/* loop_until - run the loop until *flag is set (or the guard runs out) */
static void
loop_until(struct event_base *base, struct rasync *ra, const int *flag)
{
    long long start = monotime_ms();

    while (!(flag ? *flag : rasync_ready(ra)) && monotime_ms() - start < GIVE_UP_MS)
	event_base_loop(base, EVLOOP_ONCE);	/* rasync's watch wakes it */
    assert_true(flag ? *flag : rasync_ready(ra));
}

/*
 * run - one INCR with a callback, cut while it ran, sent with
 * rasync_command_once() or rasync_command(); then a PING once the callback
 * was called: what was sent again went before it, so when the PING is
 * answered every INCR has reached the server
 */
static void
run(int once, struct seen *s)
{
    const char *incr[] = {"INCR", "k"};
    const char *ping[] = {"PING"};
    struct event_base *base;
    struct conf_redis conf;
    char server[128];
    struct rasync *ra;

    memset(s, 0, sizeof(*s));
    server_start();
    memset(&conf, 0, sizeof(conf));
    snprintf(server, sizeof(server), "unix:%s", srv.path);
    conf.server = server;
    conf.prefix = "t:";
    conf.connect_timeout_ms = 5000;
    conf.command_timeout_ms = 5000;
    conf.reconnect_min_ms = 100;
    conf.reconnect_max_ms = 100;
    base = event_base_new();
    assert_non_null(base);
    ra = rasync_new(base, &conf, "return 1", 100);
    loop_until(base, ra, NULL);		/* connected and set up */
    if (once)
	assert_int_equal(rasync_command_once(ra, 2, incr, NULL, on_incr, s), 0);
    else
	assert_int_equal(rasync_command(ra, 2, incr, NULL, on_incr, s), 0);
    loop_until(base, ra, &s->calls);
    /* on the new connection (held while it comes up, if need be) */
    loop_until(base, ra, NULL);
    assert_int_equal(rasync_command(ra, 1, ping, NULL, on_ping, s), 0);
    loop_until(base, ra, &s->done);
    rasync_free(ra);
    event_base_free(base);
    server_stop();
}

/* rasync_command_once(): the INCR reached the server once, its callback got NULL */
static void
test_once_not_again(void **state)
{
    struct seen s;

    (void) state;
    run(1, &s);
    assert_true(srv.conns >= 2);	/* the PING came on a new connection */
    assert_int_equal(srv.incrs, 1);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.nulls, 1);
}

/* rasync_command(): sent again on the new connection, answered there */
static void
test_plain_again(void **state)
{
    struct seen s;

    (void) state;
    run(0, &s);
    assert_true(srv.conns >= 2);
    assert_int_equal(srv.incrs, 2);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.nulls, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_once_not_again),
	cmocka_unit_test(test_plain_again),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
