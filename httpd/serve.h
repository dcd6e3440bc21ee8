/*
 * serve - the pages of outpost-httpd: unsubscribe, open pixel, tracked link
 *
 * SYNOPSIS
 *	#include "serve.h"
 *
 *	struct serve *serve_new(const struct outpost_conf *conf,
 *				struct work *work, struct hmetrics *m);
 *	struct MHD_Daemon *serve_start(struct serve *s, int fd, char *err,
 *				       size_t errlen);
 *	void serve_free(struct serve *s);
 *
 * DESCRIPTION
 *	serve_start() runs libmicrohttpd on the listening socket fd, with
 *	[httpd] threads threads, max_connections, max_connections_per_ip and
 *	request_timeout of conf (the configuration at start), and answers
 *	each request with the settings in force when it began
 *	(hsettings(3): the secrets, the providers, max_body, the machine
 *	rules, trusted_proxies):
 *
 *	POST /u/TOKEN	with a form body (application/x-www-form-urlencoded
 *			or multipart/form-data, RFC 8058) holding
 *			List-Unsubscribe=One-Click: the recipient is
 *			suppressed in the sender domain's scope (work(3)),
 *			then 200 with a short page, never a redirect.  From
 *			the confirmation page (field via=page) the source is
 *			"web", otherwise "one-click".  Redis away or the
 *			queue full: 503 with Retry-After; nothing is lost,
 *			the request is to be made again.
 *	GET /u/TOKEN	the confirmation page: the sender domain and the
 *			address, and a button that POSTs the form.  A GET
 *			changes nothing: link scanners fetch every URL.
 *	GET /c/TOKEN	302 to the URL the token carries, and a click counted
 *			(a stale but genuine token still redirects, uncounted)
 *	GET /o/TOKEN	a 1x1 transparent GIF, and an open counted
 *
 *	A token that is malformed or forged gets a 400 page, a stale one 410
 *	(/o/ answers the image whatever the token, and counts nothing for a
 *	bad one); each is counted.  Other paths: 404; other methods: 405;
 *	a body over max_body: 413.
 *
 *	The connection's peer is the client unless it is in [httpd]
 *	trusted_proxies; then the last address of X-Forwarded-For is.
 *
 *	serve_start() returns the daemon (stop it with MHD_stop_daemon()
 *	after work_stop(3) has answered every waiting request), or NULL with
 *	err filled in.
 */
#ifndef OUTPOST_HTTPD_SERVE_H
#define OUTPOST_HTTPD_SERVE_H

#include <stddef.h>

#include "conf.h"

struct MHD_Daemon;
struct work;
struct hmetrics;
struct serve;

struct serve *serve_new(const struct outpost_conf *conf, struct work *work,
			struct hmetrics *m);
struct MHD_Daemon *serve_start(struct serve *s, int fd, char *err, size_t errlen);
void serve_free(struct serve *s);

#endif
