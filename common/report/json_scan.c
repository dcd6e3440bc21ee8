/*
 * json_scan - a bounded JSON reader over a buffer with a length
 * (see json_scan.h)
 *
 * One position moves forward through the buffer; nothing is read twice and
 * nothing beyond buf + len is read.  The state says what the grammar allows
 * next, so a ',' or ':' in the wrong place is an error, not a guess.
 */
#include "config.h"

#include <string.h>

#include "json_scan.h"

/* what may come next */
enum {
    S_VALUE,				/* a value */
    S_VALUE_OR_END,			/* a value or ']' (just after '[') */
    S_KEY,				/* a key (after ',' in an object) */
    S_KEY_OR_END,			/* a key or '}' (just after '{') */
    S_COLON,				/* ':' after a key */
    S_AFTER,				/* ',' or the container's end */
    S_DONE,				/* the document is complete */
};

static int fail(struct json_scan *s);
static int scan_string(struct json_scan *s, struct json_tok *t);
static int scan_number(struct json_scan *s, struct json_tok *t);
static int scan_literal(struct json_scan *s, struct json_tok *t);
static int after_value(struct json_scan *s);
static int punctuation(struct json_scan *s, char c, struct json_tok *t);

/* json_scan_init - read the JSON value at buf */
void
json_scan_init(struct json_scan *s, const char *buf, size_t len)
{
    memset(s, 0, sizeof(*s));
    s->buf = buf;
    s->len = len;
    s->state = S_VALUE;
}

/* fail - the document is broken; it stays so */
static int
fail(struct json_scan *s)
{
    s->failed = 1;
    return JSON_ERROR;
}

/* after_value - a value has ended: what may follow it */
static int
after_value(struct json_scan *s)
{
    s->state = s->depth == 0 ? S_DONE : S_AFTER;
    return 0;
}

/* is_hex - a hexadecimal digit */
static int
is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* scan_string - the string whose opening quote is at pos */
static int
scan_string(struct json_scan *s, struct json_tok *t)
{
    size_t i = s->pos + 1;

    /* raw control characters pass: mail folds long lines, strings too */
    while (i < s->len && s->buf[i] != '"') {
	unsigned char c = (unsigned char) s->buf[i];

	if (c != '\\') {
	    i++;
	    continue;
	}
	if (i + 1 >= s->len || strchr("\"\\/bfnrtu", s->buf[i + 1]) == NULL
	    || s->buf[i + 1] == '\0')
	    return fail(s);
	if (s->buf[i + 1] == 'u') {
	    if (i + 6 > s->len || !is_hex(s->buf[i + 2]) || !is_hex(s->buf[i + 3])
		|| !is_hex(s->buf[i + 4]) || !is_hex(s->buf[i + 5]))
		return fail(s);
	    i += 6;
	} else {
	    i += 2;
	}
    }
    if (i >= s->len)
	return fail(s);
    t->p = s->buf + s->pos + 1;
    t->len = i - s->pos - 1;
    s->pos = i + 1;
    return 0;
}

/* digits - skip decimal digits from *i; how many */
static size_t
digits(const struct json_scan *s, size_t *i)
{
    size_t n = 0;

    while (*i < s->len && s->buf[*i] >= '0' && s->buf[*i] <= '9')
	(*i)++, n++;
    return n;
}

/* scan_number - -?int(.frac)?(e[+-]?exp)? at pos */
static int
scan_number(struct json_scan *s, struct json_tok *t)
{
    size_t i = s->pos;

    if (i < s->len && s->buf[i] == '-')
	i++;
    if (digits(s, &i) == 0)
	return fail(s);
    if (i < s->len && s->buf[i] == '.') {
	i++;
	if (digits(s, &i) == 0)
	    return fail(s);
    }
    if (i < s->len && (s->buf[i] == 'e' || s->buf[i] == 'E')) {
	i++;
	if (i < s->len && (s->buf[i] == '+' || s->buf[i] == '-'))
	    i++;
	if (digits(s, &i) == 0)
	    return fail(s);
    }
    t->p = s->buf + s->pos;
    t->len = i - s->pos;
    s->pos = i;
    return 0;
}

/* scan_literal - true, false or null at pos */
static int
scan_literal(struct json_scan *s, struct json_tok *t)
{
    static const char *const words[] = {"true", "false", "null", NULL};

    for (int k = 0; words[k]; k++) {
	size_t n = strlen(words[k]);

	if (s->len - s->pos >= n && memcmp(s->buf + s->pos, words[k], n) == 0) {
	    t->p = s->buf + s->pos;
	    t->len = n;
	    s->pos += n;
	    return 0;
	}
    }
    return fail(s);
}

/*
 * punctuation - a structural character at pos: 1 and *t filled when it
 * makes a token ('{' '}' '[' ']'), 0 when it only moves the state (',' ':'),
 * JSON_ERROR when it does not belong here.
 */
static int
punctuation(struct json_scan *s, char c, struct json_tok *t)
{
    int value_ok = s->state == S_VALUE || s->state == S_VALUE_OR_END;

    s->pos++;
    switch (c) {
    case '{':
    case '[':
	if (!value_ok || s->depth >= JSON_MAX_DEPTH)
	    return fail(s);
	s->stack[s->depth++] = c;
	t->type = c == '{' ? JSON_BEGIN_OBJECT : JSON_BEGIN_ARRAY;
	t->depth = s->depth;
	s->state = c == '{' ? S_KEY_OR_END : S_VALUE_OR_END;
	return 1;
    case '}':
    case ']':
	if (s->depth == 0 || s->stack[s->depth - 1] != (c == '}' ? '{' : '[')
	    || !(s->state == S_AFTER || s->state == S_KEY_OR_END
		 || s->state == S_VALUE_OR_END)
	    || (c == '}' && s->state == S_VALUE_OR_END)
	    || (c == ']' && s->state == S_KEY_OR_END))
	    return fail(s);
	t->type = c == '}' ? JSON_END_OBJECT : JSON_END_ARRAY;
	t->depth = s->depth--;
	after_value(s);
	return 1;
    case ',':
	if (s->state != S_AFTER)
	    return fail(s);
	s->state = s->stack[s->depth - 1] == '{' ? S_KEY : S_VALUE;
	return 0;
    case ':':
	if (s->state != S_COLON)
	    return fail(s);
	s->state = S_VALUE;
	return 0;
    }
    return fail(s);
}

/* json_scan_next - the next token */
int
json_scan_next(struct json_scan *s, struct json_tok *t)
{
    int rc;

    memset(t, 0, sizeof(*t));
    while (!s->failed && s->state != S_DONE && s->pos < s->len) {
	char c = s->buf[s->pos];

	if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
	    s->pos++;
	    continue;
	}
	if (strchr("{}[],:", c) != NULL && c != '\0') {
	    if ((rc = punctuation(s, c, t)) < 0)
		return rc;
	    if (rc > 0)
		return t->type;
	    continue;
	}
	if (s->state == S_KEY || s->state == S_KEY_OR_END) {
	    if (c != '"' || scan_string(s, t) < 0)
		return fail(s);
	    t->type = JSON_KEY;
	    t->depth = s->depth;
	    s->state = S_COLON;
	    return t->type;
	}
	if (s->state != S_VALUE && s->state != S_VALUE_OR_END)
	    return fail(s);
	if (c == '"')
	    rc = scan_string(s, t), t->type = JSON_STRING;
	else if (c == '-' || (c >= '0' && c <= '9'))
	    rc = scan_number(s, t), t->type = JSON_NUMBER;
	else
	    rc = scan_literal(s, t), t->type = JSON_LITERAL;
	if (rc < 0)
	    return JSON_ERROR;
	t->depth = s->depth;
	after_value(s);
	return t->type;
    }
    if (s->failed || s->state != S_DONE)
	return fail(s);			/* cut short */
    return t->type = JSON_EOF;
}

/* json_scan_skip - past the end of the container t opened */
int
json_scan_skip(struct json_scan *s, const struct json_tok *t)
{
    struct json_tok u;
    int type;

    if (t->type != JSON_BEGIN_OBJECT && t->type != JSON_BEGIN_ARRAY)
	return 0;
    while ((type = json_scan_next(s, &u)) > 0)
	if ((type == JSON_END_OBJECT || type == JSON_END_ARRAY) && u.depth == t->depth)
	    return 0;
    return fail(s);
}

/* json_tok_is - t is a key or string spelled exactly key */
int
json_tok_is(const struct json_tok *t, const char *key)
{
    size_t n = strlen(key);

    return (t->type == JSON_KEY || t->type == JSON_STRING) && t->len == n
	&& memcmp(t->p, key, n) == 0;
}

/* hex4 - the value of four hexadecimal digits */
static unsigned
hex4(const char *p)
{
    unsigned v = 0;

    for (int k = 0; k < 4; k++) {
	char c = p[k];

	v = v * 16 + (unsigned) (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

/* put_utf8 - code point cp into out at *o, if it fits whole */
static void
put_utf8(unsigned cp, char *out, size_t outsz, size_t *o)
{
    unsigned char b[4];
    size_t n;

    if (cp == 0)
	cp = '?';
    if (cp > 0x10ffff)
	cp = 0xfffd;
    if (cp < 0x80)
	b[0] = (unsigned char) cp, n = 1;
    else if (cp < 0x800)
	b[0] = (unsigned char) (0xc0 | cp >> 6), b[1] = (unsigned char) (0x80 | (cp & 0x3f)),
	    n = 2;
    else if (cp < 0x10000)
	b[0] = (unsigned char) (0xe0 | cp >> 12),
	    b[1] = (unsigned char) (0x80 | ((cp >> 6) & 0x3f)),
	    b[2] = (unsigned char) (0x80 | (cp & 0x3f)), n = 3;
    else
	b[0] = (unsigned char) (0xf0 | cp >> 18),
	    b[1] = (unsigned char) (0x80 | ((cp >> 12) & 0x3f)),
	    b[2] = (unsigned char) (0x80 | ((cp >> 6) & 0x3f)),
	    b[3] = (unsigned char) (0x80 | (cp & 0x3f)), n = 4;
    if (*o + n >= outsz)
	return;
    memcpy(out + *o, b, n);
    *o += n;
}

/* json_unescape - a string's raw bytes, decoded, into out */
size_t
json_unescape(const char *p, size_t len, char *out, size_t outsz)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    size_t i = 0, o = 0;

    if (outsz == 0)
	return 0;
    while (i < len && o + 1 < outsz) {
	const char *e;
	unsigned cp;

	if (p[i] != '\\' || i + 1 >= len) {
	    out[o++] = p[i] ? p[i] : '?';
	    i++;
	    continue;
	}
	if (p[i + 1] != 'u' || i + 6 > len) {
	    e = p[i + 1] ? strchr(from, p[i + 1]) : NULL;
	    out[o++] = e ? to[e - from] : p[i + 1] ? p[i + 1] : '?';
	    i += 2;
	    continue;
	}
	cp = hex4(p + i + 2);
	i += 6;
	if (cp >= 0xd800 && cp < 0xdc00 && i + 6 <= len && p[i] == '\\'
	    && p[i + 1] == 'u' && hex4(p + i + 2) >= 0xdc00 && hex4(p + i + 2) < 0xe000) {
	    cp = 0x10000 + ((cp - 0xd800) << 10) + (hex4(p + i + 2) - 0xdc00);
	    i += 6;
	} else if (cp >= 0xd800 && cp < 0xe000) {
	    cp = 0xfffd;
	}
	put_utf8(cp, out, outsz, &o);
    }
    out[o] = '\0';
    return o;
}
