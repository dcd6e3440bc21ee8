/*
 * test_sandbox - a process in the sandbox of outpost-intake-parse cannot open
 * a file, make a socket, start a process, or spend CPU beyond its budget;
 * it can still allocate and write to what it has
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox.h"
#include "testutil.h"

/* exit codes of the children */
#define OPENED 10
#define REFUSED 11
#define ALIVE 12

/* in_sandbox - run fn in a sandboxed child; its wait status */
static int
in_sandbox(int (*fn)(const char *), const char *arg)
{
    char err[256];
    int status;
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
	if (sandbox_enter(err, sizeof(err)) < 0) {
	    fprintf(stderr, "sandbox_enter: %s\n", err);
	    _exit(2);
	}
	_exit(fn(arg));
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

/* try_open - open a file for reading */
static int
try_open(const char *path)
{
    int fd = open(path, O_RDONLY);

    return fd >= 0 ? OPENED : errno == EACCES ? REFUSED : 3;
}

/* try_socket - make a socket */
static int
try_socket(const char *arg)
{
    (void) arg;
    return socket(AF_INET, SOCK_STREAM, 0) >= 0 ? OPENED : REFUSED;
}

/* try_fork - start a process */
static int
try_fork(const char *arg)
{
    pid_t pid;

    (void) arg;
    if ((pid = fork()) == 0)
	_exit(0);
    return pid > 0 ? OPENED : REFUSED;
}

/* try_work - allocate, write to stdout-like descriptor kept open */
static int
try_work(const char *arg)
{
    char *p = malloc(1 << 20);
    size_t i;

    (void) arg;
    if (p == NULL)
	return 3;
    for (i = 0; i < 1 << 20; i += 4096)
	p[i] = 'x';
    free(p);
    return write(1, "", 0) == 0 ? ALIVE : 3;
}

/* cmp_int - qsort's order of ints */
static int
cmp_int(const void *a, const void *b)
{
    int x = *(const int *) a, y = *(const int *) b;

    return (x > y) - (x < y);
}

/* try_qsort - sort an array too big for the stack (glibc asks sysinfo) */
static int
try_qsort(const char *arg)
{
    size_t i, n = 100000;
    int *v = malloc(n * sizeof(*v));

    (void) arg;
    if (v == NULL)
	return 3;
    for (i = 0; i < n; i++)
	v[i] = (int) ((i * 7919) % n);
    qsort(v, n, sizeof(*v), cmp_int);
    for (i = 0; i < n; i++)
	if (v[i] != (int) i)
	    return 3;
    free(v);
    return ALIVE;
}

/* try_spin - spend CPU for ever after a budget of one second */
static int
try_spin(const char *arg)
{
    volatile unsigned long n = 0;

    (void) arg;
    if (sandbox_cpu_budget(0) < 0)
	return 3;
    for (;;)
	n++;
    return ALIVE;
}

/* a key file the same user can read outside is refused inside */
static void
test_no_open(void **state)
{
    char *key = testutil_write_tmp("-----BEGIN PRIVATE KEY-----\nsecret\n");
    int st;

    (void) state;
    assert_int_equal(WEXITSTATUS(in_sandbox(try_open, "/dev/null")), REFUSED);
    /* outside the sandbox the same call works: the test can fail */
    assert_int_equal(try_open(key), OPENED);
    st = in_sandbox(try_open, key);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), REFUSED);
    unlink(key);
    free(key);
}

/* network and new processes: killed by SIGSYS */
static void
test_killed(void **state)
{
    int st;

    (void) state;
    st = in_sandbox(try_socket, NULL);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGSYS);
    st = in_sandbox(try_fork, NULL);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGSYS);
}

/* memory and the descriptors it has still work */
static void
test_works(void **state)
{
    int st;

    (void) state;
    st = in_sandbox(try_work, NULL);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), ALIVE);
    /* so does the C library's sort, which asks the system its memory size */
    st = in_sandbox(try_qsort, NULL);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), ALIVE);
}

/* the CPU budget ends a loop */
static void
test_cpu_budget(void **state)
{
    int st;

    (void) state;
    st = in_sandbox(try_spin, NULL);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGXCPU);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_no_open),
	cmocka_unit_test(test_killed),
	cmocka_unit_test(test_works),
	cmocka_unit_test(test_cpu_budget),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
