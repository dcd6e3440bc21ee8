/*
 * daemonopt - the command line every Outpost daemon shares (see daemonopt.h)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf.h"
#include "daemonopt.h"
#include "msg.h"

/* daemonopt_parse - options, or usage and exit 2 */
void
daemonopt_parse(int argc, char **argv, struct daemonopt *o)
{
    int ch, bad = 0;

    o->conf_path = OUTPOST_CONF_PATH;
    o->foreground = o->check_only = o->verbose = 0;
    while ((ch = getopt(argc, argv, "c:fnvh")) != -1) {
	switch (ch) {
	case 'c': o->conf_path = optarg; break;
	case 'f': o->foreground = 1; break;
	case 'n': o->check_only = 1; break;
	case 'v': o->verbose++; break;
	default: bad = 1; break;
	}
    }
    if (bad || optind != argc) {
	fprintf(stderr, "usage: %s [-fnv] [-c FILE]\n", argv[0]);
	exit(2);
    }
    msg_open(argv[0], 1, 0);
    msg_verbose(o->verbose);
}
