/*
 * fuzz_redis_server - the [redis] server and sentinels addresses
 *
 * "host:port", "[v6]:port", "host" on arbitrary bytes, read by
 * rconn_parse_server().  An address that parses gives a terminated host
 * and a port in range.  Crashes and undefined behaviour are failures.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "redisconn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), host[256];
    const char *why;
    int port;

    memcpy(text, data, size);
    text[size] = '\0';
    if (rconn_parse_server(text, host, sizeof(host), &port, &why) == 0
	&& (memchr(host, '\0', sizeof(host)) == NULL || port < 1 || port > 65535))
	abort();
    free(text);
    return 0;
}
