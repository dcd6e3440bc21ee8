/*
 * dkimsign - DKIM signing of one message, without an MTA
 *
 * SYNOPSIS
 *	#include "dkimsign.h"
 *
 *	struct dkimsign *dkimsign_new(const struct conf_dkim *conf,
 *				      uid_t key_owner, char *err,
 *				      size_t errlen);
 *	struct dkimsign *dkimsign_ref(struct dkimsign *ds);
 *	void dkimsign_unref(struct dkimsign *ds);
 *	size_t dkimsign_nkeys(const struct dkimsign *ds);
 *	int dkimsign_tempfail_on_error(const struct dkimsign *ds);
 *	int dkimsign_tempfail_on_error_msg(const struct dkimsign_msg *m);
int dkimsign_tempfail_on_error_msg(const struct dkimsign_msg *m);
 *
 *	struct dkimsign_msg *dkimsign_msg_new(struct dkimsign *ds,
 *					      const char *id);
 *	void dkimsign_header(struct dkimsign_msg *m, const char *name,
 *			     const char *value, int add_space);
 *	size_t dkimsign_header_extra(const char *value, size_t vlen);
 *	char *dkimsign_header_line(const char *name, size_t nlen,
 *				   const char *value, size_t vlen,
 *				   size_t extra, int add_space, size_t *len);
 *	enum dkimsign_verdict dkimsign_eoh(struct dkimsign_msg *m,
 *				const struct dkimsign_client *client);
 *	void dkimsign_body(struct dkimsign_msg *m, const unsigned char *buf,
 *			   size_t len);
 *	enum dkimsign_verdict dkimsign_eom(struct dkimsign_msg *m);
 *	size_t dkimsign_count(const struct dkimsign_msg *m);
 *	const char *dkimsign_signature(const struct dkimsign_msg *m, size_t i);
 *	const char *dkimsign_why(const struct dkimsign_msg *m);
 *	const char *dkimsign_domain(const struct dkimsign_msg *m);
 *	void dkimsign_msg_free(struct dkimsign_msg *m);
 *	void dkimsign_stats_get(struct dkimsign_stats *out);
 *
 * DESCRIPTION
 *	A struct dkimsign holds what signing needs and what only changes on a
 *	reload: the [dkim] settings, the key table with every key in memory,
 *	the SASL user table, one libopendkim library handle.  dkimsign_new()
 *	builds one; key files must belong to key_owner and be private (see
 *	keytable_load()).  It is immutable and reference counted, so a reload
 *	builds a new one and messages in flight finish with the one they
 *	began with.
 *
 *	A struct dkimsign_msg follows one message.  The caller gives it each
 *	header field as received (name, and the value after the colon: with
 *	its leading white space, or add_space set when the MTA stripped it),
 *	then dkimsign_eoh() with who the client is.  The field is kept as
 *	DKIM hashes it: dkimsign_header_line() writes "Name:[ ]value" (nlen
 *	and vlen bytes; add_space as above) with each bare LF of a folded
 *	value made CRLF, the extra bytes that takes being
 *	dkimsign_header_extra() (known first, so that a caller may refuse a
 *	field too large before it is built); the length goes to *len.  The
 *	test-send check (checkmsg(3)) keeps its fields the same way.  That decides whether the
 *	message is signed: the client must be one that may sign
 *	(signclient_check(3): in sign_networks or SASL-authenticated), a
 *	SASL user allowed the From: domain by the sasl_domains table when
 *	there is one; the From: domain, or its
 *	closest parent, must have keys.  When it is signed, one libopendkim
 *	signing handle per key (RSA and Ed25519: two signatures, RFC 8463)
 *	receives the headers, then every body chunk, and dkimsign_eom()
 *	produces the DKIM-Signature values (folded with LF, leading space
 *	included, no CR) to prepend, in the order to insert them at the top.
 *
 *	Each message is counted once in the statistics (dkimsign_stats_get()),
 *	and each signature by its algorithm: made, or failed when an internal
 *	error stopped the message after its signing had begun.
 *
 * DIAGNOSTICS
 *	dkimsign_new() returns NULL with "FILE:LINE: problem" in err when the
 *	key table or the SASL table is wrong, or when libopendkim refuses a
 *	setting.
 *
 *	dkimsign_eoh() and dkimsign_eom() return DKIMSIGN_SIGN (going on, or
 *	done), DKIMSIGN_SKIP (not to be signed: dkimsign_why() says why: no
 *	key, client not authorised, no usable From:) or DKIMSIGN_ERROR (an
 *	internal failure; the message must not leave with a broken
 *	signature: the caller tempfails it or, when configured, sends it
 *	unsigned).
 */
#ifndef OUTPOST_DKIMSIGN_H
#define OUTPOST_DKIMSIGN_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "conf.h"

#define DKIMSIGN_HDR_MAX	1000		/* header fields per message */
#define DKIMSIGN_HDRBYTES_MAX	(1024 * 1024)	/* header bytes per message */

enum dkimsign_verdict { DKIMSIGN_SIGN, DKIMSIGN_SKIP, DKIMSIGN_ERROR };

struct dkimsign_client {
    int may_sign;			/* signclient_check() of the client */
    const char *auth_user;		/* {auth_authen}; NULL or "" if none */
};

struct dkimsign_stats {
    unsigned long signed_msgs;		/* messages signed */
    unsigned long signatures;		/* signatures made */
    unsigned long no_key;		/* no key for the From: domain */
    unsigned long not_authorised;	/* client or SASL user may not sign */
    unsigned long bad_from;		/* no usable From: */
    unsigned long errors;		/* internal errors */
    unsigned long made[2];		/* signatures made, by enum dkim_alg */
    unsigned long failed[2];		/* signatures begun and not made */
};

struct dkimsign;
struct dkimsign_msg;

struct dkimsign *dkimsign_new(const struct conf_dkim *conf, uid_t key_owner,
			      char *err, size_t errlen);
struct dkimsign *dkimsign_ref(struct dkimsign *ds);
void dkimsign_unref(struct dkimsign *ds);
size_t dkimsign_nkeys(const struct dkimsign *ds);
int dkimsign_tempfail_on_error(const struct dkimsign *ds);
int dkimsign_tempfail_on_error_msg(const struct dkimsign_msg *m);

struct dkimsign_msg *dkimsign_msg_new(struct dkimsign *ds, const char *id);
size_t dkimsign_header_extra(const char *value, size_t vlen);
char *dkimsign_header_line(const char *name, size_t nlen, const char *value, size_t vlen,
			   size_t extra, int add_space, size_t *len);
void dkimsign_header(struct dkimsign_msg *m, const char *name,
		     const char *value, int add_space);
enum dkimsign_verdict dkimsign_eoh(struct dkimsign_msg *m,
				   const struct dkimsign_client *client);
void dkimsign_body(struct dkimsign_msg *m, const unsigned char *buf, size_t len);
enum dkimsign_verdict dkimsign_eom(struct dkimsign_msg *m);
size_t dkimsign_count(const struct dkimsign_msg *m);
const char *dkimsign_signature(const struct dkimsign_msg *m, size_t i);
const char *dkimsign_why(const struct dkimsign_msg *m);
const char *dkimsign_domain(const struct dkimsign_msg *m);
void dkimsign_msg_free(struct dkimsign_msg *m);
void dkimsign_stats_get(struct dkimsign_stats *out);

#endif
