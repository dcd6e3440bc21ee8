/*
 * fuzz_report_digest - the milter's reader of a parser's answer on arbitrary
 * bytes
 *
 * The parser process read hostile mail and may be anyone's by now: its
 * answer is hostile too.  An answer that decodes must encode to the same
 * bytes (one spelling per digest), its strings must fit their fields.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report_digest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct report_digest d;
    const char *why;
    unsigned char *again;
    size_t n, i;

    if (report_digest_decode(data, size, &d, &why) < 0) {
	if (d.r.rcpts != NULL || d.r.nrcpts != 0 || why == NULL)
	    abort();
	return 0;
    }
    if (d.r.nrcpts > BOUNCE_MAX_RCPTS || strlen(d.message_id) >= sizeof(d.message_id))
	abort();
    for (i = 0; i < d.r.nrcpts; i++)
	if (strlen(d.r.rcpts[i].addr) >= sizeof(d.r.rcpts[i].addr)
	    || d.r.rcpts[i].reason < 0 || d.r.rcpts[i].reason >= BR_COUNT)
	    abort();
    again = report_digest_encode(&d, &n);
    if (n != size || memcmp(again, data, n) != 0)
	abort();
    free(again);
    report_digest_free(&d);
    return 0;
}
