/*
 * blname - which blocklist a refusal names (see blname.h)
 *
 * The rules are written for the families of wording, not for samples:
 * a marker phrase followed by the list ("blocked using X", "listed in X",
 * "black list at X", "blacklisted by X"), the operator's host names (its
 * delisting pages), and the few operators whose refusals carry a code or
 * phrase of their own instead.  Each rule is one pass over the text with
 * a fixed needle: linear in the length of the text.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "blname.h"

/* an operator: the domains of its zones and pages, the words that name it */
struct bl_family {
    const char *name;
    const char *domains[5];		/* registered domains; NULL ends */
    const char *words[4];		/* whole words or phrases; NULL ends */
};

static const struct bl_family families[] = {
    {"spamhaus", {"spamhaus.org", "spamhaus.net", "spamhaus.com", "abuseat.org", NULL},
     {"spamhaus", NULL}},
    {"barracuda", {"barracudacentral.org", "barracudanetworks.com", "barracuda.com", NULL},
     {"barracuda", NULL}},
    {"spamcop", {"spamcop.net", NULL}, {"spamcop", NULL}},
    {"sorbs", {"sorbs.net", NULL}, {"sorbs", NULL}},
    {"uceprotect", {"uceprotect.net", NULL}, {"uceprotect", NULL}},
    {"microsoft", {"sender.office.com", "mail.live.com", NULL},
     {"s3150", "banned sending ip", "on our block list", NULL}},
    {"proofpoint", {"proofpoint.com", NULL}, {"proofpoint", NULL}},
    {"cloudmark", {"cloudmark.com", NULL}, {"cloudmark", NULL}},
    {"mailspike", {"mailspike.net", "mailspike.org", NULL}, {"mailspike", NULL}},
    {"surbl", {"surbl.org", NULL}, {"surbl", NULL}},
    {"uribl", {"uribl.com", NULL}, {"uribl", NULL}},
    {"psbl", {"psbl.org", "psbl.surriel.com", NULL}, {"psbl", NULL}},
    {"spameatingmonkey", {"spameatingmonkey.net", NULL}, {NULL}},
    {"invaluement", {"invaluement.com", NULL}, {"invaluement", NULL}},
    {"junkemailfilter", {"junkemailfilter.com", NULL}, {"hostkarma", NULL}},
};
#define NFAMILIES (sizeof(families) / sizeof(families[0]))

/*
 * The phrases after which the list's name follows.  "list" covers "black
 * list at", "block list at" and "blacklist at"; "listed" every
 * preposition; "rbl on" Exim's "is in an RBL on X".
 */
static const char *const markers[] = {
    "blocked using ", "blocked by ", "listed in ", "listed on ", "listed at ",
    "listed by ", "list at ", "blacklisted by ", "blacklisted at ", "rbl on ",
    "rbl: ", "dnsbl: ",
};
#define NMARKERS (sizeof(markers) / sizeof(markers[0]))

/* find_ci - the first place of needle in text[0..len), case-blind, or -1 */
static long
find_ci(const char *text, size_t len, size_t from, const char *needle)
{
    size_t n = strlen(needle), i;

    if (n == 0 || len < n)
	return -1;
    for (i = from; i + n <= len; i++)
	if (tolower((unsigned char) text[i]) == needle[0]
	    && strncasecmp(text + i, needle, n) == 0)
	    return (long) i;
    return -1;
}

/* name_char - a byte of a DNS name */
static int
name_char(int c)
{
    return isalnum(c) || c == '-' || c == '.';
}

/* word_at - whether text[i..i+n) is a whole word (not inside a longer one) */
static int
word_at(const char *text, size_t len, size_t i, size_t n)
{
    return (i == 0 || !isalnum((unsigned char) text[i - 1]))
	&& (i + n == len || !isalnum((unsigned char) text[i + n]));
}

/*
 * dns_name - whether s[0..n) is a host name: LDH labels of 1-63 bytes, at
 * least two, the last not all digits (not an address)
 */
static int
dns_name(const char *s, size_t n)
{
    size_t i, lab = 0, labels = 1, last = 0;
    int digits = 1;

    if (n == 0 || n >= BLNAME_ZONE_MAX)
	return 0;
    for (i = 0; i < n; i++) {
	if (s[i] == '.') {
	    if (lab == 0)
		return 0;
	    lab = 0;
	    labels++;
	    last = i + 1;
	    digits = 1;
	    continue;
	}
	if (!isalnum((unsigned char) s[i]) && s[i] != '-')
	    return 0;
	if (!isdigit((unsigned char) s[i]))
	    digits = 0;
	if (++lab > 63)
	    return 0;
    }
    return lab > 0 && labels >= 2 && !digits && last < n;
}

/* domain_under - whether name is dom or a name under it (case-blind) */
static int
domain_under(const char *name, size_t n, const char *dom)
{
    size_t d = strlen(dom);

    if (n < d || strncasecmp(name + n - d, dom, d) != 0)
	return 0;
    return n == d || name[n - d - 1] == '.';
}

/* family_of_name - the family whose domain name[0..n) is under, or NULL */
static const char *
family_of_name(const char *name, size_t n)
{
    size_t f, k;

    for (f = 0; f < NFAMILIES; f++)
	for (k = 0; families[f].domains[k]; k++)
	    if (domain_under(name, n, families[f].domains[k]))
		return families[f].name;
    return NULL;
}

/* family_of_word - the family a word names (text[i..i+n)), or NULL */
static const char *
family_of_word(const char *text, size_t n)
{
    size_t f, k;

    for (f = 0; f < NFAMILIES; f++)
	for (k = 0; families[f].words[k]; k++)
	    if (strlen(families[f].words[k]) == n
		&& strncasecmp(text, families[f].words[k], n) == 0)
		return families[f].name;
    return NULL;
}

/* blname_family - the family of a zone */
const char *
blname_family(const char *zone)
{
    return zone ? family_of_name(zone, strlen(zone)) : NULL;
}

/* after_marker - the name or operator after one marker phrase; 1 found */
static int
after_marker(const char *text, size_t len, const char *marker, struct blname *out)
{
    long at = 0;
    size_t i, j;

    while ((at = find_ci(text, len, (size_t) at, marker)) >= 0) {
	i = (size_t) at + strlen(marker);
	at++;
	while (i < len && (text[i] == ' ' || text[i] == '"' || text[i] == '\''
			   || text[i] == '<' || text[i] == '('))
	    i++;
	for (j = i; j < len && name_char((unsigned char) text[j]); j++)
	     /* the name */ ;
	while (j > i && text[j - 1] == '.')
	    j--;			/* the sentence's full stop */
	if (dns_name(text + i, j - i)) {
	    size_t k;

	    for (k = 0; k < j - i; k++)
		out->zone[k] = (char) tolower((unsigned char) text[i + k]);
	    out->zone[k] = '\0';
	    out->family = family_of_name(out->zone, k);
	    out->how = BLNAME_ZONE;
	    return 1;
	}
	for (j = i; j < len && isalnum((unsigned char) text[j]); j++)
	     /* a word */ ;
	if ((out->family = family_of_word(text + i, j - i)) != NULL) {
	    out->how = BLNAME_MARKER;
	    return 1;
	}
    }
    return 0;
}

/* any_host - a known operator's host name anywhere (its pages' URLs) */
static const char *
any_host(const char *text, size_t len)
{
    const char *fam;
    size_t i = 0, j;

    while (i < len) {
	if (!name_char((unsigned char) text[i])) {
	    i++;
	    continue;
	}
	for (j = i; j < len && name_char((unsigned char) text[j]); j++)
	     /* a run */ ;
	if (memchr(text + i, '.', j - i) && (fam = family_of_name(text + i, j - i)) != NULL)
	    return fam;
	i = j;
    }
    return NULL;
}

/* any_word - a known operator's word or phrase anywhere, as a whole word */
static const char *
any_word(const char *text, size_t len)
{
    size_t f, k;
    long at;

    for (f = 0; f < NFAMILIES; f++)
	for (k = 0; families[f].words[k]; k++) {
	    const char *w = families[f].words[k];

	    for (at = 0; (at = find_ci(text, len, (size_t) at, w)) >= 0; at++)
		if (word_at(text, len, (size_t) at, strlen(w)))
		    return families[f].name;
	}
    return NULL;
}

/* find_ip - the first IPv4 address, or IPv6 address in brackets */
static void
find_ip(const char *text, size_t len, char *out)
{
    unsigned char bin[16];
    char buf[BLNAME_IP_MAX];
    size_t i = 0, j, n;

    while (i < len) {
	int v6 = text[i] == '[';
	size_t s = i + (size_t) v6;

	for (j = s; j < len && (isxdigit((unsigned char) text[j]) || text[j] == '.'
				|| (v6 && text[j] == ':')); j++)
	     /* a run */ ;
	n = j - s;
	if (n > 0 && n < sizeof(buf) && (s == 0 || !isalnum((unsigned char) text[s - 1]))
	    && (j == len || !isalnum((unsigned char) text[j]))) {
	    memcpy(buf, text + s, n);
	    buf[n] = '\0';
	    if (inet_pton(AF_INET, buf, bin) == 1
		|| (v6 && j < len && text[j] == ']' && inet_pton(AF_INET6, buf, bin) == 1)) {
		memcpy(out, buf, n + 1);
		return;
	    }
	}
	i = j > i ? j : i + 1;
    }
}

/* blname_find - the blocklist a text names */
int
blname_find(const char *text, size_t len, struct blname *out)
{
    size_t m;

    memset(out, 0, sizeof(*out));
    if (text == NULL)
	return 0;
    find_ip(text, len, out->ip);
    for (m = 0; m < NMARKERS; m++)
	if (after_marker(text, len, markers[m], out))
	    return 1;
    if ((out->family = any_host(text, len)) != NULL) {
	out->how = BLNAME_HOST;
	return 1;
    }
    if ((out->family = any_word(text, len)) != NULL) {
	out->how = BLNAME_WORD;
	return 1;
    }
    return 0;
}

/* blname_family_named - the static name of a family, or NULL */
const char *
blname_family_named(const char *name)
{
    size_t f;

    for (f = 0; name && f < NFAMILIES; f++)
	if (strcasecmp(name, families[f].name) == 0)
	    return families[f].name;
    return NULL;
}

/* blname_list - the configured list a found name stands for, or "other" */
const char *
blname_list(const struct conf_vec *blocklists, const struct blname *b)
{
    const struct conf_blocklist *bl, *fam = NULL;
    size_t i, zn = strlen(b->zone);

    for (i = 0; i < blocklists->n; i++) {
	bl = CONF_VEC_AT(blocklists, i, struct conf_blocklist);
	if (zn && bl->zone && domain_under(b->zone, zn, bl->zone))
	    return bl->named.name;
	if (b->family && fam == NULL && blname_family(bl->zone) == b->family
	    && bl->kind == CONF_BL_IP)
	    fam = bl;
    }
    for (i = 0; fam == NULL && b->family && i < blocklists->n; i++) {
	bl = CONF_VEC_AT(blocklists, i, struct conf_blocklist);
	if (blname_family(bl->zone) == b->family)
	    fam = bl;
    }
    return fam ? fam->named.name : BLNAME_OTHER;
}

/* same_ip - whether two address texts are one address */
static int
same_ip(const char *a, const char *b)
{
    unsigned char x[16], y[16];

    if (inet_pton(AF_INET, a, x) == 1)
	return inet_pton(AF_INET, b, y) == 1 && memcmp(x, y, 4) == 0;
    if (inet_pton(AF_INET6, a, x) == 1)
	return inet_pton(AF_INET6, b, y) == 1 && memcmp(x, y, 16) == 0;
    return 0;
}

/* blname_pool - the pool sending from ip, or NULL */
const char *
blname_pool(const struct conf_vec *pools, const char *ip)
{
    size_t i, k;

    if (ip == NULL || *ip == '\0')
	return NULL;
    for (i = 0; i < pools->n; i++) {
	const struct conf_pool *p = CONF_VEC_AT(pools, i, struct conf_pool);

	for (k = 0; k < p->addresses.n; k++)
	    if (same_ip(p->addresses.v[k], ip))
		return p->named.name;
    }
    return NULL;
}
