/*
 * compose - the RFC 5322 message of POST /v1/messages (see compose.h)
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "addr.h"
#include "compose.h"
#include "json_scan.h"
#include "msg.h"
#include "xalloc.h"

#define LINE_MAX_QP 76			/* RFC 2045 */
#define EW_CHUNK 39			/* bytes per encoded word: 52 of base64 */
#define HDR_NAME_MAX 76
#define HDR_VALUE_MAX 900		/* name, ": " and value within 998 */
#define TEXT_MAX_NAME 256		/* display names, bytes */
#define SUBJECT_MAX 900			/* bytes: an ASCII one fits a line */
#define CAMPAIGN_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

struct buf {
    char *p;
    size_t len, cap, max;
    int over;				/* max was passed */
};

static void buf_add(struct buf *, const char *, size_t);
static void buf_str(struct buf *, const char *);
static void buf_fmt(struct buf *, const char *,...) MSG_PRINTF(2, 3);
static int utf8_valid(const char *, size_t);
static int is_ascii_text(const char *);
static void put_phrase(struct buf *, const char *, size_t);
static void put_address(struct buf *, const struct compose_addr *, size_t);
static void put_unstructured(struct buf *, const char *, size_t);
static int put_qp(struct buf *, const char *);
static void put_part(struct buf *, const char *, const char *, int);
static void random_hex(char *, size_t);

/* buf_add - append n bytes unless max would be passed */
static void
buf_add(struct buf *b, const char *s, size_t n)
{
    if (b->over || n > b->max - b->len) {
	b->over = 1;
	return;
    }
    if (b->len + n + 1 > b->cap) {
	size_t cap = b->cap ? b->cap : 1024;

	while (cap < b->len + n + 1)
	    cap *= 2;
	b->p = xreallocarray(b->p, cap, 1);
	b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* buf_str - append a string */
static void
buf_str(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

/* buf_fmt - append a short formatted text (no outside data in fmt) */
static void
buf_fmt(struct buf *b, const char *fmt,...)
{
    char tmp[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t) n >= sizeof(tmp))
	msg_fatal("compose: formatted text too long");
    buf_add(b, tmp, (size_t) n);
}

/* utf8_valid - s holds well-formed UTF-8 (no overlong forms, no surrogates) */
static int
utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *) str;
    size_t i = 0, n, k;
    unsigned long cp;

    while (i < len) {
	if (s[i] < 0x80) {
	    i++;
	    continue;
	}
	if (s[i] >= 0xc2 && s[i] <= 0xdf)
	    n = 1, cp = s[i] & 0x1f;
	else if (s[i] >= 0xe0 && s[i] <= 0xef)
	    n = 2, cp = s[i] & 0x0f;
	else if (s[i] >= 0xf0 && s[i] <= 0xf4)
	    n = 3, cp = s[i] & 0x07;
	else
	    return 0;
	if (len - i <= n)
	    return 0;
	for (k = 1; k <= n; k++) {
	    if ((s[i + k] & 0xc0) != 0x80)
		return 0;
	    cp = cp << 6 | (s[i + k] & 0x3f);
	}
	if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
	    || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
	    return 0;
	i += n + 1;
    }
    return 1;
}

/* is_ascii_text - printable ASCII and spaces only */
static int
is_ascii_text(const char *s)
{
    for (; *s; s++)
	if ((unsigned char) *s < 0x20 || (unsigned char) *s > 0x7e)
	    return 0;
    return 1;
}

/* no_controls - no control character but a tab (DEL included) */
static int
no_controls(const char *s)
{
    for (; *s; s++)
	if (((unsigned char) *s < 0x20 && *s != '\t') || *s == 0x7f)
	    return 0;
    return 1;
}

/* put_words - RFC 2047 B-encoded words, folded; chunks end on a character */
static void
put_words(struct buf *b, const char *s, size_t len)
{
    static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *u = (const unsigned char *) s;
    size_t i = 0, n, k;
    char out[4];

    while (i < len) {
	n = len - i > EW_CHUNK ? EW_CHUNK : len - i;
	while (i + n < len && (u[i + n] & 0xc0) == 0x80)
	    n--;			/* do not split a character */
	if (i > 0)
	    buf_str(b, "\r\n ");
	buf_str(b, "=?UTF-8?B?");
	for (k = 0; k < n; k += 3) {
	    unsigned long v = (unsigned long) u[i + k] << 16;

	    if (k + 1 < n)
		v |= (unsigned long) u[i + k + 1] << 8;
	    if (k + 2 < n)
		v |= u[i + k + 2];
	    out[0] = b64[v >> 18 & 63];
	    out[1] = b64[v >> 12 & 63];
	    out[2] = k + 1 < n ? b64[v >> 6 & 63] : '=';
	    out[3] = k + 2 < n ? b64[v & 63] : '=';
	    buf_add(b, out, 4);
	}
	buf_str(b, "?=");
	i += n;
    }
}

/* put_phrase - a display name: atom text, a quoted string or encoded words */
static void
put_phrase(struct buf *b, const char *s, size_t len)
{
    size_t i;

    if (!is_ascii_text(s) || strstr(s, "=?")) {
	put_words(b, s, len);
	return;
    }
    buf_str(b, "\"");
    for (i = 0; i < len; i++) {
	if (s[i] == '"' || s[i] == '\\')
	    buf_str(b, "\\");
	buf_add(b, s + i, 1);
    }
    buf_str(b, "\"");
}

/* put_address - "Name" <addr> or addr; col is the column it starts at */
static void
put_address(struct buf *b, const struct compose_addr *a, size_t col)
{
    if (a->name && *a->name) {
	put_phrase(b, a->name, strlen(a->name));
	/* an address after a long name goes on a line of its own */
	buf_str(b, col + strlen(a->name) + strlen(a->addr) > 70 ? "\r\n <" : " <");
	buf_str(b, a->addr);
	buf_str(b, ">");
    } else
	buf_str(b, a->addr);
}

/* put_unstructured - the subject: folded at spaces, or encoded words */
static void
put_unstructured(struct buf *b, const char *s, size_t len)
{
    size_t col = 9, i, word;

    if (!is_ascii_text(s) || strstr(s, "=?")) {
	put_words(b, s, len);
	return;
    }
    for (i = 0; i < len; i += word) {
	word = 1 + strcspn(s + i + 1, " ");
	if (i + word > len)
	    word = len - i;
	if (col + word > 78 && col > 1 && s[i] == ' ') {
	    buf_str(b, "\r\n");
	    col = 0;
	}
	buf_add(b, s + i, word);
	col += word;
    }
}

/* put_qp - quoted-printable of UTF-8 text, any line ends made CRLF;
 * says whether the last line was left open */
static int
put_qp(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t col = 0;
    char enc[3];

    while (*s && !b->over) {
	unsigned char c = (unsigned char) *s;
	int eol = c == '\r' || c == '\n';
	int literal;
	size_t need;

	if (eol) {
	    buf_str(b, "\r\n");
	    col = 0;
	    s += (c == '\r' && s[1] == '\n') ? 2 : 1;
	    continue;
	}
	/* a space or tab before a line end must be encoded, as '=' and
	 * anything outside printable ASCII; a '.' or "From " at a line's
	 * start is encoded too so that no transport can mangle it */
	literal = (c >= 33 && c <= 126 && c != '=')
	    || ((c == ' ' || c == '\t') && s[1] && s[1] != '\r' && s[1] != '\n');
	if (col == 0 && (c == '.' || (c == 'F' && strncmp(s, "From ", 5) == 0)))
	    literal = 0;
	need = literal ? 1 : 3;
	/* a soft break leaves room for its '=' */
	if (col + need > LINE_MAX_QP - 1) {
	    buf_str(b, "=\r\n");
	    col = 0;
	    if (c == '.' || (c == 'F' && strncmp(s, "From ", 5) == 0))
		need = 3, literal = 0;
	}
	if (literal)
	    buf_add(b, s, 1);
	else {
	    enc[0] = '=';
	    enc[1] = hex[c >> 4];
	    enc[2] = hex[c & 15];
	    buf_add(b, enc, 3);
	}
	col += need;
	s++;
    }
    return col > 0;
}

/* put_part - the headers and body of one text part; in a multipart, the
 * CRLF before the next boundary is the boundary's, not the text's */
static void
put_part(struct buf *b, const char *type, const char *s, int multipart)
{
    buf_fmt(b, "Content-Type: text/%s; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n", type);
    if (put_qp(b, s ? s : "") || multipart)
	buf_str(b, "\r\n");
}

/* random_hex - n - 1 random hex digits */
static void
random_hex(char *out, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char r[32];
    size_t i, k = (n - 1) / 2 + 1;

    if (k > sizeof(r))
	msg_fatal("random_hex: too long");
    if (getrandom(r, k, 0) != (ssize_t) k)
	msg_fatal("getrandom: cannot read random bytes");
    for (i = 0; i + 1 < n; i++)
	out[i] = hex[(r[i / 2] >> (i % 2 ? 0 : 4)) & 15];
    out[n - 1] = '\0';
}

/* compose_head - To and Message-ID of copy i */
char *
compose_head(const struct compose_req *req, size_t i, size_t *len)
{
    struct buf b = {NULL, 0, 0, (size_t) -1, 0};
    char id[33];

    buf_str(&b, "To: ");
    put_address(&b, &req->to[i], 4);
    random_hex(id, sizeof(id));
    buf_fmt(&b, "\r\nMessage-ID: <%s@", id);
    buf_str(&b, addr_domain(req->from.addr));
    buf_str(&b, ">\r\n");
    *len = b.len;
    return b.p;
}

/* compose_common - every header but To and Message-ID, then the body */
char *
compose_common(const struct compose_req *req, const char *campaign_header,
	       long long now, size_t max, size_t *len)
{
    struct buf b = {NULL, 0, 0, max, 0};
    char date[64], boundary[40];
    time_t t = (time_t) now;
    struct tm tm;
    size_t i;

    buf_str(&b, "From: ");
    put_address(&b, &req->from, 6);
    buf_str(&b, "\r\n");
    if (req->subject) {
	buf_str(&b, "Subject: ");
	put_unstructured(&b, req->subject, strlen(req->subject));
	buf_str(&b, "\r\n");
    }
    gmtime_r(&t, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    buf_fmt(&b, "Date: %s\r\nMIME-Version: 1.0\r\n", date);
    if (req->campaign[0] && campaign_header)
	buf_fmt(&b, "%.80s: %s\r\n", campaign_header, req->campaign);
    for (i = 0; i < req->nhdrs; i++) {
	buf_str(&b, req->hdrs[i].name);
	buf_str(&b, ": ");
	buf_str(&b, req->hdrs[i].value);
	buf_str(&b, "\r\n");
    }
    if (req->text && req->html) {
	/* "=_" never occurs in quoted-printable text */
	boundary[0] = '=';
	boundary[1] = '_';
	random_hex(boundary + 2, sizeof(boundary) - 2);
	buf_fmt(&b, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n", boundary);
	buf_fmt(&b, "--%s\r\n", boundary);
	put_part(&b, "plain", req->text, 1);
	buf_fmt(&b, "--%s\r\n", boundary);
	put_part(&b, "html", req->html, 1);
	buf_fmt(&b, "--%s--\r\n", boundary);
    } else
	put_part(&b, req->html ? "html" : "plain", req->html ? req->html : req->text, 0);
    if (b.over) {
	free(b.p);
	return NULL;
    }
    *len = b.len;
    return b.p;
}

/* The reader of the JSON body */

struct reader {
    struct json_scan s;
    const struct compose_limits *lim;
    char *why;
    size_t whylen;
};

static int fail(struct reader *, const char *, const char *,...) MSG_PRINTF(3, 4);

/* fail - say what is wrong with which field */
static int
fail(struct reader *r, const char *field, const char *fmt,...)
{
    char tmp[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    snprintf(r->why, r->whylen, "%s%s%s", field, *field ? ": " : "", tmp);
    return -1;
}

/* tok_string - a string token decoded; NULL when it is not valid UTF-8 */
static char *
tok_string(const struct json_tok *t)
{
    char *s = xmalloc(t->len + 1);
    size_t n = json_unescape(t->p, t->len, s, t->len + 1);

    if (!utf8_valid(s, n)) {
	free(s);
	return NULL;
    }
    return s;
}

/* next - the next token; a syntax error is said as such */
static int
next(struct reader *r, struct json_tok *t, const char *field)
{
    if (json_scan_next(&r->s, t) == JSON_ERROR)
	return fail(r, field, "not valid JSON");
    return t->type;
}

/* read_text - a string value (t already read) into *out */
static int
read_text(struct reader *r, const struct json_tok *t, const char *field, char **out,
	  int one_line)
{
    if (*out)
	return fail(r, field, "given twice");
    if (t->type != JSON_STRING)
	return fail(r, field, "must be a string");
    if ((*out = tok_string(t)) == NULL)
	return fail(r, field, "not valid UTF-8");
    if (one_line && !no_controls(*out))
	return fail(r, field, "control characters (CR, LF, ...) are not allowed");
    return 0;
}

/* set_addr - normalise an address given as text */
static int
set_addr(struct reader *r, const char *field, const char *text, struct compose_addr *a)
{
    const char *why;

    if (!is_ascii_text(text))
	return fail(r, field, "the address must be ASCII (a domain may be in A-labels)");
    if (addr_normalize(text, strlen(text), a->addr, sizeof(a->addr), &why) < 0)
	return fail(r, field, "%s", why);
    if (strchr(a->addr, '@') == NULL || a->addr[0] == '@')
	return fail(r, field, "not an address");
    return 0;
}

/* read_addr - "addr" or {"email": "addr", "name": "Name"} */
static int
read_addr(struct reader *r, const struct json_tok *v, const char *field,
	  struct compose_addr *a)
{
    struct json_tok t;
    char *email = NULL;
    int ret = -1;

    if (v->type == JSON_STRING) {
	if ((email = tok_string(v)) == NULL)
	    return fail(r, field, "not valid UTF-8");
	ret = set_addr(r, field, email, a);
	free(email);
	return ret;
    }
    if (v->type != JSON_BEGIN_OBJECT)
	return fail(r, field, "must be an address or {\"email\", \"name\"}");
    for (;;) {
	if (next(r, &t, field) < 0)
	    goto out;
	if (t.type == JSON_END_OBJECT)
	    break;
	if (json_tok_is(&t, "email")) {
	    if (next(r, &t, field) < 0 || read_text(r, &t, field, &email, 1) < 0)
		goto out;
	} else if (json_tok_is(&t, "name")) {
	    if (next(r, &t, field) < 0 || read_text(r, &t, field, &a->name, 1) < 0)
		goto out;
	    if (strlen(a->name) > TEXT_MAX_NAME) {
		fail(r, field, "name longer than %d bytes", TEXT_MAX_NAME);
		goto out;
	    }
	} else {
	    fail(r, field, "unknown member \"%.*s\"", t.len > 32 ? 32 : (int) t.len, t.p);
	    goto out;
	}
    }
    if (email == NULL)
	fail(r, field, "email missing");
    else
	ret = set_addr(r, field, email, a);
out:
    free(email);
    return ret;
}

/* read_to - one recipient or an array of them */
static int
read_to(struct reader *r, struct compose_req *req, const struct json_tok *v)
{
    struct json_tok t;
    char field[32];

    if (req->to)
	return fail(r, "to", "given twice");
    req->to = xcalloc(1, sizeof(*req->to));
    if (v->type != JSON_BEGIN_ARRAY) {
	req->nto = 1;
	return read_addr(r, v, "to", &req->to[0]);
    }
    for (;;) {
	snprintf(field, sizeof(field), "to[%zu]", req->nto);
	if (next(r, &t, field) < 0)
	    return -1;
	if (t.type == JSON_END_ARRAY)
	    break;
	if (req->nto >= r->lim->max_rcpts)
	    return fail(r, "to", "more than %zu recipients", r->lim->max_rcpts);
	if (req->nto > 0 && (req->nto & (req->nto - 1)) == 0) {
	    /* grown as they come: a power of two is full */
	    req->to = xreallocarray(req->to, req->nto * 2, sizeof(*req->to));
	    memset(req->to + req->nto, 0, req->nto * sizeof(*req->to));
	}
	if (read_addr(r, &t, field, &req->to[req->nto++]) < 0)
	    return -1;
    }
    if (req->nto == 0)
	return fail(r, "to", "no recipient");
    return 0;
}

/* header_refused - a header the relay or another field sets */
static int
header_refused(const char *name, const char *campaign_header)
{
    static const char *const own[] = {
	"From", "To", "Cc", "Bcc", "Sender", "Subject", "Date", "Message-ID",
	"MIME-Version", "DKIM-Signature", "Received", "Return-Path", "Resent-From",
	"Resent-To", "Resent-Sender", "Resent-Date", "Resent-Message-ID", NULL,
    };
    int i;

    if (strncasecmp(name, "Content-", 8) == 0)
	return 1;
    if (campaign_header && strcasecmp(name, campaign_header) == 0)
	return 1;
    for (i = 0; own[i]; i++)
	if (strcasecmp(name, own[i]) == 0)
	    return 1;
    return 0;
}

/* read_headers - {"Name": "value", ...} */
static int
read_headers(struct reader *r, struct compose_req *req, const struct json_tok *v)
{
    struct json_tok t;
    struct compose_hdr *h;
    char field[HDR_NAME_MAX + 16];
    size_t i;

    if (req->hdrs)
	return fail(r, "headers", "given twice");
    if (v->type != JSON_BEGIN_OBJECT)
	return fail(r, "headers", "must be an object");
    req->hdrs = xcalloc(r->lim->max_headers ? r->lim->max_headers : 1, sizeof(*req->hdrs));
    for (;;) {
	if (next(r, &t, "headers") < 0)
	    return -1;
	if (t.type == JSON_END_OBJECT)
	    return 0;
	if (req->nhdrs >= r->lim->max_headers)
	    return fail(r, "headers", "more than %zu", r->lim->max_headers);
	if (t.len == 0 || t.len > HDR_NAME_MAX)
	    return fail(r, "headers", "a name must have 1 to %d characters", HDR_NAME_MAX);
	for (i = 0; i < t.len; i++)
	    if (t.p[i] < 33 || t.p[i] > 126 || t.p[i] == ':' || t.p[i] == '\\')
		return fail(r, "headers", "\"%.*s\" is not a header name", (int) t.len, t.p);
	h = &req->hdrs[req->nhdrs++];
	h->name = xstrndup(t.p, t.len);
	snprintf(field, sizeof(field), "headers.%s", h->name);
	if (header_refused(h->name, r->lim->campaign_header))
	    return fail(r, field, "set by the relay or another field");
	for (i = 0; i + 1 < req->nhdrs; i++)
	    if (strcasecmp(req->hdrs[i].name, h->name) == 0)
		return fail(r, field, "given twice");
	if (next(r, &t, field) < 0 || read_text(r, &t, field, &h->value, 1) < 0)
	    return -1;
	if (!is_ascii_text(h->value) || strlen(h->value) > HDR_VALUE_MAX)
	    return fail(r, field, "must be printable ASCII, at most %d bytes", HDR_VALUE_MAX);
    }
}

/* read_campaign - a campaign name as the statistics take it */
static int
read_campaign(struct reader *r, struct compose_req *req, const struct json_tok *t)
{
    if (req->campaign[0])
	return fail(r, "campaign", "given twice");
    size_t i;

    if (t->type != JSON_STRING || t->len == 0 || t->len > COMPOSE_CAMPAIGN_MAX)
	return fail(r, "campaign", "1 to %d of A-Z a-z 0-9 . _ -", COMPOSE_CAMPAIGN_MAX);
    for (i = 0; i < t->len; i++)
	if (memchr(CAMPAIGN_CHARS, t->p[i], sizeof(CAMPAIGN_CHARS) - 1) == NULL)
	    return fail(r, "campaign", "1 to %d of A-Z a-z 0-9 . _ -", COMPOSE_CAMPAIGN_MAX);
    memcpy(req->campaign, t->p, t->len);
    req->campaign[t->len] = '\0';
    return 0;
}

/* read_member - the value of one member of the request */
static int
read_member(struct reader *r, struct compose_req *req, const struct json_tok *k)
{
    struct json_tok v;
    int from_seen = req->from.addr[0] != '\0';

    if (next(r, &v, "") < 0)
	return -1;
    if (json_tok_is(k, "from")) {
	if (from_seen)
	    return fail(r, "from", "given twice");
	return read_addr(r, &v, "from", &req->from);
    }
    if (json_tok_is(k, "to"))
	return read_to(r, req, &v);
    if (json_tok_is(k, "subject")) {
	if (read_text(r, &v, "subject", &req->subject, 1) < 0)
	    return -1;
	if (strlen(req->subject) > SUBJECT_MAX)
	    return fail(r, "subject", "longer than %d bytes", SUBJECT_MAX);
	return 0;
    }
    if (json_tok_is(k, "text"))
	return read_text(r, &v, "text", &req->text, 0);
    if (json_tok_is(k, "html"))
	return read_text(r, &v, "html", &req->html, 0);
    if (json_tok_is(k, "headers"))
	return read_headers(r, req, &v);
    if (json_tok_is(k, "campaign"))
	return read_campaign(r, req, &v);
    return fail(r, "", "unknown field \"%.*s\"", k->len > 32 ? 32 : (int) k->len, k->p);
}

/* compose_parse - the request body into req */
int
compose_parse(const char *body, size_t len, const struct compose_limits *lim,
	      struct compose_req *req, char *why, size_t whylen)
{
    struct reader r;
    struct json_tok t;

    memset(req, 0, sizeof(*req));
    r.lim = lim;
    r.why = why;
    r.whylen = whylen;
    json_scan_init(&r.s, body, len);
    if (next(&r, &t, "") < 0)
	return -1;
    if (t.type != JSON_BEGIN_OBJECT)
	return fail(&r, "", "the body must be a JSON object");
    for (;;) {
	if (next(&r, &t, "") < 0)
	    return -1;
	if (t.type == JSON_END_OBJECT)
	    break;
	if (read_member(&r, req, &t) < 0)
	    return -1;
    }
    if (next(&r, &t, "") < 0)
	return -1;
    /* nothing but white space after the object */
    for (; r.s.pos < len; r.s.pos++)
	if (strchr(" \t\r\n", body[r.s.pos]) == NULL)
	    return fail(&r, "", "text after the JSON object");
    if (req->from.addr[0] == '\0')
	return fail(&r, "from", "missing");
    if (req->to == NULL)
	return fail(&r, "to", "missing");
    if (req->text == NULL && req->html == NULL)
	return fail(&r, "text", "text or html is needed");
    return 0;
}

/* compose_req_free - what compose_parse() allocated */
void
compose_req_free(struct compose_req *req)
{
    size_t i;

    free(req->from.name);
    for (i = 0; req->to && i < req->nto; i++)
	free(req->to[i].name);
    free(req->to);
    free(req->subject);
    free(req->text);
    free(req->html);
    for (i = 0; i < req->nhdrs; i++) {
	free(req->hdrs[i].name);
	free(req->hdrs[i].value);
    }
    free(req->hdrs);
    memset(req, 0, sizeof(*req));
}
