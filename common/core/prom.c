/*
 * prom - the Prometheus text format (see prom.h)
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "prom.h"
#include "xalloc.h"

struct prom {
    char *buf;
    size_t len, cap;
    char *node;			/* NULL: no node label */
    char **names;		/* families written so far */
    size_t nnames;
    enum prom_type type;	/* of the family open now */
};

static void put(struct prom *p, const char *s, size_t n);
static void putf(struct prom *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* put - append n bytes */
static void
put(struct prom *p, const char *s, size_t n)
{
    if (n >= p->cap - p->len) {
	size_t cap = p->cap;

	while (n >= cap - p->len) {
	    if (cap > ((size_t) -1) / 2)
		msg_fatal("prom: page too large");
	    cap *= 2;
	}
	p->buf = xreallocarray(p->buf, cap, 1);
	p->cap = cap;
    }
    memcpy(p->buf + p->len, s, n);
    p->len += n;
    p->buf[p->len] = '\0';
}

/* putf - append a formatted string (program text, never outside data) */
static void
putf(struct prom *p, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t) n >= sizeof(tmp))
	msg_fatal("prom: formatted text too long");
    put(p, tmp, (size_t) n);
}

/* valid_name - [a-zA-Z_:][a-zA-Z0-9_:]* (no ':' in label names) */
static int
valid_name(const char *s, int colon)
{
    const char *c;

    if (s == NULL || *s == '\0' || (*s >= '0' && *s <= '9'))
	return 0;
    for (c = s; *c; c++)
	if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')
	      || (*c >= '0' && *c <= '9') || *c == '_' || (colon && *c == ':')))
	    return 0;
    return 1;
}

/* put_value - a label value, quoted and escaped */
static void
put_value(struct prom *p, const char *v)
{
    const char *c;

    put(p, "\"", 1);
    for (c = v ? v : ""; *c; c++) {
	unsigned char u = (unsigned char) *c;

	if (u == '\\' || u == '"') {
	    put(p, "\\", 1);
	    put(p, c, 1);
	} else if (u == '\n') {
	    put(p, "\\n", 2);
	} else if (u < 0x20 || u >= 0x7f) {
	    put(p, "?", 1);
	} else {
	    put(p, c, 1);
	}
    }
    put(p, "\"", 1);
}

/* put_labels - "{node=...,a=...,...}", with one extra pair if given */
static void
put_labels(struct prom *p, const char *const *labels, const char *xname, const char *xval)
{
    const char *sep = "";
    size_t i;

    if (p->node == NULL && (labels == NULL || labels[0] == NULL) && xname == NULL)
	return;
    put(p, "{", 1);
    if (p->node) {
	put(p, "node=", 5);
	put_value(p, p->node);
	sep = ",";
    }
    for (i = 0; labels && labels[i]; i += 2) {
	if (!valid_name(labels[i], 0) || strncmp(labels[i], "__", 2) == 0
	    || strcmp(labels[i], "node") == 0 || strcmp(labels[i], "le") == 0)
	    msg_fatal("prom: bad label name %s", labels[i]);
	put(p, sep, strlen(sep));
	put(p, labels[i], strlen(labels[i]));
	put(p, "=", 1);
	put_value(p, labels[i + 1]);
	sep = ",";
    }
    if (xname) {
	put(p, sep, strlen(sep));
	put(p, xname, strlen(xname));
	put(p, "=", 1);
	put_value(p, xval);
    }
    put(p, "}", 1);
}

/* current - the family open now, of the type a sample needs */
static const char *
current(struct prom *p, enum prom_type type)
{
    if (p->nnames == 0)
	msg_fatal("prom: a sample outside a family");
    if (p->type != type)
	msg_fatal("prom: %s: sample of the wrong type", p->names[p->nnames - 1]);
    return p->names[p->nnames - 1];
}

/* prom_new - an empty page */
struct prom *
prom_new(const char *node)
{
    struct prom *p = xcalloc(1, sizeof(*p));

    p->cap = 4096;
    p->buf = xmalloc(p->cap);
    p->buf[0] = '\0';
    p->node = node && *node ? xstrdup(node) : NULL;
    return p;
}

/* prom_family - HELP and TYPE of a new family */
void
prom_family(struct prom *p, const char *name, enum prom_type type, const char *help)
{
    static const char *const tname[] = {"counter", "gauge", "histogram"};
    size_t i, n = strlen(name);
    const char *c;

    if (!valid_name(name, 1))
	msg_fatal("prom: bad metric name %s", name);
    if (type == PROM_COUNTER && (n < 6 || strcmp(name + n - 6, "_total") != 0))
	msg_fatal("prom: counter %s does not end in _total", name);
    for (i = 0; i < p->nnames; i++)
	if (strcmp(p->names[i], name) == 0)
	    msg_fatal("prom: family %s written twice", name);
    p->names = xreallocarray(p->names, p->nnames + 1, sizeof(*p->names));
    p->names[p->nnames++] = xstrdup(name);
    p->type = type;
    putf(p, "# HELP ");
    put(p, name, n);
    put(p, " ", 1);
    for (c = help; *c; c++) {
	if (*c == '\\')
	    put(p, "\\\\", 2);
	else if (*c == '\n')
	    put(p, "\\n", 2);
	else
	    put(p, c, 1);
    }
    put(p, "\n# TYPE ", 8);
    put(p, name, n);
    putf(p, " %s\n", tname[type]);
}

/* prom_counter - one sample of the counter family open now */
void
prom_counter(struct prom *p, const char *const *labels, unsigned long long n)
{
    const char *name = current(p, PROM_COUNTER);

    put(p, name, strlen(name));
    put_labels(p, labels, NULL, NULL);
    putf(p, " %llu\n", n);
}

/* put_double - a sample value as the format spells it */
static void
put_double(struct prom *p, double v)
{
    if (isnan(v))
	putf(p, " NaN\n");
    else if (isinf(v))
	putf(p, " %cInf\n", v > 0 ? '+' : '-');
    else
	putf(p, " %.15g\n", v);
}

/* prom_gauge - one sample of the gauge family open now */
void
prom_gauge(struct prom *p, const char *const *labels, double value)
{
    const char *name = current(p, PROM_GAUGE);

    put(p, name, strlen(name));
    put_labels(p, labels, NULL, NULL);
    put_double(p, value);
}

/* prom_histogram - cumulative buckets, sum and count */
void
prom_histogram(struct prom *p, const char *const *labels, const struct prom_hist *h)
{
    const char *name = current(p, PROM_HISTOGRAM);
    unsigned long long cum = 0;
    char le[64];
    size_t i;

    for (i = 0; i <= h->n; i++) {
	cum += __atomic_load_n(&h->count[i], __ATOMIC_RELAXED);
	if (i < h->n)
	    snprintf(le, sizeof(le), "%.15g", h->bound[i]);
	else
	    snprintf(le, sizeof(le), "+Inf");
	put(p, name, strlen(name));
	put(p, "_bucket", 7);
	put_labels(p, labels, "le", le);
	putf(p, " %llu\n", cum);
    }
    put(p, name, strlen(name));
    put(p, "_sum", 4);
    put_labels(p, labels, NULL, NULL);
    put_double(p, (double) __atomic_load_n(&h->sum_us, __ATOMIC_RELAXED) / 1e6);
    put(p, name, strlen(name));
    put(p, "_count", 6);
    put_labels(p, labels, NULL, NULL);
    putf(p, " %llu\n", cum);
}

/* prom_text - the page so far; stays valid until the next write */
const char *
prom_text(const struct prom *p, size_t *len)
{
    if (len)
	*len = p->len;
    return p->buf;
}

/* prom_free - release a page */
void
prom_free(struct prom *p)
{
    size_t i;

    if (p == NULL)
	return;
    for (i = 0; i < p->nnames; i++)
	free(p->names[i]);
    free(p->names);
    free(p->node);
    free(p->buf);
    free(p);
}

/* prom_hist_init - empty buckets with these upper bounds */
void
prom_hist_init(struct prom_hist *h, const double *bounds, size_t n)
{
    size_t i;

    if (n > PROM_HIST_MAX)
	msg_fatal("prom: more than %d histogram buckets", PROM_HIST_MAX);
    memset(h, 0, sizeof(*h));
    for (i = 0; i < n; i++) {
	if (i > 0 && bounds[i] <= bounds[i - 1])
	    msg_fatal("prom: histogram bounds not ascending");
	h->bound[i] = bounds[i];
    }
    h->n = n;
}

/* prom_hist_observe_us - count one duration */
void
prom_hist_observe_us(struct prom_hist *h, long long us)
{
    size_t i;

    if (us < 0)
	us = 0;
    for (i = 0; i < h->n; i++)
	if ((double) us <= h->bound[i] * 1e6)
	    break;
    __atomic_add_fetch(&h->count[i], 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&h->sum_us, (unsigned long long) us, __ATOMIC_RELAXED);
}
