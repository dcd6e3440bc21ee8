/*
 * fuzz_backoff_rules - the backoff rules parser on arbitrary bytes
 *
 * The input is parsed as a rules file; the rules that result are matched
 * against a fixed deferral.  Any result is fine; crashes are not.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct backoff_rules r = {0};
    char *copy = malloc(size ? size : 1);
    char err[300];

    memcpy(copy, data, size);
    if (backoff_rules_parse(copy, size, "fuzz", &r, err, sizeof(err)) == 0)
	(void) backoff_match(&r, "google", "4.7.28", "421-4.7.28 unusual rate");
    backoff_rules_free(&r);
    free(copy);
    return 0;
}
