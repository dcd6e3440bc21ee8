/* test_keytable - DKIM key table: parsing, permissions, lookup, public keys */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "keytable.h"
#include "testutil.h"

static char dir[] = "/tmp/outpost-kt-XXXXXX";
static char rsa_path[128], ed_path[128], open_path[128];

/* write_key - generate a key and store it as PEM with the given mode */
static void
write_key(const char *path, int type, int bits, mode_t mode)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(type, NULL);
    EVP_PKEY *pkey = NULL;
    FILE *fp;

    assert_non_null(ctx);
    assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
    if (type == EVP_PKEY_RSA)
	assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits), 1);
    assert_int_equal(EVP_PKEY_keygen(ctx, &pkey), 1);
    fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(PEM_write_PrivateKey(fp, pkey, NULL, NULL, 0, NULL, NULL), 1);
    fclose(fp);
    chmod(path, mode);
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
}

static int
setup(void **state)
{
    (void) state;
    if (mkdtemp(dir) == NULL)
	return -1;
    snprintf(rsa_path, sizeof(rsa_path), "%s/rsa.key", dir);
    snprintf(ed_path, sizeof(ed_path), "%s/ed.key", dir);
    snprintf(open_path, sizeof(open_path), "%s/open.key", dir);
    write_key(rsa_path, EVP_PKEY_RSA, 2048, 0600);
    write_key(ed_path, EVP_PKEY_ED25519, 0, 0600);
    write_key(open_path, EVP_PKEY_ED25519, 0, 0644);
    return 0;
}

static int
teardown(void **state)
{
    char cmd[200];

    (void) state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* load_text - a table from text; NULL with err */
static struct keytable *
load_text(const char *text, char *err, size_t errlen)
{
    char *path = testutil_write_tmp(text);
    struct keytable *kt = keytable_load(path, 0, 0, err, errlen);

    unlink(path);
    free(path);
    return kt;
}

static void
test_load_lookup(void **state)
{
    char text[1024], err[600];
    const struct keyentry *e[4];
    struct keytable *kt;
    char *rec, *b64;

    (void) state;
    snprintf(text, sizeof(text),
	     "# domain selector algorithm keyfile\n"
	     "Example.COM  s1  rsa      %s\n"
	     "example.com  e1  ed25519  %s   # both algorithms\n"
	     "\n"
	     "client.test  c1  rsa      %s d=esp.example\n", rsa_path, ed_path, rsa_path);
    kt = load_text(text, err, sizeof(err));
    if (kt == NULL)
	fail_msg("%s", err);
    assert_int_equal(kt->n, 3);
    assert_int_equal(keytable_lookup(kt, "example.com", e, 4), 2);
    assert_int_equal(keytable_lookup(kt, "news.mail.example.com", e, 4), 2);
    assert_string_equal(e[0]->sign_domain, "example.com");
    assert_int_equal(keytable_lookup(kt, "notexample.com", e, 4), 0);
    assert_int_equal(keytable_lookup(kt, "client.test", e, 4), 1);
    assert_string_equal(e[0]->sign_domain, "esp.example");

    keytable_lookup(kt, "example.com", e, 4);
    assert_int_equal(keyentry_dns_record(e[1], &rec, err, sizeof(err)), 0);
    assert_non_null(strstr(rec, "v=DKIM1; k=ed25519; p="));
    assert_int_equal(strlen(strstr(rec, "p=") + 2), 44);	/* 32 bytes */
    free(rec);
    assert_int_equal(keyentry_public_b64(e[0], &b64, err, sizeof(err)), 0);
    assert_true(strlen(b64) > 380);	/* 2048-bit SubjectPublicKeyInfo */
    assert_int_equal(strncmp(b64, "MIIBIjAN", 8), 0);
    free(b64);
    keytable_free(kt);
}

/* expect_refused - the table must be refused with line and needle */
static void
expect_refused(const char *text, const char *line_tag, const char *needle)
{
    char err[600];
    struct keytable *kt = load_text(text, err, sizeof(err));

    if (kt != NULL)
	fail_msg("accepted: %s", text);
    if (strstr(err, line_tag) == NULL || strstr(err, needle) == NULL)
	fail_msg("error '%s' lacks '%s' or '%s'", err, line_tag, needle);
}

static void
test_refusals(void **state)
{
    char text[1024];

    (void) state;
    snprintf(text, sizeof(text), "a.test s1 rsa %s\nb.test s1 rsa %s\n", rsa_path, open_path);
    expect_refused(text, ":2: ", "group or others");
    snprintf(text, sizeof(text), "a.test s1 ed25519 %s\n", rsa_path);
    expect_refused(text, ":1: ", "not an Ed25519 key");
    snprintf(text, sizeof(text), "a.test s1 dsa %s\n", rsa_path);
    expect_refused(text, ":1: ", "algorithm 'dsa'");
    expect_refused("a.test s1 rsa\n", ":1: ", "too few fields");
    expect_refused("a.test s1 rsa relative.key\n", ":1: ", "absolute path");
    expect_refused("a.test s1 rsa /nonexistent.key\n", ":1: ", "No such file");
    snprintf(text, sizeof(text), "a.test s1 rsa %s\na.test s2 rsa %s\n", rsa_path, rsa_path);
    expect_refused(text, ":2: ", "already has an rsa key");
    snprintf(text, sizeof(text), "a..test s1 rsa %s\n", rsa_path);
    expect_refused(text, ":1: ", "empty label");
    snprintf(text, sizeof(text), "a.test s/1 rsa %s\n", rsa_path);
    expect_refused(text, ":1: ", "selector");
    snprintf(text, sizeof(text), "a.test s1 rsa %s x=1\n", rsa_path);
    expect_refused(text, ":1: ", "d=SIGNING-DOMAIN");
}

static void
test_owner(void **state)
{
    char text[512], err[600];
    char *path;
    struct keytable *kt;

    (void) state;
    snprintf(text, sizeof(text), "a.test s1 rsa %s\n", rsa_path);
    path = testutil_write_tmp(text);
    kt = keytable_load(path, 1, getuid() + 1, err, sizeof(err));
    assert_null(kt);
    assert_non_null(strstr(err, "not by the daemon user"));
    kt = keytable_load(path, 1, getuid(), err, sizeof(err));
    assert_non_null(kt);
    keytable_free(kt);
    unlink(path);
    free(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_load_lookup),
	cmocka_unit_test(test_refusals),
	cmocka_unit_test(test_owner),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
