/*
 * api_messages - POST /v1/messages (see api_messages.h)
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "api_messages.h"
#include "compose.h"
#include "jsonw.h"
#include "msg.h"
#include "redisconn.h"
#include "submit.h"
#include "xalloc.h"

#define IDEM_KEY_MAX 255
#define IDEM_INFLIGHT "600"		/* seconds a request may run */
#define IDEM_KEEP "86400"		/* seconds an answer is kept */
#define HEADERS_MAX 50

struct api_messages {
    const struct outpost_conf *conf;
    struct submit *sub;
    pthread_mutex_t lock;		/* of rc */
    struct rconn *rc;
};

/* One request in flight */
struct api_run {
    struct api_messages *a;
    struct compose_req req;
    char *body;				/* the common part of every copy */
    size_t body_len;
    struct submit_job *jobs;
    char **heads;
    pthread_mutex_t lock;
    size_t remaining;
    char *idem;				/* the Redis key; NULL: none */
};

/* answer - set the call's status and a short error answer, call done() */
static void
answer(struct api_call *call, int status, const char *error, const char *message)
{
    FILE *fp;
    struct jsonw w;

    if ((fp = open_memstream(&call->answer, &call->answer_len)) == NULL)
	msg_fatal("open_memstream: out of memory");
    jsonw_init(&w, fp);
    /* the API's one error form: {"error":{"code","message"}} */
    jsonw_object(&w, NULL);
    jsonw_object(&w, "error");
    jsonw_string(&w, "code", error);
    jsonw_string(&w, "message", message ? message : error);
    jsonw_end(&w);
    jsonw_end(&w);
    if (fclose(fp) != 0)
	msg_fatal("open_memstream: out of memory");
    call->status = status;
    call->done(call);
}

/* domain_allowed - the sender domain is the key's and the tenant's */
static int
domain_allowed(const struct api_call *call, const char *d)
{
    size_t i;

    if (conf_tenant_of_domain(call->conf, d) != call->tenant)
	return 0;
    for (i = 0; i < call->ndomains; i++)
	if (strcasecmp(call->domains[i], d) == 0)
	    return 1;
    return 0;
}

/* idem_name - the Redis key of an Idempotency-Key */
static char *
idem_name(const struct api_messages *a, const struct api_call *call)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    char hex[65], *key;
    size_t i, n;

    if (EVP_Digest(call->idem_key, strlen(call->idem_key), md, &mdlen, EVP_sha256(),
		   NULL) != 1 || mdlen != 32)
	msg_fatal("EVP_Digest: SHA-256 failed");
    for (i = 0; i < 32; i++)
	snprintf(hex + 2 * i, 3, "%02x", md[i]);
    /* the API key's own: another key (of other domains) replays none of its answers */
    n = strlen(a->conf->redis.prefix) + strlen(call->tenant->named.name)
	+ strlen(call->key_id) + 80;
    key = xmalloc(n);
    snprintf(key, n, "%s{ev:%s}:idem:%s:%s", a->conf->redis.prefix,
	     call->tenant->named.name, call->key_id, hex);
    return key;
}

/* idem_claim - 0: ours to run; 1: answered (replayed or 409); -1: 503 */
static int
idem_claim(struct api_messages *a, struct api_call *call, const char *key)
{
    redisReply *r;
    int ret = -1;

    pthread_mutex_lock(&a->lock);
    r = rconn_commandv(a->rc, "SET", key, "-", "NX", "EX", IDEM_INFLIGHT, NULL);
    if (r && r->type == REDIS_REPLY_STATUS)
	ret = 0;
    else if (r && r->type == REDIS_REPLY_NIL) {
	freeReplyObject(r);
	r = rconn_commandv(a->rc, "GET", key, NULL);
	if (r && r->type == REDIS_REPLY_STRING && r->len > 4 && r->str[3] == '\n') {
	    call->status = atoi(r->str);
	    call->answer = xstrndup(r->str + 4, r->len - 4);
	    call->answer_len = r->len - 4;
	    ret = 2;
	} else if (r && r->type == REDIS_REPLY_STRING)
	    ret = 1;			/* "-": in flight */
    }
    if (r == NULL)
	msg_warn("api: idempotency key: redis: %s", rconn_error(a->rc));
    else if (ret < 0)
	msg_warn("api: idempotency key: unexpected answer from redis");
    if (r)
	freeReplyObject(r);
    pthread_mutex_unlock(&a->lock);
    if (ret == 2) {
	call->done(call);
	return 1;
    }
    if (ret == 1) {
	answer(call, 409, "in_progress", "a request with this Idempotency-Key is running");
	return 1;
    }
    return ret;
}

/* idem_store - keep the answer for a repeated request, or forget the key
 * (nothing was sent: a retry with the same key must run) */
static void
idem_store(struct api_messages *a, const char *key, int status, const char *ans,
	   size_t len, int forget)
{
    redisReply *r;
    const char *argv[5];
    size_t argvlen[5];
    char *val = xmalloc(len + 5);

    snprintf(val, 5, "%03d\n", status % 1000);
    memcpy(val + 4, ans, len);
    argv[0] = "SET", argv[1] = key, argv[2] = val, argv[3] = "EX", argv[4] = IDEM_KEEP;
    argvlen[0] = 3, argvlen[1] = strlen(key), argvlen[2] = len + 4, argvlen[3] = 2;
    argvlen[4] = strlen(IDEM_KEEP);
    pthread_mutex_lock(&a->lock);
    if (forget)
	r = rconn_commandv(a->rc, "DEL", key, NULL);
    else
	r = rconn_command(a->rc, 5, argv, argvlen);
    if (r == NULL)
	msg_warn("api: idempotency key: redis: %s", rconn_error(a->rc));
    else
	freeReplyObject(r);
    pthread_mutex_unlock(&a->lock);
    free(val);
}

/* reason - what a refusal means to the platform */
static const char *
reason(const struct submit_job *job)
{
    if (job->result == SUBMIT_REFUSED) {
	if (strcmp(job->xcode, "5.7.1") == 0 && strstr(job->text, "recipient suppressed"))
	    return "suppressed";
	if (strncmp(job->xcode, "5.1.", 4) == 0)
	    return "invalid";
	return "rejected";
    }
    if (strcmp(job->xcode, "4.7.1") == 0
	&& (strstr(job->text, "rate limit of") || strstr(job->text, "backoff of")
	    || strstr(job->text, "warm-up cap")))
	return "throttled";
    return "tempfail";
}

/* run_free - what a request held */
static void
run_free(struct api_run *run)
{
    size_t i;

    for (i = 0; run->heads && i < run->req.nto; i++)
	free(run->heads[i]);
    free(run->heads);
    free(run->jobs);
    free(run->body);
    free(run->idem);
    compose_req_free(&run->req);
    pthread_mutex_destroy(&run->lock);
    free(run);
}

/* finish - every recipient answered: the answer, kept if asked */
static void
finish(struct api_call *call)
{
    struct api_run *run = call->run;
    struct jsonw w;
    char smtp[SUBMIT_TEXT_MAX + 32];
    FILE *fp;
    size_t i, taken = 0;

    if ((fp = open_memstream(&call->answer, &call->answer_len)) == NULL)
	msg_fatal("open_memstream: out of memory");
    jsonw_init(&w, fp);
    jsonw_object(&w, NULL);
    jsonw_array(&w, "messages");
    for (i = 0; i < run->req.nto; i++) {
	const struct submit_job *job = &run->jobs[i];

	taken += job->result != SUBMIT_TEMPFAIL;
	jsonw_object(&w, NULL);
	jsonw_string(&w, "to", run->req.to[i].addr);
	if (job->result == SUBMIT_QUEUED) {
	    jsonw_string(&w, "status", "queued");
	    jsonw_string(&w, "queue_id", job->queue_id);
	} else {
	    jsonw_string(&w, "status", "refused");
	    jsonw_string(&w, "reason", reason(job));
	    jsonw_bool(&w, "temporary", job->result != SUBMIT_REFUSED);
	    snprintf(smtp, sizeof(smtp), "%s%s%s%s%s", job->code, job->code[0] ? " " : "",
		     job->xcode, job->xcode[0] ? " " : "", job->text);
	    jsonw_string(&w, "smtp", smtp);
	}
	jsonw_end(&w);
    }
    jsonw_end(&w);
    jsonw_end(&w);
    if (fclose(fp) != 0)
	msg_fatal("open_memstream: out of memory");
    call->status = 202;
    /* every recipient failed for now: nothing happened, a retry may run */
    if (run->idem)
	idem_store(run->a, run->idem, call->status, call->answer, call->answer_len,
		   taken == 0);
    call->run = NULL;
    run_free(run);
    call->done(call);
}

/* job_done - one recipient answered; the last one finishes the request */
static void
job_done(struct submit_job *job)
{
    struct api_call *call = job->arg;
    struct api_run *run = call->run;
    int last;

    pthread_mutex_lock(&run->lock);
    last = --run->remaining == 0;
    pthread_mutex_unlock(&run->lock);
    if (last)
	finish(call);
}

/* prepare - parse and compose; 0, or the HTTP status already answered */
static int
prepare(struct api_messages *a, struct api_call *call, struct api_run *run)
{
    const struct conf_httpd *h = &call->conf->httpd;
    struct compose_limits lim;
    char why[300];
    size_t i;

    if (call->body_len > h->api_max_message) {
	answer(call, 413, "too_large", "the body is larger than api_max_message");
	return 413;
    }
    lim.max_rcpts = (size_t) h->api_max_recipients;
    lim.max_headers = HEADERS_MAX;
    lim.campaign_header = call->conf->milter.campaign_header;
    if (compose_parse(call->body, call->body_len, &lim, &run->req, why, sizeof(why)) < 0) {
	answer(call, 400, "invalid", why);
	return 400;
    }
    if (!domain_allowed(call, addr_domain(run->req.from.addr))) {
	answer(call, 403, "forbidden", "from: not a sender domain of this key");
	return 403;
    }
    if (call->idem_key && (call->idem_key[0] == '\0' || strlen(call->idem_key) > IDEM_KEY_MAX)) {
	answer(call, 400, "invalid", "Idempotency-Key: 1 to 255 bytes");
	return 400;
    }
    run->body = compose_common(&run->req, lim.campaign_header, (long long) time(NULL),
			       (size_t) h->api_max_message, &run->body_len);
    if (run->body == NULL) {
	answer(call, 413, "too_large", "the message is larger than api_max_message");
	return 413;
    }
    run->heads = xcalloc(run->req.nto, sizeof(*run->heads));
    run->jobs = xcalloc(run->req.nto, sizeof(*run->jobs));
    for (i = 0; i < run->req.nto; i++) {
	struct submit_job *job = &run->jobs[i];

	run->heads[i] = compose_head(&run->req, i, &job->head_len);
	job->head = run->heads[i];
	job->body = run->body;
	job->body_len = run->body_len;
	job->login = call->tenant->named.name;
	job->sender = run->req.from.addr;
	job->rcpt = run->req.to[i].addr;
	job->done = job_done;
	job->arg = call;
    }
    return 0;
}

/* api_messages_post - one request (see the header for the contract); once
 * an answer is given, call is the caller's again: not touched after done() */
void
api_messages_post(struct api_messages *a, struct api_call *call)
{
    struct api_run *run = xcalloc(1, sizeof(*run));
    size_t i, n;
    int claim = 0;

    run->a = a;
    pthread_mutex_init(&run->lock, NULL);
    call->answer = NULL;
    call->answer_len = 0;
    call->run = NULL;
    if (prepare(a, call, run) != 0) {
	run_free(run);
	return;
    }
    if (call->idem_key) {
	run->idem = idem_name(a, call);
	if ((claim = idem_claim(a, call, run->idem)) != 0) {
	    run_free(run);
	    if (claim < 0)
		answer(call, 503, "unavailable", "Redis is unavailable; try again");
	    return;
	}
    }
    /* one more than the jobs: none may finish the request while we queue */
    n = run->req.nto;
    run->remaining = n + 1;
    call->run = run;
    for (i = 0; i < n; i++) {
	if (submit_queue(a->sub, &run->jobs[i]) < 0) {
	    run->jobs[i].result = SUBMIT_TEMPFAIL;
	    snprintf(run->jobs[i].text, sizeof(run->jobs[i].text), "%s",
		     "the submission queue is full; try again");
	    job_done(&run->jobs[i]);
	}
    }
    job_done(&run->jobs[0]);
}

/* api_messages_new - the state of POST /v1/messages */
struct api_messages *
api_messages_new(const struct outpost_conf *conf, struct submit *sub)
{
    struct api_messages *a = xcalloc(1, sizeof(*a));

    a->conf = conf;
    a->sub = sub;
    pthread_mutex_init(&a->lock, NULL);
    a->rc = rconn_new(&conf->redis);
    return a;
}

/* api_messages_free - after the last done() */
void
api_messages_free(struct api_messages *a)
{
    rconn_free(a->rc);
    pthread_mutex_destroy(&a->lock);
    free(a);
}
