/*
 * webtoken - signed tokens in the web links of a message: unsubscribe,
 *	      open and click
 *
 * SYNOPSIS
 *	#include "webtoken.h"
 *
 *	size_t webtoken_encode(const struct verp_keys *k,
 *			       const struct webtoken_in *in, char *out,
 *			       size_t size);
 *	int webtoken_decode(const struct verp_keys *k, int kind,
 *			    const char *tok, size_t len, long long now,
 *			    long long max_age, struct webtoken *out);
 *	int webtoken_url_ok(const char *url, size_t len);
 *	const char *webtoken_status_name(int status);
 *
 * DESCRIPTION
 *	outpost-httpd(8) answers https://HOST/u/TOKEN (unsubscribe),
 *	/o/TOKEN (the open pixel) and /c/TOKEN (a tracked link).  The token
 *	says, under a MAC, everything the server needs: no lookup precedes
 *	the answer, and nobody can make the server suppress an address or
 *	redirect to a place that the sender did not write into a message.
 *
 *	A token is base64url (RFC 4648 section 5, no padding: A-Z a-z 0-9
 *	- _) of BODY | MAC.  MAC is HMAC-SHA256 of the label "outpost-web1"
 *	followed by BODY, under a secret of [intake] secret_file (the
 *	return-path tokens' secrets, verp(3): the first signs, every one
 *	verifies, so secrets rotate the same way), truncated to
 *	WEBTOKEN_MAC_BYTES.  The label keeps these MACs apart from those of
 *	the return-path tokens.  BODY is:
 *
 *	version (1 byte, 1), kind (1 byte: 'u', 'o' or 'c'), issue time
 *	(5 bytes, big-endian UNIX seconds), then strings, each a length
 *	byte and its bytes: recipient, sender domain, and for 'o' and 'c'
 *	the message id and the campaign; for 'c' then the link's index in
 *	the message (2 bytes) and the original URL (2-byte length).
 *
 *	The original URL travels in the token, under the MAC, rather than
 *	in Redis under an id: a click is answered without a round trip, a
 *	link keeps working as long as its token is young enough whatever
 *	Redis holds, and an altered URL breaks the MAC, so the server is no
 *	open redirect.  The price is a longer link (about 4/3 of the URL
 *	plus 60 characters).  Only http: and https: URLs of printable ASCII
 *	(no space, no control byte: a redirect's Location header cannot be
 *	split) are carried; webtoken_url_ok() says whether a URL is one.
 *
 *	The token is signed, not encrypted: whoever holds the link reads
 *	the recipient's address in it, as in the return-path token.
 *
 *	webtoken_encode() writes the token of in into out, NUL-terminated,
 *	and returns its length; 0 when a field is too long or holds a NUL,
 *	when a click's URL is refused, or when the token would not fit in
 *	size - 1 bytes (the caller leaves that link as it was).  Its type is
 *	webtoken_encode_fn, for callers handed an encoder.
 *
 *	webtoken_decode() reads a token of kind: its form, its MAC under
 *	each secret, its age (at most max_age seconds old, at most one day
 *	ahead for clock skew).  It returns WEBTOKEN_OK with *out filled in,
 *	or WEBTOKEN_MALFORMED, WEBTOKEN_FORGED (no secret gives this MAC, or
 *	a token of another kind) or WEBTOKEN_STALE (authentic but too old,
 *	or from the future).  It is a pure function over (tok, len), linear,
 *	with no allocation; a token longer than WEBTOKEN_MAX is malformed.
 */
#ifndef OUTPOST_WEBTOKEN_H
#define OUTPOST_WEBTOKEN_H

#include <stddef.h>

#include "addr.h"

struct verp_keys;

#define WEBTOKEN_MAC_BYTES	12	/* 96 bits */
#define WEBTOKEN_MSGID_MAX	256	/* with the NUL */
#define WEBTOKEN_CAMPAIGN_MAX	128
#define WEBTOKEN_URL_MAX	2048
#define WEBTOKEN_MAX		4096	/* characters of a token */

enum webtoken_kind { WEBTOKEN_UNSUB = 'u', WEBTOKEN_OPEN = 'o', WEBTOKEN_CLICK = 'c' };
enum webtoken_status {
    WEBTOKEN_OK = 0, WEBTOKEN_MALFORMED, WEBTOKEN_FORGED, WEBTOKEN_STALE
};

/* what a token says, for the encoder; NULL strings are empty */
struct webtoken_in {
    int kind;			/* enum webtoken_kind */
    long long issued;		/* UNIX seconds */
    const char *rcpt;		/* normalised address */
    const char *sender_domain;
    const char *msgid;		/* 'o', 'c': the Message-ID */
    const char *campaign;	/* 'o', 'c': the campaign header, or "" */
    unsigned link;		/* 'c': index of the link in the message */
    const char *url;		/* 'c': the original URL, url_len bytes */
    size_t url_len;
};

/* what a token says, decoded */
struct webtoken {
    int kind;
    long long issued;
    char rcpt[ADDR_MAX];
    char sender_domain[DOMAIN_MAX];
    char msgid[WEBTOKEN_MSGID_MAX];
    char campaign[WEBTOKEN_CAMPAIGN_MAX];
    unsigned link;
    char url[WEBTOKEN_URL_MAX];
};

typedef size_t (*webtoken_encode_fn)(const struct verp_keys *k,
				     const struct webtoken_in *in, char *out,
				     size_t size);

size_t webtoken_encode(const struct verp_keys *k, const struct webtoken_in *in,
		       char *out, size_t size);
int webtoken_decode(const struct verp_keys *k, int kind, const char *tok, size_t len,
		    long long now, long long max_age, struct webtoken *out);
int webtoken_url_ok(const char *url, size_t len);
const char *webtoken_status_name(int status);

#endif
