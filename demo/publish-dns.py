#!/usr/bin/python3
"""publish-dns.py - turn "outpostctl dns --json" into test-world DNS calls.

Reads the JSON on stdin and prints one world.sh call per record
(dns_txt, dns_mx, dns_ptr), for the demo to evaluate: the records Outpost
tells a sender to publish are published, then checked with outpostctl verify.
"""
import json
import shlex
import sys

doc = json.load(sys.stdin)
for r in doc["records"]:
    name, typ, value = r["name"].rstrip("."), r["type"], r["value"]
    if typ == "TXT":
        print("dns_txt %s %s" % (shlex.quote(name), shlex.quote(value)))
    elif typ == "MX":
        pref, host = value.split()
        print("dns_mx %s %s %s" % (shlex.quote(name), shlex.quote(host.rstrip(".")), pref))
    elif typ == "PTR":
        octets = name.split(".")[:4]
        print("dns_ptr %s %s" % (".".join(reversed(octets)), shlex.quote(value.rstrip("."))))
