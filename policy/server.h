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
 *	connection idle for idle_timeout.  Beyond max_connections new
 *	connections are closed at once, with a log line.
 *
 *	server_listen() opens "unix:/path" (mode 0666: Postfix's smtpd must
 *	connect) or "inet:host:port" (IPv4 or [IPv6], TCP_NODELAY on each
 *	client); it returns -1 with errno set on failure.  server_reload()
 *	takes the size limits of new limits; listeners stay as they are.
 */
#ifndef OUTPOST_SERVER_H
#define OUTPOST_SERVER_H

#include <event2/event.h>

#include "decider.h"
#include "limits.h"

struct server;

struct server *server_new(struct event_base *base, struct decider *d, struct limits *l);
int server_listen(struct server *s, const char *addr);
void server_reload(struct server *s, struct limits *l);
void server_free(struct server *s);

#endif
