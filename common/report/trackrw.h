/*
 * trackrw - rewrite a message's links and add an open pixel for tracking
 *
 * SYNOPSIS
 *	#include "trackrw.h"
 *
 *	int trackrw_rewrite(const char *msg, size_t len,
 *			    const struct trackrw_opts *o,
 *			    struct trackrw_result *r);
 *	void trackrw_free(struct trackrw_result *r);
 *	const char *trackrw_status_name(int status);
 *
 * DESCRIPTION
 *	trackrw_rewrite() reads a whole message (header block, blank line,
 *	body; CRLF or LF line ends) and returns its body with each http(s)
 *	link of its HTML parts replaced by the URL that o->url_for() makes,
 *	and a 1x1 image of o->pixel_url before the </body> of its first HTML
 *	part (at the end of that part when it has none, but before a
 *	comment, tag or script that never ends).  With
 *	o->text_links, bare http(s) URLs of text/plain parts are replaced
 *	too.  The header block is never part of the result: a change it
 *	needs is given in the result (r->set_cte, r->add_mime_version).
 *
 *	Parts are decoded (quoted-printable, base64) and encoded again the
 *	same way: quoted-printable lines of at most 76 characters, base64
 *	lines of 76.  A 7bit or 8bit part whose rewritten text would have a
 *	line longer than 998 octets becomes quoted-printable.  No
 *	quoted-printable line starts with '-' (it is written =2D), so that
 *	none looks like a delimiter.  Bytes are kept as they are whatever
 *	the charset; everything that is not rewritten (other parts,
 *	delimiters, preamble, epilogue) is copied byte for byte, with its
 *	own line ends.  New line ends follow the body's first one; the
 *	result replaces msg from r->body_off on.
 *
 *	Links left alone: any scheme but http and https (mailto:, tel:,
 *	"#anchor", relative links), a URL equal to one of the message's
 *	List-Unsubscribe URLs or to o->unsub_url, a tag carrying the
 *	attribute o->optout_attr (such as data-notrack), URLs longer than
 *	TRACKRW_URL_MAX or with control characters, links inside comments,
 *	<script> and <style>, and links that url_for declines.  Outlook's
 *	conditional comments ("<!--[if mso]> ... <![endif]-->") are read
 *	as markup, since Outlook shows what they hold: the href of their
 *	VML shapes (<v:roundrect href=...>, the "bulletproof buttons") is
 *	a link like an <a>'s, wherever it is.  Parts with
 *	Content-Disposition: attachment, message/rfc822 parts and parts
 *	that are neither text/html nor text/plain (an unreadable
 *	Content-Type is neither) are not touched.
 *	Neither is a message with multipart/signed or multipart/encrypted
 *	anywhere, or with a DKIM-Signature field in its header: signed
 *	before it came, it would fail that signature (TRACKRW_SIGNED).
 *
 *	url_for(ctx, index, url, url_len, out, outsz) is called once per
 *	candidate link in document order; index counts the calls from 0;
 *	url is the link as the recipient's client would follow it (HTML
 *	entities decoded, blanks trimmed, tabs and line breaks removed;
 *	NUL-terminated).  It writes the tracked URL into out (outsz is
 *	TRACKRW_TRACKED_MAX) and returns its length, 0 to leave the link
 *	alone (a token that does not fit, say), or -1 to give up on the
 *	whole message.  A tracked URL must be printable ASCII without
 *	blanks; an answer that fills out is taken as cut short: failure.
 *	url_for may be called for a message that is then refused (a later
 *	part is found malformed): what it stores must expire on its own.
 *	It need not wait on Redis: a token that carries the URL, or the
 *	message and the index, can be made at once (with the URLs stored
 *	after the rewrite in one command).  Without url_for, links are left
 *	alone and only the pixel goes in (open tracking alone).
 *
 *	A tag's href keeps its quotes; an unquoted one gets double quotes.
 *	The tracked URL is written with &, <, >, " and ' as HTML entities.
 *	pixel_url must be shorter than TRACKRW_URL_MAX (else no pixel).
 *
 *	Work is linear in the message size: multiparts nest at most
 *	TRACKRW_MAX_DEPTH deep, a message has at most TRACKRW_MAX_PARTS
 *	parts, and the result is at most TRACKRW_OUT_BOUND(len, links)
 *	bytes.
 *
 *	trackrw_free() releases the result's body.  trackrw_status_name()
 *	names a status in lower case with underscores ("too_many_links"),
 *	fit for a metric label.
 *
 * DIAGNOSTICS
 *	TRACKRW_OK: r->body holds the new body.  Any other status means
 *	"send the message unchanged": TRACKRW_NOTHING when there was
 *	nothing to rewrite, a refusal otherwise, with r->why saying it in a
 *	few words (a static string).
 */
#ifndef OUTPOST_TRACKRW_H
#define OUTPOST_TRACKRW_H

#include <stddef.h>
#include <sys/types.h>

#define TRACKRW_MAX_SIZE	(10 * 1024 * 1024)	/* default input limit */
#define TRACKRW_MAX_LINKS	250	/* default limit on candidate links */
#define TRACKRW_MAX_DEPTH	8	/* nested multiparts */
#define TRACKRW_MAX_PARTS	256	/* entities in all */
#define TRACKRW_URL_MAX		2048	/* an original URL, the pixel's */
#define TRACKRW_TRACKED_MAX	4096	/* a tracked URL (it may carry one) */
#define TRACKRW_UNSUB_MAX	4	/* List-Unsubscribe URLs compared */

/*
 * the largest result: re-encoding may triple a part; a tracked URL grows
 * sixfold at most as HTML entities, and by a third more in base64
 */
#define TRACKRW_OUT_BOUND(len, links) \
	(4 * (len) + ((links) + 1) * (10 * TRACKRW_TRACKED_MAX + 256))

/* url_for - make the tracked URL of one link (see above) */
typedef ssize_t (*trackrw_url_fn) (void *ctx, unsigned index,
				   const char *url, size_t url_len,
				   char *out, size_t outsz);

struct trackrw_opts {
    trackrw_url_fn url_for;		/* NULL: links left alone */
    void *ctx;				/* passed to url_for */
    const char *pixel_url;		/* NULL (or too long): no pixel */
    const char *optout_attr;		/* "data-notrack"; NULL: none */
    const char *unsub_url;		/* one more URL to leave alone */
    int text_links;			/* rewrite URLs in text/plain too */
    size_t max_links;			/* 0: TRACKRW_MAX_LINKS */
    size_t max_size;			/* 0: TRACKRW_MAX_SIZE */
};

enum trackrw_status {
    TRACKRW_OK = 0,
    TRACKRW_NOTHING,			/* no link, no pixel: unchanged */
    TRACKRW_TOO_BIG,			/* larger than max_size */
    TRACKRW_TOO_DEEP,			/* multiparts nested too deep */
    TRACKRW_TOO_MANY_PARTS,
    TRACKRW_TOO_MANY_LINKS,
    TRACKRW_MALFORMED,			/* no boundary, no closing delimiter,
					 * a Content-Type too long */
    TRACKRW_ENCODING,			/* unknown or broken encoding */
    TRACKRW_CHARSET,			/* a charset bytes cannot be read in */
    TRACKRW_SIGNED,			/* multipart/signed or encrypted, or
					 * a DKIM-Signature field */
    TRACKRW_CALLBACK,			/* url_for gave up or answered junk */
    TRACKRW_NSTATUS
};

struct trackrw_result {
    char *body;				/* the new body, owned, NUL after it */
    size_t body_len;
    size_t body_off;			/* msg + body_off: the body replaced */
    const char *set_cte;		/* value for the top-level C-T-E field
					 * (replaced, or added), or NULL */
    int add_mime_version;		/* with set_cte: header lacks it */
    size_t links;			/* links rewritten */
    size_t kept;			/* candidate links left alone */
    int pixel;				/* the pixel went in */
    const char *why;			/* refusal, in words */
};

int trackrw_rewrite(const char *msg, size_t len, const struct trackrw_opts *o,
		    struct trackrw_result *r);
void trackrw_free(struct trackrw_result *r);
const char *trackrw_status_name(int status);

#endif
