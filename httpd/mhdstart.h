/*
 * mhdstart - libmicrohttpd on a listening socket, as outpost-httpd runs it
 *
 * SYNOPSIS
 *	#include "mhdstart.h"
 *
 *	struct MHD_Daemon *mhd_start(const struct conf_httpd *h, int fd,
 *				     size_t memory,
 *				     MHD_AccessHandlerCallback handle,
 *				     MHD_RequestCompletedCallback completed,
 *				     void *cls, char *err, size_t errlen);
 *
 * DESCRIPTION
 *	mhd_start() runs libmicrohttpd on the listening socket fd with the
 *	limits of [httpd]: threads threads (epoll, suspend and resume
 *	allowed), max_connections, max_connections_per_ip, request_timeout
 *	and memory bytes per connection (the request's line and header
 *	fields must fit in about half of it; libmicrohttpd 0.9.75 clears all
 *	of it after each request, so it costs CPU as well: MHD_MEMORY_PAGES
 *	for the recipients' pages, MHD_MEMORY_API for the API, whose
 *	requests carry more); handle answers, completed is
 *	told when a request ends, both with cls; libmicrohttpd's complaints
 *	go to msg(3).  The recipients' pages (serve(3)) and the platform API
 *	(api(3)) start theirs with it.  It returns the daemon, or NULL with
 *	err filled in.
 */
#ifndef OUTPOST_HTTPD_MHDSTART_H
#define OUTPOST_HTTPD_MHDSTART_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "conf.h"

#define MHD_MEMORY_PAGES	16384	/* a 4 KiB token and 4 KiB of fields */
#define MHD_MEMORY_API		32768

struct MHD_Daemon *mhd_start(const struct conf_httpd *h, int fd, size_t memory,
			     MHD_AccessHandlerCallback handle,
			     MHD_RequestCompletedCallback completed, void *cls, char *err,
			     size_t errlen);

#endif
