/*
 * recipient - one RCPT TO, read once (see recipient.h)
 */
#include "config.h"

#include <string.h>

#include "addr.h"
#include "conf.h"
#include "provider.h"
#include "recipient.h"
#include "settings.h"

/* recipient_pool - the sender's pool, as far as the milter can tell */
const char *
recipient_pool(const struct outpost_conf *conf, const char *auth_user,
	       const char *sender_domain)
{
    int i = -1;

    if (auth_user && *auth_user)
	i = conf_pool_by_sender(conf, auth_user);
    if (i < 0 && sender_domain && *sender_domain)
	i = conf_pool_by_sender(conf, sender_domain);
    if (i >= 0)
	return CONF_VEC_AT(&conf->pools, (size_t) i, struct conf_pool)->named.name;
    return conf->policy.default_pool ? conf->policy.default_pool : "default";
}

/* recipient_parse - normalise once; provider and pool */
void
recipient_parse(struct recipient *r, const char *raw, const struct settings *set,
		const char *auth_user, const char *sender_domain)
{
    int i = -1;

    memset(r, 0, sizeof(*r));
    r->raw = raw;
    r->why = "";
    if (addr_normalize(raw, strlen(raw), r->addr, sizeof(r->addr), &r->why) < 0)
	r->addr[0] = '\0';
    r->domain = r->addr[0] ? addr_domain(r->addr) : "";
    if (r->addr[0])
	i = provider_by_domain(&set->providers, r->domain);
    r->provider = i < 0 ? set->providers.n : (size_t) i;
    r->provider_name = i < 0 ? "other" : set->providers.v[i].name;
    r->pool = recipient_pool(set->conf, auth_user, sender_domain);
}
