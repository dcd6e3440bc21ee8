/*
 * spfdns - libspf2's DNS lookups through dnsq(3), within a time budget
 *
 * SYNOPSIS
 *	#include "spfdns.h"
 *
 *	struct spfdns *spfdns_new(spfdns_lookup_fn lookup, void *ctx,
 *				  long long budget_ms);
 *	struct spfdns *spfdns_new_dnsq(struct dnsq *q);
 *	SPF_server_t *spfdns_server(struct spfdns *sd);
 *	void spfdns_free(struct spfdns *sd);
 *
 *	SPF_dns_server_t *spfdns_layer_new(spfdns_lookup_fn lookup, void *ctx,
 *					   long long budget_ms);
 *
 * DESCRIPTION
 *	libspf2 asks the DNS through a stack of "layers"; its own bottom layer
 *	(res_nquery() with /etc/resolv.conf's timeout and attempts) would
 *	bypass the resolver the rest of a domain check uses.  spfdns_new()
 *	builds an SPF server whose bottom layer asks lookup(ctx, ...) instead
 *	(dnsq_lookup() in real use, with its dnsq_timeout(3)), with libspf2's
 *	cache layer above it so that a name is asked once per server.
 *	spfdns_new_dnsq() is the one for a resolver q: its lookups are
 *	dnsq_lookup(q, ...), its budget SPFDNS_BUDGET_LOOKUPS times q's
 *	dnsq_timeout(3).  spfdns_server() is that server, for
 *	SPF_request_new(); spfdns_free()
 *	releases the server and its layers.
 *
 *	The layer answers A, AAAA, MX, TXT and PTR queries; what the DNS said
 *	becomes what libspf2 reads (RFC 7208 section 2.6):
 *
 *	DNSQ_OK		the records, herrno NETDB_SUCCESS
 *	DNSQ_NXDOMAIN	HOST_NOT_FOUND (a void lookup, never an error)
 *	DNSQ_NODATA	NO_DATA (the same)
 *	DNSQ_SERVFAIL, DNSQ_TIMEOUT, DNSQ_ERROR
 *			TRY_AGAIN: libspf2 stops the evaluation with
 *			temperror
 *
 *	Any other type is answered NO_DATA without a query, and a name no
 *	query can carry (a label over 63 octets, more than 253 in all: a
 *	macro's expansion) HOST_NOT_FOUND without a query.  An address
 *	record that does not parse is dropped, and so is an MX or PTR
 *	naming the root (a null MX, RFC 7505: no host to look up).
 *
 *	budget_ms (0: none) bounds the time all lookups of the server may
 *	take together: once it is spent, every further lookup answers
 *	TRY_AGAIN without asking.  Each lookup is already bounded by the
 *	resolver's own timeout; the budget bounds how many such waits one
 *	domain check can add up to, whatever the records say.  libspf2's
 *	own limits (10 DNS-querying terms, 10 MX or PTR names) still apply.
 *
 *	spfdns_layer_new() is the bare bottom layer, for tests: free it with
 *	SPF_dns_free().
 *
 *	A server and its layers belong to one thread; make one per check.
 */
#ifndef OUTPOST_SPFDNS_H
#define OUTPOST_SPFDNS_H

#include <spf2/spf.h>
#include <spf2/spf_dns.h>

#include "dnsq.h"

typedef enum dnsq_status (*spfdns_lookup_fn)(void *ctx, const char *name, int type,
					      struct dnsq_result *res);

/*
 * The SPF evaluations of one check may wait on the DNS for at most this many
 * lookup timeouts together: a record that leads to a name server that never
 * answers costs a few timeouts, not one per term and relay address.
 */
#define SPFDNS_BUDGET_LOOKUPS 10

struct spfdns;

struct spfdns *spfdns_new(spfdns_lookup_fn lookup, void *ctx, long long budget_ms);
struct spfdns *spfdns_new_dnsq(struct dnsq *q);
SPF_server_t *spfdns_server(struct spfdns *sd);
void spfdns_free(struct spfdns *sd);
SPF_dns_server_t *spfdns_layer_new(spfdns_lookup_fn lookup, void *ctx, long long budget_ms);

#endif
