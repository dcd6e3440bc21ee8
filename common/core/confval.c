/*
 * confval - parse the value types of outpost.conf (see confval.h)
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "confval.h"
#include "xalloc.h"

static int parse_uint(const char **sp, unsigned long long *out);

/* parse_uint - read decimal digits, refusing overflow */
static int
parse_uint(const char **sp, unsigned long long *out)
{
    const char *s = *sp;
    unsigned long long v = 0;

    if (!isdigit((unsigned char) *s))
	return -1;
    for (; isdigit((unsigned char) *s); s++) {
	unsigned d = (unsigned) (*s - '0');

	if (v > (ULLONG_MAX - d) / 10)
	    return -1;
	v = v * 10 + d;
    }
    *sp = s;
    *out = v;
    return 0;
}

/* confval_bool - yes/no and friends */
int
confval_bool(const char *s, int *out, const char **why)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    size_t i;

    for (i = 0; i < 4; i++) {
	if (strcasecmp(s, yes[i]) == 0)
	    return (*out = 1), 0;
	if (strcasecmp(s, no[i]) == 0)
	    return (*out = 0), 0;
    }
    *why = "expected yes or no";
    return -1;
}

/* confval_long - a decimal integer within [min, max] */
int
confval_long(const char *s, long min, long max, long *out, const char **why)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE) {
	*why = "expected a whole number";
	return -1;
    }
    if (v < min || v > max) {
	*why = "number out of range";
	return -1;
    }
    *out = v;
    return 0;
}

/* confval_duration - "30s", "7d", "1h30m", "250ms"; bare numbers are seconds */
int
confval_duration(const char *s, long long *ms, const char **why)
{
    static const struct {
	const char *unit;
	long long ms;
    } units[] = {
	{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000},
	{"d", 86400000}, {"w", 604800000},
    };
    long long total = 0;
    const char *p = s;

    if (*p == '\0') {
	*why = "empty duration";
	return -1;
    }
    while (*p) {
	unsigned long long n;
	long long mult = 1000;
	size_t i, best = 0;

	if (parse_uint(&p, &n) < 0) {
	    *why = "expected a duration such as 30s, 5m, 2h or 7d";
	    return -1;
	}
	if (*p) {
	    mult = 0;
	    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t len = strlen(units[i].unit);

		if (strncmp(p, units[i].unit, len) == 0 && len > best
		    && !isalpha((unsigned char) p[len])) {
		    best = len;
		    mult = units[i].ms;
		}
	    }
	    if (mult == 0) {
		*why = "unknown duration unit (use ms, s, m, h, d or w)";
		return -1;
	    }
	    p += best;
	}
	if (n > (unsigned long long) (LLONG_MAX / mult)
	    || total > LLONG_MAX - (long long) n * mult) {
	    *why = "duration too large";
	    return -1;
	}
	total += (long long) n * mult;
    }
    *ms = total;
    return 0;
}

/* confval_rate - "600/m", "10/s", "5000/1h" */
int
confval_rate(const char *s, struct conf_rate *out, const char **why)
{
    const char *p = s;
    unsigned long long n;
    long long period;
    const char *slash = strchr(s, '/');

    if (slash == NULL || parse_uint(&p, &n) < 0 || p != slash) {
	*why = "expected a rate such as 600/m or 5000/1h";
	return -1;
    }
    if (n == 0 || n > LONG_MAX) {
	*why = "rate count must be at least 1";
	return -1;
    }
    /* "10/s" means per one second: give the unit a count of 1 */
    if (isalpha((unsigned char) slash[1])) {
	char buf[16];

	if (strlen(slash + 1) > sizeof(buf) - 2) {
	    *why = "unknown rate unit";
	    return -1;
	}
	buf[0] = '1';
	strcpy(buf + 1, slash + 1);
	if (confval_duration(buf, &period, why) < 0)
	    return -1;
    } else if (confval_duration(slash + 1, &period, why) < 0) {
	return -1;
    }
    if (period <= 0) {
	*why = "rate period must be longer than zero";
	return -1;
    }
    out->count = (long) n;
    out->period_ms = period;
    return 0;
}

/* confval_size - "512", "64k", "10M", "1G" */
int
confval_size(const char *s, unsigned long long *out, const char **why)
{
    const char *p = s;
    unsigned long long n, mult = 1;

    if (parse_uint(&p, &n) < 0) {
	*why = "expected a size such as 512, 64k, 10M or 1G";
	return -1;
    }
    switch (*p) {
    case '\0':
	break;
    case 'k': case 'K':
	mult = 1ULL << 10; p++;
	break;
    case 'm': case 'M':
	mult = 1ULL << 20; p++;
	break;
    case 'g': case 'G':
	mult = 1ULL << 30; p++;
	break;
    default:
	*why = "unknown size unit (use k, M or G)";
	return -1;
    }
    if (*p == 'b' || *p == 'B')
	p++;
    if (*p != '\0') {
	*why = "unexpected text after the size";
	return -1;
    }
    if (n > ULLONG_MAX / mult) {
	*why = "size too large";
	return -1;
    }
    *out = n * mult;
    return 0;
}

/* conf_strlist_add - append a copy of s[0..len) */
void
conf_strlist_add(struct conf_strlist *l, const char *s, size_t len)
{
    l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
    l->v[l->n++] = xstrndup(s, len);
}

/* conf_strlist_has - does l hold s (any case)? 0 for NULL or "" */
int
conf_strlist_has(const struct conf_strlist *l, const char *s)
{
    size_t i;

    if (s == NULL || *s == '\0')
	return 0;
    for (i = 0; i < l->n; i++)
	if (strcasecmp(l->v[i], s) == 0)
	    return 1;
    return 0;
}

/* conf_strlist_free - release all items */
void
conf_strlist_free(struct conf_strlist *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
	free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* confval_list - split on commas and white space, append to the list */
int
confval_list(const char *s, struct conf_strlist *out, const char **why)
{
    const char *p = s;

    while (*p) {
	size_t len;

	p += strspn(p, ", \t");
	len = strcspn(p, ", \t");
	if (len > 0)
	    conf_strlist_add(out, p, len);
	p += len;
    }
    (void) why;
    return 0;
}

/* confval_nexthop - "127.0.0.1:10024", "[::1]:10024", "unix:/run/amavis.sock" */
int
confval_nexthop(const char *s, struct conf_nexthop *out, const char **why)
{
    const char *h = s, *colon = NULL;
    size_t hl;

    memset(out, 0, sizeof(*out));
    if (strncmp(s, "unix:", 5) == 0 || strchr(s, '/') != NULL) {
	if (strncmp(s, "unix:", 5) == 0)
	    h = s + 5;
	out->socket = 1;
	hl = strlen(h);
    } else if (s[0] == '[') {
	const char *close = strchr(s, ']');

	if (close == NULL)
	    return (*why = "unterminated [address]"), -1;
	h = s + 1;
	hl = (size_t) (close - h);
	if (close[1] == ':')
	    colon = close + 1;
	else if (close[1] != '\0')
	    return (*why = "expected :port after ]"), -1;
    } else {
	colon = strchr(s, ':');
	if (colon && strchr(colon + 1, ':'))
	    colon = NULL;		/* a bare IPv6 address: any port */
	hl = colon ? (size_t) (colon - s) : strlen(s);
    }
    if (colon) {
	char *end;
	long p;

	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end != '\0' || p < 1 || p > 65535)
	    return (*why = "bad port number"), -1;
	out->port = (int) p;
    }
    if (hl == 0 || hl >= sizeof(out->host))
	return (*why = out->socket ? "bad socket path" : "bad host name"), -1;
    memcpy(out->host, h, hl);
    out->host[hl] = '\0';
    return 0;
}

/* confval_cidr - "192.0.2.0/24", "2001:db8::/32", "127.0.0.1" */
int
confval_cidr(const char *s, struct cidr *out, const char **why)
{
    char addr[INET6_ADDRSTRLEN + 1];
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t) (slash - s) : strlen(s);
    long prefix = -1;
    int i;

    if (alen == 0 || alen >= sizeof(addr)) {
	*why = "expected an address or network such as 192.0.2.0/24";
	return -1;
    }
    memcpy(addr, s, alen);
    addr[alen] = '\0';
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, addr, out->addr) == 1) {
	out->family = AF_INET;
	out->prefix = 32;
    } else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
	out->family = AF_INET6;
	out->prefix = 128;
    } else {
	*why = "not an IPv4 or IPv6 address";
	return -1;
    }
    if (slash) {
	if (confval_long(slash + 1, 0, out->prefix, &prefix, why) < 0) {
	    *why = "bad network prefix length";
	    return -1;
	}
	out->prefix = (int) prefix;
    }
    /* host bits must be zero: "10.1.2.3/8" is almost always a typo */
    for (i = out->prefix; i < (out->family == AF_INET ? 32 : 128); i++) {
	if (out->addr[i / 8] & (0x80 >> (i % 8))) {
	    *why = "address has bits set beyond the prefix length";
	    return -1;
	}
    }
    return 0;
}

/* cidr_match_bytes - compare the first prefix bits */
static int
cidr_match_bytes(const struct cidr *c, int family, const unsigned char *a)
{
    int full = c->prefix / 8, rest = c->prefix % 8;

    if (family != c->family)
	return 0;
    if (memcmp(a, c->addr, (size_t) full) != 0)
	return 0;
    if (rest && ((a[full] ^ c->addr[full]) & (0xff << (8 - rest)) & 0xff))
	return 0;
    return 1;
}

/* cidr_match - does the socket address lie in the network? */
int
cidr_match(const struct cidr *c, const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
	const struct sockaddr_in *sin = (const struct sockaddr_in *) sa;

	return cidr_match_bytes(c, AF_INET, (const unsigned char *) &sin->sin_addr);
    }
    if (sa->sa_family == AF_INET6) {
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) sa;
	const unsigned char *b = sin6->sin6_addr.s6_addr;

	/* an IPv4-mapped IPv6 address matches IPv4 networks */
	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) && c->family == AF_INET)
	    return cidr_match_bytes(c, AF_INET, b + 12);
	return cidr_match_bytes(c, AF_INET6, b);
    }
    return 0;
}

/* cidr_list_match - does any network of the list contain the address? */
int
cidr_list_match(const struct cidr_list *l, const struct sockaddr *sa)
{
    size_t i;

    for (i = 0; i < l->n; i++)
	if (cidr_match(&l->v[i], sa))
	    return 1;
    return 0;
}

/* cidr_list_match_str - the same for an address in text form */
int
cidr_list_match_str(const struct cidr_list *l, const char *addr)
{
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;

    memset(&sin, 0, sizeof(sin));
    memset(&sin6, 0, sizeof(sin6));
    if (inet_pton(AF_INET, addr, &sin.sin_addr) == 1) {
	sin.sin_family = AF_INET;
	return cidr_list_match(l, (struct sockaddr *) &sin);
    }
    if (inet_pton(AF_INET6, addr, &sin6.sin6_addr) == 1) {
	sin6.sin6_family = AF_INET6;
	return cidr_list_match(l, (struct sockaddr *) &sin6);
    }
    return 0;
}
