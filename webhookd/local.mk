# webhookd/ - outpost-webhookd, the tenants' event webhooks
sbin_PROGRAMS += outpost-webhookd
WEBHOOKD_CORE = webhookd/whbatch.c webhookd/whbatch.h
outpost_webhookd_SOURCES = webhookd/main.c $(WEBHOOKD_CORE) \
	webhookd/dispatch.c webhookd/dispatch.h \
	webhookd/whpost.c webhookd/whpost.h
outpost_webhookd_CFLAGS = $(COMMON_CFLAGS) $(LIBEVENT_CFLAGS) $(LIBEVENT_SSL_CFLAGS)
outpost_webhookd_LDADD = $(COMMON_LIBS) $(LIBEVENT_SSL_LIBS) $(LIBEVENT_LIBS)

# the batch body, its signature and the backoff
UNIT_TESTS += tests/unit/test_whbatch
tests_unit_test_whbatch_SOURCES = tests/unit/test_whbatch.c $(WEBHOOKD_CORE)
tests_unit_test_whbatch_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/webhookd
tests_unit_test_whbatch_LDADD = $(UNIT_LIBS)

# a fast receiver for the benchmark (built by "make", not run by "make check")
noinst_PROGRAMS += tests/bench/webhook-sink
tests_bench_webhook_sink_SOURCES = tests/bench/webhook-sink.c
tests_bench_webhook_sink_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(LIBEVENT_SSL_CFLAGS)
tests_bench_webhook_sink_LDADD = $(LIBEVENT_SSL_LIBS) $(LIBEVENT_LIBS)
EXTRA_DIST += tests/bench/webhook-bench.sh tests/helpers/webhook-receiver.py

INTEGRATION_TESTS += tests/integration/webhookd.sh tests/integration/webhookd-reload.sh \
	tests/integration/webhookd-keepalive.sh
dist_man_MANS += doc/outpost-webhookd.8
