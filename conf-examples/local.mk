# conf-examples/ - example configuration for Outpost, Postfix and Sendmail
EXTRA_DIST += conf-examples/outpost.conf conf-examples/dkim-keys conf-examples/sasl-domains \
	conf-examples/postfix-main.cf conf-examples/sendmail.mc
EXTRA_DIST += conf-examples/postfix-policyd-main.cf conf-examples/postfix-policyd-master.cf \
	conf-examples/throttling-guide.md
EXTRA_DIST += conf-examples/httpd-nginx.conf conf-examples/httpd-caddy.conf \
	conf-examples/stunnel-redis.conf
