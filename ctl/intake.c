/*
 * intake - outpostctl intake: the counters of the bounce intake, and tokens
 *
 * SYNOPSIS
 *	outpostctl intake stats [--day YYYY-MM-DD] [--json]
 *	outpostctl intake address [--unsubscribe] [--json] RCPT SENDER_DOMAIN
 *
 * DESCRIPTION
 *	stats prints the day's counters (UTC, today by default) as
 *	"SENDER PROVIDER EVENT COUNT" lines: hard-bounce, soft-bounce,
 *	complaint, unsubscribe, suppressed, and the reports that changed
 *	nothing: forged, stale, malformed, unattributed, not-acted,
 *	autoreply, too-large, unreadable.  --day also takes YYYYMMDD.
 *
 *	address prints the tagged address that stands for RCPT and
 *	SENDER_DOMAIN: the return path outpost-milter would set, or with
 *	--unsubscribe an unsubscribe address for a List-Unsubscribe mailto:
 *	URI.  It reads [intake] secret_file, so it runs as root or as the
 *	daemon user.
 *
 *	--json prints {"day":..., "counters":[...]} and {"address":...}
 *	instead (outpostctl(8), JSON OUTPUT).
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
#include "jsonw.h"
#include "msg.h"
#include "redisconn.h"
#include "verp.h"

const struct ctl_usage ctl_intake_usage[] = {
    {"intake stats [--day YYYY-MM-DD] [--json]", "the day's bounce intake counters (UTC)"},
    {"intake address [--unsubscribe] [--json] RCPT SENDER_DOMAIN",
     "the tagged return path (or unsubscribe address) of RCPT"},
    {NULL, NULL},
};

/* intake_usage - say how and exit status 2 */
static int
intake_usage(const char *sub)
{
    return ctl_usage("intake", sub);
}

/* print_stat - one counter: "SENDER PROVIDER EVENT" and its count */
static void
print_stat(const char *field, long long n, void *arg)
{
    struct jsonw *w = arg;
    char sender[256], provider[256], event[64];

    if (w == NULL) {
	printf("%s %lld\n", field, n);
	return;
    }
    if (sscanf(field, "%255s %255s %63s", sender, provider, event) != 3)
	return;
    jsonw_object(w, NULL);
    jsonw_string(w, "sender", strcmp(sender, "-") ? sender : NULL);
    jsonw_string(w, "provider", provider);
    jsonw_string(w, "event", event);
    jsonw_int(w, "count", n);
    jsonw_end(w);
}

/* do_stats - a day's counters */
static int
do_stats(const struct outpost_conf *conf, int argc, char **argv)
{
    char day[CTL_DAY_KEY], shown[CTL_DAY_SHOW];
    struct rconn *rc;
    struct intake_store *s;
    struct jsonw w;
    int ret = 0, json = 0, i;

    ctl_day_today((long long) time(NULL), day);
    for (i = 0; i < argc; i++) {
	if (strcmp(argv[i], "--json") == 0) {
	    json = 1;
	} else if (strcmp(argv[i], "--day") == 0 && i + 1 < argc) {
	    if (ctl_day_parse(argv[++i], day) < 0) {
		msg_error("--day %s: expected a date YYYY-MM-DD", argv[i]);
		return 2;
	    }
	} else {
	    return intake_usage("stats");
	}
    }
    if (json) {
	ctl_day_show(day, shown);
	jsonw_init(&w, stdout);
	jsonw_object(&w, NULL);
	jsonw_string(&w, "day", shown);
	jsonw_array(&w, "counters");
    }
    rc = rconn_new(&conf->redis);
    s = intake_store_new(rc, conf->redis.prefix);
    if (intake_stats(s, day, print_stat, json ? &w : NULL) < 0) {
	msg_error("intake stats: %s", intake_error(s));
	ret = 1;
    } else if (json) {
	jsonw_end(&w);
	jsonw_end(&w);
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
    int unsub = 0, json = 0;
    char rcpt[ADDR_MAX], sender[DOMAIN_MAX], dom[DOMAIN_MAX], tok[VERP_TOKEN_MAX + 1];
    char err[300], out[4096];
    const char *why, *local, *pct, *arg[2];
    struct verp_keys *k;
    struct jsonw w;
    size_t n, room;
    int i, nargs = 0;

    for (i = 0; i < argc; i++) {
	if (strcmp(argv[i], "--unsubscribe") == 0)
	    unsub = 1;
	else if (strcmp(argv[i], "--json") == 0)
	    json = 1;
	else if (argv[i][0] == '-' || nargs == 2)
	    return intake_usage("address");
	else
	    arg[nargs++] = argv[i];
    }
    if (nargs != 2)
	return intake_usage("address");
    if (in->bounce_domain == NULL) {
	msg_error("[intake] bounce_domain is not set");
	return 1;
    }
    if (addr_normalize(arg[0], strlen(arg[0]), rcpt, sizeof(rcpt), &why) < 0
	|| domain_normalize(arg[1], strlen(arg[1]), sender, sizeof(sender), &why) < 0) {
	msg_error("%s", why);
	return 2;			/* a bad value, as usage errors */
    }
    if ((k = verp_keys_load(in->secret_file, 0, 0, err, sizeof(err))) == NULL) {
	msg_error("%s", err);
	return 1;
    }
    local = unsub ? in->unsubscribe_local : in->bounce_local;
    pct = strstr(in->bounce_domain, "%d");
    room = 64 - strlen(local);
    n = verp_encode_bound(k, unsub ? VERP_UNSUB : VERP_BOUNCE,
			  verp_day((long long) time(NULL)), rcpt, pct ? "" : sender,
			  pct ? sender : "", tok, room);
    verp_keys_free(k);
    if (n == 0) {
	msg_error("%s and %s do not fit in a 64-octet local part",
		  rcpt, sender);
	return 1;
    }
    if (verp_return_domain(in->bounce_domain, sender, dom, sizeof(dom)) == 0) {
	msg_error("[intake] bounce_domain is too long for %s", sender);
	return 1;
    }
    snprintf(out, sizeof(out), "%s-%s@%s", local, tok, dom);
    if (json) {
	jsonw_init(&w, stdout);
	jsonw_object(&w, NULL);
	jsonw_string(&w, "address", out);
	jsonw_string(&w, "kind", unsub ? "unsubscribe" : "return_path");
	jsonw_string(&w, "recipient", rcpt);
	jsonw_string(&w, "sender_domain", sender);
	jsonw_end(&w);
    } else {
	printf("%s\n", out);
    }
    return 0;
}

/* cmd_intake - outpostctl intake SUBCOMMAND ... */
int
cmd_intake(const char *path, int argc, char **argv)
{
    struct outpost_conf *conf;
    int rc;

    if (argc < 2)
	return intake_usage(NULL);
    conf = ctl_load_conf(path);
    if (strcmp(argv[1], "stats") == 0)
	rc = do_stats(conf, argc - 2, argv + 2);
    else if (strcmp(argv[1], "address") == 0)
	rc = do_address(conf, argc - 2, argv + 2);
    else
	rc = intake_usage(NULL);
    conf_free(conf);
    return rc;
}
