/*
 * api_work - what the platform API asks of Redis, in a thread of its own
 *
 * SYNOPSIS
 *	#include "api_work.h"
 *
 *	struct api_work *api_work_start(const struct outpost_conf *conf,
				struct api_messages *messages);
 *	int api_work_queue(struct api_work *w, struct api_job *job);
 *	void api_work_stop(struct api_work *w);
 *	void api_work_free(struct api_work *w);
 *
 * DESCRIPTION
 *	As work(3) does for the recipients' pages, worker threads ([httpd]
 *	threads of them, each with its own Redis connection) answer every
 *	API request that needs Redis (all of them: a key is checked there),
 *	so no HTTP thread waits.
 *
 *	api_work_queue() queues a job, which is carried out with the
 *	configuration job->conf (the one in force when its request began,
 *	hsettings(3): its tenants, its [dns] lookup_timeout; the Redis
 *	connections are those of the conf given at start).
 *	API_JOB_AUTH only checks the key (job->key, the route job->rt):
 *	status 200 when it is good, so that a request may have its key
 *	checked before it sends a large body.  API_JOB_REQUEST checks the
 *	key (unless job->need_auth is 0: an API_JOB_AUTH of the request did)
 *	and then carries out the route's
 *	operation (POST /v1/messages is handed to messages, api_messages(3),
 *	with the key's tenant and its domains, the body and job->idem_key;
 *	its done() comes from a submission thread; without messages, 404); API_JOB_IMPORT writes job->entries to the suppression
 *	list, after checking the key when job->need_auth is set (the first
 *	batch of an import).  An entry without a domain goes to the
 *	request's; one that names a domain not the key's is not written but
 *	counted in job->refused.  GET /v1/domains/D/verify runs the checks
 *	of domcheck(3) here, its lookups bounded by [dns] lookup_timeout,
 *	and keeps each domain's answer 60 seconds: a request within that
 *	time, or one for a domain another worker is checking (it waits),
 *	makes no lookups.  The worker fills job->status, job->body (a JSON
 *	document the caller frees, or NULL for none), job->retry_after
 *	(seconds, 0: no header) and, once a key is checked, job->k and
 *	job->domain (the one domain of the request, "" when it names none),
 *	then calls job->done(job) from the worker's thread.  The job stays the
 *	caller's; it must live until done() is called.  api_work_queue()
 *	returns 0, or -1 when [httpd] queue_max jobs wait already (the
 *	caller answers 503 at once).
 *
 *	Checking a key: first the failed authentications of the client
 *	(job->client in job->authlimit, authlimit(3)): over the limit, 429
 *	with retry_after and job->auth_limited set, Redis not asked.  No
 *	key, malformed, unknown, revoked or of a tenant no longer
 *	configured: 401, charged to the client.  Then the rate limit of the key (its tenant's
 *	api_rate and api_burst, the GCRA script of outpost-policyd on the
 *	key P{api}:rate:ID): 429 with retry_after.  Then the scope (403)
 *	and the domain: ?domain= must be one of the key's domains that its
 *	tenant still owns (403); without it, a route on one domain takes
 *	the key's only one, or is refused (400) when it has several.
 *	Redis unreachable: 503 with retry_after.
 *
 *	api_work_stop() answers every waiting job 503 and joins the thread;
 *	api_work_free() releases the rest.
 */
#ifndef OUTPOST_HTTPD_API_WORK_H
#define OUTPOST_HTTPD_API_WORK_H

#include <stddef.h>

#include "api_messages.h"
#include "api_parse.h"
#include "apikey.h"
#include "authlimit.h"
#include "conf.h"
#include "suppress.h"

struct api_work;

enum api_job_kind { API_JOB_REQUEST, API_JOB_IMPORT, API_JOB_AUTH };

#define API_IMPORT_BATCH 500	/* entries of one import job */

struct api_job {
    int kind;			/* enum api_job_kind */
    const struct outpost_conf *conf;	/* the request's: tenants, limits */
    const struct api_route *rt;
    char key[APIKEY_MAX];	/* as the client sent it */
    const char *body;		/* a PUT's or a POST's body, NULL: none */
    size_t body_len;
    const char *idem_key;	/* POST /v1/messages: Idempotency-Key, NULL: none */
    struct sup_entry *entries;	/* API_JOB_IMPORT */
    long long *lines;		/* the line of each entry */
    size_t nentries;
    int need_auth;		/* the key is to be checked (not yet by an API_JOB_AUTH) */
    long long now;
    struct authlimit *authlimit;	/* failed authentications; NULL: no limit */
    struct authlimit_client client;	/* who sent it, for authlimit */
    /* the worker's answer */
    unsigned status;
    char *body_out;		/* JSON, the caller frees */
    long retry_after;
    struct apikey_rec k;
    char domain[DOMAIN_MAX];
    long long written;		/* API_JOB_IMPORT: entries written */
    long long refused;		/* API_JOB_IMPORT: entries of a domain not the key's */
    long long refused_line;	/* the first of them, 0: none */
    int auth_limited;		/* a 429 of authlimit: the key was not read */
    void (*done)(struct api_job *job);
    void *arg;			/* the caller's */
    struct api_job *next;	/* the queue's */
    /* POST /v1/messages, while api_messages(3) has it */
    struct api_call call;
    char *domcopy;
    const char **domv;
};

struct api_work *api_work_start(const struct outpost_conf *conf,
				struct api_messages *messages);
int api_work_queue(struct api_work *w, struct api_job *job);
void api_work_stop(struct api_work *w);
void api_work_free(struct api_work *w);

/* a JSON error document {"error":{"code","message"}}, to free */
char *api_error_body(const char *code, const char *message);

#endif
