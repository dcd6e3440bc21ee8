#!/bin/bash
# build-deb.sh - build the Debian package of Outpost from this source tree
#
# SYNOPSIS
#	packaging/build-deb.sh [OUTDIR]
#
# DESCRIPTION
#	Copies the source tree (the files git knows, tracked or not ignored; or,
#	outside a git checkout, everything but build products) into a temporary
#	directory, puts packaging/debian/ at its top as debian/, and runs
#	"dpkg-buildpackage -us -uc -b" there.  The .deb, .buildinfo and .changes
#	files end up in OUTDIR (default: the current directory); the build log in
#	OUTDIR/outpost-build.log.  Needs the Build-Depends of
#	packaging/debian/control (tests/install-deps.sh installs them).
#
#	DEB_BUILD_OPTIONS is passed on (e.g. "nocheck parallel=2").
#
# DIAGNOSTICS
#	Exit status 0 and the path of each .deb on stdout, or non-zero with the
#	tail of the build log.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-.}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# The package version must follow configure.ac's.
upstream=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' "$top/configure.ac")
debver=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$top/packaging/debian/changelog")
if [ "${debver%-*}" != "$upstream" ]; then
    echo "build-deb.sh: packaging/debian/changelog is at $debver, configure.ac at $upstream:" \
        "add a changelog entry" >&2
    exit 1
fi

work=$(mktemp -d /tmp/outpost-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
src=$work/outpost-$upstream
mkdir "$src"

if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # tracked files plus new ones not ignored (a build from a working copy)
    (cd "$top" && git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
        tar --null -T - -cf -) | tar -C "$src" -xf -
else
    (cd "$top" && tar --exclude=.git --exclude='./_build' --exclude='./build*' \
        --exclude=autom4te.cache --exclude='*.o' -cf - .) | tar -C "$src" -xf -
fi
# debian/ at the top, as dpkg-buildpackage wants it; no generated files from the
# tree it was copied from (dh_autoreconf regenerates them).
rm -rf "$src/debian"
cp -a "$top/packaging/debian" "$src/debian"

echo "build-deb.sh: building outpost $debver in $src" >&2
if ! (cd "$src" && dpkg-buildpackage -us -uc -b) >"$out/outpost-build.log" 2>&1; then
    tail -n 40 "$out/outpost-build.log" >&2
    echo "build-deb.sh: dpkg-buildpackage failed (log: $out/outpost-build.log)" >&2
    exit 1
fi
for f in "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes; do
    [ -e "$f" ] || continue
    cp "$f" "$out/"
    case $f in *.deb) echo "$out/${f##*/}" ;; esac
done
