/*
 * dmarcrec - parse a DMARC record (RFC 7489) and judge identifier alignment
 * (see dmarcrec.h)
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpsl.h>

#include "dmarcrec.h"
#include "taglist.h"

static const char *const known_tags[] = {
    "v", "p", "sp", "adkim", "aspf", "pct", "rua", "ruf", "fo", "ri", "rf", NULL,
};

/* dmarcrec_is_dmarc - "v=DMARC1" as the first tag */
int
dmarcrec_is_dmarc(const char *buf, size_t len)
{
    size_t i = 0;

    while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
	i++;
    if (i >= len || buf[i++] != 'v')
	return 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
	i++;
    if (i >= len || buf[i++] != '=')
	return 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
	i++;
    if (len - i < 6 || memcmp(buf + i, "DMARC1", 6) != 0)
	return 0;
    i += 6;
    return i == len || buf[i] == ';' || buf[i] == ' ' || buf[i] == '\t';
}

/* dmarc_policy_name - "none", "quarantine", "reject" */
const char *
dmarc_policy_name(enum dmarc_policy p)
{
    switch (p) {
    case DMARC_P_NONE: return "none";
    case DMARC_P_QUARANTINE: return "quarantine";
    case DMARC_P_REJECT: return "reject";
    case DMARC_P_UNSET: break;
    }
    return "unset";
}

/* parse_policy - p= and sp= values */
static enum dmarc_policy
parse_policy(const char *s)
{
    if (strcasecmp(s, "none") == 0)
	return DMARC_P_NONE;
    if (strcasecmp(s, "quarantine") == 0)
	return DMARC_P_QUARANTINE;
    if (strcasecmp(s, "reject") == 0)
	return DMARC_P_REJECT;
    return DMARC_P_UNSET;
}

/*
 * check_uris - "mailto:a@b.example[!10m], ..."; how many URIs are usable,
 * the first unusable one in bad (or "")
 */
static int
check_uris(const char *s, char *bad, size_t badlen)
{
    const char *p = s, *comma, *colon;
    size_t n;
    int usable = 0;

    bad[0] = '\0';
    for (;;) {
	while (*p == ' ' || *p == '\t')
	    p++;
	comma = strchr(p, ',');
	n = comma ? (size_t) (comma - p) : strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
	    n--;
	colon = memchr(p, ':', n);
	if (colon == NULL || colon == p || colon == p + n - 1
	    || ((size_t) (colon - p) == 6 && strncasecmp(p, "mailto", 6) == 0
		&& memchr(colon, '@', n - (size_t) (colon - p)) == NULL)) {
	    if (bad[0] == '\0')
		snprintf(bad, badlen, "%.*s", (int) (n > 100 ? 100 : n), n ? p : "(empty)");
	} else {
	    usable++;
	}
	if (comma == NULL)
	    return usable;
	p = comma + 1;
    }
}

/* check_number - a decimal integer in [min, max] */
static int
check_number(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    if (!isdigit((unsigned char) *s) || strlen(s) > 10)
	return -1;
    v = strtol(s, &end, 10);
    if (*end || v < min || v > max)
	return -1;
    *out = v;
    return 0;
}

/* check_fo - "0", "1", "d", "s" separated by ':' */
static int
check_fo(const char *s)
{
    for (;;) {
	if (*s != '0' && *s != '1' && *s != 'd' && *s != 's')
	    return -1;
	s++;
	if (*s == '\0')
	    return 0;
	if (*s++ != ':')
	    return -1;
    }
}

static void note(struct dmarc_record *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* note - remember the first non-fatal problem */
static void
note(struct dmarc_record *d, const char *fmt, ...)
{
    va_list ap;

    if (d->note[0] != '\0')
	return;
    va_start(ap, fmt);
    vsnprintf(d->note, sizeof(d->note), fmt, ap);
    va_end(ap);
}

/* check_mode - adkim= and aspf= */
static int
check_mode(const char *v, char *out)
{
    if (v == NULL)
	return 0;
    if (strcmp(v, "r") != 0 && strcmp(v, "s") != 0)
	return -1;
    *out = v[0];
    return 0;
}

/* dmarcrec_parse - read and check a DMARC record */
int
dmarcrec_parse(const char *buf, size_t len, struct dmarc_record *d, char *err,
	       size_t errlen)
{
    struct taglist tl;
    const char *v;
    char bad[104];
    long num;
    size_t i, k;
    int rua_ok;

    memset(d, 0, sizeof(*d));
    d->p = d->sp = DMARC_P_UNSET;
    d->adkim = d->aspf = 'r';
    d->pct = 100;
    if (!dmarcrec_is_dmarc(buf, len)) {
	snprintf(err, errlen, "does not start with v=DMARC1");
	return -1;
    }
    if (taglist_parse(buf, len, &tl, err, errlen) < 0)
	return -1;
    /* RFC 7489 6.6.3: one valid URI is enough; receivers skip the others */
    rua_ok = 0;
    if ((v = taglist_get(&tl, "rua")) != NULL) {
	snprintf(d->rua, sizeof(d->rua), "%s", v);
	if ((rua_ok = check_uris(v, bad, sizeof(bad)) > 0) == 0)
	    note(d, "rua='%.100s' holds no usable report URI", v);
	else if (bad[0])
	    note(d, "rua: '%s' is not a usable report URI (receivers skip it)", bad);
    }
    if ((v = taglist_get(&tl, "p")) == NULL || (d->p = parse_policy(v)) == DMARC_P_UNSET) {
	if (!rua_ok) {
	    if (v)
		snprintf(err, errlen, "p='%.40s' is not none, quarantine or reject", v);
	    else
		snprintf(err, errlen, "p= (the policy) is missing");
	    goto fail;
	}
	d->p = DMARC_P_NONE;
	note(d, "%s: receivers treat the record as p=none",
	     v ? "p= is invalid" : "p= is missing");
    } else if (tl.n < 2 || strcmp(tl.name[1], "p") != 0) {
	note(d, "%s", "p= should come right after v=DMARC1");
    }
    if ((v = taglist_get(&tl, "sp")) != NULL
	&& (d->sp = parse_policy(v)) == DMARC_P_UNSET) {
	/* RFC 7489 6.6.3: as an invalid p= */
	if (!rua_ok) {
	    snprintf(err, errlen, "sp='%.40s' is not none, quarantine or reject", v);
	    goto fail;
	}
	d->p = DMARC_P_NONE;
	d->note[0] = '\0';
	note(d, "sp= is invalid ('%.40s'): receivers treat the record as p=none", v);
    }
    if (check_mode(taglist_get(&tl, "adkim"), &d->adkim) < 0
	|| check_mode(taglist_get(&tl, "aspf"), &d->aspf) < 0) {
	snprintf(err, errlen, "adkim= and aspf= must be r (relaxed) or s (strict)");
	goto fail;
    }
    if ((v = taglist_get(&tl, "pct")) != NULL) {
	if (check_number(v, 0, 100, &num) < 0) {
	    snprintf(err, errlen, "pct='%.40s' is not a number from 0 to 100", v);
	    goto fail;
	}
	d->pct = (int) num;
    }
    if ((v = taglist_get(&tl, "ri")) != NULL && check_number(v, 0, 4294967295L, &num) < 0) {
	snprintf(err, errlen, "ri='%.40s' is not a number of seconds", v);
	goto fail;
    }
    if ((v = taglist_get(&tl, "fo")) != NULL && check_fo(v) < 0) {
	snprintf(err, errlen, "fo='%.40s': use 0, 1, d or s, separated by ':'", v);
	goto fail;
    }
    if ((v = taglist_get(&tl, "ruf")) != NULL) {
	if (check_uris(v, bad, sizeof(bad)) == 0)
	    note(d, "ruf='%.100s' holds no usable report URI", v);
	else if (bad[0])
	    note(d, "ruf: '%s' is not a usable report URI (receivers skip it)", bad);
    }
    for (i = 0; i < tl.n; i++) {
	for (k = 0; known_tags[k]; k++)
	    if (strcmp(tl.name[i], known_tags[k]) == 0)
		break;
	if (known_tags[k] == NULL)
	    note(d, "unknown tag '%.40s' (ignored by receivers)", tl.name[i]);
    }
    taglist_free(&tl);
    return 0;

fail:
    taglist_free(&tl);
    return -1;
}

/* dmarc_org_domain - the registrable domain by the Public Suffix List */
int
dmarc_org_domain(const char *domain, char *out, size_t outlen)
{
    static const psl_ctx_t *psl;
    const char *reg;

    if (psl == NULL && (psl = psl_latest(NULL)) == NULL)
	psl = psl_builtin();
    reg = psl ? psl_registrable_domain(psl, domain) : NULL;
    if (reg == NULL)
	reg = domain;			/* a public suffix, or no list at all */
    if ((size_t) snprintf(out, outlen, "%s", reg) >= outlen)
	return -1;
    return 0;
}

/* dmarc_aligned - relaxed or strict identifier alignment */
int
dmarc_aligned(const char *from_domain, const char *other, char mode)
{
    char a[256], b[256];

    if (strcasecmp(from_domain, other) == 0)
	return 1;
    if (mode == 's')
	return 0;
    if (dmarc_org_domain(from_domain, a, sizeof(a)) < 0
	|| dmarc_org_domain(other, b, sizeof(b)) < 0)
	return 0;
    return strcasecmp(a, b) == 0;
}
