# milter/ - outpost-milter
sbin_PROGRAMS += outpost-milter
MILTER_CORE = milter/dkimsign.c milter/dkimsign.h milter/fromhdr.c milter/fromhdr.h \
	milter/authz.c milter/authz.h
outpost_milter_SOURCES = milter/main.c milter/filter.c milter/filter.h $(MILTER_CORE)
outpost_milter_CFLAGS = $(COMMON_CFLAGS) $(OPENDKIM_CFLAGS)
outpost_milter_LDADD = $(COMMON_LIBS) $(OPENDKIM_LIBS) $(MILTER_LIBS)
