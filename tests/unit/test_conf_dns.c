/* test_conf_dns - the [dns] section and [pool NAME] addresses */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "conf.h"
#include "testutil.h"

/* load - a configuration from text; NULL with err on refusal */
static struct outpost_conf *
load(const char *text, char *err, size_t errlen)
{
    char *path = testutil_write_tmp(text);
    struct outpost_conf *conf = conf_load(path, err, errlen);

    unlink(path);
    free(path);
    return conf;
}

static void
test_defaults(void **state)
{
    char err[600];
    struct outpost_conf *conf = load("[general]\n", err, sizeof(err));

    (void) state;
    assert_non_null(conf);
    assert_null(conf->dns.relay_hostname);
    assert_null(conf->dns.spf_include);
    assert_null(conf->intake.bounce_domain);
    assert_string_equal(conf->dns.dmarc_report, "dmarc-reports@%d");
    assert_int_equal(conf->dns.record_ttl_ms, 3600000);
    conf_free(conf);
}

static void
test_values(void **state)
{
    char err[600];
    struct outpost_conf *conf;
    const struct conf_pool *p;

    (void) state;
    conf = load("[dns]\nrelay_hostname = relay.example.net\nspf_include = _spf.example.net\n"
		"dmarc_report = dmarc@example.net\nrecord_ttl = 5m\n"
		"[pool warm]\ntransport = warm:\naddresses = 192.0.2.1, 2001:db8::1\n"
		"  192.0.2.2\n", err, sizeof(err));
    if (conf == NULL)
	fail_msg("refused: %s", err);
    assert_string_equal(conf->dns.relay_hostname, "relay.example.net");
    assert_int_equal(conf->dns.record_ttl_ms, 300000);
    p = conf_pool_find(conf, "warm");
    assert_non_null(p);
    assert_int_equal(p->addresses.n, 3);
    assert_string_equal(p->addresses.v[1], "2001:db8::1");
    conf_free(conf);
}

static void
test_errors(void **state)
{
    char err[600];

    (void) state;
    /* the return-path domain is [intake] bounce_domain alone: the old key says so */
    assert_null(load("[dns]\nrelay_hostname = r.example\nreturn_path = bounce.%d\n",
		     err, sizeof(err)));
    assert_non_null(strstr(err, ":3: [dns] return_path is gone: set [intake] bounce_domain"));
    assert_null(load("[dns]\ndmarc_report = nobody\n", err, sizeof(err)));
    assert_non_null(strstr(err, "dmarc_report must be a mail address"));
    assert_null(load("[pool a]\ntransport = a:\naddresses = 192.0.2.1 relay.example\n",
		     err, sizeof(err)));
    assert_non_null(strstr(err, ":1: [pool] addresses"));
    assert_null(load("[pool a]\ntransport = a:\naddresses = 192.0.2.0/24\n", err, sizeof(err)));
    assert_non_null(strstr(err, "addresses"));
}

/* [pool] hold_*: percentages as fractions, off by default, bad ones refused */
static void
test_pool_hold(void **state)
{
    char err[600];
    struct outpost_conf *conf;
    const struct conf_pool *p;

    (void) state;
    conf = load("[pool warm]\ntransport = warm:\nschedule = 1:10\nhold_bounce_rate = 5%\n"
		"hold_complaint_rate = 0.3%\nhold_when_listed = yes\n"
		"[pool plain]\ntransport = plain:\n", err, sizeof(err));
    if (conf == NULL)
	fail_msg("refused: %s", err);
    p = conf_pool_find(conf, "warm");
    assert_true(p->hold_bounce > 0.0499 && p->hold_bounce < 0.0501);
    assert_true(p->hold_complaint > 0.00299 && p->hold_complaint < 0.00301);
    assert_int_equal(p->hold_when_listed, 1);
    assert_int_equal(p->hold_min_messages, 100);
    p = conf_pool_find(conf, "plain");
    assert_true(p->hold_bounce == 0 && p->hold_complaint == 0 && !p->hold_when_listed);
    conf_free(conf);
    conf = load("[pool warm]\ntransport = warm:\nhold_bounce_rate = 0.05\n", err, sizeof(err));
    assert_null(conf);
    assert_non_null(strstr(err, "percentage"));
    assert_null(load("[pool warm]\ntransport = warm:\nhold_complaint_rate = 0%\n", err,
		     sizeof(err)));
    assert_null(load("[pool warm]\ntransport = warm:\nhold_bounce_rate = 101%\n", err,
		     sizeof(err)));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_defaults),
	cmocka_unit_test(test_values),
	cmocka_unit_test(test_errors),
	cmocka_unit_test(test_pool_hold),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
