/*
 * fuzz_ses - an Amazon SES notification's body on arbitrary bytes
 *
 * The input is the body of a plain-text mail from SNS, read by the whole
 * bounce reader; it reaches the SES reader unless the bytes look like
 * another kind of report.  Any result is fine; crashes, undefined
 * behaviour and slow inputs (-timeout, with -max_len 1 MiB) are not.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bounce.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char head[] =
    "From: AWS Notifications <no-reply@sns.amazonaws.com>\n"
    "To: bounces@example.com\n"
    "Subject: AWS Notification Message\n"
    "Content-Type: text/plain; charset=UTF-8\n"
    "\n";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t hl = sizeof(head) - 1;
    char *msg = malloc(hl + size + 1);
    struct bounce_report r;
    const char *why;

    memcpy(msg, head, hl);
    memcpy(msg + hl, data, size);
    bounce_parse(msg, hl + size, &r, &why);
    if (r.nrcpts > BOUNCE_MAX_RCPTS)
	abort();
    for (size_t i = 0; i < r.nrcpts; i++)
	if (bounce_reason_name(r.rcpts[i].reason) == NULL
	    || memchr(r.rcpts[i].addr, '\0', sizeof(r.rcpts[i].addr)) == NULL)
	    abort();
    bounce_report_free(&r);
    free(msg);
    return 0;
}
