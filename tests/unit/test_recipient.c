/* test_recipient - one RCPT TO read once: address, domain, provider, pool */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"
#include "provider.h"
#include "recipient.h"
#include "settings.h"
#include "testutil.h"

/* load - settings (configuration and providers only) from text */
static void
load(struct settings *set, const char *text)
{
    char err[600], *path = testutil_write_tmp(text);

    memset(set, 0, sizeof(*set));
    set->conf = conf_load(path, err, sizeof(err));
    unlink(path);
    free(path);
    if (set->conf == NULL)
	fail_msg("%s", err);
    if (provider_table_build(set->conf, &set->providers, err, sizeof(err)) < 0)
	fail_msg("%s", err);
}

/* unload - free what load made */
static void
unload(struct settings *set)
{
    provider_table_free(&set->providers);
    conf_free(set->conf);
}

static const char conf_pools[] =
    "[provider corp]\ndomains = corp.test\n"
    "[pool warm]\ntransport = smtp_warm\nsenders = tenant1, shop.test\n"
    "[pool main]\ntransport = smtp_main\n"
    "[policy]\ndefault_pool = main\n";

/* the address normalised once, with its domain and provider */
static void
test_parse(void **state)
{
    struct settings set;
    struct recipient r;
    const char *raw = "<Alice@GMAIL.com>";

    (void) state;
    load(&set, conf_pools);
    recipient_parse(&r, raw, &set, NULL, "other.test");
    assert_ptr_equal(r.raw, raw);
    assert_string_equal(r.addr, "alice@gmail.com");
    assert_string_equal(r.domain, "gmail.com");
    assert_string_equal(r.provider_name, "google");
    assert_true(r.provider < set.providers.n);
    recipient_parse(&r, "bob@corp.test", &set, NULL, "other.test");
    assert_string_equal(r.provider_name, "corp");
    recipient_parse(&r, "carol@example.org", &set, NULL, "other.test");
    assert_string_equal(r.provider_name, "other");
    assert_int_equal(r.provider, set.providers.n);
    unload(&set);
}

/* an address that cannot be read: raw kept, no domain, provider other */
static void
test_unreadable(void **state)
{
    struct settings set;
    struct recipient r;

    (void) state;
    load(&set, conf_pools);
    recipient_parse(&r, "<no-at-sign>", &set, NULL, "shop.test");
    assert_string_equal(r.raw, "<no-at-sign>");
    assert_string_equal(r.addr, "");
    assert_string_equal(r.domain, "");
    assert_true(r.why[0] != '\0');
    assert_string_equal(r.provider_name, "other");
    assert_int_equal(r.provider, set.providers.n);
    /* a local part over 64 octets: no address, but the domain is known */
    recipient_parse(&r, "<list-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "@GMail.com>", &set, NULL, "shop.test");
    assert_string_equal(r.addr, "");
    assert_true(r.why[0] != '\0');
    assert_string_equal(r.domain, "gmail.com");
    assert_string_equal(r.provider_name, "google");
    unload(&set);
}

/* the pool: SASL user first, then sender domain, then the default */
static void
test_pool(void **state)
{
    struct settings set;
    struct recipient r;

    (void) state;
    load(&set, conf_pools);
    recipient_parse(&r, "a@gmail.com", &set, "tenant1", "other.test");
    assert_string_equal(r.pool, "warm");
    recipient_parse(&r, "a@gmail.com", &set, NULL, "shop.test");
    assert_string_equal(r.pool, "warm");
    recipient_parse(&r, "a@gmail.com", &set, "someone", "other.test");
    assert_string_equal(r.pool, "main");
    unload(&set);
    load(&set, "[suppress]\nenabled = yes\n");
    recipient_parse(&r, "a@gmail.com", &set, NULL, "shop.test");
    assert_string_equal(r.pool, "default");
    unload(&set);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_parse),
	cmocka_unit_test(test_unreadable),
	cmocka_unit_test(test_pool),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
