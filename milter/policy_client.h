/*
 * policy_client - persistent connections to outpost-policyd (outpost-milter)
 *
 * SYNOPSIS
 *	#include "policy_client.h"
 *
 *	struct policy_client *policy_client_new(const char *service,
 *						long long timeout_ms,
 *						char *err, size_t errlen);
 *	int policy_client_ask(struct policy_client *pc,
 *			      const struct policy_query *q,
 *			      struct policy_verdict *v,
 *			      char *err, size_t errlen);
 *	void policy_client_free(struct policy_client *pc);
 *
 * DESCRIPTION
 *	policy_client_new() checks service ("unix:/path"; the only form)
 *	and returns a pool of connections to it, none opened yet; NULL with
 *	the reason in err for another form or a path too long for a socket
 *	address.
 *
 *	policy_client_ask() sends one RCPT request and reads its answer
 *	within timeout_ms in all (connecting included), on an idle
 *	connection of the pool or a new one; the threads of the milter ask
 *	at the same time, each on a connection of its own.  A connection
 *	goes back to the pool after a complete answer, and is closed after
 *	any error.  A pooled connection that the server closed while it
 *	was idle (end of file or reset before any byte of the answer) is
 *	dropped and the request sent again at once on the next idle one or
 *	a new one (after a server restart every idle connection is stale);
 *	a timeout is never retried (the server may have counted the
 *	request).  It returns 0 with the
 *	answer in v, or -1 with the reason in err.
 *
 *	At most POLICY_CLIENT_IDLE connections stay open while idle;
 *	more are closed after their answer.
 *
 *	policy_client_free() closes every idle connection; no thread may
 *	be asking any more.
 */
#ifndef OUTPOST_POLICY_CLIENT_H
#define OUTPOST_POLICY_CLIENT_H

#include <stddef.h>

#include "policy_answer.h"

#define POLICY_CLIENT_IDLE 32

struct policy_client;

struct policy_client *policy_client_new(const char *service, long long timeout_ms,
					char *err, size_t errlen);
int policy_client_ask(struct policy_client *pc, const struct policy_query *q,
		      struct policy_verdict *v, char *err, size_t errlen);
void policy_client_free(struct policy_client *pc);

#endif
