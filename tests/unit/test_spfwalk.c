/*
 * test_spfwalk - counting SPF lookups and void lookups over include/redirect
 *
 * The records come from a table here instead of DNS: this tests the
 * counting rules; tests/integration/dns-verify.sh runs the walker
 * against a real DNS server.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "spfwalk.h"
#include "xalloc.h"

struct rr {
    const char *name;
    int type;
    const char *value;		/* NULL: the query fails with status */
    enum dnsq_status status;
};

static const struct rr zone[] = {
    {"ok.example", DNSQ_T_TXT, "v=spf1 ip4:192.0.2.1 include:_spf.ok.example mx -all", 0},
    {"ok.example", DNSQ_T_TXT, "some-verification=1", 0},
    {"_spf.ok.example", DNSQ_T_TXT, "v=spf1 a:h.ok.example ip6:2001:db8::/32 ~all", 0},
    {"h.ok.example", DNSQ_T_A, "192.0.2.2", 0},
    {"ok.example", DNSQ_T_MX, "mx.ok.example", 0},
    {"mx.ok.example", DNSQ_T_A, "192.0.2.3", 0},
    {"loop.example", DNSQ_T_TXT, "v=spf1 include:loop2.example -all", 0},
    {"loop2.example", DNSQ_T_TXT, "v=spf1 include:loop.example -all", 0},
    {"two.example", DNSQ_T_TXT, "v=spf1 -all", 0},
    {"two.example", DNSQ_T_TXT, "v=spf1 ~all", 0},
    {"voids.example", DNSQ_T_TXT, "v=spf1 a:n1.example mx:n2.example exists:n3.example -all", 0},
    {"noinc.example", DNSQ_T_TXT, "v=spf1 include:nothing.example -all", 0},
    {"bad.example", DNSQ_T_TXT, "v=spf1 include:_bad.example -all", 0},
    {"_bad.example", DNSQ_T_TXT, "v=spf1 ip4:1.2.3 -all", 0},
    {"fail.example", DNSQ_T_TXT, "v=spf1 include:_spf.broken.example -all", 0},
    {"_spf.broken.example", DNSQ_T_TXT, NULL, DNSQ_SERVFAIL},
    {"redir.example", DNSQ_T_TXT, "v=spf1 redirect=_spf.ok.example", 0},
    {"redirall.example", DNSQ_T_TXT, "v=spf1 -all redirect=_spf.ok.example", 0},
    {"macro.example", DNSQ_T_TXT, "v=spf1 include:%{ir}._spf.example exists:%{i}.x.example -all", 0},
    {NULL, 0, NULL, 0},
};

/* table_lookup - answer from the table: NXDOMAIN, NODATA or the records */
static enum dnsq_status
table_lookup(void *ctx, const char *name, int type, struct dnsq_result *res)
{
    const struct rr *r;
    int name_exists = 0;

    (void) ctx;
    memset(res, 0, sizeof(*res));
    for (r = zone; r->name; r++) {
	if (strcmp(r->name, name) != 0)
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

/* walk - run the walker on a domain of the table */
static void
walk(struct spfwalk *w, const char *domain)
{
    spfwalk_run(w, domain, table_lookup, NULL);
}

static void
test_ok(void **state)
{
    struct spfwalk w;

    (void) state;
    walk(&w, "ok.example");
    assert_int_equal(w.status, SPFW_OK);
    assert_int_equal(w.lookups, 3);	/* include, a (inside), mx */
    assert_int_equal(w.voids, 0);
    assert_string_equal(w.problem, "");
    assert_string_equal(w.record, "v=spf1 ip4:192.0.2.1 include:_spf.ok.example mx -all");
    assert_int_equal(w.top.n, 4);
    assert_int_equal(w.cost[1], 2);	/* the include and its a: */
    assert_int_equal(w.cost[2], 1);
    spfwalk_free(&w);

    walk(&w, "redir.example");
    assert_int_equal(w.status, SPFW_OK);
    assert_int_equal(w.lookups, 2);
    spfwalk_free(&w);

    walk(&w, "redirall.example");
    assert_int_equal(w.lookups, 0);
    assert_non_null(strstr(w.notes, "ignored"));
    spfwalk_free(&w);

    walk(&w, "macro.example");
    assert_int_equal(w.status, SPFW_OK);
    assert_int_equal(w.lookups, 2);
    assert_non_null(strstr(w.notes, "depends on the sender"));
    spfwalk_free(&w);
}

static void
test_problems(void **state)
{
    struct spfwalk w;

    (void) state;
    walk(&w, "none.example");
    assert_int_equal(w.status, SPFW_NONE);
    assert_null(w.record);
    spfwalk_free(&w);

    walk(&w, "loop.example");
    assert_int_equal(w.status, SPFW_PERMERROR);
    assert_non_null(strstr(w.problem, "loops"));
    spfwalk_free(&w);

    walk(&w, "two.example");
    assert_int_equal(w.status, SPFW_PERMERROR);
    assert_non_null(strstr(w.problem, "2 SPF records"));
    spfwalk_free(&w);

    walk(&w, "voids.example");
    assert_int_equal(w.status, SPFW_PERMERROR);
    assert_int_equal(w.voids, 3);
    assert_non_null(strstr(w.problem, "3 void lookups"));
    spfwalk_free(&w);

    walk(&w, "noinc.example");
    assert_int_equal(w.status, SPFW_PERMERROR);
    assert_non_null(strstr(w.problem, "nothing.example has no SPF record"));
    spfwalk_free(&w);

    walk(&w, "bad.example");
    assert_int_equal(w.status, SPFW_PERMERROR);
    assert_non_null(strstr(w.problem, "syntax error in the record of _bad.example"));
    assert_non_null(strstr(w.problem, "ip4:1.2.3"));
    spfwalk_free(&w);

    /* DNS trouble is never "missing" */
    walk(&w, "fail.example");
    assert_int_equal(w.status, SPFW_TEMPERROR);
    assert_non_null(strstr(w.problem, "SERVFAIL"));
    assert_null(strstr(w.problem, "no SPF record"));
    spfwalk_free(&w);
}

/* too_many - eleven lookups through nested includes */
static enum dnsq_status
chain_lookup(void *ctx, const char *name, int type, struct dnsq_result *res)
{
    char rec[64];
    int n;

    (void) ctx;
    memset(res, 0, sizeof(*res));
    if (type == DNSQ_T_A) {
	res->v = xreallocarray(NULL, 1, sizeof(char *));
	res->v[res->n++] = xstrdup("192.0.2.9");
	return res->status = DNSQ_OK;
    }
    if (type != DNSQ_T_TXT || sscanf(name, "l%d.example", &n) != 1)
	return res->status = DNSQ_NXDOMAIN;
    /* each level: one a: and an include of the next level, forever */
    snprintf(rec, sizeof(rec), "v=spf1 a:h.example include:l%d.example -all", n + 1);
    res->v = xreallocarray(NULL, 1, sizeof(char *));
    res->v[res->n++] = xstrdup(rec);
    return res->status = DNSQ_OK;
}

static void
test_limits(void **state)
{
    struct spfwalk w;

    (void) state;
    spfwalk_run(&w, "l0.example", chain_lookup, NULL);
    assert_int_equal(w.status, SPFW_PERMERROR);
    assert_true(w.lookups > SPFWALK_MAX_LOOKUPS);
    assert_non_null(strstr(w.problem, "DNS-querying terms (the limit is 10)"));
    assert_true(w.queries <= SPFWALK_MAX_QUERIES);
    spfwalk_free(&w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_ok),
	cmocka_unit_test(test_problems),
	cmocka_unit_test(test_limits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
