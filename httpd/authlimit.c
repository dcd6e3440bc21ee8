/*
 * authlimit - failed authentications of the platform API per client address
 *	       (see authlimit.h)
 *
 * Each slot keeps one number, the client's theoretical arrival time (TAT)
 * of gcra(3): a TAT not after now holds nothing (the full burst is there
 * again), which is what lets a slot be taken over without losing a limit.
 */
#include "config.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "authlimit.h"
#include "gcra.h"
#include "monotime.h"
#include "msg.h"
#include "xalloc.h"

/* one client */
struct slot {
    unsigned char key[16];
    long long tat_us;		/* 0: a free slot */
};

/* the slots one hash leads to, under one lock */
struct set {
    pthread_mutex_t lock;
    struct slot s[AUTHLIMIT_WAYS];
};

struct authlimit {
    size_t nsets;
    struct set *sets;
    EVP_MAC *mac;
    EVP_MAC_CTX *keyed;		/* SipHash with this process' key: copied per call */
};

/* authlimit_new - an empty table of about slots clients */
struct authlimit *
authlimit_new(size_t slots)
{
    struct authlimit *al = xcalloc(1, sizeof(*al));
    unsigned char key[16];
    size_t outlen = 8, i;
    OSSL_PARAM params[2];

    al->nsets = (slots + AUTHLIMIT_WAYS - 1) / AUTHLIMIT_WAYS;
    if (al->nsets == 0)
	al->nsets = 1;
    al->sets = xcalloc(al->nsets, sizeof(*al->sets));
    for (i = 0; i < al->nsets; i++)
	pthread_mutex_init(&al->sets[i].lock, NULL);
    if (RAND_bytes(key, sizeof(key)) != 1)
	msg_fatal("OpenSSL RAND_bytes failed");
    params[0] = OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &outlen);
    params[1] = OSSL_PARAM_construct_end();
    if ((al->mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_SIPHASH, NULL)) == NULL
	|| (al->keyed = EVP_MAC_CTX_new(al->mac)) == NULL
	|| EVP_MAC_init(al->keyed, key, sizeof(key), params) != 1)
	msg_fatal("OpenSSL: SipHash is not available");
    return al;
}

/* authlimit_free - release the table */
void
authlimit_free(struct authlimit *al)
{
    size_t i;

    if (al == NULL)
	return;
    for (i = 0; i < al->nsets; i++)
	pthread_mutex_destroy(&al->sets[i].lock);
    free(al->sets);
    EVP_MAC_CTX_free(al->keyed);
    EVP_MAC_free(al->mac);
    free(al);
}

/* authlimit_client - the limiter's name of an address: itself, or its /64 */
void
authlimit_client(const char *addr, struct authlimit_client *c)
{
    unsigned char a[16];
    char buf[INET6_ADDRSTRLEN];

    memset(c->key, 0, sizeof(c->key));
    if (inet_pton(AF_INET, addr, a) == 1) {
	c->key[10] = c->key[11] = 0xff;
	memcpy(c->key + 12, a, 4);
    } else if (inet_pton(AF_INET6, addr, a) == 1) {
	memcpy(c->key, a, 16);
	if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) != 0)
	    memset(c->key + 8, 0, 8);	/* the /64; a mapped IPv4 stays itself */
    } else {
	/* no address: all such share one name no /64 or IPv4 address has */
	memset(c->key, 0xff, sizeof(c->key));
	snprintf(c->text, sizeof(c->text), "(not an address)");
	return;
    }
    if (memcmp(c->key, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
	inet_ntop(AF_INET, c->key + 12, buf, sizeof(buf));
    else
	inet_ntop(AF_INET6, c->key, buf, sizeof(buf));
    snprintf(c->text, sizeof(c->text), "%s%s", buf,
	     memcmp(c->key, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0 ? "" : "/64");
}

/* set_of - the set a client's keyed hash leads to */
static struct set *
set_of(struct authlimit *al, const struct authlimit_client *c)
{
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(al->keyed);
    unsigned char out[8];
    size_t outlen = 0;
    uint64_t h = 0;
    int i;

    if (ctx == NULL || EVP_MAC_update(ctx, c->key, sizeof(c->key)) != 1
	|| EVP_MAC_final(ctx, out, &outlen, sizeof(out)) != 1 || outlen != sizeof(out))
	msg_fatal("OpenSSL: SipHash failed");
    EVP_MAC_CTX_free(ctx);
    for (i = 0; i < 8; i++)
	h = h << 8 | out[i];
    return &al->sets[h % al->nsets];
}

/*
 * find - c's slot in its set (locked), or NULL; with take, a slot made
 * for it: a free one, one recovered, or else the one closest to recovery
 */
static struct slot *
find(struct set *set, const struct authlimit_client *c, long long now_us, int take)
{
    struct slot *s, *victim = NULL;

    for (s = set->s; s < set->s + AUTHLIMIT_WAYS; s++) {
	if (s->tat_us != 0 && memcmp(s->key, c->key, sizeof(c->key)) == 0)
	    return s;
	if (victim == NULL || (victim->tat_us > now_us && s->tat_us < victim->tat_us))
	    victim = s;
    }
    if (!take)
	return NULL;
    memcpy(victim->key, c->key, sizeof(c->key));
    victim->tat_us = now_us;		/* no failure yet */
    return victim;
}

/* authlimit_wait - 0: c may try now; else the microseconds until it may */
long long
authlimit_wait(struct authlimit *al, const struct conf_rate *rate, long burst,
	       const struct authlimit_client *c, long long now_us)
{
    struct set *set;
    struct slot *s;
    struct gcra g;
    long long tat = 0, next, wait = 0;

    if (burst <= 0 || rate->count <= 0)
	return 0;
    set = set_of(al, c);
    pthread_mutex_lock(&set->lock);
    if ((s = find(set, c, now_us, 0)) != NULL)
	tat = s->tat_us;
    pthread_mutex_unlock(&set->lock);
    gcra_init(&g, rate, burst);
    if (tat > now_us)
	gcra_step(&g, tat, now_us, &next, &wait);
    return wait;
}

/* authlimit_fail - charge one failure; 1 when it took c over the limit */
int
authlimit_fail(struct authlimit *al, const struct conf_rate *rate, long burst,
	       const struct authlimit_client *c, long long now_us, long long *wait_us)
{
    struct set *set;
    struct slot *s;
    struct gcra g;
    long long tat;
    int was_under;

    *wait_us = 0;
    if (burst <= 0 || rate->count <= 0)
	return 0;
    gcra_init(&g, rate, burst);
    set = set_of(al, c);
    pthread_mutex_lock(&set->lock);
    s = find(set, c, now_us, 1);
    tat = s->tat_us > now_us ? s->tat_us : now_us;
    was_under = tat - g.tolerance_us <= now_us;
    /* charged even when over (requests in flight): TAT moves on */
    s->tat_us = gcra_add(tat, g.interval_us);
    if (was_under && s->tat_us - g.tolerance_us > now_us)
	*wait_us = s->tat_us - g.tolerance_us - now_us;
    pthread_mutex_unlock(&set->lock);
    return *wait_us > 0;
}

/* authlimit_used - slots holding a client not yet recovered */
size_t
authlimit_used(struct authlimit *al, long long now_us)
{
    size_t i, n = 0;
    int k;

    for (i = 0; i < al->nsets; i++) {
	pthread_mutex_lock(&al->sets[i].lock);
	for (k = 0; k < AUTHLIMIT_WAYS; k++)
	    n += al->sets[i].s[k].tat_us > now_us;
	pthread_mutex_unlock(&al->sets[i].lock);
    }
    return n;
}

/* seconds - microseconds rounded up to whole seconds */
static long long
seconds(long long us)
{
    return us / 1000000 + (us % 1000000 != 0);
}

/* authlimit_retry - Retry-After for c in seconds, 0: it may try */
long
authlimit_retry(struct authlimit *al, const struct conf_httpd *h,
		const struct authlimit_client *c)
{
    long long wait;

    if (al == NULL || (wait = authlimit_wait(al, &h->api_auth_failures, h->api_auth_burst,
					     c, monotime_us())) <= 0)
	return 0;
    return (long) seconds(wait);
}

/* authlimit_charge - a 401 for c; say so when it goes over the limit */
void
authlimit_charge(struct authlimit *al, const struct conf_httpd *h,
		 const struct authlimit_client *c)
{
    static struct msg_limit said = MSG_LIMIT_INIT(1);
    long long wait;

    if (al == NULL || !authlimit_fail(al, &h->api_auth_failures, h->api_auth_burst, c,
				      monotime_us(), &wait))
	return;
    msg_info_limited(&said, "API: too many failed authentications from %s: its requests "
		     "are refused (429) for %lld s ([httpd] api_auth_failures, api_auth_burst)",
		     c->text, seconds(wait));
}
