/*
 * apikey - the API keys of the platform API: their shape, their hash, and
 *	    their records in Redis
 *
 * SYNOPSIS
 *	#include "apikey.h"
 *
 *	Pure functions (no Redis):
 *
 *	void apikey_make(char key[APIKEY_MAX], char id[APIKEY_ID_MAX]);
 *	int apikey_parse(const char *s, size_t len, char id[APIKEY_ID_MAX]);
 *	void apikey_hash(const char *key, size_t len, char hex[APIKEY_HASH_MAX]);
 *	int apikey_hash_equal(const char *a, const char *b);
 *	int apikey_scopes_parse(const char *s, unsigned *scopes);
 *	void apikey_scopes_format(unsigned scopes, char *buf, size_t size);
 *	int apikey_has_domain(const struct apikey_rec *k, const char *domain);
 *
 *	The records in Redis:
 *
 *	int apikey_put(struct rconn *rc, const char *prefix,
 *		       const struct apikey_rec *k);
 *	int apikey_get(struct rconn *rc, const char *prefix, const char *id,
 *		       struct apikey_rec *k);
 *	int apikey_revoke(struct rconn *rc, const char *prefix, const char *id);
 *	int apikey_list(struct rconn *rc, const char *prefix,
 *			int (*fn)(const struct apikey_rec *, void *), void *arg);
 *	void apikey_rate_key(char *buf, size_t size, const char *prefix,
 *			     const char *id);
 *
 * DESCRIPTION
 *	A key reads "op_ID_SECRET": ID is 16 lowercase hex digits (8 random
 *	bytes) that name the key in listings and logs, SECRET 64 hex digits
 *	(32 random bytes, OpenSSL RAND_bytes).  apikey_make() draws one;
 *	it is shown once and never stored: Redis keeps only the SHA-256 of
 *	the whole key (apikey_hash(), lowercase hex), compared in constant
 *	time (apikey_hash_equal()).  apikey_parse() checks the shape and
 *	copies the ID out; it returns 0, or -1 for anything else.
 *
 *	Scopes are a set of APIKEY_SEND, APIKEY_SUPPRESS, APIKEY_STATS and
 *	APIKEY_EVENTS, written "send,suppress,stats,events".
 *	apikey_scopes_parse() returns 0, or -1 for an unknown or empty word.
 *
 *	Layout in Redis (P = [redis] prefix; the hash tag {api} keeps them in
 *	one slot):
 *
 *	P{api}:key:ID	hash: hash (hex SHA-256 of the key), tenant, scopes,
 *			domains (comma-separated), created (UNIX seconds)
 *	P{api}:keys	sorted set: ID by creation time (the listing)
 *	P{api}:rate:ID	the GCRA state of the key's rate limit (TAT in
 *			microseconds, policy/gcra.lua), with a TTL
 *
 *	A revoked key's records are deleted: it is then unknown.
 *	apikey_put() writes a record, apikey_revoke() deletes one (1: it was
 *	there, 0: not).  apikey_get() returns 1 with *k filled in, 0 for an
 *	unknown ID.  apikey_list() calls fn for each key in order of creation
 *	until fn returns non-zero (returned).  All return -1 when Redis
 *	cannot be reached or answers an error.
 */
#ifndef OUTPOST_APIKEY_H
#define OUTPOST_APIKEY_H

#include <stddef.h>

struct rconn;

#define APIKEY_ID_LEN	16
#define APIKEY_SECRET_LEN 64
#define APIKEY_ID_MAX	(APIKEY_ID_LEN + 1)
#define APIKEY_LEN	(3 + APIKEY_ID_LEN + 1 + APIKEY_SECRET_LEN)
#define APIKEY_MAX	(APIKEY_LEN + 1)
#define APIKEY_HASH_MAX	65
#define APIKEY_TENANT_MAX 128
#define APIKEY_DOMAINS_MAX 4096

#define APIKEY_SEND	1u
#define APIKEY_SUPPRESS	2u
#define APIKEY_STATS	4u
#define APIKEY_EVENTS	8u
#define APIKEY_ALL	15u

struct apikey_rec {
    char id[APIKEY_ID_MAX];
    char hash[APIKEY_HASH_MAX];
    char tenant[APIKEY_TENANT_MAX];
    unsigned scopes;
    char domains[APIKEY_DOMAINS_MAX];	/* "a.example,b.example" */
    long long created;
};

void apikey_make(char key[APIKEY_MAX], char id[APIKEY_ID_MAX]);
int apikey_parse(const char *s, size_t len, char id[APIKEY_ID_MAX]);
void apikey_hash(const char *key, size_t len, char hex[APIKEY_HASH_MAX]);
int apikey_hash_equal(const char *a, const char *b);
int apikey_scopes_parse(const char *s, unsigned *scopes);
void apikey_scopes_format(unsigned scopes, char *buf, size_t size);
int apikey_has_domain(const struct apikey_rec *k, const char *domain);

int apikey_put(struct rconn *rc, const char *prefix, const struct apikey_rec *k);
int apikey_get(struct rconn *rc, const char *prefix, const char *id,
	       struct apikey_rec *k);
int apikey_revoke(struct rconn *rc, const char *prefix, const char *id);
int apikey_list(struct rconn *rc, const char *prefix,
		int (*fn)(const struct apikey_rec *, void *), void *arg);
void apikey_rate_key(char *buf, size_t size, const char *prefix, const char *id);

#endif
