/*
 * submit - hand messages to the local MTA over SMTP, as a tenant (see submit.h)
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "msg.h"
#include "submit.h"
#include "xalloc.h"

#define REPLY_LINE_MAX 1024		/* a longer reply line is cut */
#define REPLY_LINES_MAX 100		/* a longer reply is an error */
#define OUT_MAX 65536			/* written in blocks of this */

/* One connection, owned by one thread */
struct conn {
    int fd;				/* -1: none */
    long long timeout_ms;
    char login[256];			/* the XCLIENT LOGIN said; "": none */
    int pipelining, xclient;
    char in[8192];			/* what the server said, not yet read */
    size_t in_pos, in_len;
    char out[OUT_MAX];			/* what we say, not yet sent */
    size_t out_len;
};

struct reply {
    int code;				/* 0: no answer (an I/O error) */
    char xcode[16];
    char text[2048];			/* EHLO's lines must fit */
};

struct submit {
    char *address;
    long long timeout_ms;
    long queue_max, queued;
    int stopping;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct submit_job *head, *tail;
    pthread_t *threads;
    long nthreads;
};

static int conn_open(struct conn *, const char *);
static void conn_close(struct conn *);
static int conn_flush(struct conn *);
static void conn_put(struct conn *, const char *, size_t);
static void conn_puts(struct conn *, const char *);
static int conn_getc(struct conn *);
static void conn_reply(struct conn *, struct reply *);
static int conn_greet(struct conn *, int);
static int conn_login(struct conn *, const char *);
static int conn_stale(struct conn *);
static int transact(struct conn *, struct submit_job *, int *);
static void *worker(void *);

/* conn_connect - a socket to "inet:HOST:PORT" or "unix:PATH" */
static int
conn_connect(const char *address)
{
    struct addrinfo hints, *res, *ai;
    char host[256];
    const char *port;
    int fd = -1;

    if (strncmp(address, "unix:", 5) == 0) {
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(address + 5) >= sizeof(sun.sun_path))
	    return -1;
	strcpy(sun.sun_path, address + 5);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
	    return -1;
	if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
	    close(fd);
	    return -1;
	}
	return fd;
    }
    if (strncmp(address, "inet:", 5) == 0)
	address += 5;
    if ((port = strrchr(address, ':')) == NULL || (size_t) (port - address) >= sizeof(host))
	return -1;
    memcpy(host, address, (size_t) (port - address));
    host[port - address] = '\0';
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
	memmove(host, host + 1, strlen(host));
	host[strlen(host) - 1] = '\0';
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    if (getaddrinfo(host, port + 1, &hints, &res) != 0)
	return -1;
    for (ai = res; ai; ai = ai->ai_next) {
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
	    continue;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
	    break;
	close(fd);
	fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* conn_open - connect, read the greeting, EHLO */
static int
conn_open(struct conn *c, const char *address)
{
    struct reply r;

    conn_close(c);
    if ((c->fd = conn_connect(address)) < 0)
	return -1;
    conn_reply(c, &r);
    if (r.code != 220 || conn_greet(c, 0) < 0) {
	conn_close(c);
	return -1;
    }
    return 0;
}

/* conn_close - drop the connection (no QUIT: it may be broken) */
static void
conn_close(struct conn *c)
{
    if (c->fd >= 0)
	close(c->fd);
    c->fd = -1;
    c->login[0] = '\0';
    c->in_pos = c->in_len = c->out_len = 0;
    c->pipelining = c->xclient = 0;
}

/* wait_fd - poll one event within the timeout */
static int
wait_fd(struct conn *c, short ev)
{
    struct pollfd p = {c->fd, ev, 0};
    int n;

    do
	n = poll(&p, 1, (int) c->timeout_ms);
    while (n < 0 && errno == EINTR);
    return n == 1 ? 0 : -1;
}

/* conn_flush - send what is buffered */
static int
conn_flush(struct conn *c)
{
    size_t off = 0;
    ssize_t n;

    while (off < c->out_len) {
	if (wait_fd(c, POLLOUT) < 0)
	    return -1;
	n = send(c->fd, c->out + off, c->out_len - off, MSG_NOSIGNAL);
	if (n < 0 && errno == EINTR)
	    continue;
	if (n <= 0)
	    return -1;
	off += (size_t) n;
    }
    c->out_len = 0;
    return 0;
}

/* conn_put - buffer bytes (a full buffer is sent; errors show at the flush) */
static void
conn_put(struct conn *c, const char *s, size_t len)
{
    size_t n;

    while (len > 0) {
	if (c->out_len == sizeof(c->out) && conn_flush(c) < 0) {
	    c->out_len = 0;		/* the next flush fails again */
	    if (c->fd >= 0)
		shutdown(c->fd, SHUT_RDWR);
	    return;
	}
	n = sizeof(c->out) - c->out_len;
	if (n > len)
	    n = len;
	memcpy(c->out + c->out_len, s, n);
	c->out_len += n;
	s += n;
	len -= n;
    }
}

/* conn_puts - buffer a string */
static void
conn_puts(struct conn *c, const char *s)
{
    conn_put(c, s, strlen(s));
}

/* conn_getc - one byte from the server; -1 on EOF, error or timeout */
static int
conn_getc(struct conn *c)
{
    ssize_t n;

    if (c->in_pos == c->in_len) {
	if (c->fd < 0 || wait_fd(c, POLLIN) < 0)
	    return -1;
	do
	    n = recv(c->fd, c->in, sizeof(c->in), 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
	    return -1;
	c->in_pos = 0;
	c->in_len = (size_t) n;
    }
    return (unsigned char) c->in[c->in_pos++];
}

/* reply_line - one line of a reply; 1: more follow, 0: the last, -1: error */
static int
reply_line(struct conn *c, char *line, size_t size)
{
    size_t n = 0;
    int ch;

    while ((ch = conn_getc(c)) >= 0 && ch != '\n')
	if (n + 1 < size && ch != '\r')
	    line[n++] = (char) ch;
    line[n] = '\0';
    if (ch < 0 || n < 3 || line[0] < '2' || line[0] > '5'
	|| (line[3] != '\0' && line[3] != ' ' && line[3] != '-'))
	return -1;
    return line[3] == '-';
}

/* conn_reply - read a whole reply: code, enhanced code and text of its
 * lines (the text of EHLO lines is kept for conn_greet) */
static void
conn_reply(struct conn *c, struct reply *r)
{
    char line[REPLY_LINE_MAX];
    size_t tl = 0, k;
    int more, lines = 0;
    const char *t;

    memset(r, 0, sizeof(*r));
    do {
	if ((more = reply_line(c, line, sizeof(line))) < 0 || ++lines > REPLY_LINES_MAX) {
	    memset(r, 0, sizeof(*r));
	    snprintf(r->text, sizeof(r->text), "no valid answer from the submission service");
	    conn_close(c);
	    return;
	}
	r->code = atoi(line);
	t = line[3] ? line + 4 : line + 3;
	/* "5.7.1 " after the code: the enhanced status code */
	k = strspn(t, "0123456789.");
	if (r->xcode[0] == '\0' && k >= 5 && k < sizeof(r->xcode) && t[k] == ' '
	    && t[0] == line[0] && t[1] == '.') {
	    memcpy(r->xcode, t, k);
	    r->xcode[k] = '\0';
	}
	if (r->xcode[0] && strncmp(t, r->xcode, strlen(r->xcode)) == 0)
	    t += strlen(r->xcode) + 1;
	if (tl > 0 && tl + 1 < sizeof(r->text))
	    r->text[tl++] = '\n';
	tl += (size_t) snprintf(r->text + tl, sizeof(r->text) - tl, "%s", t);
	if (tl >= sizeof(r->text))
	    tl = sizeof(r->text) - 1;
    } while (more);
}

/* conn_greet - EHLO; note PIPELINING and XCLIENT */
static int
conn_greet(struct conn *c, int again)
{
    struct reply r;
    char *p, *line;

    (void) again;
    conn_puts(c, "EHLO outpost-httpd\r\n");
    if (conn_flush(c) < 0)
	return -1;
    conn_reply(c, &r);
    if (r.code != 250)
	return -1;
    c->pipelining = c->xclient = 0;
    for (line = r.text; line; line = p ? p + 1 : NULL) {
	size_t len;

	p = strchr(line, '\n');
	len = p ? (size_t) (p - line) : strlen(line);
	if (len == 10 && strncasecmp(line, "PIPELINING", 10) == 0)
	    c->pipelining = 1;
	if (len > 8 && strncasecmp(line, "XCLIENT ", 8) == 0
	    && memmem(line, len, " LOGIN", 6) != NULL)
	    c->xclient = 1;
    }
    return 0;
}

/* conn_login - XCLIENT LOGIN=login, unless this connection said it */
static int
conn_login(struct conn *c, const char *login)
{
    static const char hex[] = "0123456789ABCDEF";
    struct reply r;
    char x[3 * sizeof(c->login) + 1];
    size_t i, n = 0;

    if (strcmp(c->login, login) == 0)
	return 0;
    if (!c->xclient || strlen(login) >= sizeof(c->login))
	return -1;
    /* xtext (RFC 3461): what is not plain ASCII, '+' and '=' as +HH */
    for (i = 0; login[i]; i++) {
	unsigned char ch = (unsigned char) login[i];

	if (ch < 33 || ch > 126 || ch == '+' || ch == '=') {
	    x[n++] = '+';
	    x[n++] = hex[ch >> 4];
	    x[n++] = hex[ch & 15];
	} else
	    x[n++] = (char) ch;
    }
    x[n] = '\0';
    conn_puts(c, "XCLIENT LOGIN=");
    conn_puts(c, x);
    conn_puts(c, "\r\n");
    if (conn_flush(c) < 0)
	return -1;
    /* the server starts over: a greeting, then EHLO again */
    conn_reply(c, &r);
    if (r.code != 220 || conn_greet(c, 1) < 0)
	return -1;
    snprintf(c->login, sizeof(c->login), "%s", login);
    return 0;
}

/* conn_stale - the server closed an idle connection (or said 421) */
static int
conn_stale(struct conn *c)
{
    struct pollfd p = {c->fd, POLLIN, 0};

    return c->fd < 0 || poll(&p, 1, 0) != 0;
}

/* job_set - the job's result from a reply */
static void
job_set(struct submit_job *job, const struct reply *r)
{
    if (r->code == 0) {
	job->result = SUBMIT_TEMPFAIL;
	job->code[0] = '\0';
    } else {
	int code = r->code < 200 || r->code > 599 ? 599 : r->code;

	job->result = r->code >= 500 ? SUBMIT_REFUSED : r->code >= 400 ? SUBMIT_TEMPFAIL
	    : SUBMIT_QUEUED;
	job->code[0] = (char) ('0' + code / 100);
	job->code[1] = (char) ('0' + code / 10 % 10);
	job->code[2] = (char) ('0' + code % 10);
	job->code[3] = '\0';
    }
    snprintf(job->xcode, sizeof(job->xcode), "%s", r->xcode);
    snprintf(job->text, sizeof(job->text), "%.*s", (int) sizeof(job->text) - 1, r->text);
}

/* put_data - the message, dot-stuffed, and the final dot */
static void
put_data(struct conn *c, const char *s, size_t len, int *bol)
{
    size_t i, start = 0;

    for (i = 0; i < len; i++) {
	if (*bol && s[i] == '.') {
	    conn_put(c, s + start, i - start);
	    conn_put(c, ".", 1);
	    start = i;
	}
	*bol = s[i] == '\n';
    }
    conn_put(c, s + start, len - start);
}

/* transact - one message on an open connection; 0 done (whatever the
 * answer), -1 the connection failed (*sent: the message may be queued) */
static int
transact(struct conn *c, struct submit_job *job, int *sent)
{
    struct reply mail = {0}, rcpt = {0}, data = {0}, end = {0};
    int bol = 1;

    *sent = 0;
    conn_puts(c, "MAIL FROM:<");
    conn_puts(c, job->sender);
    conn_puts(c, ">\r\n");
    if (!c->pipelining) {
	if (conn_flush(c) < 0)
	    return -1;
	conn_reply(c, &mail);
	if (mail.code == 0)
	    return -1;
	if (mail.code != 250)
	    goto refused;
    }
    conn_puts(c, "RCPT TO:<");
    conn_puts(c, job->rcpt);
    conn_puts(c, ">\r\n");
    if (!c->pipelining) {
	if (conn_flush(c) < 0)
	    return -1;
	conn_reply(c, &rcpt);
	if (rcpt.code == 0)
	    return -1;
	if (rcpt.code != 250) {
	    mail = rcpt;
	    goto refused;
	}
    }
    conn_puts(c, "DATA\r\n");
    if (conn_flush(c) < 0)
	return -1;
    if (c->pipelining) {
	conn_reply(c, &mail);
	conn_reply(c, &rcpt);
    }
    conn_reply(c, &data);
    if (data.code == 0)
	return -1;
    if (c->pipelining && (mail.code != 250 || rcpt.code != 250)) {
	if (mail.code == 250)
	    mail = rcpt;
	goto refused;
    }
    if (data.code != 354) {
	mail = data;
	goto refused;
    }
    *sent = 1;
    put_data(c, job->head, job->head_len, &bol);
    put_data(c, job->body, job->body_len, &bol);
    conn_puts(c, bol ? ".\r\n" : "\r\n.\r\n");
    if (conn_flush(c) < 0)
	return -1;
    conn_reply(c, &end);
    if (end.code == 0)
	return -1;
    job_set(job, &end);
    if (end.code == 250) {
	const char *q = strstr(end.text, "queued as ");

	if (q) {
	    q += 10;
	    snprintf(job->queue_id, sizeof(job->queue_id), "%.*s",
		     (int) strspn(q, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),
		     q);
	}
    }
    return 0;

refused:
    job_set(job, &mail);
    if (job->result == SUBMIT_QUEUED)	/* a 2xx or 3xx in the wrong place */
	job->result = SUBMIT_TEMPFAIL;
    conn_puts(c, "RSET\r\n");
    if (conn_flush(c) < 0)
	conn_close(c);
    else {
	struct reply r;

	conn_reply(c, &r);
	if (r.code != 250)
	    conn_close(c);
    }
    return 0;
}

/* run_job - one job, on this thread's connection */
static void
run_job(struct submit *s, struct conn *c, struct submit_job *job)
{
    int try, sent = 0, reused;

    for (try = 0; try < 2; try++) {
	reused = c->fd >= 0 && !conn_stale(c);
	if (!reused && conn_open(c, s->address) < 0) {
	    msg_warn("submit: cannot talk to %s", s->address);
	    break;
	}
	if (conn_login(c, job->login) < 0) {
	    msg_warn("submit: %s does not take XCLIENT LOGIN from us "
		     "(smtpd_authorized_xclient_hosts)", s->address);
	    conn_close(c);
	    break;
	}
	if (transact(c, job, &sent) == 0)
	    return;
	conn_close(c);
	/* only a connection that had served before may have gone stale */
	if (sent || !reused)
	    break;
    }
    job->result = SUBMIT_TEMPFAIL;
    job->code[0] = job->xcode[0] = '\0';
    snprintf(job->text, sizeof(job->text), "%s", sent
	     ? "the submission service did not confirm the message"
	     : "the submission service is unavailable");
}

/* worker - take jobs until stopped */
static void *
worker(void *arg)
{
    struct submit *s = arg;
    struct submit_job *job;
    struct conn *c = xcalloc(1, sizeof(*c));

    c->fd = -1;
    c->timeout_ms = s->timeout_ms;
    for (;;) {
	pthread_mutex_lock(&s->lock);
	while (s->head == NULL && !s->stopping)
	    pthread_cond_wait(&s->cond, &s->lock);
	if ((job = s->head) == NULL) {
	    pthread_mutex_unlock(&s->lock);
	    break;
	}
	if ((s->head = job->next) == NULL)
	    s->tail = NULL;
	s->queued--;
	pthread_mutex_unlock(&s->lock);
	run_job(s, c, job);
	job->done(job);
    }
    if (c->fd >= 0) {
	conn_puts(c, "QUIT\r\n");
	(void) conn_flush(c);
    }
    conn_close(c);
    free(c);
    return NULL;
}

/* submit_start - the submission threads */
struct submit *
submit_start(const char *address, long connections, long long timeout_ms, long queue_max)
{
    struct submit *s = xcalloc(1, sizeof(*s));
    long i;
    int err;

    s->address = xstrdup(address);
    s->timeout_ms = timeout_ms;
    s->queue_max = queue_max;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    s->threads = xcalloc((size_t) connections, sizeof(*s->threads));
    for (i = 0; i < connections; i++) {
	if ((err = pthread_create(&s->threads[i], NULL, worker, s)) != 0)
	    msg_fatal("submit: pthread_create: %s", strerror(err));
	s->nthreads++;
    }
    return s;
}

/* submit_queue - hand a job to the threads */
int
submit_queue(struct submit *s, struct submit_job *job)
{
    pthread_mutex_lock(&s->lock);
    if (s->stopping || s->queued >= s->queue_max) {
	pthread_mutex_unlock(&s->lock);
	return -1;
    }
    job->result = SUBMIT_PENDING;
    job->queue_id[0] = job->code[0] = job->xcode[0] = job->text[0] = '\0';
    job->next = NULL;
    if (s->tail)
	s->tail->next = job;
    else
	s->head = job;
    s->tail = job;
    s->queued++;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

/* submit_stop - fail what waits, join the threads */
void
submit_stop(struct submit *s)
{
    struct submit_job *job, *next;
    long i;

    pthread_mutex_lock(&s->lock);
    s->stopping = 1;
    job = s->head;
    s->head = s->tail = NULL;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    for (; job; job = next) {
	next = job->next;
	job->result = SUBMIT_TEMPFAIL;
	snprintf(job->text, sizeof(job->text), "%s", "outpost-httpd is stopping");
	job->done(job);
    }
    for (i = 0; i < s->nthreads; i++)
	pthread_join(s->threads[i], NULL);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s->threads);
    free(s->address);
    free(s);
}
