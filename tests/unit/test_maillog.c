/* test_maillog - Postfix and Sendmail log lines */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "maillog.h"

static struct ml_event ev;

/* parse - maillog_parse() of a C string */
static int
parse(const char *line)
{
    return maillog_parse(line, strlen(line), &ev);
}

static void
test_postfix_sent(void **state)
{
    (void) state;
    assert_int_equal(parse("Nov 28 16:48:42 relay postfix/smtp[12918]: 75B7CA746B0: "
			   "to=<bob@outlook.test>, relay=mx.outlook.test[127.0.0.12]:25, "
			   "delay=0.03, delays=0.01/0.01/0.01/0, dsn=2.0.0, status=sent "
			   "(250 2.0.0 Ok: queued as 000001)"), ML_DELIVERY);
    assert_int_equal(ev.mta, ML_POSTFIX);
    assert_string_equal(ev.qid, "75B7CA746B0");
    assert_int_equal(ev.nrcpt, 1);
    assert_string_equal(ev.rcpt[0], "bob@outlook.test");
    assert_string_equal(ev.relay_host, "mx.outlook.test");
    assert_string_equal(ev.relay_ip, "127.0.0.12");
    assert_int_equal(ev.relay_port, 25);
    assert_string_equal(ev.dsn, "2.0.0");
    assert_int_equal(ev.status, ML_SENT);
    assert_string_equal(ev.text, "250 2.0.0 Ok: queued as 000001");
    /* no syslog_name of its own: the service is the program's, smtp */
    assert_string_equal(ev.service, "smtp");
    assert_true(ev.delay > 0.029 && ev.delay < 0.031);
    assert_int_equal(ev.time.mon, 11);
    assert_int_equal(ev.time.mday, 28);
    assert_int_equal(ev.time.hour, 16);
    assert_string_equal(ev.host, "relay");
}

static void
test_postfix_bounced_pool(void **state)
{
    size_t n;
    const char *r;

    (void) state;
    assert_int_equal(parse("Nov  3 06:00:01 relay postfix/warm1/smtp[24633]: 42612A7492A: "
			   "to=<Slow@gmail.test>, orig_to=<slow@GMAIL.test>, "
			   "relay=mx.gmail.test[127.0.0.11]:25, conn_use=2, delay=1.5, "
			   "delays=0.01/0.01/0/0.02, dsn=5.1.1, status=bounced (host "
			   "mx.gmail.test[127.0.0.11] said: 550 5.1.1 The email account, "
			   "that you tried (to reach) does not exist (in reply to RCPT TO "
			   "command))"), ML_DELIVERY);
    assert_string_equal(ev.service, "warm1");
    assert_string_equal(ev.rcpt[0], "Slow@gmail.test");
    assert_string_equal(ev.orig_rcpt, "slow@GMAIL.test");
    assert_int_equal(ev.status, ML_BOUNCED);
    assert_int_equal(ev.time.mday, 3);
    r = maillog_reply(&ev, &n);
    assert_int_equal(n, strlen("550 5.1.1 The email account, that you tried (to reach) "
			       "does not exist"));
    assert_memory_equal(r, "550 5.1.1 The email", 19);
}

static void
test_postfix_deferred_expired(void **state)
{
    (void) state;
    assert_int_equal(parse("Nov 28 16:48:43 relay postfix/smtp[12917]: 6F62CA746C1: "
			   "to=<busy@gmail.test>, relay=mx.gmail.test[127.0.0.11]:25, "
			   "delay=0.03, delays=0/0/0/0.02, dsn=4.7.28, status=deferred (host "
			   "mx.gmail.test[127.0.0.11] said: 421-4.7.28 Our system has "
			   "detected an unusual rate of mail (in reply to RCPT TO command))"),
		     ML_DELIVERY);
    assert_int_equal(ev.status, ML_DEFERRED);
    assert_string_equal(ev.dsn, "4.7.28");
    assert_int_equal(parse("Nov 28 16:50:03 relay postfix/qmgr[24578]: 42612A7492A: "
			   "from=<news@shop.test>, status=expired, returned to sender"),
		     ML_EXPIRED);
    assert_string_equal(ev.sender, "news@shop.test");
    assert_int_equal(parse("Nov 28 16:50:03 relay postfix/qmgr[24578]: 42612A7492A: "
			   "from=<news@shop.test>, size=416, nrcpt=2 (queue active)"),
		     ML_FROM);
    assert_int_equal(ev.size, 416);
    assert_int_equal(parse("Nov 28 16:50:03 relay postfix/qmgr[24578]: 42612A7492A: removed"),
		     ML_REMOVED);
    assert_string_equal(ev.qid, "42612A7492A");
    /* Postfix 3.x status=expired on a recipient line (postsuper -e / bounce) */
    assert_int_equal(parse("Nov 28 16:50:03 relay postfix/error[1]: 42612A7492A: "
			   "to=<a@b.test>, relay=none, delay=9, dsn=4.4.7, "
			   "status=expired (message is too old)"), ML_DELIVERY);
    assert_int_equal(ev.status, ML_EXPIRED_STATUS);
    assert_string_equal(ev.relay_host, "none");
}

static void
test_iso_header(void **state)
{
    long long when;

    (void) state;
    assert_int_equal(parse("2026-11-28T16:48:42.123456+01:00 relay postfix/smtp[1]: "
			   "ABC: to=<a@b.test>, relay=x[1.2.3.4]:25, delay=1, dsn=2.0.0, "
			   "status=sent (ok)"), ML_DELIVERY);
    assert_int_equal(ev.time.year, 2026);
    assert_int_equal(maillog_time(&ev.time, 0, &when), 0);
    /* 2026-11-28 15:48:42 UTC */
    assert_int_equal(when, 1795880922LL);
}

static void
test_sendmail(void **state)
{
    (void) state;
    assert_int_equal(parse("Nov 28 16:48:43 mta sm-mta[4242]: 5ASGmh8X012345: "
			   "from=<news@shop.test>, size=1234, class=0, nrcpts=2, "
			   "msgid=<x@y>, proto=ESMTP, daemon=MTA, relay=localhost [127.0.0.1]"),
		     ML_FROM);
    assert_int_equal(ev.mta, ML_SENDMAIL);
    assert_string_equal(ev.sender, "news@shop.test");
    assert_int_equal(parse("Nov 28 16:48:44 mta sm-mta[4243]: 5ASGmh8X012345: "
			   "to=<a@gmail.test>,<b@gmail.test>, delay=00:00:01, "
			   "xdelay=00:00:01, mailer=esmtp, pri=120385, relay=mx.gmail.test. "
			   "[127.0.0.11], dsn=2.0.0, stat=Sent (Ok: queued as 1)"),
		     ML_DELIVERY);
    assert_int_equal(ev.nrcpt, 2);
    assert_string_equal(ev.rcpt[1], "b@gmail.test");
    assert_string_equal(ev.service, "esmtp");
    assert_string_equal(ev.relay_host, "mx.gmail.test");
    assert_string_equal(ev.relay_ip, "127.0.0.11");
    assert_int_equal(ev.relay_port, 0);
    assert_int_equal(ev.status, ML_SENT);
    assert_true(ev.delay == 1);
    assert_int_equal(parse("Nov 28 16:48:44 mta sendmail[4243]: 5ASGmh8X012345: "
			   "to=<c@gmail.test>, delay=1+00:00:01, mailer=esmtp, "
			   "relay=mx.gmail.test. [127.0.0.11], dsn=4.7.28, "
			   "stat=Deferred: 421 4.7.28 slow down"), ML_DELIVERY);
    assert_int_equal(ev.status, ML_DEFERRED);
    assert_string_equal(ev.text, "421 4.7.28 slow down");
    assert_true(ev.delay == 86401);
    assert_int_equal(parse("Nov 28 16:48:44 mta sendmail[4243]: 5ASGmh8X012345: "
			   "to=<d@gmail.test>, delay=00:00:01, mailer=esmtp, "
			   "relay=mx.gmail.test. [127.0.0.11], dsn=5.1.1, "
			   "stat=User unknown"), ML_DELIVERY);
    assert_int_equal(ev.status, ML_BOUNCED);
    assert_string_equal(ev.text, "User unknown");
    /* the server's reply, with ", " inside, wins over what stat= says */
    assert_int_equal(parse("Nov 28 16:48:45 mta sendmail[4244]: 5ASGmh8X012345: "
			   "to=<e@yahoo.test>, delay=00:00:00, mailer=esmtp, "
			   "relay=mx.yahoo.test. [127.0.0.13], dsn=4.7.0, reply=421 4.7.0 "
			   "[TSS04] Messages deferred due to volume, try later, "
			   "stat=Deferred: Connection reset by mx.yahoo.test."), ML_DELIVERY);
    assert_int_equal(ev.status, ML_DEFERRED);
    assert_string_equal(ev.dsn, "4.7.0");
    assert_string_equal(ev.text, "421 4.7.0 [TSS04] Messages deferred due to volume, try later");
    /* a local sender's mail: "ctladdr=<addr> (uid/gid)" before the others */
    assert_int_equal(parse("Nov 28 16:48:46 mta sm-mta[4245]: 5ASGmh8Z012345: "
			   "to=<f@gmail.test>, ctladdr=<news@shop.test> (1000/1000), "
			   "delay=00:00:02, xdelay=00:00:01, mailer=esmtp, pri=120385, "
			   "relay=mx.gmail.test. [127.0.0.11], dsn=2.0.0, stat=Sent (ok)"),
		     ML_DELIVERY);
    assert_string_equal(ev.rcpt[0], "f@gmail.test");
    assert_string_equal(ev.service, "esmtp");
    assert_string_equal(ev.relay_ip, "127.0.0.11");
    assert_int_equal(ev.status, ML_SENT);
    assert_true(ev.delay == 2);
    /* a long recipient list: Sendmail splits it, "[more]" after each part but the last */
    assert_int_equal(parse("Nov 28 16:48:47 mta sm-mta[4246]: 5ASGmh8Z012346: "
			   "to=<g@gmail.test>,<h@gmail.test>, [more], delay=00:00:01, "
			   "xdelay=00:00:01, mailer=esmtp, pri=120385, "
			   "relay=mx.gmail.test. [127.0.0.11], dsn=2.0.0, stat=Sent (ok)"),
		     ML_DELIVERY);
    assert_int_equal(ev.nrcpt, 2);
    assert_string_equal(ev.rcpt[0], "g@gmail.test");
    assert_string_equal(ev.rcpt[1], "h@gmail.test");
    assert_string_equal(ev.relay_host, "mx.gmail.test");
    assert_int_equal(ev.status, ML_SENT);
    /* the submission program hands a local message to the daemon: not a delivery */
    assert_int_equal(parse("Nov 28 16:48:48 mta sendmail[4247]: 5ASGmh90012347: "
			   "to=i@gmail.test, ctladdr=www-data (33/33), delay=00:00:00, "
			   "xdelay=00:00:00, mailer=relay, pri=30347, relay=[127.0.0.1] "
			   "[127.0.0.1], dsn=2.0.0, stat=Sent (5ASGmh91012348 Message "
			   "accepted for delivery)"), ML_IGNORED);
    assert_int_equal(parse("Nov 28 16:48:48 mta sendmail[4247]: 5ASGmh90012347: "
			   "to=i@gmail.test, ctladdr=www-data (33/33), delay=00:00:00, "
			   "xdelay=00:00:00, mailer=relay, pri=30347, relay=[IPv6:::1] "
			   "[IPv6:::1], dsn=4.0.0, stat=Deferred: Connection refused by "
			   "[IPv6:::1]"), ML_IGNORED);
    /* the notification Sendmail makes: a message from the null sender */
    assert_int_equal(parse("Nov 28 16:48:44 mta sendmail[4243]: 5ASGmh8X012345: "
			   "5ASGmh8Y012345: DSN: User unknown"), ML_FROM);
    assert_string_equal(ev.qid, "5ASGmh8Y012345");
    assert_string_equal(ev.sender, "");
}

static void
test_ignored_and_garbage(void **state)
{
    char big[ML_LINE_MAX + 10];

    (void) state;
    assert_int_equal(parse("Nov 28 16:48:42 relay postfix/smtpd[1]: connect from x[1.2.3.4]"),
		     ML_IGNORED);
    assert_int_equal(parse("Nov 28 16:48:42 relay postfix/smtpd[1]: NOQUEUE: reject: RCPT "
			   "from x[1.2.3.4]: 550 no; from=<a@b> to=<c@d> proto=ESMTP"),
		     ML_IGNORED);
    assert_int_equal(parse("Nov 28 16:48:42 relay sshd[1]: Accepted key for root"), ML_IGNORED);
    assert_int_equal(parse("Nov 28 16:48:42 relay postfix/smtp[1]: ABC: to=<a@b.test>, "
			   "relay=none, delay=1"), ML_GARBAGE);
    assert_int_equal(parse("Nov 28 16:48:42 relay postfix/smtp[1]: ABC: to=<a@b.test>, "
			   "status=wibble (x)"), ML_GARBAGE);
    assert_int_equal(parse("Nov 28 16:48:42 relay postfix/smtp[1]: ABC: to=<a@b.test"),
		     ML_GARBAGE);
    assert_int_equal(parse("Nov 28 16:48:42 relay postfix/smtp[1]: ABC: to=<x>, dsn=2.0.0, "
			   "status=deliverable (address verification)"), ML_IGNORED);
    assert_int_equal(parse("garbage"), ML_GARBAGE);
    assert_int_equal(parse(""), ML_GARBAGE);
    assert_int_equal(parse("Foo 28 16:48:42 relay postfix/smtp[1]: x"), ML_GARBAGE);
    assert_int_equal(parse("Nov 28 25:48:42 relay postfix/smtp[1]: x"), ML_GARBAGE);
    assert_int_equal(parse("Nov 28 16:48:42 relay postfix/smtp[1x]: x"), ML_GARBAGE);
    memset(big, 'a', sizeof(big));
    assert_int_equal(maillog_parse(big, sizeof(big), &ev), ML_GARBAGE);
    /* not NUL-terminated: the parser must stop at len */
    assert_int_equal(maillog_parse("Nov 28 16:48:42 relay postfix/qmgr[1]: A: removedXX",
				   strlen("Nov 28 16:48:42 relay postfix/qmgr[1]: A: removed"),
				   &ev), ML_REMOVED);
}

static void
test_truncation(void **state)
{
    char line[ML_LINE_MAX];
    int n;

    (void) state;
    n = snprintf(line, sizeof(line), "Nov 28 16:48:42 relay postfix/smtp[1]: ABC: to=<");
    memset(line + n, 'x', 600);
    n += 600;
    n += snprintf(line + n, sizeof(line) - (size_t) n, "@b.test>, dsn=5.0.0, status=bounced (");
    memset(line + n, 'y', 3000);
    n += 3000;
    line[n++] = ')';
    assert_int_equal(maillog_parse(line, (size_t) n, &ev), ML_DELIVERY);
    assert_int_equal(strlen(ev.rcpt[0]), ML_ADDR_MAX - 1);
    assert_int_equal(strlen(ev.text), ML_TEXT_MAX - 1);
    /* a Sendmail line of short recipients: about 1000 bytes of them, all read */
    n = snprintf(line, sizeof(line), "Nov 28 16:48:42 mta sm-mta[1]: ABC: to=");
    for (int i = 0; i < 100; i++)
	n += snprintf(line + n, sizeof(line) - (size_t) n, "%s<r%02d@b.test>", i ? "," : "", i);
    n += snprintf(line + n, sizeof(line) - (size_t) n, ", mailer=esmtp, dsn=2.0.0, stat=Sent");
    assert_int_equal(maillog_parse(line, (size_t) n, &ev), ML_DELIVERY);
    assert_int_equal(ev.nrcpt, 100);
    assert_false(ev.rcpt_truncated);
    assert_string_equal(ev.rcpt[99], "r99@b.test");
}

/* utc - UNIX seconds of a UTC date */
static long long
utc(int y, int mon, int d, int h, int min, int sec)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = min;
    tm.tm_sec = sec;
    return (long long) timegm(&tm);
}

/* old - maillog_too_old() of a line's header, *when its time */
static int
old(const char *header, long long now, long long max_age, long long *when)
{
    char line[300];

    snprintf(line, sizeof(line), "%s relay postfix/smtp[1]: ABC: to=<a@b.test>, "
	     "relay=x[192.0.2.1]:25, delay=1, dsn=4.7.28, status=deferred (421 slow down)",
	     header);
    assert_int_equal(parse(line), ML_DELIVERY);
    return maillog_too_old(&ev.time, now, max_age, when);
}

/* the age check: year-less times, year boundaries, zones */
static void
test_too_old(void **state)
{
    long long now, when;

    (void) state;
    setenv("TZ", "UTC", 1);
    tzset();
    /* syslog and Postfix's maillog_file (zero-padded day) */
    now = utc(2026, 12, 6, 9, 0, 0);
    assert_false(old("Dec  6 08:00:01", now, 3600, &when));
    assert_int_equal(when, utc(2026, 12, 6, 8, 0, 1));
    assert_false(old("Dec 06 08:00:00", now, 3600, &when));
    assert_true(old("Dec 06 07:59:59", now, 3600, &when));
    /* a replayed line from June is this year's, not next year's */
    assert_true(old("Jun  1 10:00:00", now, 3600, &when));
    assert_int_equal(when, utc(2026, 6, 1, 10, 0, 0));
    /* a little ahead (another host's clock) is fresh; a day and more is last year's */
    assert_false(old("Dec  6 09:05:00", now, 3600, &when));
    assert_int_equal(when, utc(2026, 12, 6, 9, 5, 0));
    assert_true(old("Dec  8 09:00:00", now, 3600, &when));
    assert_int_equal(when, utc(2025, 12, 8, 9, 0, 0));
    /* the year boundary, both ways */
    now = utc(2027, 1, 1, 0, 0, 30);
    assert_false(old("Dec 31 23:59:50", now, 3600, &when));
    assert_int_equal(when, utc(2026, 12, 31, 23, 59, 50));
    now = utc(2026, 12, 31, 23, 59, 59);
    assert_false(old("Jan  1 00:00:05", now, 3600, &when));
    assert_int_equal(when, utc(2027, 1, 1, 0, 0, 5));
    /* RFC 3339: the zone counts */
    now = utc(2026, 12, 6, 9, 0, 0);
    assert_false(old("2026-12-06T10:00:00+02:00", now, 3600, &when));
    assert_int_equal(when, utc(2026, 12, 6, 8, 0, 0));
    assert_true(old("2026-12-06T09:59:59.123456+02:00", now, 3600, &when));
    assert_true(old("2026-12-06T07:59:59Z", now, 3600, &when));
    assert_false(old("2026-12-06T03:30:00-05:00", now, 3600, &when));
    assert_true(old("2025-12-06T09:00:00Z", now, 3600, &when));
    /* 0: no limit */
    assert_false(old("Jun  1 10:00:00", now, 0, &when));
    assert_false(old("2020-01-01T00:00:00Z", now, 0, &when));

    /* local time: a year-less time and an RFC 3339 time without a zone */
    setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
    tzset();
    assert_true(old("Dec  6 09:20:00", now, 1800, &when));
    assert_int_equal(when, utc(2026, 12, 6, 8, 20, 0));
    assert_true(old("2026-12-06T09:20:00", now, 1800, &when));
    assert_false(old("2026-12-06T09:40:00", now, 1800, &when));
    /* summer time in the year-less case */
    assert_int_equal(old("Jul  1 12:00:00", now, 3600, &when), 1);
    assert_int_equal(when, utc(2026, 7, 1, 10, 0, 0));
    setenv("TZ", "UTC", 1);
    tzset();
}

/* journalctl -o short-iso and short-iso-precise: the zone has no colon */
static void
test_journal_iso_zone(void **state)
{
    long long when;

    (void) state;
    assert_int_equal(parse("2026-12-07T06:34:44+0100 mx1 postfix/smtp[3310]: 4Rk2Lq0Zs7z1: "
			   "to=<ops@mail.example.net>, relay=in.example.net[192.0.2.5]:25, "
			   "delay=1.2, dsn=2.0.0, status=sent (250 ok)"), ML_DELIVERY);
    assert_int_equal(ev.time.has_tz, 1);
    assert_int_equal(ev.time.tzoff_min, 60);
    assert_int_equal(maillog_time(&ev.time, 0, &when), 0);
    assert_int_equal(when, utc(2026, 12, 7, 5, 34, 44));
    assert_int_equal(parse("2026-12-07T06:34:44.551203-0330 mx1 postfix/smtp[3310]: "
			   "4Rk2Lq0Zs7z1: to=<ops@mail.example.net>, relay=none, delay=1, "
			   "dsn=4.4.1, status=deferred (connect to in.example.net[192.0.2.5]:25: "
			   "Connection refused)"), ML_DELIVERY);
    assert_int_equal(ev.time.tzoff_min, -210);
    assert_int_equal(parse("2026-12-07T06:34:44+01 mx1 postfix/qmgr[1]: A: removed"),
		     ML_REMOVED);
    assert_int_equal(ev.time.tzoff_min, 60);
    /* half a zone is not one */
    assert_int_equal(parse("2026-12-07T06:34:44+010 mx1 postfix/qmgr[1]: A: removed"),
		     ML_GARBAGE);
}

/* journalctl -o short-precise: the traditional header with microseconds */
static void
test_journal_precise(void **state)
{
    (void) state;
    assert_int_equal(parse("Dec 07 06:34:44.551203 mx1 postfix/smtp[3310]: 4Rk2Lq0Zs7z1: "
			   "to=<ops@mail.example.net>, relay=in.example.net[192.0.2.5]:25, "
			   "delay=1.2, dsn=2.0.0, status=sent (250 ok)"), ML_DELIVERY);
    assert_int_equal(ev.time.mday, 7);
    assert_int_equal(ev.time.sec, 44);
    assert_int_equal(ev.time.year, 0);
    assert_string_equal(ev.host, "mx1");
    assert_int_equal(ev.pid, 3310);
    assert_int_equal(parse("Dec 07 06:34:44. mx1 postfix/qmgr[1]: A: removed"), ML_GARBAGE);
}

/* Sendmail's ctladdr=: the controlling user's address, then its uid/gid */
static void
test_sendmail_ctladdr(void **state)
{
    (void) state;
    assert_int_equal(parse("Dec  7 06:34:44 mx1 sm-mta[4410]: 0B76YiQx004410: "
			   "to=<x@y.test>, ctladdr=<www-data@mx1.test> (33/33), "
			   "delay=00:00:02, xdelay=00:00:02, mailer=esmtp, pri=120437, "
			   "relay=mx.y.test. [192.0.2.44], dsn=2.0.0, stat=Sent (Ok: queued "
			   "as 4Rk)"), ML_DELIVERY);
    assert_int_equal(ev.nrcpt, 1);
    assert_string_equal(ev.rcpt[0], "x@y.test");
    assert_string_equal(ev.service, "esmtp");
    assert_string_equal(ev.relay_host, "mx.y.test");
    assert_int_equal(ev.status, ML_SENT);
    assert_true(ev.delay == 2);
    assert_int_equal(parse("Dec  7 06:34:45 mx1 sm-mta[4413]: 0B76YiQx004413: "
			   "to=<joe@y.test>,<ann@y.test>, ctladdr=<cron@mx1.test> (0/0), "
			   "delay=00:00:00, mailer=esmtp, relay=mx.y.test. [192.0.2.44], "
			   "dsn=5.1.1, stat=User unknown"), ML_DELIVERY);
    assert_int_equal(ev.nrcpt, 2);
    assert_string_equal(ev.rcpt[1], "ann@y.test");
    assert_int_equal(ev.status, ML_BOUNCED);
}

/* Sendmail writes recipients given without angle brackets as they came */
static void
test_sendmail_bare_rcpts(void **state)
{
    (void) state;
    assert_int_equal(parse("Dec  7 06:34:44 mx1 sendmail[4411]: 0B76YiQx004411: "
			   "to=alice@y.test,bob@z.test, ctladdr=root (0/0), delay=00:00:02, "
			   "xdelay=00:00:02, mailer=esmtp, pri=120437, relay=mx.y.test. "
			   "[192.0.2.44], dsn=2.0.0, stat=Sent (Ok)"), ML_DELIVERY);
    assert_int_equal(ev.nrcpt, 2);
    assert_string_equal(ev.rcpt[0], "alice@y.test");
    assert_string_equal(ev.rcpt[1], "bob@z.test");
    assert_int_equal(parse("Dec  7 06:34:44 mx1 sendmail[4411]: 0B76YiQx004412: "
			   "to=carol@y.test,<dave@y.test>,erin@y.test, delay=00:00:02, "
			   "mailer=esmtp, relay=mx.y.test. [192.0.2.44], dsn=2.0.0, "
			   "stat=Sent (Ok)"), ML_DELIVERY);
    assert_int_equal(ev.nrcpt, 3);
    assert_string_equal(ev.rcpt[0], "carol@y.test");
    assert_string_equal(ev.rcpt[1], "dave@y.test");
    assert_string_equal(ev.rcpt[2], "erin@y.test");
}

/* RFC 5424 as rsyslog writes it (RSYSLOG_SyslogProtocol23Format) */
static void
test_rfc5424(void **state)
{
    long long when;

    (void) state;
    assert_int_equal(parse("<22>1 2026-12-07T06:34:44.551203+01:00 mx1 postfix/warm1/smtp "
			   "3310 - - 4Rk2Lq0Zs7z1: to=<ops@mail.example.net>, "
			   "relay=in.example.net[192.0.2.5]:25, delay=1.2, dsn=2.0.0, "
			   "status=sent (250 ok)"), ML_DELIVERY);
    assert_string_equal(ev.host, "mx1");
    assert_string_equal(ev.service, "warm1");
    assert_int_equal(ev.pid, 3310);
    assert_string_equal(ev.qid, "4Rk2Lq0Zs7z1");
    assert_int_equal(maillog_time(&ev.time, 0, &when), 0);
    assert_int_equal(when, utc(2026, 12, 7, 5, 34, 44));
    /* structured data (with an escaped bracket), a message id, rsyslog's leading space */
    assert_int_equal(parse("<22>1 2026-12-07T05:34:44Z mx1 postfix/smtp 3311 ID47 "
			   "[meta sequenceId=\"7\" note=\"a\\]b\"][x@1 y=\"z\"]  "
			   "Verified TLS connection established to in.example.net[192.0.2.5]:25: "
			   "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"), ML_TLS);
    assert_int_equal(ev.pid, 3311);
    assert_int_equal(ev.tls, ML_TLS_VERIFIED);
    /* no process id */
    assert_int_equal(parse("<22>1 2026-12-07T05:34:44Z mx1 postfix/qmgr - - - A1: removed"),
		     ML_REMOVED);
    assert_int_equal(ev.pid, 0);
    assert_int_equal(parse("<22>1 2026-12-07T05:34:44Z mx1 sshd 12 - - Accepted key"),
		     ML_IGNORED);
    /* cut short */
    assert_int_equal(parse("<22>1 2026-12-07T05:34:44Z mx1 postfix/qmgr 1 - [a b=\"c"),
		     ML_GARBAGE);
    assert_int_equal(parse("<22>2 2026-12-07T05:34:44Z mx1 postfix/qmgr 1 - - A1: removed"),
		     ML_GARBAGE);
}

/* a line cut short (the file rotated, the disk filled while it was written) */
static void
test_cut_line(void **state)
{
    size_t n;
    const char *r;

    (void) state;
    assert_int_equal(parse("Dec  7 06:34:44 mx1 postfix/smtp[3321]: 9F1C23A0B2: to=<a@b.test>, "
			   "relay=mx.b.test[203.0.113.9]:25, delay=0.9, dsn=5.7.1, "
			   "status=bounced (host mx.b.test[203.0.113.9] said: 550 5.7.1 "
			   "blocked"), ML_DELIVERY);
    assert_int_equal(ev.status, ML_BOUNCED);
    assert_string_equal(ev.text, "host mx.b.test[203.0.113.9] said: 550 5.7.1 blocked");
    r = maillog_reply(&ev, &n);
    assert_int_equal(n, strlen("550 5.7.1 blocked"));
    assert_memory_equal(r, "550 5.7.1 blocked", n);
    assert_int_equal(parse("Dec  7 06:34:44 mx1 postfix/smtp[3321]: 9F1C23A0B2: to=<a@b.test>, "
			   "relay=mx.b.test[203.0.113.9]:25, delay=0.9, dsn=2.0.0, status=se"),
		     ML_GARBAGE);
}

/* the hour that repeats when summer time ends: the reading nearest now */
static void
test_dst_repeated_hour(void **state)
{
    long long now, when;

    (void) state;
    setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
    tzset();
    /* 2026-10-25: 02:00-03:00 local is 00:00-01:00 UTC, then 01:00-02:00 UTC */
    now = utc(2026, 10, 25, 1, 35, 0);		/* 02:35 the second time */
    assert_false(old("Oct 25 02:30:00", now, 3600, &when));
    assert_int_equal(when, utc(2026, 10, 25, 1, 30, 0));
    assert_false(old("2026-10-25T02:30:00", now, 3600, &when));
    assert_int_equal(when, utc(2026, 10, 25, 1, 30, 0));
    now = utc(2026, 10, 25, 0, 35, 0);		/* 02:35 the first time */
    assert_false(old("Oct 25 02:30:00", now, 3600, &when));
    assert_int_equal(when, utc(2026, 10, 25, 0, 30, 0));
    assert_false(old("2026-10-25T02:30:00", now, 3600, &when));
    assert_int_equal(when, utc(2026, 10, 25, 0, 30, 0));
    setenv("TZ", "UTC", 1);
    tzset();
}

/* soft_bounce = yes: what would have bounced stays in the queue */
static void
test_softbounce(void **state)
{
    (void) state;
    assert_int_equal(parse("Dec  7 06:34:44 mx1 postfix/smtp[3330]: 9F1C23A0B2: "
			   "to=<gone@b.test>, relay=mx.b.test[203.0.113.9]:25, delay=0.4, "
			   "delays=0.1/0/0.2/0.1, dsn=4.1.1, status=SOFTBOUNCE (host "
			   "mx.b.test[203.0.113.9] said: 550 5.1.1 <gone@b.test>: user unknown "
			   "(in reply to RCPT TO command))"), ML_DELIVERY);
    assert_int_equal(ev.status, ML_DEFERRED);
    assert_string_equal(ev.dsn, "4.1.1");
    assert_string_equal(ev.text, "host mx.b.test[203.0.113.9] said: 550 5.1.1 <gone@b.test>: "
			"user unknown (in reply to RCPT TO command)");
}

/* the SMTP client's TLS lines: Postfix's summary, Sendmail's STARTTLS=client */
static void
test_tls(void **state)
{
    (void) state;
    assert_int_equal(parse("Dec  6 13:00:01 relay postfix/warm1/smtp[2201]: Verified TLS "
			   "connection established to mx.gmail.test[127.0.0.11]:25: TLSv1.3 "
			   "with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange "
			   "X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256"),
		     ML_TLS);
    assert_int_equal(ev.tls, ML_TLS_VERIFIED);
    assert_int_equal(ev.pid, 2201);
    assert_string_equal(ev.service, "warm1");
    assert_string_equal(ev.relay_host, "mx.gmail.test");
    assert_string_equal(ev.relay_ip, "127.0.0.11");
    assert_string_equal(ev.text, "TLSv1.3");
    assert_string_equal(ev.qid, "");
    assert_int_equal(parse("Dec  6 13:00:01 relay postfix/smtp[2202]: Trusted TLS connection "
			   "reused to mx.outlook.test[127.0.0.12]:25: TLSv1.2 with cipher "
			   "ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)"), ML_TLS);
    assert_int_equal(ev.tls, ML_TLS_VERIFIED);
    assert_int_equal(parse("Dec  6 13:00:01 relay postfix/smtp[2203]: Untrusted TLS "
			   "connection established to mx.yahoo.test[127.0.0.13]:25: TLSv1.3 "
			   "with cipher TLS_AES_128_GCM_SHA256 (128/128 bits)"), ML_TLS);
    assert_int_equal(ev.tls, ML_TLS_UNVERIFIED);
    assert_int_equal(parse("Dec  6 13:00:01 relay postfix/lmtp[2204]: Anonymous TLS "
			   "connection established to lmtp.test[192.0.2.1]:24: TLSv1.2 with "
			   "cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)"), ML_TLS);
    assert_int_equal(ev.tls, ML_TLS_UNVERIFIED);
    assert_string_equal(ev.relay_ip, "192.0.2.1");
    /* the server side, and a client line that is not a summary */
    assert_int_equal(parse("Dec  6 13:00:01 relay postfix/smtpd[2205]: Anonymous TLS "
			   "connection established from client.test[192.0.2.9]: TLSv1.3 with "
			   "cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"), ML_IGNORED);
    assert_int_equal(parse("Dec  6 13:00:01 relay postfix/smtp[2206]: Verified TLS "
			   "connection established to mx.gmail.test[127.0.0.11]:25"), ML_IGNORED);
    assert_int_equal(parse("Dec  6 13:00:01 relay postfix/smtp[2206]: Certified TLS "
			   "connection established to mx.gmail.test[127.0.0.11]:25: TLSv1.3"),
		     ML_IGNORED);
    /* Sendmail, with or without the queue id in front */
    assert_int_equal(parse("Dec  6 13:00:02 mta sm-mta[4243]: STARTTLS=client, "
			   "relay=mx.gmail.test., version=TLSv1.3, verify=OK, "
			   "cipher=TLS_AES_256_GCM_SHA384, bits=256/256"), ML_TLS);
    assert_int_equal(ev.mta, ML_SENDMAIL);
    assert_int_equal(ev.tls, ML_TLS_VERIFIED);
    assert_int_equal(ev.pid, 4243);
    assert_string_equal(ev.relay_host, "mx.gmail.test");
    assert_string_equal(ev.relay_ip, "");
    assert_string_equal(ev.text, "TLSv1.3");
    assert_int_equal(parse("Dec  6 13:00:02 mta sendmail[4244]: 5ASGmh8X012345: "
			   "STARTTLS=client, relay=mx.yahoo.test., version=TLSv1.2, "
			   "verify=FAIL, cipher=ECDHE-RSA-AES256-GCM-SHA384, bits=256/256"),
		     ML_TLS);
    assert_int_equal(ev.tls, ML_TLS_UNVERIFIED);
    assert_string_equal(ev.relay_host, "mx.yahoo.test");
    assert_int_equal(parse("Dec  6 13:00:02 mta sm-mta[4245]: STARTTLS=client, "
			   "relay=mx.shop.test., version=TLSv1.3, verify=NO, cipher=x, bits=1/1"),
		     ML_TLS);
    assert_int_equal(ev.tls, ML_TLS_UNVERIFIED);
    assert_int_equal(parse("Dec  6 13:00:02 mta sm-mta[4245]: STARTTLS=server, "
			   "relay=client.test [192.0.2.9], version=TLSv1.3, verify=NO, "
			   "cipher=x, bits=1/1"), ML_IGNORED);
    assert_int_equal(parse("Dec  6 13:00:02 mta sm-mta[4245]: STARTTLS=client, "
			   "relay=mx.shop.test., version=TLSv1.3"), ML_IGNORED);
}

/* the relay of a content filter's hop: port, socket path, no port */
static void
test_relay_port(void **state)
{
    (void) state;
    assert_int_equal(parse("Dec  7 06:00:01 relay postfix/smtp[31]: 4ABC: "
			   "to=<alice@gmail.test>, relay=localhost[::1]:10024, delay=0.2, "
			   "dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[::1]:10025): "
			   "250 2.0.0 Ok: queued as 5DEF)"), ML_DELIVERY);
    assert_string_equal(ev.relay_host, "localhost");
    assert_string_equal(ev.relay_ip, "::1");
    assert_int_equal(ev.relay_port, 10024);
    assert_int_equal(parse("Dec  7 06:00:01 relay postfix/lmtp[32]: 4ABC: "
			   "to=<alice@gmail.test>, relay=localhost[private/amavis], "
			   "delay=0.2, dsn=2.0.0, status=sent (250 2.0.0 Ok)"), ML_DELIVERY);
    assert_string_equal(ev.relay_ip, "private/amavis");
    assert_int_equal(ev.relay_port, 0);
    assert_int_equal(parse("Dec  7 06:00:01 relay postfix/smtp[33]: 4ABC: "
			   "to=<alice@gmail.test>, relay=mx.test[192.0.2.1]:99999, "
			   "delay=0.2, dsn=2.0.0, status=sent (250 Ok)"), ML_DELIVERY);
    assert_int_equal(ev.relay_port, 0);
    assert_int_equal(parse("Dec  7 06:00:01 relay postfix/smtp[33]: 4ABC: "
			   "to=<alice@gmail.test>, relay=mx.test[192.0.2.1]:25x, "
			   "delay=0.2, dsn=2.0.0, status=sent (250 Ok)"), ML_DELIVERY);
    assert_int_equal(ev.relay_port, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_postfix_sent),
	cmocka_unit_test(test_postfix_bounced_pool),
	cmocka_unit_test(test_postfix_deferred_expired),
	cmocka_unit_test(test_iso_header),
	cmocka_unit_test(test_too_old),
	cmocka_unit_test(test_sendmail),
	cmocka_unit_test(test_ignored_and_garbage),
	cmocka_unit_test(test_truncation),
	cmocka_unit_test(test_tls),
	cmocka_unit_test(test_journal_iso_zone),
	cmocka_unit_test(test_journal_precise),
	cmocka_unit_test(test_sendmail_ctladdr),
	cmocka_unit_test(test_sendmail_bare_rcpts),
	cmocka_unit_test(test_rfc5424),
	cmocka_unit_test(test_cut_line),
	cmocka_unit_test(test_dst_repeated_hour),
	cmocka_unit_test(test_softbounce),
	cmocka_unit_test(test_relay_port),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
