/*
 * json_scan - a bounded JSON reader over a buffer with a length
 *
 * SYNOPSIS
 *	#include "json_scan.h"
 *
 *	void json_scan_init(struct json_scan *s, const char *buf, size_t len);
 *	int json_scan_next(struct json_scan *s, struct json_tok *t);
 *	int json_scan_skip(struct json_scan *s, const struct json_tok *t);
 *	size_t json_unescape(const char *p, size_t len, char *out,
 *			     size_t outsz);
 *	int json_tok_is(const struct json_tok *t, const char *key);
 *
 * DESCRIPTION
 *	A pull reader for JSON that comes from outside (Amazon SES
 *	notifications in a mail body).  It never builds a tree, never copies,
 *	never looks past buf + len (buf need not be terminated), and visits
 *	each byte once: the cost of a document is linear in its length.
 *
 *	json_scan_init() starts at buf; the document is the first JSON value
 *	there, and the bytes after it are not read (a mail body may go on
 *	with a signature).
 *
 *	json_scan_next() gives the next token: JSON_BEGIN_OBJECT,
 *	JSON_END_OBJECT, JSON_BEGIN_ARRAY, JSON_END_ARRAY, JSON_KEY (a
 *	member's name: the string before ':'), JSON_STRING, JSON_NUMBER,
 *	JSON_LITERAL (true, false, null), JSON_EOF after the document, or
 *	JSON_ERROR.  t->p and t->len point into buf: for strings, the bytes
 *	between the quotes with escapes left as they are (json_unescape()
 *	decodes them); t->depth is the nesting depth of the token (1 inside
 *	the outermost container).  The grammar is checked as far as a reader
 *	needs: brackets must match, a key must precede each member value,
 *	strings and numbers must be well formed.  Unlike RFC 8259, raw
 *	control characters inside a string are let through: a mail body
 *	may fold a long line in the middle of one.  Nesting deeper than
 *	JSON_MAX_DEPTH is an error.
 *
 *	json_scan_skip() after a JSON_BEGIN_* token skips to its end (linear,
 *	as the rest); after any other token it does nothing.
 *
 *	json_unescape() decodes the escapes of a string's raw bytes into out
 *	(terminated, at most outsz - 1 bytes, the rest cut off); \uXXXX
 *	becomes UTF-8 (a lone surrogate becomes U+FFFD); a NUL becomes '?'
 *	so that the result is a C string of its full length.  It returns the
 *	length written.
 *
 *	json_tok_is() is true when t is a key or string whose raw bytes are
 *	exactly key.
 *
 * DIAGNOSTICS
 *	JSON_ERROR; once returned, every later call returns it again.
 */
#ifndef OUTPOST_JSON_SCAN_H
#define OUTPOST_JSON_SCAN_H

#include <stddef.h>

#define JSON_MAX_DEPTH 64

enum json_type {
    JSON_ERROR = -1,
    JSON_EOF = 0,
    JSON_BEGIN_OBJECT,
    JSON_END_OBJECT,
    JSON_BEGIN_ARRAY,
    JSON_END_ARRAY,
    JSON_KEY,
    JSON_STRING,
    JSON_NUMBER,
    JSON_LITERAL,
};

struct json_tok {
    int type;				/* enum json_type */
    const char *p;			/* into the buffer */
    size_t len;
    int depth;
};

struct json_scan {
    const char *buf;
    size_t len, pos;
    int depth;
    int state;				/* what may come next */
    int failed;
    char stack[JSON_MAX_DEPTH];		/* '{' or '[' */
};

void json_scan_init(struct json_scan *s, const char *buf, size_t len);
int json_scan_next(struct json_scan *s, struct json_tok *t);
int json_scan_skip(struct json_scan *s, const struct json_tok *t);
size_t json_unescape(const char *p, size_t len, char *out, size_t outsz);
int json_tok_is(const struct json_tok *t, const char *key);

#endif
