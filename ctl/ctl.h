/*
 * ctl - what the commands of outpostctl share
 *
 * Each command is a function run(conf_path, argc, argv) with argv[0] the
 * command name; it returns the exit status.
 */
#ifndef OUTPOST_CTL_H
#define OUTPOST_CTL_H

struct outpost_conf;
struct conf_strlist;

struct ctl_command {
    const char *name;
    int (*run)(const char *conf_path, int argc, char **argv);
};

struct outpost_conf *ctl_load_conf(const char *path);
int cmd_dkim(const char *conf_path, int argc, char **argv);

int cmd_stats(const char *path, int argc, char **argv);
int cmd_backoff(const char *path, int argc, char **argv);
int     ctl_classify(const char *conf_path, int argc, char **argv);

/* dns.c: outpostctl dns */
int cmd_dns(const char *conf_path, int argc, char **argv);

/* intake.c: outpostctl intake */
int cmd_intake(const char *conf_path, int argc, char **argv);

/* check_postfix.c: outpostctl check-config --postfix */
int check_postfix(const char *conf_path, const char *maincf);

/* verify.c: outpostctl verify */
int cmd_verify(const char *conf_path, int argc, char **argv);

/* suppress.c, suppress_import.c */
struct sup_store;
int cmd_suppress(const char *conf_path, int argc, char **argv);
int suppress_import(struct sup_store *store, const char *path, int strict,
		    int force, long long now);

#endif
