/*
 * webtoken - signed tokens in the web links of a message (see webtoken.h)
 *
 * The reader checks the MAC before it trusts a single length byte, and
 * every length against what is left, so a token costs one pass over its
 * characters and one HMAC per secret.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "verp.h"
#include "webtoken.h"

#define WEBTOKEN_VERSION	1
#define LABEL			"outpost-web1"
#define LABEL_LEN		(sizeof(LABEL) - 1)
#define HEAD_BYTES		7	/* version, kind, 5 bytes of time */
#define BODY_MAX		(WEBTOKEN_MAX * 3 / 4 + 3)

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

struct wbuf {
    unsigned char *p;
    size_t n, cap;
    int overflow;
};

static void put(struct wbuf *w, const void *v, size_t len);
static void put_str(struct wbuf *w, const char *s, size_t max);
static size_t sign(const struct verp_keys *k, size_t i, const unsigned char *body,
		   size_t len, unsigned char mac[WEBTOKEN_MAC_BYTES]);
static size_t b64_encode(const unsigned char *in, size_t len, char *out);
static int b64_decode(const char *in, size_t len, unsigned char *out, size_t *outlen);
static int get_str(const unsigned char **p, const unsigned char *end, size_t lenbytes,
		   char *out, size_t size);

/* webtoken_url_ok - an http(s) URL of printable ASCII that fits */
int
webtoken_url_ok(const char *url, size_t len)
{
    size_t i;

    if (len >= WEBTOKEN_URL_MAX)
	return 0;
    if (!(len > 7 && strncasecmp(url, "http://", 7) == 0)
	&& !(len > 8 && strncasecmp(url, "https://", 8) == 0))
	return 0;
    for (i = 0; i < len; i++)
	if ((unsigned char) url[i] <= 0x20 || (unsigned char) url[i] >= 0x7f)
	    return 0;
    return 1;
}

/* put - bytes into the body, or mark it overflowed */
static void
put(struct wbuf *w, const void *v, size_t len)
{
    if (w->overflow || len > w->cap - w->n) {
	w->overflow = 1;
	return;
    }
    if (len == 0)				/* v may be NULL then */
	return;
    memcpy(w->p + w->n, v, len);
    w->n += len;
}

/* put_str - a length byte and a string of at most max bytes */
static void
put_str(struct wbuf *w, const char *s, size_t max)
{
    size_t len = s ? strlen(s) : 0;
    unsigned char l = (unsigned char) len;

    if (len > max || len > 255) {
	w->overflow = 1;
	return;
    }
    put(w, &l, 1);
    put(w, s, len);
}

/* sign - the MAC of body under secret i */
static size_t
sign(const struct verp_keys *k, size_t i, const unsigned char *body, size_t len,
     unsigned char mac[WEBTOKEN_MAC_BYTES])
{
    unsigned char msg[LABEL_LEN + BODY_MAX], full[32];

    memcpy(msg, LABEL, LABEL_LEN);
    memcpy(msg + LABEL_LEN, body, len);
    verp_keys_hmac(k, i, msg, LABEL_LEN + len, full);
    memcpy(mac, full, WEBTOKEN_MAC_BYTES);
    return WEBTOKEN_MAC_BYTES;
}

/* b64_encode - base64url without padding; returns characters written */
static size_t
b64_encode(const unsigned char *in, size_t len, char *out)
{
    size_t i, n = 0;
    unsigned long v;

    for (i = 0; i + 2 < len; i += 3) {
	v = (unsigned long) in[i] << 16 | (unsigned long) in[i + 1] << 8 | in[i + 2];
	out[n++] = b64[v >> 18 & 63];
	out[n++] = b64[v >> 12 & 63];
	out[n++] = b64[v >> 6 & 63];
	out[n++] = b64[v & 63];
    }
    if (len - i == 1) {
	v = (unsigned long) in[i] << 16;
	out[n++] = b64[v >> 18 & 63];
	out[n++] = b64[v >> 12 & 63];
    } else if (len - i == 2) {
	v = (unsigned long) in[i] << 16 | (unsigned long) in[i + 1] << 8;
	out[n++] = b64[v >> 18 & 63];
	out[n++] = b64[v >> 12 & 63];
	out[n++] = b64[v >> 6 & 63];
    }
    return n;
}

/* the 6 bits of each base64url character, -1 for any other byte */
static const signed char b64_values[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
    -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, 63,
    -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

/* b64_value - a character's 6 bits, -1 for any other */
static int
b64_value(unsigned char c)
{
    return b64_values[c];
}

/*
 * b64_decode - strict base64url: the alphabet only, no padding, unused
 * bits zero (one spelling per token); -1 otherwise.  Four characters at a
 * time: three bytes.
 */
static int
b64_decode(const char *in, size_t len, unsigned char *out, size_t *outlen)
{
    const unsigned char *p = (const unsigned char *) in;
    unsigned long v;
    size_t i, n = 0;
    int a, b, c, d;

    if (len % 4 == 1)
	return -1;
    for (i = 0; i + 4 <= len; i += 4) {
	a = b64_value(p[i]), b = b64_value(p[i + 1]);
	c = b64_value(p[i + 2]), d = b64_value(p[i + 3]);
	if ((a | b | c | d) < 0)
	    return -1;
	v = (unsigned long) a << 18 | (unsigned long) b << 12 | (unsigned long) c << 6
	    | (unsigned long) d;
	out[n++] = (unsigned char) (v >> 16);
	out[n++] = (unsigned char) (v >> 8);
	out[n++] = (unsigned char) v;
    }
    if (len - i >= 2) {
	/* 2 characters: one byte and 4 bits unused; 3: two bytes and 2 bits */
	a = b64_value(p[i]), b = b64_value(p[i + 1]);
	c = len - i == 3 ? b64_value(p[i + 2]) : 0;
	if ((a | b | c) < 0)
	    return -1;
	v = (unsigned long) a << 18 | (unsigned long) b << 12 | (unsigned long) c << 6;
	if ((len - i == 2 && (b & 15) != 0) || (len - i == 3 && (c & 3) != 0))
	    return -1;
	out[n++] = (unsigned char) (v >> 16);
	if (len - i == 3)
	    out[n++] = (unsigned char) (v >> 8);
    }
    *outlen = n;
    return 0;
}

/* webtoken_encode - the token of in; 0 when it cannot be made */
size_t
webtoken_encode(const struct verp_keys *k, const struct webtoken_in *in, char *out,
		size_t size)
{
    unsigned char body[BODY_MAX + WEBTOKEN_MAC_BYTES], head[HEAD_BYTES], l2[2];
    struct wbuf w = {body, 0, BODY_MAX, 0};
    size_t n;
    int i;

    if (in->kind != WEBTOKEN_UNSUB && in->kind != WEBTOKEN_OPEN
	&& in->kind != WEBTOKEN_CLICK)
	return 0;
    if (in->issued < 0 || in->issued >= (1LL << 40))
	return 0;
    head[0] = WEBTOKEN_VERSION;
    head[1] = (unsigned char) in->kind;
    for (i = 0; i < 5; i++)
	head[2 + i] = (unsigned char) (in->issued >> (8 * (4 - i)));
    put(&w, head, sizeof(head));
    put_str(&w, in->rcpt, ADDR_MAX - 1);
    put_str(&w, in->sender_domain, DOMAIN_MAX - 1);
    if (in->kind != WEBTOKEN_UNSUB) {
	put_str(&w, in->msgid, WEBTOKEN_MSGID_MAX - 1);
	put_str(&w, in->campaign, WEBTOKEN_CAMPAIGN_MAX - 1);
    }
    if (in->kind == WEBTOKEN_CLICK) {
	if (in->link > 0xffff || in->url == NULL || !webtoken_url_ok(in->url, in->url_len))
	    return 0;
	l2[0] = (unsigned char) (in->link >> 8);
	l2[1] = (unsigned char) in->link;
	put(&w, l2, 2);
	l2[0] = (unsigned char) (in->url_len >> 8);
	l2[1] = (unsigned char) in->url_len;
	put(&w, l2, 2);
	put(&w, in->url, in->url_len);
    }
    if (w.overflow)
	return 0;
    n = w.n + sign(k, 0, body, w.n, body + w.n);
    if ((n + 2) / 3 * 4 >= size || (n + 2) / 3 * 4 > WEBTOKEN_MAX)
	return 0;
    n = b64_encode(body, n, out);
    out[n] = '\0';
    return n;
}

/* get_str - a length (1 or 2 bytes) and a string without NUL; -1 bad */
static int
get_str(const unsigned char **p, const unsigned char *end, size_t lenbytes, char *out,
	size_t size)
{
    size_t len;

    if ((size_t) (end - *p) < lenbytes)
	return -1;
    len = lenbytes == 1 ? (*p)[0] : (size_t) (*p)[0] << 8 | (*p)[1];
    *p += lenbytes;
    if (len >= size || (size_t) (end - *p) < len || memchr(*p, '\0', len) != NULL)
	return -1;
    memcpy(out, *p, len);
    out[len] = '\0';
    *p += len;
    return 0;
}

/* webtoken_decode - check and read a token of kind */
int
webtoken_decode(const struct verp_keys *k, int kind, const char *tok, size_t len,
		long long now, long long max_age, struct webtoken *out)
{
    unsigned char body[BODY_MAX + WEBTOKEN_MAC_BYTES], mac[WEBTOKEN_MAC_BYTES];
    const unsigned char *p, *end;
    size_t n, i, nkeys = verp_keys_count(k);
    int found = 0;

    if (len > WEBTOKEN_MAX || b64_decode(tok, len, body, &n) < 0
	|| n < HEAD_BYTES + WEBTOKEN_MAC_BYTES)
	return WEBTOKEN_MALFORMED;
    n -= WEBTOKEN_MAC_BYTES;
    for (i = 0; i < nkeys; i++) {
	sign(k, i, body, n, mac);
	/* every secret is tried: the time taken says nothing of which */
	found |= CRYPTO_memcmp(mac, body + n, WEBTOKEN_MAC_BYTES) == 0;
    }
    if (!found)
	return WEBTOKEN_FORGED;
    if (body[0] != WEBTOKEN_VERSION)
	return WEBTOKEN_MALFORMED;
    if (body[1] != (unsigned char) kind)
	return WEBTOKEN_FORGED;		/* genuine, but not for this use */
    /* every string is written below (NUL-terminated); no need to clear 3 KiB */
    out->kind = kind;
    out->issued = 0;
    out->msgid[0] = out->campaign[0] = out->url[0] = '\0';
    out->link = 0;
    for (i = 0; i < 5; i++)
	out->issued = out->issued << 8 | body[2 + i];
    p = body + HEAD_BYTES;
    end = body + n;
    if (get_str(&p, end, 1, out->rcpt, sizeof(out->rcpt)) < 0
	|| get_str(&p, end, 1, out->sender_domain, sizeof(out->sender_domain)) < 0)
	return WEBTOKEN_MALFORMED;
    if (kind != WEBTOKEN_UNSUB
	&& (get_str(&p, end, 1, out->msgid, sizeof(out->msgid)) < 0
	    || get_str(&p, end, 1, out->campaign, sizeof(out->campaign)) < 0))
	return WEBTOKEN_MALFORMED;
    if (kind == WEBTOKEN_CLICK) {
	if (end - p < 2)
	    return WEBTOKEN_MALFORMED;
	out->link = (unsigned) p[0] << 8 | p[1];
	p += 2;
	if (get_str(&p, end, 2, out->url, sizeof(out->url)) < 0
	    || !webtoken_url_ok(out->url, strlen(out->url)))
	    return WEBTOKEN_MALFORMED;
    }
    if (p != end)
	return WEBTOKEN_MALFORMED;
    if (out->issued > now + 86400 || now - out->issued > max_age)
	return WEBTOKEN_STALE;
    return WEBTOKEN_OK;
}

/* webtoken_status_name - "ok", "malformed", "forged", "stale" */
const char *
webtoken_status_name(int status)
{
    static const char *const names[] = {"ok", "malformed", "forged", "stale"};

    return status >= 0 && status <= WEBTOKEN_STALE ? names[status] : "unknown";
}
