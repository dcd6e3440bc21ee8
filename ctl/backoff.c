/*
 * backoff - outpostctl backoff: provider backoffs in force
 *
 * SYNOPSIS
 *	outpostctl backoff list
 *	outpostctl backoff clear [PROVIDER [POOL]]
 *	outpostctl backoff set PROVIDER POOL DURATION RATE [REASON]
 *
 * DESCRIPTION
 *	list shows each backoff that outpost-logd (or an operator) started:
 *	provider (or recipient domain), pool, rate, when it ends, and the
 *	reply that caused it.  clear ends the backoffs of a provider (on one
 *	pool, or all) or all of them.  set starts one by hand, as a rule
 *	would: "backoff set google warm1 1h 60/m".
 *
 * DIAGNOSTICS
 *	Exit status 0; 1 when Redis fails; 2 for bad arguments.  clear says
 *	how many backoffs it ended.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backoff.h"
#include "conf.h"
#include "confval.h"
#include "ctl.h"
#include "redisconn.h"

/* usage_backoff - the arguments, and exit */
static void
usage_backoff(void)
{
    fprintf(stderr, "usage: outpostctl backoff list\n"
	    "       outpostctl backoff clear [PROVIDER [POOL]]\n"
	    "       outpostctl backoff set PROVIDER POOL DURATION RATE [REASON]\n");
    exit(2);
}

/* print_state - one line of "backoff list" */
static void
print_state(const struct backoff_state *st, void *arg)
{
    long long now = (long long) time(NULL), left = st->until - now;
    time_t until = (time_t) st->until;
    char when[32];
    int *n = arg;

    if (left <= 0)
	return;				/* ended, its key expires soon */
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&until));
    if ((*n)++ == 0)
	printf("%-20s %-12s %-8s %-21s %7s  %s\n", "provider", "pool", "rate", "until",
	       "left", "reason");
    printf("%-20s %-12s %-8s %-21s %6llds  %.120s\n", st->provider, st->pool, st->rate, when,
	   left, st->reason);
}

/* cmd_backoff - outpostctl backoff ... */
int
cmd_backoff(const char *path, int argc, char **argv)
{
    struct outpost_conf *conf;
    struct rconn *rc;
    int rv = 0, n = 0;

    if (argc < 2)
	usage_backoff();
    if (!((strcmp(argv[1], "list") == 0 && argc == 2)
	  || (strcmp(argv[1], "clear") == 0 && argc <= 4)
	  || (strcmp(argv[1], "set") == 0 && (argc == 6 || argc == 7))))
	usage_backoff();
    conf = ctl_load_conf(path);
    rc = rconn_new(&conf->redis);
    if (strcmp(argv[1], "list") == 0) {
	if (backoff_list(rc, conf->redis.prefix, print_state, &n) < 0)
	    rv = 1;
	else if (n == 0)
	    printf("no backoff in force\n");
    } else if (strcmp(argv[1], "clear") == 0) {
	long long k = backoff_clear(rc, conf->redis.prefix, argc > 2 ? argv[2] : NULL,
				    argc > 3 ? argv[3] : NULL);

	if (k < 0)
	    rv = 1;
	else
	    printf("cleared %lld backoff%s\n", k, k == 1 ? "" : "s");
    } else {
	long long ms;
	struct conf_rate rate;
	const char *why;

	if (confval_duration(argv[4], &ms, &why) < 0 || ms <= 0) {
	    fprintf(stderr, "outpostctl: backoff set: %s: expected a duration\n", argv[4]);
	    rv = 2;
	} else if (confval_rate(argv[5], &rate, &why) < 0) {
	    fprintf(stderr, "outpostctl: backoff set: %s: %s\n", argv[5], why);
	    rv = 2;
	} else if (backoff_set(rc, conf->redis.prefix, argv[2], argv[3], ms, &rate,
			       argc == 7 ? argv[6] : "set by outpostctl") < 0) {
	    rv = 1;
	}
    }
    if (rv == 1)
	fprintf(stderr, "outpostctl: backoff: %s\n", rconn_error(rc));
    rconn_free(rc);
    conf_free(conf);
    return rv;
}
