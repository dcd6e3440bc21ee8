/*
 * fuzz_policy_answer - a policy server's answer, as the milter reads it, on
 * arbitrary bytes: framing, parsing, and the action alone
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy_answer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *) data, *why;
    struct policy_verdict v;
    size_t end = policy_answer_end(buf, size);

    if (policy_answer_parse(buf, end ? end : size, &v, &why) >= 0
	&& (strlen(v.text) >= sizeof(v.text) || strlen(v.action) >= sizeof(v.action)))
	abort();
    policy_action_map(buf, size, &v);
    return 0;
}
