/*
 * test_machine - the machine-open classifier on recorded request signatures
 * (user agent, client address, time since the message was sent)
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "confval.h"
#include "machine.h"

struct sig {
    const char *who;
    const char *ua;
    const char *addr;
    long long delay_ms;
    int expect;
};

/* seen in the wild, or as their vendors document them */
static const struct sig sigs[] = {
    {"Apple Mail Privacy Protection", "Mozilla/5.0", "104.28.40.12", 4000, MACHINE_APPLE},
    {"Apple MPP, later", "Mozilla/5.0", "172.225.8.3", 3 * 3600 * 1000LL, MACHINE_APPLE},
    {"Apple network", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko)", "17.58.101.7", 600000, MACHINE_NETWORK},
    {"Gmail image proxy", "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 "
     "(via ggpht.com GoogleImageProxy)", "66.249.84.33", 120000, MACHINE_AGENT},
    {"Gmail proxy address, plain agent", "Mozilla/5.0 (X11; Linux x86_64)",
     "66.102.8.1", 120000, MACHINE_NETWORK},
    {"Yahoo proxy", "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
     "98.136.1.1", 90000, MACHINE_AGENT},
    {"Microsoft Safe Links", "Mozilla/5.0 (compatible; SafeLinks)", "40.94.1.1", 1500,
     MACHINE_AGENT},
    {"Proofpoint URL Defense", "Mozilla/5.0 urldefense.proofpoint.com", "67.231.1.1", 900,
     MACHINE_AGENT},
    {"Barracuda", "Barracuda Sentinel (EE)", "209.222.82.1", 3000, MACHINE_AGENT},
    {"Mimecast", "Mimecast-URL-Protect", "205.139.110.1", 2000, MACHINE_AGENT},
    {"scripted fetch", "python-requests/2.28.1", "203.0.113.9", 86400000, MACHINE_AGENT},
    {"curl", "curl/7.88.1", "203.0.113.9", 86400000, MACHINE_AGENT},
    {"headless browser scanner", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
     "(KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36", "198.51.100.4", 5000,
     MACHINE_AGENT},
    {"link scanner with a browser's agent, at once", "Mozilla/5.0 (Windows NT 10.0; Win64; "
     "x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
     "198.51.100.7", 2500, MACHINE_EARLY},
    {"no agent at all", NULL, "198.51.100.8", 600000, MACHINE_NO_AGENT},
    {"empty agent", "", "198.51.100.8", 600000, MACHINE_NO_AGENT},
    {"a person in Chrome, an hour later", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
     "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
     "198.51.100.7", 3600000, MACHINE_HUMAN},
    {"a person on an iPhone, Safari", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) "
     "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
     "2001:db8::5", 45000, MACHINE_HUMAN},
    {"a person in Thunderbird", "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 "
     "Thunderbird/115.5.0", "192.0.2.44", 20000, MACHINE_HUMAN},
    {"a person in Outlook", "Mozilla/4.0 (compatible; ms-office; MSOffice 16)",
     "192.0.2.45", 7200000, MACHINE_HUMAN},
    {"an operator's word", "Mozilla/5.0 AcmeGuard/3.1", "192.0.2.46", 7200000, MACHINE_AGENT},
    {"an operator's word, another case", "mozilla/5.0 ACMEGUARD/3.1", "192.0.2.46", 7200000,
     MACHINE_AGENT},
    {"a scanner in capitals", "LinkChecker BOT/2", "192.0.2.47", 7200000, MACHINE_AGENT},
};

static void
test_signatures(void **state)
{
    struct cidr nets[3];
    struct cidr_list networks = {nets, 3};
    char *words[] = {"AcmeGuard"};
    struct conf_strlist agents = {words, 1};
    struct machine_rules r = {&networks, &agents, 10000};
    const char *why;
    size_t i;
    int got;

    (void) state;
    assert_int_equal(confval_cidr("17.0.0.0/8", &nets[0], &why), 0);
    assert_int_equal(confval_cidr("66.102.0.0/20", &nets[1], &why), 0);
    assert_int_equal(confval_cidr("66.249.80.0/20", &nets[2], &why), 0);
    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
	got = machine_classify(&r, sigs[i].ua, sigs[i].addr, sigs[i].delay_ms);
	if (got != sigs[i].expect)
	    fail_msg("%s: %s, expected %s", sigs[i].who, machine_signal_name(got),
		     machine_signal_name(sigs[i].expect));
    }
}

/* the delay rule is the operator's: 0 turns it off */
static void
test_delay(void **state)
{
    struct cidr_list none = {NULL, 0};
    struct machine_rules r = {&none, NULL, 0};
    const char *ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0";

    (void) state;
    assert_int_equal(machine_classify(&r, ua, "192.0.2.1", 0), MACHINE_HUMAN);
    /* off whatever the clocks: a token issued by a clock ahead of this one */
    assert_int_equal(machine_classify(&r, ua, "192.0.2.1", -5000), MACHINE_HUMAN);
    r.delay_ms = 30000;
    assert_int_equal(machine_classify(&r, ua, "192.0.2.1", 29999), MACHINE_EARLY);
    assert_int_equal(machine_classify(&r, ua, "192.0.2.1", 30000), MACHINE_HUMAN);
    /* a clock behind the sender's: a negative delay is early */
    assert_int_equal(machine_classify(&r, ua, NULL, -5000), MACHINE_EARLY);
    assert_string_equal(machine_signal_name(MACHINE_APPLE), "apple");
}

/* a long agent is read only so far */
static void
test_long_agent(void **state)
{
    static char ua[MACHINE_UA_MAX * 4];
    struct cidr_list none = {NULL, 0};
    struct machine_rules r = {&none, NULL, 0};

    (void) state;
    memset(ua, 'a', sizeof(ua) - 1);
    assert_int_equal(machine_classify(&r, ua, NULL, 1000000), MACHINE_HUMAN);
    memcpy(ua + sizeof(ua) - 10, "curl/", 5);
    assert_int_equal(machine_classify(&r, ua, NULL, 1000000), MACHINE_HUMAN);
    /* a word cut by the limit is not there */
    memcpy(ua + MACHINE_UA_MAX - 3, "curl/", 5);
    assert_int_equal(machine_classify(&r, ua, NULL, 1000000), MACHINE_HUMAN);
    memcpy(ua + 10, "curl/", 5);
    assert_int_equal(machine_classify(&r, ua, NULL, 1000000), MACHINE_AGENT);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_signatures),
	cmocka_unit_test(test_delay),
	cmocka_unit_test(test_long_agent),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
