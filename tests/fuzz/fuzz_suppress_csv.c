/*
 * fuzz_suppress_csv - one suppression-list CSV row on arbitrary bytes
 *
 * A row that parses must format back into a row that parses to the same
 * entry.  Anything else may be refused; crashes, leaks and undefined
 * behaviour may not happen.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "suppress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sup_entry e, back;
    char out[2 * SUP_CSV_LINE_MAX + 64];
    const char *why;
    size_t n;

    if (sup_csv_parse((const char *) data, size, 1717243200LL, &e, &why) != 0)
	return 0;
    n = sup_csv_format(&e, out, sizeof(out));
    if (n >= sizeof(out))
	abort();
    if (n < SUP_CSV_LINE_MAX) {
	if (sup_csv_parse(out, n, 0, &back, &why) != 0)
	    abort();
	if (strcmp(back.target, e.target) != 0 || strcmp(back.scope, e.scope) != 0
	    || back.reason != e.reason || back.created != e.created
	    || back.expires != e.expires || strcmp(back.source, e.source) != 0)
	    abort();
    }
    return 0;
}
