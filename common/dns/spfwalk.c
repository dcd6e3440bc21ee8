/*
 * spfwalk - follow a domain's SPF record through DNS and count its cost
 * (see spfwalk.h)
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spfwalk.h"
#include "xalloc.h"

static void walk(struct spfwalk *, const char *, int, int, const char *);
static void problem(struct spfwalk *, enum spfwalk_status, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static void add_note(struct spfwalk *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* spfwalk_status_name - for messages */
const char *
spfwalk_status_name(enum spfwalk_status st)
{
    switch (st) {
    case SPFW_OK: return "ok";
    case SPFW_NONE: return "none";
    case SPFW_PERMERROR: return "permerror";
    case SPFW_TEMPERROR: return "temperror";
    }
    return "?";
}

/* problem - keep the first problem and its status */
static void
problem(struct spfwalk *w, enum spfwalk_status st, const char *fmt, ...)
{
    va_list ap;

    if (w->problem[0])
	return;
    w->status = st;
    va_start(ap, fmt);
    vsnprintf(w->problem, sizeof(w->problem), fmt, ap);
    va_end(ap);
}

/* add_note - append to the notes while they fit */
static void
add_note(struct spfwalk *w, const char *fmt, ...)
{
    size_t used = strlen(w->notes);
    va_list ap;

    if (used + 3 >= sizeof(w->notes))
	return;
    if (used) {
	strcpy(w->notes + used, "; ");
	used += 2;
    }
    va_start(ap, fmt);
    vsnprintf(w->notes + used, sizeof(w->notes) - used, fmt, ap);
    va_end(ap);
}

/* query - one DNS query, within the overall budget */
static enum dnsq_status
query(struct spfwalk *w, const char *name, int type, struct dnsq_result *res)
{
    memset(res, 0, sizeof(*res));
    if (w->queries >= SPFWALK_MAX_QUERIES) {
	problem(w, SPFW_PERMERROR, "more than %d DNS queries needed to follow the record",
		SPFWALK_MAX_QUERIES);
	return res->status = DNSQ_ERROR;
    }
    w->queries++;
    return w->lookup(w->ctx, name, type, res);
}

/* trouble - report a failed query as DNS trouble, never as "missing" */
static void
trouble(struct spfwalk *w, const char *name, int type, enum dnsq_status st)
{
    problem(w, SPFW_TEMPERROR, "DNS trouble: %s lookup for %s: %s",
	    dnsq_type_name(type), name, dnsq_status_text(st));
}

/* count - one DNS-querying term */
static void
count(struct spfwalk *w, int top)
{
    w->lookups++;
    if (top >= 0 && top < SPFREC_MAX_TERMS)
	w->cost[top]++;
}

/* void_lookup - a query that found nothing */
static void
void_lookup(struct spfwalk *w)
{
    w->voids++;
}

/* address_lookup - A and AAAA for a name; 1 found, 0 void, -1 trouble */
static int
address_lookup(struct spfwalk *w, const char *name)
{
    struct dnsq_result r4, r6;
    enum dnsq_status s4, s6;

    s4 = query(w, name, DNSQ_T_A, &r4);
    dnsq_result_free(&r4);
    s6 = query(w, name, DNSQ_T_AAAA, &r6);
    dnsq_result_free(&r6);
    if (s4 == DNSQ_OK || s6 == DNSQ_OK)
	return 1;
    if (dnsq_trouble(s4) || dnsq_trouble(s6)) {
	trouble(w, name, dnsq_trouble(s4) ? DNSQ_T_A : DNSQ_T_AAAA,
		dnsq_trouble(s4) ? s4 : s6);
	return -1;
    }
    return 0;
}

/* walk_mx - the MX query of an mx term, then its hosts' addresses */
static void
walk_mx(struct spfwalk *w, const char *target)
{
    struct dnsq_result r;
    enum dnsq_status st = query(w, target, DNSQ_T_MX, &r);
    size_t i;

    if (dnsq_missing(st))
	void_lookup(w);
    else if (dnsq_trouble(st))
	trouble(w, target, DNSQ_T_MX, st);
    else if (r.n > 10)
	problem(w, SPFW_PERMERROR, "mx:%s has %zu MX hosts (at most 10 may be looked up)",
		target, r.n);
    else
	for (i = 0; i < r.n; i++)
	    address_lookup(w, r.v[i]);
    dnsq_result_free(&r);
}

/* in_chain - is the domain already being followed (a loop)? */
static int
in_chain(const struct spfwalk *w, int depth, const char *domain)
{
    int i;

    for (i = 0; i <= depth && i <= SPFWALK_MAX_DEPTH; i++)
	if (w->chain[i] && strcasecmp(w->chain[i], domain) == 0)
	    return 1;
    return 0;
}

/* follow - an include: or redirect= target */
static void
follow(struct spfwalk *w, const struct spf_term *t, const char *via, int depth, int top)
{
    char how[300];

    snprintf(how, sizeof(how), "%s%s%s", via, t->kind == SPF_INCLUDE ? "include:" : "redirect=",
	     t->arg);
    if (t->has_macro) {
	add_note(w, "%s depends on the sender and was not followed", how);
	return;
    }
    if (in_chain(w, depth, t->arg)) {
	problem(w, SPFW_PERMERROR, "%s loops back to a record already being followed", how);
	return;
    }
    if (depth + 1 > SPFWALK_MAX_DEPTH) {
	problem(w, SPFW_PERMERROR, "%s: records nested more than %d deep", how,
		SPFWALK_MAX_DEPTH);
	return;
    }
    strncat(how, " > ", sizeof(how) - strlen(how) - 1);
    walk(w, t->arg, depth + 1, top, how);
}

/* walk_term - count and follow one term of a record */
static void
walk_term(struct spfwalk *w, const struct spf_term *t, const char *domain,
	  const char *via, int depth, int top, int has_all)
{
    const char *target = t->arg ? t->arg : domain;

    if (!spfrec_queries_dns(t->kind))
	return;
    if (t->kind == SPF_REDIRECT && has_all) {
	add_note(w, "%s%s is ignored because the record has an 'all' term", via, t->text);
	return;
    }
    count(w, top);
    switch (t->kind) {
    case SPF_INCLUDE:
    case SPF_REDIRECT:
	follow(w, t, via, depth, top);
	break;
    case SPF_A:
    case SPF_EXISTS:
	if (t->has_macro)
	    add_note(w, "%s%s depends on the sender and was not looked up", via, t->text);
	else if (address_lookup(w, target) == 0)
	    void_lookup(w);
	break;
    case SPF_MX:
	if (t->has_macro)
	    add_note(w, "%s%s depends on the sender and was not looked up", via, t->text);
	else
	    walk_mx(w, target);
	break;
    case SPF_PTR:
	add_note(w, "%s%s: ptr is slow and discouraged (RFC 7208 5.5)", via, t->text);
	break;
    default:
	break;
    }
}

/* fetch - the one SPF record of a domain; NULL with the problem set */
static char *
fetch(struct spfwalk *w, const char *domain, int depth, const char *via)
{
    struct dnsq_result r;
    enum dnsq_status st = query(w, domain, DNSQ_T_TXT, &r);
    char *rec = NULL;
    size_t i, n = 0;

    if (dnsq_trouble(st)) {
	trouble(w, domain, DNSQ_T_TXT, st);
	dnsq_result_free(&r);
	return NULL;
    }
    for (i = 0; i < r.n; i++) {
	if (spfrec_is_spf(r.v[i], strlen(r.v[i]))) {
	    if (n++ == 0)
		rec = xstrdup(r.v[i]);
	}
    }
    dnsq_result_free(&r);
    if (n > 1) {
	problem(w, SPFW_PERMERROR, "%s%s has %zu SPF records (exactly one is allowed)",
		via, domain, n);
	free(rec);
	return NULL;
    }
    if (n == 0) {
	if (depth == 0) {
	    w->status = SPFW_NONE;
	} else {
	    if (dnsq_missing(st))
		void_lookup(w);
	    problem(w, SPFW_PERMERROR, "%s: %s has no SPF record", via, domain);
	}
    }
    return rec;
}

/* walk - one record and everything it reaches */
static void
walk(struct spfwalk *w, const char *domain, int depth, int top, const char *via)
{
    struct spf_record rec;
    char *text, err[300];
    size_t i;
    int has_all = 0;

    w->chain[depth] = domain;
    if ((text = fetch(w, domain, depth, via)) == NULL)
	goto out;
    if (spfrec_parse(text, strlen(text), &rec, err, sizeof(err)) < 0) {
	problem(w, SPFW_PERMERROR, "%ssyntax error in the record of %s: %s", via,
		domain, err);
	if (depth == 0)
	    w->record = text;
	else
	    free(text);
	goto out;
    }
    for (i = 0; i < rec.n; i++)
	if (rec.v[i].kind == SPF_ALL)
	    has_all = 1;
    for (i = 0; i < rec.n; i++)
	walk_term(w, &rec.v[i], domain, via, depth, depth == 0 ? (int) i : top, has_all);
    if (depth == 0) {
	w->record = text;
	w->top = rec;
    } else {
	free(text);
	spfrec_free(&rec);
    }
out:
    w->chain[depth] = NULL;
}

/* spfwalk_run - walk a domain's SPF record and judge the limits */
void
spfwalk_run(struct spfwalk *w, const char *domain, spfwalk_lookup_fn lookup, void *ctx)
{
    char earlier[sizeof(w->problem)];

    memset(w, 0, sizeof(*w));
    w->lookup = lookup;
    w->ctx = ctx;
    w->status = SPFW_OK;
    walk(w, domain, 0, -1, "");
    if (w->lookups > SPFWALK_MAX_LOOKUPS || w->voids > SPFWALK_MAX_VOIDS) {
	/* the limits are broken whatever else went wrong: say that first */
	snprintf(earlier, sizeof(earlier), "%s", w->problem);
	w->problem[0] = '\0';
	if (w->lookups > SPFWALK_MAX_LOOKUPS && w->voids > SPFWALK_MAX_VOIDS)
	    problem(w, SPFW_PERMERROR, "%d DNS-querying terms (the limit is %d) and "
		    "%d void lookups (the limit is %d)%s%s", w->lookups,
		    SPFWALK_MAX_LOOKUPS, w->voids, SPFWALK_MAX_VOIDS,
		    earlier[0] ? "; also: " : "", earlier);
	else if (w->lookups > SPFWALK_MAX_LOOKUPS)
	    problem(w, SPFW_PERMERROR, "%d DNS-querying terms (the limit is %d)%s%s",
		    w->lookups, SPFWALK_MAX_LOOKUPS, earlier[0] ? "; also: " : "", earlier);
	else
	    problem(w, SPFW_PERMERROR, "%d void lookups (the limit is %d)%s%s",
		    w->voids, SPFWALK_MAX_VOIDS, earlier[0] ? "; also: " : "", earlier);
    }
}

/* spfwalk_free - release the record and its terms */
void
spfwalk_free(struct spfwalk *w)
{
    free(w->record);
    w->record = NULL;
    spfrec_free(&w->top);
}
