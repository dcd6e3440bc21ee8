/*
 * promhttp - the HTTP endpoint that serves a daemon's metrics
 *
 * SYNOPSIS
 *	#include "promhttp.h"
 *
 *	typedef struct prom *(*promhttp_render_fn)(void *arg);
 *
 *	struct promhttp *promhttp_start(struct event_base *base,
 *					const char *listen,
 *					promhttp_render_fn render, void *arg,
 *					char *err, size_t errlen);
 *	struct promhttp *promhttp_start_thread(const char *listen,
 *					       promhttp_render_fn render,
 *					       void *arg, char *err,
 *					       size_t errlen);
 *	void promhttp_stop(struct promhttp *h);
 *
 * DESCRIPTION
 *	Answers GET /metrics on "host:port" ("[v6]:port") with the page
 *	render() builds (prom(3)), which the endpoint frees; render()
 *	returns NULL when the page cannot be made (503).  Another path is
 *	404, another method 405; a request is given 10 seconds, and one
 *	with more than 8 KiB of headers or 1 KiB of body is refused unread.
 *	When accept() fails (out of descriptors), accepting pauses for a
 *	second, with a warning at most once a minute.
 *
 *	promhttp_start() serves on the caller's event loop: render() runs
 *	there.  promhttp_start_thread() is for a program without one (the
 *	milter): a thread of its own with its own event_base, so render()
 *	runs in that thread and may read only what is safe to read from any
 *	thread (atomic counters).  Both bind before they return, so a
 *	started endpoint is listening; they return NULL with a message in
 *	err when it cannot.  The thread blocks SIGPIPE and inherits the rest
 *	of its signal mask: start it after the caller has blocked the
 *	signals it waits for.
 *
 *	promhttp_stop() closes the endpoint (and joins its thread).
 */
#ifndef OUTPOST_PROMHTTP_H
#define OUTPOST_PROMHTTP_H

#include <stddef.h>

#include <event2/event.h>

#include "prom.h"

typedef struct prom *(*promhttp_render_fn)(void *arg);

struct promhttp;

struct promhttp *promhttp_start(struct event_base *base, const char *listen,
				promhttp_render_fn render, void *arg, char *err,
				size_t errlen);
struct promhttp *promhttp_start_thread(const char *listen, promhttp_render_fn render,
				       void *arg, char *err, size_t errlen);
void promhttp_stop(struct promhttp *h);

#endif
