# packaging/ - Debian packaging, systemd units, and the Sendmail side of the tests
INTEGRATION_TESTS += tests/integration/sendmail-relay.sh
EXTRA_DIST += tests/lib/sendmail.sh conf-examples/sendmail.mc conf-examples/postfix-sockets.cf
