# ctl/ - outpostctl
sbin_PROGRAMS += outpostctl
outpostctl_SOURCES = ctl/main.c ctl/ctl.h ctl/dkim.c
outpostctl_CFLAGS = $(COMMON_CFLAGS)
outpostctl_LDADD = $(COMMON_LIBS)
