/*
 * maillog - read one line of a Postfix or Sendmail log
 *
 * SYNOPSIS
 *	#include "maillog.h"
 *
 *	int maillog_parse(const char *line, size_t len, struct ml_event *ev);
 *	const char *maillog_status_name(int status);
 *	int maillog_time(const struct ml_time *t, long long now,
 *			 long long *when);
 *	int maillog_too_old(const struct ml_time *t, long long now,
 *			    long long max_age, long long *when);
 *	const char *maillog_reply(const struct ml_event *ev, size_t *len);
 *
 * DESCRIPTION
 *	maillog_parse() reads one log line as syslog or Postfix's own
 *	maillog_file writes it (without its newline) and says what it is:
 *
 *	ML_DELIVERY	one delivery attempt: "QID: to=<rcpt>, relay=...,
 *			delay=..., dsn=X.Y.Z, status=sent|deferred|bounced|
 *			expired|SOFTBOUNCE (text)" from a Postfix delivery
 *			agent (SOFTBOUNCE, soft_bounce = yes: deferred), or
 *			"QID: to=<a>,<b>, ..., dsn=..., stat=Sent|Deferred|
 *			..." from Sendmail (several recipients possible)
 *	ML_FROM		a message entered the active queue (Postfix qmgr)
 *			or was received (Sendmail): its sender and size
 *	ML_EXPIRED	Postfix gave up on a message: "from=<s>,
 *			status=expired, returned to sender"
 *	ML_REMOVED	Postfix removed a message from its queue
 *	ML_TLS		an SMTP client's TLS session: Postfix's "Verified|
 *			Trusted|Untrusted|Anonymous TLS connection
 *			established|reused to HOST[IP]:PORT: TLSv1.3 with
 *			cipher ..." (no queue id), Sendmail's "[QID: ]
 *			STARTTLS=client, relay=HOST, version=..., verify=OK|
 *			FAIL|NO|NONE|..., cipher=...": ev->tls is
 *			ML_TLS_VERIFIED (Verified, Trusted; verify=OK or
 *			TRUSTED) or ML_TLS_UNVERIFIED, relay_host (and for
 *			Postfix relay_ip) the server, text the protocol
 *	ML_IGNORED	a well-formed line about something else (smtpd
 *			connections, other programs in a syslog file)
 *	ML_GARBAGE	not a syslog line, or a delivery line that lacks
 *			what a delivery line must hold
 *
 *	Three header forms are read: "Mmm dd hh:mm:ss[.f] host tag[pid]: " (RFC
 *	3164, Postfix's maillog_file, journalctl -o short-precise), RFC 5424's
 *	"<PRI>1 TIME host tag pid msgid structured-data " and "YYYY-MM-DDThh:mm:ss[.f](Z|+hh:mm)
 *	host tag[pid]: " (RFC 5424 style, rsyslog's high precision format;
 *	the zone may be "+hhmm" as journalctl -o short-iso writes it).
 *	Postfix tags are "postfix/smtp" or, with -o syslog_name in master.cf,
 *	"postfix/NAME/smtp": ev->service is NAME, the way a log line names
 *	the transport (IP pool) that delivered; without a NAME it is the
 *	program ("smtp" in "postfix/smtp": the master.cf service smtp, or
 *	any service without a syslog_name of its own).  For Sendmail ("sendmail",
 *	"sm-mta") the service is the mailer= field.  ev->pid is the process
 *	id of the tag (0 when none): an SMTP client's TLS line and its
 *	delivery lines share it.
 *
 *	A delivery's relay, Postfix's "host[ip]:port" or "host[socket path]"
 *	(LMTP over a UNIX-domain socket) or Sendmail's "host. [ip]", is split
 *	into relay_host, relay_ip (the text between the brackets) and
 *	relay_port (0 when none is written).
 *
 *	Addresses are copied as written between the angle brackets; text
 *	fields are truncated to their buffer sizes (ML_TEXT_MAX), never
 *	overrun.  Lines longer than ML_LINE_MAX are garbage.
 *
 *	maillog_time() turns the header time into UNIX seconds; an RFC 3164
 *	time has no year or zone: it is taken in local time, in the latest
 *	year that puts it no more than ML_AHEAD_MAX seconds after now (a log
 *	line is not written ahead of its time; a replayed log is months
 *	old, never months ahead).  An RFC 5424 time without a zone is local
 *	time.  A local time that happens twice (the hour repeated when
 *	summer time ends) is the one nearer now.  maillog_too_old() gives the time too (*when; now when there is
 *	none) and says whether it is more than max_age seconds before now;
 *	max_age 0 or less: never.  maillog_reply() points at the remote
 *	server's reply inside ev->text ("550 5.1.1 ..."), without Postfix's
 *	"host X[ip] said: " and "(in reply to ... command)" around it.
 *
 * DIAGNOSTICS
 *	maillog_parse() returns the kind; it never fails otherwise.
 */
#ifndef OUTPOST_MAILLOG_H
#define OUTPOST_MAILLOG_H

#include <stddef.h>

#define ML_LINE_MAX	8192
#define ML_TEXT_MAX	1000
#define ML_ADDR_MAX	256
/* Sendmail logs up to about 1000 bytes of "<a@b.c>," recipients a line */
#define ML_MAX_RCPTS	128
#define ML_AHEAD_MAX	86400		/* a year-less time may be this far ahead */

enum ml_kind {
    ML_GARBAGE = -1,
    ML_IGNORED = 0,
    ML_DELIVERY,
    ML_FROM,
    ML_EXPIRED,
    ML_REMOVED,
    ML_TLS,
};

enum ml_tls { ML_TLS_VERIFIED = 1, ML_TLS_UNVERIFIED };

enum ml_mta { ML_POSTFIX = 1, ML_SENDMAIL };

enum ml_status {
    ML_SENT = 1, ML_DEFERRED, ML_BOUNCED, ML_EXPIRED_STATUS,
};

struct ml_time {
    int year;			/* 0: not in the line */
    int mon, mday, hour, min, sec;	/* mon 1..12 */
    int has_tz;
    int tzoff_min;		/* east of UTC */
};

struct ml_event {
    int kind;
    int mta;
    struct ml_time time;
    char host[128];		/* the host that logged */
    char service[64];		/* pool hint: syslog_name part or mailer */
    int pid;			/* of the tag; 0 none */
    int tls;			/* ML_TLS: enum ml_tls */
    char qid[32];
    char rcpt[ML_MAX_RCPTS][ML_ADDR_MAX];
    int nrcpt;			/* recipients in rcpt[] */
    int rcpt_truncated;		/* more recipients than ML_MAX_RCPTS */
    char orig_rcpt[ML_ADDR_MAX];
    char sender[ML_ADDR_MAX];	/* ML_FROM, ML_EXPIRED */
    long long size;		/* ML_FROM; -1 unknown */
    char relay_host[256];	/* "mx.example.com", "none" */
    char relay_ip[64];		/* "192.0.2.1"; a socket: "private/amavis" */
    int relay_port;		/* Postfix's ":25" after it; 0 none */
    char dsn[16];		/* "4.7.28", "" */
    int status;			/* enum ml_status */
    double delay;		/* seconds; -1 unknown */
    char text[ML_TEXT_MAX];	/* what follows status: "(...)" inside */
};

int maillog_parse(const char *line, size_t len, struct ml_event *ev);
const char *maillog_status_name(int status);
int maillog_time(const struct ml_time *t, long long now, long long *when);
int maillog_too_old(const struct ml_time *t, long long now, long long max_age,
		    long long *when);
const char *maillog_reply(const struct ml_event *ev, size_t *len);

#endif
