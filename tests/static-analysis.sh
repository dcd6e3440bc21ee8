#!/bin/bash
# static-analysis.sh - cppcheck, clang-tidy and scan-build over Outpost's C code (TAP)
#
# SYNOPSIS
#	tests/static-analysis.sh		(from anywhere; the tree must have ./configure)
#
# DESCRIPTION
#	Configures a build tree of its own (_build/static, or $STATIC_DIR) and builds
#	the four programs under scan-build (the Clang static analyzer) inside bear,
#	which records compile_commands.json; then runs cppcheck and clang-tidy over
#	the same files with the same flags.  The code analysed is the daemons', the
#	tool's and the shared code (common/, milter/, policy/, logd/, ctl/, httpd/); tests
#	and benchmarks are not.  One TAP test per tool; a tool not installed is
#	skipped.  A test passes when every finding is suppressed with a reason:
#	    .clang-tidy                  the checks, and why the left-out ones are
#	    tests/static/cppcheck.supp   ID:FILE-GLOB  # reason
#	    tests/static/scan-build.supp FILE CHECKER reason
#	A suppression that matches nothing any more is reported as a comment.
#	Findings are listed as TAP comments; the full outputs stay in the build
#	tree (scan.log, cppcheck.txt, clang-tidy.txt, reports/).
#
#	Needs: cppcheck, clang-tidy (14), scan-build (clang-tools-14), bear;
#	tests/install-deps.sh installs them.  About 2 minutes on 2 idle cores.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
out=${STATIC_DIR:-$top/_build/static}
jobs=$(nproc 2>/dev/null || echo 2)
n=0 failed=0

echo "1..3"
# result STATUS NAME [DIRECTIVE] - one TAP line
result() {
    n=$((n + 1))
    if [ "$1" = 0 ]; then echo "ok $n - $2${3:+ # $3}"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
skip3() { for t in scan-build cppcheck clang-tidy; do result 0 "$t" "SKIP $1"; done; exit 0; }
comment() { sed 's/^/# /'; }

tidy=$(command -v clang-tidy-14 || command -v clang-tidy)
scan=$(command -v scan-build-14 || command -v scan-build)
for t in cppcheck bear "$tidy" "$scan"; do
    [ -n "$t" ] && command -v "$t" >/dev/null || skip3 "${t:-clang-tidy or scan-build} not installed (tests/install-deps.sh)"
done
[ -x "$top/configure" ] || skip3 "no ./configure (run ./autogen.sh)"

# --- build under scan-build, recording the compile commands --------------------
rm -rf "$out"
mkdir -p "$out"
cd "$out" || exit 1
if ! "$top/configure" CFLAGS='-O0 -g' --disable-integration-tests >configure.log 2>&1; then
    echo "Bail out! configure failed"; tail -n 20 configure.log | comment; exit 1
fi
bear --output "$out/bear.json" -- "$scan" -o "$out/reports" \
    make -j"$jobs" outpost-milter outpost-policyd outpost-logd outpost-httpd outpostctl outpost-intake-parse >scan.log 2>&1
scan_rc=$?

# the product's sources, once each, with their flags; the defines that carry
# quotes are written so that cppcheck's reading of "command" keeps them
/usr/bin/python3 - "$out/bear.json" "$top" >"$out/compile_commands.json" <<'PY'
import json, os, re, sys
db, top = json.load(open(sys.argv[1])), os.path.realpath(sys.argv[2])
out, seen = [], set()
for e in db:
    args = e["arguments"]
    if "-c" not in args or any(a.startswith("--analyze") or a == "-analyze" for a in args):
        continue
    f = os.path.realpath(os.path.join(e["directory"], e["file"]))
    rel = os.path.relpath(f, top)
    if rel.split("/")[0] not in ("common", "milter", "policy", "logd", "ctl", "httpd") or f in seen:
        continue
    if os.path.basename(args[0]) not in ("gcc", "cc", "clang") and "clang" not in args[0]:
        continue
    seen.add(f)
    # -DNAME="value": the defines that carry quotes, written for a shell
    args = [re.sub(r'^(-D\w+)="(.*)"$', r'\1=\\"\2\\"', a) for a in args]
    out.append({"directory": e["directory"], "file": f, "command": " ".join(args)})
json.dump(sorted(out, key=lambda e: e["file"]), sys.stdout, indent=1)
PY
nfiles=$(grep -c '"file"' "$out/compile_commands.json")

# check_supp KIND SUPP FINDINGS - drop the findings a suppression covers; print the rest
# (FINDINGS: "FILE CHECKER text" lines); report suppressions that matched nothing
check_supp() {
    /usr/bin/python3 - "$@" <<'PY'
import fnmatch, sys
kind, supp, findings = sys.argv[1:4]
rules = []
for line in open(supp):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    if kind == "scan-build":
        f, c = line.split()[:2]
    else:
        spec = line.split("#")[0].split("//")[0].strip()
        c, f = (spec.split(":", 1) + ["*"])[:2]
    rules.append([f, c, 0, line])
left = []
for l in open(findings):
    f, c = l.split()[:2]
    hit = [r for r in rules if fnmatch.fnmatch(f, r[0].lstrip("*/")) or fnmatch.fnmatch(f, r[0])]
    hit = [r for r in hit if r[1] == c]
    for r in hit:
        r[2] += 1
    if not hit:
        left.append(l.rstrip("\n"))
for l in left:
    print(l)
for r in rules:
    if r[2] == 0:
        sys.stderr.write("# %s: suppression matches nothing now, remove it: %s\n" % (kind, r[3]))
PY
}

# --- 1. scan-build ---------------------------------------------------------------
# "FILE:LINE:COL: warning: TEXT [CHECKER]" from the analyzer, paths from the top
grep -E '^[^ ]+:[0-9]+:[0-9]+: warning: .* \[[a-zA-Z]+\.[a-zA-Z.]+\]$' scan.log | sort -u |
    sed -E 's#^(\.\./)+##; s#^'"$top"'/##' |
    sed -E 's#^([^:]+):([0-9]+):[0-9]+: warning: (.*) \[([^]]+)\]$#\1 \4 line \2: \3#' |
    grep -E '^(common|milter|policy|logd|ctl|httpd)/' >scan-findings.txt
left=$(check_supp scan-build "$top/tests/static/scan-build.supp" scan-findings.txt 2>scan-stale.txt)
if [ "$scan_rc" != 0 ] || [ "$nfiles" -lt 10 ]; then
    result 1 "scan-build: the build under the analyzer failed"
    tail -n 30 scan.log | comment
elif [ -n "$left" ]; then
    result 1 "scan-build: $(echo "$left" | wc -l) finding(s) not suppressed"
    echo "$left" | comment
else
    result 0 "scan-build: no finding left over $nfiles files ($(wc -l <scan-findings.txt) suppressed with a reason)"
fi
cat scan-stale.txt

# --- 2. cppcheck -----------------------------------------------------------------
cppcheck --project="$out/compile_commands.json" --enable=warning,portability,performance \
    -j"$jobs" --quiet --inline-suppr --template='{file} {id} line {line}: {message}' \
    --suppress=missingIncludeSystem 2>cppcheck.txt >/dev/null
sed -E 's#^'"$top"'/##' cppcheck.txt | grep -E '^(common|milter|policy|logd|ctl|httpd)/' >cppcheck-findings.txt
left=$(check_supp cppcheck "$top/tests/static/cppcheck.supp" cppcheck-findings.txt 2>cppcheck-stale.txt)
if [ -n "$left" ]; then
    result 1 "cppcheck: $(echo "$left" | wc -l) finding(s) not suppressed"
    echo "$left" | comment
else
    result 0 "cppcheck: no finding left over $nfiles files ($(wc -l <cppcheck-findings.txt) suppressed with a reason)"
fi
cat cppcheck-stale.txt

# --- 3. clang-tidy (checks and options in .clang-tidy) ----------------------------
/usr/bin/python3 -c 'import json,sys; [print(e["file"]) for e in json.load(open(sys.argv[1]))]' \
    "$out/compile_commands.json" |
    xargs -P "$jobs" -n 8 "$tidy" -p "$out" --quiet >clang-tidy.txt 2>clang-tidy.err
tidy_rc=$?
grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error): .* \[[a-zA-Z0-9.,-]+\]$' clang-tidy.txt | sort -u |
    sed -E 's#^'"$top"'/##; s#^([^:]+):([0-9]+):[0-9]+: (warning|error): (.*) \[([^]]+)\]$#\1 \5 line \2: \4#' \
    >clang-tidy-findings.txt
if [ -s clang-tidy-findings.txt ]; then
    result 1 "clang-tidy: $(wc -l <clang-tidy-findings.txt) finding(s) (fix them, or argue in .clang-tidy)"
    comment <clang-tidy-findings.txt
elif [ "$tidy_rc" != 0 ]; then
    result 1 "clang-tidy failed (exit $tidy_rc)"
    grep -v 'warnings generated' clang-tidy.err | head -n 20 | comment
else
    result 0 "clang-tidy: no finding over $nfiles files"
fi
[ "$failed" = 0 ]
