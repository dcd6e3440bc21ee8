/*
 * events - the event stream of each tenant (see events.h)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "conf.h"
#include "events.h"
#include "evkeys.h"
#include "jsonw.h"
#include "msg.h"
#include "redisconn.h"
#include "xalloc.h"

/*
 * KEYS  the stream, then one once key per event
 * ARGV  MAXLEN, once TTL, then per event NF and NF pairs (field, value)
 * An event whose once key exists was written: its id is kept, nothing added.
 */
#define APPEND_LUA \
    "local a, ids = 3, {}\n" \
    "for i = 2, #KEYS do\n" \
    "  local nf = tonumber(ARGV[a])\n" \
    "  local id = redis.call('GET', KEYS[i])\n" \
    "  if not id then\n" \
    "    local args = {'XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*'}\n" \
    "    for k = 1, nf * 2 do args[#args + 1] = ARGV[a + k] end\n" \
    "    id = redis.call(unpack(args))\n" \
    "    redis.call('SET', KEYS[i], id, 'EX', ARGV[2])\n" \
    "  end\n" \
    "  a = a + 1 + nf * 2\n" \
    "  ids[#ids + 1] = id\n" \
    "end\n" \
    "return ids\n"

/* written once whatever happens: may be sent again on a cut connection */
static struct rscript append_script = {APPEND_LUA, "", 1};

#define STR(x) #x
#define XSTR(x) STR(x)

static unsigned long long failures;
static struct msg_limit said_failed = MSG_LIMIT_INIT(60);

/* one event of a batch, copied */
struct bevent {
    char *tenant;
    char once[33];
    int nf;
    char *kv[2 * EVENTS_NFIELDS];
    size_t kvlen[2 * EVENTS_NFIELDS];
    int written;
};

struct events_batch {
    const struct outpost_conf *conf;
    char *prefix;
    struct bevent *e;
    size_t n, cap;
    unsigned long long dropped;
};

/* ---------------------------------------------------------------- helpers */

/* once_hex - the once key's name: SHA-256 of the text, or random bytes */
static void
once_hex(const char *once, char out[33])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    size_t len;
    int i;

    if (once == NULL || *once == '\0'
	|| EVP_Digest(once, (len = strlen(once)) > EVENTS_ONCE_MAX ? EVENTS_ONCE_MAX : len,
		      md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen < 16) {
	if (RAND_bytes(md, 16) != 1)
	    msg_fatal("events: no random bytes from OpenSSL");
    }
    for (i = 0; i < 16; i++)
	snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* reply_len - at most EVENTS_REPLY_MAX bytes, not cutting a UTF-8 sequence */
static size_t
reply_len(const char *s)
{
    size_t len = strlen(s);

    if (len <= EVENTS_REPLY_MAX)
	return len;
    len = EVENTS_REPLY_MAX;
    while (len > 0 && ((unsigned char) s[len] & 0xC0) == 0x80)
	len--;
    return len;
}

/*
 * fields - the field/value pairs of e that are known, in the stream's order;
 * the time (ms) is formatted into tbuf.  Returns the number of pairs.
 */
static int
fields(const struct ev_record *e, char *tbuf, size_t tlen, const char **kv, size_t *kvlen)
{
    const char *v[EVENTS_NFIELDS] = {
	e->type, tbuf, e->rcpt, e->sender, e->msgid, e->qid, e->campaign, e->provider,
	e->pool, e->reason, e->class, e->dsn, e->reply, e->source, e->url, e->machine,
    };
    static const char *const name[EVENTS_NFIELDS] = {
	"type", "time", "rcpt", "sender", "msgid", "qid", "campaign", "provider",
	"pool", "reason", "class", "dsn", "reply", "source", "url", "machine",
    };
    long long t = e->time;
    int i, n = 0;

    if (t <= 0) {
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	t = (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    }
    snprintf(tbuf, tlen, "%lld", t);
    for (i = 0; i < EVENTS_NFIELDS; i++) {
	if (v[i] == NULL || *v[i] == '\0')
	    continue;
	kv[2 * n] = name[i];
	kvlen[2 * n] = strlen(name[i]);
	kv[2 * n + 1] = v[i];
	kvlen[2 * n + 1] = v[i] == e->reply ? reply_len(v[i]) : strlen(v[i]);
	n++;
    }
    return n;
}

/* tenant_of - the tenant name of an event's sender domain, or NULL */
static const char *
tenant_of(const struct outpost_conf *conf, const struct ev_record *e)
{
    const struct conf_tenant *t;

    if (e->sender == NULL || *e->sender == '\0' || e->type == NULL)
	return NULL;
    t = conf_tenant_of_domain(conf, e->sender);
    return t ? t->named.name : NULL;
}

/* once_key - P{ev:TENANT}:once:HEX */
static int
once_key(char *buf, size_t len, const char *prefix, const char *tenant, const char *hex)
{
    int n = snprintf(buf, len, "%s{ev:%s}:once:%s", prefix, tenant, hex);

    return n < 0 || (size_t) n >= len ? -1 : n;
}

/* events_key - P{ev:TENANT}:s */
int
events_key(char *buf, size_t len, const char *prefix, const char *tenant)
{
    size_t n = strlen(prefix) + strlen(tenant) + sizeof("{ev:}:s") - 1;

    if (n >= len)
	return -1;
    evkeys_stream(buf, len, prefix, tenant);
    return (int) n;
}

/* ---------------------------------------------------------------- one event */

/* events_failed - one event lost: counted, and said at most once a minute */
void
events_failed(const char *program, const char *why)
{
    __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
    msg_warn_limited(&said_failed, "%s: an event was not written to its stream: %s", program,
		     why ? why : "unknown error");
}

/* events_failures - events lost since the start */
unsigned long long
events_failures(void)
{
    return __atomic_load_n(&failures, __ATOMIC_RELAXED);
}

/* events_cmd_make - one append as a self-contained EVAL */
int
events_cmd_make(struct events_cmd *c, const struct outpost_conf *conf,
		const struct ev_record *e)
{
    const char *tenant = tenant_of(conf, e);
    char hex[33];
    int n, i;

    if (tenant == NULL)
	return 1;
    once_hex(e->once, hex);
    memset(c->key, 0, sizeof(c->key));
    if (events_key(c->key[0], sizeof(c->key[0]), conf->redis.prefix, tenant) < 0
	|| once_key(c->key[1], sizeof(c->key[1]), conf->redis.prefix, tenant, hex) < 0)
	return -1;
    c->argv[0] = "EVAL";
    c->argv[1] = append_script.source;
    c->argv[2] = "2";
    c->argv[3] = c->key[0];
    c->argv[4] = c->key[1];
    c->argv[5] = XSTR(EVENTS_MAXLEN);
    c->argv[6] = XSTR(EVENTS_ONCE_TTL);
    n = fields(e, c->time, sizeof(c->time), c->argv + 8, c->argvlen + 8);
    snprintf(c->nf, sizeof(c->nf), "%d", n);
    c->argv[7] = c->nf;
    for (i = 0; i < 8; i++)
	c->argvlen[i] = strlen(c->argv[i]);
    c->argc = 8 + 2 * n;
    return 0;
}

/* events_append - write one event now */
int
events_append(struct rconn *rc, const struct outpost_conf *conf, const struct ev_record *e)
{
    struct events_cmd c;
    redisReply *r;
    int rv;

    if ((rv = events_cmd_make(&c, conf, e)) != 0) {
	if (rv < 0)
	    events_failed("events", "a name too long for a key");
	return rv;
    }
    if (append_script.sha1[0] == '\0')
	rscript_init(&append_script, append_script.source);
    r = rconn_eval(rc, &append_script, 2, c.argc - 3, c.argv + 3, c.argvlen + 3);
    rv = r && r->type == REDIS_REPLY_ARRAY ? 0 : -1;
    if (rv < 0)
	events_failed("events", r ? (r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply")
		      : rconn_error(rc));
    if (r)
	freeReplyObject(r);
    return rv;
}

/* ---------------------------------------------------------------- batch */

/* events_batch_new - an empty batch */
struct events_batch *
events_batch_new(const struct outpost_conf *conf)
{
    struct events_batch *b = xcalloc(1, sizeof(*b));

    b->conf = conf;
    b->prefix = xstrdup(conf->redis.prefix);
    return b;
}

/* events_batch_conf - the tenants of conf from now on (a reload; same prefix) */
void
events_batch_conf(struct events_batch *b, const struct outpost_conf *conf)
{
    b->conf = conf;
}

/* bevent_free - release the copies of one event */
static void
bevent_free(struct bevent *e)
{
    int i;

    free(e->tenant);
    for (i = 0; i < 2 * e->nf; i++)
	free(e->kv[i]);
}

/* events_batch_add - copy an event into the batch */
int
events_batch_add(struct events_batch *b, const struct ev_record *e)
{
    const char *tenant = tenant_of(b->conf, e);
    const char *kv[2 * EVENTS_NFIELDS];
    size_t kvlen[2 * EVENTS_NFIELDS];
    char tbuf[32];
    struct bevent *be;
    int i;

    if (tenant == NULL)
	return 1;
    if (b->n >= EVENTS_BATCH_MAX) {
	if (b->dropped++ == 0)
	    events_failed("events", "too many events wait for Redis");
	else
	    __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
	return -1;
    }
    if (b->n == b->cap) {
	b->cap = b->cap ? 2 * b->cap : 64;
	b->e = xreallocarray(b->e, b->cap, sizeof(*b->e));
    }
    be = &b->e[b->n++];
    memset(be, 0, sizeof(*be));
    be->tenant = xstrdup(tenant);
    once_hex(e->once, be->once);
    be->nf = fields(e, tbuf, sizeof(tbuf), kv, kvlen);
    for (i = 0; i < 2 * be->nf; i++) {
	be->kv[i] = xmalloc(kvlen[i] + 1);
	memcpy(be->kv[i], kv[i], kvlen[i]);
	be->kv[i][kvlen[i]] = '\0';
	be->kvlen[i] = kvlen[i];
    }
    return 0;
}

/* batch_call - write events first.. of first's tenant, at most EVENTS_BATCH_CALL */
static int
batch_call(struct events_batch *b, struct rconn *rc, size_t first)
{
    const char *tenant = b->e[first].tenant;
    size_t i, ne = 0, nargs = 0, cap = 0, idx[EVENTS_BATCH_CALL];
    const char **argv;
    size_t *argvlen;
    char **keys;
    char key[512], nums[EVENTS_BATCH_CALL][8];
    redisReply *r;
    int j, ok;

    for (i = first; i < b->n && ne < EVENTS_BATCH_CALL; i++)
	if (!b->e[i].written && strcmp(b->e[i].tenant, tenant) == 0) {
	    idx[ne++] = i;
	    cap += 1 + 1 + 2 * b->e[i].nf + 1;
	}
    cap += 3;
    argv = xreallocarray(NULL, cap, sizeof(*argv));
    argvlen = xreallocarray(NULL, cap, sizeof(*argvlen));
    keys = xcalloc(ne + 1, sizeof(*keys));
    if (events_key(key, sizeof(key), b->prefix, tenant) < 0)
	msg_fatal("events: tenant name too long: %s", tenant);
    keys[0] = xstrdup(key);
    argv[nargs] = keys[0];
    argvlen[nargs++] = strlen(keys[0]);
    for (i = 0; i < ne; i++) {
	if (once_key(key, sizeof(key), b->prefix, tenant, b->e[idx[i]].once) < 0)
	    msg_fatal("events: tenant name too long: %s", tenant);
	keys[i + 1] = xstrdup(key);
	argv[nargs] = keys[i + 1];
	argvlen[nargs++] = strlen(keys[i + 1]);
    }
    argv[nargs] = XSTR(EVENTS_MAXLEN);
    argvlen[nargs] = strlen(argv[nargs]);
    nargs++;
    argv[nargs] = XSTR(EVENTS_ONCE_TTL);
    argvlen[nargs] = strlen(argv[nargs]);
    nargs++;
    for (i = 0; i < ne; i++) {
	struct bevent *e = &b->e[idx[i]];

	snprintf(nums[i], sizeof(nums[i]), "%d", e->nf);
	argv[nargs] = nums[i];
	argvlen[nargs++] = strlen(nums[i]);
	for (j = 0; j < 2 * e->nf; j++) {
	    argv[nargs] = e->kv[j];
	    argvlen[nargs++] = e->kvlen[j];
	}
    }
    if (append_script.sha1[0] == '\0')
	rscript_init(&append_script, append_script.source);
    r = rconn_eval(rc, &append_script, (int) ne + 1, (int) nargs, argv, argvlen);
    ok = r && r->type == REDIS_REPLY_ARRAY;
    if (!ok)
	msg_warn_limited(&said_failed, "redis: writing %zu event%s of tenant %s: %s%s", ne,
			 ne == 1 ? "" : "s", tenant,
			 r ? (r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply")
			 : rconn_error(rc), r ? " (lost)" : "");
    /*
     * The server ran the script and refused it (a key of another type, out
     * of memory): trying again would hold up the caller for good (logd's
     * counts and file position wait for its events).  They are lost, counted.
     */
    if (r && !ok) {
	__atomic_add_fetch(&failures, (unsigned long long) ne, __ATOMIC_RELAXED);
	ok = 1;
    }
    if (ok)
	for (i = 0; i < ne; i++)
	    b->e[idx[i]].written = 1;
    if (r)
	freeReplyObject(r);
    for (i = 0; i <= ne; i++)
	free(keys[i]);
    free(keys);
    free(argv);
    free(argvlen);
    return ok ? 0 : -1;
}

/* events_batch_flush - write the batch, tenant by tenant; keep what failed */
int
events_batch_flush(struct events_batch *b, struct rconn *rc)
{
    size_t i, k;
    int rv = 0;

    for (i = 0; i < b->n && rv == 0; i++)
	while (!b->e[i].written && rv == 0)
	    rv = batch_call(b, rc, i);
    for (i = k = 0; i < b->n; i++) {
	if (b->e[i].written)
	    bevent_free(&b->e[i]);
	else
	    b->e[k++] = b->e[i];
    }
    b->n = k;
    if (rv == 0)
	b->dropped = 0;
    return rv;
}

/* events_batch_size - events waiting */
size_t
events_batch_size(const struct events_batch *b)
{
    return b->n;
}

/* events_batch_free - release a batch (unwritten events are lost) */
void
events_batch_free(struct events_batch *b)
{
    size_t i;

    if (b == NULL)
	return;
    /* never written: lost */
    __atomic_add_fetch(&failures, (unsigned long long) b->n, __ATOMIC_RELAXED);
    for (i = 0; i < b->n; i++)
	bevent_free(&b->e[i]);
    free(b->e);
    free(b->prefix);
    free(b);
}

/* ---------------------------------------------------------------- reading */

/* id_part - digits that fit a stream id's 64 bits: their count, or 0 */
static size_t
id_part(const char *s)
{
    static const char max[] = "18446744073709551615";	/* 2^64 - 1 */
    size_t d = strspn(s, "0123456789");

    if (d == 0 || d > sizeof(max) - 1
	|| (d == sizeof(max) - 1 && strncmp(s, max, d) > 0))
	return 0;
    return d;
}

/* events_id_valid - "MS" or "MS-SEQ", digits only, each part within 64 bits */
int
events_id_valid(const char *id)
{
    size_t d;

    if ((d = id_part(id)) == 0)
	return 0;
    if (id[d] == '\0')
	return 1;
    if (id[d] != '-')
	return 0;
    id += d + 1;
    return (d = id_part(id)) > 0 && id[d] == '\0';
}

/* events_json_entry - one entry: id, then its fields */
void
events_json_entry(struct jsonw *w, const char *id, size_t n, const char *const *kv,
		  const size_t *kvlen)
{
    char name[32], num[32];
    size_t i;

    jsonw_object(w, NULL);
    jsonw_string(w, "id", id);
    for (i = 0; i < n; i++) {
	if (kvlen[2 * i] == 0 || kvlen[2 * i] >= sizeof(name)
	    || (kvlen[2 * i] == 2 && memcmp(kv[2 * i], "id", 2) == 0))
	    continue;			/* not a field this module writes */
	memcpy(name, kv[2 * i], kvlen[2 * i]);
	name[kvlen[2 * i]] = '\0';
	if (strcmp(name, "time") == 0 && kvlen[2 * i + 1] < sizeof(num)) {
	    memcpy(num, kv[2 * i + 1], kvlen[2 * i + 1]);
	    num[kvlen[2 * i + 1]] = '\0';
	    jsonw_int(w, name, strtoll(num, NULL, 10));
	} else {
	    jsonw_stringn(w, name, kv[2 * i + 1], kvlen[2 * i + 1]);
	}
    }
    jsonw_end(w);
}

/* entry_fields - one XRANGE entry, [id, [f, v, ...]]; n pairs, or -1 malformed */
static int
entry_fields(const redisReply *e, const char **kv, size_t *kvlen)
{
    const redisReply *f;
    size_t i, n;

    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2
	|| e->element[0]->type != REDIS_REPLY_STRING
	|| e->element[1]->type != REDIS_REPLY_ARRAY)
	return -1;
    f = e->element[1];
    for (i = n = 0; i + 1 < f->elements && n < EVENTS_NFIELDS + 1; i += 2, n++) {
	if (f->element[i]->type != REDIS_REPLY_STRING
	    || f->element[i + 1]->type != REDIS_REPLY_STRING)
	    return -1;
	kv[2 * n] = f->element[i]->str;
	kvlen[2 * n] = f->element[i]->len;
	kv[2 * n + 1] = f->element[i + 1]->str;
	kvlen[2 * n + 1] = f->element[i + 1]->len;
    }
    return (int) n;
}

/* events_scan - each entry after an id, at most limit */
int
events_scan(struct rconn *rc, const char *prefix, const char *tenant, const char *after,
	    long limit, events_scan_fn fn, void *arg)
{
    char key[512], start[64], count[32];
    const char *argv[6], *kv[2 * EVENTS_NFIELDS + 2];
    size_t kvlen[2 * EVENTS_NFIELDS + 2];
    redisReply *r;
    size_t i;
    int n = 0, nf;

    if (after && *after && !events_id_valid(after))
	return -2;
    /* nothing comes after the last id there can be (Redis says it is no interval) */
    if (after && strcmp(after, "18446744073709551615-18446744073709551615") == 0)
	return 0;
    if (events_key(key, sizeof(key), prefix, tenant) < 0)
	return -1;
    if (limit < 1)
	limit = 1;
    if (limit > EVENTS_READ_MAX)
	limit = EVENTS_READ_MAX;
    snprintf(start, sizeof(start), "%s%s", after && *after ? "(" : "",
	     after && *after ? after : "-");
    snprintf(count, sizeof(count), "%ld", limit);
    argv[0] = "XRANGE";
    argv[1] = key;
    argv[2] = start;
    argv[3] = "+";
    argv[4] = "COUNT";
    argv[5] = count;
    r = rconn_command(rc, 6, argv, NULL);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
	msg_warn("redis: XRANGE %s: %s", key,
		 r ? (r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply")
		 : rconn_error(rc));
	if (r)
	    freeReplyObject(r);
	return -1;
    }
    for (i = 0; i < r->elements; i++) {
	if ((nf = entry_fields(r->element[i], kv, kvlen)) < 0)
	    continue;
	fn(r->element[i]->element[0]->str, (size_t) nf, kv, kvlen, arg);
	n++;
    }
    freeReplyObject(r);
    return n;
}

struct read_state {
    struct jsonw *w;
    char last[64];
};

/* read_one - events_scan() callback of events_read() */
static void
read_one(const char *id, size_t n, const char *const *kv, const size_t *kvlen, void *arg)
{
    struct read_state *st = arg;

    if (st->w->depth == 0) {
	jsonw_object(st->w, NULL);
	jsonw_array(st->w, "events");
    }
    snprintf(st->last, sizeof(st->last), "%s", id);
    events_json_entry(st->w, id, n, kv, kvlen);
}

/* events_read - the entries after an id, as the JSON body of GET /v1/events */
int
events_read(struct rconn *rc, const char *prefix, const char *tenant, const char *after,
	    long limit, struct jsonw *w)
{
    struct read_state st;
    int depth = w->depth, n;

    st.w = w;
    snprintf(st.last, sizeof(st.last), "%s", after && *after ? after : "0-0");
    if (depth != 0)
	msg_fatal("events_read: the body must be a document of its own");
    if ((n = events_scan(rc, prefix, tenant, after, limit, read_one, &st)) < 0)
	return n;
    if (w->depth == 0) {		/* no entry: the document is begun now */
	jsonw_object(w, NULL);
	jsonw_array(w, "events");
    }
    jsonw_end(w);
    jsonw_string(w, "next", st.last);
    jsonw_end(w);
    return n;
}
