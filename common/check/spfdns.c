/*
 * spfdns - libspf2's DNS lookups through dnsq(3) (see spfdns.h)
 *
 * A libspf2 layer is an SPF_dns_server_t whose lookup() returns an
 * SPF_dns_rr_t the caller frees: the queried name and type, herrno, and
 * num_rr records of that type (an address in binary form, a name or the
 * text of a TXT record).  This one answers from the caller's lookup
 * function and has no layer below it.
 */
#include "config.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include <spf2/spf.h>
#include <spf2/spf_dns.h>
#include <spf2/spf_dns_cache.h>

#include "monotime.h"
#include "msg.h"
#include "spfdns.h"
#include "xalloc.h"

/* libspf2's cache: 2^8 hash buckets, enough for the names of one check */
#define CACHE_BITS 8

/* the bottom layer's own data */
struct layer {
    spfdns_lookup_fn lookup;
    void *ctx;
    long long budget_ms;	/* 0: none */
    long long spent_ms;		/* in lookups so far */
};

struct spfdns {
    SPF_dns_server_t *cache;	/* libspf2's cache, above the layer */
    SPF_server_t *server;
};

static SPF_dns_rr_t *layer_lookup(SPF_dns_server_t *, const char *, ns_type, int);
static void layer_destroy(SPF_dns_server_t *);

/* new_rr - an answer with no records yet; dies when memory is short */
static SPF_dns_rr_t *
new_rr(SPF_dns_server_t *s, const char *name, ns_type type, SPF_dns_stat_t herrno)
{
    SPF_dns_rr_t *rr = SPF_dns_rr_new_init(s, name, type, 0, herrno);

    if (rr == NULL)
	msg_fatal("libspf2: out of memory");
    return rr;
}

/* add_bytes - one record of len bytes to an answer */
static void
add_bytes(SPF_dns_rr_t *rr, const void *data, size_t len)
{
    if (SPF_dns_rr_buf_realloc(rr, rr->num_rr, len) != SPF_E_SUCCESS)
	msg_fatal("libspf2: out of memory");
    memcpy(rr->rr[rr->num_rr], data, len);
    rr->num_rr++;
}

/* add_record - one of dnsq's records, as libspf2 holds that type */
static void
add_record(SPF_dns_rr_t *rr, ns_type type, const char *v)
{
    struct in6_addr a6;
    struct in_addr a4;

    switch (type) {
    case ns_t_a:
	if (inet_pton(AF_INET, v, &a4) == 1)
	    add_bytes(rr, &a4, sizeof(a4));
	break;
    case ns_t_aaaa:
	if (inet_pton(AF_INET6, v, &a6) == 1)
	    add_bytes(rr, &a6, sizeof(a6));
	break;
    case ns_t_mx:
    case ns_t_ptr:
	/* the root (dnsq writes it "."): a null MX (RFC 7505) names no host */
	if (*v != '\0' && strcmp(v, ".") != 0)
	    add_bytes(rr, v, strlen(v) + 1);
	break;
    default:			/* ns_t_txt */
	add_bytes(rr, v, strlen(v) + 1);
	break;
    }
}

/* layer_lookup - ask the caller's resolver; what it said, as herrno */
static SPF_dns_rr_t *
layer_lookup(SPF_dns_server_t *s, const char *name, ns_type type, int should_cache)
{
    struct layer *l = s->hook;
    unsigned char wire[NS_MAXCDNAME];
    struct dnsq_result res;
    enum dnsq_status st;
    SPF_dns_rr_t *rr;
    long long start;
    size_t i;

    (void) should_cache;
    if (type != ns_t_a && type != ns_t_aaaa && type != ns_t_mx && type != ns_t_txt
	&& type != ns_t_ptr)
	return new_rr(s, name, type, NO_DATA);
    /*
     * A name no query can carry (a label over 63 octets, as %{l} of a long
     * local part makes, or over 253 in all): the resolver fails without
     * asking, which dnsq reports as no answer (temperror); no such name
     * can exist, so it is a void lookup, as with libspf2's own resolver.
     */
    if (ns_name_pton(name, wire, sizeof(wire)) < 0)
	return new_rr(s, name, type, HOST_NOT_FOUND);
    if (l->budget_ms > 0 && l->spent_ms >= l->budget_ms)
	return new_rr(s, name, type, TRY_AGAIN);
    start = monotime_ms();
    st = l->lookup(l->ctx, name, (int) type, &res);
    l->spent_ms += monotime_ms() - start;
    switch (st) {
    case DNSQ_OK:
	rr = new_rr(s, name, type, NETDB_SUCCESS);
	for (i = 0; i < res.n; i++)
	    add_record(rr, type, res.v[i]);
	if (rr->num_rr == 0)
	    rr->herrno = NO_DATA;
	break;
    case DNSQ_NXDOMAIN:
	rr = new_rr(s, name, type, HOST_NOT_FOUND);
	break;
    case DNSQ_NODATA:
	rr = new_rr(s, name, type, NO_DATA);
	break;
    default:			/* SERVFAIL, timeout, refused, malformed */
	rr = new_rr(s, name, type, TRY_AGAIN);
	break;
    }
    dnsq_result_free(&res);
    return rr;
}

/* layer_destroy - libspf2's SPF_dns_free() of the layer */
static void
layer_destroy(SPF_dns_server_t *s)
{
    free(s->hook);
    free(s);
}

/* spfdns_layer_new - the bottom layer on lookup(ctx, ...) */
SPF_dns_server_t *
spfdns_layer_new(spfdns_lookup_fn lookup, void *ctx, long long budget_ms)
{
    SPF_dns_server_t *s = xcalloc(1, sizeof(*s));
    struct layer *l = xcalloc(1, sizeof(*l));

    l->lookup = lookup;
    l->ctx = ctx;
    l->budget_ms = budget_ms > 0 ? budget_ms : 0;
    s->destroy = layer_destroy;
    s->lookup = layer_lookup;
    s->name = "outpost-dnsq";
    s->hook = l;
    return s;
}

/* spfdns_new - an SPF server: libspf2's cache over the layer */
struct spfdns *
spfdns_new(spfdns_lookup_fn lookup, void *ctx, long long budget_ms)
{
    struct spfdns *sd = xcalloc(1, sizeof(*sd));
    SPF_dns_server_t *layer = spfdns_layer_new(lookup, ctx, budget_ms);

    if ((sd->cache = SPF_dns_cache_new(layer, NULL, 0, CACHE_BITS)) == NULL
	|| (sd->server = SPF_server_new_dns(sd->cache, 0)) == NULL)
	msg_fatal("libspf2: cannot create an SPF server");
    return sd;
}

/* ask_dnsq - the lookup of spfdns_new_dnsq(): dnsq(3) itself */
static enum dnsq_status
ask_dnsq(void *ctx, const char *name, int type, struct dnsq_result *res)
{
    return dnsq_lookup(ctx, name, type, res);
}

/* spfdns_new_dnsq - a server asking q, within SPFDNS_BUDGET_LOOKUPS of its timeout */
struct spfdns *
spfdns_new_dnsq(struct dnsq *q)
{
    return spfdns_new(ask_dnsq, q, SPFDNS_BUDGET_LOOKUPS * dnsq_timeout_ms(q));
}

/* spfdns_server - the server, for SPF_request_new() */
SPF_server_t *
spfdns_server(struct spfdns *sd)
{
    return sd->server;
}

/* spfdns_free - the server, then its layers (SPF_dns_free() frees those below) */
void
spfdns_free(struct spfdns *sd)
{
    if (sd == NULL)
	return;
    SPF_server_free(sd->server);
    SPF_dns_free(sd->cache);
    free(sd);
}
