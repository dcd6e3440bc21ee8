/*
 * maillog - read one line of a Postfix or Sendmail log (see maillog.h)
 *
 * The parser walks the line once with a cursor that never passes its
 * end; every copy goes through copy_str(), which truncates to the
 * destination.  Nothing here allocates.
 */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "maillog.h"

struct cur {
    const char *p;
    const char *end;
};

static int parse_header(struct cur *, struct ml_event *, struct cur *tag);
static int parse_body(struct cur *, struct ml_event *);
static int postfix_tls(struct cur *, struct ml_event *);
static int sendmail_tls(struct cur *, struct ml_event *);

/* copy_str - copy n bytes to a buffer of size sz, truncating, terminated */
static void
copy_str(char *dst, size_t sz, const char *src, size_t n)
{
    if (n >= sz)
	n = sz - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* eat - skip a literal */
static int
eat(struct cur *c, const char *lit)
{
    size_t n = strlen(lit);

    if ((size_t) (c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
	return 0;
    c->p += n;
    return 1;
}

/* number - up to maxd digits, at least mind; 0 beyond INT_MAX */
static int
number(struct cur *c, int mind, int maxd, int *out)
{
    int v = 0, d = 0, digit;

    while (c->p < c->end && d < maxd && isdigit((unsigned char) *c->p)) {
	digit = *c->p++ - '0';
	if (v > (INT_MAX - digit) / 10)
	    return 0;
	v = v * 10 + digit;
	d++;
    }
    *out = v;
    return d >= mind;
}

/* hms - "hh:mm:ss" */
static int
hms(struct cur *c, struct ml_time *t)
{
    return number(c, 2, 2, &t->hour) && eat(c, ":") && number(c, 2, 2, &t->min)
	&& eat(c, ":") && number(c, 2, 2, &t->sec)
	&& t->hour < 24 && t->min < 60 && t->sec < 61;
}

/* fraction - ".ffffff" after the seconds, if any; ignored */
static int
fraction(struct cur *c)
{
    const char *p;

    if (!eat(c, "."))
	return 1;
    for (p = c->p; c->p < c->end && isdigit((unsigned char) *c->p); c->p++)
	 /* void */ ;
    return c->p > p;
}

/* rfc3164_time - "Mmm dd hh:mm:ss[.ffffff]" (journalctl -o short-precise) */
static int
rfc3164_time(struct cur *c, struct ml_time *t)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int i;

    if (c->end - c->p < 15)
	return 0;
    for (i = 0; i < 12; i++)
	if (memcmp(c->p, months + 3 * i, 3) == 0)
	    break;
    if (i == 12 || c->p[3] != ' ')
	return 0;
    t->mon = i + 1;
    c->p += 4;
    if (*c->p == ' ')
	c->p++;
    return number(c, 1, 2, &t->mday) && t->mday >= 1 && t->mday <= 31
	&& eat(c, " ") && hms(c, t) && fraction(c);
}

/*
 * iso_time - "YYYY-MM-DDThh:mm:ss[.frac](Z|+hh:mm|-hh:mm)"; the zone may
 * also be "+hhmm" or "+hh" (journalctl -o short-iso, ISO 8601)
 */
static int
iso_time(struct cur *c, struct ml_time *t)
{
    int h, m;

    if (!(number(c, 4, 4, &t->year) && eat(c, "-") && number(c, 2, 2, &t->mon)
	  && eat(c, "-") && number(c, 2, 2, &t->mday) && eat(c, "T") && hms(c, t)))
	return 0;
    if (t->mon < 1 || t->mon > 12 || t->mday < 1 || t->mday > 31)
	return 0;
    if (!fraction(c))
	return 0;
    if (eat(c, "Z")) {
	t->has_tz = 1;
	return 1;
    }
    if (c->p < c->end && (*c->p == '+' || *c->p == '-')) {
	int sign = *c->p++ == '-' ? -1 : 1;

	if (!number(c, 2, 2, &h))
	    return 0;
	m = 0;
	if (eat(c, ":") ? !number(c, 2, 2, &m)
	    : c->p < c->end && isdigit((unsigned char) *c->p) && !number(c, 2, 2, &m))
	    return 0;
	t->has_tz = 1;
	t->tzoff_min = sign * (h * 60 + m);
	return 1;
    }
    return 1;				/* no zone: local time */
}

/* token - a run of non-space bytes */
static size_t
token(struct cur *c, const char **start)
{
    *start = c->p;
    while (c->p < c->end && *c->p != ' ')
	c->p++;
    return (size_t) (c->p - *start);
}

/* structured_data - RFC 5424 "-" or "[id name="value" ...]..." */
static int
structured_data(struct cur *c)
{
    if (eat(c, "-"))
	return 1;
    if (c->p == c->end || *c->p != '[')
	return 0;
    while (eat(c, "[")) {
	while (c->p < c->end && *c->p != ']') {
	    if (eat(c, "\"")) {
		/* a value: '"', '\\' and ']' are escaped in it */
		while (c->p < c->end && *c->p != '"')
		    c->p += *c->p == '\\' && c->end - c->p > 1 ? 2 : 1;
		if (!eat(c, "\""))
		    return 0;
	    } else {
		c->p++;
	    }
	}
	if (!eat(c, "]"))
	    return 0;
    }
    return 1;
}

/*
 * rfc5424_header - "<PRI>1 TIME HOST APP-NAME PROCID MSGID SD MSG": the
 * APP-NAME is the tag ("postfix/smtp"), PROCID its pid
 */
static int
rfc5424_header(struct cur *c, struct ml_event *ev, struct cur *tag)
{
    const char *s;
    size_t n;
    int pri;

    if (!(eat(c, "<") && number(c, 1, 3, &pri) && eat(c, ">1 ")))
	return 0;
    if (!eat(c, "-") && !iso_time(c, &ev->time))
	return 0;
    if (!eat(c, " ") || (n = token(c, &s)) == 0 || !eat(c, " "))
	return 0;
    copy_str(ev->host, sizeof(ev->host), s, n);
    if (token(c, &tag->p) == 0 || !eat(c, " "))
	return 0;
    tag->end = c->p - 1;
    if (!number(c, 1, 10, &ev->pid) || (c->p < c->end && *c->p != ' '))
	ev->pid = 0;			/* "-", or not a number */
    (void) token(c, &s);
    if (!eat(c, " "))
	return 0;
    if (token(c, &s) == 0 || !eat(c, " ") || !structured_data(c))
	return 0;
    if (c->p == c->end)
	return 1;
    if (!eat(c, " "))
	return 0;
    (void) eat(c, " ");			/* rsyslog keeps the one after "tag:" */
    (void) eat(c, "\xEF\xBB\xBF");		/* a UTF-8 message may start with a BOM */
    return 1;
}

/* parse_header - time, host, tag[pid]: ; tag is left in *tag */
static int
parse_header(struct cur *c, struct ml_event *ev, struct cur *tag)
{
    const char *s;
    size_t n;

    if (c->p < c->end && *c->p == '<')
	return rfc5424_header(c, ev, tag);
    if (c->p < c->end && isdigit((unsigned char) *c->p)) {
	if (!iso_time(c, &ev->time))
	    return 0;
    } else if (!rfc3164_time(c, &ev->time)) {
	return 0;
    }
    if (!eat(c, " "))
	return 0;
    if ((n = token(c, &s)) == 0 || !eat(c, " "))
	return 0;
    copy_str(ev->host, sizeof(ev->host), s, n);
    tag->p = c->p;
    while (c->p < c->end && *c->p != '[' && *c->p != ':' && *c->p != ' ')
	c->p++;
    tag->end = c->p;
    if (tag->end == tag->p)
	return 0;
    if (eat(c, "[")) {
	if (!number(c, 1, 10, &ev->pid) || !eat(c, "]"))
	    return 0;
    }
    return eat(c, ":") && (c->p == c->end || eat(c, " "));
}

/* classify_tag - which MTA logged it; the pool hint of a Postfix tag */
static int
classify_tag(const struct cur *tag, struct ml_event *ev, struct cur *prog)
{
    size_t n = (size_t) (tag->end - tag->p);
    const char *first_slash = memchr(tag->p, '/', n);
    const char *last_slash = first_slash;
    const char *q;

    if ((n == 8 && memcmp(tag->p, "sendmail", 8) == 0)
	|| (n == 6 && memcmp(tag->p, "sm-mta", 6) == 0)) {
	ev->mta = ML_SENDMAIL;
	prog->p = tag->p;
	prog->end = tag->end;
	return 1;
    }
    /* "postfix/smtp", "postfix-out/smtp", "postfix/warm1/smtp" */
    if (first_slash == NULL || n < 8 || memcmp(tag->p, "postfix", 7) != 0)
	return 0;
    ev->mta = ML_POSTFIX;
    for (q = first_slash; q < tag->end; q++)
	if (*q == '/')
	    last_slash = q;
    prog->p = last_slash + 1;
    prog->end = tag->end;
    /* the master.cf service: its syslog_name part, else the program's own */
    if (last_slash > first_slash)
	copy_str(ev->service, sizeof(ev->service), first_slash + 1,
		 (size_t) (last_slash - first_slash - 1));
    else
	copy_str(ev->service, sizeof(ev->service), prog->p, (size_t) (prog->end - prog->p));
    return prog->p < prog->end;
}

/* prog_is - the program part of the tag */
static int
prog_is(const struct cur *prog, const char *name)
{
    size_t n = strlen(name);

    return (size_t) (prog->end - prog->p) == n && memcmp(prog->p, name, n) == 0;
}

/* maillog_parse - what one log line says */
int
maillog_parse(const char *line, size_t len, struct ml_event *ev)
{
    struct cur c, tag, prog;

    memset(ev, 0, sizeof(*ev));
    ev->size = -1;
    ev->delay = -1;
    if (len > ML_LINE_MAX)
	return ev->kind = ML_GARBAGE;
    if (len > 0 && line[len - 1] == '\r')
	len--;
    c.p = line;
    c.end = line + len;
    if (!parse_header(&c, ev, &tag))
	return ev->kind = ML_GARBAGE;
    if (!classify_tag(&tag, ev, &prog))
	return ev->kind = ML_IGNORED;
    if (ev->mta == ML_SENDMAIL ? sendmail_tls(&c, ev)
	: (prog_is(&prog, "smtp") || prog_is(&prog, "lmtp")) && postfix_tls(&c, ev))
	return ev->kind = ML_TLS;
    if (ev->mta == ML_SENDMAIL || prog_is(&prog, "qmgr") || prog_is(&prog, "smtp")
	|| prog_is(&prog, "lmtp") || prog_is(&prog, "local") || prog_is(&prog, "virtual")
	|| prog_is(&prog, "pipe") || prog_is(&prog, "error") || prog_is(&prog, "discard")
	|| prog_is(&prog, "retry"))
	return ev->kind = parse_body(&c, ev);
    return ev->kind = ML_IGNORED;
}

/* ---------------------------------------------------------------- body */

struct fields {
    struct cur to, from, orig_to, relay, delay, dsn, status, stat, size, mailer, reply,
	version, verify;
    int has_to, has_from, has_orig_to, has_relay, has_delay, has_dsn, has_status,
	has_stat, has_size, has_mailer, has_reply, has_version, has_verify;
};

/* field_name - "name=" at the cursor; the name in *name */
static int
field_name(struct cur *c, struct cur *name)
{
    name->p = c->p;
    while (c->p < c->end && ((*c->p >= 'a' && *c->p <= 'z') || *c->p == '_'))
	c->p++;
    name->end = c->p;
    return name->end > name->p && eat(c, "=");
}

/* angle_value - "<...>" possibly repeated as "<a>,<b>" (Sendmail) */
static int
angle_value(struct cur *c, struct cur *v)
{
    v->p = c->p;
    for (;;) {
	if (!eat(c, "<"))
	    return 0;
	/* the address ends at the '>' that ends the field */
	while (c->p < c->end && !(*c->p == '>' && (c->p + 1 == c->end || c->p[1] == ','
						    || c->p[1] == ' ')))
	    c->p++;
	if (!eat(c, ">"))
	    return 0;
	if (c->end - c->p >= 2 && c->p[0] == ',' && c->p[1] == '<')
	    c->p++;
	else
	    break;
    }
    v->end = c->p;
    return 1;
}

/* plain_value - up to ", " or the end */
static void
plain_value(struct cur *c, struct cur *v)
{
    v->p = c->p;
    while (c->p < c->end && !(*c->p == ',' && c->p + 1 < c->end && c->p[1] == ' '))
	c->p++;
    v->end = c->p;
}

#define NAME_IS(n, s) ((size_t) ((n).end - (n).p) == sizeof(s) - 1 \
		       && memcmp((n).p, s, sizeof(s) - 1) == 0)
#define TAKE(f, v) do { fl->f = (v); fl->has_##f = 1; } while (0)

/* split_fields - "name=value, name=value, ..." ; status/stat runs to the end */
static int
split_fields(struct cur *c, struct fields *fl)
{
    struct cur name, v;

    memset(fl, 0, sizeof(*fl));
    while (c->p < c->end) {
	/* Sendmail splits a long to= list over lines: "to=<a>,<b>, [more], delay=..." */
	if (fl->has_to && eat(c, "[more]")) {
	    if (c->p < c->end && !eat(c, ", "))
		return 0;
	    continue;
	}
	if (!field_name(c, &name))
	    return 0;
	if (NAME_IS(name, "status") || NAME_IS(name, "stat")) {
	    v.p = c->p;
	    v.end = c->end;
	    c->p = c->end;
	    if (NAME_IS(name, "status"))
		TAKE(status, v);
	    else
		TAKE(stat, v);
	    break;
	}
	if (NAME_IS(name, "reply")) {
	    /* Sendmail's remote reply may hold ", ": it runs to ", stat=" */
	    const char *st = memmem(c->p, (size_t) (c->end - c->p), ", stat=", 7);

	    v.p = c->p;
	    v.end = c->p = st ? st : c->end;
	    TAKE(reply, v);
	} else if (c->p < c->end && *c->p == '<') {
	    struct cur rest;

	    if (!angle_value(c, &v))
		return 0;
	    /* Sendmail's "ctladdr=<user@host> (uid/gid)": skip what follows */
	    if (c->p < c->end && *c->p == ' ')
		plain_value(c, &rest);
	} else {
	    plain_value(c, &v);
	}
	if (NAME_IS(name, "to"))
	    TAKE(to, v);
	else if (NAME_IS(name, "from"))
	    TAKE(from, v);
	else if (NAME_IS(name, "orig_to"))
	    TAKE(orig_to, v);
	else if (NAME_IS(name, "relay"))
	    TAKE(relay, v);
	else if (NAME_IS(name, "delay"))
	    TAKE(delay, v);
	else if (NAME_IS(name, "dsn"))
	    TAKE(dsn, v);
	else if (NAME_IS(name, "size"))
	    TAKE(size, v);
	else if (NAME_IS(name, "mailer"))
	    TAKE(mailer, v);
	else if (NAME_IS(name, "version"))
	    TAKE(version, v);
	else if (NAME_IS(name, "verify"))
	    TAKE(verify, v);
	if (c->p < c->end && !eat(c, ", "))
	    return 0;
    }
    return 1;
}

/* unangle - copy "<addr>" without its brackets */
static void
unangle(const struct cur *v, char *out, size_t sz)
{
    const char *p = v->p, *e = v->end;

    if (e - p >= 2 && *p == '<' && e[-1] == '>')
	p++, e--;
    copy_str(out, sz, p, (size_t) (e - p));
}

/*
 * take_rcpts - one or more "<a>" separated by commas; Sendmail writes an
 * address given without brackets as it came: "a@x,<b@y>,c@z"
 */
static void
take_rcpts(const struct cur *v, struct ml_event *ev)
{
    const char *p = v->p;

    while (p < v->end) {
	const char *q = p;
	struct cur one;

	if (*p == '<') {
	    /* it ends with the '>' before ",<" or the end */
	    q = p + 1;
	    while (q < v->end && !(*q == '>' && (q + 1 == v->end || q[1] == ',')))
		q++;
	    if (q < v->end)
		q++;
	} else {
	    while (q < v->end && *q != ',')
		q++;
	}
	one.p = p;
	one.end = q;
	if (q > p) {
	    if (ev->nrcpt < ML_MAX_RCPTS)
		unangle(&one, ev->rcpt[ev->nrcpt++], ML_ADDR_MAX);
	    else
		ev->rcpt_truncated = 1;
	}
	p = q;
	if (p < v->end && *p == ',')
	    p++;
    }
}

/* take_port - ":port" right after the bracket; anything else: none */
static void
take_port(const char *p, const char *end, struct ml_event *ev)
{
    int port = 0;

    if (p >= end || *p++ != ':')
	return;
    for (; p < end && *p >= '0' && *p <= '9'; p++)
	if ((port = port * 10 + (*p - '0')) > 65535)
	    return;
    if (p == end)
	ev->relay_port = port;
}

/* take_relay - "host[ip]:port" (Postfix) or "host. [ip]" (Sendmail) */
static void
take_relay(const struct cur *v, struct ml_event *ev)
{
    const char *b = memchr(v->p, '[', (size_t) (v->end - v->p));
    const char *h_end = b ? b : v->end;

    while (h_end > v->p && (h_end[-1] == ' ' || h_end[-1] == '.'))
	h_end--;
    copy_str(ev->relay_host, sizeof(ev->relay_host), v->p, (size_t) (h_end - v->p));
    if (b) {
	const char *e = memchr(b, ']', (size_t) (v->end - b));

	if (e) {
	    copy_str(ev->relay_ip, sizeof(ev->relay_ip), b + 1, (size_t) (e - b - 1));
	    take_port(e + 1, v->end, ev);
	}
    }
}

/* take_delay - "0.05" (Postfix) or "[D+]HH:MM:SS" (Sendmail) */
static void
take_delay(const struct cur *v, struct ml_event *ev)
{
    char buf[32], *end;
    int d = 0, h, m, s;

    copy_str(buf, sizeof(buf), v->p, (size_t) (v->end - v->p));
    if (strchr(buf, ':')) {
	if (sscanf(buf, "%d+%d:%d:%d", &d, &h, &m, &s) == 4
	    || (d = 0, sscanf(buf, "%d:%d:%d", &h, &m, &s) == 3))
	    ev->delay = ((d * 24.0 + h) * 60 + m) * 60 + s;
	return;
    }
    ev->delay = strtod(buf, &end);
    if (end == buf || *end != '\0' || !(ev->delay >= 0 && ev->delay < 1e9))
	ev->delay = -1;
}

/*
 * take_text - "(text)" after the status word, without the parentheses; a
 * line cut short has lost its ")"
 */
static void
take_text(const char *p, const char *end, struct ml_event *ev)
{
    while (p < end && *p == ' ')
	p++;
    if (p < end && *p == '(') {
	p++;
	if (p < end && end[-1] == ')')
	    end--;
    }
    copy_str(ev->text, sizeof(ev->text), p, (size_t) (end - p));
}

/*
 * postfix_status - "sent (...)", "deferred (...)", ...; with soft_bounce =
 * yes, what would have bounced is "SOFTBOUNCE (...)" and stays queued
 */
static int
postfix_status(const struct cur *v, struct ml_event *ev)
{
    static const struct { const char *w; int st; } words[] = {
	{"sent", ML_SENT}, {"deferred", ML_DEFERRED}, {"bounced", ML_BOUNCED},
	{"expired", ML_EXPIRED_STATUS}, {"SOFTBOUNCE", ML_DEFERRED},
    };
    size_t i, n = 0;

    while (v->p + n < v->end && v->p[n] != ' ' && v->p[n] != ',')
	n++;
    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
	if (strlen(words[i].w) == n && memcmp(v->p, words[i].w, n) == 0) {
	    ev->status = words[i].st;
	    take_text(v->p + n, v->end, ev);
	    return 1;
	}
    }
    return 0;
}

/* sendmail_status - "Sent (...)", "Deferred: ...", or a failure text */
static int
sendmail_status(const struct cur *v, struct ml_event *ev)
{
    size_t n = (size_t) (v->end - v->p);

    if (n >= 4 && strncasecmp(v->p, "Sent", 4) == 0) {
	ev->status = ML_SENT;
	take_text(v->p + 4, v->end, ev);
    } else if (n >= 8 && strncasecmp(v->p, "Deferred", 8) == 0) {
	const char *p = v->p + 8;

	ev->status = ML_DEFERRED;
	if (p < v->end && *p == ':')
	    p++;
	take_text(p, v->end, ev);
    } else if (n >= 6 && strncasecmp(v->p, "queued", 6) == 0) {
	return 0;			/* put in the queue, not an attempt */
    } else {
	/* a permanent failure, or a give-up after the queue timeout */
	ev->status = strcmp(ev->dsn, "4.4.7") == 0 ? ML_EXPIRED_STATUS : ML_BOUNCED;
	take_text(v->p, v->end, ev);
    }
    return 1;
}

/*
 * sendmail_dsn - "QID: NEWQID: DSN: text": Sendmail made a delivery status
 * notification, queue id NEWQID, which has no from= line of its own: report
 * it as a message from the null sender, so that its deliveries are not
 * counted as the sender's.
 */
static int
sendmail_dsn(const struct cur *c, struct ml_event *ev)
{
    const char *p = c->p, *q = c->p;

    while (p < c->end && isalnum((unsigned char) *p))
	p++;
    if (p == q || p - q >= (long) sizeof(ev->qid) || c->end - p < 7
	|| memcmp(p, ": DSN: ", 7) != 0)
	return 0;
    copy_str(ev->qid, sizeof(ev->qid), q, (size_t) (p - q));
    ev->sender[0] = '\0';
    return 1;
}

/*
 * postfix_tls - "Verified TLS connection established to HOST[IP]:PORT:
 * TLSv1.3 with cipher ...", or "reused" for a cached TLS session
 * (smtp_tls_connection_reuse)
 */
static int
postfix_tls(struct cur *c, struct ml_event *ev)
{
    static const struct { const char *w; int tls; } words[] = {
	{"Verified ", ML_TLS_VERIFIED}, {"Trusted ", ML_TLS_VERIFIED},
	{"Untrusted ", ML_TLS_UNVERIFIED}, {"Anonymous ", ML_TLS_UNVERIFIED},
    };
    struct cur b = *c, relay;
    const char *proto;
    size_t i, n;

    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
	if (eat(&b, words[i].w))
	    break;
    if (i == sizeof(words) / sizeof(words[0])
	|| !(eat(&b, "TLS connection established to ") || eat(&b, "TLS connection reused to ")))
	return 0;
    relay.p = b.p;
    relay.end = memmem(b.p, (size_t) (b.end - b.p), ": ", 2);
    if (relay.end == NULL || relay.end == relay.p)
	return 0;
    take_relay(&relay, ev);
    b.p = relay.end + 2;
    n = token(&b, &proto);
    copy_str(ev->text, sizeof(ev->text), proto, n);
    ev->tls = words[i].tls;
    return 1;
}

/*
 * sendmail_tls - "[QID: ]STARTTLS=client, relay=HOST, version=TLSv1.3,
 * verify=OK, cipher=..., bits=256/256"; verify=TRUSTED (a certificate
 * the configuration trusts as such) is verified too, every other value
 * (FAIL, NO, NONE, NOT, TEMP, ...) is not
 */
static int
sendmail_tls(struct cur *c, struct ml_event *ev)
{
    struct cur b = *c;
    struct fields fl;
    const char *q = b.p;
    size_t n;

    while (b.p < b.end && isalnum((unsigned char) *b.p))
	b.p++;
    if (!(b.p > q && eat(&b, ": ")))
	b.p = q;
    if (!eat(&b, "STARTTLS=client, ") || !split_fields(&b, &fl) || !fl.has_relay
	|| !fl.has_verify)
	return 0;
    take_relay(&fl.relay, ev);
    n = (size_t) (fl.verify.end - fl.verify.p);
    ev->tls = (n == 2 && memcmp(fl.verify.p, "OK", 2) == 0)
	|| (n == 7 && memcmp(fl.verify.p, "TRUSTED", 7) == 0)
	? ML_TLS_VERIFIED : ML_TLS_UNVERIFIED;
    if (fl.has_version)
	copy_str(ev->text, sizeof(ev->text), fl.version.p,
		 (size_t) (fl.version.end - fl.version.p));
    return 1;
}

/* parse_body - "QID: fields" */
static int
parse_body(struct cur *c, struct ml_event *ev)
{
    struct fields fl;
    struct cur first;
    const char *q = c->p;

    while (c->p < c->end && isalnum((unsigned char) *c->p))
	c->p++;
    if (c->p == q || c->p - q >= (long) sizeof(ev->qid) || !eat(c, ": "))
	return ML_IGNORED;
    copy_str(ev->qid, sizeof(ev->qid), q, (size_t) (c->p - q - 2));
    if ((size_t) (c->end - c->p) == 7 && memcmp(c->p, "removed", 7) == 0)
	return ev->mta == ML_POSTFIX ? ML_REMOVED : ML_IGNORED;
    if (ev->mta == ML_SENDMAIL && sendmail_dsn(c, ev))
	return ML_FROM;
    first = *c;
    if (!(eat(&first, "to=") || eat(&first, "from=")))
	return ML_IGNORED;
    if (!split_fields(c, &fl))
	return ML_GARBAGE;
    if (fl.has_dsn)
	copy_str(ev->dsn, sizeof(ev->dsn), fl.dsn.p, (size_t) (fl.dsn.end - fl.dsn.p));
    if (fl.has_to) {
	take_rcpts(&fl.to, ev);
	if (fl.has_orig_to)
	    unangle(&fl.orig_to, ev->orig_rcpt, sizeof(ev->orig_rcpt));
	if (fl.has_relay)
	    take_relay(&fl.relay, ev);
	if (fl.has_delay)
	    take_delay(&fl.delay, ev);
	if (ev->mta == ML_SENDMAIL && fl.has_mailer)
	    copy_str(ev->service, sizeof(ev->service), fl.mailer.p,
		     (size_t) (fl.mailer.end - fl.mailer.p));
	if (ev->mta == ML_POSTFIX) {
	    if (!fl.has_status)
		return ML_GARBAGE;
	    /* address verification probes: "deliverable", "undeliverable" */
	    if (!postfix_status(&fl.status, ev))
		return (fl.status.end - fl.status.p >= 11
			&& (memcmp(fl.status.p, "deliverable", 11) == 0
			    || memcmp(fl.status.p, "undeliverable", 11) == 0))
		    ? ML_IGNORED : ML_GARBAGE;
	} else {
	    if (!fl.has_stat)
		return ML_GARBAGE;
	    /* the submission program hands local mail to the daemon, which logs its delivery */
	    if (fl.has_mailer && NAME_IS(fl.mailer, "relay")
		&& (strcmp(ev->relay_ip, "127.0.0.1") == 0
		    || strcmp(ev->relay_ip, "IPv6:::1") == 0))
		return ML_IGNORED;
	    if (!sendmail_status(&fl.stat, ev))
		return ML_IGNORED;
	    /*
	     * "stat=" may name what happened after the reply ("Connection
	     * reset by ..." when the server closed after a 421): the server's
	     * own words, in "reply=", are what classification and backoff need.
	     */
	    if (fl.has_reply && ev->status != ML_SENT)
		take_text(fl.reply.p, fl.reply.end, ev);
	}
	return ML_DELIVERY;
    }
    if (!fl.has_from)
	return ML_GARBAGE;
    unangle(&fl.from, ev->sender, sizeof(ev->sender));
    if (fl.has_status) {
	if (fl.status.end - fl.status.p >= 7 && memcmp(fl.status.p, "expired", 7) == 0)
	    return ev->mta == ML_POSTFIX ? ML_EXPIRED : ML_IGNORED;
	return ML_IGNORED;
    }
    if (fl.has_size) {
	char buf[24], *end;

	copy_str(buf, sizeof(buf), fl.size.p, (size_t) (fl.size.end - fl.size.p));
	ev->size = strtoll(buf, &end, 10);
	if (end == buf || ev->size < 0)
	    ev->size = -1;
    }
    return ML_FROM;
}

/* ---------------------------------------------------------------- helpers */

/* maillog_status_name - "sent", "deferred", "bounced", "expired" */
const char *
maillog_status_name(int status)
{
    switch (status) {
    case ML_SENT: return "sent";
    case ML_DEFERRED: return "deferred";
    case ML_BOUNCED: return "bounced";
    case ML_EXPIRED_STATUS: return "expired";
    default: return "unknown";
    }
}

/* days_from_civil - days since 1970-01-01 of a proleptic Gregorian date */
static long long
days_from_civil(long long y, int m, int d)
{
    long long era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/*
 * local_time - mktime() of a date in one year; a wall-clock time that
 * happens twice (the hour repeated when summer time ends) is read as the
 * one nearer now, so that a line just logged in the second pass is not
 * taken for one an hour old
 */
static long long
local_time(const struct ml_time *t, int year, long long now)
{
    struct tm tm;
    long long best = 0, v;
    int isdst;

    for (isdst = -1; isdst <= 1; isdst++) {
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = t->mon - 1;
	tm.tm_mday = t->mday;
	tm.tm_hour = t->hour;
	tm.tm_min = t->min;
	tm.tm_sec = t->sec;
	tm.tm_isdst = isdst;
	v = (long long) mktime(&tm);
	/* a forced summer or winter time that does not hold moves the clock */
	if (isdst >= 0 && (tm.tm_isdst != isdst || tm.tm_hour != t->hour
			   || tm.tm_min != t->min))
	    continue;
	if (isdst < 0 || llabs(v - now) < llabs(best - now))
	    best = v;
    }
    return best;
}

/* maillog_time - the line's time in UNIX seconds */
int
maillog_time(const struct ml_time *t, long long now, long long *when)
{
    struct tm tm;
    time_t tnow = (time_t) now;
    long long cand = now;
    int y;

    if (t->mon < 1 || t->mon > 12)
	return -1;
    if (t->year && t->has_tz) {
	*when = (days_from_civil(t->year, t->mon, t->mday) * 24 + t->hour) * 3600
	    + t->min * 60 + t->sec - t->tzoff_min * 60LL;
	return 0;
    }
    if (t->year) {
	*when = local_time(t, t->year, now);
	return 0;
    }
    /*
     * no year: a log line is written when it happens, so it lies in the past
     * (a replayed log: maybe months back) or at most a little ahead (clocks,
     * zones): take the latest year that does not put it more than
     * ML_AHEAD_MAX ahead of now.  "Dec 31 23:59:59" read on January 1 is
     * last year's; "Jun 1" read in December is this year's, not next year's.
     */
    localtime_r(&tnow, &tm);
    for (y = tm.tm_year + 1900 + 1; y >= tm.tm_year + 1900 - 1; y--)
	if ((cand = local_time(t, y, now)) <= now + ML_AHEAD_MAX)
	    break;
    *when = cand;
    return 0;
}

/* maillog_too_old - was a line of this time logged more than max_age s ago? */
int
maillog_too_old(const struct ml_time *t, long long now, long long max_age,
		long long *when)
{
    if (maillog_time(t, now, when) < 0) {
	*when = now;
	return 0;
    }
    return max_age > 0 && *when < now - max_age;
}

/* maillog_reply - the remote reply inside a delivery's text */
const char *
maillog_reply(const struct ml_event *ev, size_t *len)
{
    const char *p = ev->text, *said = strstr(p, " said: ");
    const char *e;
    size_t n;

    if (said && strncmp(p, "host ", 5) == 0)
	p = said + 7;
    n = strlen(p);
    /* "... (in reply to RCPT TO command)" */
    if (n > 0 && p[n - 1] == ')' && (e = strstr(p, " (in reply to ")) != NULL)
	n = (size_t) (e - p);
    *len = n;
    return p;
}
