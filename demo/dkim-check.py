#!/usr/bin/python3
"""dkim-check.py - verify every DKIM signature of every delivered message.

usage: dkim-check.py FILE.eml...

Uses python3-dkim (dkimpy), a verifier Outpost has nothing to do with, with
the public keys from the DNS the demo serves.  Prints one line per message
(file, signatures as d=/s=/a= and pass or FAIL) and a last line
"verified N of M messages".
"""
import sys

import dkim

ok = 0
for path in sys.argv[1:]:
    data = open(path, "rb").read()
    sigs = dkim.DKIM(data).present() and data.count(b"DKIM-Signature:")
    results = []
    passed = True
    for idx in range(sigs or 0):
        d = dkim.DKIM(data)
        good = d.verify(idx=idx)
        passed = passed and good
        tags = dict(dkim.util.parse_tag_value(d.signature_fields and
                    b"; ".join(k + b"=" + v for k, v in d.signature_fields.items()) or b""))
        results.append("d=%s s=%s a=%s %s" % (tags.get(b"d", b"?").decode(),
                       tags.get(b"s", b"?").decode(), tags.get(b"a", b"?").decode(),
                       "pass" if good else "FAIL"))
    if not sigs:
        passed = False
        results.append("no signature")
    ok += passed
    print("%-12s %s" % (path.rsplit("/", 1)[-1], "; ".join(results)))
print("verified %d of %d messages" % (ok, len(sys.argv) - 1))
