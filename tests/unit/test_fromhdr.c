/* test_fromhdr - the domain of the author in a From: header field */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "addr.h"
#include "fromhdr.h"

/* expect_domain - value parses to domain */
static void
expect_domain(const char *value, const char *want)
{
    char dom[DOMAIN_MAX];
    const char *why = NULL;

    if (fromhdr_domain(value, strlen(value), dom, sizeof(dom), &why) < 0)
	fail_msg("'%s': refused: %s", value, why);
    if (strcmp(dom, want) != 0)
	fail_msg("'%s': got %s, want %s", value, dom, want);
}

/* expect_refused - value is refused with a reason containing needle */
static void
expect_refused(const char *value, const char *needle)
{
    char dom[DOMAIN_MAX];
    const char *why = NULL;

    if (fromhdr_domain(value, strlen(value), dom, sizeof(dom), &why) == 0)
	fail_msg("'%s': accepted as %s", value, dom);
    if (strstr(why, needle) == NULL)
	fail_msg("'%s': reason '%s' lacks '%s'", value, why, needle);
}

static void
test_accepted(void **state)
{
    (void) state;
    expect_domain("alice@example.com", "example.com");
    expect_domain(" Alice <alice@Example.COM>", "example.com");
    expect_domain(" \"Doe, John (CEO)\" <john@example.org>", "example.org");
    expect_domain(" \"a@b\" <x@real.example>", "real.example");
    expect_domain(" (comment <x@fake.example>) bob@real.example (more)", "real.example");
    expect_domain(" bob@ (folded)\n\t real.example ", "real.example");
    expect_domain(" \"quoted@local\"@example.net", "example.net");
    expect_domain(" Name\n\t<a@sub.example.com>", "sub.example.com");
    expect_domain(" <@relay.example:user@example.com>", "example.com");
    expect_domain(" =?UTF-8?B?w6l0w6k=?= <a@b\xc3\xa9.example>", "xn--b-bga.example");
    expect_domain(" \"esc\\\"aped\" <a@example.com>", "example.com");
    expect_domain(" Bob <bob@example.com> (the boss)\n\t ", "example.com");
}

static void
test_refused(void **state)
{
    char big[FROMHDR_MAX + 10];

    (void) state;
    expect_refused(" a@example.com, b@example.org", "more than one address");
    expect_refused(" A <a@example.com>, B <b@example.org>", "more than one");
    expect_refused(" group: a@example.com;", "group");
    expect_refused(" undisclosed-recipients:;", "group");
    expect_refused(" nobody", "no domain");
    expect_refused(" <nobody>", "no domain");
    expect_refused(" <a@example.com", "unterminated '<'");
    expect_refused(" a@example.com>", "unbalanced");
    expect_refused(" <a@x> <b@y>", "more than one '<'");
    /* an address after the angle-addr: a reader may take it for the author */
    expect_refused(" <a@signed.example> ceo@other.example", "after the address");
    expect_refused(" Bob <a@signed.example> \"x\"", "after the address");
    expect_refused(" <a@signed.example>: ;", "group");
    expect_refused(" \"open <a@example.com>", "unterminated quoted");
    expect_refused(" (open <a@example.com>", "unterminated comment");
    expect_refused(" a@exa mple.com", "malformed domain");
    expect_refused(" a@", "malformed domain");
    expect_refused(" a@-bad-.example", "");
    expect_refused(" ((((((((((((((((((((((((((((((((((deep))))))))))))))))))))))))))))))))) a@b.c",
		   "nested too deep");
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    expect_refused(big, "too long");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_accepted),
	cmocka_unit_test(test_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
