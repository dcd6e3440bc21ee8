/*
 * testsend - outpostctl test-send: a test message through the relay,
 *	      evaluated as a receiver does
 *
 * SYNOPSIS
 *	outpostctl test-send --from ADDR [--via HOST:PORT] [--json]
 *			     [--timeout DURATION]
 *
 * DESCRIPTION
 *	Builds a message like a campaign's (multipart/alternative text and
 *	HTML, List-Unsubscribe with List-Unsubscribe-Post, Message-ID, Date,
 *	From: ADDR) and submits it over SMTP to --via (default the local
 *	MTA, 127.0.0.1:25) as a client would, to the check address
 *	check-TOKEN@ the return-path domain of ADDR's domain ([intake]
 *	bounce_domain).  TOKEN is a verp(3) token of kind VERP_CHECK
 *	naming a random 64-bit report id, signed with the [intake]
 *	secrets, so that the milter evaluates outpostctl's messages only.
 *	The relay signs and tags it like any outgoing message; it leaves
 *	for the bounce domain's MX, where outpost-milter evaluates it as a
 *	receiving MTA does (checkmsg(3)) and stores the report in Redis
 *	(P{intake}:testsend:ID).  test-send waits for the report (at most
 *	--timeout, default 60s) and prints one line per check: status,
 *	name, detail and, for a failure, "fix:" and the fix; with --json
 *	{"id", "from", "rcpt", "checks":[{"check", "status", "detail",
 *	"fix"}], "failed"}.
 *
 *	Exit status: 0 when no check fails, 1 when one does, 3 when no
 *	report came in time (or the MTA refused the message), 2 for a
 *	usage or configuration error.
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "addr.h"
#include "conf.h"
#include "confval.h"
#include "ctl.h"
#include "jsonw.h"
#include "monotime.h"
#include "msg.h"
#include "redisconn.h"
#include "verp.h"
#include "xalloc.h"

#define SMTP_TIMEOUT_S	30		/* each SMTP reply */
#define SMTP_LINE_MAX	1024

const struct ctl_usage ctl_testsend_usage[] = {
    {"test-send --from ADDR [--via HOST:PORT] [--json] [--timeout DURATION]",
     "send a test message through the relay and print how a receiver judges it"},
    {NULL, NULL}};

struct smtp {
    int fd;
    char buf[4096];
    size_t len;
    char last[SMTP_LINE_MAX];		/* the last reply line */
};

/* smtp_connect - a connection to host:port, [v6addr]:port or host, with timeouts */
static int
smtp_connect(struct smtp *s, const char *via)
{
    char host[256], port[32] = "25";
    const char *arg = via, *end, *colon;
    struct addrinfo hints = {0}, *res, *ai;
    struct timeval tv = {SMTP_TIMEOUT_S, 0};
    size_t hl;
    int rc;

    if (via[0] == '[' && (end = strchr(via, ']')) != NULL) {
	hl = (size_t) (end - via - 1);
	via++;
	colon = end[1] == ':' ? end + 1 : NULL;
    } else if ((colon = strrchr(via, ':')) != NULL && strchr(via, ':') == colon) {
	hl = (size_t) (colon - via);
    } else {
	hl = strlen(via);
	colon = NULL;
    }
    if (hl >= sizeof(host) || (colon && strlen(colon + 1) >= sizeof(port))) {
	msg_error("--via %s: too long", arg);
	return -1;
    }
    memcpy(host, via, hl);
    host[hl] = '\0';
    if (colon)
	snprintf(port, sizeof(port), "%s", colon + 1);
    hints.ai_socktype = SOCK_STREAM;
    if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
	msg_error("%s: %s", arg, gai_strerror(rc));
	return -1;
    }
    s->fd = -1;
    for (ai = res; ai && s->fd < 0; ai = ai->ai_next) {
	if ((s->fd = socket(ai->ai_family, ai->ai_socktype, 0)) < 0)
	    continue;
	setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(s->fd, ai->ai_addr, ai->ai_addrlen) < 0) {
	    close(s->fd);
	    s->fd = -1;
	}
    }
    freeaddrinfo(res);
    if (s->fd < 0)
	msg_error("%s: cannot connect: %s", arg, strerror(errno));
    s->len = 0;
    return s->fd < 0 ? -1 : 0;
}

/* smtp_reply - read a whole reply; its code, or -1 */
static int
smtp_reply(struct smtp *s)
{
    char *nl;
    ssize_t n;

    for (;;) {
	while ((nl = memchr(s->buf, '\n', s->len)) == NULL) {
	    if (s->len == sizeof(s->buf))
		return -1;		/* a line longer than any reply's */
	    if ((n = read(s->fd, s->buf + s->len, sizeof(s->buf) - s->len)) <= 0)
		return -1;
	    s->len += (size_t) n;
	}
	*nl = '\0';
	snprintf(s->last, sizeof(s->last), "%.*s", (int) sizeof(s->last) - 1, s->buf);
	s->last[strcspn(s->last, "\r")] = '\0';
	s->len -= (size_t) (nl + 1 - s->buf);
	memmove(s->buf, nl + 1, s->len);
	if (strlen(s->last) < 3)
	    return -1;
	if (s->last[3] != '-')
	    return atoi(s->last);
    }
}

/* smtp_send - write it all */
static int
smtp_send(struct smtp *s, const char *p, size_t n)
{
    ssize_t w;

    while (n > 0) {
	if ((w = write(s->fd, p, n)) <= 0)
	    return -1;
	p += w;
	n -= (size_t) w;
    }
    return 0;
}

/* smtp_cmd - one command; 0 when the reply is the one wanted */
static int
smtp_cmd(struct smtp *s, const char *cmd, int want)
{
    int code;

    if (cmd && smtp_send(s, cmd, strlen(cmd)) < 0)
	return -1;
    code = smtp_reply(s);
    if (code / 100 == want / 100)
	return 0;
    msg_error("%.*s: %s", (int) (cmd ? strcspn(cmd, "\r") : 8), cmd ? cmd : "greeting",
	      code < 0 ? "no reply" : s->last);
    return -1;
}

/* build - the message, CRLF, dot-stuffed, ending with the lone dot */
static char *
build(const char *from, const char *from_domain, const char *rcpt, unsigned long long id)
{
    char date[64], *m;
    time_t now = time(NULL);
    struct tm tm;
    size_t size = 4096 + 3 * strlen(from) + strlen(rcpt);

    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    m = xmalloc(size);
    snprintf(m, size,
	     "From: Outpost test <%s>\r\n"
	     "To: <%s>\r\n"
	     "Subject: Outpost test send %016llx\r\n"
	     "Date: %s\r\n"
	     "Message-ID: <testsend.%016llx@%s>\r\n"
	     "MIME-Version: 1.0\r\n"
	     "List-Unsubscribe: <https://%s/unsubscribe/test-%016llx>\r\n"
	     "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
	     "Content-Type: multipart/alternative; boundary=\"=_outpost_%016llx\"\r\n"
	     "\r\n"
	     "--=_outpost_%016llx\r\n"
	     "Content-Type: text/plain; charset=utf-8\r\n"
	     "\r\n"
	     "This is a test message of outpostctl test-send.\r\n"
	     "It is evaluated as a receiver does, then discarded.\r\n"
	     "\r\n"
	     "--=_outpost_%016llx\r\n"
	     "Content-Type: text/html; charset=utf-8\r\n"
	     "\r\n"
	     "<html><body><p>This is a test message of <b>outpostctl test-send</b>.</p>\r\n"
	     "<p>It is evaluated as a receiver does, then discarded.</p></body></html>\r\n"
	     "\r\n"
	     "--=_outpost_%016llx--\r\n"
	     ".\r\n", from, rcpt, id, date, id, from_domain, from_domain, id, id, id, id, id);
    return m;
}

/* submit - the SMTP dialogue; 0 when the message was accepted */
static int
submit(const char *via, const char *from, const char *from_domain, const char *rcpt,
       unsigned long long id)
{
    struct smtp s;
    char cmd[SMTP_LINE_MAX], host[256];
    char *m;
    int rc = -1;

    if (smtp_connect(&s, via) < 0)
	return -1;
    if (gethostname(host, sizeof(host)) < 0 || strchr(host, '.') == NULL)
	snprintf(host, sizeof(host), "%s", from_domain);
    host[sizeof(host) - 1] = '\0';
    m = build(from, from_domain, rcpt, id);
    snprintf(cmd, sizeof(cmd), "EHLO %s\r\n", host);
    if (smtp_cmd(&s, NULL, 220) == 0 && smtp_cmd(&s, cmd, 250) == 0) {
	snprintf(cmd, sizeof(cmd), "MAIL FROM:<%s>\r\n", from);
	if (smtp_cmd(&s, cmd, 250) == 0) {
	    snprintf(cmd, sizeof(cmd), "RCPT TO:<%s>\r\n", rcpt);
	    if (smtp_cmd(&s, cmd, 250) == 0 && smtp_cmd(&s, "DATA\r\n", 354) == 0
		&& smtp_send(&s, m, strlen(m)) == 0 && smtp_cmd(&s, NULL, 250) == 0) {
		msg_info("submitted to %s: %s", via, s.last);
		rc = 0;
	    }
	}
	smtp_send(&s, "QUIT\r\n", 6);
    }
    close(s.fd);
    free(m);
    return rc;
}

/* wait_report - the stored report, or NULL after timeout_ms */
static char *
wait_report(const struct outpost_conf *conf, unsigned long long id, long long timeout_ms)
{
    struct rconn *rc = rconn_new(&conf->redis);
    long long end = monotime_ms() + timeout_ms;
    char key[256], *text = NULL;
    redisReply *r;

    snprintf(key, sizeof(key), "%s{intake}:testsend:%016llx", conf->redis.prefix, id);
    for (;;) {
	r = rconn_commandv(rc, "GET", key, NULL);
	if (r && r->type == REDIS_REPLY_STRING)
	    text = xstrdup(r->str);
	else if (r == NULL)
	    msg_warn("redis: %s", rconn_error(rc));
	if (r)
	    freeReplyObject(r);
	if (text || monotime_ms() >= end)
	    break;
	usleep(200 * 1000);
    }
    rconn_free(rc);
    return text;
}

/* print - the report's lines, as text or JSON; the number of failures */
static int
print(char *text, int json, const char *from, const char *rcpt, unsigned long long id)
{
    struct jsonw jw;
    char *line, *save = NULL, *f[4], idhex[17];
    int failed = 0, i;

    snprintf(idhex, sizeof(idhex), "%016llx", id);
    if (json) {
	jsonw_init(&jw, stdout);
	jsonw_object(&jw, NULL);
	jsonw_string(&jw, "id", idhex);
	jsonw_string(&jw, "from", from);
	jsonw_string(&jw, "rcpt", rcpt);
	jsonw_array(&jw, "checks");
    }
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
	f[0] = line;
	for (i = 1; i < 4; i++) {
	    f[i] = f[i - 1] ? strchr(f[i - 1], '\t') : NULL;
	    if (f[i])
		*f[i]++ = '\0';
	}
	if (f[1] == NULL)
	    continue;
	failed += strcmp(f[1], "fail") == 0;
	if (json) {
	    jsonw_object(&jw, NULL);
	    jsonw_string(&jw, "check", f[0]);
	    jsonw_string(&jw, "status", f[1]);
	    jsonw_string(&jw, "detail", f[2] ? f[2] : "");
	    if (f[3] && *f[3])
		jsonw_string(&jw, "fix", f[3]);
	    else
		jsonw_null(&jw, "fix");
	    jsonw_end(&jw);
	} else {
	    printf("%-4s  %-11s %s\n", f[1], f[0], f[2] ? f[2] : "");
	    if (f[3] && *f[3])
		printf("      fix: %s\n", f[3]);
	}
    }
    if (json) {
	jsonw_end(&jw);
	jsonw_int(&jw, "failed", failed);
	jsonw_end(&jw);
    } else {
	printf("%d check%s failed\n", failed, failed == 1 ? "" : "s");
    }
    return failed;
}

/* cmd_testsend - outpostctl test-send */
int
cmd_testsend(const char *path, int argc, char **argv)
{
    const char *from_arg = NULL, *via = "127.0.0.1:25", *why;
    char from[ADDR_MAX], dom[DOMAIN_MAX + 64], tok[64], rcpt[sizeof(tok) + sizeof(dom) + 16];
    char err[600], *text;
    long long timeout_ms = 60000;
    struct outpost_conf *conf;
    struct verp_keys *k;
    unsigned long long id;
    int json = 0, i, failed;

    for (i = 1; i < argc; i++) {
	if (strcmp(argv[i], "--json") == 0)
	    json = 1;
	else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
	    from_arg = argv[++i];
	else if (strcmp(argv[i], "--via") == 0 && i + 1 < argc)
	    via = argv[++i];
	else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
	    if (confval_duration(argv[++i], &timeout_ms, &why) < 0) {
		msg_error("--timeout %s: %s", argv[i], why);
		return 2;
	    }
	} else
	    return ctl_usage("test-send", NULL);
    }
    if (from_arg == NULL)
	return ctl_usage("test-send", NULL);
    if (addr_normalize(from_arg, strlen(from_arg), from, sizeof(from), &why) < 0) {
	msg_error("--from %s: %s", from_arg, why);
	return 2;
    }
    conf = ctl_load_conf(path);
    if (conf->intake.bounce_domain == NULL) {
	msg_error("[intake] bounce_domain is not set: the check address lives there");
	conf_free(conf);
	return 2;
    }
    if ((k = verp_keys_load(conf->intake.secret_file, 0, 0, err, sizeof(err))) == NULL) {
	msg_error("%s", err);
	conf_free(conf);
	return 2;
    }
    if (RAND_bytes((unsigned char *) &id, sizeof(id)) != 1)
	msg_fatal("no random bytes for the report id");
    if (verp_return_domain(conf->intake.bounce_domain, addr_domain(from), dom,
			   DOMAIN_MAX) == 0
	|| verp_encode_id(k, VERP_CHECK, verp_day((long long) time(NULL)), id, tok,
			  sizeof(tok) - sizeof(VERP_CHECK_LOCAL)) == 0) {
	msg_error("[intake] bounce_domain is too long for %s", addr_domain(from));
	verp_keys_free(k);
	conf_free(conf);
	return 2;
    }
    verp_keys_free(k);
    snprintf(rcpt, sizeof(rcpt), "%s-%s@%s", VERP_CHECK_LOCAL, tok, dom);
    if (submit(via, from, addr_domain(from), rcpt, id) < 0) {
	conf_free(conf);
	return 3;
    }
    if ((text = wait_report(conf, id, timeout_ms)) == NULL) {
	msg_error("no report for %s within %lld ms: is outpost-milter the bounce domain's "
		  "MX filter, and did the message leave? (the MTA's log: %016llx)", rcpt,
		  timeout_ms, id);
	conf_free(conf);
	return 3;
    }
    failed = print(text, json, from, rcpt, id);
    free(text);
    conf_free(conf);
    return failed ? 1 : 0;
}
