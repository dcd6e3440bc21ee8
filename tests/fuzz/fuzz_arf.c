/*
 * fuzz_arf - feedback-report field parser on arbitrary bytes
 *
 * Any result is fine; crashes, leaks, reads past the input and undefined
 * behaviour are not.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "arf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arf_report a;

    arf_parse((const char *) data, size, &a);
    if (a.nrcpts > ARF_MAX_RCPTS)
	abort();
    arf_free(&a);
    return 0;
}
