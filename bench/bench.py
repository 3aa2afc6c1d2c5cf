#!/usr/bin/env python3
"""make bench: what a login through pam_tgotp costs, side by side with the
curl script and Python requests an administrator would write instead.

    bench/bench.py BUILD_DIR [--quick] [--out FILE]

Starts its own mock Gateway (tests/mock), slapd (tests/ldap) and, for part 3,
a three-member etcd cluster (tests/etcd; skipped when etcd is not installed),
runs the five parts of bench/README.md, prints one Markdown report and
writes it to FILE (default bench/results.md; with --quick
BUILD_DIR/bench-quick.md).
--quick (make bench BENCH_QUICK=1, and make check) uses small counts and
prints one PASS:/FAIL: line per part. Exits 1 when something failed (a
login that did not succeed, a count that is wrong), never because a target
was missed: on a loaded machine targets may miss.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PHONE = "+442079460958"
TOKEN = "bench-token"
DELAY_MS = 25
FIXED_CODE = "12345678"  # the mock's codes for concurrent logins (6 digits used)
LDAP_BASE = "dc=example,dc=org"
LDAP_READER = "cn=reader,dc=example,dc=org"
LDAP_PASSWORD = "reader secret, with spaces"  # tests/ldap/data.ldif
LONGER_ETCD_TIMEOUT = 10  # s: part 3's variant of the store's default 2 s
ETCD_CAS_TRIES = 32  # src/store_etcd.h: TGOTP_ETCD_CAS_TRIES

FULL = {"runs": 20, "relay_runs": 20, "load": 256, "etcd_load": 256, "sequential": 50,
        "lines": 1_000_000, "lookup_runs": 20, "ldap_runs": 100, "dlopen_runs": 20}
# etcd_load: in a smoke run every login must succeed, and 16 logins of one
# user at once can spend the store's 2 s on its retries on a busy machine
QUICK = {"runs": 3, "relay_runs": 2, "load": 16, "etcd_load": 8, "sequential": 5,
         "lines": 10_000, "lookup_runs": 3, "ldap_runs": 5, "dlopen_runs": 3}


# ---------------------------------------------------------------- numbers

def pct(values, p):
    """The p-th percentile (linear between the closest ranks)."""
    v = sorted(values)
    if not v:
        return float("nan")
    k = (len(v) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def spread(values, unit=""):
    """median (p10-p90)"""
    if not values:
        return "-"
    return "%s (%s-%s)%s" % (fmt(statistics.median(values)), fmt(pct(values, 10)),
                             fmt(pct(values, 90)), unit)


def fmt(x):
    if x != x:
        return "-"
    return "%.0f" % x if abs(x) >= 100 else "%.1f" % x if abs(x) >= 10 else "%.2f" % x


def met(ok):
    return "**met**" if ok else "**not met**"


# ---------------------------------------------------------------- the setup

class Bench:
    def __init__(self, build, quick):
        self.build = os.path.abspath(build)
        self.quick = quick
        self.n = QUICK if quick else FULL
        self.failures = []
        self.tmp = tempfile.mkdtemp(prefix="tgotp-bench.")
        os.chmod(self.tmp, 0o700)
        self.procs = []
        self.cleanup = []  # directories outside tmp
        self.ldapdir = None
        self.etcd = None  # the cluster's directory, while it runs
        self.certs = os.path.join(self.build, "certs")
        self.module = os.path.join(self.build, "pam_tgotp.so")
        self.bin = {name: os.path.join(self.build, "bench", "bench-" + name)
                    for name in ("login", "measure", "dlopen")}
        self.python = self.requests_python()
        self.seq = 0

    def fail(self, what):
        self.failures.append(what)
        print("  failure: " + what, file=sys.stderr)

    @staticmethod
    def requests_python():
        """Debian's python3 with python3-requests, else this one."""
        for py in ("/usr/bin/python3", sys.executable):
            if os.path.exists(py) and subprocess.run(
                    [py, "-c", "import requests"], capture_output=True).returncode == 0:
                return py
        return None

    def path(self, *names):
        return os.path.join(self.tmp, *names)

    def write(self, name, text, mode=0o600):
        path = self.path(name)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(path, mode)
        return path

    def start(self):
        if not os.path.exists(os.path.join(self.certs, "etcd-client.pem")):
            subprocess.run([os.path.join(TOP, "tests/certs/gen-certs.sh"), self.certs],
                           check=True, stdout=subprocess.DEVNULL)
        self.ca = os.path.join(self.certs, "ca.pem")
        ports = self.path("ports.json")
        # The mock stands for a Gateway on another machine: under load it must
        # not wait in line behind the logins it serves (nice -10, as root).
        self.mock = subprocess.Popen(
            (["nice", "-n", "-10"] if os.geteuid() == 0 else []) + [sys.executable, os.path.join(TOP, "tests/mock/mock_gateway.py"), "--certs",
             self.certs, "--ports-file", ports, "--token", TOKEN, "--quiet"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(self.mock)
        self.ports = json.loads(self.wait_file(ports))
        self.control = self.ports["control"]
        self.url = "https://127.0.0.1:%d" % self.ports["gateway"]
        self.token = self.write("token", TOKEN + "\n")
        os.mkdir(self.path("pam.d"), 0o700)
        self.write("pam.d/other", "auth required pam_deny.so\n", 0o644)

    def wait_file(self, path, seconds=10):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if os.path.exists(path) and os.path.getsize(path) > 0:
                with open(path, encoding="utf-8") as handle:
                    return handle.read()
            time.sleep(0.02)
        raise RuntimeError("%s did not appear" % path)

    def stop(self):
        self.stop_etcd()
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if self.ldapdir:
            subprocess.run([os.path.join(TOP, "tests/ldap/slapd-stop.sh"), self.ldapdir],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for path in self.cleanup + [self.tmp]:
            shutil.rmtree(path, ignore_errors=True)

    # ---- the fleet's store: a three-member etcd cluster on loopback
    def start_etcd(self):
        """Starts tests/etcd/etcd-cluster.sh's cluster (TLS, client certificates
        required): its endpoints, or None with the reason when etcd is not
        installed. Like the mock, the members stand for other machines: nice
        -10 as root, so that the logins do not starve them."""
        self.etcd = self.path("etcd")
        out = subprocess.run(
            (["nice", "-n", "-10"] if os.geteuid() == 0 else []) +
            [os.path.join(TOP, "tests/etcd/etcd-cluster.sh"), self.etcd, self.certs, "start"],
            capture_output=True, text=True, timeout=60)
        env = dict(re.findall(r"export (\w+)='?([^'\n]*)'?", out.stdout))
        if out.returncode == 0 and "TGOTP_ETCD_SKIP" in env:
            self.etcd = None
            return None, env["TGOTP_ETCD_SKIP"]
        if out.returncode != 0 or "TGOTP_ETCD_ENDPOINTS" not in env:
            raise RuntimeError("etcd did not start: " + out.stderr.strip()[-300:])
        return env["TGOTP_ETCD_ENDPOINTS"].split(), None

    def stop_etcd(self):
        if self.etcd:
            subprocess.run([os.path.join(TOP, "tests/etcd/etcd-cluster.sh"), self.etcd, "-",
                            "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.etcd = None

    def etcd_cpu_ms(self):
        """CPU ms of the three members so far."""
        total = 0.0
        for n in (1, 2, 3):
            try:
                with open(os.path.join(self.etcd, "m%d" % n, "pid"), encoding="ascii") as handle:
                    total += proc_cpu_ms(int(handle.read()))
            except (OSError, ValueError):
                pass
        return total

    def ctl(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.control, path), data=data,
                                     method=method)
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def service(self, url=None, extra="", users=None, lines=None, tmpfs=False, etcd=None,
                etcd_timeout=None):
        """A configuration and its pam.d service; returns the service name.
        A fresh state directory for each, so rate limits never carry over
        (in /dev/shm with tmpfs: no disk under the fsyncs). With etcd (the
        endpoints), the counts are on the cluster under a fresh prefix;
        when_down = "deny", so that a login the store did not serve is a
        failure, not a silent fallback to this host's state_dir; etcd_timeout:
        the store's timeout, s (default 2)."""
        self.seq += 1
        name = "bench%d" % self.seq
        if etcd:
            extra += (
                'store {\n  type = "etcd"\n  endpoints = {%s}\n  ca_file = "%s"\n'
                '  cert_file = "%s"\n  key_file = "%s"\n  prefix = "/tgotp-bench-%d/"\n'
                '  when_down = "deny"\n%s}\n') % (
                    ", ".join('"%s"' % e for e in etcd), self.ca,
                    os.path.join(self.certs, "etcd-client.pem"),
                    os.path.join(self.certs, "etcd-client.key"), self.seq,
                    "  timeout = %d\n" % etcd_timeout if etcd_timeout else "")
        if tmpfs:
            state = tempfile.mkdtemp(prefix="tgotp-bench-state.", dir="/dev/shm")
            self.cleanup.append(state)
        else:
            state = self.path("state%d" % self.seq)
            os.mkdir(state, 0o700)
        users_file = self.path("users%d" % self.seq)
        if lines is not None:
            self.write("users%d" % self.seq, lines)
        inline = "" if users is not None else 'user bench { phone = "%s" }\n' % PHONE
        conf = self.write("%s.conf" % name, (
            'api_url = "%s"\nca_file = "%s"\ntoken_file = "%s"\nusers_file = "%s"\n'
            'state_dir = "%s"\n'
            # a high rate_limit (the same user logs in hundreds of times) that
            # tgotp's guessing check accepts: 300 x 1 / 10^6 a day
            'rate_limit = 300\nrate_window = 86400\nmax_tries = 1\n%s%s'
        ) % (url or self.url, self.ca, self.token, users_file, state, extra, inline))
        self.write("pam.d/" + name, "auth required %s config=%s debug\n" % (self.module, conf),
                   0o644)
        return name

    # ---- one process, measured
    def measure(self, argv):
        """Runs argv under bench-measure: (cpu_ms, wall_ms, maxrss_kb, rc, stdout)."""
        out = self.path("measure.out")
        proc = subprocess.run([self.bin["measure"], out] + argv, capture_output=True, text=True,
                              timeout=120)
        user, sys_, rss, wall, rc = open(out, encoding="ascii").read().split()
        if proc.returncode != 0:
            self.last_stderr = proc.stderr.strip()[-500:]
        return float(user) + float(sys_), float(wall), int(rss), int(rc), proc.stdout

    def login_argv(self, kind, service=None, url=None, user="bench"):
        if kind == "module":
            return [self.bin["login"], self.path("pam.d"), service, user, str(self.control)]
        args = [url or self.url, self.ca, self.token, PHONE, str(self.control)]
        if kind == "curl":
            return ["bash", os.path.join(TOP, "bench/curl-login.sh")] + args
        return [self.python, os.path.join(TOP, "bench/requests-login.py")] + args


TIMING = re.compile(r"timing ms \(wall/cpu\): (.*)")


def module_timing(stdout):
    """The module's debug timing line as {step: (wall, cpu)}, and login_ms."""
    steps, login = {}, None
    for line in stdout.splitlines():
        m = TIMING.search(line)
        if m:
            for item in m.group(1).split():
                key, _, val = item.partition("=")
                wall, cpu = val.split("/")
                steps[key] = (float(wall), float(cpu))
        m = re.match(r"rc=(\d+) login_ms=([0-9.]+)", line)
        if m:
            login = float(m.group(2))
    return steps, login


# ---------------------------------------------------------------- the parts

KINDS = ("module", "curl", "requests")
LABEL = {"module": "(a) pam_tgotp via libpam", "curl": "(b) curl-login.sh (3 x curl)",
         "requests": "(c) requests-login.py"}


def alternate(b, runs, service, url=None, counts=False):
    """A B C A B C ...: {kind: [(cpu, wall, rss, stdout, stats)]}."""
    res = {k: [] for k in KINDS}
    kinds = [k for k in KINDS if k != "requests" or b.python]
    if not b.python:
        b.fail("no python3 that imports requests: install python3-requests")
    for k in kinds:  # one unmeasured run each: files in the page cache
        b.measure(b.login_argv(k, service, url))
    for i in range(runs):
        for k in kinds:
            if counts:
                b.ctl("POST", "/reset")
            cpu, wall, rss, rc, out = b.measure(b.login_argv(k, service, url))
            if rc != 0:
                b.fail("%s login %d exited %d: %s" % (k, i, rc, getattr(b, "last_stderr", "")))
                continue
            res[k].append((cpu, wall, rss, out, b.ctl("GET", "/stats") if counts else None))
    return res


def part1(b, report):
    service = b.service()
    res = alternate(b, b.n["runs"], service, counts=True)
    b.per_login = res
    rows = ["| per login, %d runs each, alternating | CPU ms (user+sys) | wall ms | peak RSS MiB "
            "| TLS handshakes | requests |" % b.n["runs"], "|---|---|---|---|---|---|"]
    med = {}
    for k in KINDS:
        r = res[k]
        if not r:
            rows.append("| %s | failed | | | | |" % LABEL[k])
            continue
        cpu = [x[0] for x in r]
        med[k] = statistics.median(cpu)
        hs = sorted({x[4]["handshakes"] for x in r})
        rq = sorted({x[4]["requests"] for x in r})
        rows.append("| %s | %s | %s | %s | %s | %s |" % (
            LABEL[k], spread(cpu), spread([x[1] for x in r]),
            spread([x[2] / 1024 for x in r]), "/".join(map(str, hs)), "/".join(map(str, rq))))
    report.append("## 1. Per login: checkSendAbility, send, check (medians, p10-p90)\n")
    report += rows
    b.targets = []
    report.append("")
    if "module" in med:
        for k, share in (("curl", 3), ("requests", 10)):
            if k in med:
                ratio = med["module"] / med[k]
                report.append("- CPU a/%s = %.2f (1/%.1f)" % (
                    "b" if k == "curl" else "c", ratio, 1 / ratio if ratio else 0))
                b.targets.append(("CPU per login <= 1/%d of %s" % (share, k),
                                  "%.1f vs %.1f ms (1/%.1f)" % (med["module"], med[k], 1 / ratio),
                                  ratio <= 1 / share))
        stats = [x[4] for x in res["module"]]
        ok = all(s["handshakes"] == 1 and s["connections"] == 1 and s["requests"] <= 3
                 for s in stats)
        b.targets.append(("1 TLS connection and <= 3 requests per login (check_ability = true)",
                          "connections %s, handshakes %s, requests %s" % (
                              max(s["connections"] for s in stats),
                              max(s["handshakes"] for s in stats),
                              max(s["requests"] for s in stats)), ok))
        for s in stats:
            if s["requests"] != 3 or s["methods"].get("sendverificationmessage") != 1:
                b.fail("module login: %d requests, methods %s" % (s["requests"], s["methods"]))
                break
    report.append("")
    return bool(res["module"]) and bool(res["curl"])


def start_relay(b, delay_ms):
    port_file = b.path("relay.port")
    relay = subprocess.Popen([sys.executable, os.path.join(TOP, "bench/relay.py"),
                              str(b.ports["gateway"]), str(delay_ms), port_file])
    b.procs.append(relay)
    return int(b.wait_file(port_file).strip())


def part2(b, report):
    port = start_relay(b, DELAY_MS)
    url = "https://127.0.0.1:%d" % port
    service = b.service(url=url)
    res = alternate(b, b.n["relay_runs"], service, url=url, counts=True)
    requests = 3
    floor = 2 * DELAY_MS * (1 + 1 + requests)
    report.append("## 2. Round trips: %d ms each way through bench/relay.py\n" % DELAY_MS)
    report.append("Floor: 2 x %d ms x (1 TCP + 1 TLS 1.3 + %d requests) = %d ms.\n"
                  % (DELAY_MS, requests, floor))
    report.append("| %d runs each | TCP connections | TLS handshakes | requests | process wall ms "
                  "| login ms (pam_start to pam_end) | vs floor |" % b.n["relay_runs"])
    report.append("|---|---|---|---|---|---|---|")
    login_med = None
    for k in KINDS:
        r = res[k]
        if not r:
            continue
        wall = [x[1] for x in r]
        logins = [module_timing(x[3])[1] for x in r] if k == "module" else []
        basis = statistics.median(logins) if logins else statistics.median(wall)
        if k == "module":
            login_med = basis
        report.append("| %s | %s | %s | %s | %s | %s | +%.0f %% |" % (
            LABEL[k], "/".join(map(str, sorted({x[4]["connections"] for x in r}))),
            "/".join(map(str, sorted({x[4]["handshakes"] for x in r}))),
            "/".join(map(str, sorted({x[4]["requests"] for x in r}))), spread(wall),
            spread(logins) if logins else "-", 100 * (basis - floor) / floor))
    report.append("")
    steps = {}
    for x in res["module"]:
        for key, (wall, _) in module_timing(x[3])[0].items():
            steps.setdefault(key, []).append(wall)
    if steps:
        report.append("The module's own steps under the delay (median wall ms): " + ", ".join(
            "%s %s" % (k, fmt(statistics.median(v))) for k, v in steps.items()) + ".\n")
    loopback = [x[1] for x in b.per_login.get("module", [])]
    if login_med is not None and loopback:
        report.append("Above the floor: %.0f ms; the same login without delay (part 1, process "
                      "wall) takes %s ms: the module adds no round trip, the rest is CPU "
                      "(loading, TLS) and the mock's own time per request.\n"
                      % (login_med - floor, fmt(statistics.median(loopback))))
    if login_med is not None:
        b.targets.append(("wall time under %d ms delay within 10 %% of the floor" % DELAY_MS,
                          "login %.0f ms vs floor %d ms (+%.0f %%)" % (
                              login_med, floor, 100 * (login_med - floor) / floor),
                          login_med <= 1.1 * floor))


def proc_cpu_ms(pid):
    """User + system CPU ms of a running process."""
    with open("/proc/%d/stat" % pid, encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def mock_cpu_ms(b):
    return proc_cpu_ms(b.mock.pid)


def burst(b, service, users):
    """len(users) logins started at the same instant: {times: login ms of the
    good ones, failed: {outcome: count}, codes, mock_ms, etcd_ms, batch,
    steps: {step: median wall ms}}."""
    b.ctl("POST", "/reset")
    b.ctl("POST", "/config", {"fixed_code": FIXED_CODE})
    lead = 0.3 + len(users) * 0.006  # time to start every process before the instant
    start_ns = time.time_ns() + int(lead * 1e9)
    cpu0 = mock_cpu_ms(b)
    etcd0 = b.etcd_cpu_ms() if b.etcd else 0
    procs = [subprocess.Popen([b.bin["login"], b.path("pam.d"), service, user,
                               "code=" + FIXED_CODE[:6], str(start_ns)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for user in users]
    times, failed, steps = [], {}, {}
    for proc in procs:
        out = proc.communicate(timeout=300)[0]
        split, login = module_timing(out)
        if login is not None:
            split["outside the module's steps (loading, libpam, exit)"] = (
                login - sum(w for w, _ in split.values()), 0)
        for key, (wall, _) in split.items():
            steps.setdefault(key, []).append(wall)
        if proc.returncode != 0 or login is None:
            m = re.search(r"outcome=(\w+)", out)
            why = m.group(1) if m else "exit %d" % proc.returncode
            failed[why] = failed.get(why, 0) + 1
            # 16 at once must always work; past that, failures are the target's
            if b.quick:
                b.fail("concurrent login failed: %s" % out.strip().splitlines()[-3:])
        else:
            times.append(login)
    late = (time.time_ns() - start_ns) / 1e6
    stats = b.ctl("GET", "/stats")
    b.ctl("POST", "/config", {"fixed_code": None})
    return {"times": times, "failed": failed,
            "codes": stats["methods"].get("sendverificationmessage", 0),
            "mock_ms": mock_cpu_ms(b) - cpu0,
            "etcd_ms": b.etcd_cpu_ms() - etcd0 if b.etcd else None, "batch": late,
            "steps": {k: statistics.median(v) for k, v in steps.items()}}


def sequential(b, services, runs):
    """runs logins one after the other on each service, alternating (A B A B,
    after one unmeasured login each): {service: [(login_ms, cpu_ms, state_ms)]}."""
    res = {s: [] for s in services}
    for i in range(runs + 1):
        for service in services:
            cpu, _, _, rc, out = b.measure(b.login_argv("module", service))
            steps, login = module_timing(out)
            if rc != 0 or login is None or "state" not in steps:
                b.fail("sequential login %d on %s exited %d: %s" % (
                    i, service, rc, out.strip().splitlines()[-3:]))
                continue
            if i > 0:
                res[service].append((login, cpu, steps["state"][0]))
    return res


def part3(b, report):
    n = b.n["load"]
    users = ["load%03d" % i for i in range(n)]
    lines = "".join("%s +4420794%05d\n" % (u, i) for i, u in enumerate(users))
    try:
        endpoints, skipped = b.start_etcd()
    except Exception as err:  # a cluster that will not start is a failure; files still run
        b.fail("%s: %s" % (type(err).__name__, err))
        endpoints, skipped = None, "etcd did not start"
    if skipped:
        print("SKIP: bench load on etcd: %s" % skipped, flush=True)
    try:
        part3_runs(b, report, n, users, lines, endpoints, skipped)
    finally:
        b.stop_etcd()


def part3_runs(b, report, n, users, lines, endpoints, skipped):
    m = min(n, b.n["etcd_load"])
    at = "" if m == n else ", %d at once" % m
    # etcd's rows with the default timeout (2 s), then, in a full run, with
    # a longer one: what a login may spend waiting, or its retries, decides
    timeouts = ([None] + ([] if b.quick else [LONGER_ETCD_TIMEOUT])) if endpoints else []
    runs = [("different users", "files", b.service(users=True, lines=lines), users)]
    for t in timeouts:
        runs.append(("different users" + at, "etcd" + (", timeout = %d s" % t if t else ""),
                     b.service(users=True, lines=lines, etcd=endpoints, etcd_timeout=t),
                     users[:m]))
    runs.append(("one user (rate_limit = 300)", "files", b.service(), ["bench"] * n))
    for t in timeouts:
        runs.append(("one user (rate_limit = 300)" + at,
                     "etcd" + (", timeout = %d s" % t if t else ""),
                     b.service(etcd=endpoints, etcd_timeout=t), ["bench"] * m))
    if os.path.isdir("/dev/shm"):
        runs.append(("one user", "files on tmpfs (/dev/shm)", b.service(tmpfs=True),
                     ["bench"] * n))
    report.append("## 3. Load: %d logins at once on %d cores (state_dir on files, the store "
                  "on etcd)\n" % (n, os.cpu_count()))
    report.append("| %d at once | state | p50 ms | p99 ms | max ms | failures | codes sent "
                  "| batch ms | module's state step, median ms | mock CPU ms | etcd CPU ms |" % n)
    report.append("|---|---|---|---|---|---|---|---|---|---|---|")
    worst, failed_total, tmpfs_steps = {}, {}, None
    for label, store, service, who in runs:
        r = burst(b, service, who)
        why, times = r["failed"], r["times"]
        failed = sum(why.values())
        if not why and r["codes"] != len(who):
            b.fail("%s on %s: %d codes sent for %d logins" % (label, store, r["codes"],
                                                               len(who)))
        # tmpfs and a longer timeout are variants, not the target's configuration
        if store in ("files", "etcd"):
            worst[store] = max(worst.get(store, 0),
                               pct(times, 99) if times else float("inf"))
            failed_total[store] = failed_total.get(store, 0) + failed
        report.append("| %s | %s | %s | %s | %s | %d%s | %d | %.0f | %s | %.0f | %s |" % (
            label, store, fmt(pct(times, 50)), fmt(pct(times, 99)),
            fmt(max(times, default=0)), failed,
            " (%s)" % ", ".join("%s %d" % kv for kv in why.items()) if why else "",
            r["codes"], r["batch"], fmt(r["steps"].get("state", float("nan"))), r["mock_ms"],
            "%.0f" % r["etcd_ms"] if store.startswith("etcd") else "-"))
        if store.startswith("files on tmpfs"):
            tmpfs_steps = r["steps"]
    if skipped:
        report.append("| different users, one user, sequential | etcd | skipped: %s "
                      "| | | | | | | | |" % skipped)
    report.append("")
    if tmpfs_steps:
        report.append("Median wall ms per step in the tmpfs row: " + ", ".join(
            "%s %s" % (k, fmt(v)) for k, v in tmpfs_steps.items()) + ".\n")
    report.append("Login time: from the common start instant to pam_end, in each process "
                  "(module loading included). The mock Gateway is Python and shares the 2 "
                  "cores (its CPU is in the table), and so do etcd's three members "
                  "(tests/etcd/etcd-cluster.sh: TLS, client certificates, `when_down = "
                  "\"deny\"` so that a login the store did not serve counts as a failure). "
                  + ("The `timeout = %d s` rows set the store's timeout (default 2 s): whether "
                     "logins fail for the time they may spend waiting or for their retries "
                     "(`state_busy`: %d tries). " % (LONGER_ETCD_TIMEOUT, ETCD_CAS_TRIES)
                     if len(timeouts) > 1 else "") + "Floor on loopback: ~0 ms.\n")
    mod = [x[0] for x in b.per_login.get("module", [])]
    if mod:
        need = n * statistics.median(mod) / os.cpu_count()
        report.append("CPU alone: %d x %s ms (a login in part 1) / %d cores = %.0f ms before the "
                      "mock's share, if nothing else ran.\n" % (
                          n, fmt(statistics.median(mod)), os.cpu_count(), need))
    b.targets.append(("%d concurrent logins: 0 failures, p99 < 1 s + floor" % n,
                      "%d failures, worst p99 %.0f ms" % (failed_total["files"],
                                                          worst["files"]),
                      failed_total["files"] == 0 and worst["files"] < 1000))
    if endpoints:
        b.targets.append(("%d concurrent logins with the store on etcd: the same" % m,
                          "%d failures, worst p99 %.0f ms" % (failed_total["etcd"],
                                                              worst["etcd"]),
                          failed_total["etcd"] == 0 and worst["etcd"] < 1000))
        part3_sequential(b, report, endpoints)


def part3_sequential(b, report, endpoints):
    runs = b.n["sequential"]
    files, etcd = b.service(), b.service(etcd=endpoints)
    res = sequential(b, [files, etcd], runs)
    report.append("### What the store on etcd costs a login: %d sequential logins each, "
                  "alternating\n" % runs)
    report.append("| state | login ms: median | p99 | module's state step ms: median | p99 "
                  "| CPU ms (whole process): median |")
    report.append("|---|---|---|---|---|---|")
    col = {}
    for name, service in (("files", files), ("etcd (3 members, TLS)", etcd)):
        r = res[service]
        col[name] = [[x[k] for x in r] for k in range(3)]
        login, cpu, state = col[name]
        report.append("| %s | %s | %s | %s | %s | %s |" % (
            name, fmt(statistics.median(login or [float("nan")])), fmt(pct(login, 99)),
            fmt(statistics.median(state or [float("nan")])), fmt(pct(state, 99)),
            fmt(statistics.median(cpu or [float("nan")]))))
    f, e = col["files"], col["etcd (3 members, TLS)"]
    if f[0] and e[0]:
        report.append("| added by etcd | %s | %s | %s | %s | %s |" % (
            fmt(statistics.median(e[0]) - statistics.median(f[0])),
            fmt(pct(e[0], 99) - pct(f[0], 99)),
            fmt(statistics.median(e[2]) - statistics.median(f[2])),
            fmt(pct(e[2], 99) - pct(f[2], 99)),
            fmt(statistics.median(e[1]) - statistics.median(f[1]))))
    report.append("")
    report.append("Login time is pam_start to pam_end (bench-login's `login_ms`), the "
                  "module on one host against the mock Gateway, as in part 1; the etcd row "
                  "adds `store { type = \"etcd\" }` on tests/etcd/etcd-cluster.sh's cluster. "
                  "The state step is the module's own: opening the state and taking the rate "
                  "slot, on etcd the FLOOD_WAIT record, the user's rate record, a lease and a "
                  "transaction on one TLS connection with a client certificate. It grows by "
                  "more than the login does: the store's connection is the process's first "
                  "and pays libcurl's and OpenSSL's one-time set-up, which the Gateway's "
                  "connection (client and ability steps) then no longer pays. Across a "
                  "network, add those requests' round trips to the leader.\n")


def lookups(b, service, runs, user="bench"):
    cpu, wall = [], []
    for i in range(runs + 1):
        c, w, rss, rc, out = b.measure(b.login_argv("module", service, user=user))
        steps, _ = module_timing(out)
        if rc != 0 or "lookup" not in steps:
            b.fail("lookup login %d exited %d: %s" % (i, rc, out.strip().splitlines()[-2:]))
            continue
        if i > 0:  # the first warms the page cache
            wall.append(steps["lookup"][0])
            cpu.append(steps["lookup"][1])
    return wall, cpu


def part4(b, report):
    n = b.n["lines"]
    # 15-byte lines: the module reads at most 16 MiB of users_file
    # (USERS_FILE_MAX), so 1,000,000 lines must average < 16.7 bytes.
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"

    def name(i):
        s = ""
        for _ in range(4):
            i, r = divmod(i, 36)
            s += digits[r]
        return s
    lines = "".join("%s +1%07d\n" % (name(i), i) for i in range(n - 1)) + "bench %s\n" % PHONE
    service = b.service(users=True, lines=lines)
    wall, cpu = lookups(b, service, b.n["lookup_runs"])
    report.append("## 4. Lookups (the module's lookup step: NSS name, then the map)\n")
    report.append("| lookup | runs | median ms | p99 ms | CPU median ms |")
    report.append("|---|---|---|---|---|")
    report.append("| users_file, %d lines (%.1f MB), user on the last line | %d | %s | %s | %s |"
                  % (n, len(lines) / 1e6, len(wall), fmt(statistics.median(wall or [0])),
                     fmt(pct(wall, 99)), fmt(statistics.median(cpu or [0]))))
    if n == FULL["lines"]:
        b.targets.append(("users_file of 1,000,000 lines: lookup < 100 ms",
                          "%.1f ms" % statistics.median(wall or [float("inf")]),
                          bool(wall) and statistics.median(wall) < 100))
    part4_ldap(b, report)
    report.append("")


def part4_ldap(b, report):
    b.ldapdir = tempfile.mkdtemp(prefix="tgotp-bench-slapd.")
    out = subprocess.run([os.path.join(TOP, "tests/ldap/slapd-start.sh"), b.ldapdir, b.certs,
                          b.ldapdir], capture_output=True, text=True)
    env = dict(re.findall(r"export (\w+)=(\S*)", out.stdout))
    if out.returncode != 0 or "TGOTP_LDAP_URI" not in env:
        reason = env.get("TGOTP_LDAP_SKIP", out.stderr.strip()[-200:])
        report.append("| LDAP (StartTLS + bind) | skipped: %s | | | |" % reason)
        if out.returncode != 0:
            b.fail("slapd did not start: " + reason)
        return
    pw = b.write("ldap.pw", LDAP_PASSWORD + "\n")
    service = b.service(users=True, extra=(
        'ldap {\n  uri = "%s"\n  base = "%s"\n  ca_file = "%s"\n  bind_dn = "%s"\n'
        '  bind_password_file = "%s"\n}\n') % (env["TGOTP_LDAP_URI"], LDAP_BASE, b.ca,
                                                LDAP_READER, pw))
    # dora's mobile (tests/ldap/data.ldif) is PHONE
    wall, cpu = lookups(b, service, b.n["ldap_runs"], user="dora")
    report.append("| LDAP: StartTLS + bind + search (%s) | %d | %s | %s | %s |" % (
        env["TGOTP_LDAP_URI"].split(":")[0], len(wall), fmt(statistics.median(wall or [0])),
        fmt(pct(wall, 99)), fmt(statistics.median(cpu or [0]))))


def dlopen_cpu(b, libs, runs):
    """Median CPU ms of a fresh process that dlopens libs, and of each dlopen."""
    total, each = [], {lib: [] for lib in libs}
    for _ in range(runs):
        cpu, _, _, rc, out = b.measure([b.bin["dlopen"]] + libs)
        if rc != 0:
            b.fail("bench-dlopen %s exited %d" % (" ".join(libs), rc))
            return 0.0, {}
        total.append(cpu)
        for line in out.splitlines():
            lib, c, _ = line.rsplit(" ", 2)
            each[lib].append(float(c))
    return statistics.median(total), {k: statistics.median(v) for k, v in each.items() if v}


def dependency(module, prefix):
    """The path of module's library whose name starts with prefix."""
    out = subprocess.run(["ldd", module], capture_output=True, text=True).stdout
    m = re.search(r"^\s*%s\S*\s+=>\s+(\S+)" % re.escape(prefix), out, re.M)
    return m.group(1) if m else prefix


def part5(b, report):
    runs = b.n["dlopen_runs"]
    base, _ = dlopen_cpu(b, [], runs)
    whole, each = dlopen_cpu(b, [b.module], runs)
    curl = dependency(b.module, "libcurl.so")
    ldap = dependency(b.module, "libldap")
    curl_then_ldap, each2 = dlopen_cpu(b, [curl, ldap], runs)
    ldap_alone, _ = dlopen_cpu(b, [ldap], runs)
    ssl = dependency(b.module, "libssl")
    ssl_alone, _ = dlopen_cpu(b, [ssl], runs)
    mod = b.per_login.get("module") or []
    steps = {}
    for x in mod:
        for k, (w, c) in module_timing(x[3])[0].items():
            steps.setdefault(k, []).append(c)
    login_cpu = statistics.median([x[0] for x in mod]) if mod else float("nan")
    if not steps:
        b.fail("no debug timing line from the module (\"timing ms (wall/cpu): ...\")")
    empty = statistics.median([b.measure([b.bin["login"]])[0] for _ in range(runs)])
    med = {k: statistics.median(v) for k, v in steps.items()}
    tls = med.get("ability", 0) - med.get("send", 0)
    load = each.get(b.module, 0.0)
    rows = [
        ("process start (bench-login with libpam, no login)", empty),
        ("loading pam_tgotp.so and its %d libraries (dlopen, RTLD_NOW)" % libcount(b.module),
         load),
        ("configuration (read, parse, check)", med.get("config", 0)),
        ("user lookup (NSS, map)", med.get("lookup", 0)),
        ("state directory (open, rate and budget slots)", med.get("state", 0)),
        ("HTTP client set-up (token, curl_easy_init: libcurl/OpenSSL global init)",
         med.get("client", 0)),
        ("TLS (checkSendAbility minus sendVerificationMessage: connect, handshake)", tls),
        ("checkSendAbility without TLS, sendVerificationMessage, checkVerificationStatus",
         med.get("send", 0) * 2 + med.get("check", 0)),
    ]
    rest = login_cpu - sum(c for _, c in rows)
    rows.append(("the rest (libpam, pam_start/pam_end, exit, unaccounted)", rest))
    report.append("## 5. Where the module's CPU goes (medians of part 1's runs)\n")
    report.append("| step | CPU ms | share |")
    report.append("|---|---|---|")
    for name, c in rows:
        report.append("| %s | %s | %.0f %% |" % (name, fmt(c), 100 * c / login_cpu))
    report.append("| **whole login process** | **%s** | 100 %% |" % fmt(login_cpu))
    report.append("")
    report.append("Library loading, in fresh processes (median CPU ms): bare process %s; "
                  "dlopen(pam_tgotp.so) %s in-process; dlopen(libcurl) %s then dlopen(libldap) "
                  "%s more; libldap alone %s in-process (whole process %s)." % (
                      fmt(base), fmt(load), fmt(each2.get(curl, 0)), fmt(each2.get(ldap, 0)),
                      fmt(ldap_alone - base), fmt(ldap_alone)))
    report.append("A client on OpenSSL alone would load libssl and libcrypto: %s ms in-process "
                  "(whole process %s), against %s for libcurl and its %d libraries."
                  % (fmt(ssl_alone - base), fmt(ssl_alone), fmt(each2.get(curl, 0)),
                     libcount(curl)))
    report.append("What lazy loading of libldap (only with `ldap { }` configured) would save: "
                  "the dlopen of libldap after libcurl, %s ms: %s.\n" % (
                      fmt(each2.get(ldap, 0)),
                      "nothing, Debian's libcurl links libldap itself" if "libldap" in
                      subprocess.run(["ldd", curl], capture_output=True, text=True).stdout
                      else "see the numbers above"))
    b.split = {"load": load, "login": login_cpu}


def libcount(lib):
    out = subprocess.run(["ldd", lib], capture_output=True, text=True).stdout
    return sum(1 for line in out.splitlines() if "=>" in line)


# ---------------------------------------------------------------- the report

def versions(b):
    def run(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True).stdout.strip()
        except OSError:
            return ""
    curl = run(["curl", "--version"]).splitlines()
    py = run([b.python, "-c", "import sys, requests; print(sys.version.split()[0], "
                              "requests.__version__)"]).split() if b.python else ["-", "-"]
    return {"libcurl": run(["pkg-config", "--modversion", "libcurl"]),
            "curl": curl[0].split()[1] if curl else "-",
            "OpenSSL": run(["openssl", "version"]).split()[1],
            "Python": "%s (%s)" % (py[0], b.python), "requests": py[1]}


def machine():
    model = "-"
    with open("/proc/cpuinfo", encoding="ascii", errors="replace") as handle:
        for line in handle:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return "%s, %d cores, Linux %s" % (model, os.cpu_count(), platform.release())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("build")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    # SIGTERM (a CI's timeout, kill) ends the run through the finally below,
    # which stops the mock, slapd and etcd
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    b = Bench(args.build, args.quick)
    out = args.out or (os.path.join(b.build, "bench-quick.md") if args.quick
                       else os.path.join(TOP, "bench/results.md"))
    load_before = os.getloadavg()
    started = time.monotonic()
    report = []
    parts = (("per-login", part1), ("round-trips", part2), ("load", part3),
             ("lookups", part4), ("where-the-time-goes", part5))
    ok = True
    try:
        b.start()
        b.per_login = {}
        b.targets = []
        for name, part in parts:
            before = len(b.failures)
            t0 = time.monotonic()
            try:
                part(b, report)
            except Exception as err:  # a part that breaks is a failure, the rest still runs
                b.fail("%s: %s: %s" % (name, type(err).__name__, err))
            good = len(b.failures) == before
            ok = ok and good
            print("%s: bench %s (%.1f s)" % ("PASS" if good else "FAIL", name,
                                              time.monotonic() - t0), flush=True)
    finally:
        b.stop()
    vers = versions(b)
    head = ["# make bench%s" % (" (BENCH_QUICK=1: small counts, not results)" if args.quick
                                 else ""), "",
            "- Date: %s" % datetime.datetime.now(datetime.timezone.utc).strftime(
                "%Y-%m-%d %H:%M UTC"),
            "- Machine: %s" % machine(),
            "- Load average before / after: %s / %s (other work on the machine shares "
            "the cores; the \"after\" counts part 3's own processes)" % (" ".join("%.2f" % x for x in load_before),
                           " ".join("%.2f" % x for x in os.getloadavg())),
            "- Versions: " + ", ".join("%s %s" % kv for kv in vers.items()),
            "- Took %.0f s; against tests/mock/mock_gateway.py over TLS on loopback, "
            "verification on everywhere." % (time.monotonic() - started), ""]
    tgt = ["## Targets", "", "| target | measured | |", "|---|---|---|"]
    tgt += ["| %s | %s | %s |" % (t, m, met(good)) for t, m, good in b.targets]
    tgt.append("")
    if b.failures:
        tgt += ["## Failures", ""] + ["- " + f for f in b.failures] + [""]
    text = "\n".join(head + tgt + report) + "\n"
    print(text)
    with open(out, "w", encoding="utf-8") as handle:
        handle.write(text)
    print("written to %s" % out)
    return 0 if ok and not b.failures else 1


if __name__ == "__main__":
    sys.exit(main())
