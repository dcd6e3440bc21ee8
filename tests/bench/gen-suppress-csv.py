#!/usr/bin/python3
"""gen-suppress-csv.py N [SEED] - N synthetic suppression rows as CSV on stdout.

A mix like a real list: 60% global hard bounces and complaints, 35% tenant
unsubscribes over 50 tenant domains, 5% whole-domain entries; a tenth of the
soft bounces expire.  Addresses are unique (user<i>-<hash>@<domain>).
"""
import random
import sys

def main():
    n = int(sys.argv[1])
    rnd = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    domains = ["example%d.test" % i for i in range(2000)] + \
        ["gmail.test", "yahoo.test", "outlook.test"] * 500
    tenants = ["tenant%d.example" % i for i in range(50)]
    reasons = ["hard-bounce", "complaint", "hard-bounce", "soft-bounce"]
    out = sys.stdout
    out.write("address,reason,scope,time,expires\n")
    base = 1700000000
    buf = []
    for i in range(n):
        r = rnd.random()
        t = base + rnd.randrange(30000000)
        if r < 0.05:
            addr = "@d%d.example%d.test" % (i, i % 97)
            buf.append("%s,manual,global,%d,\n" % (addr, t))
            continue
        addr = "user%d.%x@%s" % (i, rnd.getrandbits(24), rnd.choice(domains))
        if r < 0.40:
            buf.append("%s,unsubscribe,%s,%d,\n" % (addr, rnd.choice(tenants), t))
        else:
            reason = rnd.choice(reasons)
            exp = "%d" % (2000000000 + i) if reason == "soft-bounce" and i % 10 == 0 else ""
            buf.append("%s,%s,global,%d,%s\n" % (addr, reason, t, exp))
        if len(buf) >= 10000:
            out.write("".join(buf))
            buf = []
    out.write("".join(buf))

main()
