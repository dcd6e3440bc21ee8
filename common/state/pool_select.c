/*
 * pool_select - the IP pool a sender's mail leaves by (see pool_select.h)
 */
#include "config.h"

#include <stddef.h>

#include "pool_select.h"

/* pool_select - SASL user, then sender domain, then [policy] default_pool */
int
pool_select(const struct outpost_conf *conf, const char *sasl, const char *sender_domain)
{
    const struct conf_pool *dflt;
    size_t i;
    int p;

    if (sasl && *sasl && (p = conf_pool_by_sender(conf, sasl)) >= 0)
	return p;
    if (sender_domain && *sender_domain && (p = conf_pool_by_sender(conf, sender_domain)) >= 0)
	return p;
    if (conf->policy.default_pool == NULL
	|| (dflt = conf_pool_find(conf, conf->policy.default_pool)) == NULL)
	return -1;
    for (i = 0; i < conf->pools.n; i++)
	if (CONF_VEC_AT(&conf->pools, i, struct conf_pool) == dflt)
	    return (int) i;
    return -1;
}

/* pool_select_name - the selected pool's name, "default" when none */
const char *
pool_select_name(const struct outpost_conf *conf, const char *sasl, const char *sender_domain)
{
    int p = pool_select(conf, sasl, sender_domain);

    return p >= 0 ? CONF_VEC_AT(&conf->pools, (size_t) p, struct conf_pool)->named.name : POOL_DEFAULT;
}
