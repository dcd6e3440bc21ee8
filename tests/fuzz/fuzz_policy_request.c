/*
 * fuzz_policy_request - the policy request parser on arbitrary bytes
 *
 * The input is scanned the way the server does: request_end() finds each
 * request, request_parse() reads it.  The input is copied to a buffer of
 * its exact size so that any read past the end is seen by ASan.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    size_t off = 0, len;

    memcpy(buf, data, size);
    while (off < size && (len = request_end(buf + off, size - off)) > 0) {
	struct policy_request req;
	const char *why;

	if (request_parse(buf + off, len, &req, &why) == 0) {
	    /* every attribute found lies inside the request */
	    if (req.recipient.p && (req.recipient.p < buf + off
				    || req.recipient.p + req.recipient.len > buf + off + len))
		abort();
	}
	off += len;
    }
    free(buf);
    return 0;
}
