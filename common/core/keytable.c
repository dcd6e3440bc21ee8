/*
 * keytable - the DKIM key table (see keytable.h)
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "addr.h"
#include "keytable.h"
#include "xalloc.h"

#define KEYFILE_MAX (64 * 1024)

static int read_keyfile(struct keyentry *e, int check_owner, uid_t owner,
			char *why, size_t whylen);

/* dkim_alg_name - "rsa" or "ed25519" */
const char *
dkim_alg_name(enum dkim_alg alg)
{
    return alg == DKIM_ALG_ED25519 ? "ed25519" : "rsa";
}

/* read_keyfile - load, check permissions, parse */
static int
read_keyfile(struct keyentry *e, int check_owner, uid_t owner, char *why,
	     size_t whylen)
{
    struct stat st;
    int fd;
    ssize_t n;
    BIO *bio;

    if ((fd = open(e->keyfile, O_RDONLY | O_NOFOLLOW)) < 0) {
	snprintf(why, whylen, "key file %s: %s", e->keyfile, strerror(errno));
	return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
	snprintf(why, whylen, "key file %s: not a regular file", e->keyfile);
	close(fd);
	return -1;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
	snprintf(why, whylen, "key file %s: mode %04o lets group or others read it "
		 "(chmod 600)", e->keyfile, (unsigned) (st.st_mode & 07777));
	close(fd);
	return -1;
    }
    if (check_owner && st.st_uid != owner) {
	snprintf(why, whylen, "key file %s: owned by uid %u, not by the daemon user (uid %u)",
		 e->keyfile, (unsigned) st.st_uid, (unsigned) owner);
	close(fd);
	return -1;
    }
    if (st.st_size <= 0 || st.st_size > KEYFILE_MAX) {
	snprintf(why, whylen, "key file %s: empty or too large", e->keyfile);
	close(fd);
	return -1;
    }
    e->key = xmalloc((size_t) st.st_size + 1);
    n = read(fd, e->key, (size_t) st.st_size);
    close(fd);
    if (n != st.st_size) {
	snprintf(why, whylen, "key file %s: short read", e->keyfile);
	return -1;
    }
    e->keylen = (size_t) n;
    e->key[n] = '\0';
    bio = BIO_new_mem_buf(e->key, (int) e->keylen);
    e->pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (e->pkey == NULL) {
	snprintf(why, whylen, "key file %s: not a PEM private key", e->keyfile);
	return -1;
    }
    if (e->alg == DKIM_ALG_RSA) {
	if (EVP_PKEY_base_id(e->pkey) != EVP_PKEY_RSA) {
	    snprintf(why, whylen, "key file %s: not an RSA key", e->keyfile);
	    return -1;
	}
	if (EVP_PKEY_bits(e->pkey) < 1024) {
	    snprintf(why, whylen, "key file %s: RSA key of %d bits is too short "
		     "(1024 at least, 2048 recommended)", e->keyfile, EVP_PKEY_bits(e->pkey));
	    return -1;
	}
    } else if (EVP_PKEY_base_id(e->pkey) != EVP_PKEY_ED25519) {
	snprintf(why, whylen, "key file %s: not an Ed25519 key", e->keyfile);
	return -1;
    }
    return 0;
}

/* parse_line - one table line into an entry; 0 = entry, 1 = blank, -1 = error */
static int
parse_line(char *line, struct keyentry *e, char *why, size_t whylen)
{
    char *field[6];
    int nf = 0;
    char *save = NULL, *tok, *hash;
    char dom[DOMAIN_MAX];
    const char *reason;
    size_t i;

    if ((hash = strchr(line, '#')) != NULL)
	*hash = '\0';
    for (tok = strtok_r(line, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
	if (nf == 5) {
	    snprintf(why, whylen, "too many fields (want DOMAIN SELECTOR ALGORITHM KEYFILE [d=DOMAIN])");
	    return -1;
	}
	field[nf++] = tok;
    }
    if (nf == 0)
	return 1;
    if (nf < 4) {
	snprintf(why, whylen, "too few fields (want DOMAIN SELECTOR ALGORITHM KEYFILE [d=DOMAIN])");
	return -1;
    }
    if (domain_normalize(field[0], strlen(field[0]), dom, sizeof(dom), &reason) < 0) {
	snprintf(why, whylen, "domain '%s': %s", field[0], reason);
	return -1;
    }
    e->domain = xstrdup(dom);
    for (i = 0; field[1][i]; i++) {
	char c = field[1][i];

	if (!(c == '-' || c == '.' || c == '_' || (c >= '0' && c <= '9')
	      || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
	    snprintf(why, whylen, "selector '%s': letters, digits, '-', '_' and '.' only", field[1]);
	    return -1;
	}
    }
    e->selector = xstrdup(field[1]);
    if (strcmp(field[2], "rsa") == 0 || strcmp(field[2], "rsa-sha256") == 0)
	e->alg = DKIM_ALG_RSA;
    else if (strcmp(field[2], "ed25519") == 0 || strcmp(field[2], "ed25519-sha256") == 0)
	e->alg = DKIM_ALG_ED25519;
    else {
	snprintf(why, whylen, "algorithm '%s': use rsa or ed25519", field[2]);
	return -1;
    }
    if (field[3][0] != '/') {
	snprintf(why, whylen, "key file '%s': give an absolute path", field[3]);
	return -1;
    }
    e->keyfile = xstrdup(field[3]);
    if (nf == 5) {
	if (strncmp(field[4], "d=", 2) != 0
	    || domain_normalize(field[4] + 2, strlen(field[4] + 2), dom, sizeof(dom), &reason) < 0) {
	    snprintf(why, whylen, "'%s': expected d=SIGNING-DOMAIN", field[4]);
	    return -1;
	}
    } else {
	snprintf(dom, sizeof(dom), "%s", e->domain);
    }
    e->sign_domain = xstrdup(dom);
    return 0;
}

/* entry_free - release one entry's memory; the key bytes are wiped */
static void
entry_free(struct keyentry *e)
{
    free(e->domain);
    free(e->selector);
    free(e->keyfile);
    free(e->sign_domain);
    if (e->key) {
	OPENSSL_cleanse(e->key, e->keylen);
	free(e->key);
    }
    EVP_PKEY_free(e->pkey);
    memset(e, 0, sizeof(*e));
}

/* keytable_load - read the table and its keys */
struct keytable *
keytable_load(const char *path, int check_owner, uid_t owner, char *err, size_t errlen)
{
    struct keytable *kt = xcalloc(1, sizeof(*kt));
    FILE *fp = fopen(path, "r");
    char line[4096], why[512];
    int lineno = 0;
    size_t i, same;

    kt->path = xstrdup(path);
    if (fp == NULL) {
	snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
	keytable_free(kt);
	return NULL;
    }
    while (fgets(line, sizeof(line), fp) != NULL) {
	struct keyentry e;
	int rc;

	lineno++;
	if (strchr(line, '\n') == NULL && !feof(fp)) {
	    snprintf(err, errlen, "%s:%d: line too long", path, lineno);
	    goto fail;
	}
	memset(&e, 0, sizeof(e));
	e.line = lineno;
	rc = parse_line(line, &e, why, sizeof(why));
	if (rc == 0)
	    rc = read_keyfile(&e, check_owner, owner, why, sizeof(why));
	if (rc == 1)
	    continue;
	if (rc < 0) {
	    entry_free(&e);
	    snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
	    goto fail;
	}
	for (i = 0, same = 0; i < kt->n; i++) {
	    if (strcmp(kt->v[i].domain, e.domain) != 0)
		continue;
	    if (kt->v[i].alg == e.alg) {
		snprintf(err, errlen, "%s:%d: %s already has an %s key (line %d)", path,
			 lineno, e.domain, dkim_alg_name(e.alg), kt->v[i].line);
		entry_free(&e);
		goto fail;
	    }
	    same++;
	}
	if (same >= KEYTABLE_MAX_PER_DOMAIN) {
	    snprintf(err, errlen, "%s:%d: too many keys for %s", path, lineno, e.domain);
	    entry_free(&e);
	    goto fail;
	}
	kt->v = xreallocarray(kt->v, kt->n + 1, sizeof(*kt->v));
	kt->v[kt->n++] = e;
    }
    fclose(fp);
    return kt;

fail:
    fclose(fp);
    keytable_free(kt);
    return NULL;
}

/* keytable_free - release the table, wiping the keys */
void
keytable_free(struct keytable *kt)
{
    size_t i;

    if (kt == NULL)
	return;
    for (i = 0; i < kt->n; i++)
	entry_free(&kt->v[i]);
    free(kt->v);
    free(kt->path);
    free(kt);
}

/* keytable_lookup - entries of the domain or its closest parent */
size_t
keytable_lookup(const struct keytable *kt, const char *domain,
		const struct keyentry **out, size_t max)
{
    const char *d = domain;
    size_t i, n;

    while (d && *d) {
	for (i = 0, n = 0; i < kt->n; i++)
	    if (strcmp(kt->v[i].domain, d) == 0 && n < max)
		out[n++] = &kt->v[i];
	if (n > 0)
	    return n;
	d = strchr(d, '.');
	if (d)
	    d++;
    }
    return 0;
}

/* keyentry_public_b64 - the p= value */
int
keyentry_public_b64(const struct keyentry *e, char **b64, char *err, size_t errlen)
{
    unsigned char *der = NULL, raw[64];
    size_t len = sizeof(raw);
    int n;

    if (e->alg == DKIM_ALG_ED25519) {
	if (EVP_PKEY_get_raw_public_key(e->pkey, raw, &len) != 1) {
	    snprintf(err, errlen, "%s: cannot derive the public key", e->keyfile);
	    return -1;
	}
	der = raw;
	n = (int) len;
    } else if ((n = i2d_PUBKEY(e->pkey, &der)) <= 0) {
	snprintf(err, errlen, "%s: cannot derive the public key", e->keyfile);
	return -1;
    }
    *b64 = xmalloc(4 * (((size_t) n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *) *b64, der, n);
    if (der != raw)
	OPENSSL_free(der);
    return 0;
}

/* keyentry_dns_record - "v=DKIM1; k=...; p=..." */
int
keyentry_dns_record(const struct keyentry *e, char **txt, char *err, size_t errlen)
{
    char *b64;
    size_t len;

    if (keyentry_public_b64(e, &b64, err, errlen) < 0)
	return -1;
    len = strlen(b64) + 40;
    *txt = xmalloc(len);
    snprintf(*txt, len, "v=DKIM1; k=%s; p=%s", dkim_alg_name(e->alg), b64);
    free(b64);
    return 0;
}
