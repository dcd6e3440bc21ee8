/*
 * fuzz_keytable - the DKIM key table reader on arbitrary bytes
 *
 * The table is read from a file, so each input is written to a temporary
 * file first.  Key files it names are looked for but usually missing:
 * the line reader is what is fuzzed.  Any result is fine; crashes, leaks
 * and undefined behaviour are not.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "keytable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[] = "/tmp/outpost-fuzz-keytable-XXXXXX";

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
    const struct keyentry *e[KEYTABLE_MAX_PER_DOMAIN];
    struct keytable *kt;
    char err[600];

    if (fd < 0) {
	if ((fd = mkstemp(path)) < 0)
	    abort();
	atexit(remove_tmp);
    }
    if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t) size)
	abort();
    if ((kt = keytable_load(path, 0, 0, err, sizeof(err))) != NULL) {
	for (size_t i = 0; i < kt->n; i++)
	    if (keytable_lookup(kt, kt->v[i].domain, e, KEYTABLE_MAX_PER_DOMAIN)
		> KEYTABLE_MAX_PER_DOMAIN)
		abort();
	keytable_free(kt);
    }
    return 0;
}
