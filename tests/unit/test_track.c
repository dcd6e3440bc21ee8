/* test_track - deferrals and the backoffs they start, on a real redis-server */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "backoff.h"
#include "conf.h"
#include "provider.h"
#include "redisconn.h"
#include "stats.h"
#include "testutil.h"
#include "track.h"

static char dir[] = "/tmp/test_track.XXXXXX";
static char sock[100];
static pid_t redis_pid = -1;

/* redis_up - a private redis-server on a unix socket, listening */
static int
redis_up(void)
{
    struct stat st;
    int i;

    if ((redis_pid = fork()) == 0) {
	if (freopen("/dev/null", "w", stdout) == NULL)
	    _exit(127);
	execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", sock,
	       "--save", "", "--appendonly", "no", "--dir", dir, (char *) NULL);
	_exit(127);
    }
    for (i = 0; i < 500 && stat(sock, &st) < 0; i++)
	usleep(20000);			/* until it listens */
    return stat(sock, &st) == 0 ? 0 : -1;
}

/* redis_down - stop it */
static void
redis_down(void)
{
    if (redis_pid > 0) {
	kill(redis_pid, SIGTERM);
	waitpid(redis_pid, NULL, 0);
	redis_pid = -1;
    }
    unlink(sock);
}

/* start_redis - the directory and the server */
static int
start_redis(void **state)
{
    (void) state;
    if (mkdtemp(dir) == NULL)
	return -1;
    snprintf(sock, sizeof(sock), "%s/redis.sock", dir);
    return redis_up();
}

/* stop_redis - end it and clean up */
static int
stop_redis(void **state)
{
    char path[160];

    (void) state;
    redis_down();
    snprintf(path, sizeof(path), "%s/dump.rdb", dir);
    unlink(path);
    rmdir(dir);
    return 0;
}

/* deferral - a Postfix deferral line for gmail.test logged at "when" (UTC) */
static void
deferral(struct track *t, long long when, long long now)
{
    char line[600], ts[32];
    time_t w = (time_t) when;
    struct tm tm;

    gmtime_r(&w, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S+00:00", &tm);
    snprintf(line, sizeof(line), "%s relay postfix/smtp[7]: 4AbC%lld: to=<a@gmail.test>, "
	     "relay=mx.gmail.test[192.0.2.1]:25, delay=1, dsn=4.7.28, status=deferred "
	     "(host mx.gmail.test[192.0.2.1] said: 421-4.7.28 unusual rate (in reply "
	     "to end of DATA command))", ts, when);
    track_line(t, line, strlen(line), now);
}

/*
 * the wall clock set back (NTP, an operator): a backoff written "later"
 * by the old clock does not hold off the next for the time it went back
 */
static void
test_backoff_clock_back(void **state)
{
    char conf_text[400], err[600], *path;
    struct outpost_conf *conf;
    struct provider_table providers;
    struct backoff_rules rules;
    struct stats_batch *batch;
    struct rconn *rc;
    struct track *t;
    long long now = (long long) time(NULL);

    (void) state;
    snprintf(conf_text, sizeof(conf_text), "[redis]\nserver = unix:%s\n"
	     "[provider google]\ndomains = gmail.test\n", sock);
    path = testutil_write_tmp(conf_text);
    conf = conf_load(path, err, sizeof(err));
    assert_non_null(conf);
    assert_int_equal(provider_table_build(conf, &providers, err, sizeof(err)), 0);
    assert_int_equal(backoff_rules_load(NULL, 1, &rules, err, sizeof(err)), 0);
    rc = rconn_new(&conf->redis);
    batch = stats_batch_new(conf->redis.prefix);
    t = track_new(conf, &providers, &rules, rc, batch);

    deferral(t, now, now);
    assert_int_equal(track_counts(t)->backoffs, 1);
    deferral(t, now + 1, now + 1);	/* within the holdoff: not again */
    assert_int_equal(track_counts(t)->backoffs, 1);
    /* the clock goes back an hour: the next deferral starts a backoff */
    deferral(t, now - 3600 + 20, now - 3600 + 20);
    assert_int_equal(track_counts(t)->backoffs, 2);
    deferral(t, now - 3600 + 21, now - 3600 + 21);
    assert_int_equal(track_counts(t)->backoffs, 2);

    track_free(t);
    stats_batch_free(batch);
    rconn_free(rc);
    backoff_rules_free(&rules);
    provider_table_free(&providers);
    conf_free(conf);
    unlink(path);
    free(path);
}

/*
 * a deferral read while Redis is away: its backoff is not lost but
 * written with the next track_flush() once Redis answers
 */
static void
test_backoff_redis_away(void **state)
{
    char conf_text[400], err[600], key[600], *path;
    struct outpost_conf *conf;
    struct provider_table providers;
    struct backoff_rules rules;
    struct stats_batch *batch;
    struct rconn *rc;
    struct track *t;
    redisReply *r;
    long long now = (long long) time(NULL);
    int i, rv = -1;

    (void) state;
    snprintf(conf_text, sizeof(conf_text), "[redis]\nserver = unix:%s\n"
	     "[provider google]\ndomains = gmail.test\n", sock);
    path = testutil_write_tmp(conf_text);
    conf = conf_load(path, err, sizeof(err));
    assert_non_null(conf);
    assert_int_equal(provider_table_build(conf, &providers, err, sizeof(err)), 0);
    assert_int_equal(backoff_rules_load(NULL, 1, &rules, err, sizeof(err)), 0);
    rc = rconn_new(&conf->redis);
    batch = stats_batch_new(conf->redis.prefix);
    t = track_new(conf, &providers, &rules, rc, batch);
    assert_true(backoff_key(key, sizeof(key), conf->redis.prefix, "google", "default") > 0);

    redis_down();
    deferral(t, now, now);
    assert_int_equal(track_counts(t)->backoffs, 0);
    assert_int_equal(track_flush(t), -1);
    assert_int_equal(redis_up(), 0);
    for (i = 0; i < 500 && (rv = track_flush(t)) < 0; i++)
	usleep(20000);			/* until it reconnects */
    assert_int_equal(rv, 0);
    assert_int_equal(track_counts(t)->backoffs, 1);
    r = rconn_commandv(rc, "EXISTS", key, NULL);
    assert_non_null(r);
    assert_int_equal(r->integer, 1);
    freeReplyObject(r);

    track_free(t);
    stats_batch_free(batch);
    rconn_free(rc);
    backoff_rules_free(&rules);
    provider_table_free(&providers);
    conf_free(conf);
    unlink(path);
    free(path);
}

/* tap - count the TLS counters a batch takes */
static void
tap(const char *sender, const char *provider, const char *pool, const char *counter,
    long long n, void *arg)
{
    long long *tls = arg;

    (void) sender;
    (void) provider;
    (void) pool;
    if (strncmp(counter, "tls_", 4) == 0)
	*tls += n;
}

/*
 * a delivery over SMTP counts in a TLS counter; one to a local LMTP
 * socket ("host[private/dovecot-lmtp]") travelled no network
 */
static void
test_tls_local_lmtp(void **state)
{
    static const char smtp[] = "Dec  7 04:35:08 relay postfix/smtp[7]: 4AbC1: "
	"to=<a@gmail.test>, relay=mx.gmail.test[192.0.2.1]:25, delay=1, dsn=2.0.0, "
	"status=sent (250 ok)";
    static const char lmtp[] = "Dec  7 04:35:08 relay postfix/lmtp[8]: 4AbC2: "
	"to=<u@shop.test>, relay=mail.shop.test[private/dovecot-lmtp], delay=1, "
	"dsn=2.0.0, status=sent (250 2.0.0 <u@shop.test> Saved)";
    char conf_text[400], err[600], *path;
    struct outpost_conf *conf;
    struct provider_table providers;
    struct backoff_rules rules;
    struct stats_batch *batch;
    struct rconn *rc;
    struct track *t;
    long long tls = 0;

    (void) state;
    snprintf(conf_text, sizeof(conf_text), "[redis]\nserver = unix:%s\n", sock);
    path = testutil_write_tmp(conf_text);
    conf = conf_load(path, err, sizeof(err));
    assert_non_null(conf);
    assert_int_equal(provider_table_build(conf, &providers, err, sizeof(err)), 0);
    assert_int_equal(backoff_rules_load(NULL, 1, &rules, err, sizeof(err)), 0);
    rc = rconn_new(&conf->redis);
    batch = stats_batch_new(conf->redis.prefix);
    stats_batch_tap(batch, tap, &tls);
    t = track_new(conf, &providers, &rules, rc, batch);

    track_line(t, smtp, strlen(smtp), (long long) time(NULL));
    assert_int_equal(track_counts(t)->deliveries, 1);
    assert_int_equal(tls, 1);
    track_line(t, lmtp, strlen(lmtp), (long long) time(NULL));
    assert_int_equal(track_counts(t)->deliveries, 2);
    assert_int_equal(tls, 1);

    track_free(t);
    stats_batch_free(batch);
    rconn_free(rc);
    backoff_rules_free(&rules);
    provider_table_free(&providers);
    conf_free(conf);
    unlink(path);
    free(path);
}

/* what the batch took, by outcome and provider */
struct taken {
    long long delivered, deferred, gmail;
};

/* tap_outcomes - count deliveries and deferrals */
static void
tap_outcomes(const char *sender, const char *provider, const char *pool,
	     const char *counter, long long n, void *arg)
{
    struct taken *k = arg;

    (void) sender;
    (void) pool;
    if (strcmp(counter, STATS_DELIVERED) == 0)
	k->delivered += n;
    else if (strcmp(counter, STATS_DEFERRED) == 0)
	k->deferred += n;
    else
	return;
    if (strcmp(provider, "google") == 0)
	k->gmail += n;
}

/*
 * feed - the lines of one message through a content filter: the hop to
 * the filter at "filter" (a relay field), then the delivery of the copy
 * the filter re-injected; filter_relays set to "relays" (NULL: unset)
 */
static void
feed(const char *relays, const char *filter, const char *filter_status,
     struct taken *k, struct track_counts *tc)
{
    char conf_text[600], err[600], lines[4][700], *path;
    struct outpost_conf *conf;
    struct provider_table providers;
    struct backoff_rules rules;
    struct stats_batch *batch;
    struct rconn *rc;
    struct track *t;
    long long now = (long long) time(NULL);
    char ts[32];
    time_t w = (time_t) now;
    struct tm tm;
    int i;

    gmtime_r(&w, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S+00:00", &tm);
    snprintf(conf_text, sizeof(conf_text), "[redis]\nserver = unix:%s\n"
	     "[provider google]\ndomains = gmail.test\n%s%s\n", sock,
	     relays ? "[logd]\nfilter_relays = " : "", relays ? relays : "");
    path = testutil_write_tmp(conf_text);
    conf = conf_load(path, err, sizeof(err));
    assert_non_null(conf);
    assert_int_equal(provider_table_build(conf, &providers, err, sizeof(err)), 0);
    assert_int_equal(backoff_rules_load(NULL, 1, &rules, err, sizeof(err)), 0);
    rc = rconn_new(&conf->redis);
    batch = stats_batch_new(conf->redis.prefix);
    memset(k, 0, sizeof(*k));
    stats_batch_tap(batch, tap_outcomes, k);
    t = track_new(conf, &providers, &rules, rc, batch);

    snprintf(lines[0], sizeof(lines[0]), "%s relay postfix/qmgr[5]: 4ABC: "
	     "from=<news@shop.test>, size=900, nrcpt=1 (queue active)", ts);
    snprintf(lines[1], sizeof(lines[1]), "%s relay postfix/smtp[6]: 4ABC: "
	     "to=<alice@gmail.test>, relay=%s, delay=0.2, %s", ts, filter, filter_status);
    snprintf(lines[2], sizeof(lines[2]), "%s relay postfix/qmgr[5]: 5DEF: "
	     "from=<news@shop.test>, size=1200, nrcpt=1 (queue active)", ts);
    snprintf(lines[3], sizeof(lines[3]), "%s relay postfix/smtp[7]: 5DEF: "
	     "to=<alice@gmail.test>, relay=mx.gmail.test[192.0.2.1]:25, delay=1, "
	     "dsn=2.0.0, status=sent (250 2.0.0 OK)", ts);
    for (i = 0; i < 4; i++)
	track_line(t, lines[i], strlen(lines[i]), now);
    *tc = *track_counts(t);

    track_free(t);
    stats_batch_free(batch);
    rconn_free(rc);
    backoff_rules_free(&rules);
    provider_table_free(&providers);
    conf_free(conf);
    unlink(path);
    free(path);
}

#define FILTER_SENT "dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): " \
	"250 2.0.0 Ok: queued as 5DEF)"
#define FILTER_4XX "dsn=4.7.28, status=deferred (host 127.0.0.1[127.0.0.1] said: " \
	"421-4.7.28 unusual rate (in reply to end of DATA command))"

/*
 * a message through a content filter is logged twice: the hop to the
 * filter is not a delivery to gmail, once it is named in filter_relays
 */
static void
test_filter_once(void **state)
{
    struct taken k;
    struct track_counts tc;

    (void) state;
    /* not named: both lines count under gmail */
    feed(NULL, "127.0.0.1[127.0.0.1]:10024", FILTER_SENT, &k, &tc);
    assert_int_equal(k.delivered, 2);
    assert_int_equal(tc.filter_lines, 0);
    /* named: once */
    feed("127.0.0.1:10024", "127.0.0.1[127.0.0.1]:10024", FILTER_SENT, &k, &tc);
    assert_int_equal(k.delivered, 1);
    assert_int_equal(k.gmail, 1);
    assert_int_equal(tc.deliveries, 1);
    assert_int_equal(tc.filter_lines, 1);
    /* another port of the same address is another service: a delivery */
    feed("127.0.0.1:10026", "127.0.0.1[127.0.0.1]:10024", FILTER_SENT, &k, &tc);
    assert_int_equal(k.delivered, 2);
    assert_int_equal(tc.filter_lines, 0);
    /* IPv6 by value, a host name, a socket (LMTP to amavis) */
    feed("[0:0::1]:10024", "localhost[::1]:10024", FILTER_SENT, &k, &tc);
    assert_int_equal(k.delivered, 1);
    assert_int_equal(tc.filter_lines, 1);
    feed("localhost:10024", "localhost[127.0.0.1]:10024", FILTER_SENT, &k, &tc);
    assert_int_equal(k.delivered, 1);
    feed("unix:private/amavis", "localhost[private/amavis]", FILTER_SENT, &k, &tc);
    assert_int_equal(k.delivered, 1);
    assert_int_equal(tc.filter_lines, 1);
}

/* a filter's 4xx says nothing about gmail: no deferral, no backoff */
static void
test_filter_deferral(void **state)
{
    struct taken k;
    struct track_counts tc;

    (void) state;
    feed(NULL, "127.0.0.1[127.0.0.1]:10024", FILTER_4XX, &k, &tc);
    assert_int_equal(k.deferred, 1);
    assert_int_equal(tc.backoffs, 1);
    feed("127.0.0.1:10024, [::1]:10024", "127.0.0.1[127.0.0.1]:10024", FILTER_4XX,
	 &k, &tc);
    assert_int_equal(k.deferred, 0);
    assert_int_equal(k.delivered, 1);
    assert_int_equal(tc.backoffs, 0);
    assert_int_equal(tc.filter_lines, 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_backoff_clock_back),
	cmocka_unit_test(test_backoff_redis_away),
	cmocka_unit_test(test_tls_local_lmtp),
	cmocka_unit_test(test_filter_once),
	cmocka_unit_test(test_filter_deferral),
    };

    return cmocka_run_group_tests(tests, start_redis, stop_redis);
}
