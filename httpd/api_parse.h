/*
 * api_parse - what a request of the platform API asks: path, query, body
 *
 * SYNOPSIS
 *	#include "api_parse.h"
 *
 *	int api_route(const char *method, const char *path,
 *		      struct api_route *r, const char **why);
 *	int api_query(struct api_route *r, const char *name,
 *		      const char *value, const char **why);
 *	int api_bearer(const char *header, char key[APIKEY_MAX]);
 *	int api_json_row(const char *json, size_t len, const char *address,
 *			 char *csv, size_t size, const char **why);
 *
 * DESCRIPTION
 *	Pure functions over what a client sent (no Redis, no libmicrohttpd):
 *	outpost-httpd's API (api(3)) and the unit and fuzz tests call them.
 *
 *	api_route() maps a method and a path (percent escapes already
 *	decoded) to an operation: API_SUP_GET, API_SUP_PUT and
 *	API_SUP_DELETE for /v1/suppressions/ADDRESS (the address or
 *	"@domain", normalised into r->target), API_SUP_LIST for GET
 *	/v1/suppressions, API_SUP_IMPORT for POST /v1/suppressions:import,
 *	API_STATS for GET /v1/stats, API_MESSAGES for POST /v1/messages,
 *	API_EVENTS for GET /v1/events, API_VERIFY for GET
 *	/v1/domains/DOMAIN/verify (the domain, normalised, into r->domain;
 *	scope stats), with r->scope the key scope each needs
 *	(apikey(3)).  HEAD counts as GET.  It returns 0, or the HTTP status
 *	to answer: 404 (no such path), 405 (the path, not that method; *why
 *	then holds the Allow header's value), 400 (an address that is none).
 *
 *	api_query() takes one query argument: domain (a sender domain,
 *	normalised; ignored by API_VERIFY, whose path names it), cursor (a number below SUP_BUCKETS_MAX), limit (1 to
 *	API_LIMIT_MAX, default API_LIMIT_DEFAULT), since (the --since forms
 *	of outpostctl stats, kept as text), by (sender, provider, pool,
 *	campaign), after (an event id: MS or MS-SEQ, digits, each part
 *	below 2^64, events_id_valid(3)).  Other names are ignored.  It
 *	returns 0 or 400.
 *
 *	api_bearer() copies the key out of an Authorization header
 *	"Bearer KEY" (the scheme case-blind); 0, or -1 when there is none
 *	or it is too long to be a key.
 *
 *	api_json_row() turns one JSON object {"address", "reason", "scope",
 *	"time", "expires", "source"} (strings; times may also be numbers;
 *	every member optional but address, which defaults to the address
 *	argument unless that is NULL; reason defaults to manual; each at
 *	most once, nothing but white space after the object) into the
 *	CSV row of
 *	sup_csv_parse(3), so that both forms of an import, and the body of
 *	a PUT, go through the one validation of the suppression list.  It
 *	returns 0, or -1 with *why (not an object, an unknown member, a value
 *	of the wrong type or too long).  The cost is linear in len.
 */
#ifndef OUTPOST_HTTPD_API_PARSE_H
#define OUTPOST_HTTPD_API_PARSE_H

#include <stddef.h>

#include "addr.h"
#include "apikey.h"

#define API_LIMIT_DEFAULT 100
#define API_LIMIT_MAX	1000
#define API_SINCE_MAX	32
#define API_AFTER_MAX	48	/* an event id, MS-SEQ */

enum api_op {
    API_NONE, API_SUP_GET, API_SUP_PUT, API_SUP_DELETE, API_SUP_LIST, API_SUP_IMPORT,
    API_STATS, API_MESSAGES, API_EVENTS, API_VERIFY,
};

struct api_route {
    int op;			/* enum api_op */
    unsigned scope;		/* APIKEY_SUPPRESS, APIKEY_STATS */
    char target[ADDR_MAX];	/* the address of /v1/suppressions/ADDRESS */
    char domain[DOMAIN_MAX];	/* ?domain=, "" when not given */
    unsigned cursor;		/* ?cursor=: a bucket of the suppression list */
    long limit;			/* ?limit= */
    char since[API_SINCE_MAX];	/* ?since=, "" when not given */
    int by;			/* ?by=: 0 sender, 1 provider (default), 2 pool, 3 campaign */
    char after[API_AFTER_MAX];	/* ?after=: an event id, "" when not given */
};

int api_route(const char *method, const char *path, struct api_route *r, const char **why);
int api_query(struct api_route *r, const char *name, const char *value, const char **why);
int api_bearer(const char *header, char key[APIKEY_MAX]);
int api_json_row(const char *json, size_t len, const char *address, char *csv,
		 size_t size, const char **why);

#endif
