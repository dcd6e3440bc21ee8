/* test_domcheck - the dkim check of one published key record */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "domcheck.h"
#include "keytable.h"
#include "onboard.h"

static struct keyentry entry;
static char *pub;			/* the entry's public key, base64 */

static int
setup(void **state)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    char err[300];

    (void) state;
    if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1
	|| EVP_PKEY_keygen(ctx, &entry.pkey) != 1)
	return -1;
    EVP_PKEY_CTX_free(ctx);
    entry.alg = DKIM_ALG_ED25519;
    entry.keyfile = "/etc/outpost/dkim/e1.key";
    return keyentry_public_b64(&entry, &pub, err, sizeof(err));
}

static int
teardown(void **state)
{
    (void) state;
    EVP_PKEY_free(entry.pkey);
    free(pub);
    return 0;
}

/* judge - the verdict on the tags of head then p= the entry's key (key: 1) */
static int
judge(const char *head, int key, char *why, size_t whylen)
{
    char txt[512];

    snprintf(txt, sizeof(txt), "%sp=%s", head, key ? pub : "");
    return domcheck_dkim_record(&entry, "e1._domainkey.example.com", txt, why, whylen);
}

static void
test_dkim_record(void **state)
{
    char why[1024];

    (void) state;
    assert_int_equal(judge("v=DKIM1; k=ed25519; ", 1, why, sizeof(why)), DOMCHECK_PASS);
    assert_int_equal(judge("v=DKIM1; k=ed25519; t=y; ", 1, why, sizeof(why)),
		     DOMCHECK_WARN);
    assert_non_null(strstr(why, "t=y"));
    assert_int_equal(judge("v=DKIM1; k=ed25519; h=sha1; ", 1, why, sizeof(why)),
		     DOMCHECK_FAIL);
    assert_non_null(strstr(why, "h=sha1"));
    /* a key that cannot verify Outpost's signatures fails, testing or not */
    assert_int_equal(judge("v=DKIM1; k=ed25519; t=y; h=sha1; ", 1, why, sizeof(why)),
		     DOMCHECK_FAIL);
    assert_non_null(strstr(why, "h=sha1"));
    assert_int_equal(judge("v=DKIM1; k=ed25519; ", 0, why, sizeof(why)), DOMCHECK_FAIL);
    assert_non_null(strstr(why, "revoked"));
    assert_int_equal(judge("v=DKIM1; k=rsa; ", 1, why, sizeof(why)), DOMCHECK_FAIL);
}

static void
test_zone_line(void **state)
{
    char *line;

    (void) state;
    line = onboard_zone_line("_dmarc.example.com", 3600, "TXT", "v=DMARC1; \"p\"=\\none");
    assert_string_equal(line, "_dmarc.example.com.\t3600\tIN\tTXT\t\"v=DMARC1; \\\"p\\\"=\\\\none\"");
    free(line);
    /* a published record's other bytes as \DDD: a zone file's way, no escape sequence */
    line = onboard_zone_line("_dmarc.example.com", 60, "TXT", "v=DMARC1; p=none\x1b[2J\x7f\xc3");
    assert_string_equal(line, "_dmarc.example.com.\t60\tIN\tTXT\t\"v=DMARC1; p=none\\027[2J\\127\\195\"");
    free(line);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_dkim_record),
	cmocka_unit_test(test_zone_line),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
