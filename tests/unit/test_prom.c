/* test_prom - the Prometheus text writer: escaping, families, histograms */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "prom.h"

/* count - occurrences of needle in hay */
static int
count(const char *hay, const char *needle)
{
    int n = 0;
    const char *p;

    for (p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
	n++;
    return n;
}

static void
test_escaping(void **state)
{
    struct prom *p = prom_new("relay\"1");
    const char *t;

    (void) state;
    prom_family(p, "outpost_test_total", PROM_COUNTER, "Back\\slash and\nnewline.");
    prom_counter(p, (const char *[]) {"sender", "a\\b\"c\nd\te\xc3\xa9", NULL}, 7);
    prom_counter(p, NULL, 0);
    t = prom_text(p, NULL);
    assert_string_equal(t,
			"# HELP outpost_test_total Back\\\\slash and\\nnewline.\n"
			"# TYPE outpost_test_total counter\n"
			"outpost_test_total{node=\"relay\\\"1\",sender=\"a\\\\b\\\"c\\nd?e??\"} 7\n"
			"outpost_test_total{node=\"relay\\\"1\"} 0\n");
    prom_free(p);
    /* without a node name: no braces for a sample without labels */
    p = prom_new(NULL);
    prom_family(p, "outpost_ratio", PROM_GAUGE, "A ratio.");
    prom_gauge(p, NULL, 0.25);
    prom_gauge(p, (const char *[]) {"window", "7d", NULL}, 1.0 / 3.0);
    t = prom_text(p, NULL);
    assert_non_null(strstr(t, "\noutpost_ratio 0.25\n"));
    assert_non_null(strstr(t, "\noutpost_ratio{window=\"7d\"} 0.333333333333333\n"));
    prom_free(p);
}

static void
test_families(void **state)
{
    struct prom *p = prom_new("n1");
    const char *t;
    size_t len;

    (void) state;
    prom_family(p, "outpost_a_total", PROM_COUNTER, "A.");
    prom_counter(p, (const char *[]) {"k", "x", NULL}, 1);
    prom_counter(p, (const char *[]) {"k", "y", NULL}, 2);
    prom_family(p, "outpost_b", PROM_GAUGE, "B.");
    prom_family(p, "outpost_c_total", PROM_COUNTER, "C, with no sample yet.");
    t = prom_text(p, &len);
    assert_int_equal(len, strlen(t));
    /* HELP and TYPE once per family, samples grouped under them */
    assert_int_equal(count(t, "# HELP outpost_a_total "), 1);
    assert_int_equal(count(t, "# TYPE outpost_a_total counter\n"), 1);
    assert_int_equal(count(t, "# TYPE outpost_b gauge\n"), 1);
    assert_int_equal(count(t, "# HELP "), 3);
    assert_int_equal(count(t, "# TYPE "), 3);
    assert_true(strstr(t, "outpost_a_total{node=\"n1\",k=\"y\"} 2\n") < strstr(t, "# HELP outpost_b "));
    prom_free(p);
}

/* the page of a child that dies: reachable, so not a leak to a sanitizer */
static struct prom *child;

/* dies - whether fn ends the process with status 1 (msg_fatal) */
static int
dies(void (*fn)(void))
{
    pid_t pid = fork();
    int st;

    if (pid == 0) {
	fclose(stderr);			/* the fatal message is expected */
	fn();
	_exit(0);
    }
    waitpid(pid, &st, 0);
    return WIFEXITED(st) && WEXITSTATUS(st) == 1;
}

static void
twice(void)
{
    struct prom *p = child = prom_new("n");

    prom_family(p, "outpost_x_total", PROM_COUNTER, "X.");
    prom_family(p, "outpost_y", PROM_GAUGE, "Y.");
    prom_family(p, "outpost_x_total", PROM_COUNTER, "X again.");
}

static void
no_total(void)
{
    prom_family(child = prom_new("n"), "outpost_x", PROM_COUNTER, "X.");
}

static void
bad_name(void)
{
    prom_family(child = prom_new("n"), "outpost-x", PROM_GAUGE, "X.");
}

static void
bad_label(void)
{
    struct prom *p = child = prom_new("n");

    prom_family(p, "outpost_x", PROM_GAUGE, "X.");
    prom_gauge(p, (const char *[]) {"node", "again", NULL}, 1);
}

static void
wrong_type(void)
{
    struct prom *p = child = prom_new("n");

    prom_family(p, "outpost_x", PROM_GAUGE, "X.");
    prom_counter(p, NULL, 1);
}

static void
fine(void)
{
    struct prom *p = prom_new("n");

    prom_family(p, "outpost_x_total", PROM_COUNTER, "X.");
    prom_counter(p, NULL, 1);
    prom_free(p);
}

static void
test_mistakes(void **state)
{
    (void) state;
    assert_false(dies(fine));
    assert_true(dies(twice));
    assert_true(dies(no_total));
    assert_true(dies(bad_name));
    assert_true(dies(bad_label));
    assert_true(dies(wrong_type));
}

static void
test_histogram(void **state)
{
    static const double b[] = {0.001, 0.5, 2};
    struct prom_hist h;
    struct prom *p = prom_new("n");
    const char *t;

    (void) state;
    prom_hist_init(&h, b, 3);
    prom_hist_observe_us(&h, 200);	/* 0.0002 s: first bucket */
    prom_hist_observe_us(&h, 500000);	/* exactly 0.5 s: le="0.5" holds it */
    prom_hist_observe_us(&h, 300000);
    prom_hist_observe_us(&h, 7000000);	/* above every bound */
    prom_hist_observe_us(&h, -5);	/* a clock step: counted as 0 */
    prom_family(p, "outpost_d_seconds", PROM_HISTOGRAM, "D.");
    prom_histogram(p, (const char *[]) {"k", "v", NULL}, &h);
    t = prom_text(p, NULL);
    assert_string_equal(t,
			"# HELP outpost_d_seconds D.\n"
			"# TYPE outpost_d_seconds histogram\n"
			"outpost_d_seconds_bucket{node=\"n\",k=\"v\",le=\"0.001\"} 2\n"
			"outpost_d_seconds_bucket{node=\"n\",k=\"v\",le=\"0.5\"} 4\n"
			"outpost_d_seconds_bucket{node=\"n\",k=\"v\",le=\"2\"} 4\n"
			"outpost_d_seconds_bucket{node=\"n\",k=\"v\",le=\"+Inf\"} 5\n"
			"outpost_d_seconds_sum{node=\"n\",k=\"v\"} 7.8002\n"
			"outpost_d_seconds_count{node=\"n\",k=\"v\"} 5\n");
    prom_free(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_escaping),
	cmocka_unit_test(test_families),
	cmocka_unit_test(test_mistakes),
	cmocka_unit_test(test_histogram),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
