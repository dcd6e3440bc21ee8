/*
 * fuzz_dns_answer - raw DNS answers as the resolver hands them over
 *
 * The first byte picks the asked type (TXT, A, AAAA, MX, PTR); the rest
 * is the answer, read by dnsq_parse_answer() (the reader of dnsq_lookup())
 * and dnsq_answer_ttl() (the MX cache's TTL, on c-ares buffers).  Any
 * result is fine; crashes, reads past the answer and undefined behaviour
 * are not.
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnsq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int types[] = {DNSQ_T_TXT, DNSQ_T_A, DNSQ_T_AAAA, DNSQ_T_MX, DNSQ_T_PTR};
    struct dnsq_result res;
    unsigned char *buf;
    int type;

    if (size < 1 || size > INT_MAX)
	return 0;
    type = types[data[0] % 5];
    /* a private copy with nothing after it, so that ASan sees overreads */
    buf = malloc(size - 1 ? size - 1 : 1);
    memcpy(buf, data + 1, size - 1);
    memset(&res, 0, sizeof(res));
    dnsq_parse_answer(buf, (int) (size - 1), type, &res);
    if (res.n > DNSQ_MAX_RECORDS)
	abort();
    for (size_t i = 0; i < res.n; i++)
	if (res.v[i] == NULL)
	    abort();
    dnsq_result_free(&res);
    if (dnsq_answer_ttl(buf, (int) (size - 1)) < -1)
	abort();
    free(buf);
    return 0;
}
