#!/usr/bin/python3
"""notify.py - systemd's side of sd_notify(3), for the tests.

usage: notify.py LOG PATHS -- COMMAND [ARG...]

Binds an AF_UNIX datagram socket at LOG.sock, starts COMMAND with NOTIFY_SOCKET
naming it (as systemd starts a Type=notify service), and writes one line to LOG
for each message that arrives, flushed at once:

    READY=1 | STATUS=listening on ... ; pid=main sockets=ok

The assignments of the message joined by " | ", then who sent it (pid=main: the
process started, as systemd's NotifyAccess=main wants; pid=N otherwise) and
whether each of PATHS (comma-separated; "-" for none) listened at the moment
the message arrived (sockets=ok, or sockets=missing:PATH): a unix socket
file, or tcp:HOST:PORT that accepts a connection.

HUP, TERM and INT are passed on to COMMAND; notify.py exits with its status.
"""
import os
import select
import signal
import socket
import stat
import struct
import subprocess
import sys


def listening(p):
    """A unix socket file at p, or something accepting on tcp:HOST:PORT."""
    try:
        if p.startswith("tcp:"):
            host, port = p[4:].rsplit(":", 1)
            socket.create_connection((host, int(port)), timeout=1).close()
            return True
        return stat.S_ISSOCK(os.stat(p).st_mode)
    except OSError:
        return False


def sockets_state(paths):
    """ok, or missing:PATH for the first path that does not listen now."""
    for p in paths:
        if not listening(p):
            return "missing:" + p
    return "ok"


def main():
    if len(sys.argv) < 5 or sys.argv[3] != "--":
        sys.exit("usage: notify.py LOG PATHS -- COMMAND [ARG...]")
    log_path, paths, cmd = sys.argv[1], sys.argv[2], sys.argv[4:]
    paths = [] if paths == "-" else paths.split(",")
    sock_path = log_path + ".sock"
    try:
        os.unlink(sock_path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(sock_path)
    os.chmod(sock_path, 0o777)          # the daemon may have become another user
    s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    log = open(log_path, "a", buffering=1)

    env = dict(os.environ, NOTIFY_SOCKET=sock_path)
    child = subprocess.Popen(cmd, env=env)

    def forward(sig, frame):
        try:
            child.send_signal(sig)
        except ProcessLookupError:
            pass
    for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, forward)

    creds_size = struct.calcsize("3i")
    while True:
        try:
            ready, _, _ = select.select([s], [], [], 0.2)
        except InterruptedError:
            continue
        if ready:
            data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(creds_size))
            pid = None
            for level, typ, cdata in anc:
                if level == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("3i", cdata[:creds_size])[0]
            state = sockets_state(paths)
            who = "main" if pid == child.pid else str(pid)
            lines = data.decode(errors="replace").strip("\n").split("\n")
            log.write("%s ; pid=%s sockets=%s\n" % (" | ".join(lines), who, state))
            continue
        if child.poll() is not None:
            break
    s.close()
    os.unlink(sock_path)
    sys.exit(child.returncode if child.returncode >= 0 else 128 - child.returncode)


if __name__ == "__main__":
    main()
