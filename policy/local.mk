# policy/ - outpost-policyd
sbin_PROGRAMS += outpost-policyd
POLICY_CORE = \
	policy/decide.c policy/decide.h \
	policy/request.c policy/request.h
outpost_policyd_SOURCES = policy/main.c $(POLICY_CORE) \
	policy/decider.c policy/decider.h \
	policy/metrics.c policy/metrics.h \
	policy/mxlookup.c policy/mxlookup.h \
	policy/server.c policy/server.h
nodist_outpost_policyd_SOURCES = policy/gcra_lua.h
outpost_policyd_CFLAGS = $(COMMON_CFLAGS) $(LIBEVENT_CFLAGS) $(CARES_CFLAGS) \
	-I$(top_builddir)/policy
outpost_policyd_LDADD = $(COMMON_LIBS) $(LIBEVENT_LIBS) $(CARES_LIBS) $(RESOLV_LIBS)

# The throttling script, compiled in as a C string.
policy/gcra_lua.h: $(top_srcdir)/policy/gcra.lua
	$(AM_V_GEN)$(MKDIR_P) policy && { \
	  echo '/* generated from policy/gcra.lua by make: do not edit */'; \
	  echo 'static const char gcra_lua[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' \
	    $(top_srcdir)/policy/gcra.lua; \
	  echo ';'; } > $@.tmp && mv $@.tmp $@
policy/outpost_policyd-decider.$(OBJEXT): policy/gcra_lua.h
CLEANFILES += policy/gcra_lua.h
EXTRA_DIST += policy/gcra.lua

# unit tests
UNIT_TESTS += tests/unit/test_policy_request tests/unit/test_gcra \
	tests/unit/test_warmup tests/unit/test_decide
tests_unit_test_policy_request_SOURCES = tests/unit/test_policy_request.c \
	policy/request.c policy/request.h
tests_unit_test_policy_request_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/policy
tests_unit_test_policy_request_LDADD = $(UNIT_LIBS)
tests_unit_test_gcra_SOURCES = tests/unit/test_gcra.c
tests_unit_test_gcra_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_gcra_LDADD = $(UNIT_LIBS)
tests_unit_test_warmup_SOURCES = tests/unit/test_warmup.c
tests_unit_test_warmup_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_warmup_LDADD = $(UNIT_LIBS)
tests_unit_test_decide_SOURCES = tests/unit/test_decide.c tests/unit/testutil.h $(POLICY_CORE)
tests_unit_test_decide_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/policy
tests_unit_test_decide_LDADD = $(UNIT_LIBS)

# fuzz target: the request parser
FUZZ_TARGETS += tests/fuzz/fuzz_policy_request
tests_fuzz_fuzz_policy_request_SOURCES = tests/fuzz/fuzz_policy_request.c \
	policy/request.c policy/request.h $(FUZZ_DRIVER)
tests_fuzz_fuzz_policy_request_CFLAGS = $(COMMON_CFLAGS) -I$(top_srcdir)/policy
tests_fuzz_fuzz_policy_request_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_policy_request_LDADD = $(COMMON_LIBS)

# the load generator of tests/bench/ (built by "make", not run by "make check")
noinst_PROGRAMS += tests/bench/policy-load
tests_bench_policy_load_SOURCES = tests/bench/policy-load.c
tests_bench_policy_load_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
tests_bench_policy_load_LDADD = $(LIBEVENT_LIBS)
EXTRA_DIST += tests/bench/policyd-bench.sh

# integration tests: real Postfix, Redis and DNS (tests/lib/world.sh)
INTEGRATION_TESTS += tests/integration/policy-throttle.sh tests/integration/policy-warmup.sh \
	tests/integration/policy-reload.sh tests/integration/policy-pause.sh
INTEGRATION_TESTS += tests/integration/second-start.sh tests/integration/policy-limits.sh \
	tests/integration/redis-auth.sh
