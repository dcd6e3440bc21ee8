/*
 * test_spfdns - libspf2's lookups through a resolver of ours: what each
 * answer becomes, whole evaluations, the cache and the time budget
 *
 * The answers come from a table here instead of DNS; the integration tests
 * dns-verify.sh and api-verify.sh run the layer against a real DNS server.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "spfdns.h"
#include "xalloc.h"

struct rr {
    const char *name;
    int type;
    const char *value;		/* NULL: the query fails with status */
    enum dnsq_status status;
};

static const struct rr zone[] = {
    {"two.example", DNSQ_T_A, "192.0.2.1", 0},
    {"two.example", DNSQ_T_A, "192.0.2.2", 0},
    {"two.example", DNSQ_T_AAAA, "2001:db8::1", 0},
    {"two.example", DNSQ_T_MX, "mx1.two.example", 0},
    {"two.example", DNSQ_T_MX, "mx2.two.example", 0},
    {"two.example", DNSQ_T_TXT, "v=spf1 -all", 0},
    {"1.2.0.192.in-addr.arpa", DNSQ_T_PTR, "two.example", 0},
    {"junk.example", DNSQ_T_A, "not-an-address", 0},
    {"servfail.example", DNSQ_T_A, NULL, DNSQ_SERVFAIL},
    {"timeout.example", DNSQ_T_A, NULL, DNSQ_TIMEOUT},
    {"refused.example", DNSQ_T_A, NULL, DNSQ_ERROR},
    /* whole evaluations */
    {"ok.example", DNSQ_T_TXT, "v=spf1 include:_spf.ok.example a:h.ok.example mx -all", 0},
    {"ok.example", DNSQ_T_TXT, "some-verification=1", 0},
    {"_spf.ok.example", DNSQ_T_TXT, "v=spf1 ip4:192.0.2.10 ip6:2001:db8:10::/48 ~all", 0},
    {"h.ok.example", DNSQ_T_A, "192.0.2.20", 0},
    {"ok.example", DNSQ_T_MX, "mx.ok.example", 0},
    {"mx.ok.example", DNSQ_T_A, "192.0.2.30", 0},
    {"dead.example", DNSQ_T_TXT, "v=spf1 include:_spf.dead.example ip4:192.0.2.10 -all", 0},
    {"_spf.dead.example", DNSQ_T_TXT, NULL, DNSQ_TIMEOUT},
    {"*._e.dead.example", DNSQ_T_A, NULL, DNSQ_TIMEOUT},
    {"macro.example", DNSQ_T_TXT, "v=spf1 exists:%{i}._e.dead.example ip4:192.0.2.10 -all", 0},
    {"noinc.example", DNSQ_T_TXT, "v=spf1 include:nothing.example -all", 0},
    {"void.example", DNSQ_T_TXT, "v=spf1 a:nothing.example ip4:192.0.2.10 -all", 0},
    {"long.example", DNSQ_T_TXT, "v=spf1 exists:%{l}._x.long.example ip4:192.0.2.10 -all", 0},
    {NULL, 0, NULL, 0},
};

/* what the table was asked */
static int calls;
static char last_name[300];
static int slow_ms;		/* each lookup takes this long */

/* matches - is name the table's name, or under its "*." wildcard? */
static int
matches(const char *pattern, const char *name)
{
    size_t pl = strlen(pattern), nl = strlen(name);

    if (strncmp(pattern, "*.", 2) != 0)
	return strcmp(pattern, name) == 0;
    return nl > pl - 1 && strcmp(name + nl - (pl - 1), pattern + 1) == 0;
}

/* table_lookup - answer from the table: NXDOMAIN, NODATA or the records */
static enum dnsq_status
table_lookup(void *ctx, const char *name, int type, struct dnsq_result *res)
{
    const struct rr *r;
    int name_exists = 0;

    (void) ctx;
    calls++;
    snprintf(last_name, sizeof(last_name), "%s", name);
    if (slow_ms > 0) {
	struct timespec ts = {slow_ms / 1000, (slow_ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
    }
    memset(res, 0, sizeof(*res));
    for (r = zone; r->name; r++) {
	if (!matches(r->name, name))
	    continue;
	name_exists = 1;
	if (r->type != type)
	    continue;
	if (r->value == NULL)
	    return res->status = r->status;
	res->v = xreallocarray(res->v, res->n + 1, sizeof(char *));
	res->v[res->n++] = xstrdup(r->value);
    }
    if (res->n)
	return res->status = DNSQ_OK;
    return res->status = name_exists ? DNSQ_NODATA : DNSQ_NXDOMAIN;
}

/* ask - one lookup through the bare layer */
static SPF_dns_rr_t *
ask(SPF_dns_server_t *layer, const char *name, ns_type type)
{
    SPF_dns_rr_t *rr = SPF_dns_lookup(layer, name, type, 1);

    assert_non_null(rr);
    assert_int_equal(rr->rr_type, type);
    assert_string_equal(rr->domain, name);
    return rr;
}

static void
test_answers(void **state)
{
    SPF_dns_server_t *layer = spfdns_layer_new(table_lookup, NULL, 0);
    SPF_dns_rr_t *rr;
    char buf[INET6_ADDRSTRLEN];

    (void) state;
    rr = ask(layer, "two.example", ns_t_a);
    assert_int_equal(rr->herrno, NETDB_SUCCESS);
    assert_int_equal(rr->num_rr, 2);
    assert_string_equal(inet_ntop(AF_INET, &rr->rr[0]->a, buf, sizeof(buf)), "192.0.2.1");
    assert_string_equal(inet_ntop(AF_INET, &rr->rr[1]->a, buf, sizeof(buf)), "192.0.2.2");
    SPF_dns_rr_free(rr);

    rr = ask(layer, "two.example", ns_t_aaaa);
    assert_int_equal(rr->herrno, NETDB_SUCCESS);
    assert_int_equal(rr->num_rr, 1);
    assert_string_equal(inet_ntop(AF_INET6, &rr->rr[0]->aaaa, buf, sizeof(buf)), "2001:db8::1");
    SPF_dns_rr_free(rr);

    rr = ask(layer, "two.example", ns_t_mx);
    assert_int_equal(rr->num_rr, 2);
    assert_string_equal(rr->rr[0]->mx, "mx1.two.example");
    assert_string_equal(rr->rr[1]->mx, "mx2.two.example");
    SPF_dns_rr_free(rr);

    rr = ask(layer, "two.example", ns_t_txt);
    assert_int_equal(rr->num_rr, 1);
    assert_string_equal(rr->rr[0]->txt, "v=spf1 -all");
    SPF_dns_rr_free(rr);

    rr = ask(layer, "1.2.0.192.in-addr.arpa", ns_t_ptr);
    assert_int_equal(rr->num_rr, 1);
    assert_string_equal(rr->rr[0]->ptr, "two.example");
    SPF_dns_rr_free(rr);

    /* missing: void lookups, never errors */
    rr = ask(layer, "nothing.example", ns_t_a);
    assert_int_equal(rr->herrno, HOST_NOT_FOUND);
    assert_int_equal(rr->num_rr, 0);
    SPF_dns_rr_free(rr);
    rr = ask(layer, "two.example", ns_t_ptr);
    assert_int_equal(rr->herrno, NO_DATA);
    assert_int_equal(rr->num_rr, 0);
    SPF_dns_rr_free(rr);
    rr = ask(layer, "junk.example", ns_t_a);	/* nothing usable */
    assert_int_equal(rr->herrno, NO_DATA);
    assert_int_equal(rr->num_rr, 0);
    SPF_dns_rr_free(rr);

    /* DNS trouble: TRY_AGAIN, libspf2's temperror */
    rr = ask(layer, "servfail.example", ns_t_a);
    assert_int_equal(rr->herrno, TRY_AGAIN);
    SPF_dns_rr_free(rr);
    rr = ask(layer, "timeout.example", ns_t_a);
    assert_int_equal(rr->herrno, TRY_AGAIN);
    SPF_dns_rr_free(rr);
    rr = ask(layer, "refused.example", ns_t_a);
    assert_int_equal(rr->herrno, TRY_AGAIN);
    assert_int_equal(rr->num_rr, 0);
    SPF_dns_rr_free(rr);

    /* a type the layer does not ask about: no data, and no query */
    calls = 0;
    rr = ask(layer, "two.example", ns_t_spf);
    assert_int_equal(rr->herrno, NO_DATA);
    assert_int_equal(calls, 0);
    SPF_dns_rr_free(rr);
    SPF_dns_free(layer);
}

/* nullmx_lookup - dnsq's own reader over a raw answer: "MX 0 ." (RFC 7505) */
static enum dnsq_status
nullmx_lookup(void *ctx, const char *name, int type, struct dnsq_result *res)
{
    static const unsigned char answer[] = {
	0, 0, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
	6, 'n', 'u', 'l', 'l', 'm', 'x', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 15, 0, 1,
	0xc0, 12, 0, 15, 0, 1, 0, 0, 1, 44, 0, 3, 0, 0, 0
    };

    (void) ctx;
    (void) name;
    calls++;
    memset(res, 0, sizeof(*res));
    if (type != DNSQ_T_MX || dnsq_parse_answer(answer, sizeof(answer), type, res) < 0)
	return res->status = DNSQ_ERROR;
    return res->status = res->n > 0 ? DNSQ_OK : DNSQ_NODATA;
}

static void
test_null_mx(void **state)
{
    SPF_dns_server_t *layer = spfdns_layer_new(nullmx_lookup, NULL, 0);
    struct dnsq_result res;
    SPF_dns_rr_t *rr;

    (void) state;
    /* dnsq gives the root as "." */
    assert_int_equal(nullmx_lookup(NULL, "nullmx.example", DNSQ_T_MX, &res), DNSQ_OK);
    assert_int_equal(res.n, 1);
    assert_string_equal(res.v[0], ".");
    dnsq_result_free(&res);

    /* it names no host: no MX name for libspf2 to look up */
    rr = ask(layer, "nullmx.example", ns_t_mx);
    assert_int_equal(rr->num_rr, 0);
    assert_int_equal(rr->herrno, NO_DATA);
    SPF_dns_rr_free(rr);
    SPF_dns_free(layer);
}

/* dnsq_ask - the system resolver itself (ctx: a dnsq) */
static enum dnsq_status
dnsq_ask(void *ctx, const char *name, int type, struct dnsq_result *res)
{
    calls++;
    return dnsq_lookup(ctx, name, type, res);
}

/* mixed_lookup - the table, but a name with a label too long goes to the resolver */
static enum dnsq_status
mixed_lookup(void *ctx, const char *name, int type, struct dnsq_result *res)
{
    const char *label, *dot;

    for (label = name; (dot = strchr(label, '.')) != NULL; label = dot + 1)
	if (dot - label > 63)
	    return dnsq_ask(ctx, name, type, res);
    return table_lookup(NULL, name, type, res);
}

static void
test_unaskable_name(void **state)
{
    struct dnsq *q = dnsq_new();
    SPF_dns_server_t *layer = spfdns_layer_new(dnsq_ask, q, 0);
    SPF_response_t *resp = NULL;
    SPF_request_t *req;
    struct spfdns *sd;
    SPF_dns_rr_t *rr;
    char name[400], sender[100];
    size_t i;

    (void) state;
    /* a label of 64 octets (%{l} of a 64-character local part): no query can carry it */
    memset(name, 'a', 64);
    strcpy(name + 64, ".example");
    rr = ask(layer, name, ns_t_a);
    assert_int_equal(rr->herrno, HOST_NOT_FOUND);	/* no such name, not DNS trouble */
    assert_int_equal(rr->num_rr, 0);
    SPF_dns_rr_free(rr);

    /* a name of more than 253 octets */
    for (i = 0; i < 5; i++)
	memset(name + i * 60, 'b', 59), name[i * 60 + 59] = '.';
    strcpy(name + 300, "example");
    rr = ask(layer, name, ns_t_txt);
    assert_int_equal(rr->herrno, HOST_NOT_FOUND);
    SPF_dns_rr_free(rr);
    SPF_dns_free(layer);

    /*
     * In an evaluation: exists:%{l}... of a 64-character local part matches
     * nothing, and the ip4 term after it passes (not temperror)
     */
    sd = spfdns_new(mixed_lookup, q, 0);
    req = SPF_request_new(spfdns_server(sd));
    memset(sender, 'a', 64);
    strcpy(sender + 64, "@long.example");
    assert_int_equal(SPF_request_set_ipv4_str(req, "192.0.2.10"), SPF_E_SUCCESS);
    assert_int_equal(SPF_request_set_env_from(req, sender), 0);
    SPF_request_query_mailfrom(req, &resp);
    assert_non_null(resp);
    assert_int_equal(SPF_response_result(resp), SPF_RESULT_PASS);
    SPF_response_free(resp);
    SPF_request_free(req);
    spfdns_free(sd);
    dnsq_free(q);
}

/* eval - libspf2's verdict for ip as sender of postmaster@domain */
static SPF_result_t
eval(struct spfdns *sd, const char *ip, const char *domain)
{
    SPF_request_t *req = SPF_request_new(spfdns_server(sd));
    SPF_response_t *resp = NULL;
    SPF_result_t r = SPF_RESULT_INVALID;
    char sender[300];

    snprintf(sender, sizeof(sender), "postmaster@%s", domain);
    if (strchr(ip, ':'))
	assert_int_equal(SPF_request_set_ipv6_str(req, ip), SPF_E_SUCCESS);
    else
	assert_int_equal(SPF_request_set_ipv4_str(req, ip), SPF_E_SUCCESS);
    assert_int_equal(SPF_request_set_env_from(req, sender), 0);
    SPF_request_query_mailfrom(req, &resp);
    assert_non_null(resp);
    r = SPF_response_result(resp);
    SPF_response_free(resp);
    SPF_request_free(req);
    return r;
}

static void
test_evaluations(void **state)
{
    struct spfdns *sd = spfdns_new(table_lookup, NULL, 0);

    (void) state;
    assert_int_equal(eval(sd, "192.0.2.10", "ok.example"), SPF_RESULT_PASS);	/* include */
    assert_int_equal(eval(sd, "2001:db8:10::5", "ok.example"), SPF_RESULT_PASS);
    assert_int_equal(eval(sd, "192.0.2.20", "ok.example"), SPF_RESULT_PASS);	/* a: */
    assert_int_equal(eval(sd, "192.0.2.30", "ok.example"), SPF_RESULT_PASS);	/* mx */
    assert_int_equal(eval(sd, "198.51.100.1", "ok.example"), SPF_RESULT_FAIL);
    assert_int_equal(eval(sd, "192.0.2.10", "none.example"), SPF_RESULT_NONE);
    assert_int_equal(eval(sd, "192.0.2.10", "noinc.example"), SPF_RESULT_PERMERROR);
    assert_int_equal(eval(sd, "192.0.2.10", "void.example"), SPF_RESULT_PASS);

    /* a name server that does not answer: temperror, not "no record" */
    assert_int_equal(eval(sd, "192.0.2.10", "dead.example"), SPF_RESULT_TEMPERROR);
    calls = 0;
    assert_int_equal(eval(sd, "192.0.2.10", "macro.example"), SPF_RESULT_TEMPERROR);
    assert_string_equal(last_name, "192.0.2.10._e.dead.example");

    /* libspf2's cache above the layer: a record is asked once per server */
    calls = 0;
    assert_int_equal(eval(sd, "192.0.2.20", "ok.example"), SPF_RESULT_PASS);
    assert_int_equal(calls, 0);
    spfdns_free(sd);
}

static void
test_budget(void **state)
{
    SPF_dns_server_t *layer = spfdns_layer_new(table_lookup, NULL, 50);
    SPF_dns_rr_t *rr;

    (void) state;
    calls = 0;
    slow_ms = 60;		/* more than the whole budget */
    rr = ask(layer, "two.example", ns_t_a);
    assert_int_equal(rr->herrno, NETDB_SUCCESS);	/* asked: budget left */
    assert_int_equal(calls, 1);
    SPF_dns_rr_free(rr);
    rr = ask(layer, "two.example", ns_t_txt);
    assert_int_equal(rr->herrno, TRY_AGAIN);	/* spent: not asked */
    assert_int_equal(rr->num_rr, 0);
    assert_int_equal(calls, 1);
    SPF_dns_rr_free(rr);
    slow_ms = 0;
    SPF_dns_free(layer);

    /* no budget: every lookup is asked */
    layer = spfdns_layer_new(table_lookup, NULL, 0);
    slow_ms = 20;
    rr = ask(layer, "two.example", ns_t_a);
    SPF_dns_rr_free(rr);
    rr = ask(layer, "two.example", ns_t_txt);
    assert_int_equal(rr->herrno, NETDB_SUCCESS);
    assert_int_equal(calls, 3);
    SPF_dns_rr_free(rr);
    slow_ms = 0;
    SPF_dns_free(layer);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_answers),
	cmocka_unit_test(test_evaluations),
	cmocka_unit_test(test_budget),
	cmocka_unit_test(test_null_mx),
	cmocka_unit_test(test_unaskable_name),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
