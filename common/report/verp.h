/*
 * verp - tagged return-path tokens: who a bounce is about, authenticated
 *
 * SYNOPSIS
 *	#include "verp.h"
 *
 *	struct verp_keys *verp_keys_parse(const char *buf, size_t len,
 *					  const char *name, char *err,
 *					  size_t errlen);
 *	struct verp_keys *verp_keys_load(const char *path, int check_owner,
 *					 uid_t owner, char *err, size_t errlen);
 *	void verp_keys_free(struct verp_keys *k);
 *	size_t verp_keys_count(const struct verp_keys *k);
 *	void verp_key_id(const struct verp_keys *k, size_t i,
 *			 char out[2 * VERP_KEY_ID_BYTES + 1]);
 *	void verp_keys_hmac(const struct verp_keys *k, size_t i,
 *			    const void *data, size_t len,
 *			    unsigned char out[32]);
 *
 *	unsigned verp_day(long long now);
 *	size_t verp_encode(const struct verp_keys *k, int kind, unsigned day,
 *			   const char *rcpt, const char *sender_domain,
 *			   char *out, size_t size);
 *	size_t verp_encode_id(const struct verp_keys *k, int kind,
 *			      unsigned day, unsigned long long id,
 *			      char *out, size_t size);
 *	int verp_decode(const struct verp_keys *k, int kind, const char *tok,
 *			size_t len, unsigned today, long max_age_days,
 *			struct verp_token *out);
 *	size_t verp_encode_bound(const struct verp_keys *k, int kind,
 *				 unsigned day, const char *rcpt,
 *				 const char *sender_domain, const char *bound,
 *				 char *out, size_t size);
 *	size_t verp_encode_id_bound(const struct verp_keys *k, int kind,
 *				    unsigned day, unsigned long long id,
 *				    const char *bound, char *out, size_t size);
 *	int verp_decode_bound(const struct verp_keys *k, int kind,
 *			      const char *tok, size_t len, const char *bound,
 *			      unsigned today, long max_age_days,
 *			      struct verp_token *out);
 *	int verp_peek(const char *tok, size_t len, struct verp_token *out);
 *	const char *verp_status_name(int status);
 *	size_t verp_return_domain(const char *bounce_domain,
 *				  const char *sender_domain, char *out,
 *				  size_t size);
 *
 * DESCRIPTION
 *	A token names the recipient of one message and the domain of its
 *	original envelope sender, so that a bounce, a complaint or an
 *	unsubscribe request sent back to the tagged address is attributed
 *	even when the report itself hides the recipient.  It goes into the
 *	local part of the return path: LOCAL-TOKEN@bounce-domain.
 *
 *	The token is lower-case base32 (RFC 4648 alphabet, no padding), so
 *	that MTAs that change the case of local parts do no harm; decoding
 *	ignores case.  It is MAC | BODY: MAC is HMAC-SHA256 over the kind
 *	byte ('b' bounce, 'u' unsubscribe, 'c' the check address of
 *	outpostctl test-send), the bound domain (a length byte and the name
 *	in lower case, see verp_encode_bound()) and BODY, truncated to
 *	VERP_MAC_BYTES (16 characters); BODY is a bit string of a version
 *	(3 bits: 2; 1 before the bound domain), a mode (1 bit), the day of issue (16 bits, days since the
 *	epoch modulo 65536), then for mode 0 the recipient and the sender
 *	domain, each ended by an end code, in a 5-bit code (a-z . - @ in
 *	one symbol, digits and _ + = in two, any other byte in three), and
 *	for mode 1 a 64-bit id under which the pair is kept elsewhere
 *	(Redis) because it does not fit.  A 16-character MAC plus a body of
 *	4 characters of header and about one character per address
 *	character: "b-" + token stays within the 64-octet local part for a
 *	recipient plus sender domain of up to about 38 characters.
 *
 *	Either part may be empty: no recipient (a message with several
 *	recipients: the report must name them), no sender domain (the
 *	bounce domain names it, "bounces.%d").
 *
 *	verp_keys_parse() reads secrets, one a line ('#' comments, blank
 *	lines skipped), each at least VERP_SECRET_MIN bytes; the first
 *	signs, every one verifies (key rotation).  verp_keys_load() reads a
 *	file, which must be a regular file readable by its owner alone and,
 *	with check_owner, belong to owner.  verp_keys_count() says how many
 *	secrets it holds; verp_key_id() names secret i (from 0) in hex by a
 *	keyed hash of a fixed text, so that nodes can compare their secrets
 *	without showing them (outpostctl check-config --cluster).
 *	verp_keys_hmac() is HMAC-SHA256 of data under secret i, for other
 *	tokens signed with the same secrets (webtoken(3)); their data must
 *	begin with a label of their own, so that no token of one kind is
 *	ever a valid token of another.
 *
 *	verp_encode() writes the token for (rcpt, sender_domain) into out
 *	and returns its length, or 0 when it would be longer than size - 1
 *	(the caller uses verp_encode_id() then).  verp_day() gives the day
 *	number of a time.
 *
 *	verp_decode() checks a token of kind: its form, its MAC under each
 *	key, its age (at most max_age_days days old, or one day ahead for
 *	clock skew).  It returns VERP_OK with *out filled in, or
 *	VERP_MALFORMED, VERP_FORGED (no key gives this MAC) or VERP_STALE
 *	(authentic but too old, or from the future).  It is a pure function
 *	over (tok, len); tokens longer than VERP_TOKEN_MAX are malformed.
 *
 *	verp_encode_bound(), verp_encode_id_bound() and verp_decode_bound()
 *	do the same for a token the MAC also binds to bound (any case), a
 *	name the token does not carry: with a per-sender bounce domain
 *	("bounces.%d") the sender domain is left out of the token and the
 *	domain the report is mailed to names it, so the token is bound to
 *	it and is forged at another sender's bounce domain.  The plain
 *	functions bind to "".  A token of version 1 (made before tokens
 *	were bound) is checked as it was made, whatever bound says, until
 *	it is too old.
 *
 *	verp_peek() reads a token's form as verp_decode() does but checks
 *	neither MAC nor age: VERP_OK or VERP_MALFORMED.  It is for what
 *	needs no proof, such as the statistics of the relay's own log, where
 *	a forged token names no more than the sender could have named in
 *	its own address.
 *
 *	verp_return_domain() gives the return-path domain of a sender domain:
 *	[intake] bounce_domain with "%d" standing for sender_domain.  The
 *	milter tags outgoing mail with it, and outpostctl dns and verify
 *	publish and check the same name: this is the one place it is made.
 *	It returns the length written to out, or 0 when bounce_domain is
 *	NULL or the result does not fit in size - 1 bytes.
 */
#ifndef OUTPOST_VERP_H
#define OUTPOST_VERP_H

#include <stddef.h>
#include <sys/types.h>

#include "addr.h"

#define VERP_MAC_BYTES	10		/* 80 bits */
#define VERP_MAC_CHARS	16
#define VERP_SECRET_MIN	16
#define VERP_KEYS_MAX	8
#define VERP_TOKEN_MAX	1024		/* characters */
#define VERP_KEYS_FILE_MAX 8192
#define VERP_KEY_ID_BYTES 8

enum verp_kind { VERP_BOUNCE = 'b', VERP_UNSUB = 'u', VERP_CHECK = 'c' };

#define VERP_CHECK_LOCAL "check"	/* VERP_CHECK_LOCAL-TOKEN@bounce-domain */
enum verp_status { VERP_OK = 0, VERP_MALFORMED, VERP_FORGED, VERP_STALE };

struct verp_token {
    int version;			/* 1: made before tokens were bound */
    int mode;				/* 0: inline, 1: id */
    unsigned day;
    char rcpt[ADDR_MAX];		/* mode 0; may be "" */
    char sender_domain[DOMAIN_MAX];	/* mode 0; may be "" */
    unsigned long long id;		/* mode 1 */
};

struct verp_keys;

struct verp_keys *verp_keys_parse(const char *buf, size_t len, const char *name,
				  char *err, size_t errlen);
struct verp_keys *verp_keys_load(const char *path, int check_owner, uid_t owner,
				 char *err, size_t errlen);
void verp_keys_free(struct verp_keys *k);
size_t verp_keys_count(const struct verp_keys *k);
void verp_key_id(const struct verp_keys *k, size_t i,
		 char out[2 * VERP_KEY_ID_BYTES + 1]);
void verp_keys_hmac(const struct verp_keys *k, size_t i, const void *data,
		    size_t len, unsigned char out[32]);

unsigned verp_day(long long now);
size_t verp_encode(const struct verp_keys *k, int kind, unsigned day,
		   const char *rcpt, const char *sender_domain, char *out,
		   size_t size);
size_t verp_encode_id(const struct verp_keys *k, int kind, unsigned day,
		      unsigned long long id, char *out, size_t size);
size_t verp_encode_bound(const struct verp_keys *k, int kind, unsigned day,
			 const char *rcpt, const char *sender_domain,
			 const char *bound, char *out, size_t size);
size_t verp_encode_id_bound(const struct verp_keys *k, int kind, unsigned day,
			    unsigned long long id, const char *bound, char *out,
			    size_t size);
int verp_decode(const struct verp_keys *k, int kind, const char *tok, size_t len,
		unsigned today, long max_age_days, struct verp_token *out);
int verp_decode_bound(const struct verp_keys *k, int kind, const char *tok,
		      size_t len, const char *bound, unsigned today,
		      long max_age_days, struct verp_token *out);
int verp_peek(const char *tok, size_t len, struct verp_token *out);
const char *verp_status_name(int status);
size_t verp_return_domain(const char *bounce_domain, const char *sender_domain,
			  char *out, size_t size);

#endif
