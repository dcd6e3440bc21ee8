/*
 * verp_bench - cost of the return-path token: encode and decode per message
 *
 * SYNOPSIS
 *	tests/bench/verp_bench [N]
 *
 * DESCRIPTION
 *	Prints microseconds per verp_encode() and per verp_decode() over N
 *	tokens (default 200000) for a typical recipient, and the longest
 *	recipient + sender domain that still fits inline with "b-".
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "monotime.h"
#include "verp.h"

int
main(int argc, char **argv)
{
    static const char secret[] = "benchmark-secret-0123456789abcdef";
    long i, n = argc > 1 ? atol(argv[1]) : 200000;
    char err[128], tok[64], rcpt[128], local[80];
    struct verp_keys *k = verp_keys_parse(secret, sizeof(secret) - 1, "bench", err,
					  sizeof(err));
    struct verp_token t;
    double t0, t1, t2;
    size_t len = 0, fit = 0;

    if (k == NULL || n <= 0)
	return 1;
    len = 0;
    t0 = monotime_us();
    for (i = 0; i < n; i++) {
	snprintf(rcpt, sizeof(rcpt), "%c%c%c%c.lastname@gmail.com", 'a' + (int) (i % 26),
		 'a' + (int) (i / 26 % 26), 'a' + (int) (i / 676 % 26), 'a' + (int) (i / 17576 % 26));
	len = verp_encode(k, VERP_BOUNCE, 20000, rcpt, "shop.example", tok, sizeof(tok) - 2);
    }
    t1 = monotime_us();
    for (i = 0; i < n; i++)
	if (verp_decode(k, VERP_BOUNCE, tok, len, 20000, 30, &t) != VERP_OK) {
	    fprintf(stderr, "verp_bench: the token does not decode\n");
	    return 1;
	}
    t2 = monotime_us();
    for (i = 1; i < 60; i++) {
	memset(local, 'a', (size_t) i);
	snprintf(local + i, sizeof(local) - (size_t) i, "@gmail.com");
	if (verp_encode(k, VERP_BOUNCE, 20000, local, "shop.example", tok, 63) > 0)
	    fit = strlen(local) + strlen("shop.example");
    }
    printf("verp_encode: %.2f us/token (%zu characters)\n", (t1 - t0) / n, len);
    printf("verp_decode: %.2f us/token\n", (t2 - t1) / n);
    printf("inline limit with \"b-\": recipient + sender domain of %zu characters "
	   "(letters only; digits cost two symbols)\n", fit);
    verp_keys_free(k);
    return 0;
}
