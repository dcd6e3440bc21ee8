/*
 * fuzz_redis_info - the reader of the Redis server's INFO text on arbitrary
 * bytes
 *
 * The input is fed as the reply to INFO memory; whatever it holds, the facts
 * must stay terminated and within their bounds, and the verdict built from
 * them must be a complete string.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "redischeck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rcheck_facts f;
    struct rcheck_verdict v;
    size_t i;

    rcheck_facts_init(&f);
    rcheck_info_parse((const char *) data, size, &f);
    if (memchr(f.info_policy, '\0', sizeof(f.info_policy)) == NULL)
	abort();
    for (i = 0; f.info_policy[i]; i++)
	if (!((f.info_policy[i] >= 'a' && f.info_policy[i] <= 'z') || f.info_policy[i] == '-'))
	    abort();
    if (f.info_aof < -1 || f.info_aof > 1 || f.rdb_last_save < -1 || f.rdb_changes < -1)
	abort();
    rcheck_judge(&f, 0, &v);
    if (strlen(v.summary) >= sizeof(v.summary) || v.refuse != (f.info_policy[0]
	    && strcmp(f.info_policy, "noeviction") != 0))
	abort();
    return 0;
}
