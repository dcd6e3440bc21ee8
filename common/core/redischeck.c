/*
 * redischeck - is the Redis server fit to keep Outpost's state?
 * (see redischeck.h)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "redischeck.h"
#include "rcluster.h"
#include "redisconn.h"

/*
 * INFO first: it needs no more than +info in an ACL, and says all but the
 * RDB save points.  CONFIG GET only for what INFO left unknown, so that a
 * user without CONFIG (the documented ACL) fills the server's ACL LOG only
 * when AOF is off.
 */
const char *const rcheck_cmds[RCHECK_NCMDS][3] = {
    {"INFO", "memory", NULL},
    {"INFO", "persistence", NULL},
    {"CONFIG", "GET", "maxmemory-policy"},
    {"CONFIG", "GET", "appendonly"},
    {"CONFIG", "GET", "save"},
};
const int rcheck_argc[RCHECK_NCMDS] = {2, 2, 3, 3, 3};

#define IS_CONFIG(i) ((i) >= 2)

/*
 * Process-wide state, read and written with atomic builtins: the milter's
 * threads each have their own connections.  enforced and starting are set
 * by rcheck_at_start() before any thread or event loop exists.
 */
static int enforced;		/* check every connection */
static int starting;		/* inside rcheck_at_start(): refuse = exit */
static int reported;		/* summary and warnings logged */
static int was_refused;		/* the last check refused the server */

/* copy_text - bounded copy of a reply text, NUL-terminated */
static void
copy_text(char *dst, size_t size, const char *src, size_t len)
{
    if (len >= size)
	len = size - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* policy_name_ok - a maxmemory-policy looks like "allkeys-lru" */
static int
policy_name_ok(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || len >= sizeof(((struct rcheck_facts *) 0)->policy))
	return 0;
    for (i = 0; i < len; i++)
	if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '-'))
	    return 0;
    return 1;
}

/* number - a decimal of at most 18 digits; -1 otherwise */
static long long
number(const char *s, size_t len)
{
    long long n = 0;
    size_t i;

    if (len == 0 || len > 18)
	return -1;
    for (i = 0; i < len; i++) {
	if (s[i] < '0' || s[i] > '9')
	    return -1;
	n = n * 10 + (s[i] - '0');
    }
    return n;
}

/* key_is - does the field name [k, k + klen) equal name? */
static int
key_is(const char *k, size_t klen, const char *name)
{
    return strlen(name) == klen && memcmp(k, name, klen) == 0;
}

/* rcheck_facts_init - nothing known yet */
void
rcheck_facts_init(struct rcheck_facts *f)
{
    memset(f, 0, sizeof(*f));
    f->aof = -1;
    f->info_aof = -1;
    f->rdb_last_save = -1;
    f->rdb_changes = -1;
}

/* rcheck_info_parse - the fields we need from INFO text */
void
rcheck_info_parse(const char *text, size_t len, struct rcheck_facts *f)
{
    const char *p = text, *end = text + len;

    while (p < end) {
	const char *eol = memchr(p, '\n', (size_t) (end - p));
	const char *le = eol ? eol : end;
	const char *colon;
	size_t klen, vlen;

	if (le > p && le[-1] == '\r')
	    le--;
	colon = le > p && *p != '#' ? memchr(p, ':', (size_t) (le - p)) : NULL;
	if (colon) {
	    const char *v = colon + 1;

	    klen = (size_t) (colon - p);
	    vlen = (size_t) (le - v);
	    if (key_is(p, klen, "maxmemory_policy") && policy_name_ok(v, vlen))
		copy_text(f->info_policy, sizeof(f->info_policy), v, vlen);
	    else if (key_is(p, klen, "aof_enabled") && vlen == 1 && (*v == '0' || *v == '1'))
		f->info_aof = *v - '0';
	    else if (key_is(p, klen, "rdb_last_save_time"))
		f->rdb_last_save = number(v, vlen);
	    else if (key_is(p, klen, "rdb_changes_since_last_save"))
		f->rdb_changes = number(v, vlen);
	}
	p = eol ? eol + 1 : end;
    }
}

/* config_value - the value of a CONFIG GET reply; NULL if none */
static const redisReply *
config_value(const redisReply *r)
{
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[1]->type == REDIS_REPLY_STRING)
	return r->element[1];
    return NULL;
}

/* rcheck_next - the command to send next; -1: nothing more to ask */
int
rcheck_next(struct rcheck_facts *f)
{
    int aof = f->aof >= 0 ? f->aof : f->info_aof;
    int i = -1;

    if (!(f->asked & 1u))
	i = 0;
    else if (!(f->asked & 2u))
	i = 1;
    else if (f->config_err[0] == '\0') {	/* refused once: do not ask again */
	if (!f->info_policy[0] && !(f->asked & 4u))
	    i = 2;
	else if (f->info_aof < 0 && !(f->asked & 8u))
	    i = 3;
	else if (aof == 0 && !(f->asked & 16u))
	    i = 4;
    }
    if (i >= 0)
	f->asked |= 1u << i;
    return i;
}

/* rcheck_feed - the reply to rcheck_cmds[i] */
void
rcheck_feed(struct rcheck_facts *f, int i, const redisReply *r)
{
    const redisReply *v;
    char *err = IS_CONFIG(i) ? f->config_err : f->info_err;
    size_t errsize = IS_CONFIG(i) ? sizeof(f->config_err) : sizeof(f->info_err);

    if (r == NULL || i < 0 || i >= RCHECK_NCMDS)
	return;
    if (r->type == REDIS_REPLY_ERROR) {
	if (err[0] == '\0')
	    copy_text(err, errsize, r->str, r->len);
	return;
    }
    if (!IS_CONFIG(i)) {
	if (r->type == REDIS_REPLY_STRING)
	    rcheck_info_parse(r->str, r->len, f);
	return;
    }
    if ((v = config_value(r)) == NULL) {
	if (err[0] == '\0')
	    snprintf(err, errsize, "no value for %s", rcheck_cmds[i][2]);
	return;
    }
    if (i == 2 && policy_name_ok(v->str, v->len))
	copy_text(f->policy, sizeof(f->policy), v->str, v->len);
    else if (i == 3 && (strcmp(v->str, "yes") == 0 || strcmp(v->str, "no") == 0))
	f->aof = v->str[0] == 'y';
    else if (i == 4 && v->len < sizeof(f->save)) {
	copy_text(f->save, sizeof(f->save), v->str, v->len);
	f->save_known = 1;
    }
}

/* what_evicts - which of our keys a policy may drop */
static const char *
what_evicts(const char *policy)
{
    if (strncmp(policy, "volatile-", 9) == 0)
	return "the keys that have a TTL (rate, warm-up and statistics state, "
	    "suppressions with an expiry)";
    return "any key (suppressions too)";
}

/* rcheck_judge - the verdict on what the server said */
void
rcheck_judge(const struct rcheck_facts *f, int allow_eviction, struct rcheck_verdict *v)
{
    const char *policy = f->policy[0] ? f->policy : f->info_policy;
    int aof = f->aof >= 0 ? f->aof : f->info_aof;
    char rdb[160];

    memset(v, 0, sizeof(*v));
    if (f->save_known)
	snprintf(rdb, sizeof(rdb), ", save \"%s\"", f->save);
    else if (aof == 1)
	rdb[0] = '\0';			/* not asked: AOF is enough */
    else if (f->rdb_last_save >= 0)
	snprintf(rdb, sizeof(rdb), ", save points unknown (last RDB save at %lld, "
		 "%lld changes since)", f->rdb_last_save, f->rdb_changes);
    else
	snprintf(rdb, sizeof(rdb), ", save points unknown");
    snprintf(v->summary, sizeof(v->summary), "maxmemory-policy %s, appendonly %s%s",
	     policy[0] ? policy : "unknown", aof < 0 ? "unknown" : aof ? "yes" : "no", rdb);

    if (policy[0] && strcmp(policy, "noeviction") != 0) {
	v->refuse = !allow_eviction;
	snprintf(v->eviction, sizeof(v->eviction),
		 "maxmemory-policy is %s: when Redis reaches maxmemory it silently "
		 "evicts %s, and suppressions are compliance data that must not "
		 "disappear%s",
		 policy, what_evicts(policy), allow_eviction
		 ? " (allowed by [redis] allow_eviction)"
		 : "; fix it with \"redis-cli CONFIG SET maxmemory-policy noeviction\" "
		 "and \"maxmemory-policy noeviction\" in redis.conf, or accept the risk "
		 "with [redis] allow_eviction = yes");
    }

    if (aof == 0 && f->save_known && f->save[0] == '\0')
	snprintf(v->persistence, sizeof(v->persistence),
		 "no persistence (appendonly no, no save points): every suppression "
		 "is lost when Redis restarts; set \"appendonly yes\" and "
		 "\"appendfsync everysec\" (CONFIG SET and redis.conf)");

    if (!policy[0] || aof < 0 || (aof == 0 && !f->save_known)) {
	char what[96];

	snprintf(what, sizeof(what), "%s%s%s%s%s",
		 !policy[0] ? "maxmemory-policy" : "",
		 !policy[0] && aof < 0 ? ", " : "",
		 aof < 0 ? "appendonly" : "",
		 aof == 0 && !policy[0] ? ", " : "",
		 aof == 0 ? "RDB save points (appendonly is no)" : "");
	snprintf(v->unchecked, sizeof(v->unchecked), "%s (%s%s%sCONFIG GET: %s)", what,
		 f->info_err[0] ? "INFO: " : "", f->info_err, f->info_err[0] ? "; " : "",
		 f->config_err[0] ? f->config_err : "no answer");
    }
}

/* rcheck_enforced - do this process's connections check the server? */
int
rcheck_enforced(void)
{
    return __atomic_load_n(&enforced, __ATOMIC_RELAXED);
}

/* rcheck_apply - log the verdict; RCHECK_REFUSED: do not use this server */
int
rcheck_apply(const struct rcheck_facts *f, const struct conf_redis *conf)
{
    struct rcheck_verdict v;

    rcheck_judge(f, conf->allow_eviction, &v);
    if (v.refuse) {
	if (__atomic_load_n(&starting, __ATOMIC_RELAXED))
	    msg_fatal("redis: refusing to start: %s", v.eviction);
	msg_error("redis: refusing to use the server until this is fixed: %s", v.eviction);
	__atomic_store_n(&was_refused, 1, __ATOMIC_RELAXED);
	return RCHECK_REFUSED;
    }
    if (__atomic_exchange_n(&was_refused, 0, __ATOMIC_RELAXED))
	msg_info("redis: maxmemory-policy fixed, using the server again: %s", v.summary);
    if (__atomic_exchange_n(&reported, 1, __ATOMIC_RELAXED))
	return RCHECK_OK;
    msg_info("redis: %s", v.summary);
    if (v.eviction[0])
	msg_warn("redis: %s", v.eviction);
    if (v.persistence[0])
	msg_warn("redis: %s", v.persistence);
    if (v.unchecked[0])
	msg_warn("redis: could not check %s", v.unchecked);
    return RCHECK_OK;
}

/* gather - run the commands through cmd; -1 if the connection failed */
static int
gather(rcheck_cmd_fn cmd, void *arg, struct rcheck_facts *f)
{
    int i;

    rcheck_facts_init(f);
    while ((i = rcheck_next(f)) >= 0) {
	redisReply *r = cmd(arg, rcheck_argc[i], (const char **) rcheck_cmds[i]);

	if (r == NULL)
	    return -1;
	rcheck_feed(f, i, r);
	freeReplyObject(r);
    }
    return 0;
}

/* rcheck_connected - check a connection just made (synchronous) */
int
rcheck_connected(rcheck_cmd_fn cmd, void *arg, const struct conf_redis *conf)
{
    struct rcheck_facts f;

    if (!rcheck_enforced())
	return RCHECK_OK;
    if (gather(cmd, arg, &f) < 0)
	return RCHECK_IOERR;
    return rcheck_apply(&f, conf);
}

/* rconn_cmd - rcheck_cmd_fn over an rconn */
static redisReply *
rconn_cmd(void *arg, int argc, const char **argv)
{
    return rconn_command(arg, argc, argv, NULL);
}

/* rcheck_at_start - check before serving; exit on a refused policy */
void
rcheck_at_start(const struct conf_redis *conf)
{
    struct rconn *rc = rconn_new(conf), *node[RCLUSTER_MAX_NODES];
    redisReply *r;
    size_t i, n;

    __atomic_store_n(&enforced, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&starting, 1, __ATOMIC_RELAXED);
    /* the check runs inside the connect: of every master of a cluster */
    n = rconn_masters(rc, node, RCLUSTER_MAX_NODES);
    for (i = 0; i < n; i++) {
	if ((r = rconn_commandv(node[i], "PING", NULL)) != NULL)
	    freeReplyObject(r);
	else
	    msg_warn("redis: cannot check maxmemory-policy and persistence now (%s): "
		     "the first connection will be checked", rconn_error(node[i]));
    }
    if (n == 0)
	msg_warn("redis: cannot check maxmemory-policy and persistence now (%s): "
		 "the first connection will be checked", rconn_error(rc));
    __atomic_store_n(&starting, 0, __ATOMIC_RELAXED);
    rconn_free(rc);
}

/* rcheck_report - what outpostctl check-config says about the server */
int
rcheck_report(const struct conf_redis *conf, FILE *out)
{
    struct rconn *rc = rconn_new(conf);
    struct rcheck_facts f;
    struct rcheck_verdict v;
    redisReply *r;

    if ((r = rconn_commandv(rc, "PING", NULL)) == NULL || gather(rconn_cmd, rc, &f) < 0) {
	fprintf(out, "redis: not reachable (%s): maxmemory-policy and persistence "
		"not checked\n", rconn_error(rc));
	if (r)
	    freeReplyObject(r);
	rconn_free(rc);
	return 0;
    }
    freeReplyObject(r);
    rconn_free(rc);
    rcheck_judge(&f, conf->allow_eviction, &v);
    fprintf(out, "redis: %s\n", v.summary);
    if (v.eviction[0])
	fprintf(out, "redis: %s: %s\n", v.refuse ? "error" : "warning", v.eviction);
    if (v.persistence[0])
	fprintf(out, "redis: warning: %s\n", v.persistence);
    if (v.unchecked[0])
	fprintf(out, "redis: warning: could not check %s\n", v.unchecked);
    return v.refuse;
}
