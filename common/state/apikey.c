/*
 * apikey - the API keys of the platform API (see apikey.h)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "apikey.h"
#include "msg.h"
#include "redisconn.h"
#include "xalloc.h"

static const char hexdig[] = "0123456789abcdef";
static const char *const scope_names[] = {"send", "suppress", "stats", "events"};

/* hex - n bytes as 2n lowercase hex digits and a NUL */
static void
hex(const unsigned char *b, size_t n, char *out)
{
    size_t i;

    for (i = 0; i < n; i++) {
	out[2 * i] = hexdig[b[i] >> 4];
	out[2 * i + 1] = hexdig[b[i] & 15];
    }
    out[2 * n] = '\0';
}

/* apikey_make - a new random key and its ID */
void
apikey_make(char key[APIKEY_MAX], char id[APIKEY_ID_MAX])
{
    unsigned char b[APIKEY_ID_LEN / 2 + APIKEY_SECRET_LEN / 2];
    char secret[APIKEY_SECRET_LEN + 1];

    if (RAND_bytes(b, sizeof(b)) != 1)
	msg_fatal("OpenSSL RAND_bytes failed");
    hex(b, APIKEY_ID_LEN / 2, id);
    hex(b + APIKEY_ID_LEN / 2, APIKEY_SECRET_LEN / 2, secret);
    snprintf(key, APIKEY_MAX, "op_%s_%s", id, secret);
    OPENSSL_cleanse(b, sizeof(b));
    OPENSSL_cleanse(secret, sizeof(secret));
}

/* is_hex - n lowercase hex digits? */
static int
is_hex(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
	if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
	    return 0;
    return 1;
}

/* apikey_parse - "op_ID_SECRET"? copy ID out */
int
apikey_parse(const char *s, size_t len, char id[APIKEY_ID_MAX])
{
    if (len != APIKEY_LEN || memcmp(s, "op_", 3) != 0 || s[3 + APIKEY_ID_LEN] != '_'
	|| !is_hex(s + 3, APIKEY_ID_LEN)
	|| !is_hex(s + 4 + APIKEY_ID_LEN, APIKEY_SECRET_LEN))
	return -1;
    memcpy(id, s + 3, APIKEY_ID_LEN);
    id[APIKEY_ID_LEN] = '\0';
    return 0;
}

/* apikey_hash - hex SHA-256 of the whole key */
void
apikey_hash(const char *key, size_t len, char out[APIKEY_HASH_MAX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (EVP_Digest(key, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
	msg_fatal("SHA-256 failed");
    hex(md, 32, out);
}

/* apikey_hash_equal - two hex hashes, compared in constant time */
int
apikey_hash_equal(const char *a, const char *b)
{
    if (strlen(a) != APIKEY_HASH_MAX - 1 || strlen(b) != APIKEY_HASH_MAX - 1)
	return 0;
    return CRYPTO_memcmp(a, b, APIKEY_HASH_MAX - 1) == 0;
}

/* apikey_scopes_parse - "send,stats" into a set */
int
apikey_scopes_parse(const char *s, unsigned *scopes)
{
    size_t len, i;

    *scopes = 0;
    for (;;) {
	len = strcspn(s, ",");
	for (i = 0; i < 4; i++)
	    if (len == strlen(scope_names[i]) && strncmp(s, scope_names[i], len) == 0)
		break;
	if (i == 4)
	    return -1;
	*scopes |= 1u << i;
	if (s[len] == '\0')
	    return 0;
	s += len + 1;
    }
}

/* apikey_scopes_format - a set as "send,stats" */
void
apikey_scopes_format(unsigned scopes, char *buf, size_t size)
{
    size_t i, n = 0;

    buf[0] = '\0';
    for (i = 0; i < 4; i++)
	if (scopes & (1u << i))
	    n += (size_t) snprintf(buf + n, n < size ? size - n : 0, "%s%s",
				   n ? "," : "", scope_names[i]);
}

/* apikey_has_domain - is domain in the key's list? (case-blind) */
int
apikey_has_domain(const struct apikey_rec *k, const char *domain)
{
    const char *p = k->domains;
    size_t len, dl = strlen(domain);

    while (*p) {
	len = strcspn(p, ",");
	if (len == dl && dl > 0 && strncasecmp(p, domain, len) == 0)
	    return 1;
	p += len + (p[len] == ',');
    }
    return 0;
}

/* ---------------------------------------------------------------- Redis */

/* key_of - P{api}:NAME */
static void
key_of(char *buf, size_t size, const char *prefix, const char *name, const char *id)
{
    snprintf(buf, size, "%s{api}:%s%s", prefix, name, id ? id : "");
}

/* apikey_rate_key - the key's GCRA state */
void
apikey_rate_key(char *buf, size_t size, const char *prefix, const char *id)
{
    key_of(buf, size, prefix, "rate:", id);
}

/* failed - NULL or an error reply: -1 (logged), and the reply freed */
static int
failed(struct rconn *rc, redisReply *r, int want)
{
    if (r && r->type == want)
	return 0;
    if (r && r->type == REDIS_REPLY_ERROR)
	msg_warn("redis: API keys: %s", r->str);
    else if (r == NULL)
	msg_warn("redis: API keys: %s", rconn_error(rc));
    else
	msg_warn("redis: API keys: unexpected reply");
    if (r)
	freeReplyObject(r);
    return -1;
}

/* apikey_put - write one record and list it */
int
apikey_put(struct rconn *rc, const char *prefix, const struct apikey_rec *k)
{
    char key[256], keys[256], scopes[64], created[24];
    redisReply *r;

    key_of(key, sizeof(key), prefix, "key:", k->id);
    key_of(keys, sizeof(keys), prefix, "keys", NULL);
    apikey_scopes_format(k->scopes, scopes, sizeof(scopes));
    snprintf(created, sizeof(created), "%lld", k->created);
    r = rconn_commandv(rc, "HSET", key, "hash", k->hash, "tenant", k->tenant, "scopes",
		       scopes, "domains", k->domains, "created", created, NULL);
    if (failed(rc, r, REDIS_REPLY_INTEGER))
	return -1;
    freeReplyObject(r);
    r = rconn_commandv(rc, "ZADD", keys, created, k->id, NULL);
    if (failed(rc, r, REDIS_REPLY_INTEGER))
	return -1;
    freeReplyObject(r);
    return 0;
}

/* fill - a record from HGETALL's pairs; -1 when it is not ours */
static int
fill(const redisReply *r, const char *id, struct apikey_rec *k)
{
    size_t i;

    memset(k, 0, sizeof(*k));
    snprintf(k->id, sizeof(k->id), "%s", id);
    for (i = 0; i + 1 < r->elements; i += 2) {
	const redisReply *f = r->element[i], *v = r->element[i + 1];

	if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
	    continue;
	if (strcmp(f->str, "hash") == 0)
	    snprintf(k->hash, sizeof(k->hash), "%s", v->str);
	else if (strcmp(f->str, "tenant") == 0)
	    snprintf(k->tenant, sizeof(k->tenant), "%s", v->str);
	else if (strcmp(f->str, "domains") == 0)
	    snprintf(k->domains, sizeof(k->domains), "%s", v->str);
	else if (strcmp(f->str, "created") == 0)
	    k->created = strtoll(v->str, NULL, 10);
	else if (strcmp(f->str, "scopes") == 0 && apikey_scopes_parse(v->str, &k->scopes) < 0)
	    k->scopes = 0;
    }
    return k->hash[0] && k->tenant[0] ? 0 : -1;
}

/* apikey_get - one record by ID */
int
apikey_get(struct rconn *rc, const char *prefix, const char *id, struct apikey_rec *k)
{
    char key[256];
    redisReply *r;
    int rv;

    key_of(key, sizeof(key), prefix, "key:", id);
    r = rconn_commandv(rc, "HGETALL", key, NULL);
    if (failed(rc, r, REDIS_REPLY_ARRAY))
	return -1;
    rv = r->elements > 0 && fill(r, id, k) == 0;
    freeReplyObject(r);
    return rv;
}

/* apikey_revoke - delete a record; 1: it was there */
int
apikey_revoke(struct rconn *rc, const char *prefix, const char *id)
{
    char key[256], keys[256], rate[256];
    redisReply *r;
    int rv;

    key_of(key, sizeof(key), prefix, "key:", id);
    key_of(keys, sizeof(keys), prefix, "keys", NULL);
    apikey_rate_key(rate, sizeof(rate), prefix, id);
    r = rconn_commandv(rc, "DEL", key, rate, NULL);
    if (failed(rc, r, REDIS_REPLY_INTEGER))
	return -1;
    freeReplyObject(r);
    r = rconn_commandv(rc, "ZREM", keys, id, NULL);
    if (failed(rc, r, REDIS_REPLY_INTEGER))
	return -1;
    rv = r->integer > 0;
    freeReplyObject(r);
    return rv;
}

/* apikey_list - each record in order of creation */
int
apikey_list(struct rconn *rc, const char *prefix,
	    int (*fn)(const struct apikey_rec *, void *), void *arg)
{
    char keys[256], first[24], last[24];
    struct apikey_rec *k = xmalloc(sizeof(*k));
    redisReply *r;
    long long from = 0;
    size_t i, n;
    int rv = 0, got;

    key_of(keys, sizeof(keys), prefix, "keys", NULL);
    /* a hundred at a time: constant memory however many keys */
    for (;;) {
	snprintf(first, sizeof(first), "%lld", from);
	snprintf(last, sizeof(last), "%lld", from + 99);
	r = rconn_commandv(rc, "ZRANGE", keys, first, last, NULL);
	if (failed(rc, r, REDIS_REPLY_ARRAY)) {
	    rv = -1;
	    break;
	}
	for (i = 0; i < r->elements && rv == 0; i++) {
	    if (r->element[i]->type != REDIS_REPLY_STRING
		|| r->element[i]->len >= APIKEY_ID_MAX)
		continue;
	    if ((got = apikey_get(rc, prefix, r->element[i]->str, k)) < 0)
		rv = -1;
	    else if (got)
		rv = fn(k, arg);
	}
	n = r->elements;
	freeReplyObject(r);
	if (rv != 0 || n < 100)
	    break;
	from += 100;
    }
    free(k);
    return rv;
}
