/* test_promhttp - the metrics endpoint against clients that do not play by the rules */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/event.h>

#include "prom.h"
#include "promhttp.h"

/* render - a page of one counter */
static struct prom *
render(void *arg)
{
    struct prom *p = prom_new("relay-a");

    (void) arg;
    prom_family(p, "outpost_test_total", PROM_COUNTER, "a test");
    prom_counter(p, NULL, 7);
    return p;
}

/* free_port - a TCP port of 127.0.0.1 that nothing listens on now */
static int
free_port(void)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *) &sin, sizeof(sin)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *) &sin, &len), 0);
    port = ntohs(sin.sin_port);
    close(fd);
    return port;
}

/* start - an endpoint in a thread of its own; its address in listen */
static struct promhttp *
start(char *listen, size_t size)
{
    struct promhttp *h;
    char err[300];

    snprintf(listen, size, "127.0.0.1:%d", free_port());
    if ((h = promhttp_start_thread(listen, render, NULL, err, sizeof(err))) == NULL)
	fail_msg("%s", err);
    return h;
}

/*
 * exchange - send head, then body_len bytes of 'x', and read the answer
 * until the server closes (at most out_size - 1 bytes kept); a server that
 * stops reading first is fine: what it answered is what counts
 */
static void
exchange(const char *listen, const char *head, size_t body_len, char *out, size_t out_size)
{
    struct sockaddr_in sin;
    struct timeval tv = {30, 0};	/* a safety net against a hung test only */
    char chunk[8192];
    size_t got = 0, sent;
    ssize_t n;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons((uint16_t) atoi(strchr(listen, ':') + 1));
    assert_int_equal(connect(fd, (struct sockaddr *) &sin, sizeof(sin)), 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (send(fd, head, strlen(head), MSG_NOSIGNAL) == (ssize_t) strlen(head)) {
	memset(chunk, 'x', sizeof(chunk));
	for (sent = 0; sent < body_len; sent += (size_t) n) {
	    size_t want = body_len - sent < sizeof(chunk) ? body_len - sent : sizeof(chunk);

	    if ((n = send(fd, chunk, want, MSG_NOSIGNAL)) <= 0)
		break;
	}
    }
    while (got + 1 < out_size && (n = recv(fd, out + got, out_size - 1 - got, 0)) > 0)
	got += (size_t) n;
    out[got] = '\0';
    close(fd);
}

/* big_header - "GET /metrics HTTP/1.1" with a header of len bytes, then extra */
static char *
big_header(size_t len, const char *extra)
{
    const char *start = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Pad: ";
    size_t slen = strlen(start), elen = strlen(extra);
    char *s = malloc(slen + len + 2 + elen + 3);

    assert_non_null(s);
    memcpy(s, start, slen);
    memset(s + slen, 'a', len);
    memcpy(s + slen + len, "\r\n", 2);
    memcpy(s + slen + len + 2, extra, elen);
    memcpy(s + slen + len + 2 + elen, "\r\n", 3);
    return s;
}

/* test_answers - /metrics, other paths, HTTP/1.0 */
static void
test_answers(void **state)
{
    struct promhttp *h;
    char listen[64], out[4096];

    (void) state;
    h = start(listen, sizeof(listen));
    exchange(listen, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 0, out,
	     sizeof(out));
    assert_non_null(strstr(out, "HTTP/1.1 200"));
    assert_non_null(strstr(out, "outpost_test_total{node=\"relay-a\"} 7"));
    exchange(listen, "GET /metrics HTTP/1.0\r\n\r\n", 0, out, sizeof(out));
    assert_non_null(strstr(out, " 200 "));
    exchange(listen, "GET /other HTTP/1.0\r\n\r\n", 0, out, sizeof(out));
    assert_non_null(strstr(out, " 404 "));
    promhttp_stop(h);
}

/* test_huge_head - headers without end are not kept in memory */
static void
test_huge_head(void **state)
{
    struct promhttp *h;
    char listen[64], out[4096];
    char *req = big_header(1 << 20, "");

    (void) state;
    h = start(listen, sizeof(listen));
    exchange(listen, req, 0, out, sizeof(out));
    if (strstr(out, " 200 ") != NULL)
	fail_msg("a request with a header of 1 MiB was read whole and answered");
    free(req);
    /* the endpoint still answers */
    exchange(listen, "GET /metrics HTTP/1.0\r\n\r\n", 0, out, sizeof(out));
    assert_non_null(strstr(out, " 200 "));
    promhttp_stop(h);
}

/* test_huge_body - a GET has no use for a body: a large one is not read */
static void
test_huge_body(void **state)
{
    struct promhttp *h;
    char listen[64], out[4096];
    char *req = big_header(10, "Content-Length: 4194304\r\n");

    (void) state;
    h = start(listen, sizeof(listen));
    exchange(listen, req, 4194304, out, sizeof(out));
    if (strstr(out, " 200 ") != NULL)
	fail_msg("a body of 4 MiB was read whole and answered");
    free(req);
    promhttp_stop(h);
}

/* test_listen - host:port it must be: no port is not Redis's port */
static void
test_listen(void **state)
{
    struct event_base *base = event_base_new();
    struct promhttp *h;
    char err[300] = "";

    (void) state;
    h = promhttp_start(base, "127.0.0.1", render, NULL, err, sizeof(err));
    promhttp_stop(h);
    if (h != NULL)
	fail_msg("metrics_listen without a port was taken");
    assert_non_null(strstr(err, "expected host:port"));
    h = promhttp_start(base, "unix:/tmp/x", render, NULL, err, sizeof(err));
    assert_null(h);
    event_base_free(base);
}

static int accept_failures;

/* count_failures - libevent's log: what it says of accept() */
static void
count_failures(int severity, const char *msg)
{
    (void) severity;
    if (strstr(msg, "accept") != NULL)
	accept_failures++;
}

/*
 * test_out_of_descriptors - a client waits while the process has no
 * descriptor left: accepting pauses instead of failing on every turn of
 * the loop, and the client is served once descriptors are free again
 */
static void
test_out_of_descriptors(void **state)
{
    struct event_base *base = event_base_new();
    struct promhttp *h;
    struct rlimit old, low;
    struct sockaddr_in sin;
    struct pollfd pfd;
    char listen[64], err[300], out[4096];
    int fill[256], nfill = 0, fd, i;
    ssize_t n;

    (void) state;
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", free_port());
    if ((h = promhttp_start(base, listen, render, NULL, err, sizeof(err))) == NULL)
	fail_msg("%s", err);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons((uint16_t) atoi(strchr(listen, ':') + 1));
    assert_int_equal(connect(fd, (struct sockaddr *) &sin, sizeof(sin)), 0);
    assert_int_equal(send(fd, "GET /metrics HTTP/1.0\r\n\r\n", 25, 0), 25);
    /* every descriptor taken, under a low limit */
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = 128;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    while (nfill < 256 && (fill[nfill] = dup(fd)) >= 0)
	nfill++;
    assert_true(nfill < 256);
    /* one pass each (a plain NONBLOCK loop would never end while accept() fails) */
    event_set_log_callback(count_failures);
    for (i = 0; i < 50; i++)
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    event_set_log_callback(NULL);
    while (nfill > 0)
	close(fill[--nfill]);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    if (accept_failures > 1)
	fail_msg("accept() failed and was tried again on %d turns of the loop of 50",
		 accept_failures);
    /* descriptors again: the client is served (each turn waits for an event) */
    pfd.fd = fd;
    pfd.events = POLLIN;
    for (i = 0; i < 20 && poll(&pfd, 1, 0) == 0; i++)
	event_base_loop(base, EVLOOP_ONCE);
    n = recv(fd, out, sizeof(out) - 1, MSG_DONTWAIT);
    assert_true(n > 0);
    out[n] = '\0';
    assert_non_null(strstr(out, " 200 "));
    close(fd);
    promhttp_stop(h);
    event_base_free(base);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_answers),
	cmocka_unit_test(test_huge_head),
	cmocka_unit_test(test_huge_body),
	cmocka_unit_test(test_listen),
	cmocka_unit_test(test_out_of_descriptors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
