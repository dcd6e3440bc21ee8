/*
 * nodeinfo - what must be the same on every relay node (see nodeinfo.h)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "keytable.h"
#include "nodeinfo.h"
#include "retpath.h"
#include "verp.h"
#include "xalloc.h"

/* replace the entry: KEYS node hash, node set; ARGV ttl, updated, node, fields */
static struct rscript publish_script;
static const char publish_lua[] =
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('HSET', KEYS[1], unpack(ARGV, 4))\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[1])\n"
    "redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])\n"
    "return 1\n";

/* add - one field */
static void
add(struct nodeinfo *ni, const char *name, const char *value)
{
    if (ni->n == ni->cap) {
	ni->cap = ni->cap ? 2 * ni->cap : 16;
	ni->name = xreallocarray(ni->name, ni->cap, sizeof(*ni->name));
	ni->value = xreallocarray(ni->value, ni->cap, sizeof(*ni->value));
    }
    ni->name[ni->n] = xstrdup(name);
    ni->value[ni->n] = xstrdup(value);
    ni->n++;
}

/* hex - bytes as lower-case hex into out (2 * len + 1 bytes) */
static void
hex(const unsigned char *p, size_t len, char *out)
{
    size_t i;

    for (i = 0; i < len; i++)
	snprintf(out + 2 * i, 3, "%02x", p[i]);
    out[2 * len] = '\0';
}

/* feed - one string of the canonical text, ended by a newline */
static void
feed(EVP_MD_CTX *md, const char *s)
{
    if (s)
	EVP_DigestUpdate(md, s, strlen(s));
    EVP_DigestUpdate(md, "\n", 1);
}

/* feed_list - a list, its length first */
static void
feed_list(EVP_MD_CTX *md, const struct conf_strlist *l)
{
    char n[32];
    size_t i;

    snprintf(n, sizeof(n), "%zu", l->n);
    feed(md, n);
    for (i = 0; i < l->n; i++)
	feed(md, l->v[i]);
}

/* feed_rate - a rate and its burst */
static void
feed_rate(EVP_MD_CTX *md, const struct conf_rate *r, long burst)
{
    char buf[96];

    snprintf(buf, sizeof(buf), "%ld/%lldms burst %ld", r->count, r->period_ms, burst);
    feed(md, buf);
}

/* limits_hash - SHA-256 of the limits and pools, in hex */
static void
limits_hash(const struct outpost_conf *c, char out[2 * 32 + 1])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned int hl = 0;
    char buf[32];
    size_t i;

    if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
	snprintf(out, 65, "unknown");
	EVP_MD_CTX_free(md);
	return;
    }
    feed(md, "policy");
    feed_rate(md, &c->policy.domain_rate, c->policy.domain_burst);
    feed_rate(md, &c->policy.sender_rate, c->policy.sender_burst);
    snprintf(buf, sizeof(buf), "%d", c->policy.sender_key);
    feed(md, buf);
    feed(md, c->policy.default_pool);
    for (i = 0; i < c->providers.n; i++) {
	const struct conf_provider *p = CONF_VEC_AT(&c->providers, i, struct conf_provider);

	feed(md, "provider");
	feed(md, p->named.name);
	feed_list(md, &p->mx);
	feed_list(md, &p->domains);
	feed_rate(md, &p->rate, p->burst);
    }
    for (i = 0; i < c->pools.n; i++) {
	const struct conf_pool *p = CONF_VEC_AT(&c->pools, i, struct conf_pool);

	feed(md, "pool");
	feed(md, p->named.name);
	feed(md, p->transport);
	feed_list(md, &p->senders);
	feed_list(md, &p->schedule);
	feed_list(md, &p->split);
	feed(md, p->overflow);
    }
    for (i = 0; i < c->domains.n; i++) {
	const struct conf_domain *d = CONF_VEC_AT(&c->domains, i, struct conf_domain);

	feed(md, "domain");
	feed(md, d->named.name);
	feed_rate(md, &d->rate, d->burst);
    }
    for (i = 0; i < c->senders.n; i++) {
	const struct conf_sender *s = CONF_VEC_AT(&c->senders, i, struct conf_sender);

	feed(md, "sender");
	feed(md, s->named.name);
	feed_rate(md, &s->rate, s->burst);
    }
    EVP_DigestFinal_ex(md, h, &hl);
    EVP_MD_CTX_free(md);
    hex(h, hl > 32 ? 32 : hl, out);
}

/* add_dkim - one field per key of the key table */
static int
add_dkim(struct nodeinfo *ni, const struct outpost_conf *conf, uid_t owner, char *err,
	 size_t errlen)
{
    struct keytable *kt;
    unsigned char *der, h[EVP_MAX_MD_SIZE];
    unsigned int hl;
    char name[600], value[700], hx[2 * EVP_MAX_MD_SIZE + 1];
    size_t i;
    int len;

    if (conf->dkim.key_table == NULL)
	return 0;
    if ((kt = keytable_load(conf->dkim.key_table, 1, owner, err, errlen)) == NULL)
	return -1;
    for (i = 0; i < kt->n; i++) {
	const struct keyentry *e = &kt->v[i];

	der = NULL;
	if ((len = i2d_PUBKEY(e->pkey, &der)) <= 0
	    || EVP_Digest(der, (size_t) len, h, &hl, EVP_sha256(), NULL) != 1) {
	    snprintf(err, errlen, "%s:%d: cannot read the public key", kt->path, e->line);
	    OPENSSL_free(der);
	    keytable_free(kt);
	    return -1;
	}
	OPENSSL_free(der);
	hex(h, hl, hx);
	snprintf(name, sizeof(name), "dkim:%s:%s", e->domain, e->selector);
	snprintf(value, sizeof(value), "%s sha256:%s d=%s",
		 e->alg == DKIM_ALG_ED25519 ? "ed25519" : "rsa", hx, e->sign_domain);
	add(ni, name, value);
    }
    keytable_free(kt);
    return 0;
}

/* add_secrets - one field per intake secret */
static int
add_secrets(struct nodeinfo *ni, const struct outpost_conf *conf, uid_t owner, char *err,
	    size_t errlen)
{
    struct verp_keys *k;
    char name[64], id[2 * VERP_KEY_ID_BYTES + 1];
    size_t i;

    if (conf->intake.secret_file == NULL)
	return 0;
    if ((k = verp_keys_load(conf->intake.secret_file, 1, owner, err, errlen)) == NULL)
	return -1;
    for (i = 0; i < verp_keys_count(k); i++) {
	verp_key_id(k, i, id);
	snprintf(name, sizeof(name), "intake_secret:%zu", i + 1);
	add(ni, name, id);
    }
    verp_keys_free(k);
    return 0;
}

/* nodeinfo_collect - the fingerprints of a configuration */
struct nodeinfo *
nodeinfo_collect(const struct outpost_conf *conf, uid_t owner, char *err, size_t errlen)
{
    struct nodeinfo *ni = xcalloc(1, sizeof(*ni));
    const char *bd = retpath_pattern(conf);
    char h[65];

    add(ni, "version", PACKAGE_VERSION);
    add(ni, "bounce_domain", bd ? bd : "-");
    limits_hash(conf, h);
    add(ni, "limits", h);
    if (add_dkim(ni, conf, owner, err, errlen) < 0
	|| add_secrets(ni, conf, owner, err, errlen) < 0) {
	nodeinfo_free(ni);
	return NULL;
    }
    return ni;
}

/* nodeinfo_free - release */
void
nodeinfo_free(struct nodeinfo *ni)
{
    size_t i;

    if (ni == NULL)
	return;
    for (i = 0; i < ni->n; i++) {
	free(ni->name[i]);
	free(ni->value[i]);
    }
    free(ni->name);
    free(ni->value);
    free(ni);
}

/* nodeinfo_publish - replace this node's entry */
int
nodeinfo_publish(struct rconn *rc, const char *prefix, const char *node,
		 const struct nodeinfo *ni, long long now)
{
    size_t argc = 5 + 2 * (ni->n + 1), i, j;
    const char **argv = xcalloc(argc, sizeof(*argv));
    char *key, *set, ttl[32], updated[32];
    redisReply *r;
    int ok;

    if (publish_script.source == NULL) {
	rscript_init(&publish_script, publish_lua);
	publish_script.repeatable = 1;	/* replaces the entry: the same twice */
    }
    key = xmalloc(strlen(prefix) + strlen(node) + 32);
    set = xmalloc(strlen(prefix) + 32);
    sprintf(key, "%s{cluster}:node:%s", prefix, node);
    sprintf(set, "%s{cluster}:nodes", prefix);
    snprintf(ttl, sizeof(ttl), "%d", NODEINFO_TTL);
    snprintf(updated, sizeof(updated), "%lld", now);
    j = 0;
    argv[j++] = key;
    argv[j++] = set;
    argv[j++] = ttl;
    argv[j++] = updated;
    argv[j++] = node;
    argv[j++] = "updated";
    argv[j++] = updated;
    for (i = 0; i < ni->n; i++) {
	argv[j++] = ni->name[i];
	argv[j++] = ni->value[i];
    }
    r = rconn_eval(rc, &publish_script, 2, (int) j, argv, NULL);
    ok = r && r->type == REDIS_REPLY_INTEGER;
    if (r)
	freeReplyObject(r);
    free(key);
    free(set);
    free(argv);
    return ok ? 0 : -1;
}
