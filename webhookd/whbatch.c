/*
 * whbatch - a webhook batch: which events go, its body, its signature
 * (see whbatch.h)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

#include "jsonw.h"
#include "msg.h"
#include "whbatch.h"
#include "xalloc.h"

/* entry_fields - the [field, value, ...] array of an entry, or NULL */
static const redisReply *
entry_fields(const redisReply *e)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2
	|| e->element[0]->type != REDIS_REPLY_STRING
	|| e->element[1]->type != REDIS_REPLY_ARRAY)
	return NULL;
    return e->element[1];
}

static void write_entry(struct jsonw *w, const redisReply *e);

/*
 * entry_size - what an entry adds to a body: it is written as the body
 * writes it, since escaping (a control character takes six bytes) can
 * make it several times the size of its fields
 */
static size_t
entry_size(const redisReply *e)
{
    struct jsonw w;
    char *buf = NULL;
    size_t size = 0;
    FILE *fp;

    if (entry_fields(e) == NULL)
	return 0;
    if ((fp = open_memstream(&buf, &size)) == NULL)
	msg_fatal("open_memstream: out of memory");
    jsonw_init(&w, fp);
    write_entry(&w, e);
    if (fclose(fp) != 0 || buf == NULL)
	msg_fatal("open_memstream: out of memory");
    free(buf);
    return size + 2;			/* and the comma and newline between entries */
}

/* whbatch_take - how many entries make the next batch */
size_t
whbatch_take(const redisReply *entries, size_t max_events, size_t max_bytes)
{
    size_t i, bytes = 0;

    if (entries == NULL || entries->type != REDIS_REPLY_ARRAY || entries->elements == 0)
	return 0;
    for (i = 0; i < entries->elements && i < max_events; i++) {
	bytes += entry_size(entries->element[i]);
	if (i > 0 && bytes > max_bytes)
	    break;
    }
    return i;
}

/* is_number - a decimal integer without sign or spaces */
static int
is_number(const char *s, size_t len)
{
    return len > 0 && len <= 18 && strspn(s, "0123456789") == len;
}

/* write_entry - one event object */
static void
write_entry(struct jsonw *w, const redisReply *e)
{
    const redisReply *f = entry_fields(e);
    size_t i;

    jsonw_object(w, NULL);
    jsonw_stringn(w, "id", e->element[0]->str, e->element[0]->len);
    for (i = 0; i + 1 < f->elements; i += 2) {
	const redisReply *k = f->element[i], *v = f->element[i + 1];
	char key[64];

	if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING
	    || k->len == 0 || k->len >= sizeof(key) || memchr(k->str, 0, k->len))
	    continue;
	memcpy(key, k->str, k->len);
	key[k->len] = 0;
	if (strcmp(key, "id") == 0)
	    continue;
	if (strcmp(key, "time") == 0) {
	    if (is_number(v->str, v->len))
		jsonw_int(w, key, strtoll(v->str, NULL, 10));
	    continue;
	}
	jsonw_stringn(w, key, v->str, v->len);
    }
    jsonw_end(w);
}

/* whbatch_body - the JSON body of the first n entries */
char *
whbatch_body(const redisReply *entries, size_t n, size_t *len)
{
    const redisReply *last = NULL;
    struct jsonw w;
    char *buf = NULL;
    size_t i, size = 0;
    FILE *fp;

    if ((fp = open_memstream(&buf, &size)) == NULL)
	msg_fatal("open_memstream: out of memory");
    jsonw_init(&w, fp);
    jsonw_object(&w, NULL);
    jsonw_array(&w, "events");
    for (i = 0; i < n && i < entries->elements; i++) {
	const redisReply *e = entries->element[i];

	if (e->type == REDIS_REPLY_ARRAY && e->elements >= 1
	    && e->element[0]->type == REDIS_REPLY_STRING)
	    last = e;
	if (entry_fields(e))
	    write_entry(&w, e);
    }
    jsonw_end(&w);
    if (last)
	jsonw_stringn(&w, "next", last->element[0]->str, last->element[0]->len);
    else
	jsonw_null(&w, "next");
    jsonw_end(&w);
    if (fclose(fp) != 0 || buf == NULL)
	msg_fatal("open_memstream: out of memory");
    *len = size;
    return buf;
}

/* whbatch_sign - "t=T,v1=HEX" over "T." and the body */
void
whbatch_sign(const char *secret, size_t secret_len, long long t, const char *body,
	     size_t len, char out[WHBATCH_SIG_MAX])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t maclen = 0, i;
    char ts[32], digest[] = "SHA256";
    int tlen = snprintf(ts, sizeof(ts), "%lld.", t);
    OSSL_PARAM params[] = {
	OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
	OSSL_PARAM_construct_end()
    };
    EVP_MAC *hmac;
    EVP_MAC_CTX *ctx = NULL;
    char *p;

    if ((hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL
	|| (ctx = EVP_MAC_CTX_new(hmac)) == NULL
	|| !EVP_MAC_init(ctx, (const unsigned char *) secret, secret_len, params)
	|| !EVP_MAC_update(ctx, (const unsigned char *) ts, (size_t) tlen)
	|| !EVP_MAC_update(ctx, (const unsigned char *) body, len)
	|| !EVP_MAC_final(ctx, mac, &maclen, sizeof(mac)))
	msg_fatal("HMAC-SHA256 failed");
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(hmac);
    p = out + snprintf(out, WHBATCH_SIG_MAX, "t=%lld,v1=", t);
    for (i = 0; i < maclen && p + 2 < out + WHBATCH_SIG_MAX; i++) {
	*p++ = hex[mac[i] >> 4];
	*p++ = hex[mac[i] & 15];
    }
    *p = 0;
}

/* whbatch_backoff - exponential, capped, with equal jitter */
long long
whbatch_backoff(long long min_ms, long long max_ms, int failures, unsigned long rnd)
{
    long long d = min_ms;
    int i;

    for (i = 1; i < failures && d < max_ms; i++)
	d *= 2;
    if (d > max_ms)
	d = max_ms;
    return d / 2 + (long long) (rnd % (unsigned long) (d / 2 + 1));
}

/* whbatch_id_ms - the UNIX ms of a stream ID "MS-SEQ" */
long long
whbatch_id_ms(const char *id)
{
    size_t n = strspn(id, "0123456789");

    if (n == 0 || n > 18 || (id[n] != '-' && id[n] != 0))
	return -1;
    return strtoll(id, NULL, 10);
}
