/*
 * rcpt_policy - ask outpost-policyd about each recipient (see rcpt_policy.h)
 *
 * The libmilter side only: what the MTA's macros say goes into a request,
 * the verdict comes back as a reply.  The protocol is in policy_answer,
 * the connections in policy_client.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "metrics.h"
#include "msg.h"
#include "policy_client.h"
#include "rcpt_policy.h"

static struct policy_client *client;	/* NULL: no policy service */
static int default_accept;		/* policy_default_action = accept */
static unsigned long instance_seq;	/* counter of messages asked about */

/* rcpt_policy_init - see the header */
void
rcpt_policy_init(const struct outpost_conf *conf)
{
    const struct conf_milter *m = &conf->milter;
    char err[300];
    size_t i;

    if (m->policy_service == NULL)
	return;
    if ((client = policy_client_new(m->policy_service, m->policy_timeout_ms, err,
				    sizeof(err))) == NULL)
	msg_fatal("[milter] %s", err);
    default_accept = m->policy_default_action == CONF_ON_ERROR_ACCEPT;
    for (i = 0; i < conf->pools.n; i++) {
	const struct conf_pool *p = CONF_VEC_AT(&conf->pools, i, struct conf_pool);

	if (p->overflow)
	    msg_warn("[pool %s] overflow = %s: a milter cannot move mail to another "
		     "pool's transport; mail over the pool's cap is deferred instead",
		     p->named.name, p->overflow);
    }
    msg_info("asking %s about each recipient (timeout %lld ms, when unreachable: %s)",
	     m->policy_service, m->policy_timeout_ms, default_accept ? "accept" : "tempfail");
}

/* rcpt_policy_enabled - 1 when a policy service is configured */
int
rcpt_policy_enabled(void)
{
    return client != NULL;
}

/* rcpt_policy_shutdown - close the connections */
void
rcpt_policy_shutdown(void)
{
    policy_client_free(client);
    client = NULL;
}

/* macro - a macro's value, NULL when unset or empty */
static const char *
macro(SMFICTX *ctx, const char *name)
{
    const char *v = smfi_getsymval(ctx, (char *) name);

    return v && *v ? v : NULL;
}

/* strip - an address without its angle brackets, in out */
static const char *
strip(const char *a, char *out, size_t size)
{
    size_t n;

    if (a == NULL)
	return "";
    n = strlen(a);
    if (n >= 2 && a[0] == '<' && a[n - 1] == '>')
	snprintf(out, size, "%.*s", (int) (n - 2), a + 1);
    else
	snprintf(out, size, "%s", a);
    return out;
}

/* setreply - the recipient's reply; a fixed one if the MTA refuses the text */
static void
setreply(SMFICTX *ctx, const char *rcode, const char *xcode, const char *text)
{
    if (smfi_setreply(ctx, (char *) rcode, (char *) xcode, (char *) text) != MI_SUCCESS)
	smfi_setreply(ctx, (char *) rcode, NULL, rcode[0] == '4'
		      ? "policy refusal, try again later" : "policy refusal");
}

/* failed - policyd could not be asked: the configured default */
static sfsistat
failed(SMFICTX *ctx, const char *qid, const char *rcpt, const char *why)
{
    if (default_accept) {
	metrics_fail_open(MF_POLICY);
	msg_warn("%s: policy: FAIL-OPEN: %s accepted UNCHECKED: %s "
		 "([milter] policy_default_action = accept)", qid, rcpt, why);
	return SMFIS_CONTINUE;
    }
    msg_warn("%s: policy: %s deferred: %s", qid, rcpt, why);
    setreply(ctx, "451", "4.3.0", "policy service unavailable, try again later");
    return SMFIS_TEMPFAIL;
}

/* rcpt_policy - see the header */
sfsistat
rcpt_policy(SMFICTX *ctx, struct rcpt_policy_msg *pm, const char *rcpt)
{
    struct policy_query q;
    struct policy_verdict v;
    char sender[512], recipient[512], err[300];
    const char *qid;

    if (client == NULL)
	return SMFIS_CONTINUE;
    if (pm->instance[0] == '\0')
	snprintf(pm->instance, sizeof(pm->instance), "%lx.%llx.%lu",
		 (unsigned long) getpid(), (unsigned long long) time(NULL),
		 __atomic_add_fetch(&instance_seq, 1, __ATOMIC_RELAXED));
    memset(&q, 0, sizeof(q));
    q.protocol_name = macro(ctx, "r");
    q.client_address = macro(ctx, "{client_addr}");
    q.client_name = macro(ctx, "{client_name}");
    q.helo_name = macro(ctx, "s");
    q.sender = strip(macro(ctx, "{mail_addr}"), sender, sizeof(sender));
    q.recipient = strip(macro(ctx, "{rcpt_addr}") ? macro(ctx, "{rcpt_addr}") : rcpt,
			recipient, sizeof(recipient));
    q.sasl_username = macro(ctx, "{auth_authen}");
    q.queue_id = macro(ctx, "i");
    q.instance = pm->instance;
    qid = q.queue_id ? q.queue_id : "NOQUEUE";

    if (policy_client_ask(client, &q, &v, err, sizeof(err)) < 0)
	return failed(ctx, qid, q.recipient, err);
    switch (v.kind) {
    case POLICY_CONTINUE:
	msg_debug("%s: policy: %s: %s", qid, q.recipient, v.action);
	return SMFIS_CONTINUE;
    case POLICY_TEMPFAIL:
    case POLICY_REJECT:
	msg_info("%s: policy: %s %s: %s %s %s", qid, q.recipient,
		 v.kind == POLICY_REJECT ? "rejected" : "deferred", v.rcode, v.xcode, v.text);
	setreply(ctx, v.rcode, v.xcode, v.text);
	return v.kind == POLICY_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
    case POLICY_FILTER:
	/* spill-over to another pool needs the MTA to pick a transport by name */
	msg_info("%s: policy: %s deferred: FILTER %s cannot be carried out by a milter "
		 "(the pool's cap is reached and its overflow needs Postfix)",
		 qid, q.recipient, v.filter);
	setreply(ctx, "451", "4.7.1", "sending pool full for today, try again later");
	return SMFIS_TEMPFAIL;
    default:
	msg_warn("%s: policy: %s deferred: cannot carry out action %s", qid, q.recipient,
		 v.action);
	setreply(ctx, "451", "4.3.0", "policy answer not understood, try again later");
	return SMFIS_TEMPFAIL;
    }
}
