/*
 * test_redischeck - reading the server's INFO and CONFIG GET answers, and the
 * verdict on maxmemory-policy and persistence
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "redischeck.h"

/* INFO as Redis 7.0 sends it (shortened) */
static const char info_memory[] =
    "# Memory\r\nused_memory:1010640\r\nused_memory_human:986.95K\r\n"
    "maxmemory:0\r\nmaxmemory_human:0B\r\nmaxmemory_policy:allkeys-lru\r\n"
    "allocator_frag_ratio:1.00\r\n";
static const char info_persistence[] =
    "# Persistence\r\nloading:0\r\nrdb_changes_since_last_save:42\r\n"
    "rdb_bgsave_in_progress:0\r\nrdb_last_save_time:1796549574\r\n"
    "aof_enabled:1\r\naof_rewrite_in_progress:0\r\n";

/* the fields we need, from real-looking text */
static void
test_info_parse(void **state)
{
    struct rcheck_facts f;

    (void) state;
    rcheck_facts_init(&f);
    rcheck_info_parse(info_memory, strlen(info_memory), &f);
    rcheck_info_parse(info_persistence, strlen(info_persistence), &f);
    assert_string_equal(f.info_policy, "allkeys-lru");
    assert_int_equal(f.info_aof, 1);
    assert_int_equal(f.rdb_last_save, 1796549574LL);
    assert_int_equal(f.rdb_changes, 42);
    assert_string_equal(f.policy, "");		/* INFO never fills CONFIG's fields */
    assert_int_equal(f.aof, -1);
}

/* bare LF, no final newline, a length that stops mid-line */
static void
test_info_edges(void **state)
{
    struct rcheck_facts f;
    const char *t = "maxmemory_policy:noeviction\naof_enabled:0";

    (void) state;
    rcheck_facts_init(&f);
    rcheck_info_parse(t, strlen(t), &f);
    assert_string_equal(f.info_policy, "noeviction");
    assert_int_equal(f.info_aof, 0);

    rcheck_facts_init(&f);
    rcheck_info_parse(t, strlen("maxmemory_policy:noevi"), &f);
    assert_string_equal(f.info_policy, "noevi");	/* only the bytes given */

    rcheck_facts_init(&f);
    rcheck_info_parse("", 0, &f);
    assert_string_equal(f.info_policy, "");
    assert_int_equal(f.info_aof, -1);
}

/* what is not exactly a field we know is ignored */
static void
test_info_rejects(void **state)
{
    struct rcheck_facts f;
    const char *t =
	"maxmemory_policyx:allkeys-lru\r\n"	/* longer name */
	"Maxmemory_policy:allkeys-lru\r\n"	/* case */
	"# maxmemory_policy:allkeys-lru\r\n"	/* a comment */
	"maxmemory_policy:all keys\r\n"		/* space */
	"maxmemory_policy:\r\n"			/* empty */
	"maxmemory_policy:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"	/* too long */
	"aof_enabled:2\r\naof_enabled:\r\naof_enabled:11\r\n"
	"rdb_changes_since_last_save:-1\r\n"
	"rdb_last_save_time:1234567890123456789\r\n";	/* 19 digits */

    (void) state;
    rcheck_facts_init(&f);
    rcheck_info_parse(t, strlen(t), &f);
    assert_string_equal(f.info_policy, "");
    assert_int_equal(f.info_aof, -1);
    assert_int_equal(f.rdb_changes, -1);
    assert_int_equal(f.rdb_last_save, -1);

    /* a NUL inside is a byte like another: the line simply does not match */
    rcheck_facts_init(&f);
    rcheck_info_parse("maxmemory_policy:no\0eviction\r\n", 31, &f);
    assert_string_equal(f.info_policy, "");
}

/* reply - a hand-made hiredis reply */
static redisReply *
reply(int type, const char *str)
{
    static redisReply r[4];
    static int next;
    redisReply *x = &r[next++ % 4];

    memset(x, 0, sizeof(*x));
    x->type = type;
    if (str) {
	x->str = (char *) str;
	x->len = strlen(str);
    }
    return x;
}

/* config_pair - CONFIG GET's answer: [name, value] */
static redisReply *
config_pair(const char *name, const char *value)
{
    static redisReply *el[2];
    redisReply *a = reply(REDIS_REPLY_ARRAY, NULL);

    el[0] = reply(REDIS_REPLY_STRING, name);
    el[1] = reply(REDIS_REPLY_STRING, value);
    a->elements = 2;
    a->element = el;
    return a;
}

/* the replies to the check's commands */
static void
test_feed(void **state)
{
    struct rcheck_facts f;
    redisReply empty;

    (void) state;
    rcheck_facts_init(&f);
    rcheck_feed(&f, 2, config_pair("maxmemory-policy", "volatile-lfu"));
    rcheck_feed(&f, 3, config_pair("appendonly", "no"));
    rcheck_feed(&f, 4, config_pair("save", "3600 1 300 100"));
    rcheck_feed(&f, 0, reply(REDIS_REPLY_STRING, info_memory));
    assert_string_equal(f.policy, "volatile-lfu");
    assert_int_equal(f.aof, 0);
    assert_int_equal(f.save_known, 1);
    assert_string_equal(f.save, "3600 1 300 100");
    assert_string_equal(f.info_policy, "allkeys-lru");

    rcheck_facts_init(&f);
    rcheck_feed(&f, 2, reply(REDIS_REPLY_ERROR, "NOPERM this user has no permissions"));
    rcheck_feed(&f, 3, reply(REDIS_REPLY_ERROR, "NOPERM again"));
    rcheck_feed(&f, 1, reply(REDIS_REPLY_ERROR, "ERR unknown command 'INFO'"));
    rcheck_feed(&f, 0, NULL);
    rcheck_feed(&f, 5, reply(REDIS_REPLY_STRING, info_memory));	/* no such command */
    rcheck_feed(&f, -1, reply(REDIS_REPLY_STRING, info_memory));
    assert_string_equal(f.config_err, "NOPERM this user has no permissions");	/* the first */
    assert_string_equal(f.info_err, "ERR unknown command 'INFO'");
    assert_string_equal(f.policy, "");

    /* an unknown parameter: an empty array */
    rcheck_facts_init(&f);
    memset(&empty, 0, sizeof(empty));
    empty.type = REDIS_REPLY_ARRAY;
    rcheck_feed(&f, 4, &empty);
    assert_int_equal(f.save_known, 0);
    assert_string_equal(f.config_err, "no value for save");
}

/* sequence - the commands rcheck_next() asks for, as digits */
static void
sequence(struct rcheck_facts *f, const redisReply *const *replies, char *out)
{
    int i;

    while ((i = rcheck_next(f)) >= 0) {
	*out++ = (char) ('0' + i);
	rcheck_feed(f, i, replies[i]);
    }
    *out = '\0';
}

/* what is asked: INFO always, CONFIG GET only for what INFO left unknown */
static void
test_next(void **state)
{
    static const char aof_on[] = "maxmemory_policy:noeviction\r\naof_enabled:1\r\n";
    static const char aof_off[] = "maxmemory_policy:noeviction\r\naof_enabled:0\r\n";
    static redisReply info_on, info_off, denied, empty_info;
    const redisReply *replies[RCHECK_NCMDS];
    struct rcheck_facts f;
    char seq[16];

    (void) state;
    info_on.type = info_off.type = empty_info.type = REDIS_REPLY_STRING;
    info_on.str = (char *) aof_on, info_on.len = strlen(aof_on);
    info_off.str = (char *) aof_off, info_off.len = strlen(aof_off);
    empty_info.str = (char *) "", empty_info.len = 0;
    denied.type = REDIS_REPLY_ERROR;
    denied.str = (char *) "NOPERM no", denied.len = 9;

    /* AOF on: INFO is enough, CONFIG is never asked */
    replies[0] = replies[1] = &info_on;
    replies[2] = replies[3] = replies[4] = &denied;
    rcheck_facts_init(&f);
    sequence(&f, replies, seq);
    assert_string_equal(seq, "01");

    /* AOF off: the save points from CONFIG GET save */
    replies[0] = replies[1] = &info_off;
    rcheck_facts_init(&f);
    sequence(&f, replies, seq);
    assert_string_equal(seq, "014");
    assert_string_equal(f.config_err, "NOPERM no");

    /* INFO refused: CONFIG GET asked once, not again after a refusal */
    replies[0] = replies[1] = &denied;
    rcheck_facts_init(&f);
    sequence(&f, replies, seq);
    assert_string_equal(seq, "012");

    /* INFO without the fields, CONFIG answering: everything from CONFIG */
    replies[0] = replies[1] = &empty_info;
    replies[2] = config_pair("maxmemory-policy", "noeviction");
    rcheck_facts_init(&f);
    rcheck_feed(&f, rcheck_next(&f), replies[0]);
    rcheck_feed(&f, rcheck_next(&f), replies[1]);
    assert_int_equal(rcheck_next(&f), 2);
    rcheck_feed(&f, 2, replies[2]);
    assert_int_equal(rcheck_next(&f), 3);
    rcheck_feed(&f, 3, config_pair("appendonly", "no"));
    assert_int_equal(rcheck_next(&f), 4);
    rcheck_feed(&f, 4, config_pair("save", ""));
    assert_int_equal(rcheck_next(&f), -1);
    assert_string_equal(f.policy, "noeviction");
    assert_int_equal(f.aof, 0);
    assert_int_equal(f.save_known, 1);
}

/* facts - a server as CONFIG GET describes it */
static void
facts(struct rcheck_facts *f, const char *policy, int aof, const char *save)
{
    rcheck_facts_init(f);
    if (policy)
	strcpy(f->policy, policy);
    f->aof = aof;
    if (save) {
	strcpy(f->save, save);
	f->save_known = 1;
    }
}

/* the verdicts */
static void
test_judge(void **state)
{
    struct rcheck_facts f;
    struct rcheck_verdict v;

    (void) state;
    facts(&f, "noeviction", 1, "");
    rcheck_judge(&f, 0, &v);
    assert_int_equal(v.refuse, 0);
    assert_string_equal(v.eviction, "");
    assert_string_equal(v.persistence, "");
    assert_string_equal(v.unchecked, "");
    assert_string_equal(v.summary, "maxmemory-policy noeviction, appendonly yes, save \"\"");
    f.save_known = 0;			/* AOF on: the save points were not asked */
    rcheck_judge(&f, 0, &v);
    assert_string_equal(v.summary, "maxmemory-policy noeviction, appendonly yes");
    assert_string_equal(v.unchecked, "");

    facts(&f, "noeviction", 0, "3600 1");	/* RDB only: no warning */
    rcheck_judge(&f, 0, &v);
    assert_string_equal(v.persistence, "");

    facts(&f, "noeviction", 0, "");
    rcheck_judge(&f, 0, &v);
    assert_int_equal(v.refuse, 0);
    assert_non_null(strstr(v.persistence, "no persistence"));

    facts(&f, "allkeys-lru", 1, "");
    rcheck_judge(&f, 0, &v);
    assert_int_equal(v.refuse, 1);
    assert_non_null(strstr(v.eviction, "maxmemory-policy is allkeys-lru: "));
    assert_non_null(strstr(v.eviction, "any key"));
    assert_non_null(strstr(v.eviction, "compliance data"));
    assert_non_null(strstr(v.eviction, "CONFIG SET maxmemory-policy noeviction"));
    rcheck_judge(&f, 1, &v);
    assert_int_equal(v.refuse, 0);
    assert_non_null(strstr(v.eviction, "allowed by [redis] allow_eviction"));

    facts(&f, "volatile-ttl", 1, "");
    rcheck_judge(&f, 0, &v);
    assert_int_equal(v.refuse, 1);
    assert_non_null(strstr(v.eviction, "keys that have a TTL"));
}

/* CONFIG GET refused: INFO decides, and what stays unknown is said */
static void
test_judge_fallback(void **state)
{
    struct rcheck_facts f;
    struct rcheck_verdict v;

    (void) state;
    rcheck_facts_init(&f);
    strcpy(f.config_err, "NOPERM no config");
    rcheck_info_parse(info_memory, strlen(info_memory), &f);
    assert_string_equal(f.policy, "");
    f.info_aof = 0;
    f.rdb_last_save = 5;
    f.rdb_changes = 7;
    rcheck_judge(&f, 0, &v);
    assert_int_equal(v.refuse, 1);
    assert_non_null(strstr(v.eviction, "maxmemory-policy is allkeys-lru: "));
    assert_string_equal(v.persistence, "");	/* not known: not claimed */
    assert_string_equal(v.unchecked, "RDB save points (appendonly is no) "
			"(CONFIG GET: NOPERM no config)");
    assert_string_equal(v.summary, "maxmemory-policy allkeys-lru, appendonly no, "
			"save points unknown (last RDB save at 5, 7 changes since)");

    /* CONFIG wins over INFO where both answered */
    strcpy(f.policy, "noeviction");
    rcheck_judge(&f, 0, &v);
    assert_int_equal(v.refuse, 0);

    /* nothing at all: nothing refused, everything unchecked */
    rcheck_facts_init(&f);
    strcpy(f.config_err, "NOPERM a");
    strcpy(f.info_err, "NOPERM b");
    rcheck_judge(&f, 0, &v);
    assert_int_equal(v.refuse, 0);
    assert_string_equal(v.unchecked, "maxmemory-policy, appendonly (INFO: NOPERM b; "
			"CONFIG GET: NOPERM a)");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_info_parse),
	cmocka_unit_test(test_info_edges),
	cmocka_unit_test(test_info_rejects),
	cmocka_unit_test(test_feed),
	cmocka_unit_test(test_next),
	cmocka_unit_test(test_judge),
	cmocka_unit_test(test_judge_fallback),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
