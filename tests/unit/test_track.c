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

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_backoff_clock_back),
	cmocka_unit_test(test_backoff_redis_away),
	cmocka_unit_test(test_tls_local_lmtp),
    };

    return cmocka_run_group_tests(tests, start_redis, stop_redis);
}
