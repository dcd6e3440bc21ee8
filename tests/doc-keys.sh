#!/bin/bash
# doc-keys.sh - the man pages against the code (TAP)
#
# 1. Every key of every section in common/core/conf.c's schema tables has its own
#    tagged paragraph in the matching section of doc/outpost.conf.5, and the
#    key's default (when it has one) appears, verbatim, in that section's
#    rendered text.
# 2. conf-examples/outpost.conf mentions every section.
# 3. Every command of ctl/main.c's table has a subsection in doc/outpostctl.8;
#    every option letter of the daemons' getopt strings is in their pages.
# 4. Every page in doc/ is clean under "mandoc -Tlint -W style" (but for
#    references to the project's own pages, which the machine's mandoc.db may
#    not have, or not have indexed yet) and under
#    "groff -ww" (what "man --warnings" runs).
# Needs python3 (the schema is C); the lint needs mandoc and groff.
src=${OUTPOST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}

command -v python3 >/dev/null 2>&1 || { echo "1..0 # SKIP python3 not installed"; exit 0; }

python3 - "$src" <<'EOF'
import os, re, subprocess, sys, shutil

src = sys.argv[1]
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

def read(path):
    with open(os.path.join(src, path), encoding="utf-8") as f:
        return f.read()

# ---------------------------------------------------------------- the schema
conf_c = read("common/core/conf.c")
tables = {}
for m in re.finditer(r"static const struct conf_key (\w+)\[\] = \{(.*?)\n\};", conf_c, re.S):
    body = m.group(2)
    keys = []
    # one entry: {"name", CT_TYPE, K(...), default, ...}, possibly on several lines
    for e in re.finditer(r'\{"(\w+)",\s*(CT_\w+),\s*K\([^)]*\),\s*(NULL|(?:"(?:[^"\\]|\\.)*"\s*)+)', body):
        dflt = None
        if e.group(3) != "NULL":
            dflt = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', e.group(3)))
        keys.append((e.group(1), e.group(2), dflt))
    tables[m.group(1)] = keys
sections = []
sm = re.search(r"static const struct conf_section sections\[\] = \{(.*?)\n\};", conf_c, re.S)
for s in re.finditer(r'\{"(\w+)",\s*(\d),[^{}]*?(\w+_keys)', sm.group(1) if sm else ""):
    sections.append((s.group(1), s.group(2) == "1", s.group(3)))
ok(len(sections) >= 11 and all(t in tables for _, _, t in sections),
   "common/core/conf.c: %d sections and their key tables found" % len(sections),
   "sections: %r\ntables: %r" % (sections, list(tables)))

# ---------------------------------------------------------------- outpost.conf.5
page = read("doc/outpost.conf.5")
parts = {}
cur = None
for line in page.splitlines():
    h = re.match(r'\.SH\s+"?\[(\w+)( NAME)?\]', line)
    if line.startswith(".SH"):
        cur = h.group(1) if h else None
        if cur:
            parts[cur] = []
        continue
    if cur:
        parts[cur].append(line)

def render(text):
    """roff source of one section as plain text, one long line per paragraph"""
    doc = ".TH X 5\n.SH X\n" + text
    try:
        out = subprocess.run(["mandoc", "-Tascii", "-Owidth=1000", "-man"], input=doc,
                             capture_output=True, text=True).stdout
    except OSError:
        out = re.sub(r"\\f[BIRP]|\\&|\\\(..|\\", "", doc)
    out = re.sub(r".\x08", "", out)
    return re.sub(r"\s+", " ", out)

for name, named, table in sections:
    label = "[%s%s]" % (name, " NAME" if named else "")
    body = parts.get(name)
    ok(body is not None, "outpost.conf.5 has a section %s" % label)
    if body is None:
        continue
    # the tagged paragraphs: the keys named by each .TP tag, and its text
    para = {}
    for i, line in enumerate(body):
        if line.strip() == ".TP" and i + 1 < len(body):
            j = i + 2
            while j < len(body) and body[j].strip() != ".TP":
                j += 1
            text = render("\n".join(body[i:j]))
            for k in re.findall(r"[a-z_]+", re.sub(r"\\f.", " ", body[i + 1])):
                para[k] = text
    for key, ctype, dflt in tables[table]:
        ok(key in para, "outpost.conf.5 %s: %s has its own paragraph" % (label, key))
        if dflt is not None and key in para:
            found = re.search(r"Defaults?: (.*?[^\w/]%s(?![\w/])|%s(?![\w/]))" % (re.escape(dflt), re.escape(dflt)),
                              para[key])
            ok(found, "outpost.conf.5 %s: %s default \"%s\" is given" % (label, key, dflt),
               para[key])

# ---------------------------------------------------------------- conf-examples
example = read("conf-examples/outpost.conf")
for name, named, _ in sections:
    ok(re.search(r"^#?\s*\[%s%s\]" % (name, r" [\w.-]+" if named else ""), example, re.M),
       "conf-examples/outpost.conf mentions [%s%s]" % (name, " NAME" if named else ""))

# ---------------------------------------------------------------- commands, options
main_c = read("ctl/main.c")
ctl = read("doc/outpostctl.8")
cm = re.search(r"const struct ctl_command \w+\[\] = \{(.*?)\n\};", main_c, re.S)
cmds = re.findall(r'\{"([\w-]+)",', cm.group(1) if cm else "")
if 'strcmp(argv[0], "version")' in main_c:
    cmds.append("version")
ok(len(cmds) >= 5, "ctl/main.c: %d commands found" % len(cmds))
for c in cmds:
    ok(re.search(r"^\.SS %s\b" % re.escape(c.replace("-", "\\-")), ctl, re.M),
       "outpostctl.8 describes command %s" % c)
for prog, page_name in (("milter/main.c", "doc/outpost-milter.8"),
                        ("policy/main.c", "doc/outpost-policyd.8"),
                        ("ctl/main.c", "doc/outpostctl.8")):
    code = read(prog)
    if "daemonopt_parse(" in code:	# the daemons' shared command line
        code = read("common/core/daemonopt.c")
    g = re.search(r'getopt(?:_long)?\(argc, argv, "\+?([^"]*)"', code)
    letters = re.sub(r"[^A-Za-z]", "", g.group(1)) if g else ""
    ok(letters, "%s: the getopt string found" % prog)
    text = read(page_name)
    for letter in letters:
        ok(re.search(r"^\.(B|BI|BR|TP)\s+\\-%s\b" % letter, text, re.M),
           "%s documents option -%s" % (page_name, letter))

# ---------------------------------------------------------------- lint
pages = sorted(p for p in os.listdir(os.path.join(src, "doc")) if re.search(r"\.[1-9]$", p))
own = {re.sub(r"\.([1-9])$", r" \1", p) for p in pages}

def machine_state(line):
    """A lint line about the machine's mandoc.db, not about the page: a
    reference to one of the project's own pages, not installed yet, or a
    page that is installed (the package, other packages) but not indexed
    yet ("outdated mandoc.db lacks NAME(N) entry": the page exists)."""
    m = re.search(r"referenced manual not found: Xr (\S+) ([1-9])", line)
    return bool(m and "%s %s" % m.groups() in own) or "outdated mandoc.db lacks" in line

mandoc = shutil.which("mandoc")
groff = shutil.which("groff")
for p in pages:
    path = os.path.join(src, "doc", p)
    if mandoc:
        r = subprocess.run([mandoc, "-Tlint", "-W", "style", path], capture_output=True, text=True)
        msgs = [l for l in (r.stdout + r.stderr).splitlines() if not machine_state(l)]
        ok(not msgs, "mandoc -Tlint -W style %s" % p, "\n".join(msgs))
    else:
        n += 1
        print("ok %d - mandoc -Tlint %s # SKIP mandoc not installed" % (n, p))
    if groff:
        r = subprocess.run([groff, "-ww", "-t", "-z", "-mandoc", "-Tutf8", path],
                           capture_output=True, text=True)
        ok(not r.stderr.strip(), "groff -ww %s" % p, r.stderr)
    else:
        n += 1
        print("ok %d - groff -ww %s # SKIP groff not installed" % (n, p))

print("1..%d" % n)
sys.exit(1 if failed else 0)
EOF
