# conf-examples/ - example configuration for Outpost, Postfix and Sendmail
EXTRA_DIST += conf-examples/outpost.conf
