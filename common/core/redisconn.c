/*
 * redisconn - the one Redis connection module of Outpost (see redisconn.h)
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/sha.h>

#include "monotime.h"
#include "msg.h"
#include "rcluster.h"
#include "redischeck.h"
#include "redisconn.h"
#include "xalloc.h"

struct rconn {
    const struct conf_redis *conf;
    redisContext *ctx;
    long long next_try_ms;	/* no connect before this (monotonic) */
    long long backoff_ms;	/* current delay */
    long long recheck_ms;	/* with sentinels: ask again at this time */
    char host[256];		/* where we are connected */
    int port;
    char err[256];
    char said[256];		/* the failure last logged */
    int sent;			/* the last command reached the wire */
    struct msg_limit said_again;	/* the same failure again: rarely */
    struct rcluster *cl;	/* [redis] cluster: commands are routed */
};

#define SAME_FAILURE_SAY_EVERY 60	/* seconds */

/*
 * After a failover the old master accepts writes until Sentinel demotes it,
 * which takes it several seconds: ask the sentinels again this often.
 */
#define SENTINEL_RECHECK_MS 1000

static int rconn_connect(struct rconn *c);
static redisContext *connect_to(const char *host, int port, const char *unixpath,
				long long timeout_ms, char *err, size_t errlen);
static int rconn_failed(struct rconn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void rconn_backoff(struct rconn *c);
static long long scan_node(struct rconn *c, const char *pattern,
			   int (*fn)(const char *key, size_t len, void *arg), void *arg,
			   int *stop);

/* ms_timeval - milliseconds as a struct timeval */
static struct timeval
ms_timeval(long long ms)
{
    struct timeval tv;

    tv.tv_sec = (time_t) (ms / 1000);
    tv.tv_usec = (suseconds_t) ((ms % 1000) * 1000);
    return tv;
}

/* rconn_parse_server - "host:port", "[v6]:port", "host" (port 6379) */
int
rconn_parse_server(const char *server, char *host, size_t hostlen, int *port,
		   const char **why)
{
    const char *colon, *h = server;
    size_t hl;
    long p = 6379;

    if (server[0] == '[') {
	const char *close = strchr(server, ']');

	if (close == NULL)
	    return (*why = "unterminated [IPv6] address"), -1;
	h = server + 1;
	hl = (size_t) (close - h);
	colon = close[1] == ':' ? close + 1 : NULL;
	if (close[1] != '\0' && colon == NULL)
	    return (*why = "expected :port after ]"), -1;
    } else {
	colon = strrchr(server, ':');
	hl = colon ? (size_t) (colon - server) : strlen(server);
    }
    if (colon) {
	char *end;

	p = strtol(colon + 1, &end, 10);
	if (*end != '\0' || p < 1 || p > 65535)
	    return (*why = "bad port number"), -1;
    }
    if (hl == 0 || hl >= hostlen)
	return (*why = "bad host name"), -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (int) p;
    return 0;
}

/* connect_to - one TCP or unix connection with a timeout */
static redisContext *
connect_to(const char *host, int port, const char *unixpath, long long timeout_ms,
	   char *err, size_t errlen)
{
    struct timeval tv = ms_timeval(timeout_ms);
    redisContext *ctx;

    ctx = unixpath ? redisConnectUnixWithTimeout(unixpath, tv)
	: redisConnectWithTimeout(host, port, tv);
    if (ctx == NULL) {
	snprintf(err, errlen, "cannot allocate a Redis context");
	return NULL;
    }
    if (ctx->err) {
	if (unixpath)
	    snprintf(err, errlen, "connect to unix:%s: %s", unixpath, ctx->errstr);
	else
	    snprintf(err, errlen, "connect to %s:%d: %s", host, port, ctx->errstr);
	redisFree(ctx);
	return NULL;
    }
    return ctx;
}

/* simple_command - run a command on a bare context, return the reply */
static redisReply *
simple_command(redisContext *ctx, int argc, const char **argv)
{
    return redisCommandArgv(ctx, argc, argv, NULL);
}

/* auth_and_select - AUTH [user] password, SELECT db */
static int
auth_and_select(redisContext *ctx, const char *user, const char *pass, long db,
		char *err, size_t errlen)
{
    redisReply *r;
    char dbs[16];

    if (pass) {
	const char *argv[3] = {"AUTH", user ? user : pass, pass};

	r = simple_command(ctx, user ? 3 : 2, argv);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
	    snprintf(err, errlen, "AUTH failed: %s", r ? r->str : ctx->errstr);
	    if (r)
		freeReplyObject(r);
	    return -1;
	}
	freeReplyObject(r);
    }
    if (db != 0) {
	const char *argv[2] = {"SELECT", dbs};

	snprintf(dbs, sizeof(dbs), "%ld", db);
	r = simple_command(ctx, 2, argv);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
	    snprintf(err, errlen, "SELECT %ld failed: %s", db, r ? r->str : ctx->errstr);
	    if (r)
		freeReplyObject(r);
	    return -1;
	}
	freeReplyObject(r);
    }
    return 0;
}

/* reply_port - a port in a reply: 1 to 65535 in plain digits, else -1 */
static int
reply_port(const redisReply *r)
{
    long p = 0;
    size_t i;

    if (r->len == 0 || r->len > 5)
	return -1;
    for (i = 0; i < r->len; i++) {
	if (r->str[i] < '0' || r->str[i] > '9')
	    return -1;
	p = p * 10 + (r->str[i] - '0');
    }
    return p >= 1 && p <= 65535 ? (int) p : -1;
}

/* rconn_sentinel_resolve - ask the sentinels where the master is */
int
rconn_sentinel_resolve(const struct conf_redis *conf, char *host, size_t hostlen,
		       int *port, char *err, size_t errlen)
{
    size_t i;

    snprintf(err, errlen, "no sentinel configured");
    for (i = 0; i < conf->sentinels.n; i++) {
	const char *argv[3] = {"SENTINEL", "get-master-addr-by-name", conf->sentinel_master};
	char shost[256];
	int sport;
	const char *why;
	redisContext *ctx;
	redisReply *r;

	if (rconn_parse_server(conf->sentinels.v[i], shost, sizeof(shost), &sport, &why) < 0) {
	    snprintf(err, errlen, "sentinel %s: %s", conf->sentinels.v[i], why);
	    continue;
	}
	if ((ctx = connect_to(shost, sport, NULL, conf->connect_timeout_ms, err, errlen)) == NULL)
	    continue;
	redisSetTimeout(ctx, ms_timeval(conf->command_timeout_ms));
	if (conf->sentinel_password
	    && auth_and_select(ctx, NULL, conf->sentinel_password, 0, err, errlen) < 0) {
	    redisFree(ctx);
	    continue;
	}
	r = simple_command(ctx, 3, argv);
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2
	    && r->element[0]->type == REDIS_REPLY_STRING
	    && r->element[1]->type == REDIS_REPLY_STRING
	    && r->element[0]->len > 0 && r->element[0]->len < hostlen
	    && reply_port(r->element[1]) > 0) {
	    snprintf(host, hostlen, "%s", r->element[0]->str);
	    *port = reply_port(r->element[1]);
	    freeReplyObject(r);
	    redisFree(ctx);
	    return 0;
	}
	snprintf(err, errlen, "sentinel %s %s master %s%s%s", conf->sentinels.v[i],
		 r && r->type == REDIS_REPLY_ARRAY && r->elements == 2
		 ? "gave an unusable address for" : "does not know", conf->sentinel_master,
		 r && r->type == REDIS_REPLY_ERROR ? ": " : "",
		 r && r->type == REDIS_REPLY_ERROR ? r->str : "");
	if (r)
	    freeReplyObject(r);
	redisFree(ctx);
    }
    return -1;
}

/* is_master - does ROLE say master? */
static int
is_master(redisContext *ctx)
{
    const char *argv[1] = {"ROLE"};
    redisReply *r = simple_command(ctx, 1, argv);
    int ok;

    ok = r && r->type == REDIS_REPLY_ARRAY && r->elements > 0
	&& r->element[0]->type == REDIS_REPLY_STRING
	&& strcmp(r->element[0]->str, "master") == 0;
    if (r)
	freeReplyObject(r);
    return ok;
}

/* rconn_backoff - drop the connection, no new attempt before the delay */
static void
rconn_backoff(struct rconn *c)
{
    if (c->ctx) {
	redisFree(c->ctx);
	c->ctx = NULL;
    }
    c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : c->conf->reconnect_min_ms;
    if (c->backoff_ms > c->conf->reconnect_max_ms)
	c->backoff_ms = c->conf->reconnect_max_ms;
    c->next_try_ms = monotime_ms() + c->backoff_ms;
}

/* rconn_failed - drop the connection and schedule the next attempt */
static int
rconn_failed(struct rconn *c, const char *fmt, ...)
{
    va_list ap;
    char buf[sizeof(c->err)];

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    memcpy(c->err, buf, sizeof(c->err));
    rconn_backoff(c);
    /* a wrong password fails the same way at every attempt: say it once */
    if (strcmp(c->said, c->err) != 0) {
	memcpy(c->said, c->err, sizeof(c->said));
	msg_limit_reset(&c->said_again);
    }
    msg_warn_limited(&c->said_again, "redis: %s (next attempt in %lld ms)", c->err,
		     c->backoff_ms);
    return -1;
}

/* ctx_command - rcheck_cmd_fn over a bare context */
static redisReply *
ctx_command(void *arg, int argc, const char **argv)
{
    return simple_command(arg, argc, argv);
}

/* rconn_connect - connect (through the sentinels if any) */
static int
rconn_connect(struct rconn *c)
{
    const struct conf_redis *conf = c->conf;
    char host[256];
    const char *unixpath = NULL;
    const char *why;
    int port = 0;

    if (c->ctx && conf->sentinels.n > 0 && monotime_ms() >= c->recheck_ms) {
	c->recheck_ms = monotime_ms() + SENTINEL_RECHECK_MS;
	if (rconn_sentinel_resolve(conf, host, sizeof(host), &port, c->err,
				   sizeof(c->err)) == 0
	    && (port != c->port || strcmp(host, c->host) != 0)) {
	    msg_info("redis: sentinels name %s:%d as master now (was %s:%d)",
		     host, port, c->host, c->port);
	    rconn_drop(c);
	}
    }
    if (c->ctx)
	return 0;
    if (monotime_ms() < c->next_try_ms)
	return -1;			/* keep the last error: still backing off */
    if (conf->sentinels.n > 0) {
	if (rconn_sentinel_resolve(conf, host, sizeof(host), &port, c->err, sizeof(c->err)) < 0)
	    return rconn_failed(c, "%s", c->err);
	c->recheck_ms = monotime_ms() + SENTINEL_RECHECK_MS;
    } else if (strncmp(conf->server, "unix:", 5) == 0) {
	unixpath = conf->server + 5;
    } else if (rconn_parse_server(conf->server, host, sizeof(host), &port, &why) < 0) {
	return rconn_failed(c, "server %s: %s", conf->server, why);
    }
    c->ctx = connect_to(host, port, unixpath, conf->connect_timeout_ms, c->err, sizeof(c->err));
    if (c->ctx == NULL)
	return rconn_failed(c, "%s", c->err);
    redisSetTimeout(c->ctx, ms_timeval(conf->command_timeout_ms));
    if (auth_and_select(c->ctx, conf->username, conf->password, conf->db,
			c->err, sizeof(c->err)) < 0)
	return rconn_failed(c, "%s", c->err);
    if (conf->sentinels.n > 0 && !is_master(c->ctx))
	return rconn_failed(c, "%s:%d is not a master (failover in progress?)", host, port);
    switch (rcheck_connected(ctx_command, c->ctx, conf)) {
    case RCHECK_IOERR:
	return rconn_failed(c, "%s", c->ctx->errstr[0] ? c->ctx->errstr : "connection lost");
    case RCHECK_REFUSED:			/* logged at error priority */
	snprintf(c->err, sizeof(c->err), "server not used: its maxmemory-policy evicts keys");
	rconn_backoff(c);
	return -1;
    }
    snprintf(c->host, sizeof(c->host), "%s", unixpath ? unixpath : host);
    c->port = port;
    if (c->backoff_ms)
	msg_info("redis: connected again to %s%s%s", unixpath ? "unix:" : host,
		 unixpath ? unixpath : "", "");
    c->backoff_ms = 0;
    c->err[0] = '\0';
    c->said[0] = '\0';
    return 0;
}

/* rconn_new - a connection object; connects on first use */
struct rconn *
rconn_new(const struct conf_redis *conf)
{
    struct rconn *c = xcalloc(1, sizeof(*c));

    c->conf = conf;
    c->said_again = (struct msg_limit) MSG_LIMIT_INIT(SAME_FAILURE_SAY_EVERY);
    if (conf->cluster.n > 0)
	c->cl = rcluster_new(conf, &conf->cluster);
    return c;
}

/* rconn_free - close and release */
void
rconn_free(struct rconn *c)
{
    if (c == NULL)
	return;
    if (c->ctx)
	redisFree(c->ctx);
    rcluster_free(c->cl);
    free(c);
}

/* rconn_drop - close the connection; the next command reconnects at once */
void
rconn_drop(struct rconn *c)
{
    if (c->ctx)
	redisFree(c->ctx);
    c->ctx = NULL;
}

/* rconn_maybe_ran - was the last command sent (it may have run)? */
int
rconn_maybe_ran(const struct rconn *c)
{
    return c->cl ? rcluster_maybe_ran(c->cl) : c->sent;
}

/* rconn_error - why the last command failed */
const char *
rconn_error(const struct rconn *c)
{
    if (c->cl)
	return rcluster_error(c->cl);
    return c->err[0] ? c->err : "no error";
}

static unsigned long long failures;	/* commands without a reply, process-wide */

/* rconn_failure_count - commands that got no reply, since the start */
unsigned long long
rconn_failure_count(void)
{
    return __atomic_load_n(&failures, __ATOMIC_RELAXED);
}

/*
 * REPEATABLE - commands that do the same when they run twice: read-only
 * ones, and writes of a fixed value.  Counters (INCR, HINCRBY ...) are not
 * here: a reply lost with the connection may mean the count was made.
 */
static const char *const repeatable[] = {
    "GET", "MGET", "HGET", "HMGET", "HGETALL", "EXISTS", "TTL", "PTTL", "TYPE",
    "SCAN", "ZRANGE", "ZSCORE", "ZCARD", "SMEMBERS", "SISMEMBER", "XRANGE", "XLEN",
    "PING", "TIME", "INFO", "ROLE", "CONFIG", "SET", "DEL", "UNLINK", "EXPIRE",
    NULL,
};

/*
 * command_repeatable - may this command run twice?  Not a SET or EXPIRE
 * with a condition (NX, XX, GT, LT) or SET ... GET: the second run
 * answers as if another client had been first (SET NX: nil).
 */
static int
command_repeatable(int argc, const char **argv, const size_t *argvlen)
{
    static const char *const cond[] = {"NX", "XX", "GT", "LT", "GET", NULL};
    const char *const *p, *const *q;
    size_t len = argvlen ? argvlen[0] : strlen(argv[0]), l;
    int i;

    for (p = repeatable; *p; p++)
	if (strlen(*p) == len && strncasecmp(*p, argv[0], len) == 0)
	    break;
    if (*p == NULL)
	return 0;
    if (strcmp(*p, "SET") != 0 && strcmp(*p, "EXPIRE") != 0)
	return 1;
    for (i = 3; i < argc; i++) {
	l = argvlen ? argvlen[i] : strlen(argv[i]);
	for (q = cond; *q; q++)
	    if (strlen(*q) == l && strncasecmp(*q, argv[i], l) == 0)
		return 0;
    }
    return 1;
}

/*
 * closed_by_server - an idle connection whose server has hung up (CLIENT
 * KILL, its timeout, a restart): it is readable, or in error, while we wait
 * for nothing.  Nothing was sent on it, so a new one loses nothing.
 */
static int
closed_by_server(const redisContext *ctx)
{
    struct pollfd p = {.fd = ctx->fd, .events = POLLIN};

    return poll(&p, 1, 0) > 0;
}

/* dropped - did the last command fail because the connection was cut? */
static int
dropped(const redisContext *ctx, int err)
{
    return ctx->err == REDIS_ERR_EOF
	|| (ctx->err == REDIS_ERR_IO && (err == ECONNRESET || err == EPIPE));
}

/*
 * command_retry - one command, sent again once on a new connection when a
 * healthy one was cut while it ran (only if may_repeat: it may have run)
 * or when the server turned replica in a failover (it did not run).
 */
static redisReply *
command_retry(struct rconn *c, int argc, const char **argv, const size_t *argvlen,
	      int may_repeat)
{
    redisReply *r;
    int healthy, err, again = 1;

    c->sent = 0;
    for (;;) {
	healthy = c->ctx != NULL;
	if (healthy && closed_by_server(c->ctx)) {
	    msg_info("redis: the server closed the connection: reconnecting");
	    rconn_drop(c);
	}
	if (rconn_connect(c) < 0)
	    return NULL;
	errno = 0;
	c->sent = 1;
	r = redisCommandArgv(c->ctx, argc, argv, argvlen);
	err = errno;
	if (r == NULL) {
	    if (again-- && healthy && may_repeat && dropped(c->ctx, err)) {
		msg_info("redis: connection lost (%s): reconnecting, sending again",
			 c->ctx->errstr);
		rconn_drop(c);
		continue;
	    }
	    rconn_failed(c, "%s", c->ctx->errstr[0] ? c->ctx->errstr : "connection lost");
	    return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "READONLY", 8) == 0) {
	    freeReplyObject(r);
	    if (again--) {
		msg_info("redis: server became a replica (failover): reconnecting, "
			 "sending again");
		rconn_drop(c);
		continue;
	    }
	    rconn_failed(c, "server became a replica (failover)");
	    return NULL;
	}
	return r;
    }
}

/*
 * KEYSPEC - where a command's keys are, for a cluster: count keys from
 * argv[first] (-1: all the rest, -2: every other one of the rest); first 0:
 * none (any master answers).  A command not listed has one key, argv[1].
 * EVAL and EVALSHA say their number of keys in argv[2].
 */
static const struct keyspec {
    const char *name;
    int first, count;
} keyspec[] = {
    {"PING", 0, 0}, {"INFO", 0, 0}, {"TIME", 0, 0}, {"ROLE", 0, 0},
    {"CONFIG", 0, 0}, {"SCRIPT", 0, 0}, {"CLUSTER", 0, 0}, {"CLIENT", 0, 0},
    {"ACL", 0, 0}, {"COMMAND", 0, 0}, {"DBSIZE", 0, 0}, {"ECHO", 0, 0},
    {"LASTSAVE", 0, 0}, {"SLOWLOG", 0, 0}, {"LATENCY", 0, 0}, {"MEMORY", 0, 0},
    {"FLUSHDB", 0, 0}, {"FLUSHALL", 0, 0}, {"RANDOMKEY", 0, 0}, {"WAIT", 0, 0},
    {"PUBLISH", 0, 0}, {"SCAN", 0, 0}, {"DEBUG", 0, 0}, {"FUNCTION", 0, 0},
    {"MGET", 1, -1}, {"DEL", 1, -1}, {"UNLINK", 1, -1}, {"EXISTS", 1, -1},
    {"TOUCH", 1, -1}, {"WATCH", 1, -1}, {"SINTER", 1, -1}, {"SUNION", 1, -1},
    {"SDIFF", 1, -1}, {"SINTERSTORE", 1, -1}, {"SUNIONSTORE", 1, -1},
    {"SDIFFSTORE", 1, -1}, {"PFCOUNT", 1, -1}, {"PFMERGE", 1, -1},
    {"MSET", 1, -2}, {"MSETNX", 1, -2}, {"RENAME", 1, 2}, {"RENAMENX", 1, 2},
    {"COPY", 1, 2}, {"SMOVE", 1, 2}, {"LMOVE", 1, 2}, {"RPOPLPUSH", 1, 2},
    {"OBJECT", 2, 1}, {"XINFO", 2, 1}, {"XGROUP", 2, 1},
    {NULL, 0, 0},
};

/* rconn_command_keys - where a command's keys are: their number, first, step */
int
rconn_command_keys(int argc, const char **argv, const size_t *argvlen, int *first,
		   int *step)
{
    size_t len = argvlen ? argvlen[0] : strlen(argv[0]);
    const struct keyspec *k;
    int count = 1;

    *first = 1, *step = 1;
    for (k = keyspec; k->name; k++)
	if (strlen(k->name) == len && strncasecmp(k->name, argv[0], len) == 0)
	    break;
    if ((len == 4 && strncasecmp(argv[0], "EVAL", 4) == 0)
	|| (len == 7 && strncasecmp(argv[0], "EVALSHA", 7) == 0)) {
	*first = 3, count = argc > 2 ? atoi(argv[2]) : 0;
    } else if (k->name) {
	*first = k->first, count = k->count;
    }
    if (count == -2)		/* key value key value ... */
	*step = 2, count = (argc - *first + 1) / 2;
    else if (count == -1)
	count = argc - *first;
    if (*first == 0 || *first >= argc || count <= 0)
	return (*first = 0), 0;
    return count;
}

/* cluster_command - one command to the master of its keys, if one slot */
static redisReply *
cluster_command(struct rconn *c, int argc, const char **argv, const size_t *argvlen)
{
    int first, step, count, i;
    unsigned slot;

    count = rconn_command_keys(argc, argv, argvlen, &first, &step);
    if (step == 2 && count > 0) {	/* one slot, sent by the first key */
	slot = rcluster_keyslot(argv[first], argvlen ? argvlen[first] : strlen(argv[first]));
	for (i = first + 2; i < argc; i += 2)
	    if (rcluster_keyslot(argv[i], argvlen ? argvlen[i] : strlen(argv[i])) != slot) {
		const char *two[2] = {argv[first], argv[i]};
		const size_t twolen[2] = {argvlen ? argvlen[first] : strlen(argv[first]),
		    argvlen ? argvlen[i] : strlen(argv[i])};

		return rcluster_command(c->cl, 0, 2, 2, two, twolen);	/* refused */
	    }
	count = 1;
    }
    return rcluster_command(c->cl, first, count, argc, argv, argvlen);
}

/* rconn_command - one command; NULL on a connection problem */
redisReply *
rconn_command(struct rconn *c, int argc, const char **argv, const size_t *argvlen)
{
    return rconn_command_repeat(c, argc, argv, argvlen, -1);
}

/*
 * rconn_command_repeat - the same; after a cut while it ran, sent again
 * if repeat is 1, never if 0, as its name says if -1 (rcluster's scripts)
 */
redisReply *
rconn_command_repeat(struct rconn *c, int argc, const char **argv, const size_t *argvlen,
		     int repeat)
{
    redisReply *r;

    /* on a cluster, the node's connection counts its own failures */
    if (c->cl && argc >= 1)
	return cluster_command(c, argc, argv, argvlen);
    r = argc < 1 ? NULL : command_retry(c, argc, argv, argvlen, repeat >= 0 ? repeat
				     : command_repeatable(argc, argv, argvlen));
    if (r == NULL)
	__atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
    return r;
}

/* rconn_commandv - the same with NULL-terminated string arguments */
redisReply *
rconn_commandv(struct rconn *c, const char *arg, ...)
{
    const char *argv[32];
    int argc = 0;
    va_list ap;

    va_start(ap, arg);
    for (; arg != NULL; arg = va_arg(ap, const char *)) {
	if (argc == 32)
	    msg_fatal("rconn_commandv: more than 32 arguments");
	argv[argc++] = arg;
    }
    va_end(ap);
    return rconn_command(c, argc, argv, NULL);
}

/* rscript_init - remember a script and its SHA1 */
void
rscript_init(struct rscript *s, const char *source)
{
    unsigned char md[SHA_DIGEST_LENGTH];
    int i;

    s->source = source;
    SHA1((const unsigned char *) source, strlen(source), md);
    for (i = 0; i < SHA_DIGEST_LENGTH; i++)
	snprintf(s->sha1 + 2 * i, 3, "%02x", md[i]);
}

/* rconn_eval - EVALSHA, then EVAL on NOSCRIPT */
redisReply *
rconn_eval(struct rconn *c, struct rscript *s, int nkeys, int argc,
	   const char **argv, const size_t *argvlen)
{
    const char **av;
    size_t *al;
    char nk[16];
    redisReply *r;
    int i;

    if (c->cl)			/* the node's connection counts failures */
	return rcluster_eval(c->cl, s, nkeys, argc, argv, argvlen);
    av = xreallocarray(NULL, (size_t) argc + 3, sizeof(*av));
    al = xreallocarray(NULL, (size_t) argc + 3, sizeof(*al));
    snprintf(nk, sizeof(nk), "%d", nkeys);
    av[0] = "EVALSHA";
    al[0] = 7;
    av[1] = s->sha1;
    al[1] = 40;
    av[2] = nk;
    al[2] = strlen(nk);
    for (i = 0; i < argc; i++) {
	av[i + 3] = argv[i];
	al[i + 3] = argvlen ? argvlen[i] : strlen(argv[i]);
    }
    r = command_retry(c, argc + 3, av, al, s->repeatable);
    if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
	freeReplyObject(r);
	av[0] = "EVAL";
	al[0] = 4;
	av[1] = s->source;
	al[1] = strlen(s->source);
	r = command_retry(c, argc + 3, av, al, s->repeatable);
    }
    if (r == NULL)
	__atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
    free(av);
    free(al);
    return r;
}

/* put_head - "*N\r\n" or "$LEN\r\n" (lead and the number) at out; its length */
static size_t
put_head(char *out, char lead, size_t len)
{
    char num[24];
    size_t n = 0, d = 0;

    do
	num[d++] = (char) ('0' + len % 10);
    while ((len /= 10) > 0);
    out[n++] = lead;
    while (d > 0)
	out[n++] = num[--d];
    out[n++] = '\r', out[n++] = '\n';
    return n;
}

/*
 * pipe_write - the commands in Redis' protocol, appended to the context's
 * output at once (formatted here: hiredis' formatting of each command
 * costs more than the command), then all written; 0, or -1
 */
static int
pipe_write(struct rconn *c, const struct rconn_cmd *cmd, const size_t *which, size_t n)
{
    size_t i, size = 0, at = 0;
    char *buf;
    int j, done = 0, rc = 0;

    for (i = 0; i < n; i++) {
	const struct rconn_cmd *k = &cmd[which ? which[i] : i];

	size += 24;
	for (j = 0; j < k->argc; j++)
	    size += 26 + (k->argvlen ? k->argvlen[j] : strlen(k->argv[j]));
    }
    buf = xreallocarray(NULL, size ? size : 1, 1);
    for (i = 0; i < n; i++) {
	const struct rconn_cmd *k = &cmd[which ? which[i] : i];

	at += put_head(buf + at, '*', (size_t) k->argc);
	for (j = 0; j < k->argc; j++) {
	    size_t len = k->argvlen ? k->argvlen[j] : strlen(k->argv[j]);

	    at += put_head(buf + at, '$', len);
	    memcpy(buf + at, k->argv[j], len);
	    at += len;
	    buf[at++] = '\r', buf[at++] = '\n';
	}
    }
    if (redisAppendFormattedCommand(c->ctx, buf, at) != REDIS_OK)
	rc = rconn_failed(c, "%s", c->ctx->errstr);
    free(buf);
    while (rc == 0 && !done)
	if (redisBufferWrite(c->ctx, &done) != REDIS_OK)
	    rc = rconn_failed(c, "%s", c->ctx->errstr);
    return rc;
}

/*
 * rconn_pipe_send - append the commands which[0..n-1] of cmd to a plain
 * connection and write them all; 0, or -1: nothing sent, or with
 * rconn_maybe_ran() the write cut (some may have reached the server)
 */
int
rconn_pipe_send(struct rconn *c, const struct rconn_cmd *cmd, const size_t *which,
		size_t n)
{
    c->sent = 0;
    if (c->ctx && closed_by_server(c->ctx))
	rconn_drop(c);
    if (rconn_connect(c) < 0)
	return -1;
    c->sent = 1;
    return pipe_write(c, cmd, which, n);
}

/*
 * rconn_pipe_more - more commands after rconn_pipe_send(), on the same
 * connection (never a new one: the replies pending would be lost); 0, or
 * -1 as rconn_pipe_send()
 */
int
rconn_pipe_more(struct rconn *c, const struct rconn_cmd *cmd, const size_t *which,
		size_t n)
{
    if (c->ctx == NULL)
	return (c->sent = 0), -1;
    c->sent = 1;
    return pipe_write(c, cmd, which, n);
}

/* rconn_pipe_read - the n replies of rconn_pipe_send(); NULL from a failure on */
size_t
rconn_pipe_read(struct rconn *c, const size_t *which, size_t n, redisReply **reply)
{
    size_t i, lost = 0;
    void *r;

    for (i = 0; i < n; i++) {
	r = NULL;
	if (c->ctx == NULL || redisGetReply(c->ctx, &r) != REDIS_OK || r == NULL) {
	    if (c->ctx)
		rconn_failed(c, "%s", c->ctx->errstr[0] ? c->ctx->errstr : "connection lost");
	    r = NULL;
	    lost++;
	}
	reply[which ? which[i] : i] = r;
    }
    __atomic_add_fetch(&failures, lost, __ATOMIC_RELAXED);
    return lost;
}

/* a pipeline in flight: rconn_pipeline_start() */
struct rconn_flight {
    struct rconn *c;
    struct rcluster_flight *cl;
    size_t n;
    int sent;
};

/* rconn_pipeline_start - write n commands; their replies are read by _finish() */
struct rconn_flight *
rconn_pipeline_start(struct rconn *c, size_t n, const struct rconn_cmd *cmd)
{
    struct rconn_flight *f = xcalloc(1, sizeof(*f));

    f->c = c;
    f->n = n;
    if (c->cl)
	f->cl = rcluster_pipeline_start(c->cl, n, cmd);
    else
	f->sent = n == 0 || rconn_pipe_send(c, cmd, NULL, n) == 0;
    return f;
}

/* rconn_pipeline_finish - the replies of rconn_pipeline_start(); NULLs counted */
size_t
rconn_pipeline_finish(struct rconn_flight *f, redisReply **reply)
{
    size_t i, lost;

    if (f->cl) {
	lost = rcluster_pipeline_finish(f->cl, reply);
    } else if (f->sent) {
	lost = rconn_pipe_read(f->c, NULL, f->n, reply);
    } else {
	for (i = 0; i < f->n; i++)
	    reply[i] = NULL;
	__atomic_add_fetch(&failures, f->n, __ATOMIC_RELAXED);
	lost = f->n;
    }
    free(f);
    return lost;
}

/* rconn_pipeline - n commands in one round trip (per master on a cluster) */
size_t
rconn_pipeline(struct rconn *c, size_t n, const struct rconn_cmd *cmd, redisReply **reply)
{
    return rconn_pipeline_finish(rconn_pipeline_start(c, n, cmd), reply);
}

/* rconn_is_cluster - 1 for a Redis Cluster client ([redis] cluster) */
int
rconn_is_cluster(const struct rconn *c)
{
    return c->cl != NULL;
}

/* rconn_masters - the plain connections behind c: every master, or c itself */
size_t
rconn_masters(struct rconn *c, struct rconn **v, size_t max)
{
    if (c->cl)
	return rcluster_masters(c->cl, v, max);
    if (max == 0)
	return 0;
    v[0] = c;
    return 1;
}

/* rconn_scan - each key matching pattern, by SCAN on every master: never KEYS */
long long
rconn_scan(struct rconn *c, const char *pattern,
	   int (*fn)(const char *key, size_t len, void *arg), void *arg)
{
    struct rconn *node[RCLUSTER_MAX_NODES];
    long long count = 0, n;
    size_t i, nn;
    int stop = 0;

    if ((nn = rconn_masters(c, node, RCLUSTER_MAX_NODES)) == 0) {
	msg_warn("redis: SCAN: %s", rconn_error(c));
	return -1;
    }
    for (i = 0; i < nn && !stop; i++) {
	if ((n = scan_node(node[i], pattern, fn, arg, &stop)) < 0)
	    return -1;
	count += n;
    }
    return count;
}

/* scan_node - rconn_scan() on one server; *stop set when fn said so */
static long long
scan_node(struct rconn *c, const char *pattern,
	  int (*fn)(const char *key, size_t len, void *arg), void *arg, int *stop)
{
    char cursor[32] = "0";
    long long count = 0;

    do {
	redisReply *r = rconn_commandv(c, "SCAN", cursor, "MATCH", pattern, "COUNT",
				       RCONN_SCAN_COUNT, NULL);
	size_t i;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2
	    || r->element[0]->type != REDIS_REPLY_STRING
	    || r->element[1]->type != REDIS_REPLY_ARRAY) {
	    msg_warn("redis: SCAN: %s", r ? (r->str ? r->str : "unexpected reply")
		     : rconn_error(c));
	    if (r)
		freeReplyObject(r);
	    return -1;
	}
	snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
	for (i = 0; i < r->element[1]->elements && !*stop; i++) {
	    const redisReply *k = r->element[1]->element[i];

	    if (k->type != REDIS_REPLY_STRING)
		continue;
	    count++;
	    if ((*stop = fn(k->str, k->len, arg)) < 0) {
		freeReplyObject(r);
		return -1;
	    }
	}
	freeReplyObject(r);
    } while (!*stop && strcmp(cursor, "0") != 0);
    return count;
}

/* rconn_scan_pattern - literal with its glob bytes escaped, then glob */
void
rconn_scan_pattern(char *buf, size_t len, const char *literal, const char *glob)
{
    size_t o = 0;
    const char *p;

    for (p = literal; *p && o + 3 < len; p++) {
	if (strchr("*?[]\\", *p))
	    buf[o++] = '\\';
	buf[o++] = *p;
    }
    buf[o] = '\0';
    snprintf(buf + o, len - o, "%s", glob);
}
