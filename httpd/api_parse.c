/*
 * api_parse - what a request of the platform API asks (see api_parse.h)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_parse.h"
#include "events.h"
#include "json_scan.h"
#include "suppress.h"
#include "xalloc.h"

#define SUP_PATH	"/v1/suppressions"
#define DOM_PATH	"/v1/domains/"
#define FIELD_MAX	300	/* a member's decoded value */

static const char *const by_names[] = {"sender", "provider", "pool", "campaign"};
static const char *const row_names[] = {"address", "reason", "scope", "time", "expires",
    "source"};

/* verify_route - DOMAIN/verify after /v1/domains/ */
static int
verify_route(int get, const char *rest, struct api_route *r, const char **why)
{
    const char *slash = strchr(rest, '/');

    if (slash == NULL || slash == rest || strcmp(slash, "/verify") != 0)
	return 404;
    r->op = API_VERIFY;
    r->scope = APIKEY_STATS;
    if (!get)
	return (*why = "GET, HEAD", 405);
    if (domain_normalize(rest, (size_t) (slash - rest), r->domain, sizeof(r->domain), why) < 0)
	return 400;
    return 0;
}

/* api_route - the operation of a method and a path */
int
api_route(const char *method, const char *path, struct api_route *r, const char **why)
{
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    const char *rest;

    memset(r, 0, sizeof(*r));
    r->limit = API_LIMIT_DEFAULT;
    r->by = 1;
    if (strcmp(path, "/v1/stats") == 0) {
	r->op = API_STATS;
	r->scope = APIKEY_STATS;
	return get ? 0 : (*why = "GET, HEAD", 405);
    }
    if (strcmp(path, "/v1/events") == 0) {
	r->op = API_EVENTS;
	r->scope = APIKEY_EVENTS;
	return get ? 0 : (*why = "GET, HEAD", 405);
    }
    if (strncmp(path, DOM_PATH, strlen(DOM_PATH)) == 0)
	return verify_route(get, path + strlen(DOM_PATH), r, why);
    if (strcmp(path, "/v1/messages") == 0) {
	r->op = API_MESSAGES;
	r->scope = APIKEY_SEND;
	return strcmp(method, "POST") == 0 ? 0 : (*why = "POST", 405);
    }
    if (strncmp(path, SUP_PATH, strlen(SUP_PATH)) != 0)
	return 404;
    rest = path + strlen(SUP_PATH);
    r->scope = APIKEY_SUPPRESS;
    if (*rest == '\0') {
	r->op = API_SUP_LIST;
	return get ? 0 : (*why = "GET, HEAD", 405);
    }
    if (strcmp(rest, ":import") == 0) {
	r->op = API_SUP_IMPORT;
	return strcmp(method, "POST") == 0 ? 0 : (*why = "POST", 405);
    }
    if (*rest != '/' || rest[1] == '\0' || strchr(rest + 1, '/') != NULL)
	return 404;
    if (get)
	r->op = API_SUP_GET;
    else if (strcmp(method, "PUT") == 0)
	r->op = API_SUP_PUT;
    else if (strcmp(method, "DELETE") == 0)
	r->op = API_SUP_DELETE;
    else
	return (*why = "GET, HEAD, PUT, DELETE", 405);
    if (sup_target_normalize(rest + 1, strlen(rest + 1), r->target, sizeof(r->target),
			     why) < 0)
	return 400;
    return 0;
}

/* number - a decimal number from lo to hi */
static int
number(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;

    if (*s < '0' || *s > '9' || strlen(s) > 10)
	return -1;
    v = strtol(s, &end, 10);
    if (*end != '\0' || v < lo || v > hi)
	return -1;
    *out = v;
    return 0;
}

/* api_query - one query argument */
int
api_query(struct api_route *r, const char *name, const char *value, const char **why)
{
    long v;
    size_t i;

    if (value == NULL)
	value = "";
    if (strcmp(name, "domain") == 0 && r->op == API_VERIFY) {
	return 0;		/* the path names it */
    } else if (strcmp(name, "domain") == 0) {
	if (domain_normalize(value, strlen(value), r->domain, sizeof(r->domain), why) < 0)
	    return 400;
    } else if (strcmp(name, "cursor") == 0) {
	if (number(value, 0, SUP_BUCKETS_MAX - 1, &v) < 0)
	    return (*why = "cursor: the next value of an earlier page", 400);
	r->cursor = (unsigned) v;
    } else if (strcmp(name, "limit") == 0) {
	if (number(value, 1, API_LIMIT_MAX, &r->limit) < 0)
	    return (*why = "limit: a number from 1 to 1000", 400);
    } else if (strcmp(name, "since") == 0) {
	if (value[0] == '\0' || strlen(value) >= sizeof(r->since))
	    return (*why = "since: a duration such as 24h, or a UTC date YYYY-MM-DD[THH]", 400);
	memcpy(r->since, value, strlen(value) + 1);
    } else if (strcmp(name, "after") == 0) {
	if (!events_id_valid(value) || strlen(value) >= sizeof(r->after))
	    return (*why = "after: an event id (MS-SEQ, the next value of an earlier page)", 400);
	memcpy(r->after, value, strlen(value) + 1);
    } else if (strcmp(name, "by") == 0) {
	for (i = 0; i < 4 && strcmp(value, by_names[i]) != 0; i++)
	     /* look */ ;
	if (i == 4)
	    return (*why = "by: sender, provider, pool or campaign", 400);
	r->by = (int) i;
    }
    return 0;
}

/* api_bearer - the key of "Authorization: Bearer KEY" */
int
api_bearer(const char *h, char key[APIKEY_MAX])
{
    size_t len;

    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
	return -1;
    h += 7;
    h += strspn(h, " \t");
    len = strcspn(h, " \t");
    if (len == 0 || len >= APIKEY_MAX || h[len + strspn(h + len, " \t")] != '\0')
	return -1;
    memcpy(key, h, len);
    key[len] = '\0';
    return 0;
}

/* csv_field - append value as a quoted CSV field */
static int
csv_field(char *csv, size_t size, size_t *at, const char *v, int comma)
{
    size_t n = *at;

    if (comma) {
	if (n + 1 >= size)
	    return -1;
	csv[n++] = ',';
    }
    if (n + 1 >= size)
	return -1;
    csv[n++] = '"';
    for (; *v; v++) {
	if (n + 3 >= size)
	    return -1;
	if (*v == '"')
	    csv[n++] = '"';
	csv[n++] = *v;
    }
    csv[n++] = '"';
    csv[n] = '\0';
    *at = n;
    return 0;
}

/* api_json_row - a JSON object of an entry into its CSV row */
int
api_json_row(const char *json, size_t len, const char *address, char *csv, size_t size,
	     const char **why)
{
    char (*val)[FIELD_MAX] = xcalloc(6, FIELD_MAX);
    struct json_scan s;
    struct json_tok t;
    size_t i, at = 0;
    unsigned seen = 0;
    int rc = -1, k;

    json_scan_init(&s, json, len);
    if (json_scan_next(&s, &t) != JSON_BEGIN_OBJECT) {
	*why = "each row must be a JSON object";
	goto out;
    }
    for (;;) {
	if ((k = json_scan_next(&s, &t)) == JSON_END_OBJECT)
	    break;
	if (k != JSON_KEY) {
	    *why = "not a JSON object";
	    goto out;
	}
	for (i = 0; i < 6 && !json_tok_is(&t, row_names[i]); i++)
	     /* look */ ;
	if (i == 6) {
	    *why = "unknown member (address, reason, scope, time, expires, source)";
	    goto out;
	}
	if (seen & 1u << i) {
	    *why = "a member given twice";
	    goto out;
	}
	seen |= 1u << i;
	k = json_scan_next(&s, &t);
	if (k == JSON_LITERAL && t.len == 4 && memcmp(t.p, "null", 4) == 0)
	    continue;
	if (!(k == JSON_STRING || (k == JSON_NUMBER && (i == 3 || i == 4)))) {
	    *why = "a member of the wrong type";
	    goto out;
	}
	if (t.len >= FIELD_MAX) {
	    *why = "a member too long";
	    goto out;
	}
	json_unescape(t.p, t.len, val[i], FIELD_MAX);
    }
    if (json_scan_next(&s, &t) != JSON_EOF) {
	*why = "not a JSON object";
	goto out;
    }
    /* the reader stops after the object: what follows must be white space */
    for (; s.pos < len; s.pos++)
	if (json[s.pos] != ' ' && json[s.pos] != '\t' && json[s.pos] != '\r'
	    && json[s.pos] != '\n') {
	    *why = "text after the JSON object";
	    goto out;
	}
    if (val[0][0] == '\0' && address && strlen(address) < FIELD_MAX)
	strcpy(val[0], address);
    if (val[0][0] == '\0') {
	*why = "address missing";
	goto out;
    }
    if (val[1][0] == '\0')
	strcpy(val[1], "manual");
    for (i = 0; i < 6; i++)
	if (csv_field(csv, size, &at, val[i], i > 0) < 0) {
	    *why = "row too long";
	    goto out;
	}
    rc = 0;
out:
    free(val);
    return rc;
}
