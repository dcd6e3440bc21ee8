/*
 * xalloc - memory allocation that never returns NULL (see xalloc.h)
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "xalloc.h"

/* xmalloc - allocate or die */
void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL)
	msg_fatal("out of memory allocating %zu bytes", n);
    return p;
}

/* xcalloc - allocate zeroed memory or die */
void *
xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (p == NULL)
	msg_fatal("out of memory allocating %zu x %zu bytes", n, size);
    return p;
}

/* xreallocarray - resize an array, checking n * size for overflow first */
void *
xreallocarray(void *p, size_t n, size_t size)
{
    void *q;

    if (size != 0 && n > SIZE_MAX / size)
	msg_fatal("allocation of %zu x %zu bytes overflows", n, size);
    q = realloc(p, n != 0 && size != 0 ? n * size : 1);
    if (q == NULL)
	msg_fatal("out of memory allocating %zu x %zu bytes", n, size);
    return q;
}

/* xstrdup - copy a string or die */
char *
xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

/* xstrndup - copy at most n bytes of a string, always terminated */
char *
xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = xmalloc(len + 1);

    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}
