# milter/ - outpost-milter
sbin_PROGRAMS += outpost-milter
MILTER_CORE = milter/dkimsign.c milter/dkimsign.h milter/fromhdr.c milter/fromhdr.h \
	milter/authz.c milter/authz.h milter/keycache.c milter/keycache.h \
	milter/signclient.c milter/signclient.h
outpost_milter_SOURCES = milter/main.c milter/filter.c milter/filter.h $(MILTER_CORE) \
	milter/rcpt_check.c milter/rcpt_check.h \
	milter/rcpt_policy.c milter/rcpt_policy.h milter/policy_client.c milter/policy_client.h \
	milter/policy_answer.c milter/policy_answer.h \
	milter/intake.c milter/intake.h milter/metrics.c milter/metrics.h \
	milter/listunsub.c milter/listunsub.h milter/tracking.c milter/tracking.h \
	milter/parser_pool.c milter/parser_pool.h \
	milter/plan.c milter/plan.h milter/recipient.c milter/recipient.h \
	milter/settings.c milter/settings.h \
	milter/checkmsg.c milter/checkmsg.h milter/checkjudge.c milter/checkjudge.h
outpost_milter_CFLAGS = $(COMMON_CFLAGS) $(OPENDKIM_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(PARSER_PATH_CFLAGS)
outpost_milter_LDADD = $(CHECK_LIBS) $(COMMON_LIBS) $(OPENDKIM_LIBS) $(MILTER_LIBS) \
	$(LIBEVENT_LIBS) -ldl

UNIT_TESTS += tests/unit/test_dkimsign tests/unit/test_fromhdr tests/unit/test_authz
# the end-of-message plan: each combination, without an MTA
UNIT_TESTS += tests/unit/test_plan
tests_unit_test_plan_SOURCES = tests/unit/test_plan.c tests/unit/testutil.h \
	milter/plan.c milter/plan.h milter/listunsub.c milter/listunsub.h \
	milter/tracking.c milter/tracking.h
tests_unit_test_plan_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/milter
tests_unit_test_plan_LDADD = $(UNIT_LIBS)
# one recipient read once: address, provider, pool
UNIT_TESTS += tests/unit/test_recipient
tests_unit_test_recipient_SOURCES = tests/unit/test_recipient.c tests/unit/testutil.h \
	milter/recipient.c milter/recipient.h
tests_unit_test_recipient_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/milter
tests_unit_test_recipient_LDADD = $(UNIT_LIBS)
tests_unit_test_dkimsign_SOURCES = tests/unit/test_dkimsign.c tests/unit/testutil.h $(MILTER_CORE)
tests_unit_test_dkimsign_CFLAGS = $(UNIT_CFLAGS) $(OPENDKIM_CFLAGS) -I$(top_srcdir)/milter
tests_unit_test_dkimsign_LDADD = $(UNIT_LIBS) $(OPENDKIM_LIBS) -ldl
tests_unit_test_fromhdr_SOURCES = tests/unit/test_fromhdr.c milter/fromhdr.c milter/fromhdr.h
tests_unit_test_fromhdr_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/milter
tests_unit_test_fromhdr_LDADD = $(UNIT_LIBS)
tests_unit_test_authz_SOURCES = tests/unit/test_authz.c milter/authz.c milter/authz.h
tests_unit_test_authz_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/milter
tests_unit_test_authz_LDADD = $(UNIT_LIBS)

# the receiver's verdict on a test message (outpostctl test-send)
UNIT_TESTS += tests/unit/test_checkjudge
tests_unit_test_checkjudge_SOURCES = tests/unit/test_checkjudge.c milter/checkjudge.c \
	milter/checkjudge.h
tests_unit_test_checkjudge_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/milter
tests_unit_test_checkjudge_LDADD = $(UNIT_LIBS)
FUZZ_TARGETS += tests/fuzz/fuzz_checkjudge
tests_fuzz_fuzz_checkjudge_SOURCES = tests/fuzz/fuzz_checkjudge.c milter/checkjudge.c \
	$(FUZZ_DRIVER)
tests_fuzz_fuzz_checkjudge_CFLAGS = $(COMMON_CFLAGS) -I$(top_srcdir)/milter
tests_fuzz_fuzz_checkjudge_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_checkjudge_LDADD = $(COMMON_LIBS)
# test-send: a test message evaluated as a receiver does
INTEGRATION_TESTS += tests/integration/test-send.sh

FUZZ_TARGETS += tests/fuzz/fuzz_fromhdr tests/fuzz/fuzz_authz
tests_fuzz_fuzz_fromhdr_SOURCES = tests/fuzz/fuzz_fromhdr.c milter/fromhdr.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_fromhdr_CFLAGS = $(COMMON_CFLAGS) -I$(top_srcdir)/milter
tests_fuzz_fuzz_fromhdr_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_fromhdr_LDADD = $(COMMON_LIBS)
tests_fuzz_fuzz_authz_SOURCES = tests/fuzz/fuzz_authz.c milter/authz.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_authz_CFLAGS = $(COMMON_CFLAGS) -I$(top_srcdir)/milter
tests_fuzz_fuzz_authz_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_authz_LDADD = $(COMMON_LIBS)

INTEGRATION_TESTS += tests/integration/milter-dkim.sh tests/integration/milter-dkim-e2e.sh \
	tests/integration/intake.sh
# large reports cost the intake little CPU
INTEGRATION_TESTS += tests/integration/intake-slow.sh
# reports are read by the sandboxed parser, which the milter survives
INTEGRATION_TESTS += tests/integration/intake-privsep.sh
# List-Unsubscribe added, signed, and answered by outpost-httpd
INTEGRATION_TESTS += tests/integration/milter-listunsub.sh
# tracked links and the open pixel, signed, followed through outpost-httpd
INTEGRATION_TESTS += tests/integration/milter-track.sh
# the recipient cap and the cap on reports at once
INTEGRATION_TESTS += tests/integration/intake-caps.sh
EXTRA_DIST += tests/integration/milter-dkim.lua tests/bench/dkim-bench.sh

# the policy client (Sendmail sites: [milter] policy_service)
UNIT_TESTS += tests/unit/test_policy_answer tests/unit/test_policy_client
tests_unit_test_policy_answer_SOURCES = tests/unit/test_policy_answer.c \
	milter/policy_answer.c milter/policy_answer.h
tests_unit_test_policy_answer_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/milter
tests_unit_test_policy_answer_LDADD = $(UNIT_LIBS)
tests_unit_test_policy_client_SOURCES = tests/unit/test_policy_client.c \
	milter/policy_client.c milter/policy_client.h milter/policy_answer.c milter/policy_answer.h
tests_unit_test_policy_client_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/milter
tests_unit_test_policy_client_LDADD = $(UNIT_LIBS) -lpthread
FUZZ_TARGETS += tests/fuzz/fuzz_policy_answer
tests_fuzz_fuzz_policy_answer_SOURCES = tests/fuzz/fuzz_policy_answer.c milter/policy_answer.c \
	$(FUZZ_DRIVER)
tests_fuzz_fuzz_policy_answer_CFLAGS = $(COMMON_CFLAGS) -I$(top_srcdir)/milter
tests_fuzz_fuzz_policy_answer_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_policy_answer_LDADD = $(COMMON_LIBS)
INTEGRATION_TESTS += tests/integration/sendmail-outpost.sh

# the report parser: reads intake reports in a sandbox, away from the keys
pkglibexec_PROGRAMS = outpost-intake-parse
PARSER_PATH_CFLAGS = -DOUTPOST_INTAKE_PARSER='"$(pkglibexecdir)/outpost-intake-parse"'
outpost_intake_parse_SOURCES = milter/intake_parser.c milter/sandbox.c milter/sandbox.h
outpost_intake_parse_CFLAGS = $(COMMON_CFLAGS) $(SECCOMP_CFLAGS)
outpost_intake_parse_LDADD = $(COMMON_LIBS) $(SECCOMP_LIBS)
# what the separate parser costs per report: tests/bench/intake-parse-bench.sh
check_PROGRAMS += tests/bench/parse_bench
tests_bench_parse_bench_SOURCES = tests/bench/parse_bench.c milter/parser_pool.c \
	milter/parser_pool.h
tests_bench_parse_bench_CFLAGS = $(COMMON_CFLAGS) -I$(top_srcdir)/milter
tests_bench_parse_bench_LDADD = $(COMMON_LIBS)
EXTRA_DIST += tests/bench/intake-parse-bench.sh
UNIT_TESTS += tests/unit/test_sandbox tests/unit/test_parser_pool
tests_unit_test_parser_pool_SOURCES = tests/unit/test_parser_pool.c milter/parser_pool.c \
	milter/parser_pool.h
tests_unit_test_parser_pool_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/milter \
	-DTEST_BUILDDIR='"$(abs_top_builddir)"'
tests_unit_test_parser_pool_LDADD = $(UNIT_LIBS)
# the intake's side of a report in the milter, without an MTA
UNIT_TESTS += tests/unit/test_intake
tests_unit_test_intake_SOURCES = tests/unit/test_intake.c milter/intake.c milter/intake.h \
	milter/parser_pool.c milter/parser_pool.h
tests_unit_test_intake_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/milter \
	-DTEST_BUILDDIR='"$(abs_top_builddir)"'
tests_unit_test_intake_LDADD = $(UNIT_LIBS)
tests_unit_test_sandbox_SOURCES = tests/unit/test_sandbox.c milter/sandbox.c milter/sandbox.h
tests_unit_test_sandbox_CFLAGS = $(UNIT_CFLAGS) $(SECCOMP_CFLAGS) -I$(top_srcdir)/milter
tests_unit_test_sandbox_LDADD = $(UNIT_LIBS) $(SECCOMP_LIBS)
