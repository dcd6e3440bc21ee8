/*
 * sup_latency - RCPT-time suppression check latency under concurrent load
 *
 * SYNOPSIS
 *	sup_latency CONF THREADS SECONDS CSV
 *
 * DESCRIPTION
 *	THREADS threads, each with its own Redis connection (as each busy
 *	milter thread has one from the pool), call sup_check() -- the same
 *	one-round-trip lookup the milter makes per recipient, counting
 *	included -- for SECONDS, on recipients taken from CSV (an export or
 *	an import file: half of the lookups hit listed addresses, half miss).
 *	Prints checks per second and the latency percentiles.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "monotime.h"
#include "msg.h"
#include "redisconn.h"
#include "suppress.h"
#include "xalloc.h"

#define MAX_ADDRS 100000

static struct outpost_conf *conf;
static char (*addrs)[ADDR_MAX];
static size_t naddrs;
static double seconds;

struct worker {
    pthread_t tid;
    unsigned seed;
    double *lat;		/* microseconds */
    size_t n, cap;
    long hits, errors;
};

/* run - one thread's loop */
static void *
run(void *arg)
{
    struct worker *w = arg;
    struct rconn *rc = rconn_new(&conf->redis);
    struct sup_store *st = sup_store_new(rc, conf->redis.prefix);
    struct sup_entry hit;
    char miss[ADDR_MAX];
    double end = monotime_us() + seconds * 1e6, t0, t1;
    const char *rcpt;
    int n;

    while ((t0 = monotime_us()) < end) {
	size_t i = (size_t) rand_r(&w->seed) % naddrs;

	if (rand_r(&w->seed) & 1) {
	    rcpt = addrs[i];
	} else {
	    snprintf(miss, sizeof(miss), "x%u.%s", (unsigned) rand_r(&w->seed), addrs[i]);
	    rcpt = miss[0] && strchr(miss, '@') ? miss : addrs[i];
	}
	n = sup_check(st, rcpt[0] == '@' ? "someone@example.test" : rcpt,
		      "tenant7.example", (long long) time(NULL), "bench", &hit);
	t1 = monotime_us();
	if (n < 0)
	    w->errors++;
	else
	    w->hits += n;
	if (w->n == w->cap) {
	    w->cap = w->cap ? 2 * w->cap : 65536;
	    w->lat = xreallocarray(w->lat, w->cap, sizeof(*w->lat));
	}
	w->lat[w->n++] = t1 - t0;
    }
    sup_store_free(st);
    rconn_free(rc);
    return NULL;
}

/* cmp - for qsort */
static int
cmp(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return x < y ? -1 : x > y;
}

/* load - the first field of up to MAX_ADDRS CSV rows */
static void
load(const char *path)
{
    FILE *fp = fopen(path, "r");
    char line[1100];
    struct sup_entry e;
    const char *why;

    if (fp == NULL)
	msg_fatal("%s: cannot open", path);
    addrs = xreallocarray(NULL, MAX_ADDRS, sizeof(*addrs));
    while (naddrs < MAX_ADDRS && fgets(line, sizeof(line), fp))
	if (sup_csv_parse(line, strlen(line), 0, &e, &why) == 0 && e.target[0] != '@')
	    strcpy(addrs[naddrs++], e.target);
    fclose(fp);
    if (naddrs == 0)
	msg_fatal("%s: no addresses", path);
}

int
main(int argc, char **argv)
{
    struct worker *w;
    double *all, start, secs;
    size_t total = 0, k;
    long hits = 0, errors = 0;
    int threads, i;
    char err[600];

    if (argc != 5) {
	fprintf(stderr, "usage: sup_latency CONF THREADS SECONDS CSV\n");
	return 2;
    }
    msg_open("sup_latency", 1, 0);
    if ((conf = conf_load(argv[1], err, sizeof(err))) == NULL)
	msg_fatal("%s", err);
    threads = atoi(argv[2]);
    seconds = atof(argv[3]);
    load(argv[4]);
    w = xcalloc((size_t) threads, sizeof(*w));
    start = monotime_us();
    for (i = 0; i < threads; i++) {
	w[i].seed = (unsigned) i * 7919u + 1;
	pthread_create(&w[i].tid, NULL, run, &w[i]);
    }
    for (i = 0; i < threads; i++) {
	pthread_join(w[i].tid, NULL);
	total += w[i].n;
	hits += w[i].hits;
	errors += w[i].errors;
    }
    secs = (monotime_us() - start) / 1e6;
    all = xreallocarray(NULL, total ? total : 1, sizeof(*all));
    for (i = 0, k = 0; i < threads; i++) {
	memcpy(all + k, w[i].lat, w[i].n * sizeof(*all));
	k += w[i].n;
	free(w[i].lat);
    }
    qsort(all, total, sizeof(*all), cmp);
    printf("threads=%d checks=%zu (%.0f/s) hits=%ld errors=%ld "
	   "p50=%.0fus p90=%.0fus p99=%.0fus max=%.0fus\n",
	   threads, total, total / secs, hits, errors,
	   total ? all[total / 2] : 0, total ? all[total * 9 / 10] : 0,
	   total ? all[total * 99 / 100] : 0, total ? all[total - 1] : 0);
    free(all);
    free(w);
    free(addrs);
    conf_free(conf);
    return 0;
}
