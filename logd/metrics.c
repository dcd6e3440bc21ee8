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

struct sample {
    struct stats_field f;
    long long n;
};

struct samples {
    struct sample *v;
    size_t n;
};

/* collect - keep a sample of the total hash */
static void
collect(const struct stats_field *f, long long n, void *arg)
{
    struct samples *s = arg;

    s->v = xreallocarray(s->v, s->n + 1, sizeof(*s->v));
    s->v[s->n].f = *f;
    s->v[s->n++].n = n;
}

/* family - the metric a counter belongs to (reasons share one) */
static const char *
family(const struct stats_field *f)
{
    return strncmp(f->counter, STATS_REASON_PREFIX, strlen(STATS_REASON_PREFIX)) == 0
	? "reason" : f->counter;
}

/* cmp_sample - grouped by metric family, as the text format requires */
static int
cmp_sample(const void *a, const void *b)
{
    const struct sample *x = a, *y = b;
    int c = strcmp(family(&x->f), family(&y->f));

    return c ? c : memcmp(&x->f, &y->f, sizeof(x->f));
}

/* total_line - one sample of the total hash */
static void
total_line(const struct stats_field *f, long long n, void *arg, const char *prev)
{
    struct evbuffer *out = arg;
    const char *reason = NULL;

    if (strncmp(f->counter, STATS_REASON_PREFIX, strlen(STATS_REASON_PREFIX)) == 0)
	reason = f->counter + strlen(STATS_REASON_PREFIX);
    else if (stats_counter_index(f->counter) < 0)
	return;				/* a name this version does not know */
    if (prev == NULL || strcmp(prev, family(f)) != 0) {
	if (reason)
	    evbuffer_add_printf(out, "# TYPE outpost_bounce_reason_total counter\n");
	else
	    evbuffer_add_printf(out, "# TYPE outpost_%s_total counter\n", f->counter);
    }
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

/* read_window - sums per sender domain over the last hours */
static int
read_window(struct rconn *rc, const char *prefix, long long now, long long hours,
	    struct rate_acc *a)
{
    return stats_read(rc, prefix, now - (hours - 1) * 3600, now, rate_add, a);
}

/* rate_lines - one family of rates, for both windows */
static void
rate_lines(struct evbuffer *out, const char *name, int complaints,
	   const struct rate_acc *w, const char *const *wname)
{
    size_t i;
    int k;

    evbuffer_add_printf(out, "# TYPE %s gauge\n", name);
    for (k = 0; k < 2; k++) {
	for (i = 0; i < w[k].n; i++) {
	    const struct rate_row *r = &w[k].v[i];
	    long long base = complaints ? r->delivered : r->delivered + r->bounced;

	    if (base == 0)
		continue;
	    evbuffer_add_printf(out, "%s{sender=", name);
	    metrics_label(out, r->sender);
	    evbuffer_add_printf(out, ",window=\"%s\"} %.6f\n", wname[k],
				(double) (complaints ? r->complaints : r->bounced)
				/ (double) base);
	}
    }
}

/* rates - bounce and complaint rates over 24 hours and 7 days */
static int
rates(struct rconn *rc, const char *prefix, long long now, struct evbuffer *out)
{
    static const char *const wname[2] = {"24h", "7d"};
    struct rate_acc w[2] = {{0}, {0}};
    int rv = -1;

    if (read_window(rc, prefix, now, 24, &w[0]) == 0
	&& read_window(rc, prefix, now, 7 * 24, &w[1]) == 0) {
	rate_lines(out, "outpost_bounce_rate", 0, w, wname);
	rate_lines(out, "outpost_complaint_rate", 1, w, wname);
	rv = 0;
    }
    free(w[0].v);
    free(w[1].v);
    return rv;
}

/* keep_state - collect the backoffs in force */
static void
keep_state(const struct backoff_state *st, void *arg)
{
    struct backoffs { struct backoff_state *v; size_t n; } *b = arg;

    if (st->until <= (long long) time(NULL))
	return;
    b->v = xreallocarray(b->v, b->n + 1, sizeof(*b->v));
    b->v[b->n++] = *st;
}

/* backoffs - the backoffs in force: two families */
static int
backoffs(struct rconn *rc, const char *prefix, struct evbuffer *out)
{
    struct backoffs { struct backoff_state *v; size_t n; } b = {0};
    size_t i;
    int k;

    if (backoff_list(rc, prefix, keep_state, &b) < 0)
	return -1;
    for (k = 0; k < 2; k++) {
	evbuffer_add_printf(out, "# TYPE %s gauge\n", k ? "outpost_backoff_until_seconds"
			    : "outpost_backoff_active");
	for (i = 0; i < b.n; i++) {
	    evbuffer_add_printf(out, "%s{provider=", k ? "outpost_backoff_until_seconds"
				: "outpost_backoff_active");
	    metrics_label(out, b.v[i].provider);
	    evbuffer_add_printf(out, ",pool=");
	    metrics_label(out, b.v[i].pool);
	    if (k)
		evbuffer_add_printf(out, "} %lld\n", b.v[i].until);
	    else
		evbuffer_add_printf(out, "} 1\n");
	}
    }
    free(b.v);
    return 0;
}

/* totals - every counter since the start */
static int
totals(struct rconn *rc, const char *prefix, struct evbuffer *out)
{
    struct samples s = {0};
    const char *prev = NULL;
    size_t i;

    if (stats_read_total(rc, prefix, collect, &s) < 0)
	return -1;
    if (s.n > 1)
	qsort(s.v, s.n, sizeof(*s.v), cmp_sample);
    for (i = 0; i < s.n; i++) {
	if (stats_counter_index(s.v[i].f.counter) < 0 && strcmp(family(&s.v[i].f), "reason") != 0)
	    continue;			/* a name this version does not know */
	total_line(&s.v[i].f, s.v[i].n, out, prev);
	prev = family(&s.v[i].f);
    }
    free(s.v);
    return 0;
}

/* metrics_render - the whole page */
int
metrics_render(struct rconn *rc, const char *prefix, const struct track_counts *tc,
	       long long overlong, long long now, struct evbuffer *out)
{
    evbuffer_add_printf(out,
			"# HELP outpost_logd_lines_total Log lines read, by result.\n"
			"# TYPE outpost_logd_lines_total counter\n"
			"outpost_logd_lines_total{result=\"mail\"} %lld\n"
			"outpost_logd_lines_total{result=\"ignored\"} %lld\n"
			"outpost_logd_lines_total{result=\"garbage\"} %lld\n"
			"outpost_logd_lines_total{result=\"overlong\"} %lld\n"
			"# TYPE outpost_logd_backoffs_total counter\n"
			"outpost_logd_backoffs_total %lld\n",
			tc->lines - tc->ignored - tc->garbage, tc->ignored, tc->garbage,
			overlong, tc->backoffs);
    if (totals(rc, prefix, out) < 0
	|| rates(rc, prefix, now, out) < 0
	|| backoffs(rc, prefix, out) < 0)
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

static struct evhttp *metrics_http;

/* metrics_stop - close the endpoint */
void
metrics_stop(void)
{
    if (metrics_http)
	evhttp_free(metrics_http);
    metrics_http = NULL;
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
    metrics_http = http;
    msg_info("metrics on http://%s/metrics", listen);
    return 0;
}
