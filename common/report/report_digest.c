/*
 * report_digest - what intake needs of a report, and its wire form
 * (see report_digest.h)
 *
 * The wire form, all integers big-endian, a string being a 2-byte length
 * and that many bytes (no NUL):
 *
 *	version (1)  flags (1: readable, 2: truncated, 4: over budget)  kind (1)
 *	why  orig_mail_from  orig_return_path  message_id  named_rcpt
 *	nrcpts (2), then per recipient:
 *	    addr  status  replycode  reason (1)  hard (1)  feedback_type  action
 *	    reporting_mta  bl_zone  bl_family  bl_ip
 *
 * The decoder trusts nothing: the process that wrote it read hostile mail.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "bounce.h"
#include "mime.h"
#include "report_digest.h"
#include "xalloc.h"

#define F_READABLE	1
#define F_TRUNCATED	2
#define F_OVER_BUDGET	4

/* a growing output buffer */
struct wbuf {
    unsigned char *p;
    size_t len, cap;
};

/* a bounded input buffer */
struct rbuf {
    const unsigned char *p;
    size_t len, pos;
};

static void return_path(struct report_digest *d);
static void blocklists(struct report_digest *d);
static void named_rcpt(const char *msg, size_t len, char *out, size_t size);

/* ---------------------------------------------------------------- reading */

/* report_digest_make - read a report into d (see the header); d is freed by the caller */
void
report_digest_make(const char *msg, size_t len, int flags, struct report_digest *d)
{
    const char *why = "";

    memset(d, 0, sizeof(*d));
    d->readable = 1;
    if (flags & REPORT_DIGEST_PARSE) {
	if (bounce_parse(msg, len, &d->r, &why) < 0) {
	    d->readable = 0;
	    snprintf(d->why, sizeof(d->why), "%s", why);
	}
	return_path(d);
	blocklists(d);
	free(d->r.orig_headers);
	d->r.orig_headers = NULL;
	d->r.orig_headers_len = 0;
    }
    if (mime_header(msg, len, "Message-ID", d->message_id, sizeof(d->message_id)) < 0)
	d->message_id[0] = '\0';
    named_rcpt(msg, len, d->named_rcpt, sizeof(d->named_rcpt));
}

/* return_path - the address in the returned original's Return-Path */
static void
return_path(struct report_digest *d)
{
    char v[ADDR_MAX * 2];
    const char *why, *lt, *gt;

    d->orig_return_path[0] = '\0';
    if (d->r.orig_headers == NULL
	|| mime_header(d->r.orig_headers, d->r.orig_headers_len, "Return-Path", v,
		       sizeof(v)) < 0)
	return;
    lt = strchr(v, '<');
    gt = lt ? strchr(lt, '>') : NULL;
    if (lt == NULL || gt == NULL
	|| addr_normalize(lt + 1, (size_t) (gt - lt - 1), d->orig_return_path,
			  sizeof(d->orig_return_path), &why) < 0)
	d->orig_return_path[0] = '\0';
}

/* blocklists - the DNS blocklist each blocked recipient's diagnostic names */
static void
blocklists(struct report_digest *d)
{
    struct bounce_rcpt *rc;
    struct blname b;
    size_t i;

    for (i = 0; i < d->r.nrcpts; i++) {
	rc = &d->r.rcpts[i];
	if (rc->reason != BR_BLOCKED || !blname_find(rc->diag, strlen(rc->diag), &b))
	    continue;
	snprintf(rc->bl_zone, sizeof(rc->bl_zone), "%s", b.zone);
	snprintf(rc->bl_family, sizeof(rc->bl_family), "%s", b.family ? b.family : "");
	snprintf(rc->bl_ip, sizeof(rc->bl_ip), "%s", b.ip);
    }
}

/* named_rcpt - whom an unsubscribe mail without a token is about */
static void
named_rcpt(const char *msg, size_t len, char *out, size_t size)
{
    char v[512], *p, *e;
    const char *why;
    size_t i;

    /* "unsubscribe alice@example.org" names the address; else the sender */
    if (mime_header(msg, len, "Subject", v, sizeof(v)) >= 0) {
	for (p = v; (p = strchr(p, '@')) != NULL; p++) {
	    for (i = (size_t) (p - v); i > 0 && !strchr(" <:\t\"", v[i - 1]); i--)
		/* void */ ;
	    for (e = p; *e && !strchr(" >\t\"", *e); e++)
		/* void */ ;
	    if (addr_normalize(v + i, (size_t) (e - v - i), out, size, &why) == 0)
		return;
	}
    }
    out[0] = '\0';
    if (mime_header(msg, len, "From", v, sizeof(v)) >= 0) {
	p = strchr(v, '<');
	e = p ? strchr(p, '>') : NULL;
	if (p && e) {
	    if (addr_normalize(p + 1, (size_t) (e - p - 1), out, size, &why) < 0)
		out[0] = '\0';
	} else if (addr_normalize(v, strlen(v), out, size, &why) < 0)
	    out[0] = '\0';
    }
}

/* report_digest_free - release the recipients; d is empty after */
void
report_digest_free(struct report_digest *d)
{
    if (d == NULL)
	return;
    bounce_report_free(&d->r);
    memset(d, 0, sizeof(*d));
}

/* ---------------------------------------------------------------- framing */

/* report_digest_put32 - a big-endian length */
void
report_digest_put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char) (v >> 24);
    p[1] = (unsigned char) (v >> 16);
    p[2] = (unsigned char) (v >> 8);
    p[3] = (unsigned char) v;
}

/* report_digest_get32 - a big-endian length */
uint32_t
report_digest_get32(const unsigned char *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

/* ---------------------------------------------------------------- encoding */

/* put - append n bytes */
static void
put(struct wbuf *w, const void *p, size_t n)
{
    if (w->len + n > w->cap) {
	while (w->len + n > w->cap)
	    w->cap = w->cap ? 2 * w->cap : 1024;
	w->p = xreallocarray(w->p, w->cap, 1);
    }
    memcpy(w->p + w->len, p, n);
    w->len += n;
}

/* put8 - one byte */
static void
put8(struct wbuf *w, unsigned v)
{
    unsigned char c = (unsigned char) v;

    put(w, &c, 1);
}

/* put16 - two bytes, big-endian */
static void
put16(struct wbuf *w, size_t v)
{
    unsigned char b[2] = {(unsigned char) (v >> 8), (unsigned char) v};

    put(w, b, 2);
}

/* put_str - a string of a fixed-size field: strnlen keeps it below the field */
static void
put_str(struct wbuf *w, const char *s, size_t size)
{
    size_t n = strnlen(s, size - 1);

    put16(w, n);
    put(w, s, n);
}

#define PUT_STR(w, field) put_str((w), (field), sizeof(field))

/* report_digest_encode - the wire form of d; the caller frees it */
unsigned char *
report_digest_encode(const struct report_digest *d, size_t *len)
{
    struct wbuf w = {NULL, 0, 0};
    const struct bounce_rcpt *rc;
    size_t i, n = d->r.nrcpts > BOUNCE_MAX_RCPTS ? BOUNCE_MAX_RCPTS : d->r.nrcpts;

    put8(&w, REPORT_DIGEST_VERSION);
    put8(&w, (d->readable ? F_READABLE : 0) | (d->r.truncated ? F_TRUNCATED : 0)
	 | (d->r.over_budget ? F_OVER_BUDGET : 0));
    put8(&w, (unsigned) d->r.kind);
    PUT_STR(&w, d->why);
    PUT_STR(&w, d->r.orig_mail_from);
    PUT_STR(&w, d->orig_return_path);
    PUT_STR(&w, d->message_id);
    PUT_STR(&w, d->named_rcpt);
    put16(&w, n);
    for (i = 0; i < n; i++) {
	rc = &d->r.rcpts[i];
	PUT_STR(&w, rc->addr);
	PUT_STR(&w, rc->status);
	PUT_STR(&w, rc->replycode);
	put8(&w, (unsigned) rc->reason);
	put8(&w, rc->hard != 0);
	PUT_STR(&w, rc->feedback_type);
	PUT_STR(&w, rc->action);
	PUT_STR(&w, rc->reporting_mta);
	PUT_STR(&w, rc->bl_zone);
	PUT_STR(&w, rc->bl_family);
	PUT_STR(&w, rc->bl_ip);
    }
    *len = w.len;
    return w.p;
}

/* ---------------------------------------------------------------- decoding */

/* get8 - one byte; -1 past the end */
static int
get8(struct rbuf *r)
{
    if (r->pos >= r->len)
	return -1;
    return r->p[r->pos++];
}

/* get16 - two bytes; -1 past the end */
static long
get16(struct rbuf *r)
{
    long v;

    if (r->len - r->pos < 2)
	return -1;
    v = (long) r->p[r->pos] << 8 | r->p[r->pos + 1];
    r->pos += 2;
    return v;
}

/* get_str - a string into a field of size bytes; -1 if it does not fit or holds NUL */
static int
get_str(struct rbuf *r, char *out, size_t size)
{
    long n = get16(r);

    if (n < 0 || (size_t) n >= size || r->len - r->pos < (size_t) n
	|| memchr(r->p + r->pos, '\0', (size_t) n) != NULL)
	return -1;
    memcpy(out, r->p + r->pos, (size_t) n);
    out[n] = '\0';
    r->pos += (size_t) n;
    return 0;
}

#define GET_STR(r, field) get_str((r), (field), sizeof(field))

/* get_rcpt - one recipient */
static int
get_rcpt(struct rbuf *r, struct bounce_rcpt *rc)
{
    int reason, hard;

    if (GET_STR(r, rc->addr) < 0 || GET_STR(r, rc->status) < 0
	|| GET_STR(r, rc->replycode) < 0 || (reason = get8(r)) < 0 || reason >= BR_COUNT
	|| (hard = get8(r)) < 0 || hard > 1 || GET_STR(r, rc->feedback_type) < 0
	|| GET_STR(r, rc->action) < 0 || GET_STR(r, rc->reporting_mta) < 0
	|| GET_STR(r, rc->bl_zone) < 0 || GET_STR(r, rc->bl_family) < 0
	|| GET_STR(r, rc->bl_ip) < 0)
	return -1;
    /* a family is one of blname's: its name is a label value downstream */
    if (rc->bl_family[0] && blname_family_named(rc->bl_family) == NULL)
	return -1;
    rc->reason = reason;
    rc->hard = hard;
    return 0;
}

/* report_digest_decode - read a wire form back (see the header) */
int
report_digest_decode(const unsigned char *p, size_t len, struct report_digest *d,
		     const char **why)
{
    struct rbuf r = {p, len, 0};
    int flags, kind;
    long n;
    size_t i;

    memset(d, 0, sizeof(*d));
    *why = "truncated";
    if (len > REPORT_DIGEST_WIRE_MAX) {
	*why = "too long";
	return -1;
    }
    if ((flags = get8(&r)) != REPORT_DIGEST_VERSION) {
	if (flags >= 0)
	    *why = "unknown version";
	return -1;
    }
    if ((flags = get8(&r)) < 0 || (kind = get8(&r)) < 0)
	return -1;
    if (flags & ~(F_READABLE | F_TRUNCATED | F_OVER_BUDGET) || kind > BOUNCE_AUTOREPLY) {
	*why = "bad flags or kind";
	return -1;
    }
    d->readable = (flags & F_READABLE) != 0;
    d->r.truncated = (flags & F_TRUNCATED) != 0;
    d->r.over_budget = (flags & F_OVER_BUDGET) != 0;
    d->r.kind = kind;
    if (GET_STR(&r, d->why) < 0 || GET_STR(&r, d->r.orig_mail_from) < 0
	|| GET_STR(&r, d->orig_return_path) < 0 || GET_STR(&r, d->message_id) < 0
	|| GET_STR(&r, d->named_rcpt) < 0 || (n = get16(&r)) < 0)
	goto bad;
    if (n > BOUNCE_MAX_RCPTS) {
	*why = "too many recipients";
	goto bad;
    }
    /* each recipient takes 20 bytes at least: no allocation beyond what was sent */
    if ((size_t) n > (r.len - r.pos) / 20)
	goto bad;
    if (n > 0)
	d->r.rcpts = xcalloc((size_t) n, sizeof(*d->r.rcpts));
    d->r.nrcpts = (size_t) n;
    for (i = 0; i < (size_t) n; i++)
	if (get_rcpt(&r, &d->r.rcpts[i]) < 0)
	    goto bad;
    if (r.pos != r.len) {
	*why = "bytes left over";
	goto bad;
    }
    return 0;
bad:
    if (strcmp(*why, "truncated") == 0 && r.pos < r.len)
	*why = "bad field";
    report_digest_free(d);
    return -1;
}
