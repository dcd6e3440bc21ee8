/*
 * backoff - outpostctl backoff: provider backoffs in force
 *
 * SYNOPSIS
 *	outpostctl backoff list [--json]
 *	outpostctl backoff clear [PROVIDER [POOL]]
 *	outpostctl backoff set PROVIDER POOL DURATION RATE [REASON]
 *
 * DESCRIPTION
 *	list shows each backoff that outpost-logd (or an operator) started:
 *	provider (or recipient domain), pool, rate, when it ends, and the
 *	reply that caused it.  clear ends the backoffs of a provider (on one
 *	pool, or all) or all of them.  set starts one by hand, as a rule
 *	would: "backoff set google warm1 1h 60/m".  list --json prints
 *	{"backoffs":[...]} (outpostctl(8), JSON OUTPUT).
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
#include "jsonw.h"
#include "msg.h"
#include "redisconn.h"
#include "suppress.h"

const struct ctl_usage ctl_backoff_usage[] = {
    {"backoff list [--json]", "the provider backoffs in force"},
    {"backoff clear [PROVIDER [POOL]]", "end the backoffs of a provider, or all"},
    {"backoff set PROVIDER POOL DURATION RATE [REASON]", "start a backoff by hand"},
    {NULL, NULL},
};

struct list_state {
    int n;
    struct jsonw *json;		/* NULL: text */
};

/* print_json - one backoff as a JSON row */
static void
print_json(const struct backoff_state *st, struct jsonw *w, long long now)
{
    jsonw_object(w, NULL);
    jsonw_string(w, "provider", st->provider);
    jsonw_string(w, "pool", st->pool);
    jsonw_string(w, "rate", st->rate[0] ? st->rate : NULL);
    jsonw_double(w, "interval_seconds", st->interval_ms / 1000.0);
    jsonw_int(w, "burst", st->burst);
    jsonw_time(w, "since", st->since);
    jsonw_time(w, "until", st->until);
    jsonw_int(w, "left_seconds", st->until - now);
    jsonw_string(w, "reason", st->reason);
    jsonw_end(w);
}

/* print_state - one line of "backoff list" */
static void
print_state(const struct backoff_state *st, void *arg)
{
    long long now = (long long) time(NULL), left = st->until - now;
    char when[32];
    struct list_state *ls = arg;
    int *n = &ls->n;

    if (left <= 0)
	return;				/* ended, its key expires soon */
    if (ls->json) {
	print_json(st, ls->json, now);
	return;
    }
    sup_time_format(st->until, when, sizeof(when));
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
    struct list_state ls = {0, NULL};
    struct jsonw w;
    int rv = 0;

    if (argc < 2)
	return ctl_usage("backoff", NULL);
    if (!((strcmp(argv[1], "list") == 0
	   && (argc == 2 || (argc == 3 && strcmp(argv[2], "--json") == 0)))
	  || (strcmp(argv[1], "clear") == 0 && argc <= 4)
	  || (strcmp(argv[1], "set") == 0 && (argc == 6 || argc == 7))))
	return ctl_usage("backoff", argv[1]);
    conf = ctl_load_conf(path);
    rc = rconn_new(&conf->redis);
    if (strcmp(argv[1], "list") == 0) {
	if (argc == 3) {
	    jsonw_init(&w, stdout);
	    jsonw_object(&w, NULL);
	    jsonw_array(&w, "backoffs");
	    ls.json = &w;
	}
	if (backoff_list(rc, conf->redis.prefix, print_state, &ls) < 0)
	    rv = 1;
	else if (ls.json) {
	    jsonw_end(&w);
	    jsonw_end(&w);
	} else if (ls.n == 0)
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
	    msg_error("backoff set: %s: expected a duration", argv[4]);
	    rv = 2;
	} else if (confval_rate(argv[5], &rate, &why) < 0) {
	    msg_error("backoff set: %s: %s", argv[5], why);
	    rv = 2;
	} else if (backoff_set(rc, conf->redis.prefix, argv[2], argv[3], ms, &rate,
			       argc == 7 ? argv[6] : "set by outpostctl") < 0) {
	    rv = 1;
	}
    }
    if (rv == 1)
	msg_error("backoff: %s", rconn_error(rc));
    rconn_free(rc);
    conf_free(conf);
    return rv;
}
