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
TESTS += tests/fuzz/corpus.sh
endif

tests_fuzz_fuzz_conf_SOURCES = tests/fuzz/fuzz_conf.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_conf_CFLAGS = $(COMMON_CFLAGS)
tests_fuzz_fuzz_conf_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_conf_LDADD = $(COMMON_LIBS)

EXTRA_DIST += tests/fuzz/corpus.sh tests/fuzz/driver.c tests/fuzz/corpus

# the reader of the Redis server's INFO text (common/redischeck.c)
FUZZ_TARGETS += tests/fuzz/fuzz_redis_info
tests_fuzz_fuzz_redis_info_SOURCES = tests/fuzz/fuzz_redis_info.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_redis_info_CFLAGS = $(COMMON_CFLAGS)
tests_fuzz_fuzz_redis_info_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_redis_info_LDADD = $(COMMON_LIBS)
