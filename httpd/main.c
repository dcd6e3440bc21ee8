/*
 * outpost-httpd - the recipients' web endpoint: one-click unsubscribe,
 *		   open pixel, tracked links
 *
 * SYNOPSIS
 *	outpost-httpd [-fnv] [-c FILE]
 *
 * DESCRIPTION
 *	Listens on each [httpd] listen address (behind the operator's TLS
 *	proxy) and answers the links that outpost-milter writes into
 *	messages (serve(3)): POST /u/TOKEN unsubscribes (RFC 8058), GET
 *	/u/TOKEN shows a confirmation page, GET /c/TOKEN redirects and
 *	counts a click, GET /o/TOKEN counts an open.  Tokens are checked
 *	with the secrets of [intake] secret_file (webtoken(3)).  Redis is
 *	written by a worker thread (work(3)); no request waits on it but an
 *	unsubscribe, and that one without holding a thread.  Prometheus
 *	metrics on [httpd] metrics_listen.  On [httpd] api_listen, the
 *	platform API (/v1/, api(3)) with a worker of its own (api_work(3)).
 *
 *	-c FILE	configuration (default OUTPOST_CONF_PATH)
 *	-f	log to stderr instead of syslog (it never detaches)
 *	-n	check the configuration and the secrets, then exit
 *	-v	more logging
 *
 *	SIGTERM and SIGINT stop it: waiting unsubscribes are answered 503,
 *	counts are written.  SIGHUP reads the configuration and the secrets
 *	again (hsettings(3) says what a reload changes): when anything is
 *	wrong it logs why and keeps the running ones; requests in flight
 *	finish with the settings they began with.  Settings that need a new
 *	socket, thread or connection keep their value of the start, with a
 *	warning that names each one changed.
 *
 * DIAGNOSTICS
 *	Problems go to syslog (or stderr with -f; see msg(3)); a bad
 *	configuration exits with status 1 and names file, line and problem.
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "api.h"
#include "api_messages.h"
#include "api_work.h"
#include "conf.h"
#include "daemonopt.h"
#include "hmetrics.h"
#include "hsettings.h"
#include "msg.h"
#include "privs.h"
#include "promhttp.h"
#include "redischeck.h"
#include "redisconn.h"
#include "sdnotify.h"
#include "serve.h"
#include "submit.h"
#include "verp.h"
#include "work.h"
#include "xalloc.h"

#define LISTEN_BACKLOG 1024

/* listen_on - a listening TCP socket on "host:port" or "[v6]:port" */
static int
listen_on(const char *where, char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    char host[256], port[16];
    const char *why;
    int p, fd, one = 1, rc;

    if (rconn_parse_server(where, host, sizeof(host), &p, &why) < 0) {
	snprintf(err, errlen, "[httpd] listen %s: %s", where, why);
	return -1;
    }
    snprintf(port, sizeof(port), "%d", p);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
	snprintf(err, errlen, "[httpd] listen %s: %s", where, gai_strerror(rc));
	return -1;
    }
    fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0
	|| bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
	snprintf(err, errlen, "[httpd] listen %s: %s", where, strerror(errno));
	if (fd >= 0)
	    close(fd);
	fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* settings - the configuration and its secrets read and checked, or NULL and err */
static struct hsettings *
settings(const char *path, char *err, size_t errlen)
{
    struct outpost_conf *conf;
    struct hsettings *hs;
    uid_t uid;
    gid_t gid;
    char why[256];

    if ((conf = conf_load(path, err, errlen)) == NULL)
	return NULL;
    if (geteuid() != 0)
	uid = geteuid();
    else if (privs_lookup(conf->general.user, &uid, &gid, why, sizeof(why)) < 0) {
	snprintf(err, errlen, "[general] %s", why);
	conf_free(conf);
	return NULL;
    }
    if ((hs = hsettings_new(conf, uid, err, errlen)) == NULL)
	conf_free(conf);
    return hs;
}

/*
 * reload - SIGHUP: new settings for the requests that begin now, or, when
 * anything is wrong, the running ones kept; what needs a restart is named
 */
static void
reload(const char *path, const struct outpost_conf *boot, struct hmetrics *m)
{
    struct hsettings *hs;
    char err[600];
    int fixed;

    sdnotify_reloading();
    if ((hs = settings(path, err, sizeof(err))) == NULL) {
	PROM_INC(m->reloads[1]);
	msg_error("reload refused, keeping the running configuration: %s", err);
	sdnotify_ready("reload refused: %s", err);
	return;
    }
    fixed = hsettings_fixed(boot, hs->conf);
    msg_info("reloaded %s: %zu secrets, %zu tenants%s", path, verp_keys_count(hs->keys),
	     hs->conf->tenants.n, fixed ? " (some settings need a restart)" : "");
    sdnotify_ready("reloaded: %zu secrets, %zu tenants%s", verp_keys_count(hs->keys),
		   hs->conf->tenants.n, fixed ? " (some settings need a restart)" : "");
    hsettings_install(hs);		/* requests in flight keep theirs */
    PROM_INC(m->reloads[0]);
}

int
main(int argc, char **argv)
{
    struct daemonopt o;
    const struct outpost_conf *conf;	/* at start: sockets, threads, Redis */
    struct hsettings *hs;
    struct hmetrics *m;
    struct promhttp *metrics = NULL;
    struct work *work;
    struct serve *serve;
    struct MHD_Daemon **mhd;
    struct api_work *api_work = NULL;
    struct api *api = NULL;
    struct submit *submit = NULL;
    struct api_messages *messages = NULL;
    int *fds, sig;
    size_t i, n, na;
    sigset_t set;
    char err[600];

    daemonopt_parse(argc, argv, &o);
    msg_open("outpost-httpd", 1, 0);
    msg_verbose(o.verbose);
    if ((hs = settings(o.conf_path, err, sizeof(err))) == NULL)
	msg_fatal("%s", err);
    conf = hs->conf;
    if (o.check_only) {
	printf("%s: configuration OK (%zu secrets, %zu listen addresses)\n", o.conf_path,
	       verp_keys_count(hs->keys), conf->httpd.listen.n);
	hsettings_unref(hs);
	return 0;
    }
    /* the first settings stay while the process lives: what is fixed at start reads them */
    hsettings_install(hsettings_ref(hs));
    msg_open("outpost-httpd", o.foreground, conf->general.syslog_facility);
    rcheck_at_start(&conf->redis);

    /* every thread started from here on leaves these signals to sigwait() */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* the pages' listeners, then the API's */
    n = conf->httpd.listen.n;
    na = conf->httpd.api_listen.n;
    fds = xcalloc(n + na, sizeof(*fds));
    mhd = xcalloc(n + na, sizeof(struct MHD_Daemon *));
    for (i = 0; i < n + na; i++)
	if ((fds[i] = listen_on(i < n ? conf->httpd.listen.v[i]
				: conf->httpd.api_listen.v[i - n], err, sizeof(err))) < 0)
	    msg_fatal("%s", err);
    m = hmetrics_new(conf->general.node);
    if (conf->httpd.metrics_listen
	&& (metrics = promhttp_start_thread(conf->httpd.metrics_listen, hmetrics_render, m,
					    err, sizeof(err))) == NULL)
	msg_fatal("%s", err);
    if (getuid() == 0 && privs_drop(conf->general.user, err, sizeof(err)) < 0)
	msg_fatal("%s", err);

    work = work_start(conf, m);
    serve = serve_new(conf, work, m);
    for (i = 0; i < n; i++)
	if ((mhd[i] = serve_start(serve, fds[i], err, sizeof(err))) == NULL)
	    msg_fatal("[httpd] listen %s: %s", conf->httpd.listen.v[i], err);
    if (na > 0) {
	submit = submit_start(conf->httpd.submit, conf->httpd.submit_connections,
			      conf->httpd.submit_timeout_ms, conf->httpd.queue_max);
	messages = api_messages_new(conf, submit);
	api_work = api_work_start(conf, messages);
	api = api_new(conf, api_work, m);
	for (i = n; i < n + na; i++)
	    if ((mhd[i] = api_start(api, fds[i], err, sizeof(err))) == NULL)
		msg_fatal("[httpd] api_listen %s: %s", conf->httpd.api_listen.v[i - n], err);
	msg_info("API listening on %s%s", conf->httpd.api_listen.v[0], na > 1 ? " and more" : "");
    }
    msg_info("listening on %s%s (%zu secrets)", conf->httpd.listen.v[0],
	     n > 1 ? " and more" : "", verp_keys_count(hs->keys));
    sdnotify_ready("listening on %s", conf->httpd.listen.v[0]);

    for (;;) {
	if (sigwait(&set, &sig) != 0)
	    continue;
	if (sig == SIGHUP) {
	    reload(o.conf_path, conf, m);
	    continue;
	}
	break;
    }
    sdnotify_stopping();
    msg_info("stopping");
    work_stop(work);
    if (api_work)
	api_work_stop(api_work);
    if (submit)
	submit_stop(submit);		/* what it held is answered: resumed */
    for (i = 0; i < n + na; i++)
	MHD_stop_daemon(mhd[i]);
    if (messages)
	api_messages_free(messages);
    work_free(work);
    api_work_free(api_work);
    api_free(api);
    serve_free(serve);
    promhttp_stop(metrics);
    hmetrics_free(m);
    hsettings_install(NULL);
    hsettings_unref(hs);
    free(mhd);
    free(fds);
    return 0;
}
