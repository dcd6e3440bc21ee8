/* test_msg_limit - rate-limited log lines: said, held back, counted */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "msg.h"

static FILE *captured;

/* capture - stderr (where msg writes before msg_open) into a fresh file */
static int
capture(void **state)
{
    (void) state;
    fflush(stderr);
    captured = tmpfile();
    assert_non_null(captured);
    assert_true(dup2(fileno(captured), STDERR_FILENO) >= 0);
    return 0;
}

/* lines - what was written since capture(), and how many lines */
static char *
lines(int *n)
{
    static char buf[65536];
    size_t len;
    char *p;

    fflush(stderr);
    rewind(captured);
    len = fread(buf, 1, sizeof(buf) - 1, captured);
    buf[len] = '\0';
    for (*n = 0, p = buf; (p = strchr(p, '\n')) != NULL; p++)
	(*n)++;
    return buf;
}

static void
test_once_then_counted(void **state)
{
    struct msg_limit lim = MSG_LIMIT_INIT(3600);
    char *out;
    int i, n;

    (void) state;
    for (i = 0; i < 100; i++)
	msg_warn_limited(&lim, "refused %d", i);
    out = lines(&n);
    assert_int_equal(n, 1);
    assert_non_null(strstr(out, "warning: refused 0\n"));
    msg_limit_reset(&lim);
    msg_info_limited(&lim, "again");
    out = lines(&n);
    assert_int_equal(n, 2);
    assert_non_null(strstr(out, "info: again (99 similar messages suppressed)\n"));
    msg_info_limited(&lim, "held");
    out = lines(&n);
    assert_int_equal(n, 2);
}

static void
test_interval(void **state)
{
    struct msg_limit lim = MSG_LIMIT_INIT(0);
    struct timespec ts = {0, 30 * 1000000};
    char *out;
    int n;

    (void) state;
    msg_warn_limited(&lim, "a");
    msg_warn_limited(&lim, "b");
    out = lines(&n);
    assert_int_equal(n, 2);		/* an interval of 0 holds nothing back */
    lim.interval_ms = 20;
    msg_warn_limited(&lim, "c");
    msg_warn_limited(&lim, "d");
    msg_warn_limited(&lim, "e");
    nanosleep(&ts, NULL);		/* longer than the interval */
    msg_warn_limited(&lim, "f");
    out = lines(&n);
    assert_int_equal(n, 4);
    assert_non_null(strstr(out, "warning: c\n"));
    assert_null(strstr(out, ": d"));
    assert_non_null(strstr(out, "warning: f (2 similar messages suppressed)\n"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup(test_once_then_counted, capture),
	cmocka_unit_test_setup(test_interval, capture),
    };

    /* cmocka's own TAP output goes to stdout, the captured lines to stderr */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
