/*
 * fromhdr - the domain of the one author in a From: header field
 *	(see fromhdr.h)
 *
 * One pass over the value removes comments and notes where the angle
 * brackets are; a second look at what remains finds the domain after
 * the last '@' outside quotes.
 */
#include "config.h"

#include <string.h>

#include "addr.h"
#include "fromhdr.h"

#define COMMENT_DEPTH_MAX 32

static int strip_value(const char *v, size_t len, char *out, size_t *outlen,
		       long *lt, long *gt, const char **why);
static int addr_spec_domain(const char *s, size_t len, char *domain,
			    size_t domainsz, const char **why);

/* strip_value - drop comments; find the one angle-addr; refuse lists, groups */
static int
strip_value(const char *v, size_t len, char *out, size_t *outlen, long *lt,
	    long *gt, const char **why)
{
    size_t i, n = 0;
    int depth = 0, quoted = 0;

    *lt = *gt = -1;
    for (i = 0; i < len; i++) {
	char c = v[i];

	if (c == '\\' && (quoted || depth > 0)) {
	    if (++i >= len)
		break;
	    if (depth == 0) {
		out[n++] = c;
		out[n++] = v[i];
	    }
	    continue;
	}
	if (depth > 0) {
	    if (c == '(' && ++depth > COMMENT_DEPTH_MAX) {
		*why = "comments nested too deep";
		return -1;
	    }
	    if (c == ')')
		depth--;
	    continue;
	}
	if (quoted) {
	    if (c == '"')
		quoted = 0;
	    out[n++] = c;
	    continue;
	}
	switch (c) {
	case '(':
	    depth = 1;
	    out[n++] = ' ';		/* a comment separates like space */
	    continue;
	case '"':
	    quoted = 1;
	    break;
	case '<':
	    if (*lt >= 0) {
		*why = "more than one '<' in From:";
		return -1;
	    }
	    *lt = (long) n;
	    break;
	case '>':
	    if (*lt < 0 || *gt >= 0) {
		*why = "unbalanced '>' in From:";
		return -1;
	    }
	    *gt = (long) n;
	    break;
	case ',':
	    if (*lt < 0 || *gt >= 0) {
		*why = "more than one address in From:";
		return -1;
	    }
	    break;
	case ':':
	    if (*lt < 0 || *gt >= 0) {
		*why = "group syntax in From:";
		return -1;
	    }
	    break;
	case ';':
	    *why = "group syntax in From:";
	    return -1;
	default:
	    break;
	}
	/* after "<addr>" only blanks and comments: a reader might see text as the author */
	if (*gt >= 0 && (long) n > *gt && c != ' ' && c != '\t' && c != '\r' && c != '\n') {
	    *why = "text after the address in From:";
	    return -1;
	}
	out[n++] = c;
    }
    if (depth > 0 || quoted) {
	*why = depth > 0 ? "unterminated comment in From:" : "unterminated quoted string in From:";
	return -1;
    }
    if (*lt >= 0 && *gt < 0) {
	*why = "unterminated '<' in From:";
	return -1;
    }
    *outlen = n;
    return 0;
}

/* addr_spec_domain - the domain after the last '@' outside quotes */
static int
addr_spec_domain(const char *s, size_t len, char *domain, size_t domainsz,
		 const char **why)
{
    const char *at = NULL, *end = s + len, *p;
    int quoted = 0;

    for (p = s; p < end; p++) {
	if (*p == '\\' && quoted) {
	    p++;
	    continue;
	}
	if (*p == '"')
	    quoted = !quoted;
	else if (*p == '@' && !quoted)
	    at = p;
    }
    if (at == NULL) {
	*why = "From: address has no domain";
	return -1;
    }
    for (p = at + 1; p < end && strchr(" \t\r\n", *p); p++)
	 /* skip folding white space */ ;
    while (end > p && strchr(" \t\r\n", end[-1]))
	end--;
    if (p == end || memchr(p, ' ', (size_t) (end - p)) || memchr(p, '\t', (size_t) (end - p))
	|| memchr(p, '\n', (size_t) (end - p))) {
	*why = "From: address has a malformed domain";
	return -1;
    }
    if ((size_t) (end - p) >= domainsz) {
	*why = "From: domain too long";
	return -1;
    }
    return domain_normalize(p, (size_t) (end - p), domain, domainsz, why);
}

/* fromhdr_domain - the From: domain, normalised */
int
fromhdr_domain(const char *value, size_t len, char *domain, size_t domainsz,
	       const char **why)
{
    char buf[2 * FROMHDR_MAX + 2];	/* a '\' pair is copied whole */
    size_t n;
    long lt, gt;

    if (len > FROMHDR_MAX) {
	*why = "From: value too long";
	return -1;
    }
    if (strip_value(value, len, buf, &n, &lt, &gt, why) < 0)
	return -1;
    if (lt >= 0) {
	const char *spec = buf + lt + 1, *colon;
	size_t speclen = (size_t) (gt - lt - 1);

	/* obsolete source route: "<@relay.example:user@example.org>" */
	if ((colon = memchr(spec, ':', speclen)) != NULL && spec[0] == '@') {
	    speclen -= (size_t) (colon + 1 - spec);
	    spec = colon + 1;
	}
	return addr_spec_domain(spec, speclen, domain, domainsz, why);
    }
    return addr_spec_domain(buf, n, domain, domainsz, why);
}
