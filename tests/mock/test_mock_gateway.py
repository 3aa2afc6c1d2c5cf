#!/usr/bin/env python3
"""Self-test of mock_gateway.py (stdlib unittest). Run:
    python3 tests/mock/test_mock_gateway.py -v
It generates certificates with ../certs/gen-certs.sh into a temp dir, starts
the mock, and talks to it with http.client over TLS. make check runs it
(tests/run-tests.sh, plain mode), which counts the one line per case this
prints on stdout: PASS: name, FAIL: name or SKIP: name: reason."""

import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
MOCK = os.path.join(HERE, "mock_gateway.py")
GEN_CERTS = os.path.join(HERE, "..", "certs", "gen-certs.sh")
PHONE = "+442079460958"
TOKEN = "test-token"


def start_mock(workdir, *extra):
    ports_file = os.path.join(workdir, "ports.json")
    if os.path.exists(ports_file):
        os.unlink(ports_file)
    with open(os.path.join(workdir, "stdout.log"), "w") as out, \
            open(os.path.join(workdir, "stderr.log"), "w") as err:
        proc = subprocess.Popen([sys.executable, MOCK, "--certs",
                                 os.path.join(workdir, "certs"),
                                 "--ports-file", ports_file, *extra], stdout=out, stderr=err)
    started = time.monotonic()
    while not os.path.exists(ports_file):
        if proc.poll() is not None or time.monotonic() - started > 5:
            raise RuntimeError("mock did not start")
        time.sleep(0.01)
    with open(ports_file) as handle:
        return proc, json.load(handle), time.monotonic() - started


class MockTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = cls.tmp.name
        subprocess.run(["bash", GEN_CERTS, os.path.join(cls.dir, "certs")], check=True)
        cls.proc, cls.ports, cls.startup = start_mock(cls.dir, "--max-attempts", "3")
        cls.ctx = ssl.create_default_context(cafile=os.path.join(cls.dir, "certs", "ca.pem"))

    @classmethod
    def tearDownClass(cls):
        cls.proc.send_signal(signal.SIGTERM)
        cls.proc.wait(10)
        cls.tmp.cleanup()

    def setUp(self):
        self.control("POST", "/reset")

    # ---- helpers
    def control(self, verb, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.ports["control"], timeout=5)
        conn.request(verb, path, json.dumps(body) if body is not None else None)
        resp = conn.getresponse()
        data = json.loads(resp.read() or b"null")
        conn.close()
        return resp.status, data

    def connect(self, port="gateway", timeout=5):
        return http.client.HTTPSConnection("localhost", self.ports[port], timeout=timeout,
                                           context=self.ctx)

    def raw_api(self, method, params, conn=None, token=TOKEN):
        own = conn is None
        conn = conn or self.connect()
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = "Bearer " + token
        conn.request("POST", "/" + method, json.dumps(params), headers)
        resp = conn.getresponse()
        body = resp.read()
        if own:
            conn.close()
        return resp, body

    def api(self, method, params, conn=None, token=TOKEN):
        resp, body = self.raw_api(method, params, conn, token)
        return resp.status, json.loads(body)

    def send(self, **params):
        params.setdefault("phone_number", PHONE)
        if "code" not in params:
            params.setdefault("code_length", 6)
        status, data = self.api("sendVerificationMessage", params)
        self.assertEqual(status, 200, data)
        return data["result"]["request_id"]

    def check(self, request_id, code=None):
        params = {"request_id": request_id}
        if code is not None:
            params["code"] = code
        status, data = self.api("checkVerificationStatus", params)
        self.assertEqual(status, 200, data)
        return data["result"].get("verification_status", {}).get("status")

    def fault(self, mode, **spec):
        spec["mode"] = mode
        status, data = self.control("POST", "/fault", spec)
        self.assertEqual(status, 200, data)

    # ---- startup, envelope, auth
    def test_startup_fast_and_ports_file(self):
        self.assertLess(self.startup, 1.0)
        self.assertEqual(set(self.ports), {"gateway", "badca", "wronghost", "expired",
                                           "stall", "control", "pid"})
        self.assertEqual(self.ports["pid"], self.proc.pid)

    def test_auth(self):
        self.assertEqual(self.api("checkSendAbility", {"phone_number": PHONE}, token=None),
                         (401, {"ok": False, "error": "ACCESS_TOKEN_REQUIRED"}))
        self.assertEqual(self.api("checkSendAbility", {"phone_number": PHONE}, token="x"),
                         (401, {"ok": False, "error": "ACCESS_TOKEN_INVALID"}))
        self.assertFalse(self.control("GET", "/stats")[1]["access_token_param_used"])
        status, data = self.api("checkSendAbility", {"phone_number": PHONE,
                                                     "access_token": TOKEN}, token=None)
        self.assertEqual(status, 200, data)
        self.assertTrue(self.control("GET", "/stats")[1]["access_token_param_used"])
        self.assertNotIn(TOKEN, json.dumps(self.control("GET", "/requests")[1]))

    def test_unknown_method_and_case(self):
        self.assertEqual(self.api("sendSms", {}), (404, {"ok": False, "error": "UNKNOWN_METHOD"}))
        status, _ = self.api("CHECKSENDABILITY", {"phone_number": PHONE})
        self.assertEqual(status, 200)

    def test_form_and_query_params(self):
        conn = self.connect()
        conn.request("POST", "/checkSendAbility?phone_number=%2B1", "phone_number=%2B442079460958",
                     {"Authorization": "Bearer " + TOKEN,
                      "Content-Type": "application/x-www-form-urlencoded"})
        data = json.loads(conn.getresponse().read())
        self.assertEqual(data["result"]["phone_number"], "442079460958")  # body wins
        conn.request("GET", "/checkSendAbility?phone_number=442079460958",
                     headers={"Authorization": "Bearer " + TOKEN})
        self.assertTrue(json.loads(conn.getresponse().read())["ok"])
        conn.close()

    # ---- keep-alive and counters
    def test_keepalive_counts_one_connection(self):
        conn = self.connect()
        for _ in range(5):
            status, _ = self.api("checkSendAbility", {"phone_number": PHONE}, conn=conn)
            self.assertEqual(status, 200)
        conn.close()
        stats = self.control("GET", "/stats")[1]
        self.assertEqual(stats["connections"], 1)
        self.assertEqual(stats["requests"], 5)
        self.assertEqual(stats["methods"], {"checksendability": 5})
        self.assertEqual(stats["tls_connections_by_port"]["gateway"], 1)

    def test_handshakes_counted_apart_from_connections(self):
        silent = socket.create_connection(("127.0.0.1", self.ports["gateway"]))  # no ClientHello
        session, _ = self.tls_request()
        _, reused = self.tls_request(session)
        silent.close()
        self.assertTrue(reused)
        deadline = time.monotonic() + 5  # the silent connection's thread may lag
        while self.control("GET", "/stats")[1]["connections"] < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        stats = self.control("GET", "/stats")[1]
        self.assertEqual((stats["connections"], stats["handshakes"], stats["resumed"]), (3, 2, 1))
        self.assertEqual(stats["requests"], 2)

    def tls_request(self, session=None):
        """One checkSendAbility on a TLS socket of its own (resuming
        session when given); returns its TLS session and whether it was resumed."""
        raw = socket.create_connection(("127.0.0.1", self.ports["gateway"]), timeout=5)
        with self.ctx.wrap_socket(raw, server_hostname="localhost",
                                  session=session) as sock:
            body = json.dumps({"phone_number": PHONE}).encode()
            sock.sendall(b"POST /checkSendAbility HTTP/1.1\r\nHost: localhost\r\n"
                         b"Authorization: Bearer " + TOKEN.encode() + b"\r\nConnection: close\r\n"
                         b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                         % len(body) + body)
            answer = b""
            while chunk := sock.recv(4096):
                answer += chunk
            self.assertIn(b'"ok":true', answer)
            return sock.session, sock.session_reused

    def test_connection_close_header(self):
        conn = self.connect()
        conn.request("POST", "/checkSendAbility", json.dumps({"phone_number": PHONE}),
                     {"Authorization": "Bearer " + TOKEN, "Connection": "close",
                      "Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        self.assertEqual(resp.getheader("Connection"), "close")
        self.assertTrue(resp.will_close)

    # ---- the API
    def test_check_then_send_is_free_once(self):
        status, data = self.api("checkSendAbility", {"phone_number": PHONE})
        result = data["result"]
        self.assertEqual((status, result["request_cost"], result["remaining_balance"]),
                         (200, 0.01, 99.99))
        request_id = result["request_id"]
        self.assertRegex(request_id, r"^[0-9]{15}$")
        self.assertEqual(result["phone_number"], "442079460958")
        status, data = self.api("sendVerificationMessage", {
            "phone_number": PHONE, "request_id": request_id, "code_length": 6,
            "payload": "sshd alice@h from 10.0.0.1"})
        self.assertEqual(data["result"]["request_id"], request_id)
        self.assertEqual(data["result"]["remaining_balance"], 99.99)
        self.assertEqual(data["result"]["delivery_status"]["status"], "sent")
        self.assertEqual(data["result"]["payload"], "sshd alice@h from 10.0.0.1")
        self.assertEqual(self.api("sendVerificationMessage", {
            "phone_number": PHONE, "request_id": request_id, "code_length": 6})[1]["error"],
            "MESSAGE_ALREADY_SENT")
        last = self.control("GET", "/last")[1]
        self.assertEqual(last["params"]["code_length"], "6")
        self.assertEqual(last["phone_number"], PHONE)
        self.assertRegex(last["code"], r"^[0-9]{6}$")

    def test_send_validation(self):
        cases = [({"phone_number": "+1234567"}, "PHONE_NUMBER_INVALID"),
                 ({"phone_number": "+44 2079460958"}, "PHONE_NUMBER_INVALID"),
                 ({"phone_number": "+99912345678"}, "PHONE_NUMBER_NOT_AVAILABLE"),
                 ({"code_length": None}, "CODE_LENGTH_REQUIRED"),
                 ({"code_length": 9}, "CODE_LENGTH_INVALID"),
                 ({"code": "12a4"}, "CODE_INVALID"),
                 ({"code": "123456789"}, "CODE_INVALID"),
                 ({"ttl": 29}, "TTL_INVALID"), ({"ttl": 3601}, "TTL_INVALID"),
                 ({"payload": "x" * 129}, "PAYLOAD_INVALID"),
                 ({"callback_url": "http://a.example/"}, "CALLBACK_URL_INVALID"),
                 ({"callback_url": "https://a.example/" + "x" * 240}, "CALLBACK_URL_INVALID"),
                 ({"sender_username": "notmine"}, "SENDER_NOT_OWNED"),
                 ({"request_id": "42"}, "REQUEST_ID_INVALID")]
        for extra, error in cases:
            params = {"phone_number": PHONE, "code_length": 6}
            params.update(extra)
            params = {k: v for k, v in params.items() if v is not None}
            self.assertEqual(self.api("sendVerificationMessage", params),
                             (400, {"ok": False, "error": error}), extra)
        self.assertEqual(self.control("GET", "/last")[0], 404)
        other = self.api("checkSendAbility", {"phone_number": "+442079460959"})[1]
        self.assertEqual(self.api("sendVerificationMessage", {
            "phone_number": PHONE, "code_length": 6,
            "request_id": other["result"]["request_id"]})[1]["error"], "PHONE_NUMBER_MISMATCH")
        self.send(sender_username="testchannel", ttl=30, callback_url="https://a.example/cb")

    def test_verification_flow(self):
        request_id = self.send(code="4321")
        self.assertIsNone(self.check(request_id))
        self.assertEqual(self.check(request_id, "1111"), "code_invalid")
        self.assertEqual(self.check(request_id, "4321"), "code_valid")
        self.assertEqual(self.check(request_id, "4321"), "code_valid")
        self.assertEqual(self.check(request_id), "code_valid")

    def test_max_attempts(self):
        request_id = self.send()
        code = self.control("GET", "/last")[1]["code"]
        wrong = "000000" if code != "000000" else "111111"
        self.assertEqual(self.check(request_id, wrong), "code_invalid")
        self.assertEqual(self.check(request_id, wrong), "code_invalid")
        self.assertEqual(self.check(request_id, wrong), "code_max_attempts_exceeded")
        self.assertEqual(self.check(request_id, code), "code_max_attempts_exceeded")

    def test_expire_and_revoke(self):
        first = self.send()
        code = self.control("GET", "/last")[1]["code"]
        self.control("POST", "/expire")
        self.assertEqual(self.check(first, code), "expired")
        second = self.send()
        status, data = self.api("revokeVerificationMessage", {"request_id": second})
        self.assertEqual((status, data), (200, {"ok": True, "result": True}))
        self.assertEqual(self.check(second, self.control("GET", "/last")[1]["code"]), "expired")
        status, data = self.api("checkVerificationStatus", {"request_id": second})
        self.assertEqual(data["result"]["delivery_status"]["status"], "revoked")
        self.assertEqual(self.api("revokeVerificationMessage", {"request_id": "9"})[1]["error"],
                         "REQUEST_ID_INVALID")
        self.assertEqual(self.api("checkVerificationStatus", {"request_id": "9"})[1]["error"],
                         "REQUEST_ID_INVALID")

    def test_config(self):
        status, _ = self.control("POST", "/config", {
            "not_on_telegram": ["+442079460958"], "own_numbers": ["+442079460959"],
            "owned_senders": ["corp"], "balance": 0.005})
        self.assertEqual(status, 200)
        self.assertEqual(self.api("checkSendAbility", {"phone_number": PHONE})[1]["error"],
                         "PHONE_NUMBER_NOT_AVAILABLE")
        own = self.api("checkSendAbility", {"phone_number": "+442079460959"})[1]["result"]
        self.assertEqual(own["request_cost"], 0)
        self.assertEqual(self.api("checkSendAbility", {"phone_number": "+442079460950"})[1]
                         ["error"], "BALANCE_NOT_ENOUGH")
        self.assertEqual(self.api("sendVerificationMessage", {
            "phone_number": "+442079460959", "code_length": 6,
            "sender_username": "testchannel"})[1]["error"], "SENDER_NOT_OWNED")
        self.assertEqual(self.control("POST", "/config", {"bogus": 1})[0], 400)
        self.control("POST", "/reset")
        self.assertEqual(self.api("checkSendAbility", {"phone_number": PHONE})[0], 200)

    def test_fixed_code(self):
        self.assertEqual(self.control("POST", "/config", {"fixed_code": "12345678"})[0], 200)
        request_id = self.send(code_length=6)
        self.assertEqual(self.control("GET", "/last")[1]["code"], "123456")
        self.assertEqual(self.check(request_id, "123456"), "code_valid")
        self.assertEqual(self.send(code="4321") and self.control("GET", "/last")[1]["code"],
                         "4321")  # the caller's code still wins
        for bad in ("1234", "1234567a", 12345678):
            self.assertEqual(self.control("POST", "/config", {"fixed_code": bad})[0], 400, bad)
        self.control("POST", "/reset")
        self.send(code_length=8)
        self.assertNotEqual(self.control("GET", "/last")[1]["code"], "12345678")

    def test_requests_log(self):
        self.send(code="1234")
        entries = self.control("GET", "/requests")[1]
        self.assertEqual(len(entries), 1)
        entry = entries[0]
        self.assertEqual(entry["method"], "sendverificationmessage")
        self.assertEqual(entry["params"], {"phone_number": PHONE, "code": "1234"})
        self.assertEqual(entry["http_version"], "HTTP/1.1")
        self.assertNotIn("Authorization", entry["headers"])
        self.assertEqual(entry["auth"], "bearer")

    # ---- faults
    def test_fault_count_and_priority(self):
        self.fault("error", arg="BALANCE_NOT_ENOUGH", count=2)
        self.fault("error", arg="FLOOD_WAIT_30", method="checkSendAbility", count=1)
        self.assertEqual(self.api("checkSendAbility", {"phone_number": PHONE}),
                         (429, {"ok": False, "error": "FLOOD_WAIT_30"}))
        self.assertEqual(self.api("checkSendAbility", {"phone_number": PHONE})[1]["error"],
                         "BALANCE_NOT_ENOUGH")
        self.assertEqual(self.api("sendVerificationMessage", {})[1]["error"],
                         "BALANCE_NOT_ENOUGH")
        self.assertEqual(self.api("checkSendAbility", {"phone_number": PHONE})[0], 200)
        self.fault("error", arg="ACCESS_TOKEN_INVALID")
        self.assertEqual(self.api("checkSendAbility", {"phone_number": PHONE})[0], 401)

    def test_fault_simple_bodies(self):
        cases = [("garbage", None, 200, b"<html>502 Bad Gateway</html>", "text/html"),
                 ("http5xx", None, 502, b"Bad Gateway", "text/plain"),
                 ("http5xx", 503, 503, b"Bad Gateway", "text/plain"),
                 ("http5xx_json", None, 500, b'{"ok":false,"error":"INTERNAL"}', None),
                 ("ok_no_result", None, 200, b'{"ok":true}', None),
                 ("json_array", None, 200, b"[1,2,3]", None),
                 ("nested", 10, 200, b"[" * 10 + b"]" * 10, None)]
        for mode, arg, status, body, ctype in cases:
            self.fault(mode, arg=arg, count=1)
            resp, got = self.raw_api("checkSendAbility", {"phone_number": PHONE})
            self.assertEqual((resp.status, got), (status, body), mode)
            self.assertEqual(resp.getheader("Content-Type"), ctype or "application/json")
        self.fault("nested", count=1)
        self.assertEqual(len(self.raw_api("checkSendAbility", {})[1]), 200000)

    def test_fault_transformed_envelopes(self):
        self.fault("no_ok", count=1)
        data = self.api("checkSendAbility", {"phone_number": PHONE})[1]
        self.assertEqual(set(data), {"result"})
        self.fault("ok_string", count=1)
        self.assertEqual(self.api("checkSendAbility", {"phone_number": PHONE})[1]["ok"], "true")
        self.fault("ansi", count=1)
        status, data = self.api("checkSendAbility", {"phone_number": PHONE})
        self.assertEqual((status, data["error"]),
                         (400, "\x1b[31mEVIL\x1b[0m\r\nInjected: yes\x07"))

    def test_fault_status(self):
        request_id = self.send()
        self.fault("status", arg="CODE_VALID", count=1)
        self.assertEqual(self.check(request_id, "000"), "CODE_VALID")
        self.fault("status", arg="code_maybe", count=1)
        self.assertEqual(self.api("sendVerificationMessage", {})[1]["error"],
                         "PHONE_NUMBER_INVALID")  # status faults only hit checks
        self.assertEqual(self.check("123", "000"), "code_maybe")
        self.assertEqual(self.control("GET", "/faults")[1], [])

    def test_fault_nul(self):
        request_id = self.send()
        self.fault("nul", count=1)
        resp, body = self.raw_api("checkVerificationStatus", {"request_id": request_id,
                                                              "code": "0000"})
        self.assertIn(b'"status":"code_valid\x00_not_really"', body)
        self.fault("nul", arg="escaped", count=1)
        resp, body = self.raw_api("checkSendAbility", {"phone_number": PHONE})
        self.assertIn(b"\\u0000", body)
        self.assertNotIn(b"\x00", body)

    def test_fault_close(self):
        self.fault("close", count=1)
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.raw_api("checkSendAbility", {"phone_number": PHONE})

    def test_fault_slow(self):
        self.fault("slow", arg=1, count=1)
        started = time.monotonic()
        self.assertEqual(self.api("checkSendAbility", {"phone_number": PHONE})[0], 200)
        self.assertGreaterEqual(time.monotonic() - started, 1.0)
        self.fault("slow", count=1)
        conn = self.connect(timeout=1)
        with self.assertRaises((socket.timeout, TimeoutError)):
            self.raw_api("checkSendAbility", {"phone_number": PHONE}, conn=conn)
        conn.close()

    def test_fault_slowloris(self):
        self.fault("slowloris", arg=3, count=1)
        started = time.monotonic()
        status, data = self.api("checkSendAbility", {"phone_number": PHONE})
        self.assertGreaterEqual(time.monotonic() - started, 2.9)
        self.assertEqual((status, data["ok"]), (200, True))

    def test_fault_endless_and_huge(self):
        self.fault("endless", count=1)
        conn = self.connect()
        conn.request("POST", "/checkSendAbility", "{}", {"Content-Type": "application/json"})
        resp = conn.getresponse()
        self.assertEqual(resp.getheader("Transfer-Encoding"), "chunked")
        self.assertEqual(resp.read(1 << 20), b"a" * (1 << 20))
        conn.close()  # the mock notices and stops
        self.fault("huge", count=1)
        resp, body = self.raw_api("checkSendAbility", {})
        self.assertEqual(len(body), 10 * 1024 * 1024)
        self.assertEqual(json.loads(body)["ok"], True)

    def test_fault_redirect(self):
        self.fault("redirect", count=1)
        resp, _ = self.raw_api("checkSendAbility", {"phone_number": PHONE})
        location = resp.getheader("Location")
        self.assertEqual((resp.status, location), (302, "http://127.0.0.1:%d/stolen"
                                                   % self.ports["control"]))
        self.control("GET", "/stolen")
        self.assertEqual(self.control("GET", "/stats")[1]["stolen"], 1)

    def test_fault_foreign_id(self):
        self.fault("foreign_id", count=1)
        status, body = self.api("checkSendAbility", {"phone_number": PHONE})
        self.assertEqual((status, body["ok"]), (200, True))
        self.assertEqual(body["result"]["request_id"], "999999999999999")

    def test_fault_http10(self):
        self.fault("http10", count=1)
        conn = self.connect()
        resp, body = self.raw_api("checkSendAbility", {"phone_number": PHONE}, conn=conn)
        self.assertEqual((resp.version, resp.getheader("Connection")), (10, "close"))
        self.raw_api("checkSendAbility", {"phone_number": PHONE}, conn=conn)  # reconnects
        conn.close()
        self.assertEqual(self.control("GET", "/stats")[1]["connections"], 2)

    def test_fault_rejects_bad_spec(self):
        self.assertEqual(self.control("POST", "/fault", {"mode": "nope"})[0], 400)
        self.assertEqual(self.control("POST", "/fault", {"mode": "error"})[0], 400)
        self.assertEqual(self.control("POST", "/fault", {"mode": "slow", "arg": "x"})[0], 400)

    # ---- TLS ports and the stall port
    def test_bad_certificates_fail(self):
        for port in ("badca", "wronghost", "expired"):
            with self.assertRaises(ssl.SSLCertVerificationError, msg=port):
                self.raw_api("checkSendAbility", {"phone_number": PHONE}, conn=self.connect(port))
        insecure = ssl._create_unverified_context()
        conn = http.client.HTTPSConnection("127.0.0.1", self.ports["badca"], context=insecure)
        self.assertEqual(self.api("checkSendAbility", {"phone_number": PHONE}, conn=conn)[0], 200)
        by_port = self.control("GET", "/stats")[1]["tls_connections_by_port"]
        self.assertEqual(by_port, {"gateway": 0, "badca": 2, "wronghost": 1, "expired": 1})

    def test_stall_and_stuck_handshake_do_not_block(self):
        stuck = socket.create_connection(("127.0.0.1", self.ports["gateway"]))  # no ClientHello
        stalled = socket.create_connection(("127.0.0.1", self.ports["stall"]))
        stalled.settimeout(1)
        with self.assertRaises((socket.timeout, TimeoutError)):
            stalled.recv(1)
        self.assertEqual(self.api("checkSendAbility", {"phone_number": PHONE})[0], 200)
        stuck.close()
        stalled.close()


class ShutdownTest(unittest.TestCase):
    def test_sigterm_with_busy_connections(self):
        with tempfile.TemporaryDirectory() as workdir:
            subprocess.run(["bash", GEN_CERTS, os.path.join(workdir, "certs")], check=True)
            proc, ports, _ = start_mock(workdir, "--quiet")
            idle = socket.create_connection(("127.0.0.1", ports["gateway"]))
            stall = socket.create_connection(("127.0.0.1", ports["stall"]))
            ctl = http.client.HTTPConnection("127.0.0.1", ports["control"])
            ctl.request("POST", "/fault", json.dumps({"mode": "slow", "arg": 600}))
            ctl.getresponse().read()
            ctx = ssl._create_unverified_context()
            slow = http.client.HTTPSConnection("127.0.0.1", ports["gateway"], context=ctx)
            slow.request("POST", "/checkSendAbility", "{}")
            time.sleep(0.3)
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(5), 0)
            self.assertLess(time.monotonic() - started, 2.0)
            for sock in (idle, stall, slow.sock):
                sock.close()
            ctl.close()


class CountedResult(unittest.TextTestResult):
    """unittest's report on stderr, and one line per case on stdout in the
    form tests/run-tests.sh counts."""

    def _line(self, word, test, why=""):
        print("%s: %s%s" % (word, test.id().removeprefix("__main__."), why), flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self._line("PASS", test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._line("FAIL", test)

    def addError(self, test, err):
        super().addError(test, err)
        self._line("FAIL", test)

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._line("FAIL", subtest)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._line("SKIP", test, ": " + reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._line("PASS", test)

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._line("FAIL", test)


class CountedRunner(unittest.TextTestRunner):
    resultclass = CountedResult


if __name__ == "__main__":
    unittest.main(testRunner=CountedRunner)
