/*
 * keytable - the DKIM key table: which domain signs with which key
 *
 * SYNOPSIS
 *	#include "keytable.h"
 *
 *	struct keytable *keytable_load(const char *path, int check_owner,
 *				       uid_t owner, char *err, size_t errlen);
 *	void keytable_free(struct keytable *kt);
 *	size_t keytable_lookup(const struct keytable *kt, const char *domain,
 *			       const struct keyentry **out, size_t max);
 *	int keyentry_public_b64(const struct keyentry *e, char **b64,
 *				char *err, size_t errlen);
 *	int keyentry_dns_record(const struct keyentry *e, char **txt,
 *				char *err, size_t errlen);
 *
 * DESCRIPTION
 *	The key table is a text file, one key per line, '#' starts a comment:
 *
 *	    DOMAIN  SELECTOR  ALGORITHM  KEYFILE  [d=SIGNING-DOMAIN]
 *
 *	DOMAIN is the From: domain the key serves (its subdomains too, unless
 *	one of them has keys of its own); ALGORITHM is rsa or ed25519 (RFC
 *	8463); KEYFILE holds the private key in PEM.  A domain may have one
 *	key of each algorithm and then gets both signatures.  d= names a
 *	signing domain other than DOMAIN: without it the signature's d= is
 *	always the From: domain's own (DMARC alignment).
 *
 *	keytable_load() reads the table and every key file into memory and
 *	checks each key: it must parse, an RSA key must have at least 1024
 *	bits, and the file must not be readable or writable by group or
 *	others (and, when check_owner is set, must be owned by owner).  Any
 *	problem refuses the whole table with "FILE:LINE: problem" in err, so
 *	a reload with a bad table keeps the old one.
 *
 *	keytable_lookup() finds the entries for a From: domain: those of the
 *	domain itself, else of its closest parent that has entries.  It
 *	stores up to max pointers (valid while the table lives) and returns
 *	how many it found.
 *
 *	keyentry_public_b64() gives the base64 public key as published in the
 *	p= tag (SubjectPublicKeyInfo for RSA, the raw 32 bytes for Ed25519).
 *	keyentry_dns_record() gives the whole TXT record text
 *	("v=DKIM1; k=rsa; p=...").  Both allocate; the caller frees.
 */
#ifndef OUTPOST_KEYTABLE_H
#define OUTPOST_KEYTABLE_H

#include <stddef.h>
#include <sys/types.h>

#include <openssl/evp.h>

enum dkim_alg { DKIM_ALG_RSA, DKIM_ALG_ED25519 };

struct keyentry {
    char *domain;		/* From: domain served (normalised) */
    char *selector;
    enum dkim_alg alg;
    char *keyfile;
    char *sign_domain;		/* the d= tag: domain itself unless d= given */
    unsigned char *key;		/* the key file's bytes (PEM) */
    size_t keylen;
    EVP_PKEY *pkey;		/* parsed key */
    int line;
};

struct keytable {
    char *path;
    struct keyentry *v;
    size_t n;
};

#define KEYTABLE_MAX_PER_DOMAIN 4

struct keytable *keytable_load(const char *path, int check_owner, uid_t owner,
			       char *err, size_t errlen);
void keytable_free(struct keytable *kt);
size_t keytable_lookup(const struct keytable *kt, const char *domain,
		       const struct keyentry **out, size_t max);
const char *dkim_alg_name(enum dkim_alg alg);
int keyentry_public_b64(const struct keyentry *e, char **b64, char *err,
			size_t errlen);
int keyentry_dns_record(const struct keyentry *e, char **txt, char *err,
			size_t errlen);

#endif
