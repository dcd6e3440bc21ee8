#!/bin/bash
# run-all.sh - install what is needed, build, and run every test of Outpost
#
# SYNOPSIS
#	tests/run-all.sh		(as root, from anywhere)
#
# DESCRIPTION
#	Installs the Debian packages (tests/install-deps.sh), then builds twice,
#	normally and with AddressSanitizer + UBSan (--enable-sanitizers), and
#	runs "make check" (unit, fuzz-corpus and integration tests) in each;
#	then fuzzes each fuzz target for 3 seconds in a libFuzzer build
#	(CC=clang --enable-fuzzers, tests/fuzz/README.md); then static analysis
#	(tests/static-analysis.sh: scan-build, cppcheck, clang-tidy); then the
#	Debian package tests (tests/package/test-package.sh, and
#	tests/package/install-doc.sh, which follows doc/INSTALL.md on the
#	installed package) and "make distcheck".  Build trees live under _build/.  Ends with the
#	line "N passed, N failed" (and skipped, if any) over all test cases;
#	exit status 0 only if nothing failed.
#
#	The tests of a build run 2 x nproc at once in the normal build (the
#	integration tests mostly wait on their daemons) and nproc + 1 in the
#	sanitizer build; OUTPOST_CHECK_JOBS sets both.
#
#	OUTPOST_SKIP_SANITIZERS=1, OUTPOST_SKIP_FUZZ=1, OUTPOST_SKIP_STATIC=1,
#	OUTPOST_SKIP_PACKAGE=1 and OUTPOST_SKIP_DISTCHECK=1 shorten a local run.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
jobs=$(nproc 2>/dev/null || echo 2)
pass=0 fail=0 skip=0
t0=$(date +%s)

say() { printf '=== %s (%ds)\n' "$*" $(($(date +%s) - t0)); }

# count - add the PASS/FAIL/ERROR/SKIP lines of a test-suite.log
count() {
    local log=$1 p f e s
    p=$(sed -n 's/^# PASS: *//p' "$log" | head -n1)
    f=$(sed -n 's/^# FAIL: *//p' "$log" | head -n1)
    e=$(sed -n 's/^# ERROR: *//p' "$log" | head -n1)
    s=$(sed -n 's/^# SKIP: *//p' "$log" | head -n1)
    pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0} + ${e:-0})); skip=$((skip + ${s:-0}))
    grep -E '^(FAIL|ERROR):' "$log" | head -n 40
}

# build_and_check NAME CHECK-JOBS CONFIGURE-ARGS... - one build tree, make check
build_and_check() {
    local name=$1 cjobs=${OUTPOST_CHECK_JOBS:-$2}; shift 2
    local dir=$top/_build/$name
    say "build $name"
    mkdir -p "$dir"
    if ! (cd "$dir" && "$top/configure" "$@" >configure.out 2>&1 && make -j"$jobs" >make.out 2>&1); then
        echo "build $name FAILED"; tail -n 40 "$dir/configure.out" "$dir/make.out"
        fail=$((fail + 1)); return
    fi
    say "check $name"
    rm -f "$dir/test-suite.log"
    (cd "$dir" && make -j"$cjobs" check >check.out 2>&1)
    if [ -f "$dir/test-suite.log" ]; then
        count "$dir/test-suite.log"
        grep -E '^(FAIL|ERROR):' "$dir/test-suite.log" >/dev/null &&
            sed -n '/^FAIL:\|^ERROR:/,/^$/p' "$dir"/tests/*/*.log 2>/dev/null | head -n 200
    else
        echo "check $name produced no test-suite.log"; tail -n 40 "$dir/check.out"
        fail=$((fail + 1))
    fi
}

say "install packages"
if ! bash tests/install-deps.sh >"$top/_install.log" 2>&1; then
    tail -n 30 "$top/_install.log"; echo "0 passed, 1 failed"; exit 1
fi
say "autogen"
./autogen.sh >/dev/null 2>&1 || { echo "autogen failed"; echo "0 passed, 1 failed"; exit 1; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
build_and_check normal $((jobs * 2))
[ -n "${OUTPOST_SKIP_SANITIZERS:-}" ] || build_and_check sanitizers $((jobs + 1)) --enable-sanitizers

# The fuzz targets under libFuzzer: each a few seconds from its corpus.
if [ -z "${OUTPOST_SKIP_FUZZ:-}" ]; then
    say "build fuzz"
    dir=$top/_build/fuzz
    mkdir -p "$dir"
    if (cd "$dir" && CC=clang "$top/configure" --enable-fuzzers --enable-sanitizers \
            >configure.out 2>&1 && make -j"$jobs" >make.out 2>&1); then
        say "fuzz"
        rm -f "$dir/test-suite.log"
        (cd "$dir" && make check TESTS=tests/fuzz/corpus.sh FUZZ_SECONDS=3 >check.out 2>&1)
        count "$dir/test-suite.log"
    else
        echo "build fuzz FAILED"; tail -n 40 "$dir/configure.out" "$dir/make.out"
        fail=$((fail + 1))
    fi
fi

# Static analysis: scan-build, cppcheck, clang-tidy over the daemons' code (TAP;
# a tool that is not installed is a skip).
if [ -z "${OUTPOST_SKIP_STATIC:-}" ]; then
    say "static analysis"
    bash tests/static-analysis.sh >"$top/_build/static-analysis.log" 2>&1
    src=$?
    s=$(grep -c '^ok .*# SKIP' "$top/_build/static-analysis.log")
    p=$(grep -c '^ok ' "$top/_build/static-analysis.log"); f=$(grep -c '^not ok ' "$top/_build/static-analysis.log")
    [ "$src" != 0 ] && [ "$f" = 0 ] && f=1
    pass=$((pass + p - s)); fail=$((fail + f)); skip=$((skip + s))
    [ "$f" = 0 ] || grep -v '^ok ' "$top/_build/static-analysis.log" | head -n 60
fi

# The Debian package, built once: install on this machine, check, purge; then
# doc/INSTALL.md followed on it (TAP each).
if [ -z "${OUTPOST_SKIP_PACKAGE:-}" ]; then
    say "package"
    rm -rf "$top/_build/deb"
    if deb=$(DEB_BUILD_OPTIONS="nocheck parallel=$jobs" packaging/build-deb.sh "$top/_build/deb" \
        2>"$top/_build/deb.err" | grep '/outpost_[^/]*\.deb$'); then
        pass=$((pass + 1)); echo "ok - packaging/build-deb.sh"
        export OUTPOST_DEB=$deb
    else
        fail=$((fail + 1)); echo "not ok - packaging/build-deb.sh"; tail -n 30 "$top/_build/deb.err"
    fi
    for t in test-package install-doc; do
        say "package: $t"
        bash "tests/package/$t.sh" >"$top/_build/$t.log" 2>&1
        prc=$?
        p=$(grep -c '^ok ' "$top/_build/$t.log"); f=$(grep -c '^not ok ' "$top/_build/$t.log")
        [ "$prc" != 0 ] && [ "$f" = 0 ] && f=1
        pass=$((pass + p)); fail=$((fail + f))
        [ "$f" = 0 ] || grep -v '^ok ' "$top/_build/$t.log" | head -n 60
    done
    unset OUTPOST_DEB
fi

if [ -z "${OUTPOST_SKIP_DISTCHECK:-}" ]; then
    say "distcheck"
    if (cd "$top/_build/normal" && make -j"$jobs" distcheck >distcheck.out 2>&1); then
        pass=$((pass + 1)); echo "ok - make distcheck"
    else
        fail=$((fail + 1)); echo "not ok - make distcheck"; tail -n 40 "$top/_build/normal/distcheck.out"
    fi
fi
say "done"
if [ "$skip" -gt 0 ]; then
    echo "$pass passed, $fail failed, $skip skipped"
else
    echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
