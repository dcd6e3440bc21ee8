/*
 * cluster - outpostctl check-config --cluster: do the relay nodes agree?
 *
 * Each node's milter publishes fingerprints of what must be the same on
 * every node (nodeinfo(3)).  This reads every entry and prints the fields
 * whose values differ, or that some nodes lack, with each node's value,
 * and the nodes whose entry was not refreshed for NODEINFO_STALE seconds
 * or has expired.  Exit 0 when the nodes agree, 1 otherwise (or when no
 * node has published), 2 when Redis cannot be read.  With json, the same
 * as one JSON document (outpostctl(8), JSON OUTPUT): the rows "nodes",
 * the "differences" with each node's value, and "agree".
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "ctl.h"
#include "jsonw.h"
#include "msg.h"
#include "nodeinfo.h"
#include "redisconn.h"
#include "xalloc.h"

#define CLUSTER_MAX_NODES 1000

/* one node's entry: its fields as Redis holds them */
struct node {
    char *name;
    long long updated;		/* the set's score */
    redisReply *fields;		/* HGETALL: name, value, ... ; NULL: expired */
};

static const char *field_of(const struct node *nd, const char *name);
static int cmp_str(const void *a, const void *b);
static int compare(struct node *nodes, size_t n, struct jsonw *w);
static int is_stale(const struct node *nd, long long now);

/* field_of - a node's value of a field, or NULL */
static const char *
field_of(const struct node *nd, const char *name)
{
    size_t i;

    if (nd->fields == NULL)
	return NULL;
    for (i = 0; i + 1 < nd->fields->elements; i += 2)
	if (strcmp(nd->fields->element[i]->str, name) == 0)
	    return nd->fields->element[i + 1]->str;
    return NULL;
}

/* cmp_str - for qsort of field names */
static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * compare - print each field the nodes disagree on, as text or, with w, as
 * the elements of the open "differences" array; returns how many
 */
static int
compare(struct node *nodes, size_t n, struct jsonw *w)
{
    char **names = NULL;
    size_t nn = 0, cap = 0, i, j, k;
    int differ = 0;

    for (i = 0; i < n; i++) {
	if (nodes[i].fields == NULL)
	    continue;
	for (j = 0; j + 1 < nodes[i].fields->elements; j += 2) {
	    const char *f = nodes[i].fields->element[j]->str;

	    if (strcmp(f, "updated") == 0)
		continue;
	    for (k = 0; k < nn && strcmp(names[k], f) != 0; k++)
		/* void */ ;
	    if (k < nn)
		continue;
	    if (nn == cap) {
		cap = cap ? 2 * cap : 32;
		names = xreallocarray(names, cap, sizeof(*names));
	    }
	    names[nn++] = (char *) f;
	}
    }
    if (nn > 1)
	qsort(names, nn, sizeof(*names), cmp_str);
    for (k = 0; k < nn; k++) {
	const char *first = NULL, *v;
	int same = 1, seen = 0;

	for (i = 0; i < n; i++) {
	    if (nodes[i].fields == NULL)
		continue;
	    v = field_of(&nodes[i], names[k]);
	    if (!seen++)
		first = v;
	    else if ((v == NULL) != (first == NULL) || (v && strcmp(v, first) != 0))
		same = 0;
	}
	if (same)
	    continue;
	differ++;
	if (w) {
	    jsonw_object(w, NULL);
	    jsonw_string(w, "field", names[k]);
	    jsonw_array(w, "values");
	} else
	    printf("differs: %s\n", names[k]);
	for (i = 0; i < n; i++) {
	    if (nodes[i].fields == NULL)
		continue;
	    v = field_of(&nodes[i], names[k]);
	    if (w) {
		jsonw_object(w, NULL);
		jsonw_string(w, "node", nodes[i].name);
		jsonw_string(w, "value", v);
		jsonw_end(w);
	    } else
		printf("  %s: %s\n", nodes[i].name, v ? v : "(none)");
	}
	if (w) {
	    jsonw_end(w);
	    jsonw_end(w);
	}
    }
    free(names);
    return differ;
}

/* is_stale - the node's entry expired, or was not refreshed for too long */
static int
is_stale(const struct node *nd, long long now)
{
    return nd->fields == NULL || now - nd->updated > NODEINFO_STALE;
}

/* ctl_check_cluster - compare every node's entry */
int
ctl_check_cluster(const struct outpost_conf *conf, int json)
{
    struct jsonw jw, *w = json ? &jw : NULL;
    struct rconn *rc = rconn_new(&conf->redis);
    const char *prefix = conf->redis.prefix;
    struct node *nodes = NULL;
    redisReply *r;
    char *set, *key, lim[32];
    long long now = (long long) time(NULL), age;
    size_t n = 0, i;
    int stale = 0, differ, status;

    set = xmalloc(strlen(prefix) + 32);
    sprintf(set, "%s{cluster}:nodes", prefix);
    snprintf(lim, sizeof(lim), "%d", CLUSTER_MAX_NODES - 1);
    r = rconn_commandv(rc, "ZRANGE", set, "0", lim, "WITHSCORES", NULL);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
	msg_error("redis: %s",
		  r ? (r->str ? r->str : "unexpected reply") : rconn_error(rc));
	if (r)
	    freeReplyObject(r);
	free(set);
	rconn_free(rc);
	return 2;
    }
    nodes = xcalloc(r->elements / 2 + 1, sizeof(*nodes));
    for (i = 0; i + 1 < r->elements; i += 2, n++) {
	nodes[n].name = xstrdup(r->element[i]->str);
	nodes[n].updated = strtoll(r->element[i + 1]->str, NULL, 10);
    }
    freeReplyObject(r);
    for (i = 0; i < n; i++) {
	key = xmalloc(strlen(prefix) + strlen(nodes[i].name) + 32);
	sprintf(key, "%s{cluster}:node:%s", prefix, nodes[i].name);
	r = rconn_commandv(rc, "HGETALL", key, NULL);
	free(key);
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements > 0) {
	    nodes[i].fields = r;
	} else if (r && r->type != REDIS_REPLY_ERROR) {
	    freeReplyObject(r);		/* expired: the node is stale */
	} else {
	    /* a refused read says nothing of the node: not taken for expired */
	    msg_error("redis: %s", r ? r->str : rconn_error(rc));
	    if (r)
		freeReplyObject(r);
	    status = 2;
	    goto done;
	}
    }
    for (i = 0; i < n; i++)
	stale += is_stale(&nodes[i], now);
    if (w) {
	jsonw_init(w, stdout);
	jsonw_object(w, NULL);
	jsonw_array(w, "nodes");
	for (i = 0; i < n; i++) {
	    jsonw_object(w, NULL);
	    jsonw_string(w, "node", nodes[i].name);
	    jsonw_string(w, "version", field_of(&nodes[i], "version"));
	    jsonw_time(w, "updated", nodes[i].updated);
	    jsonw_int(w, "age_seconds", now - nodes[i].updated);
	    jsonw_bool(w, "expired", nodes[i].fields == NULL);
	    jsonw_bool(w, "stale", is_stale(&nodes[i], now));
	    jsonw_end(w);
	}
	jsonw_end(w);
	jsonw_array(w, "differences");
	differ = compare(nodes, n, w);
	jsonw_end(w);
	jsonw_bool(w, "agree", n > 0 && differ == 0 && stale == 0);
	jsonw_end(w);
	status = n > 0 && differ == 0 && stale == 0 ? 0 : 1;
	goto done;
    }
    printf("cluster: %zu node%s\n", n, n == 1 ? "" : "s");
    for (i = 0; i < n; i++) {
	const char *v = field_of(&nodes[i], "version");

	age = now - nodes[i].updated;
	printf("  %s: %s, updated %llds ago%s\n", nodes[i].name, v ? v : "-", age,
	       nodes[i].fields == NULL ? " (entry expired)"
	       : age > NODEINFO_STALE ? " (stale)" : "");
    }
    differ = compare(nodes, n, NULL);
    for (i = 0; i < n; i++)
	if (is_stale(&nodes[i], now))
	    printf("stale: %s: not refreshed for %llds (every %ds while its milter runs)\n",
		   nodes[i].name, now - nodes[i].updated, NODEINFO_REFRESH);
    if (n == 0)
	printf("no node has published its fingerprints (does outpost-milter run?)\n");
    else if (differ == 0 && stale == 0)
	printf("cluster: every node agrees\n");
    else
	printf("cluster: %d difference%s, %d stale node%s\n", differ, differ == 1 ? "" : "s",
	       stale, stale == 1 ? "" : "s");
    status = n > 0 && differ == 0 && stale == 0 ? 0 : 1;
done:
    for (i = 0; i < n; i++) {
	free(nodes[i].name);
	if (nodes[i].fields)
	    freeReplyObject(nodes[i].fields);
    }
    free(nodes);
    free(set);
    rconn_free(rc);
    return status;
}
