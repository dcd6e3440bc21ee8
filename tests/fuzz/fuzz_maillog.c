/*
 * fuzz_maillog - the log line parser on arbitrary bytes
 *
 * Each input is split at newlines as the follower does; every line is
 * parsed and its reply extracted.  Any result is fine; crashes, reads
 * past the line and undefined behaviour are not.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "maillog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *) data, *end = p + size;
    struct ml_event ev;
    long long when;
    size_t n;

    while (p < end) {
	const char *nl = memchr(p, '\n', (size_t) (end - p));
	size_t len = (size_t) ((nl ? nl : end) - p);
	/* a private copy with nothing after it, so that ASan sees overreads */
	char *line = malloc(len ? len : 1);

	memcpy(line, p, len);
	if (maillog_parse(line, len, &ev) != ML_GARBAGE) {
	    maillog_time(&ev.time, 1795880922LL, &when);
	    (void) maillog_reply(&ev, &n);
	}
	free(line);
	p += len + (nl != NULL);
    }
    return 0;
}
