# conf-examples/ - example configuration for Outpost, Postfix and Sendmail
EXTRA_DIST += conf-examples/outpost.conf
EXTRA_DIST += conf-examples/postfix-policyd-main.cf conf-examples/postfix-policyd-master.cf \
	conf-examples/throttling-guide.md
