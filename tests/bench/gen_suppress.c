/*
 * gen_suppress - synthetic suppression rows as CSV, streamed, for imports of any size
 *
 * SYNOPSIS
 *	gen_suppress N [SEED [SAMPLE_FILE [SAMPLE_N]]]
 *
 * DESCRIPTION
 *	Writes a header and N rows "address,reason,scope,time,expires" on
 *	standard output, in constant memory, with the mix of
 *	gen-suppress-csv.py: 5% whole-domain entries, 35% unsubscribes in
 *	one of 50 tenant scopes, the rest global hard bounces, complaints and
 *	soft bounces (a tenth of those expiring, in 2033 and later).  Every
 *	target is unique (the row number is in it), so an import of N rows
 *	makes N entries.  The same N and SEED give the same rows.
 *
 *	With SAMPLE_FILE, about SAMPLE_N (default 100000) of the address rows,
 *	spread evenly over the whole output, are also written there as CSV:
 *	recipients drawn from the imported population for a lookup benchmark
 *	(sup_latency), without keeping N rows anywhere.
 *
 *	Written in C because the Python generator (about 300,000 rows per
 *	second of one core) would take a core from the import it feeds; this
 *	one writes several million rows per second.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_EXAMPLE 2000			/* example<i>.test domains ... */
#define N_BIG 1500			/* ... and gmail, yahoo, outlook 500 each */
#define N_TENANTS 50
#define BASE_TIME 1700000000LL

static uint64_t rng_state;

/* rng - splitmix64: fast, and enough for a mix of rows */
static uint64_t
rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* below - a number in [0, n) */
static unsigned
below(unsigned n)
{
    return (unsigned) ((rng() >> 32) * n >> 32);
}

/* row - one CSV row for row number i into buf; its length, *is_addr set */
static int
row(unsigned long long i, char *buf, size_t size, int *is_addr)
{
    static const char *const reasons[] = {
	"hard-bounce", "complaint", "hard-bounce", "soft-bounce",
    };
    static const char *const big[] = {"gmail.test", "yahoo.test", "outlook.test"};
    unsigned r = below(100), d, reason;
    long long t = BASE_TIME + below(30000000);
    char dom[32], addr[96];

    *is_addr = 0;
    if (r < 5)
	return snprintf(buf, size, "@d%llu.example%llu.test,manual,global,%lld,\n",
			i, i % 97, t);
    *is_addr = 1;
    if ((d = below(N_EXAMPLE + N_BIG)) < N_EXAMPLE)
	snprintf(dom, sizeof(dom), "example%u.test", d);
    else
	snprintf(dom, sizeof(dom), "%s", big[(d - N_EXAMPLE) % 3]);
    snprintf(addr, sizeof(addr), "user%llu.%x@%s", i, below(1u << 24), dom);
    if (r < 40)
	return snprintf(buf, size, "%s,unsubscribe,tenant%u.example,%lld,\n",
			addr, below(N_TENANTS), t);
    reason = below(4);
    if (reason == 3 && i % 10 == 0)
	return snprintf(buf, size, "%s,%s,global,%lld,%llu\n", addr, reasons[reason], t,
			2000000000ULL + i);
    return snprintf(buf, size, "%s,%s,global,%lld,\n", addr, reasons[reason], t);
}

int
main(int argc, char **argv)
{
    static char obuf[1 << 20];
    unsigned long long n, i, every = 1, sample_n = 100000;
    FILE *sample = NULL;
    char line[256];
    int len, is_addr;

    if (argc < 2 || argc > 5) {
	fprintf(stderr, "usage: gen_suppress N [SEED [SAMPLE_FILE [SAMPLE_N]]]\n");
	return 2;
    }
    n = strtoull(argv[1], NULL, 10);
    rng_state = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
    if (argc > 3 && (sample = fopen(argv[3], "w")) == NULL) {
	perror(argv[3]);
	return 1;
    }
    if (argc > 4)
	sample_n = strtoull(argv[4], NULL, 10);
    if (sample && sample_n > 0 && n / sample_n > 1)
	every = n / sample_n;
    setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
    fputs("address,reason,scope,time,expires\n", stdout);
    if (sample)
	fputs("address,reason,scope,time,expires\n", sample);
    for (i = 0; i < n; i++) {
	len = row(i, line, sizeof(line), &is_addr);
	if (fwrite(line, 1, (size_t) len, stdout) != (size_t) len)
	    return 1;			/* the reader went away */
	if (sample && is_addr && i % every == 0)
	    fwrite(line, 1, (size_t) len, sample);
    }
    if (fflush(stdout) != 0)
	return 1;
    if (sample && fclose(sample) != 0) {
	perror(argv[3]);
	return 1;
    }
    return 0;
}
