# ctl/ - outpostctl
sbin_PROGRAMS += outpostctl
outpostctl_SOURCES = ctl/main.c ctl/ctl.h \
	ctl/dns.c ctl/verify.c ctl/onboard.c ctl/onboard.h
outpostctl_CFLAGS = $(COMMON_CFLAGS)
outpostctl_LDADD = $(COMMON_LIBS) $(SPF2_LIBS)

INTEGRATION_TESTS += tests/integration/dns-verify.sh
