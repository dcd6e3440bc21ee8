/*
 * rcluster - a small synchronous Redis Cluster client (see rcluster.h)
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "monotime.h"
#include "msg.h"
#include "rcluster.h"
#include "redisconn.h"
#include "xalloc.h"

/* one node: its address and its connection (never freed before the rcluster) */
struct rc_node {
    char host[RCLUSTER_HOSTLEN];
    int port;
    char server[RCLUSTER_HOSTLEN + 16];	/* "host:port" or "[v6]:port" */
    struct conf_redis conf;		/* [redis], with server = this node */
    struct rconn *conn;
};

struct rcluster {
    const struct conf_redis *conf;
    struct rc_node **node;
    size_t n;
    uint16_t owner[RCLUSTER_SLOTS];	/* node index + 1; 0: unknown */
    int have_map;
    struct rcluster_map *scratch;	/* the map being read */
    unsigned long long moved, ask, refreshed;	/* since rcluster_new() */
    unsigned long long tryagain;	/* commands sent again after TRYAGAIN */
    int sent;				/* the last command reached a node */
    struct msg_limit unreachable;	/* "reading the map again": rarely */
    char err[512];
};

/* nodes met over a life: seeds, masters, and the addresses of failovers */
#define RCLUSTER_MAX_KNOWN	(2 * RCLUSTER_MAX_NODES)

static struct rc_node *node_get(struct rcluster *c, const char *host, int port);
static redisReply *fail(struct rcluster *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static redisReply *routed(struct rcluster *c, int slot, int argc, const char **argv,
			  const size_t *argvlen, int repeat);

/* rcluster_keyslot - CRC16 (XMODEM) of the key or its hash tag, mod 16384 */
unsigned
rcluster_keyslot(const char *key, size_t len)
{
    const unsigned char *p = (const unsigned char *) key;
    const unsigned char *open, *close;
    unsigned crc = 0;
    size_t i;
    int b;

    /* the first '{', then the first '}' after it, something between */
    if ((open = memchr(p, '{', len)) != NULL) {
	size_t rest = len - (size_t) (open - p) - 1;

	if ((close = memchr(open + 1, '}', rest)) != NULL && close > open + 1) {
	    p = open + 1;
	    len = (size_t) (close - p);
	}
    }
    for (i = 0; i < len; i++) {
	crc ^= (unsigned) p[i] << 8;
	for (b = 0; b < 8; b++)
	    crc = (crc & 0x8000) ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
    return crc & (RCLUSTER_SLOTS - 1);
}

/* read_number - decimal digits at *s (at most maxdig), value in *v */
static int
read_number(const char **s, const char *end, int maxdig, long *v)
{
    const char *p = *s;

    *v = 0;
    while (p < end && *p >= '0' && *p <= '9' && p - *s < maxdig)
	*v = *v * 10 + (*p++ - '0');
    if (p == *s || (p < end && *p >= '0' && *p <= '9'))
	return -1;
    *s = p;
    return 0;
}

/* rcluster_parse_redirect - "MOVED|ASK slot host:port" */
int
rcluster_parse_redirect(const char *s, size_t len, int *slot, char *host, size_t hostlen,
			int *port)
{
    const char *end = s + len, *p, *colon = NULL, *h, *he;
    long v;
    int kind;

    if (len >= 6 && memcmp(s, "MOVED ", 6) == 0)
	kind = RCLUSTER_MOVED, p = s + 6;
    else if (len >= 4 && memcmp(s, "ASK ", 4) == 0)
	kind = RCLUSTER_ASK, p = s + 4;
    else
	return 0;
    if (read_number(&p, end, 5, &v) < 0 || v >= RCLUSTER_SLOTS || p == end || *p != ' ')
	return -1;
    *slot = (int) v;
    h = ++p;
    for (; p < end; p++) {
	if ((unsigned char) *p <= ' ' || (unsigned char) *p >= 0x7f)
	    return -1;
	if (*p == ':')
	    colon = p;
    }
    if (colon == NULL)
	return -1;
    he = colon;
    p = colon + 1;
    if (read_number(&p, end, 5, &v) < 0 || p != end || v < 1 || v > 65535)
	return -1;
    *port = (int) v;
    if (he > h && *h == '[') {		/* "[v6]:port", though Redis sends it bare */
	if (he[-1] != ']')
	    return -1;
	h++, he--;
    }
    if ((size_t) (he - h) >= hostlen || memchr(h, '[', (size_t) (he - h))
	|| memchr(h, ']', (size_t) (he - h)))
	return -1;
    memcpy(host, h, (size_t) (he - h));
    host[he - h] = '\0';
    return kind;
}

/* rcluster_reply_kind - MOVED, ASK, TRYAGAIN or 0 for any other reply */
int
rcluster_reply_kind(const redisReply *r)
{
    if (r == NULL || r->type != REDIS_REPLY_ERROR || r->str == NULL)
	return 0;
    if (r->len >= 6 && memcmp(r->str, "MOVED ", 6) == 0)
	return RCLUSTER_MOVED;
    if (r->len >= 4 && memcmp(r->str, "ASK ", 4) == 0)
	return RCLUSTER_ASK;
    if (r->len >= 8 && memcmp(r->str, "TRYAGAIN", 8) == 0
	&& (r->len == 8 || r->str[8] == ' '))
	return RCLUSTER_TRYAGAIN;
    return 0;
}

/* rcluster_tryagain_wait - the wait before try n + 1, or -1: the budget is spent */
long long
rcluster_tryagain_wait(int n, long long elapsed_ms, long long budget_ms)
{
    long long ms = RCLUSTER_TRYAGAIN_MAX_MS;

    if (n >= 0 && n < 7 && (RCLUSTER_TRYAGAIN_FIRST_MS << n) < RCLUSTER_TRYAGAIN_MAX_MS)
	ms = (long long) RCLUSTER_TRYAGAIN_FIRST_MS << n;
    if (elapsed_ms < 0)
	elapsed_ms = 0;
    if (budget_ms - elapsed_ms < ms)
	ms = budget_ms - elapsed_ms;
    return ms > 0 ? ms : -1;
}

/* str_is - is the reply the string lit? */
static int
str_is(const redisReply *r, const char *lit)
{
    size_t l = strlen(lit);

    return (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
	&& r->len == l && memcmp(r->str, lit, l) == 0;
}

/* is_list - an array (hiredis 0.14 speaks RESP2: maps come as flat arrays) */
static int
is_list(const redisReply *r)
{
    return r->type == REDIS_REPLY_ARRAY;
}

/* map_node - the index of host:port in m, added if new; -2 unknown, -1 bad */
static int
map_node(struct rcluster_map *m, const redisReply *host, const char *asked, long long port)
{
    const char *h = asked;
    size_t hl = strlen(asked), i;

    if (host && host->type == REDIS_REPLY_NIL)
	return -2;			/* unknown endpoint (Redis 7) */
    if (host && host->type == REDIS_REPLY_STRING && host->len > 0) {
	if (host->len == 1 && host->str[0] == '?')
	    return -2;			/* the node does not know its address */
	h = host->str;
	hl = host->len;
    }
    if (port < 1 || port > 65535 || hl == 0 || hl >= RCLUSTER_HOSTLEN
	|| memchr(h, '\0', hl) || memchr(h, ' ', hl))
	return -1;
    for (i = 0; i < m->n; i++)
	if (m->node[i].port == port && strlen(m->node[i].host) == hl
	    && memcmp(m->node[i].host, h, hl) == 0)
	    return (int) i;
    if (m->n == RCLUSTER_MAX_NODES)
	return -1;
    memcpy(m->node[m->n].host, h, hl);
    m->node[m->n].host[hl] = '\0';
    m->node[m->n].port = (int) port;
    return (int) m->n++;
}

/* map_range - slots start..end to node idx; -1 if out of range or overlapping */
static int
map_range(struct rcluster_map *m, long long start, long long end, int idx, long *served)
{
    long long s;

    if (start < 0 || end < start || end >= RCLUSTER_SLOTS)
	return -1;
    /* a true map names each slot once: this bounds the work at 16384 writes */
    if (*served + (end - start + 1) > RCLUSTER_SLOTS)
	return -1;
    for (s = start; s <= end; s++)
	if (m->owner[s] != 0)
	    return -1;
    for (s = start; s <= end; s++)
	m->owner[s] = (uint16_t) (idx + 1);
    *served += end - start + 1;
    return 0;
}

/* field - the value after key in a flat key/value list, or NULL */
static const redisReply *
field(const redisReply *r, const char *key)
{
    size_t i;

    for (i = 0; i + 1 < r->elements; i += 2)
	if (str_is(r->element[i], key))
	    return r->element[i + 1];
    return NULL;
}

/* shard_master - the index of the shard's online master; -2 none, -1 bad */
static int
shard_master(struct rcluster_map *m, const redisReply *nodes, const char *asked)
{
    size_t i;

    for (i = 0; i < nodes->elements; i++) {
	const redisReply *n = nodes->element[i], *role, *health, *port, *host;

	if (!is_list(n) || (role = field(n, "role")) == NULL || !str_is(role, "master"))
	    continue;
	if ((health = field(n, "health")) != NULL && !str_is(health, "online"))
	    continue;
	if ((port = field(n, "port")) == NULL || port->type != REDIS_REPLY_INTEGER)
	    return -1;
	host = field(n, "endpoint");
	if (host == NULL || host->type != REDIS_REPLY_STRING || host->len == 0
	    || (host->len == 1 && host->str[0] == '?'))
	    host = field(n, "ip");
	return map_node(m, host, asked, port->integer);
    }
    return -2;
}

/* parse_shards - CLUSTER SHARDS: per shard "slots" [start end ...], "nodes" */
static int
parse_shards(const redisReply *r, const char *asked, struct rcluster_map *m, long *served)
{
    size_t i, j;

    for (i = 0; i < r->elements; i++) {
	const redisReply *sh = r->element[i], *slots, *nodes;
	int idx;

	if (!is_list(sh) || (slots = field(sh, "slots")) == NULL
	    || (nodes = field(sh, "nodes")) == NULL || !is_list(slots) || !is_list(nodes)
	    || slots->elements % 2 != 0)
	    return -1;
	if (slots->elements == 0 || (idx = shard_master(m, nodes, asked)) == -2)
	    continue;			/* no slots, or its master is down */
	if (idx < 0)
	    return -1;
	for (j = 0; j < slots->elements; j += 2) {
	    const redisReply *a = slots->element[j], *b = slots->element[j + 1];

	    if (a->type != REDIS_REPLY_INTEGER || b->type != REDIS_REPLY_INTEGER
		|| map_range(m, a->integer, b->integer, idx, served) < 0)
		return -1;
	}
    }
    return 0;
}

/* parse_slots - CLUSTER SLOTS: [start, end, [host, port, ...], replicas...] */
static int
parse_slots(const redisReply *r, const char *asked, struct rcluster_map *m, long *served)
{
    size_t i;

    for (i = 0; i < r->elements; i++) {
	const redisReply *e = r->element[i], *a, *b, *mst;
	int idx;

	if (e->type != REDIS_REPLY_ARRAY || e->elements < 3)
	    return -1;
	a = e->element[0], b = e->element[1], mst = e->element[2];
	if (a->type != REDIS_REPLY_INTEGER || b->type != REDIS_REPLY_INTEGER
	    || mst->type != REDIS_REPLY_ARRAY || mst->elements < 2
	    || mst->element[1]->type != REDIS_REPLY_INTEGER)
	    return -1;
	if ((idx = map_node(m, mst->element[0], asked, mst->element[1]->integer)) == -2)
	    continue;
	if (idx < 0)
	    return -1;
	if (map_range(m, a->integer, b->integer, idx, served) < 0)
	    return -1;
    }
    return 0;
}

/* rcluster_map_parse - the masters of the slots from CLUSTER SHARDS or SLOTS */
int
rcluster_map_parse(const redisReply *r, int shards, const char *asked,
		   struct rcluster_map *m)
{
    long served = 0;

    memset(m->owner, 0, sizeof(m->owner));
    m->n = 0;
    if (r == NULL || r->type != REDIS_REPLY_ARRAY)
	return -1;
    if ((shards ? parse_shards : parse_slots) (r, asked, m, &served) < 0)
	return -1;
    return (int) served;
}

/* rcluster_new - a cluster client; reads the map on first use */
struct rcluster *
rcluster_new(const struct conf_redis *conf, const struct conf_strlist *seeds)
{
    struct rcluster *c = xcalloc(1, sizeof(*c));
    size_t i;

    c->conf = conf;
    c->unreachable = (struct msg_limit) MSG_LIMIT_INIT(10);
    if (conf->db != 0)
	msg_warn("redis cluster: [redis] db = %ld is not used: a cluster has database 0 only",
		 conf->db);
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): a table of pointers */
    c->node = xreallocarray(NULL, RCLUSTER_MAX_KNOWN, sizeof(*c->node));
    c->scratch = xcalloc(1, sizeof(*c->scratch));
    for (i = 0; i < seeds->n; i++) {
	char host[RCLUSTER_HOSTLEN];
	const char *why;
	int port;

	if (rconn_parse_server(seeds->v[i], host, sizeof(host), &port, &why) < 0)
	    msg_warn("redis cluster: seed %s: %s", seeds->v[i], why);
	else
	    node_get(c, host, port);
    }
    return c;
}

/* rcluster_free - close every connection and release */
void
rcluster_free(struct rcluster *c)
{
    size_t i;

    if (c == NULL)
	return;
    for (i = 0; i < c->n; i++) {
	rconn_free(c->node[i]->conn);
	free(c->node[i]);
    }
    free(c->node);
    free(c->scratch);
    free(c);
}

/* rcluster_counts - redirections followed and maps read, since the start */
void
rcluster_counts(const struct rcluster *c, unsigned long long *moved,
		unsigned long long *ask, unsigned long long *refreshed)
{
    *moved = c->moved;
    *ask = c->ask;
    *refreshed = c->refreshed;
}

/* rcluster_tryagains - commands sent again after TRYAGAIN, since the start */
unsigned long long
rcluster_tryagains(const struct rcluster *c)
{
    return c->tryagain;
}

/* rcluster_maybe_ran - was the last command that failed sent (it may have run)? */
int
rcluster_maybe_ran(const struct rcluster *c)
{
    return c->sent;
}

/* rcluster_masters - the connections of the masters that serve slots */
size_t
rcluster_masters(struct rcluster *c, struct rconn **v, size_t max)
{
    unsigned char seen[RCLUSTER_MAX_KNOWN] = {0};
    size_t n = 0;
    int s;

    c->err[0] = '\0';
    if (rcluster_refresh(c) < 0 && !c->have_map)
	return 0;
    for (s = 0; s < RCLUSTER_SLOTS && n < max; s++) {
	if (c->owner[s] == 0 || seen[c->owner[s] - 1])
	    continue;
	seen[c->owner[s] - 1] = 1;
	v[n++] = c->node[c->owner[s] - 1]->conn;
    }
    return n;
}

/* rcluster_error - why the last command failed */
const char *
rcluster_error(const struct rcluster *c)
{
    return c->err[0] ? c->err : "no error";
}

/* node_get - the node at host:port, made (unconnected) if new; NULL if full */
static struct rc_node *
node_get(struct rcluster *c, const char *host, int port)
{
    struct rc_node *n;
    size_t i;

    for (i = 0; i < c->n; i++)
	if (c->node[i]->port == port && strcmp(c->node[i]->host, host) == 0)
	    return c->node[i];
    if (c->n == RCLUSTER_MAX_KNOWN || strlen(host) >= RCLUSTER_HOSTLEN)
	return NULL;
    n = xcalloc(1, sizeof(*n));
    snprintf(n->host, sizeof(n->host), "%s", host);
    n->port = port;
    snprintf(n->server, sizeof(n->server), strchr(host, ':') ? "[%s]:%d" : "%s:%d",
	     host, port);
    n->conf = *c->conf;
    n->conf.server = n->server;
    n->conf.db = 0;			/* a cluster has database 0 only */
    n->conf.sentinels.n = 0;
    n->conf.sentinels.v = NULL;
    n->conf.cluster.n = 0;		/* a plain connection to this node */
    n->conf.cluster.v = NULL;
    n->conn = rconn_new(&n->conf);
    c->node[c->n++] = n;
    return n;
}

/* node_index - the index of a node in c->node */
static size_t
node_index(const struct rcluster *c, const struct rc_node *n)
{
    size_t i;

    for (i = 0; i < c->n && c->node[i] != n; i++)
	continue;
    return i;
}

/* map_from - ask one node for the map; 0 and c->owner set, or -1 */
static int
map_from(struct rcluster *c, struct rc_node *n)
{
    struct rcluster_map *m = c->scratch;
    uint16_t idx[RCLUSTER_MAX_NODES], o;
    redisReply *r;
    int shards = 1, served;
    long moved = 0, lost = 0;
    size_t i;

    r = rconn_commandv(n->conn, "CLUSTER", "SHARDS", NULL);
    if (r && r->type == REDIS_REPLY_ERROR && (strncasecmp(r->str, "ERR unknown", 11) == 0
					       || strncmp(r->str, "NOPERM", 6) == 0)) {
	freeReplyObject(r);		/* older than Redis 7.0, or not granted */
	shards = 0;
	r = rconn_commandv(n->conn, "CLUSTER", "SLOTS", NULL);
    }
    if (r == NULL) {
	snprintf(c->err, sizeof(c->err), "%s: %s", n->server, rconn_error(n->conn));
	return -1;
    }
    served = rcluster_map_parse(r, shards, n->host, m);
    if (served <= 0) {
	snprintf(c->err, sizeof(c->err), "%s: %s", n->server,
		 r->type == REDIS_REPLY_ERROR ? r->str
		 : served == 0 ? "no slot has a master" : "unreadable slot map");
	freeReplyObject(r);
	return -1;
    }
    freeReplyObject(r);
    for (i = 0; i < m->n; i++) {
	struct rc_node *k = node_get(c, m->node[i].host, m->node[i].port);

	if (k == NULL) {
	    snprintf(c->err, sizeof(c->err), "too many cluster nodes");
	    return -1;
	}
	idx[i] = (uint16_t) (node_index(c, k) + 1);
    }
    for (i = 0; i < RCLUSTER_SLOTS; i++) {
	o = m->owner[i] ? idx[m->owner[i] - 1] : 0;
	moved += c->have_map && o != c->owner[i] && o != 0;
	lost += c->have_map && o != c->owner[i] && o == 0;
	c->owner[i] = o;
    }
    if (moved || lost)
	msg_info("redis cluster: slot map from %s: %ld slots moved to another master, "
		 "%ld without one", n->server, moved, lost);
    c->have_map = 1;
    return 0;
}

/* rcluster_refresh - read the map from the first node that gives one */
int
rcluster_refresh(struct rcluster *c)
{
    size_t i;

    if (c->n == 0) {
	snprintf(c->err, sizeof(c->err), "no cluster seed node");
	return -1;
    }
    /* the nodes of the map first: a seed may be long gone */
    for (i = c->n; i-- > 0;)
	if (map_from(c, c->node[i]) == 0)
	    return (void) c->refreshed++, 0;
    msg_warn("redis cluster: no node gave the slot map: %s", c->err);
    return -1;
}

/* owner - the master of a slot (any master for -1), or NULL */
static struct rc_node *
owner(const struct rcluster *c, int slot)
{
    int s;

    if (slot >= 0)
	return c->owner[slot] ? c->node[c->owner[slot] - 1] : NULL;
    for (s = 0; s < RCLUSTER_SLOTS; s++)
	if (c->owner[s])
	    return c->node[c->owner[s] - 1];
    return NULL;
}

/* fail - remember why, return NULL */
static redisReply *
fail(struct rcluster *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->err, sizeof(c->err), fmt, ap);
    va_end(ap);
    return NULL;
}

/* sleep_ms - wait ms milliseconds */
static void
sleep_ms(long long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0)
	continue;
}

/*
 * routed - one command to the master of slot, following MOVED and ASK,
 * reading the map again when the owner cannot be reached, and sending it
 * again from the start after a TRYAGAIN (it did not run) until [redis]
 * command_timeout has passed; repeat as rconn_command_repeat() takes it
 */
static redisReply *
routed(struct rcluster *c, int slot, int argc, const char **argv, const size_t *argvlen,
       int repeat)
{
    struct rc_node *n, *ask = NULL;
    char host[RCLUSTER_HOSTLEN];
    redisReply *r;
    int hops, kind, rslot, port, tries = 0;
    long long t0 = monotime_ms(), wait;

    c->err[0] = '\0';
    c->sent = 0;
    if (!c->have_map && rcluster_refresh(c) < 0)
	return NULL;
    for (hops = 0;; hops++) {
	if ((n = ask ? ask : owner(c, slot)) == NULL) {
	    if (rcluster_refresh(c) < 0 || (n = owner(c, slot)) == NULL)
		return fail(c, "no master serves slot %d", slot);
	}
	if (ask) {
	    if ((r = rconn_commandv(n->conn, "ASKING", NULL)) != NULL)
		freeReplyObject(r);
	}
	if ((r = rconn_command_repeat(n->conn, argc, argv, argvlen, repeat)) == NULL) {
	    /* sent: it may have run, so not again; else a failover may be why */
	    c->sent = rconn_maybe_ran(n->conn);
	    if (c->sent || ask || hops >= RCLUSTER_MAX_HOPS)
		return fail(c, "%s: %s", n->server, rconn_error(n->conn));
	    msg_info_limited(&c->unreachable, "redis cluster: %s unreachable: reading the "
			     "slot map again", n->server);
	    if (rcluster_refresh(c) < 0 || owner(c, slot) == n)
		return fail(c, "%s: %s", n->server, rconn_error(n->conn));
	    continue;
	}
	if (r->type != REDIS_REPLY_ERROR)
	    return r;
	if (rcluster_reply_kind(r) == RCLUSTER_TRYAGAIN) {
	    /* the slot is moving and the keys are split: wait, then from the owner */
	    wait = rcluster_tryagain_wait(tries++, monotime_ms() - t0,
					  c->conf->command_timeout_ms);
	    if (wait < 0)
		return r;
	    freeReplyObject(r);
	    sleep_ms(wait);
	    c->tryagain++;
	    ask = NULL;
	    hops = -1;
	    continue;
	}
	kind = rcluster_parse_redirect(r->str, r->len, &rslot, host, sizeof(host), &port);
	if (kind == 0)
	    return r;
	freeReplyObject(r);
	if (kind < 0)
	    return fail(c, "%s: unreadable redirection", n->server);
	if (hops >= RCLUSTER_MAX_HOPS)
	    return fail(c, "%s: too many redirections", n->server);
	if ((ask = node_get(c, host[0] ? host : n->host, port)) == NULL)
	    return fail(c, "too many cluster nodes");
	if (kind == RCLUSTER_MOVED) {
	    c->owner[rslot] = (uint16_t) (node_index(c, ask) + 1);
	    ask = NULL;
	    c->moved++;
	} else {
	    c->ask++;
	}
    }
}

/* keys_slot - the one slot of argv[first..first+n-1], -1 for none, -2 mixed */
static int
keys_slot(struct rcluster *c, int first, int nkeys, int argc, const char **argv,
	  const size_t *argvlen)
{
    unsigned s, s0 = 0;
    int i;

    if (nkeys <= 0)
	return -1;
    if (first < 0 || first + nkeys > argc) {
	snprintf(c->err, sizeof(c->err), "keys beyond the arguments");
	return -2;
    }
    for (i = first; i < first + nkeys; i++) {
	s = rcluster_keyslot(argv[i], argvlen ? argvlen[i] : strlen(argv[i]));
	if (i == first)
	    s0 = s;
	else if (s != s0) {
	    snprintf(c->err, sizeof(c->err),
		     "keys of one command in two slots (%u, %u): not sent", s0, s);
	    msg_warn("redis cluster: %s", c->err);
	    return -2;
	}
    }
    return (int) s0;
}

/* rcluster_command - one command to the master of its keys' slot */
redisReply *
rcluster_command(struct rcluster *c, int firstkey, int nkeys, int argc,
		 const char **argv, const size_t *argvlen)
{
    int slot;

    if (argc < 1)
	return fail(c, "empty command");
    if ((slot = keys_slot(c, firstkey, nkeys, argc, argv, argvlen)) == -2)
	return NULL;
    return routed(c, slot, argc, argv, argvlen, -1);
}

/* rcluster_eval - EVALSHA, then EVAL on NOSCRIPT, where the keys live */
redisReply *
rcluster_eval(struct rcluster *c, struct rscript *s, int nkeys, int argc,
	      const char **argv, const size_t *argvlen)
{
    const char **av;
    size_t *al;
    char nk[16];
    redisReply *r;
    int i, slot;

    if (nkeys < 0 || nkeys > argc)
	return fail(c, "more keys than arguments");
    if ((slot = keys_slot(c, 0, nkeys, argc, argv, argvlen)) == -2)
	return NULL;
    av = xreallocarray(NULL, (size_t) argc + 3, sizeof(*av));
    al = xreallocarray(NULL, (size_t) argc + 3, sizeof(*al));
    snprintf(nk, sizeof(nk), "%d", nkeys);
    av[0] = "EVALSHA", al[0] = 7;
    av[1] = s->sha1, al[1] = 40;
    av[2] = nk, al[2] = strlen(nk);
    for (i = 0; i < argc; i++) {
	av[i + 3] = argv[i];
	al[i + 3] = argvlen ? argvlen[i] : strlen(argv[i]);
    }
    r = routed(c, slot, argc + 3, av, al, s->repeatable);
    if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
	freeReplyObject(r);
	av[0] = "EVAL", al[0] = 4;
	av[1] = s->source, al[1] = strlen(s->source);
	r = routed(c, slot, argc + 3, av, al, s->repeatable);
    }
    free(av);
    free(al);
    return r;
}

/* cmd_slot - the slot of a command's first key (slot1 when given), -1 for none */
static int
cmd_slot(const struct rconn_cmd *k)
{
    int first, step;

    if (k->slot1 > 0)
	return k->slot1 - 1;
    if (k->argc < 1 || rconn_command_keys(k->argc, k->argv, k->argvlen, &first, &step) == 0)
	return -1;
    return (int) rcluster_keyslot(k->argv[first], k->argvlen ? k->argvlen[first]
				  : strlen(k->argv[first]));
}

/* a pipeline in flight (rcluster_pipeline_start()) */
struct rcluster_flight {
    struct rcluster *c;
    size_t n;
    const struct rconn_cmd *cmd;
    size_t *which;		/* the commands grouped by node */
    size_t *count, *at;		/* per node + 1: its share, where it begins */
    size_t *sent;		/* per node + 1: how many of its share were written */
    int *slot;
    size_t *node;		/* per command: node index + 1, 0 for none known */
};

#define PIPE_CHUNK 256			/* commands written to a node before the next one */

/*
 * rcluster_pipeline_start - group n commands by the master of their slot
 * and write every master's share, a chunk to each in turn so that all
 * start at once; a node that fails is not written again, and a chunk cut
 * while it was written counts as sent (its commands may have run: their
 * replies are NULL, never sent a second time)
 */
struct rcluster_flight *
rcluster_pipeline_start(struct rcluster *c, size_t n, const struct rconn_cmd *cmd)
{
    struct rcluster_flight *f = xcalloc(1, sizeof(*f));
    struct rc_node *o;
    unsigned char *down;
    size_t i, j, k, left;

    f->c = c;
    f->n = n;
    f->cmd = cmd;
    f->which = xreallocarray(NULL, n ? n : 1, sizeof(*f->which));
    f->count = xcalloc(RCLUSTER_MAX_KNOWN + 1, sizeof(*f->count));
    f->at = xcalloc(RCLUSTER_MAX_KNOWN + 1, sizeof(*f->at));
    f->sent = xcalloc(RCLUSTER_MAX_KNOWN + 1, sizeof(*f->sent));
    f->slot = xreallocarray(NULL, n ? n : 1, sizeof(*f->slot));
    f->node = xreallocarray(NULL, n ? n : 1, sizeof(*f->node));
    down = xcalloc(RCLUSTER_MAX_KNOWN + 1, 1);
    c->err[0] = '\0';
    if (!c->have_map)
	(void) rcluster_refresh(c);
    /* group by node: node index + 1, 0 for "no owner known" */
    for (i = 0; i < n; i++) {
	f->slot[i] = cmd_slot(&cmd[i]);
	o = c->have_map ? owner(c, f->slot[i]) : NULL;
	f->node[i] = o ? node_index(c, o) + 1 : 0;
	f->count[f->node[i]]++;
    }
    for (j = 1; j <= c->n; j++)
	f->at[j] = f->at[j - 1] + f->count[j - 1];
    for (i = 0; i < n; i++)
	f->which[f->at[f->node[i]]++] = i;
    for (j = 1; j <= c->n; j++)			/* at[j]: where node j's share begins */
	f->at[j] -= f->count[j];
    do {
	left = 0;
	for (j = 1; j <= c->n; j++) {
	    if (down[j] || f->sent[j] == f->count[j])
		continue;
	    k = f->count[j] - f->sent[j] < PIPE_CHUNK ? f->count[j] - f->sent[j] : PIPE_CHUNK;
	    if ((f->sent[j] == 0 ? rconn_pipe_send : rconn_pipe_more)
		(c->node[j - 1]->conn, cmd, f->which + f->at[j] + f->sent[j], k) < 0) {
		down[j] = 1;
		/* cut while written: some may have reached the node and run */
		if (rconn_maybe_ran(c->node[j - 1]->conn))
		    f->sent[j] += k;
		continue;
	    }
	    f->sent[j] += k;
	    left += f->sent[j] < f->count[j];
	}
    } while (left > 0);
    free(down);
    return f;
}

/*
 * rcluster_pipeline_finish - the replies of a pipeline started: each
 * node's, then MOVED, ASK, TRYAGAIN and the commands not written sent
 * again one by one through the map; returns the number of NULL replies
 */
size_t
rcluster_pipeline_finish(struct rcluster_flight *f, redisReply **reply)
{
    struct rcluster *c = f->c;
    size_t i, j, lost = 0;
    unsigned char *sent = xcalloc(f->n ? f->n : 1, 1);

    for (i = 0; i < f->n; i++)
	reply[i] = NULL;
    for (j = 1; j <= c->n; j++) {
	for (i = 0; i < f->sent[j]; i++)
	    sent[f->which[f->at[j] + i]] = 1;
	if (f->sent[j] && rconn_pipe_read(c->node[j - 1]->conn, f->which + f->at[j],
					  f->sent[j], reply) > 0)
	    fail(c, "%s: %s", c->node[j - 1]->server, rconn_error(c->node[j - 1]->conn));
    }
    for (i = 0; i < f->n; i++) {
	if (reply[i] == NULL ? sent[i] : rcluster_reply_kind(reply[i]) == 0)
	    continue;			/* a reply, or cut while it ran: it may have */
	if (reply[i])
	    freeReplyObject(reply[i]);
	reply[i] = routed(c, f->slot[i], f->cmd[i].argc, f->cmd[i].argv, f->cmd[i].argvlen,
			  -1);
    }
    for (i = 0; i < f->n; i++)
	lost += reply[i] == NULL;
    free(sent);
    free(f->which);
    free(f->count);
    free(f->at);
    free(f->sent);
    free(f->slot);
    free(f->node);
    free(f);
    return lost;
}

/* rcluster_pipeline - rconn_pipeline() on a cluster: start, then finish */
size_t
rcluster_pipeline(struct rcluster *c, size_t n, const struct rconn_cmd *cmd,
		  redisReply **reply)
{
    return rcluster_pipeline_finish(rcluster_pipeline_start(c, n, cmd), reply);
}

/* rcluster_slot_owner - where the master of a slot is, the map read now */
int
rcluster_slot_owner(struct rcluster *c, unsigned slot, char *host, size_t hostlen, int *port)
{
    struct rc_node *n;

    if (slot >= RCLUSTER_SLOTS || rcluster_refresh(c) < 0)
	return -1;
    if ((n = owner(c, (int) slot)) == NULL) {
	snprintf(c->err, sizeof(c->err), "slot %u has no master", slot);
	return -1;
    }
    snprintf(host, hostlen, "%s", n->host);
    *port = n->port;
    return 0;
}
