/*
 * onboard - a sending domain as this relay sees it (see onboard.h)
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onboard.h"
#include "verp.h"
#include "xalloc.h"

/* expand - [dns] dmarc_report with "%d" standing for the domain */
static int
expand(const char *tmpl, const char *domain, char *out, size_t outlen)
{
    size_t n = 0, dl = strlen(domain);
    const char *p;

    for (p = tmpl; *p; p++) {
	if (p[0] == '%' && p[1] == 'd') {
	    if (n + dl >= outlen)
		return -1;
	    memcpy(out + n, domain, dl);
	    n += dl;
	    p++;
	} else {
	    if (n + 1 >= outlen)
		return -1;
	    out[n++] = *p;
	}
    }
    out[n] = '\0';
    return 0;
}

/* add_ip - one relay address, once, in its canonical text form */
static int
add_ip(struct onboard *o, const char *ip)
{
    unsigned char a[16];
    char text[INET6_ADDRSTRLEN];
    int af = strchr(ip, ':') ? AF_INET6 : AF_INET;
    size_t i;

    if (inet_pton(af, ip, a) != 1 || inet_ntop(af, a, text, sizeof(text)) == NULL)
	return -1;
    for (i = 0; i < o->ips.n; i++)
	if (strcmp(o->ips.v[i], text) == 0)
	    return 0;
    conf_strlist_add(&o->ips, text, strlen(text));
    return 0;
}

/* onboard_init - the domain, its templates, relay addresses and keys */
int
onboard_init(struct onboard *o, const struct outpost_conf *conf, const char *domain,
	     const struct conf_strlist *ips, char *err, size_t errlen)
{
    const char *why;
    char rp[DOMAIN_MAX + 64];
    size_t i, j;

    memset(o, 0, sizeof(*o));
    o->conf = conf;
    if (domain_normalize(domain, strlen(domain), o->domain, sizeof(o->domain), &why) < 0
	|| strchr(o->domain, '.') == NULL || o->domain[0] == '[') {
	snprintf(err, errlen, "'%s': not a domain name%s%s", domain, why ? ": " : "",
		 why ? why : "");
	return -1;
    }
    /* the name the milter tags outgoing mail with (verp_return_domain) */
    if (conf->intake.bounce_domain == NULL) {
	o->no_bounce_domain = 1;
	snprintf(o->return_path, sizeof(o->return_path), "%s", o->domain);
    } else if (verp_return_domain(conf->intake.bounce_domain, o->domain, rp, sizeof(rp)) == 0
	       || domain_normalize(rp, strlen(rp), o->return_path, sizeof(o->return_path),
				   &why) < 0) {
	snprintf(err, errlen, "[intake] bounce_domain gives '%s' for %s: not a domain name",
		 rp, o->domain);
	return -1;
    }
    if (expand(conf->dns.dmarc_report, o->domain, o->dmarc_rua, sizeof(o->dmarc_rua)) < 0) {
	snprintf(err, errlen, "[dns] dmarc_report is too long for %s", o->domain);
	return -1;
    }
    o->relay_host = conf->dns.relay_hostname;
    o->spf_include = conf->dns.spf_include;
    o->ttl = (long) (conf->dns.record_ttl_ms / 1000);
    if (ips && ips->n) {
	for (i = 0; i < ips->n; i++) {
	    if (add_ip(o, ips->v[i]) < 0) {
		snprintf(err, errlen, "--ip %s: not an IPv4 or IPv6 address", ips->v[i]);
		onboard_free(o);
		return -1;
	    }
	}
    } else {
	for (i = 0; i < conf->pools.n; i++) {
	    const struct conf_pool *p = CONF_VEC_AT(&conf->pools, i, struct conf_pool);

	    for (j = 0; j < p->addresses.n; j++)
		(void) add_ip(o, p->addresses.v[j]);
	}
    }
    if (conf->dkim.key_table == NULL) {
	snprintf(o->kt_err, sizeof(o->kt_err), "no DKIM key table ([dkim] key_table is not set)");
    } else if ((o->kt = keytable_load(conf->dkim.key_table, 0, 0, o->kt_err,
				      sizeof(o->kt_err))) != NULL) {
	o->nkeys = keytable_lookup(o->kt, o->domain, o->keys, KEYTABLE_MAX_PER_DOMAIN);
    }
    return 0;
}

/* onboard_free - release what onboard_init() allocated */
void
onboard_free(struct onboard *o)
{
    conf_strlist_free(&o->ips);
    keytable_free(o->kt);
    o->kt = NULL;
}

/* append - grow a string */
static void
append(char **buf, size_t *len, const char *s)
{
    size_t n = strlen(s);

    *buf = xreallocarray(*buf, *len + n + 1, 1);
    memcpy(*buf + *len, s, n + 1);
    *len += n;
}

/* onboard_spf_record - "v=spf1 <relay> ALL" */
char *
onboard_spf_record(const struct onboard *o, const char *all)
{
    char *rec = NULL;
    size_t len = 0, i;

    append(&rec, &len, "v=spf1");
    if (o->spf_include) {
	append(&rec, &len, " include:");
	append(&rec, &len, o->spf_include);
    } else {
	for (i = 0; i < o->ips.n; i++) {
	    append(&rec, &len, strchr(o->ips.v[i], ':') ? " ip6:" : " ip4:");
	    append(&rec, &len, o->ips.v[i]);
	}
    }
    append(&rec, &len, " ");
    append(&rec, &len, all);
    return rec;
}

/* onboard_dmarc_record - the starter record: monitor first */
char *
onboard_dmarc_record(const struct onboard *o)
{
    size_t len = strlen(o->dmarc_rua) + 64;
    char *rec = xmalloc(len);

    snprintf(rec, len, "v=DMARC1; p=none; rua=mailto:%s", o->dmarc_rua);
    return rec;
}

/* onboard_dkim_domain - the d= a key signs with for this domain */
const char *
onboard_dkim_domain(const struct onboard *o, const struct keyentry *e)
{
    /* without d= in the table the signature's d= is the From: domain */
    return strcmp(e->sign_domain, e->domain) != 0 ? e->sign_domain : o->domain;
}

/* onboard_dkim_name - SELECTOR._domainkey.D */
void
onboard_dkim_name(const struct onboard *o, const struct keyentry *e, char *out,
		  size_t outlen)
{
    snprintf(out, outlen, "%s._domainkey.%s", e->selector, onboard_dkim_domain(o, e));
}

/* onboard_zone_line - NAME. TTL IN TYPE VALUE, TXT quoted in 255-byte pieces */
char *
onboard_zone_line(const char *name, long ttl, const char *type, const char *value)
{
    char head[DOMAIN_MAX + 64], piece[8];
    char *line = NULL;
    size_t len = 0, i, used;
    unsigned char c;

    snprintf(head, sizeof(head), "%s.\t%ld\tIN\t%s\t", name, ttl, type);
    append(&line, &len, head);
    if (strcmp(type, "TXT") != 0) {
	append(&line, &len, value);
	return line;
    }
    append(&line, &len, "\"");
    for (i = 0, used = 0; value[i]; i++, used++) {
	if (used == 255) {
	    append(&line, &len, "\" \"");
	    used = 0;
	}
	c = (unsigned char) value[i];
	/* other bytes as \DDD: a published record may hold anything */
	if (c < 0x20 || c > 0x7e)
	    snprintf(piece, sizeof(piece), "\\%03u", c);
	else
	    snprintf(piece, sizeof(piece), "%s%c", c == '"' || c == '\\' ? "\\" : "", c);
	append(&line, &len, piece);
    }
    append(&line, &len, "\"");
    return line;
}
