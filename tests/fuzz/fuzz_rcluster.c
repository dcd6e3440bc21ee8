/*
 * fuzz_rcluster - the cluster client's readers of server replies on
 * arbitrary bytes
 *
 * The first byte chooses: 'M' the rest is a MOVED/ASK error text; else the
 * rest is RESP, read by hiredis as a server reply would be, and given to the
 * slot map reader as a CLUSTER SHARDS (odd first byte) or CLUSTER SLOTS
 * reply.  Whatever they hold, the results must stay within their bounds.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rcluster.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * counts_fit - hiredis 0.14 allocates an array of the size a '*' announces
 * before it reads the elements (it trusts its server that far, for every
 * client): announced sizes beyond the input are not our reader's to test
 */
static int
counts_fit(const uint8_t *p, size_t size)
{
    size_t i;

    for (i = 0; i < size; i++) {
	unsigned long long n = 0;

	if (p[i] != '*')
	    continue;
	while (i + 1 < size && p[i + 1] >= '0' && p[i + 1] <= '9' && n <= size)
	    n = n * 10 + (unsigned) (p[++i] - '0');
	if (n > size)
	    return 0;
    }
    return 1;
}

/* check_map - every owner names a node read, every node a sane address */
static void
check_map(const struct rcluster_map *m, int served)
{
    size_t i;
    int n = 0;

    if (m->n > RCLUSTER_MAX_NODES)
	abort();
    for (i = 0; i < m->n; i++)
	if (memchr(m->node[i].host, '\0', RCLUSTER_HOSTLEN) == NULL
	    || m->node[i].host[0] == '\0' || m->node[i].port < 1 || m->node[i].port > 65535)
	    abort();
    for (i = 0; i < RCLUSTER_SLOTS; i++) {
	if (m->owner[i] > m->n)
	    abort();
	n += m->owner[i] != 0;
    }
    if (n != served)
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct rcluster_map m;
    redisReader *rd;
    void *r = NULL;
    char host[64];
    int slot, port, kind, served;

    if (size < 1)
	return 0;
    if (data[0] == 'M') {
	kind = rcluster_parse_redirect((const char *) data + 1, size - 1, &slot, host,
				       sizeof(host), &port);
	if (kind > 0 && (slot < 0 || slot >= RCLUSTER_SLOTS || port < 1 || port > 65535
			 || memchr(host, '\0', sizeof(host)) == NULL))
	    abort();
	return 0;
    }
    if (!counts_fit(data + 1, size - 1))
	return 0;
    rd = redisReaderCreate();
    if (rd == NULL)
	return 0;
    redisReaderFeed(rd, (const char *) data + 1, size - 1);
    if (redisReaderGetReply(rd, &r) == REDIS_OK && r != NULL) {
	served = rcluster_map_parse(r, data[0] & 1, "seed", &m);
	if (served > RCLUSTER_SLOTS)
	    abort();
	if (served >= 0)
	    check_map(&m, served);
	freeReplyObject(r);
    }
    redisReaderFree(rd);
    return 0;
}
