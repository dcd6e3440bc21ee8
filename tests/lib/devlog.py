#!/usr/bin/python3
"""devlog.py - a syslog socket for the tests: what syslog(3) would send to /dev/log.

usage: devlog.py SOCKET OUT

Binds an AF_UNIX datagram socket at SOCKET (mode 0777) and appends each message
received to OUT as one line, exactly as sent: "<PRI>Mmm dd hh:mm:ss ident[pid]: text",
where PRI is facility * 8 + severity.  Runs until killed.
"""
import os
import socket
import sys

if len(sys.argv) != 3:
    sys.exit("usage: devlog.py SOCKET OUT")
path, out_path = sys.argv[1], sys.argv[2]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o777)
with open(out_path, "a", buffering=1) as out:
    while True:
        data = s.recv(65536)
        out.write(data.decode(errors="replace").rstrip("\n").replace("\n", " ") + "\n")
