/*
 * pool_select - the IP pool a sender's mail leaves by (see pool_select.h)
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "msg.h"
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

/* service_len - the length of the master.cf service a transport names */
static size_t
service_len(const struct conf_pool *p)
{
    return p->transport ? strcspn(p->transport, ":") : 0;
}

/* pool_by_service - the pool whose transport, else whose name, is the service */
int
pool_by_service(const struct outpost_conf *conf, const char *service)
{
    size_t i, n;

    if (service == NULL || (n = strlen(service)) == 0)
	return -1;
    for (i = 0; i < conf->pools.n; i++) {
	const struct conf_pool *p = CONF_VEC_AT(&conf->pools, i, struct conf_pool);

	if (service_len(p) == n && strncmp(p->transport, service, n) == 0)
	    return (int) i;
    }
    for (i = 0; i < conf->pools.n; i++)
	if (strcmp(CONF_VEC_AT(&conf->pools, i, struct conf_pool)->named.name, service) == 0)
	    return (int) i;
    return -1;
}

/* pool_service_shared - an earlier pool on the service of pool i, or -1 */
int
pool_service_shared(const struct outpost_conf *conf, size_t i)
{
    const struct conf_pool *p = CONF_VEC_AT(&conf->pools, i, struct conf_pool);
    size_t k, n = service_len(p);

    for (k = 0; n > 0 && k < i; k++) {
	const struct conf_pool *q = CONF_VEC_AT(&conf->pools, k, struct conf_pool);

	if (service_len(q) == n && strncmp(q->transport, p->transport, n) == 0)
	    return (int) k;
    }
    return -1;
}

/* pool_service_warn - a warning for each pool whose lines count as another's */
size_t
pool_service_warn(const struct outpost_conf *conf)
{
    size_t i, n = 0;
    int k;

    for (i = 0; i < conf->pools.n; i++) {
	const struct conf_pool *p = CONF_VEC_AT(&conf->pools, i, struct conf_pool), *q;

	if ((k = pool_service_shared(conf, i)) < 0)
	    continue;
	q = CONF_VEC_AT(&conf->pools, (size_t) k, struct conf_pool);
	msg_warn("%s: [pool %s] transport = %s: the service of [pool %s] too: the log "
		 "cannot tell them apart, and outpost-logd counts the deliveries of both "
		 "as pool %s; give each pool a transport of its own", conf->path,
		 p->named.name, p->transport, q->named.name, q->named.name);
	n++;
    }
    return n;
}
