/*
 * rcluster_probe - drive the Redis Cluster client for the integration tests
 *
 * SYNOPSIS
 *	rcluster_probe CONFIG SEED[,SEED...]
 *
 * DESCRIPTION
 *	One long-lived rcluster, made from CONFIG's [redis] (password,
 *	timeouts) and the seed nodes given, reads one request a line on the
 *	standard input and answers one line on the standard output:
 *
 *	cmd NKEYS WORD...	the command WORD..., whose keys are the NKEYS
 *				words after the first
 *	eval NKEYS KEY... ARG	a script that adds ARG to field n of each key
 *				and returns the sum
 *	fill N PREFIX		SET then GET PREFIXi = i for i < N; answers
 *				"ok N SLOTS" (SLOTS: how many slots were hit)
 *	slot KEY		the key's slot by rcluster_keyslot()
 *	counts			"moved M ask A refreshed R tryagain T"
 *
 *	An answer is "ok REPLY" (a string, integer or status as is, "nil",
 *	"array N"), "err TEXT" for an error reply, "fail REASON" when the
 *	client gave no reply.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "msg.h"
#include "rcluster.h"
#include "xalloc.h"

#define MAX_WORDS 32

static const char incr_script[] =
    "local s = 0\n"
    "for _, k in ipairs(KEYS) do s = s + redis.call('HINCRBY', k, 'n', ARGV[1]) end\n"
    "return s\n";

/* answer - print one reply (or the reason there is none), free it */
static void
answer(struct rcluster *c, redisReply *r)
{
    if (r == NULL)
	printf("fail %s\n", rcluster_error(c));
    else if (r->type == REDIS_REPLY_ERROR)
	printf("err %s\n", r->str);
    else if (r->type == REDIS_REPLY_INTEGER)
	printf("ok %lld\n", r->integer);
    else if (r->type == REDIS_REPLY_NIL)
	printf("ok nil\n");
    else if (r->type == REDIS_REPLY_ARRAY)
	printf("ok array %zu\n", r->elements);
    else
	printf("ok %s\n", r->str);
    if (r)
	freeReplyObject(r);
}

/* fill - n keys SET and read back; the number of slots they fell in */
static void
fill(struct rcluster *c, long n, const char *prefix)
{
    static unsigned char hit[RCLUSTER_SLOTS];
    char key[128], val[32];
    long i, slots = 0;

    memset(hit, 0, sizeof(hit));
    for (i = 0; i < n; i++) {
	const char *set[3] = {"SET", key, val};
	const char *get[2] = {"GET", key};
	redisReply *r;
	unsigned s;

	snprintf(key, sizeof(key), "%s%ld", prefix, i);
	snprintf(val, sizeof(val), "%ld", i);
	if ((r = rcluster_command(c, 1, 1, 3, set, NULL)) == NULL
	    || r->type == REDIS_REPLY_ERROR) {
	    answer(c, r);
	    return;
	}
	freeReplyObject(r);
	if ((r = rcluster_command(c, 1, 1, 2, get, NULL)) == NULL
	    || r->type != REDIS_REPLY_STRING || strcmp(r->str, val) != 0) {
	    if (r && r->type == REDIS_REPLY_STRING) {
		printf("fail %s holds %s\n", key, r->str);
		freeReplyObject(r);
	    } else {
		answer(c, r);
	    }
	    return;
	}
	freeReplyObject(r);
	s = rcluster_keyslot(key, strlen(key));
	slots += !hit[s];
	hit[s] = 1;
    }
    printf("ok %ld %ld\n", n, slots);
}

int
main(int argc, char **argv)
{
    struct outpost_conf *conf;
    struct conf_strlist seeds = {NULL, 0};
    struct rcluster *c;
    struct rscript script;
    char err[600], line[4096], *seedcopy, *p;
    const char *w[MAX_WORDS];
    int n;

    if (argc != 3) {
	fprintf(stderr, "usage: rcluster_probe CONFIG SEED[,SEED...]\n");
	return 2;
    }
    msg_open("rcluster_probe", 1, 0);
    signal(SIGPIPE, SIG_IGN);
    if ((conf = conf_load(argv[1], err, sizeof(err))) == NULL) {
	fprintf(stderr, "%s\n", err);
	return 1;
    }
    seedcopy = xstrdup(argv[2]);
    for (p = strtok(seedcopy, ","); p; p = strtok(NULL, ",")) {
	seeds.v = xreallocarray(seeds.v, seeds.n + 1, sizeof(*seeds.v));
	seeds.v[seeds.n++] = p;
    }
    c = rcluster_new(&conf->redis, &seeds);
    rscript_init(&script, incr_script);
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (fgets(line, sizeof(line), stdin)) {
	line[strcspn(line, "\r\n")] = '\0';
	for (n = 0, p = strtok(line, " "); p && n < MAX_WORDS; p = strtok(NULL, " "))
	    w[n++] = p;
	if (n >= 3 && strcmp(w[0], "cmd") == 0) {
	    answer(c, rcluster_command(c, 1, atoi(w[1]), n - 2, w + 2, NULL));
	} else if (n >= 3 && strcmp(w[0], "eval") == 0) {
	    answer(c, rcluster_eval(c, &script, atoi(w[1]), n - 2, w + 2, NULL));
	} else if (n == 3 && strcmp(w[0], "fill") == 0) {
	    fill(c, atol(w[1]), w[2]);
	} else if (n == 2 && strcmp(w[0], "slot") == 0) {
	    printf("ok %u\n", rcluster_keyslot(w[1], strlen(w[1])));
	} else if (n == 1 && strcmp(w[0], "counts") == 0) {
	    unsigned long long moved, ask, refreshed;

	    rcluster_counts(c, &moved, &ask, &refreshed);
	    printf("ok moved %llu ask %llu refreshed %llu tryagain %llu\n", moved, ask,
		   refreshed, rcluster_tryagains(c));
	} else {
	    printf("fail unknown request\n");
	}
    }
    rcluster_free(c);
    conf_free(conf);
    free(seeds.v);
    free(seedcopy);
    return 0;
}
