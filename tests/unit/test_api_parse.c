/*
 * test_api_parse - the platform API's parsers: the key's shape and hash,
 * scopes and domains of a key, the router, query arguments, the Bearer
 * header, JSON rows into suppression-list CSV
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api_parse.h"
#include "apikey.h"
#include "suppress.h"

/* a new key: its shape, its ID, a hash of 64 hex digits; two keys differ */
static void
test_key_make(void **state)
{
    char k1[APIKEY_MAX], k2[APIKEY_MAX], id1[APIKEY_ID_MAX], id2[APIKEY_ID_MAX];
    char back[APIKEY_ID_MAX], h1[APIKEY_HASH_MAX], h2[APIKEY_HASH_MAX];

    (void) state;
    apikey_make(k1, id1);
    apikey_make(k2, id2);
    assert_int_equal(strlen(k1), APIKEY_LEN);
    assert_memory_equal(k1, "op_", 3);
    assert_memory_equal(k1 + 3, id1, APIKEY_ID_LEN);
    assert_string_not_equal(k1, k2);
    assert_int_equal(apikey_parse(k1, strlen(k1), back), 0);
    assert_string_equal(back, id1);
    apikey_hash(k1, strlen(k1), h1);
    apikey_hash(k2, strlen(k2), h2);
    assert_int_equal(strlen(h1), 64);
    assert_true(apikey_hash_equal(h1, h1));
    assert_false(apikey_hash_equal(h1, h2));
    assert_false(apikey_hash_equal(h1, ""));
}

/* the hash is SHA-256 of the whole key, in lowercase hex */
static void
test_key_hash(void **state)
{
    char h[APIKEY_HASH_MAX];

    (void) state;
    apikey_hash("abc", 3, h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* malformed keys are refused */
static void
test_key_parse(void **state)
{
    char good[APIKEY_MAX], id[APIKEY_ID_MAX], bad[APIKEY_MAX + 8];

    (void) state;
    apikey_make(good, id);
    assert_int_equal(apikey_parse(good, strlen(good) - 1, id), -1);
    memcpy(bad, good, sizeof(good));
    bad[0] = 'x';
    assert_int_equal(apikey_parse(bad, strlen(bad), id), -1);
    memcpy(bad, good, sizeof(good));
    bad[3 + APIKEY_ID_LEN] = '-';
    assert_int_equal(apikey_parse(bad, strlen(bad), id), -1);
    memcpy(bad, good, sizeof(good));
    bad[10] = 'G';
    assert_int_equal(apikey_parse(bad, strlen(bad), id), -1);
    memcpy(bad, good, sizeof(good));
    bad[APIKEY_LEN - 1] = 'A';		/* hex is lowercase */
    assert_int_equal(apikey_parse(bad, strlen(bad), id), -1);
    assert_int_equal(apikey_parse("", 0, id), -1);
}

/* scopes both ways; the domains of a record */
static void
test_scopes_domains(void **state)
{
    struct apikey_rec k;
    unsigned sc;
    char buf[64];

    (void) state;
    assert_int_equal(apikey_scopes_parse("stats,suppress", &sc), 0);
    assert_int_equal(sc, APIKEY_STATS | APIKEY_SUPPRESS);
    apikey_scopes_format(sc, buf, sizeof(buf));
    assert_string_equal(buf, "suppress,stats");
    apikey_scopes_format(APIKEY_ALL, buf, sizeof(buf));
    assert_string_equal(buf, "send,suppress,stats,events");
    assert_int_equal(apikey_scopes_parse("stats,", &sc), -1);
    assert_int_equal(apikey_scopes_parse("admin", &sc), -1);
    assert_int_equal(apikey_scopes_parse("", &sc), -1);
    memset(&k, 0, sizeof(k));
    strcpy(k.domains, "a.test,shop.test");
    assert_true(apikey_has_domain(&k, "shop.test"));
    assert_true(apikey_has_domain(&k, "A.test"));
    assert_false(apikey_has_domain(&k, "shop"));
    assert_false(apikey_has_domain(&k, "b.test"));
    assert_false(apikey_has_domain(&k, ""));
}

/* each route, its scope; 404 and 405 */
static void
test_route(void **state)
{
    struct api_route r;
    const char *why = NULL;

    (void) state;
    assert_int_equal(api_route("GET", "/v1/suppressions/Alice@Gmail.TEST", &r, &why), 0);
    assert_int_equal(r.op, API_SUP_GET);
    assert_int_equal(r.scope, APIKEY_SUPPRESS);
    assert_string_equal(r.target, "alice@gmail.test");
    assert_int_equal(api_route("HEAD", "/v1/suppressions/@gmail.test", &r, &why), 0);
    assert_int_equal(r.op, API_SUP_GET);
    assert_string_equal(r.target, "@gmail.test");
    assert_int_equal(api_route("PUT", "/v1/suppressions/a@b.test", &r, &why), 0);
    assert_int_equal(r.op, API_SUP_PUT);
    assert_int_equal(api_route("DELETE", "/v1/suppressions/a@b.test", &r, &why), 0);
    assert_int_equal(r.op, API_SUP_DELETE);
    assert_int_equal(api_route("POST", "/v1/suppressions/a@b.test", &r, &why), 405);
    assert_string_equal(why, "GET, HEAD, PUT, DELETE");
    assert_int_equal(api_route("GET", "/v1/suppressions", &r, &why), 0);
    assert_int_equal(r.op, API_SUP_LIST);
    assert_int_equal(r.limit, API_LIMIT_DEFAULT);
    assert_int_equal(api_route("DELETE", "/v1/suppressions", &r, &why), 405);
    assert_int_equal(api_route("POST", "/v1/suppressions:import", &r, &why), 0);
    assert_int_equal(r.op, API_SUP_IMPORT);
    assert_int_equal(api_route("GET", "/v1/suppressions:import", &r, &why), 405);
    assert_int_equal(api_route("GET", "/v1/stats", &r, &why), 0);
    assert_int_equal(r.op, API_STATS);
    assert_int_equal(r.scope, APIKEY_STATS);
    assert_int_equal(r.by, 1);
    assert_int_equal(api_route("POST", "/v1/messages", &r, &why), 0);
    assert_int_equal(r.op, API_MESSAGES);
    assert_int_equal(r.scope, APIKEY_SEND);
    assert_int_equal(api_route("GET", "/v1/messages", &r, &why), 405);
    assert_string_equal(why, "POST");
    assert_int_equal(api_route("GET", "/v1/events", &r, &why), 0);
    assert_int_equal(r.op, API_EVENTS);
    assert_int_equal(r.scope, APIKEY_EVENTS);
    assert_int_equal(api_route("DELETE", "/v1/events", &r, &why), 405);
    assert_int_equal(api_query(&r, "after", "1733500000000-7", &why), 0);
    assert_string_equal(r.after, "1733500000000-7");
    assert_int_equal(api_query(&r, "after", "1733500000000", &why), 0);
    assert_int_equal(api_query(&r, "after", "1733500000000-", &why), 400);
    assert_int_equal(api_query(&r, "after", "-1", &why), 400);
    assert_int_equal(api_query(&r, "after", "12-3-4", &why), 400);
    assert_int_equal(api_query(&r, "after", "123456789012345678901", &why), 400);
    /* 20 digits, but more than a stream id's 64 bits: Redis would refuse it */
    assert_int_equal(api_query(&r, "after", "18446744073709551616", &why), 400);
    assert_int_equal(api_query(&r, "after", "99999999999999999999-0", &why), 400);
    assert_int_equal(api_query(&r, "after", "1-18446744073709551616", &why), 400);
    assert_int_equal(api_query(&r, "after", "18446744073709551615-18446744073709551615",
				&why), 0);
    assert_int_equal(api_query(&r, "after", "", &why), 400);
    assert_int_equal(api_route("POST", "/v1/stats", &r, &why), 405);
    assert_int_equal(api_route("GET", "/v1/suppressions/a@b.test/x", &r, &why), 404);
    assert_int_equal(api_route("GET", "/v1/suppressions/", &r, &why), 404);
    assert_int_equal(api_route("GET", "/v1/suppressionsx", &r, &why), 404);
    assert_int_equal(api_route("GET", "/v2/stats", &r, &why), 404);
    /* GET /v1/domains/DOMAIN/verify: the path's domain, which ?domain= does not replace */
    assert_int_equal(api_route("GET", "/v1/domains/Shop.TEST/verify", &r, &why), 0);
    assert_int_equal(r.op, API_VERIFY);
    assert_int_equal(r.scope, APIKEY_STATS);
    assert_string_equal(r.domain, "shop.test");
    assert_int_equal(api_query(&r, "domain", "other.test", &why), 0);
    assert_string_equal(r.domain, "shop.test");
    assert_int_equal(api_route("HEAD", "/v1/domains/shop.test/verify", &r, &why), 0);
    assert_int_equal(api_route("POST", "/v1/domains/shop.test/verify", &r, &why), 405);
    assert_string_equal(why, "GET, HEAD");
    assert_int_equal(api_route("GET", "/v1/domains/shop.test", &r, &why), 404);
    assert_int_equal(api_route("GET", "/v1/domains//verify", &r, &why), 404);
    assert_int_equal(api_route("GET", "/v1/domains/shop.test/verify/x", &r, &why), 404);
    assert_int_equal(api_route("GET", "/v1/domains/a/b/verify", &r, &why), 404);
    assert_int_equal(api_route("GET", "/v1/domains/not..a.domain/verify", &r, &why), 400);
    assert_int_equal(api_route("GET", "/", &r, &why), 404);
    assert_int_equal(api_route("GET", "/v1/suppressions/not an address", &r, &why), 400);
}

/* query arguments: each checked, unknown ones ignored */
static void
test_query(void **state)
{
    struct api_route r;
    const char *why = NULL;

    (void) state;
    api_route("GET", "/v1/suppressions", &r, &why);
    assert_int_equal(api_query(&r, "domain", "Shop.TEST", &why), 0);
    assert_string_equal(r.domain, "shop.test");
    assert_int_equal(api_query(&r, "domain", "no domain", &why), 400);
    assert_int_equal(api_query(&r, "cursor", "4096", &why), 0);
    assert_int_equal(r.cursor, 4096);
    /* past the single layout's 2^18 buckets: the spread layout has 2^21 */
    assert_int_equal(api_query(&r, "cursor", "262144", &why), 0);
    assert_int_equal(api_query(&r, "cursor", "2097152", &why), 400);
    assert_int_equal(api_query(&r, "cursor", "-1", &why), 400);
    assert_int_equal(api_query(&r, "cursor", "12a", &why), 400);
    assert_int_equal(api_query(&r, "limit", "1000", &why), 0);
    assert_int_equal(r.limit, 1000);
    assert_int_equal(api_query(&r, "limit", "0", &why), 400);
    assert_int_equal(api_query(&r, "limit", "1001", &why), 400);
    assert_int_equal(api_query(&r, "limit", NULL, &why), 400);
    assert_int_equal(api_query(&r, "by", "sender", &why), 0);
    assert_int_equal(r.by, 0);
    assert_int_equal(api_query(&r, "by", "nobody", &why), 400);
    assert_int_equal(api_query(&r, "since", "3d", &why), 0);
    assert_string_equal(r.since, "3d");
    assert_int_equal(api_query(&r, "since", "", &why), 400);
    assert_int_equal(api_query(&r, "utm_source", "x", &why), 0);
}

/* the Bearer header */
static void
test_bearer(void **state)
{
    char k[APIKEY_MAX];

    (void) state;
    assert_int_equal(api_bearer("Bearer op_x", k), 0);
    assert_string_equal(k, "op_x");
    assert_int_equal(api_bearer("bearer   op_y  ", k), 0);
    assert_string_equal(k, "op_y");
    assert_int_equal(api_bearer("Basic b3A6eA==", k), -1);
    assert_int_equal(api_bearer("Bearer ", k), -1);
    assert_int_equal(api_bearer("Bearer a b", k), -1);
    assert_int_equal(api_bearer(NULL, k), -1);
}

/* a JSON row goes through the CSV validation of the suppression list */
static void
test_json_row(void **state)
{
    char csv[SUP_CSV_LINE_MAX];
    const char *why = NULL, *j;
    struct sup_entry e;

    (void) state;
    j = "{\"address\":\"Bob@Gmail.test\",\"reason\":\"complaint\",\"scope\":\"shop.test\","
	"\"time\":1700000000,\"expires\":\"2030-01-02T03:04:05Z\",\"source\":\"crm\"}";
    assert_int_equal(api_json_row(j, strlen(j), NULL, csv, sizeof(csv), &why), 0);
    assert_int_equal(sup_csv_parse(csv, strlen(csv), 1, &e, &why), 0);
    assert_string_equal(e.target, "bob@gmail.test");
    assert_int_equal(e.reason, SUP_COMPLAINT);
    assert_string_equal(e.scope, "shop.test");
    assert_int_equal(e.created, 1700000000);
    assert_int_equal(e.expires, 1893553445);
    assert_string_equal(e.source, "crm");
    /* quotes and commas survive the trip into CSV */
    j = "{\"address\":\"\\\"a,b\\\"@gmail.test\"}";
    assert_int_equal(api_json_row(j, strlen(j), NULL, csv, sizeof(csv), &why), 0);
    assert_int_equal(sup_csv_parse(csv, strlen(csv), 5, &e, &why), 0);
    assert_string_equal(e.target, "\"a,b\"@gmail.test");
    assert_int_equal(e.reason, SUP_MANUAL);
    assert_int_equal(e.created, 5);
    /* the default address; null members */
    j = "{\"reason\":\"unsubscribe\",\"expires\":null}";
    assert_int_equal(api_json_row(j, strlen(j), "c@gmail.test", csv, sizeof(csv), &why), 0);
    assert_int_equal(sup_csv_parse(csv, strlen(csv), 5, &e, &why), 0);
    assert_string_equal(e.target, "c@gmail.test");
    assert_int_equal(api_json_row(j, strlen(j), NULL, csv, sizeof(csv), &why), -1);
    /* refused: unknown member, wrong type, not an object, broken */
    j = "{\"address\":\"a@b.test\",\"admin\":true}";
    assert_int_equal(api_json_row(j, strlen(j), NULL, csv, sizeof(csv), &why), -1);
    j = "{\"address\":[1]}";
    assert_int_equal(api_json_row(j, strlen(j), NULL, csv, sizeof(csv), &why), -1);
    j = "{\"address\":\"a@b.test\",\"reason\":5}";
    assert_int_equal(api_json_row(j, strlen(j), NULL, csv, sizeof(csv), &why), -1);
    j = "[\"a@b.test\"]";
    assert_int_equal(api_json_row(j, strlen(j), NULL, csv, sizeof(csv), &why), -1);
    j = "{\"address\":\"a@b.test\"";
    assert_int_equal(api_json_row(j, strlen(j), NULL, csv, sizeof(csv), &why), -1);
    /* refused: text after the object (a second one), a member twice */
    j = "{\"address\":\"a@b.test\"} {\"address\":\"c@d.test\"}";
    assert_int_equal(api_json_row(j, strlen(j), NULL, csv, sizeof(csv), &why), -1);
    j = "{\"address\":\"a@b.test\"},manual,,,";
    assert_int_equal(api_json_row(j, strlen(j), NULL, csv, sizeof(csv), &why), -1);
    j = "{\"address\":\"a@b.test\",\"scope\":\"shop.test\",\"scope\":\"other.test\"}";
    assert_int_equal(api_json_row(j, strlen(j), NULL, csv, sizeof(csv), &why), -1);
    assert_int_equal(api_json_row("{}\0x", 5, "a@b.test", csv, sizeof(csv), &why), -1);
    /* white space after it is no text */
    j = "{\"address\":\"a@b.test\"} \t\r\n";
    assert_int_equal(api_json_row(j, strlen(j), NULL, csv, sizeof(csv), &why), 0);
    /* a valid row with a bad reason fails in the one validation */
    j = "{\"address\":\"a@b.test\",\"reason\":\"dislike\"}";
    assert_int_equal(api_json_row(j, strlen(j), NULL, csv, sizeof(csv), &why), 0);
    assert_int_equal(sup_csv_parse(csv, strlen(csv), 5, &e, &why), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_key_make),
	cmocka_unit_test(test_key_hash),
	cmocka_unit_test(test_key_parse),
	cmocka_unit_test(test_scopes_domains),
	cmocka_unit_test(test_route),
	cmocka_unit_test(test_query),
	cmocka_unit_test(test_bearer),
	cmocka_unit_test(test_json_row),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
