/*
 * fuzz_authz - the SASL domains table parser on arbitrary bytes
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[400];
    struct authz *az = authz_parse((const char *) data, size, "fuzz", err, sizeof(err));

    if (az) {
	authz_allows(az, "a", "example.com");
	authz_free(az);
    }
    return 0;
}
