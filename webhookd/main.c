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
 *	the next start).  The configuration is read at start only: restart
 *	it to change it.  Under systemd it says READY=1 once its metrics
 *	endpoint listens (sdnotify(3)).
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

/* on_hup - SIGHUP: read at start only */
static void
on_hup(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    (void) arg;
    msg_info("SIGHUP: the configuration is read at start only: "
	     "restart outpost-webhookd to change it");
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
    ev_hup = evsignal_new(base, SIGHUP, on_hup, base);
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
    conf_free(conf);
    return 0;
}
