/*
 * reputation - outpostctl reputation: are the relay's addresses or sending
 * domains on a DNS blocklist
 *
 * SYNOPSIS
 *	outpostctl reputation [--json]
 *
 * DESCRIPTION
 *	Every address of every [pool NAME] is asked of every ip [blocklist],
 *	every sending domain (the DKIM key table's domains and signing
 *	domains, the pools' sender domains, the sender domains counted in
 *	the statistics) of every domain [blocklist].  One
 *	line per check: target, list, clean / listed / unknown, and for a
 *	listing its code, the list's reason and the delisting page; for an
 *	unknown what went wrong.  The DNS is asked through the system
 *	resolver, one question at a time.
 *
 *	Exit status: 0 when nothing is listed and every list answered, 1 when
 *	something is listed, 3 when nothing is listed but some answers are
 *	unknown (refused, timed out, unexpected), 2 for a usage error.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "ctl.h"
#include "dnsbl.h"
#include "dnsq.h"
#include "jsonw.h"
#include "msg.h"
#include "redisconn.h"
#include "stats.h"

const struct ctl_usage ctl_reputation_usage[] = {
    {"reputation [--json]",
     "check the pool addresses and sending domains against the [blocklist] lists"},
    {NULL, NULL}};

struct tally {
    int listed, clean, unknown;
};

static void add_sender(const struct stats_field *f, long long n, void *arg);
static void check_all(struct dnsq *q, const struct outpost_conf *conf,
		      const struct dnsbl_targets *t, int kind, struct jsonw *w,
		      struct tally *tally);

/* add_sender - a sender domain of the statistics (not "-", nor junk) */
static void
add_sender(const struct stats_field *f, long long n, void *arg)
{
    (void) n;
    if (dnsbl_domain_ok(f->sender))
	dnsbl_targets_add(arg, f->sender);
}

/* check_all - every target against every list of its kind */
static void
check_all(struct dnsq *q, const struct outpost_conf *conf,
	  const struct dnsbl_targets *t, int kind, struct jsonw *w,
	  struct tally *tally)
{
    struct dnsbl_result r;
    size_t i, j;

    for (i = 0; i < conf->blocklists.n; i++) {
	const struct conf_blocklist *bl =
	    CONF_VEC_AT(&conf->blocklists, i, struct conf_blocklist);

	if (bl->kind != kind)
	    continue;
	for (j = 0; j < t->n; j++) {
	    char *url = NULL;

	    dnsbl_check(q, bl, t->v[j], &r);
	    if (r.verdict == DNSBL_LISTED) {
		tally->listed++;
		url = dnsbl_delist_url(bl, t->v[j]);
	    } else if (r.verdict == DNSBL_CLEAN) {
		tally->clean++;
	    } else {
		tally->unknown++;
	    }
	    if (w) {
		jsonw_object(w, NULL);
		jsonw_string(w, "target", t->v[j]);
		jsonw_string(w, "list", bl->named.name);
		jsonw_string(w, "zone", bl->zone);
		jsonw_string(w, "status", dnsbl_verdict_name(r.verdict));
		jsonw_string(w, "code", r.code[0] ? r.code : NULL);
		jsonw_string(w, "reason", r.reason);
		jsonw_string(w, "why", r.why);
		jsonw_string(w, "delist_url", url);
		jsonw_end(w);
	    } else {
		printf("%s %s %s", t->v[j], bl->named.name, dnsbl_verdict_name(r.verdict));
		if (r.code[0])
		    printf(" %s", r.code);
		if (r.verdict == DNSBL_UNKNOWN && r.why)
		    printf(": %s", r.why);
		if (r.reason)
		    printf(" reason: %s", r.reason);
		if (url)
		    printf(" delist: %s", url);
		printf("\n");
	    }
	    free(url);
	    dnsbl_result_free(&r);
	}
    }
}

/* cmd_reputation - outpostctl reputation [--json] */
int
cmd_reputation(const char *path, int argc, char **argv)
{
    struct outpost_conf *conf;
    struct dnsbl_targets ips = {0}, domains = {0};
    struct tally tally = {0};
    struct jsonw jw, *w = NULL;
    struct dnsq *q;

    if (argc > 2 || (argc == 2 && strcmp(argv[1], "--json") != 0))
	return ctl_usage("reputation", NULL);
    conf = ctl_load_conf(path);
    if (argc == 2) {
	jsonw_init(&jw, stdout);
	w = &jw;
	jsonw_object(w, NULL);
	jsonw_array(w, "checks");
    }
    if (conf->blocklists.n == 0)
	msg_warn("no [blocklist NAME] sections: nothing to check");
    dnsbl_targets_collect(conf, &ips, &domains);
    if (conf->blocklists.n > 0) {
	struct rconn *rc = rconn_new(&conf->redis);

	/* the senders that ever sent through the relay, as counted */
	if (stats_read_total(rc, conf->redis.prefix, add_sender, &domains) < 0)
	    msg_warn("the statistics' sender domains are not checked: Redis: %s",
		     rconn_error(rc));
	rconn_free(rc);
    }
    q = dnsq_new();
    check_all(q, conf, &ips, CONF_BL_IP, w, &tally);
    check_all(q, conf, &domains, CONF_BL_DOMAIN, w, &tally);
    dnsq_free(q);
    if (w) {
	jsonw_end(w);
	jsonw_int(w, "listed", tally.listed);
	jsonw_int(w, "clean", tally.clean);
	jsonw_int(w, "unknown", tally.unknown);
	jsonw_end(w);
    } else {
	printf("%d listed, %d clean, %d unknown\n", tally.listed, tally.clean,
	       tally.unknown);
    }
    dnsbl_targets_free(&ips);
    dnsbl_targets_free(&domains);
    conf_free(conf);
    return tally.listed ? 1 : tally.unknown ? 3 : 0;
}
