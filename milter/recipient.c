/*
 * recipient - one RCPT TO, read once (see recipient.h)
 */
#include "config.h"

#include <string.h>

#include "addr.h"
#include "conf.h"
#include "pool_select.h"
#include "provider.h"
#include "recipient.h"
#include "settings.h"

/* recipient_parse - normalise once; provider and pool */
void
recipient_parse(struct recipient *r, const char *raw, const struct settings *set,
		const char *auth_user, const char *sender_domain)
{
    const char *why;
    int i = -1;

    memset(r, 0, sizeof(*r));
    r->raw = raw;
    r->why = "";
    if (addr_normalize(raw, strlen(raw), r->addr, sizeof(r->addr), &r->why) < 0)
	r->addr[0] = '\0';
    r->domain = r->addr[0] ? addr_domain(r->addr) : r->dom;
    if (r->addr[0] == '\0')
	(void) addr_domain_normalize(raw, strlen(raw), r->dom, sizeof(r->dom), &why);
    if (r->domain[0])
	i = provider_by_domain(&set->providers, r->domain);
    r->provider = i < 0 ? set->providers.n : (size_t) i;
    r->provider_name = i < 0 ? "other" : set->providers.v[i].name;
    r->pool = pool_select_name(set->conf, auth_user, sender_domain);
}
