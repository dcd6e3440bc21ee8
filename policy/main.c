/*
 * outpost-policyd - the Outpost policy service for Postfix
 *
 * SYNOPSIS
 *	outpost-policyd [-fnv] [-c FILE]
 *
 * DESCRIPTION
 *	A Postfix policy-delegation server (check_policy_service).  It reads
 *	requests of name=value lines ended by an empty line on every listener
 *	of [policy] listen, and answers each with one action line and an
 *	empty line, keeping the connection open.
 *
 *	-c FILE	configuration file (default /etc/outpost/outpost.conf)
 *	-f	stay in the foreground and log to stderr
 *	-n	check the configuration and exit
 *	-v	more verbose logging
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "conf.h"
#include "msg.h"

static struct outpost_conf *policy_conf;

struct pconn {
    size_t request_bytes;
};

/* pconn_close - end a client connection */
static void
pconn_close(struct bufferevent *bev, struct pconn *pc)
{
    bufferevent_free(bev);
    free(pc);
}

/* pconn_read - answer each complete request */
static void
pconn_read(struct bufferevent *bev, void *arg)
{
    struct pconn *pc = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    char *line;
    size_t len;

    while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)) != NULL) {
	pc->request_bytes += len + 1;
	free(line);
	if (pc->request_bytes > policy_conf->policy.max_request_size) {
	    msg_warn("request larger than %llu bytes: closing the connection",
		     policy_conf->policy.max_request_size);
	    pconn_close(bev, pc);
	    return;
	}
	if (len == 0) {
	    evbuffer_add(bufferevent_get_output(bev), "action=DUNNO\n\n", 14);
	    pc->request_bytes = 0;
	}
    }
    if (evbuffer_get_length(in) > policy_conf->policy.max_request_size) {
	msg_warn("line longer than %llu bytes: closing the connection",
		 policy_conf->policy.max_request_size);
	pconn_close(bev, pc);
    }
}

/* pconn_event - EOF or error */
static void
pconn_event(struct bufferevent *bev, short what, void *arg)
{
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
	pconn_close(bev, arg);
}

/* on_accept - a new client */
static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
	  int salen, void *arg)
{
    struct event_base *base = evconnlistener_get_base(l);
    struct bufferevent *bev;
    struct pconn *pc;

    (void) sa;
    (void) salen;
    (void) arg;
    bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL) {
	close(fd);
	return;
    }
    pc = calloc(1, sizeof(*pc));
    if (pc == NULL) {
	bufferevent_free(bev);
	return;
    }
    bufferevent_setcb(bev, pconn_read, NULL, pconn_event, pc);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* listen_on - open one listener: unix:/path or inet:host:port */
static struct evconnlistener *
listen_on(struct event_base *base, const char *addr)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE;

    memset(&ss, 0, sizeof(ss));
    if (strncmp(addr, "unix:", 5) == 0) {
	struct sockaddr_un *sun = (struct sockaddr_un *) &ss;

	if (strlen(addr + 5) >= sizeof(sun->sun_path))
	    msg_fatal("socket path too long: %s", addr + 5);
	sun->sun_family = AF_UNIX;
	strcpy(sun->sun_path, addr + 5);
	unlink(sun->sun_path);
	sl = sizeof(*sun);
    } else {
	char host[256];
	const char *colon = strrchr(addr + 5, ':');
	size_t hl = colon ? (size_t) (colon - addr - 5) : 0;
	struct sockaddr_in *sin = (struct sockaddr_in *) &ss;

	if (colon == NULL || hl >= sizeof(host))
	    msg_fatal("bad listen address %s (want inet:HOST:PORT)", addr);
	memcpy(host, addr + 5, hl);
	host[hl] = '\0';
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t) atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
	    msg_fatal("bad listen address %s (want an IPv4 address)", addr);
	sl = sizeof(*sin);
    }
    return evconnlistener_new_bind(base, on_accept, NULL, flags, 128,
				   (struct sockaddr *) &ss, (int) sl);
}

/* on_signal - stop the loop */
static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void) what;
    msg_info("signal %d: stopping", (int) sig);
    event_base_loopbreak(arg);
}

/* usage - explain the options and exit */
static void
usage(const char *prog)
{
    fprintf(stderr, "usage: %s [-fnv] [-c FILE]\n", prog);
    exit(2);
}

int
main(int argc, char **argv)
{
    const char *path = OUTPOST_CONF_PATH;
    int foreground = 0, check_only = 0, verbose = 0, ch;
    char err[600];
    struct event_base *base;
    struct event *sigterm, *sigint;
    size_t i;

    while ((ch = getopt(argc, argv, "c:fnvh")) != -1) {
	switch (ch) {
	case 'c': path = optarg; break;
	case 'f': foreground = 1; break;
	case 'n': check_only = 1; break;
	case 'v': verbose++; break;
	default: usage(argv[0]);
	}
    }
    if (optind != argc)
	usage(argv[0]);
    msg_open(argv[0], 1, 0);
    msg_verbose(verbose);
    if ((policy_conf = conf_load(path, err, sizeof(err))) == NULL) {
	fprintf(stderr, "%s\n", err);
	return 1;
    }
    if (check_only) {
	printf("%s: configuration OK\n", path);
	return 0;
    }
    msg_open(argv[0], foreground, policy_conf->general.syslog_facility);
    signal(SIGPIPE, SIG_IGN);
    if ((base = event_base_new()) == NULL)
	msg_fatal("cannot create the event loop");
    umask(0111);
    for (i = 0; i < policy_conf->policy.listen.n; i++) {
	if (listen_on(base, policy_conf->policy.listen.v[i]) == NULL)
	    msg_fatal("cannot listen on %s: %s", policy_conf->policy.listen.v[i],
		      strerror(errno));
	msg_info("listening on %s", policy_conf->policy.listen.v[i]);
    }
    sigterm = evsignal_new(base, SIGTERM, on_signal, base);
    sigint = evsignal_new(base, SIGINT, on_signal, base);
    evsignal_add(sigterm, NULL);
    evsignal_add(sigint, NULL);
    event_base_dispatch(base);
    msg_info("stopped");
    return 0;
}
