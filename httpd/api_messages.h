/*
 * api_messages - POST /v1/messages: compose, submit as the tenant, answer
 *		  per recipient
 *
 * SYNOPSIS
 *	#include "api_messages.h"
 *
 *	struct api_messages *api_messages_new(const struct outpost_conf *conf,
 *					      struct submit *sub);
 *	void api_messages_post(struct api_messages *a, struct api_call *call);
 *	void api_messages_free(struct api_messages *a);
 *
 * DESCRIPTION
 *	api_messages_new() keeps conf (which must outlive it), the
 *	submission threads sub (submit(3)) and a Redis connection of its own
 *	for the idempotency keys.
 *
 *	api_messages_post() carries out one request.  The caller fills in
 *	call->conf (the configuration of the request: [httpd]
 *	api_max_message and api_max_recipients, [milter] campaign_header,
 *	the tenants; the Redis connection is that of the conf given to
 *	api_messages_new()), call->tenant (the key's tenant, in call->conf), call->domains and call->ndomains
 *	(the sender domains the key may use), call->body and call->body_len
 *	(the request body, JSON, see compose(3)), call->idem_key (the
 *	Idempotency-Key header, or NULL), call->key_id (the ID of the API
 *	key: an Idempotency-Key is the API key's own, another key with the
 *	same one gets no answer of this key's), call->done and call->arg.  The
 *	function returns at once; call->done(call) is called exactly once,
 *	from the calling thread (an answer known at once: a bad body, a
 *	replayed answer) or from a submission thread (when every recipient
 *	has its answer), with call->status (the HTTP status) and
 *	call->answer (call->answer_len bytes of JSON, which the caller then
 *	frees with free()) set.  The router calls it from a worker thread:
 *	it may wait for Redis, never for the MTA; it suspends the HTTP
 *	connection and resumes it from done().  The inputs must stay valid
 *	until done() is called.
 *
 *	Answers: 202 {"messages": [{"to", "status": "queued", "queue_id"} |
 *	{"to", "status": "refused", "reason", "temporary", "smtp"}]} in the
 *	order of "to", reason one of suppressed (the suppression list),
 *	throttled (a rate limit, backoff or warm-up cap of policyd: try
 *	later), invalid (the MTA says the address is bad), rejected (any
 *	other 5xx), tempfail (any other 4xx, or the MTA not answering);
 *	and the API's errors, {"error": {"code", "message"}}: 400 with code
 *	invalid and the message "FIELD: what"; 403 forbidden when
 *	from's domain is not one of the key's domains or not the tenant's;
 *	413 too_large for a body or message larger than [httpd]
 *	api_max_message; 409 in_progress while a request with the same
 *	Idempotency-Key runs; 503 unavailable when Redis cannot be asked
 *	about the key or the submission queue is full.
 *
 *	Idempotency: with a key (1 to 255 bytes), the first request marks
 *	P{ev:TENANT}:idem:ID:SHA256HEX in Redis (SET NX, 10 minutes) and, once
 *	answered, stores its status and answer there for 24 hours: a later
 *	request with the same key gets the same answer again, nothing sent.
 *	A 4xx found before anything is sent is not stored, nor an answer
 *	where every recipient failed temporarily (the MTA away, every one
 *	throttled): nothing was done, and a retry with the key runs.
 */
#ifndef OUTPOST_HTTPD_API_MESSAGES_H
#define OUTPOST_HTTPD_API_MESSAGES_H

#include <stddef.h>

#include "conf.h"

struct submit;
struct api_messages;
struct api_run;

struct api_call {
    /* the request */
    const struct outpost_conf *conf;	/* the request's: limits, tenants */
    const struct conf_tenant *tenant;	/* of conf */
    const char *const *domains;		/* the key's sender domains */
    size_t ndomains;
    const char *body;
    size_t body_len;
    const char *idem_key;		/* NULL: none */
    const char *key_id;			/* the API key's ID: its Idempotency-Keys */
    void (*done)(struct api_call *call);
    void *arg;				/* the caller's */
    /* the answer, set before done() */
    int status;
    char *answer;			/* JSON; the caller frees it */
    size_t answer_len;
    struct api_run *run;		/* api_messages' own */
};

struct api_messages *api_messages_new(const struct outpost_conf *conf, struct submit *sub);
void api_messages_post(struct api_messages *a, struct api_call *call);
void api_messages_free(struct api_messages *a);

#endif
