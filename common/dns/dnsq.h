/*
 * dnsq - synchronous DNS queries that tell "missing" from "DNS trouble"
 *
 * SYNOPSIS
 *	#include "dnsq.h"
 *
 *	struct dnsq *dnsq_new(void);
 *	void dnsq_free(struct dnsq *q);
 *	void dnsq_timeout(struct dnsq *q, long long ms);
 *	long long dnsq_timeout_ms(const struct dnsq *q);
 *	enum dnsq_status dnsq_lookup(struct dnsq *q, const char *name, int type,
 *				     struct dnsq_result *res);
 *	void dnsq_result_free(struct dnsq_result *res);
 *	const char *dnsq_status_text(enum dnsq_status st);
 *	int dnsq_reverse_name(const char *ip, char *out, size_t outlen);
 *	int dnsq_parse_answer(const unsigned char *buf, int len, int type,
 *			      struct dnsq_result *res);
 *	long dnsq_answer_ttl(const unsigned char *buf, int len);
 *
 * DESCRIPTION
 *	dnsq_lookup() asks the system resolver (/etc/resolv.conf, including
 *	its timeout and attempts options) for records of one type: DNSQ_T_TXT,
 *	DNSQ_T_A, DNSQ_T_AAAA, DNSQ_T_MX or DNSQ_T_PTR.  Each answer record
 *	becomes one string in res->v: a TXT record's strings concatenated (as
 *	SPF, DKIM and DMARC require), an address in text form, an MX or PTR
 *	target name without the trailing dot.  MX targets are sorted by
 *	preference.  A CNAME chain is followed by the resolver; only records
 *	of the asked type are kept, and only those of the asked name or of a
 *	name its CNAMEs lead to (at most 8 links): records of the type for
 *	other names only make the answer DNSQ_ERROR.
 *
 *	The status says what the DNS said: DNSQ_OK (res->n >= 1),
 *	DNSQ_NXDOMAIN (no such name), DNSQ_NODATA (the name exists, no record
 *	of this type), DNSQ_SERVFAIL, DNSQ_TIMEOUT (no answer), DNSQ_ERROR
 *	(refused, malformed, ...).  Only NXDOMAIN and NODATA mean "missing";
 *	dnsq_trouble() is true for the others.  A name no query can carry (a
 *	label over 63 octets, over 253 in all) is not asked: NXDOMAIN.
 *
 *	At most DNSQ_MAX_RECORDS records are kept per answer.
 *
 *	dnsq_timeout() bounds each later lookup of q: one try of each name
 *	server, waiting ms (rounded up to whole seconds, the resolver's unit)
 *	for it, instead of resolv.conf's timeout and attempts.
 *	dnsq_timeout_ms() is that bound in milliseconds as applied (0: none
 *	set, resolv.conf's).
 *
 *	dnsq_parse_answer() is the reader of a raw answer (as the DNS sent
 *	it, len bytes) that dnsq_lookup() uses: it adds the records of the
 *	type and name to res (which the caller zeroes first and frees with
 *	dnsq_result_free()), and returns -1 when the answer is malformed or
 *	holds records of the type for other names only.
 *	dnsq_answer_ttl() gives the smallest TTL of a raw answer's records,
 *	-1 when it has none or is malformed (a TTL with its top bit set counts
 *	as 0, RFC 2181 section 8).
 *
 *	dnsq_reverse_name() builds the in-addr.arpa or ip6.arpa name for an
 *	address; it returns -1 when ip is not an address.
 */
#ifndef OUTPOST_DNSQ_H
#define OUTPOST_DNSQ_H

#include <stddef.h>

#define DNSQ_T_A	1
#define DNSQ_T_PTR	12
#define DNSQ_T_MX	15
#define DNSQ_T_TXT	16
#define DNSQ_T_AAAA	28

#define DNSQ_MAX_RECORDS 64

enum dnsq_status {
    DNSQ_OK, DNSQ_NXDOMAIN, DNSQ_NODATA, DNSQ_SERVFAIL, DNSQ_TIMEOUT,
    DNSQ_ERROR,
};

struct dnsq_result {
    enum dnsq_status status;
    char **v;
    size_t n;
};

struct dnsq;

struct dnsq *dnsq_new(void);
void dnsq_free(struct dnsq *q);
void dnsq_timeout(struct dnsq *q, long long ms);
long long dnsq_timeout_ms(const struct dnsq *q);
enum dnsq_status dnsq_lookup(struct dnsq *q, const char *name, int type,
			     struct dnsq_result *res);
void dnsq_result_free(struct dnsq_result *res);
const char *dnsq_status_text(enum dnsq_status st);
const char *dnsq_type_name(int type);
int dnsq_reverse_name(const char *ip, char *out, size_t outlen);
int dnsq_parse_answer(const unsigned char *buf, int len, int type,
		      struct dnsq_result *res);
long dnsq_answer_ttl(const unsigned char *buf, int len);

#define dnsq_trouble(st) ((st) == DNSQ_SERVFAIL || (st) == DNSQ_TIMEOUT \
			  || (st) == DNSQ_ERROR)
#define dnsq_missing(st) ((st) == DNSQ_NXDOMAIN || (st) == DNSQ_NODATA)

#endif
