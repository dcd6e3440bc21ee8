/*
 * spfrec - parse an SPF record (RFC 7208) into its terms (see spfrec.h)
 *
 * The grammar is RFC 7208 section 12.  The record is copied once into a
 * NUL-terminated buffer, split at spaces, and each term is checked on
 * its own so that an error can name the term that is wrong.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spfrec.h"
#include "xalloc.h"

static const struct {
    const char *name;
    enum spf_kind kind;
} mechanisms[] = {
    {"all", SPF_ALL}, {"include", SPF_INCLUDE}, {"a", SPF_A}, {"mx", SPF_MX},
    {"ptr", SPF_PTR}, {"ip4", SPF_IP4}, {"ip6", SPF_IP6},
    {"exists", SPF_EXISTS},
};

static int parse_term(char *t, struct spf_term *term, int *seen_redirect,
		      int *seen_exp, const char **why);

/* spfrec_kind_name - the name of a mechanism or modifier */
const char *
spfrec_kind_name(enum spf_kind kind)
{
    switch (kind) {
    case SPF_ALL: return "all";
    case SPF_INCLUDE: return "include";
    case SPF_A: return "a";
    case SPF_MX: return "mx";
    case SPF_PTR: return "ptr";
    case SPF_IP4: return "ip4";
    case SPF_IP6: return "ip6";
    case SPF_EXISTS: return "exists";
    case SPF_REDIRECT: return "redirect";
    case SPF_EXP: return "exp";
    case SPF_UNKNOWN_MOD: return "modifier";
    }
    return "?";
}

/* spfrec_queries_dns - does the term count against the 10-lookup limit? */
int
spfrec_queries_dns(enum spf_kind kind)
{
    return kind == SPF_INCLUDE || kind == SPF_A || kind == SPF_MX
	|| kind == SPF_PTR || kind == SPF_EXISTS || kind == SPF_REDIRECT;
}

/* spfrec_is_spf - "v=spf1" then a space or the end */
int
spfrec_is_spf(const char *buf, size_t len)
{
    return len >= 6 && strncasecmp(buf, "v=spf1", 6) == 0
	&& (len == 6 || buf[6] == ' ');
}

/* spfrec_free - release the terms */
void
spfrec_free(struct spf_record *rec)
{
    size_t i;

    for (i = 0; i < rec->n; i++) {
	free(rec->v[i].text);
	free(rec->v[i].arg);
    }
    free(rec->v);
    rec->v = NULL;
    rec->n = 0;
}

/* spfrec_parse - check a record and split it into terms */
int
spfrec_parse(const char *buf, size_t len, struct spf_record *rec, char *err,
	     size_t errlen)
{
    char *copy, *p, *t;
    const char *why = NULL;
    int seen_redirect = 0, seen_exp = 0;
    size_t i;

    memset(rec, 0, sizeof(*rec));
    if (len > SPFREC_MAX_LEN) {
	snprintf(err, errlen, "record longer than %d characters", SPFREC_MAX_LEN);
	return -1;
    }
    if (!spfrec_is_spf(buf, len)) {
	snprintf(err, errlen, "does not start with \"v=spf1\"");
	return -1;
    }
    for (i = 0; i < len; i++) {
	unsigned char c = (unsigned char) buf[i];

	if (c != ' ' && (c < 0x21 || c > 0x7e)) {
	    snprintf(err, errlen, "character 0x%02x at offset %zu is not allowed "
		     "(visible ASCII and single spaces only)", c, i);
	    return -1;
	}
    }
    copy = xmalloc(len + 1);
    memcpy(copy, buf, len);
    copy[len] = '\0';
    p = copy + 6;
    while (*p) {
	p += strspn(p, " ");
	if (*p == '\0')
	    break;
	t = p;
	p += strcspn(p, " ");
	if (*p)
	    *p++ = '\0';
	if (rec->n >= SPFREC_MAX_TERMS) {
	    snprintf(err, errlen, "more than %d terms", SPFREC_MAX_TERMS);
	    goto fail;
	}
	rec->v = xreallocarray(rec->v, rec->n + 1, sizeof(*rec->v));
	memset(&rec->v[rec->n], 0, sizeof(rec->v[rec->n]));
	rec->v[rec->n].text = xstrdup(t);
	rec->n++;
	if (parse_term(t, &rec->v[rec->n - 1], &seen_redirect, &seen_exp, &why) < 0) {
	    snprintf(err, errlen, "term '%.80s%s': %s", rec->v[rec->n - 1].text,
		     strlen(rec->v[rec->n - 1].text) > 80 ? "..." : "", why);
	    goto fail;
	}
    }
    free(copy);
    return 0;

fail:
    free(copy);
    spfrec_free(rec);
    return -1;
}

/* check_macro - one macro at s ('%'); returns its length or -1 */
static int
check_macro(const char *s, int in_exp, const char **why)
{
    const char *p = s + 1;

    if (*p == '%' || *p == '_' || *p == '-')
	return 2;
    if (*p != '{') {
	*why = "'%' must start a macro (%{...}) or be written %%, %_ or %-";
	return -1;
    }
    p++;
    if (*p == '\0' || strchr("slodiphcrtvSLODIPHCRTV", *p) == NULL) {
	*why = "unknown macro letter";
	return -1;
    }
    if (!in_exp && strchr("crtCRT", *p)) {
	*why = "macro letters c, r and t are allowed only in exp=";
	return -1;
    }
    p++;
    p += strspn(p, "0123456789");
    if (*p == 'r' || *p == 'R')
	p++;
    p += strspn(p, ".-+,/_=");
    if (*p != '}') {
	*why = "unterminated or malformed macro (expected '}')";
	return -1;
    }
    return (int) (p - s + 1);
}

/* check_macro_string - every '%' starts a valid macro; 1 if any */
static int
check_macro_string(const char *s, int in_exp, int *ends_in_macro, const char **why)
{
    int n, any = 0;

    *ends_in_macro = 0;
    while (*s) {
	if (*s == '%') {
	    if ((n = check_macro(s, in_exp, why)) < 0)
		return -1;
	    any = 1;
	    *ends_in_macro = s[1] == '{' && s[n] == '\0';
	    s += n;
	} else {
	    s++;
	}
    }
    return any;
}

/* check_toplabel - a label that can end a domain name */
static int
check_toplabel(const char *s, size_t len)
{
    size_t i;
    int alpha = 0, dash = 0;

    if (len == 0 || s[0] == '-' || s[len - 1] == '-')
	return -1;
    for (i = 0; i < len; i++) {
	if (isalpha((unsigned char) s[i]))
	    alpha = 1;
	else if (s[i] == '-')
	    dash = 1;
	else if (!isdigit((unsigned char) s[i]))
	    return -1;
    }
    return alpha || dash ? 0 : -1;
}

/* check_domain_spec - macro-string domain-end */
static int
check_domain_spec(const char *s, int *has_macro, const char **why)
{
    int end_macro;
    size_t len = strlen(s);
    const char *dot;

    if (len == 0) {
	*why = "empty domain";
	return -1;
    }
    if ((*has_macro = check_macro_string(s, 0, &end_macro, why)) < 0)
	return -1;
    if (end_macro)
	return 0;
    if (s[len - 1] == '.')
	len--;
    if (len == 0 || (dot = memrchr(s, '.', len)) == NULL) {
	*why = "domain has no top-level label (a name with a dot is needed)";
	return -1;
    }
    if (check_toplabel(dot + 1, len - (size_t) (dot + 1 - s)) < 0) {
	*why = "domain ends in an invalid top-level label";
	return -1;
    }
    return 0;
}

/* parse_cidr - "/N" with 0 <= N <= max, no leading zeros */
static int
parse_cidr(const char *s, int max)
{
    long v = 0;
    size_t n = strspn(s, "0123456789");

    if (n == 0 || n != strlen(s) || n > 3 || (n > 1 && s[0] == '0'))
	return -1;
    v = strtol(s, NULL, 10);
    return v <= max ? (int) v : -1;
}

/* split_dual_cidr - strip "/N" and "//N" from the end of a/mx arguments */
static int
split_dual_cidr(char *s, struct spf_term *term, const char **why)
{
    char *slash;

    if ((slash = strstr(s, "//")) != NULL) {
	if ((term->cidr6 = parse_cidr(slash + 2, 128)) < 0) {
	    *why = "IPv6 prefix length must be 0-128";
	    return -1;
	}
	*slash = '\0';
    }
    if ((slash = strrchr(s, '/')) != NULL) {
	if ((term->cidr4 = parse_cidr(slash + 1, 32)) < 0) {
	    *why = "IPv4 prefix length must be 0-32";
	    return -1;
	}
	*slash = '\0';
    }
    return 0;
}

/* parse_ip - ip4:ADDR[/N] and ip6:ADDR[/N] */
static int
parse_ip(char *arg, struct spf_term *term, const char **why)
{
    unsigned char a[16];
    char *slash = strchr(arg, '/');
    int v6 = term->kind == SPF_IP6;

    if (slash) {
	*slash = '\0';
	if ((*(v6 ? &term->cidr6 : &term->cidr4) = parse_cidr(slash + 1, v6 ? 128 : 32)) < 0) {
	    *why = v6 ? "prefix length must be 0-128" : "prefix length must be 0-32";
	    return -1;
	}
    }
    if (inet_pton(v6 ? AF_INET6 : AF_INET, arg, a) != 1) {
	*why = v6 ? "not an IPv6 address" : "not an IPv4 address (dotted quad)";
	return -1;
    }
    term->arg = xstrdup(arg);
    return 0;
}

/* parse_modifier - name=value */
static int
parse_modifier(char *t, char *eq, struct spf_term *term, int *seen_redirect,
	       int *seen_exp, const char **why)
{
    int end_macro;

    *eq = '\0';
    term->qualifier = 0;
    if (strcasecmp(t, "redirect") == 0 || strcasecmp(t, "exp") == 0) {
	int redirect = tolower((unsigned char) *t) == 'r';
	int *seen = redirect ? seen_redirect : seen_exp;

	if ((*seen)++) {
	    *why = redirect ? "redirect= given twice" : "exp= given twice";
	    return -1;
	}
	term->kind = redirect ? SPF_REDIRECT : SPF_EXP;
	if (check_domain_spec(eq + 1, &term->has_macro, why) < 0)
	    return -1;
    } else {
	term->kind = SPF_UNKNOWN_MOD;
	if ((term->has_macro = check_macro_string(eq + 1, 0, &end_macro, why)) < 0)
	    return -1;
    }
    term->arg = xstrdup(eq + 1);
    return 0;
}

/* parse_term - one mechanism or modifier */
static int
parse_term(char *t, struct spf_term *term, int *seen_redirect, int *seen_exp,
	   const char **why)
{
    size_t nlen, i;
    char *arg;

    term->cidr4 = term->cidr6 = -1;
    /* a modifier: name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) "=" */
    nlen = strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		  "0123456789-_.");
    if (t[nlen] == '=') {
	if (t[0] == '-') {
	    *why = "a modifier takes no qualifier";
	    return -1;
	}
	if (nlen == 0 || !isalpha((unsigned char) t[0])) {
	    *why = "modifier name must start with a letter";
	    return -1;
	}
	return parse_modifier(t, t + nlen, term, seen_redirect, seen_exp, why);
    }
    term->qualifier = '+';
    if (strchr("+-~?", *t)) {
	term->qualifier = *t++;
	if (strchr(t, '=') && strcspn(t, "=") < strcspn(t, ":/")) {
	    *why = "a modifier takes no qualifier";
	    return -1;
	}
    }
    nlen = strcspn(t, ":/");
    for (i = 0; i < sizeof(mechanisms) / sizeof(mechanisms[0]); i++)
	if (strlen(mechanisms[i].name) == nlen
	    && strncasecmp(t, mechanisms[i].name, nlen) == 0)
	    break;
    if (i == sizeof(mechanisms) / sizeof(mechanisms[0])) {
	*why = "unknown mechanism";
	return -1;
    }
    term->kind = mechanisms[i].kind;
    arg = t + nlen;
    switch (term->kind) {
    case SPF_ALL:
	if (*arg) {
	    *why = "'all' takes no argument";
	    return -1;
	}
	return 0;
    case SPF_INCLUDE:
    case SPF_EXISTS:
	if (*arg != ':' || arg[1] == '\0') {
	    *why = "needs ':' and a domain";
	    return -1;
	}
	term->arg = xstrdup(arg + 1);
	return check_domain_spec(arg + 1, &term->has_macro, why);
    case SPF_IP4:
    case SPF_IP6:
	if (*arg != ':') {
	    *why = "needs ':' and an address";
	    return -1;
	}
	return parse_ip(arg + 1, term, why);
    case SPF_A:
    case SPF_MX:
    case SPF_PTR:
	if (term->kind != SPF_PTR && split_dual_cidr(arg, term, why) < 0)
	    return -1;
	if (*arg == '\0')
	    return 0;
	if (*arg != ':' || arg[1] == '\0') {
	    *why = *arg == ':' ? "empty domain after ':'" : "unexpected text after the mechanism";
	    return -1;
	}
	term->arg = xstrdup(arg + 1);
	return check_domain_spec(arg + 1, &term->has_macro, why);
    default:
	break;
    }
    *why = "unknown mechanism";
    return -1;
}
