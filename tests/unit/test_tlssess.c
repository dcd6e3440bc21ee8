/* test_tlssess - TLS lines matched to the deliveries of their SMTP client */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "maillog.h"
#include "stats.h"
#include "tlssess.h"

/* feed - one recorded line; a delivery's level (-1 for other lines) */
static int
feed(struct tlssess *s, const char *line)
{
    struct ml_event ev;

    switch (maillog_parse(line, strlen(line), &ev)) {
    case ML_TLS:
	tlssess_note(s, &ev);
	return -1;
    case ML_DELIVERY:
	return tlssess_level(s, &ev);
    default:
	return -1;
    }
}

#define PF "Dec  6 13:00:01 relay postfix/smtp"
#define CIPHER ": TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"
#define SENT ", delay=0.1, delays=0/0/0.05/0.05, dsn=2.0.0, status=sent (250 2.0.0 Ok)"

/* interleaved Postfix clients, a message of several recipients, a new server */
static void
test_postfix(void **state)
{
    struct tlssess *s = tlssess_new();

    (void) state;
    assert_int_equal(feed(s, PF "[101]: Verified TLS connection established to "
			  "mx.gmail.test[127.0.0.11]:25" CIPHER), -1);
    assert_int_equal(feed(s, PF "[102]: Anonymous TLS connection established to "
			  "mx.outlook.test[127.0.0.12]:25" CIPHER), -1);
    assert_int_equal(feed(s, PF "[103]: 3F2A1B: to=<c@yahoo.test>, "
			  "relay=mx.yahoo.test[127.0.0.13]:25" SENT), 0);
    assert_int_equal(feed(s, PF "[101]: 1A2B3C: to=<a@gmail.test>, "
			  "relay=mx.gmail.test[127.0.0.11]:25" SENT), ML_TLS_VERIFIED);
    assert_int_equal(feed(s, PF "[102]: 2B3C4D: to=<b@outlook.test>, "
			  "relay=mx.outlook.test[127.0.0.12]:25" SENT), ML_TLS_UNVERIFIED);
    /* the second recipient of the same session */
    assert_int_equal(feed(s, PF "[101]: 1A2B3C: to=<a2@gmail.test>, "
			  "relay=mx.gmail.test[127.0.0.11]:25" SENT), ML_TLS_VERIFIED);
    /* the same process, another server without a TLS line: plaintext, session over */
    assert_int_equal(feed(s, PF "[101]: 4C5D6E: to=<d@yahoo.test>, "
			  "relay=mx.yahoo.test[127.0.0.13]:25" SENT), 0);
    assert_int_equal(feed(s, PF "[101]: 5D6E7F: to=<e@gmail.test>, "
			  "relay=mx.gmail.test[127.0.0.11]:25" SENT), 0);
    /* another process takes over a cached TLS session: it logs "reused" */
    assert_int_equal(feed(s, PF "[104]: Trusted TLS connection reused to "
			  "mx.outlook.test[127.0.0.12]:25" CIPHER), -1);
    assert_int_equal(feed(s, PF "[104]: 6E7F80: to=<f@outlook.test>, "
			  "relay=mx.outlook.test[127.0.0.12]:25" SENT), ML_TLS_VERIFIED);
    /* the same pid on another logging host is another process */
    assert_int_equal(feed(s, "Dec  6 13:00:01 relay2 postfix/smtp[102]: 7F8091: "
			  "to=<g@outlook.test>, relay=mx.outlook.test[127.0.0.12]:25" SENT), 0);
    /* a deferral is matched too (the caller counts only what was sent) */
    assert_int_equal(feed(s, PF "[102]: 2B3C4E: to=<h@outlook.test>, "
			  "relay=mx.outlook.test[127.0.0.12]:25, delay=1, dsn=4.2.2, "
			  "status=deferred (host said: 452 4.2.2 full)"), ML_TLS_UNVERIFIED);
    tlssess_free(s);
}

/* Sendmail names the server by host in its STARTTLS line; it caches connections */
static void
test_sendmail(void **state)
{
    struct tlssess *s = tlssess_new();

    (void) state;
    assert_int_equal(feed(s, "Dec  6 13:00:02 mta sm-mta[4243]: STARTTLS=client, "
			  "relay=mx.gmail.test., version=TLSv1.3, verify=OK, "
			  "cipher=TLS_AES_256_GCM_SHA384, bits=256/256"), -1);
    assert_int_equal(feed(s, "Dec  6 13:00:03 mta sm-mta[4244]: 5ASGmh8Y012345: "
			  "STARTTLS=client, relay=mx.yahoo.test., version=TLSv1.2, "
			  "verify=FAIL, cipher=ECDHE-RSA-AES256-GCM-SHA384, bits=256/256"), -1);
    assert_int_equal(feed(s, "Dec  6 13:00:03 mta sm-mta[4243]: 5ASGmh8X012345: "
			  "to=<a@gmail.test>, delay=00:00:01, xdelay=00:00:01, mailer=esmtp, "
			  "pri=120385, relay=mx.gmail.test. [127.0.0.11], dsn=2.0.0, "
			  "stat=Sent (Ok)"), ML_TLS_VERIFIED);
    assert_int_equal(feed(s, "Dec  6 13:00:04 mta sm-mta[4244]: 5ASGmh8Y012345: "
			  "to=<b@yahoo.test>, delay=00:00:01, mailer=esmtp, "
			  "relay=mx.yahoo.test. [127.0.0.13], dsn=2.0.0, stat=Sent (Ok)"),
		     ML_TLS_UNVERIFIED);
    /* the next message of the same queue run over the cached connection */
    assert_int_equal(feed(s, "Dec  6 13:00:05 mta sm-mta[4243]: 5ASGmh8Z012345: "
			  "to=<c@gmail.test>, delay=00:00:01, mailer=esmtp, "
			  "relay=mx.gmail.test. [127.0.0.11], dsn=2.0.0, stat=Sent (Ok)"),
		     ML_TLS_VERIFIED);
    assert_int_equal(feed(s, "Dec  6 13:00:05 mta sm-mta[4245]: 5ASGmh90012345: "
			  "to=<d@gmail.test>, delay=00:00:01, mailer=esmtp, "
			  "relay=mx.gmail.test. [127.0.0.11], dsn=2.0.0, stat=Sent (Ok)"), 0);
    tlssess_free(s);
}

/* memory stays bounded: the oldest processes are forgotten, the newest kept */
static void
test_bounded(void **state)
{
    struct tlssess *s = tlssess_new();
    char line[512];
    int pid;

    (void) state;
    for (pid = 1; pid <= TLSSESS_MAX + 10; pid++) {
	snprintf(line, sizeof(line), PF "[%d]: Untrusted TLS connection established to "
		 "mx.gmail.test[127.0.0.11]:25" CIPHER, pid);
	feed(s, line);
    }
    snprintf(line, sizeof(line), PF "[%d]: 1A: to=<a@gmail.test>, "
	     "relay=mx.gmail.test[127.0.0.11]:25" SENT, TLSSESS_MAX + 10);
    assert_int_equal(feed(s, line), ML_TLS_UNVERIFIED);
    assert_int_equal(feed(s, PF "[1]: 1B: to=<a@gmail.test>, "
			  "relay=mx.gmail.test[127.0.0.11]:25" SENT), 0);
    assert_string_equal(tlssess_counter(ML_TLS_VERIFIED), STATS_TLS_VERIFIED);
    assert_string_equal(tlssess_counter(ML_TLS_UNVERIFIED), STATS_TLS_UNVERIFIED);
    assert_string_equal(tlssess_counter(0), STATS_TLS_NONE);
    tlssess_free(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_postfix),
	cmocka_unit_test(test_sendmail),
	cmocka_unit_test(test_bounded),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
