/*
 * listunsub - the List-Unsubscribe header fields of one message (see listunsub.h)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "listunsub.h"
#include "verp.h"
#include "webtoken.h"
#include "xalloc.h"

struct listunsub {
    char *public_url;			/* no trailing '/' (conf.c checks) */
    struct conf_strlist senders;	/* SASL users and sender domains */
    struct verp_keys *keys;		/* [intake] secret_file */
};


/* listunsub_new - what the fields need; NULL: off, or err says why not */
struct listunsub *
listunsub_new(const struct outpost_conf *conf, uid_t owner, char *err, size_t errlen)
{
    const struct conf_strlist *s = &conf->milter.list_unsubscribe_senders;
    struct listunsub *lu;
    size_t i;

    err[0] = '\0';
    if (s->n == 0)
	return NULL;
    if (conf->httpd.public_url == NULL || conf->intake.secret_file == NULL) {
	snprintf(err, errlen, "%s: [milter] list_unsubscribe_senders needs [httpd] public_url "
		 "and [intake] secret_file", conf->path);
	return NULL;
    }
    lu = xcalloc(1, sizeof(*lu));
    if ((lu->keys = verp_keys_load(conf->intake.secret_file, 1, owner, err, errlen)) == NULL) {
	listunsub_free(lu);
	return NULL;
    }
    lu->public_url = xstrdup(conf->httpd.public_url);
    for (i = 0; i < s->n; i++)
	conf_strlist_add(&lu->senders, s->v[i], strlen(s->v[i]));
    return lu;
}

/* listunsub_free - forget it all; secrets are wiped by verp_keys_free() */
void
listunsub_free(struct listunsub *lu)
{
    if (lu == NULL)
	return;
    verp_keys_free(lu->keys);
    conf_strlist_free(&lu->senders);
    free(lu->public_url);
    free(lu);
}

/* listunsub_make - the two fields of one message, or why none */
int
listunsub_make(const struct listunsub *lu, const struct listunsub_msg *m,
	       struct listunsub_hdrs *out)
{
    struct webtoken_in in;
    char tok[WEBTOKEN_MAX + 1];
    const char *sp = m->lead_space ? " " : "";
    int n;

    if (lu == NULL || !(conf_strlist_has(&lu->senders, m->auth_user)
			|| conf_strlist_has(&lu->senders, m->sender_domain)))
	return LISTUNSUB_NOT_OPTED;
    if (m->has_field)
	return LISTUNSUB_PRESENT;
    if (m->nrcpts != 1)
	return LISTUNSUB_RECIPIENTS;
    if (m->sender_domain == NULL || *m->sender_domain == '\0' || m->rcpt == NULL
	|| *m->rcpt == '\0')
	return LISTUNSUB_NO_TOKEN;
    memset(&in, 0, sizeof(in));
    in.kind = WEBTOKEN_UNSUB;
    in.issued = m->now;
    in.rcpt = m->rcpt;
    in.sender_domain = m->sender_domain;
    if (webtoken_encode(lu->keys, &in, tok, sizeof(tok)) == 0)
	return LISTUNSUB_NO_TOKEN;
    /* the mailto: on a line of its own: the https URL alone may be long */
    if (m->mailto && *m->mailto)
	n = snprintf(out->unsub, sizeof(out->unsub), "%s<%s/u/%s>,\n <mailto:%s>", sp,
		     lu->public_url, tok, m->mailto);
    else
	n = snprintf(out->unsub, sizeof(out->unsub), "%s<%s/u/%s>", sp, lu->public_url, tok);
    if (n < 0 || (size_t) n >= sizeof(out->unsub))
	return LISTUNSUB_NO_TOKEN;
    snprintf(out->post, sizeof(out->post), "%sList-Unsubscribe=One-Click", sp);
    return LISTUNSUB_ADD;
}

/* listunsub_status_name - a status in words, fit for a metric label */
const char *
listunsub_status_name(int status)
{
    static const char *const names[] = {"added", "not_opted_in", "present", "recipients",
	"no_token"};

    return status >= 0 && status < LISTUNSUB_NSTATUS ? names[status] : "unknown";
}
