#!/bin/sh
# install-deps.sh - install every Debian package Outpost needs to build, test and demo.
#
# Idempotent: one "apt-get update", then one "apt-get install" of the whole list.
# Postfix is installed without questions and its system instance is never started;
# the tests and the demo run private instances of every server.
set -eu

PKGS="
 build-essential autoconf automake libtool pkg-config clang llvm libclang-rt-14-dev
 clang-tools-14 clang-tidy-14 cppcheck bear
 libmilter-dev libopendkim-dev libspf2-dev libhiredis-dev libssl-dev libevent-dev
 libinih-dev libidn2-dev libcmocka-dev libc-ares-dev libpsl-dev libsystemd-dev
 libseccomp-dev
 redis-server redis-tools postfix dnsmasq-base swaks miltertest sasl2-bin
 opendkim opendkim-tools python3 python3-dkim libmail-dkim-perl
 iproute2 util-linux procps psmisc postfwd tzdata openssl
 mandoc groff-base dpkg-dev debhelper fakeroot lintian systemd m4
 prometheus
 libmicrohttpd-dev curl chromium chromium-driver python3-selenium nginx-light wrk
 python3-jsonschema python3-yaml stunnel4
"

export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" != 0 ]; then
    echo "install-deps.sh: run as root (it calls apt-get)" >&2
    exit 1
fi

echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
if [ -n "$missing" ]; then
    apt-get update -q
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $missing
fi

# A private Sendmail for the tests: Debian's packages unpacked, never installed (it
# would replace Postfix); downloaded once into /var/cache/outpost-test/sendmail.
bash "$(dirname "$0")/lib/sendmail.sh" fetch || echo "install-deps.sh: Sendmail tests will be skipped" >&2

# Packaged daemons must not run on the host: every test starts its own.
for svc in postfix redis-server opendkim postfwd saslauthd nginx; do
    if command -v systemctl >/dev/null 2>&1; then
        systemctl disable --now "$svc" >/dev/null 2>&1 || true
    fi
    service "$svc" stop >/dev/null 2>&1 || true
done
exit 0
