/*
 * rcpt_check - the suppression check of each recipient (outpost-milter)
 *
 * SYNOPSIS
 *	#include "rcpt_check.h"
 *
 *	void rcpt_check_init(const struct outpost_conf *conf);
 *	void rcpt_check_shutdown(void);
 *	enum rcpt_verdict rcpt_check(const char *qid,
 *				     const struct settings *set,
 *				     const struct recipient *r,
 *				     const char *sender_domain,
 *				     struct rcpt_reply *reply);
 *	void rcpt_sender_domain(const char *mail_from, char *out, size_t size);
 *
 *	void rcpt_msg_reset(struct rcpt_msg *m);
 *	void rcpt_msg_keep(struct rcpt_msg *m);
 *	void rcpt_msg_accepted(struct rcpt_msg *m, const struct settings *set,
 *			       const struct recipient *r);
 *	void rcpt_msg_drop(struct rcpt_msg *m, const struct recipient *r);
 *	void rcpt_msg_count(struct rcpt_msg *m, const struct settings *set,
 *			    const char *sender_domain, const char *qid);
 *	void rcpt_msg_header(struct rcpt_msg *m, const struct settings *set,
 *			     const char *name, const char *value);
 *
 * DESCRIPTION
 *	rcpt_check() decides what happens to one recipient (read once at
 *	RCPT: recipient(3)), for mail from sender_domain ("" for the null
 *	sender), with the [suppress] and [milter] settings of set (those the
 *	message began with, settings(3)); its log lines begin with qid, the
 *	MTA's queue id ("NOQUEUE" while there is none):
 *
 *	RCPT_ACCEPT	not suppressed (or Redis failed and [suppress]
 *			on_redis_error = accept: logged as a warning)
 *	RCPT_REJECT	suppressed, action = reject: reply holds
 *			550 5.7.1 and the reason and date
 *	RCPT_DROP	suppressed, action = discard: accept it now and
 *			delete it at end of message
 *	RCPT_TEMPFAIL	Redis failed or was slow ([redis] command_timeout):
 *			reply holds 451 4.3.0
 *
 *	Every decision is logged; hits and passes are counted in Redis per
 *	sender domain and reason (see suppress(3)).  With [milter] statistics
 *	(the default), a refused or dropped recipient also adds 1 to the
 *	hourly counter "suppressed" (stats(3)) under the sender domain, the
 *	recipient's provider and the sender's pool (as recipient(3) tells
 *	them, without DNS): one more round trip,
 *	for suppressed recipients only (the suppression keys and the
 *	statistics keys live in different hash slots, so one script cannot
 *	write both).  Redis connections come from a pool shared by the
 *	milter's threads, one per concurrent check.
 *
 *	rcpt_sender_domain() gives the normalised domain of a MAIL FROM
 *	argument, or "" for "<>" or an unreadable domain (a local part the
 *	normaliser refuses, such as one over 64 octets, does not matter).
 *
 *	struct rcpt_msg is the per-message state of the discard action: the
 *	recipients accepted, and those to delete (their RCPT TO arguments,
 *	in drop); the end-of-message plan (plan(3)) reads them.
 *
 *	rcpt_msg_count() adds the recipients accepted and not dropped to the
 *	hourly counter "accepted", per provider and under the sender's
 *	pool, in one round trip, and
 *	forgets them; the filter calls it once the message is accepted.
 *	Nothing is counted for the null sender (the MTA's own bounces, which
 *	outpost-logd does not count either) or without [milter] statistics.
 *	A Redis failure loses the count and is logged; the message goes on.
 *
 *	Events (events(3)): when the sender domain belongs to a tenant, a
 *	suppressed recipient (refused or dropped) is one "suppressed" event
 *	(reason and source of the suppression entry), written at RCPT; and
 *	rcpt_msg_count() writes one "accepted" event per recipient accepted
 *	and not dropped, with the queue id, the Message-ID and the campaign
 *	(the value of the [milter] campaign_header field, X-Campaign-ID by
 *	default: the field the tracking tokens read), which
 *	rcpt_msg_header() keeps from the header, in one round trip, also
 *	without [milter] statistics.  A failure is counted (events_failures())
 *	and logged at most once a minute; the message goes on.
 */
#ifndef OUTPOST_RCPT_CHECK_H
#define OUTPOST_RCPT_CHECK_H

#include <stddef.h>

struct outpost_conf;
struct recipient;
struct settings;

enum rcpt_verdict { RCPT_ACCEPT, RCPT_REJECT, RCPT_DROP, RCPT_TEMPFAIL };

struct rcpt_reply {
    const char *rcode;		/* "550", "451" */
    const char *xcode;		/* "5.7.1", "4.3.0" */
    char text[256];
};

struct rcpt_msg {
    size_t accepted;		/* recipients accepted, dropped ones included */
    size_t ndrop;
    size_t cap;
    char **drop;		/* RCPT TO arguments to delete at EOM */
    long *tally;		/* accepted, not dropped, per provider; last: other */
    const char *pool;		/* the sender's pool, for the tally */
    struct rcpt_acc *acc;	/* accepted, not dropped: their "accepted" events */
    size_t nacc, cap_acc;
    char msgid[256];		/* the Message-ID field, <> and all */
    char campaign[128];		/* the [milter] campaign_header field */
};

struct rcpt_acc {
    char *addr;
    size_t provider;
};

void rcpt_check_init(const struct outpost_conf *conf);
void rcpt_check_shutdown(void);
enum rcpt_verdict rcpt_check(const char *qid, const struct settings *set,
			     const struct recipient *r, const char *sender_domain,
			     struct rcpt_reply *reply);
void rcpt_sender_domain(const char *mail_from, char *out, size_t size);

void rcpt_msg_reset(struct rcpt_msg *m);
void rcpt_msg_keep(struct rcpt_msg *m);
void rcpt_msg_accepted(struct rcpt_msg *m, const struct settings *set,
		       const struct recipient *r);
void rcpt_msg_drop(struct rcpt_msg *m, const struct recipient *r);
void rcpt_msg_count(struct rcpt_msg *m, const struct settings *set,
		    const char *sender_domain, const char *qid);
void rcpt_msg_header(struct rcpt_msg *m, const struct settings *set,
		     const char *name, const char *value);

#endif
