/*
 * fuzz_conf - outpost.conf reader on arbitrary bytes
 *
 * The configuration is read from a file, so each input is written to a
 * temporary file first.  Any result is fine; crashes, leaks and undefined
 * behaviour are not.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[] = "/tmp/outpost-fuzz-conf-XXXXXX";

/* remove_tmp - do not leave the scratch file behind */
static void
remove_tmp(void)
{
    unlink(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    struct outpost_conf *conf;
    char err[600];

    if (fd < 0) {
	if ((fd = mkstemp(path)) < 0)
	    abort();
	atexit(remove_tmp);
    }
    if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t) size)
	abort();
    conf = conf_load(path, err, sizeof(err));
    conf_free(conf);
    return 0;
}
