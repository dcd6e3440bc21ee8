/*
 * keycache - hand libopendkim the private keys already parsed (see keycache.h)
 */
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "keycache.h"
#include "msg.h"
#include "xalloc.h"

struct cached_key {
    unsigned char *pem;
    size_t len;
    EVP_PKEY *pkey;
    int uses;			/* a key in two tables (reload) is added twice */
};

typedef EVP_PKEY *(*pem_read_fn) (BIO *, EVP_PKEY **, pem_password_cb *, void *);

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static struct cached_key *keys;
static size_t nkeys;

/* find - the entry for this text, or NULL; caller holds the lock */
static struct cached_key *
find(const unsigned char *pem, size_t len)
{
    size_t i;

    for (i = 0; i < nkeys; i++)
	if (keys[i].len == len && memcmp(keys[i].pem, pem, len) == 0)
	    return &keys[i];
    return NULL;
}

/* keycache_add - remember a parsed key under its PEM text */
void
keycache_add(const unsigned char *pem, size_t len, EVP_PKEY *pkey)
{
    struct cached_key *k;

    pthread_rwlock_wrlock(&lock);
    if ((k = find(pem, len)) != NULL) {
	k->uses++;
    } else {
	keys = xreallocarray(keys, nkeys + 1, sizeof(*keys));
	k = &keys[nkeys++];
	k->pem = xmalloc(len);
	memcpy(k->pem, pem, len);
	k->len = len;
	EVP_PKEY_up_ref(pkey);
	k->pkey = pkey;
	k->uses = 1;
    }
    pthread_rwlock_unlock(&lock);
}

/* keycache_remove - forget a key when its last table goes */
void
keycache_remove(const unsigned char *pem, size_t len)
{
    struct cached_key *k;

    pthread_rwlock_wrlock(&lock);
    if ((k = find(pem, len)) != NULL && --k->uses == 0) {
	OPENSSL_cleanse(k->pem, k->len);
	free(k->pem);
	EVP_PKEY_free(k->pkey);
	*k = keys[--nkeys];
    }
    pthread_rwlock_unlock(&lock);
}

/* PEM_read_bio_PrivateKey - a cached key, or OpenSSL's parser */
EVP_PKEY *
PEM_read_bio_PrivateKey(BIO *bp, EVP_PKEY **x, pem_password_cb *cb, void *u)
{
    static pem_read_fn real;
    struct cached_key *k;
    EVP_PKEY *pkey = NULL;
    char *data;
    long len;

    if (x == NULL && (len = BIO_get_mem_data(bp, &data)) > 0) {
	pthread_rwlock_rdlock(&lock);
	if ((k = find((unsigned char *) data, (size_t) len)) != NULL) {
	    EVP_PKEY_up_ref(k->pkey);
	    pkey = k->pkey;
	}
	pthread_rwlock_unlock(&lock);
	if (pkey)
	    return pkey;
    }
    if (__atomic_load_n(&real, __ATOMIC_ACQUIRE) == NULL) {
	pem_read_fn fn = (pem_read_fn) dlsym(RTLD_NEXT, "PEM_read_bio_PrivateKey");

	if (fn == NULL)
	    msg_fatal("keycache: OpenSSL's PEM_read_bio_PrivateKey not found");
	__atomic_store_n(&real, fn, __ATOMIC_RELEASE);
    }
    return real(bp, x, cb, u);
}
