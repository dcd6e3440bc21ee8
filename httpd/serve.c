/*
 * serve - the pages of outpost-httpd (see serve.h)
 *
 * Every answer is decided here from the token alone; what must reach
 * Redis goes to work(3).  An unsubscribe waits for it with the connection
 * suspended (no thread waits); opens and clicks do not wait at all.  Each
 * request reads the settings in force when it began (hsettings(3)): the
 * secrets, the providers, the limits of the moment.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>
#include <openssl/evp.h>

#include "hmetrics.h"
#include "clientaddr.h"
#include "hsettings.h"
#include "machine.h"
#include "mhdstart.h"
#include "msg.h"
#include "serve.h"
#include "verp.h"
#include "webtoken.h"
#include "work.h"
#include "xalloc.h"

#define PAGE_MAX	8192
#define RETRY_AFTER	"60"
#define ONE_CLICK_BODY	"List-Unsubscribe=One-Click"
#define REDIRECTS	64	/* answers kept for the links clicked last */

/*
 * A 302 is the same for every click on the same link: it is kept, by the
 * hash of its URL, and queued again (libmicrohttpd counts who holds it).
 */
struct redirect {
    pthread_mutex_t lock;
    char *url;			/* NULL: none yet */
    struct MHD_Response *r;
};

struct serve {
    const struct outpost_conf *conf;	/* at start: the listeners' limits */
    struct work *work;
    struct hmetrics *m;
    struct MHD_Response *gif;
    EVP_MD *sha256;		/* fetched once: no lookup per request */
    struct redirect redirect[REDIRECTS];
};

/* a form field's value against the one wanted, as its pieces come */
struct field_match {
    size_t len;			/* bytes that matched so far */
    int bad;			/* a byte differed, or a piece came out of order */
};

/* one POST /u/ in progress */
struct req {
    struct serve *s;
    struct hsettings *hs;	/* the request's settings: a reference */
    struct MHD_Connection *conn;
    struct MHD_PostProcessor *pp;
    unsigned long long body;	/* bytes received */
    int too_big, one_click, via_page, waiting, busy;
    char raw[sizeof(ONE_CLICK_BODY) + 4];	/* a body that is no form */
    size_t rawlen;
    struct field_match one_click_field, via_field;
    struct webtoken tok;
    struct work_unsub job;
};

static const unsigned char gif[] = {
    'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff,
    0x21, 0xf9, 4, 1, 0, 0, 0, 0, 0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 1, 0, 0x3b,
};

static const char style[] =
    "body{font-family:system-ui,sans-serif;max-width:36em;margin:3em auto;padding:0 1em;"
    "line-height:1.5;color:#222}button{font-size:1.1em;padding:.5em 1.4em;"
    "border-radius:.3em;border:1px solid #444;background:#1d4ed8;color:#fff;"
    "cursor:pointer}button:focus{outline:3px solid #f59e0b}";

/* ---------------------------------------------------------------- pages */

/* html_escape - s for an HTML text or attribute, cut to fit */
static void
html_escape(char *out, size_t size, const char *s)
{
    size_t n = 0;
    const char *r;

    for (; *s; s++) {
	switch (*s) {
	case '&': r = "&amp;"; break;
	case '<': r = "&lt;"; break;
	case '>': r = "&gt;"; break;
	case '"': r = "&quot;"; break;
	case '\'': r = "&#39;"; break;
	default: r = NULL;
	}
	if (n + (r ? strlen(r) : 1) + 1 > size)
	    break;
	if (r) {
	    memcpy(out + n, r, strlen(r));
	    n += strlen(r);
	} else {
	    out[n++] = *s;
	}
    }
    out[n] = '\0';
}

/* respond - queue a response, and let it go */
static enum MHD_Result
respond(struct MHD_Connection *conn, unsigned status, struct MHD_Response *r)
{
    enum MHD_Result rv = MHD_queue_response(conn, status, r);

    MHD_destroy_response(r);
    return rv;
}

/* page - a small HTML page; text is already HTML */
static enum MHD_Result
page(struct MHD_Connection *conn, unsigned status, const char *title, const char *text)
{
    char buf[PAGE_MAX];
    struct MHD_Response *r;
    int n;

    n = snprintf(buf, sizeof(buf),
		 "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		 "<title>%s</title><style>%s</style></head>\n<body><main>\n<h1>%s</h1>\n%s\n"
		 "</main></body></html>\n", title, style, title, text);
    if (n < 0 || (size_t) n >= sizeof(buf))
	n = snprintf(buf, sizeof(buf), "<!DOCTYPE html><title>%s</title><h1>%s</h1>",
		     title, title);
    r = MHD_create_response_from_buffer((size_t) n, buf, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Content-Security-Policy",
			    "default-src 'none'; style-src 'unsafe-inline'; "
			    "form-action 'self'; frame-ancestors 'none'");
    if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
	MHD_add_response_header(r, "Retry-After", RETRY_AFTER);
    return respond(conn, status, r);
}

/* bad_token - the page for a token that cannot be used; counted */
static enum MHD_Result
bad_token(struct serve *s, struct MHD_Connection *conn, int route, int st)
{
    PROM_INC(s->m->refused[route][st]);
    if (st == WEBTOKEN_STALE)
	return page(conn, MHD_HTTP_GONE, "This link has expired",
		    "<p>This link is too old to be used.  Nothing was changed.</p>"
		    "<p>Please use the link in a more recent message.</p>");
    return page(conn, MHD_HTTP_BAD_REQUEST, "This link is not valid",
		"<p>This link is damaged, or was not made by this server.  "
		"Nothing was changed.</p><p>If you copied it from a message, "
		"please check that you copied all of it.</p>");
}

/* unsub_done_page - what the recipient sees once it is done */
static enum MHD_Result
unsub_done_page(struct MHD_Connection *conn, const struct webtoken *t)
{
    char rcpt[3 * ADDR_MAX], sender[3 * DOMAIN_MAX], text[PAGE_MAX / 2];

    html_escape(rcpt, sizeof(rcpt), t->rcpt);
    html_escape(sender, sizeof(sender), t->sender_domain);
    snprintf(text, sizeof(text),
	     "<p role=\"status\"><strong>%s</strong> will send no more mail to "
	     "<strong>%s</strong>.</p>", sender, rcpt);
    return page(conn, MHD_HTTP_OK, "You are unsubscribed", text);
}

/* unsub_confirm_page - GET /u/: the question and a button; no change */
static enum MHD_Result
unsub_confirm_page(struct MHD_Connection *conn, const struct webtoken *t)
{
    char rcpt[3 * ADDR_MAX], sender[3 * DOMAIN_MAX], text[PAGE_MAX / 2];

    html_escape(rcpt, sizeof(rcpt), t->rcpt);
    html_escape(sender, sizeof(sender), t->sender_domain);
    /* no action: the form posts to this page's own URL, whatever the proxy */
    snprintf(text, sizeof(text),
	     "<p>Stop mail from <strong>%s</strong> to <strong>%s</strong>?</p>\n"
	     "<form method=\"post\">\n"
	     "<input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\n"
	     "<input type=\"hidden\" name=\"via\" value=\"page\">\n"
	     "<button type=\"submit\" id=\"unsubscribe\">Unsubscribe</button>\n"
	     "</form>", sender, rcpt);
    return page(conn, MHD_HTTP_OK, "Unsubscribe", text);
}

/* ---------------------------------------------------------------- helpers */

/* now_ms - the time of day, milliseconds */
static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* provider - the recipient's provider by its domain, or "other" */
static const char *
provider(const struct hsettings *hs, const char *rcpt)
{
    const char *at = strrchr(rcpt, '@');
    int i;

    if (at == NULL || (i = provider_by_domain(&hs->providers, at + 1)) < 0)
	return "other";
    return hs->providers.v[i].name;
}

/* decode - the token after "/X/" */
static int
decode(const struct hsettings *hs, int kind, const char *url, struct webtoken *t)
{
    const char *tok = url + 3;

    return webtoken_decode(hs->keys, kind, tok, strnlen(tok, WEBTOKEN_MAX + 1),
			   now_ms() / 1000, hs->conf->intake.token_max_age_ms / 1000, t);
}

/* seen_hash - what makes an event unique: its kind, message, recipient */
static void
seen_hash(const struct serve *s, const struct webtoken *t, unsigned char out[16])
{
    unsigned char buf[2 + WEBTOKEN_MSGID_MAX + ADDR_MAX], md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    size_t ml = strlen(t->msgid), rl = strlen(t->rcpt);

    buf[0] = (unsigned char) t->kind;
    memcpy(buf + 1, t->msgid, ml);
    buf[1 + ml] = '\0';
    memcpy(buf + 2 + ml, t->rcpt, rl);
    if (EVP_Digest(buf, 2 + ml + rl, md, &mdlen, s->sha256, NULL) != 1 || mdlen < 16)
	msg_fatal("SHA-256 failed");
    memcpy(out, md, 16);
}

/* redirect - the 302 to url: the one kept for it, or a new one kept */
static enum MHD_Result
redirect(struct serve *s, struct MHD_Connection *conn, const char *url)
{
    uint32_t h = 2166136261u;
    const char *p;
    struct redirect *k;
    struct MHD_Response *r;
    enum MHD_Result rv;

    for (p = url; *p; p++)
	h = (h ^ (unsigned char) *p) * 16777619u;
    k = &s->redirect[h % REDIRECTS];
    pthread_mutex_lock(&k->lock);
    if (k->url == NULL || strcmp(k->url, url) != 0) {
	r = MHD_create_response_from_buffer(0, (void *) "", MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, url);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	/* the one it replaces goes when its last connection is done with it */
	if (k->r)
	    MHD_destroy_response(k->r);
	free(k->url);
	k->url = xstrdup(url);
	k->r = r;
    }
    rv = MHD_queue_response(conn, MHD_HTTP_FOUND, k->r);
    pthread_mutex_unlock(&k->lock);
    return rv;
}

/* ---------------------------------------------------------------- routes */

/*
 * track - GET /o/ and /c/: count, then the image or the redirect.  A HEAD
 * gets the same answer and counts nothing: no mail client sends one to show
 * an image or follow a link; link checkers do.
 */
static enum MHD_Result
track(struct serve *s, const struct hsettings *hs, struct MHD_Connection *conn, int kind,
      const char *url, int head)
{
    int route = kind == WEBTOKEN_OPEN ? HM_OPEN : HM_CLICK, st, sig;
    struct webtoken t;			/* 3 KiB: on the stack, not malloc'd */
    struct work_event ev;
    char addr[INET6_ADDRSTRLEN + 8];
    long long now = now_ms();

    st = decode(hs, kind, url, &t);
    if (st == WEBTOKEN_OK && !head) {
	client_addr(hs, conn, addr, sizeof(addr));
	sig = machine_classify(&hs->rules, MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
				MHD_HTTP_HEADER_USER_AGENT), addr, now - t.issued * 1000);
	PROM_INC(s->m->events[route][sig != MACHINE_HUMAN]);
	PROM_INC(s->m->signals[sig]);
	/* every field set; the strings are the token's, work(3) copies them */
	ev.kind = kind;
	ev.machine = sig != MACHINE_HUMAN;
	ev.when = now / 1000;
	ev.when_ms = now;
	seen_hash(s, &t, ev.seen);
	ev.sender_domain = t.sender_domain;
	ev.provider = provider(hs, t.rcpt);
	ev.campaign = t.campaign;
	ev.rcpt = t.rcpt;
	ev.msgid = t.msgid;
	ev.url = kind == WEBTOKEN_CLICK ? t.url : NULL;
	(void) work_event(s->work, &ev);	/* a full queue drops it, counted */
	msg_debug("%s %s by %s (%s, %s)", kind == WEBTOKEN_OPEN ? "open" : "click",
		  t.msgid, t.rcpt, addr, machine_signal_name(sig));
    } else if (st != WEBTOKEN_OK && (kind == WEBTOKEN_OPEN || st == WEBTOKEN_STALE)) {
	PROM_INC(s->m->refused[route][st]);
    }
    if (kind == WEBTOKEN_OPEN)
	return MHD_queue_response(conn, MHD_HTTP_OK, s->gif);
    /* a stale token is still genuine: its URL is one the sender wrote */
    if (st != WEBTOKEN_OK && st != WEBTOKEN_STALE)
	return bad_token(s, conn, route, st);
    return redirect(s, conn, t.url);
}

/*
 * field_match - one piece of a field's value, off bytes into it: 1 when the
 * value so far is the whole of want.  libmicrohttpd hands a value over in
 * pieces when the body came in more than one read; a field given again
 * starts over.
 */
static int
field_match(struct field_match *f, const char *want, const char *data, uint64_t off,
	    size_t size)
{
    size_t wl = strlen(want);

    if (off == 0) {
	f->len = 0;
	f->bad = 0;
    }
    if (f->bad || off != f->len || size > wl - f->len
	|| (size > 0 && memcmp(data, want + f->len, size) != 0))
	f->bad = 1;
    else
	f->len += size;
    return !f->bad && f->len == wl;
}

/* post_field - a field of the form: the RFC 8058 one, and ours */
static enum MHD_Result
post_field(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
	   const char *content_type, const char *transfer_encoding, const char *data,
	   uint64_t off, size_t size)
{
    struct req *q = cls;

    (void) kind;
    (void) filename;
    (void) content_type;
    (void) transfer_encoding;
    if (strcmp(key, "List-Unsubscribe") == 0)
	q->one_click = field_match(&q->one_click_field, "One-Click", data, off, size);
    else if (strcmp(key, "via") == 0)
	q->via_page = field_match(&q->via_field, "page", data, off, size);
    return MHD_YES;
}

/* unsub_finished - work(3) has an answer: wake the connection */
static void
unsub_finished(struct work_unsub *job)
{
    struct req *q = job->arg;

    MHD_resume_connection(q->conn);
}

/* unsub_answer - the POST's answer once work(3) is done */
static enum MHD_Result
unsub_answer(struct req *q)
{
    struct hmetrics *m = q->s->m;
    int src = q->via_page;

    switch (q->job.result) {
    case WORK_DONE:
	PROM_INC(m->unsub[src][HM_UNSUB_DONE]);
	return unsub_done_page(q->conn, &q->tok);
    case WORK_ALREADY:
	PROM_INC(m->unsub[src][HM_UNSUB_ALREADY]);
	return unsub_done_page(q->conn, &q->tok);
    default:
	PROM_INC(m->unsub[src][q->busy ? HM_UNSUB_BUSY : HM_UNSUB_FAILED]);
	return page(q->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "Please try again",
		    "<p>Your request could not be recorded just now.  Nothing was "
		    "changed.</p><p>Please try again in a minute.</p>");
    }
}

/* unsub_post - POST /u/: read the form, then hand it to work(3) */
static enum MHD_Result
unsub_post(struct req *q, const char *data, size_t *size)
{
    struct serve *s = q->s;
    size_t n;

    if (q->waiting)
	return unsub_answer(q);
    if (*size > 0) {
	q->body += *size;
	if (q->body > q->hs->conf->httpd.max_body)
	    q->too_big = 1;
	else if (q->pp)
	    MHD_post_process(q->pp, data, *size);
	else if (q->rawlen < sizeof(q->raw) - 1) {
	    n = sizeof(q->raw) - 1 - q->rawlen < *size ? sizeof(q->raw) - 1 - q->rawlen : *size;
	    memcpy(q->raw + q->rawlen, data, n);
	    q->rawlen += n;
	}
	*size = 0;
	return MHD_YES;
    }
    if (q->too_big) {
	PROM_INC(s->m->other);
	return page(q->conn, MHD_HTTP_CONTENT_TOO_LARGE, "Request too large",
		    "<p>Nothing was changed.</p>");
    }
    if (q->pp == NULL) {
	/* no form content type: the exact body, with or without an end of line */
	while (q->rawlen > 0 && (q->raw[q->rawlen - 1] == '\n' || q->raw[q->rawlen - 1] == '\r'))
	    q->rawlen--;
	q->one_click = q->rawlen == sizeof(ONE_CLICK_BODY) - 1
	    && memcmp(q->raw, ONE_CLICK_BODY, q->rawlen) == 0;
    }
    if (!q->one_click) {
	PROM_INC(s->m->unsub[q->via_page][HM_UNSUB_NOT_ONE_CLICK]);
	return page(q->conn, MHD_HTTP_BAD_REQUEST, "Not an unsubscribe request",
		    "<p>This request did not ask to unsubscribe "
		    "(List-Unsubscribe=One-Click).  Nothing was changed.</p>");
    }
    snprintf(q->job.rcpt, sizeof(q->job.rcpt), "%s", q->tok.rcpt);
    snprintf(q->job.sender_domain, sizeof(q->job.sender_domain), "%s", q->tok.sender_domain);
    snprintf(q->job.provider, sizeof(q->job.provider), "%s", provider(q->hs, q->tok.rcpt));
    q->job.source = q->via_page ? "web" : "one-click";
    q->job.now = now_ms() / 1000;
    q->job.done = unsub_finished;
    q->job.arg = q;
    /* suspended before it is queued: the worker may resume it at once */
    MHD_suspend_connection(q->conn);
    q->waiting = 1;
    if (work_unsub(s->work, &q->job) < 0) {
	msg_warn("unsubscribe of %s from %s: the queue to Redis is full (answered 503)",
		 q->job.rcpt, q->job.sender_domain);
	q->job.result = WORK_FAILED;
	q->busy = 1;
	MHD_resume_connection(q->conn);
    }
    return MHD_YES;
}

/* the state of a request without a body between its two calls */
static struct req headers_only;

/* handle - libmicrohttpd's access handler: route by path and method */
static enum MHD_Result
handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
       const char *version, const char *data, size_t *size, void **con_cls)
{
    struct serve *s = cls;
    struct req *q = *con_cls;
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    int post = strcmp(method, "POST") == 0, st;
    struct webtoken *t;
    struct hsettings *hs;
    enum MHD_Result rv;
    struct MHD_Response *r;

    (void) version;
    if (q == &headers_only) {
	/*
	 * A body where none is read (a GET's, a PUT's): dropped as it comes,
	 * the answer given at its end; libmicrohttpd takes no answer while a
	 * body is coming in, and closed the connection with none.
	 */
	if (*size > 0) {
	    *size = 0;
	    return MHD_YES;
	}
	*con_cls = NULL;
    } else if (q) {
	return unsub_post(q, data, size);
    } else if (!post) {
	/*
	 * The first call comes with the headers alone; libmicrohttpd keeps
	 * the connection alive only for an answer given once the request
	 * is complete, at the next call.
	 */
	*con_cls = &headers_only;
	return MHD_YES;
    }
    if (url[0] != '/' || strchr("uoc", url[1]) == NULL || url[1] == '\0' || url[2] != '/') {
	PROM_INC(s->m->other);
	return page(conn, MHD_HTTP_NOT_FOUND, "Not found", "<p>There is nothing here.</p>");
    }
    if (!get && !(post && url[1] == 'u')) {
	PROM_INC(s->m->other);
	r = MHD_create_response_from_buffer(0, (void *) "", MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, "Allow", url[1] == 'u' ? "GET, HEAD, POST" : "GET, HEAD");
	return respond(conn, MHD_HTTP_METHOD_NOT_ALLOWED, r);
    }
    hs = hsettings_current();
    if (url[1] != 'u') {
	rv = track(s, hs, conn, url[1], url, strcmp(method, "HEAD") == 0);
	hsettings_unref(hs);
	return rv;
    }
    t = xmalloc(sizeof(*t));
    if ((st = decode(hs, WEBTOKEN_UNSUB, url, t)) != WEBTOKEN_OK) {
	hsettings_unref(hs);
	free(t);
	return bad_token(s, conn, HM_UNSUB, st);
    }
    if (get) {
	hsettings_unref(hs);
	PROM_INC(s->m->pages);
	rv = unsub_confirm_page(conn, t);
	free(t);
	return rv;
    }
    q = xcalloc(1, sizeof(*q));
    q->s = s;
    q->hs = hs;			/* until the answer is given: completed() */
    q->conn = conn;
    q->tok = *t;
    free(t);
    q->pp = MHD_create_post_processor(conn, 1024, post_field, q);
    *con_cls = q;
    return MHD_YES;
}

/* completed - the request is over: release what it held */
static void
completed(void *cls, struct MHD_Connection *conn, void **con_cls,
	  enum MHD_RequestTerminationCode toe)
{
    struct req *q = *con_cls;

    (void) cls;
    (void) conn;
    (void) toe;
    if (q == NULL || q == &headers_only)
	return;
    if (q->pp)
	MHD_destroy_post_processor(q->pp);
    hsettings_unref(q->hs);
    free(q);
    *con_cls = NULL;
}

/* serve_new - what the handlers share */
struct serve *
serve_new(const struct outpost_conf *conf, struct work *work, struct hmetrics *m)
{
    struct serve *s = xcalloc(1, sizeof(*s));
    int i;

    s->conf = conf;
    s->work = work;
    s->m = m;
    if ((s->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
	msg_fatal("OpenSSL has no SHA-256");
    for (i = 0; i < REDIRECTS; i++)
	pthread_mutex_init(&s->redirect[i].lock, NULL);
    s->gif = MHD_create_response_from_buffer(sizeof(gif), (void *) gif,
					     MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(s->gif, "Content-Type", "image/gif");
    MHD_add_response_header(s->gif, "Cache-Control", "no-store, max-age=0");
    return s;
}

/* serve_start - libmicrohttpd on a listening socket */
struct MHD_Daemon *
serve_start(struct serve *s, int fd, char *err, size_t errlen)
{
    return mhd_start(&s->conf->httpd, fd, MHD_MEMORY_PAGES, handle, completed, s, err,
		     errlen);
}

/* serve_free - release (after every daemon is stopped) */
void
serve_free(struct serve *s)
{
    int i;

    if (s == NULL)
	return;
    MHD_destroy_response(s->gif);
    for (i = 0; i < REDIRECTS; i++) {
	if (s->redirect[i].r)
	    MHD_destroy_response(s->redirect[i].r);
	free(s->redirect[i].url);
	pthread_mutex_destroy(&s->redirect[i].lock);
    }
    EVP_MD_free(s->sha256);
    free(s);
}
