/*
 * jsonw - a small streaming JSON writer (see jsonw.h)
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "jsonw.h"
#include "msg.h"

static void value_start(struct jsonw *w, const char *key);
static void open_container(struct jsonw *w, const char *key, char open, char close);
static void put_string(FILE *fp, const char *s, size_t len);
static size_t utf8_seq(const unsigned char *s, size_t len);

/* jsonw_init - a writer of one document to fp */
void
jsonw_init(struct jsonw *w, FILE *fp)
{
    memset(w, 0, sizeof(*w));
    w->fp = fp;
}

/* value_start - the separator, the key, and the row's line break */
static void
value_start(struct jsonw *w, const char *key)
{
    int in_object = w->depth > 0 && w->close[w->depth - 1] == '}';

    if (w->done)
	msg_fatal("jsonw: a second document");
    if ((key != NULL) != in_object)
	msg_fatal("jsonw: %s", key ? "a key outside an object" : "a value without a key");
    if (w->depth > 0 && w->count[w->depth - 1])
	putc(',', w->fp);
    /* the rows of a listing: one a line */
    if (w->depth == 2 && w->close[0] == '}' && w->close[1] == ']')
	putc('\n', w->fp);
    if (w->depth > 0)
	w->count[w->depth - 1] = 1;
    else
	w->done = 1;		/* a scalar document, or the outermost container */
    if (key) {
	put_string(w->fp, key, strlen(key));
	putc(':', w->fp);
    }
}

/* open_container - an object or an array */
static void
open_container(struct jsonw *w, const char *key, char open, char close)
{
    value_start(w, key);
    if (w->depth == JSONW_MAX_DEPTH)
	msg_fatal("jsonw: nested too deep");
    putc(open, w->fp);
    w->done = 0;
    w->close[w->depth] = close;
    w->count[w->depth] = 0;
    w->depth++;
}

/* jsonw_object - open an object */
void
jsonw_object(struct jsonw *w, const char *key)
{
    open_container(w, key, '{', '}');
}

/* jsonw_array - open an array */
void
jsonw_array(struct jsonw *w, const char *key)
{
    open_container(w, key, '[', ']');
}

/* jsonw_end - close the innermost container; a newline ends the document */
void
jsonw_end(struct jsonw *w)
{
    if (w->depth == 0)
	msg_fatal("jsonw: end without a container");
    w->depth--;
    if (w->depth == 1 && w->close[0] == '}' && w->close[1] == ']' && w->count[1])
	putc('\n', w->fp);
    putc(w->close[w->depth], w->fp);
    if (w->depth == 0) {
	putc('\n', w->fp);
	w->done = 1;
    }
}

/*
 * utf8_seq - the length of the valid UTF-8 sequence at s (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF), 0 if invalid
 */
static size_t
utf8_seq(const unsigned char *s, size_t len)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    size_t n, i;

    if (c < 0x80)
	return 1;
    if (c >= 0xc2 && c <= 0xdf)
	n = 2;
    else if (c >= 0xe0 && c <= 0xef)
	n = 3;
    else if (c >= 0xf0 && c <= 0xf4)
	n = 4;
    else
	return 0;
    if (c == 0xe0)
	lo = 0xa0;
    else if (c == 0xed)
	hi = 0x9f;
    else if (c == 0xf0)
	lo = 0x90;
    else if (c == 0xf4)
	hi = 0x8f;
    if (len < n || s[1] < lo || s[1] > hi)
	return 0;
    for (i = 2; i < n; i++)
	if (s[i] < 0x80 || s[i] > 0xbf)
	    return 0;
    return n;
}

/* put_string - a quoted, escaped string; invalid UTF-8 becomes U+FFFD */
static void
put_string(FILE *fp, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *) str;
    size_t i = 0, n;

    putc('"', fp);
    while (i < len) {
	unsigned char c = s[i];
	size_t run = i;

	/* a run of plain printable ASCII goes out in one write */
	while (run < len && s[run] >= 0x20 && s[run] < 0x7f && s[run] != '"' && s[run] != '\\')
	    run++;
	if (run > i) {
	    fwrite(s + i, 1, run - i, fp);
	    i = run;
	} else if (c == '"' || c == '\\') {
	    putc('\\', fp);
	    putc(c, fp);
	    i++;
	} else if (c == '\n') {
	    fputs("\\n", fp), i++;
	} else if (c == '\r') {
	    fputs("\\r", fp), i++;
	} else if (c == '\t') {
	    fputs("\\t", fp), i++;
	} else if (c < 0x20 || c == 0x7f) {
	    fprintf(fp, "\\u%04x", c), i++;
	} else if ((n = utf8_seq(s + i, len - i)) == 0) {
	    fputs("\\ufffd", fp), i++;
	} else {
	    fwrite(s + i, 1, n, fp);
	    i += n;
	}
    }
    putc('"', fp);
}

/* jsonw_stringn - a string of len bytes */
void
jsonw_stringn(struct jsonw *w, const char *key, const char *s, size_t len)
{
    value_start(w, key);
    put_string(w->fp, s, len);
}

/* jsonw_string - a NUL-terminated string, or null */
void
jsonw_string(struct jsonw *w, const char *key, const char *s)
{
    if (s == NULL) {
	jsonw_null(w, key);
	return;
    }
    value_start(w, key);
    put_string(w->fp, s, strlen(s));
}

/* jsonw_int - an integer */
void
jsonw_int(struct jsonw *w, const char *key, long long n)
{
    value_start(w, key);
    fprintf(w->fp, "%lld", n);
}

/* jsonw_double - a number, null when not finite */
void
jsonw_double(struct jsonw *w, const char *key, double d)
{
    if (!isfinite(d)) {
	jsonw_null(w, key);
	return;
    }
    value_start(w, key);
    fprintf(w->fp, "%.15g", d);
}

/* jsonw_bool - true or false */
void
jsonw_bool(struct jsonw *w, const char *key, int b)
{
    value_start(w, key);
    fputs(b ? "true" : "false", w->fp);
}

/* jsonw_null - null */
void
jsonw_null(struct jsonw *w, const char *key)
{
    value_start(w, key);
    fputs("null", w->fp);
}

/* jsonw_time - RFC 3339 UTC, or null for 0 and less */
void
jsonw_time(struct jsonw *w, const char *key, long long t)
{
    time_t tt = (time_t) t;
    struct tm tm;
    char buf[32];

    if (t <= 0) {
	jsonw_null(w, key);
	return;
    }
    gmtime_r(&tt, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    jsonw_string(w, key, buf);
}
