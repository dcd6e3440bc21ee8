/*
 * policy_client - persistent connections to outpost-policyd (see policy_client.h)
 *
 * Blocking I/O with poll() against one deadline per request: the milter's
 * threads are blocking anyway, and a request is one short write and one
 * short read.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "monotime.h"
#include "policy_client.h"
#include "xalloc.h"

struct policy_client {
    struct sockaddr_un sun;
    long long timeout_ms;
    pthread_mutex_t lock;
    int idle[POLICY_CLIENT_IDLE];	/* open connections nobody uses */
    int nidle;
};

/* io_status - how one exchange ended */
enum { IO_OK, IO_FAIL, IO_STALE };

/* policy_client_new - a pool for service, see the header */
struct policy_client *
policy_client_new(const char *service, long long timeout_ms, char *err, size_t errlen)
{
    struct policy_client *pc;
    const char *path;

    if (strncmp(service, "unix:", 5) != 0) {
	snprintf(err, errlen, "policy service %s: only unix:/path is supported", service);
	return NULL;
    }
    path = service + 5;
    if (*path != '/' || strlen(path) >= sizeof(pc->sun.sun_path)) {
	snprintf(err, errlen, "policy service %s: not an absolute path that fits a "
		 "socket address", service);
	return NULL;
    }
    pc = xcalloc(1, sizeof(*pc));
    pc->sun.sun_family = AF_UNIX;
    memcpy(pc->sun.sun_path, path, strlen(path) + 1);
    pc->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
    pthread_mutex_init(&pc->lock, NULL);
    return pc;
}

/* policy_client_free - close the idle connections */
void
policy_client_free(struct policy_client *pc)
{
    if (pc == NULL)
	return;
    while (pc->nidle > 0)
	close(pc->idle[--pc->nidle]);
    pthread_mutex_destroy(&pc->lock);
    free(pc);
}

/* pool_take - an idle connection, or -1 */
static int
pool_take(struct policy_client *pc)
{
    int fd = -1;

    pthread_mutex_lock(&pc->lock);
    if (pc->nidle > 0)
	fd = pc->idle[--pc->nidle];
    pthread_mutex_unlock(&pc->lock);
    return fd;
}

/* pool_give - keep a healthy connection, unless enough are idle */
static void
pool_give(struct policy_client *pc, int fd)
{
    pthread_mutex_lock(&pc->lock);
    if (pc->nidle < POLICY_CLIENT_IDLE) {
	pc->idle[pc->nidle++] = fd;
	fd = -1;
    }
    pthread_mutex_unlock(&pc->lock);
    if (fd >= 0)
	close(fd);
}

/* wait_fd - poll for events until the deadline; 0 ready, -1 timeout or error */
static int
wait_fd(int fd, short events, long long deadline, char *err, size_t errlen)
{
    struct pollfd pfd;
    long long left;
    int n;

    for (;;) {
	if ((left = deadline - monotime_ms()) <= 0) {
	    snprintf(err, errlen, "timed out");
	    return -1;
	}
	pfd.fd = fd;
	pfd.events = events;
	pfd.revents = 0;
	n = poll(&pfd, 1, left > 60000 ? 60000 : (int) left);
	if (n > 0)
	    return 0;
	if (n < 0 && errno != EINTR) {
	    snprintf(err, errlen, "poll: %s", strerror(errno));
	    return -1;
	}
    }
}

/* conn_open - a new connection, or -1 */
static int
conn_open(struct policy_client *pc, long long deadline, char *err, size_t errlen)
{
    int fd, soerr = 0;
    socklen_t slen = sizeof(soerr);

    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
	snprintf(err, errlen, "socket: %s", strerror(errno));
	return -1;
    }
    if (connect(fd, (struct sockaddr *) &pc->sun, sizeof(pc->sun)) == 0)
	return fd;
    if (errno == EINPROGRESS || errno == EAGAIN) {
	/* a unix socket whose backlog is full: wait for room, as long as allowed */
	if (wait_fd(fd, POLLOUT, deadline, err, errlen) == 0
	    && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) == 0 && soerr == 0)
	    return fd;
	if (soerr)
	    snprintf(err, errlen, "connect %s: %s", pc->sun.sun_path, strerror(soerr));
    } else {
	snprintf(err, errlen, "connect %s: %s", pc->sun.sun_path, strerror(errno));
    }
    close(fd);
    return -1;
}

/* exchange - write the request, read one answer into buf */
static int
exchange(int fd, const char *req, size_t reqlen, char *buf, size_t size,
	 size_t *alen, long long deadline, char *err, size_t errlen)
{
    size_t off = 0, got = 0;
    ssize_t n;

    while (off < reqlen) {
	n = send(fd, req + off, reqlen - off, MSG_NOSIGNAL);
	if (n > 0) {
	    off += (size_t) n;
	} else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
	    if (wait_fd(fd, POLLOUT, deadline, err, errlen) < 0)
		return IO_FAIL;
	} else {
	    snprintf(err, errlen, "write: %s", strerror(errno));
	    return (errno == EPIPE || errno == ECONNRESET) ? IO_STALE : IO_FAIL;
	}
    }
    for (;;) {
	if ((*alen = policy_answer_end(buf, got)) > 0)
	    return got == *alen ? IO_OK : (snprintf(err, errlen,
		"the server sent more than one answer"), IO_FAIL);
	if (got >= size) {
	    snprintf(err, errlen, "answer longer than %zu bytes", size);
	    return IO_FAIL;
	}
	n = recv(fd, buf + got, size - got, 0);
	if (n > 0) {
	    got += (size_t) n;
	} else if (n == 0) {
	    snprintf(err, errlen, "the server closed the connection");
	    return got == 0 ? IO_STALE : IO_FAIL;
	} else if (errno == EAGAIN || errno == EINTR) {
	    if (wait_fd(fd, POLLIN, deadline, err, errlen) < 0)
		return IO_FAIL;
	} else {
	    snprintf(err, errlen, "read: %s", strerror(errno));
	    return (errno == ECONNRESET && got == 0) ? IO_STALE : IO_FAIL;
	}
    }
}

/* policy_client_ask - one request, one answer; see the header */
int
policy_client_ask(struct policy_client *pc, const struct policy_query *q,
		  struct policy_verdict *v, char *err, size_t errlen)
{
    char req[4096], ans[POLICY_ANSWER_MAX];
    size_t reqlen, alen = 0;
    long long deadline = monotime_ms() + pc->timeout_ms;
    const char *why;
    int fd, pooled, rc;

    if ((reqlen = policy_request_format(q, req, sizeof(req))) == 0) {
	snprintf(err, errlen, "request longer than %zu bytes", sizeof(req));
	return -1;
    }
    for (;;) {
	pooled = (fd = pool_take(pc)) >= 0;
	if (!pooled && (fd = conn_open(pc, deadline, err, errlen)) < 0)
	    return -1;
	rc = exchange(fd, req, reqlen, ans, sizeof(ans), &alen, deadline, err, errlen);
	if (rc == IO_OK)
	    break;
	close(fd);
	if (rc != IO_STALE || !pooled)
	    return -1;
	/* closed while idle (server restart, idle timeout): a new one, at once */
    }
    if (policy_answer_parse(ans, alen, v, &why) < 0) {
	close(fd);
	snprintf(err, errlen, "bad answer: %s", why);
	return -1;
    }
    pool_give(pc, fd);
    return 0;
}
