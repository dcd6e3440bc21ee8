/*
 * backoff - provider backoff rules and state (see backoff.h)
 */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "msg.h"
#include "redisconn.h"
#include "throttle_limits.h"
#include "xalloc.h"

#define RULE_LINE_MAX 1024
#define RULES_FILE_MAX (1024 * 1024)

/*
 * What the big providers answer when they want less mail from an address,
 * as they document it: Gmail's 421-4.7.28 (unusual rate) and rate-limit
 * 4.7.0; Yahoo's TSS04 and TS01-TS03 deferrals; Microsoft's 4.7.650/651
 * (reputation rate limit) and 4.7.500 (server busy).
 */
const char BACKOFF_BUILTIN_RULES[] =
    "google     4.7.28   *                          1h   60/m\n"
    "google     4.7.0    \"*rate*limit*\"           30m  60/m\n"
    "google     4.7.0    \"*unusual rate*\"         1h   60/m\n"
    "yahoo      *        \"*TSS04*\"                1h   30/m\n"
    "yahoo      *        \"*TS0[1-9]*\"             1h   30/m\n"
    "microsoft  4.7.650  *                          1h   60/m\n"
    "microsoft  4.7.651  *                          1h   60/m\n"
    "microsoft  4.7.500  *                          15m  120/m\n"
    "*          4.7.28   *                          1h   60/m\n";

/* set_err - "NAME:LINE: problem" */
static int
set_err(char *err, size_t errlen, const char *name, int line, const char *what,
	const char *detail)
{
    snprintf(err, errlen, "%s:%d: %s%s%s", name, line, what, detail ? ": " : "",
	     detail ? detail : "");
    return -1;
}

/* next_word - a word or a "quoted text"; 0 at the end of the line, -1 bad */
static int
next_word(const char **p, const char *end, char *out, size_t outsz)
{
    const char *s = *p, *e;

    while (s < end && (*s == ' ' || *s == '\t'))
	s++;
    if (s == end || *s == '#') {
	*p = end;
	return 0;
    }
    if (*s == '"') {
	s++;
	if ((e = memchr(s, '"', (size_t) (end - s))) == NULL)
	    return -1;
	*p = e + 1;
	if (*p < end && **p != ' ' && **p != '\t')
	    return -1;
    } else {
	for (e = s; e < end && *e != ' ' && *e != '\t'; e++)
	     /* word */ ;
	*p = e;
    }
    if ((size_t) (e - s) >= outsz)
	return -1;
    memcpy(out, s, (size_t) (e - s));
    out[e - s] = '\0';
    return 1;
}

/* parse_rule - the five fields of one line */
static int
parse_rule(const char *p, const char *end, struct backoff_rule *r, const char **why)
{
    char dur[64], rate[64], extra[8];
    const char *bad;

    memset(r, 0, sizeof(*r));
    if (next_word(&p, end, r->provider, sizeof(r->provider)) <= 0
	|| next_word(&p, end, r->dsn, sizeof(r->dsn)) <= 0
	|| next_word(&p, end, r->text, sizeof(r->text)) <= 0
	|| next_word(&p, end, dur, sizeof(dur)) <= 0
	|| next_word(&p, end, rate, sizeof(rate)) <= 0) {
	*why = "expected: provider dsn \"reply text\" duration rate "
	    "(a field is missing, too long or badly quoted)";
	return -1;
    }
    if (next_word(&p, end, extra, sizeof(extra)) != 0) {
	*why = "more than five fields (quote a reply text that holds spaces)";
	return -1;
    }
    if (strcmp(r->provider, "*") != 0
	&& strspn(r->provider, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		  "0123456789_-.") != strlen(r->provider)) {
	*why = "provider: a name of letters, digits, '_', '-', '.', or '*'";
	return -1;
    }
    if (strspn(r->dsn, "0123456789.*?[]-") != strlen(r->dsn)) {
	*why = "dsn: a status code such as 4.7.28, or a glob of one";
	return -1;
    }
    if (confval_duration(dur, &r->duration_ms, &bad) < 0 || r->duration_ms <= 0) {
	*why = "duration: expected a time such as 30m or 1h";
	return -1;
    }
    if (confval_rate(rate, &r->rate, &bad) < 0) {
	*why = "rate: expected COUNT/UNIT such as 60/m";
	return -1;
    }
    return 0;
}

/* backoff_rules_parse - append the rules of a text */
int
backoff_rules_parse(const char *buf, size_t len, const char *name,
		    struct backoff_rules *out, char *err, size_t errlen)
{
    const char *p = buf, *end = buf + len;
    int line = 0;

    while (p < end) {
	const char *nl = memchr(p, '\n', (size_t) (end - p));
	const char *e = nl ? nl : end;
	const char *why = NULL, *q = p;
	struct backoff_rule r;
	char word[8];

	line++;
	if (e - p > RULE_LINE_MAX)
	    return set_err(err, errlen, name, line, "line too long", NULL);
	if (e > p && e[-1] == '\r')
	    e--;
	if (memchr(p, '\0', (size_t) (e - p)))
	    return set_err(err, errlen, name, line, "NUL byte in line", NULL);
	/* blank and comment lines */
	if (next_word(&q, e, word, sizeof(word)) == 0) {
	    p = nl ? nl + 1 : end;
	    continue;
	}
	if (parse_rule(p, e, &r, &why) < 0)
	    return set_err(err, errlen, name, line, why, NULL);
	if (out->n >= BACKOFF_MAX_RULES)
	    return set_err(err, errlen, name, line, "too many rules", NULL);
	snprintf(r.origin, sizeof(r.origin), "%.50s:%d", name, line);
	out->v = xreallocarray(out->v, out->n + 1, sizeof(*out->v));
	out->v[out->n++] = r;
	p = nl ? nl + 1 : end;
    }
    return 0;
}

/* backoff_rules_load - a file's rules, then the built-in ones */
int
backoff_rules_load(const char *path, int builtin, struct backoff_rules *out,
		   char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (path) {
	FILE *fp = fopen(path, "r");
	char *buf;
	size_t n;

	if (fp == NULL) {
	    snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
	    return -1;
	}
	buf = xmalloc(RULES_FILE_MAX + 1);
	n = fread(buf, 1, RULES_FILE_MAX + 1, fp);
	fclose(fp);
	if (n > RULES_FILE_MAX) {
	    snprintf(err, errlen, "%s: larger than %d bytes", path, RULES_FILE_MAX);
	    free(buf);
	    return -1;
	}
	if (backoff_rules_parse(buf, n, path, out, err, errlen) < 0) {
	    free(buf);
	    backoff_rules_free(out);
	    return -1;
	}
	free(buf);
    }
    if (builtin && backoff_rules_parse(BACKOFF_BUILTIN_RULES, strlen(BACKOFF_BUILTIN_RULES),
				       "built-in", out, err, errlen) < 0)
	msg_fatal("built-in backoff rules: %s", err);
    return 0;
}

/* backoff_rules_free - release the rules */
void
backoff_rules_free(struct backoff_rules *r)
{
    free(r->v);
    r->v = NULL;
    r->n = 0;
}

/* backoff_match - the first rule for this provider, status and reply */
const struct backoff_rule *
backoff_match(const struct backoff_rules *r, const char *provider, const char *dsn,
	      const char *text)
{
    size_t i;

    for (i = 0; i < r->n; i++) {
	const struct backoff_rule *b = &r->v[i];

	if (strcmp(b->provider, "*") != 0 && strcmp(b->provider, provider) != 0)
	    continue;
	if (fnmatch(b->dsn, dsn, 0) != 0)
	    continue;
	if (fnmatch(b->text, text, FNM_CASEFOLD) != 0)
	    continue;
	return b;
    }
    return NULL;
}

/* ---------------------------------------------------------------- Redis */

/*
 * KEYS[1] the backoff hash; ARGV: seconds, interval_ms, burst, rate, reason.
 * "until" never moves back; "tat" (policyd's) is left alone.
 */
static struct rscript set_script = {
    "local t = tonumber(redis.call('TIME')[1])\n"
    "local u = t + tonumber(ARGV[1])\n"
    "local old = tonumber(redis.call('HGET', KEYS[1], 'until') or 0) or 0\n"
    "if old > u then u = old end\n"
    "if old <= t then redis.call('HSET', KEYS[1], 'since', t) end\n"
    "redis.call('HSET', KEYS[1], 'until', u, 'interval_ms', ARGV[2],\n"
    "           'burst', ARGV[3], 'rate', ARGV[4], 'reason', ARGV[5])\n"
    "redis.call('EXPIREAT', KEYS[1], u + 60)\n"
    "return u\n", "", 1		/* the same twice: may be sent again */
};

/* backoff_key - "<prefix>{rl}:backoff:<provider>:<pool>", named as every limit key */
int
backoff_key(char *buf, size_t len, const char *prefix, const char *provider,
	    const char *pool)
{
    return limits_key(buf, len, prefix, "backoff", provider, pool);
}

/* rate_text - a rate as people write it: "60/m" */
static void
rate_text(char *buf, size_t len, const struct conf_rate *r)
{
    char *one;

    if (r->period_ms % 3600000 == 0)
	snprintf(buf, len, "%ld/%lldh", r->count, r->period_ms / 3600000);
    else if (r->period_ms % 60000 == 0)
	snprintf(buf, len, "%ld/%lldm", r->count, r->period_ms / 60000);
    else if (r->period_ms % 1000 == 0)
	snprintf(buf, len, "%ld/%llds", r->count, r->period_ms / 1000);
    else
	snprintf(buf, len, "%ld/%lldms", r->count, r->period_ms);
    /* "60/1m" reads better as "60/m" */
    if ((one = strstr(buf, "/1")) != NULL && strlen(one) == 3) {
	one[1] = one[2];
	one[2] = '\0';
    }
}

/* backoff_set - start or extend a backoff */
int
backoff_set(struct rconn *rc, const char *prefix, const char *provider,
	    const char *pool, long long duration_ms, const struct conf_rate *rate,
	    const char *reason)
{
    char key[600], secs[32], iv[32], rtxt[64];
    const char *argv[6];
    long long interval = rate->period_ms / (rate->count > 0 ? rate->count : 1);
    redisReply *r;
    int ok;

    if (backoff_key(key, sizeof(key), prefix, provider, pool) < 0)
	return -1;
    if (set_script.sha1[0] == '\0')
	rscript_init(&set_script, set_script.source);
    snprintf(secs, sizeof(secs), "%lld", (duration_ms + 999) / 1000);
    snprintf(iv, sizeof(iv), "%lld", interval > 0 ? interval : 1);
    rate_text(rtxt, sizeof(rtxt), rate);
    argv[0] = key;
    argv[1] = secs;
    argv[2] = iv;
    argv[3] = "1";
    argv[4] = rtxt;
    argv[5] = reason;
    r = rconn_eval(rc, &set_script, 1, 6, argv, NULL);
    ok = r && r->type == REDIS_REPLY_INTEGER;
    if (!ok)
	msg_warn("redis: setting backoff of %s on %s: %s", provider, pool,
		 r ? (r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply")
		 : rconn_error(rc));
    if (r)
	freeReplyObject(r);
    return ok ? 0 : -1;
}

/* split_key - provider and pool of a backoff key */
static int
split_key(const char *key, size_t klen, const char *prefix, struct backoff_state *st)
{
    size_t pl = strlen(prefix) + strlen("{rl}:backoff:");
    const char *rest = key + pl, *colon;

    if (klen <= pl)
	return -1;
    colon = memrchr(rest, ':', klen - pl);
    if (colon == NULL || (size_t) (colon - rest) >= sizeof(st->provider)
	|| (size_t) (key + klen - colon - 1) >= sizeof(st->pool))
	return -1;
    memcpy(st->provider, rest, (size_t) (colon - rest));
    st->provider[colon - rest] = '\0';
    memcpy(st->pool, colon + 1, (size_t) (key + klen - colon - 1));
    st->pool[key + klen - colon - 1] = '\0';
    return 0;
}

/* fill_state - the fields of one HGETALL reply */
static void
fill_state(const redisReply *h, struct backoff_state *st)
{
    size_t i;

    for (i = 0; h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2) {
	const char *k = h->element[i]->str, *v = h->element[i + 1]->str;

	if (k == NULL || v == NULL)
	    continue;
	if (strcmp(k, "until") == 0)
	    st->until = strtoll(v, NULL, 10);
	else if (strcmp(k, "since") == 0)
	    st->since = strtoll(v, NULL, 10);
	else if (strcmp(k, "interval_ms") == 0)
	    st->interval_ms = strtoll(v, NULL, 10);
	else if (strcmp(k, "burst") == 0)
	    st->burst = strtol(v, NULL, 10);
	else if (strcmp(k, "rate") == 0)
	    snprintf(st->rate, sizeof(st->rate), "%s", v);
	else if (strcmp(k, "reason") == 0)
	    snprintf(st->reason, sizeof(st->reason), "%s", v);
    }
}

struct walk {
    struct rconn *rc;
    const char *prefix, *provider, *pool;
    int del;
    void (*fn)(const struct backoff_state *, void *);
    void *arg;
    long long count;
};

/* walk_key - one backoff key: fn on its state, or delete it (rconn_scan callback) */
static int
walk_key(const char *key, size_t len, void *arg)
{
    struct walk *w = arg;
    struct backoff_state st;
    redisReply *h;

    memset(&st, 0, sizeof(st));
    if (split_key(key, len, w->prefix, &st) < 0)
	return 0;
    if ((w->provider && strcmp(w->provider, st.provider) != 0)
	|| (w->pool && strcmp(w->pool, st.pool) != 0))
	return 0;
    if ((h = rconn_commandv(w->rc, w->del ? "DEL" : "HGETALL", key, NULL)) == NULL)
	return -1;
    if (h->type == REDIS_REPLY_ERROR) {	/* refused (a write on a replica, OOM...) */
	msg_warn("redis: %s %s: %s", w->del ? "DEL" : "HGETALL", key, h->str);
	freeReplyObject(h);
	return -1;
    }
    if (w->del) {
	w->count += h->type == REDIS_REPLY_INTEGER ? h->integer : 0;
    } else {
	fill_state(h, &st);
	w->count++;
	w->fn(&st, w->arg);
    }
    freeReplyObject(h);
    return 0;
}

/* walk - the backoff keys, by SCAN: fn on each, or delete those that match */
static long long
walk(struct rconn *rc, const char *prefix, const char *provider, const char *pool,
     int del, void (*fn)(const struct backoff_state *, void *), void *arg)
{
    struct walk w = {rc, prefix, provider, pool, del, fn, arg, 0};
    char pattern[600], literal[300];

    snprintf(literal, sizeof(literal), "%s{rl}:backoff:", prefix);
    rconn_scan_pattern(pattern, sizeof(pattern), literal, "*");
    return rconn_scan(rc, pattern, walk_key, &w) < 0 ? -1 : w.count;
}

/* backoff_list - each backoff in force */
int
backoff_list(struct rconn *rc, const char *prefix,
	     void (*fn)(const struct backoff_state *, void *), void *arg)
{
    return walk(rc, prefix, NULL, NULL, 0, fn, arg) < 0 ? -1 : 0;
}

/* backoff_clear - end backoffs now */
long long
backoff_clear(struct rconn *rc, const char *prefix, const char *provider,
	      const char *pool)
{
    return walk(rc, prefix, provider, pool, 1, NULL, NULL);
}
