/*
 * test_submit - the SMTP client of POST /v1/messages against a scripted
 * server on a unix socket: XCLIENT LOGIN once per connection and tenant,
 * pipelined or not, the queue id, refusals with their codes, dot-stuffing,
 * a connection the server closed replaced, a server without XCLIENT
 */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "submit.h"

/* the scripted server */
struct fake {
    int lfd;
    char path[108];
    int pipelining, xclient, close_after_data;
    pthread_t thread;
    /* what it saw */
    int connections, xclients;
    char login[64];
    char data[8192];
    size_t data_len;
};

static struct fake fk;

/* say - write a reply */
static void
say(int fd, const char *s)
{
    /* the client may have gone: no SIGPIPE */
    if (send(fd, s, strlen(s), MSG_NOSIGNAL) < 0)
	return;
}

/* getline_fd - one line without CRLF; -1 on EOF */
static int
getline_fd(int fd, char *buf, size_t size)
{
    size_t n = 0;
    char c;

    while (read(fd, &c, 1) == 1) {
	if (c == '\n') {
	    if (n > 0 && buf[n - 1] == '\r')
		n--;
	    buf[n] = '\0';
	    return 0;
	}
	if (n + 1 < size)
	    buf[n++] = c;
    }
    return -1;
}

/* session - one SMTP session */
static void
session(int fd)
{
    char line[1024];
    int rcpts = 0;

    say(fd, "220 fake ESMTP\r\n");
    while (getline_fd(fd, line, sizeof(line)) == 0) {
	if (strncmp(line, "EHLO", 4) == 0) {
	    say(fd, "250-fake\r\n250-SIZE 10240000\r\n");
	    if (fk.pipelining)
		say(fd, "250-PIPELINING\r\n");
	    say(fd, fk.xclient ? "250 XCLIENT NAME ADDR PROTO HELO LOGIN\r\n" : "250 8BITMIME\r\n");
	} else if (strncmp(line, "XCLIENT LOGIN=", 14) == 0) {
	    fk.xclients++;
	    snprintf(fk.login, sizeof(fk.login), "%.63s", line + 14);
	    say(fd, "220 fake ESMTP\r\n");
	} else if (strncmp(line, "MAIL FROM:", 10) == 0) {
	    rcpts = 0;
	    say(fd, "250 2.1.0 Ok\r\n");
	} else if (strncmp(line, "RCPT TO:<bad", 12) == 0) {
	    say(fd, "550-5.1.1 <bad@x.test>: Recipient address rejected:\r\n"
		"550 5.1.1 user unknown\r\n");
	} else if (strncmp(line, "RCPT TO:<slow", 13) == 0) {
	    say(fd, "450 4.7.1 <slow@x.test>: Recipient address rejected: rate limit of sender shop; retry in 9 s\r\n");
	} else if (strncmp(line, "RCPT TO:", 8) == 0) {
	    rcpts++;
	    say(fd, "250 2.1.5 Ok\r\n");
	} else if (strcmp(line, "DATA") == 0) {
	    if (rcpts == 0) {
		say(fd, "554 5.5.1 Error: no valid recipients\r\n");
		continue;
	    }
	    say(fd, "354 go ahead\r\n");
	    fk.data_len = 0;
	    while (getline_fd(fd, line, sizeof(line)) == 0 && strcmp(line, ".") != 0) {
		const char *p = line[0] == '.' ? line + 1 : line;	/* unstuff */
		size_t n = strlen(p);

		if (fk.data_len + n + 2 < sizeof(fk.data)) {
		    memcpy(fk.data + fk.data_len, p, n);
		    memcpy(fk.data + fk.data_len + n, "\r\n", 2);
		    fk.data_len += n + 2;
		}
	    }
	    fk.data[fk.data_len] = '\0';
	    say(fd, "250 2.0.0 Ok: queued as 4XyZ12AB\r\n");
	    if (fk.close_after_data)
		return;			/* as an idle timeout would */
	} else if (strcmp(line, "RSET") == 0) {
	    say(fd, "250 2.0.0 Ok\r\n");
	} else if (strcmp(line, "QUIT") == 0) {
	    say(fd, "221 2.0.0 Bye\r\n");
	    return;
	} else
	    say(fd, "502 5.5.2 Error: command not recognized\r\n");
    }
}

/* serve - one connection after the other */
static void *
serve(void *arg)
{
    int fd;

    (void) arg;
    while ((fd = accept(fk.lfd, NULL, NULL)) >= 0) {
	fk.connections++;
	session(fd);
	close(fd);
    }
    return NULL;
}

/* fake_start - the server with these options */
static void
fake_start(int pipelining, int xclient, int close_after_data)
{
    struct sockaddr_un sun;

    memset(&fk, 0, sizeof(fk));
    fk.pipelining = pipelining;
    fk.xclient = xclient;
    fk.close_after_data = close_after_data;
    snprintf(fk.path, sizeof(fk.path), "/tmp/test_submit.%ld.sock", (long) getpid());
    unlink(fk.path);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, fk.path);
    assert_true((fk.lfd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
    assert_int_equal(bind(fk.lfd, (struct sockaddr *) &sun, sizeof(sun)), 0);
    assert_int_equal(listen(fk.lfd, 8), 0);
    assert_int_equal(pthread_create(&fk.thread, NULL, serve, NULL), 0);
}

/* fake_stop - after the client has gone */
static void
fake_stop(void)
{
    shutdown(fk.lfd, SHUT_RDWR);
    close(fk.lfd);
    pthread_join(fk.thread, NULL);
    unlink(fk.path);
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int finished;

/* done - a job is answered */
static void
done(struct submit_job *job)
{
    (void) job;
    pthread_mutex_lock(&lock);
    finished++;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
}

/* run - one job through s, waited for */
static void
run(struct submit *s, struct submit_job *job, const char *login, const char *rcpt)
{
    static const char head[] = "To: x@x.test\r\n";
    static const char body[] = "Subject: t\r\n\r\n.one\r\ntwo\r\n..three\r\n";
    int want;

    memset(job, 0, sizeof(*job));
    job->login = login;
    job->sender = "news@shop.test";
    job->rcpt = rcpt;
    job->head = head;
    job->head_len = sizeof(head) - 1;
    job->body = body;
    job->body_len = sizeof(body) - 1;
    job->done = done;
    pthread_mutex_lock(&lock);
    want = finished + 1;
    pthread_mutex_unlock(&lock);
    assert_int_equal(submit_queue(s, job), 0);
    pthread_mutex_lock(&lock);
    while (finished < want)
	pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
}

/* session_script - the same jobs, pipelined or not */
static void
session_script(int pipelining)
{
    char addr[128];
    struct submit *s;
    struct submit_job job;

    fake_start(pipelining, 1, 0);
    snprintf(addr, sizeof(addr), "unix:%s", fk.path);
    s = submit_start(addr, 1, 5000, 10);

    run(s, &job, "shop", "alice@x.test");
    assert_int_equal(job.result, SUBMIT_QUEUED);
    assert_string_equal(job.queue_id, "4XyZ12AB");
    assert_string_equal(fk.login, "shop");
    /* dot-stuffed on the wire, the same bytes after the server unstuffed */
    assert_string_equal(fk.data, "To: x@x.test\r\nSubject: t\r\n\r\n.one\r\ntwo\r\n..three\r\n");

    run(s, &job, "shop", "bad@x.test");
    assert_int_equal(job.result, SUBMIT_REFUSED);
    assert_string_equal(job.code, "550");
    assert_string_equal(job.xcode, "5.1.1");
    assert_non_null(strstr(job.text, "user unknown"));

    run(s, &job, "shop", "slow@x.test");
    assert_int_equal(job.result, SUBMIT_TEMPFAIL);
    assert_string_equal(job.xcode, "4.7.1");
    assert_non_null(strstr(job.text, "rate limit of sender shop"));

    /* the same connection, the same login: XCLIENT said once */
    run(s, &job, "shop", "bob@x.test");
    assert_int_equal(job.result, SUBMIT_QUEUED);
    assert_int_equal(fk.xclients, 1);
    /* another tenant on the same connection: said again */
    run(s, &job, "promo+1", "bob@x.test");
    assert_int_equal(job.result, SUBMIT_QUEUED);
    assert_int_equal(fk.xclients, 2);
    assert_string_equal(fk.login, "promo+2B1");
    assert_int_equal(fk.connections, 1);
    submit_stop(s);
    fake_stop();
}

static void
test_pipelined(void **state)
{
    (void) state;
    session_script(1);
}

static void
test_lockstep(void **state)
{
    (void) state;
    session_script(0);
}

static void
test_reconnect(void **state)
{
    char addr[128];
    struct submit *s;
    struct submit_job job;
    int i;

    (void) state;
    fake_start(1, 1, 1);
    snprintf(addr, sizeof(addr), "unix:%s", fk.path);
    s = submit_start(addr, 1, 5000, 10);
    for (i = 0; i < 3; i++) {
	run(s, &job, "shop", "alice@x.test");
	assert_int_equal(job.result, SUBMIT_QUEUED);
    }
    /* the server closes after each message: a new connection each time */
    assert_int_equal(fk.connections, 3);
    submit_stop(s);
    fake_stop();
}

static void
test_no_xclient(void **state)
{
    char addr[128];
    struct submit *s;
    struct submit_job job;

    (void) state;
    fake_start(1, 0, 0);
    snprintf(addr, sizeof(addr), "unix:%s", fk.path);
    s = submit_start(addr, 1, 5000, 10);
    run(s, &job, "shop", "alice@x.test");
    assert_int_equal(job.result, SUBMIT_TEMPFAIL);
    assert_string_equal(fk.data, "");	/* nothing sent without the login */
    submit_stop(s);
    fake_stop();

    /* nobody listening */
    s = submit_start(addr, 1, 5000, 10);
    run(s, &job, "shop", "alice@x.test");
    assert_int_equal(job.result, SUBMIT_TEMPFAIL);
    assert_non_null(strstr(job.text, "unavailable"));
    submit_stop(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_pipelined),
	cmocka_unit_test(test_lockstep),
	cmocka_unit_test(test_reconnect),
	cmocka_unit_test(test_no_xclient),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
