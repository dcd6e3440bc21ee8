/*
 * policy-load - a load generator for Postfix policy servers
 *
 * SYNOPSIS
 *	policy-load [-c CONNECTIONS] [-d DOMAINS] [-t SECONDS] [-n REQUESTS]
 *		    [-w WARMUP] [-f SENDER] ADDRESS
 *
 * DESCRIPTION
 *	Opens CONNECTIONS persistent connections (default 64) to ADDRESS
 *	(unix:/path or inet:HOST:PORT) and on each sends RCPT requests as
 *	Postfix does, one at a time, each as soon as the previous one is
 *	answered.  Recipients cycle through DOMAINS domains (default 1000,
 *	"rcpt@dN.bench.test").  It stops after SECONDS (default 5) or
 *	REQUESTS answers, whichever comes first; the first WARMUP seconds
 *	(default 1) are not measured.
 *
 *	It prints decisions per second, the 50th, 99th and 99.9th percentile
 *	latency and how many answers were DUNNO, DEFER*, FILTER or other, as
 *	"key=value" words on one line.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "monotime.h"

struct conn {
    struct bufferevent *bev;
    long long sent_us;
    unsigned long seq;
};

static struct event_base *base;
static long long start_us, measure_us, stop_us;
static long ndomains = 1000, max_requests = 0;
static unsigned long next_seq;
static const char *sender = "news@shop.test";
static unsigned *lat_us;		/* measured latencies */
static size_t nlat, caplat;
static long long answers, measured, dunno, defer, filter, other;

/* send_one - the next request on a connection */
static void
send_one(struct conn *c)
{
    char buf[512];
    unsigned long n = next_seq++;
    int len;

    len = snprintf(buf, sizeof(buf),
		   "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
		   "client_address=127.0.0.1\nclient_name=localhost\nhelo_name=app.test\n"
		   "sender=%s\nrecipient=user%lu@d%lu.bench.test\nrecipient_count=0\n"
		   "queue_id=\ninstance=%lx.%lx\nsize=0\nsasl_username=\n\n",
		   sender, n, n % (unsigned long) ndomains, (unsigned long) c, n);
    c->sent_us = monotime_us();
    bufferevent_write(c->bev, buf, (size_t) len);
}

/* record - count one answer */
static void
record(const char *action, size_t len, long long t)
{
    answers++;
    if (t < measure_us)
	return;
    measured++;
    if (len >= 5 && memcmp(action, "DUNNO", 5) == 0)
	dunno++;
    else if (len >= 5 && memcmp(action, "DEFER", 5) == 0)
	defer++;
    else if (len >= 6 && memcmp(action, "FILTER", 6) == 0)
	filter++;
    else
	other++;
}

/* on_read - answers: "action=...\n\n" */
static void
on_read(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    struct evbuffer_ptr p;

    while ((p = evbuffer_search(in, "\n\n", 2, NULL)).pos >= 0) {
	size_t len = (size_t) p.pos + 2;
	char *ans = (char *) evbuffer_pullup(in, (ev_ssize_t) len);
	long long t = monotime_us();

	if (t >= measure_us) {
	    if (nlat == caplat) {
		caplat = caplat ? caplat * 2 : 1 << 20;
		lat_us = realloc(lat_us, caplat * sizeof(*lat_us));
	    }
	    lat_us[nlat++] = (unsigned) (t - c->sent_us);
	}
	record(ans + 7, len - 9, t);
	evbuffer_drain(in, len);
	if (t >= stop_us || (max_requests && answers >= max_requests)) {
	    event_base_loopbreak(base);
	    return;
	}
	send_one(c);
    }
}

/* on_event - a connection failed */
static void
on_event(struct bufferevent *bev, short what, void *arg)
{
    (void) bev;
    (void) arg;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
	fprintf(stderr, "policy-load: connection %s\n",
		(what & BEV_EVENT_EOF) ? "closed by the server" : strerror(errno));
	exit(1);
    }
}

/* open_conn - connect one client */
static struct conn *
open_conn(const char *addr)
{
    struct conn *c = calloc(1, sizeof(*c));
    struct sockaddr_storage ss;
    socklen_t sl;
    int fd;

    memset(&ss, 0, sizeof(ss));
    if (strncmp(addr, "unix:", 5) == 0) {
	struct sockaddr_un *sun = (struct sockaddr_un *) &ss;

	sun->sun_family = AF_UNIX;
	snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", addr + 5);
	sl = sizeof(*sun);
    } else {
	struct sockaddr_in *sin = (struct sockaddr_in *) &ss;
	char host[64];
	const char *colon = strrchr(addr, ':');

	if (strncmp(addr, "inet:", 5) != 0 || colon == NULL)
	    fprintf(stderr, "policy-load: address unix:/path or inet:HOST:PORT\n"), exit(2);
	snprintf(host, sizeof(host), "%.*s", (int) (colon - addr - 5), addr + 5);
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t) atoi(colon + 1));
	inet_pton(AF_INET, host, &sin->sin_addr);
	sl = sizeof(*sin);
    }
    fd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *) &ss, sl) < 0) {
	fprintf(stderr, "policy-load: connect %s: %s\n", addr, strerror(errno));
	exit(1);
    }
    if (ss.ss_family == AF_INET) {
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    evutil_make_socket_nonblocking(fd);
    c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    return c;
}

/* cmp_u - for qsort */
static int
cmp_u(const void *a, const void *b)
{
    unsigned x = *(const unsigned *) a, y = *(const unsigned *) b;

    return x < y ? -1 : x > y;
}

/* pct - a percentile of the sorted latencies, in ms */
static double
pct(double p)
{
    size_t i;

    if (nlat == 0)
	return 0;
    i = (size_t) (p * (double) (nlat - 1));
    return lat_us[i] / 1000.0;
}

int
main(int argc, char **argv)
{
    long nconn = 64;
    double seconds = 5, warmup = 1;
    int ch, i;
    long long end;

    while ((ch = getopt(argc, argv, "c:d:t:n:w:f:")) != -1) {
	switch (ch) {
	case 'c': nconn = atol(optarg); break;
	case 'd': ndomains = atol(optarg); break;
	case 't': seconds = atof(optarg); break;
	case 'n': max_requests = atol(optarg); break;
	case 'w': warmup = atof(optarg); break;
	case 'f': sender = optarg; break;
	default:
	    fprintf(stderr, "usage: policy-load [-c CONN] [-d DOMAINS] [-t SEC] [-n REQ] "
		    "[-w WARMUP] [-f SENDER] ADDRESS\n");
	    return 2;
	}
    }
    if (optind != argc - 1 || nconn < 1 || ndomains < 1)
	return fprintf(stderr, "policy-load: one ADDRESS expected\n"), 2;
    base = event_base_new();
    start_us = monotime_us();
    measure_us = start_us + (long long) (warmup * 1e6);
    stop_us = measure_us + (long long) (seconds * 1e6);
    for (i = 0; i < nconn; i++)
	send_one(open_conn(argv[optind]));
    event_base_dispatch(base);
    end = monotime_us();
    if (end > stop_us)
	end = stop_us;
    qsort(lat_us, nlat, sizeof(*lat_us), cmp_u);
    printf("decisions_per_s=%.0f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f answers=%lld "
	   "dunno=%lld defer=%lld filter=%lld other=%lld connections=%ld domains=%ld\n",
	   end > measure_us ? measured / ((end - measure_us) / 1e6) : 0.0,
	   pct(0.50), pct(0.99), pct(0.999), answers, dunno, defer, filter, other,
	   nconn, ndomains);
    return 0;
}
