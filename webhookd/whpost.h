/*
 * whpost - one webhook POST at a time to one URL, on a libevent loop
 *
 * SYNOPSIS
 *	#include "whpost.h"
 *
 *	SSL_CTX *whpost_tls(const char *ca_file, char *err, size_t errlen);
 *	struct whpost *whpost_new(struct event_base *base,
 *				  struct evdns_base *dns, SSL_CTX *tls,
 *				  const char *url, long long timeout_ms,
 *				  long long keepalive_ms,
 *				  char *err, size_t errlen);
 *	int whpost_send(struct whpost *p, const char *body, size_t len,
 *			const char *signature, size_t count,
 *			whpost_fn fn, void *arg);
 *	unsigned long long whpost_connections(const struct whpost *p);
 *	void whpost_free(struct whpost *p);
 *
 * DESCRIPTION
 *	whpost_tls() is the TLS context of https:// URLs: the server's
 *	certificate is verified against the system's CAs and those of
 *	ca_file (NULL: none more), and must name the URL's host.
 *
 *	whpost_new() parses an http:// or https:// URL (NULL and a message
 *	in err when it cannot); its host may be an address (IPv6 in
 *	brackets), which the certificate must then name.  whpost_send() POSTs body with the headers
 *	of the webhook contract (Content-Type: application/json,
 *	Outpost-Signature, Outpost-Event-Count) and calls fn(arg, result,
 *	status, why) once, from the loop, when the answer is in or the
 *	POST failed: result WHPOST_OK for a 2xx status, else the kind of
 *	failure; status is the HTTP status (0 without an answer).  Connect,
 *	send and answer together must take less than timeout_ms.  A
 *	redirect is not followed (it is a failure of kind WHPOST_STATUS);
 *	the answer's body is read and dropped as it comes, so a large one
 *	costs no memory (more than WHPOST_MAX_ANSWER bytes: a failure).
 *	One POST at a time: whpost_send() returns -1 while one is in
 *	flight.  body must stay as it is until fn is called (a POST may be
 *	sent again from it); signature is copied.
 *
 *	The connection (http:// or https://) is kept open after a 2xx
 *	answer and the next POST goes on it, unless by then the server has
 *	closed it (or its answer said Connection: close, or more bytes
 *	than the answer came: they would be taken for the next one) or it
 *	has been idle for keepalive_ms or longer (0: a connection per
 *	POST): then the POST
 *	opens a new one (over TLS a new session: a spent one cannot be
 *	reconnected).  A POST that fails on a kept connection before any
 *	byte of its answer came (the server closed it as it was sent) is
 *	sent once more at once on a new connection, with a timeout_ms of its
 *	own; fn sees only how that one ended.  A failed POST, or one timed
 *	out, closes its connection.  whpost_connections() counts the
 *	connections opened.
 *
 *	whpost_free() drops the POST in flight without calling fn.
 */
#ifndef OUTPOST_WHPOST_H
#define OUTPOST_WHPOST_H

#include <stddef.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <openssl/ssl.h>

enum whpost_result {
    WHPOST_OK, WHPOST_STATUS, WHPOST_TIMEOUT, WHPOST_REFUSED, WHPOST_TLS, WHPOST_OTHER,
    WHPOST_NRESULTS
};

#define WHPOST_MAX_ANSWER (1024 * 1024)

extern const char *const whpost_result_name[WHPOST_NRESULTS];

typedef void (*whpost_fn)(void *arg, int result, int status, const char *why);

struct whpost;

SSL_CTX *whpost_tls(const char *ca_file, char *err, size_t errlen);
struct whpost *whpost_new(struct event_base *base, struct evdns_base *dns, SSL_CTX *tls,
			  const char *url, long long timeout_ms, long long keepalive_ms,
			  char *err, size_t errlen);
int whpost_send(struct whpost *p, const char *body, size_t len, const char *signature,
		size_t count, whpost_fn fn, void *arg);
unsigned long long whpost_connections(const struct whpost *p);
void whpost_free(struct whpost *p);

#endif
