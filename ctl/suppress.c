/*
 * suppress - outpostctl suppress: manage the suppression list
 *
 * SYNOPSIS
 *	outpostctl suppress add [--scope DOMAIN] [--reason R] [--expires WHEN]
 *			[--source S] [--force] TARGET...
 *	outpostctl suppress remove [--scope DOMAIN] TARGET...
 *	outpostctl suppress check [--sender SENDER] [--json] ADDRESS...
 *	outpostctl suppress list [--scope DOMAIN|global] [--reason R]
 *			[--limit N] [--json]
 *	outpostctl suppress import [--strict] [--force] [FILE]
 *	outpostctl suppress export [FILE]
 *	outpostctl suppress purge
 *	outpostctl suppress stats [--day YYYY-MM-DD] [--json]
 *
 * DESCRIPTION
 *	TARGET is an address or "@domain".  WHEN is a time (epoch seconds,
 *	YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ) or a duration from now ("30d").
 *	SENDER is the sender's domain or address; without it only global
 *	entries apply.  FILE "-" or none is standard input / output.
 *
 *	import and export stream CSV rows "address,reason,scope,time,expires,
 *	source" after a header line, in constant memory.  An import reports
 *	each invalid row as "FILE:LINE: problem" and skips it; with --strict
 *	it reads the whole file first and writes nothing if any row is bad.
 *
 * DIAGNOSTICS
 *	check exits 0 when every ADDRESS is suppressed, 1 when one is not
 *	(like grep), 2 on an error.  The other commands exit 0 on success,
 *	1 on any problem (an import that skipped rows included), 2 on a
 *	usage error.
 *
 *	--json prints one object (outpostctl(8), JSON OUTPUT): check
 *	{"sender", "addresses":[...]}, list {"entries":[...]}, stats {"day",
 *	"entry_count", "decisions":[...]}.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "conf.h"
#include "confval.h"
#include "ctl.h"
#include "jsonw.h"
#include "msg.h"
#include "redisconn.h"
#include "suppress.h"

#define MAX_REPORTED 100		/* invalid rows shown one by one */

struct sopts {
    char scope[DOMAIN_MAX];
    int scope_set;
    int reason;
    long long expires;
    char source[SUP_SOURCE_MAX + 1];
    int force, strict, json;
    long long limit;
    char sender[DOMAIN_MAX];
    char day[16];
};

struct ctx {
    struct outpost_conf *conf;
    struct rconn *rc;
    struct sup_store *store;
    struct sopts o;
    long long now;
    struct jsonw w;		/* with --json */
};

static int sup_usage(const char *sub);

const struct ctl_usage ctl_suppress_usage[] = {
    {"suppress add [--scope DOMAIN] [--reason R] [--expires WHEN] [--source S] [--force] "
     "TARGET...", "suppress each TARGET (an address or @domain)"},
    {"suppress remove [--scope DOMAIN] TARGET...", "lift each TARGET in a scope"},
    {"suppress check [--sender SENDER] [--json] ADDRESS...",
     "is each ADDRESS suppressed for mail from SENDER? (exit 1 if not)"},
    {"suppress list [--scope DOMAIN|global] [--reason R] [--limit N] [--json]",
     "the entries"},
    {"suppress import [--strict] [--force] [FILE]", "add CSV rows (standard input: - or none)"},
    {"suppress export [FILE]", "every entry as CSV"},
    {"suppress purge", "delete the expired entries"},
    {"suppress stats [--day YYYY-MM-DD] [--json]",
     "the number of entries and a day's decisions (UTC)"},
    {NULL, NULL},
};

/* sup_usage - the forms of a subcommand (or all), status 2 */
static int
sup_usage(const char *sub)
{
    return ctl_usage("suppress", sub);
}

/* json_entry - one entry as a JSON object */
static void
json_entry(struct jsonw *w, const char *key, const struct sup_entry *e)
{
    jsonw_object(w, key);
    jsonw_string(w, "target", e->target);
    jsonw_string(w, "scope", e->scope[0] ? e->scope : "global");
    jsonw_string(w, "reason", sup_reason_name(e->reason));
    jsonw_time(w, "time", e->created);
    jsonw_time(w, "expires", e->expires);
    jsonw_string(w, "source", e->source[0] ? e->source : NULL);
    jsonw_end(w);
}

/* parse_when - an absolute time or a duration from now */
static int
parse_when(const char *s, long long now, long long *t)
{
    const char *why;
    long long ms;

    if (sup_time_parse(s, strlen(s), t, &why) == 0)
	return 0;
    if (confval_duration(s, &ms, &why) == 0 && ms > 0) {
	*t = now + (ms + 999) / 1000;
	return 0;
    }
    msg_error("'%s' is neither a time nor a duration", s);
    return -1;
}

/* parse_domain_opt - normalise a domain option ("global" allowed if scope) */
static int
parse_domain_opt(const char *s, char *out, int allow_address)
{
    const char *why, *at = allow_address ? strrchr(s, '@') : NULL;

    if (at)
	s = at + 1;
    if (domain_normalize(s, strlen(s), out, DOMAIN_MAX, &why) < 0) {
	msg_error("'%s': %s", s, why);
	return -1;
    }
    return 0;
}

/* parse_opts - the options every subcommand shares; returns optind or -1 */
static int
parse_opts(struct ctx *c, int argc, char **argv)
{
    static const struct option longopts[] = {
	{"scope", required_argument, 0, 's'},
	{"reason", required_argument, 0, 'r'},
	{"expires", required_argument, 0, 'e'},
	{"source", required_argument, 0, 'S'},
	{"force", no_argument, 0, 'f'},
	{"strict", no_argument, 0, 'x'},
	{"json", no_argument, 0, 'j'},
	{"limit", required_argument, 0, 'l'},
	{"sender", required_argument, 0, 'F'},
	{"day", required_argument, 0, 'd'},
	{0, 0, 0, 0},
    };
    struct sopts *o = &c->o;
    int ch;
    long long t;
    const char *why;
    char *end;

    o->reason = SUP_MANUAL;
    optind = 0;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
	switch (ch) {
	case 's':
	    o->scope_set = 1;
	    if (strcmp(optarg, "global") == 0)
		o->scope[0] = '\0';
	    else if (parse_domain_opt(optarg, o->scope, 0) < 0)
		return -1;
	    break;
	case 'r':
	    if ((o->reason = sup_reason_code(optarg, strlen(optarg))) < 0) {
		msg_error("unknown reason '%s'", optarg);
		return -1;
	    }
	    break;
	case 'e':
	    if (parse_when(optarg, c->now, &o->expires) < 0)
		return -1;
	    break;
	case 'S':
	    if (!sup_source_valid(optarg, strlen(optarg))) {
		msg_error("source: up to %d letters, digits, '.', '_', '-'",
			  SUP_SOURCE_MAX);
		return -1;
	    }
	    snprintf(o->source, sizeof(o->source), "%s", optarg);
	    break;
	case 'f': o->force = 1; break;
	case 'x': o->strict = 1; break;
	case 'j': o->json = 1; break;
	case 'l':
	    errno = 0;
	    o->limit = strtoll(optarg, &end, 10);
	    if (end == optarg || *end || errno || o->limit < 1) {
		msg_error("--limit %s: expected a number of entries, 1 or more", optarg);
		return -1;
	    }
	    break;
	case 'F':
	    if (parse_domain_opt(optarg, o->sender, 1) < 0)
		return -1;
	    break;
	case 'd':
	    if (ctl_day_parse(optarg, o->day) == 0)
		break;
	    if (sup_time_parse(optarg, strlen(optarg), &t, &why) < 0) {
		msg_error("--day %s: %s", optarg, why);
		return -1;
	    }
	    ctl_day_today(t, o->day);
	    break;
	default:
	    return -1;
	}
    }
    return optind;
}

/* redis_failed - say why the store failed */
static int
redis_failed(struct ctx *c, const char *what)
{
    msg_error("%s: %s", what, sup_error(c->store));
    return 1;
}

/* target_arg - normalise a TARGET argument */
static int
target_arg(const char *arg, char *out)
{
    const char *why;

    if (sup_target_normalize(arg, strlen(arg), out, ADDR_MAX, &why) < 0) {
	msg_error("'%s': %s", arg, why);
	return -1;
    }
    return 0;
}

/* do_add - suppress each TARGET */
static int
do_add(struct ctx *c, int argc, char **argv)
{
    struct sup_entry e;
    int i, n, rc = 0;

    if (argc < 1)
	return sup_usage("add");
    for (i = 0; i < argc; i++) {
	memset(&e, 0, sizeof(e));
	if (target_arg(argv[i], e.target) < 0) {
	    rc = 1;
	    continue;
	}
	snprintf(e.scope, sizeof(e.scope), "%s", c->o.scope);
	e.reason = c->o.reason;
	e.created = c->now;
	e.expires = c->o.expires;
	snprintf(e.source, sizeof(e.source), "%s", c->o.source[0] ? c->o.source : "ctl");
	if ((n = sup_add(c->store, &e, c->o.force)) < 0)
	    return redis_failed(c, "add");
	if (n == 0)
	    printf("kept the permanent entry for %s (%s); --force replaces it\n",
		   e.target, e.scope[0] ? e.scope : "global");
	else
	    printf("suppressed %s (%s, %s)\n", e.target, sup_reason_name(e.reason),
		   e.scope[0] ? e.scope : "global");
    }
    return rc;
}

/* do_remove - lift each TARGET in the given scope */
static int
do_remove(struct ctx *c, int argc, char **argv)
{
    char target[ADDR_MAX];
    int i, n, rc = 0;

    if (argc < 1)
	return sup_usage("remove");
    for (i = 0; i < argc; i++) {
	if (target_arg(argv[i], target) < 0) {
	    rc = 1;
	    continue;
	}
	if ((n = sup_remove(c->store, target, c->o.scope)) < 0)
	    return redis_failed(c, "remove");
	if (n == 0) {
	    msg_error("%s is not suppressed in scope %s", target,
		      c->o.scope[0] ? c->o.scope : "global");
	    rc = 1;
	} else {
	    printf("removed %s (%s)\n", target, c->o.scope[0] ? c->o.scope : "global");
	}
    }
    return rc;
}

/* do_check - is each ADDRESS suppressed for the sender? */
static int
do_check(struct ctx *c, int argc, char **argv)
{
    struct sup_entry hit;
    char addr[ADDR_MAX], t[32];
    const char *why;
    int i, n, rc = 0;

    if (argc < 1)
	return sup_usage("check");
    if (c->o.json) {
	jsonw_init(&c->w, stdout);
	jsonw_object(&c->w, NULL);
	jsonw_string(&c->w, "sender", c->o.sender[0] ? c->o.sender : NULL);
	jsonw_array(&c->w, "addresses");
    }
    for (i = 0; i < argc; i++) {
	if (addr_normalize(argv[i], strlen(argv[i]), addr, sizeof(addr), &why) < 0) {
	    msg_error("'%s': %s", argv[i], why);
	    return 2;
	}
	if ((n = sup_check(c->store, addr, c->o.sender, c->now, NULL, &hit)) < 0) {
	    redis_failed(c, "check");
	    return 2;
	}
	if (n == 0)
	    rc = 1;
	if (c->o.json) {
	    jsonw_object(&c->w, NULL);
	    jsonw_string(&c->w, "address", addr);
	    jsonw_bool(&c->w, "suppressed", n > 0);
	    if (n)
		json_entry(&c->w, "entry", &hit);
	    else
		jsonw_null(&c->w, "entry");
	    jsonw_end(&c->w);
	} else if (n == 0) {
	    printf("%s: not suppressed%s%s\n", addr, c->o.sender[0] ? " for " : "",
		   c->o.sender);
	} else {
	    sup_time_format(hit.created, t, sizeof(t));
	    printf("%s: suppressed by %s (%s, scope %s) since %s", addr, hit.target,
		   sup_reason_name(hit.reason), hit.scope[0] ? hit.scope : "global", t);
	    if (hit.expires) {
		sup_time_format(hit.expires, t, sizeof(t));
		printf(" until %s", t);
	    }
	    printf("%s%s\n", hit.source[0] ? ", source " : "", hit.source);
	}
    }
    if (c->o.json) {
	jsonw_end(&c->w);
	jsonw_end(&c->w);
    }
    return rc;
}

struct list_state {
    struct ctx *c;
    long long shown;
    int filter_reason;
    FILE *fp;
};

/* list_one - print one entry that passes the filters */
static int
list_one(const struct sup_entry *e, void *arg)
{
    struct list_state *ls = arg;
    const struct sopts *o = &ls->c->o;
    char t[32], x[32] = "-";

    if (o->scope_set && strcmp(o->scope, e->scope) != 0)
	return 0;
    if (ls->filter_reason && e->reason != o->reason)
	return 0;
    if (o->json) {
	json_entry(&ls->c->w, NULL, e);
    } else {
	sup_time_format(e->created, t, sizeof(t));
	if (e->expires)
	    sup_time_format(e->expires, x, sizeof(x));
	printf("%s\t%s\t%s\t%s\t%s\t%s\n", e->target, e->scope[0] ? e->scope : "global",
	       sup_reason_name(e->reason), t, x, e->source[0] ? e->source : "-");
    }
    ls->shown++;
    return o->limit > 0 && ls->shown >= o->limit ? 1 : 0;
}

/* do_list - show entries */
static int
do_list(struct ctx *c, int argc, char **argv, int filter_reason)
{
    struct list_state ls = {c, 0, filter_reason, stdout};

    (void) argv;
    if (argc != 0)
	return sup_usage("list");
    if (c->o.json) {
	jsonw_init(&c->w, stdout);
	jsonw_object(&c->w, NULL);
	jsonw_array(&c->w, "entries");
    }
    if (sup_walk(c->store, 0, list_one, &ls) < 0)
	return redis_failed(c, "list");
    if (c->o.json) {
	jsonw_end(&c->w);
	jsonw_end(&c->w);
    }
    return 0;
}

/* export_one - one CSV row */
static int
export_one(const struct sup_entry *e, void *arg)
{
    struct list_state *ls = arg;
    char row[2 * SUP_CSV_LINE_MAX];
    size_t n = sup_csv_format(e, row, sizeof(row));

    if (n < sizeof(row))
	fwrite(row, 1, n, ls->fp);
    ls->shown++;
    return ferror(ls->fp) ? 1 : 0;
}

/* do_export - every entry as CSV */
static int
do_export(struct ctx *c, int argc, char **argv)
{
    struct list_state ls = {c, 0, 0, stdout};
    static char buf[1 << 16];
    int rc;

    if (argc > 1)
	return sup_usage("export");
    if (argc == 1 && strcmp(argv[0], "-") != 0
	&& (ls.fp = fopen(argv[0], "w")) == NULL) {
	msg_error("%s: %s", argv[0], strerror(errno));
	return 1;
    }
    setvbuf(ls.fp, buf, _IOFBF, sizeof(buf));
    fputs("address,reason,scope,time,expires,source\n", ls.fp);
    rc = sup_walk(c->store, 0, export_one, &ls);
    if (fflush(ls.fp) != 0 || rc > 0) {
	msg_error("export: write error: %s", strerror(errno));
	return 1;
    }
    if (ls.fp != stdout)
	fclose(ls.fp);
    if (rc < 0)
	return redis_failed(c, "export (incomplete)");
    msg_info("exported %lld entries", ls.shown);
    return 0;
}

/* do_purge - delete expired entries */
static int
count_one(const struct sup_entry *e, void *arg)
{
    (void) e;
    (*(long long *) arg)++;
    return 0;
}

static int
do_purge(struct ctx *c, int argc, char **argv)
{
    long long before = sup_count(c->store), kept = 0;

    (void) argv;
    if (argc != 0)
	return sup_usage("purge");
    if (sup_walk(c->store, c->now, count_one, &kept) < 0)
	return redis_failed(c, "purge");
    printf("purged %lld expired entries, %lld left\n", before >= kept ? before - kept : 0, kept);
    return 0;
}

/* print_stat - one counter line */
static void
print_stat(const char *field, long long n, void *arg)
{
    struct jsonw *w = arg;
    char sender[DOMAIN_MAX + 4] = "", reason[32] = "", action[32] = "";

    if (sscanf(field, "%257s %31s %31s", sender, reason, action) != 3)
	return;
    if (w) {
	jsonw_object(w, NULL);
	jsonw_string(w, "sender", sender);
	jsonw_string(w, "reason", reason);
	jsonw_string(w, "action", action);
	jsonw_int(w, "count", n);
	jsonw_end(w);
    } else {
	printf("%-32s %-12s %-8s %lld\n", sender, reason, action, n);
    }
}

/* do_stats - decisions counted on a day, and the number of entries */
static int
do_stats(struct ctx *c, int argc, char **argv)
{
    long long n;
    char day[CTL_DAY_SHOW];

    (void) argv;
    if (argc != 0)
	return sup_usage("stats");
    if (c->o.day[0] == '\0')
	ctl_day_today(c->now, c->o.day);
    ctl_day_show(c->o.day, day);
    if ((n = sup_count(c->store)) < 0)
	return redis_failed(c, "stats");
    if (c->o.json) {
	jsonw_init(&c->w, stdout);
	jsonw_object(&c->w, NULL);
	jsonw_string(&c->w, "day", day);
	jsonw_int(&c->w, "entry_count", n);
	jsonw_array(&c->w, "decisions");
    } else {
	printf("entries: %lld\ndecisions on %s (sender, reason, action, count):\n", n, day);
    }
    if (sup_stats(c->store, c->o.day, print_stat, c->o.json ? &c->w : NULL) < 0)
	return redis_failed(c, "stats");
    if (c->o.json) {
	jsonw_end(&c->w);
	jsonw_end(&c->w);
    }
    return 0;
}

/* cmd_suppress - outpostctl suppress SUBCOMMAND ... */
int
cmd_suppress(const char *path, int argc, char **argv)
{
    struct ctx c;
    const char *sub;
    int first, rc, filter_reason;

    if (argc < 2)
	return sup_usage(NULL);
    sub = argv[1];
    memset(&c, 0, sizeof(c));
    c.now = (long long) time(NULL);
    filter_reason = 0;
    for (first = 2; first < argc; first++)	/* did the user give --reason? */
	if (strncmp(argv[first], "--reason", 8) == 0)
	    filter_reason = 1;
    if ((first = parse_opts(&c, argc - 1, argv + 1)) < 0)
	return sup_usage(sub);
    argc -= first + 1;
    argv += first + 1;

    c.conf = ctl_load_conf(path);
    c.rc = rconn_new(&c.conf->redis);
    c.store = sup_store_new(c.rc, c.conf->redis.prefix);
    if (strcmp(sub, "add") == 0)
	rc = do_add(&c, argc, argv);
    else if (strcmp(sub, "remove") == 0)
	rc = do_remove(&c, argc, argv);
    else if (strcmp(sub, "check") == 0)
	rc = do_check(&c, argc, argv);
    else if (strcmp(sub, "list") == 0)
	rc = do_list(&c, argc, argv, filter_reason);
    else if (strcmp(sub, "import") == 0)
	rc = argc > 1 ? sup_usage("import")
	    : suppress_import(c.store, argc > 0 ? argv[0] : "-", c.o.strict,
			      c.o.force, c.now);
    else if (strcmp(sub, "export") == 0)
	rc = do_export(&c, argc, argv);
    else if (strcmp(sub, "purge") == 0)
	rc = do_purge(&c, argc, argv);
    else if (strcmp(sub, "stats") == 0)
	rc = do_stats(&c, argc, argv);
    else
	rc = sup_usage(NULL);
    sup_store_free(c.store);
    rconn_free(c.rc);
    conf_free(c.conf);
    return rc;
}
