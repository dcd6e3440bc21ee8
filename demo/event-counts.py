#!/usr/bin/python3
"""event-counts.py - a tenant's events as the API lists them and as its webhook got them.

usage: event-counts.py EVENTS.json RECEIVER-LOG

EVENTS.json is an answer of GET /v1/events; RECEIVER-LOG the log of
tests/helpers/webhook-receiver.py (one JSON line a POST).  Prints the
events per type in the answer and how many of those same events (by id)
the webhook received in POSTs it answered 200, a total line, and a last
line "webhook: N POSTs, M with a valid Outpost-Signature".
"""
import collections
import json
import sys

listed = {e["id"]: e["type"] for e in json.load(open(sys.argv[1]))["events"]}
posts = [json.loads(line) for line in open(sys.argv[2])]
got = {e[0] for p in posts if p["answer"] == "200" for e in p["events"]}
api = collections.Counter(listed.values())
hook = collections.Counter(t for i, t in listed.items() if i in got)
print("%-12s %5s %8s" % ("EVENT", "API", "WEBHOOK"))
for t in sorted(api):
    print("%-12s %5d %8d" % (t, api[t], hook[t]))
print("%-12s %5d %8d" % ("total", sum(api.values()), sum(hook.values())))
print("webhook: %d POSTs, %d with a valid Outpost-Signature" % (len(posts), sum(p["sig"] for p in posts)))
