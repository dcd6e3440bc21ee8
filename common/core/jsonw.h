/*
 * jsonw - a small streaming JSON writer: the one way Outpost prints JSON
 *
 * SYNOPSIS
 *	#include "jsonw.h"
 *
 *	void jsonw_init(struct jsonw *w, FILE *fp);
 *	void jsonw_object(struct jsonw *w, const char *key);
 *	void jsonw_array(struct jsonw *w, const char *key);
 *	void jsonw_end(struct jsonw *w);
 *	void jsonw_string(struct jsonw *w, const char *key, const char *s);
 *	void jsonw_stringn(struct jsonw *w, const char *key, const char *s,
 *			   size_t len);
 *	void jsonw_int(struct jsonw *w, const char *key, long long n);
 *	void jsonw_double(struct jsonw *w, const char *key, double d);
 *	void jsonw_bool(struct jsonw *w, const char *key, int b);
 *	void jsonw_null(struct jsonw *w, const char *key);
 *	void jsonw_time(struct jsonw *w, const char *key, long long t);
 *
 * DESCRIPTION
 *	Writes one JSON document to fp as it goes, in constant memory: a
 *	list of a million rows streams like a list of one.  Each call adds
 *	one value: inside an object under key, inside an array (or as the
 *	document itself) with key NULL.  jsonw_object() and jsonw_array()
 *	open a container that jsonw_end() closes; closing the outermost
 *	one ends the document with a newline.
 *
 *	The layout is compact, except that each element of an array held
 *	by the outermost object (the rows of a listing) starts a new line,
 *	so that long listings stay readable with head(1) and grep(1).
 *
 *	Strings are written as UTF-8: quotes, backslashes and control
 *	characters are escaped, and a byte that is not part of valid UTF-8
 *	becomes U+FFFD, so outside data always yields valid JSON.  A string
 *	of NULL is written as null.  jsonw_double() writes a number that is
 *	not finite as null.  jsonw_time() writes UNIX seconds as RFC 3339
 *	UTC, "2026-12-06T09:30:00Z", the format of sup_time_format(); a time
 *	of 0 or less (unknown, never) is written as null.
 *
 * DIAGNOSTICS
 *	Misuse (a key missing or given where it does not belong, too deep a
 *	nesting, an end without a container) is a programming error and
 *	fatal.  Write errors are left in fp (ferror()).
 */
#ifndef OUTPOST_JSONW_H
#define OUTPOST_JSONW_H

#include <stddef.h>
#include <stdio.h>

#define JSONW_MAX_DEPTH 8

struct jsonw {
    FILE *fp;
    int depth;				/* open containers */
    int done;				/* the document is complete */
    char close[JSONW_MAX_DEPTH];	/* '}' or ']' of each */
    unsigned char count[JSONW_MAX_DEPTH];	/* has it a value yet? */
};

void jsonw_init(struct jsonw *w, FILE *fp);
void jsonw_object(struct jsonw *w, const char *key);
void jsonw_array(struct jsonw *w, const char *key);
void jsonw_end(struct jsonw *w);
void jsonw_string(struct jsonw *w, const char *key, const char *s);
void jsonw_stringn(struct jsonw *w, const char *key, const char *s, size_t len);
void jsonw_int(struct jsonw *w, const char *key, long long n);
void jsonw_double(struct jsonw *w, const char *key, double d);
void jsonw_bool(struct jsonw *w, const char *key, int b);
void jsonw_null(struct jsonw *w, const char *key);
void jsonw_time(struct jsonw *w, const char *key, long long t);

#endif
