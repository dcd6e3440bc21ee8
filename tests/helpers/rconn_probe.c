/*
 * rconn_probe - exercise the Redis connection module for the integration tests
 *
 * SYNOPSIS
 *	rconn_probe CONFIG COUNT INTERVAL-MS
 *
 * DESCRIPTION
 *	Through one rconn, COUNT times: INCR a counter, print "ok N" or
 *	"fail REASON", sleep INTERVAL-MS.  One long-lived connection shows
 *	reconnection, backoff and Sentinel failover as a script can see them.
 *	INTERVAL-MS "-": instead of sleeping, wait for a line on the standard
 *	input before each command (a test decides when each one goes).
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "conf.h"
#include "msg.h"
#include "redisconn.h"

int
main(int argc, char **argv)
{
    struct outpost_conf *conf;
    struct rconn *rc;
    char err[600];
    long i, count, interval;
    int step;
    char line[64];
    struct timespec ts;

    if (argc != 4) {
	fprintf(stderr, "usage: rconn_probe CONFIG COUNT INTERVAL-MS\n");
	return 2;
    }
    msg_open("rconn_probe", 1, 0);
    signal(SIGPIPE, SIG_IGN);		/* as the daemons do */
    if ((conf = conf_load(argv[1], err, sizeof(err))) == NULL) {
	fprintf(stderr, "%s\n", err);
	return 1;
    }
    count = atol(argv[2]);
    step = argv[3][0] == '-';
    interval = step ? 0 : atol(argv[3]);
    ts.tv_sec = interval / 1000;
    ts.tv_nsec = (interval % 1000) * 1000000L;
    rc = rconn_new(&conf->redis);
    for (i = 0; i < count; i++) {
	redisReply *r;

	if (step && fgets(line, sizeof(line), stdin) == NULL)
	    break;
	r = rconn_commandv(rc, "INCR", "probe", NULL);
	if (r && r->type == REDIS_REPLY_INTEGER)
	    printf("ok %lld\n", r->integer);
	else
	    printf("fail %s\n", r ? (r->str ? r->str : "?") : rconn_error(rc));
	fflush(stdout);
	if (r)
	    freeReplyObject(r);
	if (!step)
	    nanosleep(&ts, NULL);
    }
    rconn_free(rc);
    conf_free(conf);
    return 0;
}
