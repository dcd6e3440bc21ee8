/*
 * fuzz_blname - the blocklist finder on arbitrary bytes
 *
 * The input is a refusal's text (no NUL needed).  What is found must be
 * terminated and within its buffers, and a configured list or "other"
 * must come of it.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blname.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct conf_blocklist zen = {.named = {"zen", 1}, .zone = "zen.spamhaus.org"};
    static void *bv[1] = {&zen};
    static struct outpost_conf conf;
    struct blname b;
    const char *name;
    int found;

    conf.blocklists.v = bv;
    conf.blocklists.n = 1;
    found = blname_find((const char *) data, size, &b);
    if (strnlen(b.zone, sizeof(b.zone)) == sizeof(b.zone)
	|| strnlen(b.ip, sizeof(b.ip)) == sizeof(b.ip))
	abort();
    if (found != (b.zone[0] != '\0' || b.family != NULL))
	abort();
    name = blname_list(&conf.blocklists, &b);
    if (strcmp(name, "zen") != 0 && strcmp(name, BLNAME_OTHER) != 0)
	abort();
    (void) blname_pool(&conf.pools, b.ip);
    return 0;
}
