/*
 * settings - the configuration in force in outpost-milter (see settings.h)
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>

#include "conf.h"
#include "dkimsign.h"
#include "intake.h"
#include "listunsub.h"
#include "tracking.h"
#include "provider.h"
#include "settings.h"
#include "xalloc.h"

static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static struct settings *current;

/* settings_new - a snapshot of conf: providers, keys, intake secrets */
struct settings *
settings_new(struct outpost_conf *conf, uid_t owner, char *err, size_t errlen)
{
    struct settings *s = xcalloc(1, sizeof(*s));

    err[0] = '\0';
    s->refs = 1;
    if (provider_table_build(conf, &s->providers, err, errlen) < 0)
	goto fail;
    if (conf->dkim.key_table
	&& (s->signer = dkimsign_new(&conf->dkim, owner, err, errlen)) == NULL)
	goto fail;
    if ((s->intake = intake_setup_new(conf, owner, err, errlen)) == NULL && err[0])
	goto fail;
    if ((s->listunsub = listunsub_new(conf, owner, err, errlen)) == NULL && err[0])
	goto fail;
    if ((s->tracking = tracking_new(conf, owner, err, errlen)) == NULL && err[0])
	goto fail;
    s->conf = conf;
    return s;
fail:
    settings_unref(s);			/* conf stays the caller's */
    return NULL;
}

/* settings_ref - one more user */
struct settings *
settings_ref(struct settings *s)
{
    __atomic_add_fetch(&s->refs, 1, __ATOMIC_ACQ_REL);
    return s;
}

/* settings_unref - one user less; the last frees all */
void
settings_unref(struct settings *s)
{
    if (s == NULL || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) > 0)
	return;
    dkimsign_unref(s->signer);
    intake_setup_unref(s->intake);
    listunsub_free(s->listunsub);
    tracking_free(s->tracking);
    provider_table_free(&s->providers);
    if (s->conf)
	conf_free(s->conf);
    free(s);
}

/* settings_install - new connections and messages use s */
void
settings_install(struct settings *s)
{
    struct settings *old;

    pthread_mutex_lock(&current_lock);
    old = current;
    current = s;
    pthread_mutex_unlock(&current_lock);
    settings_unref(old);
}

/* settings_current - a reference to the settings in force, or NULL */
struct settings *
settings_current(void)
{
    struct settings *s;

    pthread_mutex_lock(&current_lock);
    s = current ? settings_ref(current) : NULL;
    pthread_mutex_unlock(&current_lock);
    return s;
}
