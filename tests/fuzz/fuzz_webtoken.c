/*
 * fuzz_webtoken - the web link token reader on arbitrary bytes
 *
 * The input is a token under two secrets, read as each kind.  A token that
 * reads must write back to itself under the same secret (one spelling per
 * token), and a click's URL must be one the encoder accepts.  The input is
 * then also taken as a token's body and signed here, so that the reader's
 * parsing behind the MAC is fuzzed too.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verp.h"
#include "webtoken.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char secrets[] = "fuzzing-secret-0123456789\nolder-secret-0123456789\n";
static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* signed - the body signed as webtoken.c signs, in base64url; its length */
static size_t
signed_token(const struct verp_keys *k, const uint8_t *body, size_t len, char *out)
{
    static unsigned char msg[12 + 4096 + WEBTOKEN_MAC_BYTES];
    unsigned char mac[32];
    size_t i, n = 0, all;
    unsigned long v;

    memcpy(msg, "outpost-web1", 12);
    memcpy(msg + 12, body, len);
    verp_keys_hmac(k, 0, msg, 12 + len, mac);
    memcpy(msg + 12 + len, mac, WEBTOKEN_MAC_BYTES);
    all = len + WEBTOKEN_MAC_BYTES;
    for (i = 0; i < all; i += 3) {
	v = (unsigned long) msg[12 + i] << 16;
	if (i + 1 < all)
	    v |= (unsigned long) msg[12 + i + 1] << 8;
	if (i + 2 < all)
	    v |= msg[12 + i + 2];
	out[n++] = b64[v >> 18 & 63];
	out[n++] = b64[v >> 12 & 63];
	if (i + 1 < all)
	    out[n++] = b64[v >> 6 & 63];
	if (i + 2 < all)
	    out[n++] = b64[v & 63];
    }
    return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int kinds[] = {WEBTOKEN_UNSUB, WEBTOKEN_OPEN, WEBTOKEN_CLICK};
    static struct verp_keys *k;
    static struct webtoken t;
    static char tok[2 * 4096];
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
    if (size <= 4096) {
	n = signed_token(k, data, size, tok);
	for (i = 0; i < 3; i++)
	    if (webtoken_decode(k, kinds[i], tok, n, 1800000000LL, 86400LL * 3650, &t)
		== WEBTOKEN_OK && t.kind == WEBTOKEN_CLICK
		&& !webtoken_url_ok(t.url, strlen(t.url)))
		abort();
    }
    return 0;
}
