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

/* route_pool - the pool whose transport, else whose name, is the service */
const char *
route_pool(const struct outpost_conf *conf, const char *service)
{
    int i = pool_by_service(conf, service);

    return i >= 0 ? CONF_VEC_AT(&conf->pools, (size_t) i, struct conf_pool)->named.name
	: POOL_DEFAULT;
}
