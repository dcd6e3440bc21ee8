/*
 * server - the policy protocol on unix and inet listeners
 *
 * SYNOPSIS
 *	#include "server.h"
 *
 *	struct server *server_new(struct event_base *base, struct decider *d,
 *				  struct limits *l);
 *	int server_listen(struct server *s, const char *addr);
 *	void server_reload(struct server *s, struct limits *l);
 *	void server_free(struct server *s);
 *
 * DESCRIPTION
 *	Each client (every smtpd process keeps one connection) sends requests
 *	of name=value lines ended by an empty line; each gets one
 *	"action=..." line and an empty line back, in order, on a connection
 *	that stays open.  One request per connection is decided at a time;
 *	what the client sends meanwhile waits in its buffer, whose size is
 *	bounded by reading no more while a decision is pending.
 *
 *	A request larger than [policy] max_request_size or not in the
 *	protocol's form is logged and its connection closed; so is a
 *	connection idle for idle_timeout, one whose request is not complete
 *	within request_timeout (however slowly it trickles in) and one that
 *	leaves its answers unread that long.
 *
 *	Connections are capped by max_connections within the open-file limit
 *	less a reserve; at the cap the least recently active idle connection
 *	is closed to let a new one in, and with none idle accepting stops
 *	until one is.  On EMFILE the cap comes down to what is open; accept
 *	errors pause accepting rather than spin.  A TCP client address has
 *	at most max_client_connections.  What clients can make the daemon
 *	say is rate-limited (msg_warn_limited()).
 *
 *	server_listen() opens "unix:/path" (mode 0666: Postfix's smtpd must
 *	connect; the path is claimed with sockguard_claim(): never the
 *	socket of a running instance) or "inet:host:port" (IPv4 or [IPv6],
 *	TCP_NODELAY on each client); it returns -1 with errno set on
 *	failure.  server_reload() takes the limits of new limits and
 *	computes the connection caps again; listeners stay as they are.
 */
#ifndef OUTPOST_SERVER_H
#define OUTPOST_SERVER_H

#include <event2/event.h>

#include "decider.h"
#include "throttle_limits.h"

struct server;

struct server *server_new(struct event_base *base, struct decider *d, struct limits *l);
int server_listen(struct server *s, const char *addr);
void server_reload(struct server *s, struct limits *l);
void server_free(struct server *s);

#endif
