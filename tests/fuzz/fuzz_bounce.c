/*
 * fuzz_bounce - whole bounce reader and classifier on arbitrary bytes
 *
 * Any result is fine; crashes, leaks, reads past the input and undefined
 * behaviour are not.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "bounce.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bounce_report r;
    const char *why;

    bounce_parse((const char *) data, size, &r, &why);
    for (size_t i = 0; i < r.nrcpts; i++)
	if (bounce_reason_name(r.rcpts[i].reason) == NULL)
	    abort();
    bounce_report_free(&r);
    return 0;
}
