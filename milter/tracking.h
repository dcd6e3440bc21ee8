/*
 * tracking - open and click tracking of one message (outpost-milter)
 *
 * SYNOPSIS
 *	#include "tracking.h"
 *
 *	struct tracking *tracking_new(const struct outpost_conf *conf,
 *				      uid_t owner, char *err, size_t errlen);
 *	void tracking_free(struct tracking *t);
 *
 *	void tracking_msg_begin(struct tracking_msg *m,
 *				const struct tracking *t,
 *				const char *auth_user,
 *				const char *sender_domain);
 *	void tracking_msg_reset(struct tracking_msg *m);
 *	void tracking_header(struct tracking_msg *m, const struct tracking *t,
 *			     const char *name, const char *value,
 *			     int add_space);
 *	int tracking_eoh(struct tracking_msg *m, const struct tracking *t,
 *			 const struct tracking_who *who);
 *	int tracking_body(struct tracking_msg *m, const unsigned char *buf,
 *			  size_t len);
 *	int tracking_rewrite(struct tracking_msg *m, const struct tracking *t,
 *			     long long now);
 *	const char *tracking_status_name(int status);
 *
 * DESCRIPTION
 *	A sender named by [milter] tracking_senders (its SASL user, or else
 *	its envelope sender domain) has the links of its messages rewritten
 *	to https://HOST/c/TOKEN and a 1x1 image https://HOST/o/TOKEN added
 *	(HOST: [httpd] public_url), by trackrw(3), before the message is
 *	signed.  The tokens (webtoken(3)) carry the recipient, the envelope
 *	sender domain, the Message-ID, the campaign (the value of the
 *	[milter] campaign_header field) and, for a click, the link's index
 *	and its original URL, signed with the first secret of [intake]
 *	secret_file: outpost-httpd(8) counts the event and redirects to
 *	that URL, never to one the token does not carry.
 *
 *	tracking_new() reads what tracking needs from conf: NULL with err ""
 *	when tracking_senders is empty (off), NULL with the reason in err
 *	when public_url or secret_file is missing or the secrets cannot be
 *	read (they must belong to owner).  It is immutable, held by the
 *	milter's settings (settings(3)).
 *
 *	A struct tracking_msg follows one message; tracking_msg_reset()
 *	empties it (it must start zeroed).  tracking_msg_begin(), at MAIL
 *	FROM, says whether the sender asked for tracking (t may be NULL:
 *	off); only then does tracking_header() keep each header field (the header block is
 *	what trackrw(3) reads the MIME structure from) and the Message-ID
 *	and campaign.  tracking_eoh() decides: it returns TRACKING_ON when
 *	the message is to be rewritten (then the caller gives the body to
 *	tracking_body() instead of the signer), else the reason why not:
 *	the sender did not ask, the message is not for exactly one
 *	recipient (a token names one), or its header is too large.
 *
 *	tracking_body() keeps a body chunk and returns 0; past the size
 *	limit ([milter] tracking_max_size) it gives up and returns -1: the
 *	caller then gives the signer the body kept so far (from m->buf +
 *	m->body_off to m->buf + m->len) and this chunk, and the chunks that
 *	follow, and the
 *	message is sent unchanged (TRACKING_TOO_BIG).
 *
 *	tracking_rewrite(), at the end of the message, rewrites it: it
 *	returns TRACKING_ON with the new body in m->out (m->out_len bytes),
 *	or the reason the message is sent unchanged (its body kept in m->buf):
 *	TRACKING_TOO_BIG, TRACKING_CTE (the top-level Content-Transfer-
 *	Encoding would have to change, and the signer has hashed the header
 *	already), or TRACKING_RW + a trackrw(3) status.  Either way the
 *	body that leaves is what the signer must hash.
 *
 *	tracking_status_name() names a status for a metric label:
 *	"rewritten", "not_opted_in", "recipients", "header_too_big",
 *	"too_big", "cte", then trackrw_status_name()'s.
 */
#ifndef OUTPOST_TRACKING_H
#define OUTPOST_TRACKING_H

#include <stddef.h>
#include <sys/types.h>

#include "addr.h"
#include "trackrw.h"
#include "webtoken.h"

struct outpost_conf;
struct tracking;

#define TRACKING_HDR_MAX	(256 * 1024)	/* header bytes kept */

enum tracking_status {
    TRACKING_ON,			/* rewritten (or to be) */
    TRACKING_NOT_OPTED,			/* the sender did not ask */
    TRACKING_RECIPIENTS,		/* not exactly one recipient */
    TRACKING_HDR_TOO_BIG,		/* header over TRACKING_HDR_MAX */
    TRACKING_TOO_BIG,			/* body over the limit */
    TRACKING_CTE,			/* top-level C-T-E would change */
    TRACKING_RW				/* + enum trackrw_status */
};
#define TRACKING_NSTATUS	(TRACKING_RW + TRACKRW_NSTATUS)

/* who sends the message, to whom, at the end of its header */
struct tracking_who {
    const char *sender_domain;		/* of MAIL FROM */
    size_t nrcpts;			/* outgoing recipients accepted */
    const char *rcpt;			/* the first, normalised */
};

struct tracking_msg {
    int wanted;				/* the sender asked for tracking */
    int on;				/* tracking_eoh() said TRACKING_ON */
    int gave_up;			/* tracking_body() passed the limit */
    char *buf;				/* header fields, blank line, body */
    size_t len, cap;
    size_t body_off;			/* where the body begins in buf */
    size_t max_size;			/* body bytes kept at most */
    int hdr_too_big;
    char *out;				/* the new body (in rw) */
    size_t out_len;
    char msgid[WEBTOKEN_MSGID_MAX];
    char campaign[WEBTOKEN_CAMPAIGN_MAX];
    char rcpt[ADDR_MAX];
    char sender_domain[DOMAIN_MAX];
    struct trackrw_result rw;
};

struct tracking *tracking_new(const struct outpost_conf *conf, uid_t owner, char *err,
			      size_t errlen);
void tracking_free(struct tracking *t);
void tracking_msg_begin(struct tracking_msg *m, const struct tracking *t,
			const char *auth_user, const char *sender_domain);
void tracking_msg_reset(struct tracking_msg *m);
void tracking_header(struct tracking_msg *m, const struct tracking *t, const char *name,
		     const char *value, int add_space);
int tracking_eoh(struct tracking_msg *m, const struct tracking *t,
		 const struct tracking_who *who);
int tracking_body(struct tracking_msg *m, const unsigned char *buf, size_t len);
int tracking_rewrite(struct tracking_msg *m, const struct tracking *t, long long now);
const char *tracking_status_name(int status);

#endif
