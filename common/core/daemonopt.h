/*
 * daemonopt - the command line every Outpost daemon shares
 *
 * SYNOPSIS
 *	#include "daemonopt.h"
 *
 *	void daemonopt_parse(int argc, char **argv, struct daemonopt *o);
 *
 * DESCRIPTION
 *	Parses "[-fnv] [-c FILE]": -c the configuration file (default
 *	OUTPOST_CONF_PATH), -f messages on stderr, not syslog, -n check
 *	the configuration and exit, -v more verbose (repeatable).  Anything
 *	else prints the usage and exits with status 2.  The daemons never
 *	detach, with or without -f.  Logging starts on
 *	stderr at the requested verbosity; the daemon switches to syslog
 *	(msg_open) once it has read its configuration.
 */
#ifndef OUTPOST_DAEMONOPT_H
#define OUTPOST_DAEMONOPT_H

struct daemonopt {
    const char *conf_path;
    int foreground;
    int check_only;
    int verbose;
};

void daemonopt_parse(int argc, char **argv, struct daemonopt *o);

#endif
