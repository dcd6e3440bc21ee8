# milter/ - outpost-milter
sbin_PROGRAMS += outpost-milter
outpost_milter_SOURCES = milter/main.c milter/rcpt_check.c milter/rcpt_check.h
outpost_milter_CFLAGS = $(COMMON_CFLAGS) $(OPENDKIM_CFLAGS)
outpost_milter_LDADD = $(COMMON_LIBS) $(OPENDKIM_LIBS) $(MILTER_LIBS)
