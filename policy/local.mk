# policy/ - outpost-policyd
sbin_PROGRAMS += outpost-policyd
outpost_policyd_SOURCES = policy/main.c
outpost_policyd_CFLAGS = $(COMMON_CFLAGS) $(LIBEVENT_CFLAGS)
outpost_policyd_LDADD = $(COMMON_LIBS) $(LIBEVENT_LIBS)
