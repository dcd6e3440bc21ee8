/*
 * test_rcluster - the cluster client's pure parts: the slot of a key (CRC16
 * and hash tags as the cluster specification says), MOVED and ASK texts, and
 * the slot map read from CLUSTER SHARDS and CLUSTER SLOTS replies, where
 * redisconn finds the keys of a command to route it, and the replies of a
 * slot being migrated (MOVED, ASK, TRYAGAIN) with the waits after TRYAGAIN
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rcluster.h"
#include "redisconn.h"

/* slot - rcluster_keyslot of a C string */
static unsigned
slot(const char *key)
{
    return rcluster_keyslot(key, strlen(key));
}

/* the specification's vector and slots Redis itself reports (CLUSTER KEYSLOT) */
static void
test_keyslot(void **state)
{
    (void) state;
    /* CRC16 of "123456789" is 0x31C3: 12739 once taken modulo 16384 */
    assert_int_equal(slot("123456789"), 0x31C3 & 0x3FFF);
    assert_int_equal(slot("foo"), 12182);
    assert_int_equal(slot("bar"), 5061);
    assert_int_equal(slot(""), 0);
    assert_int_equal(rcluster_keyslot("a\0b", 3), 8383);	/* binary safe */
}

/* hash tags: the first '{', the first '}' after it, not empty */
static void
test_hashtags(void **state)
{
    (void) state;
    assert_int_equal(slot("{user1000}.following"), slot("user1000"));
    assert_int_equal(slot("{user1000}.followers"), slot("{user1000}.following"));
    assert_int_equal(slot("foo{bar}{zap}"), slot("bar"));		/* first tag only */
    assert_int_equal(slot("foo{{bar}}zap"), slot("{bar"));		/* '{' inside counts */
    assert_int_equal(slot("foo{{bar}}zap"), 4015);
    assert_int_equal(slot("foo{}{bar}"), 8363);			/* empty tag: all */
    assert_int_equal(slot("{bar"), 4015);			/* no '}': whole key */
    assert_int_equal(slot("bar}{x"), 14765);			/* '}' before '{' */
    assert_int_equal(slot("outpost:{x}:a"), 16287);
    assert_int_equal(slot("outpost:{x}:b"), slot("x"));
    /* the tag is found within the length given, not past it */
    assert_int_equal(rcluster_keyslot("ab{cd}", 4), 4619);
}

/* redirection texts as Redis sends them, and broken ones */
static void
test_redirect(void **state)
{
    char host[64];
    int s = -1, port = -1;
    const char *t;

    (void) state;
    t = "MOVED 3999 127.0.0.1:6381";
    assert_int_equal(rcluster_parse_redirect(t, strlen(t), &s, host, sizeof(host), &port),
		     RCLUSTER_MOVED);
    assert_int_equal(s, 3999);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 6381);
    t = "ASK 16383 ::1:7002";
    assert_int_equal(rcluster_parse_redirect(t, strlen(t), &s, host, sizeof(host), &port),
		     RCLUSTER_ASK);
    assert_int_equal(s, 16383);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 7002);
    t = "MOVED 0 :6379";			/* the sender's own host */
    assert_int_equal(rcluster_parse_redirect(t, strlen(t), &s, host, sizeof(host), &port),
		     RCLUSTER_MOVED);
    assert_string_equal(host, "");
    t = "ASK 7 [fe80::1]:7000";
    assert_int_equal(rcluster_parse_redirect(t, strlen(t), &s, host, sizeof(host), &port),
		     RCLUSTER_ASK);
    assert_string_equal(host, "fe80::1");
    /* not redirections at all */
    t = "ERR wrong number of arguments";
    assert_int_equal(rcluster_parse_redirect(t, strlen(t), &s, host, sizeof(host), &port), 0);
    t = "MOVEDX 1 a:1";
    assert_int_equal(rcluster_parse_redirect(t, strlen(t), &s, host, sizeof(host), &port), 0);
}

/* garbled redirections are refused, never half read */
static void
test_redirect_garbled(void **state)
{
    static const char *const bad[] = {
	"MOVED ", "MOVED 3999", "MOVED 3999 ", "MOVED 16384 h:1", "MOVED 99999999999 h:1",
	"MOVED -1 h:1", "MOVED 1  h:1", "MOVED 1 h", "MOVED 1 h:", "MOVED 1 h:0",
	"MOVED 1 h:65536", "MOVED 1 h:123456", "MOVED 1 h:12x", "MOVED 1 h:1 extra",
	"MOVED 1 h\x01x:1", "MOVED 1 [::1:7000", "MOVED 1 h]:1", "ASK x h:1",
	"MOVED 1 h\xff:1", "MOVED 001234567 h:1",
	NULL,
    };
    char host[8];
    int i, s, port;
    const char *t;

    (void) state;
    for (i = 0; bad[i]; i++)
	assert_int_equal(rcluster_parse_redirect(bad[i], strlen(bad[i]), &s, host,
						 sizeof(host), &port), -1);
    t = "MOVED 1 a-host-too-long-for-8:1";
    assert_int_equal(rcluster_parse_redirect(t, strlen(t), &s, host, sizeof(host), &port), -1);
    /* only the length given is read */
    t = "MOVED 1 h:7000";
    assert_int_equal(rcluster_parse_redirect(t, strlen(t) - 4, &s, host, sizeof(host), &port),
		     -1);
}

/*
 * emit - a reply written as ["str" 12 [..]] in RESP, appended to out;
 * returns the number of values written
 */
static int
emit(const char **p, char *out, size_t outlen)
{
    int n = 0;

    for (;;) {
	while (**p == ' ')
	    (*p)++;
	if (**p == '\0' || **p == ']')
	    return n;
	if (**p == '[') {
	    char *sub = calloc(1, outlen);
	    int k;

	    assert_non_null(sub);
	    (*p)++;
	    k = emit(p, sub, outlen);
	    assert_int_equal(**p, ']');
	    (*p)++;
	    snprintf(out + strlen(out), outlen - strlen(out), "*%d\r\n%s", k, sub);
	    free(sub);
	} else if (**p == '"') {
	    const char *e = strchr(*p + 1, '"');

	    snprintf(out + strlen(out), outlen - strlen(out), "$%d\r\n%.*s\r\n",
		     (int) (e - *p - 1), (int) (e - *p - 1), *p + 1);
	    *p = e + 1;
	} else {
	    size_t l = strcspn(*p, " ]");

	    snprintf(out + strlen(out), outlen - strlen(out), ":%.*s\r\n", (int) l, *p);
	    *p += l;
	}
	n++;
    }
}

/* reply - a hiredis reply from the notation of emit() */
static redisReply *
reply(const char *spec)
{
    char buf[8192] = "";
    redisReader *rd = redisReaderCreate();
    void *r = NULL;

    assert_int_equal(emit(&spec, buf, sizeof(buf)), 1);
    redisReaderFeed(rd, buf, strlen(buf));
    assert_int_equal(redisReaderGetReply(rd, &r), REDIS_OK);
    assert_non_null(r);
    redisReaderFree(rd);
    return r;
}

#define NODE(port, ip, endpoint, role, health) \
    "[\"id\" \"x\" \"port\" " port " \"ip\" \"" ip "\" \"endpoint\" \"" endpoint \
    "\" \"role\" \"" role "\" \"replication-offset\" 5 \"health\" \"" health "\"]"

/* CLUSTER SHARDS of three shards: one master failed, its replica took over */
static void
test_map_shards(void **state)
{
    struct rcluster_map *m = calloc(1, sizeof(*m));
    redisReply *r;

    (void) state;
    r = reply("[[\"slots\" [0 5460] \"nodes\" [" NODE("7001", "127.0.0.1", "127.0.0.1",
							"master", "online")
	      NODE("7004", "127.0.0.1", "127.0.0.1", "replica", "online") "]]"
	      "[\"slots\" [5461 10922] \"nodes\" [" NODE("7002", "127.0.0.1", "127.0.0.1",
							"master", "failed")
	      NODE("7005", "127.0.0.2", "?", "master", "online") "]]"
	      "[\"slots\" [10923 12000 12001 16383] \"nodes\" ["
	      NODE("7003", "127.0.0.1", "", "master", "online") "]]"
	      "[\"slots\" [] \"nodes\" [" NODE("7009", "127.0.0.9", "x", "master", "online")
	      "]]]");
    assert_int_equal(rcluster_map_parse(r, 1, "seed", m), RCLUSTER_SLOTS);
    assert_int_equal(m->n, 3);
    assert_int_equal(m->node[m->owner[0] - 1].port, 7001);
    assert_int_equal(m->node[m->owner[5460] - 1].port, 7001);
    assert_int_equal(m->node[m->owner[5461] - 1].port, 7005);	/* the online master */
    assert_string_equal(m->node[m->owner[5461] - 1].host, "127.0.0.2");	/* endpoint "?" */
    assert_int_equal(m->node[m->owner[16383] - 1].port, 7003);
    assert_string_equal(m->node[m->owner[16383] - 1].host, "127.0.0.1");
    freeReplyObject(r);

    /* a shard without an online master leaves its slots unserved */
    r = reply("[[\"slots\" [0 99] \"nodes\" [" NODE("7002", "h", "h", "master", "failed")
	      "]] [\"slots\" [100 199] \"nodes\" [" NODE("7003", "h", "h", "master", "online")
	      "]]]");
    assert_int_equal(rcluster_map_parse(r, 1, "seed", m), 100);
    assert_int_equal(m->owner[0], 0);
    assert_int_not_equal(m->owner[100], 0);
    assert_int_equal(m->owner[200], 0);
    freeReplyObject(r);
    free(m);
}

/* CLUSTER SLOTS (before 7.0): an empty host is the node asked */
static void
test_map_slots(void **state)
{
    struct rcluster_map *m = calloc(1, sizeof(*m));
    redisReply *r;

    (void) state;
    r = reply("[[0 8191 [\"10.0.0.1\" 7001 \"id1\"] [\"10.0.0.4\" 7004 \"id4\"]]"
	      " [8192 16383 [\"\" 7002 \"id2\"]]]");
    assert_int_equal(rcluster_map_parse(r, 0, "10.9.9.9", m), RCLUSTER_SLOTS);
    assert_string_equal(m->node[m->owner[0] - 1].host, "10.0.0.1");
    assert_string_equal(m->node[m->owner[9000] - 1].host, "10.9.9.9");
    assert_int_equal(m->node[m->owner[9000] - 1].port, 7002);
    freeReplyObject(r);
    free(m);
}

/* hostile maps: overlaps, ranges out of bounds, wrong types */
static void
test_map_hostile(void **state)
{
    static const char *const bad_slots[] = {
	"[[0 100 [\"h\" 1]] [50 60 [\"h\" 2]]]",	/* overlap */
	"[[0 16384 [\"h\" 1]]]", "[[-1 5 [\"h\" 1]]]", "[[9 5 [\"h\" 1]]]",
	"[[0 5 [\"h\" 0]]]", "[[0 5 [\"h\" 70000]]]", "[[0 5 \"h\"]]", "[[0 5]]",
	"[[\"0\" 5 [\"h\" 1]]]", "[[0 5 [\"h\" \"1\"]]]", "[5]", "[[0 16383 [\"h\" 1]] "
	    "[0 16383 [\"h\" 1]]]",
	NULL,
    };
    static const char *const bad_shards[] = {
	"[[\"slots\" [0] \"nodes\" []]]", "[[\"slots\" [0 5] ]]", "[[\"nodes\" []]]",
	"[[\"slots\" [0 5 5 9] \"nodes\" [" NODE("1", "h", "h", "master", "online") "]]]",
	"[[\"slots\" [0 \"5\"] \"nodes\" [" NODE("1", "h", "h", "master", "online") "]]]",
	"[\"x\"]",
	NULL,
    };
    struct rcluster_map *m = calloc(1, sizeof(*m));
    redisReply *r;
    int i;

    (void) state;
    for (i = 0; bad_slots[i]; i++) {
	r = reply(bad_slots[i]);
	assert_int_equal(rcluster_map_parse(r, 0, "seed", m), -1);
	freeReplyObject(r);
    }
    for (i = 0; bad_shards[i]; i++) {
	r = reply(bad_shards[i]);
	assert_int_equal(rcluster_map_parse(r, 1, "seed", m), -1);
	freeReplyObject(r);
    }
    r = reply("\"not an array\"");
    assert_int_equal(rcluster_map_parse(r, 1, "seed", m), -1);
    freeReplyObject(r);
    assert_int_equal(rcluster_map_parse(NULL, 1, "seed", m), -1);
    /* a null address (Redis 7: endpoint unknown) is no address either */
    {
	redisReader *rd = redisReaderCreate();
	void *v = NULL;
	const char *t = "*1\r\n*3\r\n:0\r\n:5\r\n*2\r\n$-1\r\n:7001\r\n";

	redisReaderFeed(rd, t, strlen(t));
	assert_int_equal(redisReaderGetReply(rd, &v), REDIS_OK);
	assert_int_equal(rcluster_map_parse(v, 0, "seed", m), 0);
	freeReplyObject(v);
	redisReaderFree(rd);
    }
    /* a node that does not know its address ("?") serves nothing */
    r = reply("[[0 5 [\"?\" 7001]]]");
    assert_int_equal(rcluster_map_parse(r, 0, "seed", m), 0);
    freeReplyObject(r);
    free(m);
}

/* keys_of - rconn_command_keys() of a NULL-terminated list, as "count first step" */
static const char *
keys_of(const char *arg, ...)
{
    static char out[32];
    const char *argv[16];
    int argc = 0, first, step, n;
    va_list ap;

    va_start(ap, arg);
    for (; arg != NULL && argc < 16; arg = va_arg(ap, const char *))
	argv[argc++] = arg;
    va_end(ap);
    n = rconn_command_keys(argc, argv, NULL, &first, &step);
    snprintf(out, sizeof(out), "%d %d %d", n, first, step);
    return out;
}

/* the keys of the commands Outpost sends, as a cluster routes them */
static void
test_command_keys(void **state)
{
    (void) state;
    assert_string_equal(keys_of("GET", "k", NULL), "1 1 1");
    assert_string_equal(keys_of("hget", "k", "f", NULL), "1 1 1");	/* any case */
    assert_string_equal(keys_of("HINCRBY", "k", "f", "1", NULL), "1 1 1");
    assert_string_equal(keys_of("MGET", "a", "b", "c", NULL), "3 1 1");
    assert_string_equal(keys_of("DEL", "a", "b", NULL), "2 1 1");
    assert_string_equal(keys_of("EXISTS", "a", NULL), "1 1 1");
    assert_string_equal(keys_of("MSET", "a", "1", "b", "2", NULL), "2 1 2");
    assert_string_equal(keys_of("RENAME", "a", "b", NULL), "2 1 1");
    assert_string_equal(keys_of("OBJECT", "ENCODING", "k", NULL), "1 2 1");
    assert_string_equal(keys_of("XINFO", "GROUPS", "s", NULL), "1 2 1");
    assert_string_equal(keys_of("XGROUP", "SETID", "s", "g", "0", NULL), "1 2 1");
    assert_string_equal(keys_of("EVALSHA", "sha", "2", "k1", "k2", "arg", NULL), "2 3 1");
    assert_string_equal(keys_of("EVAL", "src", "0", "arg", NULL), "0 0 1");
    /* no key: any master answers */
    assert_string_equal(keys_of("PING", NULL), "0 0 1");
    assert_string_equal(keys_of("INFO", "memory", NULL), "0 0 1");
    assert_string_equal(keys_of("CONFIG", "GET", "maxmemory-policy", NULL), "0 0 1");
    assert_string_equal(keys_of("SCAN", "0", "MATCH", "x*", NULL), "0 0 1");
    assert_string_equal(keys_of("TIME", NULL), "0 0 1");
    /* a command without its key names none, and says so */
    assert_string_equal(keys_of("GET", NULL), "0 0 1");
    assert_string_equal(keys_of("OBJECT", "ENCODING", NULL), "0 0 1");
}

/* error - an error reply of text t (on the stack: not to be freed) */
static redisReply
error(const char *t)
{
    redisReply r;

    memset(&r, 0, sizeof(r));
    r.type = REDIS_REPLY_ERROR;
    r.str = (char *) t;
    r.len = strlen(t);
    return r;
}

/* the replies of a slot being migrated, told from any other */
static void
test_reply_kind(void **state)
{
    redisReply r;

    (void) state;
    r = error("MOVED 3999 127.0.0.1:6381");
    assert_int_equal(rcluster_reply_kind(&r), RCLUSTER_MOVED);
    r = error("ASK 3999 127.0.0.1:6381");
    assert_int_equal(rcluster_reply_kind(&r), RCLUSTER_ASK);
    r = error("TRYAGAIN Multiple keys request during rehashing of slot");
    assert_int_equal(rcluster_reply_kind(&r), RCLUSTER_TRYAGAIN);
    r = error("TRYAGAIN");
    assert_int_equal(rcluster_reply_kind(&r), RCLUSTER_TRYAGAIN);
    r = error("TRYAGAINX");
    assert_int_equal(rcluster_reply_kind(&r), 0);
    r = error("TRYAGAI");
    assert_int_equal(rcluster_reply_kind(&r), 0);
    r = error("CLUSTERDOWN The cluster is down");
    assert_int_equal(rcluster_reply_kind(&r), 0);
    r = error("ERR TRYAGAIN");
    assert_int_equal(rcluster_reply_kind(&r), 0);
    r = error("MOVED");
    assert_int_equal(rcluster_reply_kind(&r), 0);
    r = error("");
    assert_int_equal(rcluster_reply_kind(&r), 0);
    /* the same texts as a status or string are data, not redirections */
    r = error("TRYAGAIN");
    r.type = REDIS_REPLY_STATUS;
    assert_int_equal(rcluster_reply_kind(&r), 0);
    r = error("ASK 1 h:1");
    r.type = REDIS_REPLY_STRING;
    assert_int_equal(rcluster_reply_kind(&r), 0);
    assert_int_equal(rcluster_reply_kind(NULL), 0);
}

/* the waits after TRYAGAIN: 5 ms doubling to 320 ms, within the budget */
static void
test_tryagain_wait(void **state)
{
    long long want[] = {5, 10, 20, 40, 80, 160, 320, 320, 320}, elapsed = 0, w;
    int n;

    (void) state;
    for (n = 0; n < (int) (sizeof(want) / sizeof(want[0])); n++)
	assert_int_equal(rcluster_tryagain_wait(n, 0, 100000), want[n]);
    assert_int_equal(rcluster_tryagain_wait(40, 0, 100000), 320);
    assert_int_equal(rcluster_tryagain_wait(1000000, 0, 100000), 320);
    assert_int_equal(rcluster_tryagain_wait(-1, 0, 100000), 320);
    /* the last wait is shortened to end at the budget; then none */
    assert_int_equal(rcluster_tryagain_wait(6, 400, 500), 100);
    assert_int_equal(rcluster_tryagain_wait(0, 499, 500), 1);
    assert_int_equal(rcluster_tryagain_wait(0, 500, 500), -1);
    assert_int_equal(rcluster_tryagain_wait(3, 900, 500), -1);
    assert_int_equal(rcluster_tryagain_wait(0, -5, 500), 5);
    /* waits alone add up to the budget at most, whatever it is */
    for (n = 0; (w = rcluster_tryagain_wait(n, elapsed, 500)) > 0; n++)
	elapsed += w;
    assert_int_equal(elapsed, 500);
    assert_int_equal(n, 7);		/* 5+10+20+40+80+160 = 315, then 185 */
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_keyslot),
	cmocka_unit_test(test_hashtags),
	cmocka_unit_test(test_redirect),
	cmocka_unit_test(test_redirect_garbled),
	cmocka_unit_test(test_map_shards),
	cmocka_unit_test(test_map_slots),
	cmocka_unit_test(test_map_hostile),
	cmocka_unit_test(test_command_keys),
	cmocka_unit_test(test_reply_kind),
	cmocka_unit_test(test_tryagain_wait),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
