/*
 * fuzz_spfrec - the SPF record parser on arbitrary bytes
 *
 * Any result is fine; crashes, leaks and undefined behaviour are not.  A
 * record that parses must hold only terms whose text is within the input.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spfrec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct spf_record rec;
    char err[300];
    size_t i;

    (void) spfrec_is_spf((const char *) data, size);
    if (spfrec_parse((const char *) data, size, &rec, err, sizeof(err)) == 0) {
	for (i = 0; i < rec.n; i++)
	    if (strlen(rec.v[i].text) > size)
		abort();
	spfrec_free(&rec);
    }
    return 0;
}
