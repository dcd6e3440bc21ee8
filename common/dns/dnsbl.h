/*
 * dnsbl - is an address or a domain on a DNS blocklist
 *
 * SYNOPSIS
 *	#include "dnsbl.h"
 *
 *	int dnsbl_query_name(const struct conf_blocklist *bl,
 *			     const char *target, char *out, size_t outlen);
 *	enum dnsbl_verdict dnsbl_classify(const struct conf_blocklist *bl,
 *					  const struct dnsq_result *a,
 *					  const char **code, const char **why);
 *	void dnsbl_check(struct dnsq *q, const struct conf_blocklist *bl,
 *			 const char *target, struct dnsbl_result *res);
 *	void dnsbl_result_free(struct dnsbl_result *res);
 *	char *dnsbl_delist_url(const struct conf_blocklist *bl,
 *			       const char *target);
 *	const char *dnsbl_verdict_name(enum dnsbl_verdict v);
 *	int dnsbl_code_parse(const char *s, unsigned long *lo,
 *			     unsigned long *hi);
 *	void dnsbl_targets_collect(const struct outpost_conf *conf,
 *				   struct dnsbl_targets *ips,
 *				   struct dnsbl_targets *domains);
 *	void dnsbl_targets_add(struct dnsbl_targets *t, const char *s);
 *	void dnsbl_targets_free(struct dnsbl_targets *t);
 *	int dnsbl_domain_ok(const char *s);
 *
 * DESCRIPTION
 *	A blocklist ([blocklist NAME] in outpost.conf) is asked as RFC 5782
 *	describes: an IPv4 address by its octets reversed (192.0.2.1 ->
 *	1.2.0.192.ZONE), an IPv6 address by its 32 nibbles reversed, a
 *	domain as it is (example.com.ZONE).  With a key (Spamhaus DQS) the
 *	name is TARGET.KEY.ZONE.  dnsbl_query_name() builds that name; it
 *	returns -1 when the target is not of the list's kind (an address
 *	for an ip list, a domain name for a domain list) or the name is too
 *	long for the DNS.
 *
 *	dnsbl_classify() reads the A answer to that name.  NXDOMAIN and
 *	NODATA mean clean.  An answer holding a "refused" code (Spamhaus
 *	answers 127.255.255.252-255 to public resolvers and over quota) is
 *	unknown, whatever else it holds, and so, when no "listed" codes are
 *	configured, is one holding 127.0.0.1 (never an entry, RFC 5782
 *	section 5) or 127.255.255.0/24 (Spamhaus' errors); one holding a
 *	"listed" code (any other 127.0.0.0/8 address when none are
 *	configured) is listed; any other
 *	address (a resolver that rewrites NXDOMAIN, say) is unknown, as are
 *	SERVFAIL, a timeout and every other DNS error.  code points at the
 *	deciding address in a (or is NULL); why says in words what made an
 *	unknown.  Never is "the DNS did not answer" taken for clean.
 *
 *	dnsbl_check() asks the DNS (blocking, through dnsq) and fills res:
 *	the verdict, the code, and for a listing the list's reason (its TXT
 *	record at the same name, at most DNSBL_REASON_MAX bytes, control
 *	characters replaced).  The caller frees it with dnsbl_result_free().
 *
 *	dnsbl_delist_url() gives the list's delist_url with each "%s"
 *	replaced by the target (NULL when the list has none); the caller
 *	frees it.  dnsbl_code_parse() reads "127.0.0.2" or
 *	"127.0.0.2-127.0.0.11" into a range of host-order addresses.
 *
 *	dnsbl_targets_collect() adds what the relay's reputation rests on:
 *	to ips every [pool] address, to domains the DKIM key table's domains
 *	and signing domains (a table that does not load is warned about and
 *	skipped) and the pools' senders that are domain names (not SASL
 *	users).  Each appears once (any case); dnsbl_targets_add() adds one
 *	more the same way; dnsbl_targets_free() releases them.
 *	dnsbl_domain_ok() says whether s is a name a domain list can be
 *	asked about (LDH labels of 1-63 bytes, at least two of them).
 */
#ifndef OUTPOST_DNSBL_H
#define OUTPOST_DNSBL_H

#include <stddef.h>

#include "conf.h"
#include "dnsq.h"

#define DNSBL_NAME_MAX	254		/* a DNS name in text, and a NUL */
#define DNSBL_REASON_MAX 512
#define DNSBL_CODE_MAX	16

enum dnsbl_verdict { DNSBL_CLEAN, DNSBL_LISTED, DNSBL_UNKNOWN };

struct dnsbl_result {
    enum dnsbl_verdict verdict;
    char code[DNSBL_CODE_MAX];	/* the deciding answer, or "" */
    const char *why;		/* static text: what made an unknown */
    char *reason;		/* the list's TXT, or NULL */
};

/* Targets, each once, in the order first seen */
struct dnsbl_targets {
    char **v;
    size_t n;
};

int dnsbl_query_name(const struct conf_blocklist *bl, const char *target,
		     char *out, size_t outlen);
enum dnsbl_verdict dnsbl_classify(const struct conf_blocklist *bl,
				  const struct dnsq_result *a,
				  const char **code, const char **why);
void dnsbl_check(struct dnsq *q, const struct conf_blocklist *bl,
		 const char *target, struct dnsbl_result *res);
void dnsbl_result_free(struct dnsbl_result *res);
char *dnsbl_delist_url(const struct conf_blocklist *bl, const char *target);
const char *dnsbl_verdict_name(enum dnsbl_verdict v);
int dnsbl_code_parse(const char *s, unsigned long *lo, unsigned long *hi);
void dnsbl_targets_collect(const struct outpost_conf *conf,
			   struct dnsbl_targets *ips, struct dnsbl_targets *domains);
void dnsbl_targets_add(struct dnsbl_targets *t, const char *s);
void dnsbl_targets_free(struct dnsbl_targets *t);
int dnsbl_domain_ok(const char *s);

#endif
