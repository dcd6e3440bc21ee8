#!/usr/bin/python3
"""webhook-receiver.py - a webhook receiver for the tests of outpost-webhookd

Usage: webhook-receiver.py HOST PORT DIR SECRET-FILE [CERT KEY]

Answers POSTs as DIR/mode says, read at each request: "ok" (200, the
default), "500", "hang" (no answer: it holds the connection until the
mode changes, then closes it) or "drip" (a 200 whose body comes a byte
every 0.1 s until the mode changes: never in full).  Every request is recorded before it is
answered, one JSON line in DIR/log: {"answer": "200"|"500"|"hang"|"drip",
"sig": whether Outpost-Signature verifies under the first line of
SECRET-FILE, "count": Outpost-Event-Count, "ctype": Content-Type,
"events": [[id, rcpt, type, replayed], ...]}.  With CERT and KEY it speaks TLS.
"""
import hashlib
import hmac
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

host, port, folder, secret_file = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
with open(secret_file, "rb") as f:
    secret = f.readline().rstrip(b"\r\n")
lock = threading.Lock()


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

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        m = mode()
        answer = {"ok": "200", "500": "500", "drip": "drip"}.get(m, "hang")
        try:
            events = [[e.get("id"), e.get("rcpt"), e.get("type"), e.get("replayed")]
                      for e in json.loads(body)["events"]]
        except (ValueError, KeyError, TypeError):
            events = None
        rec = {"answer": answer, "sig": verify(self.headers.get("Outpost-Signature", ""), body),
               "count": self.headers.get("Outpost-Event-Count"),
               "ctype": self.headers.get("Content-Type"), "events": events}
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
        if answer == "hang":
            while mode() == m:
                time.sleep(0.05)
            self.close_connection = True
            return
        self.send_response(int(answer))
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


srv = ThreadingHTTPServer((host, port), Handler)
srv.daemon_threads = True
if len(sys.argv) > 6:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[5], sys.argv[6])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
