/*
 * server - the policy protocol on unix and inet listeners (see server.h)
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "msg.h"
#include "request.h"
#include "server.h"
#include "xalloc.h"

struct pconn {
    struct server *srv;
    struct bufferevent *bev;
    int busy;			/* a decision is pending */
    int closed;			/* the client is gone: free when not busy */
    int blocked;		/* the client does not read its answers */
    char peer[64];
};

struct listener {
    struct evconnlistener *l;
    char *unix_path;
};

struct server {
    struct event_base *base;
    struct decider *d;
    struct limits *l;
    struct listener *v;
    size_t n;
    long nconn;
};

#define PCONN_MAX_OUTPUT 65536

static void pconn_read(struct bufferevent *bev, void *arg);

/* pconn_write - the answers were sent: read again if we had stopped */
static void
pconn_write(struct bufferevent *bev, void *arg)
{
    struct pconn *pc = arg;

    if (pc->blocked && !pc->busy) {
	pc->blocked = 0;
	bufferevent_enable(bev, EV_READ);
	pconn_read(bev, pc);
    }
}

/* pconn_free - release a connection */
static void
pconn_free(struct pconn *pc)
{
    if (pc->bev)
	bufferevent_free(pc->bev);
    pc->srv->nconn--;
    free(pc);
}

/* pconn_close - the connection ends; wait for a pending decision */
static void
pconn_close(struct pconn *pc)
{
    if (pc->busy) {
	/* the decision still holds pc: stop I/O now, free when it answers */
	bufferevent_free(pc->bev);
	pc->bev = NULL;
	pc->closed = 1;
	return;
    }
    pconn_free(pc);
}

/* on_decided - send the answer, then go on with what is buffered */
static void
on_decided(void *arg, const char *action)
{
    struct pconn *pc = arg;
    struct evbuffer *out;

    pc->busy = 0;
    if (pc->closed) {
	pconn_free(pc);
	return;
    }
    out = bufferevent_get_output(pc->bev);
    evbuffer_add(out, "action=", 7);
    evbuffer_add(out, action, strlen(action));
    evbuffer_add(out, "\n\n", 2);
    /* more requests may be waiting in the buffer: not when called from inside */
    if (evbuffer_get_length(bufferevent_get_input(pc->bev)) > 0)
	bufferevent_trigger(pc->bev, EV_READ, BEV_TRIG_DEFER_CALLBACKS);
}

/* pconn_read - take each complete request in turn */
static void
pconn_read(struct bufferevent *bev, void *arg)
{
    struct pconn *pc = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t max = (size_t) pc->srv->l->conf->policy.max_request_size;

    while (!pc->busy) {
	size_t have = evbuffer_get_length(in), want = have < max + 1 ? have : max + 1;
	const char *buf;
	struct policy_request req;
	const char *why;
	size_t len;

	if (evbuffer_get_length(bufferevent_get_output(bev)) > PCONN_MAX_OUTPUT) {
	    /* answers pile up unread: read no more until they are taken */
	    pc->blocked = 1;
	    bufferevent_disable(bev, EV_READ);
	    return;
	}
	buf = (const char *) evbuffer_pullup(in, (ev_ssize_t) want);
	if (have == 0)
	    return;
	if ((len = request_end(buf, want)) == 0) {
	    if (have > max) {
		msg_warn("%s: request larger than %zu bytes: closing the connection",
			 pc->peer, max);
		pconn_close(pc);
	    }
	    return;
	}
	if (request_parse(buf, len, &req, &why) < 0) {
	    msg_warn("%s: malformed request (%s): closing the connection", pc->peer, why);
	    pconn_close(pc);
	    return;
	}
	/*
	 * One decision at a time per client; what it sends meanwhile stays in
	 * the input buffer, whose read watermark stops reading when it is full.
	 */
	pc->busy = 1;
	decider_ask(pc->srv->d, &req, on_decided, pc);
	evbuffer_drain(in, len);
	if (pc->closed)
	    return;
    }
}

/* pconn_event - end of file, error or idle timeout */
static void
pconn_event(struct bufferevent *bev, short what, void *arg)
{
    struct pconn *pc = arg;

    (void) bev;
    if (what & BEV_EVENT_TIMEOUT)
	msg_info("%s: idle for too long: closing the connection", pc->peer);
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
	pconn_close(pc);
}

/* on_accept - a new client */
static void
on_accept(struct evconnlistener *lst, evutil_socket_t fd, struct sockaddr *sa,
	  int salen, void *arg)
{
    struct server *srv = arg;
    const struct conf_policy *p = &srv->l->conf->policy;
    struct pconn *pc;
    struct timeval idle;

    (void) lst;
    (void) salen;
    if (srv->nconn >= p->max_connections) {
	msg_warn("more than %ld connections: refusing one", p->max_connections);
	close(fd);
	return;
    }
    pc = xcalloc(1, sizeof(*pc));
    pc->srv = srv;
    srv->nconn++;
    if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6) {
	int one = 1;
	char host[INET6_ADDRSTRLEN];
	const void *a = sa->sa_family == AF_INET
	    ? (const void *) &((struct sockaddr_in *) sa)->sin_addr
	    : (const void *) &((struct sockaddr_in6 *) sa)->sin6_addr;

	/* one small answer per request: never wait for Nagle */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	inet_ntop(sa->sa_family, a, host, sizeof(host));
	snprintf(pc->peer, sizeof(pc->peer), "client %s", host);
    } else {
	snprintf(pc->peer, sizeof(pc->peer), "unix client");
    }
    pc->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (pc->bev == NULL) {
	close(fd);
	srv->nconn--;
	free(pc);
	return;
    }
    idle.tv_sec = (time_t) (p->idle_timeout_ms / 1000);
    idle.tv_usec = (suseconds_t) (p->idle_timeout_ms % 1000) * 1000;
    bufferevent_set_timeouts(pc->bev, &idle, NULL);
    bufferevent_setwatermark(pc->bev, EV_READ, 0, (size_t) p->max_request_size + 2);
    bufferevent_setcb(pc->bev, pconn_read, pconn_write, pconn_event, pc);
    bufferevent_enable(pc->bev, EV_READ | EV_WRITE);
}

/* parse_inet - "inet:host:port", host an IPv4 address or [IPv6] */
static int
parse_inet(const char *addr, struct sockaddr_storage *ss, socklen_t *sl)
{
    const char *hp = addr + 5, *colon = strrchr(hp, ':');
    char host[128];
    size_t hl;
    long port;
    char *end;

    if (colon == NULL)
	return -1;
    hl = (size_t) (colon - hp);
    if (hl >= 2 && hp[0] == '[' && hp[hl - 1] == ']')
	hp++, hl -= 2;
    if (hl == 0 || hl >= sizeof(host))
	return -1;
    memcpy(host, hp, hl);
    host[hl] = '\0';
    port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || port < 1 || port > 65535)
	return -1;
    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, host, &((struct sockaddr_in *) ss)->sin_addr) == 1) {
	((struct sockaddr_in *) ss)->sin_family = AF_INET;
	((struct sockaddr_in *) ss)->sin_port = htons((uint16_t) port);
	*sl = sizeof(struct sockaddr_in);
	return 0;
    }
    if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *) ss)->sin6_addr) == 1) {
	((struct sockaddr_in6 *) ss)->sin6_family = AF_INET6;
	((struct sockaddr_in6 *) ss)->sin6_port = htons((uint16_t) port);
	*sl = sizeof(struct sockaddr_in6);
	return 0;
    }
    return -1;
}

/* server_listen - open one listener */
int
server_listen(struct server *srv, const char *addr)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    struct evconnlistener *l;
    unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC;
    char *unix_path = NULL;
    mode_t old;

    memset(&ss, 0, sizeof(ss));
    if (strncmp(addr, "unix:", 5) == 0) {
	struct sockaddr_un *sun = (struct sockaddr_un *) &ss;

	if (strlen(addr + 5) >= sizeof(sun->sun_path)) {
	    errno = ENAMETOOLONG;
	    return -1;
	}
	sun->sun_family = AF_UNIX;
	strcpy(sun->sun_path, addr + 5);
	unlink(sun->sun_path);
	unix_path = xstrdup(sun->sun_path);
	sl = sizeof(*sun);
    } else if (parse_inet(addr, &ss, &sl) < 0) {
	errno = EINVAL;
	return -1;
    }
    old = umask(0111);
    l = evconnlistener_new_bind(srv->base, on_accept, srv, flags, 1024,
				(struct sockaddr *) &ss, (int) sl);
    umask(old);
    if (l == NULL) {
	free(unix_path);
	return -1;
    }
    srv->v = xreallocarray(srv->v, srv->n + 1, sizeof(*srv->v));
    srv->v[srv->n].l = l;
    srv->v[srv->n].unix_path = unix_path;
    srv->n++;
    return 0;
}

/* server_new - a server without listeners yet */
struct server *
server_new(struct event_base *base, struct decider *d, struct limits *l)
{
    struct server *srv = xcalloc(1, sizeof(*srv));

    srv->base = base;
    srv->d = d;
    srv->l = limits_ref(l);
    return srv;
}

/* server_reload - new size limits */
void
server_reload(struct server *srv, struct limits *l)
{
    limits_unref(srv->l);
    srv->l = limits_ref(l);
}

/* server_free - close the listeners (clients are left to exit) */
void
server_free(struct server *srv)
{
    size_t i;

    for (i = 0; i < srv->n; i++) {
	evconnlistener_free(srv->v[i].l);
	if (srv->v[i].unix_path) {
	    unlink(srv->v[i].unix_path);
	    free(srv->v[i].unix_path);
	}
    }
    free(srv->v);
    limits_unref(srv->l);
    free(srv);
}
