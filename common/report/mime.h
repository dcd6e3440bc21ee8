/*
 * mime - a bounded MIME reader for reports that come back to the sender
 *
 * SYNOPSIS
 *	#include "mime.h"
 *
 *	int mime_parse(const char *msg, size_t len, struct mime_msg *out,
 *		       const char **why);
 *	void mime_free(struct mime_msg *m);
 *
 *	ssize_t mime_header(const char *hdr, size_t len, const char *name,
 *			    char *out, size_t outsz);
 *	size_t mime_header_end(const char *msg, size_t len, size_t *body);
 *	int mime_param(const char *value, const char *name, char *out,
 *		       size_t outsz);
 *	size_t mime_base64_decode(const char *in, size_t len, char *out);
 *	size_t mime_qp_decode(const char *in, size_t len, char *out);
 *	void mime_decode_words(char *s);
 *	char *mime_lf_copy(const char *in, size_t len, size_t *outlen);
 *	int mime_field_next(const char *buf, size_t len, size_t *pos,
 *			    char *name, size_t namesz, char *val,
 *			    size_t valsz);
 *
 * DESCRIPTION
 *	mime_parse() reads a message held in memory (LF or CRLF line ends)
 *	and flattens its MIME tree into out->parts: one entry per leaf part
 *	in document order, with the lower-cased content type, the part's
 *	raw header block and its body decoded from base64 or
 *	quoted-printable.  A message/rfc822 or text/rfc822-headers part is a
 *	leaf: its body is the embedded message (or header block) as text,
 *	so that a caller can read the original's headers.  Every body is
 *	NUL-terminated and has LF line ends.
 *
 *	Limits: MIME_MAX_SIZE bytes of input, MIME_MAX_DEPTH nested
 *	multiparts, MIME_MAX_PARTS leaves.  Beyond the depth limit a
 *	multipart is kept as one opaque leaf; beyond the parts limit the
 *	rest is dropped and out->truncated is set.  A multipart without its
 *	closing delimiter ends at the end of the input.
 *
 *	mime_header() copies the unfolded value of the first header field
 *	called name (case-insensitive) from a header block into out and
 *	returns its length, or -1 when there is none.  mime_header_end()
 *	returns the length of the header block of msg and stores where the
 *	body starts.  mime_param() copies a Content-Type parameter (quotes
 *	removed).  The decoders write at most len bytes to out and return
 *	the decoded length; they skip what they cannot decode.  A soft line
 *	break may end in LF or CRLF.  mime_lf_copy() returns a copy of in
 *	with CRLF and lone CR turned into LF, NUL-terminated, that the
 *	caller frees.
 *	mime_decode_words() decodes RFC 2047 encoded words ("=?cs?B?...?=")
 *	in place; the bytes are kept whatever the charset.
 *
 *	mime_field_next() reads the next logical line of a block of header
 *	style fields (delivery-status, feedback-report) from *pos: it returns
 *	1 with the field's name and unfolded value, 0 for an empty line (a
 *	group separator), -1 at the end.  Lines without a colon are skipped.
 *
 * DIAGNOSTICS
 *	mime_parse() returns -1 with *why set when the input is larger than
 *	MIME_MAX_SIZE; otherwise 0, also for text that is not MIME at all
 *	(it becomes one text/plain part).
 */
#ifndef OUTPOST_MIME_H
#define OUTPOST_MIME_H

#include <stddef.h>
#include <sys/types.h>

#define MIME_MAX_SIZE	(10 * 1024 * 1024)
#define MIME_MAX_DEPTH	20
#define MIME_MAX_PARTS	256
#define MIME_TYPE_MAX	80

struct mime_part {
    char type[MIME_TYPE_MAX];	/* "text/plain", lower case */
    const char *hdr;			/* raw header block (in the LF copy) */
    size_t hdr_len;
    char *body;			/* decoded, NUL-terminated, owned */
    size_t body_len;
    int depth;			/* 0 = top level */
};

struct mime_msg {
    char *text;			/* the input with LF line ends, owned */
    size_t text_len;
    const char *hdr;			/* top-level header block */
    size_t hdr_len;
    struct mime_part *parts;
    size_t nparts;
    int truncated;		/* a limit was hit */
};

int mime_parse(const char *msg, size_t len, struct mime_msg *out,
		   const char **why);
void mime_free(struct mime_msg *m);

ssize_t mime_header(const char *hdr, size_t len, const char *name,
		    char *out, size_t outsz);
size_t mime_header_end(const char *msg, size_t len, size_t *body);
int mime_param(const char *value, const char *name, char *out,
		   size_t outsz);
size_t mime_base64_decode(const char *in, size_t len, char *out);
size_t mime_qp_decode(const char *in, size_t len, char *out);
void mime_decode_words(char *s);
char *mime_lf_copy(const char *in, size_t len, size_t *outlen);
int mime_field_next(const char *buf, size_t len, size_t *pos,
			char *name, size_t namesz, char *val, size_t valsz);

#endif
