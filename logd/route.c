/*
 * route - provider and pool of a logged delivery (see route.h)
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "pool_select.h"
#include "route.h"

/* route_provider - by the relay host, then by the recipient domain */
const char *
route_provider(const struct provider_table *t, const char *relay_host,
	       const char *rcpt_domain)
{
    int i = -1;

    if (relay_host && *relay_host && strcmp(relay_host, "none") != 0)
	i = provider_by_mx(t, relay_host);
    if (i < 0 && rcpt_domain && *rcpt_domain)
	i = provider_by_domain(t, rcpt_domain);
    return i >= 0 ? t->v[i].name : NULL;
}

/* route_pool - the pool whose name or transport is the service */
const char *
route_pool(const struct outpost_conf *conf, const char *service)
{
    size_t i;

    if (service == NULL || *service == '\0')
	return POOL_DEFAULT;
    for (i = 0; i < conf->pools.n; i++) {
	const struct conf_pool *p = CONF_VEC_AT(&conf->pools, i, struct conf_pool);
	size_t tl = p->transport ? strcspn(p->transport, ":") : 0;

	if (strcmp(p->named.name, service) == 0
	    || (tl > 0 && strlen(service) == tl && strncmp(p->transport, service, tl) == 0))
	    return p->named.name;
    }
    return POOL_DEFAULT;
}
