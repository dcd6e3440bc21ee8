/*
 * api - the platform API of outpost-httpd: /v1/ on [httpd] api_listen
 *
 * SYNOPSIS
 *	#include "api.h"
 *
 *	struct api *api_new(const struct outpost_conf *conf,
 *			    struct api_work *work, struct hmetrics *m);
 *	struct MHD_Daemon *api_start(struct api *a, int fd, char *err,
 *				     size_t errlen);
 *	void api_free(struct api *a);
 *
 * DESCRIPTION
 *	api_start() runs libmicrohttpd on a listening socket of [httpd]
 *	api_listen with the limits of the pages' listeners, and answers
 *	(outpost-httpd(8), THE API; doc/openapi.yaml):
 *
 *	GET|PUT|DELETE /v1/suppressions/ADDRESS[?domain=D]
 *	GET /v1/suppressions[?domain=D&cursor=C&limit=N]
 *	POST /v1/suppressions:import[?domain=D]
 *	GET /v1/stats[?since=WHEN&by=sender|provider|pool|campaign]
 *	GET /v1/domains/DOMAIN/verify
 *
 *	Every request carries "Authorization: Bearer KEY" (apikey(3)); what
 *	it asks is read here (api_parse(3)), and everything that needs Redis,
 *	the key's check first, is done by the API's workers (api_work(3))
 *	while the connection is suspended: no HTTP thread waits.  Answers
 *	are JSON; an error is {"error":{"code","message"}}.  A PUT's body is
 *	at most [httpd] max_body bytes (413).  An import's body (CSV rows
 *	of outpostctl suppress import, or JSON lines) is read as it comes,
 *	API_IMPORT_BATCH rows at a time, the connection suspended while the
 *	worker writes each batch: memory stays constant whatever its size,
 *	which [httpd] api_import_max bounds (413).
 *
 *	Each answer 401 is charged to the client's address (the one the
 *	pages take, clientaddr(3)); an address over [httpd] api_auth_failures
 *	and api_auth_burst gets 429 for every request, decided before
 *	anything asks Redis (authlimit(3)), and checked again by the worker
 *	just before the key is read.
 *
 *	Each answer is counted in m by endpoint and status (hmetrics(3)),
 *	the 401s and the 429s of authlimit apart as well.
 *
 *	api_start() returns the daemon (stop it with MHD_stop_daemon() after
 *	api_work_stop(3)), or NULL with err filled in.
 */
#ifndef OUTPOST_HTTPD_API_H
#define OUTPOST_HTTPD_API_H

#include <stddef.h>

#include "conf.h"

struct MHD_Daemon;
struct api;
struct api_work;
struct hmetrics;

struct api *api_new(const struct outpost_conf *conf, struct api_work *work,
		    struct hmetrics *m);
struct MHD_Daemon *api_start(struct api *a, int fd, char *err, size_t errlen);
void api_free(struct api *a);

#endif
