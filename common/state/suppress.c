/*
 * suppress - the suppression list (see suppress.h)
 *
 * The first half is pure: normalising targets, the value codec, times and
 * CSV rows.  The second half talks to Redis through redisconn, always with
 * argv commands and the Lua scripts below.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "addr.h"
#include "msg.h"
#include "redisconn.h"
#include "suppress.h"
#include "xalloc.h"

static const char *const reason_names[] = {
    "none", "hard-bounce", "soft-bounce", "complaint", "unsubscribe", "manual",
};

#define VALUE_VERSION 0x10		/* high nibble of byte 0 */
#define BATCH_MAX 500			/* entries per round trip */
#define WALK_CHUNK 1024		/* buckets per round trip */

/* ---------------------------------------------------------------- pure */

/* sup_reason_name - "hard-bounce" ... */
const char *
sup_reason_name(int reason)
{
    if (reason < 0 || reason > SUP_REASON_MAX)
	return "unknown";
    return reason_names[reason];
}

/* sup_reason_code - a reason name to its code, -1 when unknown */
int
sup_reason_code(const char *name, size_t len)
{
    int i;

    for (i = 1; i <= SUP_REASON_MAX; i++)
	if (strlen(reason_names[i]) == len && strncasecmp(name, reason_names[i], len) == 0)
	    return i;
    return -1;
}

/* sup_target_normalize - an address, or "@domain" for a whole domain */
int
sup_target_normalize(const char *in, size_t len, char *out, size_t outsz,
		     const char **why)
{
    while (len > 0 && isspace((unsigned char) *in))
	in++, len--;
    /* "@domain" is a domain entry; "@a,@b:user@d" is a source route */
    if (len > 0 && in[0] == '@' && memchr(in, ':', len) == NULL) {
	if (memchr(in + 1, '@', len - 1) != NULL)
	    return (*why = "more than one '@'"), -1;
	if (outsz < 2)
	    return (*why = "buffer too small"), -1;
	out[0] = '@';
	return domain_normalize(in + 1, len - 1, out + 1, outsz - 1, why);
    }
    return addr_normalize(in, len, out, outsz, why);
}

/* sup_bucket - which of SUP_BUCKETS hashes holds a target */
unsigned
sup_bucket(const char *target)
{
    uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a 64 ... */
    const unsigned char *p;

    for (p = (const unsigned char *) target; *p; p++) {
	h ^= *p;
	h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;			/* ... with a murmur3 finaliser */
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return (unsigned) (h & (SUP_BUCKETS - 1));
}

/* sup_source_valid - a short token of [a-zA-Z0-9._-] (may be empty) */
int
sup_source_valid(const char *s, size_t len)
{
    size_t i;

    if (len > SUP_SOURCE_MAX)
	return 0;
    for (i = 0; i < len; i++)
	if (!isalnum((unsigned char) s[i]) && !strchr("._-", s[i]))
	    return 0;
    return 1;
}

/* put32 - big-endian uint32 */
static void
put32(unsigned char *p, long long v)
{
    uint32_t u = (uint32_t) v;

    p[0] = (unsigned char) (u >> 24);
    p[1] = (unsigned char) (u >> 16);
    p[2] = (unsigned char) (u >> 8);
    p[3] = (unsigned char) u;
}

/* get32 - big-endian uint32 */
static long long
get32(const unsigned char *p)
{
    return ((long long) p[0] << 24) | ((long long) p[1] << 16)
	| ((long long) p[2] << 8) | (long long) p[3];
}

/*
 * sup_value_encode - the hash value: reason, created, expires, source
 *
 * Byte 0 holds the format version (high nibble) and the reason; then two
 * big-endian 32-bit epoch times (0 = never for expires); then the source.
 * buf must hold SUP_VALUE_MAX bytes.  Returns the length.
 */
size_t
sup_value_encode(const struct sup_entry *e, unsigned char *buf)
{
    size_t slen = strnlen(e->source, SUP_SOURCE_MAX);

    buf[0] = (unsigned char) (VALUE_VERSION | (e->reason & 0x0f));
    put32(buf + 1, e->created < 0 ? 0 : e->created > 0xffffffffLL ? 0xffffffffLL : e->created);
    put32(buf + 5, e->expires < 0 ? 0 : e->expires > 0xffffffffLL ? 0xffffffffLL : e->expires);
    memcpy(buf + 9, e->source, slen);
    return 9 + slen;
}

/* sup_value_decode - the reverse; -1 when the value is not ours */
int
sup_value_decode(const unsigned char *v, size_t len, struct sup_entry *e)
{
    if (len < 9 || len > SUP_VALUE_MAX || (v[0] & 0xf0) != VALUE_VERSION)
	return -1;
    e->reason = v[0] & 0x0f;
    if (e->reason < 1 || e->reason > SUP_REASON_MAX)
	return -1;
    e->created = get32(v + 1);
    e->expires = get32(v + 5);
    memcpy(e->source, v + 9, len - 9);
    e->source[len - 9] = '\0';
    return 0;
}

/* digits - n decimal digits at s, or -1 */
static int
digits(const char *s, int n)
{
    int v = 0, i;

    for (i = 0; i < n; i++) {
	if (!isdigit((unsigned char) s[i]))
	    return -1;
	v = v * 10 + (s[i] - '0');
    }
    return v;
}

/*
 * sup_time_parse - epoch seconds, "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SSZ"
 * (or a space for the T); UTC always.  Must fit 32 bits unsigned.
 */
int
sup_time_parse(const char *s, size_t len, long long *t, const char **why)
{
    struct tm tm;
    size_t i;
    long long v = 0;
    time_t tt;

    if (len == 0)
	return (*why = "empty time"), -1;
    for (i = 0; i < len && isdigit((unsigned char) s[i]); i++)
	;
    if (i == len) {
	if (len > 10)
	    return (*why = "time out of range"), -1;
	for (i = 0; i < len; i++)
	    v = v * 10 + (s[i] - '0');
	if (v > 0xffffffffLL)
	    return (*why = "time out of range"), -1;
	*t = v;
	return 0;
    }
    if ((len != 10 && len != 20) || s[4] != '-' || s[7] != '-')
	return (*why = "time is neither epoch seconds nor YYYY-MM-DD[THH:MM:SSZ]"), -1;
    memset(&tm, 0, sizeof(tm));
    if ((tm.tm_year = digits(s, 4)) < 1970 || (tm.tm_mon = digits(s + 5, 2)) < 1
	|| tm.tm_mon > 12 || (tm.tm_mday = digits(s + 8, 2)) < 1 || tm.tm_mday > 31)
	return (*why = "bad date"), -1;
    if (len == 20) {
	if ((s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':' || s[19] != 'Z')
	    return (*why = "time is neither epoch seconds nor YYYY-MM-DD[THH:MM:SSZ]"), -1;
	if ((tm.tm_hour = digits(s + 11, 2)) < 0 || tm.tm_hour > 23
	    || (tm.tm_min = digits(s + 14, 2)) < 0 || tm.tm_min > 59
	    || (tm.tm_sec = digits(s + 17, 2)) < 0 || tm.tm_sec > 60)
	    return (*why = "bad time of day"), -1;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tt = timegm(&tm);
    if (tt < 0 || (long long) tt > 0xffffffffLL)
	return (*why = "time out of range"), -1;
    *t = (long long) tt;
    return 0;
}

/* sup_time_format - "YYYY-MM-DDTHH:MM:SSZ" */
void
sup_time_format(long long t, char *buf, size_t size)
{
    time_t tt = (time_t) t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

#define CSV_FIELDS 6

struct csv_field {
    char buf[SUP_CSV_LINE_MAX];
    size_t len;
};

/* csv_split - RFC 4180 fields of one row; returns how many, -1 on error */
static int
csv_split(const char *line, size_t len, struct csv_field *f, int max,
	  const char **why)
{
    size_t i = 0;
    int n = 0;

    for (;;) {
	struct csv_field *cur;

	if (n == max)
	    return (*why = "too many fields"), -1;
	cur = &f[n++];
	cur->len = 0;
	if (i < len && line[i] == '"') {
	    for (i++;; i++) {
		if (i >= len)
		    return (*why = "unterminated quoted field"), -1;
		if (line[i] == '"') {
		    if (i + 1 < len && line[i + 1] == '"')
			i++;
		    else
			break;
		}
		cur->buf[cur->len++] = line[i];
	    }
	    i++;
	    if (i < len && line[i] != ',')
		return (*why = "text after a closing quote"), -1;
	} else {
	    for (; i < len && line[i] != ','; i++) {
		if (line[i] == '"')
		    return (*why = "quote inside an unquoted field"), -1;
		cur->buf[cur->len++] = line[i];
	    }
	}
	if (i >= len)
	    return n;
	i++;				/* the comma */
    }
}

/* trim - strip blanks at both ends of a field */
static void
trim(struct csv_field *f, const char **s, size_t *len)
{
    const char *p = f->buf;
    size_t n = f->len;

    while (n > 0 && (*p == ' ' || *p == '\t'))
	p++, n--;
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
	n--;
    *s = p;
    *len = n;
}

/* sup_csv_parse - one row "address,reason,scope,time[,expires[,source]]" */
int
sup_csv_parse(const char *line, size_t len, long long now, struct sup_entry *e,
	      const char **why)
{
    struct csv_field *f;
    const char *s;
    size_t sl;
    int n, rc = -1;

    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
	len--;
    if (len >= SUP_CSV_LINE_MAX)
	return (*why = "line too long"), -1;
    /* a row is text: a NUL would cut the address short once it is a C string */
    if (memchr(line, '\0', len) != NULL)
	return (*why = "NUL byte in the row"), -1;
    f = xcalloc(CSV_FIELDS, sizeof(*f));
    memset(e, 0, sizeof(*e));
    if ((n = csv_split(line, len, f, CSV_FIELDS, why)) < 0)
	goto out;
    if (n < 4) {
	*why = "expected address,reason,scope,time[,expires[,source]]";
	goto out;
    }
    trim(&f[0], &s, &sl);
    if (sup_target_normalize(s, sl, e->target, sizeof(e->target), why) < 0)
	goto out;
    trim(&f[1], &s, &sl);
    if ((e->reason = sup_reason_code(s, sl)) < 0) {
	*why = "unknown reason (hard-bounce, soft-bounce, complaint, unsubscribe, manual)";
	goto out;
    }
    trim(&f[2], &s, &sl);
    if (sl > 0 && !(sl == 6 && strncasecmp(s, "global", 6) == 0)) {
	if (domain_normalize(s, sl, e->scope, sizeof(e->scope), why) < 0)
	    goto out;
	/* however it was written, "global" is the keyword, not a domain */
	if (strcmp(e->scope, "global") == 0)
	    e->scope[0] = '\0';
    }
    trim(&f[3], &s, &sl);
    if (sl == 0)
	e->created = now;
    else if (sup_time_parse(s, sl, &e->created, why) < 0)
	goto out;
    if (n >= 5) {
	trim(&f[4], &s, &sl);
	if (sl > 0 && sup_time_parse(s, sl, &e->expires, why) < 0)
	    goto out;
	if (sl > 0 && e->expires == 0) {
	    *why = "expires must be a real time (leave it empty for never)";
	    goto out;
	}
    }
    if (n >= 6) {
	trim(&f[5], &s, &sl);
	if (!sup_source_valid(s, sl)) {
	    *why = "source must be up to 32 characters of letters, digits, '.', '_', '-'";
	    goto out;
	}
	memcpy(e->source, s, sl);
	e->source[sl] = '\0';
    }
    rc = 0;
out:
    free(f);
    return rc;
}

/* sup_csv_is_header - a first row whose first field is "address"? */
int
sup_csv_is_header(const char *s, size_t len)
{
    while (len > 0 && (*s == ' ' || *s == '\xef' || *s == '\xbb' || *s == '\xbf'))
	s++, len--;			/* blanks, a UTF-8 byte order mark */
    return len >= 7 && strncasecmp(s, "address", 7) == 0 && (len == 7 || s[7] == ',');
}

/* csv_put - append one field, quoted when needed */
static size_t
csv_put(char *buf, size_t size, size_t at, const char *s, int comma)
{
    int quote = strpbrk(s, ",\"\r\n") != NULL || (*s && (s[0] == ' ' || s[strlen(s) - 1] == ' '));

#define PUTC(c) do { if (at + 1 < size) buf[at] = (c); at++; } while (0)
    if (comma)
	PUTC(',');
    if (quote)
	PUTC('"');
    for (; *s; s++) {
	if (*s == '"')
	    PUTC('"');
	PUTC(*s);
    }
    if (quote)
	PUTC('"');
#undef PUTC
    return at;
}

/*
 * sup_csv_format - one CSV row with a newline; returns its length (as
 * snprintf, the length it would have had when size is too small)
 */
size_t
sup_csv_format(const struct sup_entry *e, char *buf, size_t size)
{
    char created[32], expires[32] = "";
    size_t at = 0;

    sup_time_format(e->created, created, sizeof(created));
    if (e->expires)
	sup_time_format(e->expires, expires, sizeof(expires));
    at = csv_put(buf, size, at, e->target, 0);
    at = csv_put(buf, size, at, sup_reason_name(e->reason), 1);
    at = csv_put(buf, size, at, e->scope[0] ? e->scope : "global", 1);
    at = csv_put(buf, size, at, created, 1);
    at = csv_put(buf, size, at, expires, 1);
    at = csv_put(buf, size, at, e->source, 1);
    if (at + 1 < size)
	buf[at] = '\n';
    at++;
    if (size > 0)
	buf[at < size ? at : size - 1] = '\0';
    return at;
}

/* ---------------------------------------------------------------- scripts */

/*
 * The scripts receive every key they touch in KEYS.  Decoding of values in
 * Lua is limited to the expiry (bytes 6-9) and the reason (byte 1).
 */
#define LUA_EXPIRES \
    "local function expires(v)\n" \
    "  if #v < 9 then return 0 end\n" \
    "  local a, b, c, d = string.byte(v, 6, 9)\n" \
    "  return ((a * 256 + b) * 256 + c) * 256 + d\n" \
    "end\n"

/*
 * KEYS: address bucket, its long bucket, domain bucket, its long bucket,
 * scopes, stats.  ARGV: address, @domain, sender domain, now, field limit,
 * action ("" = do not count), stats ttl, sender label.
 */
static const char check_lua[] = LUA_EXPIRES
    "local now, limit = tonumber(ARGV[4]), tonumber(ARGV[5])\n"
    "local sid, d = false, ARGV[3]\n"
    "while d ~= '' do\n"
    "  sid = redis.call('HGET', KEYS[5], d)\n"
    "  if sid then break end\n"
    "  local dot = string.find(d, '.', 1, true)\n"
    "  if not dot then break end\n"
    "  d = string.sub(d, dot + 1)\n"
    "end\n"
    "local function get(b, l, f)\n"
    "  local k = b\n"
    "  if #f > limit then k = l end\n"
    "  local v = redis.call('HGET', k, f)\n"
    "  if not v then return false end\n"
    "  local e = expires(v)\n"
    "  if e ~= 0 and e <= now then return false end\n"
    "  return v\n"
    "end\n"
    "local hit, kind = get(KEYS[1], KEYS[2], ARGV[1]), 1\n"
    "if not hit and sid then hit, kind = get(KEYS[1], KEYS[2], sid .. ':' .. ARGV[1]), 2 end\n"
    "if not hit then hit, kind = get(KEYS[3], KEYS[4], ARGV[2]), 3 end\n"
    "if not hit and sid then hit, kind = get(KEYS[3], KEYS[4], sid .. ':' .. ARGV[2]), 4 end\n"
    "if ARGV[6] ~= '' then\n"
    "  local f = ARGV[8] .. ' none pass'\n"
    "  if hit then\n"
    "    local names = {'hard-bounce', 'soft-bounce', 'complaint', 'unsubscribe', 'manual'}\n"
    "    f = ARGV[8] .. ' ' .. (names[string.byte(hit, 1) % 16] or 'unknown') .. ' ' .. ARGV[6]\n"
    "  end\n"
    "  if redis.call('HINCRBY', KEYS[6], f, 1) == 1 then\n"
    "    redis.call('EXPIRE', KEYS[6], ARGV[7])\n"
    "  end\n"
    "end\n"
    "if hit then return {kind, hit, d} end\n"
    "return {0}\n";

/*
 * KEYS: scopes, scopeids, meta, then a bucket and its long bucket per
 * entry.  ARGV: field limit, force, then target, scope, value per entry.
 * Returns {new entries, entries kept because they were permanent}.
 */
static const char add_lua[] = LUA_EXPIRES
    "local limit, force = tonumber(ARGV[1]), ARGV[2] == '1'\n"
    "local ids, added, kept = {}, 0, 0\n"
    "for i = 0, (#ARGV - 2) / 3 - 1 do\n"
    "  local t, sc, v = ARGV[3 + 3 * i], ARGV[4 + 3 * i], ARGV[5 + 3 * i]\n"
    "  local f = t\n"
    "  if sc ~= '' then\n"
    "    local id = ids[sc]\n"
    "    if not id then\n"
    "      id = redis.call('HGET', KEYS[1], sc)\n"
    "      if not id then\n"
    "        id = tostring(redis.call('HINCRBY', KEYS[3], 'nextscope', 1))\n"
    "        redis.call('HSET', KEYS[1], sc, id)\n"
    "        redis.call('HSET', KEYS[2], id, sc)\n"
    "      end\n"
    "      ids[sc] = id\n"
    "    end\n"
    "    f = id .. ':' .. t\n"
    "  end\n"
    "  local k = KEYS[4 + 2 * i]\n"
    "  if #f > limit then k = KEYS[5 + 2 * i] end\n"
    "  local keep = false\n"
    "  if not force and expires(v) ~= 0 then\n"
    "    local old = redis.call('HGET', k, f)\n"
    "    keep = old and expires(old) == 0\n"
    "  end\n"
    "  if keep then kept = kept + 1\n"
    "  else added = added + redis.call('HSET', k, f, v) end\n"
    "end\n"
    "if added > 0 then redis.call('HINCRBY', KEYS[3], 'entries', added) end\n"
    "return {added, kept}\n";

/* KEYS: scopes, meta, bucket, long bucket.  ARGV: target, scope, limit. */
static const char remove_lua[] =
    "local f = ARGV[1]\n"
    "if ARGV[2] ~= '' then\n"
    "  local id = redis.call('HGET', KEYS[1], ARGV[2])\n"
    "  if not id then return 0 end\n"
    "  f = id .. ':' .. f\n"
    "end\n"
    "local k = KEYS[3]\n"
    "if #f > tonumber(ARGV[3]) then k = KEYS[4] end\n"
    "local n = redis.call('HDEL', k, f)\n"
    "if n > 0 then redis.call('HINCRBY', KEYS[2], 'entries', -n) end\n"
    "return n\n";

/*
 * KEYS: scopeids, meta, buckets...  ARGV: purge_before (0: no purge).
 * Returns {purged, target, scope, value, target, scope, value ...}.
 */
static const char walk_lua[] = LUA_EXPIRES
    "local before = tonumber(ARGV[1])\n"
    "local out, names, purged = {0}, {}, 0\n"
    "for i = 3, #KEYS do\n"
    "  local all = redis.call('HGETALL', KEYS[i])\n"
    "  for j = 1, #all, 2 do\n"
    "    local f, v = all[j], all[j + 1]\n"
    "    local e = expires(v)\n"
    "    if before > 0 and e ~= 0 and e < before then\n"
    "      redis.call('HDEL', KEYS[i], f)\n"
    "      purged = purged + 1\n"
    "    else\n"
    "      local id, t = string.match(f, '^(%d+):(.+)$')\n"
    "      local sc = ''\n"
    "      if id then\n"
    "        sc = names[id]\n"
    "        if not sc then\n"
    "          sc = redis.call('HGET', KEYS[1], id) or ('?' .. id)\n"
    "          names[id] = sc\n"
    "        end\n"
    "      else t = f end\n"
    "      out[#out + 1] = t\n"
    "      out[#out + 1] = sc\n"
    "      out[#out + 1] = v\n"
    "    end\n"
    "  end\n"
    "end\n"
    "if purged > 0 then redis.call('HINCRBY', KEYS[2], 'entries', -purged) end\n"
    "out[1] = purged\n"
    "return out\n";

/* ---------------------------------------------------------------- store */

struct sup_store {
    struct rconn *rc;
    char *prefix;
    struct rscript check, add, remove, walk;
    char err[256];
};

struct batch_item {
    char target[ADDR_MAX];
    char scope[DOMAIN_MAX];
    unsigned char value[SUP_VALUE_MAX];
    size_t vlen;
    char bkey[2][128];
};

struct sup_batch {
    struct sup_store *store;
    int force;
    size_t n;
    long long kept;		/* entries kept rather than replaced */
    struct batch_item *items;
    const char **argv;
    size_t *argvlen;
};

/* sup_store_new - a store over a connection the caller keeps owning */
struct sup_store *
sup_store_new(struct rconn *rc, const char *prefix)
{
    struct sup_store *s = xcalloc(1, sizeof(*s));

    if (strlen(prefix) > 64)
	msg_fatal("suppress: [redis] prefix longer than 64 characters");
    s->rc = rc;
    s->prefix = xstrdup(prefix);
    rscript_init(&s->check, check_lua);
    rscript_init(&s->add, add_lua);
    rscript_init(&s->remove, remove_lua);
    rscript_init(&s->walk, walk_lua);
    /*
     * Sent again on a connection cut while they ran: adding, removing and
     * purging do nothing the second time, and a check gives the same
     * verdict (its statistics may count that one check twice).
     */
    s->check.repeatable = s->add.repeatable = 1;
    s->remove.repeatable = s->walk.repeatable = 1;
    return s;
}

/* sup_store_free - release (not the connection) */
void
sup_store_free(struct sup_store *s)
{
    if (s == NULL)
	return;
    free(s->prefix);
    free(s);
}

/* sup_error - why the last call failed */
const char *
sup_error(const struct sup_store *s)
{
    return s->err;
}

/* key - "PREFIX{sup}:NAME" */
static void
key(const struct sup_store *s, char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s{sup}:%s", s->prefix, name);
}

/* bucket_keys - the bucket and long-bucket keys of a target */
static void
bucket_keys(const struct sup_store *s, const char *target, char b[128], char l[128])
{
    unsigned n = sup_bucket(target);

    snprintf(b, 128, "%s{sup}:b:%05x", s->prefix, n);
    snprintf(l, 128, "%s{sup}:l:%05x", s->prefix, n);
}

/* reply_failed - set the error for a NULL or error reply; 1 if failed */
static int
reply_failed(struct sup_store *s, redisReply *r, int want_type)
{
    if (r == NULL) {
	snprintf(s->err, sizeof(s->err), "%s", rconn_error(s->rc));
	return 1;
    }
    if (r->type == REDIS_REPLY_ERROR) {
	snprintf(s->err, sizeof(s->err), "redis: %s", r->str);
	return 1;
    }
    if (r->type != want_type) {
	snprintf(s->err, sizeof(s->err), "redis: unexpected reply type %d", r->type);
	return 1;
    }
    return 0;
}

/* sup_check - is rcpt suppressed for mail from sender_domain? */
int
sup_check(struct sup_store *s, const char *rcpt, const char *sender_domain,
	  long long now, const char *action, struct sup_entry *hit)
{
    char k[6][128], dom[DOMAIN_MAX + 1], nows[24], lim[8], ttl[16], day[16];
    const char *argv[14];
    redisReply *r;
    time_t tt = (time_t) now;
    struct tm tm;
    int kind, rc = -1;

    snprintf(dom, sizeof(dom), "@%s", addr_domain(rcpt));
    bucket_keys(s, rcpt, k[0], k[1]);
    bucket_keys(s, dom, k[2], k[3]);
    key(s, k[4], sizeof(k[4]), "scopes");
    gmtime_r(&tt, &tm);
    strftime(day, sizeof(day), "stats:%Y%m%d", &tm);
    key(s, k[5], sizeof(k[5]), day);
    snprintf(nows, sizeof(nows), "%lld", now);
    snprintf(lim, sizeof(lim), "%d", SUP_FIELD_MAX);
    snprintf(ttl, sizeof(ttl), "%d", SUP_STATS_TTL);
    argv[0] = k[0], argv[1] = k[1], argv[2] = k[2], argv[3] = k[3];
    argv[4] = k[4], argv[5] = k[5];
    argv[6] = rcpt;
    argv[7] = dom;
    argv[8] = sender_domain ? sender_domain : "";
    argv[9] = nows;
    argv[10] = lim;
    argv[11] = action ? action : "";
    argv[12] = ttl;
    argv[13] = sender_domain && *sender_domain ? sender_domain : "<>";
    r = rconn_eval(s->rc, &s->check, 6, 14, argv, NULL);
    if (reply_failed(s, r, REDIS_REPLY_ARRAY))
	goto out;
    if (r->elements < 1 || r->element[0]->type != REDIS_REPLY_INTEGER) {
	snprintf(s->err, sizeof(s->err), "redis: unexpected reply to the check script");
	goto out;
    }
    kind = (int) r->element[0]->integer;
    if (kind == 0) {
	rc = 0;
	goto out;
    }
    memset(hit, 0, sizeof(*hit));
    if (r->elements < 2 || r->element[1]->type != REDIS_REPLY_STRING
	|| sup_value_decode((unsigned char *) r->element[1]->str, r->element[1]->len, hit) < 0) {
	/* a value we cannot read still suppresses: better safe than sorry */
	msg_warn("suppress: undecodable entry for %s; treating it as manual", rcpt);
	hit->reason = SUP_MANUAL;
    }
    snprintf(hit->target, sizeof(hit->target), "%s", kind <= 2 ? rcpt : dom);
    if ((kind == 2 || kind == 4) && r->elements > 2
	&& r->element[2]->type == REDIS_REPLY_STRING)
	snprintf(hit->scope, sizeof(hit->scope), "%s", r->element[2]->str);
    rc = 1;
out:
    if (r)
	freeReplyObject(r);
    return rc;
}

/* sup_batch_new - start collecting entries to add */
struct sup_batch *
sup_batch_new(struct sup_store *s, int force)
{
    struct sup_batch *b = xcalloc(1, sizeof(*b));

    b->store = s;
    b->force = force;
    b->items = xreallocarray(NULL, BATCH_MAX, sizeof(*b->items));
    b->argv = xreallocarray(NULL, 3 + 2 * BATCH_MAX + 2 + 3 * BATCH_MAX, sizeof(*b->argv));
    b->argvlen = xreallocarray(NULL, 3 + 2 * BATCH_MAX + 2 + 3 * BATCH_MAX, sizeof(*b->argvlen));
    return b;
}

/* sup_batch_free - release (unflushed entries are dropped) */
void
sup_batch_free(struct sup_batch *b)
{
    if (b == NULL)
	return;
    free(b->items);
    free(b->argv);
    free(b->argvlen);
    free(b);
}

/* sup_batch_add - queue one entry; flushes when the batch is full */
int
sup_batch_add(struct sup_batch *b, const struct sup_entry *e)
{
    struct batch_item *it = &b->items[b->n++];

    snprintf(it->target, sizeof(it->target), "%s", e->target);
    snprintf(it->scope, sizeof(it->scope), "%s", e->scope);
    it->vlen = sup_value_encode(e, it->value);
    bucket_keys(b->store, e->target, it->bkey[0], it->bkey[1]);
    if (b->n == BATCH_MAX)
	return sup_batch_flush(b);
    return 0;
}

/*
 * sup_batch_flush - write what is queued in one round trip; returns the
 * number of entries written or kept, -1 on error (the batch is dropped)
 */
int
sup_batch_flush(struct sup_batch *b)
{
    struct sup_store *s = b->store;
    char k[3][128], lim[8];
    redisReply *r;
    size_t i, nk, na;
    int rc = -1;

    if (b->n == 0)
	return 0;
    key(s, k[0], sizeof(k[0]), "scopes");
    key(s, k[1], sizeof(k[1]), "scopeids");
    key(s, k[2], sizeof(k[2]), "meta");
    snprintf(lim, sizeof(lim), "%d", SUP_FIELD_MAX);
    for (nk = 0; nk < 3; nk++) {
	b->argv[nk] = k[nk];
	b->argvlen[nk] = strlen(k[nk]);
    }
    for (i = 0; i < b->n; i++) {
	b->argv[nk] = b->items[i].bkey[0];
	b->argvlen[nk] = strlen(b->items[i].bkey[0]);
	nk++;
	b->argv[nk] = b->items[i].bkey[1];
	b->argvlen[nk] = strlen(b->items[i].bkey[1]);
	nk++;
    }
    na = nk;
    b->argv[na] = lim;
    b->argvlen[na++] = strlen(lim);
    b->argv[na] = b->force ? "1" : "0";
    b->argvlen[na++] = 1;
    for (i = 0; i < b->n; i++) {
	b->argv[na] = b->items[i].target;
	b->argvlen[na++] = strlen(b->items[i].target);
	b->argv[na] = b->items[i].scope;
	b->argvlen[na++] = strlen(b->items[i].scope);
	b->argv[na] = (const char *) b->items[i].value;
	b->argvlen[na++] = b->items[i].vlen;
    }
    r = rconn_eval(s->rc, &s->add, (int) nk, (int) na, b->argv, b->argvlen);
    if (!reply_failed(s, r, REDIS_REPLY_ARRAY)) {
	rc = (int) b->n;
	if (r->elements == 2 && r->element[1]->type == REDIS_REPLY_INTEGER)
	    b->kept += r->element[1]->integer;
    }
    b->n = 0;
    if (r)
	freeReplyObject(r);
    return rc;
}

/* sup_add - store one entry; 1 written, 0 a permanent entry kept, -1 error */
int
sup_add(struct sup_store *s, const struct sup_entry *e, int force)
{
    struct sup_batch *b = sup_batch_new(s, force);
    int rc;

    sup_batch_add(b, e);
    rc = sup_batch_flush(b);
    if (rc > 0)
	rc = b->kept > 0 ? 0 : 1;
    sup_batch_free(b);
    return rc;
}

/* sup_remove - delete one entry; 1 if it existed */
int
sup_remove(struct sup_store *s, const char *target, const char *scope)
{
    char k[4][128], lim[8];
    const char *argv[7];
    redisReply *r;
    int rc = -1;

    key(s, k[0], sizeof(k[0]), "scopes");
    key(s, k[1], sizeof(k[1]), "meta");
    bucket_keys(s, target, k[2], k[3]);
    snprintf(lim, sizeof(lim), "%d", SUP_FIELD_MAX);
    argv[0] = k[0], argv[1] = k[1], argv[2] = k[2], argv[3] = k[3];
    argv[4] = target;
    argv[5] = scope ? scope : "";
    argv[6] = lim;
    r = rconn_eval(s->rc, &s->remove, 4, 7, argv, NULL);
    if (!reply_failed(s, r, REDIS_REPLY_INTEGER))
	rc = r->integer > 0;
    if (r)
	freeReplyObject(r);
    return rc;
}

/* walk_reply - hand each entry of one walk reply to fn */
static int
walk_reply(struct sup_store *s, redisReply *r,
	   int (*fn)(const struct sup_entry *, void *), void *arg)
{
    struct sup_entry e;
    size_t i;
    int stop;

    for (i = 1; i + 2 < r->elements; i += 3) {
	redisReply *t = r->element[i], *sc = r->element[i + 1], *v = r->element[i + 2];

	if (t->type != REDIS_REPLY_STRING || sc->type != REDIS_REPLY_STRING
	    || v->type != REDIS_REPLY_STRING)
	    continue;
	memset(&e, 0, sizeof(e));
	if (t->len >= sizeof(e.target) || sc->len >= sizeof(e.scope)
	    || sup_value_decode((unsigned char *) v->str, v->len, &e) < 0) {
	    msg_warn("suppress: skipping an entry that is not in our format (%.60s)", t->str);
	    continue;
	}
	memcpy(e.target, t->str, t->len);
	memcpy(e.scope, sc->str, sc->len);
	if ((stop = fn(&e, arg)) != 0)
	    return stop;
    }
    (void) s;
    return 0;
}

/* walk_range - the entries of buckets first to end - 1, a chunk per round trip */
static int
walk_range(struct sup_store *s, unsigned first, unsigned end, long long purge_before,
	   int (*fn)(const struct sup_entry *, void *), void *arg)
{
    char (*keys)[128] = xreallocarray(NULL, 2 + 2 * WALK_CHUNK, sizeof(*keys));
    const char **argv = xreallocarray(NULL, 3 + 2 * WALK_CHUNK, sizeof(*argv));
    char before[24];
    unsigned base, i;
    int nk, rc = 0;

    key(s, keys[0], sizeof(keys[0]), "scopeids");
    key(s, keys[1], sizeof(keys[1]), "meta");
    snprintf(before, sizeof(before), "%lld", purge_before);
    for (base = first; base < end && rc == 0; base += WALK_CHUNK) {
	redisReply *r;

	nk = 0;
	argv[nk] = keys[nk], nk++;
	argv[nk] = keys[nk], nk++;
	for (i = 0; i < WALK_CHUNK && base + i < end; i++) {
	    snprintf(keys[nk], sizeof(keys[nk]), "%s{sup}:b:%05x", s->prefix, base + i);
	    argv[nk] = keys[nk], nk++;
	    snprintf(keys[nk], sizeof(keys[nk]), "%s{sup}:l:%05x", s->prefix, base + i);
	    argv[nk] = keys[nk], nk++;
	}
	argv[nk] = before;
	r = rconn_eval(s->rc, &s->walk, nk, nk + 1, argv, NULL);
	if (reply_failed(s, r, REDIS_REPLY_ARRAY))
	    rc = -1;
	else
	    rc = walk_reply(s, r, fn, arg);
	if (r)
	    freeReplyObject(r);
    }
    free(keys);
    free(argv);
    return rc;
}

/* sup_walk - every entry */
int
sup_walk(struct sup_store *s, long long purge_before,
	 int (*fn)(const struct sup_entry *, void *), void *arg)
{
    return walk_range(s, 0, SUP_BUCKETS, purge_before, fn, arg);
}

/* sup_walk_buckets - the entries of count buckets from first on */
int
sup_walk_buckets(struct sup_store *s, unsigned first, unsigned count,
		 int (*fn)(const struct sup_entry *, void *), void *arg)
{
    unsigned end = first >= SUP_BUCKETS || count > SUP_BUCKETS - first ? SUP_BUCKETS
	: first + count;

    return walk_range(s, first, end, 0, fn, arg);
}

/* sup_count - the number of entries, -1 on error */
long long
sup_count(struct sup_store *s)
{
    char k[128];
    redisReply *r;
    long long n = -1;

    key(s, k, sizeof(k), "meta");
    r = rconn_commandv(s->rc, "HGET", k, "entries", NULL);
    if (r && r->type == REDIS_REPLY_NIL)
	n = 0;
    else if (!reply_failed(s, r, REDIS_REPLY_STRING))
	n = strtoll(r->str, NULL, 10);
    if (r)
	freeReplyObject(r);
    return n;
}

/* sup_stats - the decisions counted on one day (YYYYMMDD) */
int
sup_stats(struct sup_store *s, const char *day,
	  void (*fn)(const char *field, long long n, void *), void *arg)
{
    char k[128], name[32];
    redisReply *r;
    size_t i;

    snprintf(name, sizeof(name), "stats:%.8s", day);
    key(s, k, sizeof(k), name);
    r = rconn_commandv(s->rc, "HGETALL", k, NULL);
    if (reply_failed(s, r, REDIS_REPLY_ARRAY)) {
	if (r)
	    freeReplyObject(r);
	return -1;
    }
    for (i = 0; i + 1 < r->elements; i += 2)
	if (r->element[i]->type == REDIS_REPLY_STRING
	    && r->element[i + 1]->type == REDIS_REPLY_STRING)
	    fn(r->element[i]->str, strtoll(r->element[i + 1]->str, NULL, 10), arg);
    freeReplyObject(r);
    return 0;
}
