/* test_sockguard - a socket path is taken only from no one */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "sockguard.h"

static char dir[] = "/tmp/test_sockguard.XXXXXX";
static char path[200];

/* listen_on - a unix socket bound (and listening, when live) on path */
static int
listen_on(int live)
{
    struct sockaddr_un sun;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, path);
    assert_int_equal(bind(fd, (struct sockaddr *) &sun, sizeof(sun)), 0);
    if (live)
	assert_int_equal(listen(fd, 5), 0);
    return fd;
}

static void
test_claims(void **state)
{
    char err[600], lockpath[220];
    struct stat st;
    int fd, lock, other;

    (void) state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/s.sock", dir);
    snprintf(lockpath, sizeof(lockpath), "%s.lock", path);

    /* nothing there: claimed, the lock file made */
    lock = sockguard_claim(path, err, sizeof(err));
    assert_true(lock >= 0);
    assert_int_equal(stat(lockpath, &st), 0);

    /* the lock held (by another open file here): refused */
    other = sockguard_claim(path, err, sizeof(err));
    assert_int_equal(other, -1);
    assert_non_null(strstr(err, "another instance listens on"));
    close(lock);

    /* a live server without the lock: refused, its socket kept */
    fd = listen_on(1);
    assert_int_equal(sockguard_claim(path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "another instance listens on"));
    assert_int_equal(stat(path, &st), 0);
    close(fd);

    /* the socket file of a dead server: removed, claimed */
    lock = sockguard_claim(path, err, sizeof(err));
    assert_true(lock >= 0);
    assert_int_equal(stat(path, &st), -1);
    assert_int_equal(errno, ENOENT);
    close(lock);

    /* not a socket: left alone */
    fd = open(path, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(sockguard_claim(path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "is not a socket"));
    assert_int_equal(stat(path, &st), 0);

    unlink(path);
    unlink(lockpath);
    rmdir(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_claims),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
