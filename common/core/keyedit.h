/*
 * keyedit - changes to the DKIM key table's text, written so that the
 *	     table on disk is always one that loads
 *
 * SYNOPSIS
 *	#include "keyedit.h"
 *
 *	int keyedit_set(const char *text, size_t len, const char *domain,
 *			enum dkim_alg alg, const char *selector,
 *			const char *keyfile, struct keyedit *ke,
 *			char *err, size_t errlen);
 *	void keyedit_free(struct keyedit *ke);
 *	int keyedit_read(const char *path, char **text, size_t *len,
 *			 char *err, size_t errlen);
 *	int keyedit_install(const char *path, const char *text, size_t len,
 *			    char *err, size_t errlen);
 *
 * DESCRIPTION
 *	keyedit_set() is a pure function over the table's text (len bytes,
 *	see keytable(3) for its lines): the line of domain (normalised, as
 *	keytable_load() compares it) with algorithm alg gets selector and
 *	keyfile in place of its own, everything else on the line kept as it
 *	was (white space, a d= field, a comment, a CR before the newline);
 *	when the domain has no line of that algorithm, the line "DOMAIN
 *	SELECTOR ALGORITHM KEYFILE" is appended.  ke->text (len ke->len,
 *	NUL-terminated) is the new table; ke->line the number of the line
 *	replaced (0: appended), and then ke->old_selector, ke->old_keyfile
 *	and ke->sign_domain (the line's d= value, NULL without one) say what
 *	it held.  Lines that do not parse are left alone.  It returns -1 with
 *	err when selector or keyfile would break the line (white space, '#',
 *	empty), or when two lines match (a table that does not load).  Time
 *	is linear in len.  keyedit_free() releases what it allocated.
 *
 *	keyedit_read() reads a table of at most KEYEDIT_MAX bytes into an
 *	allocated, NUL-terminated buffer; a table that does not exist reads
 *	as empty (*text "", *len 0).
 *
 *	keyedit_install() replaces the table at path (a symbolic link is
 *	followed: the file it names is replaced) with text: it writes a
 *	temporary file in the same directory with the mode and owner of the
 *	old table (0644 and the caller's when there is none), syncs it, loads
 *	it with keytable_load() and only then renames it over the table.  On
 *	any failure the temporary file is removed, the table is left as it
 *	was and err says why.
 */
#ifndef OUTPOST_KEYEDIT_H
#define OUTPOST_KEYEDIT_H

#include <stddef.h>

#include "keytable.h"

#define KEYEDIT_MAX	(4 * 1024 * 1024)

struct keyedit {
    char *text;			/* the new table, NUL-terminated */
    size_t len;
    int line;			/* line replaced, 0: appended */
    char *old_selector;		/* of the line replaced, else NULL */
    char *old_keyfile;
    char *sign_domain;		/* its d= value, NULL: none */
};

int keyedit_set(const char *text, size_t len, const char *domain, enum dkim_alg alg,
		const char *selector, const char *keyfile, struct keyedit *ke,
		char *err, size_t errlen);
void keyedit_free(struct keyedit *ke);
int keyedit_read(const char *path, char **text, size_t *len, char *err, size_t errlen);
int keyedit_install(const char *path, const char *text, size_t len, char *err,
		    size_t errlen);

#endif
