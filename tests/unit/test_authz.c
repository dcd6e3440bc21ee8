/* test_authz - the SASL user to signing domains table */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "authz.h"

/* parse - a table from text, or fail with its error */
static struct authz *
parse(const char *text)
{
    char err[400];
    struct authz *az = authz_parse(text, strlen(text), "t", err, sizeof(err));

    if (az == NULL)
	fail_msg("%s", err);
    return az;
}

/* expect_refused - text refused with needle in the error */
static void
expect_refused(const char *text, size_t len, const char *needle)
{
    char err[400];
    struct authz *az = authz_parse(text, len, "t", err, sizeof(err));

    if (az != NULL)
	fail_msg("accepted: %s", text);
    if (strstr(err, needle) == NULL)
	fail_msg("error '%s' lacks '%s'", err, needle);
}

static void
test_allows(void **state)
{
    struct authz *az = parse("# tenants\n"
			     "alice@esp  Example.COM  shop.example.net   # two\n"
			     "\n"
			     "bob  bob.example\r\n"
			     "carol other.example");

    (void) state;
    assert_true(authz_allows(az, "alice@esp", "example.com"));
    assert_true(authz_allows(az, "alice@esp", "news.example.com"));
    assert_true(authz_allows(az, "alice@esp", "shop.example.net"));
    assert_false(authz_allows(az, "alice@esp", "example.net"));
    assert_false(authz_allows(az, "alice@esp", "badexample.com"));
    assert_false(authz_allows(az, "alice@esp", "bob.example"));
    assert_true(authz_allows(az, "bob", "bob.example"));
    assert_true(authz_allows(az, "carol", "other.example"));
    assert_false(authz_allows(az, "Bob", "bob.example"));
    assert_false(authz_allows(az, "mallory", "example.com"));
    authz_free(az);
}

static void
test_refused(void **state)
{
    char big[AUTHZ_LINE_MAX + 20];

    (void) state;
    expect_refused("alice\n", 6, "t:1: user 'alice' has no domains");
    expect_refused("a x.example\nb bad..example\n", 27, "t:2: domain 'bad..example'");
    expect_refused("a x.example\na y.example\n", 24, "t:2: user 'a' already listed on line 1");
    expect_refused("a x.ex\0ample\n", 13, "t:1: NUL");
    memset(big, 'a', sizeof(big));
    expect_refused(big, sizeof(big), "t:1: line longer");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_allows),
	cmocka_unit_test(test_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
