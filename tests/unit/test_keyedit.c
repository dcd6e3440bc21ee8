/* test_keyedit - the key table's line replaced in place, the table replaced whole */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "keyedit.h"
#include "testutil.h"

static char dir[] = "/tmp/outpost-ke-XXXXXX";
static char key_path[128], table_path[128];

/* write_key - an Ed25519 key as PEM, mode 0600 */
static void
write_key(const char *path)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    EVP_PKEY *pkey = NULL;
    FILE *fp;

    assert_non_null(ctx);
    assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
    assert_int_equal(EVP_PKEY_keygen(ctx, &pkey), 1);
    fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(PEM_write_PrivateKey(fp, pkey, NULL, NULL, 0, NULL, NULL), 1);
    fclose(fp);
    chmod(path, 0600);
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
}

static int
setup(void **state)
{
    (void) state;
    if (mkdtemp(dir) == NULL)
	return -1;
    snprintf(key_path, sizeof(key_path), "%s/k.key", dir);
    snprintf(table_path, sizeof(table_path), "%s/keys", dir);
    write_key(key_path);
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

/* set - keyedit_set() over a C string */
static int
set(const char *text, const char *domain, enum dkim_alg alg, const char *sel,
    const char *kf, struct keyedit *ke, char *err, size_t errlen)
{
    return keyedit_set(text, strlen(text), domain, alg, sel, kf, ke, err, errlen);
}

/* only the selector and key file of the matching line change */
static void
test_replace_in_place(void **state)
{
    const char *in =
	"# the key table\n"
	"other.example\ts1\trsa\t/k/other.s1.key\n"
	"Shop.Example   s1   rsa-sha256   /k/shop.s1.key   d=mail.shop.example  # since 2025\r\n"
	"shop.example s1 ed25519 /k/shop.e1.key\n"
	"# shop.example s0 rsa /k/shop.s0.key\n";
    const char *want =
	"# the key table\n"
	"other.example\ts1\trsa\t/k/other.s1.key\n"
	"Shop.Example   s2   rsa-sha256   /k/shop.s2.key   d=mail.shop.example  # since 2025\r\n"
	"shop.example s1 ed25519 /k/shop.e1.key\n"
	"# shop.example s0 rsa /k/shop.s0.key\n";
    struct keyedit ke;
    char err[300];

    (void) state;
    assert_int_equal(set(in, "shop.example", DKIM_ALG_RSA, "s2", "/k/shop.s2.key", &ke,
			 err, sizeof(err)), 0);
    assert_string_equal(ke.text, want);
    assert_int_equal(ke.len, strlen(want));
    assert_int_equal(ke.line, 3);
    assert_string_equal(ke.old_selector, "s1");
    assert_string_equal(ke.old_keyfile, "/k/shop.s1.key");
    assert_string_equal(ke.sign_domain, "mail.shop.example");
    keyedit_free(&ke);

    /* the other algorithm's line, which has no d= */
    assert_int_equal(set(in, "shop.example", DKIM_ALG_ED25519, "e2", "/k/shop.e2.key", &ke,
			 err, sizeof(err)), 0);
    assert_int_equal(ke.line, 4);
    assert_null(ke.sign_domain);
    assert_non_null(strstr(ke.text, "\nshop.example e2 ed25519 /k/shop.e2.key\n# shop"));
    assert_non_null(strstr(ke.text, "rsa-sha256   /k/shop.s1.key"));
    keyedit_free(&ke);
}

/* a domain without a line of the algorithm gets one at the end */
static void
test_append(void **state)
{
    struct keyedit ke;
    char err[300];

    (void) state;
    assert_int_equal(set("a.example s1 rsa /k/a.key", "b.example", DKIM_ALG_RSA, "s1",
			 "/k/b.key", &ke, err, sizeof(err)), 0);
    assert_string_equal(ke.text, "a.example s1 rsa /k/a.key\nb.example s1 rsa /k/b.key\n");
    assert_int_equal(ke.line, 0);
    assert_null(ke.old_selector);
    keyedit_free(&ke);
    assert_int_equal(set("", "b.example", DKIM_ALG_ED25519, "e1", "/k/b.key", &ke, err,
			 sizeof(err)), 0);
    assert_string_equal(ke.text, "b.example e1 ed25519 /k/b.key\n");
    keyedit_free(&ke);
    /* a subdomain is another domain, as keytable_load() sees it */
    assert_int_equal(set("example.com s1 rsa /k/a.key\n", "news.example.com", DKIM_ALG_RSA,
			 "s1", "/k/n.key", &ke, err, sizeof(err)), 0);
    assert_int_equal(ke.line, 0);
    keyedit_free(&ke);
}

/* what would break the table is refused */
static void
test_refused(void **state)
{
    struct keyedit ke;
    char err[300];

    (void) state;
    assert_int_equal(set("a.example s1 rsa /k/1\na.example s2 rsa /k/2\n", "a.example",
			 DKIM_ALG_RSA, "s3", "/k/3", &ke, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "lines 1 and 2"));
    assert_null(ke.text);
    assert_int_equal(set("", "a.example", DKIM_ALG_RSA, "s 3", "/k/3", &ke, err,
			 sizeof(err)), -1);
    assert_int_equal(set("", "a.example", DKIM_ALG_RSA, "s3", "/k/3#x", &ke, err,
			 sizeof(err)), -1);
    assert_int_equal(set("", "a.example", DKIM_ALG_RSA, "", "/k/3", &ke, err,
			 sizeof(err)), -1);
}

/* count_dir - entries of dir but . and .. */
static int
count_dir(void)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    assert_non_null(d);
    while ((de = readdir(d)) != NULL)
	n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* install: a table that loads replaces the old one, mode kept; one that does not, not */
static void
test_install(void **state)
{
    char good[300], bad[300], err[600], *text;
    size_t len;
    struct stat st;
    char link_path[160];

    (void) state;
    assert_int_equal(keyedit_read(table_path, &text, &len, err, sizeof(err)), 0);
    assert_string_equal(text, "");
    assert_int_equal(len, 0);
    free(text);
    snprintf(good, sizeof(good), "a.example s1 ed25519 %s\n", key_path);
    assert_int_equal(keyedit_install(table_path, good, strlen(good), err, sizeof(err)), 0);
    assert_int_equal(keyedit_read(table_path, &text, &len, err, sizeof(err)), 0);
    assert_string_equal(text, good);
    free(text);
    assert_int_equal(chmod(table_path, 0640), 0);
    snprintf(good, sizeof(good), "a.example s2 ed25519 %s\n", key_path);
    assert_int_equal(keyedit_install(table_path, good, strlen(good), err, sizeof(err)), 0);
    assert_int_equal(stat(table_path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    assert_int_equal(count_dir(), 2);	/* the key and the table: no temporary file */

    /* two Ed25519 keys for one domain: refused, the table as it was */
    snprintf(bad, sizeof(bad), "%sa.example s3 ed25519 %s\n", good, key_path);
    assert_int_equal(keyedit_install(table_path, bad, strlen(bad), err, sizeof(err)), -1);
    assert_non_null(strstr(err, table_path));
    assert_non_null(strstr(err, ":2: a.example already has an ed25519 key (line 1)"));
    assert_int_equal(keyedit_read(table_path, &text, &len, err, sizeof(err)), 0);
    assert_string_equal(text, good);
    free(text);
    assert_int_equal(count_dir(), 2);

    /* through a symbolic link: the file it names is replaced, the link stays */
    snprintf(link_path, sizeof(link_path), "%s/link", dir);
    assert_int_equal(symlink(table_path, link_path), 0);
    snprintf(good, sizeof(good), "a.example s4 ed25519 %s\n", key_path);
    assert_int_equal(keyedit_install(link_path, good, strlen(good), err, sizeof(err)), 0);
    assert_int_equal(lstat(link_path, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(keyedit_read(table_path, &text, &len, err, sizeof(err)), 0);
    assert_string_equal(text, good);
    free(text);
    unlink(link_path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_replace_in_place),
	cmocka_unit_test(test_append),
	cmocka_unit_test(test_refused),
	cmocka_unit_test(test_install),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
