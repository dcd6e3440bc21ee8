/*
 * dnsq - synchronous DNS queries that tell "missing" from "DNS trouble"
 * (see dnsq.h)
 *
 * The resolver's res_nquery() returns -1 for NXDOMAIN, NODATA, SERVFAIL
 * and timeouts alike; what happened is read from the reply it leaves in
 * the buffer (its header's QR bit, RCODE and ANCOUNT), and a buffer that
 * holds no reply at all means nothing answered.
 */
#include "config.h"

#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dnsq.h"
#include "xalloc.h"

#define ANSWER_MAX 65536
#define CHAIN_MAX 8			/* CNAMEs followed from the asked name */

struct dnsq {
    struct __res_state rs;
    int ok;			/* res_ninit() succeeded */
    long long timeout_ms;	/* dnsq_timeout()'s, 0: resolv.conf's */
    unsigned char *buf;
};

static void add_record(struct dnsq_result *, const char *, size_t);
static void sort_mx(struct dnsq_result *, unsigned *);

/* dnsq_new - a resolver set up from /etc/resolv.conf */
struct dnsq *
dnsq_new(void)
{
    struct dnsq *q = xcalloc(1, sizeof(*q));

    q->ok = res_ninit(&q->rs) == 0;
    q->buf = xmalloc(ANSWER_MAX);
    return q;
}

/* dnsq_free - release a resolver */
void
dnsq_free(struct dnsq *q)
{
    if (q == NULL)
	return;
    if (q->ok)
	res_nclose(&q->rs);
    free(q->buf);
    free(q);
}

/* dnsq_timeout - one try per server, ms each */
void
dnsq_timeout(struct dnsq *q, long long ms)
{
    long long s = (ms + 999) / 1000;

    q->rs.retrans = (int) (s < 1 ? 1 : s > 30 ? 30 : s);
    q->rs.retry = 1;
    q->timeout_ms = q->rs.retrans * 1000LL;
}

/* dnsq_timeout_ms - the bound of one try set by dnsq_timeout(), 0: none */
long long
dnsq_timeout_ms(const struct dnsq *q)
{
    return q->timeout_ms;
}

/* dnsq_result_free - release the records of an answer */
void
dnsq_result_free(struct dnsq_result *res)
{
    size_t i;

    for (i = 0; i < res->n; i++)
	free(res->v[i]);
    free(res->v);
    res->v = NULL;
    res->n = 0;
}

/* dnsq_status_text - what a status means, for messages */
const char *
dnsq_status_text(enum dnsq_status st)
{
    switch (st) {
    case DNSQ_OK: return "found";
    case DNSQ_NXDOMAIN: return "no such domain (NXDOMAIN)";
    case DNSQ_NODATA: return "no record of that type";
    case DNSQ_SERVFAIL: return "server failure (SERVFAIL)";
    case DNSQ_TIMEOUT: return "no answer (timeout)";
    case DNSQ_ERROR: return "DNS error (refused or malformed answer)";
    }
    return "unknown";
}

/* dnsq_type_name - "TXT", "MX", ... */
const char *
dnsq_type_name(int type)
{
    switch (type) {
    case DNSQ_T_A: return "A";
    case DNSQ_T_AAAA: return "AAAA";
    case DNSQ_T_MX: return "MX";
    case DNSQ_T_TXT: return "TXT";
    case DNSQ_T_PTR: return "PTR";
    }
    return "?";
}

/* dnsq_lookup - ask for one type of record */
enum dnsq_status
dnsq_lookup(struct dnsq *q, const char *name, int type, struct dnsq_result *res)
{
    HEADER *hp = (HEADER *) q->buf;
    unsigned char wire[NS_MAXCDNAME];
    int len;

    memset(res, 0, sizeof(*res));
    if (!q->ok)
	return res->status = DNSQ_ERROR;
    /* a label over 63 octets or a name over 253: no such name can exist */
    if (ns_name_pton(name, wire, sizeof(wire)) < 0)
	return res->status = DNSQ_NXDOMAIN;
    memset(q->buf, 0, sizeof(HEADER));
    len = res_nquery(&q->rs, name, ns_c_in, type, q->buf, ANSWER_MAX);
    if (len < 0) {
	if (!hp->qr)
	    res->status = DNSQ_TIMEOUT;		/* nothing answered */
	else if (hp->rcode == NXDOMAIN)
	    res->status = DNSQ_NXDOMAIN;
	else if (hp->rcode == NOERROR)
	    res->status = DNSQ_NODATA;
	else if (hp->rcode == SERVFAIL)
	    res->status = DNSQ_SERVFAIL;
	else
	    res->status = DNSQ_ERROR;
	return res->status;
    }
    if (len > ANSWER_MAX)
	len = ANSWER_MAX;			/* truncated: parse what fits */
    if (dnsq_parse_answer(q->buf, len, type, res) < 0) {
	dnsq_result_free(res);
	return res->status = DNSQ_ERROR;
    }
    res->status = res->n > 0 ? DNSQ_OK : DNSQ_NODATA;
    return res->status;
}

/* add_record - keep one record's text */
static void
add_record(struct dnsq_result *res, const char *s, size_t len)
{
    char *p;

    if (res->n >= DNSQ_MAX_RECORDS)
	return;
    p = xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    res->v = xreallocarray(res->v, res->n + 1, sizeof(*res->v));
    res->v[res->n++] = p;
}

/* txt_record - concatenate the character-strings of one TXT rdata */
static int
txt_record(const unsigned char *rd, size_t rdlen, struct dnsq_result *res)
{
    char *text = xmalloc(rdlen + 1);
    size_t i = 0, n = 0, l;

    while (i < rdlen) {
	l = rd[i++];
	if (l > rdlen - i) {
	    free(text);
	    return -1;
	}
	memcpy(text + n, rd + i, l);
	n += l;
	i += l;
    }
    add_record(res, text, n);
    free(text);
    return 0;
}

/*
 * chain_names - the asked name and the names its CNAMEs lead to, in any
 * order in the answer section, at most CHAIN_MAX links, a loop ending it;
 * how many (0: no question to compare with)
 */
static int
chain_names(ns_msg *msg, char names[][NS_MAXDNAME])
{
    ns_rr rr;
    int n = 0, i, j, count = ns_msg_count(*msg, ns_s_an), linked;

    if (ns_msg_count(*msg, ns_s_qd) < 1 || ns_parserr(msg, ns_s_qd, 0, &rr) < 0)
	return 0;
    snprintf(names[n++], NS_MAXDNAME, "%s", ns_rr_name(rr));
    do {
	linked = 0;
	for (i = 0; i < count && n <= CHAIN_MAX; i++) {
	    if (ns_parserr(msg, ns_s_an, i, &rr) < 0)
		return n;
	    if (ns_rr_type(rr) != ns_t_cname || ns_rr_class(rr) != ns_c_in
		|| strcasecmp(ns_rr_name(rr), names[n - 1]) != 0
		|| ns_name_uncompress(ns_msg_base(*msg), ns_msg_end(*msg), ns_rr_rdata(rr),
				      names[n], NS_MAXDNAME) < 0)
		continue;
	    for (j = 0; j < n && strcasecmp(names[j], names[n]) != 0; j++)
		continue;
	    if (j == n) {
		n++;
		linked = 1;
	    }
	    break;
	}
    } while (linked && n <= CHAIN_MAX);
    return n;
}

/* on_chain - is an owner name one of the chain's */
static int
on_chain(const char *owner, char names[][NS_MAXDNAME], int n)
{
    int i;

    for (i = 0; i < n; i++)
	if (strcasecmp(owner, names[i]) == 0)
	    return 1;
    return n == 0;
}

/* dnsq_parse_answer - the answer section's records of the asked type */
int
dnsq_parse_answer(const unsigned char *buf, int len, int type, struct dnsq_result *res)
{
    ns_msg msg;
    ns_rr rr;
    int i, count, nnames, astray = 0;
    char name[NS_MAXDNAME], addr[INET6_ADDRSTRLEN];
    char names[CHAIN_MAX + 1][NS_MAXDNAME];
    unsigned prefs[DNSQ_MAX_RECORDS];

    if (ns_initparse(buf, len, &msg) < 0)
	return -1;
    count = ns_msg_count(msg, ns_s_an);
    nnames = chain_names(&msg, names);
    for (i = 0; i < count; i++) {
	const unsigned char *rd;
	size_t rdlen;

	if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
	    return -1;
	if ((int) ns_rr_type(rr) != type || ns_rr_class(rr) != ns_c_in)
	    continue;
	if (!on_chain(ns_rr_name(rr), names, nnames)) {
	    astray++;				/* for another name: not ours */
	    continue;
	}
	rd = ns_rr_rdata(rr);
	rdlen = ns_rr_rdlen(rr);
	switch (type) {
	case DNSQ_T_TXT:
	    if (txt_record(rd, rdlen, res) < 0)
		return -1;
	    break;
	case DNSQ_T_A:
	case DNSQ_T_AAAA:
	    if (rdlen != (type == DNSQ_T_A ? 4u : 16u)
		|| inet_ntop(type == DNSQ_T_A ? AF_INET : AF_INET6, rd, addr,
			     sizeof(addr)) == NULL)
		return -1;
	    add_record(res, addr, strlen(addr));
	    break;
	case DNSQ_T_MX:
	case DNSQ_T_PTR:
	    if (type == DNSQ_T_MX) {
		if (rdlen < 3)
		    return -1;
		if (res->n < DNSQ_MAX_RECORDS)
		    prefs[res->n] = ns_get16(rd);
		rd += 2;
	    }
	    if (ns_name_uncompress(ns_msg_base(msg), ns_msg_end(msg), rd, name,
				   sizeof(name)) < 0)
		return -1;
	    add_record(res, name, strlen(name));
	    break;
	default:
	    return -1;
	}
    }
    /* only another name's records: a wrong answer, not "none" */
    if (res->n == 0 && astray > 0)
	return -1;
    if (type == DNSQ_T_MX)
	sort_mx(res, prefs);
    return 0;
}

/*
 * dnsq_answer_ttl - the smallest TTL of the answer records (-1: none).  A TTL
 * with its top bit set counts as zero (RFC 2181, section 8), not as the
 * longest time there is.
 */
long
dnsq_answer_ttl(const unsigned char *buf, int len)
{
    ns_msg msg;
    ns_rr rr;
    long ttl = -1, t;
    int i, n;

    if (ns_initparse(buf, len, &msg) < 0)
	return -1;
    n = ns_msg_count(msg, ns_s_an);
    for (i = 0; i < n; i++) {
	if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
	    break;
	t = ns_rr_ttl(rr) > 0x7fffffffUL ? 0 : (long) ns_rr_ttl(rr);
	if (ttl < 0 || t < ttl)
	    ttl = t;
    }
    return ttl;
}

/* sort_mx - order MX targets by preference (insertion sort, few records) */
static void
sort_mx(struct dnsq_result *res, unsigned *prefs)
{
    size_t i, j;

    for (i = 1; i < res->n; i++) {
	unsigned p = prefs[i];
	char *s = res->v[i];

	for (j = i; j > 0 && prefs[j - 1] > p; j--) {
	    prefs[j] = prefs[j - 1];
	    res->v[j] = res->v[j - 1];
	}
	prefs[j] = p;
	res->v[j] = s;
    }
}

/* dnsq_reverse_name - 4.3.2.1.in-addr.arpa or the nibbles of ip6.arpa */
int
dnsq_reverse_name(const char *ip, char *out, size_t outlen)
{
    unsigned char a[16];
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    int i;

    if (inet_pton(AF_INET, ip, a) == 1) {
	if (snprintf(out, outlen, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1],
		     a[0]) >= (int) outlen)
	    return -1;
	return 0;
    }
    if (inet_pton(AF_INET6, ip, a) != 1 || outlen < 16 * 4 + sizeof("ip6.arpa"))
	return -1;
    for (i = 15; i >= 0; i--) {
	out[n++] = hex[a[i] & 15];
	out[n++] = '.';
	out[n++] = hex[a[i] >> 4];
	out[n++] = '.';
    }
    memcpy(out + n, "ip6.arpa", sizeof("ip6.arpa"));
    return 0;
}
