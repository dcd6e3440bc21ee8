/*
 * taglist - parse a DKIM-style tag list ("v=DKIM1; k=rsa; p=...")
 *
 * SYNOPSIS
 *	#include "taglist.h"
 *
 *	int taglist_parse(const char *buf, size_t len, struct taglist *tl,
 *			  char *err, size_t errlen);
 *	const char *taglist_get(const struct taglist *tl, const char *name);
 *	void taglist_free(struct taglist *tl);
 *
 * DESCRIPTION
 *	The tag=value list of RFC 6376 section 3.2, which DMARC (RFC 7489)
 *	uses too: tags separated by ';', white space around names and values
 *	ignored, an empty trailing element allowed.  Tag names are a letter
 *	then letters, digits or '_'; values are visible ASCII other than ';'
 *	with inner white space kept (a CR or LF of folding white space as a
 *	space).  A tag given twice, a name that is not
 *	a name, a missing '=' or a control character is an error: -1 with
 *	"what is wrong" in err.  At most TAGLIST_MAX tags, TAGLIST_MAX_LEN
 *	bytes.
 *
 *	On success tl holds NUL-terminated copies in the order written;
 *	taglist_get() finds a value by name (case-sensitive, as both RFCs
 *	say) or returns NULL.  taglist_free() releases them.
 */
#ifndef OUTPOST_TAGLIST_H
#define OUTPOST_TAGLIST_H

#include <stddef.h>

#define TAGLIST_MAX 32
#define TAGLIST_MAX_LEN 8192

struct taglist {
    char *name[TAGLIST_MAX];
    char *value[TAGLIST_MAX];
    size_t n;
};

int taglist_parse(const char *buf, size_t len, struct taglist *tl, char *err,
		  size_t errlen);
const char *taglist_get(const struct taglist *tl, const char *name);
void taglist_free(struct taglist *tl);

#endif
