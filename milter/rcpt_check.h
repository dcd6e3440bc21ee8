/*
 * rcpt_check - the suppression check of each recipient (outpost-milter)
 *
 * SYNOPSIS
 *	#include "rcpt_check.h"
 *
 *	void rcpt_check_init(const struct outpost_conf *conf);
 *	void rcpt_check_shutdown(void);
 *	enum rcpt_verdict rcpt_check(const char *rcpt, const char *sender_domain,
 *				     struct rcpt_reply *reply);
 *	void rcpt_sender_domain(const char *mail_from, char *out, size_t size);
 *
 *	void rcpt_msg_reset(struct rcpt_msg *m);
 *	void rcpt_msg_accepted(struct rcpt_msg *m);
 *	void rcpt_msg_drop(struct rcpt_msg *m, const char *rcpt);
 *	int rcpt_msg_eom(struct rcpt_msg *m,
 *			 int (*delrcpt)(void *arg, const char *rcpt), void *arg);
 *
 * DESCRIPTION
 *	rcpt_check() decides what happens to one recipient, as the RCPT TO
 *	argument says it (angle brackets or not), for mail from
 *	sender_domain ("" for the null sender):
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
 *	sender domain and reason (see suppress(3)).  Redis connections come
 *	from a pool shared by the milter's threads, one per concurrent check.
 *
 *	rcpt_sender_domain() gives the normalised domain of a MAIL FROM
 *	argument, or "" for "<>" or an unreadable address.
 *
 *	struct rcpt_msg is the per-message state of the discard action: the
 *	recipients accepted, and those to delete.  rcpt_msg_eom() calls
 *	delrcpt for each recipient to delete and returns 1 when no recipient
 *	is left (the whole message is to be discarded), 0 otherwise, -1 when
 *	delrcpt failed (the caller tempfails the message rather than deliver
 *	to a suppressed address).  It resets the state for the next message.
 */
#ifndef OUTPOST_RCPT_CHECK_H
#define OUTPOST_RCPT_CHECK_H

#include <stddef.h>

struct outpost_conf;

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
};

void rcpt_check_init(const struct outpost_conf *conf);
void rcpt_check_shutdown(void);
enum rcpt_verdict rcpt_check(const char *rcpt, const char *sender_domain,
			     struct rcpt_reply *reply);
void rcpt_sender_domain(const char *mail_from, char *out, size_t size);

void rcpt_msg_reset(struct rcpt_msg *m);
void rcpt_msg_accepted(struct rcpt_msg *m);
void rcpt_msg_drop(struct rcpt_msg *m, const char *rcpt);
int rcpt_msg_eom(struct rcpt_msg *m, int (*delrcpt)(void *arg, const char *rcpt),
		 void *arg);

#endif
