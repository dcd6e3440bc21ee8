/*
 * outpostctl - the Outpost operator's tool
 *
 * SYNOPSIS
 *	outpostctl [-c FILE] [-v] COMMAND [ARGS...]
 *
 * DESCRIPTION
 *	classify FILE...	classify bounces and complaints (classify.c)
 *	check-config [FILE]	validate a configuration; exit 1 with
 *				"FILE:LINE: problem" when it is wrong; report
 *				the Redis server's maxmemory-policy and
 *				persistence (exit 1 if the daemons would
 *				refuse it)
 *	check-config --cluster [--json] [FILE]
 *				also compare the relay nodes (cluster.c)
 *	check-config --postfix [MAIN.CF]
 *				does Postfix ask the daemons (check_postfix.c)
 *	dns [--json] [--ip ADDR]... DOMAIN
 *				the DNS records DOMAIN publishes (dns.c)
 *	verify [--json] [--ip ADDR]... DOMAIN
 *				check what DOMAIN publishes (verify.c)
 *	reputation [--json]	pool addresses and sending domains on the
 *				configured blocklists (reputation.c)
 *	test-send --from ADDR [--via HOST:PORT] [--json] [--timeout D]
 *				a test message evaluated as a receiver
 *				does (testsend.c)
 *	ping			connect to Redis as configured and PING it
 *	dkim keygen DOMAIN SELECTOR [--algorithm rsa|ed25519] [--bits N]
 *		[--dir DIR] [--add]
 *				make a DKIM key; print its DNS TXT record
 *	dkim rotate DOMAIN SELECTOR [--dir DIR] [--force]
 *				sign with that key once its record is
 *				published (ctl/dkim.c)
 *	suppress ...		manage the suppression list (ctl/suppress.c)
 *	stats ...		delivery statistics (ctl/stats.c)
 *	backoff ...		provider backoffs (ctl/backoff.c)
 *	events TENANT ...	a tenant's event stream (ctl/events.c)
 *	intake ...		bounce intake counters, tagged addresses
 *				(ctl/intake.c)
 *	apikey ...		keys of the platform API (ctl/apikey.c)
 *	version			print the version
 *
 *	-h, --help, or --help after a command or subcommand, print the
 *	forms of all commands, of one, or of one subcommand (help.c).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "ctl.h"
#include "msg.h"
#include "pool_select.h"
#include "redischeck.h"
#include "redisconn.h"
#include "ctl_warmup.h"

/* usage - the commands, on standard error, and exit 2 */
static void
usage(void)
{
    ctl_help_all(stderr);
    exit(2);
}

/*
 * output_done - the exit status once standard output is flushed: a result
 * that did not all reach it (a full disk, a reader gone with SIGPIPE
 * ignored) is a failure, whatever the command made of it
 */
static int
output_done(int rc)
{
    int err;

    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout))
	return rc;
    err = errno;
    msg_error("standard output: %s", err ? strerror(err) : "write error");
    return rc ? rc : 1;
}

/*
 * ctl_refused - no reply, or an error reply (NOPERM, WRONGTYPE, LOADING...):
 * said, and the reply freed; the state the command reads is unknown, not empty
 */
int
ctl_refused(struct rconn *rc, redisReply *r, const char *cmd, const char *key)
{
    if (r && r->type != REDIS_REPLY_ERROR)
	return 0;
    msg_error("redis: %s %s: %s", cmd, key, r ? r->str : rconn_error(rc));
    if (r)
	freeReplyObject(r);
    return 1;
}

/* ctl_load_conf - load the configuration or exit with its error */
struct outpost_conf *
ctl_load_conf(const char *path)
{
    struct outpost_conf *conf;
    char err[600];

    if ((conf = conf_load(path, err, sizeof(err))) == NULL) {
	msg_error("%s", err);
	exit(1);
    }
    return conf;
}

/*
 * cmd_check_config - outpostctl check-config [--cluster [--json]] [FILE],
 * check-config --postfix [MAIN.CF]
 */
static int
cmd_check_config(const char *path, int argc, char **argv)
{
    struct outpost_conf *conf;
    int cluster = 0, json = 0, i, rc = 0;

    if (argc > 1 && strcmp(argv[1], "--postfix") == 0)
	return argc > 3 ? (usage(), 2) : check_postfix(path, argc > 2 ? argv[2] : NULL);
    for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
	if (strcmp(argv[i], "--cluster") == 0)
	    cluster = 1;
	else if (strcmp(argv[i], "--json") == 0)
	    json = 1;
	else
	    usage();
    }
    if (json && !cluster)
	usage();			/* only the cluster's state is a document */
    if (i < argc)
	path = argv[i++];
    if (i < argc)
	usage();
    conf = ctl_load_conf(path);
    /* with --json, stdout holds the document alone */
    (void) pool_service_warn(conf);	/* on stderr; not an error */
    fprintf(json ? stderr : stdout, "%s: configuration OK\n", path);
    rc = rcheck_report(&conf->redis, json ? stderr : stdout);
    if (cluster) {
	int crc = ctl_check_cluster(conf, json);

	if (crc > rc)
	    rc = crc;
    }
    conf_free(conf);
    return rc;
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
	msg_error("redis: %s",
		  r ? (r->str ? r->str : "unexpected reply") : rconn_error(rc));
    if (r)
	freeReplyObject(r);
    rconn_free(rc);
    conf_free(conf);
    return ok ? 0 : 1;
}

/* cmd_version - outpostctl version */
static int
cmd_version(const char *path, int argc, char **argv)
{
    (void) path;
    (void) argc;
    (void) argv;
    printf("outpostctl %s\n", PACKAGE_VERSION);
    return 0;
}

static const struct ctl_usage check_config_usage[] = {
    {"check-config [--cluster [--json]] [FILE]",
     "validate a configuration file; with --cluster, compare the relay nodes"},
    {"check-config --postfix [MAIN.CF|DIR]",
     "check that Postfix asks outpost-policyd and outpost-milter"}, {NULL, NULL}};
static const struct ctl_usage ping_usage[] = {
    {"ping", "check the connection to Redis"}, {NULL, NULL}};
static const struct ctl_usage version_usage[] = {
    {"version", "print the version"}, {NULL, NULL}};

const struct ctl_command ctl_commands[] = {
    {"check-config", cmd_check_config, check_config_usage},
    {"dns", cmd_dns, ctl_dns_usage},
    {"verify", cmd_verify, ctl_verify_usage},
    {"reputation", cmd_reputation, ctl_reputation_usage},
    {"test-send", cmd_testsend, ctl_testsend_usage},
    {"classify", ctl_classify, ctl_classify_usage},
    {"ping", cmd_ping, ping_usage},
    {"dkim", cmd_dkim, ctl_dkim_usage},
    {"suppress", cmd_suppress, ctl_suppress_usage},
    {"intake", cmd_intake, ctl_intake_usage},
    {"warmup", cmd_warmup, ctl_warmup_usage},
    {"throttle", cmd_throttle, ctl_throttle_usage},
    {"stats", cmd_stats, ctl_stats_usage},
    {"backoff", cmd_backoff, ctl_backoff_usage},
    {"events", cmd_events, ctl_events_usage},
    {"apikey", cmd_apikey, ctl_apikey_usage},
    {"webhooks", cmd_webhooks, ctl_webhooks_usage},
    {"version", cmd_version, version_usage},
    {NULL, NULL, NULL},
};

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {{"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *path = OUTPOST_CONF_PATH;
    const struct ctl_command *c;
    int ch, verbose = 0;

    msg_open_tool("outpostctl");
    while ((ch = getopt_long(argc, argv, "+c:vh", longopts, NULL)) != -1) {
	switch (ch) {
	case 'c': path = optarg; break;
	case 'v': verbose++; break;
	case 'h': ctl_help_all(stdout); return output_done(0);
	default: usage();
	}
    }
    msg_verbose(verbose);
    argc -= optind;
    argv += optind;
    if (argc < 1)
	usage();
    for (c = ctl_commands; c->name; c++) {
	if (strcmp(argv[0], c->name) != 0)
	    continue;
	if (ctl_help_wanted(argc, argv)) {
	    ctl_help(stdout, c->name, argc > 1 && argv[1][0] != '-' ? argv[1] : NULL);
	    return output_done(0);
	}
	return output_done(c->run(path, argc, argv));
    }
    msg_error("unknown command '%s'", argv[0]);
    usage();
}
