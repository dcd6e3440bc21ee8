/*
 * verify - outpostctl verify: check what a sending domain publishes, say
 *	    exactly what is wrong and print the record that fixes it
 *
 * SYNOPSIS
 *	outpostctl verify [--json] [--ip ADDR]... DOMAIN
 *
 * DESCRIPTION
 *	The checks are domcheck(3)'s, shared with the API of outpost-httpd.
 *	One line per check, "pass", "warn" or "fail", the check's name and
 *	why, followed by "fix:" and the exact record when one would help:
 *
 *	spf		the record's syntax, its DNS-querying terms (at most 10)
 *			and void lookups (at most 2), counted over every include
 *			and redirect (spfwalk); then, for each relay address, an
 *			evaluation with libspf2, which must give "pass".
 *	dkim		each selector the key table holds for the domain: the
 *			published p= must be the public half of the private key.
 *	dmarc		the record (at _dmarc.DOMAIN, else at the organizational
 *			domain's): present, parses, its policy; then whether
 *			alignment is possible with the key table's d= and the
 *			return-path domain under adkim=/aspf=.
 *	ptr		each relay address has a PTR whose name resolves back
 *			to the address.
 *	return-path	the bounce domain ([intake] bounce_domain, as the milter
 *			expands it): its MX reaches the relay and its SPF
 *			passes for every relay address; a warning when it is
 *			not set.
 *
 *	DNS trouble (SERVFAIL, timeout) is reported as such, never as a
 *	missing record.  --json prints {"domain":..., "checks":[{"check",
 *	"status", "detail", "fix"}, ...]} instead.
 *
 * DIAGNOSTICS
 *	Exit 0 when no check fails, 1 when one does, 2 for usage or
 *	configuration errors.
 */
#include "config.h"

#include <stdio.h>

#include "ctl.h"
#include "dnsq.h"
#include "domcheck.h"
#include "jsonw.h"
#include "onboard.h"

/* print_text - one line per check, its fix beneath */
static void
print_text(const struct domcheck *dc)
{
    size_t i;

    for (i = 0; i < dc->n; i++) {
	printf("%s  %-12s %s\n", domcheck_status_name(dc->v[i].status), dc->v[i].check,
	       dc->v[i].detail);
	if (dc->v[i].fix && dc->v[i].status != DOMCHECK_PASS)
	    printf("      fix: %s\n", dc->v[i].fix);
    }
    printf("%s: %d pass, %d warn, %d fail\n", dc->domain, dc->counts[DOMCHECK_PASS],
	   dc->counts[DOMCHECK_WARN], dc->counts[DOMCHECK_FAIL]);
}

const struct ctl_usage ctl_verify_usage[] = {
    {"verify [--json] [--ip ADDR]... DOMAIN",
     "check the SPF, DKIM, DMARC, PTR and return-path records DOMAIN publishes"},
    {NULL, NULL},
};

/* cmd_verify - outpostctl verify [--json] [--ip ADDR]... DOMAIN */
int
cmd_verify(const char *conf_path, int argc, char **argv)
{
    struct onboard o;
    struct domcheck dc;
    struct dnsq *dq;
    struct jsonw w;
    int json, rc;

    if ((rc = onboard_open(&o, conf_path, argc, argv, &json)) != 0)
	return rc;
    dq = dnsq_new();
    dnsq_timeout(dq, o.conf->dns.lookup_timeout_ms);
    domcheck_run(&dc, &o, dq);
    if (json) {
	jsonw_init(&w, stdout);
	domcheck_json(&dc, &w);
    } else {
	print_text(&dc);
    }
    rc = dc.counts[DOMCHECK_FAIL] ? 1 : 0;
    domcheck_free(&dc);
    dnsq_free(dq);
    onboard_close(&o);
    return rc;
}
