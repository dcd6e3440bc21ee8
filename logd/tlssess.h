/*
 * tlssess - which deliveries of an SMTP client went over TLS, and how
 *
 * SYNOPSIS
 *	#include "tlssess.h"
 *
 *	struct tlssess *tlssess_new(void);
 *	void tlssess_note(struct tlssess *s, const struct ml_event *ev);
 *	int tlssess_level(struct tlssess *s, const struct ml_event *ev);
 *	const char *tlssess_counter(int level);
 *	void tlssess_free(struct tlssess *s);
 *
 * DESCRIPTION
 *	An SMTP client logs its TLS session in a line of its own, without a
 *	queue id, before the delivery lines of that session (maillog(3),
 *	ML_TLS); the two share the process id and the server.
 *
 *	tlssess_note() remembers an ML_TLS line: its level for the process
 *	(the logging host and pid) and the server it names.
 *	tlssess_level() says how a delivery line (ML_DELIVERY) of that
 *	process travelled: ML_TLS_VERIFIED or ML_TLS_UNVERIFIED when the
 *	process's last TLS line names the delivery's server (its IP address,
 *	or for Sendmail, which names no address, its host), 0 (plaintext)
 *	otherwise.  A delivery to another server forgets the process's TLS
 *	line: that session is over.  Several deliveries of one session (one
 *	message's recipients, or the next messages to the same server over a
 *	cached connection in the same process) share its line; a Postfix
 *	process that takes over another's cached TLS session
 *	(smtp_tls_connection_reuse) logs "reused" lines of its own.
 *
 *	What cannot be seen: a process that connects to the same server again
 *	and this time gets no TLS (the server stopped offering STARTTLS
 *	between two connections of one process) is counted with its last TLS
 *	line.
 *
 *	At most TLSSESS_MAX processes are remembered; beyond, the older half
 *	is forgotten (an SMTP client lives minutes, not days).
 *
 *	tlssess_counter() names the statistics counter of a level:
 *	STATS_TLS_VERIFIED, STATS_TLS_UNVERIFIED, STATS_TLS_NONE.
 */
#ifndef OUTPOST_TLSSESS_H
#define OUTPOST_TLSSESS_H

#include "maillog.h"

#define TLSSESS_MAX	20000

struct tlssess;

struct tlssess *tlssess_new(void);
void tlssess_note(struct tlssess *s, const struct ml_event *ev);
int tlssess_level(struct tlssess *s, const struct ml_event *ev);
const char *tlssess_counter(int level);
void tlssess_free(struct tlssess *s);

#endif
