/*
 * api_work - what the platform API asks of Redis, in a thread of its own
 *	      (see api_work.h)
 *
 * [httpd] threads workers, each with its own connection, take the jobs in
 * the order they came (a request has one job at a time).  Each answer
 * is a JSON document made here with jsonw(3) into memory: the HTTP thread
 * only sends it.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api_gcra_lua.h"
#include "api_work.h"
#include "dnsq.h"
#include "domcheck.h"
#include "events.h"
#include "gcra.h"
#include "jsonw.h"
#include "msg.h"
#include "onboard.h"
#include "redisconn.h"
#include "stats_report.h"
#include "xalloc.h"

#define RETRY_UNAVAILABLE 5	/* seconds: Redis away, the queue full */
#define LIST_CHUNK	4096	/* buckets per walk */
#define LIST_SCAN_MAX	65536	/* buckets one page looks at, at most */
#define VERIFY_CACHE_TTL 60	/* seconds an answer of /v1/domains/D/verify is kept */
#define VERIFY_CACHE_MAX 256	/* domains kept, at most */

/* one worker thread and its own connection */
struct api_worker {
    const struct outpost_conf *conf;
    struct api_work *work;
    pthread_t thread;
    struct rconn *rc;
    struct sup_store *sup;
    struct rscript gcra;
    struct dnsq *dq;		/* GET /v1/domains/D/verify, [dns] lookup_timeout */
};

/* the answer of GET /v1/domains/D/verify for one domain, or its making */
struct verify_slot {
    char domain[DOMAIN_MAX];	/* "": free */
    long long at;		/* when it was made */
    char *body;			/* NULL: a worker is making it */
};

struct api_work {
    const struct outpost_conf *conf;
    struct api_messages *messages;	/* POST /v1/messages; NULL: none */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;
    long queued, max;
    struct api_job *head, *tail;
    struct api_worker *workers;
    size_t nworkers;
    /* answers of /v1/domains/D/verify: one DNS run per domain per VERIFY_CACHE_TTL */
    pthread_mutex_t vlock;
    pthread_cond_t vdone;
    struct verify_slot vcache[VERIFY_CACHE_MAX];
};

/* a document being written into memory */
struct doc {
    FILE *fp;
    char *buf;
    size_t len;
    struct jsonw w;
};

static void *run(void *arg);

/* ---------------------------------------------------------------- documents */

/* doc_open - start a JSON document in memory */
static struct jsonw *
doc_open(struct doc *d)
{
    d->buf = NULL;
    d->len = 0;
    if ((d->fp = open_memstream(&d->buf, &d->len)) == NULL)
	msg_fatal("open_memstream: %s", strerror(errno));
    jsonw_init(&d->w, d->fp);
    return &d->w;
}

/* doc_close - the finished document, to free */
static char *
doc_close(struct doc *d)
{
    if (fclose(d->fp) != 0 || d->buf == NULL)
	msg_fatal("open_memstream: out of memory");
    return d->buf;
}

/* api_error_body - {"error":{"code","message"}} */
char *
api_error_body(const char *code, const char *message)
{
    struct doc d;
    struct jsonw *w = doc_open(&d);

    jsonw_object(w, NULL);
    jsonw_object(w, "error");
    jsonw_string(w, "code", code);
    jsonw_string(w, "message", message);
    jsonw_end(w);
    jsonw_end(w);
    return doc_close(&d);
}

/* fail - answer a job with an error */
static int
fail(struct api_job *job, unsigned status, const char *code, const char *message)
{
    job->status = status;
    job->body_out = api_error_body(code, message);
    if (status == 503)
	job->retry_after = RETRY_UNAVAILABLE;
    return -1;
}

/* unavailable - Redis could not answer */
static int
unavailable(struct api_job *job)
{
    return fail(job, 503, "unavailable", "the relay's database cannot be reached; "
		"try again later");
}

/* entry_json - one suppression as a JSON object */
static void
entry_json(struct jsonw *w, const char *key, const struct sup_entry *e)
{
    jsonw_object(w, key);
    jsonw_string(w, "address", e->target);
    jsonw_string(w, "domain", e->scope[0] ? e->scope : NULL);
    jsonw_string(w, "reason", sup_reason_name(e->reason));
    jsonw_string(w, "source", e->source[0] ? e->source : NULL);
    jsonw_time(w, "created", e->created);
    jsonw_time(w, "expires", e->expires);
    jsonw_end(w);
}

/* ---------------------------------------------------------------- keys */

/* domain_ok - one of the key's domains that its tenant still owns */
static int
domain_ok(const struct api_worker *w, const struct api_job *job,
	  const struct conf_tenant *t, const char *domain)
{
    return apikey_has_domain(&job->k, domain) && conf_tenant_of_domain(job->conf, domain) == t;
}

/* one_domain - the only domain of the key its tenant owns, or NULL */
static const char *
one_domain(const struct api_worker *w, const struct api_job *job, const struct conf_tenant *t)
{
    const char *found = NULL;
    size_t i;

    for (i = 0; i < t->domains.n; i++) {
	if (!domain_ok(w, job, t, t->domains.v[i]))
	    continue;
	if (found)
	    return NULL;
	found = t->domains.v[i];
    }
    return found;
}

/* rate - charge the key's rate limit; 0, or -1 with the job answered */
static int
rate(struct api_worker *w, struct api_job *job, const struct conf_tenant *t)
{
    char key[256], iv[24], tol[24];
    const char *argv[7];
    struct gcra g;
    redisReply *r;
    long long wait;
    int rv = 0;

    gcra_init(&g, &t->api_rate, t->api_burst);
    apikey_rate_key(key, sizeof(key), w->conf->redis.prefix, job->k.id);
    snprintf(iv, sizeof(iv), "%lld", g.interval_us);
    snprintf(tol, sizeof(tol), "%lld", g.tolerance_us);
    /* one limit, no pool: KEYS the TAT; ARGV tz, NG, interval, tolerance, NP, group */
    argv[0] = key, argv[1] = "0", argv[2] = "1", argv[3] = iv, argv[4] = tol;
    argv[5] = "0", argv[6] = "";
    r = rconn_eval(w->rc, &w->gcra, 1, 7, argv, NULL);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 3
	|| r->element[0]->type != REDIS_REPLY_INTEGER
	|| r->element[2]->type != REDIS_REPLY_INTEGER) {
	if (r && r->type == REDIS_REPLY_ERROR)
	    msg_warn("redis: API rate limit: %s", r->str);
	rv = unavailable(job);
    } else if (r->element[0]->integer != 0) {
	wait = r->element[2]->integer;
	job->status = 429;
	job->body_out = api_error_body("rate_limited", "too many requests for this key; "
				       "see Retry-After");
	job->retry_after = (long) ((wait + 999999) / 1000000);
	if (job->retry_after < 1)
	    job->retry_after = 1;
	rv = -1;
    }
    if (r)
	freeReplyObject(r);
    return rv;
}

/* unauthorized - a 401, charged to the client's failed authentications */
static int
unauthorized(struct api_job *job, const char *message)
{
    authlimit_charge(job->authlimit, &job->conf->httpd, &job->client);
    return fail(job, 401, "unauthorized", message);
}

/* auth - check the key, its rate, scope and domain; 0 or -1 (answered) */
static int
auth(struct api_worker *w, struct api_job *job)
{
    const struct api_route *rt = job->rt;
    const struct conf_tenant *t;
    char id[APIKEY_ID_MAX], hash[APIKEY_HASH_MAX];
    const char *d;
    long retry;
    int got;

    /* again here: failures may have come while the job waited */
    if ((retry = authlimit_retry(job->authlimit, &job->conf->httpd, &job->client)) > 0) {
	fail(job, 429, "rate_limited", AUTHLIMIT_MESSAGE);
	job->retry_after = retry;
	job->auth_limited = 1;
	return -1;
    }
    if (apikey_parse(job->key, strlen(job->key), id) < 0)
	return unauthorized(job, "a valid API key is required (Authorization: Bearer KEY)");
    if ((got = apikey_get(w->rc, w->conf->redis.prefix, id, &job->k)) < 0)
	return unavailable(job);
    apikey_hash(job->key, strlen(job->key), hash);
    if (got == 0 || !apikey_hash_equal(hash, job->k.hash)
	|| (t = conf_tenant_find(job->conf, job->k.tenant)) == NULL)
	return unauthorized(job, "unknown or revoked API key");
    if (rate(w, job, t) < 0)
	return -1;
    if ((job->k.scopes & rt->scope) == 0)
	return fail(job, 403, "forbidden", "this key has not the scope of this request");
    if (rt->domain[0]) {
	if (!domain_ok(w, job, t, rt->domain))
	    return fail(job, 403, "forbidden", "this key may not act for that domain");
	snprintf(job->domain, sizeof(job->domain), "%s", rt->domain);
    } else if (rt->op != API_STATS && rt->op != API_MESSAGES && rt->op != API_EVENTS) {
	if ((d = one_domain(w, job, t)) == NULL)
	    return fail(job, 400, "domain_required", "this key has several domains: "
			"name one with ?domain=");
	snprintf(job->domain, sizeof(job->domain), "%s", d);
    }
    return 0;
}

/* ---------------------------------------------------------------- suppressions */

/* sup_get - GET /v1/suppressions/ADDRESS: what stops mail to it from the domain */
static void
sup_get(struct api_worker *w, struct api_job *job)
{
    struct sup_entry hit;
    struct doc d;
    struct jsonw *jw;
    int r = sup_check(w->sup, job->rt->target, job->domain, job->now, NULL, &hit);

    if (r < 0) {
	unavailable(job);
	return;
    }
    if (r == 0) {
	fail(job, 404, "not_found", "not suppressed for this domain");
	return;
    }
    jw = doc_open(&d);
    jsonw_object(jw, NULL);
    jsonw_string(jw, "address", job->rt->target);
    jsonw_string(jw, "domain", job->domain);
    jsonw_bool(jw, "suppressed", 1);
    entry_json(jw, "entry", &hit);
    jsonw_end(jw);
    job->status = 200;
    job->body_out = doc_close(&d);
}

/* sup_put - PUT /v1/suppressions/ADDRESS: suppress it in the domain's scope */
static void
sup_put(struct api_worker *w, struct api_job *job)
{
    struct sup_entry e;
    char csv[SUP_CSV_LINE_MAX];
    const char *why;
    struct doc d;
    struct jsonw *jw;

    if (job->body && job->body_len > 0) {
	if (api_json_row(job->body, job->body_len, job->rt->target, csv, sizeof(csv),
			 &why) < 0 || sup_csv_parse(csv, strlen(csv), job->now, &e, &why) < 0) {
	    fail(job, 400, "invalid", why);
	    return;
	}
	if (strcmp(e.target, job->rt->target) != 0) {
	    fail(job, 400, "invalid", "the body names another address than the path");
	    return;
	}
	if (e.scope[0] && strcmp(e.scope, job->domain) != 0) {
	    fail(job, 403, "forbidden", "the body names another domain than the request");
	    return;
	}
	if (e.expires && e.expires <= job->now) {
	    fail(job, 400, "invalid", "expires is in the past");
	    return;
	}
    } else {
	memset(&e, 0, sizeof(e));
	snprintf(e.target, sizeof(e.target), "%s", job->rt->target);
	e.reason = SUP_MANUAL;
	e.created = job->now;
    }
    snprintf(e.scope, sizeof(e.scope), "%s", job->domain);
    if (e.source[0] == '\0')
	snprintf(e.source, sizeof(e.source), "api");
    if (sup_add(w->sup, &e, 1) < 0) {
	unavailable(job);
	return;
    }
    jw = doc_open(&d);
    jsonw_object(jw, NULL);
    entry_json(jw, "entry", &e);
    jsonw_end(jw);
    job->status = 200;
    job->body_out = doc_close(&d);
}

/* sup_delete - DELETE /v1/suppressions/ADDRESS: its entry in the domain's scope */
static void
sup_delete(struct api_worker *w, struct api_job *job)
{
    int r = sup_remove(w->sup, job->rt->target, job->domain);

    if (r < 0)
	unavailable(job);
    else if (r == 0)
	fail(job, 404, "not_found", "no entry for this address in this domain's scope");
    else
	job->status = 204;
}

/* a page of GET /v1/suppressions */
struct page {
    const struct sup_store *sup;
    const char *domain;
    struct jsonw *w;
    long n, limit;
    unsigned last, stop;
};

/* page_add - sup_walk_buckets() callback: the domain's entries, whole buckets */
static int
page_add(const struct sup_entry *e, void *arg)
{
    struct page *p = arg;
    unsigned b;

    if (strcmp(e->scope, p->domain) != 0)
	return 0;
    b = sup_store_bucket(p->sup, e->target);
    if (p->n >= p->limit && b != p->last) {
	p->stop = b;
	return 1;
    }
    entry_json(p->w, NULL, e);
    p->n++;
    p->last = b;
    return 0;
}

/* sup_list - GET /v1/suppressions: a page, in constant memory */
static void
sup_list(struct api_worker *w, struct api_job *job)
{
    struct page p;
    struct doc d;
    unsigned pos = job->rt->cursor, scanned = 0;
    long long next = -1;
    char nx[24];
    int r = 0;

    memset(&p, 0, sizeof(p));
    p.sup = w->sup;
    p.domain = job->domain;
    p.limit = job->rt->limit;
    p.w = doc_open(&d);
    jsonw_object(p.w, NULL);
    jsonw_string(p.w, "domain", job->domain);
    jsonw_array(p.w, "entries");
    while (pos < sup_store_buckets(w->sup)) {
	if ((r = sup_walk_buckets(w->sup, pos, LIST_CHUNK, page_add, &p)) != 0)
	    break;
	pos += LIST_CHUNK;
	scanned += LIST_CHUNK;
	if (p.n >= p.limit || scanned >= LIST_SCAN_MAX)
	    break;
    }
    if (r < 0) {
	free(doc_close(&d));
	unavailable(job);
	return;
    }
    if (r == 1)
	next = p.stop;
    else if (pos < sup_store_buckets(w->sup))
	next = pos;
    jsonw_end(p.w);
    if (next >= 0) {
	snprintf(nx, sizeof(nx), "%lld", next);
	jsonw_string(p.w, "next", nx);
    } else {
	jsonw_null(p.w, "next");
    }
    jsonw_end(p.w);
    job->status = 200;
    job->body_out = doc_close(&d);
}

/* import - write one batch of an import, each entry in a domain of the key */
static void
import(struct api_worker *w, struct api_job *job)
{
    const struct conf_tenant *t = conf_tenant_find(job->conf, job->k.tenant);
    struct sup_batch *b = sup_batch_new(w->sup, 0);
    struct sup_entry *e;
    size_t i;
    int r = 0;

    job->written = job->refused = job->refused_line = 0;
    for (i = 0; i < job->nentries && r >= 0; i++) {
	e = &job->entries[i];
	if (e->scope[0] == '\0') {
	    snprintf(e->scope, sizeof(e->scope), "%s", job->domain);
	} else if (t == NULL || !domain_ok(w, job, t, e->scope)) {
	    if (job->refused++ == 0)
		job->refused_line = job->lines[i];
	    continue;
	}
	if ((r = sup_batch_add(b, e)) >= 0)
	    job->written++;
    }
    if (r >= 0)
	r = sup_batch_flush(b);
    sup_batch_free(b);
    if (r < 0) {
	unavailable(job);
	return;
    }
    job->status = 200;
}

/* keep_sender - stats_report callback: a sender domain of the request? */
static int
keep_sender(const char *sender, void *arg)
{
    struct api_job *job = ((void **) arg)[0];
    struct api_worker *w = ((void **) arg)[1];
    const struct conf_tenant *t = conf_tenant_find(job->conf, job->k.tenant);

    if (job->domain[0])
	return strcasecmp(sender, job->domain) == 0;
    return t && domain_ok(w, job, t, sender);
}

/* stats - GET /v1/stats */
static void
stats(struct api_worker *w, struct api_job *job)
{
    struct stats_report rep;
    struct doc d;
    void *arg[2] = {job, w};
    const char *why;

    if (stats_report_init(&rep, job->rt->by, job->rt->since[0] ? job->rt->since : NULL,
			  job->now, &why) < 0) {
	fail(job, 400, "invalid", why);
	return;
    }
    rep.keep = keep_sender;
    rep.keep_arg = arg;
    if (stats_report_read(&rep, w->rc, w->conf->redis.prefix) < 0) {
	stats_report_free(&rep);
	unavailable(job);
	return;
    }
    doc_open(&d);
    stats_report_json(&rep, &d.w);
    stats_report_free(&rep);
    job->status = 200;
    job->body_out = doc_close(&d);
}

/* ---------------------------------------------------------------- events */

/* one page of GET /v1/events being written */
struct ev_page {
    struct api_worker *w;
    struct api_job *job;
    const struct conf_tenant *t;
    struct jsonw *jw;
    char last[API_AFTER_MAX];
};

/* ev_one - events_scan callback: an event of the key's domains goes in */
static void
ev_one(const char *id, size_t n, const char *const *kv, const size_t *kvlen, void *arg)
{
    struct ev_page *pg = arg;
    char sender[DOMAIN_MAX] = "";
    size_t i;

    snprintf(pg->last, sizeof(pg->last), "%s", id);
    for (i = 0; i < n; i++)
	if (kvlen[2 * i] == 6 && memcmp(kv[2 * i], "sender", 6) == 0
	    && kvlen[2 * i + 1] < sizeof(sender))
	    memcpy(sender, kv[2 * i + 1], kvlen[2 * i + 1]), sender[kvlen[2 * i + 1]] = '\0';
    if (pg->job->domain[0] ? strcasecmp(sender, pg->job->domain) != 0
	: !domain_ok(pg->w, pg->job, pg->t, sender))
	return;
    events_json_entry(pg->jw, id, n, kv, kvlen);
}

/* events - GET /v1/events: the tenant's events of the key's domains, after ?after= */
static void
events(struct api_worker *w, struct api_job *job)
{
    struct ev_page pg;
    struct doc d;
    int got;

    memset(&pg, 0, sizeof(pg));
    pg.w = w;
    pg.job = job;
    pg.t = conf_tenant_find(job->conf, job->k.tenant);
    pg.jw = doc_open(&d);
    snprintf(pg.last, sizeof(pg.last), "%s", job->rt->after[0] ? job->rt->after : "0-0");
    jsonw_object(pg.jw, NULL);
    jsonw_array(pg.jw, "events");
    got = events_scan(w->rc, w->conf->redis.prefix, pg.t->named.name,
		      job->rt->after[0] ? job->rt->after : NULL, job->rt->limit, ev_one, &pg);
    jsonw_end(pg.jw);
    jsonw_string(pg.jw, "next", pg.last);
    jsonw_end(pg.jw);
    job->body_out = doc_close(&d);
    if (got >= 0) {
	job->status = 200;
	return;
    }
    free(job->body_out);
    job->body_out = NULL;
    if (got == -2)
	fail(job, 400, "invalid", "after: an event id (MS-SEQ)");
    else
	unavailable(job);
}

/* ---------------------------------------------------------------- verify */

/*
 * verify_claim - the cached answer of a domain (a copy, to free), or NULL
 * with a slot claimed for it, which the caller fills with verify_store().
 * A domain another worker is checking is waited for, so that clients
 * asking at once cause one run of lookups.  *slot is -1 when no slot is
 * free (every one being made): the caller checks without caching.
 */
static char *
verify_claim(struct api_work *w, const char *domain, long long now, int *slot)
{
    struct verify_slot *s, *use = NULL;
    char *body = NULL;
    size_t i;
    int oldest;

    pthread_mutex_lock(&w->vlock);
again:
    for (i = 0; i < VERIFY_CACHE_MAX; i++) {
	s = &w->vcache[i];
	if (strcmp(s->domain, domain) != 0)
	    continue;
	if (s->body == NULL) {
	    pthread_cond_wait(&w->vdone, &w->vlock);
	    goto again;
	}
	if (now - s->at < VERIFY_CACHE_TTL && now >= s->at)
	    body = xstrdup(s->body);
	use = s;
	break;
    }
    /* not there: a free slot, else the oldest finished one */
    for (i = 0; use == NULL && i < VERIFY_CACHE_MAX; i++)
	if (w->vcache[i].domain[0] == '\0')
	    use = &w->vcache[i];
    oldest = use == NULL;
    for (i = 0; oldest && i < VERIFY_CACHE_MAX; i++) {
	s = &w->vcache[i];
	if (s->body && (use == NULL || s->at < use->at))
	    use = s;
    }
    *slot = -1;
    if (body == NULL && use) {
	free(use->body);
	use->body = NULL;
	snprintf(use->domain, sizeof(use->domain), "%s", domain);
	*slot = (int) (use - w->vcache);
    }
    pthread_mutex_unlock(&w->vlock);
    return body;
}

/* verify_store - a claimed slot's answer (a copy is kept), or NULL: free it */
static void
verify_store(struct api_work *w, int slot, const char *body, long long now)
{
    struct verify_slot *s;

    if (slot < 0)
	return;
    pthread_mutex_lock(&w->vlock);
    s = &w->vcache[slot];
    if (body) {
	s->body = xstrdup(body);
	s->at = now;
    } else {
	s->domain[0] = '\0';
    }
    pthread_cond_broadcast(&w->vdone);
    pthread_mutex_unlock(&w->vlock);
}

/* verify - GET /v1/domains/D/verify: outpostctl verify --json of the domain */
static void
verify(struct api_worker *w, struct api_job *job)
{
    struct onboard o;
    struct domcheck dc;
    struct doc d;
    char err[700];
    int slot;

    if ((job->body_out = verify_claim(w->work, job->domain, job->now, &slot)) != NULL) {
	job->status = 200;
	return;
    }
    if (onboard_init(&o, job->conf, job->domain, NULL, err, sizeof(err)) < 0) {
	verify_store(w->work, slot, NULL, job->now);
	fail(job, 500, "misconfigured", err);
	return;
    }
    dnsq_timeout(w->dq, job->conf->dns.lookup_timeout_ms);
    domcheck_run(&dc, &o, w->dq);
    doc_open(&d);
    domcheck_json(&dc, &d.w);
    domcheck_free(&dc);
    onboard_free(&o);
    job->status = 200;
    job->body_out = doc_close(&d);
    verify_store(w->work, slot, job->body_out, job->now);
}

/* ---------------------------------------------------------------- messages */

/* messages_done - api_messages(3) answered: the job's answer, the caller told */
static void
messages_done(struct api_call *call)
{
    struct api_job *job = call->arg;

    job->status = (unsigned) call->status;
    job->body_out = call->answer;
    job->retry_after = call->status == 503 ? RETRY_UNAVAILABLE : 0;
    free(job->domcopy);
    free(job->domv);
    job->domcopy = NULL;
    job->domv = NULL;
    job->done(job);
}

/* messages - POST /v1/messages: handed over; 1, the answer comes later */
static int
messages(struct api_worker *w, struct api_job *job)
{
    const struct conf_tenant *t = conf_tenant_find(job->conf, job->k.tenant);
    char *p, *save = NULL;
    size_t n = 0, cap = 1;

    if (w->work->messages == NULL) {
	fail(job, 404, "not_found", "no such endpoint");
	return 0;
    }
    job->domcopy = xstrdup(job->domain[0] ? job->domain : job->k.domains);
    for (p = job->domcopy; *p; p++)
	cap += *p == ',';
    job->domv = xcalloc(cap, sizeof(*job->domv));
    for (p = strtok_r(job->domcopy, ",", &save); p; p = strtok_r(NULL, ",", &save))
	if (domain_ok(w, job, t, p))
	    job->domv[n++] = p;
    memset(&job->call, 0, sizeof(job->call));
    job->call.tenant = t;
    job->call.domains = job->domv;
    job->call.ndomains = n;
    job->call.body = job->body ? job->body : "";
    job->call.body_len = job->body_len;
    job->call.idem_key = job->idem_key;
    job->call.key_id = job->k.id;
    job->call.done = messages_done;
    job->call.arg = job;
    job->call.conf = job->conf;
    api_messages_post(w->work->messages, &job->call);
    return 1;
}

/* do_job - one job: 0 answered (the caller calls done()), 1 answered later */
static int
do_job(struct api_worker *w, struct api_job *job)
{
    job->status = 500;
    job->body_out = NULL;
    job->retry_after = 0;
    if (job->kind == API_JOB_IMPORT) {
	if (!job->need_auth || auth(w, job) == 0)
	    import(w, job);
	return 0;
    }
    if (job->kind == API_JOB_AUTH) {
	if (auth(w, job) == 0)
	    job->status = 200;
	return 0;
    }
    if (job->need_auth && auth(w, job) < 0)
	return 0;
    switch (job->rt->op) {
    case API_SUP_GET: sup_get(w, job); break;
    case API_SUP_PUT: sup_put(w, job); break;
    case API_SUP_DELETE: sup_delete(w, job); break;
    case API_SUP_LIST: sup_list(w, job); break;
    case API_STATS: stats(w, job); break;
    case API_EVENTS: events(w, job); break;
    case API_VERIFY: verify(w, job); break;
    case API_MESSAGES: return messages(w, job);
    default: fail(job, 404, "not_found", "no such endpoint"); break;
    }
    return 0;
}

/* ---------------------------------------------------------------- the thread */

/* api_work_start - the worker threads ([httpd] threads) and their queue */
struct api_work *
api_work_start(const struct outpost_conf *conf, struct api_messages *messages)
{
    struct api_work *w = xcalloc(1, sizeof(*w));
    struct api_worker *k;
    size_t i;
    int err;

    w->conf = conf;
    w->messages = messages;
    w->max = conf->httpd.queue_max;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    pthread_mutex_init(&w->vlock, NULL);
    pthread_cond_init(&w->vdone, NULL);
    w->nworkers = (size_t) conf->httpd.threads;
    w->workers = xcalloc(w->nworkers, sizeof(*w->workers));
    for (i = 0; i < w->nworkers; i++) {
	k = &w->workers[i];
	k->conf = conf;
	k->work = w;
	rscript_init(&k->gcra, api_gcra_lua);
	k->rc = rconn_new(&conf->redis);
	k->sup = sup_store_new(k->rc, conf->redis.prefix);
	k->dq = dnsq_new();
	dnsq_timeout(k->dq, conf->dns.lookup_timeout_ms);
	if ((err = pthread_create(&k->thread, NULL, run, k)) != 0)
	    msg_fatal("pthread_create: %s", strerror(err));
    }
    return w;
}

/* api_work_queue - queue a job; -1: the queue is full */
int
api_work_queue(struct api_work *w, struct api_job *job)
{
    pthread_mutex_lock(&w->lock);
    if (w->stop || w->queued >= w->max) {
	pthread_mutex_unlock(&w->lock);
	return -1;
    }
    job->next = NULL;
    if (w->tail)
	w->tail->next = job;
    else
	w->head = job;
    w->tail = job;
    w->queued++;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    return 0;
}

/* run - a worker: jobs in the order they came */
static void *
run(void *arg)
{
    struct api_worker *k = arg;
    struct api_work *w = k->work;
    struct api_job *job;
    int stop;

    for (;;) {
	pthread_mutex_lock(&w->lock);
	while (!w->stop && w->head == NULL)
	    pthread_cond_wait(&w->wake, &w->lock);
	stop = w->stop;
	if ((job = w->head) != NULL) {
	    if ((w->head = job->next) == NULL)
		w->tail = NULL;
	    w->queued--;
	}
	pthread_mutex_unlock(&w->lock);
	if (job == NULL && stop)
	    break;
	if (stop) {
	    job->body_out = NULL;
	    fail(job, 503, "unavailable", "the server is stopping");
	} else if (do_job(k, job)) {
	    continue;			/* answered from another thread: job may be gone */
	}
	job->done(job);
    }
    return NULL;
}

/* api_work_stop - answer what waits, join */
void
api_work_stop(struct api_work *w)
{
    size_t i;

    pthread_mutex_lock(&w->lock);
    w->stop = 1;
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->lock);
    for (i = 0; i < w->nworkers; i++)
	pthread_join(w->workers[i].thread, NULL);
}

/* api_work_free - release, once nothing can queue */
void
api_work_free(struct api_work *w)
{
    size_t i;

    if (w == NULL)
	return;
    for (i = 0; i < w->nworkers; i++) {
	sup_store_free(w->workers[i].sup);
	rconn_free(w->workers[i].rc);
	dnsq_free(w->workers[i].dq);
    }
    for (i = 0; i < VERIFY_CACHE_MAX; i++)
	free(w->vcache[i].body);
    pthread_cond_destroy(&w->vdone);
    pthread_mutex_destroy(&w->vlock);
    free(w->workers);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
