/*
 * blwatch - outpost-logd asks the blocklists on a schedule (see blwatch.h)
 *
 * One slot per (list, target) pair, fixed at start: the work of a round
 * and the metrics are bounded by the configuration.  A slot whose
 * question is still in flight is not asked again.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ares.h>
#include <arpa/nameser.h>

#include "aresev.h"
#include "blstate.h"
#include "blwatch.h"
#include "dnsbl.h"
#include "dnsq.h"
#include "msg.h"
#include "xalloc.h"

enum bw_state { BW_NONE = -1, BW_CLEAN = 0, BW_LISTED = 1 };

struct bw_slot {
    struct blwatch *owner;
    const struct conf_blocklist *bl;
    char *target;
    int state;			/* enum bw_state: last known */
    int answered;		/* the last question got a usable answer */
    int pending;
    char code[DNSBL_CODE_MAX];	/* the deciding answer, or "" */
};

struct blwatch {
    struct event_base *base;
    struct rconn *rc;		/* NULL: no state written */
    const char *prefix;
    struct aresev *ares;
    struct event *round;	/* every blocklist_interval */
    struct bw_slot *slots;
    size_t n;
    long long interval_ms;
    int destroying;
};

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen);
static void on_reason(void *arg, int status, int timeouts, unsigned char *abuf, int alen);

static const char *const state_names[] = {"unknown", "clean", "listed"};

/* on_round - ask every list about every target not still in flight */
static void
on_round(evutil_socket_t fd, short what, void *arg)
{
    struct blwatch *bw = arg;
    struct timeval tv;
    char name[DNSBL_NAME_MAX];
    size_t i;

    (void) fd;
    (void) what;
    for (i = 0; i < bw->n; i++) {
	struct bw_slot *s = &bw->slots[i];

	if (s->pending || dnsbl_query_name(s->bl, s->target, name, sizeof(name)) < 0)
	    continue;
	s->pending = 1;
	ares_query(aresev_channel(bw->ares), name, ns_c_in, ns_t_a, on_answer, s);
    }
    tv.tv_sec = bw->interval_ms / 1000;
    tv.tv_usec = (bw->interval_ms % 1000) * 1000;
    evtimer_add(bw->round, &tv);
}

/* answer_status - what c-ares' status says, as dnsq says it */
static enum dnsq_status
answer_status(int status)
{
    switch (status) {
    case ARES_SUCCESS: return DNSQ_OK;
    case ARES_ENOTFOUND: return DNSQ_NXDOMAIN;
    case ARES_ENODATA: return DNSQ_NODATA;
    case ARES_ESERVFAIL: return DNSQ_SERVFAIL;
    case ARES_ETIMEOUT: return DNSQ_TIMEOUT;
    }
    return DNSQ_ERROR;
}

/*
 * put_state - the slot's last answer into Redis (blstate(3)); reason NULL:
 * not known yet (a listing's TXT is asked next), nothing written
 */
static void
put_state(struct bw_slot *s, const char *reason)
{
    const char *st = s->answered ? state_names[s->state + 1] : "unknown";

    if (s->owner->rc == NULL || reason == NULL)
	return;
    (void) blstate_put(s->owner->rc, s->owner->prefix, s->bl->named.name, s->target, st,
		       s->code, reason, (long long) time(NULL));
}

/* on_answer - classify an answer; log a change */
static void
on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    struct bw_slot *s = arg;
    struct dnsq_result a;
    const char *code, *why;
    enum dnsbl_verdict v;
    char name[DNSBL_NAME_MAX];

    (void) timeouts;
    s->pending = 0;
    if (s->owner->destroying || status == ARES_ECANCELLED || status == ARES_EDESTRUCTION)
	return;
    memset(&a, 0, sizeof(a));
    a.status = answer_status(status);
    if (a.status == DNSQ_OK) {
	if (dnsq_parse_answer(abuf, alen, DNSQ_T_A, &a) < 0)
	    a.status = DNSQ_ERROR;
	else if (a.n == 0)
	    a.status = DNSQ_NODATA;
    }
    v = dnsbl_classify(s->bl, &a, &code, &why);
    s->answered = v != DNSBL_UNKNOWN;
    if (v == DNSBL_LISTED && s->state != BW_LISTED)
	msg_warn("blocklist %s lists %s (%s)", s->bl->named.name, s->target, code);
    else if (v == DNSBL_CLEAN && s->state == BW_LISTED)
	msg_info("blocklist %s no longer lists %s", s->bl->named.name, s->target);
    else if (v == DNSBL_UNKNOWN)
	msg_debug("blocklist %s about %s: %s%s%s", s->bl->named.name, s->target,
		  why, code ? " " : "", code ? code : "");
    if (v != DNSBL_UNKNOWN || s->state == BW_NONE)
	snprintf(s->code, sizeof(s->code), "%s", code ? code : "");
    if (v != DNSBL_UNKNOWN)
	s->state = v == DNSBL_LISTED ? BW_LISTED : BW_CLEAN;
    /* an unknown keeps the last known state, in Redis too (its start, its reason) */
    if (v == DNSBL_CLEAN || (v == DNSBL_UNKNOWN && s->state == BW_NONE))
	put_state(s, "");
    dnsq_result_free(&a);
    /* a listing's reason: the list's TXT at the same name */
    if (v == DNSBL_LISTED && s->owner->rc
	&& dnsbl_query_name(s->bl, s->target, name, sizeof(name)) == 0) {
	s->pending = 1;
	ares_query(aresev_channel(s->owner->ares), name, ns_c_in, ns_t_txt, on_reason, s);
    }
}

/* on_reason - the TXT of a listing, written beside its state */
static void
on_reason(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    struct bw_slot *s = arg;
    struct dnsq_result a;

    (void) timeouts;
    s->pending = 0;
    if (s->owner->destroying || status == ARES_ECANCELLED || status == ARES_EDESTRUCTION)
	return;
    memset(&a, 0, sizeof(a));
    if (status != ARES_SUCCESS || dnsq_parse_answer(abuf, alen, DNSQ_T_TXT, &a) < 0)
	a.n = 0;
    if (s->state == BW_LISTED)
	put_state(s, a.n ? a.v[0] : "");
    dnsq_result_free(&a);
}

/* add_slots - a slot per list of kind and target */
static void
add_slots(struct blwatch *bw, const struct outpost_conf *conf, int kind,
	  const struct dnsbl_targets *t)
{
    size_t i, j;

    for (i = 0; i < conf->blocklists.n; i++) {
	const struct conf_blocklist *bl =
	    CONF_VEC_AT(&conf->blocklists, i, struct conf_blocklist);

	if (bl->kind != kind)
	    continue;
	for (j = 0; j < t->n; j++) {
	    struct bw_slot *s;

	    bw->slots = xreallocarray(bw->slots, bw->n + 1, sizeof(*bw->slots));
	    s = &bw->slots[bw->n++];
	    s->bl = bl;
	    s->target = xstrdup(t->v[j]);
	    s->state = BW_NONE;
	    s->answered = 0;
	    s->pending = 0;
	    s->code[0] = '\0';
	}
    }
}

/* blwatch_new - start asking, or NULL when there is nothing to ask */
struct blwatch *
blwatch_new(struct event_base *base, const struct outpost_conf *conf, struct rconn *rc)
{
    struct dnsbl_targets ips = {0}, domains = {0};
    struct timeval now = {0, 0};
    struct blwatch *bw;
    size_t i;

    if (conf->blocklists.n == 0 || conf->logd.blocklist_interval_ms <= 0)
	return NULL;
    bw = xcalloc(1, sizeof(*bw));
    dnsbl_targets_collect(conf, &ips, &domains);
    add_slots(bw, conf, CONF_BL_IP, &ips);
    add_slots(bw, conf, CONF_BL_DOMAIN, &domains);
    dnsbl_targets_free(&ips);
    dnsbl_targets_free(&domains);
    if (bw->n == 0) {
	free(bw);
	return NULL;
    }
    /* the slots array is final: owners may point into it */
    for (i = 0; i < bw->n; i++)
	bw->slots[i].owner = bw;
    bw->base = base;
    bw->rc = rc;
    bw->prefix = conf->redis.prefix;
    bw->interval_ms = conf->logd.blocklist_interval_ms;
    bw->ares = aresev_new(base, "blocklists", 2000, 2);
    bw->round = evtimer_new(base, on_round, bw);
    evtimer_add(bw->round, &now);
    msg_info("blocklists: %zu questions every %lld s", bw->n, bw->interval_ms / 1000);
    return bw;
}

/* blwatch_render - the gauges of every slot */
void
blwatch_render(const struct blwatch *bw, struct prom *p)
{
    size_t i;

    if (bw == NULL)
	return;
    prom_family(p, "outpost_blocklisted", PROM_GAUGE,
		"1 when the list lists the target, 0 when not (last answer)");
    for (i = 0; i < bw->n; i++) {
	const struct bw_slot *s = &bw->slots[i];
	const char *labels[] = {"list", s->bl->named.name, "target", s->target, NULL};

	if (s->state != BW_NONE)
	    prom_gauge(p, labels, s->state);
    }
    prom_family(p, "outpost_blocklist_answered", PROM_GAUGE,
		"0 when the last question got no usable answer (refused, timeout)");
    for (i = 0; i < bw->n; i++) {
	const struct bw_slot *s = &bw->slots[i];
	const char *labels[] = {"list", s->bl->named.name, "target", s->target, NULL};

	prom_gauge(p, labels, s->answered);
    }
}

/* blwatch_listed - the first list that lists target now, or NULL */
const char *
blwatch_listed(const struct blwatch *bw, const char *target)
{
    size_t i;

    for (i = 0; bw != NULL && i < bw->n; i++)
	if (bw->slots[i].state == BW_LISTED && strcmp(bw->slots[i].target, target) == 0)
	    return bw->slots[i].bl->named.name;
    return NULL;
}

/* blwatch_free - stop asking */
void
blwatch_free(struct blwatch *bw)
{
    size_t i;

    if (bw == NULL)
	return;
    bw->destroying = 1;
    aresev_free(bw->ares);		/* calls back each pending question */
    event_free(bw->round);
    for (i = 0; i < bw->n; i++)
	free(bw->slots[i].target);
    free(bw->slots);
    free(bw);
}
