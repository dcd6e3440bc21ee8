/*
 * fuzz_keyedit - the key table's line replacement on arbitrary bytes
 *
 * keyedit_set() is asked to set the RSA and the Ed25519 line of a few
 * domains; any result is fine as long as it keeps the promises of
 * keyedit.h: the new text has the length it says, the lines before the
 * one replaced are unchanged, and an append only adds at the end.
 * Crashes, leaks and undefined behaviour are failures.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keyedit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const domains[] = {"shop.example", "a.test", "xn--bcher-kva.example"};
    const char *text = (const char *) data;
    struct keyedit ke;
    char err[300];
    size_t d;
    int a;

    for (d = 0; d < sizeof(domains) / sizeof(domains[0]); d++) {
	for (a = 0; a < 2; a++) {
	    if (keyedit_set(text, size, domains[d], a ? DKIM_ALG_ED25519 : DKIM_ALG_RSA,
			    "s2", "/k/new.key", &ke, err, sizeof(err)) < 0)
		continue;
	    if (strlen(ke.text) > ke.len)
		abort();
	    if (ke.line == 0 && (ke.len < size || memcmp(ke.text, text, size) != 0))
		abort();
	    keyedit_free(&ke);
	}
    }
    return 0;
}
