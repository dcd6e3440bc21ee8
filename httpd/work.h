/*
 * work - what outpost-httpd asks of Redis, in a thread of its own
 *
 * SYNOPSIS
 *	#include "work.h"
 *
 *	struct work *work_start(const struct outpost_conf *conf,
 *				struct hmetrics *m);
 *	int work_unsub(struct work *w, struct work_unsub *job);
 *	int work_event(struct work *w, const struct work_event *ev);
 *	void work_stop(struct work *w);
void work_free(struct work *w);
 *	void work_free(struct work *w);
 *
 * DESCRIPTION
 *	The threads that answer HTTP never wait for Redis: they hand what
 *	must be written to one worker thread through a queue of at most
 *	[httpd] queue_max entries, and go on.
 *
 *	work_unsub() queues an unsubscribe request.  The worker asks whether
 *	the recipient is suppressed for the sender already (then nothing is
 *	written or counted again: a repeated request is answered as done),
 *	and otherwise runs the intake action (intake_act(3): suppressed in
 *	the sender domain's scope, reason unsubscribe, source job->source,
 *	counted once), as the mailto: unsubscribe does.  It sets
 *	job->result to WORK_DONE, WORK_ALREADY or WORK_FAILED (Redis could
 *	not be reached: the caller answers 503, the recipient tries again)
 *	and then calls job->done(job).  work_unsub() returns 0, or -1 when
 *	the queue is full (the caller answers 503 at once).  The job stays
 *	the caller's; it must live until done() is called.
 *
 *	work_event() queues an open or a click to count (a copy of it, its
 *	strings in the same allocation, of their size).  The counts go to
 *	the hourly statistics (stats(3)) by sender domain and provider:
 *	opens, opens_unique, opens_machine, clicks, clicks_unique,
 *	clicks_machine; and, when the token names a campaign, the same
 *	counters as "campaign.COUNTER.CAMPAIGN" (hourly only, see stats.h).
 *	An event is unique when it is the first of its kind for its message
 *	and recipient within [intake] token_max_age: the worker keeps one
 *	key per message and recipient, P{web}:seen:KIND:HASH (TTL
 *	token_max_age).  Machine events are counted, never unique.  A write
 *	that timed out but reached Redis is not counted twice when it is sent
 *	again: the seen marks carry the round that set them, and each stats
 *	batch moves a field from its number to the next, guarded (stats(3),
 *	P{st}:httpd:ID).  While Redis is down the counts wait in
 *	memory (the worker retries every 100 ms, as the connection's back-off
 *	allows); it returns -1 when the queue is full: the event is dropped
 *	and counted as such (metrics).
 *
 *	Both also go to the event stream of the sender domain's tenant
 *	(events(3); the tenants of the settings in force, hsettings(3),
 *	taken again at each round: a reload's new tenants are seen at
 *	once), from the worker thread only: an unsubscribe done (not
 *	one already done) as "unsubscribe" with its source, an open or a
 *	click as "open" or "click" with the message id, campaign, link and
 *	machine 1 for a machine's; written with the counts, once each,
 *	also when a write is retried.  A failure is counted (events_failures())
 *	and logged at most once a minute.
 *
 *	work_stop() answers every waiting unsubscribe WORK_FAILED, writes
 *	what it can, and joins the thread; work_unsub() and work_event()
 *	refuse everything from then on.  work_free() releases the rest,
 *	once no thread can call them any more.
 */
#ifndef OUTPOST_HTTPD_WORK_H
#define OUTPOST_HTTPD_WORK_H

#include "addr.h"
#include "conf.h"
#include "stats.h"
#include "webtoken.h"

struct hmetrics;
struct work;

enum work_result { WORK_PENDING, WORK_DONE, WORK_ALREADY, WORK_FAILED };

struct work_unsub {
    char rcpt[ADDR_MAX];
    char sender_domain[DOMAIN_MAX];
    char provider[STATS_NAME_MAX];
    const char *source;		/* "one-click", "web" */
    long long now;
    int result;			/* enum work_result, set before done() */
    void (*done)(struct work_unsub *job);
    void *arg;			/* the caller's */
    struct work_unsub *next;	/* the queue's */
};

/* an open or a click; the strings are the caller's, copied by work_event() */
struct work_event {
    int kind;			/* WEBTOKEN_OPEN, WEBTOKEN_CLICK */
    int machine;		/* a machine's fetch */
    long long when;		/* UNIX seconds */
    long long when_ms;		/* the event's time, for its stream */
    unsigned char seen[16];	/* hash of kind, message id, recipient */
    const char *sender_domain;
    const char *provider;
    const char *campaign;	/* "" for none */
    const char *rcpt;
    const char *msgid;
    const char *url;		/* a click's link; NULL for an open */
};

struct work *work_start(const struct outpost_conf *conf, struct hmetrics *m);
int work_unsub(struct work *w, struct work_unsub *job);
int work_event(struct work *w, const struct work_event *ev);
void work_stop(struct work *w);
void work_free(struct work *w);

#endif
