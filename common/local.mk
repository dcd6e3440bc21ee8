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
	common/xalloc.c common/xalloc.h
common_libcommon_a_CFLAGS = $(AM_CFLAGS) $(HIREDIS_CFLAGS) $(INIH_CFLAGS) \
	$(IDN2_CFLAGS) $(LIBCRYPTO_CFLAGS)

# what linking against libcommon.a brings in
COMMON_LIBS = common/libcommon.a $(HIREDIS_LIBS) $(INIH_LIBS) $(IDN2_LIBS) \
	$(LIBCRYPTO_LIBS)
COMMON_CFLAGS = $(AM_CFLAGS) $(HIREDIS_CFLAGS)

# delivery tracking: log lines, statistics, backoff
common_libcommon_a_SOURCES += common/maillog.c common/maillog.h \
	common/stats.c common/stats.h common/backoff.c common/backoff.h
