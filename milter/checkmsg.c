/*
 * checkmsg - a test message evaluated as a receiving MTA does (see checkmsg.h)
 *
 * The facts are gathered here, with the network; checkjudge(3) judges them
 * without it.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <opendkim/dkim.h>
#include <spf2/spf.h>

#include "checkjudge.h"
#include "checkmsg.h"
#include "conf.h"
#include "dkimsign.h"
#include "dmarcrec.h"
#include "dnsq.h"
#include "fromhdr.h"
#include "msg.h"
#include "redisconn.h"
#include "spfdns.h"
#include "xalloc.h"

/* checkmsg_begin - evaluate this message; its report goes under id */
void
checkmsg_begin(struct checkmsg *cm, unsigned long long id)
{
    checkmsg_reset(cm);
    cm->on = 1;
    cm->id = id;
}

/* checkmsg_reset - forget the message */
void
checkmsg_reset(struct checkmsg *cm)
{
    size_t i;

    if (cm->dkim)
	dkim_free(cm->dkim);
    if (cm->lib)
	dkim_close(cm->lib);
    for (i = 0; i < cm->nhdrs; i++)
	free(cm->hdrs[i]);
    free(cm->hdrs);
    free(cm->hdrlens);
    memset(cm, 0, sizeof(*cm));
}

/* checkmsg_header - keep one header field, CRLF inside folded values */
void
checkmsg_header(struct checkmsg *cm, const char *name, const char *value, int add_space)
{
    size_t nlen = strlen(name), vlen = strlen(value), n, extra;
    char *h;

    if (!cm->on || cm->too_big)
	return;
    extra = dkimsign_header_extra(value, vlen);
    if (cm->nhdrs >= CHECKMSG_HDR_MAX
	|| cm->hdrbytes + nlen + vlen + extra + 3 > CHECKMSG_HDRBYTES_MAX) {
	cm->too_big = 1;
	return;
    }
    h = dkimsign_header_line(name, nlen, value, vlen, extra, add_space, &n);
    cm->hdrs = xreallocarray(cm->hdrs, cm->nhdrs + 1, sizeof(*cm->hdrs));
    cm->hdrlens = xreallocarray(cm->hdrlens, cm->nhdrs + 1, sizeof(*cm->hdrlens));
    cm->hdrs[cm->nhdrs] = h;
    cm->hdrlens[cm->nhdrs++] = n;
    cm->hdrbytes += n;
}

/* checkmsg_eoh - a verifying handle, fed the header */
void
checkmsg_eoh(struct checkmsg *cm, const char *qid)
{
    unsigned int timeout = CHECKMSG_DNS_TIMEOUT, flags = DKIM_LIBFLAGS_FIXCRLF;
    DKIM_STAT st;
    size_t i;

    if (!cm->on || cm->too_big)
	return;
    /* test messages are rare: a library of their own, closed at the end */
    if ((cm->lib = dkim_init(NULL, NULL)) == NULL
	|| dkim_options(cm->lib, DKIM_OP_SETOPT, DKIM_OPTS_TIMEOUT, &timeout,
			sizeof(timeout)) != DKIM_STAT_OK
	|| dkim_options(cm->lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags,
			sizeof(flags)) != DKIM_STAT_OK) {
	msg_warn("%s: test message: libopendkim cannot start", qid);
	cm->dkim_stat = DKIM_STAT_INTERNAL;
	return;
    }
    if ((cm->dkim = dkim_verify(cm->lib, (const unsigned char *) qid, NULL, &st)) == NULL) {
	cm->dkim_stat = st;
	return;
    }
    for (i = 0; i < cm->nhdrs && st == DKIM_STAT_OK; i++)
	st = dkim_header(cm->dkim, (unsigned char *) cm->hdrs[i], cm->hdrlens[i]);
    if (st == DKIM_STAT_OK)
	st = dkim_eoh(cm->dkim);
    cm->dkim_stat = st;
}

/* checkmsg_body - a body chunk, hashed */
void
checkmsg_body(struct checkmsg *cm, const unsigned char *buf, size_t len)
{
    if (cm->on && cm->dkim && cm->dkim_stat == DKIM_STAT_OK)
	cm->dkim_stat = dkim_body(cm->dkim, (unsigned char *) buf, len);
}

/* field - the value of the first (or top) header field name, NULL: none */
static const char *
field(const struct checkmsg *cm, const char *name, size_t *len, size_t *count)
{
    size_t nl = strlen(name), i;
    const char *v = NULL, *h;

    if (count)
	*count = 0;
    for (i = 0; i < cm->nhdrs; i++) {
	h = cm->hdrs[i];
	if (strncasecmp(h, name, nl) != 0 || h[nl] != ':')
	    continue;
	if (count)
	    (*count)++;
	if (v == NULL) {
	    v = h + nl + 1;
	    *len = cm->hdrlens[i] - nl - 1;
	}
    }
    return v;
}

/* facts_dkim - each signature's result */
static void
facts_dkim(struct checkmsg *cm, struct check_facts *f)
{
    DKIM_SIGINFO **sigs;
    int nsigs = 0, i;
    const char *why;
    DKIM_STAT st;

    if (cm->too_big) {
	/* a verifier gives up on such a header too: say so as a failure */
	f->nsig = 1;
	snprintf(f->sig[0].domain, sizeof(f->sig[0].domain), "%s", f->from_domain);
	snprintf(f->sig[0].why, sizeof(f->sig[0].why), "header too large to verify");
	return;
    }
    if (cm->dkim == NULL || cm->dkim_stat == DKIM_STAT_NOSIG)
	return;
    st = cm->dkim_stat == DKIM_STAT_OK ? dkim_eom(cm->dkim, NULL) : cm->dkim_stat;
    if (dkim_getsiglist(cm->dkim, &sigs, &nsigs) != DKIM_STAT_OK)
	nsigs = 0;
    for (i = 0; i < nsigs && f->nsig < CHECK_SIG_MAX; i++) {
	struct check_sig *s = &f->sig[f->nsig++];
	const unsigned char *d = dkim_sig_getdomain(sigs[i]);
	const unsigned char *sel = dkim_sig_getselector(sigs[i]);

	snprintf(s->domain, sizeof(s->domain), "%s", d ? (const char *) d : "?");
	snprintf(s->selector, sizeof(s->selector), "%s", sel ? (const char *) sel : "?");
	s->pass = DKIM_SIG_CHECK(sigs[i]);
	if (s->pass)
	    continue;
	if (dkim_sig_getbh(sigs[i]) == DKIM_SIGBH_MISMATCH)
	    why = "body hash mismatch (the body changed after signing)";
	else if (dkim_sig_geterror(sigs[i]) != DKIM_SIGERROR_OK)
	    why = dkim_sig_geterrorstr(dkim_sig_geterror(sigs[i]));
	else
	    why = dkim_getresultstr(st);
	snprintf(s->why, sizeof(s->why), "%s", why ? why : "does not verify");
    }
}

/*
 * facts_spf - libspf2's result for the client and the envelope sender's
 * domain, its lookups through q (the sender's records decide how many: at
 * most SPFDNS_BUDGET_LOOKUPS of q's timeout in all)
 */
static void
facts_spf(const struct checkmsg_conn *cc, struct dnsq *q, struct check_facts *f)
{
    struct spfdns *sd;
    SPF_server_t *spf;
    SPF_request_t *req;
    SPF_response_t *resp = NULL;
    SPF_result_t r = SPF_RESULT_INVALID;
    char sender[DOMAIN_MAX + 16];

    snprintf(f->spf_result, sizeof(f->spf_result), "none");
    if (cc->sender_domain == NULL || *cc->sender_domain == '\0') {
	snprintf(f->spf_domain, sizeof(f->spf_domain), "(null sender)");
	return;
    }
    snprintf(f->spf_domain, sizeof(f->spf_domain), "%s", cc->sender_domain);
    if (f->client_ip[0] == '\0'
	|| (sd = spfdns_new_dnsq(q)) == NULL) {
	snprintf(f->spf_result, sizeof(f->spf_result), "temperror");
	return;
    }
    spf = spfdns_server(sd);
    snprintf(sender, sizeof(sender), "postmaster@%s", cc->sender_domain);
    req = SPF_request_new(spf);
    if ((strchr(f->client_ip, ':') ? SPF_request_set_ipv6_str(req, f->client_ip)
	 : SPF_request_set_ipv4_str(req, f->client_ip)) == SPF_E_SUCCESS
	&& SPF_request_set_env_from(req, sender) == 0) {
	SPF_request_query_mailfrom(req, &resp);
	if (resp)
	    r = SPF_response_result(resp);
    }
    SPF_response_free(resp);
    SPF_request_free(req);
    spfdns_free(sd);
    snprintf(f->spf_result, sizeof(f->spf_result), "%s",
	     r == SPF_RESULT_INVALID ? "permerror" : SPF_strresult(r));
}

/* dmarc_at - the DMARC record at _dmarc.DOMAIN: 1 found, 0 none, -1 trouble */
static int
dmarc_at(struct dnsq *q, const char *domain, struct check_facts *f)
{
    struct dnsq_result r = {0};
    enum dnsq_status st;
    size_t i, n = 0;
    const char *rec = NULL;

    snprintf(f->dmarc_name, sizeof(f->dmarc_name), "_dmarc.%s", domain);
    st = dnsq_lookup(q, f->dmarc_name, DNSQ_T_TXT, &r);
    if (st != DNSQ_OK && st != DNSQ_NXDOMAIN && st != DNSQ_NODATA) {
	snprintf(f->dmarc_err, sizeof(f->dmarc_err), "%s", dnsq_status_text(st));
	dnsq_result_free(&r);
	return -1;
    }
    for (i = 0; i < r.n; i++)
	if (dmarcrec_is_dmarc(r.v[i], strlen(r.v[i])) && n++ == 0)
	    rec = r.v[i];
    if (n > 1) {
	f->dmarc = CHECK_DMARC_BAD;
	snprintf(f->dmarc_err, sizeof(f->dmarc_err), "%zu DMARC records", n);
    } else if (n == 1) {
	f->dmarc = dmarcrec_parse(rec, strlen(rec), &f->dmarc_rec, f->dmarc_err,
				  sizeof(f->dmarc_err)) == 0 ? CHECK_DMARC_FOUND
	    : CHECK_DMARC_BAD;
    }
    dnsq_result_free(&r);
    return n > 0;
}

/* facts_dmarc - the From: domain's record, else its organizational domain's */
static void
facts_dmarc(struct dnsq *q, struct check_facts *f)
{
    char org[DOMAIN_MAX];
    int rc;

    f->dmarc = CHECK_DMARC_NONE;
    if (f->from_domain[0] == '\0')
	return;
    rc = dmarc_at(q, f->from_domain, f);
    if (rc == 0 && dmarc_org_domain(f->from_domain, org, sizeof(org)) == 0
	&& strcmp(org, f->from_domain) != 0) {
	rc = dmarc_at(q, org, f);
	if (rc == 0)			/* name the From: domain's own */
	    snprintf(f->dmarc_name, sizeof(f->dmarc_name), "_dmarc.%s", f->from_domain);
    }
    if (rc < 0)
	f->dmarc = CHECK_DMARC_TROUBLE;
}

/* facts_headers - From:, List-Unsubscribe, the Received path */
static void
facts_headers(const struct checkmsg *cm, const struct checkmsg_conn *cc,
	      struct check_facts *f)
{
    const char *v, *why = NULL;
    size_t len = 0, n;

    if ((v = field(cm, "From", &len, &n)) == NULL || n != 1)
	why = n ? "more than one From: field" : "no From: field";
    else if (fromhdr_domain(v, len, f->from_domain, sizeof(f->from_domain), &why) < 0)
	f->from_domain[0] = '\0';
    if (why && f->from_domain[0] == '\0')
	snprintf(f->from_why, sizeof(f->from_why), "%s", why);
    f->unsub = field(cm, "List-Unsubscribe", &f->unsub_len, NULL);
    f->unsub_post = field(cm, "List-Unsubscribe-Post", &f->unsub_post_len, NULL);
    f->received = field(cm, "Received", &f->received_len, &f->nreceived);
    if (cc->tls_version && *cc->tls_version)
	snprintf(f->tls_version, sizeof(f->tls_version), "%s", cc->tls_version);
}

/* client_ip - the connecting client's address as text */
static void
client_ip(const struct sockaddr *sa, char *out, size_t size)
{
    out[0] = '\0';
    if (sa && sa->sa_family == AF_INET)
	inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, out, size);
    else if (sa && sa->sa_family == AF_INET6)
	inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr, out, size);
}

/* report_text - one line per check: NAME TAB STATUS TAB DETAIL TAB FIX */
static char *
report_text(const struct check_report *r, char *failed, size_t fsize)
{
    size_t i, len = 0, cap = 0, n;
    char *out = NULL;

    failed[0] = '\0';
    for (i = 0; i < r->n; i++) {
	const struct check_item *it = &r->item[i];

	n = strlen(it->name) + strlen(it->detail) + strlen(it->fix) + 16;
	if (len + n + 1 > cap) {
	    cap = (len + n + 1) * 2;
	    out = xreallocarray(out, cap, 1);
	}
	len += (size_t) snprintf(out + len, cap - len, "%s\t%s\t%s\t%s\n", it->name,
				 check_status_name(it->status), it->detail, it->fix);
	if (it->status == CHECK_FAIL)
	    snprintf(failed + strlen(failed), fsize - strlen(failed), "%s%s",
		     *failed ? "," : "", it->name);
    }
    return out ? out : xstrdup("");
}

/* store - the report, with its TTL; -1 on a Redis problem */
static int
store(const struct outpost_conf *conf, unsigned long long id, const char *text,
      const char *qid)
{
    struct rconn *rc = rconn_new(&conf->redis);
    char key[256], ttl[32];
    redisReply *r;
    int ok;

    snprintf(key, sizeof(key), "%s{intake}:testsend:%016llx", conf->redis.prefix, id);
    snprintf(ttl, sizeof(ttl), "%d", CHECKMSG_TTL);
    r = rconn_commandv(rc, "SET", key, text, "EX", ttl, NULL);
    ok = r && r->type == REDIS_REPLY_STATUS;
    if (!ok)
	msg_warn("%s: test message: cannot store the report: %s", qid,
		 r && r->str ? r->str : rconn_error(rc));
    if (r)
	freeReplyObject(r);
    rconn_free(rc);
    return ok ? 0 : -1;
}

/* checkmsg_eom - gather the facts, judge, store */
int
checkmsg_eom(struct checkmsg *cm, const struct checkmsg_conn *cc,
	     const struct outpost_conf *conf, const char *qid)
{
    struct check_facts *f = xcalloc(1, sizeof(*f));
    struct check_report *r = xmalloc(sizeof(*r));
    struct dnsq *q = dnsq_new();
    char failed[128], *text;
    int rc;

    /* the SPF and DMARC lookups: each within [dns] lookup_timeout */
    dnsq_timeout(q, conf->dns.lookup_timeout_ms);
    client_ip(cc->client, f->client_ip, sizeof(f->client_ip));
    facts_headers(cm, cc, f);
    facts_dkim(cm, f);
    facts_spf(cc, q, f);
    facts_dmarc(q, f);
    dnsq_free(q);
    checkjudge_run(f, r);
    text = report_text(r, failed, sizeof(failed));
    rc = store(conf, cm->id, text, qid);
    if (rc == 0)
	msg_info("%s: test message %016llx from %s evaluated: %s%s", qid, cm->id,
		 *f->from_domain ? f->from_domain : "-", *failed ? "failed: " : "all passed",
		 failed);
    free(text);
    free(r);
    free(f);
    return rc;
}
