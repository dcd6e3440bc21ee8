/*
 * listunsub - the List-Unsubscribe header fields of one message
 *	       (RFC 2369, RFC 8058 one-click), outpost-milter
 *
 * SYNOPSIS
 *	#include "listunsub.h"
 *
 *	struct listunsub *listunsub_new(const struct outpost_conf *conf,
 *					uid_t owner, char *err,
 *					size_t errlen);
 *	void listunsub_free(struct listunsub *lu);
 *	int listunsub_make(const struct listunsub *lu,
 *			   const struct listunsub_msg *m,
 *			   struct listunsub_hdrs *out);
 *	const char *listunsub_status_name(int status);
 *
 * DESCRIPTION
 *	A sender named by [milter] list_unsubscribe_senders (its SASL user,
 *	or else its sender domain, as [pool NAME] senders are matched) has
 *	its messages leave with
 *
 *	    List-Unsubscribe: <https://HOST/u/TOKEN>, <mailto:ADDR>
 *	    List-Unsubscribe-Post: List-Unsubscribe=One-Click
 *
 *	where https://HOST is [httpd] public_url, TOKEN the unsubscribe
 *	token of webtoken(3) (the recipient and the envelope sender domain,
 *	signed with the first secret of [intake] secret_file), which
 *	outpost-httpd(8) answers, and ADDR the intake's unsubscribe address
 *	when the intake is on (intake_unsub_address(3)); without it the
 *	field holds the https URL alone.
 *
 *	The fields are decided at the end of the header, before the signer
 *	starts hashing, so that the DKIM signatures cover them ([dkim]
 *	sign_headers and oversign_headers name both by default).
 *
 *	A milter sees one message for all its recipients, and a token names
 *	one recipient: a message for several recipients gets no fields at
 *	all (a token naming the first would let the others unsubscribe
 *	somebody else, and one naming none would need the recipient to
 *	type an address).  Neither does a message that has a
 *	List-Unsubscribe field already (the sender's own is kept), one with
 *	the null sender, or one whose recipient does not fit in a token.
 *
 *	listunsub_new() reads what listunsub_make() needs from conf: NULL
 *	with err "" when list_unsubscribe_senders is empty (off), NULL with
 *	the reason in err when public_url or secret_file is missing or the
 *	secrets cannot be read (they must belong to owner).  The result is
 *	immutable, held by the milter's settings (settings(3)).
 *
 *	listunsub_make() is a pure function of lu and m: it returns
 *	LISTUNSUB_ADD with both values in out (leading space included when
 *	m->lead_space, long lines folded with LF as the milter protocol
 *	wants), or the reason for adding nothing.
 */
#ifndef OUTPOST_LISTUNSUB_H
#define OUTPOST_LISTUNSUB_H

#include <stddef.h>
#include <sys/types.h>

#include "addr.h"
#include "webtoken.h"

struct outpost_conf;
struct listunsub;

#define LISTUNSUB_VALUE_MAX	(WEBTOKEN_MAX + 2 * ADDR_MAX + 64)

enum listunsub_status {
    LISTUNSUB_ADD,			/* out holds the fields */
    LISTUNSUB_NOT_OPTED,		/* the sender did not ask for them */
    LISTUNSUB_PRESENT,			/* the message has its own */
    LISTUNSUB_RECIPIENTS,		/* not exactly one recipient */
    LISTUNSUB_NO_TOKEN,			/* null sender, or no token fits */
    LISTUNSUB_NSTATUS
};

/* what one message says, at the end of its header */
struct listunsub_msg {
    const char *auth_user;		/* SASL user; NULL or "" if none */
    const char *sender_domain;		/* of MAIL FROM; "" for <> */
    int has_field;			/* a List-Unsubscribe field is there */
    size_t nrcpts;			/* outgoing recipients accepted */
    const char *rcpt;			/* the first, normalised */
    const char *mailto;			/* the intake's address, or NULL */
    long long now;			/* UNIX seconds, the token's issue time */
    int lead_space;			/* values begin with a space */
};

struct listunsub_hdrs {
    char unsub[LISTUNSUB_VALUE_MAX];	/* List-Unsubscribe */
    char post[64];			/* List-Unsubscribe-Post */
};

struct listunsub *listunsub_new(const struct outpost_conf *conf, uid_t owner,
				char *err, size_t errlen);
void listunsub_free(struct listunsub *lu);
int listunsub_make(const struct listunsub *lu, const struct listunsub_msg *m,
		   struct listunsub_hdrs *out);
const char *listunsub_status_name(int status);

#endif
