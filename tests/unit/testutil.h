/*
 * testutil - small helpers for the cmocka unit tests
 */
#ifndef OUTPOST_TESTUTIL_H
#define OUTPOST_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* testutil_write_tmp - write text to a new temporary file; caller unlinks */
static inline char *
testutil_write_tmp(const char *text)
{
    char *path = strdup("/tmp/outpost-test-XXXXXX");
    int fd = mkstemp(path);
    size_t len = strlen(text);

    if (fd < 0 || write(fd, text, len) != (ssize_t) len) {
	perror("testutil_write_tmp");
	abort();
    }
    close(fd);
    return path;
}

#endif
