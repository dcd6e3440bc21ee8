/*
 * events - outpostctl events: a tenant's event stream
 *
 * SYNOPSIS
 *	outpostctl events TENANT [--after ID] [--limit N] [--json]
 *
 * DESCRIPTION
 *	Prints the events of TENANT's stream (events(3), P{ev:TENANT}:s)
 *	after the id ID (from the oldest without it), at most N (default
 *	100, at most 1000): one line each, the id, the time (UTC), the type
 *	and the other fields as name=value; then "next: ID", the id to give
 *	to --after to read on.  --json prints the body GET /v1/events
 *	answers: {"events":[{"id":...,"type":...,"time":MS,...}],
 *	"next":"ID"}.
 *
 * DIAGNOSTICS
 *	Exit status 0; 1 when Redis fails; 2 for bad arguments, an unknown
 *	tenant or an ID that is not a stream id.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "ctl.h"
#include "events.h"
#include "jsonw.h"
#include "msg.h"
#include "redisconn.h"

const struct ctl_usage ctl_events_usage[] = {
    {"events TENANT [--after ID] [--limit N] [--json]", "a tenant's events, oldest first"},
    {NULL, NULL},
};

struct text_state {
    char last[64];
};

/* print_text - one event as a line */
static void
print_text(const char *id, size_t n, const char *const *kv, const size_t *kvlen, void *arg)
{
    struct text_state *st = arg;
    char when[32] = "-", num[32];
    size_t i, j;

    snprintf(st->last, sizeof(st->last), "%s", id);
    for (i = 0; i < n; i++) {
	if (kvlen[2 * i] == 4 && memcmp(kv[2 * i], "time", 4) == 0
	    && kvlen[2 * i + 1] < sizeof(num)) {
	    time_t t;
	    struct tm tm;

	    memcpy(num, kv[2 * i + 1], kvlen[2 * i + 1]);
	    num[kvlen[2 * i + 1]] = '\0';
	    t = (time_t) (strtoll(num, NULL, 10) / 1000);
	    if (gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
    }
    printf("%s %s", id, when);
    for (i = 0; i < n; i++) {
	if (kvlen[2 * i] == 4 && memcmp(kv[2 * i], "time", 4) == 0)
	    continue;
	printf(" %.*s=", (int) kvlen[2 * i], kv[2 * i]);
	/* one line per event: control bytes of a remote reply are shown as '?' */
	for (j = 0; j < kvlen[2 * i + 1]; j++) {
	    unsigned char c = (unsigned char) kv[2 * i + 1][j];

	    putchar(c < 0x20 || c == 0x7f ? '?' : c);
	}
    }
    putchar('\n');
}

/* cmd_events - outpostctl events */
int
cmd_events(const char *path, int argc, char **argv)
{
    struct outpost_conf *conf;
    struct rconn *rc;
    struct text_state st;
    struct jsonw w;
    const char *tenant, *after = NULL;
    long limit = 100;
    int i, json = 0, n;
    char *end;

    if (argc < 2 || argv[1][0] == '-')
	return ctl_usage("events", NULL);
    tenant = argv[1];
    for (i = 2; i < argc; i++) {
	if (strcmp(argv[i], "--json") == 0) {
	    json = 1;
	} else if (strcmp(argv[i], "--after") == 0 && i + 1 < argc) {
	    after = argv[++i];
	} else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
	    limit = strtol(argv[++i], &end, 10);
	    if (*end || limit < 1 || limit > EVENTS_READ_MAX) {
		msg_error("events: --limit %s: expected 1 to %d", argv[i], EVENTS_READ_MAX);
		return 2;
	    }
	} else {
	    return ctl_usage("events", NULL);
	}
    }
    if (after && !events_id_valid(after)) {
	msg_error("events: --after %s: not an event id (MS-SEQ)", after);
	return 2;
    }
    conf = ctl_load_conf(path);
    if (conf_tenant_find(conf, tenant) == NULL) {
	msg_error("events: %s: no [tenant %s] in %s", tenant, tenant, conf->path);
	conf_free(conf);
	return 2;
    }
    rc = rconn_new(&conf->redis);
    if (json) {
	jsonw_init(&w, stdout);
	n = events_read(rc, conf->redis.prefix, tenant, after, limit, &w);
    } else {
	snprintf(st.last, sizeof(st.last), "%s", after ? after : "0-0");
	n = events_scan(rc, conf->redis.prefix, tenant, after, limit, print_text, &st);
	if (n >= 0)
	    printf("next: %s\n", st.last);
    }
    rconn_free(rc);
    conf_free(conf);
    return n == -2 ? 2 : n < 0 ? 1 : 0;
}
