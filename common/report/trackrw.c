/*
 * trackrw - rewrite a message's links and add an open pixel (see trackrw.h)
 *
 * The message is walked in place: each entity's header block is read
 * from an LF copy (mime.c), multipart bodies are split at their delimiter
 * lines, and everything that is not rewritten is copied from the input
 * as it is.  A part that is rewritten is decoded, scanned once, and
 * encoded again.  Every scan moves forward only, so the work is linear in
 * the size of each multipart level, and the levels are bounded.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime.h"
#include "trackrw.h"
#include "xalloc.h"

/* a growing output buffer */
struct buf {
    char *p;
    size_t len;
    size_t cap;
};

/* what one entity's header block says */
struct ent {
    char ct[512];			/* Content-Type value */
    int ct_long;			/* ... that did not fit */
    char type[MIME_TYPE_MAX];		/* its media type, lower case */
    char cte[64];			/* Content-Transfer-Encoding */
    int attach;				/* Content-Disposition: attachment */
};

/* the state of one rewrite */
struct rw {
    const struct trackrw_opts *o;
    struct trackrw_result *r;
    const char *eol;			/* "\r\n" or "\n" */
    size_t eol_len;
    size_t max_links;
    unsigned calls;			/* url_for calls so far */
    size_t nparts;
    int changed;
    const char *why;
    char unsub[TRACKRW_UNSUB_MAX][TRACKRW_URL_MAX];
    int nunsub;
    char url[TRACKRW_URL_MAX];		/* the link being looked at */
    char tracked[TRACKRW_TRACKED_MAX];	/* what url_for made of it */
};

enum enc {
    ENC_IDENTITY, ENC_QP, ENC_BASE64
};

static void buf_room(struct buf *b, size_t n);
static void buf_add(struct buf *b, const void *s, size_t n);
static void buf_adds(struct buf *b, const char *s);
static size_t line_next(const char *p, size_t len, size_t i, size_t *cend);
static size_t head_split(const char *p, size_t len, size_t *body);
static void ent_read(const char *p, size_t hlen, const char *deftype,
		     struct ent *e);
static int ci_prefix(const char *s, size_t n, const char *pre);
static int type_valid(const char *t);
static int is_blank(int c);
static int wide_charset(const char *cs);
static int entity(struct rw *rw, struct buf *out, const char *p, size_t len,
		  int depth, const char *deftype, int top);
static int multipart(struct rw *rw, struct buf *out, const char *p,
		     size_t len, const char *boundary, int depth,
		     const char *deftype);
static int leaf_check(struct rw *rw, const struct ent *e, const char *b,
		      size_t blen, enum enc *enc);
static int leaf(struct rw *rw, struct buf *out, const char *p, size_t len,
		size_t hlen, size_t body, const struct ent *e, int top);
static int html_rewrite(struct rw *rw, struct buf *out, const char *s,
			size_t n, int want_pixel);
static size_t tag_attrs(struct rw *rw, const char *s, size_t n, size_t k,
			size_t *vs, size_t *ve, int *optout);
static size_t find_close(const char *s, size_t n, size_t i, const char *name);
static int text_rewrite(struct rw *rw, struct buf *out, const char *s,
			size_t n);
static int link_one(struct rw *rw, const char *v, size_t n, int html,
		    size_t *tlen);
static void html_escape(struct buf *out, const char *s, size_t n);
static void qp_encode(struct rw *rw, struct buf *out, const char *s, size_t n);
static void b64_encode(struct rw *rw, struct buf *out, const char *s,
		       size_t n);
static int b64_valid(const char *s, size_t n);
static size_t longest_line(const char *s, size_t n);
static int is_field(const char *s, size_t n, const char *name);
static void head_copy(struct rw *rw, struct buf *out, const char *p,
		      size_t hlen, size_t body, const char *new_cte);
static void unsub_read(struct rw *rw, const char *hdr, size_t hlen);
static int dkim_signed(const char *hdr, size_t hlen);

static const char *const status_names[TRACKRW_NSTATUS] = {
    "ok", "nothing", "too_big", "too_deep", "too_many_parts",
    "too_many_links", "malformed", "encoding", "charset", "signed",
    "callback",
};

/* buf_room - room for n more bytes; doubling keeps appends linear */
static void
buf_room(struct buf *b, size_t n)
{
    if (b->p == NULL || n > b->cap - b->len) {
	size_t cap = b->cap ? b->cap : 4096;

	while (n > cap - b->len) {
	    if (cap > ((size_t) -1) / 2)
		cap = b->len + n;
	    else
		cap *= 2;
	}
	b->p = xreallocarray(b->p, cap, 1);
	b->cap = cap;
    }
}

/* buf_add - append bytes */
static void
buf_add(struct buf *b, const void *s, size_t n)
{
    buf_room(b, n);
    if (n > 0)
	memcpy(b->p + b->len, s, n);
    b->len += n;
}

/* buf_adds - append a string */
static void
buf_adds(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

/* is_blank - HTML white space */
static int
is_blank(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* ci_prefix - does s (n bytes) start with pre, ignoring ASCII case? */
static int
ci_prefix(const char *s, size_t n, const char *pre)
{
    size_t k = strlen(pre);

    return n >= k && strncasecmp(s, pre, k) == 0;
}

/* line_next - start of the line after the one at i; *cend = end of its text */
static size_t
line_next(const char *p, size_t len, size_t i, size_t *cend)
{
    const char *nl = memchr(p + i, '\n', len - i);
    size_t e = nl ? (size_t) (nl - p) : len;

    *cend = e > i && p[e - 1] == '\r' ? e - 1 : e;
    return nl ? e + 1 : len;
}

/* head_split - length of the header block; *body = where the body starts */
static size_t
head_split(const char *p, size_t len, size_t *body)
{
    size_t i = 0, next, cend;

    while (i < len) {
	next = line_next(p, len, i, &cend);
	if (cend == i && next > i) {
	    /* a block that names no field is body text (as mime.c reads it) */
	    if (i > 0 && memchr(p, ':', i) == NULL) {
		*body = 0;
		return 0;
	    }
	    *body = next;
	    return i;
	}
	i = next;
    }
    if (memchr(p, ':', len) == NULL) {
	*body = 0;
	return 0;
    }
    *body = len;
    return len;
}

/* type_valid - is this "type/subtype" in token characters? */
static int
type_valid(const char *t)
{
    const char *slash = strchr(t, '/');

    if (slash == NULL || slash == t || slash[1] == 0
	|| strchr(slash + 1, '/') != NULL)
	return 0;
    for (; *t; t++)
	if (*t != '/' && strchr("!#$%&'*+-.^_`|~", *t) == NULL
	    && !((*t >= 'a' && *t <= 'z') || (*t >= '0' && *t <= '9')))
	    return 0;
    return 1;
}

/* ent_read - media type, encoding and disposition of one entity */
static void
ent_read(const char *p, size_t hlen, const char *deftype, struct ent *e)
{
    size_t n, k;
    ssize_t got;
    char *h = mime_lf_copy(p, hlen, &n);
    char disp[64];

    got = mime_header(h, n, "Content-Type", e->ct, sizeof(e->ct));
    e->ct_long = got >= (ssize_t) sizeof(e->ct) - 1;
    if (got <= 0)
	snprintf(e->ct, sizeof(e->ct), "%s", deftype);
    for (k = 0; k < sizeof(e->type) - 1 && e->ct[k] && e->ct[k] != ';'
	 && e->ct[k] != ' '; k++)
	e->type[k] = (char) (e->ct[k] >= 'A' && e->ct[k] <= 'Z' ?
			     e->ct[k] + 32 : e->ct[k]);
    e->type[k] = 0;
    /* a type that cannot be read is no text to rewrite */
    if (!type_valid(e->type))
	snprintf(e->type, sizeof(e->type), "application/octet-stream");
    if (mime_header(h, n, "Content-Transfer-Encoding", e->cte,
		    sizeof(e->cte)) < 0)
	e->cte[0] = 0;
    for (k = 0; e->cte[k]; k++)
	if (e->cte[k] == ';' || is_blank((unsigned char) e->cte[k]))
	    e->cte[k] = 0;
    e->attach = mime_header(h, n, "Content-Disposition", disp,
			    sizeof(disp)) >= 0
	&& ci_prefix(disp, strlen(disp), "attachment");
    free(h);
}

/* unsub_read - the http(s) URLs of List-Unsubscribe, left alone in links */
static void
unsub_read(struct rw *rw, const char *hdr, size_t hlen)
{
    char v[4 * TRACKRW_URL_MAX], *lt, *gt, *s = v;
    size_t n;
    char *h = mime_lf_copy(hdr, hlen, &n);

    if (mime_header(h, n, "List-Unsubscribe", v, sizeof(v)) >= 0) {
	while (rw->nunsub < TRACKRW_UNSUB_MAX
	       && (lt = strchr(s, '<')) != NULL
	       && (gt = strchr(lt, '>')) != NULL) {
	    size_t k = (size_t) (gt - lt - 1);

	    if (k < TRACKRW_URL_MAX && (ci_prefix(lt + 1, k, "http://")
					|| ci_prefix(lt + 1, k, "https://"))) {
		memcpy(rw->unsub[rw->nunsub], lt + 1, k);
		rw->unsub[rw->nunsub++][k] = 0;
	    }
	    s = gt + 1;
	}
    }
    if (rw->o->unsub_url != NULL && rw->nunsub < TRACKRW_UNSUB_MAX
	&& strlen(rw->o->unsub_url) < TRACKRW_URL_MAX)
	snprintf(rw->unsub[rw->nunsub++], TRACKRW_URL_MAX, "%s",
		 rw->o->unsub_url);
    free(h);
}

/* dkim_signed - does the header block hold a DKIM-Signature field? */
static int
dkim_signed(const char *hdr, size_t hlen)
{
    size_t n;
    char *h = mime_lf_copy(hdr, hlen, &n), v[8];
    int has = mime_header(h, n, "DKIM-Signature", v, sizeof(v)) >= 0;

    free(h);
    return has;
}

/* entity - one entity: split a multipart, rewrite a leaf, copy the rest */
static int
entity(struct rw *rw, struct buf *out, const char *p, size_t len, int depth,
       const char *deftype, int top)
{
    struct ent e;
    char bnd[256];
    size_t body, hlen = head_split(p, len, &body);

    if (++rw->nparts > TRACKRW_MAX_PARTS) {
	rw->why = "more body parts than the limit";
	return TRACKRW_TOO_MANY_PARTS;
    }
    ent_read(p, hlen, deftype, &e);
    if (e.ct_long) {
	rw->why = "a Content-Type too long to read whole";
	return TRACKRW_MALFORMED;
    }
    if (strcmp(e.type, "multipart/signed") == 0
	|| strcmp(e.type, "multipart/encrypted") == 0) {
	rw->why = "signed or encrypted: a change would break it";
	return TRACKRW_SIGNED;
    }
    if (strncmp(e.type, "multipart/", 10) == 0) {
	if (mime_param(e.ct, "boundary", bnd, sizeof(bnd)) < 0
	    || bnd[0] == 0) {
	    rw->why = "multipart without a boundary";
	    return TRACKRW_MALFORMED;
	}
	if (depth >= TRACKRW_MAX_DEPTH) {
	    rw->why = "multiparts nested deeper than the limit";
	    return TRACKRW_TOO_DEEP;
	}
	if (!top)
	    buf_add(out, p, body);
	return multipart(rw, out, p + body, len - body, bnd, depth + 1,
			 strcmp(e.type, "multipart/digest") == 0 ?
			 "message/rfc822" : "text/plain");
    }
    if (!e.attach && (strcmp(e.type, "text/html") == 0
		      || (rw->o->text_links
			  && strcmp(e.type, "text/plain") == 0)))
	return leaf(rw, out, p, len, hlen, body, &e, top);
    buf_add(out, p + (top ? body : 0), len - (top ? body : 0));
    return TRACKRW_OK;
}

/* multipart - copy delimiters, preamble and epilogue; parts go to entity() */
static int
multipart(struct rw *rw, struct buf *out, const char *p, size_t len,
	  const char *boundary, int depth, const char *deftype)
{
    size_t blen = strlen(boundary), i = 0, next, cend, k;
    size_t copied = 0, start = 0;
    int inside = 0, status;

    while (i < len) {
	next = line_next(p, len, i, &cend);
	if (cend - i >= blen + 2 && p[i] == '-' && p[i + 1] == '-'
	    && memcmp(p + i + 2, boundary, blen) == 0) {
	    int closing;

	    k = i + 2 + blen;
	    closing = cend - k >= 2 && p[k] == '-' && p[k + 1] == '-';
	    if (closing)
		k += 2;
	    while (k < cend && (p[k] == ' ' || p[k] == '\t'))
		k++;
	    if (k == cend) {
		if (inside) {
		    /* the line end before a delimiter belongs to it */
		    size_t stop = i;

		    if (stop > start && p[stop - 1] == '\n')
			stop--;
		    if (stop > start && p[stop - 1] == '\r')
			stop--;
		    status = entity(rw, out, p + start, stop - start, depth,
				    deftype, 0);
		    if (status != TRACKRW_OK)
			return status;
		    copied = stop;
		}
		buf_add(out, p + copied, next - copied);
		copied = next;
		if (closing) {
		    buf_add(out, p + next, len - next);
		    return TRACKRW_OK;
		}
		inside = 1;
		start = next;
	    }
	}
	i = next;
    }
    rw->why = "multipart without its closing delimiter";
    return TRACKRW_MALFORMED;
}

/*
 * wide_charset - a charset in which ASCII is not one byte a character, by
 * any of its names ("UTF-16LE", "utf16", "ISO-10646-UCS-2", "csUnicode",
 * "UNICODE-1-1-UTF-7")
 */
static int
wide_charset(const char *cs)
{
    static const char *const wide[] = {
	"utf-16", "utf16", "utf-32", "utf32", "ucs-2", "ucs2", "ucs-4", "ucs4",
	"utf-7", "utf7", "unicode", NULL,
    };
    size_t i, k, n = strlen(cs);

    for (i = 0; i < n; i++)
	for (k = 0; wide[k]; k++)
	    if (ci_prefix(cs + i, n - i, wide[k]))
		return 1;
    return 0;
}

/* leaf_check - can this text part be read as bytes?  Its encoding */
static int
leaf_check(struct rw *rw, const struct ent *e, const char *b, size_t blen,
	   enum enc *enc)
{
    char cs[64];

    if (strcasecmp(e->cte, "quoted-printable") == 0)
	*enc = ENC_QP;
    else if (strcasecmp(e->cte, "base64") == 0)
	*enc = ENC_BASE64;
    else if (e->cte[0] == 0 || strcasecmp(e->cte, "7bit") == 0
	     || strcasecmp(e->cte, "8bit") == 0
	     || strcasecmp(e->cte, "binary") == 0)
	*enc = ENC_IDENTITY;
    else {
	rw->why = "a text part in an unknown transfer encoding";
	return TRACKRW_ENCODING;
    }
    /* in these, an ASCII '<' or "http" is not one byte each */
    if (mime_param(e->ct, "charset", cs, sizeof(cs)) == 0 && wide_charset(cs)) {
	rw->why = "a text part in a charset not read as ASCII bytes";
	return TRACKRW_CHARSET;
    }
    if (*enc == ENC_BASE64 && !b64_valid(b, blen)) {
	rw->why = "broken base64";
	return TRACKRW_ENCODING;
    }
    return TRACKRW_OK;
}

/* leaf - decode a text part, rewrite it, encode it again */
static int
leaf(struct rw *rw, struct buf *out, const char *p, size_t len, size_t hlen,
     size_t body, const struct ent *e, int top)
{
    const char *b = p + body;
    const unsigned char *u;
    size_t blen = len - body, dlen, mark;
    char *dec = NULL;
    enum enc enc;
    struct buf nb = {0};
    int status, was = rw->changed, mine, trail;

    if ((status = leaf_check(rw, e, b, blen, &enc)) != TRACKRW_OK)
	return status;
    trail = blen > 0 && b[blen - 1] == '\n';
    if (enc == ENC_IDENTITY) {
	dlen = blen;
    } else {
	dec = xmalloc(blen + 1);
	dlen = enc == ENC_QP ? mime_qp_decode(b, blen, dec)
	    : mime_base64_decode(b, blen, dec);
    }
    u = (const unsigned char *) (dec ? dec : b);
    /* a UTF-16 (or UTF-32) byte order mark: read so, whatever the label says */
    if (dlen >= 2 && ((u[0] == 0xfe && u[1] == 0xff) || (u[0] == 0xff && u[1] == 0xfe))) {
	free(dec);
	rw->why = "a text part that starts with a UTF-16 byte order mark";
	return TRACKRW_CHARSET;
    }
    rw->changed = 0;
    if (strcmp(e->type, "text/html") == 0)
	status = html_rewrite(rw, &nb, dec ? dec : b, dlen, 1);
    else
	status = text_rewrite(rw, &nb, dec ? dec : b, dlen);
    free(dec);
    mine = rw->changed;
    rw->changed = was || mine;
    if (status != TRACKRW_OK || !mine) {
	free(nb.p);
	if (status == TRACKRW_OK)
	    buf_add(out, p + (top ? body : 0), len - (top ? body : 0));
	return status;
    }
    /* a 7bit or 8bit line beyond the SMTP limit: quoted-printable instead */
    if (enc == ENC_IDENTITY && strcasecmp(e->cte, "binary") != 0
	&& longest_line(nb.p, nb.len) > 998) {
	enc = ENC_QP;
	if (top)
	    rw->r->set_cte = "quoted-printable";
	else
	    head_copy(rw, out, p, hlen, body, "quoted-printable");
    } else if (!top) {
	buf_add(out, p, body);
	if (hlen > 0 && body == hlen)
	    buf_add(out, rw->eol, rw->eol_len);	/* fields, no blank line */
    }
    mark = out->len;
    if (enc == ENC_QP) {
	qp_encode(rw, out, nb.p, nb.len);
    } else if (enc == ENC_BASE64) {
	b64_encode(rw, out, nb.p, nb.len);
	if (trail && out->len > mark)
	    buf_add(out, rw->eol, rw->eol_len);
    } else {
	buf_add(out, nb.p, nb.len);
    }
    free(nb.p);
    return TRACKRW_OK;
}

/* head_copy - a part's header block with its transfer encoding replaced */
static void
head_copy(struct rw *rw, struct buf *out, const char *p, size_t hlen,
	  size_t body, const char *new_cte)
{
    size_t i = 0, next, cend;
    int skip = 0;

    while (i < hlen) {
	next = line_next(p, hlen, i, &cend);
	/* a field goes on over the lines that start with a blank */
	if (i == cend || !is_blank((unsigned char) p[i]))
	    skip = is_field(p + i, cend - i, "Content-Transfer-Encoding");
	if (!skip)
	    buf_add(out, p + i, next - i);
	i = next;
    }
    buf_adds(out, "Content-Transfer-Encoding: ");
    buf_adds(out, new_cte);
    buf_add(out, rw->eol, rw->eol_len);
    if (body > hlen)
	buf_add(out, p + hlen, body - hlen);
    else
	buf_add(out, rw->eol, rw->eol_len);
}

/* is_field - does the line of n bytes start the field called name? */
static int
is_field(const char *s, size_t n, const char *name)
{
    size_t k = strlen(name);

    if (!ci_prefix(s, n, name))
	return 0;
    while (k < n && (s[k] == ' ' || s[k] == '\t'))
	k++;
    return k < n && s[k] == ':';
}

/* longest_line - length of the longest line, line ends not counted */
static size_t
longest_line(const char *s, size_t n)
{
    size_t i = 0, next, cend, max = 0;

    while (i < n) {
	next = line_next(s, n, i, &cend);
	if (cend - i > max)
	    max = cend - i;
	i = next;
    }
    return max;
}

/* find_close - index of "</name" at or after i (any case), or n */
static size_t
find_close(const char *s, size_t n, size_t i, const char *name)
{
    size_t k = strlen(name);
    const char *lt;

    while (i < n && (lt = memchr(s + i, '<', n - i)) != NULL) {
	i = (size_t) (lt - s);
	if (i + 1 < n && s[i + 1] == '/' && ci_prefix(s + i + 2, n - i - 2,
						       name)
	    && (i + 2 + k == n || !((s[i + 2 + k] | 0x20) >= 'a'
				    && (s[i + 2 + k] | 0x20) <= 'z')))
	    return i;
	i++;
    }
    return n;
}

/*
 * tag_attrs - read the attributes of a tag from k; returns the index after
 * its '>', or 0 when the tag does not end.  The first href value is given
 * as [*vs, *ve) (quotes excluded; *vs = 0 when there is none).
 */
static size_t
tag_attrs(struct rw *rw, const char *s, size_t n, size_t k, size_t *vs,
	  size_t *ve, int *optout)
{
    const char *oa = rw->o->optout_attr;
    size_t oalen = oa ? strlen(oa) : 0;

    *vs = *ve = 0;
    *optout = 0;
    for (;;) {
	size_t as, ae, v0 = 0, v1 = 0;
	int has = 0;

	while (k < n && (is_blank((unsigned char) s[k]) || s[k] == '/'))
	    k++;
	if (k >= n)
	    return 0;
	if (s[k] == '>')
	    return k + 1;
	as = k++;
	while (k < n && !is_blank((unsigned char) s[k]) && s[k] != '/'
	       && s[k] != '>' && s[k] != '=')
	    k++;
	ae = k;
	while (k < n && is_blank((unsigned char) s[k]))
	    k++;
	if (k < n && s[k] == '=') {
	    for (k++; k < n && is_blank((unsigned char) s[k]); k++)
		 /* void */ ;
	    if (k >= n)
		return 0;
	    if (s[k] == '"' || s[k] == '\'') {
		const char *q = memchr(s + k + 1, s[k], n - k - 1);

		if (q == NULL)
		    return 0;
		v0 = k + 1;
		v1 = (size_t) (q - s);
		k = v1 + 1;
	    } else {
		v0 = k;
		while (k < n && !is_blank((unsigned char) s[k]) && s[k] != '>')
		    k++;
		v1 = k;
	    }
	    has = 1;
	}
	if (ae - as == 4 && strncasecmp(s + as, "href", 4) == 0 && has
	    && *vs == 0) {
	    *vs = v0;
	    *ve = v1;
	}
	if (oalen > 0 && ae - as == oalen && strncasecmp(s + as, oa, oalen) == 0)
	    *optout = 1;
    }
}

/* html_rewrite - rewrite the links of an HTML text; add the pixel */
static int
html_rewrite(struct rw *rw, struct buf *out, const char *s, size_t n,
	     int want_pixel)
{
    size_t i = 0, copied = 0, body_close = (size_t) -1, stop = n;
    const char *lt, *endif = NULL;	/* the next "<![endif]"; s + n: none */

    while (i < n && (lt = memchr(s + i, '<', n - i)) != NULL) {
	size_t k, ns, nl, end, vs, ve, tlen;
	int closing = 0, optout, r;

	i = (size_t) (lt - s);
	if (ci_prefix(s + i, n - i, "<!--[if")) {
	    const char *cb = NULL, *ce = NULL;

	    /*
	     * An Outlook conditional comment, "<!--[if mso]> ... <![endif]-->":
	     * Outlook renders what it holds (its VML buttons have links), so
	     * the scan goes on inside it, when it ends.  A downlevel-revealed
	     * one, "<!--[if !mso]><!-->", is an ordinary comment followed by
	     * markup.
	     */
	    if (n - i > 7)
		cb = memchr(s + i + 7, '>', n - i - 7);
	    if (cb != NULL && cb > s + i + 7 && cb[-1] == ']') {
		/* one search per "<![endif]": the scan stays linear */
		if (endif == NULL || (endif < cb && endif != s + n)) {
		    endif = memmem(cb, n - (size_t) (cb - s), "<![endif]", 9);
		    if (endif == NULL)
			endif = s + n;
		}
		ce = endif != s + n ? endif : NULL;
	    }
	    if (ce != NULL && !ci_prefix(cb + 1, n - (size_t) (cb + 1 - s), "<!-->")) {
		i = (size_t) (cb - s) + 1;
		continue;
	    }
	}
	if (ci_prefix(s + i, n - i, "<![endif]")) {
	    /*
	     * the end of a conditional comment scanned inside; "-->" is looked
	     * for in the 6 bytes where it may be, no further: a search to the
	     * end for each "<![endif]" made the scan quadratic
	     */
	    size_t w = n - i - 9 < 6 ? n - i - 9 : 6;
	    const char *e = n - i > 9 ? memmem(s + i + 9, w, "-->", 3) : NULL;

	    if (e != NULL && (size_t) (e - s) - i <= 12) {
		i = (size_t) (e - s) + 3;
		continue;
	    }
	}
	if (ci_prefix(s + i, n - i, "<!--")) {
	    const char *e = NULL;

	    /* "<!-->" and "<!--->" end where they begin, as browsers read them */
	    if (n - i > 4 && s[i + 4] == '>') {
		i += 5;
		continue;
	    }
	    if (n - i > 5 && s[i + 4] == '-' && s[i + 5] == '>') {
		i += 6;
		continue;
	    }
	    /* memmem is linear in glibc; the scan goes on after the end */
	    if (n - i > 4)
		e = memmem(s + i + 4, n - i - 4, "-->", 3);
	    if (e == NULL) {
		stop = i;
		break;
	    }
	    i = (size_t) (e - s) + 3;
	    continue;
	}
	k = i + 1;
	if (k < n && s[k] == '/') {
	    closing = 1;
	    k++;
	}
	for (ns = k; k < n && (((s[k] | 0x20) >= 'a' && (s[k] | 0x20) <= 'z')
			       || (s[k] >= '0' && s[k] <= '9') || s[k] == ':'); k++)
	     /* void */ ;
	nl = k - ns;
	if (nl == 0) {
	    i++;
	    continue;
	}
	if ((end = tag_attrs(rw, s, n, k, &vs, &ve, &optout)) == 0) {
	    stop = i;
	    break;
	}
	if (closing) {
	    if (nl == 4 && strncasecmp(s + ns, "body", 4) == 0) {
		buf_add(out, s + copied, i - copied);
		copied = i;
		body_close = out->len;
	    }
	} else if ((nl == 1 && (s[ns] | 0x20) == 'a')
		   || (nl == 4 && strncasecmp(s + ns, "area", 4) == 0)
		   || (nl > 2 && strncasecmp(s + ns, "v:", 2) == 0)) {
	    if (vs != 0 && !optout) {
		if ((r = link_one(rw, s + vs, ve - vs, 1, &tlen)) < 0)
		    return -r;
		if (r > 0) {
		    /* an unquoted value gets quotes: a tracked URL may hold '=' */
		    int q = s[vs - 1] != '"' && s[vs - 1] != '\'';

		    buf_add(out, s + copied, vs - copied);
		    buf_add(out, "\"", (size_t) q);
		    html_escape(out, rw->tracked, tlen);
		    buf_add(out, "\"", (size_t) q);
		    copied = ve;
		    rw->changed = 1;
		}
	    }
	} else if ((nl == 6 && strncasecmp(s + ns, "script", 6) == 0)
		   || (nl == 5 && strncasecmp(s + ns, "style", 5) == 0)) {
	    char name[8];

	    memcpy(name, s + ns, nl);
	    name[nl] = 0;
	    if ((end = find_close(s, n, end, name)) == n) {
		stop = i;
		break;
	    }
	}
	i = end;
    }
    /* a comment or tag that never ends: the pixel goes before it */
    buf_add(out, s + copied, stop - copied);
    if (body_close == (size_t) -1)
	body_close = out->len;
    buf_add(out, s + stop, n - stop);
    if (want_pixel && rw->o->pixel_url != NULL && !rw->r->pixel
	&& strlen(rw->o->pixel_url) < TRACKRW_URL_MAX) {
	struct buf px = {0};
	size_t at = body_close;

	buf_adds(&px, "<img src=\"");
	html_escape(&px, rw->o->pixel_url, strlen(rw->o->pixel_url));
	buf_adds(&px, "\" width=\"1\" height=\"1\" alt=\"\" border=\"0\""
		 " style=\"border:0;width:1px;height:1px\">");
	buf_add(out, px.p, px.len);
	memmove(out->p + at + px.len, out->p + at, out->len - px.len - at);
	memcpy(out->p + at, px.p, px.len);
	free(px.p);
	rw->r->pixel = 1;
	rw->changed = 1;
    }
    return TRACKRW_OK;
}

/* text_rewrite - rewrite the bare http(s) URLs of a plain text */
static int
text_rewrite(struct rw *rw, struct buf *out, const char *s, size_t n)
{
    size_t i = 0, copied = 0, e, k, tlen;
    int r;

    while (i < n) {
	long paren = 0, square = 0;

	if ((s[i] | 0x20) != 'h' || (i > 0 && (((s[i - 1] | 0x20) >= 'a'
						 && (s[i - 1] | 0x20) <= 'z')
						|| (s[i - 1] >= '0'
						    && s[i - 1] <= '9')))
	    || !(ci_prefix(s + i, n - i, "http://")
		 || ci_prefix(s + i, n - i, "https://"))) {
	    i++;
	    continue;
	}
	for (e = i; e < n && s[e] > ' ' && s[e] < 0x7f && s[e] != '<'
	     && s[e] != '>' && s[e] != '"'; e++)
	     /* void */ ;
	/* punctuation after a URL ends the sentence, not the URL */
	for (k = i; k < e; k++) {
	    paren += (s[k] == '(') - (s[k] == ')');
	    square += (s[k] == '[') - (s[k] == ']');
	}
	for (;;) {
	    char c = s[e - 1];

	    if (strchr(".,;:!?'*", c) != NULL)
		e--;
	    else if (c == ')' && paren < 0)
		e--, paren++;
	    else if (c == ']' && square < 0)
		e--, square++;
	    else
		break;
	}
	if ((r = link_one(rw, s + i, e - i, 0, &tlen)) < 0)
	    return -r;
	if (r > 0) {
	    buf_add(out, s + copied, i - copied);
	    buf_add(out, rw->tracked, tlen);
	    copied = e;
	    rw->changed = 1;
	}
	i = e;
    }
    buf_add(out, s + copied, n - copied);
    return TRACKRW_OK;
}

/*
 * link_one - decide on one link value; 1 with rw->tracked set (*tlen long)
 * to rewrite it, 0 to leave it, -status to give up.
 */
static int
link_one(struct rw *rw, const char *v, size_t n, int html, size_t *tlen)
{
    size_t i, o = 0;
    ssize_t got;
    int k;

    for (i = 0; i < n && o < TRACKRW_URL_MAX; i++) {
	char c = v[i];

	if (c == '\t' || c == '\n' || c == '\r')
	    continue;
	if (html && c == '&') {
	    static const struct {
		const char *name;
		char c;
	    }       ents[] = {
		{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'},
		{"&quot;", '"'}, {"&apos;", '\''},
	    };
	    unsigned long cp = 0;
	    size_t j = i + 2, d = 0;
	    int hex = 0, found = 0;

	    for (k = 0; k < (int) (sizeof(ents) / sizeof(ents[0])); k++)
		if (ci_prefix(v + i, n - i, ents[k].name)) {
		    rw->url[o++] = ents[k].c;
		    i += strlen(ents[k].name) - 1;
		    found = 1;
		    break;
		}
	    if (found)
		continue;
	    if (i + 1 < n && v[i + 1] == '#') {
		if (j < n && (v[j] | 0x20) == 'x') {
		    hex = 1;
		    j++;
		}
		for (; j < n && d < 7; j++, d++) {
		    int x = (unsigned char) v[j];

		    if (x >= '0' && x <= '9')
			cp = cp * (hex ? 16 : 10) + (unsigned long) (x - '0');
		    else if (hex && (x | 0x20) >= 'a' && (x | 0x20) <= 'f')
			cp = cp * 16 + (unsigned long) ((x | 0x20) - 'a' + 10);
		    else
			break;
		}
		if (d > 0 && cp > 0 && cp < 0x80) {
		    rw->url[o++] = (char) cp;
		    i = j < n && v[j] == ';' ? j : j - 1;
		    continue;
		}
	    }
	}
	rw->url[o++] = c;
    }
    while (o > 0 && (rw->url[o - 1] == ' ' || rw->url[o - 1] == '\f'))
	o--;
    for (i = 0; i < o && (rw->url[i] == ' ' || rw->url[i] == '\f'); i++)
	 /* void */ ;
    /* a scheme and a host at least */
    if (!(ci_prefix(rw->url + i, o - i, "http://") && o - i > 7)
	&& !(ci_prefix(rw->url + i, o - i, "https://") && o - i > 8))
	return 0;
    if (o >= TRACKRW_URL_MAX) {
	rw->r->kept++;
	return 0;
    }
    memmove(rw->url, rw->url + i, o - i);
    o -= i;
    rw->url[o] = 0;
    /* control characters (a NUL among them) make no link worth tracking */
    for (i = 0; i < o; i++)
	if ((unsigned char) rw->url[i] < ' ' || rw->url[i] == 0x7f) {
	    rw->r->kept++;
	    return 0;
	}
    for (k = 0; k < rw->nunsub; k++)
	if (strcmp(rw->url, rw->unsub[k]) == 0) {
	    rw->r->kept++;
	    return 0;
	}
    if (rw->o->url_for == NULL)
	return 0;
    if (rw->calls >= rw->max_links) {
	rw->why = "more links than the limit";
	return -TRACKRW_TOO_MANY_LINKS;
    }
    got = rw->o->url_for(rw->o->ctx, rw->calls++, rw->url, o, rw->tracked,
			 sizeof(rw->tracked));
    if (got == 0) {
	rw->r->kept++;
	return 0;
    }
    if (got < 0 || (size_t) got >= sizeof(rw->tracked)) {
	rw->why = "the tracked URL could not be made";
	return -TRACKRW_CALLBACK;
    }
    for (i = 0; i < (size_t) got; i++)
	if (rw->tracked[i] <= ' ' || rw->tracked[i] >= 0x7f) {
	    rw->why = "the tracked URL is not printable ASCII";
	    return -TRACKRW_CALLBACK;
	}
    *tlen = (size_t) got;
    rw->r->links++;
    return 1;
}

/* html_escape - text for an attribute value, quoted or not */
static void
html_escape(struct buf *out, const char *s, size_t n)
{
    size_t i, copied = 0;

    for (i = 0; i < n; i++) {
	const char *e = s[i] == '&' ? "&amp;" : s[i] == '"' ? "&quot;"
	    : s[i] == '\'' ? "&#39;" : s[i] == '<' ? "&lt;"
	    : s[i] == '>' ? "&gt;" : NULL;

	if (e != NULL) {
	    buf_add(out, s + copied, i - copied);
	    buf_adds(out, e);
	    copied = i + 1;
	}
    }
    buf_add(out, s + copied, n - copied);
}

/* qp_encode - quoted-printable, lines of at most 76 characters */
static void
qp_encode(struct rw *rw, struct buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i, col = 0;
    char *w;

    /* three characters a byte at most, and a soft break every 25 bytes */
    if (n > ((size_t) -1 - 16) / 4)
	abort();
    buf_room(out, 4 * n + 16);
    w = out->p + out->len;
    for (i = 0; i < n; i++) {
	unsigned char c = (unsigned char) s[i];
	int at_end, literal;

	if (c == '\n' || (c == '\r' && i + 1 < n && s[i + 1] == '\n')) {
	    i += c == '\r';
	    memcpy(w, rw->eol, rw->eol_len);
	    w += rw->eol_len;
	    col = 0;
	    continue;
	}
	at_end = i + 1 == n || s[i + 1] == '\n'
	    || (s[i + 1] == '\r' && i + 2 < n && s[i + 2] == '\n');
	literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_end);
	if (col + (literal ? 1 : 3) > 75) {
	    *w++ = '=';
	    memcpy(w, rw->eol, rw->eol_len);
	    w += rw->eol_len;
	    col = 0;
	}
	/* a line never starts with '-', after a soft break either: a delimiter */
	if (c == '-' && col == 0)
	    literal = 0;
	if (literal) {
	    *w++ = (char) c;
	    col++;
	} else {
	    *w++ = '=';
	    *w++ = hex[c >> 4];
	    *w++ = hex[c & 15];
	    col += 3;
	}
    }
    out->len = (size_t) (w - out->p);
}

/* b64_encode - base64 in lines of 76 characters, no line end after the last */
static void
b64_encode(struct rw *rw, struct buf *out, const char *s, size_t n)
{
    static const char abc[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *u = (const unsigned char *) s;
    size_t i;
    char *w;

    /* 4 characters for 3 bytes, a line end every 57 bytes */
    if (n > ((size_t) -1 - 16) / 2)
	abort();
    buf_room(out, 2 * n + 16);
    w = out->p + out->len;
    for (i = 0; i < n; i += 3) {
	unsigned long v = (unsigned long) u[i] << 16;

	if (i > 0 && i % 57 == 0) {
	    memcpy(w, rw->eol, rw->eol_len);
	    w += rw->eol_len;
	}
	if (i + 1 < n)
	    v |= (unsigned long) u[i + 1] << 8;
	if (i + 2 < n)
	    v |= u[i + 2];
	w[0] = abc[v >> 18 & 63];
	w[1] = abc[v >> 12 & 63];
	w[2] = i + 1 < n ? abc[v >> 6 & 63] : '=';
	w[3] = i + 2 < n ? abc[v & 63] : '=';
	w += 4;
    }
    out->len = (size_t) (w - out->p);
}

/* base64 classes: 0 junk, 1 the alphabet, 2 '=', 3 blanks and line ends */
static const unsigned char b64_class[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 0, 3, 3, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 2, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* b64_valid - only the alphabet, padding at the end, blanks and line ends */
static int
b64_valid(const char *s, size_t n)
{
    size_t i, count = 0, pad = 0;

    for (i = 0; i < n; i++) {
	unsigned c = b64_class[(unsigned char) s[i]];

	if (c == 0)
	    return 0;
	if (c == 2)
	    break;
	count += c == 1;
    }
    /* after the first '=', only '=' and blanks */
    for (; i < n; i++) {
	unsigned c = b64_class[(unsigned char) s[i]];

	if (c < 2)
	    return 0;
	pad += c == 2;
    }
    return count % 4 != 1 && pad <= 2;
}

/* trackrw_rewrite - rewrite a message's body for tracking */
int
trackrw_rewrite(const char *msg, size_t len, const struct trackrw_opts *o,
		struct trackrw_result *r)
{
    struct rw *rw;
    struct buf out = {0};
    const char *nl;
    size_t body, hlen, n;
    int status;

    memset(r, 0, sizeof(*r));
    if (len > (o->max_size ? o->max_size : TRACKRW_MAX_SIZE)) {
	r->why = "larger than the rewriting limit";
	return TRACKRW_TOO_BIG;
    }
    hlen = head_split(msg, len, &body);
    if (body >= len) {
	r->why = "no body";
	return TRACKRW_NOTHING;
    }
    /* signed before it came here: a new body fails that signature (DMARC may need it) */
    if (dkim_signed(msg, hlen)) {
	r->why = "signed with DKIM already: a change would break it";
	return TRACKRW_SIGNED;
    }
    rw = xcalloc(1, sizeof(*rw));
    rw->o = o;
    rw->r = r;
    rw->max_links = o->max_links ? o->max_links : TRACKRW_MAX_LINKS;
    /* new line ends follow the body's first, else the header's */
    if ((nl = memchr(msg + body, '\n', len - body)) == NULL)
	nl = memchr(msg, '\n', len);
    rw->eol = nl != NULL && nl > msg && nl[-1] == '\r' ? "\r\n" : "\n";
    rw->eol_len = strlen(rw->eol);
    unsub_read(rw, msg, hlen);

    status = entity(rw, &out, msg, len, 0, "text/plain", 1);
    if (status == TRACKRW_OK && !rw->changed) {
	status = TRACKRW_NOTHING;
	rw->why = "no link to rewrite and no HTML part for the pixel";
    }
    if (status != TRACKRW_OK) {
	free(out.p);
	n = r->kept;
	memset(r, 0, sizeof(*r));
	r->kept = n;
	r->why = rw->why;
	free(rw);
	return status;
    }
    if (r->set_cte != NULL) {
	char *h = mime_lf_copy(msg, hlen, &n);
	char v[16];

	r->add_mime_version = mime_header(h, n, "MIME-Version", v,
					  sizeof(v)) < 0;
	free(h);
    }
    buf_add(&out, "", 1);		/* a NUL after the body */
    r->body_off = body;
    r->body = out.p;
    r->body_len = out.len - 1;
    free(rw);
    return TRACKRW_OK;
}

/* trackrw_free - release the new body */
void
trackrw_free(struct trackrw_result *r)
{
    if (r == NULL)
	return;
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
}

/* trackrw_status_name - a status as a metric label */
const char *
trackrw_status_name(int status)
{
    if (status < 0 || status >= TRACKRW_NSTATUS)
	return "unknown";
    return status_names[status];
}
