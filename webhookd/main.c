/*
 * outpost-webhookd - each tenant's events, posted to its webhook
 *
 * SYNOPSIS
 *	outpost-webhookd [-fnv] [-c FILE]
 *
 * DESCRIPTION
 *	Reads the event stream of every [tenant NAME] that has a
 *	webhook_url and POSTs its events there in signed JSON batches, in
 *	order, at least once, retried with backoff for webhook_retry, then
 *	set aside in a dead-letter stream (dispatch(3), whpost(3)).  Its
 *	place in each stream is kept in Redis (a consumer group), so a
 *	restart, or a crash, resumes where it was.  Prometheus metrics on
 *	[webhookd] metrics_listen.  See outpost-webhookd(8).
 *
 *	-c FILE	configuration (default OUTPOST_CONF_PATH)
 *	-f	log to stderr instead of syslog (it never detaches)
 *	-n	check the configuration and the webhook secrets, then exit
 *	-v	more logging
 *
 *	SIGTERM and SIGINT stop it (a batch in flight is posted again at
 *	the next start).  SIGHUP reads the configuration and the webhook
 *	secrets again (dispatch(3) says what a reload changes); when
 *	anything is wrong it logs why and keeps the running ones.  [general],
 *	[redis], [webhookd] metrics_listen and ca_file keep their value of
 *	the start, with a warning that names each one changed.  Under
 *	systemd it says READY=1 once its metrics endpoint listens, and
 *	RELOADING=1 then READY=1 around a reload (sdnotify(3)).
 *
 * DIAGNOSTICS
 *	Problems go to syslog (or stderr with -f; see msg(3)); a bad
 *	configuration or an unreadable secret exits with status 1.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>

#include "conf.h"
#include "confdiff.h"
#include "daemonopt.h"
#include "dispatch.h"
#include "msg.h"
#include "privs.h"
#include "promhttp.h"
#include "rasync.h"
#include "redischeck.h"
#include "sdnotify.h"
#include "whpost.h"

/* Redis commands waiting at once: a few per tenant */
#define MAX_PENDING 100000

/* on_stop - SIGTERM, SIGINT */
static void
on_stop(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    sdnotify_stopping();
    msg_info("stopping");
    event_base_loopbreak(arg);
}

/* what a reload needs */
struct reload {
    const char *path;
    const struct outpost_conf *boot;	/* read at start: lives to the end */
    struct outpost_conf *conf;		/* in force; boot or a reload's */
    struct dispatch *d;
};

/* fixed - warn of each setting read at start only that changed */
static int
fixed(const struct outpost_conf *a, const struct outpost_conf *b)
{
    struct confdiff d = CONFDIFF_INIT("outpost-webhookd");

    confdiff_general(&d, &a->general, &b->general);
    confdiff_str(&d, "[general] node", a->general.node, b->general.node);
    confdiff_redis(&d, &a->redis, &b->redis);
    confdiff_str(&d, "[webhookd] metrics_listen", a->webhookd.metrics_listen,
		 b->webhookd.metrics_listen);
    confdiff_str(&d, "[webhookd] ca_file", a->webhookd.ca_file, b->webhookd.ca_file);
    return d.changed;
}

/* on_hup - SIGHUP: the tenants and their secrets again, or the running ones kept */
static void
on_hup(evutil_socket_t fd, short what, void *arg)
{
    struct reload *r = arg;
    struct outpost_conf *conf;
    char err[600];
    int n;

    (void) fd;
    (void) what;
    sdnotify_reloading();
    if ((conf = conf_load(r->path, err, sizeof(err))) == NULL) {
	dispatch_refused(r->d);
	goto refused;
    }
    if (dispatch_reload(r->d, conf, err, sizeof(err)) < 0) {
	conf_free(conf);
	goto refused;
    }
    n = fixed(r->boot, conf);
    if (r->conf != r->boot)
	conf_free(r->conf);		/* nothing points into it any more */
    r->conf = conf;
    msg_info("reloaded %s: posting the events of %zu tenants%s", r->path,
	     dispatch_tenants(r->d), n ? " (some settings need a restart)" : "");
    sdnotify_ready("reloaded: posting the events of %zu tenants%s", dispatch_tenants(r->d),
		   n ? " (some settings need a restart)" : "");
    return;
refused:
    msg_error("reload refused, keeping the running configuration: %s", err);
    sdnotify_ready("reload refused: %s", err);
}

int
main(int argc, char **argv)
{
    struct daemonopt o;
    struct outpost_conf *conf;
    struct event_base *base;
    struct evdns_base *dns;
    struct event *ev_term, *ev_int, *ev_hup;
    struct promhttp *metrics = NULL;
    struct rasync *redis;
    struct dispatch *d;
    struct reload rl;
    SSL_CTX *tls;
    char err[600];

    daemonopt_parse(argc, argv, &o);
    msg_open("outpost-webhookd", 1, 0);
    msg_verbose(o.verbose);
    if ((conf = conf_load(o.conf_path, err, sizeof(err))) == NULL)
	msg_fatal("%s", err);
    if ((base = event_base_new()) == NULL)
	msg_fatal("event_base_new failed");
    if ((dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS)) == NULL
	&& (dns = evdns_base_new(base, 0)) == NULL)
	msg_fatal("evdns_base_new failed");
    if ((tls = whpost_tls(conf->webhookd.ca_file, err, sizeof(err))) == NULL)
	msg_fatal("[webhookd] %s", err);
    /* the secrets are read now, as root, before the privileges go */
    if ((d = dispatch_new(base, conf, NULL, dns, tls, err, sizeof(err))) == NULL)
	msg_fatal("%s", err);
    if (o.check_only) {
	printf("%s: configuration OK (%zu tenants with a webhook)\n", o.conf_path,
	       dispatch_tenants(d));
	dispatch_free(d);
	evdns_base_free(dns, 0);
	event_base_free(base);
	SSL_CTX_free(tls);
	conf_free(conf);
	return 0;
    }
    msg_open("outpost-webhookd", o.foreground, conf->general.syslog_facility);
    if (dispatch_tenants(d) == 0)
	msg_warn("no [tenant] has a webhook_url: nothing to post");
    if (privs_check(conf->general.user, err, sizeof(err)) < 0)
	msg_fatal("%s", err);
    signal(SIGPIPE, SIG_IGN);
    if (conf->webhookd.metrics_listen
	&& (metrics = promhttp_start(base, conf->webhookd.metrics_listen, dispatch_render, d,
				     err, sizeof(err))) == NULL)
	msg_fatal("%s", err);
    if (getuid() == 0 && privs_drop(conf->general.user, err, sizeof(err)) < 0)
	msg_fatal("%s", err);
    rcheck_at_start(&conf->redis);
    redis = rasync_new(base, &conf->redis, dispatch_dead_lua, MAX_PENDING);
    dispatch_start(d, redis);

    ev_term = evsignal_new(base, SIGTERM, on_stop, base);
    ev_int = evsignal_new(base, SIGINT, on_stop, base);
    rl.path = o.conf_path;
    rl.boot = rl.conf = conf;
    rl.d = d;
    ev_hup = evsignal_new(base, SIGHUP, on_hup, &rl);
    evsignal_add(ev_term, NULL);
    evsignal_add(ev_int, NULL);
    evsignal_add(ev_hup, NULL);
    msg_info("posting the events of %zu tenants", dispatch_tenants(d));
    sdnotify_ready("posting the events of %zu tenants", dispatch_tenants(d));
    event_base_dispatch(base);

    promhttp_stop(metrics);
    rasync_free(redis);			/* commands in flight get NULL: before d goes */
    dispatch_free(d);
    event_free(ev_term);
    event_free(ev_int);
    event_free(ev_hup);
    evdns_base_free(dns, 0);
    event_base_free(base);
    SSL_CTX_free(tls);
    if (rl.conf != conf)
	conf_free(rl.conf);
    conf_free(conf);
    return 0;
}
