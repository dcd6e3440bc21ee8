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
 *	domains, the pools' sender domains) of every domain [blocklist].  One
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
#include <strings.h>

#include "conf.h"
#include "ctl.h"
#include "dnsbl.h"
#include "dnsq.h"
#include "jsonw.h"
#include "keytable.h"
#include "msg.h"
#include "xalloc.h"

const struct ctl_usage ctl_reputation_usage[] = {
    {"reputation [--json]",
     "check the pool addresses and sending domains against the [blocklist] lists"},
    {NULL, NULL}};

/* A set of targets, in the order first seen */
struct targets {
    char **v;
    size_t n;
};

struct tally {
    int listed, clean, unknown;
};

static void targets_add(struct targets *t, const char *s);
static void targets_collect(const struct outpost_conf *conf,
			    struct targets *ips, struct targets *domains);
static void check_all(struct dnsq *q, const struct outpost_conf *conf,
		      const struct targets *t, int kind, struct jsonw *w,
		      struct tally *tally);

/* targets_add - add s unless it is there already (any case) */
static void
targets_add(struct targets *t, const char *s)
{
    size_t i;

    for (i = 0; i < t->n; i++)
	if (strcasecmp(t->v[i], s) == 0)
	    return;
    t->v = xreallocarray(t->v, t->n + 1, sizeof(*t->v));
    t->v[t->n++] = xstrdup(s);
}

/* targets_collect - the pool addresses and the sending domains */
static void
targets_collect(const struct outpost_conf *conf, struct targets *ips,
		struct targets *domains)
{
    struct keytable *kt;
    char err[600];
    size_t i, j;

    for (i = 0; i < conf->pools.n; i++) {
	const struct conf_pool *p = CONF_VEC_AT(&conf->pools, i, struct conf_pool);

	for (j = 0; j < p->addresses.n; j++)
	    targets_add(ips, p->addresses.v[j]);
	/* senders holds SASL users too: only the names that are domains */
	for (j = 0; j < p->senders.n; j++)
	    if (strchr(p->senders.v[j], '.') && !strchr(p->senders.v[j], '@'))
		targets_add(domains, p->senders.v[j]);
    }
    if (conf->dkim.key_table == NULL)
	return;
    if ((kt = keytable_load(conf->dkim.key_table, 0, 0, err, sizeof(err))) == NULL) {
	msg_warn("the key table's domains are not checked: %s", err);
	return;
    }
    for (i = 0; i < kt->n; i++) {
	targets_add(domains, kt->v[i].domain);
	targets_add(domains, kt->v[i].sign_domain);
    }
    keytable_free(kt);
}

/* check_all - every target against every list of its kind */
static void
check_all(struct dnsq *q, const struct outpost_conf *conf,
	  const struct targets *t, int kind, struct jsonw *w, struct tally *tally)
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
    struct targets ips = {0}, domains = {0};
    struct tally tally = {0};
    struct jsonw jw, *w = NULL;
    struct dnsq *q;
    size_t i;

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
    targets_collect(conf, &ips, &domains);
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
    for (i = 0; i < ips.n; i++)
	free(ips.v[i]);
    for (i = 0; i < domains.n; i++)
	free(domains.v[i]);
    free(ips.v);
    free(domains.v);
    conf_free(conf);
    return tally.listed ? 1 : tally.unknown ? 3 : 0;
}
