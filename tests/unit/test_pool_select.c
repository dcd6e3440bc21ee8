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

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_order),
	cmocka_unit_test(test_no_default),
	cmocka_unit_test(test_no_pools),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
