/*
 * fuzz_json_scan - the bounded JSON reader on arbitrary bytes
 *
 * Every token must lie inside the input; strings are decoded, and every
 * container opened is either skipped or read to its end.  Crashes, reads
 * past the input, undefined behaviour and slow inputs (-timeout) are
 * failures.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a private copy with nothing after it, so that ASan sees overreads */
    char *buf = malloc(size ? size : 1), out[256];
    struct json_scan s;
    struct json_tok t;
    size_t count = 0;
    int type;

    memcpy(buf, data, size);
    json_scan_init(&s, buf, size);
    while ((type = json_scan_next(&s, &t)) > 0) {
	if (t.p != NULL && (t.p < buf || t.p + t.len > buf + size))
	    abort();
	if (t.depth < 0 || t.depth > JSON_MAX_DEPTH)
	    abort();
	if (type == JSON_STRING || type == JSON_KEY) {
	    size_t n = json_unescape(t.p, t.len, out, sizeof(out));

	    if (n >= sizeof(out) || strlen(out) != n)
		abort();
	}
	/* skip every third container, read the others */
	if ((type == JSON_BEGIN_OBJECT || type == JSON_BEGIN_ARRAY) && ++count % 3 == 0)
	    json_scan_skip(&s, &t);
    }
    /* an error stays an error */
    if (type == JSON_ERROR && json_scan_next(&s, &t) != JSON_ERROR)
	abort();
    free(buf);
    return 0;
}
