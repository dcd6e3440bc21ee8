/*
 * fuzz_dnsbl - blocklist query names and delisting pages for arbitrary
 * targets, and answer codes
 *
 * The first byte chooses the list's kind and whether it has a key; the
 * rest, cut at its first NUL, is the target (a domain from the key table,
 * an address from the configuration) and an answer code.  Any result is
 * fine; crashes, leaks, overlong names and undefined behaviour are not.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnsbl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct conf_blocklist b;
    char name[DNSBL_NAME_MAX], *target, *url;
    unsigned long lo, hi;

    if (size < 1)
	return 0;
    memset(&b, 0, sizeof(b));
    b.named.name = "fuzz";
    b.zone = "dbl.example.org";
    b.kind = data[0] & 1 ? CONF_BL_DOMAIN : CONF_BL_IP;
    b.key = data[0] & 2 ? "0123456789abcdef" : NULL;
    b.delist_url = "https://check.example/%s?%s";
    target = malloc(size);
    memcpy(target, data + 1, size - 1);
    target[size - 1] = '\0';
    if (dnsbl_query_name(&b, target, name, sizeof(name)) == 0
	&& strlen(name) > 253)
	abort();
    url = dnsbl_delist_url(&b, target);
    free(url);
    if (dnsbl_code_parse(target, &lo, &hi) == 0 && lo > hi)
	abort();
    free(target);
    return 0;
}
