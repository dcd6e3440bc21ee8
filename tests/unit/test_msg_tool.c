/* test_msg_tool - the messages of a command-line tool: "progname: text" on stderr */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "msg.h"

static FILE *captured;

/* capture - stderr into a fresh file */
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

/* written - what was written since capture() */
static char *
written(void)
{
    static char buf[8192];
    size_t len;

    fflush(stderr);
    rewind(captured);
    len = fread(buf, 1, sizeof(buf) - 1, captured);
    buf[len] = '\0';
    return buf;
}

static void
test_tool_lines(void **state)
{
    (void) state;
    /* even with the journal named, a tool writes plain lines */
    setenv("JOURNAL_STREAM", "1:1", 1);
    msg_open_tool("/usr/sbin/outpostctl");
    msg_error("redis: %s", "Connection refused");
    msg_info("imported %d rows", 3);
    msg_warn("no persistence");
    msg_debug("not said");
    msg_verbose(1);
    msg_debug("said");
    assert_string_equal(written(),
			"outpostctl: redis: Connection refused\n"
			"outpostctl: imported 3 rows\n"
			"outpostctl: warning: no persistence\n"
			"outpostctl: debug: said\n");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup(test_tool_lines, capture),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
