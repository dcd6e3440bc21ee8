/*
 * api - the platform API of outpost-httpd (see api.h)
 *
 * Each request goes through the same steps: its route and query are read
 * at the first call (the headers), its body at the next ones, and at the
 * last one a job goes to the worker with the connection suspended; the
 * worker resumes it with the answer.  An import sends a job each time a
 * batch of rows is full, and reads on once the worker has written it.
 * An import and POST /v1/messages (whose body is kept whole, up to
 * api_max_message) have their key checked by a job of its own when their
 * body begins: a stranger's body is neither read nor kept.  A request
 * keeps the settings in force when it began (hsettings(3)) until its
 * end: its limits, its tenants.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "api.h"
#include "api_parse.h"
#include "api_work.h"
#include "authlimit.h"
#include "clientaddr.h"
#include "hmetrics.h"
#include "hsettings.h"
#include "jsonw.h"
#include "mhdstart.h"
#include "msg.h"
#include "suppress.h"
#include "xalloc.h"

#define IMPORT_ERRORS	10	/* invalid rows reported one by one */

struct api {
    const struct outpost_conf *conf;	/* at start: the listeners' limits */
    struct api_work *work;
    struct hmetrics *m;
    struct authlimit *authlimit;	/* failed authentications per client */
};

/* one invalid row */
struct row_error {
    long long line;
    char why[120];
};

/* one request in progress */
struct api_req {
    struct api *a;
    struct hsettings *hs;	/* the request's settings: a reference */
    struct MHD_Connection *conn;
    struct api_route rt;
    unsigned err_status;	/* an answer decided before the end: 0 none */
    char *err_body;
    long err_retry;
    const char *allow;		/* a 405's Allow header (static) */
    int queued, done;		/* a job is with the worker; its answer is in */
    int final;			/* the request's job has been answered */
    unsigned long long received;
    char *body;			/* a PUT's */
    size_t blen;
    struct api_job job;
    int authed;			/* its key checked by an earlier job */
    /* an import */
    char line[SUP_CSV_LINE_MAX + 1];
    size_t llen;
    int toolong;
    long long lineno, added, skipped, invalid;
    struct sup_entry *batch;
    long long *lines;
    size_t nbatch;
    struct row_error errs[IMPORT_ERRORS];
    int nerrs;
};

/* ---------------------------------------------------------------- answers */

/* answer - a JSON answer (body NULL: none), with Retry-After when retry > 0; counted */
static enum MHD_Result
answer(struct api_req *q, unsigned status, char *body, long retry)
{
    static const int route[] = {
	[API_NONE] = HM_API_OTHER, [API_SUP_GET] = HM_API_SUPPRESSION,
	[API_SUP_PUT] = HM_API_SUPPRESSION, [API_SUP_DELETE] = HM_API_SUPPRESSION,
	[API_SUP_LIST] = HM_API_LIST, [API_SUP_IMPORT] = HM_API_IMPORT,
	[API_STATS] = HM_API_STATS, [API_MESSAGES] = HM_API_MESSAGES,
	[API_EVENTS] = HM_API_EVENTS, [API_VERIFY] = HM_API_VERIFY,
    };
    struct MHD_Connection *conn = q->conn;
    struct MHD_Response *r;
    enum MHD_Result rv;
    char ra[24];

    hmetrics_api(q->a->m, route[q->rt.op], status);
    if (status == 401)
	PROM_INC(q->a->m->auth_failures);
    else if (status == 429 && q->job.auth_limited)
	PROM_INC(q->a->m->auth_limited);

    r = MHD_create_response_from_buffer(body ? strlen(body) : 0, body ? body : (void *) "",
					body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (body)
	MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (retry > 0) {
	snprintf(ra, sizeof(ra), "%ld", retry);
	MHD_add_response_header(r, "Retry-After", ra);
    }
    if (status == 405 && q->allow)
	MHD_add_response_header(r, "Allow", q->allow);
    rv = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rv;
}

/* refuse - decide an error answer now, give it at the end of the request */
static void
refuse(struct api_req *q, unsigned status, const char *code, const char *message)
{
    if (q->err_status)
	return;
    q->err_status = status;
    q->err_body = api_error_body(code, message);
    q->err_retry = status == 503 ? 5 : 0;
}

/* finished - the worker's callback: the answer is in, go on */
static void
finished(struct api_job *job)
{
    struct api_req *q = job->arg;

    q->done = 1;
    MHD_resume_connection(q->conn);
}

/* send_job - to the worker, the connection suspended meanwhile */
static void
send_job(struct api_req *q)
{
    q->job.rt = &q->rt;
    q->job.now = (long long) time(NULL);
    q->job.done = finished;
    q->job.arg = q;
    q->queued = 1;
    q->done = 0;
    /* suspended before it is queued: the worker may resume it at once */
    MHD_suspend_connection(q->conn);
    if (api_work_queue(q->a->work, &q->job) < 0) {
	msg_warn("API: the queue to Redis is full (answered 503)");
	q->job.status = 503;
	q->job.body_out = api_error_body("unavailable", "the server is busy; try again later");
	q->job.retry_after = 5;
	q->done = 1;
	MHD_resume_connection(q->conn);
    }
}

/* job_refused - the worker's answer is not a 200: keep it as the request's error */
static int
job_refused(struct api_req *q)
{
    if (q->job.status == 200) {
	free(q->job.body_out);
	q->job.body_out = NULL;
	return 0;
    }
    q->err_status = q->job.status;
    q->err_body = q->job.body_out;
    q->err_retry = q->job.retry_after;
    q->job.body_out = NULL;
    return 1;
}

/* auth_result - the worker checked the key of a request with a body */
static void
auth_result(struct api_req *q)
{
    if (job_refused(q))
	return;
    q->authed = 1;
    if (q->rt.op == API_SUP_IMPORT) {
	q->batch = xcalloc(API_IMPORT_BATCH, sizeof(*q->batch));
	q->lines = xcalloc(API_IMPORT_BATCH, sizeof(*q->lines));
    }
}

/* ---------------------------------------------------------------- imports */

/* row_error - count an invalid row, keep the first few */
static void
row_error(struct api_req *q, long long line, const char *why)
{
    q->invalid++;
    if (q->nerrs < IMPORT_ERRORS) {
	q->errs[q->nerrs].line = line;
	snprintf(q->errs[q->nerrs].why, sizeof(q->errs[q->nerrs].why), "%s", why);
	q->nerrs++;
    }
}

/* import_row - one complete line of an import: CSV, or a JSON object */
static void
import_row(struct api_req *q)
{
    char csv[SUP_CSV_LINE_MAX];
    const char *row = q->line, *why;
    size_t len = q->llen, skip;
    struct sup_entry *e;

    q->lineno++;
    if (q->toolong) {
	row_error(q, q->lineno, "line longer than 1024 characters");
	return;
    }
    while (len > 0 && q->line[len - 1] == '\r')
	len--;
    skip = strspn(row, " \t");
    if (skip == len || row[0] == '#' || (q->lineno == 1 && sup_csv_is_header(row, len)))
	return;
    if (row[skip] == '{') {
	if (api_json_row(row + skip, len - skip, NULL, csv, sizeof(csv), &why) < 0) {
	    row_error(q, q->lineno, why);
	    return;
	}
	row = csv;
	len = strlen(csv);
    }
    e = &q->batch[q->nbatch];
    if (sup_csv_parse(row, len, (long long) time(NULL), e, &why) < 0) {
	row_error(q, q->lineno, why);
	return;
    }
    if (e->expires && e->expires <= (long long) time(NULL)) {
	q->skipped++;
	return;
    }
    if (e->source[0] == '\0')
	snprintf(e->source, sizeof(e->source), "api-import");
    q->lines[q->nbatch++] = q->lineno;
}

/* import_send - the rows gathered, to the worker */
static void
import_send(struct api_req *q)
{
    q->job.kind = API_JOB_IMPORT;
    q->job.need_auth = !q->authed;
    q->job.entries = q->batch;
    q->job.lines = q->lines;
    q->job.nentries = q->nbatch;
    send_job(q);
}

/* import_result - the worker wrote a batch (or refused the key) */
static void
import_result(struct api_req *q)
{
    if (job_refused(q))
	return;
    q->authed = 1;			/* an import without a body: checked now */
    q->added += q->job.written;
    if (q->job.refused > 0) {
	q->invalid += q->job.refused - 1;
	row_error(q, q->job.refused_line, "domain: not one of this key's domains");
    }
    q->nbatch = 0;
}

/* import_data - read rows; stop when a batch is full (the rest stays in *size) */
static void
import_data(struct api_req *q, const char *data, size_t *size)
{
    size_t i;

    for (i = 0; i < *size; i++) {
	if (data[i] != '\n') {
	    if (data[i] == '\0' || q->llen + 1 >= sizeof(q->line))
		q->toolong = 1;
	    else
		q->line[q->llen++] = data[i];
	    continue;
	}
	q->line[q->llen] = '\0';
	import_row(q);
	q->llen = 0;
	q->toolong = 0;
	if (q->nbatch == API_IMPORT_BATCH) {
	    *size -= i + 1;
	    import_send(q);
	    return;
	}
    }
    *size = 0;
}

/* import_answer - the counts of a finished import */
static enum MHD_Result
import_answer(struct api_req *q)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    struct jsonw w;
    int i;

    if (fp == NULL)
	msg_fatal("open_memstream failed");
    jsonw_init(&w, fp);
    jsonw_object(&w, NULL);
    jsonw_string(&w, "domain", q->job.domain);
    jsonw_int(&w, "added", q->added);
    jsonw_int(&w, "skipped", q->skipped);
    jsonw_int(&w, "invalid", q->invalid);
    jsonw_array(&w, "errors");
    for (i = 0; i < q->nerrs; i++) {
	jsonw_object(&w, NULL);
	jsonw_int(&w, "line", q->errs[i].line);
	jsonw_string(&w, "message", q->errs[i].why);
	jsonw_end(&w);
    }
    jsonw_end(&w);
    jsonw_end(&w);
    if (fclose(fp) != 0 || buf == NULL)
	msg_fatal("open_memstream failed");
    return answer(q, 200, buf, 0);
}

/* ---------------------------------------------------------------- the handler */

/* query_arg - each query argument into the route */
static enum MHD_Result
query_arg(void *cls, enum MHD_ValueKind kind, const char *name, const char *value)
{
    struct api_req *q = cls;
    const char *why = "bad query";

    (void) kind;
    if (api_query(&q->rt, name, value, &why) != 0)
	refuse(q, 400, "invalid", why);
    return MHD_YES;
}

/* begin - the first call: the client's failures, route, query, key */
static struct api_req *
begin(struct api *a, struct MHD_Connection *conn, const char *url, const char *method)
{
    struct api_req *q = xcalloc(1, sizeof(*q));
    const char *why = "";
    char allow[64], addr[INET6_ADDRSTRLEN + 64];
    long retry;
    int st;

    q->a = a;
    q->hs = hsettings_current();
    q->conn = conn;
    q->job.kind = API_JOB_REQUEST;
    q->job.conf = q->hs->conf;
    q->job.authlimit = a->authlimit;
    client_addr(q->hs, conn, addr, sizeof(addr));
    authlimit_client(addr, &q->job.client);
    /* before all else: an address over its limit learns nothing more */
    if ((retry = authlimit_retry(a->authlimit, &q->hs->conf->httpd, &q->job.client)) > 0) {
	refuse(q, 429, "rate_limited", AUTHLIMIT_MESSAGE);
	q->err_retry = retry;
	q->job.auth_limited = 1;
    }
    if ((st = api_route(method, url, &q->rt, &why)) == 404) {
	refuse(q, 404, "not_found", "no such endpoint");
    } else if (st == 405) {
	snprintf(allow, sizeof(allow), "method not allowed here (allowed: %s)", why);
	refuse(q, 405, "method_not_allowed", allow);
	q->allow = why;
    } else if (st != 0) {
	refuse(q, 400, "invalid", why);
    }
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, query_arg, q);
    if (api_bearer(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization"),
		   q->job.key) < 0)
	refuse(q, 401, "unauthorized", "a valid API key is required "
	       "(Authorization: Bearer KEY)");
    if (q->err_status == 401)
	authlimit_charge(a->authlimit, &q->hs->conf->httpd, &q->job.client);
    return q;
}

/* body_data - a PUT's body, or what an answer decided already skips */
static void
body_data(struct api_req *q, const char *data, size_t *size)
{
    const struct conf_httpd *h = &q->hs->conf->httpd;
    unsigned long long max = q->rt.op == API_SUP_IMPORT ? h->api_import_max
	: q->rt.op == API_MESSAGES ? h->api_max_message : h->max_body;
    size_t n = *size;

    if (q->rt.op != API_SUP_PUT && q->rt.op != API_SUP_IMPORT && q->rt.op != API_MESSAGES) {
	/* a request that takes no body (GET, DELETE): read and ignored, whatever its size */
	q->received += n;
	*size = 0;
	return;
    }
    if (q->received + n > max) {
	refuse(q, 413, "too_large", "the request body is too large");
    } else if (q->err_status == 0 && !q->authed
	       && (q->rt.op == API_SUP_IMPORT || q->rt.op == API_MESSAGES)) {
	/* the key first: a stranger's body is neither read nor kept (offered again) */
	q->job.kind = API_JOB_AUTH;
	send_job(q);
	return;
    } else if (q->err_status == 0 && q->rt.op == API_SUP_IMPORT) {
	/* what a full batch left is offered again: count it once */
	import_data(q, data, size);
	q->received += n - *size;
	return;
    } else if (q->err_status == 0) {
	q->body = xreallocarray(q->body, q->blen + n + 1, 1);
	memcpy(q->body + q->blen, data, n);
	q->blen += n;
	q->body[q->blen] = '\0';
    }
    q->received += n;
    *size = 0;
}

/* handle - libmicrohttpd's access handler */
static enum MHD_Result
handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
       const char *version, const char *data, size_t *size, void **con_cls)
{
    struct api_req *q = *con_cls;
    char *b;

    (void) version;
    if (q == NULL) {
	*con_cls = begin(cls, conn, url, method);
	return MHD_YES;
    }
    if (q->done) {
	q->done = q->queued = 0;
	if (q->job.kind == API_JOB_IMPORT)
	    import_result(q);
	else if (q->job.kind == API_JOB_AUTH)
	    auth_result(q);
	else
	    q->final = 1;
    }
    if (*size > 0) {
	body_data(q, data, size);
	return MHD_YES;
    }
    /* the end of the request */
    if (q->err_status) {
	b = q->err_body;
	q->err_body = NULL;
	return answer(q, q->err_status, b, q->err_retry);
    }
    if (q->rt.op == API_SUP_IMPORT) {
	if (q->llen > 0 || q->toolong) {
	    q->line[q->llen] = '\0';
	    import_row(q);
	    q->llen = 0;
	    q->toolong = 0;
	}
	if (q->nbatch > 0 || !q->authed) {
	    import_send(q);
	    return MHD_YES;
	}
	return import_answer(q);
    }
    if (!q->final) {
	q->job.kind = API_JOB_REQUEST;
	q->job.need_auth = !q->authed;
	q->job.body = q->body;
	q->job.body_len = q->blen;
	q->job.idem_key = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND,
						      "Idempotency-Key");
	send_job(q);
	return MHD_YES;
    }
    b = q->job.body_out;
    q->job.body_out = NULL;
    return answer(q, q->job.status, b, q->job.retry_after);
}

/* completed - the request is over: release what it held */
static void
completed(void *cls, struct MHD_Connection *conn, void **con_cls,
	  enum MHD_RequestTerminationCode toe)
{
    struct api_req *q = *con_cls;

    (void) cls;
    (void) conn;
    (void) toe;
    if (q == NULL)
	return;
    free(q->err_body);
    free(q->job.body_out);
    free(q->body);
    free(q->batch);
    free(q->lines);
    hsettings_unref(q->hs);		/* the worker is done with the job */
    free(q);
    *con_cls = NULL;
}

/* api_new - what the handlers share */
struct api *
api_new(const struct outpost_conf *conf, struct api_work *work, struct hmetrics *m)
{
    struct api *a = xcalloc(1, sizeof(*a));

    a->conf = conf;
    a->work = work;
    a->m = m;
    a->authlimit = authlimit_new(AUTHLIMIT_SLOTS);
    return a;
}

/* api_start - libmicrohttpd on a listening socket of api_listen */
struct MHD_Daemon *
api_start(struct api *a, int fd, char *err, size_t errlen)
{
    return mhd_start(&a->conf->httpd, fd, MHD_MEMORY_API, handle, completed, a, err, errlen);
}

/* api_free - release (after every daemon is stopped) */
void
api_free(struct api *a)
{
    if (a == NULL)
	return;
    authlimit_free(a->authlimit);
    free(a);
}
