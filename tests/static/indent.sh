#!/bin/bash
# indent.sh - one indent style over the C code of common/, milter/, policy/, logd/, ctl/, httpd/,
# webhookd/ (TAP)
#
# The project is indented as Postfix is (indent(1) with Postfix's profile):
# four columns a level, a tab for each eight columns of leading white space,
# case labels at the level of their switch, the block of a "case X:{" four
# columns further in, an empty loop body (" /* void */ ;") one column in.
# This reports, file by file, the lines that are not:
#   - leading white space holding eight spaces in a row (a tab is due),
#     or a space before a tab;
#   - a statement, declaration, closing brace or case label whose column is
#     not four columns in from the line that opened its block (the
#     two-column indent of some editors, a tab a level as in the Linux
#     kernel);
#   - a declaration whose name is aligned to a column ("size_t  len;",
#     "int     f(void);", indent's -di): here one space follows the type.
# Lines that continue an expression, a parameter list or a string (the
# line before ends with none of ; { } :, or a parenthesis is still open),
# comment lines and preprocessor lines are not measured: they align as
# they please, but still with tabs.
#
# One TAP test per directory.  KNOWN below lists files that deviate today
# and are left so for now (their code is being changed elsewhere): their
# findings are listed as a TODO, not a failure; a listed file that became
# clean is said in a comment so that it can leave the list.  An entry
# common/x.c stands for x.c anywhere under common/.  Empty the list
# as they are fixed; a file not in it must be clean.
# Needs python3 only; run by "make check".
src=${OUTPOST_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}

command -v python3 >/dev/null 2>&1 || { echo "1..0 # SKIP python3 not installed"; exit 0; }

# Files that deviate and are not fixed yet: their code is being changed
# elsewhere, and is re-indented with it.  Empty this list as they are.
KNOWN="
"

python3 - "$src" "$KNOWN" <<'EOF'
import os, re, sys

src, known = sys.argv[1], set(sys.argv[2].split())
DIRS = ["common", "milter", "policy", "logd", "ctl", "httpd", "webhookd"]


def col_of(ws):
    """the column leading white space ends at"""
    c = 0
    for ch in ws:
        c = (c // 8 + 1) * 8 if ch == "\t" else c + 1
    return c


def code_of(line, in_comment):
    """the line without comments, strings and character constants; and
    whether a block comment is still open at its end"""
    out, i, n = [], 0, len(line)
    while i < n:
        if in_comment:
            j = line.find("*/", i)
            if j < 0:
                return "".join(out), True
            i, in_comment = j + 2, False
            out.append(" ")
            continue
        c = line[i]
        if line.startswith("/*", i):
            in_comment, i = True, i + 2
        elif line.startswith("//", i):
            break
        elif c in "\"'":
            j = i + 1
            while j < n and line[j] != c:
                j += 2 if line[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out), in_comment


DECL = re.compile(r"(static\s+|extern\s+)?(const\s+)?(unsigned\s+|signed\s+)?"
                  r"(int|char|short|long|size_t|ssize_t|double|float|void|FILE|time_t|pid_t"
                  r"|u?int\d+_t|(struct|enum|union)\s+\w+)( {2,}|\t)[*\w(]")
CONTROL = re.compile(r"(}\s*)?(if|for|while|switch|else|do)\b")


def check(path):
    """the deviating lines of one file, as "LINE: what" """
    bad = []
    braces = [(0, 0)]           # (column of the contents, column of the closing brace)
    paren = 0
    in_comment = in_macro = False
    prev_end, prev_label = ";", False
    anchor, first = 0, ""       # column and text of the line the statement began on
    pending = None              # column of the body of a control line without a brace
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    for no, line in enumerate(lines, 1):
        ws = re.match(r"[ \t]*", line).group(0)
        if " " * 8 in ws:
            bad.append("%d: eight spaces where a tab is due" % no)
        elif " \t" in ws:
            bad.append("%d: a space before a tab" % no)
        was_comment = in_comment
        code, in_comment = code_of(line, in_comment)
        stripped = code.strip()
        if in_macro or stripped.startswith("#"):
            in_macro = line.rstrip().endswith("\\")
            continue
        if not stripped:
            continue
        col = col_of(ws)
        start = paren == 0 and not was_comment and (
            prev_end in ";{}" or prev_label or pending is not None)
        if start:
            top = braces[-1][0]
            if stripped.startswith("}"):
                want = braces[-1][1]
            elif stripped.startswith("{") and pending is not None:
                want = pending - 4
            elif pending is not None:
                want = pending
            elif re.match(r"(case\b.*|default\s*):", stripped):
                want = top - 4
            elif re.match(r"[A-Za-z_]\w*\s*:\s*$", stripped):
                want = col if col in (0, top - 4) else 0     # a label
            else:
                want = top
            if col != want and not (stripped == ";" and col == want + 1):
                bad.append("%d: at column %d, want %d" % (no, col, want))
            if DECL.match(code.lstrip(" \t")):
                bad.append("%d: the name of a declaration aligned, want one space" % no)
            anchor, first = (want if pending is not None and stripped.startswith("{")
                             else col), stripped
            pending = None
        case_block = re.match(r"(case\b|default\b)", stripped) is not None
        for ch in stripped:
            if ch == "{" and case_block:
                braces.append((anchor + 8, anchor + 4))   # "case X:{", as indent(1) writes it
            elif ch == "{":
                braces.append((anchor + 4, anchor))
            elif ch == "}":
                if len(braces) > 1:
                    braces.pop()
            elif ch == "(":
                paren += 1
            elif ch == ")":
                paren = max(0, paren - 1)
        # a control line whose body follows without a brace
        if paren == 0 and CONTROL.match(first) and (
                stripped.endswith(")") or re.search(r"\b(else|do)$", stripped)):
            pending = anchor + 4
        prev_end = stripped[-1]
        prev_label = bool(re.match(r"(case\b.*|default\s*|[A-Za-z_]\w*\s*):\s*$", stripped)) \
            or (start and re.match(r"(case\b|default\b)", stripped) is not None
                and stripped.endswith(":"))
    return bad


def listed_as(path, entries=None):
    """is the file in KNOWN?  An entry names the file anywhere under its top
    directory, so that moving a file into a subfolder keeps it listed"""
    top, name = path.split("/")[0], os.path.basename(path)
    return any(k.split("/")[0] == top and os.path.basename(k) == name
               for k in ([entries] if entries else known))


n = failed = 0
for d in DIRS:
    top = os.path.join(src, d)
    files = sorted(os.path.relpath(os.path.join(r, f), src)
                   for r, _, fs in os.walk(top) for f in fs if f.endswith((".c", ".h")))
    findings = {f: check(os.path.join(src, f)) for f in files}
    listed = {f for f in files if listed_as(f)}
    wrong = [f for f in files if findings[f] and f not in listed]
    todo = [f for f in files if findings[f] and f in listed]
    clean_known = [f for f in files if not findings[f] and f in listed]
    for k in sorted(known):
        if k.split("/")[0] == d and not any(listed_as(f, k) for f in files):
            print("# %s in KNOWN names no file now: remove it from tests/static/indent.sh" % k)
    n += 1
    if wrong:
        failed += 1
        print("not ok %d - %s/: %d file(s) not indented in Postfix style" % (n, d, len(wrong)))
    else:
        print("ok %d - %s/: %d files in Postfix style" % (n, d, len(files) - len(todo)))
    for f in wrong:
        print("#   %s: %d line(s), first %s" % (f, len(findings[f]), "; ".join(findings[f][:3])))
    for f in clean_known:
        print("# %s is clean now: remove it from KNOWN in tests/static/indent.sh" % f)
    if todo:
        n += 1
        print("not ok %d - %s/: %d listed file(s) still to re-indent # TODO listed in KNOWN"
              % (n, d, len(todo)))
        for f in todo:
            print("#   %s: %d line(s), first %s" % (f, len(findings[f]), "; ".join(findings[f][:3])))
print("1..%d" % n)
sys.exit(1 if failed else 0)
EOF
