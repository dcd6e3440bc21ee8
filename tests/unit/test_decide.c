/*
 * test_decide - which limits apply to a request, the script's arguments,
 * and the answers made of its replies
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decide.h"
#include "testutil.h"

static const char conf_text[] =
    "[redis]\n"
    "prefix = op:\n"
    "[policy]\n"
    "domain_rate = 100/m\n"
    "domain_burst = 10\n"
    "sender_rate = 1000/h\n"
    "default_pool = shared\n"
    "[provider google]\n"
    "rate = 600/m\n"
    "burst = 50\n"
    "[provider acme]\n"
    "mx = *.mx.acme.test, mail.acme.test\n"
    "[domain slow.test]\n"
    "rate = 1/s\n"
    "[pool warm1]\n"
    "transport = smtp_warm1\n"
    "senders = shop.test, tenant7\n"
    "schedule = 1:200, 30:2000000\n"
    "split = google:40\n"
    "overflow = shared\n"
    "[pool shared]\n"
    "transport = smtp_shared:[10.0.0.1]\n";

static struct limits *
load_limits(const char *text)
{
    char *path = testutil_write_tmp(text);
    char err[600];
    struct outpost_conf *conf = conf_load(path, err, sizeof(err));
    struct limits *l;

    unlink(path);
    free(path);
    if (conf == NULL)
	fail_msg("%s", err);
    if ((l = limits_build(conf, err, sizeof(err))) == NULL)
	fail_msg("%s", err);
    return l;
}

/* request - a parsed request from text (kept in a static buffer) */
static struct policy_request
request(const char *text)
{
    static char buf[2048];
    struct policy_request req;
    const char *why;

    snprintf(buf, sizeof(buf), "%s\n", text);
    if (request_parse(buf, strlen(buf), &req, &why) < 0)
	fail_msg("%s", why);
    return req;
}

static void
test_not_rcpt(void **state)
{
    struct limits *l = load_limits(conf_text);
    struct policy_request req = request("protocol_state=DATA\nrecipient=a@gmail.com\n");
    struct decide_plan plan;
    char out[DECIDE_ANSWER_MAX];

    (void) state;
    assert_int_equal(decide_prepare(l, &req, &plan, out, sizeof(out)), DECIDE_ANSWERED);
    assert_string_equal(out, "DUNNO");
    req = request("protocol_state=RCPT\nrecipient=postmaster\n");
    assert_int_equal(decide_prepare(l, &req, &plan, out, sizeof(out)), DECIDE_ANSWERED);
    limits_unref(l);
}

static void
test_provider_domain_sender_pool(void **state)
{
    struct limits *l = load_limits(conf_text);
    struct policy_request req = request("protocol_state=RCPT\nrecipient=Bob@GMail.com\n"
					"sender=news@Shop.test\n");
    struct decide_plan plan;
    char out[DECIDE_ANSWER_MAX];
    int i;

    (void) state;
    assert_int_equal(decide_prepare(l, &req, &plan, out, sizeof(out)), DECIDE_READY);
    assert_string_equal(plan.domain, "gmail.com");
    assert_string_equal(plan.sender_key, "shop.test");
    assert_string_equal(l->providers.v[plan.provider].name, "google");
    assert_string_equal(l->pools[plan.pool].name, "warm1");
    assert_int_equal(plan.nlim, 3);
    assert_int_equal(plan.lim[0].kind, 'p');
    assert_int_equal(plan.lim[0].gcra->interval_us, 100000);
    assert_int_equal(plan.lim[0].gcra->tolerance_us, 4900000);
    assert_int_equal(plan.lim[1].kind, 'd');
    assert_int_equal(plan.lim[2].kind, 's');
    assert_int_equal(plan.lim[2].gcra->interval_us, 3600000);
    assert_int_equal(plan.on_error, CONF_ON_ERROR_TEMPFAIL);

    assert_int_equal(decide_command(l, &plan, "0123456789012345678901234567890123456789",
				    1709251200), 0);
    /* EVALSHA sha nkeys, 3 GCRA keys, 2 pools x 3 keys */
    assert_string_equal(plan.argv[0], "EVALSHA");
    assert_string_equal(plan.argv[2], "9");
    assert_string_equal(plan.argv[3], "op:{rl}:g:p:google");
    assert_string_equal(plan.argv[4], "op:{rl}:g:d:gmail.com");
    assert_string_equal(plan.argv[5], "op:{rl}:g:s:shop.test");
    assert_string_equal(plan.argv[6], "op:{rl}:warmup:warm1:start");
    assert_string_equal(plan.argv[7], "op:{rl}:warmup:warm1:today");
    assert_string_equal(plan.argv[8], "op:{rl}:backoff:google:warm1");
    assert_string_equal(plan.argv[11], "op:{rl}:backoff:google:shared");
    i = 12;
    assert_string_equal(plan.argv[i++], "0");	/* UTC */
    assert_string_equal(plan.argv[i++], "3");
    assert_string_equal(plan.argv[i++], "100000");
    assert_string_equal(plan.argv[i++], "4900000");
    assert_string_equal(plan.argv[i++], "600000");
    assert_string_equal(plan.argv[i++], "5400000");
    assert_string_equal(plan.argv[i++], "3600000");
    assert_string_equal(plan.argv[i++], "0");
    assert_string_equal(plan.argv[i++], "2");	/* pools */
    assert_string_equal(plan.argv[i++], "google");
    assert_string_equal(plan.argv[i++], "2");	/* warm1: two points */
    assert_string_equal(plan.argv[i++], "1");
    assert_string_equal(plan.argv[i++], "200");
    assert_string_equal(plan.argv[i++], "30");
    assert_string_equal(plan.argv[i++], "2000000");
    assert_string_equal(plan.argv[i++], "40");	/* google's share */
    assert_string_equal(plan.argv[i++], "0");	/* shared: no schedule */
    assert_string_equal(plan.argv[i++], "0");
    assert_int_equal(plan.argc, i);
    for (i = 0; i < plan.argc; i++)
	assert_int_equal(plan.argvlen[i], strlen(plan.argv[i]));
    decide_plan_free(&plan);
    limits_unref(l);
}

/* one SASL user spelt in two cases is one sender: one rate, one pool */
static void
test_sasl_case(void **state)
{
    struct limits *l = load_limits(conf_text);
    struct policy_request req = request("protocol_state=RCPT\nrecipient=x@Slow.test\n"
					"sender=\nsasl_username=Tenant7\n");
    struct decide_plan plan;
    char out[DECIDE_ANSWER_MAX];

    (void) state;
    assert_int_equal(decide_prepare(l, &req, &plan, out, sizeof(out)), DECIDE_NEED_MX);
    assert_string_equal(plan.sender_key, "tenant7");
    assert_string_equal(l->pools[plan.pool].name, "warm1");
    decide_plan_free(&plan);
    limits_unref(l);
}

/*
 * test_null_sender - a bounce has no sender limit, but a SASL user's holds
 * whatever MAIL FROM it gives (sender_key = domain aside)
 */
static void
test_null_sender(void **state)
{
    struct limits *l = load_limits(conf_text);
    struct limits *ld = load_limits("[policy]\nsender_rate = 5/s\nsender_key = domain\n");
    struct policy_request req = request("protocol_state=RCPT\nrecipient=x@Slow.test\n"
					"sender=\n");
    struct policy_request sasl = request("protocol_state=RCPT\nrecipient=x@Slow.test\n"
					 "sender=\nsasl_username=someone\n");
    struct decide_plan plan;
    char out[DECIDE_ANSWER_MAX];

    (void) state;
    decide_prepare(l, &req, &plan, out, sizeof(out));
    assert_string_equal(plan.sender_key, "");
    decide_plan_limits(l, &plan, -1, out, sizeof(out));
    assert_int_equal(plan.nlim, 1);
    assert_int_equal(plan.lim[0].kind, 'd');
    decide_prepare(l, &sasl, &plan, out, sizeof(out));
    assert_string_equal(plan.sender_key, "someone");
    decide_plan_limits(l, &plan, -1, out, sizeof(out));
    assert_int_equal(plan.nlim, 2);
    assert_int_equal(plan.lim[1].kind, 's');
    decide_prepare(ld, &sasl, &plan, out, sizeof(out));
    assert_string_equal(plan.sender_key, "");
    decide_plan_free(&plan);
    limits_unref(ld);
    limits_unref(l);
}

static void
test_needs_mx(void **state)
{
    struct limits *l = load_limits(conf_text);
    struct policy_request req = request("protocol_state=RCPT\nrecipient=x@Slow.test\n"
					"sender=\nsasl_username=tenant7\n");
    struct decide_plan plan;
    char out[DECIDE_ANSWER_MAX];

    (void) state;
    assert_int_equal(decide_prepare(l, &req, &plan, out, sizeof(out)), DECIDE_NEED_MX);
    assert_string_equal(plan.sender_key, "tenant7");
    assert_string_equal(l->pools[plan.pool].name, "warm1");	/* by SASL user */
    assert_int_equal(decide_plan_limits(l, &plan, -1, out, sizeof(out)), DECIDE_READY);
    assert_int_equal(plan.nlim, 2);
    assert_int_equal(plan.lim[0].kind, 'd');
    assert_int_equal(plan.lim[0].gcra->interval_us, 1000000);	/* its own rate */
    assert_int_equal(decide_command(l, &plan, "x", 0), 0);
    assert_string_equal(plan.argv[7], "op:{rl}:backoff:slow.test:warm1");
    decide_plan_free(&plan);
    assert_int_equal(provider_by_mx(&l->providers, "alt1.aspmx.l.google.com."), 
		     provider_by_name(&l->providers, "google"));
    assert_int_equal(provider_by_mx(&l->providers, "mail.acme.test"),
		     provider_by_name(&l->providers, "acme"));
    assert_int_equal(provider_by_mx(&l->providers, "a.mx.acme.test"),
		     provider_by_name(&l->providers, "acme"));
    assert_int_equal(provider_by_mx(&l->providers, "mx.acme.test"), -1);
    assert_int_equal(provider_by_mx(&l->providers, "evilgoogle.com"), -1);
    limits_unref(l);
}

/* reply - a script reply {a, b, c} */
static redisReply *
reply(long long a, long long b, long long c)
{
    static redisReply el[3], *elp[3], r;

    el[0].type = el[1].type = el[2].type = REDIS_REPLY_INTEGER;
    el[0].integer = a;
    el[1].integer = b;
    el[2].integer = c;
    elp[0] = &el[0];
    elp[1] = &el[1];
    elp[2] = &el[2];
    r.type = REDIS_REPLY_ARRAY;
    r.elements = 3;
    r.element = elp;
    return &r;
}

static void
test_answers(void **state)
{
    struct limits *l = load_limits(conf_text);
    struct policy_request req = request("protocol_state=RCPT\nrecipient=bob@gmail.com\n"
					"sender=news@shop.test\n");
    struct decide_plan plan;
    char out[DECIDE_ANSWER_MAX];
    redisReply err = {0};

    (void) state;
    decide_prepare(l, &req, &plan, out, sizeof(out));
    decide_answer(l, &plan, reply(0, 1, 0), out, sizeof(out));
    assert_string_equal(out, "DUNNO");
    decide_answer(l, &plan, reply(0, 2, 0), out, sizeof(out));
    assert_string_equal(out, "FILTER smtp_shared:[10.0.0.1]");
    decide_answer(l, &plan, reply(1, 1, 2500000), out, sizeof(out));
    assert_string_equal(out, "DEFER_IF_PERMIT 4.7.1 rate limit of provider google; retry in 3 s");
    decide_answer(l, &plan, reply(1, 2, 1), out, sizeof(out));
    assert_string_equal(out, "DEFER_IF_PERMIT 4.7.1 rate limit of domain gmail.com; retry in 1 s");
    decide_answer(l, &plan, reply(1, 3, 1000000), out, sizeof(out));
    assert_string_equal(out, "DEFER_IF_PERMIT 4.7.1 rate limit of sender shop.test; retry in 1 s");
    decide_answer(l, &plan, reply(1, 4, 7000000), out, sizeof(out));
    assert_string_equal(out, "DEFER_IF_PERMIT 4.7.1 backoff of google on pool warm1; retry in 7 s");
    decide_answer(l, &plan, reply(2, 1, 3600000000LL), out, sizeof(out));
    assert_string_equal(out, "DEFER_IF_PERMIT 4.7.1 warm-up cap of pool warm1 for today; "
			"retry in 3600 s");
    /* anything else is a failure: tempfail by default */
    decide_answer(l, &plan, reply(1, 9, 1), out, sizeof(out));
    assert_string_equal(out, "DEFER_IF_PERMIT 4.3.0 policy state unavailable, try again later");
    err.type = REDIS_REPLY_ERROR;
    err.str = "ERR boom";
    decide_answer(l, &plan, &err, out, sizeof(out));
    assert_string_equal(out, "DEFER_IF_PERMIT 4.3.0 policy state unavailable, try again later");
    decide_answer(l, &plan, NULL, out, sizeof(out));
    assert_string_equal(out, "DEFER_IF_PERMIT 4.3.0 policy state unavailable, try again later");
    limits_unref(l);
}

static void
test_counted(void **state)
{
    struct limits *l = load_limits(conf_text);
    struct policy_request req = request("protocol_state=RCPT\nrecipient=bob@gmail.com\n"
					"sender=news@Shop.test\n");
    struct decide_plan plan;
    char out[DECIDE_ANSWER_MAX];
    const char *provider = NULL, *pool = NULL;

    (void) state;
    decide_prepare(l, &req, &plan, out, sizeof(out));
    assert_string_equal(plan.sender_domain, "shop.test");
    assert_null(decide_counted(l, &plan, reply(0, 1, 0), &provider, &pool));
    assert_string_equal(decide_counted(l, &plan, reply(0, 2, 0), &provider, &pool), "spilled");
    assert_string_equal(provider, "google");
    assert_string_equal(pool, "warm1");	/* the pool it spilled from */
    assert_string_equal(decide_counted(l, &plan, reply(1, 1, 5), &provider, &pool), "throttled");
    assert_string_equal(decide_counted(l, &plan, reply(1, 4, 5), &provider, &pool), "throttled");
    assert_string_equal(decide_counted(l, &plan, reply(2, 1, 5), &provider, &pool), "throttled");
    assert_null(decide_counted(l, &plan, NULL, &provider, &pool));
    /* no provider, no pool of its own: "other" and the default pool */
    req = request("protocol_state=RCPT\nrecipient=bob@slow.test\nsender=a@else.test\n");
    decide_prepare(l, &req, &plan, out, sizeof(out));
    decide_plan_limits(l, &plan, -1, out, sizeof(out));
    assert_string_equal(decide_counted(l, &plan, reply(1, 1, 5), &provider, &pool), "throttled");
    assert_string_equal(provider, "other");
    assert_string_equal(pool, "shared");
    assert_string_equal(plan.sender_domain, "else.test");
    decide_plan_free(&plan);
    limits_unref(l);
}

static void
test_fail_open(void **state)
{
    struct limits *l = load_limits("[policy]\ndomain_rate = 5/s\ndomain_on_error = dunno\n"
				   "defer_reply = DEFER 4.7.0 slow down ($limit) $retry\n"
				   "sender_rate = 5/s\n");
    struct policy_request req = request("protocol_state=RCPT\nrecipient=bob@x.test\n"
					"sender=\n");
    struct policy_request req2 = request("protocol_state=RCPT\nrecipient=bob@x.test\n"
					 "sender=a@y.test\n");
    struct decide_plan plan;
    char out[DECIDE_ANSWER_MAX];

    (void) state;
    /* only the domain limit applies (null sender): fails open */
    assert_int_equal(decide_prepare(l, &req, &plan, out, sizeof(out)), DECIDE_NEED_MX);
    assert_int_equal(decide_plan_limits(l, &plan, -1, out, sizeof(out)), DECIDE_READY);
    assert_int_equal(plan.nlim, 1);
    decide_failure(l, &plan, out, sizeof(out));
    assert_string_equal(out, "DUNNO");
    decide_answer(l, &plan, reply(1, 1, 1), out, sizeof(out));
    assert_string_equal(out, "DEFER 4.7.0 slow down (rate limit of domain x.test) 1");
    /* the sender limit fails closed */
    assert_int_equal(decide_prepare(l, &req2, &plan, out, sizeof(out)), DECIDE_NEED_MX);
    decide_plan_limits(l, &plan, -1, out, sizeof(out));
    assert_int_equal(plan.nlim, 2);
    decide_failure(l, &plan, out, sizeof(out));
    assert_string_equal(out, "DEFER_IF_PERMIT 4.3.0 policy state unavailable, try again later");
    limits_unref(l);
}

/*
 * test_failure_before_mx - no answer from DNS within decision_timeout: the
 * failure answer follows the configuration, whatever the plan held before
 */
static void
test_failure_before_mx(void **state)
{
    struct limits *l = load_limits(conf_text);
    struct limits *open = load_limits("[policy]\ndomain_rate = 5/s\nsender_rate = 5/s\n"
				      "domain_on_error = dunno\nsender_on_error = dunno\n"
				      "provider_on_error = dunno\n");
    struct policy_request req = request("protocol_state=RCPT\nrecipient=x@slow.test\n"
					"sender=a@shop.test\n");
    struct decide_plan plan;
    char out[DECIDE_ANSWER_MAX];

    (void) state;
    /* memory left over from an earlier request that failed open */
    memset(&plan, 0, sizeof(plan));
    plan.on_error = CONF_ON_ERROR_ACCEPT;
    assert_int_equal(decide_prepare(l, &req, &plan, out, sizeof(out)), DECIDE_NEED_MX);
    decide_failure(l, &plan, out, sizeof(out));
    assert_string_equal(out, "DEFER_IF_PERMIT 4.3.0 policy state unavailable, try again later");
    /* every kind of limit set to fail open: so does the lookup */
    plan.on_error = CONF_ON_ERROR_TEMPFAIL;
    assert_int_equal(decide_prepare(open, &req, &plan, out, sizeof(out)), DECIDE_NEED_MX);
    decide_failure(open, &plan, out, sizeof(out));
    assert_string_equal(out, "DUNNO");
    limits_unref(open);
    limits_unref(l);
}

/* a [domain NAME] written in capitals is the domain the recipients name in any case */
static void
test_domain_case(void **state)
{
    struct limits *l = load_limits("[policy]\n[domain Slow.Test]\nrate = 1/s\n");
    struct policy_request req = request("protocol_state=RCPT\nrecipient=x@SLOW.test\n");
    struct decide_plan plan;
    char out[DECIDE_ANSWER_MAX];

    (void) state;
    assert_int_equal(decide_prepare(l, &req, &plan, out, sizeof(out)), DECIDE_NEED_MX);
    assert_string_equal(plan.domain, "slow.test");
    assert_int_equal(decide_plan_limits(l, &plan, -1, out, sizeof(out)), DECIDE_READY);
    assert_int_equal(plan.nlim, 1);
    assert_int_equal(plan.lim[0].kind, 'd');
    assert_int_equal(plan.lim[0].gcra->interval_us, 1000000);
    decide_plan_free(&plan);
    limits_unref(l);
}

static void
test_nothing_applies(void **state)
{
    struct limits *l = load_limits("[policy]\n");
    struct policy_request req = request("protocol_state=RCPT\nrecipient=bob@gmail.com\n");
    struct decide_plan plan;
    char out[DECIDE_ANSWER_MAX];

    (void) state;
    assert_int_equal(decide_prepare(l, &req, &plan, out, sizeof(out)), DECIDE_ANSWERED);
    assert_string_equal(out, "DUNNO");
    limits_unref(l);
}

static void
test_bad_conf(void **state)
{
    static const struct {
	const char *text;
	const char *err;
    } bad[] = {
	{"[provider nosuch]\nrate = 5/s\n", ":1: [provider nosuch] is not built in"},
	{"[pool a]\ntransport = t\nsplit = nosuch:10\nschedule = 1:5\n",
	    ":1: [pool a] split: unknown provider nosuch"},
	{"[pool a]\ntransport = t\noverflow = b\n[pool b]\ntransport = u\noverflow = a\n",
	    ":1: [pool a] overflow: the pools spill over in a circle"},
	{"[pool a]\ntransport = t\nschedule = 2:5, 1:7\n", ":1: [pool a] schedule: days must"},
	{"[policy]\ntimezone = Mars/Olympus\n", "time zone: unknown zone"},
	{"[policy]\ndefault_pool = x\n", "default_pool names no [pool NAME]"},
	{"[domain a.test]\nburst = 5\n", ":1: [domain a.test] rate is required"},
    };
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
	char *path = testutil_write_tmp(bad[i].text);
	char err[600] = "";
	struct outpost_conf *conf = conf_load(path, err, sizeof(err));
	struct limits *l = conf ? limits_build(conf, err, sizeof(err)) : NULL;

	unlink(path);
	free(path);
	assert_null(l);
	if (strstr(err, bad[i].err) == NULL)
	    fail_msg("case %zu: '%s' does not contain '%s'", i, err, bad[i].err);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_not_rcpt),
	cmocka_unit_test(test_provider_domain_sender_pool),
	cmocka_unit_test(test_needs_mx),
	cmocka_unit_test(test_sasl_case),
	cmocka_unit_test(test_null_sender),
	cmocka_unit_test(test_answers),
	cmocka_unit_test(test_counted),
	cmocka_unit_test(test_fail_open),
	cmocka_unit_test(test_failure_before_mx),
	cmocka_unit_test(test_domain_case),
	cmocka_unit_test(test_nothing_applies),
	cmocka_unit_test(test_bad_conf),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
