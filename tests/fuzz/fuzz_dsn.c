/*
 * fuzz_dsn - delivery-status field parser on arbitrary bytes
 *
 * Any result is fine; crashes, leaks, reads past the input and undefined
 * behaviour are not.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "dsn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dsn_report r;

    dsn_parse((const char *) data, size, &r);
    if (r.nrcpts > DSN_MAX_RCPTS)
	abort();
    dsn_free(&r);
    return 0;
}
