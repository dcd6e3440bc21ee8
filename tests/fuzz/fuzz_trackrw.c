/*
 * fuzz_trackrw - the link rewriter on arbitrary messages
 *
 * The first byte chooses the options (text links, pixel, opt-out
 * attribute, a small link limit, a url_for that declines or gives up
 * sometimes); the rest is the message.  Any status is fine; crashes,
 * leaks, undefined behaviour, a result beyond TRACKRW_OUT_BOUND, a body
 * without its NUL, or a refusal without a reason are not.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trackrw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* url_for - a tracked URL; declines every fifth link, fails at 40 if asked */
static ssize_t
url_for(void *ctx, unsigned index, const char *url, size_t len, char *out,
	size_t outsz)
{
    int     flags = *(int *) ctx;

    if (url[len] != 0 || strlen(url) != len)
	abort();
    if ((flags & 16) && index == 40)
	return -1;
    if (index % 5 == 3)
	return 0;
    if (flags & 32) {
	/* the longest answer there may be, with characters to escape */
	memset(out, '&', outsz - 1);
	return (ssize_t) outsz - 1;
    }
    return snprintf(out, outsz, "https://t.example/c/%u", index);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct trackrw_opts o;
    struct trackrw_result r;
    int     flags, st;

    if (size < 1)
	return 0;
    flags = data[0];
    memset(&o, 0, sizeof(o));
    o.url_for = url_for;
    o.ctx = &flags;
    o.text_links = flags & 1;
    o.pixel_url = (flags & 2) ? "https://t.example/o/\"px\"" : NULL;
    o.optout_attr = (flags & 4) ? "data-notrack" : NULL;
    o.max_links = (flags & 8) ? 3 : 0;
    o.unsub_url = "https://shop.example/unsub";
    st = trackrw_rewrite((const char *) data + 1, size - 1, &o, &r);
    if (st == TRACKRW_OK) {
	if (r.body == NULL || r.body[r.body_len] != 0
	    || r.body_len > TRACKRW_OUT_BOUND(size - 1, r.links))
	    abort();
    } else if (r.body != NULL || r.why == NULL) {
	abort();
    }
    trackrw_free(&r);
    return 0;
}
