/* test_trackrw - rewriting a message's links and adding the open pixel */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mime.h"
#include "trackrw.h"
#include "xalloc.h"

#define PIXEL "https://t.example/o/PX"

/* what the url_for of these tests saw and how it answers */
struct seen {
    int n;
    char url[32][2100];
    unsigned idx[32];
    int decline;			/* answer 0 for this index */
    int fail;			/* answer -1 for this index */
    const char *junk;			/* answer this instead */
};

/* url_for - "https://t.example/c/INDEX", and a record of the call */
static ssize_t
url_for(void *ctx, unsigned index, const char *url, size_t len, char *out,
	size_t outsz)
{
    struct seen *s = ctx;

    assert_int_equal(strlen(url), len);
    if (s->n < 32) {
	snprintf(s->url[s->n], sizeof(s->url[0]), "%s", url);
	s->idx[s->n] = index;
    }
    s->n++;
    if ((int) index == s->fail)
	return -1;
    if ((int) index == s->decline)
	return 0;
    if (s->junk)
	return snprintf(out, outsz, "%s", s->junk);
    return snprintf(out, outsz, "https://t.example/c/%u", index);
}

/* opts - options with the recording callback */
static struct trackrw_opts
opts(struct seen *s)
{
    struct trackrw_opts o;

    memset(s, 0, sizeof(*s));
    s->decline = s->fail = -1;
    memset(&o, 0, sizeof(o));
    o.url_for = url_for;
    o.ctx = s;
    o.pixel_url = PIXEL;
    o.optout_attr = "data-notrack";
    return o;
}

/* rewrite - run on a string; the status */
static int
rewrite(const char *msg, const struct trackrw_opts *o, struct trackrw_result *r)
{
    return trackrw_rewrite(msg, strlen(msg), o, r);
}

/* body_of - the decoded body of part k after putting header and new body together */
static char *
body_of(const char *msg, const struct trackrw_result *r, size_t k,
	char *type, size_t typesz)
{
    const char *lf = strstr(msg, "\n\n"), *crlf = strstr(msg, "\n\r\n");
    size_t hlen = (size_t) ((crlf && (!lf || crlf < lf) ? crlf : lf) - msg) + 1;
    size_t n = hlen + 1 + r->body_len;
    char *whole = xmalloc(n + 64), *out;
    struct mime_msg m;
    const char *why;

    memcpy(whole, msg, hlen);
    n = hlen;
    if (r->set_cte) {
	n += (size_t) sprintf(whole + n, "Content-Transfer-Encoding: %s\n",
			      r->set_cte);
    }
    whole[n++] = '\n';
    memcpy(whole + n, r->body, r->body_len);
    n += r->body_len;
    assert_int_equal(mime_parse(whole, n, &m, &why), 0);
    assert_true(k < m.nparts);
    out = xstrdup(m.parts[k].body);
    if (type)
	snprintf(type, typesz, "%s", m.parts[k].type);
    mime_free(&m);
    free(whole);
    return out;
}

/* count - occurrences of needle in the first n bytes of hay */
static int
count(const char *hay, size_t n, const char *needle)
{
    int c = 0;
    size_t k = strlen(needle);
    const char *p = hay;

    while ((p = memmem(p, n - (size_t) (p - hay), needle, k)) != NULL) {
	c++;
	p += k;
    }
    return c;
}

/*
 * memmem - the C library's, counting the bytes it looks at, so that a test
 * can say that a scan stays linear without timing it (trackrw's calls, in
 * this program, land here)
 */
static size_t memmem_looked;

void *
memmem(const void *hay, size_t n, const void *needle, size_t k)
{
    const char *h = hay;
    size_t i;

    if (k == 0)
	return (void *) h;
    for (i = 0; i + k <= n; i++) {
	memmem_looked++;
	if (memcmp(h + i, needle, k) == 0)
	    return (void *) (h + i);
    }
    memmem_looked += n - i;
    return NULL;
}

/* max_line - the longest line of a text, line ends not counted */
static size_t
max_line(const char *s, size_t n)
{
    size_t i, col = 0, max = 0;

    for (i = 0; i < n; i++) {
	if (s[i] == '\n') {
	    col = 0;
	    continue;
	}
	if (s[i] != '\r' && ++col > max)
	    max = col;
    }
    return max;
}

static const char simple_html[] =
    "From: a@shop.example\n"
    "Subject: hi\n"
    "Content-Type: text/html; charset=utf-8\n"
    "\n"
    "<html><body><p>Hello <a href=\"https://shop.example/x?a=1&amp;b=2\">one</a>\n"
    "<A HREF='http://shop.example/two'>two</A>\n"
    "<a class=x href=https://shop.example/3 title=\"t\">3</a>\n"
    "<area shape=rect href=\"https://shop.example/area\">\n"
    "</body></html>\n";

/* double, single and no quotes; &amp; decoded for url_for; pixel before </body> */
static void
test_html_simple(void **state)
{
    struct seen s;
    struct trackrw_opts o = opts(&s);
    struct trackrw_result r;

    (void) state;
    assert_int_equal(rewrite(simple_html, &o, &r), TRACKRW_OK);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.url[0], "https://shop.example/x?a=1&b=2");
    assert_string_equal(s.url[1], "http://shop.example/two");
    assert_string_equal(s.url[2], "https://shop.example/3");
    assert_string_equal(s.url[3], "https://shop.example/area");
    assert_int_equal(s.idx[3], 3);
    assert_int_equal(r.links, 4);
    assert_int_equal(r.pixel, 1);
    assert_null(r.set_cte);
    assert_string_equal(r.body,
	"<html><body><p>Hello <a href=\"https://t.example/c/0\">one</a>\n"
	"<A HREF='https://t.example/c/1'>two</A>\n"
	"<a class=x href=\"https://t.example/c/2\" title=\"t\">3</a>\n"
	"<area shape=rect href=\"https://t.example/c/3\">\n"
	"<img src=\"" PIXEL "\" width=\"1\" height=\"1\" alt=\"\" border=\"0\""
	" style=\"border:0;width:1px;height:1px\"></body></html>\n");
    trackrw_free(&r);
}

/* what is left alone: other schemes, anchors, opt-out, unsubscribe, declines */
static void
test_html_left_alone(void **state)
{
    static const char msg[] =
	"List-Unsubscribe: <mailto:u@shop.example>,\n"
	" <https://shop.example/unsub?id=7&x=1>\n"
	"Content-Type: text/html\n"
	"\n"
	"<a href=\"mailto:a@shop.example\">m</a><a href=\"tel:+331\">t</a>"
	"<a href=\"#top\">#</a><a href=\"/rel\">r</a>"
	"<a href=\"javascript:x()\">j</a>"
	"<a data-notrack href=\"https://shop.example/no\">n</a>"
	"<a href=\"https://shop.example/unsub?id=7&amp;x=1\">u</a>"
	"<a href=\"https://shop.example/mine\">o</a>"
	"<a href=\"https://shop.example/\001ctl\">c</a>"
	"<a href=\"https://shop.example/declined\">d</a>"
	"<abbr href=\"https://shop.example/abbr\">x</abbr>"
	"<a name=x>no href</a>"
	"<!-- <a href=\"https://shop.example/comment\"> -->"
	"<script>var s='<a href=\"https://shop.example/script\">';</script>"
	"<style>a{} </style><a href=\"https://shop.example/last\">l</a>";
    struct seen s;
    struct trackrw_opts o = opts(&s);
    struct trackrw_result r;

    (void) state;
    o.unsub_url = "https://shop.example/mine";
    s.decline = 0;
    assert_int_equal(rewrite(msg, &o, &r), TRACKRW_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.url[0], "https://shop.example/declined");
    assert_string_equal(s.url[1], "https://shop.example/last");
    assert_int_equal(r.links, 1);
    assert_int_equal(r.kept, 4);	/* unsubscribe twice, control, declined */
    assert_non_null(strstr(r.body, "href=\"https://shop.example/no\""));
    assert_non_null(strstr(r.body, "href=\"https://shop.example/unsub?id=7&amp;x=1\""));
    assert_non_null(strstr(r.body, "\"https://shop.example/comment\""));
    assert_non_null(strstr(r.body, "\"https://shop.example/script\""));
    assert_non_null(strstr(r.body, "href=\"https://t.example/c/1\">l</a>"));
    /* no </body>: the pixel goes at the end */
    assert_int_equal(count(r.body, r.body_len, "<img src="), 1);
    assert_non_null(strstr(r.body, "</a><img src=\"" PIXEL "\""));
    trackrw_free(&r);

    /* without an opt-out attribute name, data-notrack means nothing */
    o = opts(&s);
    o.optout_attr = NULL;
    assert_int_equal(rewrite(msg, &o, &r), TRACKRW_OK);
    assert_string_equal(s.url[0], "https://shop.example/no");
    trackrw_free(&r);
}

/* Outlook: the links of VML buttons inside conditional comments */
static void
test_outlook_vml(void **state)
{
    static const char msg[] =
	"Content-Type: text/html\n"
	"\n"
	"<!--[if mso]>\n"
	"<v:roundrect xmlns:v=\"urn:schemas-microsoft-com:vml\" "
	"href=\"https://shop.example/buy\" arcsize=\"10%\" stroke=\"f\">"
	"<w:anchorlock/><center>Buy</center></v:roundrect>\n"
	"<![endif]-->\n"
	"<!--[if !mso]><!-->"
	"<a href=\"https://shop.example/buy\">Buy</a>"
	"<!--<![endif]-->\n"
	"<!-- plain <a href=\"https://shop.example/comment\"> -->\n"
	"<!--[if gte mso 9]><v:rect href='https://shop.example/rect'/>\n"
	"<!--[if mso]> never ended <a href=\"https://shop.example/open\"> -->\n"
	"<a href=\"https://shop.example/end\">e</a></body>\n";
    struct seen s;
    struct trackrw_opts o = opts(&s);
    struct trackrw_result r;

    (void) state;
    assert_int_equal(rewrite(msg, &o, &r), TRACKRW_OK);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.url[0], "https://shop.example/buy");	/* the VML button */
    assert_string_equal(s.url[1], "https://shop.example/buy");	/* the <a> for the others */
    assert_string_equal(s.url[2], "https://shop.example/end");
    assert_non_null(strstr(r.body, "href=\"https://t.example/c/0\" arcsize"));
    assert_non_null(strstr(r.body, "<a href=\"https://t.example/c/1\">Buy</a>"));
    /* ordinary comments, and conditional ones that never reach <![endif]> */
    assert_non_null(strstr(r.body, "\"https://shop.example/comment\""));
    assert_non_null(strstr(r.body, "'https://shop.example/rect'"));
    assert_non_null(strstr(r.body, "\"https://shop.example/open\""));
    trackrw_free(&r);
}

/* many "<![endif]" and no "-->": each looks only next to itself for its end */
static void
test_endif_linear(void **state)
{
    static const char head[] = "Content-Type: text/html\n\n<html><body>";
    size_t reps = 20000, unit = 9, n = sizeof(head) - 1 + reps * unit, i;
    char *msg = xmalloc(n);
    struct seen s;
    struct trackrw_opts o = opts(&s);
    struct trackrw_result r;

    (void) state;
    memcpy(msg, head, sizeof(head) - 1);
    for (i = 0; i < reps; i++)
	memcpy(msg + sizeof(head) - 1 + i * unit, "<![endif]", unit);
    memmem_looked = 0;
    assert_int_equal(trackrw_rewrite(msg, n, &o, &r), TRACKRW_OK);
    assert_int_equal(r.pixel, 1);
    /* a few bytes each; a search to the end each is about 1.8e9 */
    assert_true(memmem_looked < 4 * n);
    trackrw_free(&r);
    free(msg);
}

/* "<!-->" and "<!--->" are whole comments, as browsers read them */
static void
test_empty_comment(void **state)
{
    static const char msg[] =
	"Content-Type: text/html\n\n"
	"<body><!--><a href=\"https://s.example/1\">1</a>"
	"<!---><a href=\"https://s.example/2\">2</a></body>\n";
    struct seen s;
    struct trackrw_opts o = opts(&s);
    struct trackrw_result r;

    (void) state;
    assert_int_equal(rewrite(msg, &o, &r), TRACKRW_OK);
    assert_int_equal(s.n, 2);
    assert_non_null(strstr(r.body, "<!--><a href=\"https://t.example/c/0\">"));
    assert_non_null(strstr(r.body, "<!---><a href=\"https://t.example/c/1\">"));
    assert_non_null(strstr(r.body, "2</a><img src=\"" PIXEL "\""));
    trackrw_free(&r);
}

/* entities in href; escaping of what url_for returns; blanks and breaks */
static void
test_html_entities(void **state)
{
    static const char msg[] =
	"Content-Type: text/html\n\n"
	"<a href=\" https://s.example/&#x61;&#98;?q=&quot;x&quot;&lt;&gt;&#39;&apos;&unknown; \">a</a>"
	"<a href=\"https://s.example/long\n/path\">b</a>"
	"<a href=\"&#104;ttps://s.example/encoded-scheme\">c</a>";
    struct seen s;
    struct trackrw_opts o = opts(&s);
    struct trackrw_result r;

    (void) state;
    o.pixel_url = NULL;
    s.junk = "https://t.example/c/a&b\"c'd<e>";
    assert_int_equal(rewrite(msg, &o, &r), TRACKRW_OK);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.url[0], "https://s.example/ab?q=\"x\"<>''&unknown;");
    assert_string_equal(s.url[1], "https://s.example/long/path");
    assert_string_equal(s.url[2], "https://s.example/encoded-scheme");
    assert_int_equal(count(r.body, r.body_len,
			   "href=\"https://t.example/c/a&amp;b&quot;c&#39;d&lt;e&gt;\""), 3);
    assert_int_equal(r.pixel, 0);
    assert_null(strstr(r.body, "<img"));
    trackrw_free(&r);
}

static const char alternative_crlf[] =
    "From: a@shop.example\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/alternative; boundary=\"alt\"\r\n"
    "\r\n"
    "This is a multi-part message.\r\n"
    "--alt\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Caf\xc3\xa9: see https://shop.example/a. And (https://shop.example/b)\r\n"
    "or <https://shop.example/c> and https://en.example/wiki/X_(y), ftp://no\r\n"
    "nohttps://x.example https:// HTTPS://UP.example/\r\n"
    "--alt\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "\r\n"
    "<p>Caf\xc3\xa9 <a href=\"https://shop.example/a\">a</a></p>\r\n"
    "--alt--\r\n"
    "epilogue\r\n";

/* multipart/alternative: text links on request; CRLF and 8-bit bytes kept */
static void
test_alternative(void **state)
{
    struct seen s;
    struct trackrw_opts o = opts(&s);
    struct trackrw_result r;
    const char *html;

    (void) state;
    assert_int_equal(rewrite(alternative_crlf, &o, &r), TRACKRW_OK);
    assert_int_equal(s.n, 1);
    html = strstr(r.body, "--alt\r\nContent-Type: text/html");
    assert_non_null(html);
    assert_non_null(strstr(html, "<p>Caf\xc3\xa9 <a href=\"https://t.example/c/0\">a</a></p>"
			   "<img src="));
    /* the text part and the frame are byte for byte the same */
    assert_true(strncmp(r.body, strstr(alternative_crlf, "This is"),
			(size_t) (strstr(alternative_crlf, "--alt\r\nContent-Type: text/html")
				  - strstr(alternative_crlf, "This is"))) == 0);
    assert_non_null(strstr(r.body, "\r\n--alt--\r\nepilogue\r\n"));
    trackrw_free(&r);

    o = opts(&s);
    o.text_links = 1;
    assert_int_equal(rewrite(alternative_crlf, &o, &r), TRACKRW_OK);
    assert_int_equal(s.n, 6);
    assert_string_equal(s.url[0], "https://shop.example/a");
    assert_string_equal(s.url[1], "https://shop.example/b");
    assert_string_equal(s.url[2], "https://shop.example/c");
    assert_string_equal(s.url[3], "https://en.example/wiki/X_(y)");
    assert_string_equal(s.url[4], "HTTPS://UP.example/");
    assert_string_equal(s.url[5], "https://shop.example/a");
    assert_non_null(strstr(r.body, "Caf\xc3\xa9: see https://t.example/c/0. And "
			   "(https://t.example/c/1)\r\nor <https://t.example/c/2> and "
			   "https://t.example/c/3, ftp://no\r\nnohttps://x.example https:// "
			   "https://t.example/c/4\r\n--alt\r\n"));
    assert_non_null(strstr(r.body, "href=\"https://t.example/c/5\""));
    assert_null(strstr(r.body, "\n\n"));	/* no bare LF came in */
    assert_int_equal(count(r.body, r.body_len, "\n"), count(r.body, r.body_len, "\r\n"));
    trackrw_free(&r);
}

/* quoted-printable: decoded, rewritten, encoded in lines of at most 76 */
static void
test_quoted_printable(void **state)
{
    static const char msg[] =
	"Content-Type: multipart/alternative; boundary=b\r\n"
	"\r\n"
	"--b\r\n"
	"Content-Type: text/html; charset=iso-8859-1\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"\r\n"
	"<p style=3D\"color:red\">Caf=E9 <a href=3D\"https://shop.example/very/long/pa=\r\n"
	"th?x=3D1&amp;y=3D2\">link</a> trailing space =20\r\n"
	"=2D-b--\r\n"
	"</body>\r\n"
	"--b--\r\n";
    struct seen s;
    struct trackrw_opts o = opts(&s);
    struct trackrw_result r;
    char *dec, type[MIME_TYPE_MAX];
    const char *start;

    (void) state;
    assert_int_equal(rewrite(msg, &o, &r), TRACKRW_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.url[0], "https://shop.example/very/long/path?x=1&y=2");
    start = strstr(r.body, "quoted-printable\r\n\r\n");
    assert_non_null(start);
    assert_true(max_line(start, strlen(start)) <= 76);
    assert_non_null(strstr(start, "Caf=E9"));
    assert_non_null(strstr(start, "\r\n=2D-b--\r\n"));	/* no delimiter */
    dec = body_of(msg, &r, 0, type, sizeof(type));
    assert_string_equal(type, "text/html");
    assert_string_equal(dec,
	"<p style=\"color:red\">Caf\xe9 <a href=\"https://t.example/c/0\">link</a>"
	" trailing space  \n--b--\n<img src=\"" PIXEL "\" width=\"1\" height=\"1\" alt=\"\""
	" border=\"0\" style=\"border:0;width:1px;height:1px\"></body>");
    free(dec);
    trackrw_free(&r);
}

/* a soft break that would put a '-' first on a line encodes it: no delimiter */
static void
test_qp_soft_break_dash(void **state)
{
    static const char msg[] =
	"Content-Type: multipart/alternative; boundary=b\r\n"
	"\r\n"
	"--b\r\n"
	"Content-Type: text/html\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"\r\n"
	"<a href=3D\"https://shop.example/\">x</a>\r\n"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=\r\n"
	"xxxxx--b--\r\n"
	"--b--\r\n";
    struct seen s;
    struct trackrw_opts o = opts(&s);
    struct trackrw_result r;
    char *dec, type[MIME_TYPE_MAX];

    (void) state;
    assert_int_equal(rewrite(msg, &o, &r), TRACKRW_OK);
    assert_int_equal(s.n, 1);
    /* 75 characters, then the break, then "--b--" that must not start a line */
    assert_non_null(strstr(r.body, "x=\r\n=2D-b--"));
    assert_int_equal(count(r.body, r.body_len, "--b"), 2);	/* the two delimiters */
    dec = body_of(msg, &r, 0, type, sizeof(type));
    assert_non_null(strstr(dec, "xxxxx--b--"));
    free(dec);
    trackrw_free(&r);
}

/* base64: decoded, rewritten, encoded in lines of 76 */
static void
test_base64(void **state)
{
    static const char msg[] =
	"Content-Type: text/html; charset=utf-8\n"
	"Content-Transfer-Encoding: base64\n"
	"\n"
	/* <html><body><a href="https://shop.example/b64">caf\xc3\xa9</a></body></html> */
	"PGh0bWw+PGJvZHk+PGEgaHJlZj0iaHR0cHM6Ly9zaG9wLmV4YW1wbGUvYjY0Ij5jYWbDqTwvYT48\n"
	"L2JvZHk+PC9odG1sPg==\n";
    struct seen s;
    struct trackrw_opts o = opts(&s);
    struct trackrw_result r;
    char *dec;
    size_t i, col = 0;

    (void) state;
    assert_int_equal(rewrite(msg, &o, &r), TRACKRW_OK);
    assert_string_equal(s.url[0], "https://shop.example/b64");
    assert_null(r.set_cte);
    for (i = 0; i < r.body_len; i++) {
	if (r.body[i] == '\n') {
	    assert_true(col == 76 || i == r.body_len - 1);
	    col = 0;
	} else {
	    assert_true(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			       "0123456789+/=", r.body[i]) != NULL);
	    col++;
	}
    }
    assert_int_equal(r.body[r.body_len - 1], '\n');
    dec = body_of(msg, &r, 0, NULL, 0);
    assert_string_equal(dec, "<html><body><a href=\"https://t.example/c/0\">caf\xc3\xa9</a>"
			"<img src=\"" PIXEL "\" width=\"1\" height=\"1\" alt=\"\" border=\"0\""
			" style=\"border:0;width:1px;height:1px\"></body></html>");
    free(dec);
    trackrw_free(&r);
}

/* nested mixed > related > alternative; attachments and messages untouched */
static void
test_nested(void **state)
{
    static const char msg[] =
	"Content-Type: multipart/mixed; boundary=m\n"
	"\n"
	"--m\n"
	"Content-Type: multipart/related; boundary=r\n"
	"\n"
	"--r\n"
	"Content-Type: multipart/alternative; boundary=a\n"
	"\n"
	"--a\n"
	"Content-Type: text/plain\n"
	"\n"
	"https://shop.example/text\n"
	"--a\n"
	"Content-Type: text/html\n"
	"\n"
	"<a href=\"https://shop.example/html\">x</a></body>\n"
	"--a--\n"
	"--r\n"
	"Content-Type: image/png\n"
	"Content-Transfer-Encoding: base64\n"
	"\n"
	"iVBORw0K\n"
	"--r--\n"
	"--m\n"
	"Content-Type: text/html\n"
	"Content-Disposition: attachment; filename=a.html\n"
	"\n"
	"<a href=\"https://shop.example/attached\">x</a></body>\n"
	"--m\n"
	"Content-Type: message/rfc822\n"
	"\n"
	"Content-Type: text/html\n"
	"\n"
	"<a href=\"https://shop.example/forwarded\">x</a>\n"
	"--m\n"
	"Content-Type: text/html\n"
	"\n"
	"<a href=\"https://shop.example/second\">x</a></body>\n"
	"--m--\n";
    struct seen s;
    struct trackrw_opts o = opts(&s);
    struct trackrw_result r;

    (void) state;
    o.text_links = 1;
    assert_int_equal(rewrite(msg, &o, &r), TRACKRW_OK);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.url[0], "https://shop.example/text");
    assert_string_equal(s.url[1], "https://shop.example/html");
    assert_string_equal(s.url[2], "https://shop.example/second");
    assert_non_null(strstr(r.body, "\"https://shop.example/attached\""));
    assert_non_null(strstr(r.body, "\"https://shop.example/forwarded\""));
    assert_non_null(strstr(r.body, "iVBORw0K\n--r--"));
    /* one pixel, in the first HTML part */
    assert_int_equal(count(r.body, r.body_len, "<img"), 1);
    assert_non_null(strstr(r.body, "c/1\">x</a><img src="));
    assert_non_null(strstr(r.body, "--m--\n"));
    trackrw_free(&r);
}

/* a 7bit line beyond 998 octets after the rewrite: the part turns quoted-printable */
static void
test_long_line(void **state)
{
    struct seen s;
    struct trackrw_opts o = opts(&s);
    struct trackrw_result r;
    char *msg = xmalloc(4000), *top = xmalloc(4000), *dec, *url = xmalloc(1200);
    char pad[946];
    const char *cte;

    (void) state;
    memset(pad, 'p', sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = 0;
    snprintf(msg, 4000,
	     "Content-Type: multipart/alternative; boundary=b\n\n--b\n"
	     "Content-Type: text/html\nContent-Transfer-Encoding: 7bit\n"
	     "X-Other: kept\n\n%s<a href=x>y</a><a href=https://s.example/z>z</a>\n--b--\n",
	     pad);
    /* 993 octets before, 1004 with the tracked URL */
    o.pixel_url = NULL;
    s.junk = "https://t.example/c/0123456789";
    assert_int_equal(rewrite(msg, &o, &r), TRACKRW_OK);
    assert_true(max_line(r.body, r.body_len) <= 76);
    assert_null(strstr(r.body, "7bit"));
    cte = strstr(r.body, "X-Other: kept\nContent-Transfer-Encoding: quoted-printable\n\n");
    assert_non_null(cte);
    assert_null(r.set_cte);
    dec = body_of(msg, &r, 0, NULL, 0);
    assert_non_null(strstr(dec, "<a href=\"https://t.example/c/0123456789\">z</a>"));
    assert_true(strncmp(dec, pad, sizeof(pad) - 1) == 0);
    free(dec);
    trackrw_free(&r);

    /* the same at the top level: the header change is for the caller */
    snprintf(top, 4000, "Content-Type: text/html\n\n%s<a href=x>y</a>"
	     "<a href=https://s.example/z>z</a>\n", pad);
    assert_int_equal(rewrite(top, &o, &r), TRACKRW_OK);
    assert_string_equal(r.set_cte, "quoted-printable");
    assert_int_equal(r.add_mime_version, 1);
    assert_true(max_line(r.body, r.body_len) <= 76);
    dec = body_of(top, &r, 0, NULL, 0);
    assert_non_null(strstr(dec, "<a href=\"https://t.example/c/0123456789\">z</a>"));
    free(dec);
    trackrw_free(&r);

    /* binary has no line limit: it stays binary */
    snprintf(top, 4000, "Content-Type: text/html\nContent-Transfer-Encoding: binary\n\n"
	     "%s<a href=x>y</a><a href=https://s.example/z>z</a>\n", pad);
    assert_int_equal(rewrite(top, &o, &r), TRACKRW_OK);
    assert_null(r.set_cte);
    assert_true(max_line(r.body, r.body_len) > 998);
    trackrw_free(&r);

    /* short enough: stays 7bit, nothing for the header */
    s.junk = NULL;
    snprintf(top, 4000, "MIME-Version: 1.0\nContent-Type: text/html\n\n"
	     "<a href=https://s.example/z>z</a>\n");
    assert_int_equal(rewrite(top, &o, &r), TRACKRW_OK);
    assert_null(r.set_cte);
    assert_int_equal(r.add_mime_version, 0);
    trackrw_free(&r);

    /* a URL longer than the limit is left alone */
    memset(url, 'u', 1199);
    url[1199] = 0;
    snprintf(msg, 4000, "Content-Type: text/html\n\n<a href=\"https://s.example/%s%s\">",
	     url, url);
    o.pixel_url = NULL;
    assert_int_equal(rewrite(msg, &o, &r), TRACKRW_NOTHING);
    assert_int_equal(r.kept, 1);
    assert_null(r.body);
    free(url);
    free(msg);
    free(top);
}

/* nothing to do: no HTML and no text links, or no link and no pixel */
static void
test_nothing(void **state)
{
    struct seen s;
    struct trackrw_opts o = opts(&s);
    struct trackrw_result r;

    (void) state;
    assert_int_equal(rewrite("Subject: x\n\nhttps://shop.example/\n", &o, &r),
		     TRACKRW_NOTHING);
    assert_null(r.body);
    assert_non_null(r.why);
    assert_int_equal(rewrite("Subject: x\n", &o, &r), TRACKRW_NOTHING);
    /* a Content-Type that cannot be read is not text */
    assert_int_equal(rewrite("Content-Type: text/html\f\n\n<a href=https://x.example/>\n",
			     &o, &r), TRACKRW_NOTHING);
    assert_int_equal(rewrite("Content-Type: text/ html\n\n<a href=https://x.example/>\n",
			     &o, &r), TRACKRW_NOTHING);
    assert_int_equal(s.n, 0);
    o.pixel_url = NULL;
    assert_int_equal(rewrite("Content-Type: text/html\n\n<p>no links</p>\n", &o, &r),
		     TRACKRW_NOTHING);
    assert_int_equal(s.n, 0);
}

/* without url_for: the pixel alone (open tracking without click tracking) */
static void
test_open_only(void **state)
{
    static const char msg[] =
	"Content-Type: text/html\n\n<a href=\"https://shop.example/a\">a</a></BODY>\n";
    struct seen s;
    struct trackrw_opts o = opts(&s);
    struct trackrw_result r;
    char *longpx = xmalloc(TRACKRW_URL_MAX + 1);

    (void) state;
    o.url_for = NULL;
    assert_int_equal(rewrite(msg, &o, &r), TRACKRW_OK);
    assert_int_equal(r.links, 0);
    assert_int_equal(r.pixel, 1);
    assert_string_equal(r.body, "<a href=\"https://shop.example/a\">a</a><img src=\"" PIXEL
			"\" width=\"1\" height=\"1\" alt=\"\" border=\"0\""
			" style=\"border:0;width:1px;height:1px\"></BODY>\n");
    trackrw_free(&r);
    /* before a comment, tag or script that never ends, not inside it */
    assert_int_equal(rewrite("Content-Type: text/html\n\n<p>x</p><!-- <a href=x>", &o, &r),
		     TRACKRW_OK);
    assert_true(strncmp(r.body, "<p>x</p><img src=", 17) == 0);
    trackrw_free(&r);
    assert_int_equal(rewrite("Content-Type: text/html\n\n<p>x</p><a href='x>", &o, &r),
		     TRACKRW_OK);
    assert_true(strncmp(r.body, "<p>x</p><img src=", 17) == 0);
    trackrw_free(&r);
    assert_int_equal(rewrite("Content-Type: text/html\n\n<p>x</p><SCRIPT>a<b;", &o, &r),
		     TRACKRW_OK);
    assert_true(strncmp(r.body, "<p>x</p><img src=", 17) == 0);
    trackrw_free(&r);

    /* a pixel URL beyond the limit is no pixel */
    memset(longpx, 'x', TRACKRW_URL_MAX);
    longpx[TRACKRW_URL_MAX] = 0;
    o.pixel_url = longpx;
    assert_int_equal(rewrite(msg, &o, &r), TRACKRW_NOTHING);
    assert_int_equal(s.n, 0);
    free(longpx);
}

/* new line ends follow the body's, whatever the header block's */
static void
test_line_ends(void **state)
{
    static const char msg[] =
	"Content-Type: text/html\nContent-Transfer-Encoding: quoted-printable\n\n"
	"<a href=3D\"https://shop.example/a\">a</a>\r\n"
	"<p>" "0123456789012345678901234567890123456789012345678901234567890123456789"
	"</p>\r\n";
    struct seen s;
    struct trackrw_opts o = opts(&s);
    struct trackrw_result r;

    (void) state;
    assert_int_equal(rewrite(msg, &o, &r), TRACKRW_OK);
    assert_int_equal(count(r.body, r.body_len, "\n"), count(r.body, r.body_len, "\r\n"));
    assert_true(count(r.body, r.body_len, "=\r\n") >= 2);	/* soft breaks */
    trackrw_free(&r);
}

/* refuse - the status of a message that must go out unchanged */
static int
refuse(const char *msg, struct trackrw_opts *o)
{
    struct trackrw_result r;
    int st = rewrite(msg, o, &r);

    assert_null(r.body);
    if (st != TRACKRW_OK && st != TRACKRW_NOTHING)
	assert_non_null(r.why);
    trackrw_free(&r);
    return st;
}

/* the refusals, each with its reason */
static void
test_refusals(void **state)
{
    struct seen s;
    struct trackrw_opts o = opts(&s);
    struct trackrw_result r;
    char *longjunk = xmalloc(TRACKRW_TRACKED_MAX + 10);
    char *deep = xmalloc(8192), *many = xmalloc(60 * (TRACKRW_MAX_PARTS + 2));
    size_t n = 0;
    int i, d;

    (void) state;
    memset(longjunk, 'j', TRACKRW_TRACKED_MAX + 9);
    longjunk[TRACKRW_TRACKED_MAX + 9] = 0;
    o.max_size = 20;
    assert_int_equal(refuse("Content-Type: text/html\n\n<a href=https://x.example/>\n", &o),
		     TRACKRW_TOO_BIG);
    o.max_size = 0;
    assert_int_equal(refuse("Content-Type: multipart/mixed\n\n--x\n\n<a href=https://x/>\n"
			    "--x--\n", &o), TRACKRW_MALFORMED);
    assert_int_equal(refuse("Content-Type: multipart/mixed; boundary=x\n\n--x\n"
			    "Content-Type: text/html\n\n<a href=https://x/>\n", &o),
		     TRACKRW_MALFORMED);
    memset(deep, 'x', 600);
    sprintf(deep + 600, "\nContent-Type: text/html\n\n<a href=https://x/>\n");
    memcpy(deep, "Content-Type: multipart/mixed; name=", 36);	/* 600 long */
    assert_int_equal(refuse(deep, &o), TRACKRW_MALFORMED);
    assert_int_equal(refuse("Content-Type: multipart/signed; boundary=x\n\n--x\n"
			    "Content-Type: text/html\n\n<a href=https://x/>\n--x--\n", &o),
		     TRACKRW_SIGNED);
    assert_int_equal(refuse("Content-Type: text/html\nContent-Transfer-Encoding: x-uue\n\n"
			    "<a href=https://x/>\n", &o), TRACKRW_ENCODING);
    assert_int_equal(refuse("Content-Type: text/html\nContent-Transfer-Encoding: base64\n\n"
			    "PGE+*PC9hPg==\n", &o), TRACKRW_ENCODING);
    assert_int_equal(refuse("Content-Type: text/html\nContent-Transfer-Encoding: base64\n\n"
			    "PGE+==PC9hPg==\n", &o), TRACKRW_ENCODING);
    assert_int_equal(refuse("Content-Type: text/html; charset=\"UTF-16LE\"\n\n"
			    "<a>", &o), TRACKRW_CHARSET);
    /* the other names of those charsets, and a UTF-16 byte order mark */
    assert_int_equal(refuse("Content-Type: text/html; charset=ISO-10646-UCS-2\n\n"
			    "<\0a\0>\0", &o), TRACKRW_CHARSET);
    assert_int_equal(refuse("Content-Type: text/html; charset=utf16\n\n<a>", &o),
		     TRACKRW_CHARSET);
    assert_int_equal(refuse("Content-Type: text/html; charset=csUnicode\n\n<a>", &o),
		     TRACKRW_CHARSET);
    assert_int_equal(refuse("Content-Type: text/html\nContent-Transfer-Encoding: base64\n\n"
			    "//48AGEAPgA=\n", &o), TRACKRW_CHARSET);
    s.fail = 1;
    assert_int_equal(refuse("Content-Type: text/html\n\n<a href=https://x/1>"
			    "<a href=https://x/2>\n", &o), TRACKRW_CALLBACK);
    o = opts(&s);
    s.junk = "https://t.example/with space";
    assert_int_equal(refuse("Content-Type: text/html\n\n<a href=https://x/1>\n", &o),
		     TRACKRW_CALLBACK);
    s.junk = longjunk;			/* longer than out: snprintf says so */
    assert_int_equal(refuse("Content-Type: text/html\n\n<a href=https://x/1>\n", &o),
		     TRACKRW_CALLBACK);
    s.junk = NULL;
    assert_int_equal(refuse("Content-Type: multipart/encrypted; boundary=x\n\n--x\n"
			    "Content-Type: text/html\n\n<a href=https://x/>\n--x--\n", &o),
		     TRACKRW_SIGNED);
    /* signed with DKIM before it came: that signature would fail */
    o = opts(&s);
    assert_int_equal(refuse("DKIM-Signature: v=1; a=rsa-sha256; d=shop.example; s=k;\n"
			    "\tbh=AAAA; b=BBBB\nContent-Type: text/html\n\n"
			    "<a href=https://x/>\n", &o), TRACKRW_SIGNED);
    assert_int_equal(s.n, 0);
    assert_int_equal(refuse("Content-Type: text/html\r\ndkim-signature : v=1\r\n\r\n"
			    "<a href=https://x/>\r\n", &o), TRACKRW_SIGNED);

    /* links: the limit counts the calls to url_for */
    o = opts(&s);
    o.max_links = 3;
    assert_int_equal(refuse("Content-Type: text/html\n\n<a href=https://x/1><a href=https://x/2>"
			    "<a href=https://x/3><a href=https://x/4>\n", &o),
		     TRACKRW_TOO_MANY_LINKS);
    assert_int_equal(s.n, 3);

    /* depth: TRACKRW_MAX_DEPTH nested multiparts pass, one more does not */
    for (d = TRACKRW_MAX_DEPTH; d <= TRACKRW_MAX_DEPTH + 1; d++) {
	o = opts(&s);
	n = (size_t) sprintf(deep, "Content-Type: multipart/mixed; boundary=b0\n\n");
	for (i = 1; i < d; i++)
	    n += (size_t) sprintf(deep + n, "--b%d\nContent-Type: multipart/mixed; "
				  "boundary=b%d\n\n", i - 1, i);
	n += (size_t) sprintf(deep + n, "--b%d\nContent-Type: text/html\n\n"
			      "<a href=https://x/>\n", d - 1);
	for (i = d - 1; i >= 0; i--)
	    n += (size_t) sprintf(deep + n, "--b%d--\n", i);
	assert_int_equal(rewrite(deep, &o, &r), d == TRACKRW_MAX_DEPTH ? TRACKRW_OK
			 : TRACKRW_TOO_DEEP);
	assert_int_equal(s.n, d == TRACKRW_MAX_DEPTH);
	trackrw_free(&r);
    }

    /* parts: the multipart and its parts count, TRACKRW_MAX_PARTS in all */
    for (d = TRACKRW_MAX_PARTS - 1; d <= TRACKRW_MAX_PARTS; d++) {
	o = opts(&s);
	o.max_links = TRACKRW_MAX_PARTS;
	n = (size_t) sprintf(many, "Content-Type: multipart/mixed; boundary=b\n\n");
	for (i = 0; i < d; i++)
	    n += (size_t) sprintf(many + n, "--b\nContent-Type: text/html\n\n"
				  "<a href=https://x/>\n");
	sprintf(many + n, "--b--\n");
	assert_int_equal(rewrite(many, &o, &r), d < TRACKRW_MAX_PARTS ? TRACKRW_OK
			 : TRACKRW_TOO_MANY_PARTS);
	trackrw_free(&r);
    }
    free(deep);
    free(many);
    free(longjunk);
}

/* names for the metric labels: one per status, all different */
static void
test_status_names(void **state)
{
    int i, j;

    (void) state;
    for (i = 0; i < TRACKRW_NSTATUS; i++) {
	assert_non_null(trackrw_status_name(i));
	assert_string_not_equal(trackrw_status_name(i), "unknown");
	for (j = 0; j < i; j++)
	    assert_string_not_equal(trackrw_status_name(i), trackrw_status_name(j));
    }
    assert_string_equal(trackrw_status_name(TRACKRW_NSTATUS), "unknown");
    assert_string_equal(trackrw_status_name(TRACKRW_TOO_MANY_LINKS), "too_many_links");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_html_simple),
	cmocka_unit_test(test_html_left_alone),
	cmocka_unit_test(test_outlook_vml),
	cmocka_unit_test(test_endif_linear),
	cmocka_unit_test(test_empty_comment),
	cmocka_unit_test(test_html_entities),
	cmocka_unit_test(test_alternative),
	cmocka_unit_test(test_quoted_printable),
	cmocka_unit_test(test_qp_soft_break_dash),
	cmocka_unit_test(test_base64),
	cmocka_unit_test(test_nested),
	cmocka_unit_test(test_long_line),
	cmocka_unit_test(test_nothing),
	cmocka_unit_test(test_open_only),
	cmocka_unit_test(test_line_ends),
	cmocka_unit_test(test_refusals),
	cmocka_unit_test(test_status_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
