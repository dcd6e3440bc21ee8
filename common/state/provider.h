/*
 * provider - mailbox providers: which domains share one budget
 *
 * SYNOPSIS
 *	#include "provider.h"
 *
 *	int provider_table_build(const struct outpost_conf *conf,
 *				 struct provider_table *t, char *err,
 *				 size_t errlen);
 *	void provider_table_free(struct provider_table *t);
 *	int provider_by_name(const struct provider_table *t, const char *name);
 *	int provider_by_domain(const struct provider_table *t,
 *			       const char *domain);
 *	int provider_by_mx(const struct provider_table *t, const char *host);
 *	int provider_mx_match(const char *pattern, const char *host);
 *
 * DESCRIPTION
 *	A provider groups recipient domains by the hosts that receive their
 *	mail: every domain whose MX is under google.com is Google's, whatever
 *	the domain is called.  A built-in table knows the big providers
 *	(google, microsoft, yahoo, apple, comcast, orange, gmx, yandex,
 *	proton, mailru); each [provider NAME] section adds MX patterns and
 *	domains to a built-in provider of that name, or defines a new one,
 *	and may give it a rate.
 *
 *	MX patterns are host names or "*.domain" (any host below domain).
 *	Domains listed for a provider need no MX lookup.
 *
 *	Lookups return the provider's index in t->v, or -1.
 *	provider_table_build() returns 0, or -1 with "FILE:LINE: problem"
 *	in err.
 */
#ifndef OUTPOST_PROVIDER_H
#define OUTPOST_PROVIDER_H

#include <stddef.h>

#include "conf.h"
#include "gcra.h"

struct provider {
    char *name;
    struct conf_strlist mx;	/* patterns, lower case */
    struct conf_strlist domains;	/* normalised domains */
    int has_rate;
    struct gcra gcra;
    struct conf_rate rate;
    long burst;
};

struct provider_table {
    struct provider *v;
    size_t n;
};

int provider_table_build(const struct outpost_conf *conf,
			 struct provider_table *t, char *err, size_t errlen);
void provider_table_free(struct provider_table *t);
int provider_by_name(const struct provider_table *t, const char *name);
int provider_by_domain(const struct provider_table *t, const char *domain);
int provider_by_mx(const struct provider_table *t, const char *host);
int provider_mx_match(const char *pattern, const char *host);

#endif
