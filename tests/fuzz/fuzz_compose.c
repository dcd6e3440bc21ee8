/*
 * fuzz_compose - the JSON body of POST /v1/messages (httpd/compose.c)
 *
 * The body is read; when it is accepted, the message is built for each
 * recipient and must be CRLF lines of printable ASCII of at most 998
 * bytes (quoted-printable and encoded words hold the rest), with no
 * bare CR or LF: nothing in a field may start a header of its own.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check - CRLF lines only, printable ASCII or tab, at most 998 bytes */
static void
check(const char *s, size_t len)
{
    size_t i, col = 0;

    for (i = 0; i < len; i++) {
	if (s[i] == '\r') {
	    if (i + 1 >= len || s[i + 1] != '\n')
		abort();
	    i++;
	    col = 0;
	    continue;
	}
	if (s[i] == '\n' || ((unsigned char) s[i] < 32 && s[i] != '\t')
	    || (unsigned char) s[i] > 126 || ++col > 998)
	    abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a private copy with nothing after it, so that ASan sees overreads */
    char *buf = malloc(size ? size : 1), why[300], *head, *body;
    struct compose_limits lim = {8, 8, "X-Campaign-ID"};
    struct compose_req req;
    size_t i, hl, bl;

    memcpy(buf, data, size);
    if (compose_parse(buf, size, &lim, &req, why, sizeof(why)) == 0) {
	if ((body = compose_common(&req, "X-Campaign-ID", 1733500000, 1 << 20, &bl)) != NULL) {
	    check(body, bl);
	    for (i = 0; i < req.nto; i++) {
		head = compose_head(&req, i, &hl);
		check(head, hl);
		free(head);
	    }
	    free(body);
	}
    } else if (strlen(why) == 0)
	abort();
    compose_req_free(&req);
    free(buf);
    return 0;
}
