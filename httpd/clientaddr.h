/*
 * clientaddr - who the client of a request is, for the pages and the API
 *
 * SYNOPSIS
 *	#include "clientaddr.h"
 *
 *	void client_addr(const struct hsettings *hs,
 *			 struct MHD_Connection *conn, char *out, size_t size);
 *
 * DESCRIPTION
 *	client_addr() writes the client's address as text into out: the
 *	connection's peer, or, when the peer is in [httpd] trusted_proxies
 *	(of hs) and the request has X-Forwarded-For, the last address of it
 *	(the one the proxy added; as sent: it may be no address at all).
 *	Of several X-Forwarded-For lines the last is read: a proxy that adds
 *	a line of its own (HAProxy) keeps the client's lines before it.
 *	out is "" when libmicrohttpd knows no peer.
 */
#ifndef OUTPOST_HTTPD_CLIENTADDR_H
#define OUTPOST_HTTPD_CLIENTADDR_H

#include <stddef.h>

struct hsettings;
struct MHD_Connection;

void client_addr(const struct hsettings *hs, struct MHD_Connection *conn, char *out,
		 size_t size);

#endif
