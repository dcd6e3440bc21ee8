/*
 * hsettings - the configuration in force in outpost-httpd (see hsettings.h)
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "confdiff.h"
#include "hsettings.h"
#include "verp.h"
#include "xalloc.h"

static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hsettings *current;

/* hsettings_new - a snapshot of conf: secrets, providers, machine rules */
struct hsettings *
hsettings_new(struct outpost_conf *conf, uid_t owner, char *err, size_t errlen)
{
    struct hsettings *s;

    if (conf->intake.secret_file == NULL) {
	snprintf(err, errlen, "%s: outpost-httpd needs [intake] secret_file (the token "
		 "secrets)", conf->path);
	return NULL;
    }
    s = xcalloc(1, sizeof(*s));
    s->refs = 1;
    if ((s->keys = verp_keys_load(conf->intake.secret_file, 1, owner, err, errlen)) == NULL
	|| provider_table_build(conf, &s->providers, err, errlen) < 0) {
	hsettings_unref(s);		/* conf stays the caller's */
	return NULL;
    }
    s->rules.networks = &conf->httpd.machine_networks;
    s->rules.agents = &conf->httpd.machine_user_agents;
    s->rules.delay_ms = conf->httpd.machine_delay_ms;
    s->conf = conf;
    return s;
}

/* hsettings_ref - one more user */
struct hsettings *
hsettings_ref(struct hsettings *s)
{
    __atomic_add_fetch(&s->refs, 1, __ATOMIC_ACQ_REL);
    return s;
}

/* hsettings_unref - one user less; the last frees all */
void
hsettings_unref(struct hsettings *s)
{
    if (s == NULL || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) > 0)
	return;
    verp_keys_free(s->keys);
    provider_table_free(&s->providers);
    if (s->conf)
	conf_free(s->conf);
    free(s);
}

/* hsettings_install - new requests use s */
void
hsettings_install(struct hsettings *s)
{
    struct hsettings *old;

    pthread_mutex_lock(&current_lock);
    old = current;
    current = s;
    pthread_mutex_unlock(&current_lock);
    hsettings_unref(old);
}

/* hsettings_current - a reference to the settings in force, or NULL */
struct hsettings *
hsettings_current(void)
{
    struct hsettings *s;

    pthread_mutex_lock(&current_lock);
    s = current ? hsettings_ref(current) : NULL;
    pthread_mutex_unlock(&current_lock);
    return s;
}

/* hsettings_fixed - warn of each setting read at start only that changed */
int
hsettings_fixed(const struct outpost_conf *a, const struct outpost_conf *b)
{
    struct confdiff d = CONFDIFF_INIT("outpost-httpd");
    const struct conf_httpd *h = &a->httpd, *k = &b->httpd;

    confdiff_general(&d, &a->general, &b->general);
    confdiff_str(&d, "[general] node", a->general.node, b->general.node);
    confdiff_redis(&d, &a->redis, &b->redis);
    confdiff_list(&d, "[httpd] listen", &h->listen, &k->listen);
    confdiff_list(&d, "[httpd] api_listen", &h->api_listen, &k->api_listen);
    confdiff_str(&d, "[httpd] metrics_listen", h->metrics_listen, k->metrics_listen);
    confdiff_num(&d, "[httpd] threads", h->threads, k->threads);
    confdiff_num(&d, "[httpd] max_connections", h->max_connections, k->max_connections);
    confdiff_num(&d, "[httpd] max_connections_per_ip", h->max_connections_per_ip,
		 k->max_connections_per_ip);
    confdiff_num(&d, "[httpd] request_timeout", h->request_timeout_ms, k->request_timeout_ms);
    confdiff_num(&d, "[httpd] queue_max", h->queue_max, k->queue_max);
    confdiff_str(&d, "[httpd] submit", h->submit, k->submit);
    confdiff_num(&d, "[httpd] submit_connections", h->submit_connections,
		 k->submit_connections);
    confdiff_num(&d, "[httpd] submit_timeout", h->submit_timeout_ms, k->submit_timeout_ms);
    return d.changed;
}
