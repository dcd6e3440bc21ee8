/*
 * taglist - parse a DKIM-style tag list (see taglist.h)
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "taglist.h"
#include "xalloc.h"

/* is_wsp - white space allowed around tags (FWS, unfolded) */
static int
is_wsp(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* trimmed - the span of [s, e) without surrounding white space */
static void
trim(const char **s, const char **e)
{
    while (*s < *e && is_wsp(**s))
	(*s)++;
    while (*e > *s && is_wsp((*e)[-1]))
	(*e)--;
}

/* taglist_free - release names and values */
void
taglist_free(struct taglist *tl)
{
    size_t i;

    for (i = 0; i < tl->n; i++) {
	free(tl->name[i]);
	free(tl->value[i]);
    }
    tl->n = 0;
}

/* taglist_get - a tag's value, or NULL */
const char *
taglist_get(const struct taglist *tl, const char *name)
{
    size_t i;

    for (i = 0; i < tl->n; i++)
	if (strcmp(tl->name[i], name) == 0)
	    return tl->value[i];
    return NULL;
}

/*
 * excerpt - at most 60 bytes of [s, e) for a message, each byte that is
 * not printable ASCII as '?' (the record comes from the DNS, the message
 * goes to terminals and logs)
 */
static const char *
excerpt(char *out, const char *s, const char *e)
{
    size_t i, n = (size_t) (e - s > 60 ? 60 : e - s);

    for (i = 0; i < n; i++)
	out[i] = (unsigned char) s[i] < 0x20 || (unsigned char) s[i] > 0x7e ? '?' : s[i];
    out[n] = '\0';
    return out;
}

/* check_spec - one "name = value" element; 0 or -1 with err */
static int
check_spec(const char *s, const char *e, const char **eq, char *err, size_t errlen)
{
    const char *ns = s, *ne, *p;
    char text[61];

    if ((*eq = memchr(s, '=', (size_t) (e - s))) == NULL) {
	snprintf(err, errlen, "'%s': expected tag=value", excerpt(text, s, e));
	return -1;
    }
    ne = *eq;
    trim(&ns, &ne);
    if (ns == ne || !isalpha((unsigned char) *ns)) {
	snprintf(err, errlen, "'%s': tag name must start with a letter", excerpt(text, s, e));
	return -1;
    }
    for (p = ns; p < ne; p++) {
	if (!isalnum((unsigned char) *p) && *p != '_') {
	    snprintf(err, errlen, "tag name '%s': letters, digits and '_' only",
		     excerpt(text, ns, ne));
	    return -1;
	}
    }
    for (p = *eq + 1; p < e; p++) {
	unsigned char c = (unsigned char) *p;

	if (!is_wsp((char) c) && (c < 0x21 || c > 0x7e)) {
	    snprintf(err, errlen, "tag '%.*s': character 0x%02x is not allowed",
		     (int) (ne - ns > 60 ? 60 : ne - ns), ns, c);
	    return -1;
	}
    }
    return 0;
}

/* taglist_parse - split a tag list, checking each element */
int
taglist_parse(const char *buf, size_t len, struct taglist *tl, char *err,
	      size_t errlen)
{
    const char *p = buf, *end = buf + len, *semi, *s, *e, *eq, *ns, *ne, *vs, *ve;
    char *q;

    memset(tl, 0, sizeof(*tl));
    if (len > TAGLIST_MAX_LEN) {
	snprintf(err, errlen, "record longer than %d characters", TAGLIST_MAX_LEN);
	return -1;
    }
    for (;;) {
	semi = memchr(p, ';', (size_t) (end - p));
	s = p;
	e = semi ? semi : end;
	trim(&s, &e);
	if (s == e) {
	    /* an empty element is harmless only at the very end */
	    if (semi != NULL) {
		const char *rest = semi + 1, *rend = end;

		trim(&rest, &rend);
		if (rest < rend) {
		    snprintf(err, errlen, "empty element between ';'");
		    goto fail;
		}
	    }
	    break;
	}
	if (check_spec(s, e, &eq, err, errlen) < 0)
	    goto fail;
	if (tl->n >= TAGLIST_MAX) {
	    snprintf(err, errlen, "more than %d tags", TAGLIST_MAX);
	    goto fail;
	}
	ns = s;
	ne = eq;
	trim(&ns, &ne);
	vs = eq + 1;
	ve = e;
	trim(&vs, &ve);
	tl->name[tl->n] = xstrndup(ns, (size_t) (ne - ns));
	tl->value[tl->n] = xstrndup(vs, (size_t) (ve - vs));
	/* folding white space unfolds: no line break in a value shown or logged */
	for (q = tl->value[tl->n]; (q = strpbrk(q, "\r\n")) != NULL; q++)
	    *q = ' ';
	tl->n++;
	if (taglist_get(tl, tl->name[tl->n - 1]) != tl->value[tl->n - 1]) {
	    snprintf(err, errlen, "tag '%s' given twice", tl->name[tl->n - 1]);
	    goto fail;
	}
	if (semi == NULL)
	    break;
	p = semi + 1;
    }
    return 0;

fail:
    taglist_free(tl);
    return -1;
}
