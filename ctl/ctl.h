/*
 * ctl - what the commands of outpostctl share
 *
 * Each command is a function run(conf_path, argc, argv) with argv[0] the
 * command name; it returns the exit status.
 */
#ifndef OUTPOST_CTL_H
#define OUTPOST_CTL_H

struct outpost_conf;

struct ctl_command {
    const char *name;
    int (*run)(const char *conf_path, int argc, char **argv);
};

struct outpost_conf *ctl_load_conf(const char *path);
int cmd_dkim(const char *conf_path, int argc, char **argv);

#endif
