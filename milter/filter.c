/*
 * filter - the libmilter callbacks of outpost-milter (see filter.h)
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>

#include "addr.h"
#include "checkmsg.h"
#include "conf.h"
#include "dkimsign.h"
#include "filter.h"
#include "intake.h"
#include "listunsub.h"
#include "metrics.h"
#include "msg.h"
#include "plan.h"
#include "rcpt_check.h"
#include "rcpt_policy.h"
#include "recipient.h"
#include "settings.h"
#include "signclient.h"
#include "tracking.h"
#include "xalloc.h"

/* what one message has told us so far */
struct filter_msg {
    struct settings *set;	/* those in force at MAIL FROM; NULL: none yet */
    char *queue_id;
    char *auth_user;		/* {auth_authen}, NULL if none */
    char sender_domain[DOMAIN_MAX];	/* of MAIL FROM, "" for <> */
    struct rcpt_msg rcpt;	/* suppression: recipients to drop at EOM */
    struct rcpt_policy_msg policy;	/* the policy request's instance */
    struct dkimsign_msg *sign;	/* NULL: not signing */
    struct intake_msg intake;	/* reports; the recipient of the return path */
    int has_list_unsub;		/* the message has a List-Unsubscribe field */
    struct listunsub_hdrs *lu;	/* the fields to add; NULL: none */
    struct plan_header hdr[2];	/* the same, for the plan */
    size_t nhdr;
    struct tracking_msg trk;	/* open and click tracking */
    struct checkmsg check;	/* a test message to evaluate (test-send) */
};

/* what one SMTP connection has told us so far */
struct filter_conn {
    unsigned long proto;	/* SMFIP_* agreed with the MTA */
    unsigned long actions;	/* SMFIF_* the MTA lets us take */
    struct sockaddr_storage addr;
    int have_addr;
    char mta_name[256];		/* j at connect: the MTA's own name, "" if not told */
    struct filter_msg msg;
};

/* what the plan's steps work on at the end of one message */
struct eom_ctx {
    SMFICTX *ctx;
    struct filter_conn *fc;
    struct filter_msg *fm;
    const char *qid;
};

static sfsistat fi_negotiate(SMFICTX *, unsigned long, unsigned long,
			     unsigned long, unsigned long, unsigned long *,
			     unsigned long *, unsigned long *, unsigned long *);
static sfsistat fi_connect(SMFICTX *, char *, _SOCK_ADDR *);
static sfsistat fi_envfrom(SMFICTX *, char **);
static sfsistat fi_envrcpt(SMFICTX *, char **);
static sfsistat fi_header(SMFICTX *, char *, char *);
static sfsistat fi_eoh(SMFICTX *);
static sfsistat fi_body(SMFICTX *, unsigned char *, size_t);
static sfsistat fi_eom(SMFICTX *);
static sfsistat fi_abort(SMFICTX *);
static sfsistat fi_close(SMFICTX *);

struct smfiDesc filter_desc = {
    .xxfi_name = "outpost-milter",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDHDRS | SMFIF_DELRCPT | SMFIF_CHGFROM | SMFIF_CHGBODY,
    .xxfi_connect = fi_connect,
    .xxfi_envfrom = fi_envfrom,
    .xxfi_envrcpt = fi_envrcpt,
    .xxfi_header = fi_header,
    .xxfi_eoh = fi_eoh,
    .xxfi_body = fi_body,
    .xxfi_eom = fi_eom,
    .xxfi_abort = fi_abort,
    .xxfi_close = fi_close,
    .xxfi_negotiate = fi_negotiate,
};

/* msg_reset - forget the message: end of message, abort, next MAIL */
static void
msg_reset(struct filter_msg *fm)
{
    free(fm->queue_id);
    free(fm->auth_user);
    rcpt_msg_reset(&fm->rcpt);
    dkimsign_msg_free(fm->sign);
    intake_msg_reset(&fm->intake);
    free(fm->lu);
    tracking_msg_reset(&fm->trk);
    checkmsg_reset(&fm->check);
    settings_unref(fm->set);
    memset(fm, 0, sizeof(*fm));
}

/* reply - CONTINUE, or NOREPLY when the MTA agreed not to wait for one */
static sfsistat
reply(const struct filter_conn *fc, unsigned long nr_flag)
{
    return (fc->proto & nr_flag) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* conn_get - this connection's state; made on first use */
static struct filter_conn *
conn_get(SMFICTX *ctx)
{
    struct filter_conn *fc = smfi_getpriv(ctx);

    if (fc == NULL) {
	fc = xcalloc(1, sizeof(*fc));
	smfi_setpriv(ctx, fc);
    }
    return fc;
}

/*
 * The macros each stage asks the MTA for: the queue id i wherever the MTA may
 * know it, and the others the filter reads (Postfix's default lists, and what
 * conf-examples/sendmail.mc adds), since a list replaces the MTA's own.
 * Postfix knows i at MAIL only with smtpd_delay_open_until_valid_rcpt = no,
 * and from the second RCPT on otherwise; Sendmail knows it from MAIL on.
 */
static const struct {
    int stage;
    const char *macros;
} stage_macros[] = {
    {SMFIM_ENVFROM, "i {auth_type} {auth_authen} {auth_ssf} {auth_author} "
     "{mail_mailer} {mail_host} {mail_addr} r s {tls_version}"},
    {SMFIM_ENVRCPT, "i {rcpt_mailer} {rcpt_host} {rcpt_addr}"},
    {SMFIM_DATA, "i"},
    {SMFIM_EOH, "i"},
    {SMFIM_EOM, "i {msg_id}"},
};

/* msg_qid - the queue id for log lines: the MTA's, once it has told it */
static const char *
msg_qid(SMFICTX *ctx, struct filter_msg *fm)
{
    const char *v;

    if (fm->queue_id == NULL && (v = smfi_getsymval(ctx, "i")) != NULL && *v)
	fm->queue_id = xstrdup(v);
    return fm->queue_id ? fm->queue_id : "NOQUEUE";
}

/* msg_begin - per-message state, from MAIL FROM, with the settings in force */
static void
msg_begin(SMFICTX *ctx, struct filter_msg *fm)
{
    const char *v;

    if ((v = smfi_getsymval(ctx, "i")) != NULL && *v)
	fm->queue_id = xstrdup(v);
    if ((v = smfi_getsymval(ctx, "{auth_authen}")) != NULL && *v)
	fm->auth_user = xstrdup(v);
    if ((fm->set = settings_current()) == NULL)
	msg_fatal("filter: no settings installed");
    if (fm->set->signer)
	fm->sign = dkimsign_msg_new(fm->set->signer, fm->queue_id);
    intake_msg_begin(&fm->intake, fm->set->intake, fm->set->conf);
}

/* client_may_sign - signclient_check(3) of this connection's client */
static int
client_may_sign(const struct filter_conn *fc)
{
    if (fc->msg.set == NULL)		/* no MAIL FROM yet: nothing is signed */
	return 0;
    return signclient_check(&fc->msg.set->conf->dkim,
			    fc->have_addr ? (const struct sockaddr *) &fc->addr : NULL,
			    fc->msg.auth_user);
}

/* fi_negotiate - ask for the events and replies we use, nothing more */
static sfsistat
fi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
	     unsigned long f2, unsigned long f3, unsigned long *pf0,
	     unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
    struct filter_conn *fc = conn_get(ctx);
    struct settings *set = settings_current();
    unsigned long skip = SMFIP_NOHELO | SMFIP_NORCPT | SMFIP_NOUNKNOWN | SMFIP_NODATA;
    unsigned long noreply = SMFIP_NR_CONN | SMFIP_NR_MAIL | SMFIP_NR_HDR
	| SMFIP_NR_EOH | SMFIP_NR_BODY;

    unsigned long actions = SMFIF_ADDHDRS;
    size_t i;

    (void) f2;
    (void) f3;
    if (f0 & SMFIF_SETSYMLIST) {
	actions |= SMFIF_SETSYMLIST;
	for (i = 0; i < sizeof(stage_macros) / sizeof(stage_macros[0]); i++)
	    if (smfi_setsymlist(ctx, stage_macros[i].stage,
				(char *) stage_macros[i].macros) != MI_SUCCESS)
		msg_warn("cannot ask the MTA for the macros %s", stage_macros[i].macros);
    }
    if (set == NULL)
	msg_fatal("filter: no settings installed");
    /* a reload changes what this asks for on the connections that follow */
    if (set->conf->suppress.enabled) {
	skip &= ~SMFIP_NORCPT;			/* the check needs each RCPT */
	actions |= SMFIF_DELRCPT;		/* action = discard */
	if ((f0 & SMFIF_DELRCPT) == 0)
	    msg_warn("the MTA cannot delete recipients: [suppress] action = discard "
		     "will tempfail such messages");
    }
    if (rcpt_policy_enabled())
	skip &= ~SMFIP_NORCPT;			/* [milter] policy_service */
    if (set->intake) {
	skip &= ~SMFIP_NORCPT;			/* intake addresses, the recipient */
	actions |= SMFIF_DELRCPT;		/* reports are dropped */
    }
    if (intake_setup_rewrites(set->intake)) {
	actions |= SMFIF_CHGFROM;
	if ((f0 & SMFIF_CHGFROM) == 0)
	    msg_warn("the MTA cannot change the envelope sender: not tagged");
    }
    if (set->tracking) {
	actions |= SMFIF_CHGBODY;		/* tracked links */
	if ((f0 & SMFIF_CHGBODY) == 0)
	    msg_warn("the MTA cannot replace bodies: no message will be tracked");
    }
    if ((set->conf->milter.statistics || set->listunsub || set->tracking)
	&& (skip & SMFIP_NORCPT)) {
	skip &= ~SMFIP_NORCPT;			/* only counted: no reply needed */
	noreply |= SMFIP_NR_RCPT;
    }
    if (!(f0 & SMFIF_ADDHDRS))
	msg_warn("the MTA does not let filters add headers: cannot sign");
    *pf0 = f0 & actions;
    fc->actions = *pf0;
    fc->proto = f1 & (skip | noreply | SMFIP_HDR_LEADSPC);
    *pf1 = fc->proto;
    *pf2 = 0;
    *pf3 = 0;
    settings_unref(set);
    return SMFIS_CONTINUE;
}

/* fi_connect - remember the client address */
static sfsistat
fi_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
    struct filter_conn *fc = conn_get(ctx);
    const char *v;

    (void) host;
    msg_reset(&fc->msg);
    fc->have_addr = 0;
    /* Postfix's myhostname, Sendmail's $j: the Reporting-MTA of its own DSNs */
    snprintf(fc->mta_name, sizeof(fc->mta_name), "%s",
	     (v = smfi_getsymval(ctx, "j")) != NULL ? v : "");
    if (sa && (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)) {
	memcpy(&fc->addr, sa, sa->sa_family == AF_INET ? sizeof(struct sockaddr_in)
	       : sizeof(struct sockaddr_in6));
	fc->have_addr = 1;
    }
    return reply(fc, SMFIP_NR_CONN);
}

/* fi_envfrom - a new message: who sends it */
static sfsistat
fi_envfrom(SMFICTX *ctx, char **argv)
{
    struct filter_conn *fc = conn_get(ctx);

    msg_reset(&fc->msg);
    msg_begin(ctx, &fc->msg);
    intake_msg_mta(&fc->msg.intake, fc->mta_name);
    rcpt_sender_domain(argv[0], fc->msg.sender_domain, sizeof(fc->msg.sender_domain));
    /* a connection opened before a reload turned tracking on cannot replace bodies */
    tracking_msg_begin(&fc->msg.trk, (fc->actions & SMFIF_CHGBODY) ? fc->msg.set->tracking
		       : NULL, fc->msg.auth_user, fc->msg.sender_domain);
    return reply(fc, SMFIP_NR_MAIL);
}

/* fi_envrcpt - read the recipient once; the suppression check, then the policy service */
static sfsistat
fi_envrcpt(SMFICTX *ctx, char **argv)
{
    struct filter_conn *fc = conn_get(ctx);
    struct filter_msg *fm = &fc->msg;
    struct recipient r;
    struct rcpt_reply rr;
    unsigned long long id;
    sfsistat rc;

    if (fm->set == NULL)			/* no MAIL FROM: cannot happen */
	return SMFIS_TEMPFAIL;
    recipient_parse(&r, argv[0], fm->set, fm->auth_user, fm->sender_domain);
    switch (intake_check(&fm->intake, r.addr, fm->sender_domain, client_may_sign(fc), &id,
			 msg_qid(ctx, fm))) {
    case INTAKE_CHECK_EVAL:
	if (!fm->check.on)
	    checkmsg_begin(&fm->check, id);
	/* FALLTHROUGH */
    case INTAKE_CHECK_FORGED:
	/* a test message is evaluated, never delivered */
	rcpt_msg_drop(&fm->rcpt, &r);
	return reply(fc, SMFIP_NR_RCPT);
    }
    if (intake_rcpt(&fm->intake, &r)) {
	/* a report: not outgoing mail, no suppression check, not counted */
	if (intake_keeps_reports(&fm->intake))
	    rcpt_msg_keep(&fm->rcpt);
	else
	    rcpt_msg_drop(&fm->rcpt, &r);
	return reply(fc, SMFIP_NR_RCPT);
    }
    switch (rcpt_check(msg_qid(ctx, fm), fm->set, &r, fm->sender_domain, &rr)) {
    case RCPT_ACCEPT:
	if ((rc = rcpt_policy(ctx, &fm->policy, r.raw)) != SMFIS_CONTINUE)
	    return rc;
	rcpt_msg_accepted(&fm->rcpt, fm->set, &r);
	intake_rcpt_accepted(&fm->intake, &r);
	return reply(fc, SMFIP_NR_RCPT);
    case RCPT_DROP:
	rcpt_msg_drop(&fm->rcpt, &r);
	return SMFIS_CONTINUE;
    case RCPT_REJECT:
	smfi_setreply(ctx, (char *) rr.rcode, (char *) rr.xcode, rr.text);
	return SMFIS_REJECT;
    case RCPT_TEMPFAIL:
	smfi_setreply(ctx, (char *) rr.rcode, (char *) rr.xcode, rr.text);
	return SMFIS_TEMPFAIL;
    }
    return SMFIS_TEMPFAIL;
}

/* fi_header - one header field, kept for signing */
static sfsistat
fi_header(SMFICTX *ctx, char *name, char *value)
{
    struct filter_conn *fc = conn_get(ctx);

    if (fc->msg.sign)
	dkimsign_header(fc->msg.sign, name, value,
			!(fc->proto & SMFIP_HDR_LEADSPC));
    if (strcasecmp(name, "List-Unsubscribe") == 0)
	fc->msg.has_list_unsub = 1;
    if (fc->msg.set) {
	tracking_header(&fc->msg.trk, fc->msg.set->tracking, name, value,
			!(fc->proto & SMFIP_HDR_LEADSPC));
	rcpt_msg_header(&fc->msg.rcpt, fc->msg.set, name, value);
    }
    intake_header(&fc->msg.intake, name, value, !(fc->proto & SMFIP_HDR_LEADSPC));
    checkmsg_header(&fc->msg.check, name, value, !(fc->proto & SMFIP_HDR_LEADSPC));
    return reply(fc, SMFIP_NR_HDR);
}

/* list_unsub - the List-Unsubscribe fields, given to the signer as if received */
static void
list_unsub(SMFICTX *ctx, struct filter_conn *fc)
{
    struct filter_msg *fm = &fc->msg;
    struct listunsub_msg lm;
    char mailto[ADDR_MAX];
    int st;

    if (fm->set->listunsub == NULL || intake_is_report(&fm->intake) || fm->check.on)
	return;
    memset(&lm, 0, sizeof(lm));
    lm.auth_user = fm->auth_user;
    lm.sender_domain = fm->sender_domain;
    lm.has_field = fm->has_list_unsub;
    lm.nrcpts = fm->intake.nrcpts;
    lm.rcpt = fm->intake.first_rcpt;
    if (intake_unsub_address(&fm->intake, fm->sender_domain, mailto, sizeof(mailto)))
	lm.mailto = mailto;
    lm.now = (long long) time(NULL);
    lm.lead_space = (fc->proto & SMFIP_HDR_LEADSPC) != 0;
    fm->lu = xmalloc(sizeof(*fm->lu));
    st = listunsub_make(fm->set->listunsub, &lm, fm->lu);
    metrics_list_unsubscribe(st);
    if (st != LISTUNSUB_ADD) {
	if (st != LISTUNSUB_NOT_OPTED)
	    msg_info("%s: no List-Unsubscribe added: %s", msg_qid(ctx, fm),
		     listunsub_status_name(st));
	free(fm->lu);
	fm->lu = NULL;
	return;
    }
    fm->hdr[0].name = "List-Unsubscribe";
    fm->hdr[0].value = fm->lu->unsub;
    fm->hdr[1].name = "List-Unsubscribe-Post";
    fm->hdr[1].value = fm->lu->post;
    fm->nhdr = 2;
    /* smfi_addheader() appends them: the signer sees them last, as the MTA will */
    if (fm->sign) {
	dkimsign_header(fm->sign, fm->hdr[0].name, fm->hdr[0].value, !lm.lead_space);
	dkimsign_header(fm->sign, fm->hdr[1].name, fm->hdr[1].value, !lm.lead_space);
    }
}

/* track_begin - is the message to be tracked? then its body is kept */
static void
track_begin(SMFICTX *ctx, struct filter_msg *fm)
{
    struct tracking_who who;
    int st;

    if (fm->set->tracking == NULL || intake_is_report(&fm->intake) || fm->check.on)
	return;
    who.sender_domain = fm->sender_domain;
    who.nrcpts = fm->intake.nrcpts;
    who.rcpt = fm->intake.first_rcpt;
    st = tracking_eoh(&fm->trk, fm->set->tracking, &who);
    if (st != TRACKING_ON && st != TRACKING_NOT_OPTED) {
	metrics_tracking(st);
	msg_info("%s: not tracked: %s", msg_qid(ctx, fm), tracking_status_name(st));
    }
}

/* fi_eoh - the fields to add; decide whether this message is signed */
static sfsistat
fi_eoh(SMFICTX *ctx)
{
    struct filter_conn *fc = conn_get(ctx);
    struct filter_msg *fm = &fc->msg;
    struct dkimsign_client cl;

    intake_eoh(&fm->intake);
    if (intake_is_report(&fm->intake) || fm->check.on) {
	dkimsign_msg_free(fm->sign);		/* reports are never signed */
	fm->sign = NULL;
    }
    checkmsg_eoh(&fm->check, msg_qid(ctx, fm));
    if (fm->set) {
	list_unsub(ctx, fc);
	track_begin(ctx, fm);
    }
    if (fm->sign) {
	cl.may_sign = client_may_sign(fc);
	cl.auth_user = fm->auth_user;
	if (dkimsign_eoh(fm->sign, &cl) == DKIMSIGN_SKIP) {
	    msg_info("%s: not signed: %s", msg_qid(ctx, fm), dkimsign_why(fm->sign));
	    dkimsign_msg_free(fm->sign);
	    fm->sign = NULL;
	}
    }
    return reply(fc, SMFIP_NR_EOH);
}

/* fi_body - a body chunk for the signatures, or kept for tracking */
static sfsistat
fi_body(SMFICTX *ctx, unsigned char *buf, size_t len)
{
    struct filter_conn *fc = conn_get(ctx);
    struct tracking_msg *trk = &fc->msg.trk;

    intake_body(&fc->msg.intake, buf, len);
    checkmsg_body(&fc->msg.check, buf, len);
    if (trk->on && !trk->gave_up) {
	if (tracking_body(trk, buf, len) == 0)
	    return reply(fc, SMFIP_NR_BODY);	/* signed at the end, as it leaves */
	/* too large to rewrite: the signer gets what was kept, then the rest */
	if (fc->msg.sign)
	    dkimsign_body(fc->msg.sign, (unsigned char *) trk->buf + trk->body_off,
			  trk->len - trk->body_off);
    }
    if (fc->msg.sign)
	dkimsign_body(fc->msg.sign, buf, len);
    return reply(fc, SMFIP_NR_BODY);
}

/* step_check - evaluate a test message; -1: tempfail with that reply */
static int
step_check(struct eom_ctx *e, struct plan_reply *reply)
{
    struct checkmsg_conn cc;

    cc.client = e->fc->have_addr ? (const struct sockaddr *) &e->fc->addr : NULL;
    cc.sender_domain = e->fm->sender_domain;
    cc.tls_version = smfi_getsymval(e->ctx, "{tls_version}");
    if (checkmsg_eom(&e->fm->check, &cc, e->fm->set->conf, e->qid) == 0)
	return 0;
    reply->rcode = "451";
    reply->xcode = "4.3.0";
    snprintf(reply->text, sizeof(reply->text), "test message not evaluated, try again later");
    return -1;
}

/* step_report - plan step: read a report; -1: tempfail with that reply */
static int
step_report(void *arg, struct plan_reply *reply)
{
    struct eom_ctx *e = arg;
    struct intake_reply ir;

    if (e->fm->check.on && step_check(e, reply) < 0)
	return -1;
    if (intake_eom(&e->fm->intake, e->qid, &ir) != INTAKE_TEMPFAIL)
	return 0;
    reply->rcode = ir.rcode;
    reply->xcode = ir.xcode;
    snprintf(reply->text, sizeof(reply->text), "%s", ir.text);
    return -1;
}

/* step_sender - plan step: the tagged envelope sender of outgoing mail */
static int
step_sender(void *arg, char *out, size_t size)
{
    struct eom_ctx *e = arg;
    struct filter_conn *fc = e->fc;

    return intake_sender(&fc->msg.intake, fc->msg.sender_domain, client_may_sign(fc),
			 e->qid, out, size);
}

/* step_sign - plan step: the signatures of the message */
static void
step_sign(void *arg, struct plan_sign *out)
{
    struct eom_ctx *e = arg;
    struct dkimsign_msg *sm = e->fm->sign;
    const struct tracking_msg *trk = &e->fm->trk;
    size_t i;

    /* a tracked message's body, kept until now: the new one, or as it came */
    if (trk->on && !trk->gave_up) {
	if (trk->out)
	    dkimsign_body(sm, (const unsigned char *) trk->out, trk->out_len);
	else
	    dkimsign_body(sm, (const unsigned char *) trk->buf + trk->body_off,
			  trk->len - trk->body_off);
    }
    out->tempfail_on_error = dkimsign_tempfail_on_error_msg(sm);
    out->domain = dkimsign_domain(sm);
    if (dkimsign_eom(sm) != DKIMSIGN_SIGN || dkimsign_count(sm) > PLAN_SIG_MAX) {
	out->result = PLAN_SIGN_FAILED;
	out->why = dkimsign_why(sm);
	return;
    }
    out->result = PLAN_SIGNED;
    out->n = dkimsign_count(sm);
    for (i = 0; i < out->n; i++)
	out->sig[i] = dkimsign_signature(sm, i);
}

/* step_body - plan step: the tracked links and the open pixel, or unchanged */
static int
step_body(void *arg, const char **body, size_t *len)
{
    struct eom_ctx *e = arg;
    struct tracking_msg *trk = &e->fm->trk;
    int st;

    st = tracking_rewrite(trk, e->fm->set->tracking, (long long) time(NULL));
    metrics_tracking(st);
    if (st != TRACKING_ON) {
	msg_info("%s: not tracked: %s%s%s", e->qid, tracking_status_name(st),
		 trk->rw.why ? ": " : "", trk->rw.why ? trk->rw.why : "");
	return 0;
    }
    msg_info("%s: tracked: %zu link%s rewritten, %s", e->qid, trk->rw.links,
	     trk->rw.links == 1 ? "" : "s", trk->rw.pixel ? "open pixel added" : "no pixel");
    *body = trk->out;
    *len = trk->out_len;
    return 1;
}

static const struct plan_steps eom_steps = {step_report, step_sender, step_sign, step_body};

/* eom_tempfail - tempfail the message with this reply */
static sfsistat
eom_tempfail(SMFICTX *ctx, const char *xcode, const char *text)
{
    smfi_setreply(ctx, "451", (char *) xcode, (char *) text);
    return SMFIS_TEMPFAIL;
}

/* eom_carry_out - do what the plan says, in its order */
static sfsistat
eom_carry_out(SMFICTX *ctx, struct filter_msg *fm, const struct plan *p, const char *qid)
{
    size_t i;

    if (p->verdict == PLAN_DISCARD)
	return SMFIS_DISCARD;
    if (p->verdict == PLAN_TEMPFAIL) {
	smfi_setreply(ctx, (char *) p->reply.rcode, (char *) p->reply.xcode,
		      (char *) p->reply.text);
	return SMFIS_TEMPFAIL;
    }
    for (i = 0; i < p->ndel; i++) {
	if (smfi_delrcpt(ctx, p->del[i]) != MI_SUCCESS) {
	    msg_warn("%s: suppress: cannot delete recipient %s", qid, p->del[i]);
	    return eom_tempfail(ctx, "4.3.0", "cannot remove suppressed recipients");
	}
    }
    if (p->sender[0] && smfi_chgfrom(ctx, (char *) p->sender, NULL) != MI_SUCCESS)
	msg_warn("%s: the MTA refused the new envelope sender: bounces go to the old one",
		 qid);
    for (i = 0; i < p->nhdr; i++) {
	if (smfi_addheader(ctx, (char *) p->hdr[i].name, (char *) p->hdr[i].value)
	    != MI_SUCCESS) {
	    msg_warn("%s: the MTA refused the %s header", qid, p->hdr[i].name);
	    /* the signatures cover it: without it they would not verify */
	    if (p->nsig > 0)
		return eom_tempfail(ctx, "4.3.0", "cannot add a header, try again later");
	}
    }
    if (p->body && smfi_replacebody(ctx, (unsigned char *) p->body, (int) p->body_len)
	!= MI_SUCCESS)
	return eom_tempfail(ctx, "4.3.0", "cannot replace the body, try again later");
    for (i = p->nsig; i-- > 0;) {
	if (smfi_insheader(ctx, 0, "DKIM-Signature", (char *) p->sig[i]) != MI_SUCCESS) {
	    msg_warn("%s: the MTA refused the DKIM-Signature header", qid);
	    if (p->sign_refused_tempfails)
		return eom_tempfail(ctx, "4.7.0", "DKIM signing failed, try again later");
	    break;
	}
    }
    if (p->nsig > 0 && i == (size_t) -1)
	msg_info("%s: signed: %zu signature%s for %s", qid, p->nsig,
		 p->nsig == 1 ? "" : "s", p->sign_domain);
    if (p->count)
	rcpt_msg_count(&fm->rcpt, fm->set, fm->sender_domain, qid);
    return SMFIS_CONTINUE;
}

/* fi_eom - ask for the message's plan and carry it out */
static sfsistat
fi_eom(SMFICTX *ctx)
{
    struct filter_conn *fc = conn_get(ctx);
    struct filter_msg *fm = &fc->msg;
    struct eom_ctx e;
    struct msg_state st;
    struct plan p;
    sfsistat rc;

    if (fm->set == NULL)			/* no MAIL FROM: nothing to do */
	return SMFIS_CONTINUE;
    e.ctx = ctx;
    e.fc = fc;
    e.fm = fm;
    e.qid = msg_qid(ctx, fm);
    st.qid = e.qid;
    st.report = intake_is_report(&fm->intake) || fm->check.on;
    st.accepted = fm->rcpt.accepted;
    st.drop = fm->rcpt.drop;
    st.ndrop = fm->rcpt.ndrop;
    st.signing = fm->sign != NULL;
    st.hdr = fm->hdr;
    st.nhdr = fm->nhdr;
    st.tracking = fm->trk.on;
    plan_message(&st, &eom_steps, &e, &p);
    rc = eom_carry_out(ctx, fm, &p, e.qid);
    msg_reset(fm);
    return rc;
}

/* fi_abort - the message is gone: forget it */
static sfsistat
fi_abort(SMFICTX *ctx)
{
    struct filter_conn *fc = smfi_getpriv(ctx);

    if (fc)
	msg_reset(&fc->msg);
    return SMFIS_CONTINUE;
}

/* fi_close - the connection is gone */
static sfsistat
fi_close(SMFICTX *ctx)
{
    struct filter_conn *fc = smfi_getpriv(ctx);

    if (fc) {
	msg_reset(&fc->msg);
	free(fc);
	smfi_setpriv(ctx, NULL);
    }
    return SMFIS_CONTINUE;
}
