/*
 * msg - the one logging module of Outpost
 *
 * SYNOPSIS
 *	#include "msg.h"
 *
 *	void msg_open(const char *progname, int to_stderr, int facility);
 *	void msg_open_tool(const char *progname);
 *	void msg_verbose(int level);
 *	void msg_debug(const char *fmt, ...);
 *	void msg_info(const char *fmt, ...);
 *	void msg_warn(const char *fmt, ...);
 *	void msg_error(const char *fmt, ...);
 *	void msg_fatal(const char *fmt, ...);	(does not return)
 *	int  msg_facility_code(const char *name);
 *
 *	struct msg_limit lim = MSG_LIMIT_INIT(seconds);
 *	void msg_warn_limited(struct msg_limit *lim, const char *fmt, ...);
 *	void msg_info_limited(struct msg_limit *lim, const char *fmt, ...);
 *	void msg_limit_reset(struct msg_limit *lim);
 *
 * DESCRIPTION
 *	Messages go to syslog(3) with the configured facility and their own
 *	priority, or to stderr (one line each, prefixed with the time, the
 *	program name and severity) when to_stderr is set (-f) or when there
 *	is no syslog socket to write to (no /dev/log, as in a container).
 *	Until msg_open() is called, messages go to stderr.  When stderr is
 *	the systemd journal ($JOURNAL_STREAM names it), each line begins
 *	with the sd-daemon(3) priority prefix ("<4>" for a warning) instead
 *	of the time and name, so that the journal records the priority.
 *	Safe to call from several threads.
 *
 *	msg_open_tool() is for a command-line tool (outpostctl): whoever runs
 *	it reads its messages as they come, so each goes to stderr as
 *	"progname: text", never to syslog, with no time and no journal
 *	prefix; warnings, fatal errors and debug lines carry their severity
 *	("progname: warning: text"), errors and information do not.
 *
 *	msg_debug() prints only after msg_verbose(1) or higher.
 *	msg_fatal() logs and exits with status 1.
 *	msg_facility_code() maps "mail", "local0" ... "local7", "daemon",
 *	"user" to a syslog facility; -1 when the name is unknown.
 *
 *	msg_warn_limited() and msg_info_limited() say at most one line per
 *	interval of lim, for what a client or a failing server can repeat
 *	at will: the lines held back are counted, and the next line said
 *	ends with "(N similar messages suppressed)".  A struct msg_limit
 *	(static, or one per thing watched) starts with MSG_LIMIT_INIT;
 *	msg_limit_reset() lets its next line through at once (the problem
 *	it spoke of is over).
 */
#ifndef OUTPOST_MSG_H
#define OUTPOST_MSG_H

#define MSG_PRINTF(a, b) __attribute__((format(printf, a, b)))

void msg_open(const char *progname, int to_stderr, int facility);
void msg_open_tool(const char *progname);
void msg_verbose(int level);
int msg_verbosity(void);
int msg_facility_code(const char *name);

void msg_debug(const char *fmt, ...) MSG_PRINTF(1, 2);
void msg_info(const char *fmt, ...) MSG_PRINTF(1, 2);
void msg_warn(const char *fmt, ...) MSG_PRINTF(1, 2);
void msg_error(const char *fmt, ...) MSG_PRINTF(1, 2);
void msg_fatal(const char *fmt, ...) MSG_PRINTF(1, 2) __attribute__((noreturn));

struct msg_limit {
    long long interval_ms;
    long long next_ms;		/* monotonic: nothing said before this */
    unsigned long suppressed;	/* held back since the last line said */
};

#define MSG_LIMIT_INIT(seconds) {(long long) (seconds) * 1000, 0, 0}

void msg_warn_limited(struct msg_limit *lim, const char *fmt, ...) MSG_PRINTF(2, 3);
void msg_info_limited(struct msg_limit *lim, const char *fmt, ...) MSG_PRINTF(2, 3);
void msg_limit_reset(struct msg_limit *lim);

#endif
