/*
 * mhdstart - libmicrohttpd on a listening socket (see mhdstart.h)
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mhdstart.h"
#include "msg.h"

/* mhd_log - libmicrohttpd's complaints, through msg(3) */
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
    char buf[512];

    (void) cls;
    vsnprintf(buf, sizeof(buf), fmt, ap);
    buf[strcspn(buf, "\n")] = '\0';
    msg_warn("libmicrohttpd: %s", buf);
}

/* mhd_start - libmicrohttpd with [httpd]'s limits on fd */
struct MHD_Daemon *
mhd_start(const struct conf_httpd *h, int fd, size_t memory,
	  MHD_AccessHandlerCallback handle, MHD_RequestCompletedCallback completed, void *cls,
	  char *err, size_t errlen)
{
    struct MHD_Daemon *d;

    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO
			 | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
			 0, NULL, NULL, handle, cls,
			 MHD_OPTION_EXTERNAL_LOGGER, mhd_log, cls,
			 MHD_OPTION_LISTEN_SOCKET, (MHD_socket) fd,
			 MHD_OPTION_THREAD_POOL_SIZE, (unsigned int) h->threads,
			 MHD_OPTION_CONNECTION_LIMIT, (unsigned int) h->max_connections,
			 MHD_OPTION_PER_IP_CONNECTION_LIMIT,
			 (unsigned int) h->max_connections_per_ip,
			 MHD_OPTION_CONNECTION_TIMEOUT,
			 (unsigned int) ((h->request_timeout_ms + 999) / 1000),
			 MHD_OPTION_CONNECTION_MEMORY_LIMIT, memory,
			 MHD_OPTION_NOTIFY_COMPLETED, completed, cls,
			 MHD_OPTION_END);
    if (d == NULL)
	snprintf(err, errlen, "libmicrohttpd would not start on the listening socket");
    return d;
}
