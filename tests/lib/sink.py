#!/usr/bin/python3
"""sink.py - an SMTP server that stands in for a mailbox provider in Outpost's tests.

One process listens on one address (e.g. 127.0.0.11:25 for gmail.test) and speaks
enough ESMTP for Postfix: EHLO/HELO (advertising PIPELINING, 8BITMIME, SIZE,
ENHANCEDSTATUSCODES), MAIL, RCPT, DATA (with dot-unstuffing), RSET, NOOP, VRFY, QUIT;
STARTTLS too when given a certificate (--tls-cert, --tls-key).
Standard library only (asyncio streams); run it with /usr/bin/python3 (3.11).

Every accepted message is stored in --dir as two files with the same sequence number:

    000001.eml   the message exactly as received on the wire after dot-unstuffing
                 (CRLF line ends, nothing added, so DKIM verifiers see the real bytes)
    000001.json  its envelope: {"seq", "sink", "peer", "helo", "mail_from",
                 "mail_params", "rcpt_to": [accepted recipients only], "size",
                 "time" (epoch seconds), "eml" (file name)}

The .json is written first and the .eml is renamed into place last, so once a .eml
exists its .json is complete.  Every command and reply is logged to --log.

Replies come from a rules file (--rules), read again whenever it changes.  One rule a
line, "PATTERN<TAB>REPLY"; blank lines and lines starting with '#' are ignored.
PATTERN is an fnmatch glob matched case-insensitively; it may carry a stage prefix:

    rcpt:GLOB    (the default) the recipient address of RCPT TO
    mail:GLOB    the sender address of MAIL FROM ("" for the null sender)
    data:GLOB    any accepted recipient, answered after the message data
    helo:GLOB    the EHLO/HELO name
    connect:GLOB the client's IP address, answered instead of the greeting

REPLY is "CODE TEXT", e.g. "550 5.1.1 user unknown", "452 4.2.2 mailbox full",
"421 4.7.28 rate limited"; a 421 reply closes the connection after it is sent, as
real servers do.  The word DROP closes the connection without any reply.  The first
matching rule wins; with no match the sink accepts (250).

The sink writes its pid to --pid once it listens and exits cleanly on SIGTERM/SIGINT.
"""

import argparse
import asyncio
import fnmatch
import json
import os
import re
import signal
import ssl
import sys
import time

STAGES = ("connect", "helo", "mail", "rcpt", "data")
MAX_LINE = 1 << 20


class Rules:
    """The reply rules, re-read when the file's mtime or size changes."""

    def __init__(self, path):
        self.path = path
        self.stamp = None
        self.rules = []

    def _load(self):
        if not self.path:
            return
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self.rules, self.stamp = [], None
            return
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if stamp == self.stamp:
            return
        rules = []
        with open(self.path, encoding="utf-8", errors="replace") as f:
            for lineno, line in enumerate(f, 1):
                line = line.rstrip("\r\n")
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                if "\t" not in line:
                    log(f"rules {self.path}:{lineno}: no TAB between pattern and reply, ignored")
                    continue
                pattern, reply = line.split("\t", 1)
                stage = "rcpt"
                m = re.match(r"^(connect|helo|mail|rcpt|data):(.*)$", pattern)
                if m:
                    stage, pattern = m.group(1), m.group(2)
                reply = reply.strip()
                if reply != "DROP" and not re.match(r"^[2-5]\d\d( |$)", reply):
                    log(f"rules {self.path}:{lineno}: reply must be 'CODE TEXT' or DROP, ignored")
                    continue
                rules.append((stage, pattern.lower(), reply))
        self.rules, self.stamp = rules, stamp

    def match(self, stage, values):
        """Return the reply of the first rule of STAGE matching any of VALUES, or None."""
        self._load()
        for rstage, pattern, reply in self.rules:
            if rstage != stage:
                continue
            for v in values:
                if fnmatch.fnmatchcase((v or "").lower(), pattern):
                    return reply
        return None


LOGF = None


def log(msg):
    line = time.strftime("%Y-%m-%dT%H:%M:%S") + f".{int(time.time() * 1000) % 1000:03d} {msg}\n"
    if LOGF:
        LOGF.write(line)
        LOGF.flush()
    else:
        sys.stderr.write(line)


def parse_path(arg, keyword):
    """Parse 'FROM:<addr> params' / 'TO:<addr> params'; return (addr, params) or None."""
    m = re.match(r"^\s*" + keyword + r"\s*:\s*(<[^>]*>|\S+)\s*(.*)$", arg, re.I)
    if not m:
        return None
    addr = m.group(1)
    if addr.startswith("<"):
        addr = addr[1:-1]
    if ":" in addr and addr.startswith("@"):   # source route <@a,@b:user@dom>
        addr = addr.split(":", 1)[1]
    return addr, m.group(2).strip()


class Sink:
    def __init__(self, opts):
        self.opts = opts
        self.name = opts.name
        self.dir = opts.dir
        self.rules = Rules(opts.rules)
        self.seq = 0
        for fn in os.listdir(self.dir):
            m = re.match(r"^(\d+)\.(eml|json)$", fn)
            if m:
                self.seq = max(self.seq, int(m.group(1)))
        self.sessions = 0
        self.tls = None
        if opts.tls_cert:
            self.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.tls.load_cert_chain(opts.tls_cert, opts.tls_key)

    def store(self, peer, helo, mail_from, mail_params, rcpts, data):
        self.seq += 1
        base = f"{self.seq:06d}"
        env = {
            "seq": self.seq, "sink": self.name, "peer": peer, "helo": helo,
            "mail_from": mail_from, "mail_params": mail_params, "rcpt_to": rcpts,
            "size": len(data), "time": time.time(), "eml": base + ".eml",
        }
        jpath = os.path.join(self.dir, base + ".json")
        with open(jpath + ".tmp", "w", encoding="utf-8") as f:
            json.dump(env, f, indent=1)
            f.write("\n")
        os.rename(jpath + ".tmp", jpath)
        epath = os.path.join(self.dir, base + ".eml")
        with open(epath + ".tmp", "wb") as f:
            f.write(data)
        os.rename(epath + ".tmp", epath)
        return base

    async def session(self, reader, writer):
        peer = writer.get_extra_info("peername")
        peer_ip = peer[0] if peer else "?"
        self.sessions += 1
        sid = f"{self.name}#{self.sessions}"
        tag = f"[{sid} {peer_ip}]"

        async def reply(text):
            for line in text.split("\n"):
                log(f"{tag} >>> {line}")
            lines = text.split("\n")
            out = "".join(
                f"{l[:3]}{'-' if i < len(lines) - 1 else ' '}{l[4:]}\r\n"
                for i, l in enumerate(lines))
            writer.write(out.encode("utf-8", "replace"))
            await writer.drain()

        async def ruled(text):
            """Send a rule's reply; return False if the connection is to be closed."""
            if text == "DROP":
                log(f"{tag} --- DROP (closing without reply)")
                return False
            await reply(text)
            return not text.startswith("421")

        log(f"{tag} connect")
        tls_on = False
        helo = None
        mail_from = None
        mail_params = ""
        rcpts = []
        try:
            refused = False     # after a 554 greeting, answer 503 to all but QUIT (RFC 5321 3.1)
            r = self.rules.match("connect", [peer_ip])
            if r is not None:
                if not await ruled(r):
                    return
                refused = not r.startswith("2")
            else:
                await reply(f"220 {self.opts.hostname} ESMTP Outpost test sink {self.name}")
            while True:
                try:
                    raw = await reader.readuntil(b"\n")
                except asyncio.IncompleteReadError:
                    log(f"{tag} client closed the connection")
                    return
                except asyncio.LimitOverrunError:
                    await reply("500 5.5.2 line too long")
                    return
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                log(f"{tag} <<< {line}")
                verb, _, arg = line.partition(" ")
                verb = verb.upper()
                if refused and verb not in ("QUIT", "NOOP"):
                    await reply("503 5.5.1 no service")
                elif verb in ("EHLO", "HELO"):
                    if not arg.strip():
                        await reply(f"501 5.5.4 {verb} needs a domain")
                        continue
                    r = self.rules.match("helo", [arg.strip()])
                    if r is not None and not r.startswith("2"):
                        if not await ruled(r):
                            return
                        continue
                    helo = arg.strip()
                    mail_from, mail_params, rcpts = None, "", []
                    if verb == "EHLO":
                        await reply("\n".join([
                            f"250 {self.opts.hostname} greets {helo}",
                            "250 PIPELINING",
                            f"250 SIZE {self.opts.size}",
                            "250 8BITMIME",
                            "250 ENHANCEDSTATUSCODES",
                        ] + (["250 STARTTLS"] if self.tls and not tls_on else [])))
                    else:
                        await reply(f"250 {self.opts.hostname}")
                elif verb == "MAIL":
                    if helo is None:
                        await reply("503 5.5.1 send EHLO first")
                        continue
                    if mail_from is not None:
                        await reply("503 5.5.1 nested MAIL command")
                        continue
                    p = parse_path(arg, "FROM")
                    if p is None:
                        await reply("501 5.5.4 syntax: MAIL FROM:<address>")
                        continue
                    m = re.search(r"\bSIZE=(\d+)", p[1], re.I)
                    if m and int(m.group(1)) > self.opts.size:
                        await reply("552 5.3.4 message size exceeds fixed limit")
                        continue
                    r = self.rules.match("mail", [p[0]])
                    if r is not None and not r.startswith("2"):
                        if not await ruled(r):
                            return
                        continue
                    mail_from, mail_params, rcpts = p[0], p[1], []
                    await reply(r or "250 2.1.0 Ok")
                elif verb == "RCPT":
                    if mail_from is None:
                        await reply("503 5.5.1 need MAIL before RCPT")
                        continue
                    p = parse_path(arg, "TO")
                    if p is None or not p[0]:
                        await reply("501 5.5.4 syntax: RCPT TO:<address>")
                        continue
                    r = self.rules.match("rcpt", [p[0]])
                    if r is not None and not r.startswith("2"):
                        if not await ruled(r):
                            return
                        continue
                    rcpts.append(p[0])
                    await reply(r or "250 2.1.5 Ok")
                elif verb == "DATA":
                    if mail_from is None or not rcpts:
                        await reply("503 5.5.1 need RCPT before DATA" if mail_from is not None
                                    else "503 5.5.1 need MAIL before DATA")
                        continue
                    await reply("354 End data with <CR><LF>.<CR><LF>")
                    chunks = []
                    size = 0
                    too_big = False
                    while True:
                        try:
                            dl = await reader.readuntil(b"\n")
                        except asyncio.IncompleteReadError:
                            log(f"{tag} connection lost during DATA")
                            return
                        if dl in (b".\r\n", b".\n"):
                            break
                        if dl.startswith(b"."):
                            dl = dl[1:]
                        size += len(dl)
                        if size > self.opts.size:
                            too_big = True
                            chunks = []
                        elif not too_big:
                            chunks.append(dl)
                    if too_big:
                        await reply("552 5.3.4 message size exceeds fixed limit")
                    else:
                        r = self.rules.match("data", rcpts)
                        if r is not None and not r.startswith("2"):
                            if not await ruled(r):
                                return
                        else:
                            data = b"".join(chunks)
                            base = self.store(peer_ip, helo, mail_from, mail_params, rcpts, data)
                            log(f"{tag} stored {base}.eml from=<{mail_from}> "
                                f"to={','.join('<' + x + '>' for x in rcpts)} size={len(data)}")
                            await reply(r or f"250 2.0.0 Ok: queued as {base}")
                    mail_from, mail_params, rcpts = None, "", []
                elif verb == "RSET":
                    mail_from, mail_params, rcpts = None, "", []
                    await reply("250 2.0.0 Ok")
                elif verb == "NOOP":
                    await reply("250 2.0.0 Ok")
                elif verb == "VRFY":
                    await reply("252 2.0.0 cannot VRFY, but will accept")
                elif verb == "QUIT":
                    await reply("221 2.0.0 Bye")
                    return
                elif verb == "STARTTLS" and self.tls and not tls_on:
                    await reply("220 2.0.0 Ready to start TLS")
                    await writer.start_tls(self.tls)
                    tls_on = True           # RFC 3207: forget what came before
                    helo, mail_from, mail_params, rcpts = None, None, "", []
                    log(f"{tag} --- TLS {writer.get_extra_info('ssl_object').version()}")
                elif verb in ("STARTTLS", "BDAT", "AUTH"):
                    await reply("502 5.5.1 not implemented")
                else:
                    await reply("500 5.5.2 command not recognized")
        except (ConnectionError, BrokenPipeError) as e:
            log(f"{tag} connection error: {e}")
        finally:
            log(f"{tag} disconnect")
            try:
                writer.close()
                await writer.wait_closed()
            except Exception:
                pass


async def main(opts):
    sink = Sink(opts)
    host, _, port = opts.listen.rpartition(":")
    server = await asyncio.start_server(sink.session, host or "127.0.0.1", int(port),
                                        limit=MAX_LINE, reuse_address=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log(f"sink {opts.name} listening on {opts.listen}, messages in {opts.dir}")
    if opts.pid:
        with open(opts.pid + ".tmp", "w") as f:
            f.write(f"{os.getpid()}\n")
        os.rename(opts.pid + ".tmp", opts.pid)
    async with server:
        await stop.wait()
    log(f"sink {opts.name} stopping")
    if opts.pid:
        try:
            os.unlink(opts.pid)
        except FileNotFoundError:
            pass


def parse_args(argv):
    ap = argparse.ArgumentParser(description="SMTP sink for Outpost's integration tests")
    ap.add_argument("--listen", required=True, help="IP:PORT to listen on, e.g. 127.0.0.11:25")
    ap.add_argument("--dir", required=True, help="directory for NNNNNN.eml/.json files")
    ap.add_argument("--name", default="sink", help="name used in logs and JSON")
    ap.add_argument("--rules", help="rules file (PATTERN<TAB>REPLY), re-read on change")
    ap.add_argument("--log", help="transaction log file (default: stderr)")
    ap.add_argument("--pid", help="pid file, written once listening")
    ap.add_argument("--hostname", default=None, help="name in greeting (default: NAME.sink.test)")
    ap.add_argument("--size", type=int, default=52428800, help="SIZE limit in bytes")
    ap.add_argument("--tls-cert", help="PEM certificate (chain): offer STARTTLS")
    ap.add_argument("--tls-key", help="PEM private key of --tls-cert")
    opts = ap.parse_args(argv)
    if not opts.hostname:
        opts.hostname = f"{opts.name}.sink.test"
    return opts


if __name__ == "__main__":
    o = parse_args(sys.argv[1:])
    os.makedirs(o.dir, exist_ok=True)
    if o.log:
        LOGF = open(o.log, "a", encoding="utf-8")
    try:
        asyncio.run(main(o))
    except OSError as e:
        log(f"sink {o.name}: cannot listen on {o.listen}: {e}")
        sys.exit(1)
