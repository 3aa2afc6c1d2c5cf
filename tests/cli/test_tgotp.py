#!/usr/bin/env python3
"""The administrator's command, tgotp, run for real: the built binary against
the mock Gateway (TGOTP_MOCK_PORTS, TGOTP_CERTS), the test slapd (TGOTP_LDAP_*,
when it runs) and real files in a temporary directory. Started by
tests/run-tests.sh:  tests/cli/test_tgotp.py BUILD_DIR

Every case prints "PASS: ..." or "FAIL: ..."; exit 1 on any failure, 77 after
"SKIP: ..." when it cannot run here (not root: the files must be root's).
TGOTP_CLI_VALGRIND=1 runs every tgotp under valgrind (leaks are errors)."""

import json
import os
import pwd
import select
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(TOP, "build"))
TGOTP = os.path.join(BUILD, "tgotp")
VALGRIND = ["valgrind", "-q", "--leak-check=full", "--show-leak-kinds=definite,indirect",
            "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99",
            "--suppressions=" + os.path.join(TOP, "tests", "valgrind.supp")]
passed = failed = 0


def skip(why):
    print("SKIP: " + why)
    sys.exit(77)


def check(what, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("PASS: " + what)
    else:
        failed += 1
        print("FAIL: " + what)
        for line in str(detail).splitlines()[-25:]:
            print("  | " + line)


def wrap():
    return VALGRIND if os.environ.get("TGOTP_CLI_VALGRIND") == "1" else []


def tgotp(*args, stdin=None, user=None):
    """Runs tgotp with args (as user, when given); (exit status, stdout,
    stderr)."""
    cmd = wrap() + [TGOTP] + list(args)
    if user:
        pw = pwd.getpwnam(user)
        cmd = ["setpriv", "--reuid", str(pw.pw_uid), "--regid", str(pw.pw_gid),
               "--clear-groups"] + cmd
    p = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def control(path, body=None):
    ports = json.load(open(os.environ["TGOTP_MOCK_PORTS"]))
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (ports["control"], path),
                                 data=None if body is None else json.dumps(body).encode(),
                                 method="GET" if body is None else "POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return {"status": e.code}


def interactive(args, answer):
    """Runs tgotp (test, enroll) and answers its code prompt with
    answer(code), code being what the mock sent (None: nothing was sent)
    or with a list of such functions, one per prompt. Returns (status,
    transcript, stderr)."""
    answers = answer if isinstance(answer, list) else [answer]
    p = subprocess.Popen(wrap() + [TGOTP] + args, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, end = b"", time.time() + 60
    while time.time() < end and p.poll() is None:
        r, _, _ = select.select([p.stdout], [], [], 0.2)
        if not r:
            continue
        chunk = os.read(p.stdout.fileno(), 4096)
        if not chunk:
            break
        out += chunk
        while answers and out.endswith(b"code: "):
            last = control("/last")
            reply = answers.pop(0)(last.get("code") if "code" in last else None)
            p.stdin.write((reply + "\n").encode())
            p.stdin.flush()
            out += b"<answered>\n"
    try:
        rest, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        rest, err = p.communicate()
    return p.returncode, (out + rest).decode(errors="replace"), err.decode(errors="replace")


def wrong(code):
    return "%06d" % ((int(code) + 1) % 1000000) if code else "000000"


def write(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def as_json(out):
    try:
        return json.loads(out)
    except ValueError:
        return None


def main():
    if os.geteuid() != 0:
        skip("needs root (the configuration, token and state must be root's)")
    for var in ("TGOTP_MOCK_PORTS", "TGOTP_CERTS"):
        if not os.environ.get(var):
            skip(var + " is not set (tests/run-tests.sh sets it)")
    if not os.access(TGOTP, os.X_OK):
        skip(TGOTP + " is not built")
    ports = json.load(open(os.environ["TGOTP_MOCK_PORTS"]))
    certs = os.environ["TGOTP_CERTS"]
    control("/reset", {})
    d = tempfile.mkdtemp(prefix="tgotp-cli.")
    try:
        os.chmod(d, 0o755)
        run_cases(d, ports, certs)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


def check_sshd_t(c, d, pamd):
    """check reads sshd's own view (sshd -T -f FILE) when the sshd stack
    loads the module."""
    sshd = "/usr/sbin/sshd"
    if not os.access(sshd, os.X_OK):
        check("check: sshd -T (sshd is not installed: the check says so)", True)
        return
    # sshd -T wants its privilege separation directory, which only a
    # running sshd service creates.
    made_run = not os.path.isdir("/run/sshd")
    if made_run:
        os.mkdir("/run/sshd", 0o755)
    try:
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", d + "/hostkey"],
                       check=True, capture_output=True)
        write(pamd + "/sshd", "auth required pam_tgotp.so config=%s\n" % c[1], 0o644)
        good = ("HostKey %s/hostkey\nUsePAM yes\nKbdInteractiveAuthentication yes\n"
                "AuthenticationMethods publickey,keyboard-interactive\n" % d)
        write(d + "/sshd_config", good)
        rc, out, err = tgotp(*c, "check", "--pam-dir", pamd, "--sshd-config",
                             d + "/sshd_config", "--json")
        j = as_json(out)
        check("check: sshd -T read: UsePAM, keyboard-interactive, the methods, exit 0",
              rc == 0 and j and j["sshd"]["usepam"] == "yes" and
              j["sshd"]["kbdinteractiveauthentication"] == "yes" and
              j["sshd"]["authenticationmethods"] == "publickey,keyboard-interactive" and
              j["sshd"]["loads_module"] is True, out + err)
        # (sshd itself refuses keyboard-interactive in AuthenticationMethods
        # when it is off)
        write(d + "/sshd_config", good.replace("UsePAM yes", "UsePAM no").replace(
            "KbdInteractiveAuthentication yes", "KbdInteractiveAuthentication no").replace(
            "AuthenticationMethods publickey,keyboard-interactive\n", ""))
        rc, out, err = tgotp(*c, "check", "--pam-dir", pamd, "--sshd-config", d + "/sshd_config")
        check("check: sshd -T with UsePAM no and no keyboard-interactive: both errors, exit 1",
              rc == 1 and "UsePAM no: sshd never runs its PAM stack" in err and
              "KbdInteractiveAuthentication no" in err, err)
        write(d + "/sshd_config", good.replace(
            "AuthenticationMethods publickey,keyboard-interactive\n", ""))
        rc, out, err = tgotp(*c, "check", "--pam-dir", pamd, "--sshd-config", d + "/sshd_config")
        check("check: sshd -T with AuthenticationMethods any: a warning, exit 0",
              rc == 0 and "AuthenticationMethods any: a public key alone" in err, err)
        os.unlink(pamd + "/sshd")
        rc, out, err = tgotp(*c, "check", "--pam-dir", pamd, "--sshd-config", d + "/sshd_config")
        check("check: sshd -T's settings matter only when the sshd stack loads the module",
              rc == 0 and "AuthenticationMethods any: a public key" not in err, err)
    finally:
        if os.path.exists(pamd + "/sshd"):
            os.unlink(pamd + "/sshd")
        if made_run:
            os.rmdir("/run/sshd")


def run_cases(d, ports, certs):
    conf, token, users = d + "/pam_tgotp.conf", d + "/token", d + "/users"
    pamd = d + "/pam.d"
    os.mkdir(pamd)
    write(token, "test-token\n")
    users_text = "# the users file\nalice +44 20 7946 0958\n\n# bob below\nbob +1 415 555 0101\n"
    write(users, users_text, 0o640)
    ldap = ""
    if os.environ.get("TGOTP_LDAP_URI") and not os.environ.get("TGOTP_LDAP_SKIP"):
        write(d + "/ldap.pw", "reader secret, with spaces\n")
        ldap = ('ldap {\n  uri = "%s"\n  base = "dc=example,dc=org"\n  ca_file = "%s/ca.pem"\n'
                '  bind_dn = "cn=reader,dc=example,dc=org"\n  bind_password_file = "%s/ldap.pw"\n}\n'
                % (os.environ["TGOTP_LDAP_URI"], certs, d))
    base = ('api_url = "https://127.0.0.1:%d"\nca_file = "%s/ca.pem"\ntoken_file = "%s"\n'
            'users_file = "%s"\nstate_dir = "%s/state"\nrate_limit = 3\n'
            'user carl {\n  phone = "+44 20 7946 0000"\n}\n%s'
            % (ports["gateway"], certs, token, users, d, ldap))
    write(conf, base)
    write(pamd + "/sudo", "auth requisite pam_unix.so\nauth required pam_tgotp.so config=%s\n" % conf,
          0o644)
    c = ["-c", conf]

    # ---- usage
    rc, out, err = tgotp("--version")
    check("--version: exit 0, names the version", rc == 0 and out.startswith("tgotp "), out + err)
    rc, out, err = tgotp("--help")
    check("--help: exit 0, lists every command", rc == 0 and all(
        w in out for w in ("check", "lookup", "test", "enroll", "state", "reset",
                           "backup-codes")), out)
    for args in ([], ["frobnicate"], ["--bogus", "check"], c + ["lookup"], c + ["check", "--nope"],
                 c + ["reset"], c + ["enroll", "x"]):
        rc, out, err = tgotp(*args)
        check("usage error %s: exit 2" % " ".join(args[2:] if args[:1] == ["-c"] else args),
              rc == 2, out + err)

    # ---- check
    rc, out, err = tgotp(*c, "check", "--pam-dir", pamd)
    check("check: a good setup: exit 0", rc == 0, out + err)
    rc, out, err = tgotp(*c, "check", "--pam-dir", pamd, "--json")
    j = as_json(out)
    check("check --json: one object, ok, the files with owner and mode",
          rc == 0 and j and j["ok"] is True and j["config_ok"] is True and
          any(f["key"] == "token_file" and f["mode"] == "0600" and f["uid"] == 0 and f["ok"]
              for f in j["files"]) and j["pam"][0]["config"] == conf, out + err)
    rc, out, err = tgotp(*c, "check", "--pam-dir", pamd, "--online", "--json")
    j = as_json(out)
    check("check --online: TLS to api_url, the token accepted",
          rc == 0 and j and j["online"]["gateway"]["token_accepted"] is True, out + err)
    if ldap:
        check("check --online: LDAP connect, StartTLS and bind", j and j["online"]["ldap"]["ok"],
              out + err)
    sent = control("/stats")["methods"]
    check("check --online: nothing is sent to a phone",
          not sent.get("sendverificationmessage") and not sent.get("checksendability"), sent)

    write(token, "wrong-token\n")
    rc, out, err = tgotp(*c, "check", "--pam-dir", pamd, "--online", "--json")
    j = as_json(out)
    check("check --online: a refused token is reported, exit 1",
          rc == 1 and j and j["online"]["gateway"]["token_accepted"] is False and
          "ACCESS_TOKEN_INVALID" in err, out + err)
    write(token, "test-token\n")

    lines = base.splitlines()
    lines.insert(2, "ttl = 5")
    write(conf, "\n".join(lines) + "\n")
    rc, out, err = tgotp(*c, "check", "--pam-dir", pamd)
    check("check: an out-of-range value reported with file and line, exit 1",
          rc == 1 and "%s:3: ttl = 5 is out of range 30..3600" % conf in err, err)
    write(conf, base + "colour = \"blue\"\n")
    rc, out, err = tgotp(*c, "check", "--pam-dir", pamd)
    n = len(base.splitlines()) + 1
    check("check: an unknown key reported with file and line, exit 1",
          rc == 1 and ("%s:%d:" % (conf, n)) in err and "colour" in err, err)
    write(conf, base)

    os.chmod(token, 0o666)
    rc, out, err = tgotp(*c, "check", "--pam-dir", pamd)
    check("check: a world-writable token reported with the key's line, exit 1",
          rc == 1 and "%s:3: token_file: %s: refusing to use it: writable by group or others"
          % (conf, token) in err, err)
    os.chmod(token, 0o600)

    # the files of later keys: backup codes, the etcd store's key
    write(d + "/backup", "alice $6$x$y\n", 0o644)
    write(d + "/etcd.pem", "cert\n", 0o644)
    write(d + "/etcd.key", "key\n", 0o644)
    write(conf, base + 'backup_codes_file = "%s/backup"\nstore {\n  type = "etcd"\n'
          '  endpoints = {"https://127.0.0.1:2379"}\n  cert_file = "%s/etcd.pem"\n'
          '  key_file = "%s/etcd.key"\n}\n' % (d, d, d))
    n = len(base.splitlines())
    rc, out, err = tgotp(*c, "check", "--pam-dir", pamd)
    check("check: a group-readable backup_codes_file and store key reported with their lines, exit 1",
          rc == 1 and ("%s:%d: backup_codes_file: " % (conf, n + 1)) in err and
          ("%s:%d: store.key_file: " % (conf, n + 6)) in err and "store.cert_file" not in err, err)
    os.chmod(d + "/backup", 0o600)
    os.chmod(d + "/etcd.key", 0o600)
    rc, out, err = tgotp(*c, "check", "--pam-dir", pamd)
    check("check: the same files root-only: no error about them",
          "backup_codes_file" not in err and "store.key_file" not in err, err)
    write(conf, base)

    write(users, users_text + "dave\nerin 12\n", 0o640)
    rc, out, err = tgotp(*c, "check", "--pam-dir", pamd)
    check("check: bad users_file lines reported by number, exit 1",
          rc == 1 and "%s:6: " % users in err and "%s:7: user erin" % users in err, err)
    write(users, users_text, 0o640)

    write(pamd + "/sshd", "auth required pam_tgotp.so faillmode=safe\n", 0o644)
    rc, out, err = tgotp(*c, "check", "--pam-dir", pamd, "--json")
    j = as_json(out)
    check("check: a stack with an unknown argument reported with file and line, exit 1",
          rc == 1 and '%s/sshd:1: pam_tgotp.so: unknown or invalid module argument "faillmode=safe"'
          % pamd in err and j and j["ok"] is False, out + err)
    os.unlink(pamd + "/sshd")
    write(pamd + "/common-auth",
          "auth [success=1 default=ignore] pam_unix.so\nauth required pam_tgotp.so\n", 0o644)
    rc, out, err = tgotp(*c, "check", "--pam-dir", pamd)
    check("check: warnings for common-auth, no requisite password module, another config=",
          "pam_tgotp.so in common-auth" in err and "no requisite password module" in err and
          "is not the file checked here" in err, err)
    os.unlink(pamd + "/common-auth")
    check_sshd_t(c, d, pamd)

    # ---- lookup
    rc, out, err = tgotp(*c, "lookup", "alice")
    check("lookup: users_file line, number masked, exit 0",
          rc == 0 and "line 2" in out and "+44 •••• ••58" in out and "2079460958" not in out,
          out + err)
    rc, out, err = tgotp(*c, "lookup", "alice", "--json", "--full")
    j = as_json(out)
    check("lookup --full --json: the whole number, the source",
          rc == 0 and j and j["phone"] == "+442079460958" and j["source"] == "users_file" and
          j["line"] == 2 and j["asked"] is True, out + err)
    rc, out, err = tgotp(*c, "lookup", "carl", "--json")
    j = as_json(out)
    check("lookup: an inline user section is source config",
          rc == 0 and j and j["source"] == "config" and "phone" not in j, out + err)
    if ldap:
        rc, out, err = tgotp(*c, "lookup", "dora", "--json")
        j = as_json(out)
        check("lookup: ldap, with the entry's DN",
              rc == 0 and j and j["source"] == "ldap" and
              j["dn"] == "uid=dora,ou=people,dc=example,dc=org", out + err)
    rc, out, err = tgotp(*c, "lookup", "nosuchuser", "--json")
    j = as_json(out)
    check("lookup: no number: exit 1", rc == 1 and j and j["found"] is False, out + err)
    nobody = pwd.getpwnam("nobody").pw_name
    rc, out, err = tgotp(*c, "lookup", "alice", "--full", user=nobody)
    check("lookup --full refused to non-root, exit 1",
          rc == 1 and "lookup --full needs root" in err and "+44" not in out, out + err)
    for cmd in (["state"], ["reset", "alice"], ["test", "alice"], ["check"]):
        rc, out, err = tgotp(*c, *cmd, user=nobody)
        check("%s refused to non-root, exit 1" % cmd[0], rc == 1 and "needs root" in err, err)

    # ---- test
    control("/reset", {})
    rc, out, err = interactive(c + ["test", "alice"], lambda code: code or "")
    check("test: a code sent and verified, each step with time, request id, cost, balance",
          rc == 0 and "checkSendAbility" in out and "sendVerificationMessage" in out and
          "request_id=" in out and "cost=" in out and "balance=" in out and
          "status=code_valid" in out, out + err)
    rc, out, err = interactive(c + ["test", "alice"], [wrong, wrong, wrong])
    check("test: wrong codes: not verified, exit 1, the code revoked",
          rc == 1 and "not verified" in out and "revokeVerificationMessage" in out, out + err)
    rc, out, err = tgotp(*c, "state", "alice", "--json")
    j = as_json(out)
    check("state USER --json: the codes sent count against the rate limit",
          rc == 0 and j and j["users"][0]["user"] == "alice" and
          j["users"][0]["rate"]["sent"] == 2 and j["users"][0]["rate"]["limit"] == 3 and
          j["host"]["flood_wait_until"] is None, out + err)
    rc, out, err = interactive(c + ["test", "alice"], lambda code: code)
    rc, out, err = interactive(c + ["test", "alice"], lambda code: code or "")
    check("test: a rate-limited user gets no code, exit 1",
          rc == 1 and "rate_limit reached" in err and "sendVerificationMessage" not in out,
          out + err)
    rc, out, err = tgotp(*c, "state", "--json")
    j = as_json(out)
    check("state --json: every user with state, next free slot in the future",
          rc == 0 and j and [u["user"] for u in j["users"]] == ["alice"] and
          j["users"][0]["rate"]["next_free"] > time.time(), out + err)
    rc, out, err = tgotp(*c, "reset", "alice")
    check("reset: exit 0", rc == 0 and "cleared" in out, out + err)
    rc, out, err = interactive(c + ["test", "alice"], lambda code: code or "")
    check("reset let the rate-limited user in again", rc == 0 and "code_valid" in out, out + err)

    # ---- enroll
    before, st0 = open(users, "rb").read(), os.stat(users)
    rc, out, err = interactive(c + ["enroll", "frank", "+44 (0)20 7946 0959"],
                               [wrong, wrong, wrong])
    st1 = os.stat(users)
    check("enroll: a wrong code leaves users_file byte for byte, owner and mode as they were",
          rc == 1 and open(users, "rb").read() == before and
          (st1.st_ino, st1.st_mode, st1.st_uid) == (st0.st_ino, st0.st_mode, st0.st_uid),
          out + err)
    rc, out, err = interactive(c + ["enroll", "frank", "+44 20 7946 0959"], lambda code: code or "")
    st1 = os.stat(users)
    check("enroll: verified: the user appended, comments kept, mode 0640 kept",
          rc == 0 and open(users).read() == users_text + "frank +442079460959\n" and
          stat.S_IMODE(st1.st_mode) == 0o640 and control("/last")["phone_number"] == "+442079460959",
          out + err + open(users).read())
    rc, out, err = interactive(c + ["enroll", "alice", "00 1 415 555 0199"], lambda code: code or "")
    check("enroll: the user's line replaced in place",
          rc == 0 and open(users).read() == users_text.replace(
              "alice +44 20 7946 0958", "alice +14155550199") + "frank +442079460959\n",
          out + err + open(users).read())
    rc, out, err = tgotp(*c, "enroll", "frank", "12")
    check("enroll: a number that does not normalise: exit 1, nothing sent",
          rc == 1 and "not a phone number" in err, out + err)
    rc, out, err = tgotp(*c, "lookup", "frank", "--json", "--full")
    j = as_json(out)
    check("lookup finds the enrolled user", rc == 0 and j and j["phone"] == "+442079460959",
          out + err)

    # ---- backup codes
    backup, conf2 = d + "/backup", d + "/backup.conf"
    write(conf2, base + 'backup_codes_file = "%s"\nbalance_warning = 2.5\n' % backup)
    c2 = ["-c", conf2]
    rc, out, err = tgotp(*c, "backup-codes", "alice")
    check("backup-codes without backup_codes_file: exit 1, says so",
          rc == 1 and "backup_codes_file is not set" in err, out + err)
    rc, out, err = tgotp(*c2, "backup-codes", "alice", "3")
    codes = out.split()
    st = os.stat(backup) if os.path.exists(backup) else None
    check("backup-codes USER 3: three codes xxxxx-xxxxx shown once, only hashes kept, root 0600",
          rc == 0 and len(codes) == 3 and all(len(x) == 11 and x[5] == "-" for x in codes) and
          st and stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0 and
          not any(x in open(backup).read() for x in codes) and
          open(backup).read().startswith("alice $"), out + err)
    rc, out, err = tgotp(*c2, "backup-codes", "alice")
    rc2, out2, err2 = tgotp(*c2, "backup-codes", "--count", "alice")
    check("backup-codes USER: ten new ones replace the old; --count says 10",
          rc == 0 and len(out.split()) == 10 and not set(codes) & set(out.split()) and
          rc2 == 0 and out2 == "alice: 10 backup codes left\n" and
          open(backup).read().count("alice $") == 10, out + err + out2 + err2)
    for args in (["backup-codes"], ["backup-codes", "alice", "0"], ["backup-codes", "alice", "101"],
                 ["backup-codes", "--count", "alice", "3"]):
        rc, out, err = tgotp(*c2, *args)
        check("usage error %s: exit 2" % " ".join(args), rc == 2, out + err)
    rc, out, err = tgotp(*c2, "backup-codes", "--count", "alice", user=nobody)
    check("backup-codes refused to non-root, exit 1", rc == 1 and "needs root" in err, err)

    # ---- the balance: tgotp test records it as a login does; state shows it
    control("/reset", {})
    control("/config", {"balance": 1.5})
    rc, out, err = tgotp(*c2, "reset", "alice")
    rc, out, err = interactive(c2 + ["test", "alice"], lambda code: code or "")
    check("test: a balance below balance_warning is warned about once",
          rc == 0 and err.count("low_balance remaining=1.4900 balance_warning=2.5000") == 1,
          out + err)
    rc, out, err = tgotp(*c2, "state")
    check("state: the balance last seen, when, and that it is low",
          rc == 0 and "balance: 1.4900 seen 20" in out and "below balance_warning" in out,
          out + err)
    rc, out, err = tgotp(*c2, "state", "--json")
    j = as_json(out)
    check("state --json: host.balance remaining, seen, warning",
          rc == 0 and j and j["host"]["balance"]["remaining"] == 1.49 and
          abs(j["host"]["balance"]["seen"] - time.time()) < 120 and
          j["host"]["balance"]["warning"] == 2.5, out + err)


if __name__ == "__main__":
    main()
