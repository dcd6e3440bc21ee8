/*
 * webhooks - outpostctl webhooks: the tenants' webhook dispatch
 *
 * SYNOPSIS
 *	outpostctl webhooks status [--json]
 *	outpostctl webhooks replay TENANT --dead [--since ID]
 *	outpostctl webhooks replay TENANT --since ID
 *
 * DESCRIPTION
 *	status shows, per tenant with a webhook_url: the node whose
 *	outpost-webhookd posts it (holds its lease), the URL, the lag (events
 *	outpost-webhookd has not had acknowledged: read and pending, and not
 *	yet read), the dead-letter count, the last error and when, and the
 *	last success.  --json prints {"tenants":[...]} (outpostctl(8)).
 *
 *	replay --dead moves the tenant's dead-lettered events (from ID on,
 *	with --since) back to the end of its event stream, each with a new
 *	ID and the field "replayed" holding the old one, so that they are
 *	posted again.  replay --since ID without --dead posts again every
 *	event of the stream after ID: it sets the consumer group's last
 *	delivered ID (XGROUP SETID) back to ID.
 *
 * DIAGNOSTICS
 *	Exit status 0; 1 when Redis fails; 2 for bad arguments or an unknown
 *	tenant.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "ctl.h"
#include "evkeys.h"
#include "jsonw.h"
#include "msg.h"
#include "redisconn.h"
#include "suppress.h"

const struct ctl_usage ctl_webhooks_usage[] = {
    {"webhooks status [--json]", "each tenant's webhook: lag, dead letters, last error"},
    {"webhooks replay TENANT [--dead] [--since ID]",
     "post dead-lettered events again, or the stream's events after ID"},
    {NULL, NULL},
};

#define REPLAY_CHUNK "100"

/*
 * KEYS[1] the stream, KEYS[2] the dead-letter stream; ARGV[1] the first ID,
 * ARGV[2] how many at most.  Moves dead entries back to the stream's end;
 * returns how many it moved (0: none left).  An event replayed before
 * keeps its field replayed, the ID it was first written with, and only
 * that one.
 */
static const char replay_lua[] =
    "local e = redis.call('XRANGE', KEYS[2], ARGV[1], '+', 'COUNT', ARGV[2])\n"
    "for _, x in ipairs(e) do\n"
    "  local f = {'XADD', KEYS[1], 'MAXLEN', '~', '" EVKEYS_STREAM_MAXLEN "', '*'}\n"
    "  local v, again = x[2], false\n"
    "  for i = 1, #v - 1, 2 do again = again or v[i] == 'replayed' end\n"
    "  for i = 1, #v - 1, 2 do\n"
    "    if v[i] == 'id' then\n"
    "      if not again then f[#f + 1] = 'replayed'; f[#f + 1] = v[i + 1] end\n"
    "    elseif v[i] ~= 'error' then f[#f + 1] = v[i]; f[#f + 1] = v[i + 1] end\n"
    "  end\n"
    "  redis.call(unpack(f))\n"
    "  redis.call('XDEL', KEYS[2], x[1])\n"
    "end\n"
    "return #e\n";

struct status {
    const char *tenant, *url;
    long long pending, unread, dead, error_at, ok_at;
    char error[512];
    char node[256];			/* whose outpost-webhookd posts it; "" none */
};

/* group_info - pending and unread of the group "webhook"; -1 when unknown */
static int
group_info(struct rconn *rc, const char *stream, struct status *st)
{
    redisReply *r = rconn_commandv(rc, "XINFO", "GROUPS", stream, NULL);
    size_t i, j;

    st->pending = st->unread = -1;
    if (r == NULL)
	return -1;
    if (r->type == REDIS_REPLY_ERROR && strstr(r->str, "no such key")) {
	st->pending = st->unread = 0;	/* no stream yet: nothing to post */
	freeReplyObject(r);
	return 0;
    }
    if (ctl_refused(rc, r, "XINFO GROUPS", stream))
	return -2;
    for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
	const redisReply *g = r->element[i];
	long long pending = -1, unread = -1;
	int ours = 0;

	for (j = 0; g->type == REDIS_REPLY_ARRAY && j + 1 < g->elements; j += 2) {
	    const redisReply *k = g->element[j], *v = g->element[j + 1];

	    if (k->type != REDIS_REPLY_STRING)
		continue;
	    if (strcmp(k->str, "name") == 0 && v->type == REDIS_REPLY_STRING)
		ours = strcmp(v->str, EVKEYS_GROUP) == 0;
	    else if (strcmp(k->str, "pending") == 0 && v->type == REDIS_REPLY_INTEGER)
		pending = v->integer;
	    else if (strcmp(k->str, "lag") == 0 && v->type == REDIS_REPLY_INTEGER)
		unread = v->integer;
	}
	if (ours) {
	    st->pending = pending;
	    st->unread = unread;
	}
    }
    freeReplyObject(r);
    if (st->pending < 0) {		/* no group yet: every entry is unread */
	r = rconn_commandv(rc, "XLEN", stream, NULL);
	if (r == NULL)
	    return -1;
	if (ctl_refused(rc, r, "XLEN", stream))
	    return -2;
	st->pending = 0;
	st->unread = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
	freeReplyObject(r);
    }
    return 0;
}

/* read_status - one tenant's state; -1: Redis failed, -2: it refused (said) */
static int
read_status(struct rconn *rc, const char *prefix, const struct conf_tenant *t,
	    struct status *st)
{
    char stream[EVKEYS_MAX], dead[EVKEYS_MAX], state[EVKEYS_MAX], lease[EVKEYS_MAX];
    redisReply *r;
    size_t i;
    int rv;

    memset(st, 0, sizeof(*st));
    st->tenant = t->named.name;
    st->url = t->webhook_url;
    evkeys_stream(stream, sizeof(stream), prefix, t->named.name);
    evkeys_dead(dead, sizeof(dead), prefix, t->named.name);
    evkeys_state(state, sizeof(state), prefix, t->named.name);
    evkeys_lease(lease, sizeof(lease), prefix, t->named.name);
    if ((r = rconn_commandv(rc, "GET", lease, NULL)) == NULL)
	return -1;
    if (ctl_refused(rc, r, "GET", lease))
	return -2;
    if (r->type == REDIS_REPLY_STRING)
	snprintf(st->node, sizeof(st->node), "%s", r->str);
    freeReplyObject(r);
    if ((rv = group_info(rc, stream, st)) < 0)
	return rv;
    if ((r = rconn_commandv(rc, "XLEN", dead, NULL)) == NULL)
	return -1;
    if (ctl_refused(rc, r, "XLEN", dead))
	return -2;
    st->dead = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
    freeReplyObject(r);
    if ((r = rconn_commandv(rc, "HGETALL", state, NULL)) == NULL)
	return -1;
    if (ctl_refused(rc, r, "HGETALL", state))
	return -2;
    for (i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
	const char *k = r->element[i]->str, *v = r->element[i + 1]->str;

	if (k == NULL || v == NULL)
	    continue;
	if (strcmp(k, "error") == 0)
	    snprintf(st->error, sizeof(st->error), "%s", v);
	else if (strcmp(k, "error_at") == 0)
	    st->error_at = strtoll(v, NULL, 10) / 1000;
	else if (strcmp(k, "ok_at") == 0)
	    st->ok_at = strtoll(v, NULL, 10) / 1000;
    }
    freeReplyObject(r);
    return 0;
}

/* show - one row of status */
static void
show(const struct status *st, struct jsonw *w, int first)
{
    long long lag = st->pending >= 0 && st->unread >= 0 ? st->pending + st->unread : -1;
    char ok[32] = "-", err[32] = "-";

    if (w) {
	jsonw_object(w, NULL);
	jsonw_string(w, "tenant", st->tenant);
	jsonw_string(w, "url", st->url);
	jsonw_string(w, "node", st->node[0] ? st->node : NULL);
	if (lag >= 0)
	    jsonw_int(w, "lag", lag);
	else
	    jsonw_null(w, "lag");
	jsonw_int(w, "pending", st->pending);
	jsonw_int(w, "dead", st->dead);
	jsonw_string(w, "last_error", st->error[0] ? st->error : NULL);
	jsonw_time(w, "last_error_at", st->error_at);
	jsonw_time(w, "last_ok_at", st->ok_at);
	jsonw_end(w);
	return;
    }
    if (st->ok_at > 0)
	sup_time_format(st->ok_at, ok, sizeof(ok));
    if (st->error_at > 0)
	sup_time_format(st->error_at, err, sizeof(err));
    if (first)
	printf("%-16s %-12s %8s %6s %-21s %-21s %s\n", "tenant", "node", "lag", "dead",
	       "last ok", "last error", "url / error");
    printf("%-16s %-12s %8lld %6lld %-21s %-21s %s\n", st->tenant,
	   st->node[0] ? st->node : "-", lag, st->dead, ok, err, st->url);
    if (st->error[0])
	printf("%-16s %.200s\n", "", st->error);
}

/* webhooks_status - outpostctl webhooks status [--json] */
static int
webhooks_status(const struct outpost_conf *conf, struct rconn *rc, int json)
{
    struct status st;
    struct jsonw w;
    size_t i;
    int n = 0, rv;

    if (json) {
	jsonw_init(&w, stdout);
	jsonw_object(&w, NULL);
	jsonw_array(&w, "tenants");
    }
    for (i = 0; i < conf->tenants.n; i++) {
	const struct conf_tenant *t = CONF_VEC_AT(&conf->tenants, i, struct conf_tenant);

	if (t->webhook_url == NULL)
	    continue;
	if ((rv = read_status(rc, conf->redis.prefix, t, &st)) < 0) {
	    if (rv == -1)
		msg_error("webhooks: %s", rconn_error(rc));
	    return 1;
	}
	show(&st, json ? &w : NULL, n++ == 0);
    }
    if (json) {
	jsonw_end(&w);
	jsonw_end(&w);
    } else if (n == 0) {
	printf("no [tenant] has a webhook_url\n");
    }
    return 0;
}

/* replay_dead - move dead letters back to the stream; -1: Redis failed */
static long long
replay_dead(struct rconn *rc, const char *stream, const char *dead, const char *since)
{
    struct rscript s;
    long long moved = 0;

    rscript_init(&s, replay_lua);
    for (;;) {
	const char *argv[] = {stream, dead, since, REPLAY_CHUNK};
	redisReply *r = rconn_eval(rc, &s, 2, 4, argv, NULL);

	if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
	    if (r && r->type == REDIS_REPLY_ERROR)
		msg_error("webhooks replay: %s", r->str);
	    if (r)
		freeReplyObject(r);
	    return -1;
	}
	moved += r->integer;
	if (r->integer == 0) {
	    freeReplyObject(r);
	    return moved;
	}
	freeReplyObject(r);
    }
}

/* webhooks_replay - outpostctl webhooks replay TENANT ... */
static int
webhooks_replay(const struct outpost_conf *conf, struct rconn *rc, const char *tenant,
		int dead_letters, const char *since)
{
    const struct conf_tenant *t = conf_tenant_find(conf, tenant);
    char stream[EVKEYS_MAX], dead[EVKEYS_MAX];
    redisReply *r;
    long long n;

    if (t == NULL) {
	msg_error("webhooks replay: no [tenant %s]", tenant);
	return 2;
    }
    evkeys_stream(stream, sizeof(stream), conf->redis.prefix, tenant);
    evkeys_dead(dead, sizeof(dead), conf->redis.prefix, tenant);
    if (dead_letters) {
	if ((n = replay_dead(rc, stream, dead, since ? since : "-")) < 0)
	    return 1;
	printf("%lld dead-lettered event%s of %s queued again\n", n, n == 1 ? "" : "s",
	       tenant);
	return 0;
    }
    r = rconn_commandv(rc, "XGROUP", "SETID", stream, EVKEYS_GROUP, since, NULL);
    if (r == NULL)
	return 1;
    if (r->type == REDIS_REPLY_ERROR) {
	msg_error("webhooks replay: %s: %s", tenant, r->str);
	freeReplyObject(r);
	return 2;
    }
    freeReplyObject(r);
    printf("the events of %s after %s will be posted again\n", tenant, since);
    return 0;
}

/* cmd_webhooks - outpostctl webhooks ... */
int
cmd_webhooks(const char *path, int argc, char **argv)
{
    struct outpost_conf *conf;
    struct rconn *rc;
    const char *since = NULL;
    int i, dead = 0, rv;

    if (argc < 2)
	return ctl_usage("webhooks", NULL);
    if (strcmp(argv[1], "status") == 0) {
	if (!(argc == 2 || (argc == 3 && strcmp(argv[2], "--json") == 0)))
	    return ctl_usage("webhooks", argv[1]);
    } else if (strcmp(argv[1], "replay") == 0 && argc >= 4) {
	for (i = 3; i < argc; i++) {
	    if (strcmp(argv[i], "--dead") == 0)
		dead = 1;
	    else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc)
		since = argv[++i];
	    else
		return ctl_usage("webhooks", argv[1]);
	}
	if (!dead && since == NULL)
	    return ctl_usage("webhooks", argv[1]);
    } else {
	return ctl_usage("webhooks", argc > 1 ? argv[1] : NULL);
    }
    conf = ctl_load_conf(path);
    rc = rconn_new(&conf->redis);
    if (strcmp(argv[1], "status") == 0) {
	rv = webhooks_status(conf, rc, argc == 3);	/* says why itself */
    } else if ((rv = webhooks_replay(conf, rc, argv[2], dead, since)) == 1) {
	msg_error("webhooks: %s", rconn_error(rc));
    }
    rconn_free(rc);
    conf_free(conf);
    return rv;
}
