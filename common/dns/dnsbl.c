/*
 * dnsbl - is an address or a domain on a DNS blocklist (see dnsbl.h)
 *
 * Everything here is bounded: a target is at most a DNS name long, an
 * answer holds at most DNSQ_MAX_RECORDS addresses, each compared with the
 * configured codes once.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dnsbl.h"
#include "keytable.h"
#include "msg.h"
#include "xalloc.h"

static int domain_ok(const char *s, size_t len);
static int in_codes(const struct conf_strlist *codes, unsigned long a);

/* dnsbl_verdict_name - "clean", "listed", "unknown" */
const char *
dnsbl_verdict_name(enum dnsbl_verdict v)
{
    switch (v) {
    case DNSBL_CLEAN: return "clean";
    case DNSBL_LISTED: return "listed";
    case DNSBL_UNKNOWN: return "unknown";
    }
    return "unknown";
}

/* dnsbl_code_parse - "A" or "A-B" as a range of host-order IPv4 addresses */
int
dnsbl_code_parse(const char *s, unsigned long *lo, unsigned long *hi)
{
    char buf[40];
    char *dash;
    struct in_addr a, b;

    if (strlen(s) >= sizeof(buf))
	return -1;
    strcpy(buf, s);
    if ((dash = strchr(buf, '-')) != NULL)
	*dash++ = '\0';
    if (inet_pton(AF_INET, buf, &a) != 1
	|| inet_pton(AF_INET, dash ? dash : buf, &b) != 1)
	return -1;
    *lo = ntohl(a.s_addr);
    *hi = ntohl(b.s_addr);
    return *lo <= *hi ? 0 : -1;
}

/* domain_ok - letters, digits, '-' and '_' in labels of 1-63 bytes */
static int
domain_ok(const char *s, size_t len)
{
    size_t i, label = 0;

    if (len == 0 || len > 253 || s[0] == '.')
	return 0;
    for (i = 0; i < len; i++) {
	unsigned char c = (unsigned char) s[i];

	if (c == '.') {
	    if (label == 0)
		return 0;
	    label = 0;
	} else if (isalnum(c) || c == '-' || c == '_') {
	    if (++label > 63)
		return 0;
	} else {
	    return 0;
	}
    }
    return label > 0 && memchr(s, '.', len) != NULL;
}

/* dnsbl_domain_ok - can a domain list be asked about s */
int
dnsbl_domain_ok(const char *s)
{
    return domain_ok(s, strlen(s));
}

/* dnsbl_query_name - TARGET-PART[.KEY].ZONE, or -1 */
int
dnsbl_query_name(const struct conf_blocklist *bl, const char *target,
		 char *out, size_t outlen)
{
    char part[DNSBL_NAME_MAX];
    size_t len = strlen(target), i;
    char *arpa;
    int n;

    if (bl->kind == CONF_BL_IP) {
	if (dnsq_reverse_name(target, part, sizeof(part)) < 0)
	    return -1;
	/* the reversed octets or nibbles, without in-addr.arpa/ip6.arpa */
	if ((arpa = strstr(part, ".in-addr.arpa")) == NULL
	    && (arpa = strstr(part, ".ip6.arpa")) == NULL)
	    return -1;
	*arpa = '\0';
    } else {
	if (len > 0 && target[len - 1] == '.')
	    len--;				/* a rooted name */
	if (len >= sizeof(part) || !domain_ok(target, len))
	    return -1;
	for (i = 0; i < len; i++)
	    part[i] = (char) tolower((unsigned char) target[i]);
	part[len] = '\0';
    }
    n = snprintf(out, outlen, "%s.%s%s%s", part, bl->key ? bl->key : "",
		 bl->key ? "." : "", bl->zone);
    if (n < 0 || (size_t) n >= outlen || n > 253)
	return -1;
    return 0;
}

/* in_codes - is host-order address a within one of the ranges */
static int
in_codes(const struct conf_strlist *codes, unsigned long a)
{
    unsigned long lo, hi;
    size_t i;

    for (i = 0; i < codes->n; i++)
	if (dnsbl_code_parse(codes->v[i], &lo, &hi) == 0 && a >= lo && a <= hi)
	    return 1;
    return 0;
}

/* dnsbl_classify - what an A answer from a blocklist means */
enum dnsbl_verdict
dnsbl_classify(const struct conf_blocklist *bl, const struct dnsq_result *a,
	       const char **code, const char **why)
{
    struct in_addr in;
    const char *listed = NULL, *other = NULL;
    size_t i;

    *code = NULL;
    *why = NULL;
    switch (a->status) {
    case DNSQ_NXDOMAIN:
    case DNSQ_NODATA:
	return DNSBL_CLEAN;
    case DNSQ_OK:
	break;
    default:
	*why = dnsq_status_text(a->status);
	return DNSBL_UNKNOWN;
    }
    for (i = 0; i < a->n; i++) {
	unsigned long h;

	if (inet_pton(AF_INET, a->v[i], &in) != 1) {
	    other = a->v[i];
	    continue;
	}
	h = ntohl(in.s_addr);
	if (in_codes(&bl->refused, h)) {
	    *code = a->v[i];
	    *why = "the list refused the query (public resolver or over quota)";
	    return DNSBL_UNKNOWN;
	}
	/* without listed codes: the answers lists give for errors are no listing */
	if (bl->listed.n == 0 && (h == 0x7f000001UL || (h >> 8) == 0x7fffffUL)) {
	    *code = a->v[i];
	    *why = "an error answer of the list (127.0.0.1, 127.255.255.x), not a listing";
	    return DNSBL_UNKNOWN;
	}
	if (bl->listed.n > 0 ? in_codes(&bl->listed, h) : (h >> 24) == 127) {
	    if (listed == NULL)
		listed = a->v[i];
	} else if (other == NULL) {
	    other = a->v[i];
	}
    }
    if (listed != NULL) {
	*code = listed;
	return DNSBL_LISTED;
    }
    *code = other;
    *why = "an answer that is not one of the list's codes";
    return DNSBL_UNKNOWN;
}

/* dnsbl_check - ask the list about target (blocking) */
void
dnsbl_check(struct dnsq *q, const struct conf_blocklist *bl,
	    const char *target, struct dnsbl_result *res)
{
    char name[DNSBL_NAME_MAX];
    struct dnsq_result a, txt;
    const char *code;
    size_t n, i;

    memset(res, 0, sizeof(*res));
    if (dnsbl_query_name(bl, target, name, sizeof(name)) < 0) {
	res->verdict = DNSBL_UNKNOWN;
	res->why = "not a target this list can be asked about";
	return;
    }
    dnsq_lookup(q, name, DNSQ_T_A, &a);
    res->verdict = dnsbl_classify(bl, &a, &code, &res->why);
    if (code != NULL)
	snprintf(res->code, sizeof(res->code), "%s", code);
    dnsq_result_free(&a);
    if (res->verdict != DNSBL_LISTED)
	return;
    if (dnsq_lookup(q, name, DNSQ_T_TXT, &txt) == DNSQ_OK) {
	n = strlen(txt.v[0]);
	if (n >= DNSBL_REASON_MAX)
	    n = DNSBL_REASON_MAX - 1;
	res->reason = xmalloc(n + 1);
	for (i = 0; i < n; i++) {
	    unsigned char c = (unsigned char) txt.v[0][i];

	    /* the list's text goes to terminals and logs */
	    res->reason[i] = c < 0x20 || c == 0x7f ? '?' : (char) c;
	}
	res->reason[n] = '\0';
    }
    dnsq_result_free(&txt);
}

/* dnsbl_result_free - release the reason of a result */
void
dnsbl_result_free(struct dnsbl_result *res)
{
    free(res->reason);
    res->reason = NULL;
}

/* dnsbl_delist_url - the delisting page for target, or NULL */
char *
dnsbl_delist_url(const struct conf_blocklist *bl, const char *target)
{
    const char *t = bl->delist_url, *p;
    size_t tl = strlen(target), n = 0, len;
    char *out;

    if (t == NULL)
	return NULL;
    len = strlen(t) + 1;
    for (p = t; (p = strstr(p, "%s")) != NULL; p += 2)
	len += tl;				/* a config line and a DNS name: small */
    out = xmalloc(len);
    for (p = t; *p; p++) {
	if (p[0] == '%' && p[1] == 's') {
	    memcpy(out + n, target, tl);
	    n += tl;
	    p++;
	} else {
	    out[n++] = *p;
	}
    }
    out[n] = '\0';
    return out;
}

/* dnsbl_targets_add - add s unless it is there already (any case) */
void
dnsbl_targets_add(struct dnsbl_targets *t, const char *s)
{
    size_t i;

    for (i = 0; i < t->n; i++)
	if (strcasecmp(t->v[i], s) == 0)
	    return;
    t->v = xreallocarray(t->v, t->n + 1, sizeof(*t->v));
    t->v[t->n++] = xstrdup(s);
}

/* dnsbl_targets_collect - the pool addresses and the sending domains */
void
dnsbl_targets_collect(const struct outpost_conf *conf, struct dnsbl_targets *ips,
		      struct dnsbl_targets *domains)
{
    struct keytable *kt;
    char err[600];
    size_t i, j;

    for (i = 0; i < conf->pools.n; i++) {
	const struct conf_pool *p = CONF_VEC_AT(&conf->pools, i, struct conf_pool);

	for (j = 0; j < p->addresses.n; j++)
	    dnsbl_targets_add(ips, p->addresses.v[j]);
	/* senders holds SASL users too: only the names that are domains */
	for (j = 0; j < p->senders.n; j++)
	    if (strchr(p->senders.v[j], '.') && !strchr(p->senders.v[j], '@'))
		dnsbl_targets_add(domains, p->senders.v[j]);
    }
    if (conf->dkim.key_table == NULL)
	return;
    if ((kt = keytable_load(conf->dkim.key_table, 0, 0, err, sizeof(err))) == NULL) {
	msg_warn("blocklists: the key table's domains are not checked: %s", err);
	return;
    }
    for (i = 0; i < kt->n; i++) {
	dnsbl_targets_add(domains, kt->v[i].domain);
	dnsbl_targets_add(domains, kt->v[i].sign_domain);
    }
    keytable_free(kt);
}

/* dnsbl_targets_free - release a set of targets */
void
dnsbl_targets_free(struct dnsbl_targets *t)
{
    size_t i;

    for (i = 0; i < t->n; i++)
	free(t->v[i]);
    free(t->v);
    t->v = NULL;
    t->n = 0;
}
