/*
 * outpost-intake-parse - read bounce, complaint and unsubscribe reports for
 * outpost-milter, in a process that holds no keys
 *
 * SYNOPSIS
 *	outpost-intake-parse	(started by outpost-milter, descriptor 0 a socket)
 *
 * DESCRIPTION
 *	outpost-milter starts this program with a socket on descriptor 0 and
 *	nothing else open but stdout and stderr.  It enters its sandbox
 *	(sandbox(3): no files, no network, no new processes, bounded memory)
 *	before it reads anything, then answers requests one at a time: a
 *	request is a report (REPORT_DIGEST_REQ_HDR bytes of length and flags,
 *	then the message), the answer its digest in wire form
 *	(report_digest(3)).  Each report gets a CPU backstop of
 *	PARSER_CPU_SECONDS beyond what bounce_parse() gives itself.  It
 *	exits at end of input, and on any malformed request.
 *
 * DIAGNOSTICS
 *	To stderr; the milter logs how the process ended.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounce.h"
#include "msg.h"
#include "report_digest.h"
#include "sandbox.h"
#include "xalloc.h"

/* CPU seconds one report may take before SIGXCPU (bounce_parse stops at 1) */
#define PARSER_CPU_SECONDS (BOUNCE_CPU_BUDGET_MS / 1000 + 2)

static int read_full(int fd, void *buf, size_t len);
static int write_full(int fd, const void *buf, size_t len);

/* read_full - exactly len bytes; 0 at end of input before the first, -1 on error */
static int
read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;
    ssize_t n;

    while (got < len) {
	n = read(fd, (char *) buf + got, len - got);
	if (n < 0 && errno == EINTR)
	    continue;
	if (n <= 0)
	    return n == 0 && got == 0 ? 0 : -1;
	got += (size_t) n;
    }
    return 1;
}

/* write_full - all of buf; -1 on error */
static int
write_full(int fd, const void *buf, size_t len)
{
    size_t put = 0;
    ssize_t n;

    while (put < len) {
	n = write(fd, (const char *) buf + put, len - put);
	if (n < 0 && errno == EINTR)
	    continue;
	if (n <= 0)
	    return -1;
	put += (size_t) n;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    unsigned char hdr[REPORT_DIGEST_REQ_HDR], lenbuf[4], *out;
    struct report_digest d;
    char err[256], *msg;
    size_t len, outlen;
    int rc;

    (void) argc;
    msg_open(argv[0], 1, 0);
    if (sandbox_enter(err, sizeof(err)) < 0)
	msg_fatal("cannot enter the sandbox: %s", err);
    for (;;) {
	if ((rc = read_full(0, hdr, sizeof(hdr))) <= 0) {
	    if (rc < 0)
		msg_fatal("request cut short");
	    return 0;
	}
	len = report_digest_get32(hdr);
	if (len > REPORT_DIGEST_REQ_MAX)
	    msg_fatal("request of %zu bytes: too long", len);
	msg = xmalloc(len + 1);
	/* the end of input before the report's first byte is no report either */
	if (read_full(0, msg, len) <= 0)
	    msg_fatal("request cut short");
	msg[len] = '\0';
	if (sandbox_cpu_budget(PARSER_CPU_SECONDS) < 0)
	    msg_fatal("cannot set the CPU limit");
	report_digest_make(msg, len, hdr[4], &d);
	free(msg);
	out = report_digest_encode(&d, &outlen);
	report_digest_free(&d);
	report_digest_put32(lenbuf, (uint32_t) outlen);
	if (write_full(0, lenbuf, sizeof(lenbuf)) < 0 || write_full(0, out, outlen) < 0)
	    msg_fatal("cannot answer: %s", strerror(errno));
	free(out);
    }
}
