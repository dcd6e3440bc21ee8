/*
 * outpost-logd - follow the MTA's log: delivery statistics and backoff
 *
 * SYNOPSIS
 *	outpost-logd [-fnv] [-c FILE] [-r FILE]
 *
 * DESCRIPTION
 *	Reads [logd] maillog as it grows, records every delivery attempt
 *	(track(3)) in Redis, puts a provider into backoff when its deferrals
 *	match a backoff rule, and answers Prometheus on [logd] metrics_listen.
 *	The file position is stored in Redis with the counts it produced, in
 *	one script call, so a restart resumes where the last write ended;
 *	with no saved position it starts at [logd] start_at (the end by
 *	default).  A log that cannot be opened is reported at once and then
 *	once a minute, with what to do about it.
 *
 *	-c FILE	configuration (default OUTPOST_CONF_PATH)
 *	-f	log to stderr instead of syslog (it never detaches)
 *	-n	check the configuration and the rules, then exit
 *	-r FILE	read FILE once from its start to its end, print the counts,
 *		and exit (no position is kept): for tests and benchmarks
 *	-v	more logging
 *
 *	SIGHUP reloads the backoff rules (a bad file keeps the old rules);
 *	SIGTERM and SIGINT write what was read and exit.
 *
 * DIAGNOSTICS
 *	Problems go to syslog (or stderr with -f; see msg(3)); a bad configuration or
 *	rules file exits with status 1 and names file, line and problem.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "backoff.h"
#include "conf.h"
#include "follow.h"
#include "blwatch.h"
#include "metrics.h"
#include "monotime.h"
#include "msg.h"
#include "pool_select.h"
#include "privs.h"
#include "promhttp.h"
#include "provider.h"
#include "redischeck.h"
#include "redisconn.h"
#include "sdnotify.h"
#include "stats.h"
#include "track.h"
#include "warmhold.h"
#include "xalloc.h"

#define LINES_PER_POLL 20000
#define FLUSH_LINES 20000
#define MISSING_WARN_MS 60000		/* a missing log is reported again after this */

struct logd {
    struct outpost_conf *conf;
    struct backoff_rules rules;
    struct provider_table providers;
    struct rconn *rc;
    struct follow *follow;
    struct track *track;
    struct stats_batch *batch;
    struct metrics *metrics;
    struct blwatch *bw;		/* [blocklist] checks, or NULL */
    struct warmhold *wh;	/* warm-up holds, or NULL */
    struct event_base *base;
    struct event *tick;
    char state_key[512];
    char pos[64];		/* "inode:offset" as Redis holds it */
    long long lines_unflushed;
    long long last_flush_ms;
    int flush_failed;
    long long missing_since_ms;	/* the log could not be opened since; 0: it is open */
    long long missing_warned_ms;
};

/* usage - the options, and exit */
static void
usage(const char *prog)
{
    fprintf(stderr, "usage: %s [-fnv] [-c FILE] [-r FILE]\n", prog);
    exit(2);
}

/* load_rules - the rules file and the built-in rules */
static int
load_rules(const struct outpost_conf *conf, struct backoff_rules *rules, char *err,
	   size_t errlen)
{
    return backoff_rules_load(conf->logd.backoff_rules, conf->logd.builtin_rules, rules,
			      err, errlen);
}

/* on_line - follow(3) hands a line to track(3) */
static void
on_line(const char *line, size_t len, void *arg)
{
    struct logd *d = arg;

    track_line(d->track, line, len, (long long) time(NULL));
    d->lines_unflushed++;
}

/* flush - counts, events and the file position in one write */
static int
flush(struct logd *d)
{
    const struct track_counts *tc = track_counts(d->track);
    unsigned long long ino;
    long long off;
    char buf[64], pos[64] = "";

    follow_position(d->follow, &ino, &off);
    if (d->state_key[0] == '\0')
	goto write;			/* -r: no position kept */
    snprintf(buf, sizeof(buf), "%llu:%lld", ino, off);
    stats_batch_state(d->batch, d->state_key, "pos", buf);
    stats_batch_guard(d->batch, "pos", d->pos, buf);
    snprintf(pos, sizeof(pos), "%s", buf);
    snprintf(buf, sizeof(buf), "%llu", ino);
    stats_batch_state(d->batch, d->state_key, "inode", buf);
    snprintf(buf, sizeof(buf), "%lld", off);
    stats_batch_state(d->batch, d->state_key, "offset", buf);
    snprintf(buf, sizeof(buf), "%lld", (long long) time(NULL));
    stats_batch_state(d->batch, d->state_key, "updated", buf);
    snprintf(buf, sizeof(buf), "%lld", tc->garbage);
    stats_batch_state(d->batch, d->state_key, "garbage_since_start", buf);
write:
    if (track_flush(d->track) < 0
	|| stats_batch_flush(d->batch, d->rc, d->conf->logd.events_max) < 0) {
	d->flush_failed = 1;
	return -1;
    }
    if (pos[0])
	snprintf(d->pos, sizeof(d->pos), "%s", pos);
    d->flush_failed = 0;
    d->lines_unflushed = 0;
    d->last_flush_ms = monotime_ms();
    return 0;
}

/*
 * log_missing - the log cannot be opened: say so loudly at once, then once a
 * minute (not at every poll), with what to do about it
 */
static void
log_missing(struct logd *d, int err)
{
    const char *path = d->conf->logd.maillog;
    long long now = monotime_ms();
    char since[64] = "";

    if (d->missing_since_ms && now - d->missing_warned_ms < MISSING_WARN_MS)
	return;
    if (d->missing_since_ms == 0)
	d->missing_since_ms = now;
    else
	snprintf(since, sizeof(since), " (for %llds)", (now - d->missing_since_ms) / 1000);
    d->missing_warned_ms = now;
    if (err == ENOENT)
	msg_warn("%s: no such file%s: nothing is counted, no backoff starts and no bounce "
		 "is suppressed until it exists; have Postfix write it (main.cf: "
		 "maillog_file = %s, with maillog_file_prefixes allowing it), or install "
		 "rsyslog (/var/log/mail.log), or point [logd] maillog at the MTA's log; "
		 "see outpost-logd(8), GETTING A MAIL LOG ON DEBIAN 12", path, since, path);
    else
	msg_warn("%s: cannot open%s: %s: nothing is read until it can be; it must be "
		 "readable by user %s (rsyslog's files: by group adm)", path,
		 since, strerror(err), d->conf->general.user);
}

/* on_tick - read what is new; write it when enough has gathered */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct logd *d = arg;
    struct timeval tv;
    int n = 0;

    (void) fd;
    (void) what;
    /* while Redis cannot take what was read, read nothing more */
    if (d->flush_failed == 0 || flush(d) == 0) {
	if ((n = follow_poll(d->follow, LINES_PER_POLL, on_line, d)) < 0) {
	    log_missing(d, errno);
	} else if (d->missing_since_ms) {
	    msg_info("%s: found after %llds: reading it", d->conf->logd.maillog,
		     (monotime_ms() - d->missing_since_ms) / 1000);
	    d->missing_since_ms = 0;
	}
	if (d->lines_unflushed > 0
	    && (d->lines_unflushed >= FLUSH_LINES
		|| monotime_ms() - d->last_flush_ms >= d->conf->logd.flush_interval_ms))
	    flush(d);
    }
    /* a backlog: go on at once; otherwise wait for the file to grow */
    if (n >= LINES_PER_POLL && !d->flush_failed) {
	tv.tv_sec = 0;
	tv.tv_usec = 0;
    } else {
	tv.tv_sec = d->conf->logd.poll_interval_ms / 1000;
	tv.tv_usec = (d->conf->logd.poll_interval_ms % 1000) * 1000;
    }
    evtimer_add(d->tick, &tv);
}

/* on_signal - TERM/INT: write and stop; HUP: reload the rules */
static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct logd *d = arg;
    struct backoff_rules fresh;
    char err[600];

    (void) what;
    if (sig == SIGHUP) {
	sdnotify_reloading();
	if (load_rules(d->conf, &fresh, err, sizeof(err)) < 0) {
	    msg_warn("reload: %s (keeping the old rules)", err);
	    sdnotify_ready("reload refused: %s", err);
	    return;
	}
	backoff_rules_free(&d->rules);
	d->rules = fresh;
	msg_info("reload: %zu backoff rules", d->rules.n);
	sdnotify_ready("following %s (%zu backoff rules)", d->conf->logd.maillog, d->rules.n);
	return;
    }
    sdnotify_stopping();
    if (d->lines_unflushed > 0 || d->flush_failed)
	flush(d);
    msg_info("stopping");
    event_base_loopbreak(d->base);
}

/*
 * read_position - where the last run stopped, and the counts it left half
 * written (on a cluster); waits for Redis
 */
static void
read_position(struct logd *d, unsigned long long *ino, long long *off)
{
    for (;;) {
	redisReply *r = rconn_commandv(d->rc, "HMGET", d->state_key, "inode", "offset", "pos",
				       NULL);

	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 3
	    && stats_batch_finish(d->batch, d->rc, d->state_key) == 0) {
	    *ino = r->element[0]->str ? strtoull(r->element[0]->str, NULL, 10) : 0;
	    *off = r->element[1]->str ? strtoll(r->element[1]->str, NULL, 10) : 0;
	    snprintf(d->pos, sizeof(d->pos), "%s", r->element[2]->str ? r->element[2]->str : "");
	    freeReplyObject(r);
	    return;
	}
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 3)
	    msg_warn("redis: reading the saved position: %s (retrying)",
		     r ? (r->str ? r->str : "unexpected reply") : rconn_error(d->rc));
	if (r)
	    freeReplyObject(r);
	sleep(1);
    }
}

/* render - the metrics page */
static struct prom *
render(void *arg)
{
    struct logd *d = arg;

    struct prom *p = metrics_render(d->metrics, d->rc, track_counts(d->track),
				    follow_overlong(d->follow), (long long) time(NULL));

    blwatch_render(d->bw, p);
    return p;
}

/* read_once - -r FILE: the whole file, then the counts */
static int
read_once(struct logd *d, const char *file)
{
    const struct track_counts *tc;
    long long t0 = monotime_ms(), ms;
    int n;

    d->state_key[0] = '\0';
    d->follow = follow_new(file, 0, 0, 0);
    while ((n = follow_poll(d->follow, LINES_PER_POLL, on_line, d)) > 0)
	if (d->lines_unflushed >= FLUSH_LINES && flush(d) < 0)
	    return 1;
    if (n < 0) {
	msg_error("%s: cannot open", file);
	return 1;
    }
    if (flush(d) < 0)
	return 1;
    ms = monotime_ms() - t0;
    tc = track_counts(d->track);
    printf("lines %lld deliveries %lld ignored %lld garbage %lld overlong %lld "
	   "backoffs %lld no_sender %lld too_old %lld filter %lld ms %lld\n", tc->lines,
	   tc->deliveries, tc->ignored, tc->garbage, follow_overlong(d->follow),
	   tc->backoffs, tc->no_sender, tc->too_old, tc->filter_lines, ms);
    return 0;
}

int
main(int argc, char **argv)
{
    const char *path = OUTPOST_CONF_PATH, *once = NULL;
    int foreground = 0, check_only = 0, verbose = 0, ch, rv = 0;
    struct logd d;
    struct promhttp *http = NULL;
    struct event *sigs[3];
    unsigned long long ino;
    long long off;
    char err[600];
    struct timeval tv = {0, 0};

    memset(&d, 0, sizeof(d));
    while ((ch = getopt(argc, argv, "c:fnr:vh")) != -1) {
	switch (ch) {
	case 'c': path = optarg; break;
	case 'f': foreground = 1; break;
	case 'n': check_only = 1; break;
	case 'r': once = optarg; foreground = 1; break;
	case 'v': verbose++; break;
	default: usage(argv[0]);
	}
    }
    if (optind != argc)
	usage(argv[0]);
    msg_open("outpost-logd", 1, 0);
    msg_verbose(verbose);
    if ((d.conf = conf_load(path, err, sizeof(err))) == NULL) {
	msg_error("%s", err);
	return 1;
    }
    if (provider_table_build(d.conf, &d.providers, err, sizeof(err)) < 0) {
	msg_error("%s", err);
	conf_free(d.conf);
	return 1;
    }
    if (load_rules(d.conf, &d.rules, err, sizeof(err)) < 0) {
	msg_error("%s", err);
	provider_table_free(&d.providers);
	conf_free(d.conf);
	return 1;
    }
    if (check_only) {
	(void) pool_service_warn(d.conf);
	printf("%s: configuration OK (%zu backoff rules)\n", path, d.rules.n);
	backoff_rules_free(&d.rules);
	provider_table_free(&d.providers);
	conf_free(d.conf);
	return 0;
    }
    msg_open("outpost-logd", foreground, d.conf->general.syslog_facility);
    (void) pool_service_warn(d.conf);
    rcheck_at_start(&d.conf->redis);
    snprintf(d.state_key, sizeof(d.state_key), "%s{st}:logd:%s", d.conf->redis.prefix,
	     d.conf->general.node);
    d.rc = rconn_new(&d.conf->redis);
    d.batch = stats_batch_new(d.conf->redis.prefix);
    d.metrics = metrics_new(d.conf, &d.providers);
    stats_batch_tap(d.batch, metrics_tap, d.metrics);
    d.track = track_new(d.conf, &d.providers, &d.rules, d.rc, d.batch);
    if (once) {
	rv = read_once(&d, once);
	goto done;
    }

    d.base = event_base_new();
    if (d.conf->logd.metrics_listen
	&& (http = promhttp_start(d.base, d.conf->logd.metrics_listen, render, &d, err,
				  sizeof(err))) == NULL)
	msg_fatal("%s", err);
    d.bw = blwatch_new(d.base, d.conf, d.rc);	/* reads the key table: before the drop */
    d.wh = warmhold_new(d.base, d.conf, d.rc, d.bw);
    if (getuid() == 0 && privs_drop(d.conf->general.user, err, sizeof(err)) < 0)
	msg_fatal("%s", err);
    read_position(&d, &ino, &off);
    if (ino)
	msg_info("%s: resuming at inode %llu offset %lld", d.conf->logd.maillog, ino, off);
    d.follow = follow_new(d.conf->logd.maillog, ino, off, d.conf->logd.start_at_end);
    d.last_flush_ms = monotime_ms();
    d.tick = evtimer_new(d.base, on_tick, &d);
    evtimer_add(d.tick, &tv);
    sigs[0] = evsignal_new(d.base, SIGTERM, on_signal, &d);
    sigs[1] = evsignal_new(d.base, SIGINT, on_signal, &d);
    sigs[2] = evsignal_new(d.base, SIGHUP, on_signal, &d);
    for (ch = 0; ch < 3; ch++)
	evsignal_add(sigs[ch], NULL);
    signal(SIGPIPE, SIG_IGN);
    msg_info("following %s (%zu backoff rules)", d.conf->logd.maillog, d.rules.n);
    /* up: the metrics socket listens, the position is read, signals are taken */
    sdnotify_ready("following %s (%zu backoff rules)", d.conf->logd.maillog, d.rules.n);
    event_base_dispatch(d.base);
    for (ch = 0; ch < 3; ch++)
	event_free(sigs[ch]);
    event_free(d.tick);
    promhttp_stop(http);
    warmhold_free(d.wh);
    blwatch_free(d.bw);
    event_base_free(d.base);
done:
    follow_free(d.follow);
    track_free(d.track);
    stats_batch_free(d.batch);
    metrics_free(d.metrics);
    rconn_free(d.rc);
    backoff_rules_free(&d.rules);
    provider_table_free(&d.providers);
    conf_free(d.conf);
    return rv;
}
