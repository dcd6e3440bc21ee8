/*
 * suppress_import - outpostctl suppress import: CSV into the suppression list
 *
 * SYNOPSIS
 *	int suppress_import(struct sup_store *store, const char *path,
 *			    int strict, int force, long long now);
 *
 * DESCRIPTION
 *	Reads CSV rows "address,reason,scope,time[,expires[,source]]" from
 *	path ("-": standard input) one line at a time and writes them in
 *	batches, so memory stays constant whatever the size of the file.
 *	A first line whose first field is "address" is a header.  Empty
 *	lines and lines starting with '#' are skipped.  Rows that expired
 *	already are counted and skipped.  An empty source becomes "import".
 *
 *	Without strict, each invalid row is reported as "FILE:LINE: problem"
 *	and skipped; the valid ones are written.  With strict, the whole
 *	input is checked first (standard input is spooled to a temporary
 *	file) and nothing is written unless every row is valid.
 *
 * DIAGNOSTICS
 *	Returns 0 when every row was imported, 1 when rows were skipped, the
 *	strict check failed, or Redis failed (the message says how many rows
 *	were written before).  The first MAX_REPORTED invalid rows are shown
 *	one by one, the rest counted.  A summary with the rate goes to stderr.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "monotime.h"
#include "msg.h"
#include "suppress.h"

#define MAX_REPORTED 100

struct import {
    struct sup_store *store;
    struct sup_batch *batch;
    const char *name;		/* for messages */
    long long now;
    long long rows, bad, expired, written;
    FILE *spool;		/* strict, unseekable input: a copy */
};

static int import_pass(struct import *im, FILE *fp, int apply);

/* read_line - one line into buf; *toolong set when it did not fit */
static int
read_line(FILE *fp, char *buf, size_t size, size_t *len, int *toolong, int *nul)
{
    size_t n = 0;
    int ch;

    *toolong = *nul = 0;
    while ((ch = getc_unlocked(fp)) != EOF) {
	if (ch == '\n')
	    break;
	if (ch == '\0')
	    *nul = 1;
	if (n + 1 < size)
	    buf[n++] = (char) ch;
	else
	    *toolong = 1;
    }
    if (ch == EOF && n == 0 && !*toolong)
	return 0;
    buf[n] = '\0';
    *len = n;
    return 1;
}

/* report - one invalid row */
static void
report(struct import *im, long long line, const char *why)
{
    im->bad++;
    if (im->bad <= MAX_REPORTED)
	msg_error("%s:%lld: %s", im->name, line, why);
}

/* import_pass - read every row; write them when apply is set */
static int
import_pass(struct import *im, FILE *fp, int apply)
{
    char buf[SUP_CSV_LINE_MAX + 1];
    struct sup_entry e;
    long long line = 0;
    const char *why;
    size_t len;
    int toolong, nul;

    while (read_line(fp, buf, sizeof(buf), &len, &toolong, &nul)) {
	line++;
	if (im->spool)
	    fprintf(im->spool, "%s\n", buf);
	if (toolong) {
	    report(im, line, "line longer than 1024 characters");
	    continue;
	}
	if (nul) {
	    report(im, line, "NUL byte in line");
	    continue;
	}
	if (strspn(buf, " \t\r") == len || buf[0] == '#')
	    continue;
	if (line == 1 && sup_csv_is_header(buf, len))
	    continue;
	if (sup_csv_parse(buf, len, im->now, &e, &why) < 0) {
	    report(im, line, why);
	    continue;
	}
	if (e.expires && e.expires <= im->now) {
	    im->expired++;
	    continue;
	}
	im->rows++;
	if (!apply)
	    continue;
	if (e.source[0] == '\0')
	    strcpy(e.source, "import");
	if (sup_batch_add(im->batch, &e) < 0) {
	    msg_error("%s:%lld: import stopped: %s (rows before the last %zu "
		      "may have been written)", im->name, line, sup_error(im->store),
		      sup_batch_max(im->batch));
	    return -1;
	}
    }
    if (ferror(fp)) {
	msg_error("%s: read error: %s", im->name, strerror(errno));
	return -1;
    }
    if (apply && sup_batch_flush(im->batch) < 0) {
	msg_error("%s: import stopped at the end: %s", im->name,
		  sup_error(im->store));
	return -1;
    }
    return 0;
}

/* strict_check - pass 1 of --strict; returns the stream to apply, or NULL */
static FILE *
strict_check(struct import *im, FILE *fp)
{
    FILE *again = fp;

    if (fseek(fp, 0, SEEK_SET) != 0) {
	if ((im->spool = tmpfile()) == NULL) {
	    msg_error("import: temporary file: %s", strerror(errno));
	    return NULL;
	}
	again = im->spool;
    }
    if (import_pass(im, fp, 0) < 0)
	return NULL;
    if (im->spool)
	im->spool = NULL;		/* stop copying */
    if (im->bad > 0) {
	if (im->bad > MAX_REPORTED)
	    msg_error("%s: ... and %lld more invalid rows", im->name,
		      im->bad - MAX_REPORTED);
	msg_error("%s: %lld invalid rows: import refused, nothing written",
		  im->name, im->bad);
	return NULL;
    }
    if (fflush(again) != 0 || fseek(again, 0, SEEK_SET) != 0) {
	msg_error("%s: cannot read the input a second time", im->name);
	return NULL;
    }
    im->rows = im->expired = 0;
    return again;
}

/* suppress_import - see the header */
int
suppress_import(struct sup_store *store, const char *path, int strict,
		int force, long long now)
{
    struct import im;
    long long start_us;
    FILE *fp = stdin, *src;
    double secs;
    int rc;

    memset(&im, 0, sizeof(im));
    im.store = store;
    im.now = now;
    im.name = strcmp(path, "-") == 0 ? "stdin" : path;
    if (strcmp(path, "-") != 0 && (fp = fopen(path, "r")) == NULL) {
	msg_error("%s: %s", path, strerror(errno));
	return 1;
    }
    start_us = monotime_us();
    src = fp;
    if (strict && (src = strict_check(&im, fp)) == NULL) {
	rc = 1;
	goto out;
    }
    im.batch = sup_batch_new(store, force);
    rc = import_pass(&im, src, 1) < 0 ? 1 : 0;
    sup_batch_free(im.batch);
    if (src != fp)
	fclose(src);
    if (im.bad > MAX_REPORTED)
	msg_error("%s: ... and %lld more invalid rows", im.name,
		  im.bad - MAX_REPORTED);
    secs = (double) (monotime_us() - start_us) / 1e6;
    msg_info("%s: %s %lld rows, %lld invalid skipped, %lld already expired, "
	     "%.2f s (%.0f rows/s)", im.name, rc ? "read" : "imported", im.rows,
	     im.bad, im.expired, secs, secs > 0 ? (double) im.rows / secs : 0.0);
    if (im.bad > 0)
	rc = 1;
out:
    if (fp != stdin)
	fclose(fp);
    return rc;
}
