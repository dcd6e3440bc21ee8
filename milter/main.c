/*
 * outpost-milter - the Outpost mail filter
 *
 * SYNOPSIS
 *	outpost-milter [-fnv] [-c FILE]
 *
 * DESCRIPTION
 *	A libmilter filter for Postfix (smtpd_milters) and Sendmail
 *	(INPUT_MAIL_FILTER).  It listens on [milter] socket.
 *
 *	-c FILE	configuration file (default /etc/outpost/outpost.conf)
 *	-f	stay in the foreground and log to stderr
 *	-n	check the configuration and exit
 *	-v	more verbose logging (repeat for more)
 *
 * DIAGNOSTICS
 *	Problems go to syslog (or stderr with -f).  Exit status 1 on a bad
 *	configuration or when the socket cannot be opened.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "addr.h"
#include "conf.h"
#include "msg.h"
#include "rcpt_check.h"
#include "xalloc.h"

static struct outpost_conf *milter_conf;

/* per connection: what the suppression check needs across callbacks */
struct om_priv {
    char sender_domain[DOMAIN_MAX];
    struct rcpt_msg msg;
};

static sfsistat om_negotiate(SMFICTX *, unsigned long, unsigned long,
			     unsigned long, unsigned long, unsigned long *,
			     unsigned long *, unsigned long *, unsigned long *);
static sfsistat om_eom(SMFICTX *);
static sfsistat om_envfrom(SMFICTX *, char **);
static sfsistat om_envrcpt(SMFICTX *, char **);
static sfsistat om_abort(SMFICTX *);
static sfsistat om_close(SMFICTX *);

/* om_negotiate - ask the MTA for nothing we do not use */
static sfsistat
om_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
	     unsigned long f2, unsigned long f3, unsigned long *pf0,
	     unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
    unsigned long want = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL
	| SMFIP_NORCPT | SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY
	| SMFIP_NOUNKNOWN | SMFIP_NODATA;
    unsigned long actions = 0;

    (void) ctx;
    if (milter_conf->suppress.enabled) {
	want &= ~(SMFIP_NOMAIL | SMFIP_NORCPT);		/* the check needs both */
	actions |= SMFIF_DELRCPT;			/* action = discard */
	if ((f0 & SMFIF_DELRCPT) == 0)
	    msg_warn("the MTA cannot delete recipients: [suppress] action = discard "
		     "will tempfail such messages");
    }
    *pf0 = actions & f0;
    *pf1 = want & f1;
    *pf2 = 0;
    *pf3 = 0;
    return SMFIS_CONTINUE;
}

/* om_priv_get - this connection's state, made on first use */
static struct om_priv *
om_priv_get(SMFICTX *ctx)
{
    struct om_priv *p = smfi_getpriv(ctx);

    if (p == NULL) {
	p = xcalloc(1, sizeof(*p));
	smfi_setpriv(ctx, p);
    }
    return p;
}

/* om_envfrom - a new message: remember the sender's domain */
static sfsistat
om_envfrom(SMFICTX *ctx, char **argv)
{
    struct om_priv *p = om_priv_get(ctx);

    rcpt_msg_reset(&p->msg);
    rcpt_sender_domain(argv[0], p->sender_domain, sizeof(p->sender_domain));
    return SMFIS_CONTINUE;
}

/* om_envrcpt - the suppression check of one recipient */
static sfsistat
om_envrcpt(SMFICTX *ctx, char **argv)
{
    struct om_priv *p = om_priv_get(ctx);
    struct rcpt_reply reply;

    switch (rcpt_check(argv[0], p->sender_domain, &reply)) {
    case RCPT_ACCEPT:
	rcpt_msg_accepted(&p->msg);
	return SMFIS_CONTINUE;
    case RCPT_DROP:
	rcpt_msg_drop(&p->msg, argv[0]);
	return SMFIS_CONTINUE;
    case RCPT_REJECT:
	smfi_setreply(ctx, (char *) reply.rcode, (char *) reply.xcode, reply.text);
	return SMFIS_REJECT;
    case RCPT_TEMPFAIL:
	smfi_setreply(ctx, (char *) reply.rcode, (char *) reply.xcode, reply.text);
	return SMFIS_TEMPFAIL;
    }
    return SMFIS_TEMPFAIL;
}

/* om_delrcpt - smfi_delrcpt for rcpt_msg_eom */
static int
om_delrcpt(void *ctx, const char *rcpt)
{
    return smfi_delrcpt(ctx, (char *) rcpt) == MI_SUCCESS ? 0 : -1;
}

/* om_eom - end of message: drop suppressed recipients (action = discard) */
static sfsistat
om_eom(SMFICTX *ctx)
{
    struct om_priv *p = smfi_getpriv(ctx);

    if (p == NULL)
	return SMFIS_CONTINUE;
    switch (rcpt_msg_eom(&p->msg, om_delrcpt, ctx)) {
    case 1:
	return SMFIS_DISCARD;		/* every recipient was suppressed */
    case -1:
	smfi_setreply(ctx, "451", "4.3.0", "cannot remove suppressed recipients");
	return SMFIS_TEMPFAIL;
    }
    return SMFIS_CONTINUE;
}

/* om_abort - the message was abandoned; the connection goes on */
static sfsistat
om_abort(SMFICTX *ctx)
{
    struct om_priv *p = smfi_getpriv(ctx);

    if (p)
	rcpt_msg_reset(&p->msg);
    return SMFIS_CONTINUE;
}

/* om_close - the connection ends */
static sfsistat
om_close(SMFICTX *ctx)
{
    struct om_priv *p = smfi_getpriv(ctx);

    if (p) {
	rcpt_msg_reset(&p->msg);
	free(p);
	smfi_setpriv(ctx, NULL);
    }
    return SMFIS_CONTINUE;
}

static struct smfiDesc om_desc = {
    .xxfi_name = "outpost-milter",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_DELRCPT,
    .xxfi_envfrom = om_envfrom,
    .xxfi_envrcpt = om_envrcpt,
    .xxfi_eom = om_eom,
    .xxfi_abort = om_abort,
    .xxfi_close = om_close,
    .xxfi_negotiate = om_negotiate,
};

/* usage - explain the options and exit */
static void
usage(const char *prog)
{
    fprintf(stderr, "usage: %s [-fnv] [-c FILE]\n", prog);
    exit(2);
}

int
main(int argc, char **argv)
{
    const char *path = OUTPOST_CONF_PATH;
    int foreground = 0, check_only = 0, verbose = 0, ch;
    char err[600];
    const char *sock;

    while ((ch = getopt(argc, argv, "c:fnvh")) != -1) {
	switch (ch) {
	case 'c': path = optarg; break;
	case 'f': foreground = 1; break;
	case 'n': check_only = 1; break;
	case 'v': verbose++; break;
	default: usage(argv[0]);
	}
    }
    if (optind != argc)
	usage(argv[0]);
    msg_open(argv[0], 1, 0);
    msg_verbose(verbose);
    if ((milter_conf = conf_load(path, err, sizeof(err))) == NULL) {
	fprintf(stderr, "%s\n", err);
	return 1;
    }
    if (check_only) {
	printf("%s: configuration OK\n", path);
	return 0;
    }
    msg_open(argv[0], foreground, milter_conf->general.syslog_facility);
    rcpt_check_init(milter_conf);

    sock = milter_conf->milter.socket;
    if (strncmp(sock, "unix:", 5) == 0 || strncmp(sock, "local:", 6) == 0)
	unlink(strchr(sock, ':') + 1);		/* a stale socket from a crash */
    umask(0777 & ~(mode_t) strtol(milter_conf->milter.socket_mode, NULL, 8));
    if (smfi_setconn((char *) sock) == MI_FAILURE
	|| smfi_settimeout((int) (milter_conf->milter.timeout_ms / 1000)) == MI_FAILURE
	|| smfi_setbacklog((int) milter_conf->milter.backlog) == MI_FAILURE
	|| smfi_register(om_desc) == MI_FAILURE)
	msg_fatal("cannot set up the milter on %s", sock);
    if (smfi_opensocket(1) == MI_FAILURE)
	msg_fatal("cannot open milter socket %s", sock);
    msg_info("listening on %s", sock);
    if (smfi_main() != MI_SUCCESS)
	msg_fatal("milter main loop failed");
    msg_info("stopped");
    rcpt_check_shutdown();
    conf_free(milter_conf);
    return 0;
}
