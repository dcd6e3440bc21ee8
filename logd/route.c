/*
 * route - provider and pool of a logged delivery (see route.h)
 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "confval.h"

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

/* same_addr - two IP addresses of one value, or two equal names */
static int
same_addr(const char *a, const char *b)
{
    unsigned char x[16], y[16];
    int af = strchr(a, ':') ? AF_INET6 : AF_INET;

    if (inet_pton(af, a, x) == 1 && inet_pton(af, b, y) == 1)
	return memcmp(x, y, af == AF_INET6 ? 16 : 4) == 0;
    return strcasecmp(a, b) == 0;
}

/* route_filter - whether the next hop of a delivery line is a content filter */
int
route_filter(const struct outpost_conf *conf, const struct ml_event *ev)
{
    const struct conf_strlist *l = &conf->logd.filter_relays;
    struct conf_nexthop nh;
    const char *why;
    size_t i;

    for (i = 0; i < l->n; i++) {
	if (confval_nexthop(l->v[i], &nh, &why) < 0)
	    continue;			/* conf_load() refused it already */
	if (nh.socket) {
	    if (strcmp(nh.host, ev->relay_ip) == 0)
		return 1;
	    continue;
	}
	if (nh.port && nh.port != ev->relay_port)
	    continue;
	if ((ev->relay_ip[0] && same_addr(nh.host, ev->relay_ip))
	    || (ev->relay_host[0] && strcasecmp(nh.host, ev->relay_host) == 0))
	    return 1;
    }
    return 0;
}
