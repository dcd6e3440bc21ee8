/*
 * promhttp - the HTTP endpoint that serves a daemon's metrics (see
 * promhttp.h)
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "msg.h"
#include "promhttp.h"
#include "redisconn.h"
#include "xalloc.h"

#define PROMHTTP_MAX_HEADERS	8192	/* a scraper sends a few hundred bytes */
#define PROMHTTP_MAX_BODY	1024	/* a GET has none */

struct promhttp {
    struct evhttp *http;
    promhttp_render_fn render;
    void *arg;
    /* the thread of promhttp_start_thread() */
    struct event_base *own_base;
    struct event *wake;
    int pipe[2];
    pthread_t tid;
    int threaded;
    /* out of descriptors: accepting pauses (on_accept_error) */
    struct evconnlistener *listener;
    struct event *resume;
    struct msg_limit said;
    struct promhttp *next;		/* in endpoints */
};

/* the endpoints started: the listener's error callback is given only evhttp's pointer */
static pthread_mutex_t endpoints_lock = PTHREAD_MUTEX_INITIALIZER;
static struct promhttp *endpoints;

/* on_request - GET /metrics */
static void
on_request(struct evhttp_request *req, void *arg)
{
    struct promhttp *h = arg;
    const char *uri = evhttp_request_get_uri(req);
    struct evbuffer *out;
    struct prom *page;
    const char *text;
    size_t len;

    if (evhttp_request_get_command(req) != EVHTTP_REQ_GET
	|| uri == NULL || strncmp(uri, "/metrics", 8) != 0
	|| (uri[8] != '\0' && uri[8] != '?')) {
	evhttp_send_error(req, HTTP_NOTFOUND, "try /metrics");
	return;
    }
    if ((page = h->render(h->arg)) == NULL) {
	evhttp_send_error(req, 503, "metrics unavailable");
	return;
    }
    text = prom_text(page, &len);
    out = evbuffer_new();
    evbuffer_add(out, text, len);
    prom_free(page);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
		      "text/plain; version=0.0.4; charset=utf-8");
    evhttp_send_reply(req, HTTP_OK, "OK", out);
    evbuffer_free(out);
}

/* on_resume - try accepting again */
static void
on_resume(evutil_socket_t fd, short what, void *arg)
{
    struct promhttp *h = arg;

    (void) fd;
    (void) what;
    evconnlistener_enable(h->listener);
}

/*
 * on_accept_error - accept() failed (EMFILE, ENFILE...): libevent would
 * call it again at once, for as long as a client waits, and log each
 * failure; pause for a second instead
 */
static void
on_accept_error(struct evconnlistener *lev, void *arg)
{
    struct timeval tv = {1, 0};
    struct promhttp *h;
    int err = errno;

    (void) arg;
    evconnlistener_disable(lev);
    pthread_mutex_lock(&endpoints_lock);
    for (h = endpoints; h && h->listener != lev; h = h->next)
	 /* void */ ;
    pthread_mutex_unlock(&endpoints_lock);
    if (h == NULL)
	msg_fatal("metrics: an endpoint not started failed to accept");
    msg_warn_limited(&h->said, "metrics: cannot accept a connection: %s: trying again "
		     "in a second", strerror(err));
    evtimer_add(h->resume, &tv);
}

/* endpoint_add - register h once its listener exists */
static void
endpoint_add(struct promhttp *h)
{
    pthread_mutex_lock(&endpoints_lock);
    h->next = endpoints;
    endpoints = h;
    pthread_mutex_unlock(&endpoints_lock);
}

/* endpoint_remove - h is going away */
static void
endpoint_remove(struct promhttp *h)
{
    struct promhttp **pp;

    pthread_mutex_lock(&endpoints_lock);
    for (pp = &endpoints; *pp; pp = &(*pp)->next) {
	if (*pp == h) {
	    *pp = h->next;
	    break;
	}
    }
    pthread_mutex_unlock(&endpoints_lock);
}

/* bind_http - an HTTP server on base, listening on "host:port" */
static struct evhttp *
bind_http(struct event_base *base, const char *listen, struct promhttp *h, char *err,
	  size_t errlen)
{
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    char host[256];
    const char *why = "expected host:port";
    const char *v6 = strrchr(listen, ']');
    int port;

    /* the parser of Redis addresses would give a host alone Redis's port */
    if (strncmp(listen, "unix:", 5) == 0 || strchr(v6 ? v6 : listen, ':') == NULL
	|| rconn_parse_server(listen, host, sizeof(host), &port, &why) < 0) {
	snprintf(err, errlen, "metrics_listen %s: %s", listen, why);
	return NULL;
    }
    if ((http = evhttp_new(base)) == NULL) {
	snprintf(err, errlen, "metrics_listen %s: cannot create the HTTP server", listen);
	return NULL;
    }
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET);
    /* libevent keeps whatever a client sends, without limit, unless told */
    evhttp_set_max_headers_size(http, PROMHTTP_MAX_HEADERS);
    evhttp_set_max_body_size(http, PROMHTTP_MAX_BODY);
    evhttp_set_timeout(http, 10);
    evhttp_set_gencb(http, on_request, h);
    if ((bound = evhttp_bind_socket_with_handle(http, host, (ev_uint16_t) port)) == NULL) {
	snprintf(err, errlen, "metrics_listen %s: cannot listen: %s", listen,
		 strerror(errno));
	evhttp_free(http);
	return NULL;
    }
    h->listener = evhttp_bound_socket_get_listener(bound);
    h->resume = evtimer_new(base, on_resume, h);
    h->said = (struct msg_limit) MSG_LIMIT_INIT(60);
    evconnlistener_set_error_cb(h->listener, on_accept_error);
    endpoint_add(h);
    return http;
}

/* promhttp_start - serve on the caller's event loop */
struct promhttp *
promhttp_start(struct event_base *base, const char *listen, promhttp_render_fn render,
	       void *arg, char *err, size_t errlen)
{
    struct promhttp *h = xcalloc(1, sizeof(*h));

    h->render = render;
    h->arg = arg;
    h->pipe[0] = h->pipe[1] = -1;
    if ((h->http = bind_http(base, listen, h, err, errlen)) == NULL) {
	free(h);
	return NULL;
    }
    msg_info("metrics on http://%s/metrics", listen);
    return h;
}

/* on_wake - promhttp_stop() asks the thread to end */
static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
    struct promhttp *h = arg;

    (void) fd;
    (void) what;
    event_base_loopbreak(h->own_base);
}

/* serve - the thread's loop */
static void *
serve(void *arg)
{
    struct promhttp *h = arg;
    sigset_t set;

    /* a scraper that hangs up must not kill the daemon, whatever it does with SIGPIPE */
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    event_base_dispatch(h->own_base);
    return NULL;
}

/* promhttp_start_thread - serve from a thread of its own */
struct promhttp *
promhttp_start_thread(const char *listen, promhttp_render_fn render, void *arg,
		      char *err, size_t errlen)
{
    struct promhttp *h = xcalloc(1, sizeof(*h));

    h->render = render;
    h->arg = arg;
    h->threaded = 1;
    if (pipe(h->pipe) < 0) {
	snprintf(err, errlen, "metrics: pipe: %s", strerror(errno));
	free(h);
	return NULL;
    }
    fcntl(h->pipe[0], F_SETFD, FD_CLOEXEC);
    fcntl(h->pipe[1], F_SETFD, FD_CLOEXEC);
    if ((h->own_base = event_base_new()) == NULL) {
	snprintf(err, errlen, "metrics: cannot create an event loop");
	goto fail;
    }
    if ((h->http = bind_http(h->own_base, listen, h, err, errlen)) == NULL)
	goto fail;
    h->wake = event_new(h->own_base, h->pipe[0], EV_READ, on_wake, h);
    event_add(h->wake, NULL);
    if ((errno = pthread_create(&h->tid, NULL, serve, h)) != 0) {
	snprintf(err, errlen, "metrics: cannot start a thread: %s", strerror(errno));
	goto fail;
    }
    msg_info("metrics on http://%s/metrics", listen);
    return h;
fail:
    if (h->wake)
	event_free(h->wake);
    if (h->http) {
	endpoint_remove(h);
	event_free(h->resume);
	evhttp_free(h->http);
    }
    if (h->own_base)
	event_base_free(h->own_base);
    close(h->pipe[0]);
    close(h->pipe[1]);
    free(h);
    return NULL;
}

/* promhttp_stop - close the endpoint */
void
promhttp_stop(struct promhttp *h)
{
    if (h == NULL)
	return;
    if (h->threaded) {
	while (write(h->pipe[1], "x", 1) < 0 && errno == EINTR)
	    ;
	pthread_join(h->tid, NULL);
	event_free(h->wake);
    }
    endpoint_remove(h);
    event_free(h->resume);
    evhttp_free(h->http);
    if (h->own_base)
	event_base_free(h->own_base);
    if (h->threaded) {
	close(h->pipe[0]);
	close(h->pipe[1]);
    }
    free(h);
}
