/*
 * parser_pool - the processes that read reports for the milter
 * (see parser_pool.h)
 *
 * fork() in a threaded program is followed at once by execve(): the child
 * calls async-signal-safe functions only, and keeps nothing of the
 * milter's memory (keys, secrets) once the parser program runs.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "monotime.h"
#include "msg.h"
#include "parser_pool.h"
#include "report_digest.h"
#include "xalloc.h"

#ifndef OUTPOST_INTAKE_PARSER
#define OUTPOST_INTAKE_PARSER "/usr/libexec/outpost/outpost-intake-parse"
#endif

struct slot {
    pid_t pid;				/* 0: none running */
    int fd;				/* our end of its socket */
    int busy;				/* under lock */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot slots[PARSER_POOL_MAX];
static int nslots;
static const char *program;

extern char **environ;

static int spawn(struct slot *s);
static void reap(struct slot *s, const char *qid, const char *what);
static int send_all(int fd, const void *buf, size_t len, long long deadline);
static int recv_all(int fd, void *buf, size_t len, long long deadline);

/* parser_pool_init - up to size processes; none started yet */
void
parser_pool_init(int size)
{
    const char *env = getenv("OUTPOST_INTAKE_PARSER");

    program = env && *env ? env : OUTPOST_INTAKE_PARSER;
    nslots = size < 1 ? 1 : size > PARSER_POOL_MAX ? PARSER_POOL_MAX : size;
}

/* parser_pool_program - the path of the parser */
const char *
parser_pool_program(void)
{
    const char *env = getenv("OUTPOST_INTAKE_PARSER");

    return program ? program : env && *env ? env : OUTPOST_INTAKE_PARSER;
}

/* parser_pool_check - can the parser be run? */
int
parser_pool_check(char *err, size_t errlen)
{
    const char *p = parser_pool_program();

    if (access(p, X_OK) < 0) {
	snprintf(err, errlen, "cannot run the report parser %s: %s", p, strerror(errno));
	return -1;
    }
    return 0;
}

/* spawn - start the parser of a slot; -1 (logged) on failure */
static int
spawn(struct slot *s)
{
    char *const argv[] = {(char *) "outpost-intake-parse", NULL};
    sigset_t none;
    int sv[2];
    pid_t pid;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
	msg_warn("intake: report parser: socketpair: %s", strerror(errno));
	return -1;
    }
    sigemptyset(&none);
    if ((pid = fork()) < 0) {
	msg_warn("intake: report parser: fork: %s", strerror(errno));
	close(sv[0]);
	close(sv[1]);
	return -1;
    }
    if (pid == 0) {
	/* async-signal-safe calls only, up to execve() */
	pthread_sigmask(SIG_SETMASK, &none, NULL);
	/* descriptor 0 may have been free, and sv[1] that one: then keep it open */
	if (sv[1] == 0 ? fcntl(0, F_SETFD, 0) < 0 : dup2(sv[1], 0) < 0)
	    _exit(127);
	close_range(3, ~0U, 0);
	execve(program, argv, environ);
	_exit(127);
    }
    close(sv[1]);
    if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0)
	msg_warn("intake: report parser: fcntl: %s", strerror(errno));
    s->pid = pid;
    s->fd = sv[0];
    msg_debug("intake: report parser %s started, pid %ld", program, (long) pid);
    return 0;
}

/* reap - end the parser of a slot and say how it ended (what: why we end it) */
static void
reap(struct slot *s, const char *qid, const char *what)
{
    int status;
    char how[64];

    if (s->pid <= 0)
	return;
    kill(s->pid, SIGKILL);
    close(s->fd);
    while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR)
	/* void */ ;
    if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
	snprintf(how, sizeof(how), "killed by signal %d", WTERMSIG(status));
    else if (WIFEXITED(status))
	snprintf(how, sizeof(how), "exit status %d", WEXITSTATUS(status));
    else
	snprintf(how, sizeof(how), "killed");
    if (qid)
	msg_warn("%s: intake: report parser pid %ld: %s (%s)", qid, (long) s->pid, what, how);
    s->pid = 0;
    s->fd = -1;
}

/* wait_fd - poll one descriptor until the deadline; -1 on timeout or error */
static int
wait_fd(int fd, short events, long long deadline)
{
    struct pollfd p = {fd, events, 0};
    long long left;
    int n;

    for (;;) {
	if ((left = deadline - monotime_ms()) <= 0)
	    return -1;
	n = poll(&p, 1, (int) (left > 1000 ? 1000 : left));
	if (n < 0 && errno != EINTR)
	    return -1;
	if (n > 0)
	    return 0;
    }
}

/* send_all - len bytes before the deadline */
static int
send_all(int fd, const void *buf, size_t len, long long deadline)
{
    size_t put = 0;
    ssize_t n;

    while (put < len) {
	n = send(fd, (const char *) buf + put, len - put, MSG_NOSIGNAL);
	if (n > 0)
	    put += (size_t) n;
	else if (n < 0 && errno == EINTR)
	    continue;
	else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
	    if (wait_fd(fd, POLLOUT, deadline) < 0)
		return -1;
	} else
	    return -1;
    }
    return 0;
}

/* recv_all - len bytes before the deadline */
static int
recv_all(int fd, void *buf, size_t len, long long deadline)
{
    size_t got = 0;
    ssize_t n;

    while (got < len) {
	n = recv(fd, (char *) buf + got, len - got, 0);
	if (n > 0)
	    got += (size_t) n;
	else if (n < 0 && errno == EINTR)
	    continue;
	else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
	    if (wait_fd(fd, POLLIN, deadline) < 0)
		return -1;
	} else
	    return -1;			/* end of input: the parser died */
    }
    return 0;
}

/* idle_dead - has an idle parser gone (killed, crashed) since its last report? */
static int
idle_dead(struct slot *s)
{
    struct pollfd p = {s->fd, POLLIN, 0};

    /* an idle parser says nothing: anything readable is its end */
    return poll(&p, 1, 0) != 0;
}

/* exchange - one report out, one digest back; what failed, or NULL */
static const char *
exchange(struct slot *s, const char *msg, size_t len, int flags, struct report_digest *d)
{
    long long deadline = monotime_ms() + PARSER_POOL_TIMEOUT_MS;
    unsigned char hdr[REPORT_DIGEST_REQ_HDR], *ans;
    const char *why;
    uint32_t alen;

    report_digest_put32(hdr, (uint32_t) len);
    hdr[4] = (unsigned char) flags;
    if (send_all(s->fd, hdr, sizeof(hdr), deadline) < 0
	|| send_all(s->fd, msg, len, deadline) < 0)
	return "cannot send the report";
    if (recv_all(s->fd, hdr, 4, deadline) < 0)
	return monotime_ms() >= deadline ? "no answer in time" : "no answer";
    if ((alen = report_digest_get32(hdr)) > REPORT_DIGEST_WIRE_MAX)
	return "answer too long";
    ans = xmalloc(alen ? alen : 1);
    if (recv_all(s->fd, ans, alen, deadline) < 0) {
	free(ans);
	return "answer cut short";
    }
    if (report_digest_decode(ans, alen, d, &why) < 0) {
	free(ans);
	msg_warn("intake: report parser answer: %s", why);
	return "malformed answer";
    }
    free(ans);
    return NULL;
}

/* parser_pool_run - read one report in a parser process (see the header) */
int
parser_pool_run(const char *msg, size_t len, int flags, struct report_digest *d,
		const char *qid)
{
    struct slot *s = NULL;
    const char *what;
    int i;

    memset(d, 0, sizeof(*d));
    if (len > REPORT_DIGEST_REQ_MAX)	/* enough to say "too large" */
	len = REPORT_DIGEST_REQ_MAX;
    pthread_mutex_lock(&lock);
    for (i = 0; i < nslots && s == NULL; i++)
	if (!slots[i].busy)
	    s = &slots[i];
    if (s)
	s->busy = 1;
    pthread_mutex_unlock(&lock);
    if (s == NULL)
	return -2;
    if (s->pid > 0 && idle_dead(s))
	reap(s, qid, "gone while idle");
    if (s->pid <= 0 && spawn(s) < 0) {
	what = "not started";
	goto out;
    }
    msg_debug("%s: intake: report of %zu bytes to parser pid %ld", qid, len, (long) s->pid);
    if ((what = exchange(s, msg, len, flags, d)) != NULL) {
	reap(s, qid, what);
	what = "failed";
    }
out:
    pthread_mutex_lock(&lock);
    s->busy = 0;
    pthread_mutex_unlock(&lock);
    return what ? -1 : 0;
}

/* parser_pool_shutdown - end every parser */
void
parser_pool_shutdown(void)
{
    int i;

    pthread_mutex_lock(&lock);
    for (i = 0; i < nslots; i++)
	if (!slots[i].busy)
	    reap(&slots[i], NULL, "");
    pthread_mutex_unlock(&lock);
}
