/*
 * confdiff - the settings a reload cannot change (see confdiff.h)
 */
#include "config.h"

#include <string.h>

#include "confdiff.h"
#include "msg.h"

/* changed - say it once per key */
static void
changed(struct confdiff *d, const char *key)
{
    d->changed++;
    msg_warn("reload: %s changed: restart %s to apply it (the running value is kept)",
	     key, d->program);
}

/* confdiff_str - a string setting (NULL: not set) */
void
confdiff_str(struct confdiff *d, const char *key, const char *running, const char *next)
{
    if ((running == NULL) != (next == NULL) || (running && strcmp(running, next) != 0))
	changed(d, key);
}

/* confdiff_num - a number, a duration, a size */
void
confdiff_num(struct confdiff *d, const char *key, long long running, long long next)
{
    if (running != next)
	changed(d, key);
}

/* confdiff_list - a list, in its order */
void
confdiff_list(struct confdiff *d, const char *key, const struct conf_strlist *running,
	      const struct conf_strlist *next)
{
    size_t i;

    if (running->n != next->n) {
	changed(d, key);
	return;
    }
    for (i = 0; i < running->n; i++)
	if (strcmp(running->v[i], next->v[i]) != 0) {
	    changed(d, key);
	    return;
	}
}

/* confdiff_general - the [general] keys every daemon reads at start only */
void
confdiff_general(struct confdiff *d, const struct conf_general *a,
		 const struct conf_general *b)
{
    confdiff_str(d, "[general] user", a->user, b->user);
    confdiff_num(d, "[general] syslog_facility", a->syslog_facility, b->syslog_facility);
}

/* confdiff_redis - the whole [redis] section: the connections are made at start */
void
confdiff_redis(struct confdiff *d, const struct conf_redis *a, const struct conf_redis *b)
{
    confdiff_str(d, "[redis] server", a->server, b->server);
    confdiff_str(d, "[redis] username", a->username, b->username);
    confdiff_str(d, "[redis] password", a->password, b->password);
    confdiff_num(d, "[redis] db", a->db, b->db);
    confdiff_str(d, "[redis] prefix", a->prefix, b->prefix);
    confdiff_num(d, "[redis] connect_timeout", a->connect_timeout_ms, b->connect_timeout_ms);
    confdiff_num(d, "[redis] command_timeout", a->command_timeout_ms, b->command_timeout_ms);
    confdiff_num(d, "[redis] reconnect_min", a->reconnect_min_ms, b->reconnect_min_ms);
    confdiff_num(d, "[redis] reconnect_max", a->reconnect_max_ms, b->reconnect_max_ms);
    confdiff_list(d, "[redis] sentinels", &a->sentinels, &b->sentinels);
    confdiff_list(d, "[redis] cluster", &a->cluster, &b->cluster);
    confdiff_str(d, "[redis] sentinel_master", a->sentinel_master, b->sentinel_master);
    confdiff_str(d, "[redis] sentinel_password", a->sentinel_password, b->sentinel_password);
    confdiff_num(d, "[redis] allow_eviction", a->allow_eviction, b->allow_eviction);
}
