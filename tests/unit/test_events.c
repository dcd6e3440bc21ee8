/* test_events - the event stream's keys, commands, ids and JSON entries */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conf.h"
#include "events.h"
#include "jsonw.h"
#include "testutil.h"

static struct outpost_conf *conf;

/* setup - a configuration with one tenant */
static int
setup(void **state)
{
    char err[600], *path = testutil_write_tmp("[redis]\nprefix = op:\n"
					      "[tenant shop]\ndomains = shop.example\n");

    (void) state;
    conf = conf_load(path, err, sizeof(err));
    unlink(path);
    free(path);
    if (conf == NULL)
	fprintf(stderr, "%s\n", err);
    return conf == NULL;
}

/* teardown - release it */
static int
teardown(void **state)
{
    (void) state;
    conf_free(conf);
    return 0;
}

/* arg - the value of field name in a command, or NULL */
static const char *
arg(const struct events_cmd *c, const char *name, size_t *len)
{
    int i;

    for (i = 8; i + 1 < c->argc; i += 2)
	if (strcmp(c->argv[i], name) == 0) {
	    *len = c->argvlen[i + 1];
	    return c->argv[i + 1];
	}
    return NULL;
}

static void
test_cmd(void **state)
{
    struct events_cmd c, c2;
    struct ev_record e;
    char reply[700];
    size_t len;

    (void) state;
    memset(&e, 0, sizeof(e));
    e.type = EV_BOUNCED;
    e.time = 1733500000123LL;
    e.rcpt = "a@b.example";
    e.sender = "SHOP.example";		/* any case names the tenant */
    e.class = "hard";
    memset(reply, 'x', sizeof(reply) - 1);
    reply[sizeof(reply) - 1] = '\0';
    e.reply = reply;
    e.once = "log:ABC:a@b.example:bounced:1733500000";
    assert_int_equal(events_cmd_make(&c, conf, &e), 0);
    assert_string_equal(c.argv[0], "EVAL");
    assert_string_equal(c.argv[2], "2");
    assert_string_equal(c.argv[3], "op:{ev:shop}:s");
    assert_int_equal(strncmp(c.argv[4], "op:{ev:shop}:once:", 18), 0);
    assert_int_equal(strlen(c.argv[4]), 18 + 32);
    assert_string_equal(c.argv[5], "1000000");
    assert_string_equal(c.argv[7], "6");	/* type time rcpt sender class reply */
    assert_int_equal(c.argc, 8 + 2 * 6);
    assert_string_equal(arg(&c, "time", &len), "1733500000123");
    assert_string_equal(arg(&c, "type", &len), "bounced");
    assert_non_null(arg(&c, "reply", &len));
    assert_int_equal(len, EVENTS_REPLY_MAX);
    assert_null(arg(&c, "pool", &len));	/* unknown: absent */
    /* the same once text, the same once key; none, a fresh one each time */
    assert_int_equal(events_cmd_make(&c2, conf, &e), 0);
    assert_string_equal(c.key[1], c2.key[1]);
    e.once = NULL;
    assert_int_equal(events_cmd_make(&c, conf, &e), 0);
    assert_int_equal(events_cmd_make(&c2, conf, &e), 0);
    assert_string_not_equal(c.key[1], c2.key[1]);
    /* a domain of no tenant, or none: nothing to write */
    e.sender = "other.example";
    assert_int_equal(events_cmd_make(&c, conf, &e), 1);
    e.sender = "";
    assert_int_equal(events_cmd_make(&c, conf, &e), 1);
}

static void
test_reply_utf8(void **state)
{
    struct events_cmd c;
    struct ev_record e;
    char reply[EVENTS_REPLY_MAX + 8];
    size_t len;

    (void) state;
    /* "é" (2 bytes) across the limit: cut before it */
    memset(reply, 'a', sizeof(reply));
    reply[EVENTS_REPLY_MAX - 1] = (char) 0xc3;
    reply[EVENTS_REPLY_MAX] = (char) 0xa9;
    reply[sizeof(reply) - 1] = '\0';
    memset(&e, 0, sizeof(e));
    e.type = EV_DEFERRED;
    e.sender = "shop.example";
    e.reply = reply;
    assert_int_equal(events_cmd_make(&c, conf, &e), 0);
    assert_non_null(arg(&c, "reply", &len));
    assert_int_equal(len, EVENTS_REPLY_MAX - 1);
}

static void
test_ids(void **state)
{
    (void) state;
    assert_true(events_id_valid("1733500000000-0"));
    assert_true(events_id_valid("1733500000000"));
    assert_true(events_id_valid("0-0"));
    assert_false(events_id_valid(""));
    assert_false(events_id_valid("-1"));
    assert_false(events_id_valid("1-"));
    assert_false(events_id_valid("1-2-3"));
    assert_false(events_id_valid("1 2"));
    assert_false(events_id_valid("+"));
    assert_false(events_id_valid("123456789012345678901-0"));
    assert_true(events_id_valid("18446744073709551615-18446744073709551615"));
    assert_false(events_id_valid("18446744073709551616"));
    assert_false(events_id_valid("99999999999999999999-0"));
    assert_false(events_id_valid("0-18446744073709551616"));
}

static void
test_json(void **state)
{
    const char *kv[] = {"type", "click", "time", "1733500000123", "rcpt", "a\"b@x",
	"id", "forged", "url", "https://x.example/\xff"};
    size_t kvlen[10], i;
    char *buf = NULL;
    size_t blen = 0;
    FILE *fp = open_memstream(&buf, &blen);
    struct jsonw w;

    (void) state;
    for (i = 0; i < 10; i++)
	kvlen[i] = strlen(kv[i]);
    jsonw_init(&w, fp);
    events_json_entry(&w, "1733500000123-0", 5, kv, kvlen);
    fclose(fp);
    assert_string_equal(buf, "{\"id\":\"1733500000123-0\",\"type\":\"click\","
			"\"time\":1733500000123,\"rcpt\":\"a\\\"b@x\","
			"\"url\":\"https://x.example/\\ufffd\"}\n");
    free(buf);
}

static void
test_batch(void **state)
{
    struct events_batch *b = events_batch_new(conf);
    struct ev_record e;
    unsigned long long lost = events_failures();

    (void) state;
    memset(&e, 0, sizeof(e));
    e.type = EV_OPEN;
    e.sender = "other.example";
    assert_int_equal(events_batch_add(b, &e), 1);	/* no tenant: not kept */
    e.sender = "shop.example";
    assert_int_equal(events_batch_add(b, &e), 0);
    e.type = NULL;				/* no type: not an event */
    assert_int_equal(events_batch_add(b, &e), 1);
    assert_int_equal(events_batch_size(b), 1);
    events_batch_free(b);			/* never written: counted lost */
    assert_int_equal(events_failures(), lost + 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_cmd),
	cmocka_unit_test(test_reply_utf8),
	cmocka_unit_test(test_ids),
	cmocka_unit_test(test_json),
	cmocka_unit_test(test_batch),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
