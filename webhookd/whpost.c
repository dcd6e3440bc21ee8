/*
 * whpost - one webhook POST at a time to one URL, on a libevent loop
 * (see whpost.h)
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "monotime.h"
#include "msg.h"
#include "whpost.h"
#include "xalloc.h"

const char *const whpost_result_name[WHPOST_NRESULTS] = {
    "ok", "status", "timeout", "refused", "tls", "other"
};

struct whpost {
    struct event_base *base;
    struct evdns_base *dns;
    SSL_CTX *tls;			/* NULL: plain http */
    char *host;
    char *hosthdr;			/* the Host header: host[:port] */
    char *path;				/* path and query */
    int port;
    long long timeout_ms;
    long long keepalive_ms;		/* idle this long, a connection is not used again */
    struct evhttp_connection *conn;
    struct bufferevent *bev;		/* of the connection */
    struct evbuffer_cb_entry *input_cb;	/* on its input: sets began */
    int closed;				/* the connection is closed: not used again */
    unsigned posts;			/* POSTs made on the connection */
    long long idle_since;		/* monotime_ms() of its last answer */
    unsigned long long opened;		/* connections opened */
    struct evhttp_request *req;	/* in flight */
    int began;				/* a byte of its answer came */
    int again;				/* it is sent again, on a new connection */
    const char *body;			/* the caller's, until fn is called */
    size_t len;
    char *signature;
    size_t count;
    struct event *deadline;		/* of the request in flight, all told */
    int error;				/* enum evhttp_request_error seen; -1: none */
    int sock_errno;			/* the socket's error when it failed */
    whpost_fn fn;
    void *arg;
};

static void on_deadline(evutil_socket_t fd, short what, void *arg);
static int post(struct whpost *p);
static void set_timeouts(struct whpost *p, long long read_ms, long long write_ms);

/* whpost_tls - the client TLS context: system CAs, ca_file, peer verified */
SSL_CTX *
whpost_tls(const char *ca_file, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    if (ctx == NULL) {
	snprintf(err, errlen, "TLS: cannot make a context");
	return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (SSL_CTX_set_default_verify_paths(ctx) != 1
	|| (ca_file && SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1)) {
	snprintf(err, errlen, "TLS: cannot load the CAs%s%s: %s", ca_file ? " of " : "",
		 ca_file ? ca_file : "", ERR_reason_error_string(ERR_get_error()));
	SSL_CTX_free(ctx);
	return NULL;
    }
    return ctx;
}

/* whpost_new - a poster for this URL */
struct whpost *
whpost_new(struct event_base *base, struct evdns_base *dns, SSL_CTX *tls, const char *url,
	   long long timeout_ms, long long keepalive_ms, char *err, size_t errlen)
{
    struct evhttp_uri *u = evhttp_uri_parse_with_flags(url, 0);
    const char *scheme, *host, *path, *query;
    struct whpost *p;
    size_t n;
    int https;

    if (u == NULL || (scheme = evhttp_uri_get_scheme(u)) == NULL
	|| (host = evhttp_uri_get_host(u)) == NULL || *host == 0
	|| (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
	snprintf(err, errlen, "%s: not an http:// or https:// URL", url);
	if (u)
	    evhttp_uri_free(u);
	return NULL;
    }
    https = strcmp(scheme, "https") == 0;
    if (https && tls == NULL) {
	snprintf(err, errlen, "%s: no TLS context", url);
	evhttp_uri_free(u);
	return NULL;
    }
    p = xcalloc(1, sizeof(*p));
    p->base = base;
    p->dns = dns;
    p->tls = https ? tls : NULL;
    /* evhttp keeps an IPv6 address in its brackets: connect to, and verify, the address */
    n = strlen(host);
    if (host[0] == '[' && n > 2 && host[n - 1] == ']')
	p->host = xstrndup(host + 1, n - 2);
    else
	p->host = xstrdup(host);
    host = p->host;
    p->port = evhttp_uri_get_port(u) > 0 ? evhttp_uri_get_port(u) : https ? 443 : 80;
    n = strlen(host) + 16;
    p->hosthdr = xmalloc(n);
    if (evhttp_uri_get_port(u) > 0)
	snprintf(p->hosthdr, n, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, p->port);
    else
	snprintf(p->hosthdr, n, strchr(host, ':') ? "[%s]" : "%s", host);
    path = evhttp_uri_get_path(u);
    query = evhttp_uri_get_query(u);
    if (path == NULL || *path == 0)
	path = "/";
    n = strlen(path) + (query ? strlen(query) + 1 : 0) + 1;
    p->path = xmalloc(n);
    snprintf(p->path, n, "%s%s%s", path, query ? "?" : "", query ? query : "");
    p->timeout_ms = timeout_ms;
    p->keepalive_ms = keepalive_ms;
    p->error = -1;
    p->deadline = evtimer_new(base, on_deadline, p);
    evhttp_uri_free(u);
    return p;
}

/* free_later - free a connection once the loop is out of its callbacks */
static void
free_later(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    evhttp_connection_free(arg);
}

/*
 * drop_conn - this connection is not used again: freed from the loop (we may
 * be in one of its callbacks), and nothing of it calls us after this
 */
static void
drop_conn(struct whpost *p)
{
    const struct timeval now = {0, 0};

    if (p->conn == NULL)
	return;
    evhttp_connection_set_closecb(p->conn, NULL, NULL);
    if (p->input_cb)
	evbuffer_remove_cb_entry(bufferevent_get_input(p->bev), p->input_cb);
    if (event_base_once(p->base, -1, EV_TIMEOUT, free_later, p->conn, &now) < 0)
	msg_fatal("event_base_once: out of memory");
    p->conn = NULL;
    p->bev = NULL;
    p->input_cb = NULL;
}

/*
 * on_close - evhttp closed the connection: the server did (seen while it
 * was idle), its answer said Connection: close, or a POST failed on it.
 * Over TLS it cannot be opened again (its SSL object is spent), and over
 * http a new one is counted: either way the next POST makes a new one.
 */
static void
on_close(struct evhttp_connection *conn, void *arg)
{
    struct whpost *p = arg;

    if (conn == p->conn)
	p->closed = 1;
}

/* on_input - the connection's input changed: did a byte of the answer come? */
static void
on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    struct whpost *p = arg;

    (void) buf;
    if (info->n_added > 0)
	p->began = 1;
}

/* tls_conn - an https connection: SNI, host name checked */
static struct evhttp_connection *
tls_conn(struct whpost *p)
{
    SSL *ssl = SSL_new(p->tls);
    unsigned char ip[16];
    X509_VERIFY_PARAM *vp;

    if (ssl == NULL)
	return NULL;
    vp = SSL_get0_param(ssl);
    if (inet_pton(AF_INET, p->host, ip) == 1 || inet_pton(AF_INET6, p->host, ip) == 1) {
	X509_VERIFY_PARAM_set1_ip_asc(vp, p->host);
    } else {
	SSL_set_tlsext_host_name(ssl, p->host);
	X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	X509_VERIFY_PARAM_set1_host(vp, p->host, 0);
    }
    p->bev = bufferevent_openssl_socket_new(p->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
					    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    if (p->bev == NULL) {
	SSL_free(ssl);
	return NULL;
    }
    bufferevent_openssl_set_allow_dirty_shutdown(p->bev, 1);
    return evhttp_connection_base_bufferevent_new(p->base, p->dns, p->bev, p->host,
						  (unsigned short) p->port);
}

/* plain_conn - an http connection, on a bufferevent of ours (its DNS error) */
static struct evhttp_connection *
plain_conn(struct whpost *p)
{
    if ((p->bev = bufferevent_socket_new(p->base, -1, BEV_OPT_CLOSE_ON_FREE)) == NULL)
	return NULL;
    return evhttp_connection_base_bufferevent_new(p->base, p->dns, p->bev, p->host,
						  (unsigned short) p->port);
}

/*
 * nodelay - no Nagle on the connection's socket: a batch leaves in a few
 * writes, and the last small one would wait for the receiver's delayed ACK
 * (40 ms a batch).  The socket exists once the connect began (not yet while
 * a host name is resolved: then from the next POST on).
 */
static void
nodelay(struct whpost *p)
{
    evutil_socket_t fd = p->bev ? bufferevent_getfd(p->bev) : -1;
    int one = 1;

    if (fd >= 0)
	(void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* on_error - why a request failed: remembered for on_done */
static void
on_error(enum evhttp_request_error error, void *arg)
{
    struct whpost *p = arg;

    p->error = (int) error;
    p->sock_errno = EVUTIL_SOCKET_ERROR();
}

/* on_chunk - drop the answer's body as it comes */
static void
on_chunk(struct evhttp_request *req, void *arg)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);

    (void) arg;
    evbuffer_drain(in, evbuffer_get_length(in));
}

/* failure - the kind of a POST that got no answer */
static int
failure(struct whpost *p, char *why, size_t len)
{
    unsigned long tls = p->tls && p->bev ? bufferevent_get_openssl_error(p->bev) : 0;

    if (tls) {
	snprintf(why, len, "TLS: %s", ERR_reason_error_string(tls));
	return WHPOST_TLS;
    }
    if (p->error == EVREQ_HTTP_TIMEOUT) {
	snprintf(why, len, "no answer within %lld ms", p->timeout_ms);
	return WHPOST_TIMEOUT;
    }
    if (p->bev && bufferevent_socket_get_dns_error(p->bev) != 0) {
	snprintf(why, len, "cannot resolve %s: %s", p->host,
		 evutil_gai_strerror(bufferevent_socket_get_dns_error(p->bev)));
	return WHPOST_OTHER;
    }
    /*
     * A failed connect is the one failure that calls on_done without
     * on_error (evhttp tells no more, and its clean-up has reset errno):
     * refused, or the host unreachable.
     */
    if (p->error < 0 || p->sock_errno == ECONNREFUSED) {
	snprintf(why, len, "connection refused (or host unreachable)");
	return WHPOST_REFUSED;
    }
    if (p->error == EVREQ_HTTP_DATA_TOO_LONG) {
	snprintf(why, len, "answer larger than %d bytes", WHPOST_MAX_ANSWER);
	return WHPOST_OTHER;
    }
    snprintf(why, len, "connection failed%s%s", p->sock_errno ? ": " : "",
	     p->sock_errno ? strerror(p->sock_errno) : "");
    return WHPOST_OTHER;
}

/* on_done - the answer (or NULL, or code 0: none) */
static void
on_done(struct evhttp_request *req, void *arg)
{
    struct whpost *p = arg;
    int status = req ? evhttp_request_get_response_code(req) : 0;
    whpost_fn fn = p->fn;
    char why[256];
    int result;

    p->req = NULL;
    evtimer_del(p->deadline);
    /*
     * The server closed a kept connection as the POST went out (it did not
     * see it, or did and said nothing): once more at once on a new one.  A
     * repeat is what the backoff would post anyway, the same events with
     * the same ids, in the same place in the order.
     */
    if (status == 0 && p->error == EVREQ_HTTP_EOF && !p->began && p->posts > 1 && !p->again) {
	msg_debug("%s: the kept connection was closed under the POST: sent again on a new one",
		  p->hosthdr);
	drop_conn(p);
	p->again = 1;
	if (post(p) == 0)
	    return;
	result = WHPOST_OTHER;
	snprintf(why, sizeof(why), "cannot make the request");
    } else if (status == 0) {
	result = failure(p, why, sizeof(why));
    } else if (status >= 200 && status < 300) {
	result = WHPOST_OK;
	snprintf(why, sizeof(why), "%d", status);
    } else {
	result = WHPOST_STATUS;
	snprintf(why, sizeof(why), "HTTP status %d", status);
    }
    /*
     * Bytes left after the answer (a body longer than announced, a 204's
     * body, an answer no request asked for): evhttp would read them as the
     * next POST's answer, so the connection is not used again.
     */
    if (p->bev && evbuffer_get_length(bufferevent_get_input(p->bev)) > 0)
	p->closed = 1;
    /* a failed one is never trusted again; a closed one cannot be used */
    if (result != WHPOST_OK || p->closed || p->keepalive_ms == 0)
	drop_conn(p);
    else			/* idle: evhttp's timeout would close it at timeout_ms */
	set_timeouts(p, p->keepalive_ms, 0);
    p->idle_since = monotime_ms();
    p->fn = NULL;
    fn(p->arg, result, status, why);
}

/*
 * on_deadline - the whole POST took timeout_ms: evhttp's own timeout is one
 * of inactivity, which a receiver that answers a byte at a time never meets
 */
static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct whpost *p = arg;
    whpost_fn fn = p->fn;
    char why[64];

    (void) fd;
    (void) what;
    if (p->req == NULL)
	return;
    evhttp_cancel_request(p->req);	/* no callback after this */
    p->req = NULL;
    drop_conn(p);
    p->fn = NULL;
    snprintf(why, sizeof(why), "no answer within %lld ms", p->timeout_ms);
    fn(p->arg, WHPOST_TIMEOUT, 0, why);
}

/*
 * set_timeouts - the connection's inactivity timeouts (0: none): evhttp
 * closes it when one passes, idle or under a request
 */
static void
set_timeouts(struct whpost *p, long long read_ms, long long write_ms)
{
    struct timeval r = {read_ms / 1000, (read_ms % 1000) * 1000};
    struct timeval w = {write_ms / 1000, (write_ms % 1000) * 1000};

    bufferevent_set_timeouts(p->bev, read_ms > 0 ? &r : NULL, write_ms > 0 ? &w : NULL);
}

/* whpost_send - POST one batch; -1: one is in flight, or no memory */
int
whpost_send(struct whpost *p, const char *body, size_t len, const char *signature,
	    size_t count, whpost_fn fn, void *arg)
{
    if (p->req != NULL)
	return -1;
    free(p->signature);
    p->signature = xstrdup(signature);
    p->body = body;
    p->len = len;
    p->count = count;
    p->again = 0;
    p->fn = fn;
    p->arg = arg;
    if (post(p) < 0) {
	p->fn = NULL;
	return -1;
    }
    return 0;
}

/* open_conn - a new connection for the next POST; -1: no memory */
static int
open_conn(struct whpost *p)
{
    struct timeval tv = {p->timeout_ms / 1000, (p->timeout_ms % 1000) * 1000};

    p->conn = p->tls ? tls_conn(p) : plain_conn(p);
    if (p->conn == NULL) {
	if (p->bev)
	    bufferevent_free(p->bev);
	p->bev = NULL;
	return -1;
    }
    p->opened++;
    p->closed = 0;
    p->posts = 0;
    evhttp_connection_set_timeout_tv(p->conn, &tv);
    evhttp_connection_set_retries(p->conn, 0);
    evhttp_connection_set_max_headers_size(p->conn, 65536);
    evhttp_connection_set_max_body_size(p->conn, WHPOST_MAX_ANSWER);
    evhttp_connection_set_closecb(p->conn, on_close, p);
    p->input_cb = evbuffer_add_cb(bufferevent_get_input(p->bev), on_input, p);
    return 0;
}

/* post - make the POST of p->body on the kept connection or a new one */
static int
post(struct whpost *p)
{
    struct timeval tv = {p->timeout_ms / 1000, (p->timeout_ms % 1000) * 1000};
    struct evkeyvalq *h;
    char n[32];

    if (p->conn && (p->closed || monotime_ms() - p->idle_since >= p->keepalive_ms))
	drop_conn(p);
    if (p->conn == NULL && open_conn(p) < 0)
	return -1;
    if (p->posts > 0)			/* kept: timeout_ms again, not keepalive_ms */
	set_timeouts(p, p->timeout_ms, p->timeout_ms);
    if ((p->req = evhttp_request_new(on_done, p)) == NULL)
	return -1;
    evhttp_request_set_error_cb(p->req, on_error);
    evhttp_request_set_chunked_cb(p->req, on_chunk);
    h = evhttp_request_get_output_headers(p->req);
    snprintf(n, sizeof(n), "%zu", p->count);
    evhttp_add_header(h, "Host", p->hosthdr);
    evhttp_add_header(h, "User-Agent", "outpost-webhookd/" PACKAGE_VERSION);
    evhttp_add_header(h, "Content-Type", "application/json");
    evhttp_add_header(h, "Outpost-Signature", p->signature);
    evhttp_add_header(h, "Outpost-Event-Count", n);
    evbuffer_add(evhttp_request_get_output_buffer(p->req), p->body, p->len);
    p->error = -1;
    p->sock_errno = 0;
    p->began = 0;
    if (evhttp_make_request(p->conn, p->req, EVHTTP_REQ_POST, p->path) != 0) {
	p->req = NULL;			/* freed by libevent */
	drop_conn(p);
	return -1;
    }
    p->posts++;
    nodelay(p);
    evtimer_add(p->deadline, &tv);
    return 0;
}

/* whpost_connections - how many connections were opened */
unsigned long long
whpost_connections(const struct whpost *p)
{
    return p->opened;
}

/* whpost_free - close; the POST in flight is dropped without a call */
void
whpost_free(struct whpost *p)
{
    if (p == NULL)
	return;
    if (p->conn)
	evhttp_connection_free(p->conn);	/* cancels the request in flight */
    event_free(p->deadline);
    free(p->signature);
    free(p->host);
    free(p->hosthdr);
    free(p->path);
    free(p);
}
