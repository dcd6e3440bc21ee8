/*
 * parse_bench - what reading reports in outpost-intake-parse costs the milter
 * (prints figures; nothing is asserted)
 *
 * usage: parse_bench PARSER FOLDER [ROUNDS]
 *
 * Reads every *.eml of FOLDER into memory, then digests each ROUNDS times
 * (default 20) in this process (report_digest_make and the wire form, as
 * the parser does) and through the parser process (parser_pool_run: the
 * socket, the copy, the decoding), and prints microseconds per report for
 * both, the difference, the cost of starting a parser, and the same for a
 * report of 1 MB.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "monotime.h"
#include "msg.h"
#include "parser_pool.h"
#include "report_digest.h"
#include "xalloc.h"

struct report {
    char *buf;
    size_t len;
};

/* load - every *.eml of a folder */
static size_t
load(const char *dir, struct report **out)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    struct report *v = NULL;
    size_t n = 0;
    char path[4096];
    FILE *f;
    long sz;

    if (d == NULL) {
	perror(dir);
	exit(1);
    }
    while ((e = readdir(d)) != NULL) {
	if (strstr(e->d_name, ".eml") == NULL)
	    continue;
	snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
	if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) < 0
	    || (sz = ftell(f)) < 0)
	    continue;
	rewind(f);
	v = xreallocarray(v, n + 1, sizeof(*v));
	v[n].buf = xmalloc((size_t) sz + 1);
	v[n].len = fread(v[n].buf, 1, (size_t) sz, f);
	v[n].buf[v[n].len] = '\0';
	fclose(f);
	n++;
    }
    closedir(d);
    *out = v;
    return n;
}

/* in_process - one report digested here, with the wire form both ways */
static void
in_process(const struct report *r)
{
    struct report_digest d, back;
    unsigned char *w;
    const char *why;
    size_t wl;

    report_digest_make(r->buf, r->len, REPORT_DIGEST_PARSE, &d);
    w = report_digest_encode(&d, &wl);
    if (report_digest_decode(w, wl, &back, &why) < 0)
	msg_fatal("decode: %s", why);
    free(w);
    report_digest_free(&d);
    report_digest_free(&back);
}

/* in_parser - one report digested by the parser process */
static void
in_parser(const struct report *r)
{
    struct report_digest d;

    if (parser_pool_run(r->buf, r->len, REPORT_DIGEST_PARSE, &d, "bench") < 0)
	msg_fatal("the parser failed");
    report_digest_free(&d);
}

/* per_report - microseconds per report of fn over the set, rounds times */
static double
per_report(void (*fn)(const struct report *), const struct report *v, size_t n, int rounds)
{
    long long t0 = monotime_us();
    size_t i;
    int k;

    for (k = 0; k < rounds; k++)
	for (i = 0; i < n; i++)
	    fn(&v[i]);
    return (double) (monotime_us() - t0) / ((double) n * rounds);
}

int
main(int argc, char **argv)
{
    struct report *v, big;
    size_t n, i, bytes = 0;
    int rounds = argc > 3 ? atoi(argv[3]) : 20;
    double a, b, start;
    long long t0;

    if (argc < 3) {
	fprintf(stderr, "usage: %s PARSER FOLDER [ROUNDS]\n", argv[0]);
	return 2;
    }
    setenv("OUTPOST_INTAKE_PARSER", argv[1], 1);
    msg_open(argv[0], 1, 0);
    parser_pool_init(1);
    if ((n = load(argv[2], &v)) == 0)
	msg_fatal("no *.eml in %s", argv[2]);
    for (i = 0; i < n; i++)
	bytes += v[i].len;

    /* the first report starts the parser */
    t0 = monotime_us();
    in_parser(&v[0]);
    start = (double) (monotime_us() - t0);
    in_process(&v[0]);			/* warm both */
    a = per_report(in_process, v, n, rounds);
    b = per_report(in_parser, v, n, rounds);
    printf("%zu reports (%.1f KB on average) x %d rounds\n", n, bytes / 1024.0 / n, rounds);
    printf("in process:        %8.1f us per report\n", a);
    printf("in the parser:     %8.1f us per report\n", b);
    printf("separation costs:  %8.1f us per report (%+.0f%%)\n", b - a, 100.0 * (b - a) / a);
    printf("starting a parser: %8.1f us, once per parser (then kept)\n", start);

    /* a large report: the copy over the socket */
    big.len = 1024 * 1024;
    big.buf = xmalloc(big.len + 1);
    memcpy(big.buf, "Subject: big\nContent-Type: text/plain\n\n", 40);
    for (i = 39; i < big.len; i++)
	big.buf[i] = (i % 64 == 63) ? '\n' : 'x';
    big.buf[big.len] = '\0';
    a = per_report(in_process, &big, 1, rounds);
    b = per_report(in_parser, &big, 1, rounds);
    printf("1 MB report: in process %.1f us, in the parser %.1f us, separation %.1f us\n",
	   a, b, b - a);
    parser_pool_shutdown();
    return 0;
}
