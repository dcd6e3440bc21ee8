# common/ - code every program shares, as one static library
noinst_LIBRARIES += common/libcommon.a
common_libcommon_a_SOURCES = \
	common/addr.c common/addr.h \
	common/conf.c common/conf.h \
	common/keytable.c common/keytable.h \
	common/confval.c common/confval.h \
	common/msg.c common/msg.h \
	common/privs.c common/privs.h \
	common/redisconn.c common/redisconn.h \
	common/suppress.c common/suppress.h \
	common/xalloc.c common/xalloc.h
common_libcommon_a_CFLAGS = $(AM_CFLAGS) $(HIREDIS_CFLAGS) $(INIH_CFLAGS) \
	$(IDN2_CFLAGS) $(LIBCRYPTO_CFLAGS)

# what linking against libcommon.a brings in
COMMON_LIBS = common/libcommon.a $(HIREDIS_LIBS) $(INIH_LIBS) $(IDN2_LIBS) \
	$(LIBCRYPTO_LIBS)
COMMON_CFLAGS = $(AM_CFLAGS) $(HIREDIS_CFLAGS)

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
EXTRA_DIST += tests/bench/suppress-bench.sh tests/bench/gen-suppress-csv.py
dist_man_MANS += doc/outpost-suppress.7
check_PROGRAMS += tests/bench/sup_latency
tests_bench_sup_latency_SOURCES = tests/bench/sup_latency.c
tests_bench_sup_latency_CFLAGS = $(COMMON_CFLAGS)
tests_bench_sup_latency_LDADD = $(COMMON_LIBS)
