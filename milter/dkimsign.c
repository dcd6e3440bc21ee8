/*
 * dkimsign - DKIM signing of one message, without an MTA (see dkimsign.h)
 *
 * libopendkim does the canonicalisation and the cryptography; this module
 * decides who is signed with which keys, feeds the same header fields and
 * body to one signing handle per key (libopendkim signs with one algorithm
 * per handle, so RSA + Ed25519 is two handles), and turns the results into
 * header values a milter can insert.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <opendkim/dkim.h>

#include "addr.h"
#include "authz.h"
#include "dkimsign.h"
#include "fromhdr.h"
#include "keycache.h"
#include "keytable.h"
#include "msg.h"
#include "xalloc.h"

struct dkimsign {
    int refs;
    DKIM_LIB *lib;
    struct keytable *keys;
    struct authz *authz;		/* NULL: SASL users sign for any domain */
    int on_error;			/* enum conf_on_error */
    dkim_canon_t hcanon, bcanon;
    char **signhdrs;			/* NULL-terminated, kept for the library */
    char **oversignhdrs;
};

struct dkimsign_msg {
    struct dkimsign *ds;
    char id[64];
    char **hdrs;			/* "Name:value" with CRLF line ends */
    size_t *hdrlens;
    size_t nhdrs, hdrbytes;
    int too_big;
    int nfrom;
    char from_domain[DOMAIN_MAX];
    const char *from_why;
    enum dkimsign_verdict verdict;
    int decided;
    char why[300];
    DKIM *dkim[KEYTABLE_MAX_PER_DOMAIN];
    const struct keyentry *key[KEYTABLE_MAX_PER_DOMAIN];
    char *sig[KEYTABLE_MAX_PER_DOMAIN];
    size_t ndkim, nsig;
};

static struct dkimsign_stats stats;

#define COUNT(field, n) __atomic_add_fetch(&stats.field, (n), __ATOMIC_RELAXED)

static char **strlist_copy(const struct conf_strlist *l);
static void strv_free(char **v);
static int msg_fail(struct dkimsign_msg *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int msg_skip(struct dkimsign_msg *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int client_may_sign(struct dkimsign_msg *m, const struct dkimsign_client *cl);
static int start_handles(struct dkimsign_msg *m, const struct keyentry **keys, size_t n);

/* strlist_copy - a NULL-terminated copy of a configured list */
static char **
strlist_copy(const struct conf_strlist *l)
{
    char **v = xcalloc(l->n + 1, sizeof(*v));
    size_t i;

    for (i = 0; i < l->n; i++)
	v[i] = xstrdup(l->v[i]);
    return v;
}

/* strv_free - free a NULL-terminated string array */
static void
strv_free(char **v)
{
    size_t i;

    for (i = 0; v && v[i]; i++)
	free(v[i]);
    free(v);
}

/* dkimsign_new - settings, keys and a library handle */
struct dkimsign *
dkimsign_new(const struct conf_dkim *conf, uid_t key_owner, char *err, size_t errlen)
{
    struct dkimsign *ds = xcalloc(1, sizeof(*ds));
    unsigned int flags = DKIM_LIBFLAGS_FIXCRLF;
    static const dkim_canon_t hc[] = {DKIM_CANON_RELAXED, DKIM_CANON_RELAXED,
    DKIM_CANON_SIMPLE, DKIM_CANON_SIMPLE};
    static const dkim_canon_t bc[] = {DKIM_CANON_RELAXED, DKIM_CANON_SIMPLE,
    DKIM_CANON_RELAXED, DKIM_CANON_SIMPLE};

    ds->refs = 1;
    ds->on_error = conf->on_error;
    ds->hcanon = hc[conf->canonicalization & 3];
    ds->bcanon = bc[conf->canonicalization & 3];
    ds->signhdrs = strlist_copy(&conf->sign_headers);
    ds->oversignhdrs = strlist_copy(&conf->oversign_headers);
    if (conf->key_table == NULL) {
	snprintf(err, errlen, "[dkim] key_table is not set: nothing to sign with");
	goto fail;
    }
    if ((ds->keys = keytable_load(conf->key_table, 1, key_owner, err, errlen)) == NULL)
	goto fail;
    for (size_t i = 0; i < ds->keys->n; i++)
	keycache_add(ds->keys->v[i].key, ds->keys->v[i].keylen, ds->keys->v[i].pkey);
    if (conf->sasl_domains
	&& (ds->authz = authz_load(conf->sasl_domains, err, errlen)) == NULL)
	goto fail;
    if ((ds->lib = dkim_init(NULL, NULL)) == NULL) {
	snprintf(err, errlen, "libopendkim: cannot initialise");
	goto fail;
    }
    if (dkim_options(ds->lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof(flags))
	!= DKIM_STAT_OK
	|| dkim_options(ds->lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS, ds->signhdrs,
			sizeof(char **)) != DKIM_STAT_OK
	|| dkim_options(ds->lib, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS,
			ds->oversignhdrs, sizeof(char **)) != DKIM_STAT_OK) {
	snprintf(err, errlen, "libopendkim refused [dkim] sign_headers or oversign_headers");
	goto fail;
    }
    return ds;

fail:
    dkimsign_unref(ds);
    return NULL;
}

/* dkimsign_ref - one more user */
struct dkimsign *
dkimsign_ref(struct dkimsign *ds)
{
    __atomic_add_fetch(&ds->refs, 1, __ATOMIC_ACQ_REL);
    return ds;
}

/* dkimsign_unref - one user less; the last frees (keys are wiped) */
void
dkimsign_unref(struct dkimsign *ds)
{
    if (ds == NULL || __atomic_sub_fetch(&ds->refs, 1, __ATOMIC_ACQ_REL) > 0)
	return;
    if (ds->lib)
	dkim_close(ds->lib);
    for (size_t i = 0; ds->keys && i < ds->keys->n; i++)
	keycache_remove(ds->keys->v[i].key, ds->keys->v[i].keylen);
    keytable_free(ds->keys);
    authz_free(ds->authz);
    strv_free(ds->signhdrs);
    strv_free(ds->oversignhdrs);
    free(ds);
}

/* dkimsign_nkeys - how many keys are loaded */
size_t
dkimsign_nkeys(const struct dkimsign *ds)
{
    return ds->keys ? ds->keys->n : 0;
}

/* dkimsign_tempfail_on_error - tempfail (1) or send unsigned (0) on errors */
int
dkimsign_tempfail_on_error(const struct dkimsign *ds)
{
    return ds->on_error == CONF_ON_ERROR_TEMPFAIL;
}

/* dkimsign_tempfail_on_error_msg - the same, for the message's state */
int
dkimsign_tempfail_on_error_msg(const struct dkimsign_msg *m)
{
    return dkimsign_tempfail_on_error(m->ds);
}

/* dkimsign_msg_new - begin a message */
struct dkimsign_msg *
dkimsign_msg_new(struct dkimsign *ds, const char *id)
{
    struct dkimsign_msg *m = xcalloc(1, sizeof(*m));

    m->ds = dkimsign_ref(ds);
    snprintf(m->id, sizeof(m->id), "%s", id && *id ? id : "NOQUEUE");
    return m;
}

/* dkimsign_header_extra - the bare LFs of a folded value, each to become CRLF */
size_t
dkimsign_header_extra(const char *value, size_t vlen)
{
    size_t i, extra = 0;

    for (i = 0; i < vlen; i++)
	if (value[i] == '\n' && (i == 0 || value[i - 1] != '\r'))
	    extra++;
    return extra;
}

/* dkimsign_header_line - "Name:[ ]value" with CRLF folds, NUL-ended; its length in *len */
char *
dkimsign_header_line(const char *name, size_t nlen, const char *value, size_t vlen,
		     size_t extra, int add_space, size_t *len)
{
    char *h = xmalloc(nlen + vlen + extra + 3);
    size_t i, n;

    memcpy(h, name, nlen);
    n = nlen;
    h[n++] = ':';
    if (add_space)
	h[n++] = ' ';
    for (i = 0; i < vlen; i++) {
	/* the milter protocol folds with a bare LF; DKIM hashes CRLF */
	if (value[i] == '\n' && (i == 0 || value[i - 1] != '\r'))
	    h[n++] = '\r';
	h[n++] = value[i];
    }
    h[n] = '\0';
    *len = n;
    return h;
}

/* dkimsign_header - keep one header field, CRLF inside folded values */
void
dkimsign_header(struct dkimsign_msg *m, const char *name, const char *value,
		int add_space)
{
    size_t nlen = strlen(name), vlen = strlen(value), n, extra;
    char *h;

    if (m->too_big)
	return;
    extra = dkimsign_header_extra(value, vlen);
    if (m->nhdrs >= DKIMSIGN_HDR_MAX
	|| m->hdrbytes + nlen + vlen + extra + 2 > DKIMSIGN_HDRBYTES_MAX) {
	m->too_big = 1;
	return;
    }
    h = dkimsign_header_line(name, nlen, value, vlen, extra, add_space, &n);
    m->hdrs = xreallocarray(m->hdrs, m->nhdrs + 1, sizeof(*m->hdrs));
    m->hdrlens = xreallocarray(m->hdrlens, m->nhdrs + 1, sizeof(*m->hdrlens));
    m->hdrs[m->nhdrs] = h;
    m->hdrlens[m->nhdrs++] = n;
    m->hdrbytes += n;

    if (strcasecmp(name, "From") == 0 && ++m->nfrom == 1) {
	if (fromhdr_domain(value, vlen, m->from_domain, sizeof(m->from_domain),
			   &m->from_why) < 0)
	    m->from_domain[0] = '\0';
    }
}

/* msg_fail - an internal error: no signature for this message */
static int
msg_fail(struct dkimsign_msg *m, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(m->why, sizeof(m->why), fmt, ap);
    va_end(ap);
    m->verdict = DKIMSIGN_ERROR;
    COUNT(errors, 1);
    for (size_t i = 0; i < m->ndkim; i++)
	COUNT(failed[m->key[i]->alg == DKIM_ALG_ED25519], 1);
    return -1;
}

/* msg_skip - this message is not to be signed */
static int
msg_skip(struct dkimsign_msg *m, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(m->why, sizeof(m->why), fmt, ap);
    va_end(ap);
    m->verdict = DKIMSIGN_SKIP;
    return -1;
}

/* client_may_sign - the client rule (signclient(3)), then the user's own domains */
static int
client_may_sign(struct dkimsign_msg *m, const struct dkimsign_client *cl)
{
    struct dkimsign *ds = m->ds;

    if (cl->may_sign == 0) {
	COUNT(not_authorised, 1);
	return msg_skip(m, "client is neither in sign_networks nor authenticated");
    }
    /*
     * A tenant signs for its own domains only, from wherever it connects:
     * also from sign_networks, and when sign_authenticated is off.
     */
    if (cl->auth_user && *cl->auth_user && ds->authz
	&& !authz_allows(ds->authz, cl->auth_user, m->from_domain)) {
	COUNT(not_authorised, 1);
	return msg_skip(m, "SASL user %.80s may not sign for %s", cl->auth_user,
			m->from_domain);
    }
    return 0;
}

/* start_handles - one libopendkim signing handle per key, fed the headers */
static int
start_handles(struct dkimsign_msg *m, const struct keyentry **keys, size_t n)
{
    DKIM_STAT st;
    size_t i, j;

    for (i = 0; i < n; i++) {
	DKIM *d = dkim_sign(m->ds->lib, (const unsigned char *) m->id, NULL,
			    (dkim_sigkey_t) keys[i]->key,
			    (const unsigned char *) keys[i]->selector,
			    (const unsigned char *) keys[i]->sign_domain,
			    m->ds->hcanon, m->ds->bcanon,
			    keys[i]->alg == DKIM_ALG_ED25519 ? DKIM_SIGN_ED25519SHA256
			    : DKIM_SIGN_RSASHA256, -1, &st);

	if (d == NULL)
	    return msg_fail(m, "libopendkim: cannot start signing with %s: %s",
			    keys[i]->keyfile, dkim_getresultstr(st));
	m->dkim[m->ndkim] = d;
	m->key[m->ndkim++] = keys[i];
	/*
	 * Under simple header canonicalisation the signature's own folding is
	 * hashed, and libopendkim 2.11 does not always fold it the same way
	 * when signing and when rendering it (Ed25519 signatures failed
	 * dkimpy and libopendkim verifiers): one unfolded line is the same.
	 */
	if (m->ds->hcanon == DKIM_CANON_SIMPLE && dkim_set_margin(d, 0) != DKIM_STAT_OK)
	    return msg_fail(m, "libopendkim: cannot turn off signature folding");
	for (j = 0; j < m->nhdrs; j++) {
	    st = dkim_header(d, (u_char *) m->hdrs[j], m->hdrlens[j]);
	    if (st != DKIM_STAT_OK)
		return msg_fail(m, "libopendkim: header %zu: %s", j + 1,
				dkim_getresultstr(st));
	}
	if ((st = dkim_eoh(d)) != DKIM_STAT_OK)
	    return msg_fail(m, "libopendkim: end of header: %s", dkim_getresultstr(st));
    }
    return 0;
}

/* dkimsign_eoh - decide, and start signing if this message is to be signed */
enum dkimsign_verdict
dkimsign_eoh(struct dkimsign_msg *m, const struct dkimsign_client *cl)
{
    const struct keyentry *keys[KEYTABLE_MAX_PER_DOMAIN];
    size_t n;

    if (m->decided)
	return m->verdict;
    m->decided = 1;
    m->verdict = DKIMSIGN_SIGN;
    if (m->too_big) {
	COUNT(bad_from, 1);
	msg_skip(m, "header larger than %d fields or %d bytes", DKIMSIGN_HDR_MAX,
		 DKIMSIGN_HDRBYTES_MAX);
    } else if (m->nfrom != 1) {
	COUNT(bad_from, 1);
	msg_skip(m, m->nfrom ? "more than one From: field" : "no From: field");
    } else if (m->from_domain[0] == '\0') {
	COUNT(bad_from, 1);
	msg_skip(m, "%s", m->from_why);
    } else if (client_may_sign(m, cl) == 0) {
	if ((n = keytable_lookup(m->ds->keys, m->from_domain, keys,
				 KEYTABLE_MAX_PER_DOMAIN)) == 0) {
	    COUNT(no_key, 1);
	    msg_skip(m, "no key for %s or a parent domain", m->from_domain);
	} else {
	    start_handles(m, keys, n);
	}
    }
    return m->verdict;
}

/* dkimsign_body - a body chunk to every handle */
void
dkimsign_body(struct dkimsign_msg *m, const unsigned char *buf, size_t len)
{
    DKIM_STAT st;
    size_t i;

    if (!m->decided || m->verdict != DKIMSIGN_SIGN)
	return;
    for (i = 0; i < m->ndkim; i++) {
	if ((st = dkim_body(m->dkim[i], (u_char *) buf, len)) != DKIM_STAT_OK) {
	    msg_fail(m, "libopendkim: body: %s", dkim_getresultstr(st));
	    return;
	}
    }
}

/* dkimsign_eom - finish every signature; values without CR */
enum dkimsign_verdict
dkimsign_eom(struct dkimsign_msg *m)
{
    static const size_t prefix = sizeof("DKIM-Signature: ") - 1;
    DKIM_STAT st;
    u_char *hdr;
    size_t i, len, j, k;

    if (!m->decided) {
	m->decided = 1;
	msg_fail(m, "end of message before end of header");
    }
    if (m->verdict != DKIMSIGN_SIGN)
	return m->verdict;
    for (i = 0; i < m->ndkim; i++) {
	if ((st = dkim_eom(m->dkim[i], NULL)) != DKIM_STAT_OK
	    || (st = dkim_getsighdr_d(m->dkim[i], prefix, &hdr, &len)) != DKIM_STAT_OK) {
	    const char *e = dkim_geterror(m->dkim[i]);

	    msg_fail(m, "libopendkim: signing with %s: %s%s%s", m->key[i]->keyfile,
		     dkim_getresultstr(st), e ? ": " : "", e ? e : "");
	    for (j = 0; j < m->nsig; j++)
		free(m->sig[j]);
	    m->nsig = 0;
	    return m->verdict;
	}
	/* " " + value, with "\r\n\t" folds turned into "\n\t" for the MTA */
	m->sig[m->nsig] = xmalloc(len + 2);
	m->sig[m->nsig][0] = ' ';
	for (j = 0, k = 1; j < len; j++)
	    if (hdr[j] != '\r')
		m->sig[m->nsig][k++] = (char) hdr[j];
	m->sig[m->nsig++][k] = '\0';
    }
    COUNT(signed_msgs, 1);
    COUNT(signatures, m->nsig);
    for (i = 0; i < m->ndkim; i++)
	COUNT(made[m->key[i]->alg == DKIM_ALG_ED25519], 1);
    snprintf(m->why, sizeof(m->why), "signed");
    return m->verdict;
}

/* dkimsign_count - signatures made */
size_t
dkimsign_count(const struct dkimsign_msg *m)
{
    return m->nsig;
}

/* dkimsign_signature - the i-th DKIM-Signature value */
const char *
dkimsign_signature(const struct dkimsign_msg *m, size_t i)
{
    return i < m->nsig ? m->sig[i] : NULL;
}

/* dkimsign_why - why not signed (or "signed") */
const char *
dkimsign_why(const struct dkimsign_msg *m)
{
    return m->why;
}

/* dkimsign_domain - the From: domain, "" if none */
const char *
dkimsign_domain(const struct dkimsign_msg *m)
{
    return m->from_domain;
}

/* dkimsign_msg_free - end of a message, signed or not */
void
dkimsign_msg_free(struct dkimsign_msg *m)
{
    size_t i;

    if (m == NULL)
	return;
    for (i = 0; i < m->ndkim; i++)
	dkim_free(m->dkim[i]);
    for (i = 0; i < m->nsig; i++)
	free(m->sig[i]);
    for (i = 0; i < m->nhdrs; i++)
	free(m->hdrs[i]);
    free(m->hdrs);
    free(m->hdrlens);
    dkimsign_unref(m->ds);
    free(m);
}

/* dkimsign_stats_get - a snapshot of the counters */
void
dkimsign_stats_get(struct dkimsign_stats *out)
{
    out->signed_msgs = __atomic_load_n(&stats.signed_msgs, __ATOMIC_RELAXED);
    out->signatures = __atomic_load_n(&stats.signatures, __ATOMIC_RELAXED);
    out->no_key = __atomic_load_n(&stats.no_key, __ATOMIC_RELAXED);
    out->not_authorised = __atomic_load_n(&stats.not_authorised, __ATOMIC_RELAXED);
    out->bad_from = __atomic_load_n(&stats.bad_from, __ATOMIC_RELAXED);
    out->errors = __atomic_load_n(&stats.errors, __ATOMIC_RELAXED);
    for (int i = 0; i < 2; i++) {
	out->made[i] = __atomic_load_n(&stats.made[i], __ATOMIC_RELAXED);
	out->failed[i] = __atomic_load_n(&stats.failed[i], __ATOMIC_RELAXED);
    }
}
