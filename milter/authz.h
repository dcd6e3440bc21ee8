/*
 * authz - which SASL user may sign for which domains
 *
 * SYNOPSIS
 *	#include "authz.h"
 *
 *	struct authz *authz_parse(const char *buf, size_t len,
 *				  const char *name, char *err, size_t errlen);
 *	struct authz *authz_load(const char *path, char *err, size_t errlen);
 *	void authz_free(struct authz *az);
 *	int authz_allows(const struct authz *az, const char *user,
 *			 const char *domain);
 *
 * DESCRIPTION
 *	The file named by [dkim] sasl_domains ties each SASL user (the
 *	{auth_authen} the MTA reports) to the From: domains it may have
 *	signed, so that one tenant of a shared relay can never sign as
 *	another.  One user per line, '#' starts a comment:
 *
 *	    USER  DOMAIN [DOMAIN ...]
 *
 *	A domain covers its subdomains.  A user not listed may sign for
 *	nothing.  A line may be at most AUTHZ_LINE_MAX bytes long and the
 *	file at most AUTHZ_FILE_MAX bytes.
 *
 *	authz_parse() is a pure function over (buf, len); name is used in
 *	messages only.  authz_load() reads a file and parses it.
 *	authz_allows() returns 1 when user may sign for domain (a normalised
 *	domain), else 0.
 *
 * DIAGNOSTICS
 *	authz_parse() and authz_load() return NULL with "NAME:LINE: problem"
 *	in err: a line too long, a user without domains, a bad domain, a
 *	user listed twice, a file too large.
 */
#ifndef OUTPOST_AUTHZ_H
#define OUTPOST_AUTHZ_H

#include <stddef.h>

#define AUTHZ_LINE_MAX 4096
#define AUTHZ_FILE_MAX (16 * 1024 * 1024)

struct authz;

struct authz *authz_parse(const char *buf, size_t len, const char *name,
			  char *err, size_t errlen);
struct authz *authz_load(const char *path, char *err, size_t errlen);
void authz_free(struct authz *az);
int authz_allows(const struct authz *az, const char *user, const char *domain);

#endif
