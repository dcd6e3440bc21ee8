/*
 * test_sentinel_reply - what a sentinel's answer to get-master-addr-by-name
 * may name: a port is a whole number from 1 to 65535, anything else is a
 * broken answer, never a port to connect to
 *
 * The sentinel is a thread of the test on a loopback TCP port that answers
 * every command with the reply set for the case.
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

struct sentinel {
    int lfd, port;
    char answer[256];			/* the reply to every command */
    pthread_t tid;
};

static struct sentinel sn;

/* serve - answer each command read (one per read is enough here) */
static void *
serve(void *arg)
{
    char buf[4096];
    int fd;

    (void) arg;
    while ((fd = accept(sn.lfd, NULL, NULL)) >= 0) {
	while (read(fd, buf, sizeof(buf)) > 0)
	    if (write(fd, sn.answer, strlen(sn.answer)) < 0)
		break;
	close(fd);
    }
    return NULL;
}

/* resolve - start a sentinel answering host and port, ask it; -1 or 0 */
static int
resolve(const char *host, const char *port, char *got, size_t gotlen, int *gotport)
{
    struct sockaddr_in sin;
    socklen_t sl = sizeof(sin);
    struct conf_redis conf;
    char addr[32], err[256];
    char *sentinels[1] = {addr};
    int rc;

    memset(&sn, 0, sizeof(sn));
    snprintf(sn.answer, sizeof(sn.answer), "*2\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n",
	     strlen(host), host, strlen(port), port);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sn.lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(sn.lfd >= 0);
    assert_int_equal(bind(sn.lfd, (struct sockaddr *) &sin, sizeof(sin)), 0);
    assert_int_equal(listen(sn.lfd, 8), 0);
    assert_int_equal(getsockname(sn.lfd, (struct sockaddr *) &sin, &sl), 0);
    sn.port = ntohs(sin.sin_port);
    assert_int_equal(pthread_create(&sn.tid, NULL, serve, NULL), 0);

    memset(&conf, 0, sizeof(conf));
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", sn.port);
    conf.sentinels.n = 1;
    conf.sentinels.v = sentinels;
    conf.sentinel_master = "outpost";
    conf.connect_timeout_ms = 5000;
    conf.command_timeout_ms = 5000;
    rc = rconn_sentinel_resolve(&conf, got, gotlen, gotport, err, sizeof(err));

    shutdown(sn.lfd, SHUT_RDWR);
    pthread_join(sn.tid, NULL);
    close(sn.lfd);
    return rc;
}

/* a good answer is taken as it is */
static void
test_good_port(void **state)
{
    char host[256];
    int port = 0;

    (void) state;
    assert_int_equal(resolve("10.0.0.2", "6380", host, sizeof(host), &port), 0);
    assert_string_equal(host, "10.0.0.2");
    assert_int_equal(port, 6380);
    assert_int_equal(resolve("10.0.0.2", "65535", host, sizeof(host), &port), 0);
    assert_int_equal(port, 65535);
}

/* a port that is not one: the sentinel's answer is not used */
static void
test_bad_port(void **state)
{
    static const char *const bad[] = {
	"0", "65536", "70000", "-1", "6379x", "", " 6379", "+6379",
	"99999999999999999999", "4294973675",	/* 2^32 + 6379 */
    };
    char host[256];
    size_t i;
    int port;

    (void) state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
	port = -7;
	if (resolve("10.0.0.2", bad[i], host, sizeof(host), &port) != -1)
	    fail_msg("port \"%s\" taken as %d", bad[i], port);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_good_port),
	cmocka_unit_test(test_bad_port),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
