#!/bin/sh
# autogen.sh - make ./configure from configure.ac and Makefile.am
set -e
cd "$(dirname "$0")"
mkdir -p build-aux m4
autoreconf -fi
# automake installs tap-driver.sh only when asked by name
cp -f "$(automake --print-libdir)/tap-driver.sh" build-aux/tap-driver.sh
