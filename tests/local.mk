# tests/ - unit tests (cmocka) and integration tests (TAP shell scripts)
#
# "make check" runs both kinds through automake's TAP driver.  Integration
# tests need root, network namespaces, Postfix and Redis (tests/install-deps.sh
# installs them); configure --disable-integration-tests leaves them out.

TEST_EXTENSIONS = .sh
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
SH_LOG_DRIVER = $(LOG_DRIVER)
SH_LOG_COMPILER = bash
AM_TESTS_ENVIRONMENT = \
	CMOCKA_MESSAGE_OUTPUT=TAP; export CMOCKA_MESSAGE_OUTPUT; \
	OUTPOST_BUILDDIR='$(abs_top_builddir)'; export OUTPOST_BUILDDIR; \
	OUTPOST_SRCDIR='$(abs_top_srcdir)'; export OUTPOST_SRCDIR;

UNIT_CFLAGS = $(COMMON_CFLAGS) $(CMOCKA_CFLAGS) -DTEST_SRCDIR='"$(abs_top_srcdir)"'
UNIT_LIBS = $(COMMON_LIBS) $(CMOCKA_LIBS)

UNIT_TESTS += tests/unit/test_confval tests/unit/test_conf tests/unit/test_addr \
	tests/unit/test_keytable

if HAVE_CMOCKA
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
endif

tests_unit_test_confval_SOURCES = tests/unit/test_confval.c
tests_unit_test_confval_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_confval_LDADD = $(UNIT_LIBS)
tests_unit_test_conf_SOURCES = tests/unit/test_conf.c tests/unit/testutil.h
tests_unit_test_conf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_conf_LDADD = $(UNIT_LIBS)
tests_unit_test_addr_SOURCES = tests/unit/test_addr.c
tests_unit_test_addr_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_addr_LDADD = $(UNIT_LIBS)
tests_unit_test_keytable_SOURCES = tests/unit/test_keytable.c tests/unit/testutil.h
tests_unit_test_keytable_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_keytable_LDADD = $(UNIT_LIBS)
# the key table's text changed in place, replaced only by a table that loads
UNIT_TESTS += tests/unit/test_keyedit
tests_unit_test_keyedit_SOURCES = tests/unit/test_keyedit.c tests/unit/testutil.h
tests_unit_test_keyedit_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_keyedit_LDADD = $(UNIT_LIBS)
# the Redis server check: INFO and CONFIG GET answers, the verdict
UNIT_TESTS += tests/unit/test_redischeck
tests_unit_test_redischeck_SOURCES = tests/unit/test_redischeck.c
tests_unit_test_redischeck_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_redischeck_LDADD = $(UNIT_LIBS)

INTEGRATION_TESTS += \
	tests/integration/relay-mx.sh \
	tests/integration/daemons.sh \
	tests/integration/redis-conn.sh \
	tests/integration/redis-prod.sh \
	tests/integration/redis-acl.sh tests/integration/redis-tls.sh \
	tests/integration/demo.sh \
	tests/integration/faults.sh \
	tests/integration/redis-cluster.sh \
	tests/integration/policy-cluster.sh \
	tests/integration/stats-cluster.sh \
	tests/integration/events.sh \
	tests/integration/cluster-failover.sh \
	tests/integration/cluster-migrate.sh \
	tests/integration/dkim-rotate.sh

# helper programs the integration tests drive
check_PROGRAMS += tests/helpers/rconn_probe
tests_helpers_rconn_probe_SOURCES = tests/helpers/rconn_probe.c
tests_helpers_rconn_probe_CFLAGS = $(COMMON_CFLAGS)
tests_helpers_rconn_probe_LDADD = $(COMMON_LIBS)
check_PROGRAMS += tests/helpers/rcluster_probe
tests_helpers_rcluster_probe_SOURCES = tests/helpers/rcluster_probe.c
tests_helpers_rcluster_probe_CFLAGS = $(COMMON_CFLAGS)
tests_helpers_rcluster_probe_LDADD = $(COMMON_LIBS)

if INTEGRATION_TESTS
TESTS += $(INTEGRATION_TESTS)
endif

# one indent style over the C code; needs no root, so it always runs
TESTS += tests/static/indent.sh

EXTRA_DIST += $(INTEGRATION_TESTS) tests/lib/world.sh tests/lib/cluster.sh tests/lib/sink.py tests/lib/campaign.py \
	tests/lib/README.md tests/install-deps.sh tests/run-all.sh tests/bench/soak.sh \
	tests/static-analysis.sh tests/static/cppcheck.supp tests/static/scan-build.supp \
	tests/static/indent.sh \
	tests/README.md .clang-tidy

# the layout: folders, -I flags and header names (tests/layout.sh); the test
# runs "make layout-milter-headers" for gcc -H of each outpost-milter source
TESTS += tests/layout.sh
EXTRA_DIST += tests/layout.sh
MILTER_COMPILE = $(CC) $(DEFS) $(DEFAULT_INCLUDES) $(INCLUDES) $(AM_CPPFLAGS) \
	$(CPPFLAGS) $(outpost_milter_CFLAGS) $(CFLAGS)
layout-milter-headers:
	@echo "# search"; $(MILTER_COMPILE) -xc -E -v /dev/null 2>&1 >/dev/null; \
	for f in $(outpost_milter_SOURCES); do \
	  case $$f in *.c) echo "# source $$f"; \
	    $(MILTER_COMPILE) -H -fsyntax-only $(srcdir)/$$f 2>&1 || exit 1;; esac; \
	done
.PHONY: layout-milter-headers

# the Redis Cluster client: key slots, MOVED/ASK texts, slot maps
UNIT_TESTS += tests/unit/test_rcluster
tests_unit_test_rcluster_SOURCES = tests/unit/test_rcluster.c
tests_unit_test_rcluster_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_rcluster_LDADD = $(UNIT_LIBS)
UNIT_TESTS += tests/unit/test_rcluster_cut
tests_unit_test_rcluster_cut_SOURCES = tests/unit/test_rcluster_cut.c
tests_unit_test_rcluster_cut_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_rcluster_cut_LDADD = $(UNIT_LIBS) -lpthread
UNIT_TESTS += tests/unit/test_rasync_cut
tests_unit_test_rasync_cut_SOURCES = tests/unit/test_rasync_cut.c
tests_unit_test_rasync_cut_CFLAGS = $(UNIT_CFLAGS) $(LIBEVENT_CFLAGS)
tests_unit_test_rasync_cut_LDADD = $(UNIT_LIBS) $(LIBEVENT_LIBS) -lpthread
# the metrics endpoint: its answers, and requests too large to keep
UNIT_TESTS += tests/unit/test_promhttp
tests_unit_test_promhttp_SOURCES = tests/unit/test_promhttp.c
tests_unit_test_promhttp_CFLAGS = $(UNIT_CFLAGS) $(LIBEVENT_CFLAGS)
tests_unit_test_promhttp_LDADD = $(UNIT_LIBS) $(LIBEVENT_LIBS) -lpthread
UNIT_TESTS += tests/unit/test_sentinel_reply
tests_unit_test_sentinel_reply_SOURCES = tests/unit/test_sentinel_reply.c
tests_unit_test_sentinel_reply_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_sentinel_reply_LDADD = $(UNIT_LIBS) -lpthread
UNIT_TESTS += tests/unit/test_rconn_resend
tests_unit_test_rconn_resend_SOURCES = tests/unit/test_rconn_resend.c
tests_unit_test_rconn_resend_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_rconn_resend_LDADD = $(UNIT_LIBS) -lpthread

# make check-cluster: the suites that run on a Redis Cluster too, against one
# (tests/lib/world.sh, OUTPOST_TEST_REDIS=cluster); its summary in
# test-suite-cluster.log
CLUSTER_TESTS = tests/integration/suppress.sh tests/integration/intake.sh \
	tests/integration/ctl-cli.sh tests/integration/logd-counts.sh \
	tests/integration/stats-sources.sh tests/integration/logd-follow.sh \
	tests/integration/metrics.sh tests/integration/policy-throttle.sh \
	tests/integration/policy-limits.sh tests/integration/policy-warmup.sh \
	tests/integration/logd-backoff.sh tests/integration/logd-blocked.sh \
	tests/integration/logd-old-lines.sh tests/integration/logd-missing.sh \
	tests/integration/logd-sendmail.sh tests/integration/logd-tls.sh \
	tests/integration/httpd-unsub.sh \
	tests/integration/httpd-track.sh tests/integration/httpd-api.sh \
	tests/integration/httpd-reload.sh \
	tests/integration/api-messages.sh tests/integration/webhookd.sh \
	tests/integration/webhookd-reload.sh \
	tests/integration/intake-caps.sh tests/integration/events.sh \
	tests/integration/milter-track.sh tests/integration/milter-listunsub.sh \
	tests/integration/test-send.sh tests/integration/demo.sh
check-cluster:
	OUTPOST_TEST_REDIS=cluster $(MAKE) $(AM_MAKEFLAGS) check \
	    TESTS='$(CLUSTER_TESTS)' TEST_SUITE_LOG=test-suite-cluster.log
.PHONY: check-cluster
