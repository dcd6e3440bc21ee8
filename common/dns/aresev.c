/*
 * aresev - a c-ares resolver channel on a libevent loop (see aresev.h)
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "aresev.h"
#include "msg.h"
#include "xalloc.h"

#define ARESEV_MAX_SOCKETS 32

struct aresev_sock {
    ares_socket_t fd;
    struct event *ev;
};

struct aresev {
    struct event_base *base;
    ares_channel channel;
    const char *who;
    struct event *tick;		/* lets c-ares notice timeouts */
    struct aresev_sock socks[ARESEV_MAX_SOCKETS];
};

/* on_tick - let c-ares notice timeouts */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct aresev *a = arg;

    (void) fd;
    (void) what;
    ares_process_fd(a->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

/* on_sock - a c-ares socket is ready */
static void
on_sock(evutil_socket_t fd, short what, void *arg)
{
    struct aresev *a = arg;

    ares_process_fd(a->channel, (what & EV_READ) ? fd : ARES_SOCKET_BAD,
		    (what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
}

/* sock_state - c-ares opens, watches or closes a socket */
static void
sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    struct aresev *a = data;
    struct aresev_sock *s = NULL, *free_slot = NULL;
    int i;

    for (i = 0; i < ARESEV_MAX_SOCKETS; i++) {
	if (a->socks[i].ev && a->socks[i].fd == fd)
	    s = &a->socks[i];
	else if (a->socks[i].ev == NULL && free_slot == NULL)
	    free_slot = &a->socks[i];
    }
    if (s) {
	event_free(s->ev);
	s->ev = NULL;
    }
    if (!readable && !writable)
	return;
    if (s == NULL && (s = free_slot) == NULL) {
	msg_warn("%s: more than %d resolver sockets", a->who, ARESEV_MAX_SOCKETS);
	return;
    }
    s->fd = fd;
    s->ev = event_new(a->base, fd, (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0)
		      | EV_PERSIST, on_sock, a);
    event_add(s->ev, NULL);
}

/* aresev_new - a channel watched by base */
struct aresev *
aresev_new(struct event_base *base, const char *who, long long timeout_ms, int tries)
{
    struct aresev *a = xcalloc(1, sizeof(*a));
    struct ares_options opt;
    struct timeval tick = {0, 100000};
    int rc;

    a->base = base;
    a->who = who;
    ares_library_init(ARES_LIB_INIT_ALL);
    memset(&opt, 0, sizeof(opt));
    opt.sock_state_cb = sock_state;
    opt.sock_state_cb_data = a;
    opt.timeout = (int) (timeout_ms > 0 ? timeout_ms : 1);
    opt.tries = tries;
    rc = ares_init_options(&a->channel, &opt,
			   ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
    if (rc != ARES_SUCCESS)
	msg_fatal("%s: cannot start the resolver: %s", who, ares_strerror(rc));
    a->tick = event_new(base, -1, EV_PERSIST, on_tick, a);
    event_add(a->tick, &tick);
    return a;
}

/* aresev_channel - the channel to ask */
ares_channel
aresev_channel(const struct aresev *a)
{
    return a->channel;
}

/* aresev_free - destroy the channel (pending questions are called back) */
void
aresev_free(struct aresev *a)
{
    int i;

    if (a == NULL)
	return;
    ares_destroy(a->channel);
    for (i = 0; i < ARESEV_MAX_SOCKETS; i++)
	if (a->socks[i].ev)
	    event_free(a->socks[i].ev);
    event_free(a->tick);
    free(a);
}
