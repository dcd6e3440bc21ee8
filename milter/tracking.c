/*
 * tracking - open and click tracking of one message (see tracking.h)
 *
 * The header block and the body are kept in one buffer, header first, so
 * that trackrw(3) reads the whole message without a copy.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "tracking.h"
#include "verp.h"
#include "webtoken.h"
#include "xalloc.h"

struct tracking {
    char *public_url;			/* no trailing '/' (conf.c checks) */
    struct conf_strlist senders;	/* SASL users and sender domains */
    struct verp_keys *keys;		/* [intake] secret_file */
    int text_links;
    size_t max_size;
    char *campaign_header;		/* NULL: none */
};

/* what url_for() works with */
struct url_ctx {
    const struct tracking *t;
    const struct tracking_msg *m;
    long long now;
};

static void keep(struct tracking_msg *m, const char *p, size_t n);
static void field_value(char *out, size_t size, const char *v);
static ssize_t url_for(void *ctx, unsigned index, const char *url, size_t url_len,
		       char *out, size_t outsz);
static size_t link_url(const struct url_ctx *c, const struct webtoken_in *in,
		       const char *route, char *out, size_t outsz);
static void token_in(const struct url_ctx *c, int kind, struct webtoken_in *in);

/* tracking_new - what tracking needs; NULL: off, or err says why not */
struct tracking *
tracking_new(const struct outpost_conf *conf, uid_t owner, char *err, size_t errlen)
{
    const struct conf_milter *mc = &conf->milter;
    struct tracking *t;
    size_t i;

    err[0] = '\0';
    if (mc->tracking_senders.n == 0)
	return NULL;
    if (conf->httpd.public_url == NULL || conf->intake.secret_file == NULL) {
	snprintf(err, errlen, "%s: [milter] tracking_senders needs [httpd] public_url "
		 "and [intake] secret_file", conf->path);
	return NULL;
    }
    t = xcalloc(1, sizeof(*t));
    if ((t->keys = verp_keys_load(conf->intake.secret_file, 1, owner, err, errlen)) == NULL) {
	tracking_free(t);
	return NULL;
    }
    t->public_url = xstrdup(conf->httpd.public_url);
    for (i = 0; i < mc->tracking_senders.n; i++)
	conf_strlist_add(&t->senders, mc->tracking_senders.v[i],
			 strlen(mc->tracking_senders.v[i]));
    t->text_links = mc->tracking_text_links;
    t->max_size = (size_t) mc->tracking_max_size;
    t->campaign_header = mc->campaign_header ? xstrdup(mc->campaign_header) : NULL;
    return t;
}

/* tracking_free - forget it all */
void
tracking_free(struct tracking *t)
{
    if (t == NULL)
	return;
    verp_keys_free(t->keys);
    conf_strlist_free(&t->senders);
    free(t->public_url);
    free(t->campaign_header);
    free(t);
}

/* tracking_msg_begin - does the sender ask for tracking? */
void
tracking_msg_begin(struct tracking_msg *m, const struct tracking *t,
		   const char *auth_user, const char *sender_domain)
{
    m->wanted = t != NULL && (conf_strlist_has(&t->senders, auth_user)
			      || conf_strlist_has(&t->senders, sender_domain));
}

/* tracking_msg_reset - free what one message kept */
void
tracking_msg_reset(struct tracking_msg *m)
{
    free(m->buf);
    trackrw_free(&m->rw);
    memset(m, 0, sizeof(*m));
}

/* keep - append n bytes to the message buffer */
static void
keep(struct tracking_msg *m, const char *p, size_t n)
{
    size_t cap = m->cap;

    if (n > m->cap - m->len) {
	while (n > cap - m->len)
	    cap = cap ? cap * 2 : 4096;
	m->buf = xreallocarray(m->buf, cap, 1);
	m->cap = cap;
    }
    memcpy(m->buf + m->len, p, n);
    m->len += n;
}

/* field_value - a field's value without surrounding blanks, cut to size */
static void
field_value(char *out, size_t size, const char *v)
{
    size_t n;

    v += strspn(v, " \t\r\n");
    for (n = strlen(v); n > 0 && strchr(" \t\r\n", v[n - 1]); n--)
	;
    if (n >= size)
	n = size - 1;
    memcpy(out, v, n);
    out[n] = '\0';
}

/* tracking_header - keep one header field, CRLF line ends */
void
tracking_header(struct tracking_msg *m, const struct tracking *t, const char *name,
		const char *value, int add_space)
{
    size_t i, nlen = strlen(name), vlen = strlen(value);

    if (t == NULL || !m->wanted || m->hdr_too_big)
	return;
    if (m->len + nlen + 2 * vlen + 4 > TRACKING_HDR_MAX) {
	m->hdr_too_big = 1;
	return;
    }
    keep(m, name, nlen);
    keep(m, add_space ? ": " : ":", add_space ? 2 : 1);
    for (i = 0; i < vlen; i++) {
	/* the milter protocol folds with a bare LF */
	if (value[i] == '\n' && (i == 0 || value[i - 1] != '\r'))
	    keep(m, "\r", 1);
	keep(m, value + i, 1);
    }
    keep(m, "\r\n", 2);
    if (strcasecmp(name, "Message-ID") == 0 && m->msgid[0] == '\0')
	field_value(m->msgid, sizeof(m->msgid), value);
    else if (t->campaign_header && strcasecmp(name, t->campaign_header) == 0
	     && m->campaign[0] == '\0')
	field_value(m->campaign, sizeof(m->campaign), value);
}

/* tracking_eoh - is this message to be rewritten? */
int
tracking_eoh(struct tracking_msg *m, const struct tracking *t,
	     const struct tracking_who *who)
{
    if (t == NULL || !m->wanted)
	return TRACKING_NOT_OPTED;
    /* a token names one recipient; the null sender has no scope */
    if (who->nrcpts != 1 || who->rcpt == NULL || *who->rcpt == '\0'
	|| who->sender_domain == NULL || *who->sender_domain == '\0')
	return TRACKING_RECIPIENTS;
    if (m->hdr_too_big)
	return TRACKING_HDR_TOO_BIG;
    keep(m, "\r\n", 2);			/* the blank line */
    m->body_off = m->len;
    snprintf(m->rcpt, sizeof(m->rcpt), "%s", who->rcpt);
    snprintf(m->sender_domain, sizeof(m->sender_domain), "%s", who->sender_domain);
    m->max_size = t->max_size;
    m->on = 1;
    return TRACKING_ON;
}

/* tracking_body - keep a body chunk; -1: over the limit, given up */
int
tracking_body(struct tracking_msg *m, const unsigned char *buf, size_t len)
{
    if (!m->on || m->gave_up)
	return -1;
    if (len > m->max_size || m->len - m->body_off > m->max_size - len) {
	m->gave_up = 1;
	return -1;
    }
    keep(m, (const char *) buf, len);
    return 0;
}

/* link_url - PUBLIC_URL/ROUTE/TOKEN into out; 0 when it does not fit */
static size_t
link_url(const struct url_ctx *c, const struct webtoken_in *in, const char *route,
	 char *out, size_t outsz)
{
    char tok[WEBTOKEN_MAX + 1];
    int n;

    if (webtoken_encode(c->t->keys, in, tok, sizeof(tok)) == 0)
	return 0;
    n = snprintf(out, outsz, "%s/%s/%s", c->t->public_url, route, tok);
    return n > 0 && (size_t) n < outsz ? (size_t) n : 0;
}

/* token_in - what every token of the message says */
static void
token_in(const struct url_ctx *c, int kind, struct webtoken_in *in)
{
    memset(in, 0, sizeof(*in));
    in->kind = kind;
    in->issued = c->now;
    in->rcpt = c->m->rcpt;
    in->sender_domain = c->m->sender_domain;
    in->msgid = c->m->msgid;
    in->campaign = c->m->campaign;
}

/* url_for - trackrw(3)'s callback: the click URL of link index; 0: leave it */
static ssize_t
url_for(void *ctx, unsigned index, const char *url, size_t url_len, char *out,
	size_t outsz)
{
    const struct url_ctx *c = ctx;
    struct webtoken_in in;
    size_t plen = strlen(c->t->public_url);

    /*
     * A link to this server already (an earlier message's, quoted in a
     * reply): wrapped again, each click on it would count twice, once for
     * a recipient who never clicked.
     */
    if (url_len > plen && strncasecmp(url, c->t->public_url, plen) == 0 && url[plen] == '/')
	return 0;
    token_in(c, WEBTOKEN_CLICK, &in);
    in.link = index;
    in.url = url;
    in.url_len = url_len;
    return (ssize_t) link_url(c, &in, "c", out, outsz);
}

/* tracking_rewrite - the new body, or why the message goes unchanged */
int
tracking_rewrite(struct tracking_msg *m, const struct tracking *t, long long now)
{
    struct url_ctx c = {t, m, now};
    struct trackrw_opts o;
    struct webtoken_in in;
    char pixel[TRACKRW_URL_MAX];
    int st, cte;

    if (!m->on || t == NULL)
	return TRACKING_NOT_OPTED;
    if (m->gave_up)
	return TRACKING_TOO_BIG;
    token_in(&c, WEBTOKEN_OPEN, &in);
    memset(&o, 0, sizeof(o));
    o.url_for = url_for;
    o.ctx = &c;
    o.pixel_url = link_url(&c, &in, "o", pixel, sizeof(pixel)) ? pixel : NULL;
    o.optout_attr = "data-notrack";
    o.text_links = t->text_links;
    o.max_size = m->max_size + m->body_off;
    st = trackrw_rewrite(m->buf, m->len, &o, &m->rw);
    if (st == TRACKRW_TOO_BIG)
	return TRACKING_TOO_BIG;
    if (st != TRACKRW_OK)
	return TRACKING_RW + st;
    /* the signer has hashed the header already: it cannot change */
    cte = m->rw.set_cte != NULL;
    if (cte || m->rw.body_off != m->body_off) {
	trackrw_free(&m->rw);
	return cte ? TRACKING_CTE : TRACKING_RW + TRACKRW_MALFORMED;
    }
    m->out = m->rw.body;
    m->out_len = m->rw.body_len;
    return TRACKING_ON;
}

/* tracking_status_name - a status in words, fit for a metric label */
const char *
tracking_status_name(int status)
{
    static const char *const names[] = {"rewritten", "not_opted_in", "recipients",
	"header_too_big", "too_big", "cte"};

    if (status >= 0 && status < TRACKING_RW)
	return names[status];
    if (status >= TRACKING_RW && status < TRACKING_NSTATUS)
	return trackrw_status_name(status - TRACKING_RW);
    return "unknown";
}
