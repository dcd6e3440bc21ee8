#!/usr/bin/python3
"""campaign.py - a marketing platform's sending client, for the integration tests.

SYNOPSIS
    campaign.py send --server HOST:PORT --from ADDR --list FILE --out DIR
                     [--checkpoints N,N,...] [--max-tries N] [--deadline SECONDS]
    campaign.py check --out DIR --sinks DIR[,DIR...] [--suppressed FILE]

DESCRIPTION
    send: one SMTP session per message; message i goes to the recipients on line i of
    FILE (comma-separated) with Message-ID <campaign-i@DOMAIN-OF-FROM>.  A recipient
    refused with 5xx is final; one that got 4xx, or whose session failed (refused
    connection, dropped connection, timeout), is tried again later with a growing delay
    (0.2 s doubling, at most 2 s), as a sending platform does, at most --max-tries
    times and until --deadline seconds after the start.  Nothing is sent twice once it
    got 250 at the end of the data.

    Checkpoints make faults happen at known points of the campaign, not at a time:
    after the N-th new message has been sent (first attempts; retries do not count)
    the client writes "N TEMPFAILS" to DIR/at (TEMPFAILS: how many sessions got a
    temporary failure so far) and waits (at most 60 s) until DIR/go holds N.

    The outcome goes to DIR/result.json: {"accepted": [[msgid, rcpt], ...],
    "refused": [[msgid, rcpt, reply], ...], "gave_up": [[msgid, rcpt, last reply]],
    "attempts": N, "tempfails": N, "not_sent": N (messages never tried: deadline),
    "seconds": N}.

    check: compares that outcome with what the sinks (tests/lib/sink.py folders of
    NNNNNN.eml + NNNNNN.json) received, and verifies every delivered message's DKIM
    signatures with dkimpy (DNS answers cached).  Prints one "key value" line per
    figure: delivered, lost (accepted but never delivered), suppressed_delivered,
    unsigned, dkim_fail; then up to 10 "example ..." lines per problem.
"""

import argparse
import email.utils
import json
import os
import smtplib
import socket
import sys
import time


def parse_args():
    """parse_args - the command line."""
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("--server", required=True)
    s.add_argument("--from", dest="sender", required=True)
    s.add_argument("--list", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--checkpoints", default="")
    s.add_argument("--max-tries", type=int, default=30)
    s.add_argument("--deadline", type=float, default=60.0)
    c = sub.add_parser("check")
    c.add_argument("--out", required=True)
    c.add_argument("--sinks", required=True)
    c.add_argument("--suppressed", default="")
    return ap.parse_args()


def make_message(sender, rcpts, msgid, i):
    """make_message - the bytes of campaign message i."""
    dom = sender.split("@", 1)[1]
    body = "".join("Line %d of offer %d: everything must go.\r\n" % (n, i) for n in range(8))
    head = ("From: News <%s>\r\nTo: %s\r\nSubject: Offer %d\r\nDate: %s\r\n"
            "Message-ID: %s\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n"
            "List-Unsubscribe: <mailto:unsub@%s?subject=%d>\r\n\r\n"
            % (sender, ", ".join(rcpts), i, email.utils.formatdate(usegmt=True),
               msgid, dom, i))
    return (head + body).encode("ascii")


def reply_text(code, msg):
    """reply_text - "CODE text" of an SMTP reply, one line."""
    if isinstance(msg, bytes):
        msg = msg.decode("utf-8", "replace")
    return ("%s %s" % (code, msg)).replace("\r", " ").replace("\n", " ")[:200]


def send_once(host, port, sender, rcpts, data):
    """send_once - one SMTP session; returns {rcpt: (kind, reply)} with kind
    "ok", "perm" or "temp" for each recipient."""
    res = {r: ("temp", "no answer") for r in rcpts}
    try:
        with smtplib.SMTP(host, port, local_hostname="client.test", timeout=15) as s:
            code, msg = s.ehlo()
            if code != 250:
                raise smtplib.SMTPResponseException(code, msg)
            code, msg = s.mail(sender)
            if code != 250:
                kind = "perm" if 500 <= code < 600 else "temp"
                return {r: (kind, reply_text(code, msg)) for r in rcpts}
            accepted = []
            for r in rcpts:
                code, msg = s.rcpt(r)
                if 200 <= code < 300:
                    accepted.append(r)
                else:
                    res[r] = ("perm" if 500 <= code < 600 else "temp", reply_text(code, msg))
            if not accepted:
                return res
            code, msg = s.data(data)
            kind = "ok" if code == 250 else ("perm" if 500 <= code < 600 else "temp")
            for r in accepted:
                res[r] = (kind, reply_text(code, msg))
    except smtplib.SMTPResponseException as e:
        kind = "perm" if 500 <= e.smtp_code < 600 else "temp"
        for r, (k, _) in res.items():
            if k == "temp":
                res[r] = (kind, reply_text(e.smtp_code, e.smtp_error))
    except (OSError, smtplib.SMTPException) as e:
        # refused or dropped connection, timeout: what is not final is tried again
        for r, (k, _) in res.items():
            if k == "temp":
                res[r] = ("temp", "session failed: %s" % e.__class__.__name__)
    return res


def checkpoint(out, n, tempfails):
    """checkpoint - tell the test N messages are out (and how many sessions got a
    temporary failure so far), wait (60 s at most) for its go."""
    with open(os.path.join(out, "at.tmp"), "w") as f:
        f.write("%d %d\n" % (n, tempfails))
    os.rename(os.path.join(out, "at.tmp"), os.path.join(out, "at"))
    end = time.monotonic() + 60
    go = os.path.join(out, "go")
    while time.monotonic() < end:
        try:
            with open(go) as f:
                if f.read().strip() == str(n):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    sys.stderr.write("campaign: no go after checkpoint %d\n" % n)


def cmd_send(a):
    """cmd_send - run the campaign, write result.json."""
    host, port = a.server.rsplit(":", 1)
    port = int(port)
    with open(a.list) as f:
        lines = [l.strip() for l in f if l.strip()]
    checkpoints = {int(x) for x in a.checkpoints.split(",") if x}
    dom = a.sender.split("@", 1)[1]
    t0 = time.monotonic()
    result = {"accepted": [], "refused": [], "gave_up": [], "attempts": 0, "tempfails": 0,
              "not_sent": 0}
    retry = []                       # [due, tries, i, rcpts, last reply]

    def attempt(i, rcpts, tries):
        msgid = "<campaign-%d@%s>" % (i, dom)
        data = make_message(a.sender, rcpts, msgid, i)
        result["attempts"] += 1
        again = []
        last = ""
        for r, (kind, reply) in send_once(host, port, a.sender, rcpts, data).items():
            if kind == "ok":
                result["accepted"].append([msgid, r])
            elif kind == "perm":
                result["refused"].append([msgid, r, reply])
            else:
                again.append(r)
                last = reply
        if not again:
            return
        result["tempfails"] += 1
        if tries >= a.max_tries:
            result["gave_up"].extend([msgid, r, last] for r in again)
        else:
            delay = min(0.2 * 2 ** (tries - 1), 2.0)
            retry.append([time.monotonic() + delay, tries + 1, i, again, last])

    def give_up_all():
        for _, _, i, rcpts, last in retry:
            result["gave_up"].extend(["<campaign-%d@%s>" % (i, dom), r, last] for r in rcpts)
        retry.clear()

    def run_due():
        # the retries due now, each once: one that fails again waits for the next
        # call, so new messages keep going out while a daemon is down
        now = time.monotonic()
        if now - t0 > a.deadline:
            give_up_all()
            return
        due = [e for e in retry if e[0] <= now]
        for e in due:
            retry.remove(e)
            attempt(e[2], e[3], e[1])

    def drain():
        # retry until nothing is left or the deadline has passed
        while retry:
            if time.monotonic() - t0 > a.deadline:
                give_up_all()
                return
            wait = min(e[0] for e in retry) - time.monotonic()
            if wait > 0:
                time.sleep(min(wait, 0.5))
            run_due()

    for n, line in enumerate(lines, 1):
        if time.monotonic() - t0 > a.deadline:
            result["not_sent"] = len(lines) - n + 1
            break
        run_due()
        attempt(n, line.split(","), 1)
        if n in checkpoints:
            checkpoint(a.out, n, result["tempfails"])
    drain()
    result["seconds"] = round(time.monotonic() - t0, 1)
    with open(os.path.join(a.out, "result.json"), "w") as f:
        json.dump(result, f, indent=0)


def cmd_check(a):
    """cmd_check - compare result.json with the sinks, verify DKIM; print figures."""
    import dkim
    import dkim.dnsplug
    with open(os.path.join(a.out, "result.json")) as f:
        result = json.load(f)
    suppressed = set()
    if a.suppressed:
        with open(a.suppressed) as f:
            suppressed = {l.strip().lower() for l in f if l.strip()}
    cache = {}

    def txt(name, timeout=5):
        if name not in cache:
            cache[name] = dkim.dnsplug.get_txt(name, timeout=timeout)
        return cache[name]

    delivered = set()
    problems = {"suppressed_delivered": [], "unsigned": [], "dkim_fail": [], "lost": []}
    n = 0
    for d in a.sinks.split(","):
        for name in sorted(os.listdir(d)):
            if not name.endswith(".eml"):
                continue
            n += 1
            path = os.path.join(d, name)
            with open(path, "rb") as f:
                raw = f.read()
            with open(path[:-4] + ".json") as f:
                env = json.load(f)
            msg = email.message_from_bytes(raw)
            msgid = (msg.get("Message-ID") or "").strip()
            for r in env["rcpt_to"]:
                delivered.add((msgid, r.lower()))
                if r.lower() in suppressed:
                    problems["suppressed_delivered"].append("%s %s" % (path, r))
            nsig = len(msg.get_all("DKIM-Signature") or [])
            if nsig == 0:
                problems["unsigned"].append(path)
                continue
            for i in range(nsig):
                try:
                    good = dkim.DKIM(raw).verify(idx=i, dnsfunc=txt)
                except Exception as e:          # a verifier crash is a failure too
                    good = False
                    sys.stderr.write("%s: %s\n" % (path, e))
                if not good:
                    problems["dkim_fail"].append("%s signature %d" % (path, i))
    for msgid, r in result["accepted"]:
        if (msgid, r.lower()) not in delivered:
            problems["lost"].append("%s %s" % (msgid, r))
    print("delivered %d" % n)
    for k in ("lost", "suppressed_delivered", "unsigned", "dkim_fail"):
        print("%s %d" % (k, len(problems[k])))
    for k, v in problems.items():
        for e in v[:10]:
            print("example %s %s" % (k, e))


def main():
    a = parse_args()
    socket.setdefaulttimeout(15)
    if a.cmd == "send":
        cmd_send(a)
    else:
        cmd_check(a)


if __name__ == "__main__":
    main()
