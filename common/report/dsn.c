/*
 * dsn - RFC 3464 delivery status notification fields (see dsn.h)
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dsn.h"
#include "mime.h"
#include "xalloc.h"

static struct dsn_rcpt *rcpt_open(struct dsn_report *r);
static void rcpt_close(struct dsn_report *r, struct dsn_rcpt **cur);
static void copy_trim(char *out, size_t outsz, const char *in);

/* copy_trim - copy without surrounding blanks, cut to fit */
static void
copy_trim(char *out, size_t outsz, const char *in)
{
    size_t n;

    while (*in == ' ' || *in == '\t')
	in++;
    n = strlen(in);
    while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\t'))
	n--;
    if (n >= outsz)
	n = outsz - 1;
    memcpy(out, in, n);
    out[n] = 0;
}

/* dsn_addr_value - "rfc822; <a@b>" to "a@b" */
void
dsn_addr_value(const char *value, char *out, size_t outsz)
{
    const char *semi = strchr(value, ';');
    char *lt, *gt;

    copy_trim(out, outsz, semi ? semi + 1 : value);
    if ((lt = strchr(out, '<')) != NULL && (gt = strchr(lt, '>')) != NULL) {
	*gt = 0;
	memmove(out, lt + 1, strlen(lt + 1) + 1);
    }
    /* a trailing comment such as "a@b (Alice)" */
    if ((gt = strchr(out, ' ')) != NULL && strchr(out, '@') < gt)
	*gt = 0;
}

/* dsn_status_find - first d.ddd.ddd class.subject.detail in text */
int
dsn_status_find(const char *text, char *out, size_t outsz)
{
    const char *p;

    for (p = text; *p; p++) {
	const char *q;
	size_t n1 = 0, n2 = 0;

	if ((*p != '2' && *p != '4' && *p != '5') || p[1] != '.')
	    continue;
	/* not the tail of a number or address ("192.0.2.1", "v1.5.2.1") */
	if (p > text && (isalnum((unsigned char) p[-1]) || p[-1] == '.'))
	    continue;
	for (q = p + 2; isdigit((unsigned char) *q) && n1 < 4; q++)
	    n1++;
	if (n1 == 0 || n1 > 3 || *q != '.')
	    continue;
	for (q++; isdigit((unsigned char) *q) && n2 < 4; q++)
	    n2++;
	if (n2 == 0 || n2 > 3 || isalnum((unsigned char) *q)
	    || (*q == '.' && isdigit((unsigned char) q[1])))
	    continue;
	if ((size_t) (q - p) >= outsz)
	    return -1;
	memcpy(out, p, (size_t) (q - p));
	out[q - p] = 0;
	return 0;
    }
    return -1;
}

/* rcpt_open - start a new recipient group (in the slot after the last) */
static struct dsn_rcpt *
rcpt_open(struct dsn_report *r)
{
    /*
     * Beyond the limit the slot after the last is reused: the group is
     * still read, so the parse stays in step, but never kept.
     */
    if (r->nrcpts % 8 == 0)
	r->rcpts = xreallocarray(r->rcpts, r->nrcpts + 8, sizeof(*r->rcpts));
    memset(r->rcpts + r->nrcpts, 0, sizeof(*r->rcpts));
    return r->rcpts + r->nrcpts;
}

/* rcpt_close - keep the open group when it names a recipient */
static void
rcpt_close(struct dsn_report *r, struct dsn_rcpt **cur)
{
    struct dsn_rcpt *c = *cur;

    if (c == NULL)
	return;
    *cur = NULL;
    if (c->final_rcpt[0] == 0)
	snprintf(c->final_rcpt, sizeof(c->final_rcpt), "%s", c->orig_rcpt);
    if (c->final_rcpt[0] == 0)
	return;
    if (r->nrcpts >= DSN_MAX_RCPTS)
	r->truncated = 1;
    else
	r->nrcpts++;
}

/* dsn_parse - per-message and per-recipient fields of a delivery-status body */
int
dsn_parse(const char *body, size_t len, struct dsn_report *out)
{
    struct dsn_rcpt *cur = NULL;
    char name[64], val[DSN_DIAG_MAX + 64];
    size_t pos = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    while ((rc = mime_field_next(body, len, &pos, name, sizeof(name), val,
				 sizeof(val))) >= 0) {
	if (rc == 0) {
	    rcpt_close(out, &cur);
	    continue;
	}
	if (strcasecmp(name, "Reporting-MTA") == 0 && cur == NULL) {
	    dsn_addr_value(val, out->reporting_mta, sizeof(out->reporting_mta));
	} else if (strcasecmp(name, "Final-Recipient") == 0
		   || strcasecmp(name, "X-Actual-Recipient") == 0) {
	    if (cur != NULL && cur->final_rcpt[0] != 0
		&& strcasecmp(name, "Final-Recipient") == 0)
		rcpt_close(out, &cur);
	    if (cur == NULL)
		cur = rcpt_open(out);
	    if (cur->final_rcpt[0] == 0 || strcasecmp(name, "Final-Recipient") == 0)
		dsn_addr_value(val, cur->final_rcpt, sizeof(cur->final_rcpt));
	} else if (strcasecmp(name, "Original-Recipient") == 0) {
	    if (cur != NULL && cur->orig_rcpt[0] != 0)
		rcpt_close(out, &cur);
	    if (cur == NULL)
		cur = rcpt_open(out);
	    dsn_addr_value(val, cur->orig_rcpt, sizeof(cur->orig_rcpt));
	} else if (strcasecmp(name, "Action") == 0
		   || strcasecmp(name, "Status") == 0
		   || strcasecmp(name, "Remote-MTA") == 0
		   || strcasecmp(name, "Diagnostic-Code") == 0
		   || strcasecmp(name, "X-PowerMTA-BounceCategory") == 0) {
	    if (cur == NULL)
		cur = rcpt_open(out);
	    if (strcasecmp(name, "X-PowerMTA-BounceCategory") == 0) {
		copy_trim(cur->category, sizeof(cur->category), val);
	    } else if (strcasecmp(name, "Action") == 0) {
		size_t k;

		copy_trim(cur->action, sizeof(cur->action), val);
		for (k = 0; cur->action[k]; k++)
		    cur->action[k] = (char) tolower((unsigned char) cur->action[k]);
	    } else if (strcasecmp(name, "Status") == 0) {
		if (dsn_status_find(val, cur->status, sizeof(cur->status)) < 0)
		    cur->status[0] = 0;
		else
		    copy_trim(cur->status_comment, sizeof(cur->status_comment),
			      strstr(val, cur->status) + strlen(cur->status));
	    } else if (strcasecmp(name, "Remote-MTA") == 0) {
		dsn_addr_value(val, cur->remote_mta, sizeof(cur->remote_mta));
	    } else {
		const char *semi = strchr(val, ';');
		size_t k;

		if (semi != NULL && semi - val < (long) sizeof(cur->diag_type)
		    && memchr(val, ' ', (size_t) (semi - val)) == NULL) {
		    memcpy(cur->diag_type, val, (size_t) (semi - val));
		    cur->diag_type[semi - val] = 0;
		    for (k = 0; cur->diag_type[k]; k++)
			cur->diag_type[k] =
			    (char) tolower((unsigned char) cur->diag_type[k]);
		    copy_trim(cur->diag, sizeof(cur->diag), semi + 1);
		} else {
		    copy_trim(cur->diag, sizeof(cur->diag), val);
		}
	    }
	}
    }
    rcpt_close(out, &cur);
    return (int) out->nrcpts;
}

/* dsn_free - release the recipient list */
void
dsn_free(struct dsn_report *r)
{
    if (r == NULL)
	return;
    free(r->rcpts);
    memset(r, 0, sizeof(*r));
}
