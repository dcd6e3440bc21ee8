/* test_follow - reading a log across rotations: the position handed out */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "follow.h"

struct seen {
    int n;
    char last[64];
};

/* on_line - count the lines handed out */
static void
on_line(const char *line, size_t len, void *arg)
{
    struct seen *s = arg;

    s->n++;
    snprintf(s->last, sizeof(s->last), "%.*s", (int) len, line);
}

/* put - write a file */
static void
put(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* ino_of - a file's inode */
static unsigned long long
ino_of(const char *path)
{
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    return (unsigned long long) st.st_ino;
}

/*
 * a new file that exists but cannot be opened yet (here a socket: open()
 * fails even for root): the position stays at the end of the old file,
 * not the one saved at start, and nothing is read twice
 */
static void
test_rotation_unopenable(void **state)
{
    char dir[] = "/tmp/test_follow.XXXXXX", path[96], old[96];
    struct sockaddr_un sun;
    struct follow *f;
    struct seen s = {0};
    unsigned long long ino, oldino;
    long long off;
    int fd;

    (void) state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/maillog", dir);
    snprintf(old, sizeof(old), "%s/maillog.1", dir);
    put(path, "one\ntwo\nthree\n");
    oldino = ino_of(path);
    /* resumed after "one" */
    f = follow_new(path, oldino, 4, 0);
    assert_int_equal(follow_poll(f, 100, on_line, &s), 2);
    assert_string_equal(s.last, "three");
    /* rotated: the new name is there but cannot be opened */
    assert_int_equal(rename(path, old), 0);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    assert_int_equal(bind(fd, (struct sockaddr *) &sun, sizeof(sun)), 0);
    assert_int_equal(follow_poll(f, 100, on_line, &s), 0);
    follow_position(f, &ino, &off);
    assert_true(ino == oldino);
    assert_int_equal(off, 14);
    /* the new file comes: only its lines are read */
    close(fd);
    unlink(path);
    put(path, "four\n");
    s.n = 0;
    (void) follow_poll(f, 100, on_line, &s);
    (void) follow_poll(f, 100, on_line, &s);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.last, "four");
    follow_position(f, &ino, &off);
    assert_true(ino == ino_of(path));
    assert_int_equal(off, 5);
    follow_free(f);
    unlink(path);
    unlink(old);
    rmdir(dir);
}

/*
 * more lines than one poll takes, all already read into the buffer: the
 * next poll hands out the rest although the file does not grow
 */
static void
test_rest_of_buffer(void **state)
{
    char dir[] = "/tmp/test_follow.XXXXXX", path[96];
    struct follow *f;
    struct seen s = {0};
    unsigned long long ino;
    long long off;
    FILE *fp;
    int i;

    (void) state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/maillog", dir);
    assert_non_null(fp = fopen(path, "w"));
    for (i = 0; i < 150; i++)
	fprintf(fp, "line %03d\n", i);
    fclose(fp);
    f = follow_new(path, 0, 0, 0);
    assert_int_equal(follow_poll(f, 100, on_line, &s), 100);
    assert_string_equal(s.last, "line 099");
    assert_int_equal(follow_poll(f, 100, on_line, &s), 50);
    assert_string_equal(s.last, "line 149");
    assert_int_equal(s.n, 150);
    follow_position(f, &ino, &off);
    assert_int_equal(off, 150 * 9);
    follow_free(f);
    unlink(path);
    rmdir(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_rotation_unopenable),
	cmocka_unit_test(test_rest_of_buffer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
