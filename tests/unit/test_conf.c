/* test_conf - outpost.conf reader: defaults, values, and precise errors */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <syslog.h>

#include "conf.h"
#include "testutil.h"

/* load - parse text; NULL and the error in err on failure */
static struct outpost_conf *
load(const char *text, char *err, size_t errlen, char **pathp)
{
    char *path = testutil_write_tmp(text);
    struct outpost_conf *conf = conf_load(path, err, errlen);

    if (pathp)
	*pathp = path;
    else {
	unlink(path);
	free(path);
    }
    return conf;
}

/* expect_error - the text must be refused with "PATH:LINE: ...needle..." */
static void
expect_error(const char *text, int line, const char *needle)
{
    char err[600], want[600];
    char *path;
    struct outpost_conf *conf = load(text, err, sizeof(err), &path);

    if (conf != NULL)
	fail_msg("accepted: %s", text);
    if (line > 0)
	snprintf(want, sizeof(want), "%s:%d: ", path, line);
    else
	snprintf(want, sizeof(want), "%s: ", path);
    if (strncmp(err, want, strlen(want)) != 0 || strstr(err, needle) == NULL)
	fail_msg("error '%s' does not start with '%s' or lacks '%s'", err, want, needle);
    unlink(path);
    free(path);
}

static void
test_defaults(void **state)
{
    char err[600];
    struct outpost_conf *c = load("", err, sizeof(err), NULL);

    (void) state;
    assert_non_null(c);
    assert_string_equal(c->redis.server, "127.0.0.1:6379");
    assert_string_equal(c->redis.prefix, "outpost:");
    assert_int_equal(c->redis.command_timeout_ms, 500);
    assert_int_equal(c->general.syslog_facility, LOG_MAIL);
    assert_int_equal(c->policy.listen.n, 1);
    assert_string_equal(c->policy.listen.v[0], "unix:/run/outpost/policy.sock");
    assert_null(c->milter.policy_service);	/* Postfix asks policyd itself */
    assert_int_equal(c->milter.policy_timeout_ms, 8000);
    assert_int_equal(c->milter.policy_default_action, CONF_ON_ERROR_TEMPFAIL);
    assert_null(c->intake.bounce_domain);	/* intake off */
    assert_string_equal(c->intake.bounce_local, "b");
    assert_int_equal(c->intake.soft_bounce_limit, 3);
    assert_true(c->intake.soft_bounce_window_ms == 7 * 86400000LL);
    assert_int_equal(c->intake.keep_reports, 0);
    assert_int_equal(c->intake.rewrite_sender, 1);
    conf_free(c);
}

static void
test_values(void **state)
{
    char err[600];
    struct outpost_conf *c = load(
	"# comment\n"
	"[general]\n"
	"syslog_facility = local3\n"
	"[redis]\n"
	"server = unix:/run/redis/redis.sock\n"
	"command_timeout = 2s\n"
	"sentinels = 10.0.0.1:26379, 10.0.0.2:26379\n"
	"  10.0.0.3:26379\n"
	"sentinel_master = mymaster\n"
	"[policy]\n"
	"listen = inet:127.0.0.1:10040 unix:/tmp/p.sock\n"
	"max_request_size = 32k\n"
	"[provider gmail]\n"
	"mx = *.google.com, *.googlemail.com\n"
	"domains = gmail.com googlemail.com\n"
	"[pool warm1]\n"
	"transport = warm1:\n"
	"[pool main]\n"
	"transport = smtp:\n", err, sizeof(err), NULL);
    const struct conf_provider *p;

    (void) state;
    if (c == NULL)
	fail_msg("%s", err);
    assert_int_equal(c->general.syslog_facility, LOG_LOCAL3);
    assert_string_equal(c->redis.server, "unix:/run/redis/redis.sock");
    assert_int_equal(c->redis.command_timeout_ms, 2000);
    assert_int_equal(c->redis.sentinels.n, 3);
    assert_string_equal(c->redis.sentinels.v[2], "10.0.0.3:26379");
    assert_int_equal(c->policy.listen.n, 2);
    assert_int_equal(c->policy.max_request_size, 32768);
    assert_int_equal(c->providers.n, 1);
    p = conf_provider_find(c, "gmail");
    assert_non_null(p);
    assert_int_equal(p->mx.n, 2);
    assert_int_equal(p->domains.n, 2);
    assert_string_equal(p->named.name, "gmail");
    assert_int_equal(p->named.line, 13);
    assert_int_equal(c->pools.n, 2);
    assert_string_equal(conf_pool_find(c, "main")->transport, "smtp:");
    assert_null(conf_pool_find(c, "nope"));
    conf_free(c);
}

static void
test_tenants(void **state)
{
    char err[600];
    struct outpost_conf *c = load(
	"[redis]\n"
	"cluster = 10.0.0.1:7000, 10.0.0.2:7000\n"
	"[tenant shop]\n"
	"domains = shop.example, news.shop.example\n"
	"webhook_url = https://hooks.shop.example/x\n"
	"webhook_secret_file = /etc/outpost/shop.secret\n"
	"[tenant other]\n"
	"domains = other.example\n"
	"api_rate = 100/m\n", err, sizeof(err), NULL);
    const struct conf_tenant *t;

    (void) state;
    if (c == NULL)
	fail_msg("%s", err);
    assert_int_equal(c->redis.cluster.n, 2);
    assert_int_equal(c->tenants.n, 2);
    t = conf_tenant_of_domain(c, "NEWS.shop.example");
    assert_non_null(t);
    assert_string_equal(t->named.name, "shop");
    assert_int_equal(t->api_rate.count, 10);	/* the default, 10/s */
    assert_int_equal(t->api_burst, 20);
    assert_true(t->webhook_retry_ms == 86400000LL);
    assert_ptr_equal(conf_tenant_find(c, "other"), conf_tenant_of_domain(c, "other.example"));
    assert_true(conf_tenant_find(c, "other")->api_rate.period_ms == 60000);
    assert_null(conf_tenant_of_domain(c, "shop.example.org"));
    assert_null(conf_tenant_find(c, "nope"));
    conf_free(c);
    expect_error("[tenant a]\ndomains = a.example\n[tenant b]\ndomains = A.example\n", 3,
		 "one tenant only");
    expect_error("[tenant a]\ndomains = a.example\nwebhook_url = ftp://x/\n", 1,
		 "webhook_url");
    expect_error("[tenant a]\ndomains = a.example\nwebhook_url = https://x/\n", 1,
		 "webhook_secret_file");
    expect_error("[tenant a]\napi_rate = 1/s\n", 1, "required key 'domains'");
    expect_error("[httpd]\nsubmit = 127.0.0.1:10027\n", 1, "submit must be inet:HOST:PORT");
    expect_error("[redis]\ncluster = a:1\nsentinels = b:2\nsentinel_master = m\n", 1,
		 "exclude each other");
}

/*
 * A tenant's domains as the programs compare them: lower case, A-labels.
 * The API takes a key's one domain from this list as the scope of the
 * suppressions it writes; the milter looks scopes up by the normalised
 * sender domain, so "Shop.Example" written here would be a scope no
 * mail ever has.
 */
static void
test_tenant_domains_normalized(void **state)
{
    char err[600];
    struct outpost_conf *c = load(
	"[tenant shop]\n"
	"domains = Shop.Example, b\xc3\xbc" "cher.example.\n", err, sizeof(err), NULL);
    const struct conf_tenant *t;

    (void) state;
    if (c == NULL)
	fail_msg("%s", err);
    t = conf_tenant_find(c, "shop");
    assert_non_null(t);
    assert_int_equal(t->domains.n, 2);
    assert_string_equal(t->domains.v[0], "shop.example");
    assert_string_equal(t->domains.v[1], "xn--bcher-kva.example");
    assert_ptr_equal(conf_tenant_of_domain(c, "xn--bcher-kva.example"), t);
    conf_free(c);
    expect_error("[tenant a]\ndomains = a..example\n", 1, "domains: sender domain names");
}

static void
test_errors(void **state)
{
    struct outpost_conf *c;
    char err[600];

    (void) state;
    expect_error("[redis]\nserver = a:1\n[bogus]\nx = 1\n", 3, "unknown section [bogus]");
    expect_error("[redis]\nservr = a:1\n", 2, "unknown key 'servr'");
    expect_error("[redis]\ncommand_timeout = 5 parsecs\n", 2, "command_timeout");
    expect_error("[redis]\ndb = 99\n", 2, "out of range");
    expect_error("[redis]\nserver = a\nserver = b\n", 3, "set twice");
    /* a list continues on indented lines only: set again, it is set twice too */
    c = load("[dkim]\nsign_networks = 10.0.0.0/8,\n  192.0.2.0/24\n\t2001:db8::/32\n", err,
	     sizeof(err), NULL);
    if (c == NULL)
	fail_msg("%s", err);
    assert_int_equal(c->dkim.sign_networks.n, 3);
    conf_free(c);
    expect_error("[dkim]\nsign_networks = 10.0.0.0/8\nsign_networks = 192.0.2.0/24\n", 3,
		 "'sign_networks' set twice in [dkim] (first on line 2)");
    expect_error("[redis]\nsentinels = a:1\n[milter]\n[redis]\nsentinels = b:2\n", 5,
		 "set twice");
    expect_error("[general]\nsyslog_facility = kernel\n", 2, "facility");
    expect_error("x = 1\n", 1, "outside any section");
    expect_error("[redis]\njunk line without equals\n", 2, "syntax error");
    expect_error("\n\n[redis\n", 3, "syntax error");
    expect_error("[pool warm1]\n", 1, "required key 'transport'");
    expect_error("[pool]\ntransport = x:\n", 1, "needs a name");
    expect_error("[pool a]\ntransport = x:\n[pool a]\ntransport = y:\n", 3,
		 "defined twice (first on line 1)");
    expect_error("[redis]\n[domain a.test]\nburst = 5\n", 2, "[domain a.test] rate is required");
    expect_error("[sender b.test]\nburst = 5\n", 1, "[sender b.test] rate is required");
    expect_error("[redis]\nsentinels = a:1\n", 1, "sentinel_master");
    /* 0 never doubles: every failed attempt would be made again at once */
    expect_error("[redis]\nreconnect_min = 0\n", 1, "[redis] reconnect_min must be");
    expect_error("[redis]\nreconnect_min = 5ms\n", 1, "[redis] reconnect_min must be");
    expect_error("[policy]\nlisten = tcp:1.2.3.4:5\n", 1, "unix: or inet:");
    expect_error("[milter]\nsocket_mode = rw\n", 2, "octal");
    expect_error("[milter]\npolicy_service = inet:127.0.0.1:10040\n", 1, "unix:/path");
    expect_error("[milter]\npolicy_timeout = 0s\n", 1, "at least 10ms");
    expect_error("[milter]\npolicy_default_action = dunno\n", 2, "policy_default_action");
    /* a unix socket path must fit in sun_path (108 bytes with its NUL) */
    {
	char text[300];

	snprintf(text, sizeof(text), "[milter]\nsocket = unix:/%0107d\n", 0);
	expect_error(text, 1, "[milter] socket: a unix socket path of at most 107 bytes");
	snprintf(text, sizeof(text), "[milter]\nsocket = local:/%0107d\n", 0);
	expect_error(text, 1, "[milter] socket: a unix socket path of at most 107 bytes");
	snprintf(text, sizeof(text), "[policy]\nlisten = inet:127.0.0.1:1, unix:/%0107d\n", 0);
	expect_error(text, 1, "[policy] listen: a unix socket path of at most 107 bytes");
	snprintf(text, sizeof(text), "[milter]\nsocket = unix:/%0106d\n[policy]\n"
		 "listen = unix:/%0106d\n", 0, 0);
	c = load(text, err, sizeof(err), NULL);
	if (c == NULL)
	    fail_msg("%s", err);
	conf_free(c);
    }
    /* libmilter counts whole seconds: 500ms would be 0, a wait of nothing */
    expect_error("[milter]\ntimeout = 500ms\n", 1, "[milter] timeout must be");
    expect_error("[milter]\ntimeout = 0\n", 1, "[milter] timeout must be");
    expect_error("[milter]\ntimeout = 100000w\n", 1, "[milter] timeout must be");
    /* [intake] */
    expect_error("[intake]\nbounce_domain = bounces.example\n", 1, "needs secret_file");
    expect_error("[intake]\nbounce_domain = b%dx.example\nsecret_file = /s\n", 1,
		 "whole labels");
    expect_error("[intake]\nbounce_domain = b.%d.%d\nsecret_file = /s\n", 1, "once");
    expect_error("[intake]\nbounce_domain = b.example\nsecret_file = /s\n"
		 "bounce_local = b-x\n", 1, "no '-'");
    expect_error("[intake]\nbounce_domain = b.example\nsecret_file = /s\n"
		 "complaint_local = b\n", 1, "must differ");
    expect_error("[intake]\nbounce_domain = b.example\nsecret_file = /s\n"
		 "token_max_age = 1h\n", 1, "between 1d");
    expect_error("[intake]\nbounce_domain = b.example\nsecret_file = /s\n"
		 "complaint_addresses = fbl\n", 1, "mail address");
    expect_error("[intake]\nsoft_bounce_limit = 0\n", 2, "soft_bounce_limit");
    expect_error("[general]\nnode = a\n[logd]\nnode = b\n", 0, "older name of [general] node");
    /* a key that has a default and no "off" cannot be emptied */
    expect_error("[policy]\ntimezone = \n", 2, "timezone: '': must not be empty");
    expect_error("[redis]\nserver =\n", 2, "must not be empty");
    expect_error("[general]\nuser =\n", 2, "must not be empty");
    expect_error("[dns]\ndmarc_report =\n", 2, "must not be empty");
}

/* test_node - [general] node, its older name [logd] node, the host name */
static void
test_node(void **state)
{
    char err[600], host[256];
    struct outpost_conf *c;

    (void) state;
    assert_int_equal(gethostname(host, sizeof(host)), 0);
    c = load("", err, sizeof(err), NULL);
    assert_non_null(c);
    assert_string_equal(c->general.node, host);
    assert_null(c->milter.metrics_listen);	/* off unless asked for */
    assert_null(c->policy.metrics_listen);
    assert_int_equal(c->logd.metrics_max_senders, 100);
    conf_free(c);
    c = load("[logd]\nnode = relay-b\n", err, sizeof(err), NULL);
    assert_non_null(c);
    assert_string_equal(c->general.node, "relay-b");
    conf_free(c);
    c = load("[general]\nnode = relay-a\n[logd]\nnode = relay-a\n", err, sizeof(err), NULL);
    assert_non_null(c);
    assert_string_equal(c->general.node, "relay-a");
    conf_free(c);
}

static void
test_long_line(void **state)
{
    char text[600], err[600];
    struct outpost_conf *c;

    (void) state;
    snprintf(text, sizeof(text), "[redis]\n\nprefix = %0300d\n", 7);
    expect_error(text, 3, "longer than");
    /* CONF_MAX_LINE characters are a line of the longest length read whole */
    snprintf(text, sizeof(text), "[milter]\ncampaign_header = X-%0*d\n",
	     CONF_MAX_LINE - (int) strlen("campaign_header = X-"), 7);
    c = load(text, err, sizeof(err), NULL);
    if (c == NULL)
	fail_msg("a line of %d characters: %s", CONF_MAX_LINE, err);
    assert_int_equal(strlen(c->milter.campaign_header) + strlen("campaign_header = "),
		     CONF_MAX_LINE);
    conf_free(c);
    snprintf(text, sizeof(text), "[milter]\ncampaign_header = X-%0*d\n",
	     CONF_MAX_LINE + 1 - (int) strlen("campaign_header = X-"), 7);
    expect_error(text, 2, "longer than");
}

/* test_long_section - a section name longer than inih keeps whole */
static void
test_long_section(void **state)
{
    static const char name[] = "newsletter-marketing.departement.example-company.com";
    char text[300], err[600];
    struct outpost_conf *c;
    const struct conf_sender *s;

    (void) state;
    snprintf(text, sizeof(text), "[sender %s]\nrate = 10/m\nburst = 5\n[sender b.test]\n"
	     "rate = 1/s\n", name);
    if ((c = load(text, err, sizeof(err), NULL)) == NULL)
	fail_msg("%s", err);
    assert_int_equal(c->senders.n, 2);
    s = CONF_VEC_AT(&c->senders, 0, struct conf_sender);
    assert_string_equal(s->named.name, name);
    assert_int_equal(s->rate.count, 10);
    assert_int_equal(s->burst, 5);
    conf_free(c);
    snprintf(text, sizeof(text), "[sender %s]\nrate = 10/m\nbogus = 1\n", name);
    expect_error(text, 3, "unknown key 'bogus' in section [sender]");
}

/* test_nul - a NUL byte cuts no value short unseen */
static void
test_nul(void **state)
{
    static const char text[] = "[redis]\nprefix = a\0b\n\n[milter]\n";
    char path[] = "/tmp/outpost-test-XXXXXX", err[600], want[600];
    int fd = mkstemp(path);

    (void) state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t) sizeof(text) - 1);
    close(fd);
    if (conf_load(path, err, sizeof(err)) != NULL)
	fail_msg("a line with a NUL byte was taken");
    snprintf(want, sizeof(want), "%s:2: a NUL byte", path);
    if (strncmp(err, want, strlen(want)) != 0)
	fail_msg("'%s' does not start with '%s'", err, want);
    unlink(path);
}

static void
test_missing_file(void **state)
{
    char err[600];

    (void) state;
    assert_null(conf_load("/nonexistent/outpost.conf", err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent/outpost.conf: cannot open"));
}

/* [logd]: start at the end, act on lines of the last hour only */
static void
test_logd(void **state)
{
    char err[600];
    struct outpost_conf *c = load("", err, sizeof(err), NULL);

    (void) state;
    assert_non_null(c);
    assert_int_equal(c->logd.start_at_end, 1);
    assert_true(c->logd.max_line_age_ms == 3600000LL);
    conf_free(c);
    c = load("[logd]\nstart_at = beginning\nmax_line_age = 0\n", err, sizeof(err), NULL);
    if (c == NULL)
	fail_msg("%s", err);
    assert_int_equal(c->logd.start_at_end, 0);
    assert_true(c->logd.max_line_age_ms == 0);
    conf_free(c);
    c = load("[logd]\nmax_line_age = 2d\n", err, sizeof(err), NULL);
    assert_non_null(c);
    assert_true(c->logd.max_line_age_ms == 2 * 86400000LL);
    conf_free(c);
    expect_error("[logd]\nmax_line_age = soon\n", 2, "max_line_age");
    expect_error("[logd]\nstart_at = middle\n", 2, "not one of: beginning, end");
    /* 0 would read the file again and again without a pause */
    expect_error("[logd]\npoll_interval = 0\n", 1, "[logd] poll_interval must be");
    expect_error("[logd]\npoll_interval = 5ms\n", 1, "[logd] poll_interval must be");
    expect_error("[logd]\nfilter_relays = 127.0.0.1:10024, 127.0.0.1:x\n", 1,
		 "[logd] filter_relays: each must be");
    expect_error("[logd]\nfilter_relays = [::1\n", 1, "[logd] filter_relays: each must be");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_defaults),
	cmocka_unit_test(test_values),
	cmocka_unit_test(test_tenants),
	cmocka_unit_test(test_tenant_domains_normalized),
	cmocka_unit_test(test_errors),
	cmocka_unit_test(test_node),
	cmocka_unit_test(test_long_line),
	cmocka_unit_test(test_nul),
	cmocka_unit_test(test_long_section),
	cmocka_unit_test(test_missing_file),
	cmocka_unit_test(test_logd),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
