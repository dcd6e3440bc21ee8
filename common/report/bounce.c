/*
 * bounce - read a bounce, complaint, auto-reply or unsubscribe message
 * (see bounce.h)
 *
 * Structured reports come first: a message/delivery-status part (RFC
 * 3464) or a message/feedback-report part (RFC 5965).  Everything else is
 * read as text: the notification is the text before the returned message,
 * the failed recipients are the addresses that stand at the start of a
 * line or after "to"/"recipient" in it, and the words from one recipient
 * to the next are its diagnostic.  That covers the plain-text formats of
 * Exim, qmail, Exchange, Gmail, Yahoo, Domino and most others without a
 * parser per product.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "arf.h"
#include "bounce.h"
#include "bounce_rhost.h"
#include "json_scan.h"
#include "mime.h"
#include "xalloc.h"

/* a notification is short: what follows is not read */
#define NOTICE_MAX	(256 * 1024)

/*
 * An address of the notice, where it stands: the words around each '@',
 * as written and trimmed of punctuation.  Sorted by text, then place, so
 * that the place of one recipient is a binary search, not a search of the
 * notice per recipient (1,000 recipients x 256 KB).
 */
struct notice_addr {
    const char *s;			/* into the notice's text */
    size_t len;
    const char *line;			/* the start of its line */
};

/* what the text reader works with */
struct notice {
    char *text;			/* notification text, owned */
    size_t len;
    struct notice_addr *addrs;		/* owned, naddrs, sorted */
    size_t naddrs;
};

static struct bounce_rcpt *rcpt_add(struct bounce_report *r, const char *addr);
static int rcpt_full(struct bounce_report *r);
static int over_budget(struct bounce_report *r);
static void set_addr(char *out, const char *in);
static int addr_at(const char *s, size_t pos, size_t len, size_t *start,
		   size_t *end);
static int is_role_addr(const char *a);
static void keep_orig_headers(struct bounce_report *r, const char *hdr,
			      size_t len);
static void notice_build(const struct mime_msg *m, struct notice *n,
			 struct bounce_report *r);
static size_t notice_cut(const char *t, size_t len, size_t *orig);
static int original_part(const struct mime_part *p);
static void rcpt_block(const struct notice *n, const char *addr, char *out,
		       size_t outsz);
static void notice_index(struct notice *n);
static const char *notice_find(const struct notice *n, const char *addr,
			       const char *from);
static int summary_field(const char *l, size_t n, int rcpt);
static int quoted_rcpt_line(const struct notice *n, const char *line);
static int failure_status(const char *text, char *out, size_t outsz);
static void host_token(const char *p, char *out, size_t outsz);
static void remote_host(const struct bounce_rcpt *rc, const char *evidence,
			char *out, size_t outsz);
static void finish_rcpt(const struct bounce_report *r,
			struct bounce_rcpt *rc, const char *evidence,
			int temporary_hint);
static int read_dsn(const struct mime_msg *m, const struct notice *n,
		    struct bounce_report *r);
static int read_arf(const struct mime_msg *m, struct bounce_report *r);
static int read_ses(const struct mime_msg *m, struct bounce_report *r);
static int read_text(const struct mime_msg *m, const struct notice *n,
		     struct bounce_report *r);
static int looks_like_bounce(const struct mime_msg *m);
static int looks_like_unsubscribe(const struct mime_msg *m);
static int looks_like_autoreply(const struct mime_msg *m);
static int autoreply_first(const struct mime_msg *m);
static int challenge_notice(const struct notice *n);
static void first_addr(const char *value, char *out, size_t outsz);
static void block_extends(const char *block, const char *diag, char *out,
			  size_t outsz);
static int list_notice(const struct mime_msg *m);
static int list_title_reason(const struct mime_msg *m);
static void bracketed_rcpt(struct bounce_report *r, const struct notice *n);
static int exim_notice(const struct mime_msg *m);
static void notice_mta(const struct mime_msg *m, const struct notice *n,
		       struct bounce_report *out);
static void spam_marked(const struct mime_msg *m, struct bounce_report *out);
static int still_retried(const struct notice *n);
static void delay_warning(struct bounce_report *out, int retrying);

/* bounce_kind_name - printable kind */
const char *
bounce_kind_name(int kind)
{
    switch (kind) {
    case BOUNCE_DSN: return "dsn";
    case BOUNCE_ARF: return "arf";
    case BOUNCE_UNSUBSCRIBE: return "unsubscribe";
    case BOUNCE_AUTOREPLY: return "autoreply";
    default: return "unknown";
    }
}

/* set_addr - normalised address when possible, else as written */
static void
set_addr(char *out, const char *in)
{
    const char *why;

    if (addr_normalize(in, strlen(in), out, ADDR_MAX, &why) != 0)
	snprintf(out, ADDR_MAX, "%s", in);
}

/* thread_cpu_ns - CPU time the calling thread has used */
static long long
thread_cpu_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
	return 0;
    return (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* over_budget - the report has cost its CPU budget (and stays so) */
static int
over_budget(struct bounce_report *r)
{
    if (!r->over_budget && r->cpu_limit_ns > 0
	&& thread_cpu_ns() > r->cpu_limit_ns)
	r->over_budget = 1;
    return r->over_budget;
}

/* rcpt_full - no more recipients: the cap is reached or the budget spent */
static int
rcpt_full(struct bounce_report *r)
{
    return r->truncated || over_budget(r);
}

/* rcpt_add - a new recipient, or NULL when known or when rcpt_full() */
static struct bounce_rcpt *
rcpt_add(struct bounce_report *r, const char *addr)
{
    struct bounce_rcpt *rc;
    char norm[ADDR_MAX];
    size_t i;

    if (rcpt_full(r))
	return NULL;
    if (r->nrcpts >= BOUNCE_MAX_RCPTS) {
	r->truncated = 1;
	return NULL;
    }
    set_addr(norm, addr);
    for (i = 0; i < r->nrcpts; i++)
	if (strcasecmp(r->rcpts[i].addr, norm) == 0)
	    return NULL;
    if (r->nrcpts % 8 == 0)
	r->rcpts = xreallocarray(r->rcpts, r->nrcpts + 8, sizeof(*rc));
    rc = r->rcpts + r->nrcpts++;
    memset(rc, 0, sizeof(*rc));
    snprintf(rc->addr, sizeof(rc->addr), "%s", norm);
    return rc;
}

/* is_local_char - may appear in the local part of an address we pick up */
static int
is_local_char(int c)
{
    return isalnum(c) || (c != 0 && strchr(".!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* addr_at - is there an address whose '@' is at pos?  give its extent */
static int
addr_at(const char *s, size_t pos, size_t len, size_t *start, size_t *end)
{
    size_t a = pos, b = pos + 1;
    int dots = 0;

    while (a > 0 && is_local_char((unsigned char) s[a - 1]))
	a--;
    /* a leading dot or quote is punctuation, not part of the address */
    while (a < pos && (s[a] == '.' || s[a] == '\''))
	a++;
    while (b < len && (isalnum((unsigned char) s[b]) || s[b] == '-'
		       || s[b] == '.' || s[b] == '_'))
	b++;
    while (b > pos + 1 && (s[b - 1] == '.' || s[b - 1] == '-'))
	b--;
    for (size_t k = pos + 1; k < b; k++)
	dots += s[k] == '.';
    if (a == pos || dots == 0 || b - pos < 4 || pos - a > 64)
	return 0;
    *start = a;
    *end = b;
    return 1;
}

/* is_role_addr - mail system addresses that are never the failed recipient */
static int
is_role_addr(const char *a)
{
    static const char *const roles[] = {
	"mailer-daemon@", "postmaster@", "mail-daemon@", "maildaemon@",
	"mailer_daemon@", "double-bounce@", "noreply@", "no-reply@", NULL
    };

    for (int i = 0; roles[i]; i++)
	if (strncasecmp(a, roles[i], strlen(roles[i])) == 0)
	    return 1;
    return 0;
}

/* first_addr - the first address in a header value */
static void
first_addr(const char *value, char *out, size_t outsz)
{
    size_t len = strlen(value), i, s, e;

    out[0] = 0;
    for (i = 0; i < len; i++)
	if (value[i] == '@' && addr_at(value, i, len, &s, &e)) {
	    snprintf(out, outsz, "%.*s", (int) (e - s), value + s);
	    return;
	}
}

/* keep_orig_headers - remember the returned message's header block */
static void
keep_orig_headers(struct bounce_report *r, const char *hdr, size_t len)
{
    size_t body, n;

    if (r->orig_headers != NULL || len == 0)
	return;
    while (len > 0 && (*hdr == '\n' || *hdr == ' '))
	hdr++, len--;
    n = mime_header_end(hdr, len, &body);
    if (n == 0 || memchr(hdr, ':', n) == NULL)
	return;
    /* not xstrndup(): a NUL inside must not make the copy shorter than n */
    r->orig_headers = xmalloc(n + 1);
    memcpy(r->orig_headers, hdr, n);
    r->orig_headers[n] = 0;
    r->orig_headers_len = n;
}

/* line_is_separator - a line that introduces the returned message */
static int
line_is_separator(const char *l, size_t n)
{
    static const char *const marks[] = {
	"original message", "returned message", "copy of the message",
	"copy of your message", "below this line", "message headers follow",
	"undelivered message", "headers of the original", "original headers",
	"returned mail", "rejected message", "this is a copy",
	"message follows", "included below", "original mail",
	"header of the original message", "unsent message below", NULL
    };
    char buf[200];
    size_t i, o = 0;

    while (n > 0 && (*l == ' ' || *l == '\t' || *l == '>'))
	l++, n--;
    for (i = 0; i < n && o + 1 < sizeof(buf); i++)
	buf[o++] = (char) tolower((unsigned char) l[i]);
    buf[o] = 0;
    if (n >= 28 && strncasecmp(l, "content-type: message/rfc822", 28) == 0)
	return 1;
    /* a rule line, or a short line of its own, not a sentence about it */
    if (n > 50 && !ispunct((unsigned char) buf[0]))
	return 0;
    for (i = 0; marks[i]; i++) {
	const char *hit = strstr(buf, marks[i]), *colon;

	/* "the id of the original message is: x": a field, not a rule */
	if (hit != NULL && (colon = strstr(hit, ": ")) != NULL
	    && isalnum((unsigned char) colon[2]))
	    continue;
	if (hit != NULL)
	    return 1;
    }
    return 0;
}

/* header_line - a "Name: value" line of the kind that opens a message */
static int
header_line(const char *l, size_t n)
{
    static const char *const names[] = {
	"return-path:", "received:", "from:", "message-id:", "date:",
	"subject:", "to:", "x-", "dkim-signature:", "mime-version:",
	"delivered-to:", "content-type:", "reply-to:", "sender:", NULL
    };

    for (int i = 0; names[i]; i++)
	if (n >= strlen(names[i])
	    && strncasecmp(l, names[i], strlen(names[i])) == 0)
	    return 1;
    return 0;
}

/* notice_cut - length of the notification; *orig = where the original starts */
static size_t
notice_cut(const char *t, size_t len, size_t *orig)
{
    size_t i = 0, end;
    int prev_blank = 1;
    const char *nl;

    *orig = len;
    while (i < len) {
	nl = memchr(t + i, '\n', len - i);
	end = nl ? (size_t) (nl - t) : len;
	if (line_is_separator(t + i, end - i)) {
	    *orig = end + 1 > len ? len : end + 1;
	    return i;
	}
	/* a header block after an empty line: the original, unannounced */
	if (prev_blank && (strncasecmp(t + i, "Return-Path:", 12) == 0
			   || strncasecmp(t + i, "Received:", 9) == 0)) {
	    const char *nl2 = memchr(t + end + 1 > t + len ? t + len : t + end + 1,
				     '\n', end + 1 < len ? len - end - 1 : 0);
	    size_t e2 = nl2 ? (size_t) (nl2 - t) : len;

	    if (end + 1 < len && (header_line(t + end + 1, e2 - end - 1)
				  || t[end + 1] == ' ' || t[end + 1] == '\t')) {
		*orig = i;
		return i;
	    }
	}
	prev_blank = (end == i);
	i = end + 1;
    }
    return len;
}

/* original_part - a part that holds the returned message or its headers */
static int
original_part(const struct mime_part *p)
{
    return strcmp(p->type, "message/rfc822") == 0
	|| strcmp(p->type, "message/global") == 0
	|| strcmp(p->type, "text/rfc822-headers") == 0
	|| strcmp(p->type, "message/rfc822-headers") == 0
	|| strcmp(p->type, "message/global-headers") == 0;
}

/* notice_build - the notification text, and the original's headers */
static void
notice_build(const struct mime_msg *m, struct notice *n,
	     struct bounce_report *r)
{
    size_t i, o = 0, cap = 0, cut, orig;
    int seen_orig = 0;

    n->text = NULL;
    n->len = 0;
    n->addrs = NULL;
    n->naddrs = 0;
    for (i = 0; i < m->nparts; i++) {
	const struct mime_part *p = m->parts + i;

	if (original_part(p)) {
	    keep_orig_headers(r, p->body, p->body_len);
	    seen_orig = 1;
	    continue;
	}
	/*
	 * A multipart part left whole (its boundary lost to a broken
	 * header fold) is read as text: its parts are in it.
	 */
	if (seen_orig || (strncmp(p->type, "text/", 5) != 0
			  && strncmp(p->type, "multipart/", 10) != 0)
	    || strcmp(p->type, "text/html") == 0)
	    continue;
	if (o + p->body_len + 2 > cap) {
	    cap = o + p->body_len + 2;
	    n->text = xreallocarray(n->text, cap, 1);
	}
	memcpy(n->text + o, p->body, p->body_len);
	o += p->body_len;
	n->text[o++] = '\n';
    }
    if (n->text == NULL) {
	n->text = xstrdup("");
	return;
    }
    n->text[o] = 0;
    cut = notice_cut(n->text, o, &orig);
    if (cut > NOTICE_MAX)
	cut = NOTICE_MAX;
    if (orig < o)
	keep_orig_headers(r, n->text + orig, o - orig);
    n->text[cut] = 0;
    n->len = cut;
    notice_index(n);
}

/* addr_cmp - notice addresses by text, case blind, then by place */
static int
addr_cmp(const void *x, const void *y)
{
    const struct notice_addr *a = x, *b = y;
    int d;

    if (a->len != b->len)
	return a->len < b->len ? -1 : 1;
    if ((d = strncasecmp(a->s, b->s, a->len)) != 0)
	return d;
    return a->s < b->s ? -1 : a->s > b->s;
}

/* addr_push - one more place of an address, unless it is too long for one */
static void
addr_push(struct notice *n, size_t *cap, const char *s, size_t len,
	  const char *line)
{
    if (len >= ADDR_MAX)
	return;
    if (n->naddrs == *cap) {
	*cap = *cap ? 2 * *cap : 64;
	n->addrs = xreallocarray(n->addrs, *cap, sizeof(*n->addrs));
    }
    n->addrs[n->naddrs].s = s;
    n->addrs[n->naddrs].line = line;
    n->addrs[n->naddrs++].len = len;
}

/* addr_sift - heap order below root, n entries */
static void
addr_sift(struct notice_addr *v, size_t root, size_t n)
{
    struct notice_addr t;
    size_t child;

    while ((child = 2 * root + 1) < n) {
	if (child + 1 < n && addr_cmp(v + child, v + child + 1) < 0)
	    child++;
	if (addr_cmp(v + root, v + child) >= 0)
	    return;
	t = v[root];
	v[root] = v[child];
	v[child] = t;
	root = child;
    }
}

/*
 * addr_sort - heap sort in addr_cmp() order.  Not qsort(): glibc's asks
 * the kernel how much memory there is (sysinfo), which the report
 * parser's sandbox does not allow.
 */
static void
addr_sort(struct notice_addr *v, size_t n)
{
    struct notice_addr t;
    size_t i;

    for (i = n / 2; i-- > 0;)
	addr_sift(v, i, n);
    for (i = n; i-- > 1;) {
	t = v[0];
	v[0] = v[i];
	v[i] = t;
	addr_sift(v, 0, i);
    }
}

/*
 * notice_index - the addresses of the notice, in one pass.  The words
 * around an '@' stop at the previous and next '@', so each byte is
 * looked at by at most two of them.
 */
static void
notice_index(struct notice *n)
{
    const char *t = n->text, *at, *line = t, *nl;
    size_t cap = 0, q, a, b, ta, tb, prev = 0;

    n->addrs = NULL;
    n->naddrs = 0;
    for (at = memchr(t, '@', n->len); at != NULL;
	 at = memchr(at + 1, '@', n->len - (size_t) (at + 1 - t))) {
	q = (size_t) (at - t);
	/* the line it is on: a newline since the previous '@' starts one */
	if ((nl = memrchr(t + prev, '\n', q - prev)) != NULL)
	    line = nl + 1;
	prev = q;
	for (a = q; a > 0 && is_local_char((unsigned char) t[a - 1]); a--)
	    /* void */ ;
	for (b = q + 1; b < n->len && (isalnum((unsigned char) t[b])
				       || t[b] == '-' || t[b] == '.'
				       || t[b] == '_'); b++)
	    /* void */ ;
	addr_push(n, &cap, t + a, b - a, line);
	/* as addr_at() trims it: a leading dot or quote, a final dot */
	for (ta = a; ta < q && (t[ta] == '.' || t[ta] == '\''); ta++)
	    /* void */ ;
	for (tb = b; tb > q + 1 && (t[tb - 1] == '.' || t[tb - 1] == '-'); tb--)
	    /* void */ ;
	if (ta != a || tb != b)
	    addr_push(n, &cap, t + ta, tb - ta, line);
    }
    addr_sort(n->addrs, n->naddrs);
}

/*
 * notice_find - the start of the line of the first place at or after from
 * where the notice names addr as an address of its own (not inside a
 * longer one), or NULL
 */
static const char *
notice_find(const struct notice *n, const char *addr, const char *from)
{
    size_t len = strlen(addr), lo = 0, hi = n->naddrs, mid;
    const struct notice_addr *e;
    int d;

    /* the first entry not before (addr, from) in addr_cmp()'s order */
    while (lo < hi) {
	mid = lo + (hi - lo) / 2;
	e = n->addrs + mid;
	if (e->len != len)
	    d = e->len < len ? -1 : 1;
	else if ((d = strncasecmp(e->s, addr, len)) == 0)
	    d = e->s < from ? -1 : 0;
	if (d < 0)
	    lo = mid + 1;
	else
	    hi = mid;
    }
    if (lo == n->naddrs)		/* addrs may be NULL: no pointer made */
	return NULL;
    e = n->addrs + lo;
    if (e->len == len && strncasecmp(e->s, addr, len) == 0)
	return e->line;
    return NULL;
}

/* next_rcpt_line - the line at q (up to end) opens with another address */
static int
next_rcpt_line(const struct notice *n, const char *q, const char *end,
	       const char *addr, size_t alen)
{
    const char *t = n->text, *nl = memchr(q, '\n', (size_t) (end - q)), *at;
    size_t s, e;

    if (nl == NULL)
	nl = end;
    /*
     * Sendmail's "554 <user@example.org>... why" is a reply about that
     * address, its "421 example.org (smtp)... why" one about the next.
     */
    if (nl - q > 5 && (*q == '4' || *q == '5') && isdigit((unsigned char) q[1])
	&& isdigit((unsigned char) q[2]) && q[3] == ' ') {
	const char *dots = memmem(q, (size_t) (nl - q), "... ", 4);

	if (q[4] == '<')
	    q += 4;
	else if (dots != NULL && memchr(q + 4, '@', (size_t) (dots - q - 4)) == NULL
		 && memchr(q + 4, ' ', (size_t) (dots - q - 4)) != NULL
		 && dots[-1] == ')')
	    return 1;
    }
    while (q < nl && (*q == ' ' || *q == '\t' || *q == '<' || *q == '"'))
	q++;
    if ((at = memchr(q, '@', (size_t) (nl - q))) == NULL
	|| ((size_t) (end - q) >= alen && strncasecmp(q, addr, alen) == 0))
	return 0;
    return addr_at(t, (size_t) (at - t), n->len, &s, &e) && t + s == q;
}

/* summary_field - a "Name: value" line of a quoted header; rcpt: To or Cc */
static int
summary_field(const char *l, size_t n, int rcpt)
{
    while (n > 0 && (*l == '>' || *l == ' ' || *l == '\t'))
	l++, n--;
    if (n >= 3 && (strncasecmp(l, "to:", 3) == 0 || strncasecmp(l, "cc:", 3) == 0))
	return 1;
    return !rcpt && (header_line(l, n)
		     || (n >= 5 && strncasecmp(l, "sent:", 5) == 0));
}

/*
 * quoted_rcpt_line - the line at line is a "To:" or "Cc:" field beside
 * other header fields: the notice quotes the original ("Your message
 *   To: ...  Subject: ...  Sent: ...  did not reach ..."), whose
 * recipients did not all fail, and says elsewhere which did
 */
static int
quoted_rcpt_line(const struct notice *n, const char *line)
{
    const char *end = n->text + n->len, *nl, *prev;
    size_t len;

    nl = memchr(line, '\n', (size_t) (end - line));
    len = nl ? (size_t) (nl - line) : (size_t) (end - line);
    if (!summary_field(line, len, 1))
	return 0;
    if (line > n->text) {
	prev = memrchr(n->text, '\n', (size_t) (line - 1 - n->text));
	prev = prev ? prev + 1 : n->text;
	if (summary_field(prev, (size_t) (line - 1 - prev), 0))
	    return 1;
    }
    if (nl != NULL && nl + 1 < end) {
	const char *next = nl + 1, *e = memchr(next, '\n', (size_t) (end - next));

	return summary_field(next, e ? (size_t) (e - next) : (size_t) (end - next), 0);
    }
    return 0;
}

/*
 * rcpt_block - text about one recipient: from its line to the next one's.
 * Only outsz bytes are kept, so no line beyond them is looked at: the cost
 * is the look-up of the address in the notice's index plus outsz.
 */
static void
rcpt_block(const struct notice *n, const char *addr, char *out, size_t outsz)
{
    const char *t = n->text, *hit, *p, *end = n->text + n->len, *last;
    size_t alen = strlen(addr), o = 0;

    out[0] = 0;
    /* start at the beginning of the line that names the recipient */
    if (alen == 0 || (hit = notice_find(n, addr, t)) == NULL)
	return;
    /* not at the original's quoted fields, when the notice names it again */
    while (quoted_rcpt_line(n, hit)) {
	const char *nl = memchr(hit, '\n', (size_t) (end - hit)), *again;

	if (nl == NULL || (again = notice_find(n, addr, nl + 1)) == NULL)
	    break;
	hit = again;
    }
    /*
     * Stop at a blank line followed by a line that names another address;
     * line ends past outsz are not looked for.
     */
    last = (size_t) (end - hit) > outsz ? hit + outsz : end;
    for (p = memchr(hit, '\n', (size_t) (last - hit)); p != NULL;
	 p = memchr(p + 1, '\n', (size_t) (last - p - 1))) {
	if (next_rcpt_line(n, p + 1, end, addr, alen)) {
	    end = p;
	    break;
	}
    }
    for (p = hit; p < end && o + 1 < outsz; p++)
	out[o++] = *p;
    out[o] = 0;
}

/* host_token - "dns; mx.example.com [192.0.2.1]" -> "mx.example.com" */
static void
host_token(const char *p, char *out, size_t outsz)
{
    size_t o = 0;

    while (*p == ' ' || *p == '[')
	p++;
    while (*p && *p != ' ' && *p != '[' && *p != ']' && *p != ':'
	   && o + 1 < outsz)
	out[o++] = (char) tolower((unsigned char) *p++);
    while (o > 0 && out[o - 1] == '.')
	o--;
    out[o] = 0;
}

/* remote_host - the remote MTA's name: Remote-MTA, else the notice's words */
static void
remote_host(const struct bounce_rcpt *rc, const char *evidence, char *out,
	    size_t outsz)
{
    host_token(rc->remote_mta, out, outsz);
    /* an address literal names no provider */
    if (out[0] && !isdigit((unsigned char) out[strlen(out) - 1]))
	return;
    bounce_rhost_find(evidence, out, outsz);
}

/* fold_diag - the evidence as one line, blanks folded, into diag */
static void
fold_diag(char *diag, size_t size, const char *evidence)
{
    size_t i, o = 0;

    for (i = 0; evidence[i] && o + 1 < size; i++) {
	char c = isspace((unsigned char) evidence[i]) ? ' ' : evidence[i];

	if (c == ' ' && (o == 0 || diag[o - 1] == ' '))
	    continue;
	diag[o++] = c;
    }
    while (o > 0 && diag[o - 1] == ' ')
	o--;
    diag[o] = 0;
}

/* finish_rcpt - codes, reason and verdict from the gathered evidence */
static void
finish_rcpt(const struct bounce_report *r, struct bounce_rcpt *rc,
	    const char *evidence, int temporary_hint)
{
    struct bounce_evidence ev;
    const char *cmd;
    char rhost[256];

    if (rc->status[0] == 0)
	failure_status(evidence, rc->status, sizeof(rc->status));
    if (rc->replycode[0] == 0)
	bounce_replycode_find(evidence, rc->status, rc->replycode,
			      sizeof(rc->replycode));
    if (rc->command[0] == 0 && (cmd = bounce_command_find(evidence)) != NULL)
	snprintf(rc->command, sizeof(rc->command), "%s", cmd);
    if (rc->diag[0] == 0)
	fold_diag(rc->diag, sizeof(rc->diag), evidence);
    memset(&ev, 0, sizeof(ev));
    ev.status = rc->status;
    ev.replycode = rc->replycode;
    ev.text = evidence;
    ev.action = rc->action;
    ev.command = rc->command[0] ? rc->command : NULL;
    ev.diag_type = "";
    remote_host(rc, evidence, rhost, sizeof(rhost));
    ev.rhost = rhost;
    ev.domain = strchr(rc->addr, '@') ? strrchr(rc->addr, '@') + 1 : NULL;
    ev.lhost = rc->reporting_mta;
    ev.mta = r->mta[0] ? r->mta : NULL;
    if (rc->reason == BR_UNDEFINED)
	rc->reason = bounce_classify(&ev);
    if (strchr(rc->addr, '@') != NULL)
	rc->reason = bounce_provider_reason(strrchr(rc->addr, '@') + 1,
					    rc->reason);
    if (rc->status[0] == 0 && rc->reason != BR_FEEDBACK
	&& rc->reason != BR_VACATION && rc->reason != BR_DELIVERED) {
	/*
	 * The words and codes decide, not the DSN Action: a report may
	 * call a message "delayed" that the remote end refused for good.
	 */
	int temp = temporary_hint || rc->replycode[0] == '4'
	    || bounce_text_is_temporary(evidence)
	    /* Exim keeps retrying a full mailbox until its queue gives up */
	    || (strcmp(r->mta, "exim") == 0 && (rc->reason == BR_EXPIRED
						|| rc->reason == BR_MAILBOXFULL));

	bounce_pseudo_status(rc->reason, temp, rc->status, sizeof(rc->status));
    }
    rc->hard = bounce_is_hard(rc->reason, rc->status, rc->replycode);
}

/* generic_status - a code that says only "failed" or "the queue gave up" */
static int
generic_status(const char *code)
{
    return (strncmp(code + 1, ".0.0", 4) == 0 && code[5] == 0)
	|| strcmp(code, "4.4.7") == 0;
}

/*
 * failure_status - the first specific 4.x.x or 5.x.x code in text, else
 * a generic one (X.0.0, 4.4.7), else any code.  A notice that quotes the
 * remote answer beside its own verdict ("4.4.7 expired <421 4.4.2 ...>")
 * names the cause in the remote code.
 */
static int
failure_status(const char *text, char *out, size_t outsz)
{
    const char *p = text;
    char code[16], generic[16] = "";
    int found = -1;

    out[0] = 0;
    while (dsn_status_find(p, code, sizeof(code)) == 0) {
	const char *at = strstr(p, code);

	if (found < 0) {
	    snprintf(out, outsz, "%s", code);
	    found = 0;
	}
	if (code[0] != '2') {
	    if (!generic_status(code)) {
		snprintf(out, outsz, "%s", code);
		return 0;
	    }
	    if (generic[0] == 0)
		snprintf(generic, sizeof(generic), "%s", code);
	}
	if (at == NULL)
	    break;
	p = at + strlen(code);
    }
    if (generic[0])
	snprintf(out, outsz, "%s", generic);
    return found;
}

/*
 * prefer_specific_status - the DSN's Status field or the code in its
 * words, whichever says more (Sisimai's preference): the one of the
 * reply code's class; a specific code over "X.0.0" or "X.Y.0"; the
 * words' code over a Status that says only "the queue gave up" (4.4.7),
 * "too many errors" (4.7.0), "system error" (5.3.x) or "bad command"
 * (X.5.1, X.5.2, X.5.4, X.5.5); "5.1.1" yields to a specific code that
 * is not a command error, "5.1.3" to a 5.7.x.
 */
static void
prefer_specific_status(char *status, size_t size, const char *diag)
{
    char other[16], reply[4];

    if (failure_status(diag, other, sizeof(other)) < 0 || other[0] == '2')
	return;
    if (status[0] == 0 || strcmp(status, other) == 0) {
	snprintf(status, size, "%s", other);
	return;
    }
    if (bounce_replycode_find(diag, other, reply, sizeof(reply)) == 0
	&& status[0] != other[0]
	&& (reply[0] == other[0] || reply[0] == status[0])) {
	if (reply[0] == other[0])
	    snprintf(status, size, "%s", other);
	return;
    }
    if (strncmp(status + 1, ".0.0", 4) == 0 && status[5] == 0) {
	if (!(strncmp(other + 1, ".0.0", 4) == 0 && other[5] == 0))
	    snprintf(status, size, "%s", other);
	return;
    }
    if (strstr(status, ".0") != NULL && strstr(other, ".0") == NULL) {
	snprintf(status, size, "%s", other);
	return;
    }
    if (strncmp(other + 1, ".0.0", 4) == 0 && other[5] == 0)
	return;
    if (strcmp(status, "4.4.7") == 0 || strcmp(status, "4.7.0") == 0
	|| strncmp(status, "5.3.", 4) == 0 || strncmp(status + 1, ".5.1", 4) == 0
	|| strncmp(status + 1, ".5.2", 4) == 0
	|| strncmp(status + 1, ".5.4", 4) == 0
	|| strncmp(status + 1, ".5.5", 4) == 0) {
	snprintf(status, size, "%s", other);
	return;
    }
    if (strcmp(status, "5.1.1") == 0) {
	if (strstr(other, ".0") == NULL && strncmp(other, "5.5.", 4) != 0)
	    snprintf(status, size, "%s", other);
	return;
    }
    if (strcmp(status, "5.1.3") == 0 && strncmp(other, "5.7.", 4) == 0)
	snprintf(status, size, "%s", other);
}

/* dsn_body - the delivery-status fields of part i of 2 * nparts, or NULL */
static const char *
dsn_body(const struct mime_msg *m, size_t i, size_t *blen)
{
    const struct mime_part *p = m->parts + i % m->nparts;
    const char *f, *rm;
    size_t orig;

    *blen = p->body_len;
    if (i < m->nparts)
	return strcmp(p->type, "message/delivery-status") == 0
	    || strcmp(p->type, "message/global-delivery-status") == 0
	    ? p->body : NULL;
    /*
     * second round: the fields in a text part (a broken multipart), above
     * the returned message: a report quoted there is the original, and
     * its recipients are not this notice's
     */
    if (strncmp(p->type, "text/", 5) != 0
	|| (f = strcasestr(p->body, "\nFinal-Recipient:")) == NULL
	|| (size_t) (f - p->body) >= notice_cut(p->body, p->body_len, &orig))
	return NULL;
    rm = strcasestr(p->body, "\nReporting-MTA:");
    f = rm && rm < f ? rm + 1 : f + 1;
    *blen -= (size_t) (f - p->body);
    return f;
}

/* dsn_command - the refused SMTP command: the DSN, else the notice */
static void
dsn_command(struct bounce_rcpt *rc, const struct dsn_rcpt *dr,
	    const char *block, const struct notice *n, size_t nrcpts)
{
    const char *cmd = bounce_command_find(dr->diag[0] ? dr->diag : block);

    if (cmd == NULL)
	cmd = bounce_command_find(block);
    /* the notice names another address: one recipient, its session */
    if (cmd == NULL && block[0] == 0 && nrcpts == 1)
	cmd = bounce_command_find(n->text);
    if (cmd)
	snprintf(rc->command, sizeof(rc->command), "%s", cmd);
}

/* dsn_classify - a reason from a non-SMTP Diagnostic-Code type */
static void
dsn_classify(const struct bounce_report *r, struct bounce_rcpt *rc,
	     const struct dsn_rcpt *dr, const char *evidence)
{
    struct bounce_evidence ev;
    char rhost[256];

    memset(&ev, 0, sizeof(ev));
    ev.status = rc->status;
    ev.replycode = rc->replycode;
    ev.text = evidence;
    ev.action = rc->action;
    ev.command = rc->command[0] ? rc->command : NULL;
    ev.diag_type = dr->diag_type;
    remote_host(rc, evidence, rhost, sizeof(rhost));
    ev.rhost = rhost;
    ev.lhost = rc->reporting_mta;
    ev.mta = r->mta[0] ? r->mta : NULL;
    ev.domain = strrchr(rc->addr, '@') ? strrchr(rc->addr, '@') + 1 : NULL;
    bounce_replycode_find(evidence, rc->status, rc->replycode,
			  sizeof(rc->replycode));
    rc->reason = bounce_classify(&ev);
}

/*
 * block_extends - what the notice adds where it repeats the
 * Diagnostic-Code's words: the remark in brackets after them (Postfix
 * writes "(in reply to MAIL FROM command)" in its text part only),
 * copied into out; "" when there is none
 */
static void
block_extends(const char *block, const char *diag, char *out, size_t outsz)
{
    char want[256], have[DSN_DIAG_MAX];
    const char *d = diag, *para = block, *end, *hit, *close;
    size_t o;

    out[0] = 0;
    /* the words after the reply code and the status code */
    while (*d && (isdigit((unsigned char) *d) || *d == '.' || *d == ' '
		  || *d == '-'))
	d++;
    fold_diag(want, sizeof(want), d);
    for (o = 0; want[o]; o++)
	want[o] = (char) tolower((unsigned char) want[o]);
    if (o < 8)
	return;
    for (; *para; para = *end ? end + 1 : end) {
	/* a paragraph ends at an empty line */
	for (end = para; *end && !(end[0] == '\n' && end[1] == '\n'); end++)
	    /* void */ ;
	snprintf(have, sizeof(have), "%.*s", (int) (end - para), para);
	fold_diag(have, sizeof(have), have);
	for (o = 0; have[o]; o++)
	    have[o] = (char) tolower((unsigned char) have[o]);
	if ((hit = strstr(have, want)) != NULL) {
	    /* what it adds: a remark in brackets right after the words */
	    hit += strlen(want);
	    if (hit[0] == ' ' && hit[1] == '(' && (close = strchr(hit, ')')) != NULL)
		snprintf(out, outsz, "%.*s", (int) (close + 1 - hit), hit);
	    return;
	}
    }
}

/* dsn_rcpt - one recipient of a delivery-status part */
static void
dsn_rcpt(struct bounce_report *r, const struct dsn_report *d,
	 const struct dsn_rcpt *dr, const struct notice *n)
{
    char block[4096], more[1024], evidence[DSN_DIAG_MAX + 128 + 4096 + 4];
    struct bounce_rcpt *rc = rcpt_add(r, dr->final_rcpt);

    if (rc == NULL)
	return;
    rcpt_block(n, dr->final_rcpt, block, sizeof(block));
    snprintf(rc->action, sizeof(rc->action), "%s", dr->action);
    snprintf(rc->status, sizeof(rc->status), "%s", dr->status);
    prefer_specific_status(rc->status, sizeof(rc->status),
			   dr->diag[0] ? dr->diag : block);
    snprintf(rc->remote_mta, sizeof(rc->remote_mta), "%s", dr->remote_mta);
    host_token(d->reporting_mta, rc->reporting_mta, sizeof(rc->reporting_mta));
    /* the notice's remark after the Diagnostic-Code's own words */
    if (dr->diag[0])
	block_extends(block, dr->diag, more, sizeof(more));
    /*
     * One address refused over SMTP, and the notice quotes a local
     * delivery agent about it: the agent's words say more (a mailer's
     * exit code, X-Unix, is its own verdict)
     */
    if (dr->diag[0] && d->nrcpts == 1 && strcasecmp(dr->diag_type, "smtp") == 0
	&& bounce_lda_named(n->text))
	snprintf(more, sizeof(more), "%s", n->text);
    /*
     * The DSN's words first; the notification text adds detail.  A
     * report on one address with no Diagnostic-Code: the whole notice
     * is about it, also what it says above the address's line.
     */
    snprintf(evidence, sizeof(evidence), "%s\n%s\n%.4096s", dr->diag,
	     dr->status_comment, dr->diag[0] ? more
	     : d->nrcpts == 1 && block[0] ? n->text : block);
    /* PowerMTA's own verdict, in its field, is read as its words */
    if (dr->category[0]) {
	size_t el = strlen(evidence);

	snprintf(evidence + el, sizeof(evidence) - el,
		 "\nX-PowerMTA-BounceCategory: %s", dr->category);
    }
    if (dr->diag[0])
	snprintf(rc->diag, sizeof(rc->diag), "%s", dr->diag);
    if (strcmp(rc->action, "delivered") == 0
	|| strcmp(rc->action, "relayed") == 0
	|| strcmp(rc->action, "expanded") == 0)
	rc->reason = BR_DELIVERED;
    /* the refused command often shows only in the text part */
    dsn_command(rc, dr, block, n, d->nrcpts);
    if (dr->diag_type[0] && strcmp(dr->diag_type, "smtp") != 0
	&& rc->reason == BR_UNDEFINED)
	dsn_classify(r, rc, dr, evidence);
    finish_rcpt(r, rc, evidence, 0);
}

/* read_dsn - recipients of a message/delivery-status part */
static int
read_dsn(const struct mime_msg *m, const struct notice *n,
	 struct bounce_report *r)
{
    struct dsn_report d;
    const char *body;
    size_t i, k, blen;
    int found = 0;

    for (i = 0; i < 2 * m->nparts && !found; i++) {
	if ((body = dsn_body(m, i, &blen)) == NULL)
	    continue;
	if (dsn_parse(body, blen, &d) > 0) {
	    found = 1;
	    for (k = 0; k < d.nrcpts && !rcpt_full(r); k++)
		dsn_rcpt(r, &d, d.rcpts + k, n);
	    r->truncated |= d.truncated;
	}
	dsn_free(&d);
    }
    return found;
}

/* field_at_line - a line of body starts with name (case blind), or NULL */
static const char *
field_at_line(const char *body, size_t len, const char *name)
{
    size_t nl = strlen(name), i = 0;

    while (i + nl <= len) {
	const char *e = memchr(body + i, '\n', len - i);

	if (strncasecmp(body + i, name, nl) == 0)
	    return body + i;
	if (e == NULL)
	    break;
	i = (size_t) (e - body) + 1;
    }
    return NULL;
}

/* arf_original - the reported message's headers: attached, or pasted */
static void
arf_original(const struct mime_msg *m, const struct mime_part *fp,
	     struct bounce_report *r)
{
    size_t i;

    if (r->orig_headers != NULL)
	return;
    /* a text part after the report that opens with header fields */
    for (i = (size_t) (fp - m->parts) + 1; i < m->nparts; i++)
	if (strncmp(m->parts[i].type, "text/", 5) == 0
	    && header_line(m->parts[i].body,
			   strcspn(m->parts[i].body, "\n"))) {
	    keep_orig_headers(r, m->parts[i].body, m->parts[i].body_len);
	    return;
	}
}

/* arf_rcpt - one complained-about recipient */
static void
arf_rcpt(struct bounce_report *r, const char *addr, const char *type)
{
    struct bounce_rcpt *rc;

    if (addr[0] == 0 || (rc = rcpt_add(r, addr)) == NULL)
	return;
    rc->reason = BR_FEEDBACK;
    snprintf(rc->feedback_type, sizeof(rc->feedback_type), "%s",
	     type[0] ? type : "abuse");
}

/* arf_part - the part that holds the report fields: *f, *flen */
static const struct mime_part *
arf_part(const struct mime_msg *m, const char **f, size_t *flen)
{
    const struct mime_part *fp;
    size_t i;

    for (i = 0; i < m->nparts; i++)
	if (strcmp(m->parts[i].type, "message/feedback-report") == 0) {
	    fp = m->parts + i;
	    *f = fp->body;
	    *flen = fp->body_len;
	    return fp;
	}
    /*
     * lenient: the report fields pasted into a text part, at any line
     * above a returned message (one quoted there is the original's)
     */
    for (i = 0; i < m->nparts; i++) {
	size_t above, orig;

	if (strncmp(m->parts[i].type, "text/", 5) != 0)
	    continue;
	above = notice_cut(m->parts[i].body, m->parts[i].body_len, &orig);
	if ((*f = field_at_line(m->parts[i].body, above,
				"Feedback-Type:")) != NULL) {
	    fp = m->parts + i;
	    *flen = fp->body_len - (size_t) (*f - fp->body);
	    return fp;
	}
    }
    return NULL;
}

/* read_arf - recipients of a feedback report */
static int
read_arf(const struct mime_msg *m, struct bounce_report *r)
{
    static const char *const orig_fields[] = {
	/* Microsoft's JMRP names the recipient in its own field */
	"X-HmXmrOriginalRecipient", "Original-Rcpt-To", "Delivered-To",
	"X-Original-To", "To", NULL
    };
    struct arf_report a;
    const struct mime_part *fp;
    const char *f;
    size_t i, flen;
    char to[1024], addr[ADDR_MAX];

    if ((fp = arf_part(m, &f, &flen)) == NULL)
	return 0;
    arf_parse(f, flen, &a);
    snprintf(r->source_ip, sizeof(r->source_ip), "%s", a.source_ip);
    snprintf(r->orig_mail_from, sizeof(r->orig_mail_from), "%s",
	     a.orig_mail_from);
    for (i = 0; i < a.nrcpts; i++)
	arf_rcpt(r, a.rcpts[i], a.feedback_type);
    /* no Original-Rcpt-To: the complaint is about the original's recipient */
    arf_original(m, fp, r);
    for (i = 0; r->nrcpts == 0 && r->orig_headers && orig_fields[i]; i++)
	if (mime_header(r->orig_headers, r->orig_headers_len, orig_fields[i],
			to, sizeof(to)) >= 0) {
	    first_addr(to, addr, sizeof(addr));
	    arf_rcpt(r, addr, a.feedback_type);
	}
    /* some reporters put it in their own header */
    if (r->nrcpts == 0 && mime_header(m->hdr, m->hdr_len,
				      "X-HmXmrOriginalRecipient", to,
				      sizeof(to)) >= 0) {
	first_addr(to, addr, sizeof(addr));
	arf_rcpt(r, addr, a.feedback_type);
    }
    arf_free(&a);
    return 1;
}

/*
 * An Amazon SES notification is JSON in the body, bare or wrapped in an SNS
 * notification whose "Message" string holds it.  One pass of json_scan
 * gathers the fields and the recipient lists wherever they stand; the
 * strings stay in the body (ses_str) until a recipient is added, so the
 * cost is linear in the body and the memory bounded by BOUNCE_MAX_RCPTS.
 */

/* a JSON string in the body, escapes not yet decoded */
struct ses_str {
    const char *p;
    size_t len;
};

/* one element of bouncedRecipients, complainedRecipients or recipients */
struct ses_rcpt {
    struct ses_str addr, status, action, diag;
};

/* one recipient list */
struct ses_list {
    struct ses_rcpt *v;
    size_t n;
    int seen;				/* the key was there */
    int truncated;
};

/* what one pass over the JSON found */
struct ses_doc {
    struct ses_str type, ftype, smtp_response, message;
    struct ses_str btype, bsubtype;	/* bounceType, bounceSubType */
    struct ses_list bounced, complained, delivered;
};

enum { SES_BOUNCED, SES_COMPLAINED, SES_DELIVERED };

/* ses_keep - remember a string value (the first of its key) */
static void
ses_keep(struct ses_str *s, const struct json_tok *t)
{
    if (s->p == NULL && t->type == JSON_STRING) {
	s->p = t->p;
	s->len = t->len;
    }
}

/* ses_decode - a kept string, decoded, into out */
static void
ses_decode(const struct ses_str *s, char *out, size_t outsz)
{
    json_unescape(s->p ? s->p : "", s->p ? s->len : 0, out, outsz);
}

/* ses_slot - a new element of a list, or NULL beyond BOUNCE_MAX_RCPTS */
static struct ses_rcpt *
ses_slot(struct ses_list *l)
{
    if (l->n >= BOUNCE_MAX_RCPTS) {
	l->truncated = 1;
	return NULL;
    }
    if (l->n % 64 == 0)
	l->v = xreallocarray(l->v, l->n + 64, sizeof(*l->v));
    memset(l->v + l->n, 0, sizeof(*l->v));
    return l->v + l->n++;
}

/* ses_member - one member of a recipient object */
static void
ses_member(struct ses_rcpt *e, const struct json_tok *key,
	   const struct json_tok *v)
{
    if (e == NULL)
	return;
    if (json_tok_is(key, "emailAddress"))
	ses_keep(&e->addr, v);
    else if (json_tok_is(key, "status"))
	ses_keep(&e->status, v);
    else if (json_tok_is(key, "action"))
	ses_keep(&e->action, v);
    else if (json_tok_is(key, "diagnosticCode"))
	ses_keep(&e->diag, v);
}

/* ses_object - a recipient object, its '{' just read */
static int
ses_object(struct json_scan *s, struct ses_rcpt *e)
{
    struct json_tok key, v;
    int type;

    while ((type = json_scan_next(s, &key)) == JSON_KEY) {
	if (json_scan_next(s, &v) < 0)
	    return -1;
	ses_member(e, &key, &v);
	if (json_scan_skip(s, &v) < 0)
	    return -1;
    }
    return type == JSON_END_OBJECT ? 0 : -1;
}

/* ses_array - a recipient list, its '[' just read */
static int
ses_array(struct json_scan *s, struct ses_list *l)
{
    struct json_tok t;
    struct ses_rcpt *e;
    int type;

    l->seen = 1;
    while ((type = json_scan_next(s, &t)) > 0 && type != JSON_END_ARRAY) {
	if (type == JSON_BEGIN_OBJECT) {
	    if (ses_object(s, ses_slot(l)) < 0)
		return -1;
	} else if (type == JSON_STRING) {
	    /* "recipients": ["a@example.org", ...] */
	    if ((e = ses_slot(l)) != NULL)
		ses_keep(&e->addr, &t);
	} else if (json_scan_skip(s, &t) < 0) {
	    return -1;
	}
    }
    return type == JSON_END_ARRAY ? 0 : -1;
}

/* ses_list_of - the recipient list a key names, or NULL */
static struct ses_list *
ses_list_of(struct ses_doc *d, const struct json_tok *key)
{
    if (json_tok_is(key, "bouncedRecipients"))
	return &d->bounced;
    if (json_tok_is(key, "complainedRecipients"))
	return &d->complained;
    if (json_tok_is(key, "recipients"))
	return &d->delivered;
    return NULL;
}

/* ses_walk - gather what the document holds; a broken one keeps the start */
static void
ses_walk(const char *buf, size_t len, struct ses_doc *d)
{
    struct json_scan s;
    struct json_tok key = {0}, t;
    struct ses_list *l;
    int type;

    json_scan_init(&s, buf, len);
    while ((type = json_scan_next(&s, &t)) > 0) {
	if (type == JSON_KEY) {
	    key = t;
	    continue;
	}
	if (json_tok_is(&key, "notificationType"))
	    ses_keep(&d->type, &t);
	else if (json_tok_is(&key, "complaintFeedbackType"))
	    ses_keep(&d->ftype, &t);
	else if (json_tok_is(&key, "smtpResponse"))
	    ses_keep(&d->smtp_response, &t);
	else if (json_tok_is(&key, "bounceType"))
	    ses_keep(&d->btype, &t);
	else if (json_tok_is(&key, "bounceSubType"))
	    ses_keep(&d->bsubtype, &t);
	else if (json_tok_is(&key, "Message"))
	    ses_keep(&d->message, &t);
	else if (type == JSON_BEGIN_ARRAY && (l = ses_list_of(d, &key)) != NULL
		 && !l->seen && ses_array(&s, l) < 0)
	    return;
	key.type = JSON_EOF;
    }
}

/* ses_doc_free - release the lists */
static void
ses_doc_free(struct ses_doc *d)
{
    free(d->bounced.v);
    free(d->complained.v);
    free(d->delivered.v);
}

/* ses_find - the notification in one part, if it holds one; *copy to free */
static int
ses_find(const struct mime_part *p, struct ses_doc *d, char **copy)
{
    const char *b = p->body, *open;
    size_t len = p->body_len, n;

    memset(d, 0, sizeof(*d));
    *copy = NULL;
    if (memmem(b, len, "notificationType", 16) == NULL
	|| (open = memchr(b, '{', len)) == NULL)
	return 0;
    ses_walk(open, len - (size_t) (open - b), d);
    if (d->type.p == NULL && d->message.p != NULL) {
	/* wrapped in an SNS notification: the JSON is a quoted string */
	*copy = xmalloc(d->message.len + 1);
	n = json_unescape(d->message.p, d->message.len, *copy, d->message.len + 1);
	ses_doc_free(d);
	memset(d, 0, sizeof(*d));
	if ((open = memchr(*copy, '{', n)) != NULL)
	    ses_walk(open, n - (size_t) (open - *copy), d);
    }
    if (d->type.p != NULL)
	return 1;
    ses_doc_free(d);
    free(*copy);
    *copy = NULL;
    return 0;
}

/* ses_delivered - one recipient of a Delivery notification */
static void
ses_delivered(struct bounce_report *r, const struct ses_doc *d,
	      const struct ses_rcpt *e)
{
    struct bounce_rcpt *rc;
    char addr[ADDR_MAX], resp[DSN_DIAG_MAX];

    ses_decode(&e->addr, addr, sizeof(addr));
    if ((rc = rcpt_add(r, addr)) == NULL)
	return;
    rc->reason = BR_DELIVERED;
    finish_rcpt(r, rc, "", 0);
    if (d->smtp_response.p != NULL) {
	ses_decode(&d->smtp_response, resp, sizeof(resp));
	dsn_status_find(resp, rc->status, sizeof(rc->status));
	bounce_replycode_find(resp, rc->status, rc->replycode,
			      sizeof(rc->replycode));
    }
}

/* ses_complained - one recipient of a Complaint notification */
static void
ses_complained(struct bounce_report *r, const struct ses_doc *d,
	       const struct ses_rcpt *e)
{
    struct bounce_rcpt *rc;
    char addr[ADDR_MAX];

    ses_decode(&e->addr, addr, sizeof(addr));
    if ((rc = rcpt_add(r, addr)) == NULL)
	return;
    rc->reason = BR_FEEDBACK;
    ses_decode(&d->ftype, rc->feedback_type, sizeof(rc->feedback_type));
    if (rc->feedback_type[0] == '\0')
	snprintf(rc->feedback_type, sizeof(rc->feedback_type), "abuse");
}

/*
 * ses_subtype_reason - what SES's bounceSubType says, for a recipient
 * that has neither status nor diagnostic (both are given only "if
 * available"); BR_UNDEFINED for General, Undetermined and the unknown
 */
static int
ses_subtype_reason(const char *subtype)
{
    static const struct {
	const char *name;
	int reason;
    } subtypes[] = {
	{"NoEmail", BR_USERUNKNOWN}, {"MailboxFull", BR_MAILBOXFULL},
	{"MessageTooLarge", BR_MESGTOOBIG}, {"ContentRejected", BR_CONTENTERROR},
	{"AttachmentRejected", BR_CONTENTERROR},
    };

    for (size_t i = 0; i < sizeof(subtypes) / sizeof(subtypes[0]); i++)
	if (strcmp(subtype, subtypes[i].name) == 0)
	    return subtypes[i].reason;
    return BR_UNDEFINED;
}

/* ses_bounced - one recipient of a Bounce notification */
static void
ses_bounced(struct bounce_report *r, const struct ses_doc *d,
	    const struct ses_rcpt *e)
{
    struct bounce_rcpt *rc;
    char addr[ADDR_MAX], status[64], diag[DSN_DIAG_MAX], type[32];

    ses_decode(&e->addr, addr, sizeof(addr));
    if ((rc = rcpt_add(r, addr)) == NULL)
	return;
    ses_decode(&e->status, status, sizeof(status));
    ses_decode(&e->diag, diag, sizeof(diag));
    if (status[0])
	dsn_status_find(status, rc->status, sizeof(rc->status));
    ses_decode(&e->action, rc->action, sizeof(rc->action));
    if (rc->status[0] == 0 && diag[0] == 0) {
	ses_decode(&d->bsubtype, type, sizeof(type));
	rc->reason = ses_subtype_reason(type);
    }
    ses_decode(&d->btype, type, sizeof(type));
    finish_rcpt(r, rc, diag, strcmp(type, "Transient") == 0);
}

/* read_ses - an Amazon SES notification (JSON in the body) */
static int
read_ses(const struct mime_msg *m, struct bounce_report *r)
{
    struct ses_doc d;
    const struct ses_list *l;
    char type[32], *copy = NULL;
    size_t i;
    int which;

    /* a notification in the returned message is the original's */
    for (i = 0; i < m->nparts && !original_part(m->parts + i); i++)
	if (ses_find(m->parts + i, &d, &copy))
	    break;
    if (i == m->nparts || original_part(m->parts + i))
	return 0;
    ses_decode(&d.type, type, sizeof(type));
    which = strcmp(type, "Complaint") == 0 ? SES_COMPLAINED
	: strcmp(type, "Delivery") == 0 ? SES_DELIVERED : SES_BOUNCED;
    l = which == SES_COMPLAINED ? &d.complained
	: which == SES_DELIVERED ? &d.delivered : &d.bounced;
    for (i = 0; i < l->n && !rcpt_full(r); i++) {
	if (l->v[i].addr.p == NULL)
	    continue;
	if (which == SES_DELIVERED)
	    ses_delivered(r, &d, l->v + i);
	else if (which == SES_COMPLAINED)
	    ses_complained(r, &d, l->v + i);
	else
	    ses_bounced(r, &d, l->v + i);
    }
    r->truncated |= l->truncated;
    ses_doc_free(&d);
    free(copy);
    return r->nrcpts > 0;
}

/* header_of - a top-level header value, "" when absent */
static void
header_of(const struct mime_msg *m, const char *name, char *out, size_t outsz)
{
    if (mime_header(m->hdr, m->hdr_len, name, out, outsz) < 0)
	out[0] = 0;
}

/* subject_names - the decoded Subject holds one of words (NULL-ended) */
static int
subject_names(const struct mime_msg *m, const char *const *words)
{
    char v[512];

    header_of(m, "Subject", v, sizeof(v));
    mime_decode_words(v);
    for (int i = 0; words[i]; i++)
	if (strcasestr(v, words[i]))
	    return 1;
    return 0;
}

/*
 * The subject words of an automatic reply.  Subjects are compared as
 * bytes after RFC 2047 decoding, in the charset they were written in:
 * the words that carry an accent or are not Latin are given in each
 * common charset, or by the part of them that is the same in all.
 */
static const char *const autoreply_subj[] = {
    "auto reply", "auto-reply", "autoreply", "automatic reply",
    "auto response", "autoresponse", "out of office", "out of the office",
    "away until", "on vacation", "abwesenheit", "absence",
    /* French, Spanish, Portuguese, Italian: "Réponse automatique", ... */
    "ponse automatique", "respuesta autom", "resposta autom",
    "risposta automatica", "fuera de la oficina", "hors du bureau",
    /* Dutch, German, Scandinavian */
    "automatisch antwoord", "automatische antwort", "afwezig", "abwesend",
    "automatisk svar", "autosvar",
    /* Russian "(А)втоответ", "(А)втоматический ответ": UTF-8, KOI8-R */
    "\xd0\xb2\xd1\x82\xd0\xbe\xd0\xbe\xd1\x82\xd0\xb2\xd0\xb5\xd1\x82",
    "\xd7\xd4\xcf\xcf\xd4\xd7\xc5\xd4",
    "\xd0\xb2\xd1\x82\xd0\xbe\xd0\xbc\xd0\xb0\xd1\x82\xd0\xb8\xd1\x87",
    "\xd7\xd4\xcf\xcd\xc1\xd4\xc9\xde",
    /* Japanese "自動応答", "自動返信", "不在": UTF-8, ISO-2022-JP */
    "\xe8\x87\xaa\xe5\x8b\x95\xe5\xbf\x9c\xe7\xad\x94",
    "\xe8\x87\xaa\xe5\x8b\x95\xe8\xbf\x94\xe4\xbf\xa1",
    "\xe4\xb8\x8d\xe5\x9c\xa8", "<+F01~Ez", "<+F0JV?.", "IT:_",
    NULL
};

/*
 * autoreply_first - the subject opens with the words of an automatic
 * reply ("Automatic reply: ...", "Out of Office: ..."): what follows is
 * the original's subject, whose words say nothing of this message
 */
static int
autoreply_first(const struct mime_msg *m)
{
    char v[512];
    const char *s;

    header_of(m, "Subject", v, sizeof(v));
    mime_decode_words(v);
    for (s = v; *s == ' ' || *s == '\t' || *s == '['; s++)
	/* void */ ;
    for (int i = 0; autoreply_subj[i]; i++)
	if (strncasecmp(s, autoreply_subj[i], strlen(autoreply_subj[i])) == 0)
	    return 1;
    return 0;
}

/* looks_like_bounce - sender or subject of a delivery failure notice */
static int
looks_like_bounce(const struct mime_msg *m)
{
    static const char *const subj[] = {
	"undeliver", "undelivered", "delivery status", "delivery failure",
	"delivery notification", "failure notice", "returned mail",
	"mail delivery", "not delivered", "could not be delivered",
	"delivery has failed", "nondeliver", "non-deliver", "bounce",
	"delivery problem", "warning: could not", "delayed mail",
	"message delayed", "rejected", "failed", "returned to sender", NULL
    };
    char v[512];

    header_of(m, "X-Failed-Recipients", v, sizeof(v));
    if (v[0])
	return 1;
    header_of(m, "From", v, sizeof(v));
    if (strcasestr(v, "mailer-daemon") || strcasestr(v, "postmaster")
	|| strcasestr(v, "mail delivery"))
	return 1;
    return !autoreply_first(m) && subject_names(m, subj);
}

/* looks_like_unsubscribe - a mail asking to be taken off the list */
static int
looks_like_unsubscribe(const struct mime_msg *m)
{
    char v[512];
    const char *s;

    header_of(m, "X-Apple-Unsubscribe", v, sizeof(v));
    if (strcasecmp(v, "true") == 0)
	return 1;
    header_of(m, "Subject", v, sizeof(v));
    mime_decode_words(v);
    for (s = v; *s == ' '; s++)
	/* void */ ;
    if (strncasecmp(s, "unsubscribe", 11) == 0
	&& !isalnum((unsigned char) s[11]))
	return 1;
    return 0;
}

/* looks_like_autoreply - an RFC 3834 automatic reply */
static int
looks_like_autoreply(const struct mime_msg *m)
{
    char v[512];

    /*
     * any automatic keyword of RFC 3834 (a message that does not look
     * like a failure notice is read as a reply), and the Precedence that
     * vacation programs set
     */
    header_of(m, "Auto-Submitted", v, sizeof(v));
    if (strncasecmp(v, "auto-replied", 12) == 0
	|| strncasecmp(v, "auto-generated", 14) == 0
	|| strncasecmp(v, "auto-notified", 13) == 0)
	return 1;
    header_of(m, "Precedence", v, sizeof(v));
    if (strncasecmp(v, "auto_reply", 10) == 0)
	return 1;
    header_of(m, "X-Autoreply", v, sizeof(v));
    if (v[0])
	return 1;
    header_of(m, "X-Autorespond", v, sizeof(v));
    if (v[0])
	return 1;
    return subject_names(m, autoreply_subj);
}

/*
 * challenge_notice - a challenge-response system asks the sender to prove
 * itself before its user gets the message: an automatic reply (RFC 3834
 * counts them so), whose text names its user but reports no failure
 */
static int
challenge_notice(const struct notice *n)
{
    static const char *const words[] = {
	"challenge-response", "challenge/response", "challenge response",
	"approved senders", "pending verification", "awaiting verification",
	"awaiting your confirmation", "confirm you are a real person",
	"confirm that you are a real person", "you are a human", NULL
    };

    for (int i = 0; words[i]; i++)
	if (strcasestr(n->text, words[i]) != NULL)
	    return 1;
    return 0;
}

/* recipient_context - the words before an address make it a recipient */
static int
recipient_context(const char *line, size_t off)
{
    static const char *const lead[] = {
	"to", "to:", "recipient", "recipient:", "recipients:", "address:",
	"addressee:", "for", "rcpt", "user", "mailbox", "address",
	"failed:", "delivering your mail to", "destinataire", "destinataire:",
	/* in other languages, as bytes of their charsets, lower case */
	"destinatario:", "destinat\xc3\xa1rio:", "empf\xc3\xa4nger:",
	"empf\xe4nger:", "empfaenger:",
	/* "получатель:", "Получатель:": UTF-8, KOI8-R */
	"\xd0\xbf\xd0\xbe\xd0\xbb\xd1\x83\xd1\x87\xd0\xb0\xd1\x82\xd0\xb5\xd0\xbb\xd1\x8c:",
	"\xd0\x9f\xd0\xbe\xd0\xbb\xd1\x83\xd1\x87\xd0\xb0\xd1\x82\xd0\xb5\xd0\xbb\xd1\x8c:",
	"\xd0\xcf\xcc\xd5\xde\xc1\xd4\xc5\xcc\xd8:",
	"\xf0\xcf\xcc\xd5\xde\xc1\xd4\xc5\xcc\xd8:",
	/* "宛先:", "宛先：": UTF-8; "宛先:" in ISO-2022-JP */
	"\xe5\xae\x9b\xe5\x85\x88:", "\xe5\xae\x9b\xe5\x85\x88\xef\xbc\x9a",
	"\x1b$b08@h\x1b(b:", NULL
    };
    char prev[64];
    size_t e = off, s, n;

    /* blanks, brackets, quotes and a list's bullet ("  * user@...") */
    while (e > 0 && (line[e - 1] == ' ' || line[e - 1] == '<'
		     || line[e - 1] == '"' || line[e - 1] == '\t'
		     || line[e - 1] == '[' || line[e - 1] == '('
		     || line[e - 1] == '*'))
	e--;
    /* a forwarded notice quotes it: "> <user@example.org>" */
    while (e > 0 && line[e - 1] == '>' && (e == 1 || line[e - 2] == '>'
					  || line[e - 2] == ' '))
	for (e--; e > 0 && line[e - 1] == ' '; e--)
	    /* void */ ;
    /* only blanks or brackets before it: the address opens the line */
    if (e == 0)
	return 1;
    s = e;
    while (s > 0 && line[s - 1] != ' ' && line[s - 1] != '\t') {
	/* a word longer than prev holds is none of the leads */
	if (e - s == sizeof(prev))
	    return 0;
	s--;
    }
    n = e - s < sizeof(prev) - 1 ? e - s : sizeof(prev) - 1;
    for (size_t i = 0; i < n; i++)
	prev[i] = (char) tolower((unsigned char) line[s + i]);
    prev[n] = 0;
    /* French spacing, "Destinataire : ...": the word before the colon */
    if (strcmp(prev, ":") == 0 && s > 1 && line[s - 1] == ' ') {
	size_t w = s - 1;

	while (w > 0 && line[w - 1] != ' ' && line[w - 1] != '\t')
	    w--;
	n = s - 1 - w < sizeof(prev) - 2 ? s - 1 - w : sizeof(prev) - 2;
	for (size_t i = 0; i < n; i++)
	    prev[i] = (char) tolower((unsigned char) line[w + i]);
	prev[n++] = ':';
	prev[n] = 0;
    }
    for (int i = 0; lead[i]; i++)
	if (strcmp(prev, lead[i]) == 0)
	    return 1;
    /* "554 <user@example.org>... Host unknown": a reply about it */
    if (n == 3 && s == 0 && (prev[0] == '4' || prev[0] == '5')
	&& isdigit((unsigned char) prev[1]) && isdigit((unsigned char) prev[2]))
	return 1;
    return 0;
}

/* memmem_case - does s (len bytes) hold word, case blind? */
static int
memmem_case(const char *s, size_t len, const char *word)
{
    size_t wl = strlen(word);

    for (size_t i = 0; i + wl <= len; i++)
	if (strncasecmp(s + i, word, wl) == 0)
	    return 1;
    return 0;
}

/* skipped - one of the notice's own parties */
static int
skipped(const char *addr, char skip[][ADDR_MAX], int nskip)
{
    for (int i = 0; i < nskip; i++)
	if (skip[i][0] && strcasecmp(addr, skip[i]) == 0)
	    return 1;
    return 0;
}

/* scan_line - add the addresses a line names as recipients */
static void
scan_line(struct bounce_report *r, const char *line, size_t len,
	  char skip[][ADDR_MAX], int nskip)
{
    const char *l = line;
    size_t i, s, e, n = len;
    char addr[ADDR_MAX];
    int msgid = -1;

    while (n > 0 && (*l == '>' || *l == ' ' || *l == '\t'))
	l++, n--;
    if (header_line(l, n) && strncasecmp(l, "to:", 3) != 0)
	return;
    for (i = 0; i < len; i++) {
	if (line[i] != '@' || !addr_at(line, i, len, &s, &e))
	    continue;
	snprintf(addr, sizeof(addr), "%.*s", (int) (e - s), line + s);
	i = e;
	if (is_role_addr(addr) || skipped(addr, skip, nskip))
	    continue;
	/*
	 * "<id@host>" after Message-ID-ish words is not a person; the line
	 * is searched for them once, not once per address on it
	 */
	if (s > 0 && line[s - 1] == '<' && e < len && line[e] == '>') {
	    if (msgid < 0)
		msgid = memmem_case(line, len, "message-id");
	    if (msgid)
		continue;
	}
	if (recipient_context(line, s))
	    rcpt_add(r, addr);
    }
}

/*
 * scan_notice - recipients named in the notice, in order; the original's
 * quoted header fields (quoted_rcpt_line()) are not the notice's words,
 * unless quoted is set (the notice names no one else)
 */
static void
scan_notice(struct bounce_report *r, const struct notice *n,
	    char skip[][ADDR_MAX], int nskip, int quoted)
{
    const char *line, *nl;
    size_t k = 0;

    for (line = n->text; line && *line; line = nl ? nl + 1 : NULL) {
	/* the clock is a system call: look at it now and then */
	if (++k % 1024 == 0 && rcpt_full(r))
	    return;
	nl = strchr(line, '\n');
	if (!quoted && quoted_rcpt_line(n, line))
	    continue;
	scan_line(r, line, nl ? (size_t) (nl - line) : strlen(line), skip,
		  nskip);
    }
}

/* text_parties - the notice's own parties and the original's sender */
static void
text_parties(const struct mime_msg *m, const struct bounce_report *r,
	     char skip[3][ADDR_MAX])
{
    char v[1024];

    header_of(m, "To", v, sizeof(v));
    first_addr(v, skip[0], ADDR_MAX);
    header_of(m, "From", v, sizeof(v));
    first_addr(v, skip[1], ADDR_MAX);
    skip[2][0] = 0;
    if (r->orig_headers
	&& mime_header(r->orig_headers, r->orig_headers_len, "From", v,
		       sizeof(v)) >= 0)
	first_addr(v, skip[2], ADDR_MAX);
}

/* list_notice - a notice from fml, a mailing list manager, to a poster */
static int
list_notice(const struct mime_msg *m)
{
    char v[256];

    if (mime_header(m->hdr, m->hdr_len, "X-MLServer", v, sizeof(v)) < 0)
	return 0;
    header_of(m, "From", v, sizeof(v));
    return strstr(v, "-admin@") != NULL;
}

/* list_title_reason - what fml's subject says of a refused post, or 0 */
static int
list_title_reason(const struct mime_msg *m)
{
    static const struct {
	const char *title;
	int reason;
    } titles[] = {
	{" are not member", BR_REJECTED}, {"NOT MEMBER article from ", BR_REJECTED},
	{"reject mail ", BR_REJECTED},
	{"Spam mail from a spammer is rejected", BR_REJECTED},
	{"fml system error message", BR_SYSTEMERROR},
	{"Loop Alert: ", BR_SYSTEMERROR}, {"Loop Back Warning: ", BR_SYSTEMERROR},
	{"WARNING: UNIX FROM Loop", BR_SYSTEMERROR},
	{"Security Alert", BR_SECURITYERROR},
    };
    char v[512];

    header_of(m, "Subject", v, sizeof(v));
    for (size_t i = 0; i < sizeof(titles) / sizeof(titles[0]); i++)
	if (strstr(v, titles[i].title) != NULL)
	    return titles[i].reason;
    return BR_UNDEFINED;
}

/* bracketed_rcpt - the first "<address>" of the notice is the recipient */
static void
bracketed_rcpt(struct bounce_report *r, const struct notice *n)
{
    const char *lt, *gt = NULL;
    char addr[ADDR_MAX];

    /* the '>' after a '<' is looked for once: linear in the notice */
    for (lt = n->text; (lt = strchr(lt, '<')) != NULL; lt++) {
	if (gt == NULL || gt < lt)
	    gt = strchr(lt, '>');
	if (gt == NULL)
	    return;
	if ((size_t) (gt - lt) >= sizeof(addr)
	    || memchr(lt, '@', (size_t) (gt - lt)) == NULL
	    || memchr(lt, '\n', (size_t) (gt - lt)) != NULL)
	    continue;
	snprintf(addr, sizeof(addr), "%.*s", (int) (gt - lt - 1), lt + 1);
	rcpt_add(r, addr);
	return;
    }
}

/* text_rcpts - who the notice is about: headers, its lines, the original */
static void
text_rcpts(const struct mime_msg *m, const struct notice *n,
	   struct bounce_report *r, size_t first)
{
    char skip[3][ADDR_MAX], v[1024], addr[ADDR_MAX], *save = NULL;

    /* the sender of the original and the notice's own parties are not it */
    text_parties(m, r, skip);
    /* X-Failed-Recipients names them outright (Exim and others) */
    header_of(m, "X-Failed-Recipients", v, sizeof(v));
    for (char *tok = strtok_r(v, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
	if (strchr(tok, '@'))
	    rcpt_add(r, tok);
    /* a mailing list manager (fml) refuses a post: the list it names */
    if (r->nrcpts == first && list_notice(m))
	bracketed_rcpt(r, n);
    if (r->nrcpts == first)
	scan_notice(r, n, skip, 3, 0);
    /* a notice about mail to oneself: the parties may be the recipient */
    if (r->nrcpts == first)
	scan_notice(r, n, skip, 0, 0);
    /* the original's quoted To is all the notice says */
    if (r->nrcpts == first)
	scan_notice(r, n, skip, 3, 1);
    /* nothing named: the failure is about the original's To */
    if (r->nrcpts == first && r->orig_headers
	&& mime_header(r->orig_headers, r->orig_headers_len, "To", v,
		       sizeof(v)) >= 0) {
	first_addr(v, addr, sizeof(addr));
	if (addr[0])
	    rcpt_add(r, addr);
    }
}

/* read_text - failed recipients of a plain-text notification */
static int
read_text(const struct mime_msg *m, const struct notice *n,
	  struct bounce_report *r)
{
    char code[16], *block = xmalloc(8192);
    const char *details = strcasestr(n->text, "\nmessage details:\n");
    size_t i, first = r->nrcpts;
    int list;

    text_rcpts(m, n, r, first);
    for (i = first; i < r->nrcpts && !over_budget(r); i++) {
	struct bounce_rcpt *rc = r->rcpts + i;

	rcpt_block(n, rc->addr, block, 8192);
	/*
	 * James and its kin list the envelope under "Message details:"
	 * after the error: the words about the address are those before.
	 */
	if (details != NULL && notice_find(n, rc->addr, details) != NULL) {
	    size_t k = (size_t) (details - n->text);

	    snprintf(block, 8192, "%.*s", (int) (k < 8191 ? k : 8191), n->text);
	}
	/* one recipient and little said about it: the whole notice speaks */
	if (r->nrcpts - first == 1 && dsn_status_find(block, code, sizeof(code)) < 0
	    && strlen(block) < strlen(rc->addr) + 40)
	    snprintf(block, 8192, "%s", n->text);
	finish_rcpt(r, rc, block, 0);
	/* fml: the subject names what the words did not */
	if ((rc->reason == BR_ONHOLD || rc->reason == BR_UNDEFINED)
	    && list_notice(m) && (list = list_title_reason(m)) != BR_UNDEFINED) {
	    rc->reason = list;
	    if (strncmp(rc->status + 1, ".0.9", 4) == 0)
		bounce_pseudo_status(list, rc->status[0] == '4', rc->status,
				     sizeof(rc->status));
	}
    }
    free(block);
    return r->nrcpts > first;
}

/*
 * from_sender - an unsubscribe request (feedback type "opt-out") or an
 * automatic reply (ftype NULL): about its sender
 */
static void
from_sender(const struct mime_msg *m, struct bounce_report *out, int kind,
	    const char *ftype)
{
    struct bounce_rcpt *rc;
    char v[512], addr[512];

    out->kind = kind;
    header_of(m, "From", v, sizeof(v));
    first_addr(v, addr, sizeof(addr));
    if (addr[0] == 0 || (rc = rcpt_add(out, addr)) == NULL)
	return;
    rc->reason = ftype ? BR_FEEDBACK : BR_VACATION;
    if (ftype)
	snprintf(rc->feedback_type, sizeof(rc->feedback_type), "%s", ftype);
}

/*
 * still_retried - the notice says delivery goes on (a warning, not a
 * failure): a subject that names a delay may be the original's own
 */
static int
still_retried(const struct notice *n)
{
    static const char *const still[] = {
	"warning message only", "warning only", "need to resend",
	"need to re-send", "will be retried", "not yet been delivered",
	"attempts will continue", "temporary failure report", NULL
    };

    for (int i = 0; still[i]; i++)
	if (strcasestr(n->text, still[i]) != NULL)
	    return 1;
    return 0;
}

/*
 * delay_warning - a notice about delay: its undecided recipients expired;
 * when delivery is still tried (retrying), the recipients' Action is
 * "delayed", as a delivery-status part would say, so that nothing is
 * counted against them yet
 */
static void
delay_warning(struct bounce_report *out, int retrying)
{
    for (size_t i = 0; i < out->nrcpts; i++) {
	struct bounce_rcpt *rc = out->rcpts + i;

	if (retrying && rc->action[0] == 0)
	    snprintf(rc->action, sizeof(rc->action), "delayed");
	/* a pseudo code of a failure still retried is temporary */
	if (retrying && rc->status[0] == '5'
	    && strncmp(rc->status + 1, ".0.9", 4) == 0)
	    rc->status[0] = '4';
	if ((rc->reason == BR_ONHOLD || rc->reason == BR_UNDEFINED)
	    && strncmp(rc->status + 1, ".0.9", 4) == 0) {
	    rc->reason = BR_EXPIRED;
	    bounce_pseudo_status(BR_EXPIRED, rc->status[0] == '4', rc->status,
				 sizeof(rc->status));
	}
    }
}

/*
 * spam_marked - au (EZweb) returns the mail its recipient's filter kept
 * out with "X-SPASIGN: NG" in the notice's header: filtered, whatever
 * the words say
 */
static void
spam_marked(const struct mime_msg *m, struct bounce_report *out)
{
    char v[64];

    header_of(m, "X-SPASIGN", v, sizeof(v));
    if (strncasecmp(v, "NG", 2) != 0 || isalnum((unsigned char) v[2]))
	return;
    for (size_t i = 0; i < out->nrcpts; i++) {
	struct bounce_rcpt *rc = out->rcpts + i;

	if (rc->reason == BR_DELIVERED)
	    continue;
	rc->reason = BR_FILTERED;
	if (strncmp(rc->status + 1, ".0.9", 4) == 0)
	    bounce_pseudo_status(BR_FILTERED, rc->status[0] == '4',
				 rc->status, sizeof(rc->status));
	rc->hard = bounce_is_hard(rc->reason, rc->status, rc->replycode);
    }
}

/*
 * exim_notice - two of Exim's marks: its sender name, its subjects, its
 * message id ("<1AbCdEf-000123-Xy@host>"); a provider's own Exim-like
 * notice (GMX) is not Exim's
 */
static int
exim_notice(const struct mime_msg *m)
{
    static const char *const titles[] = {
	"Mail delivery failed", "Mail failure", "Message frozen",
	"Warning: message ", "error(s) in forwarding or filtering", NULL
    };
    char v[256];
    int marks = 0;

    if (mime_header(m->hdr, m->hdr_len, "X-GMX-Antispam", v, sizeof(v)) >= 0)
	return 0;
    header_of(m, "From", v, sizeof(v));
    marks += strstr(v, "Mail Delivery System") != NULL;
    header_of(m, "Subject", v, sizeof(v));
    for (int i = 0; titles[i]; i++)
	if (strstr(v, titles[i]) != NULL) {
	    marks++;
	    break;
	}
    header_of(m, "Message-ID", v, sizeof(v));
    marks += strlen(v) > 19 && v[0] == '<' && v[8] == '-' && v[15] == '-'
	&& v[18] == '@';
    return marks >= 2;
}

/*
 * notice_mta - the MTA that wrote the notice, where its own messages
 * must be read in its sense: qmail (its subject, its Received trace,
 * its greeting), IMail (its X-Mailer, its subject), Exim (see
 * exim_notice()), fml (list_notice())
 */
static void
notice_mta(const struct mime_msg *m, const struct notice *n,
	   struct bounce_report *out)
{
    char v[64];

    header_of(m, "Subject", v, sizeof(v));
    if (strcasecmp(v, "failure notice") == 0
	|| memmem(m->hdr, m->hdr_len, "(qmail ", 7) != NULL
	|| strstr(n->text, "This is the qmail-send program") != NULL)
	snprintf(out->mta, sizeof(out->mta), "qmail");
    if (exim_notice(m))
	snprintf(out->mta, sizeof(out->mta), "exim");
    if (list_notice(m))
	snprintf(out->mta, sizeof(out->mta), "fml");
    header_of(m, "X-Mailer", v, sizeof(v));
    if (strncmp(v, "<SMTP32 v", 9) == 0)
	snprintf(out->mta, sizeof(out->mta), "imail");
    header_of(m, "Subject", v, sizeof(v));
    if (strncmp(v, "Undeliverable Mail ", 19) == 0)
	snprintf(out->mta, sizeof(out->mta), "imail");
}

/* bounce_parse - what the message is and whom it is about */
int
bounce_parse(const char *msg, size_t len, struct bounce_report *out,
	     const char **why)
{
    return bounce_parse_within(msg, len, BOUNCE_CPU_BUDGET_MS * 1000000LL, out, why);
}

/* bounce_parse_within - the same with a CPU budget of budget_ns */
int
bounce_parse_within(const char *msg, size_t len, long long budget_ns,
		    struct bounce_report *out, const char **why)
{
    struct mime_msg m;
    struct notice n;
    char subj[512];

    memset(out, 0, sizeof(*out));
    out->cpu_limit_ns = thread_cpu_ns() + budget_ns;
    if (mime_parse(msg, len, &m, why) < 0)
	return -1;
    notice_build(&m, &n, out);
    notice_mta(&m, &n, out);
    header_of(&m, "Subject", subj, sizeof(subj));
    mime_decode_words(subj);

    if (read_dsn(&m, &n, out)) {
	out->kind = BOUNCE_DSN;
    } else if (read_arf(&m, out)) {
	out->kind = BOUNCE_ARF;
    } else if (read_ses(&m, out)) {
	out->kind = out->rcpts[0].reason == BR_FEEDBACK ? BOUNCE_ARF
	    : BOUNCE_DSN;
    } else if (looks_like_unsubscribe(&m)) {
	from_sender(&m, out, BOUNCE_UNSUBSCRIBE, "opt-out");
    } else if (!looks_like_bounce(&m)
	       && (looks_like_autoreply(&m) || challenge_notice(&n))) {
	from_sender(&m, out, BOUNCE_AUTOREPLY, NULL);
    } else if (read_text(&m, &n, out)) {
	out->kind = BOUNCE_DSN;
	/*
	 * a warning about delay says so in its subject ("Delayed Mail",
	 * Sendmail's "Warning: could not send message for past 4 hours")
	 */
	if (strcasestr(subj, "delay") || strncasecmp(subj, "warning:", 8) == 0)
	    delay_warning(out, still_retried(&n));
    }
    if (out->kind == BOUNCE_DSN)
	spam_marked(&m, out);
    free(n.text);
    free(n.addrs);
    mime_free(&m);
    if (out->over_budget) {
	*why = "over its CPU budget";
	return -1;
    }
    return out->kind;
}

/* bounce_report_free - release what bounce_parse() filled in */
void
bounce_report_free(struct bounce_report *r)
{
    if (r == NULL)
	return;
    free(r->rcpts);
    free(r->orig_headers);
    memset(r, 0, sizeof(*r));
}
