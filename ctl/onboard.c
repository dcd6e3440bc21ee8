/*
 * onboard - the command line of outpostctl dns and verify: the arguments,
 *	     the configuration and the domain (onboard_open, onboard_close
 *	     in ctl.h); the domain itself is common/check's onboard(3)
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "msg.h"
#include "onboard.h"

/* parse_args - [--json] [--ip ADDR]... DOMAIN */
static int
parse_args(int argc, char **argv, int *json, struct conf_strlist *ips,
	   const char **domain)
{
    static const struct option opts[] = {
	{"json", no_argument, NULL, 'j'},
	{"ip", required_argument, NULL, 'i'},
	{NULL, 0, NULL, 0},
    };
    int ch;

    *json = 0;
    optind = 0;			/* glibc: start afresh, permuting again */
    while ((ch = getopt_long(argc, argv, "ji:", opts, NULL)) != -1) {
	switch (ch) {
	case 'j': *json = 1; break;
	case 'i': conf_strlist_add(ips, optarg, strlen(optarg)); break;
	default: return -1;
	}
    }
    if (argc - optind != 1)
	return -1;
    *domain = argv[optind];
    return 0;
}

/* onboard_open - the arguments, the configuration and the domain of a command */
int
onboard_open(struct onboard *o, const char *conf_path, int argc, char **argv, int *json)
{
    struct conf_strlist ips = {0};
    struct outpost_conf *conf;
    const char *domain;
    char err[700];
    int rc;

    if (parse_args(argc, argv, json, &ips, &domain) < 0) {
	conf_strlist_free(&ips);
	return ctl_usage(argv[0], NULL);
    }
    conf = ctl_load_conf(conf_path);
    rc = onboard_init(o, conf, domain, &ips, err, sizeof(err));
    conf_strlist_free(&ips);
    if (rc < 0) {
	msg_error("%s", err);
	conf_free(conf);
	return 2;
    }
    return 0;
}

/* onboard_close - onboard_free, and the configuration onboard_open loaded */
void
onboard_close(struct onboard *o)
{
    onboard_free(o);
    conf_free((struct outpost_conf *) o->conf);	/* onboard_open's own */
    o->conf = NULL;
}
