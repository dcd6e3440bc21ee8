/*
 * onboard - a sending domain as this relay sees it, and the records it
 *	     should publish (outpostctl dns and verify, the API's verify)
 *
 * SYNOPSIS
 *	#include "onboard.h"
 *
 *	int onboard_init(struct onboard *o, const struct outpost_conf *conf,
 *			 const char *domain, const struct conf_strlist *ips,
 *			 char *err, size_t errlen);
 *	void onboard_free(struct onboard *o);
 *	char *onboard_spf_record(const struct onboard *o, const char *all);
 *	char *onboard_dmarc_record(const struct onboard *o);
 *	void onboard_dkim_name(const struct onboard *o, const struct keyentry *e,
 *			       char *out, size_t outlen);
 *	char *onboard_zone_line(const char *name, long ttl, const char *type,
 *				const char *value);
 *
 * DESCRIPTION
 *	onboard_init() normalises the domain, finds its return-path domain
 *	the way the milter makes it ([intake] bounce_domain through
 *	verp_return_domain(); the domain itself, with no_bounce_domain set,
 *	when that is not set), expands [dns] dmarc_report ("%d" is the
 *	domain), collects the relay addresses (the ips given on the command
 *	line, else every [pool NAME] addresses) and loads the DKIM key table
 *	named by [dkim] key_table with the entries for the domain.  A key
 *	table that cannot be loaded is not fatal: o->kt stays NULL and
 *	o->kt_err says why.
 *
 *	onboard_spf_record() gives the SPF record that authorises the relay
 *	("v=spf1 ip4:... ~all", or include: of [dns] spf_include);
 *	onboard_dmarc_record() the starter DMARC record (p=none with a report
 *	address).  onboard_dkim_name() the name of a key's record:
 *	SELECTOR._domainkey.D where D is the key's d= (the From: domain
 *	unless the table names another).  onboard_zone_line() formats one
 *	zone-file line, TXT values quoted (a byte that is not printable
 *	ASCII as \DDD) and split into 255-byte strings.
 *	Strings returned are allocated; the caller frees them.
 */
#ifndef OUTPOST_ONBOARD_H
#define OUTPOST_ONBOARD_H

#include <stdio.h>

#include "addr.h"
#include "conf.h"
#include "keytable.h"

struct onboard {
    const struct outpost_conf *conf;
    char domain[DOMAIN_MAX];
    char return_path[DOMAIN_MAX];	/* the envelope sender's domain */
    int no_bounce_domain;	/* [intake] bounce_domain unset: return_path is domain */
    char dmarc_rua[DOMAIN_MAX + 80];
    const char *relay_host;	/* [dns] relay_hostname, NULL if unset */
    const char *spf_include;	/* [dns] spf_include, NULL if unset */
    struct conf_strlist ips;	/* relay addresses */
    long ttl;			/* seconds */
    struct keytable *kt;	/* NULL: none configured, or kt_err */
    char kt_err[600];
    const struct keyentry *keys[KEYTABLE_MAX_PER_DOMAIN];
    size_t nkeys;
};

int onboard_init(struct onboard *o, const struct outpost_conf *conf, const char *domain,
		 const struct conf_strlist *ips, char *err, size_t errlen);
void onboard_free(struct onboard *o);
char *onboard_spf_record(const struct onboard *o, const char *all);
char *onboard_dmarc_record(const struct onboard *o);
void onboard_dkim_name(const struct onboard *o, const struct keyentry *e,
		       char *out, size_t outlen);
const char *onboard_dkim_domain(const struct onboard *o, const struct keyentry *e);
char *onboard_zone_line(const char *name, long ttl, const char *type,
			const char *value);

#endif
