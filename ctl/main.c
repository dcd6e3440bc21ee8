/*
 * outpostctl - the Outpost operator's tool
 *
 * SYNOPSIS
 *	outpostctl [-c FILE] [-v] COMMAND [ARGS...]
 *
 * DESCRIPTION
 *	classify FILE...	classify bounces and complaints (classify.c)
 *	check-config [FILE]	validate a configuration; exit 1 with
 *				"FILE:LINE: problem" when it is wrong
 *	check-config --postfix [MAIN.CF]
 *				does Postfix ask the daemons (check_postfix.c)
 *	dns [--json] [--ip ADDR]... DOMAIN
 *				the DNS records DOMAIN publishes (dns.c)
 *	verify [--json] [--ip ADDR]... DOMAIN
 *				check what DOMAIN publishes (verify.c)
 *	ping			connect to Redis as configured and PING it
 *	dkim keygen DOMAIN SELECTOR [--algorithm rsa|ed25519] [--bits N]
 *		[--dir DIR] [--add]
 *				make a DKIM key; print its DNS TXT record
 *	suppress ...		manage the suppression list (ctl/suppress.c)
 *	stats ...		delivery statistics (ctl/stats.c)
 *	backoff ...		provider backoffs (ctl/backoff.c)
 *	intake ...		bounce intake counters, tagged addresses
 *				(ctl/intake.c)
 *	version			print the version
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "ctl.h"
#include "msg.h"
#include "redisconn.h"
#include "ctl_warmup.h"

/* usage - list the commands and exit */
static void
usage(void)
{
    fprintf(stderr,
	    "usage: outpostctl [-c FILE] [-v] COMMAND [ARGS...]\n"
	    "commands:\n"
	    "  check-config [FILE]   validate a configuration file\n"
	    "  check-config --postfix [MAIN.CF]\n"
	    "                        check that Postfix asks outpost-policyd and -milter\n"
	    "  dns [--json] [--ip ADDR]... DOMAIN\n"
	    "                        print the DNS records DOMAIN must publish\n"
	    "  verify [--json] [--ip ADDR]... DOMAIN\n"
	    "                        check SPF, DKIM, DMARC, PTR and return-path DNS\n"
	    "  classify FILE...      classify bounce and complaint messages\n"
	    "  ping                  check the connection to Redis\n"
	    "  dkim keygen DOMAIN SELECTOR [--algorithm rsa|ed25519] [--bits N] [--dir DIR] [--add]\n"
	    "                        make a DKIM key, print its DNS record\n"
	    "  suppress ...          the suppression list (add, remove, check, list,\n"
	    "                        import, export, purge, stats)\n"
	    "  intake stats [--day YYYYMMDD] | address [--unsubscribe] RCPT SENDER_DOMAIN\n"
	    "                        bounce intake counters; a tagged address\n"
	    "  warmup status | start POOL [DATE]   IP pools' warm-up\n"
	    "  throttle status       rate limits and backoffs in force\n"
	    "  stats [--since WHEN] [--by sender|provider|pool] [--json]\n"
	    "                        delivery statistics\n"
	    "  backoff list|clear|set  provider backoffs\n"
	    "  version               print the version\n");
    exit(2);
}

/* ctl_load_conf - load the configuration or exit with its error */
struct outpost_conf *
ctl_load_conf(const char *path)
{
    struct outpost_conf *conf;
    char err[600];

    if ((conf = conf_load(path, err, sizeof(err))) == NULL) {
	fprintf(stderr, "outpostctl: %s\n", err);
	exit(1);
    }
    return conf;
}

/* cmd_check_config - outpostctl check-config [FILE] | --postfix [MAIN.CF] */
static int
cmd_check_config(const char *path, int argc, char **argv)
{
    struct outpost_conf *conf;

    if (argc > 1 && strcmp(argv[1], "--postfix") == 0)
	return argc > 3 ? (usage(), 2) : check_postfix(path, argc > 2 ? argv[2] : NULL);
    if (argc > 1)
	path = argv[1];
    conf = ctl_load_conf(path);
    printf("%s: configuration OK\n", path);
    conf_free(conf);
    return 0;
}

/* cmd_ping - outpostctl ping */
static int
cmd_ping(const char *path, int argc, char **argv)
{
    struct outpost_conf *conf = ctl_load_conf(path);
    struct rconn *rc = rconn_new(&conf->redis);
    redisReply *r = rconn_commandv(rc, "PING", NULL);
    int ok = r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;

    (void) argc;
    (void) argv;
    if (ok)
	printf("redis: PONG\n");
    else
	fprintf(stderr, "outpostctl: redis: %s\n",
		r ? (r->str ? r->str : "unexpected reply") : rconn_error(rc));
    if (r)
	freeReplyObject(r);
    rconn_free(rc);
    conf_free(conf);
    return ok ? 0 : 1;
}

static const struct ctl_command commands[] = {
    {"check-config", cmd_check_config},
    {"dns", cmd_dns},
    {"verify", cmd_verify},
    {"classify", ctl_classify},
    {"ping", cmd_ping},
    {"dkim", cmd_dkim},
    {"suppress", cmd_suppress},
    {"intake", cmd_intake},
    {"warmup", cmd_warmup},
    {"throttle", cmd_throttle},
    {"stats", cmd_stats},
    {"backoff", cmd_backoff},
};

int
main(int argc, char **argv)
{
    const char *path = OUTPOST_CONF_PATH;
    int ch, verbose = 0;
    size_t i;

    while ((ch = getopt(argc, argv, "+c:vh")) != -1) {
	switch (ch) {
	case 'c': path = optarg; break;
	case 'v': verbose++; break;
	default: usage();
	}
    }
    msg_open("outpostctl", 1, 0);
    msg_verbose(verbose);
    argc -= optind;
    argv += optind;
    if (argc < 1)
	usage();
    if (strcmp(argv[0], "version") == 0) {
	printf("outpostctl %s\n", PACKAGE_VERSION);
	return 0;
    }
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
	if (strcmp(argv[0], commands[i].name) == 0)
	    return commands[i].run(path, argc, argv);
    fprintf(stderr, "outpostctl: unknown command '%s'\n", argv[0]);
    usage();
}
