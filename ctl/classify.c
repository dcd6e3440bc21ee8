/*
 * classify - outpostctl classify FILE...
 *
 * SYNOPSIS
 *	outpostctl classify [-k] FILE...
 *
 * DESCRIPTION
 *	Reads each file as one message (a bounce, a complaint, an automatic
 *	reply or an unsubscribe request) and prints one tab-separated row per
 *	recipient found in it:
 *
 *	    file  rcpt_index  status  replycode  reason  hardbounce  feedback_type
 *
 *	file is the base name, rcpt_index counts from 1, hardbounce is
 *	"true" or "false", fields without a value are empty.  With -k three
 *	more columns follow: the message kind, the recipient address and
 *	the diagnostic text.
 *	A message in which no recipient is found prints no row.
 *
 * DIAGNOSTICS
 *	A file that cannot be read or parsed is reported on stderr and makes
 *	the exit status 1; the other files are still classified.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounce.h"
#include "ctl.h"
#include "mime.h"
#include "msg.h"
#include "xalloc.h"

static char *read_file(const char *path, size_t *len, const char **why);
static int classify_one(const char *path, int extra);
static void put_field(const char *s, int tab);

/* read_file - whole file into memory, refusing what the parser would */
static char *
read_file(const char *path, size_t *len, const char **why)
{
    FILE *fp = fopen(path, "rb");
    char *buf;
    size_t cap = 65536, n = 0, got;

    if (fp == NULL) {
	*why = strerror(errno);
	return NULL;
    }
    buf = xmalloc(cap);
    while ((got = fread(buf + n, 1, cap - n, fp)) > 0) {
	n += got;
	if (n > MIME_MAX_SIZE) {
	    *why = "larger than the parse limit";
	    free(buf);
	    fclose(fp);
	    return NULL;
	}
	if (n == cap)
	    buf = xreallocarray(buf, cap *= 2, 1);
    }
    if (ferror(fp)) {
	*why = strerror(errno);
	free(buf);
	fclose(fp);
	return NULL;
    }
    fclose(fp);
    *len = n;
    return buf;
}

/*
 * put_field - one field of a row, after a tab unless it is the first: a
 * control byte from the report (a tab or a newline in an SES JSON string)
 * is shown as '?', so that it can neither start a field nor forge a row
 */
static void
put_field(const char *s, int tab)
{
    if (tab)
	putchar('\t');
    for (; *s; s++)
	putchar((unsigned char) *s < 0x20 || *s == 0x7f ? '?' : *s);
}

/* classify_one - print the rows of one file */
static int
classify_one(const char *path, int extra)
{
    struct bounce_report r;
    const char *why = NULL, *base = strrchr(path, '/');
    size_t len, i;
    char *msg = read_file(path, &len, &why);

    base = base ? base + 1 : path;
    if (msg == NULL) {
	msg_error("%s: %s", path, why);
	return 1;
    }
    if (bounce_parse(msg, len, &r, &why) < 0) {
	msg_error("%s: %s", path, why);
	bounce_report_free(&r);
	free(msg);
	return 1;
    }
    for (i = 0; i < r.nrcpts; i++) {
	const struct bounce_rcpt *rc = r.rcpts + i;

	put_field(base, 0);
	printf("\t%zu", i + 1);
	put_field(rc->status, 1);
	put_field(rc->replycode, 1);
	printf("\t%s\t%s", bounce_reason_name(rc->reason), rc->hard ? "true" : "false");
	put_field(rc->feedback_type, 1);
	if (extra) {
	    printf("\t%s", bounce_kind_name(r.kind));
	    put_field(rc->addr, 1);
	    put_field(rc->diag, 1);
	}
	putchar('\n');
    }
    bounce_report_free(&r);
    free(msg);
    return 0;
}

const struct ctl_usage ctl_classify_usage[] = {
    {"classify [-k] FILE...", "classify bounce and complaint messages, one row per recipient"},
    {NULL, NULL},
};

/* ctl_classify - outpostctl classify [-k] FILE... */
int
ctl_classify(const char *conf_path, int argc, char **argv)
{
    int i = 1, extra = 0, rc = 0;

    (void) conf_path;
    if (i < argc && strcmp(argv[i], "-k") == 0) {
	extra = 1;
	i++;
    }
    if (i >= argc)
	return ctl_usage("classify", NULL);
    for (; i < argc; i++)
	rc |= classify_one(argv[i], extra);
    return rc;
}
