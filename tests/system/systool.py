#!/usr/bin/env python3
"""Helpers for the system tests (tests/system/*.sh). Python 3 standard library only.

  systool.py pty [--timeout S] [--log FILE] STEP... -- COMMAND [ARG...]
      Runs COMMAND on a new pseudo-terminal (its controlling terminal, as for
      a person at a console) and plays the steps in order:
        -e REGEX   wait until the terminal output (since the last match) matches
        -s TEXT    type TEXT and Enter
        -c CMD     type the output of the shell command CMD (run at that moment) and Enter
        -r TEXT    type TEXT raw, Python escapes allowed ("\\x03" is Ctrl-C)
        -n REGEX   fail if the output so far (since the start) matches
        -q         hang up: end COMMAND (SIGHUP, then SIGKILL) and stop with status 0
      After the steps it waits for COMMAND to end. Exit status: COMMAND's
      (128+N for signal N), 124 when a step or the end timed out, 125 when
      COMMAND ended before an expected text, 126 for a forbidden text.
      Everything COMMAND wrote goes to FILE.

  systool.py syslog SOCKET OUTFILE
      A /dev/log stand-in: one line per datagram to OUTFILE, flushed at once,
      starting with facility.level ("authpriv.warning Nov 22 ... sudo: ...").

  systool.py mock code|wrong|sends|checks|reset|get PATH|post PATH JSON|port NAME
      The mock Gateway's control port, from the ports file in $TGOTP_MOCK_PORTS.
      code: the code of the last message (status 1 when none); wrong: a wrong
      code of the same length; sends/checks: how many sendVerificationMessage /
      checkVerificationStatus requests since the last reset.

  systool.py freeport
      A TCP port on 127.0.0.1 that was free a moment ago.
"""

import argparse
import codecs
import errno
import fcntl
import json
import os
import pty
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
import urllib.error
import urllib.request


# ------------------------------------------------------------------ mock

def _ports():
    path = os.environ.get("TGOTP_MOCK_PORTS")
    if not path:
        sys.exit("systool: TGOTP_MOCK_PORTS is not set")
    with open(path) as f:
        return json.load(f)


def _control(path, body=None):
    url = "http://127.0.0.1:%d%s" % (_ports()["control"], path)
    data = None if body is None else body.encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def cmd_mock(args):
    what = args.what
    if what in ("code", "wrong"):
        status, body = _control("/last")
        if status != 200:
            print("systool: no code was sent", file=sys.stderr)
            return 1
        code = json.loads(body)["code"]
        if what == "wrong":
            code = code[:-1] + str((int(code[-1]) + 1) % 10)
        print(code)
        return 0
    if what in ("sends", "checks"):
        status, body = _control("/stats")
        name = {"sends": "sendverificationmessage", "checks": "checkverificationstatus"}[what]
        print(json.loads(body).get("methods", {}).get(name, 0))
        return 0 if status == 200 else 1
    if what == "reset":
        status, _ = _control("/reset", "{}")
        return 0 if status == 200 else 1
    if what == "get":
        status, body = _control(args.rest[0])
        print(body)
        return 0 if status == 200 else 1
    if what == "post":
        status, body = _control(args.rest[0], args.rest[1])
        print(body)
        return 0 if status == 200 else 1
    if what == "port":
        print(_ports()[args.rest[0]])
        return 0
    print("systool: unknown mock command %s" % what, file=sys.stderr)
    return 2


# ------------------------------------------------------------------ syslog

SEVERITIES = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")
FACILITIES = {0: "kern", 1: "user", 3: "daemon", 4: "auth", 10: "authpriv"}

def cmd_syslog(args):
    try:
        os.unlink(args.socket)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(args.socket)
    os.chmod(args.socket, 0o666)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(args.outfile, "ab", buffering=0) as out:
        while True:
            msg = s.recv(65536).rstrip(b"\n\0")
            m = re.match(rb"<(\d+)>", msg)
            prefix = b"-.-"
            if m:
                pri = int(m.group(1))
                msg = msg[m.end():]
                prefix = (FACILITIES.get(pri >> 3, str(pri >> 3)) + "." + SEVERITIES[pri & 7]).encode()
            out.write(prefix + b" " + msg + b"\n")


# ------------------------------------------------------------------ freeport

def cmd_freeport(_args):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()
    return 0


# ------------------------------------------------------------------ pty

class Step(argparse.Action):
    """Keeps the steps in command-line order."""

    def __call__(self, parser, ns, values, option_string=None):
        steps = getattr(ns, "steps", None) or []
        steps.append((option_string, values))
        ns.steps = steps


class Driver:
    def __init__(self, argv, timeout, log):
        self.timeout = timeout
        self.log = log
        self.buf = b""
        self.pos = 0  # where the next expect starts looking
        self.eof = False
        self.status = None
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execvp(argv[0], argv)
            finally:
                os._exit(127)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))

    def _read(self, deadline):
        """Reads what is there, waiting until deadline. False on timeout."""
        if self.eof:
            return False
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([self.fd], [], [], left)
        if not r:
            return False
        try:
            data = os.read(self.fd, 4096)
        except OSError as e:
            if e.errno != errno.EIO:
                raise
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        self.log.write(data)
        self.log.flush()
        return True

    def expect(self, regex):
        rx = re.compile(regex.encode())
        deadline = time.monotonic() + self.timeout
        while True:
            m = rx.search(self.buf, self.pos)
            if m:
                self.pos = m.end()
                return 0
            if not self._read(deadline):
                if self.eof:
                    self._note("ended before /%s/" % regex)
                    return 125
                if time.monotonic() >= deadline:
                    self._note("timed out after %gs waiting for /%s/" % (self.timeout, regex))
                    return 124

    def send(self, data):
        # A person types, then presses Enter; the line discipline turns \r into \n.
        time.sleep(0.05)
        os.write(self.fd, data)

    def _note(self, text):
        msg = "\n[systool pty: %s]\n" % text
        self.log.write(msg.encode())
        self.log.flush()
        print("systool pty: %s" % text, file=sys.stderr)

    def hangup(self):
        for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                pass
            for _ in range(20):
                if self.reap(block=False):
                    return
                time.sleep(0.05)

    def reap(self, block):
        if self.status is not None:
            return True
        try:
            pid, st = os.waitpid(self.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            self.status = 0
            return True
        if pid == 0:
            return False
        self.status = os.waitstatus_to_exitcode(st)
        if self.status < 0:
            self.status = 128 - self.status
        return True

    def finish(self):
        deadline = time.monotonic() + self.timeout
        while not self.eof and time.monotonic() < deadline:
            self._read(deadline)
        while time.monotonic() < deadline:
            if self.reap(block=False):
                return self.status
            time.sleep(0.05)
        self._note("timed out after %gs waiting for the command to end" % self.timeout)
        self.hangup()
        return 124


def cmd_pty(args):
    if not args.command:
        sys.exit("systool pty: no command")
    argv = args.command[1:] if args.command[0] == "--" else args.command
    with open(args.log, "ab") as log:
        d = Driver(argv, args.timeout, log)
        rc = 0
        for opt, val in getattr(args, "steps", None) or []:
            if opt == "-e":
                rc = d.expect(val)
            elif opt == "-n":
                if re.search(val.encode(), d.buf):
                    d._note("forbidden text /%s/ appeared" % val)
                    rc = 126
            elif opt == "-s":
                d.send(val.encode() + b"\r")
            elif opt == "-r":
                d.send(codecs.decode(val, "unicode_escape").encode("latin-1"))
            elif opt == "-c":
                out = subprocess.run(val, shell=True, capture_output=True, text=True, timeout=30)
                if out.returncode != 0:
                    d._note("step command failed: %s: %s" % (val, out.stderr.strip()))
                    rc = 125
                else:
                    d.send(out.stdout.strip().encode() + b"\r")
            elif opt == "-q":
                d.hangup()
                return 0
            if rc:
                d.hangup()
                return rc
        return d.finish()


# ------------------------------------------------------------------ main

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    pp = sub.add_parser("pty")
    pp.add_argument("--timeout", type=float, default=15)
    pp.add_argument("--log", required=True)
    for opt in ("-e", "-s", "-c", "-r", "-n"):
        pp.add_argument(opt, action=Step)
    pp.add_argument("-q", action=Step, nargs=0)
    pp.add_argument("command", nargs=argparse.REMAINDER)

    ps = sub.add_parser("syslog")
    ps.add_argument("socket")
    ps.add_argument("outfile")

    pm = sub.add_parser("mock")
    pm.add_argument("what")
    pm.add_argument("rest", nargs="*")

    sub.add_parser("freeport")

    args = p.parse_args()
    return {"pty": cmd_pty, "syslog": cmd_syslog, "mock": cmd_mock,
            "freeport": cmd_freeport}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
