/*
 * xalloc - memory allocation that never returns NULL
 *
 * SYNOPSIS
 *	#include "xalloc.h"
 *
 *	void *xmalloc(size_t n);
 *	void *xcalloc(size_t n, size_t size);
 *	void *xreallocarray(void *p, size_t n, size_t size);
 *	char *xstrdup(const char *s);
 *	char *xstrndup(const char *s, size_t n);
 *
 * DESCRIPTION
 *	Like their libc namesakes, except that running out of memory or a
 *	size computation that would overflow terminates the program with a
 *	fatal log message.  Callers never see NULL.
 */
#ifndef OUTPOST_XALLOC_H
#define OUTPOST_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
