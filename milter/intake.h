/*
 * intake - bounce, complaint and unsubscribe mail, and the tagged return path
 *
 * SYNOPSIS
 *	#include "intake.h"
 *
 *	void intake_init(const struct outpost_conf *conf);
 *	struct intake_setup *intake_setup_new(const struct outpost_conf *conf,
 *					      uid_t owner, char *err,
 *					      size_t errlen);
 *	void intake_setup_unref(struct intake_setup *is);
 *	int intake_setup_rewrites(const struct intake_setup *is);
 *	void intake_shutdown(void);
 *
 *	void intake_msg_begin(struct intake_msg *m, struct intake_setup *is,
 *			      const struct outpost_conf *conf);
 *	void intake_msg_mta(struct intake_msg *m, const char *name);
 *	void intake_msg_reset(struct intake_msg *m);
 *	int intake_rcpt(struct intake_msg *m, const struct recipient *r);
 *	void intake_rcpt_accepted(struct intake_msg *m,
 *				  const struct recipient *r);
 *	int intake_keeps_reports(const struct intake_msg *m);
 *	int intake_is_report(const struct intake_msg *m);
 *	void intake_header(struct intake_msg *m, const char *name,
 *			   const char *value, int add_space);
 *	void intake_eoh(struct intake_msg *m);
 *	void intake_body(struct intake_msg *m, const unsigned char *buf,
 *			 size_t len);
 *	enum intake_verdict intake_eom(struct intake_msg *m, const char *qid,
 *				       struct intake_reply *reply);
 *	int intake_sender(struct intake_msg *m, const char *sender_domain,
 *			  int may_sign, const char *qid, char *out,
 *			  size_t size);
 *	int intake_unsub_address(const struct intake_msg *m,
 *				 const char *sender_domain, char *out,
 *				 size_t size);
 *	int intake_check(const struct intake_msg *m, const char *addr,
 *			 const char *sender_domain, int may_sign,
 *			 unsigned long long *id, const char *qid);
 *	void intake_stats_log(void);
 *	void intake_stats_get(struct intake_stats *out);
 *
 * DESCRIPTION
 *	Outgoing mail: intake_sender() gives the new envelope sender of a
 *	message from a client whose mail is signed (may_sign: nonzero
 *	signclient_check(3)): BOUNCE_LOCAL-TOKEN@BOUNCE_DOMAIN, the
 *	token naming the single recipient and the sender domain (verp(3)).
 *	A recipient too long for the local part is kept in Redis under a
 *	random id (one SET); with several recipients, or when that SET
 *	fails, the token names the sender domain only.  It returns 1 with
 *	the address in out (no angle brackets), 0 to leave the sender as
 *	it is (null sender, intake off, client not authorised, already a
 *	bounce address).
 *
 *	intake_unsub_address() gives the unsubscribe address for the
 *	List-Unsubscribe field of an outgoing message (listunsub(3)):
 *	UNSUBSCRIBE_LOCAL-TOKEN@BOUNCE_DOMAIN with the token of its single
 *	recipient when it fits in a local part, else one that names the
 *	sender domain (the author of the unsubscribe mail is the one who
 *	leaves).  It returns 1 with the address in out, 0 when there is none
 *	(intake off, null sender, a sender domain too long).
 *
 *	Incoming reports: intake_rcpt() returns 1 when r is one of the
 *	intake addresses (a tagged bounce address, the complaint or
 *	unsubscribe address of the bounce domain, or one of [intake]
 *	complaint_addresses); the caller skips the suppression check for it
 *	and, unless reports are kept, deletes it at end of message.  Such a
 *	message is collected (at most [intake] max_report_size bytes) and
 *	intake_eom() has it read (bounce(3)) by a parser process without the
 *	keys (parser_pool(3)), attributes it (the token of the
 *	envelope recipient, or for complaints the token in the returned
 *	original's Return-Path or Original-Mail-From), and applies the rules
 *	(intake_act(3)).  Forged, stale and missing tokens change nothing
 *	and are counted.  It returns INTAKE_DONE, or INTAKE_TEMPFAIL with
 *	the reply to give when Redis or the parser failed (the sender
 *	retries; nothing is lost).  Reports are never signed.  A DSN this
 *	relay made itself acts on the suppression list but is neither
 *	counted nor written as an event (outpost-logd did both from the
 *	log): its Reporting-MTA is [general] node, [dns] relay_hostname or
 *	the name the MTA gave itself, which intake_msg_mta() records for
 *	the message (the macro j at connect: Postfix's myhostname); the
 *	names compare whatever their case and a trailing dot.
 *
 *	Test messages: intake_check() tells whether addr is the check
 *	address of outpostctl test-send, VERP_CHECK_LOCAL-TOKEN@ the
 *	bounce domain, TOKEN a verp(3) token of kind VERP_CHECK naming a
 *	64-bit report id.  From a client that may sign (may_sign) with an
 *	envelope sender outside the bounce domain it is outgoing mail
 *	(INTAKE_CHECK_NO: signed and tagged, it leaves for the bounce
 *	domain's MX and comes back); otherwise a valid token gives
 *	INTAKE_CHECK_EVAL with the id (checkmsg(3) evaluates the message),
 *	a forged, stale or malformed one INTAKE_CHECK_FORGED (counted and
 *	logged: the message is dropped unread).
 *
 *	intake_init() names the configuration whose [redis] settings intake
 *	uses for good (reloads keep them, as for the suppression check).
 *	intake_setup_new() copies what intake needs of a configuration and
 *	loads the secrets (NULL: intake off); it is immutable and reference
 *	counted, held by the milter's settings (settings(3)), and each
 *	message keeps the one it began with (intake_msg_begin()).  The
 *	conf given there is the configuration of the same snapshot: its
 *	[tenant NAME] sections name the stream each event of the message
 *	goes to, so a tenant added by a reload gets the events of the
 *	messages that begin after it.  It must stay valid until
 *	intake_msg_reset() (the caller holds the settings(3) it belongs
 *	to for as long).
 *	intake_setup_rewrites() says whether envelope senders are tagged.
 *
 * DIAGNOSTICS
 *	intake_setup_new() returns NULL with a message in err when the secret
 *	file is unsafe or unreadable.  One log line per report and per
 *	rewritten sender (debug level).
 */
#ifndef OUTPOST_INTAKE_H
#define OUTPOST_INTAKE_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "addr.h"
#include "intake_act.h"

struct outpost_conf;
struct intake_setup;
struct recipient;

enum intake_verdict { INTAKE_DONE, INTAKE_TEMPFAIL };
enum intake_check_kind { INTAKE_CHECK_NO, INTAKE_CHECK_EVAL, INTAKE_CHECK_FORGED };
enum intake_addr { INTAKE_NONE, INTAKE_ADDR_BOUNCE, INTAKE_ADDR_COMPLAINT,
		   INTAKE_ADDR_UNSUB };

/* what intake_stats_get() copies: counts since the start */
struct intake_stats {
    unsigned long rewritten, rewritten_id, rewritten_domain, reports, acted,
	suppressed, forged, stale, malformed, unattributed, tempfail;
    unsigned long busy, over_budget;	/* not read: INTAKE_MAX_PARSING, CPU budget */
    unsigned long truncated;		/* read up to BOUNCE_MAX_RCPTS recipients */
    unsigned long by_addr[INTAKE_ADDR_UNSUB + 1];	/* reports, by enum intake_addr */
    unsigned long by_event[INTAKE_UNSUBSCRIBE + 1];	/* acted, by intake_event_kind */
};

struct intake_reply {
    const char *rcode;
    const char *xcode;
    char text[128];
};

struct intake_msg {
    struct intake_setup *setup;		/* reference, or NULL */
    const struct outpost_conf *conf;	/* the same snapshot's: tenants of events */
    char mta_name[256];			/* the MTA's own name ({j}), or "" */
    int addr_kind;			/* enum intake_addr of the report */
    char env_rcpt[ADDR_MAX];		/* the intake address, as normalised */
    size_t nrcpts;			/* outgoing recipients accepted */
    char first_rcpt[ADDR_MAX];
    char *buf;				/* the report: headers, blank line, body */
    size_t len, cap;
    int too_large;
};

void intake_init(const struct outpost_conf *conf);
struct intake_setup *intake_setup_new(const struct outpost_conf *conf, uid_t owner,
				      char *err, size_t errlen);
void intake_setup_unref(struct intake_setup *is);
int intake_setup_rewrites(const struct intake_setup *is);
void intake_shutdown(void);

void intake_msg_begin(struct intake_msg *m, struct intake_setup *is,
		      const struct outpost_conf *conf);
void intake_msg_mta(struct intake_msg *m, const char *name);
void intake_msg_reset(struct intake_msg *m);
int intake_rcpt(struct intake_msg *m, const struct recipient *r);
void intake_rcpt_accepted(struct intake_msg *m, const struct recipient *r);
int intake_keeps_reports(const struct intake_msg *m);
int intake_is_report(const struct intake_msg *m);
void intake_header(struct intake_msg *m, const char *name, const char *value,
		   int add_space);
void intake_eoh(struct intake_msg *m);
void intake_body(struct intake_msg *m, const unsigned char *buf, size_t len);
enum intake_verdict intake_eom(struct intake_msg *m, const char *qid,
			       struct intake_reply *reply);
int intake_sender(struct intake_msg *m, const char *sender_domain, int may_sign,
		  const char *qid, char *out, size_t size);
int intake_unsub_address(const struct intake_msg *m, const char *sender_domain,
			 char *out, size_t size);
int intake_check(const struct intake_msg *m, const char *addr, const char *sender_domain,
		 int may_sign, unsigned long long *id, const char *qid);
void intake_stats_log(void);
void intake_stats_get(struct intake_stats *out);

#endif
