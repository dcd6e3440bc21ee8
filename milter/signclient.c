/*
 * signclient - may this client have its mail signed (see signclient.h)
 */
#include "config.h"

#include "conf.h"
#include "signclient.h"

/* signclient_check - SIGNCLIENT_* flags of a client, 0 when it may not */
int
signclient_check(const struct conf_dkim *dk, const struct sockaddr *addr,
		 const char *auth_user)
{
    int how = 0;

    if (addr && cidr_list_match(&dk->sign_networks, addr))
	how |= SIGNCLIENT_NETWORK;
    if (dk->sign_authenticated && auth_user && *auth_user)
	how |= SIGNCLIENT_SASL;
    return how;
}
