/*
 * webhook-sink - a fast webhook receiver for tests/bench/webhook-bench.sh
 *
 * SYNOPSIS
 *	webhook-sink HOST PORT COUNTFILE
 *
 * DESCRIPTION
 *	Answers every POST with 204 and adds its Outpost-Event-Count to a
 *	total, written to COUNTFILE (rewritten at most every 100 ms and
 *	at each change once quiet), so that the receiver is not what a
 *	benchmark of the dispatcher measures.  libevent's evhttp, one
 *	thread; no signature check.
 */
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

static unsigned long long total, written = ~0ULL;
static const char *countfile;

/* save - write the total to the count file */
static void
save(evutil_socket_t fd, short what, void *arg)
{
    FILE *fp;
    char tmp[4096];

    (void) fd;
    (void) what;
    (void) arg;
    if (total == written)
	return;
    snprintf(tmp, sizeof(tmp), "%s.tmp", countfile);
    if ((fp = fopen(tmp, "w")) == NULL)
	return;
    fprintf(fp, "%llu\n", total);
    if (fclose(fp) == 0 && rename(tmp, countfile) == 0)
	written = total;
}

/* on_request - count and answer 204 */
static void
on_request(struct evhttp_request *req, void *arg)
{
    const char *n = evhttp_find_header(evhttp_request_get_input_headers(req),
				       "Outpost-Event-Count");

    (void) arg;
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

    if (argc != 4) {
	fprintf(stderr, "usage: webhook-sink HOST PORT COUNTFILE\n");
	return 2;
    }
    countfile = argv[3];
    base = event_base_new();
    http = evhttp_new(base);
    evhttp_set_max_body_size(http, 64 * 1024 * 1024);
    evhttp_set_gencb(http, on_request, NULL);
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
