/*
 * checkjudge - the receiver's verdict on a test message (see checkjudge.h)
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checkjudge.h"
#include "dnsfix.h"

static struct check_item *item(struct check_report *r, const char *name,
			       enum check_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static const char *const status_name[] = {"pass", "fail", "none"};

/* check_status_name - "pass", "fail", "none" */
const char *
check_status_name(enum check_status st)
{
    return st <= CHECK_NONE ? status_name[st] : "?";
}

/* flatten - no tab, CR, LF or other control byte: one line of text */
static void
flatten(char *s)
{
    for (; *s; s++)
	if ((unsigned char) *s < 0x20 || *s == 0x7f)
	    *s = ' ';
}

/* item - one more check; its fix is set by the caller when it has one */
static struct check_item *
item(struct check_report *r, const char *name, enum check_status st, const char *fmt, ...)
{
    struct check_item *it;
    va_list ap;

    if (r->n >= CHECK_MAX)
	abort();			/* the checks below are fewer */
    it = &r->item[r->n++];
    memset(it, 0, sizeof(*it));
    it->name = name;
    it->status = st;
    va_start(ap, fmt);
    vsnprintf(it->detail, sizeof(it->detail), fmt, ap);
    va_end(ap);
    flatten(it->detail);
    return it;
}

/* set_fix - the fix of a check, taken over (allocated) or copied (constant) */
static void
set_fix(struct check_item *it, char *allocated, const char *constant)
{
    snprintf(it->fix, sizeof(it->fix), "%s", allocated ? allocated : constant);
    free(allocated);
    flatten(it->fix);
}

/* at_ci - does [s, s+len) hold word (case-blind) at i? */
static int
at_ci(const char *s, size_t len, size_t i, const char *word)
{
    size_t n = strlen(word);

    return i + n <= len && strncasecmp(s + i, word, n) == 0;
}

/* checkjudge_received_tls - "with ESMTPS" (RFC 3848) in a Received field */
int
checkjudge_received_tls(const char *received, size_t len)
{
    size_t i, j, k;

    for (i = 0; i < len; i++) {
	/* the word "with", then a protocol ending in S or SA */
	if (!at_ci(received, len, i, "with") || (i > 0 && received[i - 1] > ' '))
	    continue;
	for (j = i + 4; j < len && (received[j] == ' ' || received[j] == '\t'
				    || received[j] == '\r' || received[j] == '\n'); j++)
	    ;
	if (j == i + 4)
	    continue;
	for (k = j; k < len && received[k] > ' ' && received[k] != ';'; k++)
	    ;
	if (k - j >= 5 && (at_ci(received, k, k - 1, "s") || at_ci(received, k, k - 2, "sa"))
	    && (at_ci(received, len, j, "esmtp") || at_ci(received, len, j, "utf8smtp")
		|| at_ci(received, len, j, "lmtp")))
	    return 1;
	i = k > i ? k - 1 : i;
    }
    return 0;
}

/* trim - skip blanks and folding at both ends */
static void
trim(const char **s, size_t *len)
{
    while (*len && (**s == ' ' || **s == '\t' || **s == '\r' || **s == '\n')) {
	(*s)++;
	(*len)--;
    }
    while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'
		    || (*s)[*len - 1] == '\r' || (*s)[*len - 1] == '\n'))
	(*len)--;
}

/* checkjudge_one_click - an https URI and the one-click POST field (RFC 8058) */
int
checkjudge_one_click(const char *unsub, size_t ulen, const char *post, size_t plen,
		     const char **why)
{
    static const char one_click[] = "List-Unsubscribe=One-Click";
    int https = 0, depth = 0;
    size_t i;

    if (unsub == NULL) {
	*why = "no List-Unsubscribe field";
	return 0;
    }
    /* <URI>, <URI>: an https one among them, outside comments */
    for (i = 0; i < ulen; i++) {
	if (unsub[i] == '(')
	    depth++;
	else if (unsub[i] == ')' && depth > 0)
	    depth--;
	else if (unsub[i] == '<' && depth == 0 && at_ci(unsub, ulen, i + 1, "https://"))
	    https = 1;
    }
    if (!https) {
	*why = "List-Unsubscribe has no https URI";
	return 0;
    }
    if (post == NULL) {
	*why = "no List-Unsubscribe-Post field";
	return 0;
    }
    trim(&post, &plen);
    if (plen != sizeof(one_click) - 1 || strncasecmp(post, one_click, plen) != 0) {
	*why = "List-Unsubscribe-Post is not List-Unsubscribe=One-Click";
	return 0;
    }
    *why = "List-Unsubscribe with an https URI and List-Unsubscribe-Post";
    return 1;
}

/* judge_dkim - a signature that verifies; returns the index of the first, or -1 */
static int
judge_dkim(const struct check_facts *f, struct check_report *r)
{
    struct check_item *it;
    size_t i;

    if (f->nsig == 0) {
	it = item(r, "dkim", CHECK_NONE, "the message is not signed");
	set_fix(it, dnsfix_dkim(*f->from_domain ? f->from_domain : "DOMAIN", NULL), NULL);
	return -1;
    }
    for (i = 0; i < f->nsig; i++)
	if (f->sig[i].pass) {
	    item(r, "dkim", CHECK_PASS, "d=%s s=%s: signature verified (%zu signature%s)",
		 f->sig[i].domain, f->sig[i].selector, f->nsig, f->nsig == 1 ? "" : "s");
	    return (int) i;
	}
    it = item(r, "dkim", CHECK_FAIL, "d=%s s=%s: %s", f->sig[0].domain, f->sig[0].selector,
	       f->sig[0].why);
    set_fix(it, dnsfix_dkim(f->sig[0].domain, f->sig[0].selector), NULL);
    return -1;
}

/* judge_spf - the return path's SPF result for the connecting address */
static int
judge_spf(const struct check_facts *f, struct check_report *r)
{
    struct check_item *it;
    const char *res = f->spf_result;

    if (strcmp(res, "pass") == 0) {
	item(r, "spf", CHECK_PASS, "%s may send for %s", f->client_ip, f->spf_domain);
	return 1;
    }
    if (strcmp(res, "none") == 0) {
	it = item(r, "spf", CHECK_NONE, "%s publishes no SPF record", f->spf_domain);
	set_fix(it, dnsfix_spf(f->spf_domain, f->client_ip), NULL);
	return 0;
    }
    it = item(r, "spf", CHECK_FAIL, "%s for %s from %s", res, f->spf_domain, f->client_ip);
    if (strcmp(res, "temperror") == 0)
	set_fix(it, dnsfix_trouble(f->spf_domain), NULL);
    else
	set_fix(it, dnsfix_spf(f->spf_domain, f->client_ip), NULL);
    return 0;
}

/* dkim_aligned - a verified signature whose d= aligns with From: */
static const char *
dkim_aligned(const struct check_facts *f, char mode)
{
    size_t i;

    for (i = 0; i < f->nsig; i++)
	if (f->sig[i].pass && dmarc_aligned(f->from_domain, f->sig[i].domain, mode))
	    return f->sig[i].domain;
    return NULL;
}

/* judge_dmarc - a record, and an aligned pass; returns 1 when aligned */
static int
judge_dmarc(const struct check_facts *f, int spf_pass, struct check_report *r)
{
    const struct dmarc_record *d = &f->dmarc_rec;
    struct check_item *it;
    const char *dd;
    int spf_al;

    if (f->from_domain[0] == '\0') {
	it = item(r, "dmarc", CHECK_FAIL, "no From: domain to align: %s", f->from_why);
	set_fix(it, NULL, "send with one address in From:");
	return 0;
    }
    if (f->dmarc == CHECK_DMARC_TROUBLE) {
	it = item(r, "dmarc", CHECK_FAIL, "%s: DNS trouble: %s", f->dmarc_name, f->dmarc_err);
	set_fix(it, dnsfix_trouble(f->dmarc_name), NULL);
	return 0;
    }
    if (f->dmarc == CHECK_DMARC_NONE || f->dmarc == CHECK_DMARC_BAD) {
	it = item(r, "dmarc", f->dmarc == CHECK_DMARC_NONE ? CHECK_NONE : CHECK_FAIL,
		  f->dmarc == CHECK_DMARC_NONE ? "%s: no DMARC record%s%s"
		  : "%s: a receiver discards the record: %s", f->dmarc_name,
		  f->dmarc == CHECK_DMARC_NONE ? "" : f->dmarc_err, "");
	set_fix(it, dnsfix_dmarc(f->from_domain), NULL);
	/* alignment is still judged, as a receiver without the record would not */
	return 0;
    }
    dd = dkim_aligned(f, d->adkim);
    spf_al = spf_pass && dmarc_aligned(f->from_domain, f->spf_domain, d->aspf);
    if (dd || spf_al) {
	item(r, "dmarc", CHECK_PASS, "p=%s; From: %s aligned through %s%s%s%s%s",
	     dmarc_policy_name(d->p), f->from_domain, dd ? "DKIM d=" : "",
	     dd ? dd : "", dd && spf_al ? " and " : "", spf_al ? "SPF " : "",
	     spf_al ? f->spf_domain : "");
	return 1;
    }
    it = item(r, "dmarc", CHECK_FAIL, "p=%s; From: %s aligns with neither a verified "
	      "DKIM d= (adkim=%c) nor an SPF pass for %s (aspf=%c): a receiver applies p=%s",
	      dmarc_policy_name(d->p), f->from_domain, d->adkim, f->spf_domain, d->aspf,
	      dmarc_policy_name(d->p));
    set_fix(it, dnsfix_align(f->from_domain), NULL);
    return 0;
}

/* received_by - the "from ... by ..." part of the top Received field, shortened */
static void
received_by(const struct check_facts *f, char *out, size_t size)
{
    size_t n = f->received_len, i, o = 0;
    int space = 0;

    /* collapse folding and runs of blanks; stop at the date */
    for (i = 0; i < n && o + 1 < size; i++) {
	char c = f->received[i];

	if (c == ';')
	    break;
	if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || (unsigned char) c < 0x20) {
	    space = o > 0;
	    continue;
	}
	if (space && o + 2 < size)
	    out[o++] = ' ';
	space = 0;
	out[o++] = c;
    }
    out[o] = '\0';
}

/* judge_path - the Received path and the hop's TLS */
static void
judge_path(const struct check_facts *f, struct check_report *r)
{
    char last[300];
    struct check_item *it;
    int tls;

    if (f->received == NULL) {
	item(r, "received", CHECK_NONE, "no Received field");
    } else {
	received_by(f, last, sizeof(last));
	item(r, "received", CHECK_PASS, "%zu hop%s; the last: %s", f->nreceived,
	     f->nreceived == 1 ? "" : "s", last);
    }
    tls = f->tls_version[0] != '\0'
	|| (f->received && checkjudge_received_tls(f->received, f->received_len));
    if (tls) {
	item(r, "tls", CHECK_PASS, "the hop from %s was encrypted%s%s", f->client_ip,
	     f->tls_version[0] ? ": " : " (Received: with ESMTPS)", f->tls_version);
	return;
    }
    it = item(r, "tls", CHECK_FAIL, "the hop from %s was not encrypted", f->client_ip);
    set_fix(it, NULL, dnsfix_tls());
}

/* judge_bulk - one-click unsubscribe, then the bulk senders' rules */
static void
judge_bulk(const struct check_facts *f, int aligned, struct check_report *r)
{
    struct check_item *it;
    const char *why, *miss[3];
    size_t n = 0;
    int oc = checkjudge_one_click(f->unsub, f->unsub_len, f->unsub_post, f->unsub_post_len,
				  &why);
    char want[300];

    if (oc)
	item(r, "one-click", CHECK_PASS, "%s", why);
    else
	set_fix(item(r, "one-click", CHECK_FAIL, "%s", why), NULL, dnsfix_one_click());
    if (!oc)
	miss[n++] = "one-click unsubscribe";
    if (!aligned)
	miss[n++] = "From: aligned (DMARC pass)";
    if (f->dmarc != CHECK_DMARC_FOUND)
	miss[n++] = "a DMARC record (p=none at least)";
    if (n == 0) {
	item(r, "bulk-sender", CHECK_PASS, "Gmail and Yahoo bulk-sender rules met: "
	     "one-click unsubscribe, From: aligned, DMARC p=%s",
	     dmarc_policy_name(f->dmarc_rec.p));
	return;
    }
    snprintf(want, sizeof(want), "%s%s%s%s%s", miss[0], n > 1 ? ", " : "", n > 1 ? miss[1] : "",
	     n > 2 ? ", " : "", n > 2 ? miss[2] : "");
    it = item(r, "bulk-sender", CHECK_FAIL, "Gmail and Yahoo require of bulk mail: %s", want);
    if (!oc)
	set_fix(it, NULL, dnsfix_one_click());
    else if (f->dmarc != CHECK_DMARC_FOUND)
	set_fix(it, dnsfix_dmarc(f->from_domain[0] ? f->from_domain : "DOMAIN"), NULL);
    else
	set_fix(it, dnsfix_align(f->from_domain), NULL);
}

/* checkjudge_run - every check, in order */
void
checkjudge_run(const struct check_facts *f, struct check_report *r)
{
    int spf_pass, aligned;

    memset(r, 0, sizeof(*r));
    judge_dkim(f, r);
    spf_pass = judge_spf(f, r);
    aligned = judge_dmarc(f, spf_pass, r);
    judge_path(f, r);
    judge_bulk(f, aligned, r);
}
