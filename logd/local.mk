# logd/ - outpost-logd, the log follower: delivery statistics and backoff
sbin_PROGRAMS += outpost-logd
outpost_logd_SOURCES = logd/main.c logd/follow.c logd/follow.h \
	logd/track.c logd/track.h logd/route.c logd/route.h \
	logd/metrics.c logd/metrics.h logd/tlssess.c logd/tlssess.h \
	logd/blwatch.c logd/blwatch.h logd/warmhold.c logd/warmhold.h
outpost_logd_CFLAGS = $(COMMON_CFLAGS) $(LIBEVENT_CFLAGS) $(CARES_CFLAGS)
outpost_logd_LDADD = $(COMMON_LIBS) $(LIBEVENT_LIBS) $(CARES_LIBS) $(RESOLV_LIBS)

UNIT_TESTS += tests/unit/test_maillog tests/unit/test_backoff tests/unit/test_stats tests/unit/test_logd_metrics \
	tests/unit/test_tlssess tests/unit/test_warmhold tests/unit/test_follow \
	tests/unit/test_track
tests_unit_test_track_SOURCES = tests/unit/test_track.c tests/unit/testutil.h logd/track.c \
	logd/track.h logd/route.c logd/route.h logd/tlssess.c logd/tlssess.h
tests_unit_test_track_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/logd
tests_unit_test_track_LDADD = $(UNIT_LIBS)
tests_unit_test_follow_SOURCES = tests/unit/test_follow.c logd/follow.c logd/follow.h
tests_unit_test_follow_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/logd
tests_unit_test_follow_LDADD = $(UNIT_LIBS)
tests_unit_test_warmhold_SOURCES = tests/unit/test_warmhold.c logd/warmhold.c logd/warmhold.h \
	logd/blwatch.c logd/blwatch.h
tests_unit_test_warmhold_CFLAGS = $(UNIT_CFLAGS) $(LIBEVENT_CFLAGS) $(CARES_CFLAGS) -I$(top_srcdir)/logd
tests_unit_test_warmhold_LDADD = $(UNIT_LIBS) $(LIBEVENT_LIBS) $(CARES_LIBS) $(RESOLV_LIBS)
tests_unit_test_tlssess_SOURCES = tests/unit/test_tlssess.c logd/tlssess.c logd/tlssess.h
tests_unit_test_tlssess_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/logd
tests_unit_test_tlssess_LDADD = $(UNIT_LIBS)
tests_unit_test_logd_metrics_SOURCES = tests/unit/test_logd_metrics.c tests/unit/testutil.h \
	logd/metrics.c logd/metrics.h
tests_unit_test_logd_metrics_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/logd
tests_unit_test_logd_metrics_LDADD = $(UNIT_LIBS)
tests_unit_test_maillog_SOURCES = tests/unit/test_maillog.c
tests_unit_test_maillog_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_maillog_LDADD = $(UNIT_LIBS)
tests_unit_test_backoff_SOURCES = tests/unit/test_backoff.c
tests_unit_test_backoff_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_backoff_LDADD = $(UNIT_LIBS)
tests_unit_test_stats_SOURCES = tests/unit/test_stats.c
tests_unit_test_stats_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_stats_LDADD = $(UNIT_LIBS)

FUZZ_TARGETS += tests/fuzz/fuzz_maillog tests/fuzz/fuzz_backoff_rules
tests_fuzz_fuzz_maillog_SOURCES = tests/fuzz/fuzz_maillog.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_maillog_CFLAGS = $(COMMON_CFLAGS)
tests_fuzz_fuzz_maillog_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_maillog_LDADD = $(COMMON_LIBS)
tests_fuzz_fuzz_backoff_rules_SOURCES = tests/fuzz/fuzz_backoff_rules.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_backoff_rules_CFLAGS = $(COMMON_CFLAGS)
tests_fuzz_fuzz_backoff_rules_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_backoff_rules_LDADD = $(COMMON_LIBS)

INTEGRATION_TESTS += tests/integration/logd-counts.sh tests/integration/logd-follow.sh \
	tests/integration/stats-sources.sh tests/integration/metrics.sh \
	tests/integration/logd-backoff.sh tests/integration/logd-sendmail.sh \
	tests/integration/logd-missing.sh tests/integration/logd-old-lines.sh \
	tests/integration/logd-tls.sh tests/integration/logd-blocked.sh \
	tests/integration/logd-pool.sh

dist_man_MANS += doc/outpost-logd.8
EXTRA_DIST += doc/REDIS-KEYS.md conf-examples/backoff.rules \
	conf-examples/grafana-dashboard.json tests/bench/logd-bench.sh
