/*
 * ctl - what the commands of outpostctl share
 *
 * Each command is a function run(conf_path, argc, argv) with argv[0] the
 * command name; it returns the exit status.  ctl_commands (main.c) is the
 * table of commands, ended by a NULL name; each row's usage lists the
 * command's forms, {"suppress add [--scope DOMAIN] TARGET...", "what it
 * does"}, ended by a NULL synopsis.  help.c prints them: ctl_help() for
 * --help (standard output), ctl_usage() for a usage error (standard
 * error; it returns the exit status 2).
 */
#ifndef OUTPOST_CTL_H
#define OUTPOST_CTL_H

#include <stdio.h>

struct outpost_conf;
struct conf_strlist;
struct onboard;
struct rconn;
struct redisReply;

struct ctl_usage {
    const char *synopsis;	/* after "outpostctl ", command name first */
    const char *what;		/* one line */
};

struct ctl_command {
    const char *name;
    int (*run)(const char *conf_path, int argc, char **argv);
    const struct ctl_usage *usage;
};

extern const struct ctl_command ctl_commands[];

/* help.c: --help and usage errors, from the table */
void ctl_help_all(FILE *fp);
int ctl_help_wanted(int argc, char **argv);
void ctl_help(FILE *fp, const char *command, const char *sub);
int ctl_usage(const char *command, const char *sub);

/* day.c: the UTC days of daily counters, "YYYY-MM-DD" to people */
#define CTL_DAY_KEY	9		/* "YYYYMMDD" and a NUL */
#define CTL_DAY_SHOW	11		/* "YYYY-MM-DD" and a NUL */
int ctl_day_parse(const char *s, char key[CTL_DAY_KEY]);
void ctl_day_today(long long now, char key[CTL_DAY_KEY]);
void ctl_day_show(const char *key, char out[CTL_DAY_SHOW]);

/* the forms of each command, beside its code */
extern const struct ctl_usage ctl_dns_usage[], ctl_verify_usage[],
    ctl_classify_usage[], ctl_dkim_usage[], ctl_suppress_usage[],
    ctl_intake_usage[], ctl_warmup_usage[], ctl_throttle_usage[],
    ctl_stats_usage[], ctl_backoff_usage[], ctl_reputation_usage[],
    ctl_testsend_usage[], ctl_events_usage[], ctl_apikey_usage[],
    ctl_webhooks_usage[];

struct outpost_conf *ctl_load_conf(const char *path);
int ctl_refused(struct rconn *rc, struct redisReply *r, const char *cmd, const char *key);
int cmd_dkim(const char *conf_path, int argc, char **argv);

int cmd_stats(const char *path, int argc, char **argv);
int cmd_backoff(const char *path, int argc, char **argv);
int cmd_events(const char *path, int argc, char **argv);
int ctl_classify(const char *conf_path, int argc, char **argv);

/* cluster.c: outpostctl check-config --cluster */
int ctl_check_cluster(const struct outpost_conf *conf, int json);

/* dns.c: outpostctl dns */
int cmd_dns(const char *conf_path, int argc, char **argv);
/*
 * onboard.c: a command's "[--json] [--ip ADDR]... DOMAIN" (argv[0] its name),
 * the configuration loaded and onboard_init(3) done; 0, or the exit status
 * after printing why (2: usage or domain; a configuration that does not load
 * exits 1).  onboard_close() undoes it.
 */
int onboard_open(struct onboard *o, const char *conf_path, int argc, char **argv,
		 int *json);
void onboard_close(struct onboard *o);

/* intake.c: outpostctl intake */
int cmd_intake(const char *conf_path, int argc, char **argv);

/* check_postfix.c: outpostctl check-config --postfix */
int check_postfix(const char *conf_path, const char *maincf);

/* reputation.c: outpostctl reputation */
int cmd_reputation(const char *conf_path, int argc, char **argv);

/* testsend.c: outpostctl test-send */
int cmd_testsend(const char *conf_path, int argc, char **argv);

/* apikey.c: outpostctl apikey */
int cmd_apikey(const char *conf_path, int argc, char **argv);
/* webhooks.c: outpostctl webhooks */
int cmd_webhooks(const char *conf_path, int argc, char **argv);

/* verify.c: outpostctl verify */
int cmd_verify(const char *conf_path, int argc, char **argv);

/* suppress.c, suppress_import.c */
struct sup_store;
int cmd_suppress(const char *conf_path, int argc, char **argv);
int suppress_import(struct sup_store *store, const char *path, int strict,
		    int force, long long now);

#endif
