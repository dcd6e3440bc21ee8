# tests/fuzz/ - fuzz targets for every parser of outside input
#
# Each fuzz_NAME.c defines LLVMFuzzerTestOneInput().  With --enable-fuzzers
# (CC=clang) they link against libFuzzer: run ./tests/fuzz/fuzz_NAME
# tests/fuzz/corpus/NAME.  Otherwise driver.c gives them a main() that
# replays files, and "make check" replays each seed corpus (corpus.sh), so
# every build runs every target over its seeds under the sanitizers.

FUZZ_TARGETS += tests/fuzz/fuzz_conf

if FUZZERS
noinst_PROGRAMS += $(FUZZ_TARGETS)
FUZZ_DRIVER =
FUZZ_LINK = -fsanitize=fuzzer
else
check_PROGRAMS += $(FUZZ_TARGETS)
FUZZ_DRIVER = tests/fuzz/driver.c
FUZZ_LINK =
endif
# replays the corpora; in a libFuzzer build, fuzzes each target briefly too
TESTS += tests/fuzz/corpus.sh

tests_fuzz_fuzz_conf_SOURCES = tests/fuzz/fuzz_conf.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_conf_CFLAGS = $(COMMON_CFLAGS)
tests_fuzz_fuzz_conf_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_conf_LDADD = $(COMMON_LIBS)

EXTRA_DIST += tests/fuzz/corpus.sh tests/fuzz/driver.c tests/fuzz/corpus \
	tests/fuzz/run-all.sh tests/fuzz/README.md tests/fuzz/dict

# the reader of the Redis server's INFO text (common/core/redischeck.c)
FUZZ_TARGETS += tests/fuzz/fuzz_redis_info
tests_fuzz_fuzz_redis_info_SOURCES = tests/fuzz/fuzz_redis_info.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_redis_info_CFLAGS = $(COMMON_CFLAGS)
tests_fuzz_fuzz_redis_info_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_redis_info_LDADD = $(COMMON_LIBS)

# outside input without a target of its own elsewhere: the JSON reader and
# SES notices, DNS answers, the key table, warm-up schedules, time zones
# and dates, the Redis server address
FUZZ_TARGETS += tests/fuzz/fuzz_json_scan
tests_fuzz_fuzz_json_scan_SOURCES = tests/fuzz/fuzz_json_scan.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_json_scan_CFLAGS = $(COMMON_CFLAGS)
tests_fuzz_fuzz_json_scan_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_json_scan_LDADD = $(COMMON_LIBS)
FUZZ_TARGETS += tests/fuzz/fuzz_ses
tests_fuzz_fuzz_ses_SOURCES = tests/fuzz/fuzz_ses.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_ses_CFLAGS = $(COMMON_CFLAGS)
tests_fuzz_fuzz_ses_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_ses_LDADD = $(COMMON_LIBS)
FUZZ_TARGETS += tests/fuzz/fuzz_dns_answer
tests_fuzz_fuzz_dns_answer_SOURCES = tests/fuzz/fuzz_dns_answer.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_dns_answer_CFLAGS = $(COMMON_CFLAGS)
tests_fuzz_fuzz_dns_answer_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_dns_answer_LDADD = $(COMMON_LIBS)
FUZZ_TARGETS += tests/fuzz/fuzz_keytable
tests_fuzz_fuzz_keytable_SOURCES = tests/fuzz/fuzz_keytable.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_keytable_CFLAGS = $(COMMON_CFLAGS)
tests_fuzz_fuzz_keytable_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_keytable_LDADD = $(COMMON_LIBS)
FUZZ_TARGETS += tests/fuzz/fuzz_keyedit
tests_fuzz_fuzz_keyedit_SOURCES = tests/fuzz/fuzz_keyedit.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_keyedit_CFLAGS = $(COMMON_CFLAGS)
tests_fuzz_fuzz_keyedit_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_keyedit_LDADD = $(COMMON_LIBS)
FUZZ_TARGETS += tests/fuzz/fuzz_warmup
tests_fuzz_fuzz_warmup_SOURCES = tests/fuzz/fuzz_warmup.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_warmup_CFLAGS = $(COMMON_CFLAGS)
tests_fuzz_fuzz_warmup_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_warmup_LDADD = $(COMMON_LIBS)
FUZZ_TARGETS += tests/fuzz/fuzz_tz_date
tests_fuzz_fuzz_tz_date_SOURCES = tests/fuzz/fuzz_tz_date.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_tz_date_CFLAGS = $(COMMON_CFLAGS)
tests_fuzz_fuzz_tz_date_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_tz_date_LDADD = $(COMMON_LIBS)
FUZZ_TARGETS += tests/fuzz/fuzz_redis_server
tests_fuzz_fuzz_redis_server_SOURCES = tests/fuzz/fuzz_redis_server.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_redis_server_CFLAGS = $(COMMON_CFLAGS)
tests_fuzz_fuzz_redis_server_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_redis_server_LDADD = $(COMMON_LIBS)

# the address and domain normaliser (common/core/addr.c): every address from outside
FUZZ_TARGETS += tests/fuzz/fuzz_addr
tests_fuzz_fuzz_addr_SOURCES = tests/fuzz/fuzz_addr.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_addr_CFLAGS = $(COMMON_CFLAGS)
tests_fuzz_fuzz_addr_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_addr_LDADD = $(COMMON_LIBS)

# the cluster client's readers of MOVED/ASK and of the slot map (common/core/rcluster.c)
FUZZ_TARGETS += tests/fuzz/fuzz_rcluster
tests_fuzz_fuzz_rcluster_SOURCES = tests/fuzz/fuzz_rcluster.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_rcluster_CFLAGS = $(COMMON_CFLAGS)
tests_fuzz_fuzz_rcluster_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_rcluster_LDADD = $(COMMON_LIBS)

FUZZ_TARGETS += tests/fuzz/fuzz_compose
tests_fuzz_fuzz_compose_SOURCES = tests/fuzz/fuzz_compose.c httpd/compose.c httpd/compose.h \
	$(FUZZ_DRIVER)
tests_fuzz_fuzz_compose_CFLAGS = $(COMMON_CFLAGS) -I$(top_srcdir)/httpd
tests_fuzz_fuzz_compose_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_compose_LDADD = $(COMMON_LIBS)
