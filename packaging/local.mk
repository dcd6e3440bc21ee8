# packaging/ - Debian packaging, systemd units, and what tests them: the package
# test (tests/package/, run by tests/run-all.sh, not by "make check": it installs
# the package on the machine) and the Sendmail side of the integration tests.
INTEGRATION_TESTS += tests/integration/sendmail-relay.sh tests/integration/privileges.sh
EXTRA_DIST += packaging/build-deb.sh packaging/debian \
	packaging/systemd/outpost-milter.service packaging/systemd/outpost-policyd.service \
	packaging/systemd/outpost-logd.service packaging/systemd/outpost-httpd.service \
	packaging/systemd/outpost-webhookd.service \
	tests/package/test-package.sh tests/package/install-doc.sh tests/lib/docblocks.py \
	tests/lib/sendmail.sh \
	conf-examples/postfix-sockets.cf doc/INSTALL.md
