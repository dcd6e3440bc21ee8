/*
 * mime - a bounded MIME reader for reports that come back (see mime.h)
 *
 * The input is first copied with LF line ends, so that everything after
 * works on one line convention.  Parts are found with one linear scan per
 * multipart level; the depth and part limits bound the work.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime.h"
#include "xalloc.h"

static char *to_lf(const char *in, size_t len, size_t *outlen);
static void parse_entity(struct mime_msg *m, const char *p, size_t len,
			 int depth, const char *deftype);
static int split_multipart(struct mime_msg *m, const char *p, size_t len,
			   const char *boundary, int depth, const char *deftype);
static void add_leaf(struct mime_msg *m, const char *type, const char *hdr,
		     size_t hlen, const char *body, size_t blen, int depth);
static int hexval(int c);

/* to_lf - copy with CRLF and lone CR turned into LF; NUL-terminated */
static char *
to_lf(const char *in, size_t len, size_t *outlen)
{
    char *out = xmalloc(len + 1);
    size_t i, o = 0;

    for (i = 0; i < len; i++) {
	if (in[i] == '\r') {
	    out[o++] = '\n';
	    if (i + 1 < len && in[i + 1] == '\n')
		i++;
	} else {
	    out[o++] = in[i];
	}
    }
    out[o] = 0;
    *outlen = o;
    return out;
}

/* mime_lf_copy - copy with CRLF and lone CR turned into LF; NUL-terminated */
char *
mime_lf_copy(const char *in, size_t len, size_t *outlen)
{
    return to_lf(in, len, outlen);
}

/* mime_header_end - length of the header block; *body = where the body starts */
size_t
mime_header_end(const char *msg, size_t len, size_t *body)
{
    size_t i = 0;
    const char *nl;

    if (len > 0 && msg[0] == '\n') {
	*body = 1;
	return 0;
    }
    while (i < len) {
	if ((nl = memchr(msg + i, '\n', len - i)) == NULL)
	    break;
	i = (size_t) (nl - msg) + 1;
	if (i < len && msg[i] == '\n') {
	    *body = i + 1;
	    return i;
	}
    }
    *body = len;
    return len;
}

/* mime_header - unfolded value of the first field called name */
ssize_t
mime_header(const char *hdr, size_t len, const char *name, char *out,
	    size_t outsz)
{
    size_t nlen = strlen(name), i = 0, o = 0, end;
    const char *nl;

    if (outsz == 0)
	return -1;
    while (i < len) {
	nl = memchr(hdr + i, '\n', len - i);
	end = nl ? (size_t) (nl - hdr) : len;
	if (end - i > nlen && strncasecmp(hdr + i, name, nlen) == 0) {
	    size_t j = i + nlen;

	    while (j < end && (hdr[j] == ' ' || hdr[j] == '\t'))
		j++;
	    if (j < end && hdr[j] == ':') {
		/* value: rest of this line plus continuation lines */
		for (j++;;) {
		    for (; j < end; j++) {
			char c = hdr[j] == '\t' ? ' ' : hdr[j];

			if (o == 0 && c == ' ')
			    continue;
			if (o + 1 < outsz)
			    out[o++] = c;
		    }
		    if (end >= len || end + 1 >= len
			|| (hdr[end + 1] != ' ' && hdr[end + 1] != '\t'))
			break;
		    j = end + 1;
		    nl = memchr(hdr + j, '\n', len - j);
		    end = nl ? (size_t) (nl - hdr) : len;
		}
		while (o > 0 && out[o - 1] == ' ')
		    o--;
		out[o] = 0;
		return (ssize_t) o;
	    }
	}
	i = end + 1;
    }
    out[0] = 0;
    return -1;
}

/* mime_param - one parameter of a structured field value such as Content-Type */
int
mime_param(const char *value, const char *name, char *out, size_t outsz)
{
    const char *p = strchr(value, ';');
    size_t nlen = strlen(name), o;

    if (outsz == 0)
	return -1;
    while (p != NULL && *p) {
	p++;
	while (*p == ' ' || *p == '\t' || *p == ';')
	    p++;
	if (strncasecmp(p, name, nlen) == 0) {
	    const char *q = p + nlen;

	    while (*q == ' ')
		q++;
	    if (*q == '=') {
		q++;
		while (*q == ' ')
		    q++;
		o = 0;
		if (*q == '"') {
		    for (q++; *q && *q != '"'; q++) {
			if (*q == '\\' && q[1])
			    q++;
			if (o + 1 < outsz)
			    out[o++] = *q;
		    }
		} else {
		    for (; *q && *q != ';' && *q != ' ' && *q != '\t'; q++)
			if (o + 1 < outsz)
			    out[o++] = *q;
		}
		out[o] = 0;
		return 0;
	    }
	}
	/* skip this parameter, minding quoted semicolons */
	while (*p && *p != ';') {
	    if (*p == '"') {
		for (p++; *p && *p != '"'; p++)
		    if (*p == '\\' && p[1])
			p++;
		if (*p == 0)
		    break;
	    }
	    p++;
	}
	if (*p == 0)
	    break;
    }
    out[0] = 0;
    return -1;
}

/* mime_base64_decode - decode, ignoring what is not in the alphabet */
size_t
mime_base64_decode(const char *in, size_t len, char *out)
{
    unsigned long acc = 0;
    int bits = 0;
    size_t i, o = 0;

    for (i = 0; i < len; i++) {
	int c = (unsigned char) in[i], v;

	if (c >= 'A' && c <= 'Z')
	    v = c - 'A';
	else if (c >= 'a' && c <= 'z')
	    v = c - 'a' + 26;
	else if (c >= '0' && c <= '9')
	    v = c - '0' + 52;
	else if (c == '+' || c == '-')
	    v = 62;
	else if (c == '/' || c == '_')
	    v = 63;
	else
	    continue;
	acc = ((acc << 6) | (unsigned long) v) & 0xffffff;
	bits += 6;
	if (bits >= 8) {
	    bits -= 8;
	    out[o++] = (char) ((acc >> bits) & 0xff);
	}
    }
    return o;
}

/* hexval - value of a hex digit, -1 when it is none */
static int
hexval(int c)
{
    if (c >= '0' && c <= '9')
	return c - '0';
    if (c >= 'A' && c <= 'F')
	return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
	return c - 'a' + 10;
    return -1;
}

/* mime_qp_decode - quoted-printable; soft line breaks (LF or CRLF) vanish */
size_t
mime_qp_decode(const char *in, size_t len, char *out)
{
    size_t i, o = 0;

    for (i = 0; i < len; i++) {
	if (in[i] != '=') {
	    out[o++] = in[i];
	    continue;
	}
	if (i + 1 < len && in[i + 1] == '\n') {
	    i++;
	} else if (i + 2 < len && hexval(in[i + 1]) >= 0
		   && hexval(in[i + 2]) >= 0) {
	    out[o++] = (char) (hexval(in[i + 1]) * 16 + hexval(in[i + 2]));
	    i += 2;
	} else {
	    /* "=" followed by blanks up to the line end is a soft break too */
	    size_t j = i + 1;

	    while (j < len && (in[j] == ' ' || in[j] == '\t' || in[j] == '\r'))
		j++;
	    if (j < len && in[j] == '\n')
		i = j;
	    else
		out[o++] = '=';
	}
    }
    return o;
}

/* mime_decode_words - RFC 2047 encoded words, in place */
void
mime_decode_words(char *s)
{
    char *r = s, *w = s, *last_end = NULL;

    while (*r) {
	char *q1, *q2, *end;

	if (r[0] == '=' && r[1] == '?'
	    && (q1 = strchr(r + 2, '?')) != NULL
	    && (q1[1] == 'B' || q1[1] == 'b' || q1[1] == 'Q' || q1[1] == 'q')
	    && q1[2] == '?' && (end = strstr(q1 + 3, "?=")) != NULL) {
	    size_t n, k;
	    char *tmp;

	    q2 = q1 + 3;
	    n = (size_t) (end - q2);

	    /* blanks between two adjacent encoded words are dropped */
	    if (last_end != NULL) {
		char *b = last_end;

		while (b < w && (*b == ' ' || *b == '\t'))
		    b++;
		if (b == w)
		    w = last_end;
	    }
	    tmp = xmalloc(n + 1);
	    if (q1[1] == 'B' || q1[1] == 'b') {
		n = mime_base64_decode(q2, n, tmp);
	    } else {
		for (k = 0; k < n; k++)
		    tmp[k] = q2[k] == '_' ? ' ' : q2[k];
		n = mime_qp_decode(tmp, n, tmp);
	    }
	    for (k = 0; k < n; k++)
		*w++ = tmp[k] ? tmp[k] : ' ';
	    free(tmp);
	    r = end + 2;
	    last_end = w;
	} else {
	    *w++ = *r++;
	}
    }
    *w = 0;
}

/* add_leaf - record one leaf part with its decoded body */
static void
add_leaf(struct mime_msg *m, const char *type, const char *hdr, size_t hlen,
	 const char *body, size_t blen, int depth)
{
    struct mime_part *mp;
    char cte[64];
    char *raw;
    size_t n;

    if (m->nparts >= MIME_MAX_PARTS) {
	m->truncated = 1;
	return;
    }
    if (m->nparts % 16 == 0)
	m->parts = xreallocarray(m->parts, m->nparts + 16, sizeof(*mp));
    mp = m->parts + m->nparts++;
    memset(mp, 0, sizeof(*mp));
    snprintf(mp->type, sizeof(mp->type), "%s", type);
    mp->hdr = hdr;
    mp->hdr_len = hlen;
    mp->depth = depth;

    raw = xmalloc(blen + 1);
    if (mime_header(hdr, hlen, "Content-Transfer-Encoding", cte,
		    sizeof(cte)) < 0)
	cte[0] = 0;
    if (strncasecmp(cte, "base64", 6) == 0)
	n = mime_base64_decode(body, blen, raw);
    else if (strncasecmp(cte, "quoted-printable", 16) == 0)
	n = mime_qp_decode(body, blen, raw);
    else {
	memcpy(raw, body, blen);
	n = blen;
    }
    /* decoded content may carry CRLF again */
    mp->body = to_lf(raw, n, &mp->body_len);
    free(raw);
}

/* split_multipart - parse each body part between the delimiter lines */
static int
split_multipart(struct mime_msg *m, const char *p, size_t len,
		const char *boundary, int depth, const char *deftype)
{
    size_t blen = strlen(boundary), i = 0, start = 0, end;
    int inside = 0, found = 0;
    const char *nl;

    while (i < len) {
	nl = memchr(p + i, '\n', len - i);
	end = nl ? (size_t) (nl - p) : len;
	if (end - i >= blen + 2 && p[i] == '-' && p[i + 1] == '-'
	    && memcmp(p + i + 2, boundary, blen) == 0) {
	    size_t k = i + 2 + blen;
	    int closing = (end - k >= 2 && p[k] == '-' && p[k + 1] == '-');

	    if (closing)
		k += 2;
	    while (k < end && (p[k] == ' ' || p[k] == '\t'))
		k++;
	    if (k == end) {
		found = 1;
		if (inside) {
		    /* the LF before the delimiter belongs to the delimiter */
		    size_t stop = i > start ? i - 1 : start;

		    parse_entity(m, p + start, stop - start, depth, deftype);
		}
		if (closing)
		    return found;
		inside = 1;
		start = end + 1 > len ? len : end + 1;
	    }
	}
	i = end + 1;
    }
    if (inside && start < len)
	parse_entity(m, p + start, len - start, depth, deftype);
    return found;
}

/* parse_entity - one entity: recurse into a multipart, else add a leaf */
static void
parse_entity(struct mime_msg *m, const char *p, size_t len, int depth,
	     const char *deftype)
{
    char ctval[512], type[MIME_TYPE_MAX], boundary[256];
    size_t body, hlen = mime_header_end(p, len, &body), k;

    if (m->nparts >= MIME_MAX_PARTS) {
	m->truncated = 1;
	return;
    }
    /* a "header block" without any field is body text */
    if (hlen > 0 && memchr(p, ':', hlen) == NULL) {
	hlen = 0;
	body = 0;
    }
    if (mime_header(p, hlen, "Content-Type", ctval, sizeof(ctval)) < 0
	|| ctval[0] == 0)
	snprintf(ctval, sizeof(ctval), "%s", deftype);
    for (k = 0; k < sizeof(type) - 1 && ctval[k] && ctval[k] != ';'
	 && ctval[k] != ' '; k++)
	type[k] = (char) tolower((unsigned char) ctval[k]);
    type[k] = 0;
    if (strchr(type, '/') == NULL)
	snprintf(type, sizeof(type), "%s", deftype);

    if (strncmp(type, "multipart/", 10) == 0
	&& mime_param(ctval, "boundary", boundary, sizeof(boundary)) == 0
	&& boundary[0] != 0) {
	if (depth >= MIME_MAX_DEPTH) {
	    m->truncated = 1;
	} else if (split_multipart(m, p + body, len - body, boundary, depth + 1,
				   strcmp(type, "multipart/digest") == 0 ?
				   "message/rfc822" : "text/plain")) {
	    return;
	}
	/* no delimiter at all: keep the body as text */
	add_leaf(m, "text/plain", p, hlen, p + body, len - body, depth);
	return;
    }
    add_leaf(m, type, p, hlen, p + body, len - body, depth);
}

/* mime_parse - flatten a message into its leaf parts */
int
mime_parse(const char *msg, size_t len, struct mime_msg *out, const char **why)
{
    size_t body;

    memset(out, 0, sizeof(*out));
    if (len > MIME_MAX_SIZE) {
	*why = "message larger than the parse limit";
	return -1;
    }
    out->text = to_lf(msg, len, &out->text_len);
    out->hdr = out->text;
    out->hdr_len = mime_header_end(out->text, out->text_len, &body);
    parse_entity(out, out->text, out->text_len, 0, "text/plain");
    return 0;
}

/* mime_free - release the parts and the copy of the input */
void
mime_free(struct mime_msg *m)
{
    size_t i;

    if (m == NULL)
	return;
    for (i = 0; i < m->nparts; i++)
	free(m->parts[i].body);
    free(m->parts);
    free(m->text);
    memset(m, 0, sizeof(*m));
}

/* mime_field_next - next field or group separator of a field block */
int
mime_field_next(const char *buf, size_t len, size_t *pos, char *name,
		size_t namesz, char *val, size_t valsz)
{
    size_t i = *pos, end, k, n, o;
    const char *nl, *colon;

    for (;;) {
	if (i >= len) {
	    *pos = len;
	    return -1;
	}
	nl = memchr(buf + i, '\n', len - i);
	end = nl ? (size_t) (nl - buf) : len;
	for (k = i; k < end && (buf[k] == ' ' || buf[k] == '\t'); k++)
	     /* void */ ;
	if (k == end) {
	    *pos = end + 1;
	    return 0;
	}
	colon = memchr(buf + i, ':', end - i);
	if (k != i || colon == NULL) {
	    /* a stray continuation or a line that is no field */
	    i = end + 1;
	    continue;
	}
	n = (size_t) (colon - (buf + i));
	while (n > 0 && (buf[i + n - 1] == ' ' || buf[i + n - 1] == '\t'))
	    n--;
	if (n >= namesz)
	    n = namesz - 1;
	memcpy(name, buf + i, n);
	name[n] = 0;
	o = 0;
	k = (size_t) (colon - buf) + 1;
	for (;;) {
	    for (; k < end; k++) {
		char c = buf[k] == '\t' ? ' ' : buf[k];

		if ((o == 0 || val[o - 1] == ' ') && c == ' ')
		    continue;
		if (o + 1 < valsz)
		    val[o++] = c;
	    }
	    if (end + 1 >= len || (buf[end + 1] != ' ' && buf[end + 1] != '\t'))
		break;
	    /* continuation line: is it blank?  then it ends the group */
	    k = end + 1;
	    nl = memchr(buf + k, '\n', len - k);
	    end = nl ? (size_t) (nl - buf) : len;
	    {
		size_t b = k;

		while (b < end && (buf[b] == ' ' || buf[b] == '\t'))
		    b++;
		if (b == end) {
		    end = k - 1;
		    break;
		}
	    }
	    if (o > 0 && val[o - 1] != ' ' && o + 1 < valsz)
		val[o++] = ' ';
	}
	while (o > 0 && val[o - 1] == ' ')
	    o--;
	val[o] = 0;
	*pos = end + 1;
	return 1;
    }
}
