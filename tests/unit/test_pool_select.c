/* test_pool_select - the one rule that picks a sender's IP pool */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "conf.h"
#include "pool_select.h"
#include "testutil.h"

/* load - a configuration from text; fails the test on refusal */
static struct outpost_conf *
load(const char *text)
{
    char *path = testutil_write_tmp(text);
    char err[600];
    struct outpost_conf *conf = conf_load(path, err, sizeof(err));

    unlink(path);
    free(path);
    if (conf == NULL)
	fail_msg("refused: %s", err);
    return conf;
}

#define POOLS "[pool a]\ntransport = a:\nsenders = alice, shop.test\n" \
	"[pool b]\ntransport = b:\nsenders = bob, news.test\n" \
	"[pool c]\ntransport = c:\n"

static void
test_order(void **state)
{
    struct outpost_conf *conf = load(POOLS "[policy]\ndefault_pool = c\n");

    (void) state;
    /* the SASL user first, whatever the sender domain says */
    assert_int_equal(pool_select(conf, "bob", "shop.test"), 1);
    assert_string_equal(pool_select_name(conf, "bob", "shop.test"), "b");
    /* a SASL user no pool names: the sender domain, in any case */
    assert_int_equal(pool_select(conf, "carol", "SHOP.test"), 0);
    assert_int_equal(pool_select(conf, "", "news.test"), 1);
    assert_int_equal(pool_select(conf, NULL, "news.test"), 1);
    /* neither: [policy] default_pool */
    assert_int_equal(pool_select(conf, "carol", "other.test"), 2);
    assert_int_equal(pool_select(conf, NULL, NULL), 2);
    assert_string_equal(pool_select_name(conf, NULL, ""), "c");
    conf_free(conf);
}

static void
test_no_default(void **state)
{
    struct outpost_conf *conf = load(POOLS);

    (void) state;
    assert_int_equal(pool_select(conf, "alice", NULL), 0);
    assert_int_equal(pool_select(conf, "carol", "other.test"), -1);
    assert_string_equal(pool_select_name(conf, "carol", "other.test"), "default");
    conf_free(conf);
}

static void
test_no_pools(void **state)
{
    struct outpost_conf *conf = load("[general]\n");

    (void) state;
    assert_int_equal(pool_select(conf, "alice", "shop.test"), -1);
    assert_string_equal(pool_select_name(conf, "alice", "shop.test"), "default");
    conf_free(conf);
}

/* the pool of a log line's service: by transport, else by name, else none */
static void
test_by_service(void **state)
{
    struct outpost_conf *conf = load("[pool main]\ntransport = smtp:\n"
				     "[pool warm1]\ntransport = out-warm1:[relay.test]:25\n"
				     "[pool out-a]\ntransport = other\n"
				     "[pool b]\ntransport = out-a:\n");

    (void) state;
    /* postfix/smtp: the pool on the default transport, not "default" */
    assert_int_equal(pool_by_service(conf, "smtp"), 0);
    /* the service up to the colon, whatever the nexthop */
    assert_int_equal(pool_by_service(conf, "out-warm1"), 1);
    /* postfix/warm1/smtp (syslog_name = postfix/warm1): the pool of that name */
    assert_int_equal(pool_by_service(conf, "warm1"), 1);
    /* a transport names the service before a pool's name does */
    assert_int_equal(pool_by_service(conf, "out-a"), 3);
    assert_int_equal(pool_by_service(conf, "other"), 2);
    /* no pool claims it: -1 ("default"); nor a part of a name */
    assert_int_equal(pool_by_service(conf, "relay"), -1);
    assert_int_equal(pool_by_service(conf, "smt"), -1);
    assert_int_equal(pool_by_service(conf, "out-warm"), -1);
    assert_int_equal(pool_by_service(conf, ""), -1);
    assert_int_equal(pool_by_service(conf, NULL), -1);
    assert_int_equal(pool_service_shared(conf, 0), -1);
    assert_int_equal(pool_service_shared(conf, 3), -1);
    conf_free(conf);
}

/* two pools on one service: the first in the file takes its lines */
static void
test_shared_service(void **state)
{
    struct outpost_conf *conf = load("[pool a]\ntransport = out-x:\n"
				     "[pool main]\ntransport = smtp:\n"
				     "[pool second]\ntransport = smtp:[relay.test]\n"
				     "[pool third]\ntransport = smtp\n");

    (void) state;
    assert_int_equal(pool_by_service(conf, "smtp"), 1);
    assert_int_equal(pool_service_shared(conf, 0), -1);
    assert_int_equal(pool_service_shared(conf, 1), -1);
    assert_int_equal(pool_service_shared(conf, 2), 1);
    assert_int_equal(pool_service_shared(conf, 3), 1);
    conf_free(conf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_order),
	cmocka_unit_test(test_no_default),
	cmocka_unit_test(test_no_pools),
	cmocka_unit_test(test_by_service),
	cmocka_unit_test(test_shared_service),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
