/*
 * arf - RFC 5965 abuse reporting format (see arf.h)
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arf.h"
#include "dsn.h"
#include "mime.h"
#include "xalloc.h"

static void copy_field(char *out, size_t outsz, const char *val);

/* copy_field - copy a plain field value, cut to fit */
static void
copy_field(char *out, size_t outsz, const char *val)
{
    size_t n = strlen(val);

    if (n >= outsz)
	n = outsz - 1;
    memcpy(out, val, n);
    out[n] = 0;
}

/* arf_parse - fields of a feedback-report body */
int
arf_parse(const char *body, size_t len, struct arf_report *out)
{
    char name[64], val[1024];
    size_t pos = 0, k;
    int rc;

    memset(out, 0, sizeof(*out));
    while ((rc = mime_field_next(body, len, &pos, name, sizeof(name), val,
				 sizeof(val))) >= 0) {
	if (rc == 0)
	    continue;
	if (strcasecmp(name, "Feedback-Type") == 0) {
	    /* "abuse", "Abuse", "abuse; comment" */
	    for (k = 0; val[k] && val[k] != ';' && val[k] != ' '
		 && k + 1 < sizeof(out->feedback_type); k++)
		out->feedback_type[k] = (char) tolower((unsigned char) val[k]);
	    out->feedback_type[k] = 0;
	} else if (strcasecmp(name, "User-Agent") == 0) {
	    copy_field(out->user_agent, sizeof(out->user_agent), val);
	} else if (strcasecmp(name, "Version") == 0) {
	    copy_field(out->version, sizeof(out->version), val);
	} else if (strcasecmp(name, "Original-Mail-From") == 0) {
	    dsn_addr_value(val, out->orig_mail_from, sizeof(out->orig_mail_from));
	} else if (strcasecmp(name, "Source-IP") == 0) {
	    dsn_addr_value(val, out->source_ip, sizeof(out->source_ip));
	} else if (strcasecmp(name, "Reported-Domain") == 0) {
	    copy_field(out->reported_domain, sizeof(out->reported_domain), val);
	} else if (strcasecmp(name, "Arrival-Date") == 0
		   || strcasecmp(name, "Received-Date") == 0) {
	    copy_field(out->arrival_date, sizeof(out->arrival_date), val);
	} else if (strcasecmp(name, "Original-Rcpt-To") == 0
		   || strcasecmp(name, "Removal-Recipient") == 0) {
	    if (out->nrcpts >= ARF_MAX_RCPTS) {
		out->truncated = 1;
		continue;
	    }
	    out->rcpts = xreallocarray(out->rcpts, out->nrcpts + 1,
				       sizeof(*out->rcpts));
	    dsn_addr_value(val, out->rcpts[out->nrcpts], ADDR_MAX);
	    if (out->rcpts[out->nrcpts][0] != 0)
		out->nrcpts++;
	}
    }
    return out->feedback_type[0] ? 0 : -1;
}

/* arf_free - release the recipient list */
void
arf_free(struct arf_report *r)
{
    if (r == NULL)
	return;
    free(r->rcpts);
    memset(r, 0, sizeof(*r));
}
