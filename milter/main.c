/*
 * outpost-milter - the Outpost mail filter
 *
 * SYNOPSIS
 *	outpost-milter [-fnv] [-c FILE]
 *
 * DESCRIPTION
 *	A libmilter filter for Postfix (smtpd_milters, non_smtpd_milters)
 *	and Sendmail (INPUT_MAIL_FILTER).  It listens on [milter] socket and
 *	DKIM-signs the mail of authorised clients with the keys of the
 *	[dkim] key_table (see outpost-milter(8)) and, with [suppress]
 *	enabled, checks each recipient against the suppression list; with
 *	[intake] bounce_domain, it tags the envelope sender of outgoing mail
 *	and reads the bounces, complaints and unsubscribe requests sent back.
 *
 *	-c FILE	configuration file (default /etc/outpost/outpost.conf)
 *	-f	log to stderr instead of syslog (it never detaches)
 *	-n	check the configuration and the keys, then exit
 *	-v	more verbose logging (repeat for more)
 *
 *	Before it touches its socket it checks all that can fail: the
 *	configuration, [general] user, the keys and intake secrets (which
 *	must belong to that user and be readable by no one else), Redis.
 *	A unix socket on which another instance listens is left alone (see
 *	sockguard(3)); a stale one is replaced.  Started as root, it opens
 *	its socket, then becomes [general] user and reads the keys again as
 *	that user.  SIGHUP reloads the configuration and the
 *	keys (what a reload changes: settings(3)): a bad file or key is
 *	logged by name and the running ones stay.
 *	SIGTERM and SIGINT stop it.
 *
 *	At start, at every reload and every NODEINFO_REFRESH seconds it
 *	publishes this node's fingerprints (nodeinfo(3): DKIM public keys,
 *	intake secret ids, bounce domain, limits, version) in Redis, for
 *	outpostctl check-config --cluster.
 *
 * DIAGNOSTICS
 *	Problems go to syslog (or stderr with -f; see msg(3)); under systemd
 *	it says READY=1 once the socket listens (sdnotify(3)).  Exit status 1 on a bad
 *	configuration, an unsafe or unreadable key, or when the socket cannot
 *	be opened.
 *
 * BUGS
 *	libmilter's own signal thread treats SIGHUP as "stop".  The main
 *	thread waits for SIGHUP itself and Linux hands a process-directed
 *	signal to the main thread first when it waits for it, so a reload
 *	never reaches libmilter there.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "conf.h"
#include "confdiff.h"
#include "daemonopt.h"
#include "dkimsign.h"
#include "filter.h"
#include "intake.h"
#include "listunsub.h"
#include "metrics.h"
#include "msg.h"
#include "nodeinfo.h"
#include "privs.h"
#include "promhttp.h"
#include "rcpt_check.h"
#include "rcpt_policy.h"
#include "redischeck.h"
#include "sdnotify.h"
#include "settings.h"
#include "sockguard.h"
#include "tracking.h"

static int check_keys(const struct outpost_conf *conf, uid_t owner, size_t *nkeys,
		      int *intake_on, char *err, size_t errlen);
static uid_t daemon_uid(const struct outpost_conf *conf);
static void drop_privileges(const struct outpost_conf *conf, const char *sock);
static void *milter_thread(void *arg);
static void reload(const char *path);
static void fixed(const struct outpost_conf *a, const struct outpost_conf *b);
static void log_stats(void);
static void node_collect(const struct outpost_conf *conf);
static void node_publish(void);

/* this node's fingerprints (main thread only) */
static struct nodeinfo *node_info;
static struct rconn *node_rc;
static char node_name[256];
static const char *node_prefix;		/* of the first configuration */
static const struct outpost_conf *boot_conf;	/* the first: what a reload cannot change */
static struct prom *render(void *arg);

/* render - the metrics page (in the endpoint's thread), under the node name in force */
static struct prom *
render(void *arg)
{
    struct settings *s = settings_current();
    struct prom *p = metrics_render(s ? s->conf->general.node : arg);

    settings_unref(s);
    return p;
}

/* daemon_uid - the user the keys must belong to */
static uid_t
daemon_uid(const struct outpost_conf *conf)
{
    uid_t uid;
    gid_t gid;
    char err[300];

    if (geteuid() != 0)
	return geteuid();
    if (privs_lookup(conf->general.user, &uid, &gid, err, sizeof(err)) < 0)
	msg_fatal("[general] %s", err);
    return uid;
}

/* drop_privileges - root no longer once the socket is open */
static void
drop_privileges(const struct outpost_conf *conf, const char *sock)
{
    char err[300];

    if ((strncmp(sock, "unix:", 5) == 0 || strncmp(sock, "local:", 6) == 0)
	&& privs_chown_socket(strchr(sock, ':') + 1, conf->general.user, err,
			      sizeof(err)) < 0)
	msg_fatal("%s", err);
    if (privs_drop(conf->general.user, err, sizeof(err)) < 0)
	msg_fatal("[general] %s", err);
}

/* check_keys - can the keys and secrets of a configuration be loaded? */
static int
check_keys(const struct outpost_conf *conf, uid_t owner, size_t *nkeys, int *intake_on,
	   char *err, size_t errlen)
{
    struct dkimsign *ds = NULL;
    struct intake_setup *is;

    if (conf->dkim.key_table
	&& (ds = dkimsign_new(&conf->dkim, owner, err, errlen)) == NULL)
	return -1;
    *nkeys = ds ? dkimsign_nkeys(ds) : 0;
    dkimsign_unref(ds);
    is = intake_setup_new(conf, owner, err, errlen);
    if (is == NULL && err[0])
	return -1;
    *intake_on = is != NULL;
    intake_setup_unref(is);
    /* the List-Unsubscribe fields and tracking need the web keys and URL */
    listunsub_free(listunsub_new(conf, owner, err, errlen));
    if (err[0])
	return -1;
    tracking_free(tracking_new(conf, owner, err, errlen));
    return err[0] ? -1 : 0;
}

/* log_stats - the counters so far */
static void
log_stats(void)
{
    struct dkimsign_stats s;

    dkimsign_stats_get(&s);
    msg_info("dkim: signed=%lu signatures=%lu no_key=%lu not_authorised=%lu "
	     "bad_from=%lu errors=%lu", s.signed_msgs, s.signatures, s.no_key,
	     s.not_authorised, s.bad_from, s.errors);
    intake_stats_log();
}

/* node_collect - the fingerprints of a configuration now in force, published */
static void
node_collect(const struct outpost_conf *conf)
{
    struct nodeinfo *ni;
    char err[600];

    if ((ni = nodeinfo_collect(conf, geteuid(), err, sizeof(err))) == NULL) {
	msg_warn("cluster: cannot describe this node: %s", err);
	return;
    }
    nodeinfo_free(node_info);
    node_info = ni;
    snprintf(node_name, sizeof(node_name), "%s", conf->general.node);	/* outlives conf */
    node_publish();
}

/* node_publish - this node's entry, again (its TTL and "updated" move on) */
static void
node_publish(void)
{
    if (node_info && node_rc
	&& nodeinfo_publish(node_rc, node_prefix, node_name, node_info,
			    (long long) time(NULL)) < 0)
	msg_warn("cluster: redis: cannot publish this node's fingerprints: %s",
		 rconn_error(node_rc));
}

/* fixed - warn of each setting read at start only that the file changed */
static void
fixed(const struct outpost_conf *a, const struct outpost_conf *b)
{
    struct confdiff d = CONFDIFF_INIT("outpost-milter");
    const struct conf_milter *m = &a->milter, *n = &b->milter;

    confdiff_general(&d, &a->general, &b->general);
    confdiff_redis(&d, &a->redis, &b->redis);
    confdiff_str(&d, "[milter] socket", m->socket, n->socket);
    confdiff_num(&d, "[milter] timeout", m->timeout_ms, n->timeout_ms);
    confdiff_num(&d, "[milter] backlog", m->backlog, n->backlog);
    confdiff_str(&d, "[milter] socket_mode", m->socket_mode, n->socket_mode);
    confdiff_str(&d, "[milter] policy_service", m->policy_service, n->policy_service);
    confdiff_num(&d, "[milter] policy_timeout", m->policy_timeout_ms, n->policy_timeout_ms);
    confdiff_num(&d, "[milter] policy_default_action", m->policy_default_action,
		 n->policy_default_action);
    confdiff_str(&d, "[milter] metrics_listen", m->metrics_listen, n->metrics_listen);
}

/* reload - new settings (configuration, keys, secrets), or keep the running ones */
static void
reload(const char *path)
{
    struct outpost_conf *conf;
    struct settings *set;
    size_t n;
    char err[600];

    sdnotify_reloading();
    log_stats();
    if ((conf = conf_load(path, err, sizeof(err))) == NULL) {
	msg_error("reload refused, keeping the running configuration: %s", err);
	sdnotify_ready("reload refused: %s", err);
	return;
    }
    if ((set = settings_new(conf, geteuid(), err, sizeof(err))) == NULL) {
	msg_error("reload refused, keeping the running keys: %s", err);
	sdnotify_ready("reload refused: %s", err);
	conf_free(conf);
	return;
    }
    n = set->signer ? dkimsign_nkeys(set->signer) : 0;
    fixed(boot_conf, set->conf);
    node_collect(set->conf);
    settings_install(set);		/* set is not ours any more */
    msg_info("reloaded %s: %zu DKIM key%s", path, n, n == 1 ? "" : "s");
    sdnotify_ready("reloaded: %zu DKIM key%s", n, n == 1 ? "" : "s");
}

/* milter_thread - libmilter's accept loop */
static void *
milter_thread(void *arg)
{
    int *rc = arg;

    *rc = smfi_main();
    kill(getpid(), SIGTERM);		/* wake the main thread if we stopped first */
    return NULL;
}

int
main(int argc, char **argv)
{
    struct daemonopt opt;
    const char *path;
    int sig, milter_rc = 0, intake_on;
    size_t nkeys;
    struct outpost_conf *conf;
    struct settings *first;
    char err[600];
    const char *sock;
    sigset_t set;
    pthread_t tid;
    struct promhttp *http = NULL;

    daemonopt_parse(argc, argv, &opt);
    path = opt.conf_path;
    if ((conf = conf_load(path, err, sizeof(err))) == NULL) {
	msg_error("%s", err);
	return 1;
    }
    if (opt.check_only) {
	if (check_keys(conf, daemon_uid(conf), &nkeys, &intake_on, err, sizeof(err)) < 0) {
	    msg_error("%s", err);
	    return 1;
	}
	printf("%s: configuration OK, %zu DKIM key%s%s\n", path, nkeys,
	       nkeys == 1 ? "" : "s", intake_on ? ", intake on" : "");
	conf_free(conf);
	return 0;
    }
    msg_open(argv[0], opt.foreground, conf->general.syslog_facility);
    rcheck_at_start(&conf->redis);

    /*
     * The main thread takes SIGHUP (reload), SIGTERM and SIGINT (stop).
     * Blocked before the socket exists: a SIGHUP sent as soon as it appears
     * waits for sigwait() instead of killing a milter still starting.
     */
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    /* all that can fail is checked before the socket of a running instance is touched */
    if (privs_check(conf->general.user, err, sizeof(err)) < 0)
	msg_fatal("[general] %s", err);
    if (check_keys(conf, daemon_uid(conf), &nkeys, &intake_on, err, sizeof(err)) < 0)
	msg_fatal("%s", err);
    sock = conf->milter.socket;
    /* the lock of the claim stays open until exit: no other instance takes the path */
    if ((strncmp(sock, "unix:", 5) == 0 || strncmp(sock, "local:", 6) == 0)
	&& sockguard_claim(strchr(sock, ':') + 1, err, sizeof(err)) < 0)
	msg_fatal("%s", err);
    umask(0777 & ~(mode_t) strtol(conf->milter.socket_mode, NULL, 8));
    if (smfi_setconn((char *) sock) == MI_FAILURE
	|| smfi_settimeout((int) (conf->milter.timeout_ms / 1000)) == MI_FAILURE
	|| smfi_setbacklog((int) conf->milter.backlog) == MI_FAILURE
	|| smfi_register(filter_desc) == MI_FAILURE)
	msg_fatal("cannot set up the milter on %s", sock);
    if (smfi_opensocket(0) == MI_FAILURE)	/* a stale file is gone already */
	msg_fatal("cannot open milter socket %s", sock);
    umask(077);
    if (conf->milter.metrics_listen
	&& (http = promhttp_start_thread(conf->milter.metrics_listen, render,
					 conf->general.node, err, sizeof(err))) == NULL)
	msg_fatal("%s", err);
    drop_privileges(conf, sock);
    /* the first settings own conf and live until exit: [redis] is read at start only */
    if ((first = settings_new(conf, geteuid(), err, sizeof(err))) == NULL)
	msg_fatal("%s", err);
    nkeys = first->signer ? dkimsign_nkeys(first->signer) : 0;
    if (first->signer == NULL)
	msg_warn("[dkim] key_table is not set: mail is not signed");
    settings_install(settings_ref(first));
    intake_init(conf);
    rcpt_check_init(conf);
    rcpt_policy_init(conf);
    node_rc = rconn_new(&conf->redis);
    node_prefix = conf->redis.prefix;
    boot_conf = conf;
    node_collect(conf);

    signal(SIGPIPE, SIG_IGN);
    if ((errno = pthread_create(&tid, NULL, milter_thread, &milter_rc)) != 0)
	msg_fatal("cannot start the milter thread: %s", strerror(errno));
    msg_info("listening on %s, %zu DKIM key%s", sock, nkeys, nkeys == 1 ? "" : "s");
    /* the socket listens since smfi_opensocket(): connections wait in its backlog */
    sdnotify_ready("listening on %s, %zu DKIM key%s", sock, nkeys, nkeys == 1 ? "" : "s");
    for (;;) {
	struct timespec refresh = {NODEINFO_REFRESH, 0};

	if ((sig = sigtimedwait(&set, NULL, &refresh)) < 0) {
	    if (errno == EAGAIN)
		node_publish();
	    continue;
	}
	if (sig != SIGHUP)
	    break;
	reload(path);
    }
    sdnotify_stopping();
    smfi_stop();
    pthread_join(tid, NULL);
    /* ours (the claim's lock is still held): the next start finds no stale file */
    if (strncmp(sock, "unix:", 5) == 0 || strncmp(sock, "local:", 6) == 0)
	(void) unlink(strchr(sock, ':') + 1);
    promhttp_stop(http);
    log_stats();
    settings_install(NULL);
    rcpt_check_shutdown();
    rcpt_policy_shutdown();
    intake_shutdown();
    nodeinfo_free(node_info);
    rconn_free(node_rc);
    msg_info("stopped");
    settings_unref(first);		/* and conf */
    return milter_rc == MI_SUCCESS ? 0 : 1;
}
