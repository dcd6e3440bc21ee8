/*
 * nodeinfo - what must be the same on every relay node, as fingerprints in Redis
 *
 * SYNOPSIS
 *	#include "nodeinfo.h"
 *
 *	struct nodeinfo *nodeinfo_collect(const struct outpost_conf *conf,
 *					  uid_t owner, char *err,
 *					  size_t errlen);
 *	void nodeinfo_free(struct nodeinfo *ni);
 *	int nodeinfo_publish(struct rconn *rc, const char *prefix,
 *			     const char *node, const struct nodeinfo *ni,
 *			     long long now);
 *
 * DESCRIPTION
 *	Several relay nodes share one Redis: limits, suppressions and
 *	statistics are global, but the DKIM keys, the intake secrets and the
 *	settings each node reads from its own files must agree, or mail
 *	signed by one node fails where the next one's key is published and
 *	a bounce tagged by one is forged to the other.  Each node therefore
 *	publishes fingerprints of them; outpostctl check-config --cluster
 *	compares the nodes' entries.
 *
 *	nodeinfo_collect() reads them from a configuration (loading the key
 *	table and the secret file, whose files must belong to owner as the
 *	milter requires): fields and values, never a secret itself:
 *
 *	version			the Outpost version
 *	bounce_domain		the bounce-domain pattern, or "-"
 *	dkim:DOMAIN:SELECTOR	"ALG sha256:HEX d=SIGNING-DOMAIN": the SHA-256
 *				of the public key (DER SubjectPublicKeyInfo)
 *	intake_secret:N		secret N (from 1, the first signs) as
 *				verp_key_id(3) names it
 *	limits			SHA-256 of the limits and pools as read:
 *				[policy] rates, [provider], [pool] (without
 *				its addresses, which differ per node),
 *				[domain], [sender]
 *
 *	It returns NULL with the problem in err when a file cannot be read.
 *
 *	nodeinfo_publish() replaces the node's entry in one script call:
 *	the hash P{cluster}:node:NODE (the fields above and "updated", UNIX
 *	seconds), with a TTL of NODEINFO_TTL seconds, and the node's score
 *	(updated) in the sorted set P{cluster}:nodes.  It returns 0, or -1
 *	on a Redis problem.  The milter publishes at start, at every reload
 *	and every NODEINFO_REFRESH seconds; an entry not refreshed for
 *	NODEINFO_STALE seconds belongs to a node that is down or hung.
 */
#ifndef OUTPOST_NODEINFO_H
#define OUTPOST_NODEINFO_H

#include <stddef.h>
#include <sys/types.h>

#include "conf.h"
#include "redisconn.h"

#define NODEINFO_REFRESH 60		/* seconds */
#define NODEINFO_STALE (3 * NODEINFO_REFRESH)
#define NODEINFO_TTL 86400

struct nodeinfo {
    size_t n, cap;
    char **name;
    char **value;
};

struct nodeinfo *nodeinfo_collect(const struct outpost_conf *conf, uid_t owner,
				  char *err, size_t errlen);
void nodeinfo_free(struct nodeinfo *ni);
int nodeinfo_publish(struct rconn *rc, const char *prefix, const char *node,
		     const struct nodeinfo *ni, long long now);

#endif
