/*
 * request - parse one Postfix policy delegation request (see request.h)
 */
#include "config.h"

#include <string.h>

#include "request.h"

struct known_attr {
    const char *name;
    size_t len;
    size_t off;
};

#define A(n, f) {n, sizeof(n) - 1, offsetof(struct policy_request, f)}

static const struct known_attr known[] = {
    A("request", request),
    A("protocol_state", protocol_state),
    A("recipient", recipient),
    A("sender", sender),
    A("sasl_username", sasl_username),
    A("client_address", client_address),
    A("queue_id", queue_id),
    A("instance", instance),
};

/* request_end - length through the empty line that ends a request, or 0 */
size_t
request_end(const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len, *nl;

    /* a request ends at the first line that is empty (or only "\r") */
    while (p < end && (nl = memchr(p, '\n', (size_t) (end - p))) != NULL) {
	if (nl == p || (nl == p + 1 && *p == '\r'))
	    return (size_t) (nl + 1 - buf);
	p = nl + 1;
    }
    return 0;
}

/* request_str_eq - does an attribute equal a literal? */
int
request_str_eq(const struct policy_str *s, const char *lit)
{
    size_t n = strlen(lit);

    return s->p != NULL && s->len == n && memcmp(s->p, lit, n) == 0;
}

/* store_attr - remember an attribute Outpost uses, ignore the rest */
static void
store_attr(struct policy_request *req, const char *name, size_t nlen,
	   const char *val, size_t vlen)
{
    size_t i;

    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
	if (known[i].len == nlen && memcmp(known[i].name, name, nlen) == 0) {
	    struct policy_str *s = (struct policy_str *) ((char *) req + known[i].off);

	    s->p = val;
	    s->len = vlen;
	    return;
	}
    }
}

/* request_parse - "name=value" lines up to and including the empty line */
int
request_parse(const char *buf, size_t len, struct policy_request *req,
	      const char **why)
{
    const char *p = buf, *end = buf + len;

    memset(req, 0, sizeof(*req));
    if (memchr(buf, '\0', len) != NULL) {
	*why = "NUL byte in request";
	return -1;
    }
    while (p < end) {
	const char *nl = memchr(p, '\n', (size_t) (end - p));
	const char *eol = nl ? nl : end;
	const char *eq;
	size_t i;

	if (eol > p && eol[-1] == '\r')
	    eol--;
	if (eol == p) {
	    if (nl == NULL || nl + 1 == end)
		return 0;		/* the empty line: done */
	    *why = "data after the empty line that ends a request";
	    return -1;
	}
	if (nl == NULL) {
	    *why = "request not ended by an empty line";
	    return -1;
	}
	if (++req->nattrs > REQUEST_MAX_LINES) {
	    *why = "too many lines in request";
	    return -1;
	}
	if ((eq = memchr(p, '=', (size_t) (eol - p))) == NULL) {
	    *why = "line without '=' in request";
	    return -1;
	}
	if (eq == p) {
	    *why = "empty attribute name in request";
	    return -1;
	}
	for (i = 0; p + i < eq; i++) {
	    char c = p[i];

	    /* unknown names are ignored, but they must look like names */
	    if ((unsigned char) c <= ' ' || c == 0x7f) {
		*why = "control character or space in an attribute name";
		return -1;
	    }
	}
	store_attr(req, p, (size_t) (eq - p), eq + 1, (size_t) (eol - eq - 1));
	p = nl + 1;
    }
    *why = "request not ended by an empty line";
    return -1;
}
