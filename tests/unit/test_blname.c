/* test_blname - the blocklist a refusal names, over a table of wordings */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "blname.h"
#include "bounce_class.h"

/* the lists of a relay: two of Spamhaus (ip, domain), Barracuda, a test list */
static struct conf_blocklist lists[] = {
    {.named = {"dbl", 1}, .zone = "dbl.spamhaus.org", .kind = CONF_BL_DOMAIN},
    {.named = {"zen", 2}, .zone = "zen.spamhaus.org", .kind = CONF_BL_IP},
    {.named = {"bry", 3}, .zone = "b.barracudacentral.org", .kind = CONF_BL_IP},
    {.named = {"testbl", 4}, .zone = "zen.example", .kind = CONF_BL_IP},
};

static char *warm_addrs[] = {"192.0.2.10", "2001:db8::10"};

/* relay - a configuration holding the lists above and one pool */
static struct outpost_conf *
relay(void)
{
    static struct outpost_conf conf;
    static void *bv[4], *pv[1];
    static struct conf_pool warm;
    size_t i;

    memset(&conf, 0, sizeof(conf));
    for (i = 0; i < 4; i++)
	bv[i] = &lists[i];
    conf.blocklists.v = bv;
    conf.blocklists.n = 4;
    memset(&warm, 0, sizeof(warm));
    warm.named.name = "warm";
    warm.addresses.v = warm_addrs;
    warm.addresses.n = 2;
    pv[0] = &warm;
    conf.pools.v = pv;
    conf.pools.n = 1;
    return &conf;
}

struct wording {
    const char *status;		/* for the classifier */
    const char *text;
    const char *list;		/* the configured list, "other", or NULL: none named */
    const char *ip;		/* the address found, or "" */
};

/* real wordings, by operator; status codes as the receivers send them */
static const struct wording table[] = {
    /* Spamhaus through Postfix, Exim, Sendmail and a URL only */
    {"5.7.1", "554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using "
     "zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.10", "zen", "192.0.2.10"},
    {"", "550 rejected because 192.0.2.10 is in a black list at zen.spamhaus.org",
     "zen", "192.0.2.10"},
    {"", "550-JunkMail rejected - mta.example [192.0.2.10]:4321 is in an RBL on "
     "sbl.spamhaus.org, see https://www.spamhaus.org/sbl/query/SBL123", "zen", "192.0.2.10"},
    {"5.7.1", "550 5.7.1 Mail from 192.0.2.10 refused, see https://www.spamhaus.org/query/"
     "ip/192.0.2.10", "zen", "192.0.2.10"},
    {"5.7.1", "554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using "
     "xbl.spamhaus.org.", "zen", "192.0.2.10"},
    {"5.7.1", "554 5.7.1 Service unavailable; Sender address [a@shop.example] blocked using "
     "dbl.spamhaus.org", "dbl", ""},
    {"", "554 Connections not accepted from IP addresses on Spamhaus XBL", "zen", ""},
    /* Barracuda */
    {"", "554 Service unavailable; Client host [192.0.2.10] blocked using Barracuda "
     "Reputation; http://www.barracudanetworks.com/reputation/?r=1&ip=192.0.2.10",
     "bry", "192.0.2.10"},
    {"5.7.1", "550 5.7.1 Email blocked by b.barracudacentral.org", "bry", ""},
    /* SpamCop: a list not configured here */
    {"5.7.1", "554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using "
     "bl.spamcop.net; Blocked - see https://www.spamcop.net/bl.shtml?192.0.2.10", "other",
     "192.0.2.10"},
    {"", "553 Blocked - see http://www.spamcop.net/bl.shtml?192.0.2.10", "other",
     "192.0.2.10"},
    /* Microsoft */
    {"5.7.1", "550 5.7.1 Unfortunately, messages from [192.0.2.10] weren't sent. Please "
     "contact your Internet service provider since part of their network is on our block "
     "list (S3150). You can also refer your provider to http://mail.live.com/mail/"
     "troubleshooting.aspx#errors.", "other", "192.0.2.10"},
    {"5.7.606", "550 5.7.606 Access denied, banned sending IP [2001:db8::10]. To request "
     "removal from this list please visit https://sender.office.com/ and follow the "
     "directions.", "other", "2001:db8::10"},
    /* Proofpoint, Cloudmark */
    {"5.7.1", "554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using "
     "Proofpoint Dynamic Reputation; https://ipcheck.proofpoint.com/?ip=192.0.2.10",
     "other", "192.0.2.10"},
    {"5.7.1", "550 5.7.1 Email rejected due to sending IP 192.0.2.10 being listed on "
     "Cloudmark CSI; see http://csi.cloudmark.com/reset-request/?ip=192.0.2.10", "other",
     "192.0.2.10"},
    /* SORBS, UCEPROTECT */
    {"5.7.1", "554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using "
     "dnsbl.sorbs.net; Currently Sending Spam See: http://www.sorbs.net/lookup.shtml?"
     "192.0.2.10", "other", "192.0.2.10"},
    {"5.7.1", "550 5.7.1 Service unavailable; client [192.0.2.10] blocked using "
     "dnsbl-1.uceprotect.net; IP 192.0.2.10 is UCEPROTECT-Level1 listed. See "
     "http://www.uceprotect.net/rblcheck.php?ipr=192.0.2.10", "other", "192.0.2.10"},
    /* a list by its zone alone: the test DNS's list, and one nobody configured */
    {"5.7.1", "554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using "
     "zen.example", "testbl", "192.0.2.10"},
    {"", "550 Your IP 192.0.2.10 is listed in rbl.unknown.example", "other", "192.0.2.10"},
    /* no list named */
    {"5.1.1", "550 5.1.1 <x@example.com>: Recipient address rejected: User unknown in "
     "virtual mailbox table", NULL, ""},
    {"5.1.1", "550 5.1.1 Recipient not listed in public Name & Address Book", NULL, ""},
    {"5.7.1", "554 5.7.1 Client host rejected: blocked by policy", NULL, ""},
    {"5.7.1", "550 5.7.1 Message rejected as spam by Content Filtering.", NULL, ""},
    {"", "", NULL, ""},
};

static void
test_table(void **state)
{
    const struct outpost_conf *conf = relay();
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
	const struct wording *w = &table[i];
	struct blname b;
	int found = blname_find(w->text, strlen(w->text), &b);

	if (found != (w->list != NULL))
	    fail_msg("row %zu: found %d: %s", i, found, w->text);
	if (w->list && strcmp(blname_list(&conf->blocklists, &b), w->list) != 0)
	    fail_msg("row %zu: list %s (zone '%s', family %s), expected %s", i,
		     blname_list(&conf->blocklists, &b), b.zone, b.family ? b.family : "-", w->list);
	if (strcmp(b.ip, w->ip) != 0)
	    fail_msg("row %zu: address '%s', expected '%s'", i, b.ip, w->ip);
    }
}

/* every wording that names a list is one the classifier calls blocked */
static void
test_classified_blocked(void **state)
{
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
	struct bounce_evidence ev;
	char code[8] = "";
	int r;

	if (table[i].list == NULL)
	    continue;
	memset(&ev, 0, sizeof(ev));
	bounce_replycode_find(table[i].text, table[i].status, code, sizeof(code));
	ev.status = table[i].status;
	ev.replycode = code;
	ev.text = table[i].text;
	ev.action = "failed";
	ev.diag_type = "smtp";
	r = bounce_classify(&ev);
	if (r != BR_BLOCKED)
	    fail_msg("row %zu: %s: %s", i, bounce_reason_name(r), table[i].text);
    }
}

static void
test_zones(void **state)
{
    const struct outpost_conf *conf = relay();
    struct blname b;

    (void) state;
    assert_string_equal(blname_family("zen.dq.spamhaus.net"), "spamhaus");
    assert_string_equal(blname_family("cbl.abuseat.org"), "spamhaus");
    assert_null(blname_family("notspamhaus.org"));
    assert_null(blname_family("zen.example"));
    assert_ptr_equal(blname_family_named("SpamHaus"), blname_family("zen.spamhaus.org"));
    assert_null(blname_family_named("spamhau"));
    assert_null(blname_family_named(""));
    /* a zone must be a name: an address or a bare word is not */
    assert_int_equal(blname_find("listed in 192.0.2.1", 19, &b), 0);
    assert_int_equal(blname_find("listed in example", 17, &b), 0);
    /* a zone under a configured one is that list; case-blind; a full stop is not the name's */
    assert_int_equal(blname_find("blocked using KEY.ZEN.Example.", 30, &b), 1);
    assert_string_equal(b.zone, "key.zen.example");
    assert_string_equal(blname_list(&conf->blocklists, &b), "testbl");
    /* a family word inside a longer word is not the family */
    assert_int_equal(blname_find("550 antispamhausen rejected", 27, &b), 0);
    /* the text is read to len only */
    assert_int_equal(blname_find("blocked using zen.spamhaus.org", 13, &b), 0);
}

static void
test_pool(void **state)
{
    const struct outpost_conf *conf = relay();

    (void) state;
    assert_string_equal(blname_pool(&conf->pools, "192.0.2.10"), "warm");
    assert_string_equal(blname_pool(&conf->pools, "2001:DB8:0::10"), "warm");
    assert_null(blname_pool(&conf->pools, "192.0.2.11"));
    assert_null(blname_pool(&conf->pools, ""));
    assert_null(blname_pool(&conf->pools, NULL));
}

/* a long hostile text of near-misses, and one with nothing at all */
static void
test_long(void **state)
{
    size_t n = 1 << 20, i;
    char *t = malloc(n);
    struct blname b;

    (void) state;
    assert_non_null(t);
    for (i = 0; i < n; i++)
	t[i] = "listed a.1 [::"[i % 14];
    (void) blname_find(t, n, &b);
    memset(t, 'a', n);
    assert_int_equal(blname_find(t, n, &b), 0);
    free(t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_table),
	cmocka_unit_test(test_classified_blocked),
	cmocka_unit_test(test_zones),
	cmocka_unit_test(test_pool),
	cmocka_unit_test(test_long),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
