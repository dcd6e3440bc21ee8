/*
 * intake - outpostctl intake: the counters of the bounce intake, and tokens
 *
 * SYNOPSIS
 *	outpostctl intake stats [--day YYYYMMDD]
 *	outpostctl intake address [--unsubscribe] RCPT SENDER_DOMAIN
 *
 * DESCRIPTION
 *	stats prints the day's counters (UTC, today by default) as
 *	"SENDER PROVIDER EVENT COUNT" lines: hard-bounce, soft-bounce,
 *	complaint, unsubscribe, suppressed, and the reports that changed
 *	nothing: forged, stale, malformed, unattributed, not-acted,
 *	autoreply, too-large, unreadable.
 *
 *	address prints the tagged address that stands for RCPT and
 *	SENDER_DOMAIN: the return path outpost-milter would set, or with
 *	--unsubscribe an unsubscribe address for a List-Unsubscribe mailto:
 *	URI.  It reads [intake] secret_file, so it runs as root or as the
 *	daemon user.
 *
 * DIAGNOSTICS
 *	Exit status 0, 1 on a Redis or configuration problem, 2 on usage.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "conf.h"
#include "ctl.h"
#include "intake_act.h"
#include "redisconn.h"
#include "verp.h"

/* intake_usage - say how and exit status 2 */
static int
intake_usage(void)
{
    fprintf(stderr, "usage: outpostctl intake stats [--day YYYYMMDD]\n"
	    "       outpostctl intake address [--unsubscribe] RCPT SENDER_DOMAIN\n");
    return 2;
}

/* print_stat - one counter */
static void
print_stat(const char *field, long long n, void *arg)
{
    (void) arg;
    printf("%s %lld\n", field, n);
}

/* do_stats - a day's counters */
static int
do_stats(const struct outpost_conf *conf, int argc, char **argv)
{
    char day[16];
    time_t t = time(NULL);
    struct tm tm;
    struct rconn *rc;
    struct intake_store *s;
    int ret = 0;

    if (argc == 2 && strcmp(argv[0], "--day") == 0 && strlen(argv[1]) == 8
	&& strspn(argv[1], "0123456789") == 8) {
	snprintf(day, sizeof(day), "%s", argv[1]);
    } else if (argc == 0) {
	gmtime_r(&t, &tm);
	strftime(day, sizeof(day), "%Y%m%d", &tm);
    } else {
	return intake_usage();
    }
    rc = rconn_new(&conf->redis);
    s = intake_store_new(rc, conf->redis.prefix);
    if (intake_stats(s, day, print_stat, NULL) < 0) {
	fprintf(stderr, "outpostctl: intake stats: %s\n", intake_error(s));
	ret = 1;
    }
    intake_store_free(s);
    rconn_free(rc);
    return ret;
}

/* do_address - a tagged address for a recipient and a sender domain */
static int
do_address(const struct outpost_conf *conf, int argc, char **argv)
{
    const struct conf_intake *in = &conf->intake;
    int unsub = argc > 0 && strcmp(argv[0], "--unsubscribe") == 0;
    char rcpt[ADDR_MAX], sender[DOMAIN_MAX], dom[DOMAIN_MAX], tok[VERP_TOKEN_MAX + 1];
    char err[300];
    const char *why, *local, *pct;
    struct verp_keys *k;
    size_t n, room;

    argc -= unsub;
    argv += unsub;
    if (argc != 2)
	return intake_usage();
    if (in->bounce_domain == NULL) {
	fprintf(stderr, "outpostctl: [intake] bounce_domain is not set\n");
	return 1;
    }
    if (addr_normalize(argv[0], strlen(argv[0]), rcpt, sizeof(rcpt), &why) < 0
	|| domain_normalize(argv[1], strlen(argv[1]), sender, sizeof(sender), &why) < 0) {
	fprintf(stderr, "outpostctl: %s\n", why);
	return 1;
    }
    if ((k = verp_keys_load(in->secret_file, 0, 0, err, sizeof(err))) == NULL) {
	fprintf(stderr, "outpostctl: %s\n", err);
	return 1;
    }
    local = unsub ? in->unsubscribe_local : in->bounce_local;
    pct = strstr(in->bounce_domain, "%d");
    room = 64 - strlen(local);
    n = verp_encode(k, unsub ? VERP_UNSUB : VERP_BOUNCE, verp_day((long long) time(NULL)),
		    rcpt, pct ? "" : sender, tok, room);
    verp_keys_free(k);
    if (n == 0) {
	fprintf(stderr, "outpostctl: %s and %s do not fit in a 64-octet local part\n",
		rcpt, sender);
	return 1;
    }
    if (verp_return_domain(in->bounce_domain, sender, dom, sizeof(dom)) == 0) {
	fprintf(stderr, "outpostctl: [intake] bounce_domain is too long for %s\n", sender);
	return 1;
    }
    printf("%s-%s@%s\n", local, tok, dom);
    return 0;
}

/* cmd_intake - outpostctl intake SUBCOMMAND ... */
int
cmd_intake(const char *path, int argc, char **argv)
{
    struct outpost_conf *conf;
    int rc;

    if (argc < 2)
	return intake_usage();
    conf = ctl_load_conf(path);
    if (strcmp(argv[1], "stats") == 0)
	rc = do_stats(conf, argc - 2, argv + 2);
    else if (strcmp(argv[1], "address") == 0)
	rc = do_address(conf, argc - 2, argv + 2);
    else
	rc = intake_usage();
    conf_free(conf);
    return rc;
}
