/*
 * sup_slots - two layouts of the suppression check on a Redis Cluster
 *
 * SYNOPSIS
 *	sup_slots HOST PORT THREADS SECONDS
 *
 * DESCRIPTION
 *	Measures the round trip of one recipient's suppression check (global
 *	address, sender-scope address, global domain, sender-scope domain,
 *	and the day's decision counter) in the two layouts doc/REDIS-KEYS.md
 *	compares, on the cluster whose node HOST:PORT is given:
 *
 *	one-slot: the four candidates share a hash tag (the recipient
 *	domain's): one EVALSHA on one master reads them and counts (what
 *	suppress.c's check script does).
 *
 *	parallel: the address's bucket and the domain's bucket are in slots
 *	of two different masters: an HMGET to each, sent at once, the counter
 *	(HINCRBY) pipelined behind the first; the check waits for both.
 *
 *	THREADS threads, each with its own connections, alternate the two for
 *	SECONDS each and print checks per second and latency percentiles.
 *	The keys are the bench's own (sup_slots:*); it writes nothing else.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis.h>

#include "monotime.h"
#include "rcluster.h"
#include "xalloc.h"

#define TAGS 64			/* candidate tags tried to find slots per master */

static const char *host;
static int port;
static double seconds;

/* the masters, by CLUSTER SLOTS: port of the owner of a slot */
static int owner_port[RCLUSTER_SLOTS];

/* the keys of each layout */
static char one_key[3][64];	/* address bucket, domain bucket, day counter: one tag */
static char par_key[3][64];	/* the same, address and domain buckets on two masters */
static int one_port, par_port[2];

static const char check_lua[] =
    "local v = redis.call('HGET', KEYS[1], ARGV[1]) or redis.call('HGET', KEYS[1], ARGV[2])"
    " or redis.call('HGET', KEYS[2], ARGV[3]) or redis.call('HGET', KEYS[2], ARGV[4])\n"
    "redis.call('HINCRBY', KEYS[3], 'shop.test none pass', 1)\n"
    "if v then return {1, v} end\n" "return {0}\n";

static char check_sha[41];	/* SCRIPT LOAD's answer */

struct worker {
    pthread_t tid;
    int one;			/* layout: 1 one-slot, 0 parallel */
    double *lat;
    size_t n, cap;
    long errors;
};

/* connect_port - a connection to a master of the cluster */
static redisContext *
connect_port(int p)
{
    redisContext *c = redisConnect(host, p);

    if (c == NULL || c->err) {
	fprintf(stderr, "sup_slots: connect %s:%d: %s\n", host, p, c ? c->errstr : "oom");
	exit(1);
    }
    return c;
}

/* read_map - owner_port[] from CLUSTER SLOTS */
static void
read_map(void)
{
    redisContext *c = connect_port(port);
    redisReply *r = redisCommand(c, "CLUSTER SLOTS");
    size_t i;
    long long s;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
	fprintf(stderr, "sup_slots: CLUSTER SLOTS failed\n");
	exit(1);
    }
    for (i = 0; i < r->elements; i++) {
	redisReply *e = r->element[i];

	for (s = e->element[0]->integer; s <= e->element[1]->integer; s++)
	    owner_port[s] = (int) e->element[2]->element[1]->integer;
    }
    freeReplyObject(r);
    redisFree(c);
}

/* key_port - the port of the master of a key */
static int
key_port(const char *k)
{
    return owner_port[rcluster_keyslot(k, strlen(k))];
}

/* pick_keys - one tag for one-slot; two tags on two masters for parallel */
static void
pick_keys(void)
{
    int i;

    snprintf(one_key[0], sizeof(one_key[0]), "sup_slots:{gmail.test:7}:b:1");
    snprintf(one_key[1], sizeof(one_key[1]), "sup_slots:{gmail.test:7}:b:2");
    snprintf(one_key[2], sizeof(one_key[2]), "sup_slots:{gmail.test:7}:stats");
    one_port = key_port(one_key[0]);
    snprintf(par_key[0], sizeof(par_key[0]), "sup_slots:{a0}:b");
    par_port[0] = key_port(par_key[0]);
    for (i = 1; i < TAGS; i++) {
	snprintf(par_key[1], sizeof(par_key[1]), "sup_slots:{a%d}:b", i);
	if ((par_port[1] = key_port(par_key[1])) != par_port[0])
	    break;
    }
    if (i == TAGS) {
	fprintf(stderr, "sup_slots: one master serves every slot: no parallel layout\n");
	exit(1);
    }
    snprintf(par_key[2], sizeof(par_key[2]), "sup_slots:{a0}:stats");
}

/* reply_ok - a reply that is not an error */
static int
reply_ok(redisReply *r)
{
    int ok = r != NULL && r->type != REDIS_REPLY_ERROR;

    if (r)
	freeReplyObject(r);
    return ok;
}

/* check_one - one check, one-slot layout */
static int
check_one(redisContext *c)
{
    const char *argv[] = {"EVALSHA", check_sha, "3", one_key[0], one_key[1], one_key[2],
	"bob@gmail.test", "s1:bob@gmail.test", "@gmail.test", "s1:@gmail.test"};

    return reply_ok(redisCommandArgv(c, 10, argv, NULL));
}

/* check_parallel - one check, parallel layout: both sent, then both read */
static int
check_parallel(redisContext *a, redisContext *b)
{
    const char *ha[] = {"HMGET", par_key[0], "bob@gmail.test", "s1:bob@gmail.test"};
    const char *hb[] = {"HMGET", par_key[1], "@gmail.test", "s1:@gmail.test"};
    const char *inc[] = {"HINCRBY", par_key[2], "shop.test none pass", "1"};
    void *r;
    int ok = 1;

    redisAppendCommandArgv(a, 4, ha, NULL);
    redisAppendCommandArgv(a, 4, inc, NULL);
    redisAppendCommandArgv(b, 4, hb, NULL);
    /* the writes of both go out before the first read waits */
    ok &= redisGetReply(b, &r) == REDIS_OK && reply_ok(r);
    ok &= redisGetReply(a, &r) == REDIS_OK && reply_ok(r);
    ok &= redisGetReply(a, &r) == REDIS_OK && reply_ok(r);
    return ok;
}

/* run - one thread's loop */
static void *
run(void *arg)
{
    struct worker *w = arg;
    redisContext *one = connect_port(one_port);
    redisContext *a = connect_port(par_port[0]), *b = connect_port(par_port[1]);
    double end = monotime_us() + seconds * 1e6, t0, t1;
    const char *load[] = {"SCRIPT", "LOAD", check_lua};
    redisReply *r = redisCommandArgv(one, 3, load, NULL);

    if (r == NULL || r->type != REDIS_REPLY_STRING || r->len != 40) {
	fprintf(stderr, "sup_slots: SCRIPT LOAD failed\n");
	exit(1);
    }
    memcpy(check_sha, r->str, 41);
    freeReplyObject(r);
    while ((t0 = monotime_us()) < end) {
	if (!(w->one ? check_one(one) : check_parallel(a, b)))
	    w->errors++;
	t1 = monotime_us();
	if (w->n == w->cap) {
	    w->cap = w->cap ? 2 * w->cap : 4096;
	    w->lat = xreallocarray(w->lat, w->cap, sizeof(*w->lat));
	}
	w->lat[w->n++] = t1 - t0;
    }
    redisFree(one);
    redisFree(a);
    redisFree(b);
    return NULL;
}

/* cmp - doubles ascending */
static int
cmp(const void *x, const void *y)
{
    double a = *(const double *) x, b = *(const double *) y;

    return (a > b) - (a < b);
}

/* measure - THREADS threads of one layout; prints one line */
static void
measure(int nthreads, int layout_one)
{
    struct worker *w = xcalloc((size_t) nthreads, sizeof(*w));
    double *all;
    size_t n = 0, i, o = 0;
    long errors = 0;
    int t;

    for (t = 0; t < nthreads; t++) {
	w[t].one = layout_one;
	pthread_create(&w[t].tid, NULL, run, &w[t]);
    }
    for (t = 0; t < nthreads; t++) {
	pthread_join(w[t].tid, NULL);
	n += w[t].n;
	errors += w[t].errors;
    }
    all = xreallocarray(NULL, n ? n : 1, sizeof(*all));
    for (t = 0; t < nthreads; t++) {
	for (i = 0; i < w[t].n; i++)
	    all[o++] = w[t].lat[i];
	free(w[t].lat);
    }
    qsort(all, n, sizeof(*all), cmp);
    printf("%-9s threads=%d checks/s=%.0f p50=%.0fus p99=%.0fus errors=%ld\n",
	   layout_one ? "one-slot" : "parallel", nthreads, (double) n / seconds,
	   n ? all[n / 2] : 0, n ? all[n * 99 / 100] : 0, errors);
    free(all);
    free(w);
}

int
main(int argc, char **argv)
{
    int nthreads;

    if (argc != 5) {
	fprintf(stderr, "usage: sup_slots HOST PORT THREADS SECONDS\n");
	return 2;
    }
    host = argv[1];
    port = atoi(argv[2]);
    nthreads = atoi(argv[3]);
    seconds = atof(argv[4]);
    if (nthreads < 1 || seconds <= 0)
	return 2;
    read_map();
    pick_keys();
    printf("one-slot: master %d; parallel: masters %d and %d\n", one_port, par_port[0],
	   par_port[1]);
    measure(nthreads, 1);
    measure(nthreads, 0);
    return 0;
}
