/*
 * domcheck - the checks of what a sending domain publishes (see domcheck.h)
 *
 * Every lookup goes through one dnsq(3) resolver, whose timeout the caller
 * sets: libspf2's evaluation of each relay address too, through spfdns(3).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <spf2/spf.h>

#include "dmarcrec.h"
#include "dnsfix.h"
#include "dnsq.h"
#include "domcheck.h"
#include "jsonw.h"
#include "monotime.h"
#include "onboard.h"
#include "spfdns.h"
#include "spfrec.h"
#include "spfwalk.h"
#include "taglist.h"
#include "xalloc.h"

#define V_PASS DOMCHECK_PASS
#define V_WARN DOMCHECK_WARN
#define V_FAIL DOMCHECK_FAIL

static const char *const vstatus_name[] = {"pass", "warn", "fail"};

/* one run of the checks */
struct verify {
    const struct onboard *o;
    struct dnsq *dq;
    SPF_server_t *spf;
    struct domcheck *dc;
};

static void report(struct verify *, const char *, int, char *,
		   const char *, ...) __attribute__((format(printf, 5, 6)));

/* report - one check's verdict; fix (allocated, may be NULL) is taken over */
static void
report(struct verify *vf, const char *check, int st, char *fix,
       const char *fmt, ...)
{
    struct domcheck_item *c;
    char detail[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    vf->dc->v = xreallocarray(vf->dc->v, vf->dc->n + 1, sizeof(*vf->dc->v));
    c = &vf->dc->v[vf->dc->n++];
    c->check = check;
    c->status = st;
    c->detail = xstrdup(detail);
    c->fix = fix;
    vf->dc->counts[st]++;
}

/* text - an allocated copy of formatted text, for fixes that are advice */
static char *text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
text(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return xstrdup(buf);
}

/* the DNS time one walk of an SPF record may wait: as for the evaluations */
struct walkdns {
    struct dnsq *dq;
    long long spent_ms, budget_ms;
    int cut;			/* lookups refused since the budget was spent */
};

/* lookup - spfwalk's view of dnsq: a timeout once the walk's budget is spent */
static enum dnsq_status
lookup(void *ctx, const char *name, int type, struct dnsq_result *res)
{
    struct walkdns *wd = ctx;
    enum dnsq_status st;
    long long start;

    if (wd->budget_ms > 0 && wd->spent_ms >= wd->budget_ms) {
	memset(res, 0, sizeof(*res));
	wd->cut++;
	return res->status = DNSQ_TIMEOUT;
    }
    start = monotime_ms();
    st = dnsq_lookup(wd->dq, name, type, res);
    wd->spent_ms += monotime_ms() - start;
    return st;
}


/* ---------------------------------------------------------------- spf */

/* relay_terms - the terms that authorise the relay */
static void
relay_terms(const struct onboard *o, struct conf_strlist *out)
{
    char t[INET6_ADDRSTRLEN + 300];
    size_t i;

    if (o->spf_include) {
	snprintf(t, sizeof(t), "include:%s", o->spf_include);
	conf_strlist_add(out, t, strlen(t));
	return;
    }
    for (i = 0; i < o->ips.n; i++) {
	snprintf(t, sizeof(t), "%s:%s", strchr(o->ips.v[i], ':') ? "ip6" : "ip4", o->ips.v[i]);
	conf_strlist_add(out, t, strlen(t));
    }
}

/* append - grow a record by one term */
static void
append(char **rec, size_t *len, const char *term)
{
    size_t n = strlen(term);

    *rec = xreallocarray(*rec, *len + n + 2, 1);
    (*rec)[(*len)++] = ' ';
    memcpy(*rec + *len, term, n + 1);
    *len += n;
}

/*
 * spf_fixed_record - the published record with its invalid terms dropped
 * and the relay's terms added before "all" or "redirect="
 */
static char *
spf_fixed_record(const struct onboard *o, const char *published, const char *all)
{
    struct conf_strlist terms = {0}, relay = {0};
    struct spf_record one;
    char *rec = xstrdup("v=spf1"), *copy, *t, *save = NULL, err[300], buf[SPFREC_MAX_LEN + 8];
    size_t len = 6, i, j, at;
    int ended = 0;

    relay_terms(o, &relay);
    if (published && strlen(published) <= SPFREC_MAX_LEN) {
	copy = xstrdup(published + 6);
	for (t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
	    snprintf(buf, sizeof(buf), "v=spf1 %s", t);
	    if (spfrec_parse(buf, strlen(buf), &one, err, sizeof(err)) == 0) {
		conf_strlist_add(&terms, t, strlen(t));
		spfrec_free(&one);
	    }
	}
	free(copy);
    }
    /* where the relay's terms go: before the first all or redirect= */
    for (at = 0; at < terms.n; at++) {
	const char *s = terms.v[at] + strspn(terms.v[at], "+-~?");

	if (strcasecmp(s, "all") == 0 || strncasecmp(s, "redirect=", 9) == 0) {
	    ended = 1;
	    break;
	}
    }
    for (i = 0; i < at; i++)
	append(&rec, &len, terms.v[i]);
    for (i = 0; i < relay.n; i++) {
	for (j = 0; j < terms.n; j++)
	    if (strcasecmp(terms.v[j], relay.v[i]) == 0
		|| (terms.v[j][0] == '+' && strcasecmp(terms.v[j] + 1, relay.v[i]) == 0))
		break;
	if (j == terms.n)
	    append(&rec, &len, relay.v[i]);
    }
    for (i = at; i < terms.n; i++)
	append(&rec, &len, terms.v[i]);
    if (!ended)
	append(&rec, &len, all);
    conf_strlist_free(&terms);
    conf_strlist_free(&relay);
    return rec;
}

/* spf_zone_fix - a fix as a zone-file line */
static char *
spf_zone_fix(const struct onboard *o, const char *domain, const char *published,
	     const char *all)
{
    char *rec = spf_fixed_record(o, published, all);
    char *line = onboard_zone_line(domain, o->ttl, "TXT", rec);

    free(rec);
    return line;
}

/* spf_cost_hint - which top-level terms cost the most lookups */
static char *
spf_cost_hint(const struct spfwalk *w)
{
    char buf[900] = "";
    size_t i, best = 0;
    int found = 0;

    for (i = 0; i < w->top.n && i < SPFREC_MAX_TERMS; i++)
	if (w->cost[i] > w->cost[best])
	    best = i;
    for (i = 0; i < w->top.n && i < SPFREC_MAX_TERMS; i++) {
	if (w->cost[i] < 2)
	    continue;
	snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s costs %d",
		 found++ ? ", " : "", w->top.v[i].text, w->cost[i]);
    }
    if (!found)
	return text("bring the DNS-querying terms (include, a, mx, ptr, exists, "
		    "redirect) down to 10 and void lookups to 2");
    return text("bring the lookups down to 10: %s; replace '%s' by the ip4:/ip6: "
		"ranges it stands for, or drop senders you no longer use",
		buf, w->top.v[best].text);
}

/* spf_eval - libspf2's verdict for one address as sender of domain */
static SPF_result_t
spf_eval(struct verify *vf, const char *ip, const char *domain)
{
    SPF_request_t *req = SPF_request_new(vf->spf);
    SPF_response_t *resp = NULL;
    SPF_result_t r = SPF_RESULT_INVALID;
    char sender[DOMAIN_MAX + 16];

    snprintf(sender, sizeof(sender), "postmaster@%s", domain);
    if ((strchr(ip, ':') ? SPF_request_set_ipv6_str(req, ip)
	 : SPF_request_set_ipv4_str(req, ip)) == SPF_E_SUCCESS
	&& SPF_request_set_env_from(req, sender) == 0) {
	SPF_request_query_mailfrom(req, &resp);
	if (resp)
	    r = SPF_response_result(resp);
    }
    if (resp)
	SPF_response_free(resp);
    SPF_request_free(req);
    return r;
}

/* verify_spf_ips - every relay address must pass */
static void
verify_spf_ips(struct verify *vf, const char *check, const char *domain,
	       const struct spfwalk *w, const char *all)
{
    const struct onboard *o = vf->o;
    SPF_result_t r;
    size_t i;

    for (i = 0; i < o->ips.n; i++) {
	if (strncmp(o->ips.v[i], "127.", 4) == 0 || strcmp(o->ips.v[i], "::1") == 0) {
	    /* libspf2 answers pass for loopback senders without looking */
	    report(vf, check, V_WARN, NULL, "%s: %s is a loopback address: not evaluated",
		   domain, o->ips.v[i]);
	    continue;
	}
	r = spf_eval(vf, o->ips.v[i], domain);
	if (r == SPF_RESULT_PASS)
	    report(vf, check, V_PASS, NULL, "%s: %s may send (SPF pass)", domain, o->ips.v[i]);
	else if (r == SPF_RESULT_TEMPERROR)
	    report(vf, check, V_FAIL, dnsfix_trouble(domain),
		   "%s: %s: DNS trouble while evaluating SPF (temperror)", domain, o->ips.v[i]);
	else
	    report(vf, check, V_FAIL, spf_zone_fix(o, domain, w->record, all),
		   "%s: %s is not authorised: SPF %s", domain, o->ips.v[i],
		   SPF_strresult(r));
    }
}

/* verify_spf - syntax and limits of a domain's record, then each address */
static void
verify_spf(struct verify *vf, const char *check, const char *domain, const char *all)
{
    const struct onboard *o = vf->o;
    struct walkdns wd = {vf->dq, 0, SPFDNS_BUDGET_LOOKUPS * dnsq_timeout_ms(vf->dq), 0};
    struct spfwalk w;

    spfwalk_run(&w, domain, lookup, &wd);
    switch (w.status) {
    case SPFW_NONE:
	report(vf, check, V_FAIL, spf_zone_fix(o, domain, NULL, all),
	       "%s: no SPF record", domain);
	goto out;
    case SPFW_TEMPERROR:
	if (wd.cut)
	    report(vf, check, V_FAIL, dnsfix_trouble(domain), "%s: %s (the walk stopped "
		   "there: its lookups had waited as long as %d timeouts)", domain,
		   w.problem, SPFDNS_BUDGET_LOOKUPS);
	else
	    report(vf, check, V_FAIL, dnsfix_trouble(domain), "%s: %s", domain, w.problem);
	goto out;
    case SPFW_PERMERROR:
	report(vf, check, V_FAIL,
	       w.lookups > SPFWALK_MAX_LOOKUPS || w.voids > SPFWALK_MAX_VOIDS
	       ? spf_cost_hint(&w) : spf_zone_fix(o, domain, w.record, all),
	       "%s: %s (receivers answer permerror)", domain, w.problem);
	break;
    case SPFW_OK:
	report(vf, check, w.notes[0] ? V_WARN : V_PASS, NULL,
	       "%s: \"%s\": %d of 10 DNS-querying terms, %d of 2 void lookups%s%s",
	       domain, w.record, w.lookups, w.voids, w.notes[0] ? "; " : "", w.notes);
	break;
    }
    if (o->ips.n == 0)
	report(vf, check, V_WARN, NULL, "%s: no relay addresses to evaluate "
	       "(set [pool NAME] addresses or give --ip)", domain);
    verify_spf_ips(vf, check, domain, &w, all);
out:
    spfwalk_free(&w);
}

/* ---------------------------------------------------------------- dkim */

/* strip_ws - the value without white space (DKIM allows FWS in p=) */
static char *
strip_ws(const char *s)
{
    char *out = xmalloc(strlen(s) + 1), *p = out;

    for (; *s; s++)
	if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
	    *p++ = *s;
    *p = '\0';
    return out;
}

/* domcheck_dkim_record - judge one published key record against the table's key */
int
domcheck_dkim_record(const struct keyentry *e, const char *name, const char *txt,
		     char *why, size_t whylen)
{
    struct taglist tl;
    const char *v, *k;
    char err[300], *b64 = NULL, *p = NULL;
    int st = DOMCHECK_FAIL;

    if (taglist_parse(txt, strlen(txt), &tl, err, sizeof(err)) < 0) {
	snprintf(why, whylen, "%s: syntax error: %s", name, err);
	return DOMCHECK_FAIL;
    }
    k = taglist_get(&tl, "k");
    if ((v = taglist_get(&tl, "v")) != NULL && (strcmp(v, "DKIM1") != 0 || strcmp(tl.name[0], "v") != 0))
	snprintf(why, whylen, "%s: v= must be DKIM1 and come first", name);
    else if ((v = taglist_get(&tl, "p")) == NULL)
	snprintf(why, whylen, "%s: no p= (public key) tag", name);
    else if (*v == '\0')
	snprintf(why, whylen, "%s: the key is revoked (empty p=)", name);
    else if (strcmp(k ? k : "rsa", dkim_alg_name(e->alg)) != 0)
	snprintf(why, whylen, "%s: k=%s but the key in %s is %s", name,
		 k ? k : "rsa (default)", e->keyfile, dkim_alg_name(e->alg));
    else if (keyentry_public_b64(e, &b64, err, sizeof(err)) < 0)
	snprintf(why, whylen, "%s: %s", name, err);
    else if (strcmp((p = strip_ws(v)), b64) != 0)
	snprintf(why, whylen, "%s: key mismatch: the published p= is not "
		 "the public half of the private key %s", name, e->keyfile);
    else if ((v = taglist_get(&tl, "h")) != NULL && strstr(v, "sha256") == NULL)
	snprintf(why, whylen, "%s: h=%s excludes sha256, the hash Outpost "
		 "signs with", name, v);	/* before t=y: no signature verifies */
    else if ((v = taglist_get(&tl, "t")) != NULL && strchr(v, 'y')) {
	snprintf(why, whylen, "%s: key matches %s but t=y (testing): "
		 "receivers treat signed mail as unsigned", name, e->keyfile);
	st = DOMCHECK_WARN;
    }
    else {
	snprintf(why, whylen, "%s: published key matches %s (%s)", name,
		 e->keyfile, dkim_alg_name(e->alg));
	st = DOMCHECK_PASS;
    }
    free(b64);
    free(p);
    taglist_free(&tl);
    return st;
}

/* dkim_judge - report one published key record against the table's key */
static void
dkim_judge(struct verify *vf, const struct keyentry *e, const char *name,
	   const char *txt, char *fix)
{
    char why[1024];
    int st = domcheck_dkim_record(e, name, txt, why, sizeof(why));

    if (st == DOMCHECK_PASS) {
	report(vf, "dkim", V_PASS, NULL, "%s", why);
	free(fix);
    } else {
	report(vf, "dkim", st, fix, "%s", why);
    }
}

/* verify_dkim_key - one selector */
static void
verify_dkim_key(struct verify *vf, const struct keyentry *e)
{
    const struct onboard *o = vf->o;
    struct dnsq_result r;
    enum dnsq_status st;
    char name[DOMAIN_MAX + 80], err[300], *rec, *fix;

    onboard_dkim_name(o, e, name, sizeof(name));
    if (keyentry_dns_record(e, &rec, err, sizeof(err)) < 0) {
	report(vf, "dkim", V_FAIL, NULL, "%s: %s", name, err);
	return;
    }
    fix = onboard_zone_line(name, o->ttl, "TXT", rec);
    free(rec);
    st = dnsq_lookup(vf->dq, name, DNSQ_T_TXT, &r);
    if (dnsq_trouble(st)) {
	report(vf, "dkim", V_FAIL, dnsfix_trouble(name), "%s: DNS trouble: %s", name,
	       dnsq_status_text(st));
	free(fix);
    } else if (dnsq_missing(st)) {
	report(vf, "dkim", V_FAIL, fix, "%s: no key record (%s)", name, dnsq_status_text(st));
    } else if (r.n > 1) {
	report(vf, "dkim", V_FAIL, fix, "%s: %zu TXT records; receivers may use any "
	       "of them, publish only one", name, r.n);
    } else {
	dkim_judge(vf, e, name, r.v[0], fix);
    }
    dnsq_result_free(&r);
}

/* verify_dkim - every key the table holds for the domain */
static void
verify_dkim(struct verify *vf)
{
    const struct onboard *o = vf->o;
    size_t i;

    if (o->kt == NULL) {
	report(vf, "dkim", V_FAIL, NULL, "%s", o->kt_err);
	return;
    }
    if (o->nkeys == 0) {
	report(vf, "dkim", V_FAIL, text("add a line \"%s SELECTOR rsa KEYFILE\" to %s",
					 o->domain, o->kt->path),
	       "%s: no DKIM key in the key table %s", o->domain, o->kt->path);
	return;
    }
    for (i = 0; i < o->nkeys; i++)
	verify_dkim_key(vf, o->keys[i]);
}

/* ---------------------------------------------------------------- dmarc */

/* dmarc_fetch - the one DMARC record at _dmarc.NAME; 1 found, 0 none, -1 reported */
static int
dmarc_fetch(struct verify *vf, const char *domain, char **rec)
{
    struct dnsq_result r;
    enum dnsq_status st;
    char name[DOMAIN_MAX + 16];
    size_t i, n = 0;

    *rec = NULL;
    snprintf(name, sizeof(name), "_dmarc.%s", domain);
    st = dnsq_lookup(vf->dq, name, DNSQ_T_TXT, &r);
    if (dnsq_trouble(st)) {
	report(vf, "dmarc", V_FAIL, dnsfix_trouble(name), "%s: DNS trouble: %s", name,
	       dnsq_status_text(st));
	dnsq_result_free(&r);
	return -1;
    }
    for (i = 0; i < r.n; i++)
	if (dmarcrec_is_dmarc(r.v[i], strlen(r.v[i])) && n++ == 0)
	    *rec = xstrdup(r.v[i]);
    dnsq_result_free(&r);
    if (n > 1) {
	report(vf, "dmarc", V_FAIL, onboard_zone_line(name, vf->o->ttl, "TXT", *rec),
	       "%s: %zu DMARC records; receivers ignore them all, keep one", name, n);
	free(*rec);
	*rec = NULL;
	return -1;
    }
    return n;
}

/* dmarc_with_relaxed - the published record with adkim/aspf relaxed */
static char *
dmarc_with_relaxed(const char *rec)
{
    struct taglist tl;
    char err[200], *out = NULL;
    size_t len = 0, i, n;

    if (taglist_parse(rec, strlen(rec), &tl, err, sizeof(err)) < 0)
	return NULL;
    for (i = 0; i < tl.n; i++) {
	const char *v = strcmp(tl.name[i], "adkim") == 0 || strcmp(tl.name[i], "aspf") == 0
	    ? "r" : tl.value[i];

	n = strlen(tl.name[i]) + strlen(v) + 3;
	out = xreallocarray(out, len + n + 1, 1);
	len += (size_t) snprintf(out + len, n + 1, "%s%s=%s", i ? "; " : "", tl.name[i], v);
    }
    taglist_free(&tl);
    return out;
}

/* verify_alignment - can mail from this relay pass DMARC? */
static void
verify_alignment(struct verify *vf, const struct dmarc_record *d, const char *rec,
		 const char *where)
{
    const struct onboard *o = vf->o;
    const char *dkim_d = NULL, *dkim_any = NULL;
    int spf_ok, relaxed_dkim = 0, relaxed_spf;
    char *relaxed, *fix;
    size_t i;

    for (i = 0; i < o->nkeys; i++) {
	const char *dd = onboard_dkim_domain(o, o->keys[i]);

	dkim_any = dd;
	if (dmarc_aligned(o->domain, dd, d->adkim)) {
	    dkim_d = dd;
	    break;
	}
	if (dmarc_aligned(o->domain, dd, 'r'))
	    relaxed_dkim = 1;
    }
    spf_ok = dmarc_aligned(o->domain, o->return_path, d->aspf);
    relaxed_spf = dmarc_aligned(o->domain, o->return_path, 'r');
    if (dkim_d && spf_ok) {
	report(vf, "dmarc", V_PASS, NULL, "%s: alignment possible through DKIM d=%s "
	       "(adkim=%c) and SPF return-path %s (aspf=%c)", o->domain, dkim_d,
	       d->adkim, o->return_path, d->aspf);
    } else if (dkim_d) {
	report(vf, "dmarc", V_PASS, NULL, "%s: alignment possible through DKIM d=%s "
	       "(adkim=%c); the return-path %s does not align (aspf=%c)", o->domain,
	       dkim_d, d->adkim, o->return_path, d->aspf);
    } else if (spf_ok) {
	report(vf, "dmarc", V_WARN, dkim_any ? NULL :
	       text("add a DKIM key for %s to the key table", o->domain),
	       "%s: alignment only through SPF (return-path %s, aspf=%c): "
	       "forwarded mail will fail DMARC; %s", o->domain, o->return_path,
	       d->aspf, dkim_any ? "the DKIM d= does not align" : "no DKIM key");
    } else {
	if ((relaxed_dkim || relaxed_spf) && (relaxed = dmarc_with_relaxed(rec)) != NULL) {
	    fix = onboard_zone_line(where, o->ttl, "TXT", relaxed);
	    free(relaxed);
	} else if (dkim_any) {
	    fix = text("sign %s mail with d=%s: drop the d=%s of its key table line "
		       "(or set [intake] bounce_domain = bounces.%%d)", o->domain, o->domain,
		       dkim_any);
	} else {
	    fix = text("add a DKIM key for %s to the key table, and set [intake] "
		       "bounce_domain = bounces.%%d", o->domain);
	}
	report(vf, "dmarc", V_FAIL, fix, "%s: no alignment possible: DKIM %s%s%s "
	       "(adkim=%c), return-path %s (aspf=%c); mail from this relay fails DMARC",
	       o->domain, dkim_any ? "d=" : "", dkim_any ? dkim_any : "has no key",
	       dkim_any ? " does not align" : "", d->adkim, o->return_path, d->aspf);
    }
}

/* verify_dmarc - the record, its policy, and alignment */
static void
verify_dmarc(struct verify *vf)
{
    const struct onboard *o = vf->o;
    struct dmarc_record d;
    char org[DOMAIN_MAX], where[DOMAIN_MAX + 16], err[300], *rec = NULL, *starter;
    const char *from = o->domain;
    enum dmarc_policy policy;
    int got;

    snprintf(where, sizeof(where), "_dmarc.%s", o->domain);
    starter = onboard_dmarc_record(o);
    if ((got = dmarc_fetch(vf, o->domain, &rec)) < 0)
	goto out;
    if (got == 0 && dmarc_org_domain(o->domain, org, sizeof(org)) == 0
	&& strcmp(org, o->domain) != 0) {
	if ((got = dmarc_fetch(vf, org, &rec)) < 0)
	    goto out;
	from = org;
    }
    if (got == 0) {
	report(vf, "dmarc", V_FAIL, onboard_zone_line(where, o->ttl, "TXT", starter),
	       "%s: no DMARC record", where);
	goto out;
    }
    snprintf(where, sizeof(where), "_dmarc.%s", from);
    if (dmarcrec_parse(rec, strlen(rec), &d, err, sizeof(err)) < 0) {
	report(vf, "dmarc", V_FAIL, onboard_zone_line(where, o->ttl, "TXT", starter),
	       "%s: receivers discard the record: %s", where, err);
	goto out;
    }
    policy = from != o->domain && d.sp != DMARC_P_UNSET ? d.sp : d.p;
    if (d.note[0] || d.rua[0] == '\0' || d.pct < 100)
	report(vf, "dmarc", V_WARN, NULL, "%s: policy %s%s for %s; %s", where,
	       dmarc_policy_name(policy), from != o->domain ? " (inherited)" : "", o->domain,
	       d.note[0] ? d.note : d.rua[0] == '\0' ? "no rua=: no aggregate reports will come"
	       : "pct below 100: the policy covers only part of the mail");
    else
	report(vf, "dmarc", V_PASS, NULL, "%s: policy %s%s for %s, reports to %s%s", where,
	       dmarc_policy_name(policy), from != o->domain ? " (inherited)" : "",
	       o->domain, d.rua, policy == DMARC_P_NONE ? " (monitoring only)" : "");
    verify_alignment(vf, &d, rec, where);
out:
    free(rec);
    free(starter);
}

/* ---------------------------------------------------------------- ptr */

/* ptr_forward - does name resolve to ip? 1 yes, 0 no, -1 DNS trouble */
static int
ptr_forward(struct verify *vf, const char *name, const char *ip, char *seen, size_t seenlen)
{
    struct dnsq_result r;
    enum dnsq_status st;
    size_t i;
    int hit = 0;

    st = dnsq_lookup(vf->dq, name, strchr(ip, ':') ? DNSQ_T_AAAA : DNSQ_T_A, &r);
    if (dnsq_trouble(st)) {
	snprintf(seen, seenlen, "%s", dnsq_status_text(st));
	dnsq_result_free(&r);
	return -1;
    }
    seen[0] = '\0';
    for (i = 0; i < r.n; i++) {
	if (strcmp(r.v[i], ip) == 0)
	    hit = 1;
	snprintf(seen + strlen(seen), seenlen - strlen(seen), "%s%s", i ? " " : "", r.v[i]);
    }
    if (r.n == 0)
	snprintf(seen, seenlen, "nothing (%s)", dnsq_status_text(st));
    dnsq_result_free(&r);
    return hit;
}

/* verify_ptr_one - ip -> PTR name -> ip */
static void
verify_ptr_one(struct verify *vf, const char *ip)
{
    const struct onboard *o = vf->o;
    struct dnsq_result r;
    enum dnsq_status st;
    char rev[80], seen[512], more[512], why[512], fixval[DOMAIN_MAX + 4];
    const char *host = o->relay_host, *trouble = NULL;
    size_t i;
    int fwd = 0;

    if (dnsq_reverse_name(ip, rev, sizeof(rev)) < 0)
	return;
    snprintf(fixval, sizeof(fixval), "%s.", host ? host : "RELAY-HOSTNAME");
    st = dnsq_lookup(vf->dq, rev, DNSQ_T_PTR, &r);
    if (dnsq_trouble(st)) {
	report(vf, "ptr", V_FAIL, dnsfix_trouble(rev), "%s: DNS trouble: %s", ip, dnsq_status_text(st));
    } else if (dnsq_missing(st)) {
	report(vf, "ptr", V_FAIL, onboard_zone_line(rev, o->ttl, "PTR", fixval),
	       "%s: no PTR record (%s)", ip, dnsq_status_text(st));
    } else {
	/* what the first name resolves to is what a mismatch shows */
	for (i = 0; i < r.n && fwd <= 0; i++) {
	    fwd = ptr_forward(vf, r.v[i], ip, i ? more : seen, sizeof(seen));
	    if (fwd < 0 && trouble == NULL) {
		trouble = r.v[i];
		snprintf(why, sizeof(why), "%s", i ? more : seen);
	    }
	}
	if (fwd > 0 && r.n > 1)
	    report(vf, "ptr", V_WARN, NULL, "%s: %zu PTR records; receivers may pick any",
		   ip, r.n);
	else if (fwd > 0)
	    report(vf, "ptr", V_PASS, NULL, "%s -> %s -> %s%s", ip, r.v[i - 1], ip,
		   host && strcasecmp(r.v[i - 1], host) != 0 ? " (not [dns] relay_hostname)" : "");
	else if (trouble)
	    report(vf, "ptr", V_FAIL, dnsfix_trouble(trouble), "%s: PTR %s, DNS trouble "
		   "resolving it back: %s", ip, trouble, why);
	else
	    report(vf, "ptr", V_FAIL, onboard_zone_line(r.v[0], o->ttl,
			strchr(ip, ':') ? "AAAA" : "A", ip),
		   "%s: PTR mismatch: the PTR name %s resolves to %s, not to %s",
		   ip, r.v[0], seen, ip);
    }
    dnsq_result_free(&r);
}

/* verify_ptr - every relay address */
static void
verify_ptr(struct verify *vf)
{
    size_t i;

    for (i = 0; i < vf->o->ips.n; i++)
	verify_ptr_one(vf, vf->o->ips.v[i]);
}

/* ---------------------------------------------------------------- return-path */

/*
 * mx_reaches_relay - is an MX host the relay, by name or by address?  1 yes,
 * 0 no, -1 DNS trouble (its status in *trouble)
 */
static int
mx_reaches_relay(struct verify *vf, const char *host, enum dnsq_status *trouble)
{
    struct dnsq_result r;
    enum dnsq_status st;
    size_t i, j;
    int type, hit = 0, bad = 0;

    if (vf->o->relay_host && strcasecmp(host, vf->o->relay_host) == 0)
	return 1;
    if (strcmp(host, ".") == 0)
	return 0;			/* a null MX (RFC 7505): no host to ask */
    for (type = DNSQ_T_A; type != 0 && !hit; type = type == DNSQ_T_A ? DNSQ_T_AAAA : 0) {
	st = dnsq_lookup(vf->dq, host, type, &r);
	if (dnsq_trouble(st) && !bad) {
	    *trouble = st;
	    bad = 1;
	}
	for (i = 0; i < r.n; i++)
	    for (j = 0; j < vf->o->ips.n; j++)
		if (strcmp(r.v[i], vf->o->ips.v[j]) == 0)
		    hit = 1;
	dnsq_result_free(&r);
    }
    return hit ? 1 : bad ? -1 : 0;
}

/* verify_return_path - MX at the relay, SPF passing */
static void
verify_return_path(struct verify *vf)
{
    const struct onboard *o = vf->o;
    struct dnsq_result r;
    enum dnsq_status st, why = DNSQ_OK;
    char mxval[DOMAIN_MAX + 8];
    const char *unresolved = NULL;
    size_t i;
    int reach = 0;

    if (o->no_bounce_domain) {
	report(vf, "return-path", V_WARN,
	       text("set [intake] bounce_domain (such as bounces.%%d) and secret_file"),
	       "%s: [intake] bounce_domain is not set: mail keeps the platform's envelope "
	       "sender, and bounces do not come back to the relay", o->domain);
	return;
    }
    snprintf(mxval, sizeof(mxval), "10 %s.", o->relay_host ? o->relay_host : "RELAY-HOSTNAME");
    st = dnsq_lookup(vf->dq, o->return_path, DNSQ_T_MX, &r);
    if (dnsq_trouble(st)) {
	report(vf, "return-path", V_FAIL, dnsfix_trouble(o->return_path), "%s: DNS trouble: %s",
	       o->return_path, dnsq_status_text(st));
    } else if (dnsq_missing(st)) {
	report(vf, "return-path", V_FAIL,
	       onboard_zone_line(o->return_path, o->ttl, "MX", mxval),
	       "%s: no MX record (%s): bounces cannot reach the relay", o->return_path,
	       dnsq_status_text(st));
    } else {
	for (i = 0; i < r.n; i++) {
	    if ((reach = mx_reaches_relay(vf, r.v[i], &st)) > 0)
		break;
	    if (reach < 0 && unresolved == NULL) {
		unresolved = r.v[i];
		why = st;
	    }
	}
	if (i < r.n)
	    report(vf, "return-path", V_PASS, NULL, "%s: MX %s reaches the relay",
		   o->return_path, r.v[i]);
	else if (unresolved)
	    /* its addresses are unknown: it may be the relay */
	    report(vf, "return-path", V_FAIL, dnsfix_trouble(unresolved),
		   "%s: MX %s: DNS trouble resolving it: %s", o->return_path, unresolved,
		   dnsq_status_text(why));
	else
	    report(vf, "return-path", V_FAIL,
		   onboard_zone_line(o->return_path, o->ttl, "MX", mxval),
		   "%s: MX %s%s does not reach the relay (%s)", o->return_path,
		   strcmp(r.v[0], ".") != 0 ? r.v[0] : ". (null MX)", r.n > 1 ? " ..." : "",
		   o->relay_host ? o->relay_host : "no [dns] relay_hostname, no relay address");
    }
    dnsq_result_free(&r);
    verify_spf(vf, "return-path", o->return_path, "-all");
}

/* ---------------------------------------------------------------- interface */

/* domcheck_run - every check of the domain, in the order outpostctl verify prints */
void
domcheck_run(struct domcheck *dc, const struct onboard *o, struct dnsq *dq)
{
    struct verify vf;
    struct spfdns *sd;

    memset(dc, 0, sizeof(*dc));
    snprintf(dc->domain, sizeof(dc->domain), "%s", o->domain);
    vf.o = o;
    vf.dq = dq;
    vf.dc = dc;
    sd = spfdns_new_dnsq(dq);
    vf.spf = spfdns_server(sd);
    verify_spf(&vf, "spf", o->domain, "~all");
    verify_dkim(&vf);
    verify_dmarc(&vf);
    verify_ptr(&vf);
    verify_return_path(&vf);
    spfdns_free(sd);
}

/* domcheck_status_name - "pass", "warn" or "fail" */
const char *
domcheck_status_name(int status)
{
    return vstatus_name[status];
}

/* domcheck_json - {"domain":..., "checks":[...], "pass":N, "warn":N, "fail":N} */
void
domcheck_json(const struct domcheck *dc, struct jsonw *w)
{
    size_t i;

    jsonw_object(w, NULL);
    jsonw_string(w, "domain", dc->domain);
    jsonw_array(w, "checks");
    for (i = 0; i < dc->n; i++) {
	jsonw_object(w, NULL);
	jsonw_string(w, "check", dc->v[i].check);
	jsonw_string(w, "status", vstatus_name[dc->v[i].status]);
	jsonw_string(w, "detail", dc->v[i].detail);
	jsonw_string(w, "fix", dc->v[i].status != V_PASS ? dc->v[i].fix : NULL);
	jsonw_end(w);
    }
    jsonw_end(w);
    jsonw_int(w, "pass", dc->counts[V_PASS]);
    jsonw_int(w, "warn", dc->counts[V_WARN]);
    jsonw_int(w, "fail", dc->counts[V_FAIL]);
    jsonw_end(w);
}

/* domcheck_free - release the verdicts */
void
domcheck_free(struct domcheck *dc)
{
    size_t i;

    for (i = 0; i < dc->n; i++) {
	free(dc->v[i].detail);
	free(dc->v[i].fix);
    }
    free(dc->v);
    dc->v = NULL;
    dc->n = 0;
}
