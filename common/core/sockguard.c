/*
 * sockguard - take a unix socket path without disturbing a running server
 * (see sockguard.h)
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sockguard.h"

static int probe(const char *path, char *err, size_t errlen);
static void lock_owner(int fd, const char *path);

/*
 * lock_owner - as root, give the lock file to the owner of its directory
 * (the daemon's user, as for /run/outpost): the daemon started later as
 * that user (systemd's User=) can still open it.
 */
static void
lock_owner(int fd, const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    struct stat st;

    if (geteuid() != 0 || slash == NULL || (size_t) (slash - path) >= sizeof(dir))
	return;
    memcpy(dir, path, (size_t) (slash - path));
    dir[slash - path] = '\0';
    if (stat(dir[0] ? dir : "/", &st) == 0 && st.st_uid != 0)
	(void) fchown(fd, st.st_uid, st.st_gid);	/* at worst root keeps it */
}

/* probe - 0: nothing listens on path (a stale file is removed); -1: refuse */
static int
probe(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sun;
    struct stat st;
    int fd, rc;

    if (lstat(path, &st) < 0) {
	if (errno == ENOENT)
	    return 0;
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return -1;
    }
    if (!S_ISSOCK(st.st_mode)) {
	snprintf(err, errlen, "%s exists and is not a socket: not removed", path);
	return -1;
    }
    if (strlen(path) >= sizeof(sun.sun_path)) {
	snprintf(err, errlen, "%s: %s", path, strerror(ENAMETOOLONG));
	return -1;
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, path);
    /* non-blocking: a server whose backlog is full answers EAGAIN, not never */
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
	snprintf(err, errlen, "socket: %s", strerror(errno));
	return -1;
    }
    rc = connect(fd, (struct sockaddr *) &sun, sizeof(sun));
    if (rc < 0 && errno == ECONNREFUSED) {
	close(fd);
	if (unlink(path) < 0 && errno != ENOENT) {
	    snprintf(err, errlen, "cannot remove the stale socket %s: %s", path,
		     strerror(errno));
	    return -1;
	}
	return 0;
    }
    if (rc == 0 || errno == EAGAIN || errno == EINPROGRESS)
	snprintf(err, errlen, "another instance listens on %s", path);
    else
	snprintf(err, errlen, "%s: cannot tell whether a server listens there: %s",
		 path, strerror(errno));
    close(fd);
    return -1;
}

/* sockguard_claim - lock path.lock, refuse a live server, remove a stale file */
int
sockguard_claim(const char *path, char *err, size_t errlen)
{
    char lockpath[4096];
    int fd;

    if ((size_t) snprintf(lockpath, sizeof(lockpath), "%s.lock", path) >= sizeof(lockpath)) {
	snprintf(err, errlen, "%s: %s", path, strerror(ENAMETOOLONG));
	return -1;
    }
    /* flock(2) needs no write access: the file stays empty */
    if ((fd = open(lockpath, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
	snprintf(err, errlen, "cannot open %s: %s", lockpath, strerror(errno));
	return -1;
    }
    lock_owner(fd, path);
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
	if (errno == EWOULDBLOCK)
	    snprintf(err, errlen, "another instance listens on %s (it holds %s)",
		     path, lockpath);
	else
	    snprintf(err, errlen, "cannot lock %s: %s", lockpath, strerror(errno));
	close(fd);
	return -1;
    }
    if (probe(path, err, errlen) < 0) {
	close(fd);
	return -1;
    }
    return fd;
}
