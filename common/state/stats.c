/*
 * stats - delivery statistics in Redis (see stats.h)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msg.h"
#include "redisconn.h"
#include "stats.h"
#include "xalloc.h"

const char *const stats_counter_names[SC_COUNT] = {
    STATS_ACCEPTED, STATS_DELIVERED, STATS_DEFERRED, STATS_BOUNCED,
    STATS_BOUNCED_HARD, STATS_BOUNCED_SOFT, STATS_EXPIRED, STATS_COMPLAINTS,
    STATS_UNSUBSCRIBES, STATS_SUPPRESSED, STATS_THROTTLED, STATS_BACKOFF,
    STATS_SPILLED, STATS_OPENS, STATS_OPENS_UNIQUE, STATS_OPENS_MACHINE, STATS_CLICKS,
    STATS_CLICKS_UNIQUE, STATS_CLICKS_MACHINE, STATS_TLS_VERIFIED, STATS_TLS_UNVERIFIED,
    STATS_TLS_NONE,
};

/* KEYS hour hash, total hash; ARGV field, n, expire-at of the hour */
static const char incr_lua[] =
    "redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])\n"
    "redis.call('HINCRBY', KEYS[2], ARGV[1], ARGV[2])\n"
    "redis.call('EXPIREAT', KEYS[1], ARGV[3])\n";

/*
 * KEYS  hour hashes 1..NH, the total hash, the state hash, the event stream
 * ARGV  NH, events_max, guard field, its expected value, its new value
 *       (guard field "": no guard), then per hour: expire-at, M, M pairs;
 *       then NS and NS pairs (field, value) for the state hash;
 *       then NE and per event: NF and NF pairs (field, value)
 */
static struct rscript flush_script = {
    "local nh, emax = tonumber(ARGV[1]), ARGV[2]\n"
    "if ARGV[3] ~= '' then\n"
    "  local cur = redis.call('HGET', KEYS[nh + 2], ARGV[3]) or ''\n"
    "  if cur ~= ARGV[4] then\n"
    "    if cur == ARGV[5] then return 1 end\n"
    "    return 2\n"
    "  end\n"
    "end\n"
    "local a = 6\n"
    "local total = KEYS[nh + 1]\n"
    "for i = 1, nh do\n"
    "  local at, m = ARGV[a], tonumber(ARGV[a + 1])\n"
    "  a = a + 2\n"
    "  for j = 1, m do\n"
    "    redis.call('HINCRBY', KEYS[i], ARGV[a], ARGV[a + 1])\n"
    "    if not string.find(ARGV[a], '|campaign%.[^|]*$') then\n"
    "      redis.call('HINCRBY', total, ARGV[a], ARGV[a + 1])\n"
    "    end\n"
    "    a = a + 2\n"
    "  end\n"
    "  redis.call('EXPIREAT', KEYS[i], at)\n"
    "end\n"
    "local ns = tonumber(ARGV[a])\n"
    "a = a + 1\n"
    "for j = 1, ns do\n"
    "  redis.call('HSET', KEYS[nh + 2], ARGV[a], ARGV[a + 1])\n"
    "  a = a + 2\n"
    "end\n"
    "local ne = tonumber(ARGV[a])\n"
    "a = a + 1\n"
    "for j = 1, ne do\n"
    "  local nf = tonumber(ARGV[a])\n"
    "  local args = {'XADD', KEYS[nh + 3], 'MAXLEN', '~', emax, '*'}\n"
    "  a = a + 1\n"
    "  for k = 1, nf * 2 do args[#args + 1] = ARGV[a]; a = a + 1 end\n"
    "  redis.call(unpack(args))\n"
    "end\n"
    "return 0\n", "", 0		/* counts: not sent again (the batch is kept) */
};

static struct rscript read_script = {
    "local out = {}\n"
    "for i = 1, #KEYS do out[i] = redis.call('HGETALL', KEYS[i]) end\n"
    "return out\n", "", 1		/* reads only: may be sent again */
};

/* a growable argv that owns its strings */
struct argv {
    char **v;
    size_t n, cap;
};

struct stats_entry {
    long long hour;		/* hour number: UNIX time / 3600 */
    char *field;
    long long n;
};

struct stats_batch {
    char *prefix;
    struct stats_entry *e;
    size_t ne, cap;
    struct argv events;		/* NF, pairs, NF, pairs ... */
    size_t nevents;
    char *state_key;
    struct argv state;		/* pairs */
    char *guard[3];		/* field, expected, new value */
    stats_tap_fn tap;		/* sees each increment as it is added */
    void *tap_arg;
    struct msg_limit said_failed;	/* a failing write is said once a minute */
};

/* argv_add - append a copy */
static void
argv_add(struct argv *a, const char *s)
{
    if (a->n == a->cap) {
	a->cap = a->cap ? a->cap * 2 : 16;
	a->v = xreallocarray(a->v, a->cap, sizeof(*a->v));
    }
    a->v[a->n++] = xstrdup(s);
}

/* argv_num - append a number */
static void
argv_num(struct argv *a, long long n)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%lld", n);
    argv_add(a, buf);
}

/* argv_clear - free the strings, keep the array */
static void
argv_clear(struct argv *a)
{
    size_t i;

    for (i = 0; i < a->n; i++)
	free(a->v[i]);
    a->n = 0;
}

/* argv_free - free everything */
static void
argv_free(struct argv *a)
{
    argv_clear(a);
    free(a->v);
    a->v = NULL;
    a->cap = 0;
}

/* clean_name - a name as stored: "-" when empty, no '|' */
static void
clean_name(char *out, size_t len, const char *in)
{
    size_t i;

    if (in == NULL || *in == '\0')
	in = "-";
    for (i = 0; in[i] && i + 1 < len; i++)
	out[i] = in[i] == '|' || (unsigned char) in[i] < ' ' ? '_' : in[i];
    out[i] = '\0';
}

/* stats_field_make - "SENDER|PROVIDER|POOL|COUNTER" */
int
stats_field_make(char *buf, size_t len, const char *sender, const char *provider,
		 const char *pool, const char *counter)
{
    char s[STATS_NAME_MAX], p[STATS_NAME_MAX], o[STATS_NAME_MAX], c[STATS_NAME_MAX];
    int n;

    clean_name(s, sizeof(s), sender);
    clean_name(p, sizeof(p), provider);
    clean_name(o, sizeof(o), pool);
    clean_name(c, sizeof(c), counter);
    n = snprintf(buf, len, "%s|%s|%s|%s", s, p, o, c);
    return n < 0 || (size_t) n >= len ? -1 : n;
}

/* stats_field_split - the four parts of a field */
int
stats_field_split(const char *s, size_t len, struct stats_field *f)
{
    char *parts[4] = {f->sender, f->provider, f->pool, f->counter};
    size_t i, k = 0, o = 0;

    for (i = 0; i < len; i++) {
	if (s[i] == '|') {
	    parts[k][o] = '\0';
	    if (++k == 4)
		return -1;
	    o = 0;
	} else if (o + 1 < STATS_NAME_MAX) {
	    parts[k][o++] = s[i];
	} else {
	    return -1;
	}
    }
    parts[k][o] = '\0';
    return k == 3 && o > 0 ? 0 : -1;
}

/* stats_hour_key - "<prefix>{st}:h:YYYYMMDDHH" of a UTC hour */
int
stats_hour_key(char *buf, size_t len, const char *prefix, long long when)
{
    time_t t = (time_t) when;
    struct tm tm;
    int n;

    gmtime_r(&t, &tm);
    n = snprintf(buf, len, "%s{st}:h:%04d%02d%02d%02d", prefix, tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour);
    return n < 0 || (size_t) n >= len ? -1 : n;
}

/* stats_counter_index - SC_* of a counter name, -1 for others */
int
stats_counter_index(const char *name)
{
    int i;

    for (i = 0; i < SC_COUNT; i++)
	if (strcmp(stats_counter_names[i], name) == 0)
	    return i;
    return -1;
}

/* stats_rate_flag - how a rate compares with published thresholds */
const char *
stats_rate_flag(double rate, double warn, double bad)
{
    return rate >= bad ? "bad" : rate >= warn ? "warn" : "ok";
}

/* ---------------------------------------------------------------- batch */

/* stats_batch_new - an empty batch */
struct stats_batch *
stats_batch_new(const char *prefix)
{
    struct stats_batch *b = xcalloc(1, sizeof(*b));

    b->prefix = xstrdup(prefix);
    b->said_failed = (struct msg_limit) MSG_LIMIT_INIT(60);
    return b;
}

/* stats_batch_add - add n to a counter of the hour of "when" */
void
stats_batch_add(struct stats_batch *b, long long when, const char *sender,
		const char *provider, const char *pool, const char *counter,
		long long n)
{
    char field[4 * STATS_NAME_MAX + 4];
    long long hour = when / 3600;
    size_t i;

    if (stats_field_make(field, sizeof(field), sender, provider, pool, counter) < 0)
	return;
    if (b->tap)
	b->tap(sender, provider, pool, counter, n, b->tap_arg);
    /* batches hold few distinct fields: a linear search is the fastest */
    for (i = b->ne; i-- > 0;) {
	if (b->e[i].hour == hour && strcmp(b->e[i].field, field) == 0) {
	    b->e[i].n += n;
	    return;
	}
    }
    if (b->ne == b->cap) {
	b->cap = b->cap ? b->cap * 2 : 32;
	b->e = xreallocarray(b->e, b->cap, sizeof(*b->e));
    }
    b->e[b->ne].hour = hour;
    b->e[b->ne].field = xstrdup(field);
    b->e[b->ne++].n = n;
}

/* stats_batch_tap - a function that sees every increment added */
void
stats_batch_tap(struct stats_batch *b, stats_tap_fn fn, void *arg)
{
    b->tap = fn;
    b->tap_arg = arg;
}

/* stats_batch_event - one entry for the event stream: name, value, ... */
void
stats_batch_event(struct stats_batch *b, int nfields, const char *const *fields)
{
    int i;

    argv_num(&b->events, nfields);
    for (i = 0; i < 2 * nfields; i++)
	argv_add(&b->events, fields[i] ? fields[i] : "");
    b->nevents++;
}

/* stats_batch_state - a field of the state hash, written with the batch */
void
stats_batch_state(struct stats_batch *b, const char *key, const char *field,
		  const char *value)
{
    if (b->state_key == NULL || strcmp(b->state_key, key) != 0) {
	free(b->state_key);
	b->state_key = xstrdup(key);
	argv_clear(&b->state);
    }
    argv_add(&b->state, field);
    argv_add(&b->state, value);
}

/* stats_batch_size - increments and events waiting */
size_t
stats_batch_size(const struct stats_batch *b)
{
    return b->ne + b->nevents;
}

/* cmp_entry - by hour, so that each hour's fields are adjacent */
static int
cmp_entry(const void *x, const void *y)
{
    const struct stats_entry *a = x, *b = y;

    return a->hour < b->hour ? -1 : a->hour > b->hour;
}

/* batch_clear - forget what was written */
static void
batch_clear(struct stats_batch *b)
{
    size_t i;

    for (i = 0; i < b->ne; i++)
	free(b->e[i].field);
    b->ne = 0;
    argv_clear(&b->events);
    b->nevents = 0;
    argv_clear(&b->state);
}

/* stats_batch_flush - write the batch in one script call */
int
stats_batch_flush(struct stats_batch *b, struct rconn *rc, long events_max)
{
    struct argv keys = {0}, args = {0}, all = {0};
    char key[512];
    size_t i, j, nh = 0;
    redisReply *r;
    int ok, rv = 0;

    if (b->ne == 0 && b->nevents == 0 && b->state.n == 0)
	return 0;
    if (flush_script.sha1[0] == '\0')
	rscript_init(&flush_script, flush_script.source);
    if (b->ne > 1)
	qsort(b->e, b->ne, sizeof(*b->e), cmp_entry);
    argv_add(&args, "");		/* NH, filled in below */
    argv_num(&args, events_max > 0 ? events_max : 1);
    for (i = 0; i < 3; i++)
	argv_add(&args, b->guard[0] ? b->guard[i] : "");
    for (i = 0; i < b->ne; i = j) {
	for (j = i; j < b->ne && b->e[j].hour == b->e[i].hour; j++)
	     /* same hour */ ;
	stats_hour_key(key, sizeof(key), b->prefix, b->e[i].hour * 3600);
	argv_add(&keys, key);
	nh++;
	argv_num(&args, b->e[i].hour * 3600 + 3600 + STATS_HOUR_TTL);
	argv_num(&args, (long long) (j - i));
	for (; i < j; i++) {
	    argv_add(&args, b->e[i].field);
	    argv_num(&args, b->e[i].n);
	}
    }
    free(args.v[0]);
    snprintf(key, sizeof(key), "%zu", nh);
    args.v[0] = xstrdup(key);
    snprintf(key, sizeof(key), "%s{st}:total", b->prefix);
    argv_add(&keys, key);
    argv_add(&keys, b->state_key ? b->state_key : key);
    snprintf(key, sizeof(key), "%s{st}:events", b->prefix);
    argv_add(&keys, key);
    argv_num(&args, (long long) b->state.n / 2);
    for (i = 0; i < b->state.n; i++)
	argv_add(&args, b->state.v[i]);
    argv_num(&args, events_max > 0 ? (long long) b->nevents : 0);
    if (events_max > 0)
	for (i = 0; i < b->events.n; i++)
	    argv_add(&args, b->events.v[i]);
    for (i = 0; i < keys.n; i++)
	argv_add(&all, keys.v[i]);
    for (i = 0; i < args.n; i++)
	argv_add(&all, args.v[i]);
    r = rconn_eval(rc, &flush_script, (int) keys.n, (int) all.n,
		   (const char **) all.v, NULL);
    ok = r && r->type == REDIS_REPLY_INTEGER;
    if (ok && r->integer == 1)
	msg_info("statistics: the last write had reached Redis after all");
    if (ok && r->integer == 2) {
	msg_error("statistics: %s was changed by another writer: this batch is dropped "
		  "(does another process use the same state key?)", b->state_key);
	rv = 1;
    }
    if (!ok)
	msg_warn_limited(&b->said_failed, "redis: writing statistics: %s",
			 r ? (r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply")
			 : rconn_error(rc));
    else
	msg_limit_reset(&b->said_failed);
    if (r)
	freeReplyObject(r);
    argv_free(&keys);
    argv_free(&args);
    argv_free(&all);
    if (!ok)
	return -1;
    batch_clear(b);
    return rv;
}

/* stats_batch_guard - write only if the state field still holds expect */
void
stats_batch_guard(struct stats_batch *b, const char *field, const char *expect,
		  const char *value)
{
    int i;

    for (i = 0; i < 3; i++)
	free(b->guard[i]);
    b->guard[0] = xstrdup(field);
    b->guard[1] = xstrdup(expect);
    b->guard[2] = xstrdup(value);
}

/* stats_batch_free - release a batch (unwritten counts are lost) */
void
stats_batch_free(struct stats_batch *b)
{
    if (b == NULL)
	return;
    batch_clear(b);
    free(b->e);
    argv_free(&b->events);
    argv_free(&b->state);
    free(b->state_key);
    free(b->guard[0]);
    free(b->guard[1]);
    free(b->guard[2]);
    free(b->prefix);
    free(b);
}

/* stats_incr - add n to one counter of this hour, in one round trip */
int
stats_incr(struct rconn *rc, const char *prefix, const char *sender,
	   const char *provider, const char *pool, const char *counter, long long n)
{
    struct stats_batch *b = stats_batch_new(prefix);
    int rv;

    stats_batch_add(b, (long long) time(NULL), sender, provider, pool, counter, n);
    rv = stats_batch_flush(b, rc, 0);
    stats_batch_free(b);
    return rv;
}

/* cmd_put - one argument of a stats_cmd */
static void
cmd_put(struct stats_cmd *c, const char *s, size_t len)
{
    c->argv[c->argc] = s;
    c->argvlen[c->argc++] = len;
}

/* stats_cmd_make - one increment as a command that needs no loaded script */
int
stats_cmd_make(struct stats_cmd *c, const char *prefix, long long when,
	       const char *sender, const char *provider, const char *pool,
	       const char *counter, long long n)
{
    int kl, tl, fl, nl, al;

    c->argc = 0;
    kl = stats_hour_key(c->key[0], sizeof(c->key[0]), prefix, when);
    tl = snprintf(c->key[1], sizeof(c->key[1]), "%s{st}:total", prefix);
    fl = stats_field_make(c->field, sizeof(c->field), sender, provider, pool, counter);
    if (kl < 0 || tl < 0 || (size_t) tl >= sizeof(c->key[1]) || fl < 0)
	return -1;
    nl = snprintf(c->num[0], sizeof(c->num[0]), "%lld", n);
    al = snprintf(c->num[1], sizeof(c->num[1]), "%lld",
		  when / 3600 * 3600 + 3600 + STATS_HOUR_TTL);
    cmd_put(c, "EVAL", 4);
    cmd_put(c, incr_lua, sizeof(incr_lua) - 1);
    cmd_put(c, "2", 1);
    cmd_put(c, c->key[0], (size_t) kl);
    cmd_put(c, c->key[1], (size_t) tl);
    cmd_put(c, c->field, (size_t) fl);
    cmd_put(c, c->num[0], (size_t) nl);
    cmd_put(c, c->num[1], (size_t) al);
    return 0;
}

/* ---------------------------------------------------------------- reading */

/* walk_hash - fn for each field of one HGETALL reply */
static void
walk_hash(const redisReply *h, void (*fn)(const struct stats_field *, long long, void *),
	  void *arg)
{
    struct stats_field f;
    size_t i;

    if (h->type != REDIS_REPLY_ARRAY)
	return;
    for (i = 0; i + 1 < h->elements; i += 2) {
	const redisReply *k = h->element[i], *v = h->element[i + 1];

	if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
	    continue;
	if (stats_field_split(k->str, k->len, &f) < 0)
	    continue;
	fn(&f, strtoll(v->str, NULL, 10), arg);
    }
}

/* read_keys - HGETALL of each key in one round trip */
static int
read_keys(struct rconn *rc, struct argv *keys,
	  void (*fn)(const struct stats_field *, long long, void *), void *arg)
{
    redisReply *r;
    size_t i;

    if (read_script.sha1[0] == '\0')
	rscript_init(&read_script, read_script.source);
    r = rconn_eval(rc, &read_script, (int) keys->n, (int) keys->n,
		   (const char **) keys->v, NULL);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
	msg_warn("redis: reading statistics: %s",
		 r ? (r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply")
		 : rconn_error(rc));
	if (r)
	    freeReplyObject(r);
	return -1;
    }
    for (i = 0; i < r->elements; i++)
	walk_hash(r->element[i], fn, arg);
    freeReplyObject(r);
    return 0;
}

/* stats_read - every field of the hours from..to */
int
stats_read(struct rconn *rc, const char *prefix, long long from, long long to,
	   void (*fn)(const struct stats_field *, long long, void *), void *arg)
{
    struct argv keys = {0};
    char key[512];
    long long h;
    int rv;

    if (to - from > (long long) STATS_MAX_HOURS * 3600)
	from = to - (long long) STATS_MAX_HOURS * 3600;
    for (h = from / 3600; h <= to / 3600; h++) {
	stats_hour_key(key, sizeof(key), prefix, h * 3600);
	argv_add(&keys, key);
    }
    rv = read_keys(rc, &keys, fn, arg);
    argv_free(&keys);
    return rv;
}

/* stats_read_total - every field of the total hash */
int
stats_read_total(struct rconn *rc, const char *prefix,
		 void (*fn)(const struct stats_field *, long long, void *), void *arg)
{
    struct argv keys = {0};
    char key[512];
    int rv;

    snprintf(key, sizeof(key), "%s{st}:total", prefix);
    argv_add(&keys, key);
    rv = read_keys(rc, &keys, fn, arg);
    argv_free(&keys);
    return rv;
}
