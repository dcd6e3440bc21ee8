/*
 * outpost-policyd - the Outpost policy service for Postfix
 *
 * SYNOPSIS
 *	outpost-policyd [-fnv] [-c FILE]
 *
 * DESCRIPTION
 *	A Postfix policy-delegation server (check_policy_service) that
 *	throttles per provider, recipient domain and sender, and warms up
 *	IP pools, with all counters in Redis so that every relay node
 *	enforces the same limits.  See outpost-policyd(8).
 *
 *	-c FILE	configuration file (default /etc/outpost/outpost.conf)
 *	-f	log to stderr instead of syslog (it never detaches)
 *	-n	check the configuration and exit
 *	-v	more verbose logging
 *
 *	SIGHUP reloads the configuration without dropping connections; a
 *	file with an error is logged and the old configuration kept.
 *	SIGTERM and SIGINT stop the daemon.  Under systemd it says READY=1
 *	once its listeners are open (sdnotify(3)).
 *
 * DIAGNOSTICS
 *	"FILE:LINE: problem" for a bad configuration (exit 1); problems with
 *	Redis, DNS and clients go to the log.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "confdiff.h"
#include "daemonopt.h"
#include "decider.h"
#include "throttle_limits.h"
#include "metrics.h"
#include "msg.h"
#include "privs.h"
#include "redischeck.h"
#include "sdnotify.h"
#include "promhttp.h"
#include "server.h"
#include "xalloc.h"

struct daemon {
    const char *path;
    struct event_base *base;
    struct limits *limits;
    struct decider *decider;
    struct server *server;
    struct promhttp *http;
    struct limits *boot;		/* read at start: what a reload cannot change */
};

/* fixed - warn of each setting read at start only that the file changed */
static void
fixed(const struct outpost_conf *a, const struct outpost_conf *b, const char *prefix)
{
    struct confdiff d = CONFDIFF_INIT("outpost-policyd");

    confdiff_general(&d, &a->general, &b->general);
    confdiff_redis(&d, &a->redis, &b->redis);
    confdiff_str(&d, "[redis] prefix", a->redis.prefix, prefix);
    confdiff_list(&d, "[policy] listen", &a->policy.listen, &b->policy.listen);
    confdiff_str(&d, "[policy] metrics_listen", a->policy.metrics_listen,
		 b->policy.metrics_listen);
    confdiff_num(&d, "[policy] max_pending", a->policy.max_pending, b->policy.max_pending);
    confdiff_num(&d, "[policy] mx_timeout", a->policy.mx_timeout_ms, b->policy.mx_timeout_ms);
}

/*
 * load - read and check a configuration; NULL and a message on error.  On
 * a reload (boot not NULL) the keys keep the prefix of the start, as the
 * connections keep their server, and what cannot change is said.
 */
static struct limits *
load(const char *path, const struct limits *boot, char *err, size_t errlen)
{
    struct outpost_conf *conf = conf_load(path, err, errlen);
    struct limits *l;
    char *prefix;

    if (conf == NULL || boot == NULL)
	return conf ? limits_build(conf, err, errlen) : NULL;
    prefix = conf->redis.prefix;
    conf->redis.prefix = xstrdup(boot->conf->redis.prefix);
    if ((l = limits_build(conf, err, errlen)) != NULL)
	fixed(boot->conf, conf, prefix);
    free(prefix);
    return l;
}

/* render - the metrics page, under the node name in force */
static struct prom *
render(void *arg)
{
    struct daemon *dm = arg;

    return metrics_render(dm->limits->conf->general.node);
}

/* on_stop - SIGTERM, SIGINT */
static void
on_stop(evutil_socket_t sig, short what, void *arg)
{
    struct daemon *dm = arg;

    (void) what;
    msg_info("signal %d: stopping", (int) sig);
    sdnotify_stopping();
    event_base_loopbreak(dm->base);
}

/* on_hup - reload the configuration, or keep the old one */
static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
    struct daemon *dm = arg;
    struct limits *l;
    char err[600];

    (void) sig;
    (void) what;
    sdnotify_reloading();
    if ((l = load(dm->path, dm->boot, err, sizeof(err))) == NULL) {
	msg_error("reload failed, keeping the running configuration: %s", err);
	sdnotify_ready("reload refused: %s", err);
	return;
    }
    decider_reload(dm->decider, l);
    server_reload(dm->server, l);
    limits_unref(dm->limits);
    dm->limits = l;
    msg_info("configuration reloaded from %s", dm->path);
    sdnotify_ready("configuration reloaded from %s", dm->path);
}

int
main(int argc, char **argv)
{
    struct daemon dm = {OUTPOST_CONF_PATH, NULL, NULL, NULL, NULL, NULL, NULL};
    struct daemonopt opt;
    struct event *ev_term, *ev_int, *ev_hup;
    char err[600];
    size_t i;

    daemonopt_parse(argc, argv, &opt);
    dm.path = opt.conf_path;
    if ((dm.limits = load(dm.path, NULL, err, sizeof(err))) == NULL) {
	msg_error("%s", err);
	return 1;
    }
    if (opt.check_only) {
	printf("%s: configuration OK\n", dm.path);
	limits_unref(dm.limits);
	return 0;
    }
    dm.boot = limits_ref(dm.limits);
    msg_open("outpost-policyd", opt.foreground, dm.limits->conf->general.syslog_facility);
    signal(SIGPIPE, SIG_IGN);
    rcheck_at_start(&dm.limits->conf->redis);
    if ((dm.base = event_base_new()) == NULL)
	msg_fatal("cannot create the event loop");
    /* all that can fail is checked before a socket is touched */
    if (privs_check(dm.limits->conf->general.user, err, sizeof(err)) < 0)
	msg_fatal("[general] %s", err);
    dm.decider = decider_new(dm.base, dm.limits);
    dm.server = server_new(dm.base, dm.decider, dm.limits);
    for (i = 0; i < dm.limits->conf->policy.listen.n; i++) {
	const char *addr = dm.limits->conf->policy.listen.v[i];

	if (server_listen(dm.server, addr) < 0)
	    msg_fatal("cannot listen on %s: %s", addr, strerror(errno));
	if (strncmp(addr, "unix:", 5) == 0
	    && privs_chown_socket(addr + 5, dm.limits->conf->general.user, err, sizeof(err)) < 0)
	    msg_fatal("%s", err);
	msg_info("listening on %s", addr);
    }
    if (dm.limits->conf->policy.metrics_listen
	&& (dm.http = promhttp_start(dm.base, dm.limits->conf->policy.metrics_listen, render,
				     &dm, err, sizeof(err))) == NULL)
	msg_fatal("%s", err);
    /* sockets are open: nothing more needs root */
    if (privs_drop(dm.limits->conf->general.user, err, sizeof(err)) < 0)
	msg_fatal("%s", err);
    ev_term = evsignal_new(dm.base, SIGTERM, on_stop, &dm);
    ev_int = evsignal_new(dm.base, SIGINT, on_stop, &dm);
    ev_hup = evsignal_new(dm.base, SIGHUP, on_hup, &dm);
    evsignal_add(ev_term, NULL);
    evsignal_add(ev_int, NULL);
    evsignal_add(ev_hup, NULL);
    sdnotify_ready("listening on %zu socket%s", dm.limits->conf->policy.listen.n,
		   dm.limits->conf->policy.listen.n == 1 ? "" : "s");
    event_base_dispatch(dm.base);
    promhttp_stop(dm.http);
    server_free(dm.server);
    decider_free(dm.decider);
    event_free(ev_term);
    event_free(ev_int);
    event_free(ev_hup);
    event_base_free(dm.base);
    limits_unref(dm.limits);
    limits_unref(dm.boot);
    msg_info("stopped");
    return 0;
}
