/*
 * test_rcluster_cut - the cluster client when a node's connection is cut:
 * a pipeline cut while it is written (the commands that reached the node
 * may have run and must never be sent a second time), and a script cut
 * while it ran (sent again on a new connection when its rscript says it
 * may run twice, as on a single Redis; never otherwise)
 *
 * The node is a thread of the test on a loopback TCP port: it gives a slot
 * map naming itself for every slot, and on its first connection reads a few
 * commands (or one script), then closes it with a reset (as a crash or
 * CLIENT KILL would).  It counts each command it is given.
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

#define NCMD 300			/* more than one chunk of a node's share */
#define BIG (64 * 1024)			/* each command's value: megabytes in all */
#define CUT_AFTER 8			/* commands read before the reset */

struct node {
    int lfd, port;
    int conns;				/* connections accepted */
    int seen[NCMD];			/* times each command reached the node */
    int seen_first[NCMD];		/* ... on the connection that was cut */
    int scripts;			/* EVALSHA and EVAL given */
    pthread_t tid;
};

static struct node nd;

/* say - write all of s */
static void
say(int fd, const char *s, size_t len)
{
    ssize_t n;

    while (len > 0 && (n = write(fd, s, len)) > 0)
	s += n, len -= (size_t) n;
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

/*
 * one_command - parse one command at the start of buf; its length, 0 if
 * incomplete.  argv[0], argv[1] and argv[2] (if any) copied into a, b, c.
 */
static size_t
one_command(const char *buf, size_t got, char *a, char *b, char *c)
{
    size_t at = 0, l;
    long argc, i, len;
    char *out[3] = {a, b, c};

    a[0] = b[0] = c[0] = '\0';
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
	if (i < 3)
	    snprintf(out[i], 64, "%.*s", (int) (len < 63 ? len : 63), buf + at);
	at += (size_t) len + 2;
    }
    return at;
}

/* serve - one connection; the first is reset after CUT_AFTER commands */
static void
serve(int fd, int first)
{
    size_t cap = 4 * BIG, got = 0, used;
    char *buf = malloc(cap), a[64], b[64], c[64], map[128];
    int data = 0, id;
    ssize_t n;

    while ((n = read(fd, buf + got, cap - got)) > 0) {
	got += (size_t) n;
	while ((used = one_command(buf, got, a, b, c)) > 0) {
	    memmove(buf, buf + used, got - used);
	    got -= used;
	    if (strcmp(a, "CLUSTER") == 0 && strcmp(b, "SHARDS") == 0) {
		snprintf(map, sizeof(map), "-ERR unknown subcommand 'SHARDS'\r\n");
		say(fd, map, strlen(map));
	    } else if (strcmp(a, "CLUSTER") == 0) {
		snprintf(map, sizeof(map), "*1\r\n*3\r\n:0\r\n:16383\r\n*2\r\n$9\r\n"
			 "127.0.0.1\r\n:%d\r\n", nd.port);
		say(fd, map, strlen(map));
	    } else if (strncmp(a, "EVAL", 4) == 0) {
		__atomic_add_fetch(&nd.scripts, 1, __ATOMIC_SEQ_CST);
		if (first) {			/* it ran; its reply is lost */
		    free(buf);
		    close(fd);
		    return;
		}
		say(fd, ":7\r\n", 4);
	    } else {
		id = atoi(c + 1);		/* HSET h{t} fID value */
		if (id >= 0 && id < NCMD) {
		    __atomic_add_fetch(&nd.seen[id], 1, __ATOMIC_SEQ_CST);
		    if (first)
			nd.seen_first[id]++;
		}
		say(fd, ":1\r\n", 4);
		if (first && ++data == CUT_AFTER) {
		    struct linger lg = {1, 0};	/* close with a reset */

		    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		    free(buf);
		    close(fd);
		    return;
		}
	    }
	}
    }
    free(buf);
    close(fd);
}

/* node_main - accept connections until the listening socket is shut */
static void *
node_main(void *arg)
{
    int fd;

    (void) arg;
    while ((fd = accept(nd.lfd, NULL, NULL)) >= 0)
	serve(fd, nd.conns++ == 0);
    return NULL;
}

/* node_start - listen on a loopback port, serve in a thread */
static void
node_start(void)
{
    struct sockaddr_in sin;
    socklen_t sl = sizeof(sin);
    int small = 64 * 1024;

    memset(&nd, 0, sizeof(nd));
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    nd.lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(nd.lfd >= 0);
    /* a small receive buffer: the client is still writing when it is cut */
    setsockopt(nd.lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    assert_int_equal(bind(nd.lfd, (struct sockaddr *) &sin, sizeof(sin)), 0);
    assert_int_equal(listen(nd.lfd, 8), 0);
    assert_int_equal(getsockname(nd.lfd, (struct sockaddr *) &sin, &sl), 0);
    nd.port = ntohs(sin.sin_port);
    assert_int_equal(pthread_create(&nd.tid, NULL, node_main, NULL), 0);
}

/* node_stop - stop accepting and wait for the thread */
static void
node_stop(void)
{
    shutdown(nd.lfd, SHUT_RDWR);
    pthread_join(nd.tid, NULL);
    close(nd.lfd);
}

/* a pipeline cut while it was written: nothing is sent twice */
static void
test_cut_while_writing(void **state)
{
    static char val[BIG], fields[NCMD][16];
    static const char *argv[NCMD][4];
    static size_t argvlen[NCMD][4];
    struct rconn_cmd cmd[NCMD];
    redisReply *reply[NCMD];
    struct conf_redis conf;
    char seed[32];
    char *seeds[1] = {seed};
    struct rconn *c;
    int i, first = 0;

    (void) state;
    node_start();
    memset(val, 'v', sizeof(val));
    memset(&conf, 0, sizeof(conf));
    snprintf(seed, sizeof(seed), "127.0.0.1:%d", nd.port);
    conf.cluster.n = 1;
    conf.cluster.v = seeds;
    conf.prefix = "t:";
    conf.connect_timeout_ms = 5000;
    conf.command_timeout_ms = 10000;
    conf.reconnect_min_ms = 0;		/* reconnect at once: a resend would be made */
    conf.reconnect_max_ms = 0;
    for (i = 0; i < NCMD; i++) {
	snprintf(fields[i], sizeof(fields[i]), "f%d", i);
	argv[i][0] = "HSET", argv[i][1] = "h{t}", argv[i][2] = fields[i], argv[i][3] = val;
	argvlen[i][0] = 4, argvlen[i][1] = 4, argvlen[i][2] = strlen(fields[i]);
	argvlen[i][3] = BIG;
	cmd[i] = (struct rconn_cmd) {4, argv[i], argvlen[i], 0};
    }
    c = rconn_new(&conf);
    (void) rconn_pipeline(c, NCMD, cmd, reply);
    rconn_free(c);
    node_stop();

    for (i = 0; i < NCMD; i++)
	first += nd.seen_first[i];
    assert_int_equal(first, CUT_AFTER);	/* the cut came while writing */
    assert_true(nd.conns >= 1);
    for (i = 0; i < NCMD; i++) {
	/* a command that reached the cut connection may have run: once only */
	assert_true(nd.seen[i] <= 1);
	if (nd.seen_first[i])
	    assert_null(reply[i]);
	/* a reply says it ran: it reached the node once */
	if (reply[i]) {
	    assert_int_equal(nd.seen[i], 1);
	    assert_int_equal(reply[i]->type, REDIS_REPLY_INTEGER);
	}
	if (reply[i])
	    freeReplyObject(reply[i]);
    }
}

/* script - rconn_eval() of a one-key script cut while it ran; the reply */
static redisReply *
script(int repeatable)
{
    struct rscript sc;
    struct conf_redis conf;
    const char *argv[2] = {"k{t}", "x"};
    char seed[32];
    char *seeds[1] = {seed};
    struct rconn *c;
    redisReply *r;

    node_start();
    memset(&conf, 0, sizeof(conf));
    snprintf(seed, sizeof(seed), "127.0.0.1:%d", nd.port);
    conf.cluster.n = 1;
    conf.cluster.v = seeds;
    conf.prefix = "t:";
    conf.connect_timeout_ms = 5000;
    conf.command_timeout_ms = 5000;
    conf.reconnect_min_ms = 100;
    conf.reconnect_max_ms = 100;
    rscript_init(&sc, "return 7");
    sc.repeatable = repeatable;
    c = rconn_new(&conf);
    r = rconn_eval(c, &sc, 1, 2, argv, NULL);	/* the map, then the script */
    rconn_free(c);
    node_stop();
    return r;
}

/* a script that may run twice, cut while it ran: sent again, answered */
static void
test_script_again(void **state)
{
    redisReply *r;

    (void) state;
    r = script(1);
    assert_int_equal(nd.scripts, 2);
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    assert_int_equal(r->integer, 7);
    freeReplyObject(r);
}

/* one that may not: NULL, and it reached the node once */
static void
test_script_not_again(void **state)
{
    redisReply *r;

    (void) state;
    r = script(0);
    assert_null(r);
    assert_int_equal(nd.scripts, 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_cut_while_writing),
	cmocka_unit_test(test_script_again),
	cmocka_unit_test(test_script_not_again),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
