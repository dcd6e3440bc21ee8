/*
 * route - provider and pool of a logged delivery (see route.h)
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "route.h"

/* route_mx_match - "host" or "*.domain" against a host name */
int
route_mx_match(const char *pattern, const char *host)
{
    size_t hl = strlen(host), sl;

    if (hl > 0 && host[hl - 1] == '.')
	hl--;
    if (strncmp(pattern, "*.", 2) != 0)
	return strlen(pattern) == hl && strncasecmp(pattern, host, hl) == 0;
    sl = strlen(pattern + 1);		/* ".domain" */
    return hl > sl && strncasecmp(host + hl - sl, pattern + 1, sl) == 0;
}

/* route_provider - by the relay host, then by the recipient domain */
const char *
route_provider(const struct outpost_conf *conf, const char *relay_host,
	       const char *rcpt_domain)
{
    size_t i, j;

    for (i = 0; relay_host && *relay_host && i < conf->providers.n; i++) {
	const struct conf_provider *p = CONF_VEC_AT(&conf->providers, i, struct conf_provider);

	for (j = 0; j < p->mx.n; j++)
	    if (route_mx_match(p->mx.v[j], relay_host))
		return p->name;
    }
    for (i = 0; rcpt_domain && *rcpt_domain && i < conf->providers.n; i++) {
	const struct conf_provider *p = CONF_VEC_AT(&conf->providers, i, struct conf_provider);

	for (j = 0; j < p->domains.n; j++)
	    if (strcasecmp(p->domains.v[j], rcpt_domain) == 0)
		return p->name;
    }
    return NULL;
}

/* route_pool - the pool whose name or transport is the service */
const char *
route_pool(const struct outpost_conf *conf, const char *service)
{
    size_t i;

    if (service == NULL || *service == '\0')
	return "default";
    for (i = 0; i < conf->pools.n; i++) {
	const struct conf_pool *p = CONF_VEC_AT(&conf->pools, i, struct conf_pool);
	size_t tl = p->transport ? strcspn(p->transport, ":") : 0;

	if (strcmp(p->name, service) == 0
	    || (tl > 0 && strlen(service) == tl && strncmp(p->transport, service, tl) == 0))
	    return p->name;
    }
    return "default";
}
