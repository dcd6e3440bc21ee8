/*
 * sockguard - take a unix socket path without disturbing a running server
 *
 * SYNOPSIS
 *	#include "sockguard.h"
 *
 *	int sockguard_claim(const char *path, char *err, size_t errlen);
 *
 * DESCRIPTION
 *	A daemon that removes its socket file before binding would take the
 *	address of a running instance: clients then reach the new socket,
 *	and if the new process exits (a bad configuration, a key it cannot
 *	read) they reach nothing at all.  sockguard_claim() is called before
 *	a unix socket is bound; it
 *
 *	- takes an exclusive flock(2) on "path.lock" (created mode 0600;
 *	  by root, given to the owner of its directory so that the daemon
 *	  started as that user can open it too), held until the process
 *	  exits: two instances starting at once cannot both go on;
 *	- connects to path: a server that answers (or whose backlog is
 *	  full) is alive, and the claim is refused;
 *	- removes path only when nothing listens there (ECONNREFUSED: the
 *	  file a crash left behind); a path that is not a socket is refused.
 *
 *	The lock file is never removed: removing it would let an instance
 *	lock a new file while another holds the old one.
 *
 *	It returns the lock's descriptor (close-on-exec; leave it open), or
 *	-1 with a message in err ("another instance listens on PATH").
 */
#ifndef OUTPOST_SOCKGUARD_H
#define OUTPOST_SOCKGUARD_H

#include <stddef.h>

int sockguard_claim(const char *path, char *err, size_t errlen);

#endif
