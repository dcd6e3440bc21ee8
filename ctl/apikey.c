/*
 * apikey - outpostctl apikey: the keys of the platform API
 *
 * SYNOPSIS
 *	outpostctl apikey create TENANT [--scopes LIST] [--domains LIST]
 *	outpostctl apikey list [TENANT] [--json]
 *	outpostctl apikey revoke ID
 *
 * DESCRIPTION
 *	create draws a new key for a [tenant NAME] (apikey(3)) and prints it
 *	once on standard output, alone on its line; Redis keeps only its
 *	SHA-256.  --scopes limits it to some of send, suppress, stats,
 *	events (default: all); --domains to some of the tenant's sender
 *	domains (default: all it has now).  A domain the tenant does not
 *	own is refused.  The key's ID and what it may do go to standard
 *	error.
 *
 *	list shows each key (of one tenant, or all): ID, tenant, scopes,
 *	domains, creation time; never the key.  --json prints
 *	{"keys":[...]} (outpostctl(8), JSON OUTPUT).  revoke deletes a key
 *	by its ID: the API refuses it from then on (401).
 *
 * DIAGNOSTICS
 *	Exit status 0; 1 when Redis fails, the tenant is unknown or the ID
 *	names no key; 2 for bad arguments.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "apikey.h"
#include "conf.h"
#include "ctl.h"
#include "jsonw.h"
#include "msg.h"
#include "redisconn.h"
#include "suppress.h"
#include "xalloc.h"

const struct ctl_usage ctl_apikey_usage[] = {
    {"apikey create TENANT [--scopes send,suppress,stats,events] [--domains D1,...]",
     "make an API key for a tenant; it is shown once"},
    {"apikey list [TENANT] [--json]", "the API keys, never their secret"},
    {"apikey revoke ID", "refuse a key from now on"},
    {NULL, NULL},
};

struct list_state {
    const char *tenant;		/* NULL: all */
    int n;
    struct jsonw *json;		/* NULL: text */
};

/* domains_of - the key's domains: the asked ones, each the tenant's */
static int
domains_of(const struct conf_tenant *t, const char *asked, char *out, size_t size)
{
    char dom[DOMAIN_MAX];
    size_t i, n = 0, len;
    const char *p;

    out[0] = '\0';
    if (asked == NULL) {
	for (i = 0; i < t->domains.n; i++)
	    n += (size_t) snprintf(out + n, n < size ? size - n : 0, "%s%s", n ? "," : "",
				   t->domains.v[i]);
	return n < size ? 0 : -1;
    }
    for (p = asked; *p; p += len + (p[len] == ',')) {
	len = strcspn(p, ",");
	if (len == 0 || len >= sizeof(dom)) {
	    msg_error("apikey create: --domains: an empty or overlong name");
	    return -1;
	}
	memcpy(dom, p, len);
	dom[len] = '\0';
	if (!conf_strlist_has(&t->domains, dom)) {
	    msg_error("apikey create: %s is not a domain of tenant %s", dom, t->named.name);
	    return -1;
	}
	n += (size_t) snprintf(out + n, n < size ? size - n : 0, "%s%s", n ? "," : "", dom);
	if (n >= size) {
	    msg_error("apikey create: --domains: too long");
	    return -1;
	}
    }
    return 0;
}

/* create - outpostctl apikey create */
static int
create(const struct outpost_conf *conf, struct rconn *rc, int argc, char **argv)
{
    const struct conf_tenant *t;
    const char *scopes = NULL, *domains = NULL;
    struct apikey_rec *k = xcalloc(1, sizeof(*k));
    char key[APIKEY_MAX], sc[64];
    int i, rv = 1;

    for (i = 3; i + 1 < argc; i += 2) {
	if (strcmp(argv[i], "--scopes") == 0)
	    scopes = argv[i + 1];
	else if (strcmp(argv[i], "--domains") == 0)
	    domains = argv[i + 1];
	else
	    break;
    }
    if (i != argc) {
	free(k);
	return ctl_usage("apikey", "create");
    }
    if ((t = conf_tenant_find(conf, argv[2])) == NULL) {
	msg_error("apikey create: no [tenant %s] in the configuration", argv[2]);
	goto out;
    }
    k->scopes = APIKEY_ALL;
    if (scopes && apikey_scopes_parse(scopes, &k->scopes) < 0) {
	msg_error("apikey create: --scopes: a list of send, suppress, stats, events");
	rv = 2;
	goto out;
    }
    if (domains_of(t, domains, k->domains, sizeof(k->domains)) < 0)
	goto out;
    snprintf(k->tenant, sizeof(k->tenant), "%s", t->named.name);
    k->created = (long long) time(NULL);
    apikey_make(key, k->id);
    apikey_hash(key, strlen(key), k->hash);
    if (apikey_put(rc, conf->redis.prefix, k) < 0) {
	msg_error("apikey create: %s", rconn_error(rc));
	goto out;
    }
    apikey_scopes_format(k->scopes, sc, sizeof(sc));
    printf("%s\n", key);
    fflush(stdout);
    msg_info("key %s for tenant %s: scopes %s, domains %s (shown once: keep it now)",
	     k->id, k->tenant, sc, k->domains);
    rv = 0;
out:
    memset(key, 0, sizeof(key));
    free(k);
    return rv;
}

/* show - one key of "apikey list" */
static int
show(const struct apikey_rec *k, void *arg)
{
    struct list_state *ls = arg;
    char sc[64], when[32];

    if (ls->tenant && strcmp(ls->tenant, k->tenant) != 0)
	return 0;
    apikey_scopes_format(k->scopes, sc, sizeof(sc));
    if (ls->json) {
	jsonw_object(ls->json, NULL);
	jsonw_string(ls->json, "id", k->id);
	jsonw_string(ls->json, "tenant", k->tenant);
	jsonw_string(ls->json, "scopes", sc);
	jsonw_string(ls->json, "domains", k->domains);
	jsonw_time(ls->json, "created", k->created);
	jsonw_end(ls->json);
	return 0;
    }
    sup_time_format(k->created, when, sizeof(when));
    if (ls->n++ == 0)
	printf("%-16s  %-16s %-28s %-20s  %s\n", "id", "tenant", "scopes", "created",
	       "domains");
    printf("%-16s  %-16s %-28s %-20s  %s\n", k->id, k->tenant, sc, when, k->domains);
    return 0;
}

/* cmd_apikey - outpostctl apikey ... */
int
cmd_apikey(const char *path, int argc, char **argv)
{
    struct outpost_conf *conf;
    struct rconn *rc;
    struct list_state ls = {NULL, 0, NULL};
    struct jsonw w;
    int rv = 0, json, r;

    if (argc < 2)
	return ctl_usage("apikey", NULL);
    json = argc > 2 && strcmp(argv[argc - 1], "--json") == 0;
    if (!((strcmp(argv[1], "create") == 0 && argc >= 3 && argv[2][0] != '-')
	  || (strcmp(argv[1], "list") == 0 && argc - json <= 3
	      && (argc - json == 2 || argv[2][0] != '-'))
	  || (strcmp(argv[1], "revoke") == 0 && argc == 3)))
	return ctl_usage("apikey", argv[1]);
    conf = ctl_load_conf(path);
    rc = rconn_new(&conf->redis);
    if (strcmp(argv[1], "create") == 0) {
	rv = create(conf, rc, argc, argv);
    } else if (strcmp(argv[1], "list") == 0) {
	ls.tenant = argc - json == 3 ? argv[2] : NULL;
	if (json) {
	    jsonw_init(&w, stdout);
	    jsonw_object(&w, NULL);
	    jsonw_array(&w, "keys");
	    ls.json = &w;
	}
	if (apikey_list(rc, conf->redis.prefix, show, &ls) < 0) {
	    msg_error("apikey list: %s", rconn_error(rc));
	    rv = 1;
	} else if (json) {
	    jsonw_end(&w);
	    jsonw_end(&w);
	} else if (ls.n == 0) {
	    printf("no API key\n");
	}
    } else if ((r = apikey_revoke(rc, conf->redis.prefix, argv[2])) < 0) {
	msg_error("apikey revoke: %s", rconn_error(rc));
	rv = 1;
    } else if (r == 0) {
	msg_error("apikey revoke: no key %s", argv[2]);
	rv = 1;
    } else {
	printf("revoked %s\n", argv[2]);
    }
    rconn_free(rc);
    conf_free(conf);
    return rv;
}
