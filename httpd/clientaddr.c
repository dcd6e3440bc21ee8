/*
 * clientaddr - who the client of a request is (see clientaddr.h)
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "clientaddr.h"
#include "hsettings.h"

/* last_xff - keep the value of each X-Forwarded-For line: the last stays */
static enum MHD_Result
last_xff(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void) kind;
    if (value && strcasecmp(key, "X-Forwarded-For") == 0)
	*(const char **) cls = value;
    return MHD_YES;
}

/*
 * client_addr - the client's address as text: the peer, or, when the peer
 * is a trusted proxy, the last address of X-Forwarded-For
 */
void
client_addr(const struct hsettings *hs, struct MHD_Connection *conn, char *out, size_t size)
{
    const union MHD_ConnectionInfo *ci =
	MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    const char *xff = NULL, *last;
    size_t len;

    out[0] = '\0';
    if (sa == NULL)
	return;
    if (sa->sa_family == AF_INET)
	inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, out, (socklen_t) size);
    else if (sa->sa_family == AF_INET6)
	inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr, out,
		  (socklen_t) size);
    if (!cidr_list_match(&hs->conf->httpd.trusted_proxies, sa))
	return;
    /* the proxy's line is the last: a client's own lines come before it */
    MHD_get_connection_values(conn, MHD_HEADER_KIND, last_xff, &xff);
    if (xff == NULL)
	return;
    last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    last += strspn(last, " \t");
    len = strcspn(last, " \t");
    if (len > 0 && len < size) {
	memcpy(out, last, len);
	out[len] = '\0';
    }
}