/*
 * blname - which blocklist a refusal names
 *
 * SYNOPSIS
 *	#include "blname.h"
 *
 *	int blname_find(const char *text, size_t len, struct blname *out);
 *	const char *blname_family(const char *zone);
 *	const char *blname_family_named(const char *name);
 *	const char *blname_list(const struct conf_vec *blocklists,
 *				const struct blname *b);
 *	const char *blname_pool(const struct conf_vec *pools, const char *ip);
 *
 * DESCRIPTION
 *	A receiver that refuses mail because a DNS blocklist lists the
 *	sending address usually says which list: "Client host [192.0.2.10]
 *	blocked using zen.spamhaus.org", "is in a black list at
 *	bl.spamcop.net", "listed on Cloudmark CSI", "blocked using Barracuda
 *	Reputation", "Blocked - see https://www.spamcop.net/bl.shtml?...",
 *	Microsoft's "(S3150)" and "banned sending IP".
 *
 *	blname_find() reads such a text (outside input: len bytes, no NUL
 *	needed, one pass per rule, nothing kept beyond out).  In order of
 *	trust it takes: the DNS name after "blocked using", "listed in/on/
 *	at/by", "black list at", "blacklisted by", "rbl on" and the like
 *	(out->zone, and its family when the name is a known operator's);
 *	the operator's name in that place ("blocked using Barracuda
 *	Reputation"); a host name of a known operator anywhere in the text
 *	(a delisting URL); an operator's own wording (Microsoft's S3150).
 *	out->family is then the operator's short name ("spamhaus",
 *	"barracuda", "spamcop", "sorbs", "uceprotect", "microsoft",
 *	"proofpoint", "cloudmark", ...), a static string, or NULL.  out->ip
 *	is the first IPv4 address in the text or IPv6 address in brackets,
 *	or "".  out->how says which rule spoke (BLNAME_ZONE, BLNAME_MARKER,
 *	BLNAME_HOST, BLNAME_WORD: from the most to the least certain).  It
 *	returns 1 when a list is named (zone or family), else 0.
 *
 *	blname_family() gives the family of a zone by its domain
 *	("zen.spamhaus.org" and "zen.dq.spamhaus.net": "spamhaus"), or NULL.
 *
 *	blname_family_named() gives the static name of a family spelled
 *	name (any case), or NULL: a family read back from elsewhere.
 *
 *	blname_list() gives the [blocklist NAME] a found name stands for
 *	(blocklists: the configuration's struct conf_blocklist vector):
 *	the list whose zone is the named zone (or a zone under it), else the
 *	first list of the same family (an IP list before a domain list), else
 *	"other".  The answer is therefore always one of the configured names
 *	or "other": a text from outside never makes a name of its own.
 *
 *	blname_pool() gives the [pool] (of the struct conf_pool vector pools)
 *	one of whose addresses is ip, or NULL.
 */
#ifndef OUTPOST_BLNAME_H
#define OUTPOST_BLNAME_H

#include <stddef.h>

#include "conf.h"

#define BLNAME_ZONE_MAX	254
#define BLNAME_IP_MAX	46
#define BLNAME_OTHER	"other"

/* which rule found the list */
enum blname_how { BLNAME_NONE, BLNAME_ZONE, BLNAME_MARKER, BLNAME_HOST, BLNAME_WORD };

struct blname {
    char zone[BLNAME_ZONE_MAX];	/* lower case, or "" */
    const char *family;		/* static, or NULL */
    char ip[BLNAME_IP_MAX];	/* an address the text names, or "" */
    int how;			/* enum blname_how */
};

int blname_find(const char *text, size_t len, struct blname *out);
const char *blname_family(const char *zone);
const char *blname_family_named(const char *name);
const char *blname_list(const struct conf_vec *blocklists, const struct blname *b);
const char *blname_pool(const struct conf_vec *pools, const char *ip);

#endif
