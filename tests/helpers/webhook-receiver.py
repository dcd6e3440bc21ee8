#!/usr/bin/python3
"""webhook-receiver.py - a webhook receiver for the tests of outpost-webhookd

Usage: webhook-receiver.py HOST PORT DIR SECRET-FILE [CERT KEY]

Answers POSTs as DIR/mode says, read at each request: "ok" (200, the
default), "500", "hang" (no answer: it holds the connection until the
mode changes, then closes it), "drip" (a 200 whose body comes a byte
every 0.1 s until the mode changes: never in full), "close" (a 200 with
Connection: close, then it closes), "shut" (a 200 that keeps the
connection alive, then it closes it all the same), "drop" (it reads the
request and closes the connection without an answer) or "dropkept" (as
"drop" for a request that is not the first on its connection, else as
"ok") or "extra" (for the first request on its connection, a 200 followed
in the same write by a second whole 200 answer, bytes no request asked
for; a later request on that connection is answered 500).  Every request is recorded before it is answered, one JSON line
in DIR/log: {"answer": "200"|"500"|"hang"|"drip"|"drop", "sig": whether
Outpost-Signature verifies under the first line of SECRET-FILE, "count":
Outpost-Event-Count, "ctype": Content-Type, "host": Host, "conn": the number of its
connection (1, 2, ... in the order they came), "events": [[id, rcpt, type,
replayed], ...], "sighdr": the Outpost-Signature header, "body": the
body}.  Each connection taken (with CERT and KEY, a TLS
handshake done) adds its number as a line to DIR/conns.  With CERT and
KEY it speaks TLS.  A HOST with a colon is an IPv6 address.
"""
import hashlib
import hmac
import json
import os
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

host, port, folder, secret_file = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
with open(secret_file, "rb") as f:
    secret = f.readline().rstrip(b"\r\n")
lock = threading.Lock()
try:  # a receiver started again numbers its connections on from the last one's
    with open(os.path.join(folder, "conns")) as f:
        conns = sum(1 for _ in f)
except FileNotFoundError:
    conns = 0


def mode():
    try:
        with open(os.path.join(folder, "mode")) as f:
            return f.read().strip() or "ok"
    except FileNotFoundError:
        return "ok"


def verify(header, body):
    try:
        f = dict(p.split("=", 1) for p in header.split(","))
        mac = hmac.new(secret, f["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(mac, f.get("v1", "")) and abs(time.time() - int(f["t"])) < 300
    except (KeyError, ValueError):
        return False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def setup(self):
        global conns
        super().setup()
        self.requests = 0
        with lock, open(os.path.join(folder, "conns"), "a") as f:
            conns += 1
            self.conn = conns
            f.write("%d\n" % conns)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        m = mode()
        self.requests += 1
        if m == "dropkept":
            m = "drop" if self.requests > 1 else "ok"
        if m == "extra" and self.requests > 1:
            m = "500"
        answer = {"ok": "200", "500": "500", "drip": "drip", "close": "200", "shut": "200",
                  "drop": "drop", "extra": "200"}.get(m, "hang")
        try:
            events = [[e.get("id"), e.get("rcpt"), e.get("type"), e.get("replayed")]
                      for e in json.loads(body)["events"]]
        except (ValueError, KeyError, TypeError):
            events = None
        rec = {"answer": answer, "sig": verify(self.headers.get("Outpost-Signature", ""), body),
               "count": self.headers.get("Outpost-Event-Count"),
               "ctype": self.headers.get("Content-Type"), "host": self.headers.get("Host"),
               "conn": self.conn, "events": events,
               "sighdr": self.headers.get("Outpost-Signature"),
               "body": body.decode("utf-8", "replace")}
        with lock, open(os.path.join(folder, "log"), "a") as f:
            f.write(json.dumps(rec) + "\n")
        if answer == "drip":
            # a 200 whose body comes a byte at a time, never in full
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            while mode() == m:
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.1)
            self.close_connection = True
            return
        if answer == "drop":
            self.close_connection = True
            return
        if m == "extra":
            one = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
            self.wfile.write(one + one)
            return
        if answer == "hang":
            while mode() == m:
                time.sleep(0.05)
            self.close_connection = True
            return
        self.send_response(int(answer))
        self.send_header("Content-Length", "2")
        if m == "close":
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(b"ok")
        if m in ("close", "shut"):
            self.close_connection = True


if ":" in host:
    ThreadingHTTPServer.address_family = socket.AF_INET6
srv = ThreadingHTTPServer((host, port), Handler)
srv.daemon_threads = True
if len(sys.argv) > 6:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[5], sys.argv[6])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
