/*
 * addr - one normaliser for e-mail addresses and domain names (see addr.h)
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "addr.h"

static int is_atext(unsigned char c);
static int is_dot_atom(const char *s, size_t len);
static int check_ldh_domain(const char *d, size_t len, const char **why);

/* is_atext - RFC 5322 atext, plus any UTF-8 byte (RFC 6531) */
static int
is_atext(unsigned char c)
{
    if (c >= 0x80)
	return 1;
    /* strchr() finds the terminating NUL too: a NUL byte is no atext */
    return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* is_dot_atom - atext runs joined by single dots: a local part without quotes */
static int
is_dot_atom(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || s[0] == '.' || s[len - 1] == '.')
	return 0;
    for (i = 0; i < len; i++)
	if (s[i] == '.' ? s[i - 1] == '.' : !is_atext((unsigned char) s[i]))
	    return 0;
    return 1;
}

/* check_ldh_domain - labels of letters, digits and hyphens */
static int
check_ldh_domain(const char *d, size_t len, const char **why)
{
    size_t i, label = 0;

    if (len == 0)
	return (*why = "empty domain"), -1;
    if (len > 253)
	return (*why = "domain longer than 253 octets"), -1;
    for (i = 0; i <= len; i++) {
	if (i == len || d[i] == '.') {
	    if (label == 0)
		return (*why = "domain has an empty label"), -1;
	    if (label > 63)
		return (*why = "domain label longer than 63 octets"), -1;
	    if (d[i - 1] == '-')
		return (*why = "domain label ends with '-'"), -1;
	    label = 0;
	    continue;
	}
	if (label == 0 && d[i] == '-')
	    return (*why = "domain label starts with '-'"), -1;
	if (!isalnum((unsigned char) d[i]) && d[i] != '-' && d[i] != '_')
	    return (*why = "domain holds a character that is not a letter, digit or '-'"), -1;
	label++;
    }
    return 0;
}

/* domain_normalize - lower case, A-labels, no trailing dot */
int
domain_normalize(const char *in, size_t len, char *out, size_t outsz,
		 const char **why)
{
    char buf[1024];
    char *ace = NULL;
    size_t i, n;
    int ascii = 1, rc;

    while (len > 0 && isspace((unsigned char) *in))
	in++, len--;
    while (len > 0 && isspace((unsigned char) in[len - 1]))
	len--;
    if (len > 0 && in[len - 1] == '.')
	len--;
    if (len == 0)
	return (*why = "empty domain"), -1;
    if (len >= sizeof(buf))
	return (*why = "domain longer than 253 octets"), -1;

    /* address literal: [IPv4] or [IPv6:...], kept as written */
    if (in[0] == '[') {
	if (in[len - 1] != ']' || len < 3 || memchr(in + 1, '[', len - 2)
	    || memchr(in + 1, ']', len - 2))
	    return (*why = "malformed address literal"), -1;
	for (i = 0; i < len; i++) {
	    if ((unsigned char) in[i] <= ' ' || in[i] == 0x7f)
		return (*why = "control character or space in domain"), -1;
	    if ((unsigned char) in[i] > 0x7f)
		return (*why = "malformed address literal"), -1;
	}
	if (len > 253)
	    return (*why = "domain longer than 253 octets"), -1;
	if (len >= outsz)
	    return (*why = "domain too long"), -1;
	for (i = 0; i < len; i++)
	    out[i] = (char) tolower((unsigned char) in[i]);
	out[len] = '\0';
	return 0;
    }
    for (i = 0; i < len; i++) {
	unsigned char c = (unsigned char) in[i];

	if (c == '\0' || c < ' ' || c == 0x7f || c == ' ')
	    return (*why = "control character or space in domain"), -1;
	if (c >= 0x80)
	    ascii = 0;
	buf[i] = (char) tolower(c);
    }
    buf[len] = '\0';
    if (!ascii) {
	rc = idn2_lookup_u8((const uint8_t *) buf, (uint8_t **) &ace,
			    IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK) {
	    /* UTS #46 transitional processing rescues some older names */
	    rc = idn2_lookup_u8((const uint8_t *) buf, (uint8_t **) &ace,
				IDN2_NFC_INPUT | IDN2_TRANSITIONAL);
	    if (rc != IDN2_OK)
		return (*why = "not a valid internationalised domain name"), -1;
	}
	n = strlen(ace);
	if (n >= sizeof(buf)) {
	    idn2_free(ace);
	    return (*why = "domain longer than 253 octets"), -1;
	}
	memcpy(buf, ace, n + 1);
	idn2_free(ace);
	len = n;
    }
    if (check_ldh_domain(buf, len, why) < 0)
	return -1;
    if (len >= outsz)
	return (*why = "domain too long"), -1;
    memcpy(out, buf, len + 1);
    return 0;
}

/* addr_normalize - canonical form of one address */
int
addr_normalize(const char *in, size_t len, char *out, size_t outsz,
	       const char **why)
{
    const char *at, *local, *p;
    size_t llen, i, n, dlen;
    char dom[DOMAIN_MAX], plain[64];

    while (len > 0 && isspace((unsigned char) *in))
	in++, len--;
    while (len > 0 && isspace((unsigned char) in[len - 1]))
	len--;
    if (len >= 2 && in[0] == '<' && in[len - 1] == '>')
	in++, len -= 2;
    if (len == 0)
	return (*why = "empty address"), -1;
    /* obsolete source route "@a,@b:user@domain" */
    if (in[0] == '@') {
	p = memchr(in, ':', len);
	if (p == NULL)
	    return (*why = "address has no local part"), -1;
	len -= (size_t) (p + 1 - in);
	in = p + 1;
    }
    for (at = NULL, p = in; p < in + len; p++)
	if (*p == '@')
	    at = p;
    if (at == NULL)
	return (*why = "address has no '@'"), -1;
    local = in;
    llen = (size_t) (at - in);
    if (llen == 0)
	return (*why = "address has no local part"), -1;
    if (llen > 64)
	return (*why = "local part longer than 64 octets"), -1;

    if (local[0] == '"') {
	if (llen < 2 || local[llen - 1] != '"')
	    return (*why = "unterminated quoted local part"), -1;
	for (i = 1; i + 1 < llen; i++) {
	    unsigned char c = (unsigned char) local[i];

	    if (c < ' ' || c == 0x7f)
		return (*why = "control character in local part"), -1;
	    if (c == '\\') {
		/* RFC 5321 quoted-pairSMTP: a backslash and a printable */
		if (i + 2 >= llen || (unsigned char) local[i + 1] < ' '
		    || local[i + 1] == 0x7f)
		    return (*why = "bad escape in quoted local part"), -1;
		i++;
	    } else if (c == '"') {
		return (*why = "stray quote in local part"), -1;
	    }
	}
	/* quotes around what needs none do not change the mailbox (RFC 5321 4.1.2) */
	for (i = 1, n = 0; i + 1 < llen; i++)
	    plain[n++] = local[i] == '\\' ? local[++i] : local[i];
	if (n > 0 && is_dot_atom(plain, n)) {
	    local = plain;
	    llen = n;
	}
    }
    if (local[0] != '"') {
	for (i = 0; i < llen; i++) {
	    unsigned char c = (unsigned char) local[i];

	    if (c == '.') {
		if (i == 0 || i == llen - 1 || local[i - 1] == '.')
		    return (*why = "misplaced '.' in local part"), -1;
	    } else if (!is_atext(c)) {
		return (*why = "local part holds a character that needs quoting"), -1;
	    }
	}
    }
    dlen = (size_t) (in + len - at - 1);
    if (domain_normalize(at + 1, dlen, dom, sizeof(dom), why) < 0)
	return -1;
    if (llen + 1 + strlen(dom) > 254)
	return (*why = "address longer than 254 octets"), -1;
    if (llen + 1 + strlen(dom) + 1 > outsz)
	return (*why = "address too long"), -1;
    for (i = 0; i < llen; i++)
	out[i] = local[0] == '"' ? local[i] : (char) tolower((unsigned char) local[i]);
    out[llen] = '@';
    strcpy(out + llen + 1, dom);
    return 0;
}

/* addr_domain - the domain of a normalised address */
const char *
addr_domain(const char *normalized)
{
    const char *at = strrchr(normalized, '@');

    return at ? at + 1 : normalized;
}

/* addr_domain_normalize - the domain of an address, whatever its local part */
int
addr_domain_normalize(const char *in, size_t len, char *out, size_t outsz,
		      const char **why)
{
    const char *at;

    while (len > 0 && isspace((unsigned char) in[len - 1]))
	len--;
    if (len > 0 && in[len - 1] == '>')
	len--;
    for (at = in + len; at > in && at[-1] != '@'; at--)
	 /* the last '@' */ ;
    if (at == in)
	return (*why = "address has no '@'"), -1;
    return domain_normalize(at, (size_t) (in + len - at), out, outsz, why);
}
