/*
 * sdnotify - tell the service manager how a daemon is doing
 *
 * SYNOPSIS
 *	#include "sdnotify.h"
 *
 *	void sdnotify_ready(const char *fmt, ...);
 *	void sdnotify_reloading(void);
 *	void sdnotify_stopping(void);
 *	void sdnotify_status(const char *fmt, ...);
 *
 * DESCRIPTION
 *	The sd_notify(3) protocol of systemd's Type=notify services, through
 *	libsystemd.  sdnotify_ready() says READY=1 with a STATUS= line made
 *	from fmt: the daemon calls it once its sockets exist and its
 *	configuration is loaded, and again when a reload is over (taken or
 *	refused).  sdnotify_reloading() says RELOADING=1 as a reload begins;
 *	sdnotify_stopping() says STOPPING=1 as the daemon begins to stop;
 *	sdnotify_status() changes the STATUS= line alone ("systemctl status"
 *	shows it).
 *
 *	Without $NOTIFY_SOCKET (not started by systemd) every call does
 *	nothing.  Call from the main thread: systemd takes the messages of
 *	the main process (NotifyAccess=main).
 *
 * DIAGNOSTICS
 *	A message that cannot be sent is logged as a warning once; the daemon
 *	goes on (systemd then times out the start, which is the loud part).
 */
#ifndef OUTPOST_SDNOTIFY_H
#define OUTPOST_SDNOTIFY_H

#include "msg.h"

void sdnotify_ready(const char *fmt, ...) MSG_PRINTF(1, 2);
void sdnotify_reloading(void);
void sdnotify_stopping(void);
void sdnotify_status(const char *fmt, ...) MSG_PRINTF(1, 2);

#endif
