/*
 * fuzz_verp - the return-path token reader on arbitrary bytes
 *
 * The input is a token under a fixed secret; every kind is tried, unbound
 * and bound to a bounce domain.  A token of the current version that
 * decodes must re-encode to itself (one spelling per token); any token that
 * decodes (those of version 1, made before tokens were bound, too) must read
 * the same without its MAC (verp_peek).  The input is also an envelope
 * sender for retpath(3), under a bounce domain with and without "%d".
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "retpath.h"
#include "verp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char secret[] = "fuzzing-secret-0123456789";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct verp_keys *k;
    struct verp_token t, p;
    char err[128], again[VERP_TOKEN_MAX + 1], *addr, dom[256];
    unsigned long long id;
    static const char *const bound[2] = {"", "bounces.shop.test"};
    size_t n;
    int b;

    if (k == NULL && (k = verp_keys_parse(secret, sizeof(secret) - 1, "fuzz", err,
					  sizeof(err))) == NULL)
	abort();
    for (b = 0; b < 2; b++) {
	if (verp_decode_bound(k, VERP_BOUNCE, (const char *) data, size, bound[b], 100, 30,
			      &t) != VERP_OK)
	    continue;
	if (t.version != 1) {
	    if (t.mode == 0)
		n = verp_encode_bound(k, VERP_BOUNCE, t.day, t.rcpt, t.sender_domain, bound[b],
				      again, sizeof(again));
	    else
		n = verp_encode_id_bound(k, VERP_BOUNCE, t.day, t.id, bound[b], again,
					 sizeof(again));
	    if (n != size || strncasecmp(again, (const char *) data, size) != 0)
		abort();
	}
	if (verp_peek((const char *) data, size, &p) != VERP_OK || p.mode != t.mode
	    || p.id != t.id || strcmp(p.rcpt, t.rcpt) != 0
	    || strcmp(p.sender_domain, t.sender_domain) != 0)
	    abort();
    }
    (void) verp_peek((const char *) data, size, &p);
    addr = malloc(size + 1);
    if (addr == NULL)
	abort();
    memcpy(addr, data, size);
    addr[size] = '\0';
    (void) retpath_sender_domain("bounce.%d", "b", addr, dom, sizeof(dom), &id);
    if (strlen(dom) >= sizeof(dom))
	abort();
    (void) retpath_sender_domain("bounces.relay.test", "b", addr, dom, sizeof(dom), &id);
    free(addr);
    (void) verp_decode(k, VERP_UNSUB, (const char *) data, size, 100, 30, &t);
    return 0;
}
