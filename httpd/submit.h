/*
 * submit - hand messages to the local MTA over SMTP, as a tenant
 *
 * SYNOPSIS
 *	#include "submit.h"
 *
 *	struct submit *submit_start(const char *address, long connections,
 *				    long long timeout_ms, long queue_max);
 *	int submit_queue(struct submit *s, struct submit_job *job);
 *	void submit_stop(struct submit *s);
 *
 * DESCRIPTION
 *	submit_start() starts `connections' threads, each with one
 *	persistent SMTP connection to address ("inet:HOST:PORT" or
 *	"unix:/PATH": a Postfix smtpd of its own whose
 *	smtpd_authorized_xclient_hosts names us).  A connection is opened
 *	when first needed, kept between transactions (RSET after a refusal)
 *	and opened again after an error or when the server closed it.  Each
 *	read and write waits at most timeout_ms.
 *
 *	submit_queue() queues job and returns 0, or -1 when queue_max jobs
 *	wait already (the caller answers 503).  A thread takes it, says
 *	XCLIENT LOGIN=job->login once per connection and login (Postfix then
 *	treats the session as authenticated by that SASL user: the milter
 *	and policyd apply that user's signing, suppression scope and
 *	limits), sends MAIL FROM:<job->sender>, RCPT TO:<job->rcpt> and DATA
 *	(pipelined when the server offers PIPELINING), then job->head and
 *	job->body (CRLF lines; dot-stuffed here).  It fills job->result:
 *	SUBMIT_QUEUED with job->queue_id from "250 ... queued as ID",
 *	SUBMIT_REFUSED (a 5xx) or SUBMIT_TEMPFAIL (a 4xx, or no answer) with
 *	job->code ("550"), job->xcode ("5.7.1", or "") and job->text (the
 *	server's words) set; then calls job->done(job) from its thread.  A
 *	transaction cut on a reused connection before DATA is tried once
 *	more on a new one.  The job stays the caller's; it must live until
 *	done() is called.
 *
 *	submit_stop() answers every waiting job SUBMIT_TEMPFAIL, lets the
 *	running ones end, joins the threads and frees s.
 */
#ifndef OUTPOST_HTTPD_SUBMIT_H
#define OUTPOST_HTTPD_SUBMIT_H

#include <stddef.h>

#include "addr.h"

#define SUBMIT_TEXT_MAX 512

enum submit_result { SUBMIT_PENDING, SUBMIT_QUEUED, SUBMIT_REFUSED, SUBMIT_TEMPFAIL };

struct submit_job {
    const char *login;			/* the tenant */
    const char *sender;			/* envelope sender, normalised */
    const char *rcpt;			/* envelope recipient, normalised */
    const char *head, *body;		/* the message: head then body */
    size_t head_len, body_len;
    int result;				/* enum submit_result, set before done() */
    char queue_id[64];
    char code[4];
    char xcode[16];
    char text[SUBMIT_TEXT_MAX];
    void (*done)(struct submit_job *job);
    void *arg;				/* the caller's */
    struct submit_job *next;		/* the queue's */
};

struct submit;

struct submit *submit_start(const char *address, long connections, long long timeout_ms,
			    long queue_max);
int submit_queue(struct submit *s, struct submit_job *job);
void submit_stop(struct submit *s);

#endif
