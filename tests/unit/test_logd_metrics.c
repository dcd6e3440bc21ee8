/* test_logd_metrics - outpost-logd's page: its own counts and their labels */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "metrics.h"
#include "provider.h"
#include "redisconn.h"
#include "stats.h"
#include "testutil.h"

static const char conf_text[] =
    "[general]\n"
    "node = relay-b\n"
    "[redis]\n"
    "server = unix:/nonexistent/outpost-test.sock\n"
    "[logd]\n"
    "metrics_max_senders = 2\n"
    "[provider google]\n"
    "domains = gmail.test\n"
    "[pool warm1]\n"
    "transport = warm1\n";

/* has - whether the page holds this line */
static int
has(const char *page, const char *line)
{
    char buf[1024];

    snprintf(buf, sizeof(buf), "\n%s\n", line);
    return strstr(page, buf) != NULL;
}

static void
test_labels(void **state)
{
    char *path = testutil_write_tmp(conf_text), err[600];
    struct outpost_conf *conf = conf_load(path, err, sizeof(err));
    struct provider_table providers;
    struct track_counts tc = {0};
    struct metrics *m;
    struct rconn *rc;
    struct prom *p;
    const char *t;

    (void) state;
    assert_non_null(conf);
    assert_int_equal(provider_table_build(conf, &providers, err, sizeof(err)), 0);
    m = metrics_new(conf, &providers);
    metrics_tap("shop.test", "google", "warm1", STATS_DELIVERED, 3, m);
    metrics_tap("b.test", "google", "warm1", STATS_DELIVERED, 1, m);
    /* past metrics_max_senders = 2: "other", whatever the name */
    metrics_tap("c.test", "google", "warm1", STATS_DELIVERED, 1, m);
    metrics_tap("d\"x\n.test", "google", "warm1", STATS_DELIVERED, 1, m);
    /* a provider not in the table, a pool not configured: "other" */
    metrics_tap("shop.test", "mx.evil.test", "nopool", STATS_BOUNCED, 1, m);
    metrics_tap("shop.test", "mx.evil.test", "nopool", STATS_BOUNCED_HARD, 1, m);
    metrics_tap("shop.test", "mx.evil.test", "nopool", "reason.userunknown", 1, m);
    metrics_tap("", "google", "default", STATS_DEFERRED, 2, m);
    metrics_tap("b.test", "google", "warm1", STATS_BACKOFF, 1, m);
    metrics_tap("shop.test", "google", "warm1", STATS_BACKOFF, 1, m);
    tc.lines = 10;
    tc.ignored = 4;
    tc.garbage = 1;
    rc = rconn_new(&conf->redis);
    p = metrics_render(m, rc, &tc, 2, 1795880922LL);
    t = prom_text(p, NULL);
    assert_true(has(t, "outpost_logd_deliveries_total{node=\"relay-b\",sender=\"shop.test\","
		    "provider=\"google\",pool=\"warm1\",outcome=\"delivered\"} 3"));
    assert_true(has(t, "outpost_logd_deliveries_total{node=\"relay-b\",sender=\"b.test\","
		    "provider=\"google\",pool=\"warm1\",outcome=\"delivered\"} 1"));
    assert_true(has(t, "outpost_logd_deliveries_total{node=\"relay-b\",sender=\"other\","
		    "provider=\"google\",pool=\"warm1\",outcome=\"delivered\"} 2"));
    assert_null(strstr(t, "c.test"));
    assert_null(strstr(t, "d\\\"x"));
    assert_true(has(t, "outpost_logd_deliveries_total{node=\"relay-b\",sender=\"shop.test\","
		    "provider=\"other\",pool=\"other\",outcome=\"bounced\"} 1"));
    assert_true(has(t, "outpost_logd_bounces_total{node=\"relay-b\",sender=\"shop.test\","
		    "provider=\"other\",pool=\"other\",class=\"hard\"} 1"));
    assert_true(has(t, "outpost_logd_bounce_reasons_total{node=\"relay-b\",provider=\"other\","
		    "reason=\"userunknown\"} 1"));
    assert_true(has(t, "outpost_logd_deliveries_total{node=\"relay-b\",sender=\"-\","
		    "provider=\"google\",pool=\"default\",outcome=\"deferred\"} 2"));
    /* backoffs summed over senders */
    assert_true(has(t, "outpost_logd_backoffs_total{node=\"relay-b\",provider=\"google\","
		    "pool=\"warm1\"} 2"));
    assert_true(has(t, "outpost_logd_lines_total{node=\"relay-b\",result=\"mail\"} 5"));
    assert_true(has(t, "outpost_logd_lines_total{node=\"relay-b\",result=\"overlong\"} 2"));
    /* no Redis: the node's counts, and no cluster family */
    assert_true(has(t, "outpost_logd_redis_up{node=\"relay-b\"} 0"));
    assert_null(strstr(t, "# TYPE outpost_cluster_"));
    prom_free(p);
    rconn_free(rc);
    metrics_free(m);
    provider_table_free(&providers);
    conf_free(conf);
    unlink(path);
    free(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_labels),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
