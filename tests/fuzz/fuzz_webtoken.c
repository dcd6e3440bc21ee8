/*
 * fuzz_webtoken - the web link token reader on arbitrary bytes
 *
 * The input is a token under two secrets, read as each kind.  A token that
 * reads must write back to itself under the same secret (one spelling per
 * token), and a click's URL must be one the encoder accepts.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verp.h"
#include "webtoken.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char secrets[] = "fuzzing-secret-0123456789\nolder-secret-0123456789\n";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int kinds[] = {WEBTOKEN_UNSUB, WEBTOKEN_OPEN, WEBTOKEN_CLICK};
    static struct verp_keys *k;
    static struct webtoken t;
    struct webtoken_in in;
    char err[128], again[WEBTOKEN_MAX + 1];
    size_t i, n;

    if (k == NULL && (k = verp_keys_parse(secrets, sizeof(secrets) - 1, "fuzz", err,
					  sizeof(err))) == NULL)
	abort();
    for (i = 0; i < 3; i++) {
	if (webtoken_decode(k, kinds[i], (const char *) data, size, 1800000000LL,
			    86400LL * 3650, &t) != WEBTOKEN_OK)
	    continue;
	if (t.kind == WEBTOKEN_CLICK && !webtoken_url_ok(t.url, strlen(t.url)))
	    abort();
	in = (struct webtoken_in) {t.kind, t.issued, t.rcpt, t.sender_domain, t.msgid,
				   t.campaign, t.link, t.url, strlen(t.url)};
	n = webtoken_encode(k, &in, again, sizeof(again));
	/* signed with the first secret; the input may carry the second's MAC */
	if (n != size)
	    abort();
	if (memcmp(again, data, size) != 0
	    && webtoken_decode(k, kinds[i], again, n, 1800000000LL, 86400LL * 3650, &t)
	    != WEBTOKEN_OK)
	    abort();
    }
    return 0;
}
