/*
 * blstate - the blocklist watch's last answers, in Redis (see blstate.h)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blstate.h"
#include "msg.h"

/*
 * KEYS[1] the watch hash; ARGV: field, state, now, code, reason, ttl.
 * The time of a state is kept while the state stays.
 */
static struct rscript put_script = {
    "local old = redis.call('HGET', KEYS[1], ARGV[1])\n"
    "local since = ARGV[3]\n"
    "if old then\n"
    "  local st, s = string.match(old, '^(%S+) (%d+)')\n"
    "  if st == ARGV[2] then since = s end\n"
    "end\n"
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. since .. ' ' .. ARGV[3]\n"
    "           .. ' ' .. ARGV[4] .. ' ' .. ARGV[5])\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[6])\n"
    "return tonumber(since)\n", "", 1	/* the same twice: may be sent again */
};

/* clean - a copy of s without '|' (names) or control characters (reason) */
static void
clean(char *out, size_t len, const char *s, int name)
{
    size_t i;

    snprintf(out, len, "%s", s ? s : "");
    for (i = 0; out[i]; i++)
	if ((name && (out[i] == '|' || out[i] == ' ')) || (unsigned char) out[i] < 0x20
	    || out[i] == 0x7f)
	    out[i] = name ? '_' : ' ';
}

/* blstate_put - write one answer; its state's start, or -1 */
long long
blstate_put(struct rconn *rc, const char *prefix, const char *list, const char *target,
	    const char *state, const char *code, const char *reason, long long now)
{
    char key[256], field[400], l[128], t[256], c[32], why[BLSTATE_REASON_MAX];
    char nows[24], ttl[24];
    const char *argv[7];
    redisReply *r;
    long long since = -1;

    if (put_script.sha1[0] == '\0')
	rscript_init(&put_script, put_script.source);
    snprintf(key, sizeof(key), "%s{bl}:watch", prefix);
    clean(l, sizeof(l), list, 1);
    clean(t, sizeof(t), target, 1);
    clean(c, sizeof(c), code && *code ? code : "-", 1);
    clean(why, sizeof(why), reason, 0);
    snprintf(field, sizeof(field), "%s|%s", l, t);
    snprintf(nows, sizeof(nows), "%lld", now);
    snprintf(ttl, sizeof(ttl), "%d", BLSTATE_TTL);
    argv[0] = key;
    argv[1] = field;
    argv[2] = state;
    argv[3] = nows;
    argv[4] = c;
    argv[5] = why;
    argv[6] = ttl;
    r = rconn_eval(rc, &put_script, 1, 7, argv, NULL);
    if (r && r->type == REDIS_REPLY_INTEGER)
	since = r->integer;
    else
	msg_warn("blocklist state of %s on %s: %s", t, l,
		 r && r->type == REDIS_REPLY_ERROR ? r->str : rconn_error(rc));
    if (r)
	freeReplyObject(r);
    return since;
}

/* parse - one field and value into b; -1 when malformed */
static int
parse(const char *field, size_t flen, const char *value, struct blstate *b)
{
    const char *bar = memchr(field, '|', flen);
    int n = 0;

    memset(b, 0, sizeof(*b));
    if (bar == NULL || (size_t) (bar - field) >= sizeof(b->list)
	|| flen - (size_t) (bar - field) - 1 >= sizeof(b->target))
	return -1;
    memcpy(b->list, field, (size_t) (bar - field));
    memcpy(b->target, bar + 1, flen - (size_t) (bar - field) - 1);
    if (sscanf(value, "%15s %lld %lld %31s %n", b->state, &b->since, &b->checked, b->code,
	       &n) < 4)
	return -1;
    snprintf(b->reason, sizeof(b->reason), "%s", value + n);
    if (strcmp(b->code, "-") == 0)
	b->code[0] = '\0';
    return 0;
}

/* blstate_read - every entry */
int
blstate_read(struct rconn *rc, const char *prefix,
	     void (*fn)(const struct blstate *, void *), void *arg)
{
    char key[256];
    redisReply *r;
    struct blstate b;
    size_t i;
    long long stale = (long long) time(NULL) - BLSTATE_TTL;

    snprintf(key, sizeof(key), "%s{bl}:watch", prefix);
    r = rconn_commandv(rc, "HGETALL", key, NULL);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
	if (r)
	    freeReplyObject(r);
	return -1;
    }
    /* the hash lives while any target is watched: not each of its fields */
    for (i = 0; i + 1 < r->elements; i += 2)
	if (r->element[i]->type == REDIS_REPLY_STRING
	    && r->element[i + 1]->type == REDIS_REPLY_STRING
	    && parse(r->element[i]->str, r->element[i]->len, r->element[i + 1]->str, &b) == 0
	    && b.checked >= stale)
	    fn(&b, arg);
    freeReplyObject(r);
    return 0;
}
