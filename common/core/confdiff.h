/*
 * confdiff - the settings a reload cannot change: warn of each one changed
 *
 * SYNOPSIS
 *	#include "confdiff.h"
 *
 *	struct confdiff d = CONFDIFF_INIT("outpost-httpd");
 *
 *	void confdiff_str(struct confdiff *d, const char *key,
 *			  const char *running, const char *next);
 *	void confdiff_num(struct confdiff *d, const char *key,
 *			  long long running, long long next);
 *	void confdiff_list(struct confdiff *d, const char *key,
 *			   const struct conf_strlist *running,
 *			   const struct conf_strlist *next);
 *	void confdiff_redis(struct confdiff *d, const struct conf_redis *running,
 *			    const struct conf_redis *next);
 *	void confdiff_general(struct confdiff *d,
 *			      const struct conf_general *running,
 *			      const struct conf_general *next);
 *
 * DESCRIPTION
 *	A daemon that reloads on SIGHUP keeps what needs a new socket, a new
 *	thread pool or a new Redis connection as it was at start.  Each
 *	function compares one such setting of the running configuration with
 *	the one just read and, when they differ, logs a warning that names
 *	it (key: "[httpd] listen") and says to restart d->program to apply
 *	it; d->changed counts them.  NULL strings are equal to each other.
 *	confdiff_redis() compares the whole [redis] section (a password is
 *	never logged, only its key); confdiff_general() the [general] keys
 *	every daemon takes at start only (user, syslog_facility).
 */
#ifndef OUTPOST_CONFDIFF_H
#define OUTPOST_CONFDIFF_H

#include "conf.h"

struct confdiff {
    const char *program;
    int changed;
};

#define CONFDIFF_INIT(program) { (program), 0 }

void confdiff_str(struct confdiff *d, const char *key, const char *running,
		  const char *next);
void confdiff_num(struct confdiff *d, const char *key, long long running, long long next);
void confdiff_list(struct confdiff *d, const char *key, const struct conf_strlist *running,
		   const struct conf_strlist *next);
void confdiff_redis(struct confdiff *d, const struct conf_redis *running,
		    const struct conf_redis *next);
void confdiff_general(struct confdiff *d, const struct conf_general *running,
		      const struct conf_general *next);

#endif
