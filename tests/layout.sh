#!/bin/bash
# layout.sh - each folder holds what it says, and no header hides a system one (TAP)
#
# 1. Every program (milter/, policy/, logd/, ctl/, httpd/, webhookd/) compiles only the sources of
#    its own folder; the libraries of common/ compile only common/; a test
#    compiles the sources of at most one program.  Shared code reaches a
#    program through the libraries of common/, never through another
#    program's folder.
# 2. No Makefile.am or local.mk passes -I of another program's folder.
# 3. No source includes a project header by a path ("../policy/x.h"): the
#    build's -I list finds them by name.
# 4. The folders of common/ keep their layers (their README.md says so):
#    core uses nothing else of ours; dns and report use core; state uses
#    core and report; check (the domain checks) uses core, dns and report,
#    and nothing uses check but the programs.  Each folder has its README.md.
# 5. No project header is named like a header in the compiler's search path
#    (policy/limits.h once stood in for <limits.h> in OpenSSL's headers),
#    and no two headers of common/ share a name with each other or with a
#    program's header.
# 6. gcc -H of every outpost-milter source, compiled with the build's own
#    flags, includes no project header named like a system header (needs a
#    configured build: OUTPOST_BUILDDIR, as "make check" sets it).
# Needs python3.
src=${OUTPOST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${OUTPOST_BUILDDIR:-}

command -v python3 >/dev/null 2>&1 || { echo "1..0 # SKIP python3 not installed"; exit 0; }

# the milter's include search path and the headers of each of its sources
headers=$(mktemp)
trap 'rm -f "$headers"' EXIT
if [ -n "$build" ] && [ -f "$build/Makefile" ]; then
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL ${MAKE:-make} -s -C "$build" \
        layout-milter-headers >"$headers" 2>&1 || echo "# make failed: $?" >>"$headers"
fi

python3 - "$src" "$build" "$headers" <<'EOF'
import os, re, subprocess, sys

src, build, headers_file = sys.argv[1], sys.argv[2], sys.argv[3]
src = os.path.realpath(src)
n = 0
failed = 0

def ok(cond, name, diag=""):
    global n, failed
    n += 1
    if cond:
        print("ok %d - %s" % (n, name))
    else:
        failed += 1
        print("not ok %d - %s" % (n, name))
        for line in diag.splitlines():
            print("#   " + line)

def skip(name, why):
    global n
    n += 1
    print("ok %d - %s # SKIP %s" % (n, name, why))

PROGRAMS = ("milter", "policy", "logd", "ctl", "httpd", "webhookd")
LAYERS = ("core", "dns", "report", "state", "check")
MAY_USE = {"core": {"core"}, "dns": {"core", "dns"}, "report": {"core", "report"},
           "state": {"core", "report", "state"}, "check": {"core", "dns", "report", "check"}}

# ------------------------------------------------------------ the make files
mkfiles = ["Makefile.am"]
for top, dirs, files in os.walk(src):
    dirs[:] = [d for d in dirs if not d.startswith((".", "_build")) and d != "autom4te.cache"]
    for f in files:
        if f == "local.mk":
            mkfiles.append(os.path.relpath(os.path.join(top, f), src))
mkfiles = sorted(set(mkfiles))

assigns = []            # (file, name, value)
for mk in mkfiles:
    text = open(os.path.join(src, mk), encoding="utf-8").read().replace("\\\n", " ")
    for line in text.splitlines():
        m = re.match(r"^([A-Za-z0-9_]+)\s*\+?=\s*(.*)$", line)
        if m:
            assigns.append((mk, m.group(1), m.group(2).split("#")[0]))
var = {}
for mk, name, value in assigns:
    var[name] = var.get(name, "") + " " + value

def expand(text, depth=0):
    if depth > 10:
        return text
    return re.sub(r"\$\((\w+)\)", lambda m: expand(var[m.group(1)], depth + 1)
                  if m.group(1) in var else m.group(0), text)

def canon(path):
    return re.sub(r"[^A-Za-z0-9_]", "_", path)

# which folder each target belongs to
owner = {}
for mk, name, value in assigns:
    if name in ("sbin_PROGRAMS", "bin_PROGRAMS", "pkglibexec_PROGRAMS", "libexec_PROGRAMS",
                "noinst_LIBRARIES"):
        for t in expand(value).split():
            owner[canon(t)] = t.split("/")[0] if "/" in t else mk.split("/")[0]
def folder_of(target):
    if target in owner:
        return owner[target]
    return "tests" if target.startswith("tests_") else None

def top_folder(path):
    return path.split("/")[0]

srcs, incs = {}, {}
for mk, name, value in assigns:
    m = re.match(r"^(?:nodist_|dist_)?(\w+?)_(SOURCES|CFLAGS|CPPFLAGS)$", name)
    if m and name != "AM_CPPFLAGS":
        t = m.group(1)
        words = expand(value).split()
        if m.group(2) == "SOURCES":
            srcs.setdefault(t, set()).update(w for w in words if "/" in w and not w.startswith("$("))
        else:
            for w in words:
                d = re.match(r"^-I\$\((?:top_srcdir|top_builddir|srcdir|builddir)\)/([\w/]+)", w)
                if d:
                    incs.setdefault(t, set()).add(d.group(1).rstrip("/"))

bad_src, bad_inc = [], []
for t in sorted(set(srcs) | set(incs)):
    home = folder_of(t)
    used = {top_folder(s) for s in srcs.get(t, ())} - {"tests"}
    progs_src = used & set(PROGRAMS)
    progs_inc = {top_folder(d) for d in incs.get(t, ())} & set(PROGRAMS)
    if home in PROGRAMS:
        if used - {home}:
            bad_src.append("%s (%s/) compiles %s" % (t, home, sorted(
                s for s in srcs.get(t, ()) if top_folder(s) not in (home, "tests"))))
        if progs_inc - {home}:
            bad_inc.append("%s (%s/) uses -I of %s" % (t, home, sorted(progs_inc - {home})))
    elif home == "common":
        if used - {"common"}:
            bad_src.append("%s compiles %s" % (t, sorted(srcs[t])))
        if progs_inc:
            bad_inc.append("%s uses -I of %s" % (t, sorted(progs_inc)))
    else:
        if len(progs_src) > 1 or "common" in used:
            bad_src.append("%s compiles %s" % (t, sorted(srcs.get(t, ()))))
        if len(progs_inc | progs_src) > 1:
            bad_inc.append("%s uses -I of %s" % (t, sorted(progs_inc)))
am_inc = set(re.findall(r"-I\$\(\w+\)/([\w/]+)", expand(var.get("AM_CPPFLAGS", ""))))
for d in sorted(am_inc):
    if top_folder(d) in PROGRAMS:
        bad_inc.append("AM_CPPFLAGS uses -I of %s" % d)

ok(len(owner) >= 5 and all(folder_of(canon(p)) in PROGRAMS for p in
   ("outpost-milter", "outpost-policyd", "outpost-logd", "outpostctl")),
   "the make files name the four programs and the libraries (%d targets)" % len(owner),
   repr(owner))
ok(not bad_src, "each program compiles only its own folder's sources; common/ only its own",
   "\n".join(bad_src))
ok(not bad_inc, "no -I of another program's folder", "\n".join(bad_inc))

# ------------------------------------------------------------ the sources
code = []
for top, dirs, files in os.walk(src):
    dirs[:] = [d for d in dirs if not d.startswith((".", "_build")) and d != "autom4te.cache"]
    for f in files:
        if f.endswith((".c", ".h")):
            rel = os.path.relpath(os.path.join(top, f), src)
            if top_folder(rel) in PROGRAMS + ("common", "tests"):
                code.append(rel)
code.sort()
includes = {}
for rel in code:
    text = open(os.path.join(src, rel), encoding="utf-8", errors="replace").read()
    includes[rel] = re.findall(r'^\s*#\s*include\s+"([^"]+)"', text, re.M)

by_path = [(rel, i) for rel in code for i in includes[rel] if "/" in i]
ok(not by_path, 'no #include of a project header by a path ("../policy/x.h")',
   "\n".join("%s: %s" % p for p in by_path))

# ------------------------------------------------------------ layers of common/
layer_of = {}
dups = []
for rel in code:
    parts = rel.split("/")
    if parts[0] == "common" and rel.endswith(".h"):
        if len(parts) != 3 or parts[1] not in LAYERS:
            dups.append("%s: not in one of %s" % (rel, ", ".join(LAYERS)))
            continue
        name = parts[2]
        if name in layer_of:
            dups.append("%s: also in common/%s" % (rel, layer_of[name]))
        layer_of[name] = parts[1]
for rel in code:
    if top_folder(rel) in PROGRAMS and rel.endswith(".h") and os.path.basename(rel) in layer_of:
        dups.append("%s: also in common/%s" % (rel, layer_of[os.path.basename(rel)]))
ok(len(layer_of) > 30 and not dups,
   "every header of common/ is in one folder by concern, under a name of its own (%d)"
   % len(layer_of), "\n".join(dups))

crossing = []
for rel in code:
    parts = rel.split("/")
    if parts[0] != "common" or len(parts) != 3 or parts[1] not in LAYERS:
        continue
    for i in includes[rel]:
        if i == "config.h":
            continue
        to = layer_of.get(i)
        if to is None:
            crossing.append("%s includes %s, which is not in common/" % (rel, i))
        elif to not in MAY_USE[parts[1]]:
            crossing.append("%s (%s) includes %s (%s)" % (rel, parts[1], i, to))
ok(not crossing, "common/: core uses nothing else; dns and report use core; "
   "state uses core and report; check uses core, dns and report", "\n".join(crossing))

readmes = [l for l in LAYERS if not os.path.isfile(os.path.join(src, "common", l, "README.md"))]
ok(not readmes, "each folder of common/ has its README.md", "missing: %s" % readmes)

# ------------------------------------------------------------ system headers
def search_path(text, base):
    """the directories of an "#include <...> search starts here" list"""
    dirs, on = [], False
    for line in text.splitlines():
        if line.startswith("#include <...> search starts here"):
            on = True
        elif line.startswith("End of search list"):
            on = False
        elif on:
            dirs.append(os.path.realpath(os.path.join(base, line.strip().split(" (")[0])))
    return dirs

def outside_project(d):
    roots = [src] + ([os.path.realpath(build)] if build else [])
    return not any(d == r or d.startswith(r + os.sep) for r in roots)

cc = os.environ.get("CC", "cc")
try:
    r = subprocess.run([cc, "-xc", "-E", "-v", "/dev/null"], capture_output=True, text=True)
    sysdirs = search_path(r.stderr, "/")
except OSError:
    sysdirs = []
hdr_text = open(headers_file, encoding="utf-8", errors="replace").read()
sysdirs += [d for d in search_path(hdr_text, build or "/") if outside_project(d)]
sysdirs = [d for d in dict.fromkeys(sysdirs) if os.path.isdir(d)]
system_names = {}
for d in sysdirs:
    for f in os.listdir(d):
        if f.endswith(".h") and f not in system_names:
            system_names[f] = os.path.join(d, f)
clash = ["%s: like %s" % (rel, system_names[os.path.basename(rel)])
         for rel in code if rel.endswith(".h") and os.path.basename(rel) in system_names]
ok(len(system_names) > 100 and "limits.h" in system_names and not clash,
   "no project header is named like one of the %d headers in the compiler's search path"
   % len(system_names), "\n".join(clash) or "search path: %s" % sysdirs)

# ------------------------------------------------------------ gcc -H of the milter
if not build or "# search" not in hdr_text:
    skip("gcc -H of every outpost-milter source", "no configured build (OUTPOST_BUILDDIR)")
else:
    sources, current, bad = [], None, []
    for line in hdr_text.splitlines():
        if line.startswith("# source "):
            current = line[len("# source "):]
            sources.append(current)
            continue
        m = re.match(r"^\.+ (\S+)$", line)
        if current and m:
            path = os.path.realpath(os.path.join(build, m.group(1)))
            if not outside_project(path) and os.path.basename(path) in system_names:
                bad.append("%s includes %s" % (current, path))
    problems = [l for l in hdr_text.splitlines() if l.startswith("# make failed")]
    ok(len(sources) >= 10 and not bad and not problems,
       "gcc -H of the %d outpost-milter sources includes no project header named "
       "like a system header" % len(sources), "\n".join(sorted(set(bad)) + problems) or hdr_text[-2000:])

print("1..%d" % n)
sys.exit(1 if failed else 0)
EOF
