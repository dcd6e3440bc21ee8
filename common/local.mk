# common/ - code the programs share, as four static libraries by concern;
# each folder's README.md says what it owns and what it may use:
#   core    configuration, logging, allocation, Redis connection, ...
#   dns     DNS lookups and the records of SPF, DKIM and DMARC   (uses core)
#   report  reading bounces, complaints and the MTA's log        (uses core)
#   state   the shared state in Redis and the throttling rules   (uses core, report)
#   check   the checks of a sending domain's DNS records    (uses core, dns, report)
noinst_LIBRARIES += common/core/libcore.a common/dns/libdns.a \
	common/report/libreport.a common/state/libstate.a common/check/libcheck.a
common_core_libcore_a_SOURCES = \
	common/core/addr.c common/core/addr.h \
	common/core/conf.c common/core/conf.h \
	common/core/confdiff.c common/core/confdiff.h \
	common/core/daemonopt.c common/core/daemonopt.h \
	common/core/keytable.c common/core/keytable.h \
	common/core/keyedit.c common/core/keyedit.h \
	common/core/confval.c common/core/confval.h \
	common/core/warmup.c common/core/warmup.h \
	common/core/monotime.h \
	common/core/msg.c common/core/msg.h \
	common/core/privs.c common/core/privs.h \
	common/core/prom.c common/core/prom.h common/core/promhttp.c common/core/promhttp.h \
	common/core/redisconn.c common/core/redisconn.h \
	common/core/rasync.c common/core/rasync.h \
	common/core/rcluster.c common/core/rcluster.h \
	common/core/sdnotify.c common/core/sdnotify.h \
	common/core/sockguard.c common/core/sockguard.h \
	common/core/redischeck.c common/core/redischeck.h \
	common/core/xalloc.c common/core/xalloc.h
common_dns_libdns_a_SOURCES = \
	common/dns/aresev.c common/dns/aresev.h \
	common/dns/dmarcrec.c common/dns/dmarcrec.h \
	common/dns/dnsbl.c common/dns/dnsbl.h common/dns/dnsfix.c common/dns/dnsfix.h \
	common/dns/dnsq.c common/dns/dnsq.h \
	common/dns/spfrec.c common/dns/spfrec.h \
	common/dns/spfwalk.c common/dns/spfwalk.h \
	common/dns/taglist.c common/dns/taglist.h
# bounce, complaint and unsubscribe intake
common_report_libreport_a_SOURCES = \
	common/report/mime.c common/report/mime.h \
	common/report/dsn.c common/report/dsn.h \
	common/report/arf.c common/report/arf.h \
	common/report/bounce_class.c common/report/bounce_class.h \
	common/report/bounce_rhost.c common/report/bounce_rhost.h \
	common/report/blname.c common/report/blname.h \
	common/report/bounce.c common/report/bounce.h \
	common/report/json_scan.c common/report/json_scan.h \
	common/report/verp.c common/report/verp.h \
	common/report/retpath.c common/report/retpath.h \
	common/report/maillog.c common/report/maillog.h \
	common/report/report_digest.c common/report/report_digest.h
common_state_libstate_a_SOURCES = \
	common/state/apikey.c common/state/apikey.h \
	common/state/suppress.c common/state/suppress.h \
	common/state/gcra.c common/state/gcra.h \
	common/state/evkeys.c common/state/evkeys.h \
	common/state/nodeinfo.c common/state/nodeinfo.h \
	common/state/intake_act.c common/state/intake_act.h \
	common/state/stats.c common/state/stats.h \
	common/state/blstate.c common/state/blstate.h \
	common/state/events.c common/state/events.h \
	common/state/stats_report.c common/state/stats_report.h \
	common/state/backoff.c common/state/backoff.h \
	common/state/provider.c common/state/provider.h \
	common/state/throttle_limits.c common/state/throttle_limits.h \
	common/state/pool_select.c common/state/pool_select.h
COMMON_LIB_CFLAGS = $(AM_CFLAGS) $(HIREDIS_CFLAGS) $(INIH_CFLAGS) \
	$(IDN2_CFLAGS) $(LIBCRYPTO_CFLAGS) $(PSL_CFLAGS) $(SYSTEMD_CFLAGS) $(LIBEVENT_CFLAGS) $(CARES_CFLAGS)
common_core_libcore_a_CFLAGS = $(COMMON_LIB_CFLAGS)
common_dns_libdns_a_CFLAGS = $(COMMON_LIB_CFLAGS)
common_report_libreport_a_CFLAGS = $(COMMON_LIB_CFLAGS)
common_state_libstate_a_CFLAGS = $(COMMON_LIB_CFLAGS)
# outpostctl verify and the API's GET /v1/domains/D/verify (libspf2: CHECK_LIBS)
common_check_libcheck_a_SOURCES = \
	common/check/onboard.c common/check/onboard.h \
	common/check/domcheck.c common/check/domcheck.h \
	common/check/spfdns.c common/check/spfdns.h
common_check_libcheck_a_CFLAGS = $(COMMON_LIB_CFLAGS)
EXTRA_DIST += common/core/README.md common/dns/README.md common/report/README.md \
	common/state/README.md common/check/README.md

# what linking against the common libraries brings in (each uses only those after it)
COMMON_LIBS = common/state/libstate.a common/report/libreport.a common/dns/libdns.a \
	common/core/libcore.a $(HIREDIS_LIBS) $(INIH_LIBS) $(IDN2_LIBS) \
	$(LIBCRYPTO_LIBS) $(PSL_LIBS) $(SYSTEMD_LIBS) $(RESOLV_LIBS) -lm
COMMON_CFLAGS = $(AM_CFLAGS) $(HIREDIS_CFLAGS)
# the domain checks, for the programs that run them (before COMMON_LIBS)
CHECK_LIBS = common/check/libcheck.a $(SPF2_LIBS)

# libspf2's lookups through dnsq (common/check/spfdns.c)
UNIT_TESTS += tests/unit/test_spfdns
tests_unit_test_spfdns_SOURCES = tests/unit/test_spfdns.c
tests_unit_test_spfdns_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_spfdns_LDADD = $(CHECK_LIBS) $(UNIT_LIBS)

# the dkim check of one published key record (common/check/domcheck.c)
UNIT_TESTS += tests/unit/test_domcheck
tests_unit_test_domcheck_SOURCES = tests/unit/test_domcheck.c
tests_unit_test_domcheck_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_domcheck_LDADD = $(CHECK_LIBS) $(UNIT_LIBS)

# the Prometheus text writer
UNIT_TESTS += tests/unit/test_prom
tests_unit_test_prom_SOURCES = tests/unit/test_prom.c
tests_unit_test_prom_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_prom_LDADD = $(UNIT_LIBS)

# the suppression list: unit tests and the CSV row fuzz target
UNIT_TESTS += tests/unit/test_suppress
tests_unit_test_suppress_SOURCES = tests/unit/test_suppress.c
tests_unit_test_suppress_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_suppress_LDADD = $(UNIT_LIBS)

FUZZ_TARGETS += tests/fuzz/fuzz_suppress_csv
tests_fuzz_fuzz_suppress_csv_SOURCES = tests/fuzz/fuzz_suppress_csv.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_suppress_csv_CFLAGS = $(COMMON_CFLAGS)
tests_fuzz_fuzz_suppress_csv_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_suppress_csv_LDADD = $(COMMON_LIBS)

INTEGRATION_TESTS += tests/integration/suppress.sh
EXTRA_DIST += tests/bench/suppress-bench.sh tests/bench/gen-suppress-csv.py \
	tests/bench/redis-sizing.sh tests/bench/sup-slots-bench.sh \
	tests/bench/stats-cluster-bench.sh tests/bench/sup-100m-bench.sh
dist_man_MANS += doc/outpost-suppress.7
check_PROGRAMS += tests/bench/sup_latency
tests_bench_sup_latency_SOURCES = tests/bench/sup_latency.c
tests_bench_sup_latency_CFLAGS = $(COMMON_CFLAGS)
tests_bench_sup_latency_LDADD = $(COMMON_LIBS)
check_PROGRAMS += tests/bench/sup_slots
tests_bench_sup_slots_SOURCES = tests/bench/sup_slots.c
tests_bench_sup_slots_CFLAGS = $(COMMON_CFLAGS)
tests_bench_sup_slots_LDADD = $(COMMON_LIBS)
check_PROGRAMS += tests/bench/gen_suppress
tests_bench_gen_suppress_SOURCES = tests/bench/gen_suppress.c
tests_bench_gen_suppress_CFLAGS = $(COMMON_CFLAGS)

# tests of the bounce, complaint and unsubscribe intake
UNIT_TESTS += tests/unit/test_mime tests/unit/test_dsn tests/unit/test_bounce \
	tests/unit/test_bounce_rhost
tests_unit_test_mime_SOURCES = tests/unit/test_mime.c
tests_unit_test_mime_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_mime_LDADD = $(UNIT_LIBS)
tests_unit_test_dsn_SOURCES = tests/unit/test_dsn.c
tests_unit_test_dsn_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_dsn_LDADD = $(UNIT_LIBS)
tests_unit_test_bounce_SOURCES = tests/unit/test_bounce.c
tests_unit_test_bounce_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_bounce_LDADD = $(UNIT_LIBS)
UNIT_TESTS += tests/unit/test_report_digest
tests_unit_test_report_digest_SOURCES = tests/unit/test_report_digest.c
tests_unit_test_report_digest_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_report_digest_LDADD = $(UNIT_LIBS)
tests_unit_test_bounce_rhost_SOURCES = tests/unit/test_bounce_rhost.c
tests_unit_test_bounce_rhost_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_bounce_rhost_LDADD = $(UNIT_LIBS)
UNIT_TESTS += tests/unit/test_blname
tests_unit_test_blname_SOURCES = tests/unit/test_blname.c
tests_unit_test_blname_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_blname_LDADD = $(UNIT_LIBS)
UNIT_TESTS += tests/unit/test_json_scan
tests_unit_test_json_scan_SOURCES = tests/unit/test_json_scan.c
tests_unit_test_json_scan_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_json_scan_LDADD = $(UNIT_LIBS)

FUZZ_TARGETS += tests/fuzz/fuzz_mime tests/fuzz/fuzz_dsn tests/fuzz/fuzz_arf \
	tests/fuzz/fuzz_bounce
tests_fuzz_fuzz_mime_SOURCES = tests/fuzz/fuzz_mime.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_mime_CFLAGS = $(COMMON_CFLAGS)
tests_fuzz_fuzz_mime_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_mime_LDADD = $(COMMON_LIBS)
tests_fuzz_fuzz_dsn_SOURCES = tests/fuzz/fuzz_dsn.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_dsn_CFLAGS = $(COMMON_CFLAGS)
tests_fuzz_fuzz_dsn_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_dsn_LDADD = $(COMMON_LIBS)
tests_fuzz_fuzz_arf_SOURCES = tests/fuzz/fuzz_arf.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_arf_CFLAGS = $(COMMON_CFLAGS)
tests_fuzz_fuzz_arf_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_arf_LDADD = $(COMMON_LIBS)
tests_fuzz_fuzz_bounce_SOURCES = tests/fuzz/fuzz_bounce.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_bounce_CFLAGS = $(COMMON_CFLAGS)
tests_fuzz_fuzz_bounce_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_bounce_LDADD = $(COMMON_LIBS)

# agreement with the labelled samples; needs no root, so it always runs
TESTS += tests/bounce/classify-accuracy.sh
EXTRA_DIST += tests/bounce/classify-accuracy.sh tests/bench/classify-bench.sh \
	tests/bench/bounce-rcpts-bench.sh tests/data/bounces

# return-path tokens and the intake rules
UNIT_TESTS += tests/unit/test_verp
tests_unit_test_verp_SOURCES = tests/unit/test_verp.c tests/unit/testutil.h
tests_unit_test_verp_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_verp_LDADD = $(UNIT_LIBS)
UNIT_TESTS += tests/unit/test_retpath
tests_unit_test_retpath_SOURCES = tests/unit/test_retpath.c
tests_unit_test_retpath_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_retpath_LDADD = $(UNIT_LIBS)
FUZZ_TARGETS += tests/fuzz/fuzz_verp tests/fuzz/fuzz_report_digest tests/fuzz/fuzz_blname
tests_fuzz_fuzz_blname_SOURCES = tests/fuzz/fuzz_blname.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_blname_CFLAGS = $(COMMON_CFLAGS)
tests_fuzz_fuzz_blname_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_blname_LDADD = $(COMMON_LIBS)
tests_fuzz_fuzz_report_digest_SOURCES = tests/fuzz/fuzz_report_digest.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_report_digest_CFLAGS = $(COMMON_CFLAGS)
tests_fuzz_fuzz_report_digest_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_report_digest_LDADD = $(COMMON_LIBS)
tests_fuzz_fuzz_verp_SOURCES = tests/fuzz/fuzz_verp.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_verp_CFLAGS = $(COMMON_CFLAGS)
tests_fuzz_fuzz_verp_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_verp_LDADD = $(COMMON_LIBS)
check_PROGRAMS += tests/bench/verp_bench
tests_bench_verp_bench_SOURCES = tests/bench/verp_bench.c
tests_bench_verp_bench_CFLAGS = $(COMMON_CFLAGS)
tests_bench_verp_bench_LDADD = $(COMMON_LIBS)

# logging and systemd readiness of the daemons
INTEGRATION_TESTS += tests/integration/sd-notify.sh tests/integration/logging.sh
EXTRA_DIST += tests/lib/notify.py tests/lib/devlog.py

# the JSON writer of outpostctl --json, and its unit test
common_core_libcore_a_SOURCES += common/core/jsonw.c common/core/jsonw.h
UNIT_TESTS += tests/unit/test_jsonw tests/unit/test_events
tests_unit_test_events_SOURCES = tests/unit/test_events.c tests/unit/testutil.h
tests_unit_test_events_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_events_LDADD = $(UNIT_LIBS)
tests_unit_test_jsonw_SOURCES = tests/unit/test_jsonw.c
tests_unit_test_jsonw_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_jsonw_LDADD = $(UNIT_LIBS)
# rate-limited log lines; claiming a unix socket path
UNIT_TESTS += tests/unit/test_msg_limit tests/unit/test_sockguard
tests_unit_test_msg_limit_SOURCES = tests/unit/test_msg_limit.c
tests_unit_test_msg_limit_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_msg_limit_LDADD = $(UNIT_LIBS)
tests_unit_test_sockguard_SOURCES = tests/unit/test_sockguard.c
tests_unit_test_sockguard_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_sockguard_LDADD = $(UNIT_LIBS)
# the one rule that picks a sender's pool
UNIT_TESTS += tests/unit/test_pool_select
tests_unit_test_pool_select_SOURCES = tests/unit/test_pool_select.c tests/unit/testutil.h
tests_unit_test_pool_select_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_pool_select_LDADD = $(UNIT_LIBS)
# the messages of a command-line tool
UNIT_TESTS += tests/unit/test_msg_tool
tests_unit_test_msg_tool_SOURCES = tests/unit/test_msg_tool.c
tests_unit_test_msg_tool_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_msg_tool_LDADD = $(UNIT_LIBS)

# signed tokens of the web links (outpost-httpd)
common_report_libreport_a_SOURCES += common/report/webtoken.c common/report/webtoken.h
UNIT_TESTS += tests/unit/test_webtoken
tests_unit_test_webtoken_SOURCES = tests/unit/test_webtoken.c
tests_unit_test_webtoken_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_webtoken_LDADD = $(UNIT_LIBS)
FUZZ_TARGETS += tests/fuzz/fuzz_webtoken
tests_fuzz_fuzz_webtoken_SOURCES = tests/fuzz/fuzz_webtoken.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_webtoken_CFLAGS = $(COMMON_CFLAGS)
tests_fuzz_fuzz_webtoken_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_webtoken_LDADD = $(COMMON_LIBS)

# open and click tracking: rewriting a message's links
common_report_libreport_a_SOURCES += common/report/trackrw.c common/report/trackrw.h
UNIT_TESTS += tests/unit/test_trackrw
tests_unit_test_trackrw_SOURCES = tests/unit/test_trackrw.c
tests_unit_test_trackrw_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_trackrw_LDADD = $(UNIT_LIBS)
FUZZ_TARGETS += tests/fuzz/fuzz_trackrw
tests_fuzz_fuzz_trackrw_SOURCES = tests/fuzz/fuzz_trackrw.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_trackrw_CFLAGS = $(COMMON_CFLAGS)
tests_fuzz_fuzz_trackrw_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_trackrw_LDADD = $(COMMON_LIBS)
check_PROGRAMS += tests/bench/trackrw_bench
tests_bench_trackrw_bench_SOURCES = tests/bench/trackrw_bench.c
tests_bench_trackrw_bench_CFLAGS = $(COMMON_CFLAGS)
tests_bench_trackrw_bench_LDADD = $(COMMON_LIBS)
