/*
 * fuzz_trackrw - the link rewriter on arbitrary messages
 *
 * The first byte chooses the options (text links, pixel, opt-out
 * attribute, a small link limit, a url_for that declines or gives up
 * sometimes); the rest is the message.  Any status is fine; crashes,
 * leaks, undefined behaviour, a result beyond TRACKRW_OUT_BOUND, a body
 * without its NUL, or a refusal without a reason are not.  Nor is a
 * change of structure: read by mime.c, the new message has the same
 * parts of the same types as the old, and the same bytes in each part
 * that is not text (mime.c reads a lone CR as a line end, which
 * trackrw does not: such messages are not compared).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "trackrw.h"
#include "xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* url_for - a tracked URL; declines every fifth link, fails at 40 if asked */
static ssize_t
url_for(void *ctx, unsigned index, const char *url, size_t len, char *out,
	size_t outsz)
{
    int flags = *(int *) ctx;

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

/* same_parts - the old and the new message have the same MIME structure */
static void
same_parts(const char *msg, size_t len, const struct trackrw_result *r)
{
    struct mime_msg a, b;
    const char *why;
    char *whole;
    size_t i;

    for (i = 0; i < len; i++)
	if (msg[i] == '\r' && (i + 1 == len || msg[i + 1] != '\n'))
	    return;
    whole = xmalloc(r->body_off + r->body_len + 1);
    memcpy(whole, msg, r->body_off);
    memcpy(whole + r->body_off, r->body, r->body_len);
    if (mime_parse(msg, len, &a, &why) != 0
	|| mime_parse(whole, r->body_off + r->body_len, &b, &why) != 0
	|| a.nparts != b.nparts)
	abort();
    for (i = 0; i < a.nparts; i++)
	if (strcmp(a.parts[i].type, b.parts[i].type) != 0
	    || (strncmp(a.parts[i].type, "text/", 5) != 0
		&& (a.parts[i].body_len != b.parts[i].body_len
		    || memcmp(a.parts[i].body, b.parts[i].body,
			      a.parts[i].body_len) != 0)))
	    abort();
    mime_free(&a);
    mime_free(&b);
    free(whole);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct trackrw_opts o;
    struct trackrw_result r;
    int flags, st;

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
	/* a new top-level encoding is the caller's to write: not compared */
	if (r.set_cte == NULL)
	    same_parts((const char *) data + 1, size - 1, &r);
    } else if (r.body != NULL || r.why == NULL) {
	abort();
    }
    trackrw_free(&r);
    return 0;
}
