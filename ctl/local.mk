# ctl/ - outpostctl
sbin_PROGRAMS += outpostctl
outpostctl_SOURCES = ctl/main.c ctl/ctl.h
outpostctl_CFLAGS = $(COMMON_CFLAGS)
outpostctl_LDADD = $(COMMON_LIBS)

# outpostctl warmup / throttle: the policy daemon's state
outpostctl_SOURCES += ctl/warmup.c ctl/ctl_warmup.h policy/limits.c policy/provider.c
