#!/usr/bin/python3
"""docblocks.py - the marked code blocks of a Markdown guide, and applying them

SYNOPSIS
    docblocks.py list GUIDE             one line per marked block: N TAG LINE
    docblocks.py get GUIDE N            the text of block N (from "list")
    docblocks.py cat GUIDE TAG          every block marked TAG, in order
    docblocks.py merge-ini FILE         set the keys of the ini text on stdin in FILE
    docblocks.py merge-maincf FILE      add the main.cf lines on stdin to FILE

DESCRIPTION
    A block is marked by the word after the language of its opening fence:
    ```sh setup, ```sh run, ```ini outpost.conf, ```conf main.cf,
    ```conf master.cf, ```python verify.  What a mark means is the business
    of the test that reads it.  Unmarked blocks are not listed.

    merge-ini applies an outpost.conf block as the guide tells a reader to:
    each "key = value" of a [section] replaces the active line of that key in
    the first such section of FILE (with its indented continuation lines), or
    is added at the end of that section, or, when FILE has no such section,
    at the end of FILE under a new one.  The lines are written as the block
    has them.

    merge-maincf does what the guide says of main.cf: a parameter that FILE
    already sets is replaced (its line and continuation lines removed), then
    the block is added at the end of FILE as it is.
"""
import re
import sys

FENCE = re.compile(r'^```(\S*)(?:[ \t]+(\S+))?[ \t]*$')


def blocks(path):
    """[(tag, first line number, text)] of the marked blocks of PATH."""
    out, cur = [], None
    with open(path, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            if cur is None:
                m = FENCE.match(line.rstrip('\n'))
                if m:
                    cur = [m.group(2), n + 1, []]
            elif line.rstrip('\n') == '```':
                if cur[0]:
                    out.append((cur[0], cur[1], ''.join(cur[2])))
                cur = None
            else:
                cur[2].append(line)
    if cur is not None:
        sys.exit('%s: a code block opened on line %d is not closed' % (path, cur[1] - 1))
    return out


def merge_ini(path, text):
    """Set each key of TEXT's sections in the ini file PATH."""
    with open(path, encoding='utf-8') as f:
        lines = f.read().splitlines()
    section = None
    for raw in text.splitlines():
        s = raw.strip()
        if not s or s[0] in '#;':
            continue
        m = re.match(r'^\[([^]]+)\]$', s)
        if m:
            section = m.group(1).strip()
            continue
        m = re.match(r'^([A-Za-z0-9_]+)\s*=', s)
        if not m or section is None:
            sys.exit('merge-ini: not "key = value" under a [section]: %r' % raw)
        set_key(lines, section, m.group(1), raw)
    with open(path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines) + '\n')


def set_key(lines, section, key, raw):
    """Replace or add the line RAW for KEY in [SECTION] of LINES."""
    start = None
    for i, line in enumerate(lines):
        m = re.match(r'^\s*\[([^]]+)\]\s*$', line)
        if m and start is None and m.group(1).strip() == section:
            start = i + 1
        elif m and start is not None:
            end = i
            break
    else:
        end = len(lines)
    if start is None:
        lines.extend(['', '[%s]' % section, raw])
        return
    for i in range(start, end):
        if re.match(r'^%s\s*=' % re.escape(key), lines[i]):
            j = i + 1
            while j < end and lines[j][:1] in (' ', '\t') and lines[j].strip():
                j += 1
            lines[i:j] = [raw]
            return
    # after the section's last non-empty line
    at = end
    while at > start and not lines[at - 1].strip():
        at -= 1
    lines.insert(at, raw)


def merge_maincf(path, text):
    """Remove from PATH the parameters TEXT sets, then append TEXT."""
    names = set(re.findall(r'^([A-Za-z0-9_]+)[ \t]*=', text, re.M))
    with open(path, encoding='utf-8') as f:
        lines = f.read().splitlines()
    out, skipping = [], False
    for line in lines:
        m = re.match(r'^([A-Za-z0-9_]+)[ \t]*=', line)
        if m:
            skipping = m.group(1) in names
        elif not (line[:1] in (' ', '\t') and line.strip()):
            skipping = False
        if not skipping:
            out.append(line)
    with open(path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(out) + '\n' + text)


def main(argv):
    if len(argv) == 3 and argv[1] == 'list':
        for n, (tag, line, _) in enumerate(blocks(argv[2]), 1):
            print(n, tag, line)
    elif len(argv) == 4 and argv[1] == 'get':
        sys.stdout.write(blocks(argv[2])[int(argv[3]) - 1][2])
    elif len(argv) == 4 and argv[1] == 'cat':
        sys.stdout.write(''.join(t for tag, _, t in blocks(argv[2]) if tag == argv[3]))
    elif len(argv) == 3 and argv[1] == 'merge-ini':
        merge_ini(argv[2], sys.stdin.read())
    elif len(argv) == 3 and argv[1] == 'merge-maincf':
        merge_maincf(argv[2], sys.stdin.read())
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main(sys.argv)
