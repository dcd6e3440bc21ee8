/*
 * fuzz_addr - the address and domain normaliser
 *
 * Arbitrary bytes as an address (what an MTA, a report, a policy request
 * or an imported list calls one), read by addr_normalize(), and as a bare
 * domain by domain_normalize().  A result is terminated, within the RFC 5321
 * limits, has its '@' (an address) and is a fixed point: normalising it
 * again gives it back.  Crashes and undefined behaviour are failures.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[ADDR_MAX], again[ADDR_MAX];
    const char *why;
    size_t n;

    if (addr_normalize((const char *) data, size, out, sizeof(out), &why) == 0) {
	n = strnlen(out, sizeof(out));
	if (n == sizeof(out) || n > 254 || strchr(out, '@') == NULL)
	    abort();
	if (addr_normalize(out, n, again, sizeof(again), &why) != 0
	    || strcmp(out, again) != 0)
	    abort();
	(void) addr_domain(out);
    }
    if (domain_normalize((const char *) data, size, out, sizeof(out), &why) == 0) {
	n = strnlen(out, sizeof(out));
	if (n == sizeof(out) || n > 253)
	    abort();
	if (domain_normalize(out, n, again, sizeof(again), &why) != 0
	    || strcmp(out, again) != 0)
	    abort();
    }
    return 0;
}
