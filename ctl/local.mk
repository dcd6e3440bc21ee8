# ctl/ - outpostctl
sbin_PROGRAMS += outpostctl
outpostctl_SOURCES = ctl/main.c ctl/ctl.h ctl/help.c ctl/day.c \
	ctl/dns.c ctl/verify.c ctl/onboard.c \
	ctl/classify.c ctl/suppress.c ctl/suppress_import.c ctl/dkim.c \
	ctl/intake.c ctl/cluster.c ctl/check_postfix.c ctl/reputation.c \
	ctl/testsend.c ctl/webhooks.c
outpostctl_CFLAGS = $(COMMON_CFLAGS)
outpostctl_LDADD = $(CHECK_LIBS) $(COMMON_LIBS)

INTEGRATION_TESTS += tests/integration/dns-verify.sh tests/integration/two-nodes.sh \
	tests/integration/return-path.sh tests/integration/ctl-cli.sh \
	tests/integration/check-postfix.sh

UNIT_TESTS += tests/unit/test_spfrec tests/unit/test_dmarcrec tests/unit/test_spfwalk \
	tests/unit/test_conf_dns
tests_unit_test_conf_dns_SOURCES = tests/unit/test_conf_dns.c tests/unit/testutil.h
tests_unit_test_conf_dns_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_conf_dns_LDADD = $(UNIT_LIBS)
tests_unit_test_spfrec_SOURCES = tests/unit/test_spfrec.c
tests_unit_test_spfrec_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_spfrec_LDADD = $(UNIT_LIBS)
tests_unit_test_dmarcrec_SOURCES = tests/unit/test_dmarcrec.c
tests_unit_test_dmarcrec_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_dmarcrec_LDADD = $(UNIT_LIBS)
tests_unit_test_spfwalk_SOURCES = tests/unit/test_spfwalk.c
tests_unit_test_spfwalk_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_spfwalk_LDADD = $(UNIT_LIBS)

FUZZ_TARGETS += tests/fuzz/fuzz_spfrec tests/fuzz/fuzz_dmarcrec
tests_fuzz_fuzz_spfrec_SOURCES = tests/fuzz/fuzz_spfrec.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_spfrec_CFLAGS = $(COMMON_CFLAGS)
tests_fuzz_fuzz_spfrec_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_spfrec_LDADD = $(COMMON_LIBS)
tests_fuzz_fuzz_dmarcrec_SOURCES = tests/fuzz/fuzz_dmarcrec.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_dmarcrec_CFLAGS = $(COMMON_CFLAGS)
tests_fuzz_fuzz_dmarcrec_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_dmarcrec_LDADD = $(COMMON_LIBS)

# outpostctl warmup / throttle: the policy daemon's state
outpostctl_SOURCES += ctl/warmup.c ctl/ctl_warmup.h
# delivery statistics and provider backoffs (with outpost-logd)
outpostctl_SOURCES += ctl/stats.c ctl/backoff.c ctl/events.c
# the keys of the platform API (outpost-httpd)
outpostctl_SOURCES += ctl/apikey.c

# outpostctl reputation: DNS blocklists (common/dns/dnsbl.c)
INTEGRATION_TESTS += tests/integration/reputation.sh
UNIT_TESTS += tests/unit/test_dnsbl
tests_unit_test_dnsbl_SOURCES = tests/unit/test_dnsbl.c
tests_unit_test_dnsbl_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_dnsbl_LDADD = $(UNIT_LIBS)
FUZZ_TARGETS += tests/fuzz/fuzz_dnsbl
tests_fuzz_fuzz_dnsbl_SOURCES = tests/fuzz/fuzz_dnsbl.c $(FUZZ_DRIVER)
tests_fuzz_fuzz_dnsbl_CFLAGS = $(COMMON_CFLAGS)
tests_fuzz_fuzz_dnsbl_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_dnsbl_LDADD = $(COMMON_LIBS)
