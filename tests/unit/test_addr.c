/* test_addr - address and domain normalisation */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "addr.h"

/* norm_ok - the address normalises to want */
static void
norm_ok(const char *in, const char *want)
{
    char out[ADDR_MAX];
    const char *why = NULL;

    if (addr_normalize(in, strlen(in), out, sizeof(out), &why) != 0)
	fail_msg("'%s' refused: %s", in, why);
    assert_string_equal(out, want);
}

/* norm_bad - the address is refused, the reason mentions needle */
static void
norm_bad(const char *in, const char *needle)
{
    char out[ADDR_MAX];
    const char *why = NULL;

    if (addr_normalize(in, strlen(in), out, sizeof(out), &why) == 0)
	fail_msg("'%s' accepted as '%s'", in, out);
    if (strstr(why, needle) == NULL)
	fail_msg("'%s': reason '%s' lacks '%s'", in, why, needle);
}

static void
test_plain(void **state)
{
    (void) state;
    norm_ok("Alice@Example.ORG", "alice@example.org");
    norm_ok("<bob@example.org>", "bob@example.org");
    norm_ok("  carol@example.org.  ", "carol@example.org");
    norm_ok("@relay.example:dave@example.org", "dave@example.org");
    norm_ok("first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk");
    norm_ok("\"Odd Name\"@example.org", "\"Odd Name\"@example.org");
    norm_ok("user@[192.0.2.1]", "user@[192.0.2.1]");
}

/*
 * test_quoted_plain - a quoted local part that needs no quotes is the same
 * mailbox as without them (RFC 5321 section 4.1.2): the same form, or a
 * suppressed address would pass the check spelt "alice"@...
 */
static void
test_quoted_plain(void **state)
{
    (void) state;
    norm_ok("\"alice\"@example.org", "alice@example.org");
    norm_ok("<\"Alice\"@Example.ORG>", "alice@example.org");
    norm_ok("\"first.last+tag\"@example.org", "first.last+tag@example.org");
    norm_ok("\"a\\lice\"@example.org", "alice@example.org");
    /* quotes that are needed stay, as written */
    norm_ok("\"Odd Name\"@example.org", "\"Odd Name\"@example.org");
    norm_ok("\"a..b\"@example.org", "\"a..b\"@example.org");
    norm_ok("\".ab\"@example.org", "\".ab\"@example.org");
    norm_ok("\"\"@example.org", "\"\"@example.org");
    norm_ok("\"a\\\"b\"@example.org", "\"a\\\"b\"@example.org");
}

static void
test_idn(void **state)
{
    (void) state;
    norm_ok("user@b\xc3\xbc\x63her.example", "user@xn--bcher-kva.example");
    norm_ok("user@B\xc3\x9c\x43HER.example", "user@xn--bcher-kva.example");
    norm_ok("user@xn--bcher-kva.example", "user@xn--bcher-kva.example");
}

static void
test_garbage(void **state)
{
    char longlocal[100], longaddr[320];

    (void) state;
    norm_bad("", "empty");
    norm_bad("<>", "empty");
    norm_bad("no-at-sign", "no '@'");
    norm_bad("@example.org", "no local part");
    norm_bad("user@", "empty domain");
    norm_bad("user@exa mple.org", "space");
    norm_bad("us er@example.org", "quoting");
    norm_bad(".user@example.org", "'.'");
    norm_bad("us..er@example.org", "'.'");
    norm_bad("user@-example.org", "starts with '-'");
    norm_bad("user@example..org", "empty label");
    norm_bad("user@exa\x01mple.org", "control");
    norm_bad("\"unterminated@example.org", "quoted");
    memset(longlocal, 'a', 65);
    strcpy(longlocal + 65, "@example.org");
    norm_bad(longlocal, "64");
    memset(longaddr, 'b', 260);
    memcpy(longaddr, "x@", 2);
    for (int i = 2; i < 250; i += 50)
	longaddr[i + 49] = '.';
    strcpy(longaddr + 260, ".org");
    norm_bad(longaddr, "long");
}

static void
test_domain(void **state)
{
    char out[DOMAIN_MAX];
    const char *why;

    (void) state;
    assert_int_equal(domain_normalize("Gmail.COM.", 10, out, sizeof(out), &why), 0);
    assert_string_equal(out, "gmail.com");
    assert_string_equal(addr_domain("a@b.example"), "b.example");
    assert_int_equal(domain_normalize("bad_", 3, out, sizeof(out), &why), 0);
    assert_int_equal(domain_normalize("a..b", 4, out, sizeof(out), &why), -1);
}

/* test_domain_of - the domain of an address whose local part is refused */
static void
test_domain_of(void **state)
{
    char out[DOMAIN_MAX], longlocal[100];
    const char *why;

    (void) state;
    memset(longlocal, 'a', 70);
    strcpy(longlocal + 70, "@Shop.EXAMPLE>");
    assert_int_equal(addr_domain_normalize(longlocal, strlen(longlocal), out, sizeof(out),
					   &why), 0);
    assert_string_equal(out, "shop.example");
    assert_int_equal(addr_domain_normalize("<\"a@b\"@x.example> ", 17, out, sizeof(out),
					   &why), 0);
    assert_string_equal(out, "x.example");
    assert_int_equal(addr_domain_normalize("<>", 2, out, sizeof(out), &why), -1);
    assert_int_equal(addr_domain_normalize("<user@>", 7, out, sizeof(out), &why), -1);
    assert_int_equal(addr_domain_normalize("user@exa mple.org", 17, out, sizeof(out), &why),
		     -1);
}

/* test_bytes - NUL and other bytes a C string cannot show, found by fuzz_addr */
static void
test_bytes(void **state)
{
    char out[ADDR_MAX], lit[300];
    const char *why = NULL;

    (void) state;
    /* a NUL byte in a local part (strchr() matched the terminating NUL) */
    assert_int_equal(addr_normalize("a\0b@example.org", 15, out, sizeof(out), &why), -1);
    assert_non_null(strstr(why, "quoting"));
    /* a NUL byte escaped in a quoted local part */
    assert_int_equal(addr_normalize("\"a\\\0b\"@example.org", 18, out, sizeof(out), &why),
		     -1);
    assert_non_null(strstr(why, "escape"));
    assert_int_equal(addr_normalize("\"a\\ b\"@example.org", 18, out, sizeof(out), &why), 0);
    /* an address literal longer than a domain may be, or not ASCII */
    lit[0] = '[';
    memset(lit + 1, '1', 280);
    lit[281] = ']';
    assert_int_equal(domain_normalize(lit, 282, out, sizeof(out), &why), -1);
    assert_non_null(strstr(why, "253"));
    assert_int_equal(domain_normalize("[1\xff]", 4, out, sizeof(out), &why), -1);
    assert_int_equal(domain_normalize("[192.0.2.1]", 11, out, sizeof(out), &why), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_plain),
	cmocka_unit_test(test_quoted_plain),
	cmocka_unit_test(test_idn),
	cmocka_unit_test(test_garbage),
	cmocka_unit_test(test_domain),
	cmocka_unit_test(test_domain_of),
	cmocka_unit_test(test_bytes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
