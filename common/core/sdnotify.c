/*
 * sdnotify - tell the service manager how a daemon is doing (see sdnotify.h)
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "msg.h"
#include "sdnotify.h"

#define STATUS_MAX 256

static void status_format(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* sdnotify_send - the state lines, then "STATUS=status" unless status is NULL */
static void
sdnotify_send(const char *state, const char *status)
{
    static int warned;
    char buf[STATUS_MAX + 64];
    int rc;

    if (getenv("NOTIFY_SOCKET") == NULL)
	return;
    snprintf(buf, sizeof(buf), "%s%s%s%s", state, *state && status ? "\n" : "",
	     status ? "STATUS=" : "", status ? status : "");
    if ((rc = sd_notify(0, buf)) < 0 && !warned) {
	warned = 1;
	msg_warn("cannot tell systemd \"%s\": %s", state, strerror(-rc));
    }
}

/* status_format - fmt into one line of buf */
static void
status_format(char *buf, size_t size, const char *fmt, va_list ap)
{
    char *nl;

    vsnprintf(buf, size, fmt, ap);
    /* a newline would start another assignment */
    while ((nl = strchr(buf, '\n')) != NULL)
	*nl = ' ';
}

/* sdnotify_ready - up: sockets open, configuration loaded */
void
sdnotify_ready(const char *fmt, ...)
{
    char status[STATUS_MAX];
    va_list ap;

    va_start(ap, fmt);
    status_format(status, sizeof(status), fmt, ap);
    va_end(ap);
    sdnotify_send("READY=1", status);
}

/* sdnotify_reloading - a reload begins */
void
sdnotify_reloading(void)
{
    sdnotify_send("RELOADING=1", "reloading the configuration");
}

/* sdnotify_stopping - the daemon stops */
void
sdnotify_stopping(void)
{
    sdnotify_send("STOPPING=1", "stopping");
}

/* sdnotify_status - what the daemon does now */
void
sdnotify_status(const char *fmt, ...)
{
    char status[STATUS_MAX];
    va_list ap;

    va_start(ap, fmt);
    status_format(status, sizeof(status), fmt, ap);
    va_end(ap);
    sdnotify_send("", status);
}
