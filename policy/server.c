/*
 * server - the policy protocol on unix and inet listeners (see server.h)
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/resource.h>
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
#include "sockguard.h"
#include "xalloc.h"

/* the connections of one TCP client address */
struct peer {
    struct peer *next;
    long n;
    socklen_t len;
    unsigned char addr[16];
};

struct pconn {
    struct server *srv;
    struct bufferevent *bev;
    struct event *deadline;	/* request_timeout of a request begun */
    struct pconn *prev, *next;	/* least recently active first */
    struct peer *from;		/* TCP: its address's count */
    int busy;			/* a decision is pending */
    int closed;			/* the client is gone: free when not busy */
    int blocked;		/* the client does not read its answers */
    char peer[64];
};

struct listener {
    struct evconnlistener *l;
    char *unix_path;
    int lock_fd;		/* sockguard_claim()'s, held until the end */
};

struct server {
    struct event_base *base;
    struct decider *d;
    struct limits *l;
    struct listener *v;
    size_t n;
    long nconn;			/* including closed ones waiting for a decision */
    long cap;			/* max_connections within the open-file limit */
    long client_cap;		/* per TCP client address */
    struct pconn *oldest, *newest;	/* open connections by last activity */
    struct peer **peers;		/* PEER_BUCKETS chains */
    uint32_t seed;
    int paused;			/* accepting nothing for now */
    struct event *resume;	/* the end of a pause after an accept error */
    struct msg_limit said_full, said_accept, said_client, said_timeout;
};

#define PCONN_MAX_OUTPUT 65536
#define FD_RESERVE	64	/* files besides clients: Redis, DNS, listeners, logs */
#define AUTO_MAX_CONN	10000	/* max_connections = 0: at most this many */
#define PEER_BUCKETS	4096
#define EVICT_SCAN	64	/* idle connections looked for, oldest first */
#define ACCEPT_PAUSE_MS	1000	/* after an accept error that evicting cannot cure */
#define SAY_EVERY	10	/* seconds between repeated warnings */

static void pconn_read(struct bufferevent *bev, void *arg);
static void pconn_close(struct pconn *pc);
static void accept_pause(struct server *srv, long long ms);
static void accept_resume(struct server *srv);

/* fd_fit - connections the open-file limit leaves room for */
static long
fd_fit(void)
{
    struct rlimit rl;
    long fit = 100000;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
	&& rl.rlim_cur < 100000 + FD_RESERVE)
	fit = rl.rlim_cur > 2 * FD_RESERVE ? (long) rl.rlim_cur - FD_RESERVE
	    : (long) rl.rlim_cur / 2;
    return fit > 0 ? fit : 1;
}

/* server_caps - the connection limits of a configuration, within the file limit */
static void
server_caps(struct server *srv)
{
    const struct conf_policy *p = &srv->l->conf->policy;
    long fit = fd_fit(), cap = srv->cap, client_cap = srv->client_cap;

    if (p->max_connections == 0)
	srv->cap = fit < AUTO_MAX_CONN ? fit : AUTO_MAX_CONN;
    else if (p->max_connections > fit) {
	msg_warn("max_connections %ld: the open-file limit leaves room for %ld",
		 p->max_connections, fit);
	srv->cap = fit;
    } else
	srv->cap = p->max_connections;
    srv->client_cap = p->max_client_connections ? p->max_client_connections
	: (srv->cap + 1) / 2;
    if (srv->cap != cap || srv->client_cap != client_cap)
	msg_info("accepting at most %ld connections, %ld from one TCP client address",
		 srv->cap, srv->client_cap);
}

/* peer_hash - the bucket of an address (seeded: clients cannot aim at one) */
static size_t
peer_hash(const struct server *srv, const unsigned char *a, socklen_t len)
{
    uint32_t h = 2166136261u ^ srv->seed;
    socklen_t i;

    for (i = 0; i < len; i++)
	h = (h ^ a[i]) * 16777619u;
    return h % PEER_BUCKETS;
}

/* peer_find - the count of an address; NULL: no connection from it */
static struct peer *
peer_find(struct server *srv, const unsigned char *a, socklen_t len)
{
    struct peer *p;

    for (p = srv->peers[peer_hash(srv, a, len)]; p; p = p->next)
	if (p->len == len && memcmp(p->addr, a, len) == 0)
	    return p;
    return NULL;
}

/* peer_get - one connection more from an address */
static struct peer *
peer_get(struct server *srv, const unsigned char *a, socklen_t len)
{
    struct peer **b = &srv->peers[peer_hash(srv, a, len)], *p;

    if ((p = peer_find(srv, a, len)) != NULL) {
	p->n++;
	return p;
    }
    p = xcalloc(1, sizeof(*p));
    p->n = 1;
    p->len = len;
    memcpy(p->addr, a, len);
    p->next = *b;
    *b = p;
    return p;
}

/* peer_put - one connection of an address fewer; forget it at 0 */
static void
peer_put(struct server *srv, struct peer *p)
{
    struct peer **b;

    if (--p->n > 0)
	return;
    for (b = &srv->peers[peer_hash(srv, p->addr, p->len)]; *b != p; b = &(*b)->next)
	;
    *b = p->next;
    free(p);
}

/* lru_unlink - out of the activity list */
static void
lru_unlink(struct pconn *pc)
{
    struct server *srv = pc->srv;

    if (pc->prev)
	pc->prev->next = pc->next;
    else if (srv->oldest == pc)
	srv->oldest = pc->next;
    if (pc->next)
	pc->next->prev = pc->prev;
    else if (srv->newest == pc)
	srv->newest = pc->prev;
    pc->prev = pc->next = NULL;
}

/* lru_touch - the connection was active: last to be evicted */
static void
lru_touch(struct pconn *pc)
{
    struct server *srv = pc->srv;

    if (srv->newest == pc)
	return;
    lru_unlink(pc);
    pc->prev = srv->newest;
    if (srv->newest)
	srv->newest->next = pc;
    else
	srv->oldest = pc;
    srv->newest = pc;
}

/*
 * pconn_idle - between requests, nothing pending: may be closed.  Bytes not
 * read yet count too: a client just accepted may have sent its request.
 */
static int
pconn_idle(const struct pconn *pc)
{
    int unread = 0;

    return !pc->busy && !pc->closed
	&& evbuffer_get_length(bufferevent_get_input(pc->bev)) == 0
	&& evbuffer_get_length(bufferevent_get_output(pc->bev)) == 0
	&& ioctl(bufferevent_getfd(pc->bev), FIONREAD, &unread) == 0 && unread == 0;
}

/* idle_victim - the least recently active idle connection, or NULL */
static struct pconn *
idle_victim(struct server *srv)
{
    struct pconn *pc;
    int i;

    for (pc = srv->oldest, i = 0; pc && i < EVICT_SCAN; pc = pc->next, i++)
	if (pconn_idle(pc))
	    return pc;
    return NULL;
}

/*
 * evict_idle - make room: close the least recently active idle connection.
 * Postfix keeps a connection per smtpd process and opens a new one when it
 * finds it closed, so this costs a client one reconnect; an unused
 * connection can no longer keep a working client out.
 */
static int
evict_idle(struct server *srv)
{
    struct pconn *pc = idle_victim(srv);

    if (pc == NULL)
	return 0;
    msg_info_limited(&srv->said_full, "%ld connections: closing the least recently "
		     "active idle one (%s)", srv->cap, pc->peer);
    pconn_close(pc);
    return 1;
}

/* pconn_write - the answers were sent: read again if we had stopped */
static void
pconn_write(struct bufferevent *bev, void *arg)
{
    struct pconn *pc = arg;
    struct server *srv = pc->srv;

    /*
     * Idle now: room for a new client, if the next accept will find an idle
     * connection to close (it looks at the least recently active ones only,
     * and this one was just active): else each answer would let one more in
     * over the cap.
     */
    if (srv->paused && !evtimer_pending(srv->resume, NULL) && pconn_idle(pc)
	&& idle_victim(srv) != NULL)
	accept_resume(srv);
    if (pc->blocked && !pc->busy) {
	pc->blocked = 0;
	bufferevent_enable(bev, EV_READ);
	pconn_read(bev, pc);		/* may free pc */
    }
}

/*
 * pconn_release_io - free the bufferevent and close the socket now.  libevent
 * frees a bufferevent (and closes its socket with BEV_OPT_CLOSE_ON_FREE) only
 * on a later turn of the loop: connections closed to make room during a burst
 * of accepts would still hold their descriptors.
 */
static void
pconn_release_io(struct pconn *pc)
{
    evutil_socket_t fd;

    if (pc->bev == NULL)
	return;
    fd = bufferevent_getfd(pc->bev);
    bufferevent_free(pc->bev);		/* its events are deleted at once */
    pc->bev = NULL;
    if (fd >= 0)
	close(fd);
}

/* pconn_free - release a connection */
static void
pconn_free(struct pconn *pc)
{
    struct server *srv = pc->srv;

    pconn_release_io(pc);
    event_free(pc->deadline);
    srv->nconn--;
    free(pc);
    if (srv->paused && !evtimer_pending(srv->resume, NULL))
	accept_resume(srv);		/* a slot is free */
}

/* pconn_close - the connection ends; wait for a pending decision */
static void
pconn_close(struct pconn *pc)
{
    if (pc->closed)
	return;
    lru_unlink(pc);
    event_del(pc->deadline);
    if (pc->from) {
	peer_put(pc->srv, pc->from);
	pc->from = NULL;
    }
    if (pc->busy) {
	/* the decision still holds pc: stop I/O now, free when it answers */
	pconn_release_io(pc);
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
    lru_touch(pc);
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
    const struct conf_policy *p = &pc->srv->l->conf->policy;
    size_t max = (size_t) p->max_request_size;

    lru_touch(pc);
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
	if (have == 0) {
	    event_del(pc->deadline);	/* between requests: idle_timeout */
	    return;
	}
	if ((len = request_end(buf, want)) == 0) {
	    if (have > max) {
		msg_warn_limited(&pc->srv->said_client, "%s: request larger than %zu "
				 "bytes: closing the connection", pc->peer, max);
		pconn_close(pc);
	    } else if (!evtimer_pending(pc->deadline, NULL)) {
		struct timeval tv;

		/* a request begun must end in time, however slowly it trickles in */
		tv.tv_sec = (time_t) (p->request_timeout_ms / 1000);
		tv.tv_usec = (suseconds_t) (p->request_timeout_ms % 1000) * 1000;
		evtimer_add(pc->deadline, &tv);
	    }
	    return;
	}
	if (request_parse(buf, len, &req, &why) < 0) {
	    msg_warn_limited(&pc->srv->said_client, "%s: malformed request (%s): "
			     "closing the connection", pc->peer, why);
	    pconn_close(pc);
	    return;
	}
	/*
	 * One decision at a time per client; what it sends meanwhile stays in
	 * the input buffer, whose read watermark stops reading when it is full.
	 */
	pc->busy = 1;
	event_del(pc->deadline);	/* our delay, not the client's */
	decider_ask(pc->srv->d, &req, on_decided, pc);
	evbuffer_drain(in, len);
	if (pc->closed)
	    return;
    }
}

/* pconn_event - end of file, error, idle timeout or answers left unread */
static void
pconn_event(struct bufferevent *bev, short what, void *arg)
{
    struct pconn *pc = arg;

    (void) bev;
    if (what & BEV_EVENT_TIMEOUT)
	msg_info_limited(&pc->srv->said_timeout, "%s: %s: closing the connection",
			 pc->peer, what & BEV_EVENT_WRITING
			 ? "answers not read within request_timeout"
			 : "idle for too long");
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
	pconn_close(pc);
}

/* pconn_deadline - a request not complete within request_timeout */
static void
pconn_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct pconn *pc = arg;

    (void) fd;
    (void) what;
    msg_info_limited(&pc->srv->said_timeout, "%s: no complete request within "
		     "request_timeout: closing the connection", pc->peer);
    pconn_close(pc);
}

/* accept_pause - accept nothing for ms (0: until a connection frees a slot) */
static void
accept_pause(struct server *srv, long long ms)
{
    size_t i;

    if (!srv->paused)
	for (i = 0; i < srv->n; i++)
	    evconnlistener_disable(srv->v[i].l);
    srv->paused = 1;
    if (ms > 0) {
	struct timeval tv = {(time_t) (ms / 1000), (suseconds_t) (ms % 1000) * 1000};

	evtimer_add(srv->resume, &tv);
    }
}

/* accept_resume - accept again */
static void
accept_resume(struct server *srv)
{
    size_t i;

    if (!srv->paused)
	return;
    evtimer_del(srv->resume);
    srv->paused = 0;
    for (i = 0; i < srv->n; i++)
	evconnlistener_enable(srv->v[i].l);
}

/* on_resume - the pause after an accept error is over */
static void
on_resume(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    accept_resume(arg);
}

/*
 * on_accept_error - accept() failed for a reason retrying at once cannot
 * cure.  Out of descriptors (EMFILE): the limit is lower than the start
 * left room for (lowered since, or other files took the reserve), so the
 * cap comes down to the connections open now, idle ones are closed down
 * to it and accepting goes on; with nothing to close, or on ENFILE and
 * other errors, accepting pauses.  Never a loop of failing accept() calls.
 */
static void
on_accept_error(struct evconnlistener *lst, void *arg)
{
    struct server *srv = arg;
    int err = EVUTIL_SOCKET_ERROR();
    int freed = 0;

    (void) lst;
    if (err == EMFILE) {
	long fit = fd_fit();

	srv->cap = srv->nconn > 1 ? srv->nconn - 1 : 1;
	if (fit < srv->cap)
	    srv->cap = fit;
	while (srv->nconn > srv->cap && evict_idle(srv))
	    freed = 1;
    }
    if (err == EMFILE)
	msg_warn_limited(&srv->said_accept, "accept: %s: at most %ld connections until "
			 "the next reload; %s", evutil_socket_error_to_string(err), srv->cap,
			 freed ? "idle ones closed" : "accepting nothing for a second");
    else
	msg_warn_limited(&srv->said_accept, "accept: %s: accepting nothing for a second",
			 evutil_socket_error_to_string(err));
    if (!freed)
	accept_pause(srv, ACCEPT_PAUSE_MS);
}

/* pconn_settings - the timeouts and the read limit of the configuration in force */
static void
pconn_settings(struct pconn *pc)
{
    const struct conf_policy *p = &pc->srv->l->conf->policy;
    struct timeval idle, unread;

    idle.tv_sec = (time_t) (p->idle_timeout_ms / 1000);
    idle.tv_usec = (suseconds_t) (p->idle_timeout_ms % 1000) * 1000;
    unread.tv_sec = (time_t) (p->request_timeout_ms / 1000);
    unread.tv_usec = (suseconds_t) (p->request_timeout_ms % 1000) * 1000;
    bufferevent_set_timeouts(pc->bev, &idle, &unread);
    bufferevent_setwatermark(pc->bev, EV_READ, 0, (size_t) p->max_request_size + 2);
}

/* on_accept - a new client */
static void
on_accept(struct evconnlistener *lst, evutil_socket_t fd, struct sockaddr *sa,
	  int salen, void *arg)
{
    struct server *srv = arg;
    struct pconn *pc;
    int tcp = sa->sa_family == AF_INET || sa->sa_family == AF_INET6;
    const unsigned char *a = NULL;
    socklen_t alen = 0;

    (void) lst;
    (void) salen;
    if (tcp) {
	struct peer *from;

	a = sa->sa_family == AF_INET
	    ? (const unsigned char *) &((struct sockaddr_in *) sa)->sin_addr
	    : (const unsigned char *) &((struct sockaddr_in6 *) sa)->sin6_addr;
	alen = sa->sa_family == AF_INET ? 4 : 16;
	if ((from = peer_find(srv, a, alen)) != NULL && from->n >= srv->client_cap) {
	    char host[INET6_ADDRSTRLEN];

	    inet_ntop(sa->sa_family, a, host, sizeof(host));
	    msg_warn_limited(&srv->said_client, "client %s: %ld connections already "
			     "(max_client_connections): refusing one", host, from->n);
	    close(fd);
	    return;
	}
    }
    if (srv->nconn >= srv->cap && !evict_idle(srv)) {
	/*
	 * Rare: this client came before the pause took effect (a connection
	 * that looked idle when the last one was accepted had its request on
	 * the way).  Its descriptor is open already and the cap leaves a
	 * reserve below the open-file limit: serve it, one over the cap, and
	 * let the next ones wait in the backlog.
	 */
	msg_info_limited(&srv->said_full, "%ld connections, none idle: one more taken, "
			 "accepting paused", srv->cap);
	accept_pause(srv, 0);
    }
    pc = xcalloc(1, sizeof(*pc));
    pc->srv = srv;
    srv->nconn++;
    if (tcp) {
	int one = 1;
	char host[INET6_ADDRSTRLEN];

	pc->from = peer_get(srv, a, alen);
	/* one small answer per request: never wait for Nagle */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	inet_ntop(sa->sa_family, a, host, sizeof(host));
	snprintf(pc->peer, sizeof(pc->peer), "client %s", host);
    } else {
	snprintf(pc->peer, sizeof(pc->peer), "unix client");
    }
    pc->bev = bufferevent_socket_new(srv->base, fd, 0);	/* closed by pconn_release_io() */
    pc->deadline = evtimer_new(srv->base, pconn_deadline, pc);
    if (pc->bev == NULL || pc->deadline == NULL)
	msg_fatal("out of memory");
    lru_touch(pc);
    pconn_settings(pc);
    bufferevent_setcb(pc->bev, pconn_read, pconn_write, pconn_event, pc);
    bufferevent_enable(pc->bev, EV_READ | EV_WRITE);
    if (srv->nconn >= srv->cap && idle_victim(srv) == NULL)
	accept_pause(srv, 0);		/* until a connection ends or goes idle */
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
    int lock_fd = -1;
    char err[600];
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
	/* never the socket of a running instance: a stale one only */
	if ((lock_fd = sockguard_claim(sun->sun_path, err, sizeof(err))) < 0) {
	    msg_error("%s", err);
	    errno = EADDRINUSE;
	    return -1;
	}
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
	if (lock_fd >= 0)
	    close(lock_fd);
	return -1;
    }
    evconnlistener_set_error_cb(l, on_accept_error);
    if (srv->paused)
	evconnlistener_disable(l);
    srv->v = xreallocarray(srv->v, srv->n + 1, sizeof(*srv->v));
    srv->v[srv->n].l = l;
    srv->v[srv->n].unix_path = unix_path;
    srv->v[srv->n].lock_fd = lock_fd;
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
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): a table of pointers */
    srv->peers = xcalloc(PEER_BUCKETS, sizeof(*srv->peers));
    if (getrandom(&srv->seed, sizeof(srv->seed), GRND_NONBLOCK) != sizeof(srv->seed))
	srv->seed = (uint32_t) getpid() ^ (uint32_t) time(NULL);
    if ((srv->resume = evtimer_new(base, on_resume, srv)) == NULL)
	msg_fatal("out of memory");
    srv->said_full = srv->said_accept = srv->said_client = srv->said_timeout
	= (struct msg_limit) MSG_LIMIT_INIT(SAY_EVERY);
    server_caps(srv);
    return srv;
}

/* server_reload - new size limits */
void
server_reload(struct server *srv, struct limits *l)
{
    struct pconn *pc;

    limits_unref(srv->l);
    srv->l = limits_ref(l);
    server_caps(srv);
    /* open connections too: one kept since the start reads what is now allowed */
    for (pc = srv->oldest; pc; pc = pc->next)
	pconn_settings(pc);
    while (srv->nconn > srv->cap && evict_idle(srv))
	;				/* a lower cap: down to it */
    if (srv->paused && !evtimer_pending(srv->resume, NULL))
	accept_resume(srv);		/* the cap may be higher now */
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
	if (srv->v[i].lock_fd >= 0)
	    close(srv->v[i].lock_fd);
    }
    free(srv->v);
    event_free(srv->resume);
    for (i = 0; i < PEER_BUCKETS; i++)
	while (srv->peers[i]) {
	    struct peer *next = srv->peers[i]->next;

	    free(srv->peers[i]);
	    srv->peers[i] = next;
	}
    free(srv->peers);
    limits_unref(srv->l);
    free(srv);
}
