/*
 * rasync - an asynchronous Redis connection on a libevent loop
 * (see rasync.h)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <async.h>
#include <adapters/libevent.h>

#include "monotime.h"
#include "msg.h"
#include "rasync.h"
#include "rcluster.h"
#include "redischeck.h"
#include "redisconn.h"
#include "xalloc.h"

struct pending {
    rasync_fn fn;
    void *arg;
    char *cmd;			/* a caller's command, formatted: to send again */
    size_t len;
    int again;			/* sent again already (a cut or READONLY) */
    int tries;			/* TRYAGAIN replies so far */
    long long first_ms;		/* when the caller gave it */
    int once;			/* never sent again after a cut: it may have run */
};

/* a command refused with TRYAGAIN, waiting to be sent again */
struct again {
    struct rasync *ra;
    struct pending p;
    struct event *ev;
    struct again *prev, *next;
};

/* a command sent with ASKING to the node a migrating slot's key went to */
struct askreq {
    struct rasync *ra;
    struct pending p;
};

struct rasync {
    struct event_base *base;
    const struct conf_redis *conf;
    const char *script;
    long max_pending;
    redisAsyncContext *ac;
    int ready;			/* connected, set up and checked */
    int setup_failed;		/* AUTH, SELECT or SCRIPT LOAD refused */
    struct msg_limit said_setup;	/* that refusal, said once (then rarely) */
    struct rcheck_facts facts;	/* the server check's replies so far */
    int check_next;		/* the command whose reply comes next */
    long long connect_started_ms;
    long long last_progress_ms;	/* last reply, or first command sent */
    long long backoff_ms;
    struct event *retry;	/* reconnect timer */
    struct event *watch;	/* timeouts */
    /* the callbacks of commands in flight, in order (replies come in order) */
    struct pending *ring;
    size_t cap, head, count;
    int quick;			/* reconnecting at once after a healthy one broke */
    long long quick_ms;		/* when that last began */
    /* commands waiting for that reconnect, in order */
    struct pending *held;
    size_t nheld, capheld;
    /* [redis] cluster: the slot this connection serves, and the map reader */
    int slot;			/* -1: not on a cluster */
    struct rcluster *map;
    char addr[300];		/* where it connects: for the log */
    char host[256];		/* the slot's master, on a cluster */
    int port;
    /* ASK: one connection to the node importing the slot, made when asked */
    redisAsyncContext *askac;
    char askhost[256];
    int askport;
    size_t askcount;		/* its commands in flight */
    long long ask_progress_ms;	/* its last reply, or first command sent */
    struct msg_limit said_ask;
    struct again *waits;	/* commands waiting out a TRYAGAIN */
};

#define SETUP_SAY_EVERY 300	/* seconds between repeats of a setup refusal */
#define ASK_SAY_EVERY 60	/* seconds between "following ASK" lines */

/* a connection that breaks again this soon after a quick reconnect backs off */
#define QUICK_EVERY_MS 1000

static void rasync_connect(struct rasync *ra);
static void on_reply(redisAsyncContext *ac, void *reply, void *privdata);

/* next_backoff - the delay before the next attempt if this one fails */
static long long
next_backoff(const struct rasync *ra)
{
    long long ms = ra->backoff_ms ? ra->backoff_ms * 2 : ra->conf->reconnect_min_ms;

    return ms < ra->conf->reconnect_max_ms ? ms : ra->conf->reconnect_max_ms;
}

/* ring_push - remember the callback of a command just sent */
static void
ring_push(struct rasync *ra, const struct pending *p)
{
    if (ra->count == ra->cap) {
	struct pending *n = xreallocarray(NULL, ra->cap ? ra->cap * 2 : 256, sizeof(*n));
	size_t i;

	for (i = 0; i < ra->count; i++)
	    n[i] = ra->ring[(ra->head + i) % ra->cap];
	free(ra->ring);
	ra->ring = n;
	ra->head = 0;
	ra->cap = ra->cap ? ra->cap * 2 : 256;
    }
    if (ra->count == 0)
	ra->last_progress_ms = monotime_ms();
    ra->ring[(ra->head + ra->count) % ra->cap] = *p;
    ra->count++;
}

/* hold - keep a command until the connection is back (owns p->cmd) */
static void
hold(struct rasync *ra, const struct pending *p)
{
    if (ra->nheld == ra->capheld) {
	ra->capheld = ra->capheld ? ra->capheld * 2 : 64;
	ra->held = xreallocarray(ra->held, ra->capheld, sizeof(*ra->held));
    }
    ra->held[ra->nheld++] = *p;
}

/* held_fail - the connection did not come back: NULL to those waiting */
static void
held_fail(struct rasync *ra)
{
    struct pending *h = ra->held;
    size_t i, n = ra->nheld;

    /* a callback may send (and so hold) again: work on a list of our own */
    ra->held = NULL;
    ra->nheld = ra->capheld = 0;
    for (i = 0; i < n; i++) {
	free(h[i].cmd);
	if (h[i].fn)
	    h[i].fn(h[i].arg, NULL);
    }
    free(h);
}

/* send_formatted - a caller's formatted command; -1: not sent (p->cmd freed) */
static int
send_formatted(struct rasync *ra, struct pending *p)
{
    if (ra->ac == NULL
	|| redisAsyncFormattedCommand(ra->ac, on_reply, ra, p->cmd, p->len) != REDIS_OK) {
	free(p->cmd);
	return -1;
    }
    ring_push(ra, p);
    return 0;
}

/* held_send - the connection is back: send what waited, in order */
static void
held_send(struct rasync *ra)
{
    struct pending *h = ra->held;
    size_t i, n = ra->nheld;

    ra->held = NULL;
    ra->nheld = ra->capheld = 0;
    for (i = 0; i < n; i++)
	if (send_formatted(ra, &h[i]) < 0 && h[i].fn)
	    h[i].fn(h[i].arg, NULL);
    free(h);
}

/* deliver - the final reply (or NULL) to the caller */
static void
deliver(struct pending *p, redisReply *r)
{
    free(p->cmd);
    p->cmd = NULL;
    if (p->fn)
	p->fn(p->arg, r);
}

/* resend - a command that did not run, sent again (or held for a reconnect) */
static void
resend(struct rasync *ra, struct pending *p)
{
    if (ra->quick) {
	hold(ra, p);
	return;
    }
    if (!rasync_ready(ra)) {
	free(p->cmd);
	p->cmd = NULL;
    } else if (send_formatted(ra, p) == 0) {
	return;
    }
    if (p->fn)				/* send_formatted() freed p->cmd */
	p->fn(p->arg, NULL);
}

/* on_again - a TRYAGAIN's wait is over: send the command again */
static void
on_again(evutil_socket_t fd, short what, void *arg)
{
    struct again *a = arg;
    struct rasync *ra = a->ra;
    struct pending p = a->p;

    (void) fd;
    (void) what;
    if (a->prev)
	a->prev->next = a->next;
    else
	ra->waits = a->next;
    if (a->next)
	a->next->prev = a->prev;
    event_free(a->ev);
    free(a);
    resend(ra, &p);
}

/*
 * tryagain_later - a command refused with TRYAGAIN (it did not run) waits
 * and is sent again; -1 when [redis] command_timeout has passed since the
 * caller gave it (the TRYAGAIN is then the caller's)
 */
static int
tryagain_later(struct rasync *ra, struct pending *p)
{
    long long wait;
    struct again *a;
    struct timeval tv;

    if (p->cmd == NULL || (wait = rcluster_tryagain_wait(p->tries, monotime_ms() - p->first_ms,
							 ra->conf->command_timeout_ms)) < 0)
	return -1;
    p->tries++;
    a = xcalloc(1, sizeof(*a));
    a->ra = ra;
    a->p = *p;
    a->ev = evtimer_new(ra->base, on_again, a);
    a->next = ra->waits;
    if (ra->waits)
	ra->waits->prev = a;
    ra->waits = a;
    tv.tv_sec = wait / 1000;
    tv.tv_usec = (wait % 1000) * 1000;
    evtimer_add(a->ev, &tv);
    return 0;
}

/* ask_drop - close the ASK connection: its commands get NULL */
static void
ask_drop(struct rasync *ra)
{
    redisAsyncContext *ac = ra->askac;

    ra->askac = NULL;
    ra->askcount = 0;
    if (ac)
	redisAsyncFree(ac);
}

/* on_ask_reply - the importing node's reply to a command sent after ASKING */
static void
on_ask_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct askreq *q = privdata;
    struct rasync *ra = q->ra;
    struct pending p = q->p;

    free(q);
    if (ac == ra->askac && ra->askcount > 0) {
	ra->askcount--;
	ra->ask_progress_ms = monotime_ms();
    }
    if (rcluster_reply_kind(reply) == RCLUSTER_TRYAGAIN && tryagain_later(ra, &p) == 0)
	return;
    deliver(&p, reply);
}

/* on_ask_connect - the ASK connection is up, or failed */
static void
on_ask_connect(const redisAsyncContext *ac, int status)
{
    struct rasync *ra = ac->data;

    if (status != REDIS_OK) {
	msg_warn("redis cluster: connect to %s:%d (ASK): %s", ra->askhost, ra->askport,
		 ac->errstr);
	if (ac == ra->askac) {		/* hiredis frees it: its commands get NULL */
	    ra->askac = NULL;
	    ra->askcount = 0;
	}
    }
}

/* on_ask_disconnect - the ASK connection is gone */
static void
on_ask_disconnect(const redisAsyncContext *ac, int status)
{
    struct rasync *ra = ac->data;

    (void) status;
    if (ac == ra->askac) {
	ra->askac = NULL;
	ra->askcount = 0;
    }
}

/* ask_link - the connection to host:port for ASK, made if need be; NULL: none */
static redisAsyncContext *
ask_link(struct rasync *ra, const char *host, int port)
{
    redisAsyncContext *ac;
    const char *argv[3];
    int n = 0;

    if (ra->askac && ra->askport == port && strcmp(ra->askhost, host) == 0)
	return ra->askac;
    ask_drop(ra);			/* another node: a migration that came after */
    if ((ac = redisAsyncConnect(host, port)) == NULL)
	msg_fatal("redis: out of memory");
    if (ac->err) {
	msg_warn("redis cluster: connect to %s:%d (ASK): %s", host, port, ac->errstr);
	redisAsyncFree(ac);
	return NULL;
    }
    msg_info_limited(&ra->said_ask, "redis cluster: slot %d is migrating: following ASK "
		     "to %s:%d", ra->slot, host, port);
    ac->data = ra;
    redisLibeventAttach(ac, ra->base);
    redisAsyncSetConnectCallback(ac, on_ask_connect);
    redisAsyncSetDisconnectCallback(ac, on_ask_disconnect);
    snprintf(ra->askhost, sizeof(ra->askhost), "%s", host);
    ra->askport = port;
    ra->askac = ac;
    ra->askcount = 0;
    /* set up as the slot's connection is; a refusal shows in the replies */
    if (ra->conf->password) {
	argv[n++] = "AUTH";
	if (ra->conf->username)
	    argv[n++] = ra->conf->username;
	argv[n++] = ra->conf->password;
	redisAsyncCommandArgv(ac, NULL, NULL, n, argv, NULL);
    }
    argv[0] = "SCRIPT";
    argv[1] = "LOAD";
    argv[2] = ra->script;
    redisAsyncCommandArgv(ac, NULL, NULL, 3, argv, NULL);
    return ac;
}

/*
 * follow_ask - send a command answered with "ASK slot host:port" to that
 * node, after ASKING, once; the slot map is left alone.  -1: not sent
 */
static int
follow_ask(struct rasync *ra, struct pending *p, const redisReply *r)
{
    char host[256];
    int slot, port;
    redisAsyncContext *ac;
    struct askreq *q;
    const char *asking[1] = {"ASKING"};

    if (p->cmd == NULL || rcluster_parse_redirect(r->str, r->len, &slot, host, sizeof(host),
						 &port) != RCLUSTER_ASK)
	return -1;
    if ((ac = ask_link(ra, host[0] ? host : ra->host, port)) == NULL)
	return -1;
    q = xcalloc(1, sizeof(*q));
    q->ra = ra;
    q->p = *p;
    if (redisAsyncCommandArgv(ac, NULL, NULL, 1, asking, NULL) != REDIS_OK
	|| redisAsyncFormattedCommand(ac, on_ask_reply, q, p->cmd, p->len) != REDIS_OK) {
	free(q);
	return -1;
    }
    if (ra->askcount++ == 0)
	ra->ask_progress_ms = monotime_ms();
    return 0;
}

/* on_reply - hiredis hands over the next reply (or NULL) */
static void
on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct rasync *ra = privdata;
    struct pending p;
    int kind;

    (void) ac;
    if (ra->count == 0)
	msg_fatal("redis: a reply without a command");
    p = ra->ring[ra->head];
    ra->head = (ra->head + 1) % ra->cap;
    ra->count--;
    ra->last_progress_ms = monotime_ms();
    /* a slot being migrated: the key is on the importing node, or split */
    kind = ra->slot >= 0 ? rcluster_reply_kind(reply) : 0;
    if (kind == RCLUSTER_ASK && follow_ask(ra, &p, reply) == 0)
	return;
    if (kind == RCLUSTER_TRYAGAIN && tryagain_later(ra, &p) == 0)
	return;
    if (reply && ((redisReply *) reply)->type == REDIS_REPLY_ERROR
	&& (strncmp(((redisReply *) reply)->str, "READONLY", 8) == 0
	    || (ra->slot >= 0 && strncmp(((redisReply *) reply)->str, "MOVED ", 6) == 0))) {
	if (ra->ac && ra->ready && !ra->quick) {
	    msg_warn("redis: %s: reconnecting",
		     ((redisReply *) reply)->str[0] == 'R'
		     ? "server became a replica (failover)"
		     : "the cluster moved the slot to another master");
	    ra->quick = 1;		/* hold what comes; on_disconnect reconnects */
	    redisAsyncDisconnect(ra->ac);
	}
	if (p.cmd && !p.again && ra->quick) {
	    p.again = 1;		/* refused, so it did not run: send it again */
	    hold(ra, &p);
	    return;
	}
    }
    /* cut while it ran on a healthy connection: send it once more */
    if (reply == NULL && p.cmd && p.fn && !p.once && !p.again && ra->ready) {
	p.again = 1;
	hold(ra, &p);
	return;
    }
    deliver(&p, reply);
}

/* send - one command with our callback */
static int
send_cmd(struct rasync *ra, int argc, const char **argv, const size_t *argvlen,
	 rasync_fn fn, void *arg)
{
    struct pending p = {fn, arg, NULL, 0, 0, 0, 0};

    if (redisAsyncCommandArgv(ra->ac, on_reply, ra, argc, argv, argvlen) != REDIS_OK)
	return -1;
    ring_push(ra, &p);
    return 0;
}

static void set_ready(struct rasync *ra);

/*
 * setup_reply - AUTH, SELECT or SCRIPT LOAD answered.  A refusal (a wrong
 * password: WRONGPASS, NOAUTH, NOPERM) is said once, then at most every
 * SETUP_SAY_EVERY seconds while it lasts; the connection is retried after
 * the backoff delay like any failed connection.  Only the first refusal of
 * a connection counts: the commands after it fail for the same reason.
 */
static void
setup_reply(void *arg, redisReply *r)
{
    struct rasync *ra = arg;

    if (r && r->type == REDIS_REPLY_ERROR && !ra->setup_failed) {
	msg_warn_limited(&ra->said_setup, "redis: setting up the connection: %s "
			 "(next attempt in %lld ms)", r->str, next_backoff(ra));
	ra->setup_failed = 1;
	if (ra->ac)
	    redisAsyncDisconnect(ra->ac);
    }
}

/* setup_done - SCRIPT LOAD, the last setup command, answered */
static void
setup_done(void *arg, redisReply *r)
{
    struct rasync *ra = arg;

    setup_reply(ra, r);
    if (r && ra->ac && !ra->setup_failed && !rcheck_enforced())
	set_ready(ra);
}

/* set_ready - the connection may carry commands */
static void
set_ready(struct rasync *ra)
{
    if (ra->backoff_ms)
	msg_info("redis: connected again");
    msg_limit_reset(&ra->said_setup);
    ra->backoff_ms = 0;
    ra->ready = 1;
    ra->quick = 0;
    held_send(ra);
}

static void check_reply(void *arg, redisReply *r);

/* send_check - the next command of the server check */
static void
send_check(struct rasync *ra)
{
    int i = ra->check_next;

    if (send_cmd(ra, rcheck_argc[i], (const char **) rcheck_cmds[i], NULL, check_reply,
		 ra) < 0 && ra->ac)
	redisAsyncDisconnect(ra->ac);
}

/* check_reply - one reply of the server check; the last one decides */
static void
check_reply(void *arg, redisReply *r)
{
    struct rasync *ra = arg;

    if (r == NULL || ra->ac == NULL)
	return;				/* the connection failed: on_disconnect */
    rcheck_feed(&ra->facts, ra->check_next, r);
    if (ra->setup_failed)
	return;
    if ((ra->check_next = rcheck_next(&ra->facts)) >= 0) {
	send_check(ra);
	return;
    }
    if (rcheck_apply(&ra->facts, ra->conf) == RCHECK_REFUSED)
	redisAsyncDisconnect(ra->ac);	/* logged; retried after the backoff */
    else
	set_ready(ra);
}

/* schedule_retry - try again after the backoff delay */
static void
schedule_retry(struct rasync *ra)
{
    struct timeval tv;

    ra->quick = 0;
    held_fail(ra);			/* no waiting through a backoff */
    ra->backoff_ms = next_backoff(ra);
    tv.tv_sec = ra->backoff_ms / 1000;
    tv.tv_usec = (ra->backoff_ms % 1000) * 1000;
    evtimer_add(ra->retry, &tv);
}

/* on_connect - the connection is up (or failed) */
static void
on_connect(const redisAsyncContext *ac, int status)
{
    struct rasync *ra = ac->data;
    const char *argv[3];
    char db[16];

    if (status != REDIS_OK) {
	msg_warn("redis: connect to %s: %s (next attempt in %lld ms)", ra->addr,
		 ac->errstr, next_backoff(ra));
	ra->ac = NULL;			/* hiredis frees it */
	schedule_retry(ra);
	return;
    }
    ra->setup_failed = 0;
    if (ra->conf->password) {
	int n = 0;

	argv[n++] = "AUTH";
	if (ra->conf->username)
	    argv[n++] = ra->conf->username;
	argv[n++] = ra->conf->password;
	send_cmd(ra, n, argv, NULL, setup_reply, ra);
    }
    if (ra->conf->db != 0 && ra->slot < 0) {	/* a cluster has database 0 only */
	snprintf(db, sizeof(db), "%ld", ra->conf->db);
	argv[0] = "SELECT";
	argv[1] = db;
	send_cmd(ra, 2, argv, NULL, setup_reply, ra);
    }
    argv[0] = "SCRIPT";
    argv[1] = "LOAD";
    argv[2] = ra->script;
    /* ready once SCRIPT LOAD is answered: after AUTH and SELECT, in order */
    send_cmd(ra, 3, argv, NULL, setup_done, ra);
    if (!rcheck_enforced())
	return;
    /* not ready until the server's maxmemory-policy is known to be safe */
    rcheck_facts_init(&ra->facts);
    ra->check_next = rcheck_next(&ra->facts);
    send_check(ra);
}

/* on_disconnect - the connection is gone: reconnect later */
static void
on_disconnect(const redisAsyncContext *ac, int status)
{
    struct rasync *ra = ac->data;
    struct timeval now = {0, 0};
    int healthy = ra->ready;		/* a timeout's drop() cleared it */

    ra->ac = NULL;
    ra->ready = 0;
    if (status != REDIS_OK)
	msg_warn("redis: connection lost: %s", ac->errstr);
    /*
     * A connection that was up (CLIENT KILL, a server timeout, a failover)
     * is replaced at once, and what comes meanwhile waits for it; one that
     * breaks again within QUICK_EVERY_MS backs off like a failed connect.
     */
    if (healthy && monotime_ms() - ra->quick_ms >= QUICK_EVERY_MS) {
	msg_info("redis: reconnecting at once");
	ra->quick = 1;
	ra->quick_ms = monotime_ms();
	evtimer_add(ra->retry, &now);
	return;
    }
    schedule_retry(ra);
}

/* rasync_connect - start connecting */
static void
rasync_connect(struct rasync *ra)
{
    const struct conf_redis *conf = ra->conf;
    char host[256], err[256], addr[sizeof(ra->addr)];
    const char *why;
    int port;

    if (ra->slot >= 0) {
	/* synchronous, like the sentinels' answer: bounded by connect_timeout */
	if (rcluster_slot_owner(ra->map, (unsigned) ra->slot, host, sizeof(host), &port) < 0) {
	    msg_warn("redis cluster: the master of slot %d: %s", ra->slot,
		     rcluster_error(ra->map));
	    schedule_retry(ra);
	    return;
	}
	snprintf(addr, sizeof(addr), "%.256s:%d (master of slot %d)", host, port, ra->slot);
	if (strcmp(addr, ra->addr) != 0)
	    msg_info("redis cluster: connecting to %s", addr);
	memcpy(ra->addr, addr, sizeof(addr));
	snprintf(ra->host, sizeof(ra->host), "%s", host);
	ra->port = port;
	ra->ac = redisAsyncConnect(host, port);
    } else if (conf->sentinels.n > 0) {
	if (rconn_sentinel_resolve(conf, host, sizeof(host), &port, err, sizeof(err)) < 0) {
	    msg_warn("redis: %s", err);
	    schedule_retry(ra);
	    return;
	}
	ra->ac = redisAsyncConnect(host, port);
    } else if (strncmp(conf->server, "unix:", 5) == 0) {
	ra->ac = redisAsyncConnectUnix(conf->server + 5);
    } else if (rconn_parse_server(conf->server, host, sizeof(host), &port, &why) == 0) {
	ra->ac = redisAsyncConnect(host, port);
    } else {
	msg_fatal("redis: server %s: %s", conf->server, why);
    }
    if (ra->slot < 0 && conf->sentinels.n > 0)
	snprintf(ra->addr, sizeof(ra->addr), "%s:%d", host, port);
    else if (ra->slot < 0)
	snprintf(ra->addr, sizeof(ra->addr), "%s", conf->server);
    if (ra->ac == NULL)
	msg_fatal("redis: out of memory");
    if (ra->ac->err) {
	msg_warn("redis: connect to %s: %s", ra->addr, ra->ac->errstr);
	redisAsyncFree(ra->ac);
	ra->ac = NULL;
	schedule_retry(ra);
	return;
    }
    ra->ac->data = ra;
    ra->connect_started_ms = monotime_ms();
    redisLibeventAttach(ra->ac, ra->base);
    redisAsyncSetConnectCallback(ra->ac, on_connect);
    redisAsyncSetDisconnectCallback(ra->ac, on_disconnect);
}

/* on_retry - the backoff delay has passed */
static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    rasync_connect(arg);
}

/* drop - give up on a connection that hangs */
static void
drop(struct rasync *ra, const char *why)
{
    redisAsyncContext *ac = ra->ac;

    msg_warn("redis: %s: dropping the connection", why);
    ra->ac = NULL;
    ra->ready = 0;
    /* answers NULL to every command in flight; on_disconnect runs if it was up */
    redisAsyncFree(ac);
    if (!evtimer_pending(ra->retry, NULL))
	schedule_retry(ra);
}

/* on_watch - connect and command timeouts */
static void
on_watch(evutil_socket_t fd, short what, void *arg)
{
    struct rasync *ra = arg;
    long long now = monotime_ms();

    (void) fd;
    (void) what;
    if (ra->askac && ra->askcount > 0
	&& now - ra->ask_progress_ms > ra->conf->command_timeout_ms) {
	msg_warn("redis cluster: %s:%d (ASK): no answer within command_timeout: "
		 "dropping the connection", ra->askhost, ra->askport);
	ask_drop(ra);
    }
    if (ra->ac == NULL)
	return;
    if (!ra->ready && now - ra->connect_started_ms > ra->conf->connect_timeout_ms)
	drop(ra, "connect timed out");
    else if (ra->count > 0 && now - ra->last_progress_ms > ra->conf->command_timeout_ms)
	drop(ra, "no answer within command_timeout");
}

/* rasync_new - a connection that keeps itself up */
struct rasync *
rasync_new(struct event_base *base, const struct conf_redis *conf, const char *script,
	   long max_pending)
{
    return rasync_new_for(base, conf, script, max_pending, NULL);
}

/* rasync_new_for - the same, to the master of key's slot on a cluster */
struct rasync *
rasync_new_for(struct event_base *base, const struct conf_redis *conf, const char *script,
	       long max_pending, const char *key)
{
    struct rasync *ra = xcalloc(1, sizeof(*ra));
    struct timeval tv = {0, 50000};

    ra->slot = -1;
    if (conf->cluster.n > 0) {
	ra->slot = (int) rcluster_keyslot(key ? key : "", key ? strlen(key) : 0);
	ra->map = rcluster_new(conf, &conf->cluster);
    }
    ra->base = base;
    ra->conf = conf;
    ra->script = script;
    ra->max_pending = max_pending;
    ra->said_setup = (struct msg_limit) MSG_LIMIT_INIT(SETUP_SAY_EVERY);
    ra->said_ask = (struct msg_limit) MSG_LIMIT_INIT(ASK_SAY_EVERY);
    ra->retry = evtimer_new(base, on_retry, ra);
    ra->watch = event_new(base, -1, EV_PERSIST, on_watch, ra);
    event_add(ra->watch, &tv);
    rasync_connect(ra);
    return ra;
}

/* rasync_ready - may commands be sent? */
int
rasync_ready(const struct rasync *ra)
{
    return ra->ready && ra->ac != NULL;
}

/* command - send one command (once: never again after a cut); -1: not sent */
static int
command(struct rasync *ra, int argc, const char **argv, const size_t *argvlen,
	rasync_fn fn, void *arg, int once)
{
    struct pending p = {fn, arg, NULL, 0, 0, 0, monotime_ms(), once};
    int len;

    if ((long) (ra->count + ra->nheld) >= ra->max_pending
	|| (!rasync_ready(ra) && !ra->quick))
	return -1;
    if ((len = redisFormatCommandArgv(&p.cmd, argc, argv, argvlen)) < 0)
	msg_fatal("redis: out of memory");
    p.len = (size_t) len;
    if (ra->quick) {
	hold(ra, &p);			/* a quick reconnect is on its way */
	return 0;
    }
    return send_formatted(ra, &p);
}

/* rasync_command - send one command; -1: answer without Redis */
int
rasync_command(struct rasync *ra, int argc, const char **argv, const size_t *argvlen,
	       rasync_fn fn, void *arg)
{
    return command(ra, argc, argv, argvlen, fn, arg, 0);
}

/* rasync_command_once - the same, never sent again once it may have run */
int
rasync_command_once(struct rasync *ra, int argc, const char **argv, const size_t *argvlen,
		    rasync_fn fn, void *arg)
{
    return command(ra, argc, argv, argvlen, fn, arg, 1);
}

/* rasync_free - close; commands in flight get NULL */
void
rasync_free(struct rasync *ra)
{
    struct again *a;

    ra->quick = ra->ready = 0;		/* closing: nothing is sent again */
    ask_drop(ra);
    if (ra->ac)
	redisAsyncFree(ra->ac);
    held_fail(ra);
    while ((a = ra->waits) != NULL) {
	ra->waits = a->next;
	event_free(a->ev);
	deliver(&a->p, NULL);
	free(a);
    }
    event_free(ra->retry);
    event_free(ra->watch);
    if (ra->map)
	rcluster_free(ra->map);
    free(ra->ring);
    free(ra);
}

/* rasync_slot - the cluster slot this connection serves, -1 none */
int
rasync_slot(const struct rasync *ra)
{
    return ra->slot;
}
