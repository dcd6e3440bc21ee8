# httpd/ - outpost-httpd, the recipients' web endpoint: unsubscribe, opens, clicks
sbin_PROGRAMS += outpost-httpd
outpost_httpd_SOURCES = httpd/main.c httpd/serve.c httpd/serve.h \
	httpd/clientaddr.c httpd/clientaddr.h httpd/authlimit.c httpd/authlimit.h \
	httpd/work.c httpd/work.h httpd/tally.c httpd/tally.h \
	httpd/machine.c httpd/machine.h \
	httpd/hmetrics.c httpd/hmetrics.h httpd/mhdstart.c httpd/mhdstart.h \
	httpd/hsettings.c httpd/hsettings.h \
	httpd/compose.c httpd/compose.h httpd/submit.c httpd/submit.h \
	httpd/api_messages.c httpd/api_messages.h \
	httpd/api.c httpd/api.h httpd/api_parse.c httpd/api_parse.h \
	httpd/api_work.c httpd/api_work.h
nodist_outpost_httpd_SOURCES = httpd/api_gcra_lua.h
outpost_httpd_CFLAGS = $(COMMON_CFLAGS) $(MHD_CFLAGS) $(LIBEVENT_CFLAGS) \
	-I$(top_builddir)/httpd
outpost_httpd_LDADD = $(CHECK_LIBS) $(COMMON_LIBS) $(MHD_LIBS) $(LIBEVENT_LIBS)

# the machine-open classifier on recorded request signatures
UNIT_TESTS += tests/unit/test_machine
tests_unit_test_machine_SOURCES = tests/unit/test_machine.c httpd/machine.c httpd/machine.h
tests_unit_test_machine_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/httpd
tests_unit_test_machine_LDADD = $(UNIT_LIBS)

# the API's limit of failed authentications per client address
UNIT_TESTS += tests/unit/test_authlimit
tests_unit_test_authlimit_SOURCES = tests/unit/test_authlimit.c httpd/authlimit.c \
	httpd/authlimit.h
tests_unit_test_authlimit_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/httpd
tests_unit_test_authlimit_LDADD = $(UNIT_LIBS) -lpthread

# the worker's sums of a round's counts
UNIT_TESTS += tests/unit/test_tally
tests_unit_test_tally_SOURCES = tests/unit/test_tally.c httpd/tally.c httpd/tally.h
tests_unit_test_tally_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/httpd
tests_unit_test_tally_LDADD = $(UNIT_LIBS)

# POST /v1/messages: the message built from the JSON body
UNIT_TESTS += tests/unit/test_compose
tests_unit_test_compose_SOURCES = tests/unit/test_compose.c httpd/compose.c httpd/compose.h
tests_unit_test_compose_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/httpd
tests_unit_test_compose_LDADD = $(UNIT_LIBS)

# its SMTP client against a scripted server
UNIT_TESTS += tests/unit/test_submit
tests_unit_test_submit_SOURCES = tests/unit/test_submit.c httpd/submit.c httpd/submit.h
tests_unit_test_submit_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/httpd
tests_unit_test_submit_LDADD = $(UNIT_LIBS) -lpthread

# POST /v1/messages without the HTTP server, for the tests and the benchmark
check_PROGRAMS += tests/helpers/api-messages-probe
tests_helpers_api_messages_probe_SOURCES = tests/helpers/api-messages-probe.c \
	httpd/compose.c httpd/submit.c httpd/api_messages.c
tests_helpers_api_messages_probe_CFLAGS = $(COMMON_CFLAGS) -I$(top_srcdir)/httpd
tests_helpers_api_messages_probe_LDADD = $(COMMON_LIBS) -lpthread

# a token maker for the tests (what the milter writes into messages)
check_PROGRAMS += tests/lib/webtoken-mint
tests_lib_webtoken_mint_SOURCES = tests/lib/webtoken-mint.c
tests_lib_webtoken_mint_CFLAGS = $(COMMON_CFLAGS)
tests_lib_webtoken_mint_LDADD = $(COMMON_LIBS)

INTEGRATION_TESTS += tests/integration/httpd-unsub.sh tests/integration/httpd-track.sh \
	tests/integration/httpd-browser.sh tests/integration/api-messages.sh
EXTRA_DIST += tests/lib/browser.py

dist_man_MANS += doc/outpost-httpd.8
# the browser test's screenshots
clean-local:
	-rm -rf tests/integration/httpd-browser.d
EXTRA_DIST += tests/bench/httpd-bench.sh tests/bench/api-submit-bench.sh \
	tests/bench/httpd-api-bench.sh

# the API's rate limit runs policyd's throttling script, compiled in as a C string
httpd/api_gcra_lua.h: $(top_srcdir)/policy/gcra.lua
	$(AM_V_GEN)$(MKDIR_P) httpd && { \
	  echo '/* generated from policy/gcra.lua by make: do not edit */'; \
	  echo 'static const char api_gcra_lua[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' \
	    $(top_srcdir)/policy/gcra.lua; \
	  echo ';'; } > $@.tmp && mv $@.tmp $@
httpd/outpost_httpd-api_work.$(OBJEXT): httpd/api_gcra_lua.h
CLEANFILES += httpd/api_gcra_lua.h

# the API's parsers: routes, queries, keys, rows
UNIT_TESTS += tests/unit/test_api_parse
tests_unit_test_api_parse_SOURCES = tests/unit/test_api_parse.c tests/unit/testutil.h \
	httpd/api_parse.c httpd/api_parse.h
tests_unit_test_api_parse_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/httpd
tests_unit_test_api_parse_LDADD = $(UNIT_LIBS)
FUZZ_TARGETS += tests/fuzz/fuzz_api_request
tests_fuzz_fuzz_api_request_SOURCES = tests/fuzz/fuzz_api_request.c \
	httpd/api_parse.c httpd/api_parse.h $(FUZZ_DRIVER)
tests_fuzz_fuzz_api_request_CFLAGS = $(COMMON_CFLAGS) -I$(top_srcdir)/httpd
tests_fuzz_fuzz_api_request_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_api_request_LDADD = $(COMMON_LIBS)
INTEGRATION_TESTS += tests/integration/httpd-api.sh tests/integration/api-verify.sh \
	tests/integration/httpd-reload.sh tests/integration/api-authlimit.sh
EXTRA_DIST += doc/openapi.yaml tests/lib/openapi-check.py
