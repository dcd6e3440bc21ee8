/*
 * fuzz_api_request - a request of the platform API on arbitrary bytes
 *
 * Line 1: method and path; line 2: the Authorization header; then
 * "name=value" query arguments, one a line, up to an empty line; the rest
 * is a body read as a JSON row (a PUT, a line of an import).  A row that
 * converts must give a CSV row the suppression list's parser accepts or
 * refuses without harm; a route that matches must carry a scope.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api_parse.h"
#include "suppress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* line - the next line of the input as a C string (NULs cut it short) */
static char *
line(const char **p, const char *end)
{
    const char *nl = memchr(*p, '\n', (size_t) (end - *p));
    size_t len = nl ? (size_t) (nl - *p) : (size_t) (end - *p);
    char *s = malloc(len + 1);

    if (s == NULL)
	abort();
    memcpy(s, *p, len);
    s[len] = '\0';
    *p += len + (nl != NULL);
    return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *) data, *end = p + size, *why = NULL;
    char *first = line(&p, end), *auth = line(&p, end), *sp, *q, *eq;
    char key[APIKEY_MAX], id[APIKEY_ID_MAX], csv[SUP_CSV_LINE_MAX];
    struct api_route r;
    struct sup_entry e;
    int st;

    sp = strchr(first, ' ');
    if (sp)
	*sp = '\0';
    st = api_route(first, sp ? sp + 1 : "", &r, &why);
    if (st == 0 && r.scope == 0)
	abort();
    if (st == 405 && why == NULL)
	abort();
    while (p < end) {
	q = line(&p, end);
	if (*q == '\0') {
	    free(q);
	    break;
	}
	eq = strchr(q, '=');
	if (eq)
	    *eq = '\0';
	api_query(&r, q, eq ? eq + 1 : NULL, &why);
	if (r.cursor >= SUP_BUCKETS_MAX || r.limit < 1 || r.limit > API_LIMIT_MAX)
	    abort();
	free(q);
    }
    if (api_bearer(auth, key) == 0 && strlen(key) >= APIKEY_MAX)
	abort();
    if (api_bearer(auth, key) == 0 && apikey_parse(key, strlen(key), id) == 0
	&& strlen(id) != APIKEY_ID_LEN)
	abort();
    if (api_json_row(p, (size_t) (end - p), "fallback@example.test", csv, sizeof(csv), &why)
	== 0) {
	if (strlen(csv) >= sizeof(csv))
	    abort();
	(void) sup_csv_parse(csv, strlen(csv), 1717243200LL, &e, &why);
    }
    free(first);
    free(auth);
    return 0;
}
