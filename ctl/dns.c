/*
 * dns - outpostctl dns: the DNS records a sending domain publishes for this relay
 *
 * SYNOPSIS
 *	outpostctl dns [--json] [--ip ADDR]... DOMAIN
 *
 * DESCRIPTION
 *	Prints, as zone-file lines (or one JSON object with --json):
 *	the domain's SPF record authorising the relay (its pool addresses,
 *	or include: of [dns] spf_include), one DKIM TXT record per key the
 *	key table holds for the domain, a starter DMARC record (p=none with
 *	a report address), the return-path domain's MX (the relay) and SPF,
 *	that domain being [intake] bounce_domain as the milter expands it,
 *	and the PTR records of the relay addresses.  --ip replaces the
 *	addresses of the [pool NAME] sections.
 *
 * DIAGNOSTICS
 *	Exit 0 when every record could be printed, 1 when something is
 *	missing from the configuration (named in a comment or "notes"), 2 for
 *	usage errors.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "dnsq.h"
#include "jsonw.h"
#include "onboard.h"
#include "xalloc.h"

struct record {
    const char *purpose;	/* spf, dkim, dmarc, return-path, ptr */
    char *name;
    const char *type;
    char *value;
    char *comment;
};

struct records {
    struct record *v;
    size_t n;
    struct conf_strlist notes;	/* what could not be printed */
};

/* add - one record to publish */
static void
add(struct records *rs, const char *purpose, const char *name, const char *type,
    char *value, const char *comment)
{
    struct record *r;

    rs->v = xreallocarray(rs->v, rs->n + 1, sizeof(*rs->v));
    r = &rs->v[rs->n++];
    r->purpose = purpose;
    r->name = xstrdup(name);
    r->type = type;
    r->value = value;
    r->comment = comment ? xstrdup(comment) : NULL;
}

/* note - something the configuration lacks */
static void
note(struct records *rs, const char *text)
{
    conf_strlist_add(&rs->notes, text, strlen(text));
}

/* build_dkim - a TXT record per key of the domain */
static void
build_dkim(const struct onboard *o, struct records *rs)
{
    char name[DOMAIN_MAX + 80], err[600], comment[700];
    char *txt;
    size_t i;

    if (o->kt == NULL) {
	note(rs, o->kt_err);
	return;
    }
    if (o->nkeys == 0) {
	snprintf(err, sizeof(err), "no DKIM key for %s in %s: add one", o->domain,
		 o->kt->path);
	note(rs, err);
	return;
    }
    for (i = 0; i < o->nkeys; i++) {
	if (keyentry_dns_record(o->keys[i], &txt, err, sizeof(err)) < 0) {
	    note(rs, err);
	    continue;
	}
	onboard_dkim_name(o, o->keys[i], name, sizeof(name));
	snprintf(comment, sizeof(comment), "DKIM selector %s (%s, key %s)",
		 o->keys[i]->selector, dkim_alg_name(o->keys[i]->alg), o->keys[i]->keyfile);
	add(rs, "dkim", name, "TXT", txt, comment);
    }
}

/* build_return_path - MX at the relay, SPF for the relay */
static void
build_return_path(const struct onboard *o, struct records *rs)
{
    char *mx;
    size_t len;

    if (o->no_bounce_domain) {
	note(rs, "[intake] bounce_domain is not set: mail keeps the envelope sender the "
	     "platform gives it, and bounces do not come back to the relay; set it "
	     "(such as bounces.%d) to have a return-path domain to publish");
	return;
    }
    if (strcmp(o->return_path, o->domain) == 0) {
	note(rs, "the return-path domain is the domain itself: no MX is suggested, "
	     "it would take the domain's own mail");
    } else if (o->relay_host == NULL) {
	note(rs, "[dns] relay_hostname is not set: cannot name the return-path MX");
    } else {
	len = strlen(o->relay_host) + 8;
	mx = xmalloc(len);
	snprintf(mx, len, "10 %s.", o->relay_host);
	add(rs, "return-path", o->return_path, "MX", mx,
	    "return-path (bounce) domain: bounces and reports come back to the relay");
    }
    if (strcmp(o->return_path, o->domain) != 0)
	add(rs, "return-path", o->return_path, "TXT", onboard_spf_record(o, "-all"),
	    "SPF of the return-path domain (the envelope sender SPF checks)");
}

/* build_ptr - reverse DNS of the relay addresses */
static void
build_ptr(const struct onboard *o, struct records *rs)
{
    char rev[80];
    char *value;
    size_t i, len;

    if (o->relay_host == NULL) {
	if (o->ips.n)
	    note(rs, "[dns] relay_hostname is not set: cannot suggest PTR records");
	return;
    }
    for (i = 0; i < o->ips.n; i++) {
	if (dnsq_reverse_name(o->ips.v[i], rev, sizeof(rev)) < 0)
	    continue;
	len = strlen(o->relay_host) + 2;
	value = xmalloc(len);
	snprintf(value, len, "%s.", o->relay_host);
	add(rs, "ptr", rev, "PTR", value,
	    i == 0 ? "reverse DNS of the relay addresses (set by whoever holds the "
	    "address block); the name must resolve back to the address" : NULL);
    }
}

/* build - every record for the domain */
static void
build(const struct onboard *o, struct records *rs)
{
    char name[DOMAIN_MAX + 16];

    if (o->ips.n == 0 && o->spf_include == NULL)
	note(rs, "no relay addresses: set [pool NAME] addresses or [dns] spf_include, "
	     "or give --ip");
    else
	add(rs, "spf", o->domain, "TXT", onboard_spf_record(o, "~all"),
	    "SPF: one record per name; merge these terms into an existing one");
    build_dkim(o, rs);
    snprintf(name, sizeof(name), "_dmarc.%s", o->domain);
    add(rs, "dmarc", name, "TXT", onboard_dmarc_record(o),
	"DMARC: monitor first (p=none); move to quarantine or reject once the "
	"reports show only your own mail");
    build_return_path(o, rs);
    build_ptr(o, rs);
}

/* print_zone - zone-file lines with comments */
static void
print_zone(const struct onboard *o, const struct records *rs)
{
    size_t i;
    char *line;

    printf("; records to publish for %s\n", o->domain);
    for (i = 0; i < rs->n; i++) {
	if (rs->v[i].comment)
	    printf("; %s\n", rs->v[i].comment);
	line = onboard_zone_line(rs->v[i].name, o->ttl, rs->v[i].type, rs->v[i].value);
	printf("%s\n", line);
	free(line);
    }
    for (i = 0; i < rs->notes.n; i++)
	printf("; NOTE: %s\n", rs->notes.v[i]);
}

/* print_json - {"domain":..., "records":[...], "notes":[...]} */
static void
print_json(const struct onboard *o, const struct records *rs)
{
    struct jsonw w;
    size_t i;

    jsonw_init(&w, stdout);
    jsonw_object(&w, NULL);
    jsonw_string(&w, "domain", o->domain);
    jsonw_string(&w, "return_path", o->no_bounce_domain ? NULL : o->return_path);
    jsonw_array(&w, "records");
    for (i = 0; i < rs->n; i++) {
	jsonw_object(&w, NULL);
	jsonw_string(&w, "purpose", rs->v[i].purpose);
	jsonw_string(&w, "name", rs->v[i].name);
	jsonw_string(&w, "type", rs->v[i].type);
	jsonw_int(&w, "ttl", o->ttl);
	jsonw_string(&w, "value", rs->v[i].value);
	jsonw_end(&w);
    }
    jsonw_end(&w);
    jsonw_array(&w, "notes");
    for (i = 0; i < rs->notes.n; i++)
	jsonw_string(&w, NULL, rs->notes.v[i]);
    jsonw_end(&w);
    jsonw_end(&w);
}

const struct ctl_usage ctl_dns_usage[] = {
    {"dns [--json] [--ip ADDR]... DOMAIN", "print the DNS records DOMAIN must publish"},
    {NULL, NULL},
};

/* cmd_dns - outpostctl dns [--json] [--ip ADDR]... DOMAIN */
int
cmd_dns(const char *conf_path, int argc, char **argv)
{
    struct records rs = {0};
    struct onboard o;
    int json, status;
    size_t i;

    if ((status = onboard_open(&o, conf_path, argc, argv, &json)) != 0)
	return status;
    build(&o, &rs);
    if (json)
	print_json(&o, &rs);
    else
	print_zone(&o, &rs);
    status = rs.notes.n ? 1 : 0;
    for (i = 0; i < rs.n; i++) {
	free(rs.v[i].name);
	free(rs.v[i].value);
	free(rs.v[i].comment);
    }
    free(rs.v);
    conf_strlist_free(&rs.notes);
    onboard_close(&o);
    return status;
}
