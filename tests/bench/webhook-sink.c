/*
 * webhook-sink - a fast webhook receiver for tests/bench/webhook-bench.sh
 *
 * SYNOPSIS
 *	webhook-sink HOST PORT COUNTFILE [CERT KEY]
 *
 * DESCRIPTION
 *	Answers every POST with 204 and adds its Outpost-Event-Count to a
 *	total, written to COUNTFILE (rewritten at most every 100 ms and
 *	at each change once quiet), so that the receiver is not what a
 *	benchmark of the dispatcher measures; the connections it took go
 *	to COUNTFILE.conns likewise.  With CERT and KEY (PEM) it speaks
 *	TLS, and each connection is a handshake.  libevent's evhttp, one
 *	thread; no signature check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/ssl.h>

static unsigned long long total, written = ~0ULL;
static unsigned long long conns, conns_written = ~0ULL;
static const char *countfile;
static SSL_CTX *tls;

/* save_one - write a number to a file, through a rename */
static int
save_one(const char *path, unsigned long long n)
{
    FILE *fp;
    char tmp[4096];

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if ((fp = fopen(tmp, "w")) == NULL)
	return -1;
    fprintf(fp, "%llu\n", n);
    return fclose(fp) == 0 && rename(tmp, path) == 0 ? 0 : -1;
}

/* save - write the total to the count file, the connections beside it */
static void
save(evutil_socket_t fd, short what, void *arg)
{
    char path[4096];

    (void) fd;
    (void) what;
    (void) arg;
    snprintf(path, sizeof(path), "%s.conns", countfile);
    if (conns != conns_written && save_one(path, conns) == 0)
	conns_written = conns;
    if (total != written && save_one(countfile, total) == 0)
	written = total;
}

/* on_conn - the bufferevent of a new connection (TLS: the handshake's) */
static struct bufferevent *
on_conn(struct event_base *base, void *arg)
{
    (void) arg;
    conns++;
    if (tls == NULL)
	return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    return bufferevent_openssl_socket_new(base, -1, SSL_new(tls), BUFFEREVENT_SSL_ACCEPTING,
					  BEV_OPT_CLOSE_ON_FREE);
}

/*
 * on_request - count and answer 204, without Nagle as real servers do: over
 * TLS the answer follows the session tickets, and would wait for their ACK
 */
static void
on_request(struct evhttp_request *req, void *arg)
{
    const char *n = evhttp_find_header(evhttp_request_get_input_headers(req),
				       "Outpost-Event-Count");
    struct bufferevent *bev = evhttp_connection_get_bufferevent(evhttp_request_get_connection(req));
    evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
    int one = 1;

    (void) arg;
    if (fd >= 0)
	(void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (n)
	total += strtoull(n, NULL, 10);
    evhttp_send_reply(req, 204, "No Content", NULL);
}

int
main(int argc, char **argv)
{
    struct event_base *base;
    struct evhttp *http;
    struct event *tick;
    struct timeval tv = {0, 100000};

    if (argc != 4 && argc != 6) {
	fprintf(stderr, "usage: webhook-sink HOST PORT COUNTFILE [CERT KEY]\n");
	return 2;
    }
    countfile = argv[3];
    if (argc == 6) {
	tls = SSL_CTX_new(TLS_server_method());
	if (tls == NULL || SSL_CTX_use_certificate_chain_file(tls, argv[4]) != 1
	    || SSL_CTX_use_PrivateKey_file(tls, argv[5], SSL_FILETYPE_PEM) != 1) {
	    fprintf(stderr, "webhook-sink: cannot load %s and %s\n", argv[4], argv[5]);
	    return 1;
	}
    }
    base = event_base_new();
    http = evhttp_new(base);
    evhttp_set_max_body_size(http, 64 * 1024 * 1024);
    evhttp_set_gencb(http, on_request, NULL);
    evhttp_set_bevcb(http, on_conn, NULL);
    if (evhttp_bind_socket(http, argv[1], (unsigned short) atoi(argv[2])) != 0) {
	fprintf(stderr, "webhook-sink: cannot listen on %s:%s\n", argv[1], argv[2]);
	return 1;
    }
    tick = event_new(base, -1, EV_PERSIST, save, NULL);
    event_add(tick, &tv);
    save(-1, 0, NULL);
    event_base_dispatch(base);
    return 0;
}
