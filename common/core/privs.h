/*
 * privs - give up root after start-up
 *
 * SYNOPSIS
 *	#include "privs.h"
 *
 *	int privs_lookup(const char *user, uid_t *uid, gid_t *gid,
 *			 char *err, size_t errlen);
 *	int privs_check(const char *user, char *err, size_t errlen);
 *	int privs_check(const char *user, char *err, size_t errlen);
int privs_drop(const char *user, char *err, size_t errlen);
 *	int privs_chown_socket(const char *path, const char *user,
 *			       char *err, size_t errlen);
 *
 * DESCRIPTION
 *	The daemons start as root so that they can open sockets in /run and
 *	read private keys, then become [general] user for good.
 *
 *	privs_drop() switches the process (all threads: call it before
 *	starting any) to the user's uid, primary gid and supplementary groups,
 *	and checks that root cannot be regained.  Started by another user,
 *	the process must already be that user.  Running as root is refused
 *	either way: a user of "root" or uid 0 is an error.
 *
 *	privs_check() tells, before anything is opened, whether
 *	privs_drop() would succeed: the user exists, is not root, and is the
 *	process's own user when it was not started as root.
 *
 *	privs_chown_socket() gives a unix socket created as root to the
 *	user and its group, so that the MTA (a member of that group) can
 *	still connect after the drop.
 *
 *	Each returns 0, or -1 with a message in err.
 */
#ifndef OUTPOST_PRIVS_H
#define OUTPOST_PRIVS_H

#include <stddef.h>
#include <sys/types.h>

int privs_lookup(const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen);
int privs_check(const char *user, char *err, size_t errlen);
int privs_drop(const char *user, char *err, size_t errlen);
int privs_chown_socket(const char *path, const char *user, char *err, size_t errlen);

#endif
