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
 * LUA_COUNT_HOURS - from ARGV[a] on, per hour hash KEYS[1..nh]: expire-at,
 * M, M pairs (field, n), each added to the hour and, but for campaign
 * fields, to the total hash KEYS[nh + 1]; leaves a past them
 */
#define LUA_COUNT_HOURS \
    "local total = KEYS[nh + 1]\n" \
    "for i = 1, nh do\n" \
    "  local at, m = ARGV[a], tonumber(ARGV[a + 1])\n" \
    "  a = a + 2\n" \
    "  for j = 1, m do\n" \
    "    redis.call('HINCRBY', KEYS[i], ARGV[a], ARGV[a + 1])\n" \
    "    if not string.find(ARGV[a], '|campaign%.[^|]*$') then\n" \
    "      redis.call('HINCRBY', total, ARGV[a], ARGV[a + 1])\n" \
    "    end\n" \
    "    a = a + 2\n" \
    "  end\n" \
    "  redis.call('EXPIREAT', KEYS[i], at)\n" \
    "end\n"

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
    LUA_COUNT_HOURS
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

/*
 * On a cluster (stats.h): the counts of one bucket.
 * KEYS  the bucket's hour hashes 1..NH, its total hash, the marker (or any
 *       key of the bucket when there is none)
 * ARGV  NH, the marker's value ("": no marker), then per hour: expire-at,
 *       M, M pairs (field, n)
 * Returns 1 when the marker already holds the value (written before).
 */
static struct rscript bucket_script = {
    "local nh = tonumber(ARGV[1])\n"
    "if ARGV[2] ~= '' then\n"
    "  if redis.call('GET', KEYS[nh + 2]) == ARGV[2] then return 1 end\n"
    "  redis.call('SET', KEYS[nh + 2], ARGV[2])\n"
    "end\n"
    "local a = 3\n"
    LUA_COUNT_HOURS
    "return 0\n", "", 0
};

/*
 * On a cluster: what stays in {st}, with the counts to come as pending.
 * KEYS  the state hash, the event stream, the pending hash
 * ARGV  events_max, guard field, its expected value, its new value; NS and
 *       NS pairs for the state hash; NE and per event NF and NF pairs;
 *       NG and NG groups of counts (one per bucket: group_tokens(), a line each)
 * The pending hash gets "id" (unique: server time and a count in the state
 * hash) and the groups; the bucket scripts then mark with that id.  With a
 * guard, returns 3, writing nothing, while an earlier batch is pending.
 */
static struct rscript st_script = {
    "local emax = ARGV[1]\n"
    "if ARGV[2] ~= '' then\n"
    "  local cur = redis.call('HGET', KEYS[1], ARGV[2]) or ''\n"
    "  if cur ~= ARGV[3] then\n"
    "    if cur == ARGV[4] then return 1 end\n"
    "    return 2\n"
    "  end\n"
    "  if redis.call('EXISTS', KEYS[3]) == 1 then return 3 end\n"
    "end\n"
    "local a = 5\n"
    "local ns = tonumber(ARGV[a])\n"
    "a = a + 1\n"
    "for j = 1, ns do\n"
    "  redis.call('HSET', KEYS[1], ARGV[a], ARGV[a + 1])\n"
    "  a = a + 2\n"
    "end\n"
    "local ne = tonumber(ARGV[a])\n"
    "a = a + 1\n"
    "for j = 1, ne do\n"
    "  local nf = tonumber(ARGV[a])\n"
    "  local args = {'XADD', KEYS[2], 'MAXLEN', '~', emax, '*'}\n"
    "  a = a + 1\n"
    "  for k = 1, nf * 2 do args[#args + 1] = ARGV[a]; a = a + 1 end\n"
    "  redis.call(unpack(args))\n"
    "end\n"
    "local ng = tonumber(ARGV[a])\n"
    "a = a + 1\n"
    "if ng > 0 then\n"
    "  local t = redis.call('TIME')\n"
    "  local n = redis.call('HINCRBY', KEYS[1], 'batches', 1)\n"
    "  redis.call('HSET', KEYS[3], 'id', t[1] .. '.' .. t[2] .. '.' .. n)\n"
    "  for j = 1, ng do\n"
    "    redis.call('HSET', KEYS[3], 'g' .. j, ARGV[a])\n"
    "    a = a + 1\n"
    "  end\n"
    "end\n"
    "return 0\n", "", 0
};

/* KEYS the pending hash; ARGV its id: deleted once every group is written */
static struct rscript done_script = {
    "if redis.call('HGET', KEYS[1], 'id') == ARGV[1] then\n"
    "  redis.call('DEL', KEYS[1])\n"
    "end\n"
    "return 0\n", "", 1
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
    int bucket;			/* of the sender, for a cluster */
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
    int unfinished;		/* on a cluster: a pending batch may wait */
    char said_id[64];		/* the pending batch last said to be finished */
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

/* bucket_of - the bucket of a stored sender name (len bytes): FNV-1a */
static int
bucket_of(const char *s, size_t len)
{
    unsigned int h = 2166136261u;
    size_t i;

    for (i = 0; i < len; i++)
	h = (h ^ (unsigned char) s[i]) * 16777619u;
    return (int) (h % STATS_BUCKETS);
}

/* stats_sender_bucket - the bucket of a sender domain on a cluster */
int
stats_sender_bucket(const char *sender_domain)
{
    char s[STATS_NAME_MAX];

    clean_name(s, sizeof(s), sender_domain);
    return bucket_of(s, strlen(s));
}

/* stats_tag - "<prefix>{st}", or "<prefix>{st:B}" for bucket B >= 0 */
int
stats_tag(char *buf, size_t len, const char *prefix, int bucket)
{
    int n = bucket < 0 ? snprintf(buf, len, "%s{st}", prefix)
	: snprintf(buf, len, "%s{st:%d}", prefix, bucket);

    return n < 0 || (size_t) n >= len ? -1 : n;
}

/* tag_key - "<tag>:h:YYYYMMDDHH" (hour >= 0) or "<tag>:total" (hour < 0) */
static int
tag_key(char *buf, size_t len, const char *prefix, int bucket, long long hour)
{
    char tag[400];
    time_t t = (time_t) (hour * 3600);
    struct tm tm;
    int n;

    if (stats_tag(tag, sizeof(tag), prefix, bucket) < 0)
	return -1;
    if (hour < 0) {
	n = snprintf(buf, len, "%s:total", tag);
    } else {
	gmtime_r(&t, &tm);
	n = snprintf(buf, len, "%s:h:%04d%02d%02d%02d", tag, tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour);
    }
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
    b->unfinished = 1;		/* an earlier process may have left one */
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
    b->e[b->ne].bucket = bucket_of(field, strcspn(field, "|"));
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
    size_t i;

    if (b->state_key == NULL || strcmp(b->state_key, key) != 0) {
	free(b->state_key);
	b->state_key = xstrdup(key);
	argv_clear(&b->state);
    }
    /* set again (a retry while Redis is away): the new value, not a new pair */
    for (i = 0; i + 1 < b->state.n; i += 2) {
	if (strcmp(b->state.v[i], field) == 0) {
	    free(b->state.v[i + 1]);
	    b->state.v[i + 1] = xstrdup(value);
	    return;
	}
    }
    argv_add(&b->state, field);
    argv_add(&b->state, value);
}

/* stats_batch_state_size - state fields waiting */
size_t
stats_batch_state_size(const struct stats_batch *b)
{
    return b->state.n / 2;
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

/* ------------------------------------------------------- batch, cluster */

/* cmp_bucket - by bucket, then by hour */
static int
cmp_bucket(const void *x, const void *y)
{
    const struct stats_entry *a = x, *b = y;

    if (a->bucket != b->bucket)
	return a->bucket < b->bucket ? -1 : 1;
    return a->hour < b->hour ? -1 : a->hour > b->hour;
}

/* said_failed - a failed write, said at most once a minute */
static void
said_failed(struct stats_batch *b, struct rconn *rc, const redisReply *r)
{
    msg_warn_limited(&b->said_failed, "redis: writing statistics: %s",
		     r ? (r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply")
		     : rconn_error(rc));
}

/*
 * group_tokens - the counts of entries i..j-1 (one bucket, sorted by hour):
 * bucket, NH, then per hour: hour number, M, M pairs (field, n)
 */
static void
group_tokens(const struct stats_batch *b, size_t i, size_t j, struct argv *t)
{
    char buf[32];
    size_t k, l, at, nh = 0;

    argv_num(t, b->e[i].bucket);
    at = t->n;
    argv_add(t, "");
    for (k = i; k < j; k = l) {
	for (l = k; l < j && b->e[l].hour == b->e[k].hour; l++)
	     /* same hour */ ;
	argv_num(t, b->e[k].hour);
	argv_num(t, (long long) (l - k));
	for (; k < l; k++) {
	    argv_add(t, b->e[k].field);
	    argv_num(t, b->e[k].n);
	}
	nh++;
    }
    snprintf(buf, sizeof(buf), "%zu", nh);
    free(t->v[at]);
    t->v[at] = xstrdup(buf);
}

/* marker_key - "<prefix>{st:B}:logd:NODE" of the state key "<prefix>{st}:logd:NODE" */
static int
marker_key(char *buf, size_t len, const char *state_key, int bucket)
{
    const char *p = strstr(state_key, "{st}");
    int n;

    if (p == NULL)
	return -1;
    n = snprintf(buf, len, "%.*s{st:%d}%s", (int) (p - state_key), state_key, bucket, p + 4);
    return n < 0 || (size_t) n >= len ? -1 : n;
}

/* num_token - a token that is a number >= 0, or -1 */
static long long
num_token(const char *s)
{
    char *end;
    long long n = strtoll(s, &end, 10);

    return end == s || *end || n < 0 ? -1 : n;
}

/*
 * group_run - one bucket's counts (tokens of group_tokens()) in one script
 * call; with mark (not ""), only if the bucket's marker of state_key does not
 * hold it yet, and it is set.  0 written, 1 written before, 2 tokens that do
 * not parse, -1 failure
 */
static int
group_run(struct stats_batch *b, struct rconn *rc, char **tok, size_t ntok,
	  const char *mark, const char *state_key)
{
    struct argv keys = {0}, args = {0};
    char key[512];
    long long bucket, nh, hour, m, h, i;
    size_t a = 2;
    redisReply *r;
    int rv = 2;

    if (ntok < 2 || (bucket = num_token(tok[0])) < 0 || bucket >= STATS_BUCKETS
	|| (nh = num_token(tok[1])) < 0)
	return 2;
    argv_num(&args, nh);
    argv_add(&args, mark);
    for (h = 0; h < nh; h++) {
	if (a + 2 > ntok || (hour = num_token(tok[a])) < 0
	    || (m = num_token(tok[a + 1])) < 0 || (size_t) m > (ntok - a - 2) / 2
	    || tag_key(key, sizeof(key), b->prefix, (int) bucket, hour) < 0)
	    goto out;
	a += 2;
	argv_add(&keys, key);
	argv_num(&args, hour * 3600 + 3600 + STATS_HOUR_TTL);
	argv_num(&args, m);
	for (i = 0; i < 2 * m; i++)
	    argv_add(&args, tok[a++]);
    }
    if (a != ntok || tag_key(key, sizeof(key), b->prefix, (int) bucket, -1) < 0)
	goto out;
    argv_add(&keys, key);
    if (*mark && marker_key(key, sizeof(key), state_key, (int) bucket) < 0)
	goto out;
    argv_add(&keys, key);		/* the marker, or the total again */
    for (a = 0; a < args.n; a++)
	argv_add(&keys, args.v[a]);
    if (bucket_script.sha1[0] == '\0')
	rscript_init(&bucket_script, bucket_script.source);
    r = rconn_eval(rc, &bucket_script, (int) (nh + 2), (int) keys.n,
		   (const char **) keys.v, NULL);
    if (r && r->type == REDIS_REPLY_INTEGER) {
	rv = r->integer == 1;
    } else {
	said_failed(b, rc, r);
	rv = -1;
    }
    if (r)
	freeReplyObject(r);
out:
    argv_free(&keys);
    argv_free(&args);
    return rv;
}

/* pending_key - "<state key>:pending" */
static int
pending_key(char *buf, size_t len, const char *state_key)
{
    int n = snprintf(buf, len, "%s:pending", state_key);

    return n < 0 || (size_t) n >= len ? -1 : n;
}

/* split_lines - the tokens of a pending group ('\n' between them) */
static void
split_lines(const char *s, size_t len, struct argv *t)
{
    const char *e, *end = s + len;
    char *tok;

    for (;;) {
	e = memchr(s, '\n', (size_t) (end - s));
	tok = xstrndup(s, (size_t) ((e ? e : end) - s));
	argv_add(t, tok);
	free(tok);
	if (e == NULL)
	    return;
	s = e + 1;
    }
}

/*
 * batch_finish - write the counts pending in {st} to their buckets, each
 * once (its marker), then drop the pending hash.  after: right after this
 * process put them there (else they are an earlier attempt's: said)
 */
static int
batch_finish(struct stats_batch *b, struct rconn *rc, const char *state_key, int after)
{
    struct argv t = {0};
    const char *argv[3];
    char key[600];
    const char *id = NULL;
    redisReply *r, *d;
    size_t i;
    int rv = 0, bad = 0;

    if (!rconn_is_cluster(rc)) {
	b->unfinished = 0;
	return 0;
    }
    if (pending_key(key, sizeof(key), state_key) < 0)
	return -1;
    r = rconn_commandv(rc, "HGETALL", key, NULL);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
	said_failed(b, rc, r);
	if (r)
	    freeReplyObject(r);
	return -1;
    }
    for (i = 0; i + 1 < r->elements; i += 2)
	if (r->element[i]->type == REDIS_REPLY_STRING && strcmp(r->element[i]->str, "id") == 0
	    && r->element[i + 1]->type == REDIS_REPLY_STRING)
	    id = r->element[i + 1]->str;
    if (id && !after && strncmp(id, b->said_id, sizeof(b->said_id) - 1) != 0) {
	msg_info("statistics: finishing the batch %s that an earlier attempt left "
		 "half written", id);
	snprintf(b->said_id, sizeof(b->said_id), "%s", id);
    }
    for (i = 0; id && rv == 0 && i + 1 < r->elements; i += 2) {
	if (r->element[i]->type != REDIS_REPLY_STRING || r->element[i]->str[0] != 'g'
	    || r->element[i + 1]->type != REDIS_REPLY_STRING)
	    continue;
	argv_clear(&t);
	split_lines(r->element[i + 1]->str, r->element[i + 1]->len, &t);
	switch (group_run(b, rc, t.v, t.n, id, state_key)) {
	case -1: rv = -1; break;
	case 1: msg_debug("statistics: %s of batch %s was written before",
			  r->element[i]->str, id); break;
	case 2: bad++; break;
	}
    }
    if (bad)
	msg_warn("statistics: %s: %d groups of counts that do not parse are dropped",
		 key, bad);
    if (id && rv == 0) {
	if (done_script.sha1[0] == '\0')
	    rscript_init(&done_script, done_script.source);
	argv[0] = key;
	argv[1] = id;
	d = rconn_eval(rc, &done_script, 1, 2, argv, NULL);
	if (d == NULL || d->type != REDIS_REPLY_INTEGER) {
	    said_failed(b, rc, d);
	    rv = -1;
	}
	if (d)
	    freeReplyObject(d);
    }
    argv_free(&t);
    freeReplyObject(r);
    if (rv == 0)
	b->unfinished = 0;
    return rv;
}

/* stats_batch_finish - what a batch left half written on a cluster */
int
stats_batch_finish(struct stats_batch *b, struct rconn *rc, const char *state_key)
{
    return batch_finish(b, rc, state_key, 0);
}

/*
 * st_write - the {st} part of a batch: guard, state, events and, with
 * groups, every bucket's counts as pending.  0, 1 (written before), 2
 * (another writer), 3 (an earlier batch is pending), -1
 */
static int
st_write(struct stats_batch *b, struct rconn *rc, long events_max, int groups)
{
    struct argv all = {0}, t = {0}, g = {0};
    char key[600];
    size_t i, j, k, len;
    redisReply *r;
    char *blob;
    int rv;

    snprintf(key, sizeof(key), "%s{st}:events", b->prefix);
    argv_add(&all, b->state_key ? b->state_key : key);
    argv_add(&all, key);
    if (b->state_key && pending_key(key, sizeof(key), b->state_key) >= 0)
	argv_add(&all, key);
    else
	argv_add(&all, all.v[1]);
    argv_num(&all, events_max > 0 ? events_max : 1);
    for (i = 0; i < 3; i++)
	argv_add(&all, b->guard[0] ? b->guard[i] : "");
    argv_num(&all, (long long) b->state.n / 2);
    for (i = 0; i < b->state.n; i++)
	argv_add(&all, b->state.v[i]);
    argv_num(&all, events_max > 0 ? (long long) b->nevents : 0);
    if (events_max > 0)
	for (i = 0; i < b->events.n; i++)
	    argv_add(&all, b->events.v[i]);
    for (i = 0; groups && i < b->ne; i = j) {
	for (j = i; j < b->ne && b->e[j].bucket == b->e[i].bucket; j++)
	     /* same bucket */ ;
	argv_clear(&t);
	group_tokens(b, i, j, &t);
	for (k = 0, len = 0; k < t.n; k++)
	    len += strlen(t.v[k]) + 1;
	blob = xmalloc(len);
	for (k = 0, len = 0; k < t.n; k++) {
	    strcpy(blob + len, t.v[k]);
	    len += strlen(t.v[k]);
	    blob[len++] = k + 1 < t.n ? '\n' : '\0';
	}
	argv_add(&g, blob);
	free(blob);
    }
    argv_num(&all, (long long) g.n);
    for (i = 0; i < g.n; i++)
	argv_add(&all, g.v[i]);
    if (st_script.sha1[0] == '\0')
	rscript_init(&st_script, st_script.source);
    r = rconn_eval(rc, &st_script, 3, (int) all.n, (const char **) all.v, NULL);
    if (r && r->type == REDIS_REPLY_INTEGER) {
	rv = (int) r->integer;
	msg_limit_reset(&b->said_failed);
    } else {
	said_failed(b, rc, r);
	rv = -1;
    }
    if (rv == 1)
	msg_info("statistics: the last write had reached Redis after all");
    if (rv == 2)
	msg_error("statistics: %s was changed by another writer: this batch is dropped "
		  "(does another process use the same state key?)", b->state_key);
    if (r)
	freeReplyObject(r);
    argv_free(&all);
    argv_free(&t);
    argv_free(&g);
    return rv;
}

/*
 * flush_cluster - a batch on a cluster.  Guarded (a log follower's): the
 * {st} part and the counts as pending in one script, then each bucket's
 * counts once (batch_finish).  Else each bucket's counts in turn (those
 * written leave the batch), then events and state.
 */
static int
flush_cluster(struct stats_batch *b, struct rconn *rc, long events_max)
{
    struct argv t = {0};
    size_t i, j, k, left;
    int rv = 0;

    if (b->ne > 1)
	qsort(b->e, b->ne, sizeof(*b->e), cmp_bucket);
    if (b->guard[0] && b->state_key) {
	if (b->unfinished && batch_finish(b, rc, b->state_key, 0) < 0)
	    return -1;
	b->unfinished = 1;
	if ((rv = st_write(b, rc, events_max, 1)) == 3
	    && (batch_finish(b, rc, b->state_key, 0) < 0
		|| (rv = st_write(b, rc, events_max, 1)) == 3))
	    return -1;
	if (rv < 0)
	    return -1;
	batch_clear(b);			/* what it held is pending in Redis */
	if (rv == 2)
	    return 1;
	return batch_finish(b, rc, b->state_key, 1) < 0 ? -1 : 0;
    }
    for (i = 0; i < b->ne; i = j) {
	for (j = i; j < b->ne && b->e[j].bucket == b->e[i].bucket; j++)
	     /* same bucket */ ;
	argv_clear(&t);
	group_tokens(b, i, j, &t);
	if ((rv = group_run(b, rc, t.v, t.n, "", "")) < 0)
	    break;
	rv = 0;				/* 2: names too long for a key, dropped */
	for (k = i; k < j; k++) {
	    free(b->e[k].field);
	    b->e[k].field = NULL;
	}
    }
    argv_free(&t);
    for (k = 0, left = 0; k < b->ne; k++)
	if (b->e[k].field)
	    b->e[left++] = b->e[k];
    b->ne = left;
    if (rv < 0 || ((b->nevents || b->state.n) && st_write(b, rc, events_max, 0) < 0))
	return -1;
    msg_limit_reset(&b->said_failed);
    batch_clear(b);
    return 0;
}

/* ---------------------------------------------------------------- flush */

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
    if (rconn_is_cluster(rc))
	return flush_cluster(b, rc, events_max);
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
stats_cmd_make(struct stats_cmd *c, const char *prefix, int cluster, long long when,
	       const char *sender, const char *provider, const char *pool,
	       const char *counter, long long n)
{
    int kl, tl, fl, nl, al, bucket;

    c->argc = 0;
    fl = stats_field_make(c->field, sizeof(c->field), sender, provider, pool, counter);
    if (fl < 0)
	return -1;
    bucket = cluster ? bucket_of(c->field, strcspn(c->field, "|")) : -1;
    kl = tag_key(c->key[0], sizeof(c->key[0]), prefix, bucket, when / 3600);
    tl = tag_key(c->key[1], sizeof(c->key[1]), prefix, bucket, -1);
    if (kl < 0 || tl < 0)
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

/*
 * read_hours - the hours from..to (hour numbers; the total hash when from
 * is -1) of "{st}", or on a cluster of each bucket in turn: one script call
 * per bucket, at most STATS_MAX_HOURS + 1 keys in each
 */
static int
read_hours(struct rconn *rc, const char *prefix, long long from, long long to,
	   void (*fn)(const struct stats_field *, long long, void *), void *arg)
{
    struct argv keys = {0};
    char key[512];
    long long h;
    int b, nb = rconn_is_cluster(rc) ? STATS_BUCKETS : 1, rv = 0;

    for (b = 0; b < nb && rv == 0; b++) {
	argv_clear(&keys);
	for (h = from; h <= to; h++)
	    if (tag_key(key, sizeof(key), prefix, nb > 1 ? b : -1, h) >= 0)
		argv_add(&keys, key);
	if (keys.n)
	    rv = read_keys(rc, &keys, fn, arg);
    }
    argv_free(&keys);
    return rv;
}

/* stats_read - every field of the hours from..to */
int
stats_read(struct rconn *rc, const char *prefix, long long from, long long to,
	   void (*fn)(const struct stats_field *, long long, void *), void *arg)
{
    if (to - from > (long long) STATS_MAX_HOURS * 3600)
	from = to - (long long) STATS_MAX_HOURS * 3600;
    if (from < 0)
	from = 0;
    return read_hours(rc, prefix, from / 3600, to / 3600, fn, arg);
}

/* stats_read_total - every field of the total hash */
int
stats_read_total(struct rconn *rc, const char *prefix,
		 void (*fn)(const struct stats_field *, long long, void *), void *arg)
{
    return read_hours(rc, prefix, -1, -1, fn, arg);
}
