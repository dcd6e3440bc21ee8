/*
 * fuzz_fromhdr - the From: domain parser on arbitrary bytes
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "fromhdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char dom[DOMAIN_MAX];
    const char *why;
    char *copy = malloc(size + 1);	/* exact size: overreads show */

    if (copy == NULL)
	abort();
    memcpy(copy, data, size);
    copy[size] = '\0';
    if (fromhdr_domain(copy, size, dom, sizeof(dom), &why) == 0 && strlen(dom) >= DOMAIN_MAX)
	abort();
    free(copy);
    return 0;
}
