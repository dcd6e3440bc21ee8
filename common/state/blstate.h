/*
 * blstate - the blocklist watch's last answers, in Redis
 *
 * SYNOPSIS
 *	#include "blstate.h"
 *
 *	long long blstate_put(struct rconn *rc, const char *prefix,
 *			      const char *list, const char *target,
 *			      const char *state, const char *code,
 *			      const char *reason, long long now);
 *	int blstate_read(struct rconn *rc, const char *prefix,
 *			 void (*fn)(const struct blstate *, void *),
 *			 void *arg);
 *
 * DESCRIPTION
 *	outpost-logd asks the [blocklist NAME] lists about the relay's
 *	addresses and domains on a schedule (blwatch) and keeps each last
 *	answer here, so that outpostctl stats can show what is listed now:
 *
 *	P{bl}:watch	hash; field "LIST|TARGET", value "STATE SINCE CHECKED
 *			CODE REASON": STATE listed, clean or unknown; SINCE
 *			the UNIX time the target entered that state, CHECKED
 *			the time of the last answer; CODE the deciding answer
 *			or "-"; REASON the list's TXT, or nothing.  TTL
 *			BLSTATE_TTL, renewed by each write.
 *
 *	blstate_put() writes one answer in one script call; SINCE stays
 *	while the state stays (also across restarts and nodes).  It returns
 *	SINCE, or -1 on a Redis problem (the caller logs; the next round
 *	writes again).  A '|' in a name or a control character in the
 *	reason is replaced.
 *
 *	blstate_read() calls fn for each well-formed entry checked within
 *	BLSTATE_TTL; it returns 0, or -1 on a Redis problem.  An older one
 *	is of a target or list no longer watched, kept by the answers about
 *	the others: it does not say what is listed now.
 */
#ifndef OUTPOST_BLSTATE_H
#define OUTPOST_BLSTATE_H

#include "redisconn.h"

#define BLSTATE_TTL	(7 * 86400)
#define BLSTATE_REASON_MAX 512

struct blstate {
    char list[128];
    char target[256];
    char state[16];
    long long since;
    long long checked;
    char code[32];		/* "" when none */
    char reason[BLSTATE_REASON_MAX];
};

long long blstate_put(struct rconn *rc, const char *prefix, const char *list,
		      const char *target, const char *state, const char *code,
		const char *reason, long long now);
int blstate_read(struct rconn *rc, const char *prefix,
		 void (*fn)(const struct blstate *, void *), void *arg);

#endif
