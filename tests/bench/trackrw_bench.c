/*
 * trackrw_bench - CPU per message for rewriting a 50 KiB HTML message
 *
 * SYNOPSIS
 *	tests/bench/trackrw_bench [N]
 *
 * DESCRIPTION
 *	Builds a newsletter-like message (multipart/alternative, a text part
 *	and a 50 KiB HTML part with 60 links and UTF-8 text) with its HTML
 *	part in 8bit, quoted-printable and base64, and prints the process
 *	CPU time per message of trackrw_rewrite() over N runs (default 2000)
 *	for each, beside the floor: a plain copy of the same bytes into a new
 *	buffer.  url_for formats a tracked URL of 84 characters and signs
 *	nothing; the runs marked "signed" make each link's URL as the milter
 *	does, a click token (common/report/webtoken.c: recipient, sender
 *	domain, Message-ID, campaign, link index and the original URL under
 *	an HMAC), so that they show the milter's whole cost of tracking one
 *	message.  Prints figures, asserts nothing.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "trackrw.h"
#include "verp.h"
#include "webtoken.h"
#include "xalloc.h"

#define HTML_SIZE	(50 * 1024)
#define NLINKS		60

/* cpu_us - process CPU time in microseconds */
static double
cpu_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* url_for - a tracked URL as long as a signed token makes it */
static ssize_t
url_for(void *ctx, unsigned index, const char *url, size_t len, char *out,
	size_t outsz)
{
    (void) ctx;
    (void) url;
    (void) len;
    return snprintf(out, outsz, "https://t.example/c/"
		    "AAEC%04uxyzABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvw", index);
}

/* signed_url_for - the URL of a click token, as the milter makes it */
static ssize_t
signed_url_for(void *ctx, unsigned index, const char *url, size_t len, char *out,
	       size_t outsz)
{
    const struct verp_keys *k = ctx;
    struct webtoken_in in;
    static const char base[] = "https://links.example/c/";
    size_t n;

    if (outsz <= sizeof(base))
	return 0;
    memset(&in, 0, sizeof(in));
    in.kind = WEBTOKEN_CLICK;
    in.issued = 1765000000;
    in.rcpt = "reader@example.net";
    in.sender_domain = "shop.example";
    in.msgid = "<20261206.newsletter.42@shop.example>";
    in.campaign = "winter-sale";
    in.link = index;
    in.url = url;
    in.url_len = len;
    memcpy(out, base, sizeof(base) - 1);
    n = webtoken_encode(k, &in, out + sizeof(base) - 1, outsz - (sizeof(base) - 1));
    return n == 0 ? 0 : (ssize_t) (n + sizeof(base) - 1);
}

/* make_html - about HTML_SIZE bytes of table layout with NLINKS links */
static size_t
make_html(char *h, size_t cap)
{
    size_t n = 0;
    int i = 0;

    n += (size_t) snprintf(h + n, cap - n, "<!DOCTYPE html><html><head><style>"
			   "td{font-family:Arial}</style></head><body><table width=\"600\">\r\n");
    while (n < HTML_SIZE - 600) {
	if (i < NLINKS)
	    n += (size_t) snprintf(h + n, cap - n,
				   "<tr><td class=\"item\"><a href=\"https://shop.example/"
				   "products/item-%d?utm_source=news&amp;utm_medium=email\""
				   " style=\"color:#0066cc\">Article %d</a></td></tr>\r\n", i, i);
	n += (size_t) snprintf(h + n, cap - n,
			       "<tr><td>Caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9" "e, na\xc3\xafve "
			       "fa\xc3\xa7" "ade: the quick brown fox jumps over the lazy dog. "
			       "Lorem ipsum dolor sit amet.</td></tr>\r\n");
	i++;
    }
    n += (size_t) snprintf(h + n, cap - n, "</table><p><a href=\"mailto:help@shop.example\">"
			   "help</a></p></body></html>\r\n");
    return n;
}

/* qp - quoted-printable lines of 76 characters at most */
static size_t
qp(const char *s, size_t n, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i, o = 0, col = 0;

    for (i = 0; i < n; i++) {
	unsigned char c = (unsigned char) s[i];

	if (c == '\r' && i + 1 < n && s[i + 1] == '\n') {
	    memcpy(out + o, "\r\n", 2), o += 2, i++, col = 0;
	    continue;
	}
	if (col > 72)
	    memcpy(out + o, "=\r\n", 3), o += 3, col = 0;
	if (c >= 33 && c <= 126 && c != '=')
	    out[o++] = (char) c, col++;
	else
	    out[o++] = '=', out[o++] = hex[c >> 4], out[o++] = hex[c & 15], col += 3;
    }
    return o;
}

/* b64 - base64 lines of 76 characters */
static size_t
b64(const char *s, size_t n, char *out)
{
    static const char abc[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *u = (const unsigned char *) s;
    size_t i, o = 0;

    for (i = 0; i < n; i += 3) {
	unsigned long v = (unsigned long) u[i] << 16
	    | (i + 1 < n ? (unsigned long) u[i + 1] << 8 : 0)
	    | (i + 2 < n ? u[i + 2] : 0);

	if (i > 0 && i % 57 == 0)
	    memcpy(out + o, "\r\n", 2), o += 2;
	out[o++] = abc[v >> 18 & 63];
	out[o++] = abc[v >> 12 & 63];
	out[o++] = i + 1 < n ? abc[v >> 6 & 63] : '=';
	out[o++] = i + 2 < n ? abc[v & 63] : '=';
    }
    return o;
}

/* make_msg - the whole message with the HTML part in one encoding */
static size_t
make_msg(char *m, size_t cap, const char *cte, const char *body, size_t blen)
{
    size_t n = (size_t) snprintf(m, cap,
				 "From: news@shop.example\r\nTo: a@example.org\r\n"
				 "Subject: News\r\nMIME-Version: 1.0\r\n"
				 "List-Unsubscribe: <https://shop.example/u/1>\r\n"
				 "Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n"
				 "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
				 "News: https://shop.example/news\r\n\r\n--b1\r\n"
				 "Content-Type: text/html; charset=utf-8\r\n"
				 "Content-Transfer-Encoding: %s\r\n\r\n", cte);

    memcpy(m + n, body, blen);
    n += blen;
    n += (size_t) snprintf(m + n, cap - n, "\r\n--b1--\r\n");
    return n;
}

/* run - CPU per message of rewriting one message, and of copying it */
static void
run(const char *name, const char *msg, size_t len, long iters, int text_links,
    const struct verp_keys *keys)
{
    struct trackrw_opts o;
    struct trackrw_result r;
    double t0, t1, t2;
    size_t out = 0, links = 0;
    long i;
    volatile char sink = 0;

    memset(&o, 0, sizeof(o));
    o.url_for = keys ? signed_url_for : url_for;
    o.ctx = (void *) keys;
    o.pixel_url = "https://t.example/o/AAECxyzABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvw";
    o.optout_attr = "data-notrack";
    o.text_links = text_links;
    t0 = cpu_us();
    for (i = 0; i < iters; i++) {
	char *copy = xmalloc(len);

	memcpy(copy, msg, len);
	sink ^= copy[i % (long) len];
	free(copy);
    }
    t1 = cpu_us();
    for (i = 0; i < iters; i++) {
	if (trackrw_rewrite(msg, len, &o, &r) != TRACKRW_OK) {
	    fprintf(stderr, "trackrw_bench: %s: not rewritten: %s\n", name, r.why);
	    exit(1);
	}
	out = r.body_len;
	links = r.links;
	trackrw_free(&r);
    }
    t2 = cpu_us();
    printf("%-24s %6zu bytes in, %6zu out, %2zu links: %7.1f us/message "
	   "(plain copy %5.2f us, %.0fx)\n", name, len, out, links, (t2 - t1) / iters,
	   (t1 - t0) / iters, (t1 - t0) > 0 ? (t2 - t1) / (t1 - t0) : 0.0);
    (void) sink;
}

int
main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 2000;
    size_t cap = 4 * HTML_SIZE, hlen, elen, mlen;
    char *html = xmalloc(cap), *enc = xmalloc(4 * cap), *msg = xmalloc(5 * cap);
    static const char secret[] = "a-secret-for-the-benchmark-0123456789\n";
    char err[256];
    struct verp_keys *keys = verp_keys_parse(secret, sizeof(secret) - 1, "bench",
					     err, sizeof(err));

    if (iters <= 0 || keys == NULL)
	return 1;
    hlen = make_html(html, cap);
    printf("trackrw: %ld runs each; CPU time of this process per message\n", iters);
    mlen = make_msg(msg, 5 * cap, "8bit", html, hlen);
    run("html 8bit", msg, mlen, iters, 0, NULL);
    run("html 8bit, signed", msg, mlen, iters, 0, keys);
    run("html 8bit + text links", msg, mlen, iters, 1, NULL);
    elen = qp(html, hlen, enc);
    mlen = make_msg(msg, 5 * cap, "quoted-printable", enc, elen);
    run("html quoted-printable", msg, mlen, iters, 0, NULL);
    run("html q-p, signed", msg, mlen, iters, 0, keys);
    elen = b64(html, hlen, enc);
    mlen = make_msg(msg, 5 * cap, "base64", enc, elen);
    run("html base64", msg, mlen, iters, 0, NULL);
    run("html base64, signed", msg, mlen, iters, 0, keys);
    free(html);
    free(enc);
    free(msg);
    verp_keys_free(keys);
    return 0;
}
