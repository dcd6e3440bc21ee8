/*
 * metrics - the Prometheus text endpoint (see metrics.h)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>

#include "backoff.h"
#include "metrics.h"
#include "msg.h"
#include "stats.h"
#include "xalloc.h"

/* sums per sender domain, for the rates */
struct rate_row {
    char sender[STATS_NAME_MAX];
    long long delivered, bounced, complaints;
};

struct rate_acc {
    struct rate_row *v;
    size_t n;
};

/* metrics_label - a label value with \, " and newline escaped */
void
metrics_label(struct evbuffer *out, const char *value)
{
    const char *p;

    evbuffer_add(out, "\"", 1);
    for (p = value; *p; p++) {
	if (*p == '\\' || *p == '"')
	    evbuffer_add_printf(out, "\\%c", *p);
	else if (*p == '\n')
	    evbuffer_add(out, "\\n", 2);
	else
	    evbuffer_add(out, p, 1);
    }
    evbuffer_add(out, "\"", 1);
}

/* total_line - one sample of the total hash */
static void
total_line(const struct stats_field *f, long long n, void *arg)
{
    struct evbuffer *out = arg;
    const char *reason = NULL;

    if (strncmp(f->counter, STATS_REASON_PREFIX, strlen(STATS_REASON_PREFIX)) == 0)
	reason = f->counter + strlen(STATS_REASON_PREFIX);
    else if (stats_counter_index(f->counter) < 0)
	return;				/* a name this version does not know */
    if (reason)
	evbuffer_add_printf(out, "outpost_bounce_reason_total{sender=");
    else
	evbuffer_add_printf(out, "outpost_%s_total{sender=", f->counter);
    metrics_label(out, f->sender);
    evbuffer_add_printf(out, ",provider=");
    metrics_label(out, f->provider);
    evbuffer_add_printf(out, ",pool=");
    metrics_label(out, f->pool);
    if (reason) {
	evbuffer_add_printf(out, ",reason=");
	metrics_label(out, reason);
    }
    evbuffer_add_printf(out, "} %lld\n", n);
}

/* rate_add - sum the counters a rate needs, per sender domain */
static void
rate_add(const struct stats_field *f, long long n, void *arg)
{
    struct rate_acc *a = arg;
    int c = stats_counter_index(f->counter);
    size_t i;

    if (c != SC_DELIVERED && c != SC_BOUNCED && c != SC_COMPLAINTS)
	return;
    for (i = 0; i < a->n; i++)
	if (strcmp(a->v[i].sender, f->sender) == 0)
	    break;
    if (i == a->n) {
	a->v = xreallocarray(a->v, a->n + 1, sizeof(*a->v));
	memset(&a->v[a->n], 0, sizeof(a->v[a->n]));
	snprintf(a->v[a->n].sender, STATS_NAME_MAX, "%s", f->sender);
	a->n++;
    }
    if (c == SC_DELIVERED)
	a->v[i].delivered += n;
    else if (c == SC_BOUNCED)
	a->v[i].bounced += n;
    else
	a->v[i].complaints += n;
}

/* rates - bounce and complaint rates over one window */
static int
rates(struct rconn *rc, const char *prefix, long long now, long long hours,
      const char *window, struct evbuffer *out)
{
    struct rate_acc a = {0};
    size_t i;

    if (stats_read(rc, prefix, now - (hours - 1) * 3600, now, rate_add, &a) < 0)
	return -1;
    for (i = 0; i < a.n; i++) {
	long long sent = a.v[i].delivered + a.v[i].bounced;

	if (sent == 0)
	    continue;
	evbuffer_add_printf(out, "outpost_bounce_rate{sender=");
	metrics_label(out, a.v[i].sender);
	evbuffer_add_printf(out, ",window=\"%s\"} %.6f\n", window,
			    (double) a.v[i].bounced / (double) sent);
	if (a.v[i].delivered > 0) {
	    evbuffer_add_printf(out, "outpost_complaint_rate{sender=");
	    metrics_label(out, a.v[i].sender);
	    evbuffer_add_printf(out, ",window=\"%s\"} %.6f\n", window,
				(double) a.v[i].complaints / (double) a.v[i].delivered);
	}
    }
    free(a.v);
    return 0;
}

/* backoff_line - one backoff in force */
static void
backoff_line(const struct backoff_state *st, void *arg)
{
    struct evbuffer *out = arg;
    long long now = (long long) time(NULL);

    if (st->until <= now)
	return;
    evbuffer_add_printf(out, "outpost_backoff_active{provider=");
    metrics_label(out, st->provider);
    evbuffer_add_printf(out, ",pool=");
    metrics_label(out, st->pool);
    evbuffer_add_printf(out, "} 1\noutpost_backoff_until_seconds{provider=");
    metrics_label(out, st->provider);
    evbuffer_add_printf(out, ",pool=");
    metrics_label(out, st->pool);
    evbuffer_add_printf(out, "} %lld\n", st->until);
}

/* metrics_render - the whole page */
int
metrics_render(struct rconn *rc, const char *prefix, const struct track_counts *tc,
	       long long overlong, long long now, struct evbuffer *out)
{
    evbuffer_add_printf(out,
			"# HELP outpost_logd_lines_total Log lines read, by result.\n"
			"# TYPE outpost_logd_lines_total counter\n"
			"outpost_logd_lines_total{result=\"delivery\"} %lld\n"
			"outpost_logd_lines_total{result=\"ignored\"} %lld\n"
			"outpost_logd_lines_total{result=\"garbage\"} %lld\n"
			"outpost_logd_lines_total{result=\"overlong\"} %lld\n"
			"outpost_logd_backoffs_total %lld\n",
			tc->lines - tc->ignored - tc->garbage, tc->ignored, tc->garbage,
			overlong, tc->backoffs);
    if (stats_read_total(rc, prefix, total_line, out) < 0
	|| rates(rc, prefix, now, 24, "24h", out) < 0
	|| rates(rc, prefix, now, 7 * 24, "7d", out) < 0
	|| backoff_list(rc, prefix, backoff_line, out) < 0)
	return -1;
    return 0;
}

/* on_request - GET /metrics */
static void
on_request(struct evhttp_request *req, void *arg)
{
    struct metrics_source *src = arg;
    struct evbuffer *out;
    const char *uri = evhttp_request_get_uri(req);

    if (evhttp_request_get_command(req) != EVHTTP_REQ_GET
	|| uri == NULL || strncmp(uri, "/metrics", 8) != 0
	|| (uri[8] != '\0' && uri[8] != '?')) {
	evhttp_send_error(req, HTTP_NOTFOUND, "try /metrics");
	return;
    }
    out = evbuffer_new();
    if (metrics_render(src->rc, src->prefix, src->counts(src->arg), src->overlong(src->arg),
		       (long long) time(NULL), out) < 0) {
	evbuffer_free(out);
	evhttp_send_error(req, 503, "Redis unavailable");
	return;
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
		      "text/plain; version=0.0.4");
    evhttp_send_reply(req, HTTP_OK, "OK", out);
    evbuffer_free(out);
}

/* metrics_start - listen on "host:port" ("[v6]:port") */
int
metrics_start(struct event_base *base, const char *listen, struct metrics_source *src,
	      char *err, size_t errlen)
{
    struct evhttp *http;
    char host[256];
    int port;
    const char *why;

    if (rconn_parse_server(listen, host, sizeof(host), &port, &why) < 0
	|| strncmp(listen, "unix:", 5) == 0) {
	snprintf(err, errlen, "metrics_listen %s: %s", listen,
		 strncmp(listen, "unix:", 5) == 0 ? "expected host:port" : why);
	return -1;
    }
    if ((http = evhttp_new(base)) == NULL) {
	snprintf(err, errlen, "cannot create the HTTP server");
	return -1;
    }
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET);
    evhttp_set_timeout(http, 10);
    evhttp_set_gencb(http, on_request, src);
    if (evhttp_bind_socket(http, host, (ev_uint16_t) port) < 0) {
	snprintf(err, errlen, "metrics_listen %s: cannot listen", listen);
	evhttp_free(http);
	return -1;
    }
    msg_info("metrics on http://%s/metrics", listen);
    return 0;
}
