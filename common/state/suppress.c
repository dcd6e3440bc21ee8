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
#include "monotime.h"
#include "msg.h"
#include "rcluster.h"
#include "redisconn.h"
#include "suppress.h"
#include "xalloc.h"

static const char *const reason_names[] = {
    "none", "hard-bounce", "soft-bounce", "complaint", "unsubscribe", "manual",
};

#define VALUE_VERSION 0x10		/* high nibble of byte 0 */
#define BATCH_MAX 500			/* entries per round trip */
#define WALK_CHUNK 1024		/* buckets per round trip */
#define SPREAD_BATCH_MAX 16384		/* entries per flush on a cluster ... */
#define COPIED_MAX (1 << 20)		/* (tag, scope id) copies remembered by a batch */
#define SPREAD_PAIRS_MAX 65536		/* ... and (entry, tag) pairs (bounds its memory) */
#define SCOPE_CACHE 1024		/* sender domain -> scope id, remembered */
#define TALLY_SLOTS 1024		/* decision counters kept in the process */
#define TALLY_FLUSH_MS 1000
#define WALK_TAGS 16			/* tags read at once on a cluster */
#define WALK_GROUP 32			/* buckets probed by one EXISTS */

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

/* hash64 - FNV-1a 64 with a murmur3 finaliser */
static uint64_t
hash64(const char *str)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    const unsigned char *p;

    for (p = (const unsigned char *) str; *p; p++) {
	h ^= *p;
	h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* sup_bucket - which of SUP_BUCKETS hashes holds a target */
unsigned
sup_bucket(const char *target)
{
    return (unsigned) (hash64(target) & (SUP_BUCKETS - 1));
}

/*
 * sup_spread_place - the tag and sub-bucket of a target in the spread
 * layout: the tag's high part is a hash of "@domain", its low byte one
 * of the address (a domain entry: 0, its first tag); the sub-bucket comes
 * from bits of the target's hash the tag does not use
 */
void
sup_spread_place(const char *target, unsigned *tag, unsigned *sub)
{
    const char *at = strrchr(target, '@');
    uint64_t hd = hash64(at ? at : target), ha;
    unsigned d = (unsigned) ((hd >> 32) % SUP_TAG_DOMAINS);

    if (target[0] == '@') {
	*tag = d * SUP_TAG_SPREAD;
	*sub = (unsigned) (hd & (SUP_TAG_BUCKETS - 1));
	return;
    }
    ha = hash64(target);
    *tag = d * SUP_TAG_SPREAD + (unsigned) (ha % SUP_TAG_SPREAD);
    *sub = (unsigned) ((ha / SUP_TAG_SPREAD) % SUP_TAG_BUCKETS);
}

/* sup_spread_bucket - the global number of that bucket: tag, then sub */
unsigned
sup_spread_bucket(const char *target)
{
    unsigned tag, sub;

    sup_spread_place(target, &tag, &sub);
    return tag * SUP_TAG_BUCKETS + sub;
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

/* month_days - the days of a month (1-12) of a Gregorian year */
static int
month_days(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

    return days[month - 1] + (month == 2 && leap);
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
    /* a day the month has not is an error: timegm() would move "02-30" into March */
    if ((tm.tm_year = digits(s, 4)) < 1970 || (tm.tm_mon = digits(s + 5, 2)) < 1
	|| tm.tm_mon > 12 || (tm.tm_mday = digits(s + 8, 2)) < 1
	|| tm.tm_mday > month_days(tm.tm_year, tm.tm_mon))
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

/*
 * formula_guarded - does a field need (or, read, carry) the quote mark that
 * keeps a spreadsheet from running it: one that starts with = + or -, or
 * with a quote mark before one of those or another quote mark.  '@' starts
 * only domain entries, whose letters, digits, '-' and '.' make no formula.
 */
static int
formula_guarded(const char *s, size_t len)
{
    if (len > 0 && (s[0] == '=' || s[0] == '+' || s[0] == '-'))
	return 1;
    return len > 1 && s[0] == '\'' && (s[1] == '=' || s[1] == '+' || s[1] == '-'
				       || s[1] == '\'');
}

/* trim - strip blanks at both ends of a field, and the formula guard */
static void
trim(struct csv_field *f, const char **s, size_t *len)
{
    const char *p = f->buf;
    size_t n = f->len;

    while (n > 0 && (*p == ' ' || *p == '\t'))
	p++, n--;
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
	n--;
    if (n > 0 && *p == '\'' && formula_guarded(p, n))
	p++, n--;
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
    /*
     * a byte order mark (a spreadsheet's "CSV UTF-8") opens a file without
     * a header too: kept, it would become part of the first address, and
     * that address would never be suppressed
     */
    if (len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0)
	line += 3, len -= 3;
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
    /* after blanks too: kept there, an export would write it first in the row */
    while (sl > 0) {
	size_t skip = isspace((unsigned char) *s) ? 1
	    : sl >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;

	if (skip == 0)
	    break;
	s += skip, sl -= skip;
    }
    if (sup_target_normalize(s, sl, e->target, sizeof(e->target), why) < 0)
	goto out;
    /* one left by dropping needless quotes could not be read back from a row */
    if (strncmp(e->target, "\xef\xbb\xbf", 3) == 0) {
	*why = "address starts with a byte order mark";
	goto out;
    }
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
    /* 0 is "no time" wherever an entry is shown: its created would be lost */
    if (sl > 0 && e->created == 0) {
	*why = "time must be a real time (leave it empty for now)";
	goto out;
    }
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
    if (formula_guarded(s, strlen(s)))
	PUTC('\'');
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
 * scopes, stats (not given, and not used, when action is "").  ARGV:
 * address, @domain, sender domain, now, field limit, action ("" = do not
 * count), stats ttl, sender label.  Every scope of the sender domain and
 * of its parents applies, the nearest first.
 */
static const char check_lua[] = LUA_EXPIRES
    "local now, limit = tonumber(ARGV[4]), tonumber(ARGV[5])\n"
    "local sids, names, d = {}, {}, ARGV[3]\n"
    "while d ~= '' do\n"
    "  local id = redis.call('HGET', KEYS[5], d)\n"
    "  if id then sids[#sids + 1], names[#names + 1] = id, d end\n"
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
    "local function scoped(b, l, t)\n"
    "  for i = 1, #sids do\n"
    "    local v = get(b, l, sids[i] .. ':' .. t)\n"
    "    if v then return v, names[i] end\n"
    "  end\n"
    "  return false, ''\n"
    "end\n"
    "local hit, kind, sc = get(KEYS[1], KEYS[2], ARGV[1]), 1, ''\n"
    "if not hit then hit, sc = scoped(KEYS[1], KEYS[2], ARGV[1]); kind = 2 end\n"
    "if not hit then hit, kind = get(KEYS[3], KEYS[4], ARGV[2]), 3 end\n"
    "if not hit then hit, sc = scoped(KEYS[3], KEYS[4], ARGV[2]); kind = 4 end\n"
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
    "if hit then return {kind, hit, sc} end\n"
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

/*
 * The spread layout (a cluster): one script call per tag, so that all its
 * keys share a slot; scope ids come from {sup} first (scope_lua).
 *
 * KEYS: scopes, scopeids, meta.  ARGV: sender domains.  Returns their
 * ids, new ones allocated.
 */
static const char scope_lua[] =
    "local out = {}\n"
    "for i = 1, #ARGV do\n"
    "  local id = redis.call('HGET', KEYS[1], ARGV[i])\n"
    "  if not id then\n"
    "    id = tostring(redis.call('HINCRBY', KEYS[3], 'nextscope', 1))\n"
    "    redis.call('HSET', KEYS[1], ARGV[i], id)\n"
    "    redis.call('HSET', KEYS[2], id, ARGV[i])\n"
    "  end\n"
    "  out[i] = id\n"
    "end\n"
    "return out\n";

/*
 * KEYS: the tag's scopes, its long bucket, then a bucket per entry.  ARGV:
 * field limit, force, then target, scope, scope id, value, counted ("1":
 * an address, or a domain entry's first tag) per entry.  Returns {counted
 * new entries, counted entries kept because they were permanent}.
 */
static const char add_tag_lua[] = LUA_EXPIRES
    "local limit, force = tonumber(ARGV[1]), ARGV[2] == '1'\n"
    "local seen, added, kept = {}, 0, 0\n"
    "for i = 0, (#ARGV - 2) / 5 - 1 do\n"
    "  local t, sc, id, v = ARGV[3 + 5 * i], ARGV[4 + 5 * i], ARGV[5 + 5 * i], ARGV[6 + 5 * i]\n"
    "  local counted = ARGV[7 + 5 * i] == '1'\n"
    "  local f = t\n"
    "  if sc ~= '' then\n"
    "    if not seen[sc] then redis.call('HSET', KEYS[1], sc, id); seen[sc] = true end\n"
    "    f = id .. ':' .. t\n"
    "  end\n"
    "  local k = KEYS[3 + i]\n"
    "  if #f > limit then k = KEYS[2] end\n"
    "  local keep = false\n"
    "  if not force and expires(v) ~= 0 then\n"
    "    local old = redis.call('HGET', k, f)\n"
    "    keep = old and expires(old) == 0\n"
    "  end\n"
    "  local n = 0\n"
    "  if not keep then n = redis.call('HSET', k, f, v) end\n"
    "  if counted and keep then kept = kept + 1 end\n"
    "  if counted then added = added + n end\n"
    "end\n"
    "return {added, kept}\n";

/*
 * KEYS: the tag's scopes, then buckets (its long bucket among them).
 * ARGV: purge_before (0: no purge), first ("1": the tag is the first of
 * its domain entries').  Returns {purged, target, scope, value ...}: the
 * copies of domain entries in the other 255 tags are purged, not listed
 * nor counted.
 */
static const char walk_tag_lua[] = LUA_EXPIRES
    "local before, first = tonumber(ARGV[1]), ARGV[2] == '1'\n"
    "local out, names, purged = {0}, nil, 0\n"
    "for i = 2, #KEYS do\n"
    "  local all = redis.call('HGETALL', KEYS[i])\n"
    "  for j = 1, #all, 2 do\n"
    "    local f, v = all[j], all[j + 1]\n"
    "    local id, t = string.match(f, '^(%d+):(.+)$')\n"
    "    if not id then t = f end\n"
    "    local mine = first or string.byte(t, 1) ~= 64\n"
    "    local e = expires(v)\n"
    "    if before > 0 and e ~= 0 and e < before then\n"
    "      redis.call('HDEL', KEYS[i], f)\n"
    "      if mine then purged = purged + 1 end\n"
    "    elseif mine then\n"
    "      local sc = ''\n"
    "      if id then\n"
    "        if not names then\n"
    "          names = {}\n"
    "          local m = redis.call('HGETALL', KEYS[1])\n"
    "          for k = 1, #m, 2 do names[m[k + 1]] = m[k] end\n"
    "        end\n"
    "        sc = names[id] or ('?' .. id)\n"
    "      end\n"
    "      out[#out + 1] = t\n"
    "      out[#out + 1] = sc\n"
    "      out[#out + 1] = v\n"
    "    end\n"
    "  end\n"
    "end\n"
    "out[1] = purged\n"
    "return out\n";

/* ---------------------------------------------------------------- store */

struct scope_slot {
    char name[DOMAIN_MAX];		/* "" = free */
    char id[24];			/* "" = being resolved: pending */
    size_t pending;			/* index among the names asked */
};

struct tally_slot {
    char field[DOMAIN_MAX + 40];	/* "SENDER REASON ACTION"; "" = free */
    long long n;
};

struct sup_store {
    struct rconn *rc;
    char *prefix;
    int spread;			/* a cluster: keys spread over its slots */
    struct rscript check, add, remove, walk;
    struct rscript scope, add_tag, walk_tag;	/* the spread layout's */
    struct scope_slot *scopes;	/* spread: sender domain -> scope id */
    struct tally_slot *tally;	/* spread: decisions not yet written */
    int *tagslot;		/* spread: each tag's cluster slot */
    size_t ntally;
    char tally_day[16];		/* "stats:YYYYMMDD" of the tally */
    long long tally_ms;		/* when it was last written */
    char err[256];
};

struct batch_item {
    char target[ADDR_MAX];
    char scope[DOMAIN_MAX];
    unsigned char value[SUP_VALUE_MAX];
    size_t vlen;
    char sid[24];		/* spread layout: the scope id ("" global) */
};

struct pair {
    unsigned tag, sub;
    size_t item;
    int counted;		/* an address, or a domain entry's first tag */
};

#define KEYLEN 96			/* prefix (64) and "{sup:TTT}:b:SSS" */

enum { C_COPY, C_SET, C_SCRIPT };	/* the commands of a flight */

/* a flush of the spread layout the masters work on (flight_start()) */
struct flight {
    struct batch_item *items;	/* the batch's entries, owned until finished */
    size_t n, cap;
    struct pair *p;
    char (*keys)[KEYLEN];
    char *fields;		/* "id:target" of the scoped entries set directly */
    char (*nks)[16];
    char lim[8];		/* SUP_FIELD_MAX, an argument of the scripts */
    const char **argv;
    size_t *argvlen;
    struct rconn_cmd *cmd;
    unsigned char *kind;	/* per command: C_* */
    unsigned char *counted;	/* per command: a C_SET whose new field counts */
    size_t ncmd;
    struct rconn_flight *f;
};

struct sup_batch {
    struct sup_store *store;
    int force;
    size_t n, max, cap;
    size_t pairs;		/* spread: (entry, tag) pairs queued */
    long long kept;		/* entries kept rather than replaced */
    struct batch_item *items;
    struct flight *flying;	/* spread: the flush the masters work on */
    struct batch_item *spare;	/* spread: items of the flush before, for reuse */
    size_t sparecap;
    uint64_t *copied;		/* spread: (tag, scope id) copies written */
    size_t ncopied, capcopied;
    char (*bkey)[2][128];	/* {sup} layout: each item's bucket, long bucket */
    const char **argv;
    size_t *argvlen;
};

static int tally_flush(struct sup_store *s);

static void tag_key(const struct sup_store *s, char *buf, size_t size, unsigned tag,
		    const char *name);

/* sup_store_new - a store over a connection the caller keeps owning */
struct sup_store *
sup_store_new(struct rconn *rc, const char *prefix)
{
    struct sup_store *s = xcalloc(1, sizeof(*s));
    unsigned t;

    if (strlen(prefix) > 64)
	msg_fatal("suppress: [redis] prefix longer than 64 characters");
    s->rc = rc;
    s->prefix = xstrdup(prefix);
    s->spread = rconn_is_cluster(rc);
    rscript_init(&s->check, check_lua);
    rscript_init(&s->add, add_lua);
    rscript_init(&s->remove, remove_lua);
    rscript_init(&s->walk, walk_lua);
    rscript_init(&s->scope, scope_lua);
    rscript_init(&s->add_tag, add_tag_lua);
    rscript_init(&s->walk_tag, walk_tag_lua);
    /*
     * Sent again on a connection cut while they ran: adding, removing and
     * purging do nothing the second time, and a check gives the same
     * verdict (its statistics may count that one check twice).  A scope
     * once allocated is found the second time.
     */
    s->check.repeatable = s->add.repeatable = 1;
    s->remove.repeatable = s->walk.repeatable = 1;
    s->scope.repeatable = s->add_tag.repeatable = s->walk_tag.repeatable = 1;
    if (s->spread) {
	s->scopes = xcalloc(SCOPE_CACHE, sizeof(*s->scopes));
	s->tally = xcalloc(TALLY_SLOTS, sizeof(*s->tally));
	s->tally_ms = monotime_ms();
	s->tagslot = xreallocarray(NULL, SUP_TAGS, sizeof(int));
	for (t = 0; t < SUP_TAGS; t++) {
	    char k[KEYLEN];

	    tag_key(s, k, sizeof(k), t, "l");
	    s->tagslot[t] = (int) rcluster_keyslot(k, strlen(k));
	}
    }
    return s;
}

/* sup_store_free - write the decisions counted, release (not the connection) */
void
sup_store_free(struct sup_store *s)
{
    if (s == NULL)
	return;
    if (s->tally && s->ntally > 0 && tally_flush(s) < 0)
	msg_warn("suppress: decision counts not written: %s", s->err);
    free(s->scopes);
    free(s->tally);
    free(s->tagslot);
    free(s->prefix);
    free(s);
}

/* sup_error - why the last call failed */
const char *
sup_error(const struct sup_store *s)
{
    return s->err;
}

/* sup_store_buckets - the number of buckets: the range of sup_walk_buckets() */
unsigned
sup_store_buckets(const struct sup_store *s)
{
    return s->spread ? SUP_SPREAD_BUCKETS : SUP_BUCKETS;
}

/* sup_store_bucket - the bucket of a target, as sup_walk_buckets() counts */
unsigned
sup_store_bucket(const struct sup_store *s, const char *target)
{
    return s->spread ? sup_spread_bucket(target) : sup_bucket(target);
}

/* key - "PREFIX{sup}:NAME" */
static void
key(const struct sup_store *s, char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s{sup}:%s", s->prefix, name);
}

/* put_key - "PREFIX{sup:TTT}:" then rest, then the sub-bucket in hex when sub >= 0 */
static size_t
put_key(char *buf, const char *prefix, size_t plen, unsigned tag, const char *rest, int sub)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = plen, rlen = strlen(rest);

    memcpy(buf, prefix, plen);
    memcpy(buf + n, "{sup:", 5);
    n += 5;
    buf[n++] = hex[(tag >> 8) & 15], buf[n++] = hex[(tag >> 4) & 15], buf[n++] = hex[tag & 15];
    buf[n++] = '}', buf[n++] = ':';
    memcpy(buf + n, rest, rlen);
    n += rlen;
    if (sub >= 0)
	buf[n++] = hex[(sub >> 8) & 15], buf[n++] = hex[(sub >> 4) & 15], buf[n++] = hex[sub & 15];
    buf[n] = '\0';
    return n;
}

/* tag_key - "PREFIX{sup:TTT}:NAME", a key of one tag of the spread layout */
static void
tag_key(const struct sup_store *s, char *buf, size_t size, unsigned tag, const char *name)
{
    if (size < strlen(s->prefix) + strlen(name) + 11)
	msg_fatal("suppress: key buffer of %zu bytes too small", size);
    (void) put_key(buf, s->prefix, strlen(s->prefix), tag, name, -1);
}

/* sub_key - "PREFIX{sup:TTT}:b:SSS", a bucket of the spread layout */
static void
sub_key(const struct sup_store *s, char *buf, size_t size, unsigned tag, unsigned sub)
{
    if (size < strlen(s->prefix) + 16)
	msg_fatal("suppress: key buffer of %zu bytes too small", size);
    (void) put_key(buf, s->prefix, strlen(s->prefix), tag, "b:", (int) sub);
}

/* bucket_keys - the bucket and long-bucket keys of a target ({sup} layout) */
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

/* slot_of - the cache slot of a name in a table of size slots */
static size_t
slot_of(const char *name, size_t size)
{
    return (size_t) (hash64(name) % size);
}

/*
 * tally_flush - write the decisions counted in the process: one HINCRBY
 * per field and the EXPIRE, pipelined to {sup}; the tally is emptied
 * either way (counts are lost if Redis fails: statistics, not state)
 */
static int
tally_flush(struct sup_store *s)
{
    struct rconn_cmd *cmd = xreallocarray(NULL, s->ntally + 1, sizeof(*cmd));
    redisReply **reply = xreallocarray(NULL, s->ntally + 1, sizeof(redisReply *));
    char (*nums)[24] = xreallocarray(NULL, s->ntally + 1, sizeof(*nums));
    const char *(*av)[4] = xreallocarray(NULL, s->ntally + 1, sizeof(*av));
    char k[128], ttl[16];
    size_t i, n = 0;
    int rc = 0;

    key(s, k, sizeof(k), s->tally_day);
    snprintf(ttl, sizeof(ttl), "%d", SUP_STATS_TTL);
    for (i = 0; i < TALLY_SLOTS && n < s->ntally; i++) {
	if (s->tally[i].field[0] == '\0')
	    continue;
	snprintf(nums[n], sizeof(nums[n]), "%lld", s->tally[i].n);
	av[n][0] = "HINCRBY", av[n][1] = k, av[n][2] = s->tally[i].field, av[n][3] = nums[n];
	cmd[n] = (struct rconn_cmd) {4, av[n], NULL, 0};
	n++;
    }
    av[n][0] = "EXPIRE", av[n][1] = k, av[n][2] = ttl;
    cmd[n] = (struct rconn_cmd) {3, av[n], NULL, 0};
    n++;
    (void) rconn_pipeline(s->rc, n, cmd, reply);
    for (i = 0; i < n; i++) {
	if (rc == 0 && reply_failed(s, reply[i], REDIS_REPLY_INTEGER))
	    rc = -1;
	if (reply[i])
	    freeReplyObject(reply[i]);
    }
    memset(s->tally, 0, TALLY_SLOTS * sizeof(*s->tally));
    s->ntally = 0;
    s->tally_ms = monotime_ms();
    free(cmd);
    free(reply);
    free(nums);
    free(av);
    return rc;
}

/*
 * tally - count one decision in the process (a cluster: the day's hash is
 * in {sup}, not in the recipient's slot); written at most once a second
 */
static void
tally(struct sup_store *s, const char *day, const char *sender, const char *reason,
      const char *action)
{
    char f[sizeof(s->tally[0].field)];
    size_t i;

    if (strcmp(day, s->tally_day) != 0) {
	if (s->ntally > 0 && tally_flush(s) < 0)
	    msg_warn("suppress: decision counts not written: %s", s->err);
	snprintf(s->tally_day, sizeof(s->tally_day), "%s", day);
    }
    snprintf(f, sizeof(f), "%s %s %s", sender, reason, action);
    for (i = slot_of(f, TALLY_SLOTS); s->tally[i].field[0] != '\0';
	 i = (i + 1) % TALLY_SLOTS)
	if (strcmp(s->tally[i].field, f) == 0)
	    break;
    if (s->tally[i].field[0] == '\0') {
	memcpy(s->tally[i].field, f, sizeof(f));
	s->ntally++;
    }
    s->tally[i].n++;
    /* a table three quarters full probes long: write it out */
    if (s->ntally >= TALLY_SLOTS * 3 / 4 || monotime_ms() - s->tally_ms >= TALLY_FLUSH_MS)
	if (tally_flush(s) < 0)
	    msg_warn("suppress: decision counts not written: %s", s->err);
}

/* check_keys - the keys of a check: {sup}, or the recipient's tag */
static int
check_keys(struct sup_store *s, const char *rcpt, const char *dom, const char *day,
	   char k[6][128])
{
    unsigned tag, sub, dtag, dsub;

    if (!s->spread) {
	bucket_keys(s, rcpt, k[0], k[1]);
	bucket_keys(s, dom, k[2], k[3]);
	key(s, k[4], sizeof(k[4]), "scopes");
	key(s, k[5], sizeof(k[5]), day);
	return 6;
    }
    sup_spread_place(rcpt, &tag, &sub);
    sup_spread_place(dom, &dtag, &dsub);	/* the copy in the recipient's tag */
    sub_key(s, k[0], sizeof(k[0]), tag, sub);
    tag_key(s, k[1], sizeof(k[1]), tag, "l");
    sub_key(s, k[2], sizeof(k[2]), tag, dsub);
    tag_key(s, k[3], sizeof(k[3]), tag, "l");
    tag_key(s, k[4], sizeof(k[4]), tag, "scopes");
    return 5;
}

/* sup_check - is rcpt suppressed for mail from sender_domain? */
int
sup_check(struct sup_store *s, const char *rcpt, const char *sender_domain,
	  long long now, const char *action, struct sup_entry *hit)
{
    char k[6][128], dom[DOMAIN_MAX + 1], nows[24], lim[8], ttl[16], day[16];
    const char *argv[14], *sender = sender_domain && *sender_domain ? sender_domain : "<>";
    redisReply *r;
    time_t tt = (time_t) now;
    struct tm tm;
    int kind, nk, i, rc = -1;

    snprintf(dom, sizeof(dom), "@%s", addr_domain(rcpt));
    gmtime_r(&tt, &tm);
    strftime(day, sizeof(day), "stats:%Y%m%d", &tm);
    nk = check_keys(s, rcpt, dom, day, k);
    snprintf(nows, sizeof(nows), "%lld", now);
    snprintf(lim, sizeof(lim), "%d", SUP_FIELD_MAX);
    snprintf(ttl, sizeof(ttl), "%d", SUP_STATS_TTL);
    for (i = 0; i < nk; i++)
	argv[i] = k[i];
    argv[nk + 0] = rcpt;
    argv[nk + 1] = dom;
    argv[nk + 2] = sender_domain ? sender_domain : "";
    argv[nk + 3] = nows;
    argv[nk + 4] = lim;
    argv[nk + 5] = action && !s->spread ? action : "";
    argv[nk + 6] = ttl;
    argv[nk + 7] = sender;
    r = rconn_eval(s->rc, &s->check, nk, nk + 8, argv, NULL);
    if (reply_failed(s, r, REDIS_REPLY_ARRAY))
	goto out;
    if (r->elements < 1 || r->element[0]->type != REDIS_REPLY_INTEGER) {
	snprintf(s->err, sizeof(s->err), "redis: unexpected reply to the check script");
	goto out;
    }
    kind = (int) r->element[0]->integer;
    if (kind == 0) {
	if (action && s->spread)
	    tally(s, day, sender, "none", "pass");
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
    if (action && s->spread)
	tally(s, day, sender, sup_reason_name(hit->reason), action);
    rc = 1;
out:
    if (r)
	freeReplyObject(r);
    return rc;
}

/* copy_str - src into dst of size bytes, cut to fit, NUL-terminated */
static void
copy_str(char *dst, size_t size, const char *src)
{
    size_t n = strnlen(src, size - 1);

    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* sup_batch_new - start collecting entries to add */
struct sup_batch *
sup_batch_new(struct sup_store *s, int force)
{
    struct sup_batch *b = xcalloc(1, sizeof(*b));

    b->store = s;
    b->force = force;
    b->max = s->spread ? SPREAD_BATCH_MAX : BATCH_MAX;
    b->cap = 64;
    b->items = xreallocarray(NULL, b->cap, sizeof(*b->items));
    if (!s->spread) {
	b->bkey = xreallocarray(NULL, BATCH_MAX, sizeof(*b->bkey));
	b->argv = xreallocarray(NULL, 3 + 2 * BATCH_MAX + 2 + 3 * BATCH_MAX, sizeof(*b->argv));
	b->argvlen = xreallocarray(NULL, 3 + 2 * BATCH_MAX + 2 + 3 * BATCH_MAX,
				   sizeof(*b->argvlen));
    }
    return b;
}

/* sup_batch_max - the entries a failure may leave unwritten (two flushes on a cluster) */
size_t
sup_batch_max(const struct sup_batch *b)
{
    return b->store->spread ? 2 * b->max : b->max;
}

static int flight_finish(struct sup_batch *b);
static int flush_spread(struct sup_batch *b, int wait);

/* sup_batch_free - release (unflushed entries are dropped) */
void
sup_batch_free(struct sup_batch *b)
{
    if (b == NULL)
	return;
    if (b->flying)
	(void) flight_finish(b);
    free(b->items);
    free(b->spare);
    free(b->copied);
    free(b->bkey);
    free(b->argv);
    free(b->argvlen);
    free(b);
}

/* sup_batch_add - queue one entry; flushes when the batch is full */
int
sup_batch_add(struct sup_batch *b, const struct sup_entry *e)
{
    struct batch_item *it;

    if (b->n == b->cap) {
	b->cap = b->cap * 2 > b->max ? b->max : b->cap * 2;
	b->items = xreallocarray(b->items, b->cap, sizeof(*b->items));
    }
    it = &b->items[b->n++];
    copy_str(it->target, sizeof(it->target), e->target);
    copy_str(it->scope, sizeof(it->scope), e->scope);
    it->vlen = sup_value_encode(e, it->value);
    if (!b->store->spread)
	bucket_keys(b->store, e->target, b->bkey[b->n - 1][0], b->bkey[b->n - 1][1]);
    b->pairs += e->target[0] == '@' ? SUP_TAG_SPREAD : 1;
    if (b->n == b->max || b->pairs >= SPREAD_PAIRS_MAX)
	return b->store->spread ? flush_spread(b, 0) : sup_batch_flush(b);
    return 0;
}

/* flush_one_tag - the batch in {sup}, one script call ({sup} layout) */
static int
flush_one_tag(struct sup_batch *b)
{
    struct sup_store *s = b->store;
    char k[3][128], lim[8];
    redisReply *r;
    size_t i, nk, na;
    int rc = -1;

    key(s, k[0], sizeof(k[0]), "scopes");
    key(s, k[1], sizeof(k[1]), "scopeids");
    key(s, k[2], sizeof(k[2]), "meta");
    snprintf(lim, sizeof(lim), "%d", SUP_FIELD_MAX);
    for (nk = 0; nk < 3; nk++) {
	b->argv[nk] = k[nk];
	b->argvlen[nk] = strlen(k[nk]);
    }
    for (i = 0; i < b->n; i++) {
	b->argv[nk] = b->bkey[i][0];
	b->argvlen[nk] = strlen(b->bkey[i][0]);
	nk++;
	b->argv[nk] = b->bkey[i][1];
	b->argvlen[nk] = strlen(b->bkey[i][1]);
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
    if (r)
	freeReplyObject(r);
    return rc;
}

/*
 * resolve_scopes - the scope id of each scoped entry of a batch: from the
 * store's cache, else from one call to {sup} for all the others (which
 * allocates new ones); 0, or -1
 */
static int
resolve_scopes(struct sup_store *s, struct sup_batch *b)
{
    const char **argv = xreallocarray(NULL, b->n + 3, sizeof(*argv));
    long *pend = xreallocarray(NULL, b->n, sizeof(*pend));
    char k[3][128];
    struct scope_slot *c;
    redisReply *r = NULL;
    size_t i, nn = 0;
    int rc = 0;

    for (i = 0; i < b->n; i++) {
	struct batch_item *it = &b->items[i];

	pend[i] = -1;
	it->sid[0] = '\0';
	if (it->scope[0] == '\0')
	    continue;
	c = &s->scopes[slot_of(it->scope, SCOPE_CACHE)];
	if (strcmp(c->name, it->scope) == 0 && c->id[0] != '\0') {
	    memcpy(it->sid, c->id, sizeof(it->sid));
	    continue;
	}
	if (strcmp(c->name, it->scope) != 0) {	/* a new name, or another one's slot */
	    memcpy(c->name, it->scope, sizeof(c->name));
	    c->id[0] = '\0';
	    c->pending = nn;
	    argv[3 + nn++] = c->name;
	}
	pend[i] = (long) c->pending;
    }
    if (nn > 0) {
	/* the names asked may be evicted from the cache: ask with copies */
	for (i = 0; i < b->n; i++)
	    if (pend[i] >= 0 && argv[3 + pend[i]] != b->items[i].scope)
		argv[3 + pend[i]] = b->items[i].scope;
	key(s, k[0], sizeof(k[0]), "scopes");
	key(s, k[1], sizeof(k[1]), "scopeids");
	key(s, k[2], sizeof(k[2]), "meta");
	argv[0] = k[0], argv[1] = k[1], argv[2] = k[2];
	r = rconn_eval(s->rc, &s->scope, 3, (int) (3 + nn), argv, NULL);
	if (reply_failed(s, r, REDIS_REPLY_ARRAY) || r->elements != nn) {
	    if (r && r->type == REDIS_REPLY_ARRAY)
		snprintf(s->err, sizeof(s->err), "redis: unexpected reply to the scope script");
	    rc = -1;
	}
	for (i = 0; rc == 0 && i < b->n; i++) {
	    redisReply *id;

	    if (pend[i] < 0)
		continue;
	    id = r->element[pend[i]];
	    if (id->type != REDIS_REPLY_STRING || id->len >= sizeof(b->items[i].sid)) {
		snprintf(s->err, sizeof(s->err), "redis: unexpected scope id");
		rc = -1;
		break;
	    }
	    memcpy(b->items[i].sid, id->str, id->len + 1);
	    c = &s->scopes[slot_of(b->items[i].scope, SCOPE_CACHE)];
	    if (strcmp(c->name, b->items[i].scope) == 0)
		memcpy(c->id, b->items[i].sid, sizeof(c->id));
	}
	for (i = 0; i < SCOPE_CACHE; i++)	/* forget what stayed pending */
	    if (s->scopes[i].id[0] == '\0')
		s->scopes[i].name[0] = '\0';
    }
    if (r)
	freeReplyObject(r);
    free(argv);
    free(pend);
    return rc;
}

/* pair_cmp - by tag, then in the order of the batch */
static int
pair_cmp(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;

    if (x->tag != y->tag)
	return x->tag < y->tag ? -1 : 1;
    return x->item < y->item ? -1 : x->item > y->item;
}

/* batch_pairs - each entry's (tag, sub), SUP_TAG_SPREAD for a domain entry, in order */
static struct pair *
batch_pairs(struct sup_batch *b, size_t *np)
{
    struct pair *p = xreallocarray(NULL, b->pairs, sizeof(*p));
    unsigned tag, sub, j;
    size_t i, n = 0;

    for (i = 0; i < b->n; i++) {
	sup_spread_place(b->items[i].target, &tag, &sub);
	if (b->items[i].target[0] != '@') {
	    p[n++] = (struct pair) {tag, sub, i, 1};
	    continue;
	}
	for (j = 0; j < SUP_TAG_SPREAD; j++)
	    p[n++] = (struct pair) {tag + j, sub, i, j == 0};
    }
    *np = n;
    return p;
}

/*
 * script_again - a script reply of the spread layout, with the script sent
 * again alone (rconn_eval()) when the node did not know it (NOSCRIPT): it
 * did not run.  A TRYAGAIN (its slot is moving) was already waited out by
 * the cluster client, for up to [redis] command_timeout.
 */
static redisReply *
script_again(struct sup_store *s, struct rscript *sc, const struct rconn_cmd *c,
	     redisReply *r)
{
    if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
	freeReplyObject(r);
	r = rconn_eval(s->rc, sc, atoi(c->argv[2]), c->argc - 3, c->argv + 3,
		       c->argvlen ? c->argvlen + 3 : NULL);
    }
    return r;
}

/* copied_slot - where k is in the open-addressed set v, or the empty slot it goes to */
static size_t
copied_slot(const uint64_t *v, size_t mask, uint64_t k)
{
    uint64_t h;

    for (h = k * 0x9e3779b97f4a7c15ULL >> 20; v[h & mask] && v[h & mask] != k; h++)
	continue;
    return h & mask;
}

/*
 * copied - whether the copy of scope id sid in tag was written during
 * this batch's life; remembers it (the set is bounded: emptied when full)
 */
static int
copied(struct sup_batch *b, unsigned tag, const char *sid)
{
    uint64_t k = ((uint64_t) strtoull(sid, NULL, 10) << 12 | tag) + 1;
    size_t i, slot;

    if (b->ncopied * 2 >= b->capcopied) {
	size_t cap = b->capcopied ? b->capcopied * 2 : 4096;
	uint64_t *old = b->copied, *v;

	if (cap > COPIED_MAX) {		/* full: start again */
	    memset(b->copied, 0, b->capcopied * sizeof(*b->copied));
	    b->ncopied = 0;
	} else {
	    v = xcalloc(cap, sizeof(*v));
	    for (i = 0; i < b->capcopied; i++)
		if (old[i] != 0)
		    v[copied_slot(v, cap - 1, old[i])] = old[i];
	    free(old);
	    b->copied = v;
	    b->capcopied = cap;
	}
    }
    slot = copied_slot(b->copied, b->capcopied - 1, k);
    if (b->copied[slot] == k)
	return 1;
    b->copied[slot] = k;
    b->ncopied++;
    return 0;
}

/* flight_free - release a flight's arrays (not its items) */
static void
flight_free(struct flight *fl)
{
    free(fl->p);
    free(fl->keys);
    free(fl->fields);
    free(fl->nks);
    free(fl->argv);
    free(fl->argvlen);
    free(fl->cmd);
    free(fl->kind);
    free(fl->counted);
    free(fl);
}

/*
 * flight_start - the batch's commands for the masters, written to all of
 * them at once (rconn_pipeline_start()).  An entry that replaces whatever
 * is there (a permanent one, or force) is one HSET, in the batch's order,
 * after an HSET of its scope id into the tag's copy the first time the
 * batch writes that pair.  The expiring entries, which must not replace a
 * permanent one, follow: per tag, one call of the add script.  (An
 * expiring entry after a permanent one for the same target in one batch
 * ends the same either way: the permanent one stays.)  The batch's items
 * go with the flight; the batch is empty afterwards.
 */
static int
flight_start(struct sup_batch *b)
{
    struct sup_store *s = b->store;
    size_t plen = strlen(s->prefix), np, nx = 0, nf, i, j, a, c, z;
    struct flight *fl;
    struct pair *p;

    if (resolve_scopes(s, b) < 0)
	return -1;
    fl = xcalloc(1, sizeof(*fl));
    fl->p = p = batch_pairs(b, &np);
    for (nf = 0, i = 0; i < np; i++)
	if (b->items[p[i].item].sid[0])
	    nf += strlen(b->items[p[i].item].sid) + 1 + strlen(b->items[p[i].item].target) + 1;
    fl->keys = xreallocarray(NULL, 5 * np, sizeof(*fl->keys));	/* 2 per HSET, 3 per script's */
    fl->fields = xreallocarray(NULL, nf ? nf : 1, 1);
    fl->nks = xreallocarray(NULL, np, sizeof(*fl->nks));
    fl->argv = xreallocarray(NULL, 13 * np + 1, sizeof(*fl->argv));	/* a script per entry */
    fl->argvlen = xreallocarray(NULL, 13 * np + 1, sizeof(*fl->argvlen));
    fl->cmd = xreallocarray(NULL, 2 * np + 1, sizeof(*fl->cmd));
    fl->kind = xreallocarray(NULL, 2 * np + 1, 1);
    fl->counted = xreallocarray(NULL, 2 * np + 1, 1);
    snprintf(fl->lim, sizeof(fl->lim), "%d", SUP_FIELD_MAX);
#define ARG(s, l) (fl->argv[a] = (s), fl->argvlen[a++] = (l))
#define CMD(k, cnt, tag) (fl->cmd[c] = (struct rconn_cmd) {(int) (a - first), fl->argv + first, \
			fl->argvlen + first, s->tagslot[tag] + 1}, fl->kind[c] = (k), \
			fl->counted[c++] = (cnt))
    for (a = 0, c = 0, nf = 0, i = 0; i < np; i++) {
	const struct batch_item *it = &b->items[p[i].item];
	char *k0 = fl->keys[2 * i], *k1 = fl->keys[2 * i + 1];
	const char *f = it->target;
	size_t flen = strlen(it->target), first;

	if (!b->force && get32(it->value + 5) != 0) {	/* expiring: the script, below */
	    p[nx++] = p[i];
	    continue;
	}
	if (it->sid[0]) {
	    size_t sl = strlen(it->sid);

	    if (!copied(b, p[i].tag, it->sid)) {
		first = a;
		ARG("HSET", 4);
		ARG(k0, put_key(k0, s->prefix, plen, p[i].tag, "scopes", -1));
		ARG(it->scope, strlen(it->scope));
		ARG(it->sid, sl);
		CMD(C_COPY, 0, p[i].tag);
	    }
	    f = fl->fields + nf;
	    memcpy(fl->fields + nf, it->sid, sl);
	    fl->fields[nf + sl] = ':';
	    memcpy(fl->fields + nf + sl + 1, it->target, flen + 1);
	    flen += sl + 1;
	    nf += flen + 1;
	}
	first = a;
	ARG("HSET", 4);
	if (flen > SUP_FIELD_MAX)
	    ARG(k1, put_key(k1, s->prefix, plen, p[i].tag, "l", -1));
	else
	    ARG(k1, put_key(k1, s->prefix, plen, p[i].tag, "b:", (int) p[i].sub));
	ARG(f, flen);
	ARG((const char *) it->value, it->vlen);
	CMD(C_SET, (unsigned char) p[i].counted, p[i].tag);
    }
    qsort(p, nx, sizeof(*p), pair_cmp);
    for (i = 0; i < nx; i = j) {	/* the expiring entries: a script per tag */
	char *k0 = fl->keys[2 * np + 3 * i], *k1 = fl->keys[2 * np + 3 * i + 1];
	size_t first = a;

	for (j = i; j < nx && p[j].tag == p[i].tag; j++)
	    continue;
	snprintf(fl->nks[i], sizeof(fl->nks[i]), "%zu", 2 + j - i);
	ARG("EVALSHA", 7);
	ARG(s->add_tag.sha1, 40);
	ARG(fl->nks[i], strlen(fl->nks[i]));
	ARG(k0, put_key(k0, s->prefix, plen, p[i].tag, "scopes", -1));
	ARG(k1, put_key(k1, s->prefix, plen, p[i].tag, "l", -1));
	for (z = i; z < j; z++) {
	    char *kz = fl->keys[2 * np + 3 * z + 2];

	    ARG(kz, put_key(kz, s->prefix, plen, p[z].tag, "b:", (int) p[z].sub));
	}
	ARG(fl->lim, strlen(fl->lim));
	ARG("0", 1);
	for (z = i; z < j; z++) {
	    const struct batch_item *it = &b->items[p[z].item];

	    ARG(it->target, strlen(it->target));
	    ARG(it->scope, strlen(it->scope));
	    ARG(it->sid, strlen(it->sid));
	    ARG((const char *) it->value, it->vlen);
	    ARG(p[z].counted ? "1" : "0", 1);
	}
	CMD(C_SCRIPT, 0, p[i].tag);
    }
#undef CMD
#undef ARG
    fl->ncmd = c;
    fl->items = b->items;
    fl->n = b->n;
    fl->cap = b->cap;
    b->items = b->spare ? b->spare : xreallocarray(NULL, 64, sizeof(*b->items));
    b->cap = b->spare ? b->sparecap : 64;
    b->spare = NULL;
    b->n = 0;
    b->pairs = 0;
    fl->f = rconn_pipeline_start(s->rc, fl->ncmd, fl->cmd);
    b->flying = fl;
    return 0;
}

/*
 * flight_finish - the replies of the flush in flight: new entries
 * counted (one HINCRBY of {sup}'s meta), scripts sent again after
 * NOSCRIPT (the cluster client waits out TRYAGAIN); its items kept for the batch's next flush.
 * 0, or -1 when anything failed (the batch remembers it)
 */
static int
flight_finish(struct sup_batch *b)
{
    struct sup_store *s = b->store;
    struct flight *fl = b->flying;
    redisReply **reply = xreallocarray(NULL, fl->ncmd ? fl->ncmd : 1, sizeof(redisReply *));
    long long added = 0, kept = 0;
    char num[24], mk[128];
    redisReply *r;
    size_t c;
    int rc = 0;

    b->flying = NULL;
    (void) rconn_pipeline_finish(fl->f, reply);
    for (c = 0; c < fl->ncmd; c++) {
	r = reply[c];
	if (fl->kind[c] == C_SCRIPT) {
	    r = script_again(s, &s->add_tag, &fl->cmd[c], r);
	    if (reply_failed(s, r, REDIS_REPLY_ARRAY))
		rc = -1;
	    else if (r->elements == 2 && r->element[0]->type == REDIS_REPLY_INTEGER
		     && r->element[1]->type == REDIS_REPLY_INTEGER)
		added += r->element[0]->integer, kept += r->element[1]->integer;
	} else if (reply_failed(s, r, REDIS_REPLY_INTEGER)) {
	    rc = -1;
	} else if (fl->counted[c]) {
	    added += r->integer;
	}
	if (r)
	    freeReplyObject(r);
    }
    if (added != 0) {
	key(s, mk, sizeof(mk), "meta");
	snprintf(num, sizeof(num), "%lld", added);
	r = rconn_commandv(s->rc, "HINCRBY", mk, "entries", num, NULL);
	if (reply_failed(s, r, REDIS_REPLY_INTEGER))
	    rc = -1;
	if (r)
	    freeReplyObject(r);
    }
    b->kept += kept;
    if (rc < 0) {			/* a copy of a scope id may be what failed */
	b->ncopied = 0;
	if (b->copied)
	    memset(b->copied, 0, b->capcopied * sizeof(*b->copied));
    }
    if (b->spare == NULL || fl->cap > b->sparecap) {
	free(b->spare);
	b->spare = fl->items, b->sparecap = fl->cap;
    } else {
	free(fl->items);
    }
    free(reply);
    flight_free(fl);
    return rc;
}

/*
 * flush_spread - the batch on a cluster: the flush before finished, this
 * one started; with wait, finished too.  Returns the entries of the
 * flushes finished now, or -1 when one failed (the others are still sent)
 */
static int
flush_spread(struct sup_batch *b, int wait)
{
    size_t n = b->n, done = 0;
    int rc = 0;

    if (b->flying) {
	done = b->flying->n;
	if (flight_finish(b) < 0)
	    rc = -1;
    }
    if (b->n > 0 && flight_start(b) < 0) {
	b->n = 0;			/* dropped, as a failed flush */
	b->pairs = 0;
	rc = -1;
    }
    if (wait && b->flying) {
	done += n;
	if (flight_finish(b) < 0)
	    rc = -1;
    }
    return rc < 0 ? -1 : (int) done;
}

/*
 * sup_batch_flush - write what is queued (one round trip; on a cluster,
 * one per master, in parallel), and on a cluster finish the flush in
 * flight; returns the number of entries written or kept, -1 on error
 * (the batch is dropped)
 */
int
sup_batch_flush(struct sup_batch *b)
{
    int rc;

    if (b->store->spread)
	return flush_spread(b, 1);
    if (b->n == 0)
	return 0;
    rc = flush_one_tag(b);
    b->n = 0;
    b->pairs = 0;
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

/* scope_id - a sender domain's scope id, never allocated: 1, 0 for none, -1 */
static int
scope_id(struct sup_store *s, const char *scope, char id[24])
{
    struct scope_slot *c = &s->scopes[slot_of(scope, SCOPE_CACHE)];
    char k[128];
    redisReply *r;
    int rc = -1;

    if (strcmp(c->name, scope) == 0 && c->id[0] != '\0') {
	memcpy(id, c->id, 24);
	return 1;
    }
    key(s, k, sizeof(k), "scopes");
    r = rconn_commandv(s->rc, "HGET", k, scope, NULL);
    if (r && r->type == REDIS_REPLY_NIL)
	rc = 0;
    else if (!reply_failed(s, r, REDIS_REPLY_STRING) && r->len < 24) {
	memcpy(id, r->str, r->len + 1);
	snprintf(c->name, sizeof(c->name), "%s", scope);
	memcpy(c->id, id, sizeof(c->id));
	rc = 1;
    }
    if (r)
	freeReplyObject(r);
    return rc;
}

/* remove_spread - HDEL in the target's tag, or in each of its domain's */
static int
remove_spread(struct sup_store *s, const char *target, const char *scope)
{
    char f[ADDR_MAX + 32], id[24], (*k)[KEYLEN], mk[128];
    const char *(*av)[3];
    struct rconn_cmd *cmd;
    redisReply **reply, *r;
    unsigned tag, sub, n, j;
    long long found = 0;
    int rc = 0;

    if (scope && *scope) {
	if ((rc = scope_id(s, scope, id)) <= 0)
	    return rc;			/* no such scope: no such entry */
	snprintf(f, sizeof(f), "%s:%s", id, target);
    } else {
	snprintf(f, sizeof(f), "%s", target);
    }
    sup_spread_place(target, &tag, &sub);
    n = target[0] == '@' ? SUP_TAG_SPREAD : 1;
    k = xreallocarray(NULL, n, sizeof(*k));
    av = xreallocarray(NULL, n, sizeof(*av));
    cmd = xreallocarray(NULL, n, sizeof(*cmd));
    reply = xreallocarray(NULL, n, sizeof(redisReply *));
    for (j = 0; j < n; j++) {
	if (strlen(f) > SUP_FIELD_MAX)
	    tag_key(s, k[j], KEYLEN, tag + j, "l");
	else
	    sub_key(s, k[j], KEYLEN, tag + j, sub);
	av[j][0] = "HDEL", av[j][1] = k[j], av[j][2] = f;
	cmd[j] = (struct rconn_cmd) {3, av[j], NULL, 0};
    }
    (void) rconn_pipeline(s->rc, n, cmd, reply);
    for (rc = 0, j = 0; j < n; j++) {
	if (reply_failed(s, reply[j], REDIS_REPLY_INTEGER))
	    rc = -1;
	else if (reply[j]->integer > found)
	    found = reply[j]->integer;
	if (reply[j])
	    freeReplyObject(reply[j]);
    }
    free(k);
    free(av);
    free(cmd);
    free(reply);
    if (found > 0) {
	key(s, mk, sizeof(mk), "meta");
	r = rconn_commandv(s->rc, "HINCRBY", mk, "entries", "-1", NULL);
	if (reply_failed(s, r, REDIS_REPLY_INTEGER))
	    rc = -1;
	if (r)
	    freeReplyObject(r);
    }
    return rc < 0 ? -1 : found > 0;
}

/* sup_remove - delete one entry; 1 if it existed */
int
sup_remove(struct sup_store *s, const char *target, const char *scope)
{
    char k[4][128], lim[8];
    const char *argv[7];
    redisReply *r;
    int rc = -1;

    if (s->spread)
	return remove_spread(s, target, scope);
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

/* one entry of a walk reply: its bucket, its place in the reply */
struct walk_pos {
    unsigned bucket;
    size_t i;
};

/* walk_pos_cmp - by bucket, then as the reply gave them */
static int
walk_pos_cmp(const void *a, const void *b)
{
    const struct walk_pos *x = a, *y = b;

    if (x->bucket != y->bucket)
	return x->bucket < y->bucket ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* walk_entry - entry i of a walk reply (target, scope, value) into e; -1: not ours */
static int
walk_entry(redisReply *r, size_t i, struct sup_entry *e)
{
    redisReply *t = r->element[i], *sc = r->element[i + 1], *v = r->element[i + 2];

    if (t->type != REDIS_REPLY_STRING || sc->type != REDIS_REPLY_STRING
	|| v->type != REDIS_REPLY_STRING)
	return -1;
    memset(e, 0, sizeof(*e));
    if (t->len >= sizeof(e->target) || sc->len >= sizeof(e->scope)
	|| sup_value_decode((unsigned char *) v->str, v->len, e) < 0) {
	msg_warn("suppress: skipping an entry that is not in our format (%.60s)", t->str);
	return -1;
    }
    memcpy(e->target, t->str, t->len);
    memcpy(e->scope, sc->str, sc->len);
    return 0;
}

/*
 * walk_reply - hand each entry of one walk reply to fn; in the spread
 * layout only those of buckets lo to hi - 1 (the long bucket holds a whole
 * tag's), in order of bucket: the script reads the tag's long bucket
 * first, and a page of a listing must end between two buckets, with
 * nothing of a later bucket given before it
 */
static int
walk_reply(struct sup_store *s, redisReply *r, unsigned lo, unsigned hi,
	   int (*fn)(const struct sup_entry *, void *), void *arg)
{
    struct sup_entry e;
    struct walk_pos *pos;
    size_t i, n = 0;
    unsigned bk;
    int stop = 0;

    if (!s->spread) {
	for (i = 1; i + 2 < r->elements; i += 3)
	    if (walk_entry(r, i, &e) == 0 && (stop = fn(&e, arg)) != 0)
		return stop;
	return 0;
    }
    pos = xreallocarray(NULL, r->elements / 3 + 1, sizeof(*pos));
    for (i = 1; i + 2 < r->elements; i += 3) {
	if (r->element[i]->type != REDIS_REPLY_STRING
	    || r->element[i]->len >= sizeof(e.target))
	    continue;			/* walk_entry() says why */
	bk = sup_spread_bucket(r->element[i]->str);
	if (bk >= lo && bk < hi)
	    pos[n].bucket = bk, pos[n].i = i, n++;
    }
    qsort(pos, n, sizeof(*pos), walk_pos_cmp);
    for (i = 0; i < n && stop == 0; i++)
	if (walk_entry(r, pos[i].i, &e) == 0)
	    stop = fn(&e, arg);
    free(pos);
    return stop;
}

/*
 * walk_spread - buckets first to end - 1 of the spread layout: a script
 * call per tag, WALK_TAGS of them at once (rconn_pipeline: the masters
 * read in parallel).  Each tag's buckets are first probed by EXISTS, by
 * groups of WALK_GROUP (one C loop on the server instead of a Lua call
 * per key), and the script reads only the groups that have keys: a short
 * list costs a small part of 2^21 reads.
 */
static int
walk_spread(struct sup_store *s, unsigned first, unsigned end, long long purge_before,
	    int (*fn)(const struct sup_entry *, void *), void *arg)
{
    enum {
	NK = 2 + SUP_TAG_BUCKETS,	/* scopes, long bucket, buckets */
	NG = 1 + SUP_TAG_BUCKETS / WALK_GROUP,	/* probes: long bucket, groups */
	PER = 3 + NK + 2,		/* EVALSHA sha n, keys, two arguments */
    };
    char (*keys)[KEYLEN] = xreallocarray(NULL, WALK_TAGS * NK, sizeof(*keys));
    const char **argv = xreallocarray(NULL, WALK_TAGS * PER, sizeof(*argv));
    const char **xargv = xreallocarray(NULL, WALK_TAGS * (NK + NG), sizeof(*xargv));
    struct rconn_cmd *xcmd = xreallocarray(NULL, WALK_TAGS * NG, sizeof(*xcmd));
    redisReply **xreply = xreallocarray(NULL, WALK_TAGS * NG, sizeof(redisReply *));
    struct rconn_cmd cmd[WALK_TAGS];
    redisReply *reply[WALK_TAGS], *r;
    char before[24], num[24], mk[128], nks[WALK_TAGS][16];
    unsigned b = first, lo[WALK_TAGS], hi[WALK_TAGS], tag, sub;
    size_t n, m, i, j, g, a, x, nk[WALK_TAGS], ng[WALK_TAGS], nx;
    long long purged = 0;
    int rc = 0;

    snprintf(before, sizeof(before), "%lld", purge_before);
    while (b < end && rc == 0) {
	/* the keys of up to WALK_TAGS tags, and their probes */
	for (n = 0, nx = 0, x = 0; n < WALK_TAGS && b < end; n++, b = hi[n - 1]) {
	    char (*k)[KEYLEN] = keys + n * NK;

	    tag = b / SUP_TAG_BUCKETS;
	    lo[n] = b;
	    hi[n] = (tag + 1) * SUP_TAG_BUCKETS < end ? (tag + 1) * SUP_TAG_BUCKETS : end;
	    nk[n] = 0;
	    tag_key(s, k[nk[n]++], KEYLEN, tag, "scopes");
	    tag_key(s, k[nk[n]++], KEYLEN, tag, "l");
	    for (sub = b % SUP_TAG_BUCKETS; tag * SUP_TAG_BUCKETS + sub < hi[n]; sub++)
		sub_key(s, k[nk[n]++], KEYLEN, tag, sub);
	    for (ng[n] = 0, i = 1; i < nk[n]; i += i == 1 ? 1 : WALK_GROUP, ng[n]++) {
		size_t cnt = i == 1 ? 1 : nk[n] - i < WALK_GROUP ? nk[n] - i : WALK_GROUP;

		xcmd[nx] = (struct rconn_cmd) {(int) (1 + cnt), xargv + x, NULL, 0};
		xargv[x++] = "EXISTS";
		for (j = 0; j < cnt; j++)
		    xargv[x++] = k[i + j];
		nx++;
	    }
	}
	(void) rconn_pipeline(s->rc, nx, xcmd, xreply);
	/* a script per tag that has keys, over its groups that have */
	for (m = 0, g = 0, i = 0; i < n; i++) {
	    char (*k)[KEYLEN] = keys + i * NK;
	    size_t t, q, base = m * PER;
	    int any = 0;

	    a = base + 3;
	    argv[a++] = k[0];
	    argv[a++] = k[1];
	    for (q = 0, t = 1; q < ng[i]; q++, g++, t += t == 1 ? 1 : WALK_GROUP) {
		size_t cnt = t == 1 ? 1 : nk[i] - t < WALK_GROUP ? nk[i] - t : WALK_GROUP;
		int has = xreply[g] == NULL || xreply[g]->type != REDIS_REPLY_INTEGER
		    || xreply[g]->integer > 0;	/* unknown: read it */

		if (has) {
		    any = 1;
		    for (j = 0; t > 1 && j < cnt; j++)
			argv[a++] = k[t + j];
		}
		if (xreply[g])
		    freeReplyObject(xreply[g]);
	    }
	    if (!any)
		continue;
	    snprintf(nks[m], sizeof(nks[m]), "%zu", a - base - 3);
	    argv[base] = "EVALSHA";
	    argv[base + 1] = s->walk_tag.sha1;
	    argv[base + 2] = nks[m];
	    argv[a++] = before;
	    argv[a++] = (lo[i] / SUP_TAG_BUCKETS) % SUP_TAG_SPREAD == 0 ? "1" : "0";
	    cmd[m] = (struct rconn_cmd) {(int) (a - base), argv + base, NULL, 0};
	    lo[m] = lo[i], hi[m] = hi[i];
	    m++;
	}
	n = m;
	(void) rconn_pipeline(s->rc, n, cmd, reply);
	for (i = 0; i < n; i++) {
	    r = rc != 0 ? reply[i] : script_again(s, &s->walk_tag, &cmd[i], reply[i]);
	    if (rc != 0)
		;			/* stopped: the rest is only freed */
	    else if (reply_failed(s, r, REDIS_REPLY_ARRAY))
		rc = -1;
	    else {
		if (r->elements > 0 && r->element[0]->type == REDIS_REPLY_INTEGER)
		    purged += r->element[0]->integer;
		rc = walk_reply(s, r, lo[i], hi[i], fn, arg);
	    }
	    if (r)
		freeReplyObject(r);
	}
    }
    if (purged > 0) {
	key(s, mk, sizeof(mk), "meta");
	snprintf(num, sizeof(num), "%lld", -purged);
	r = rconn_commandv(s->rc, "HINCRBY", mk, "entries", num, NULL);
	if (reply_failed(s, r, REDIS_REPLY_INTEGER) && rc == 0)
	    rc = -1;
	if (r)
	    freeReplyObject(r);
    }
    free(keys);
    free(argv);
    free(xargv);
    free(xcmd);
    free(xreply);
    return rc;
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
	    rc = walk_reply(s, r, 0, 0, fn, arg);
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
    if (s->spread)
	return walk_spread(s, 0, SUP_SPREAD_BUCKETS, purge_before, fn, arg);
    return walk_range(s, 0, SUP_BUCKETS, purge_before, fn, arg);
}

/* sup_walk_buckets - the entries of count buckets from first on */
int
sup_walk_buckets(struct sup_store *s, unsigned first, unsigned count,
		 int (*fn)(const struct sup_entry *, void *), void *arg)
{
    unsigned n = sup_store_buckets(s);
    unsigned end = first >= n || count > n - first ? n : first + count;

    if (s->spread)
	return walk_spread(s, first, end, 0, fn, arg);
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

    if (s->tally && s->ntally > 0 && tally_flush(s) < 0)
	msg_warn("suppress: decision counts not written: %s", s->err);
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
