/*
 * fuzz_verp - the return-path token reader on arbitrary bytes
 *
 * The input is a token under a fixed secret; every kind is tried.  A token
 * that decodes must re-encode to itself (one spelling per token).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "verp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char secret[] = "fuzzing-secret-0123456789";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct verp_keys *k;
    struct verp_token t;
    char err[128], again[VERP_TOKEN_MAX + 1];
    size_t n;

    if (k == NULL && (k = verp_keys_parse(secret, sizeof(secret) - 1, "fuzz", err,
					  sizeof(err))) == NULL)
	abort();
    if (verp_decode(k, VERP_BOUNCE, (const char *) data, size, 100, 30, &t)
	== VERP_OK) {
	if (t.mode == 0)
	    n = verp_encode(k, VERP_BOUNCE, t.day, t.rcpt, t.sender_domain, again,
			    sizeof(again));
	else
	    n = verp_encode_id(k, VERP_BOUNCE, t.day, t.id, again, sizeof(again));
	if (n != size || strncasecmp(again, (const char *) data, size) != 0)
	    abort();
    }
    (void) verp_decode(k, VERP_UNSUB, (const char *) data, size, 100, 30, &t);
    return 0;
}
