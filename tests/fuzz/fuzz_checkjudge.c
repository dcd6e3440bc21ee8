/*
 * fuzz_checkjudge - the test-send verdict on arbitrary header fields: the
 * input is split at the first two NUL bytes into List-Unsubscribe,
 * List-Unsubscribe-Post and the top Received field
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checkjudge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* part - the next NUL-ended piece, copied to its exact size */
static char *
part(const uint8_t **p, size_t *left, size_t *len)
{
    const uint8_t *e = memchr(*p, 0, *left);
    char *copy;

    *len = e ? (size_t) (e - *p) : *left;
    if ((copy = malloc(*len + 1)) == NULL)	/* exact size: overreads show */
	abort();
    memcpy(copy, *p, *len);
    copy[*len] = '\0';
    *p += *len + (e != NULL);
    *left -= *len + (e != NULL);
    return copy;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct check_facts f;
    static struct check_report r;
    char *u, *p, *rc;
    size_t i;

    memset(&f, 0, sizeof(f));
    u = part(&data, &size, &f.unsub_len);
    p = part(&data, &size, &f.unsub_post_len);
    rc = part(&data, &size, &f.received_len);
    f.unsub = u;
    f.unsub_post = p;
    f.received = rc;
    f.nreceived = 1;
    strcpy(f.from_domain, "shop.example");
    strcpy(f.spf_result, "pass");
    strcpy(f.spf_domain, "shop.example");
    checkjudge_run(&f, &r);
    for (i = 0; i < r.n; i++)
	if (strlen(r.item[i].detail) >= CHECK_TEXT_MAX || strpbrk(r.item[i].detail, "\t\r\n"))
	    abort();
    free(u);
    free(p);
    free(rc);
    return 0;
}
