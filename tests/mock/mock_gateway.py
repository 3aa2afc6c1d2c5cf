#!/usr/bin/env python3
"""Mock of the Telegram Gateway API for the pam_tgotp tests.

Serves the Gateway API over TLS on several loopback ports (good certificate,
unknown CA, wrong host name, expired), a port that never answers, and a
plain-HTTP control port used by the tests to inspect and steer the mock.
Python 3 standard library only. See README.md in this directory.
"""

import argparse
import hmac
import http
import json
import os
import re
import secrets
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

DEFAULT_TOKEN = "test-token"
START_BALANCE = 100.0
MESSAGE_COST = 0.01
DEFAULT_TTL = 300
DEFAULT_SENDERS = ("testchannel",)
NOT_ON_TELEGRAM_PREFIX = "999"
MAX_BODY = 1 << 20
SERVE_POLL = 0.1

# (port name, certificate file stem) of the TLS ports, all serving the API.
TLS_PORTS = (("gateway", "server"), ("badca", "other-server"),
             ("wronghost", "wronghost"), ("expired", "expired"))

FAULT_MODES = ("slow", "garbage", "http5xx", "http5xx_json", "error", "status",
               "ok_no_result", "no_ok", "json_array", "ok_string", "close",
               "slowloris", "endless", "huge", "nested", "nul", "redirect",
               "ansi", "http10", "foreign_id")
FAULTS_NEEDING_ARG = ("error", "status")
NUMERIC_ARG_FAULTS = ("slow", "http5xx", "slowloris", "nested")

ANSI_ERROR = "\x1b[31mEVIL\x1b[0m\r\nInjected: yes\x07"
NUL_STATUS = "code_valid\x00_not_really"
FOREIGN_REQUEST_ID = "999999999999999"
HUGE_SIZE = 10 * 1024 * 1024
ENDLESS_CHUNK = 64 * 1024
ENDLESS_CAP = 20.0

_log_lock = threading.Lock()


def log(message):
    """One line to stderr; never pass a token or a full request line here."""
    message = re.sub(r"(access_token=)[^&\s]*", r"\1<redacted>", message)
    with _log_lock:
        try:
            sys.stderr.write("mock_gateway: %s\n" % message)
            sys.stderr.flush()
        except (OSError, ValueError):
            pass


# ---------------------------------------------------------------- API logic

class ApiError(Exception):
    """An API-level failure, answered as {"ok": false, "error": ...}."""

    def __init__(self, error):
        super().__init__(error)
        self.error = error


def http_status_for(error):
    if error.startswith("ACCESS_TOKEN_"):
        return 401
    if error.startswith("FLOOD_WAIT_"):
        return 429
    if error == "UNKNOWN_METHOD":
        return 404
    return 400


def error_envelope(error):
    return http_status_for(error), {"ok": False, "error": error}


def phone_digits(raw):
    """E.164 with or without '+' -> the digits; else PHONE_NUMBER_INVALID."""
    if raw is None:
        raise ApiError("PHONE_NUMBER_INVALID")
    digits = raw[1:] if raw.startswith("+") else raw
    if not re.fullmatch(r"[0-9]{8,15}", digits):
        raise ApiError("PHONE_NUMBER_INVALID")
    return digits


def int_in_range(raw, low, high, error):
    if raw is None or not re.fullmatch(r"[0-9]{1,9}", raw):
        raise ApiError(error)
    value = int(raw)
    if not low <= value <= high:
        raise ApiError(error)
    return value


def utf8_len(text):
    return len(text.encode("utf-8", "surrogatepass"))


def choose_code(params, fixed_code=None):
    """The caller's code, or a fresh one of code_length digits (fixed_code,
    when /config set one: concurrent logins in make bench know it)."""
    code = params.get("code")
    if code is not None:  # the documented rule: code wins, code_length ignored
        if not re.fullmatch(r"[0-9]{4,8}", code):
            raise ApiError("CODE_INVALID")
        return code
    if params.get("code_length") is None:
        raise ApiError("CODE_LENGTH_REQUIRED")
    length = int_in_range(params["code_length"], 4, 8, "CODE_LENGTH_INVALID")
    if fixed_code is not None:
        return fixed_code[:length]
    return "".join(secrets.choice("0123456789") for _ in range(length))


def valid_callback_url(url):
    if utf8_len(url) > 256:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() == "https" and bool(parts.hostname)


def checked_ttl(params):
    """Validate ttl, payload and callback_url; return the ttl to use."""
    ttl = DEFAULT_TTL
    if "ttl" in params:
        ttl = int_in_range(params["ttl"], 30, 3600, "TTL_INVALID")
    payload = params.get("payload")
    if payload is not None and utf8_len(payload) > 128:
        raise ApiError("PAYLOAD_INVALID")
    url = params.get("callback_url")
    if url is not None and not valid_callback_url(url):
        raise ApiError("CALLBACK_URL_INVALID")
    return ttl


def new_request_id():
    return str(10 ** 14 + secrets.randbelow(9 * 10 ** 14))  # 15 digits


class Message:
    """One request_id: created by checkSendAbility or sendVerificationMessage."""

    def __init__(self, request_id, digits, cost):
        self.request_id = request_id
        self.digits = digits
        self.cost = cost
        self.sent_at = None          # None until a code was sent with it
        self.code = None
        self.ttl = DEFAULT_TTL
        self.payload = None
        self.attempts = 0            # wrong codes so far
        self.verification = None     # dict reported as verification_status
        self.revoked_at = None
        self.expired_at = None       # set by the control port's /expire

    def expiry_time(self):
        if self.revoked_at is not None:
            return self.revoked_at
        if self.expired_at is not None:
            return self.expired_at
        return self.sent_at + self.ttl

    def expired(self, now):
        return (self.revoked_at is not None or self.expired_at is not None
                or now > self.sent_at + self.ttl)

    def delivery_status(self, now):
        if self.revoked_at is not None:
            return {"status": "revoked", "updated_at": int(self.revoked_at)}
        if self.expired(now):
            return {"status": "expired", "updated_at": int(self.expiry_time())}
        return {"status": "sent", "updated_at": int(self.sent_at)}


def to_param(value):
    """A JSON body value as the string the API would see."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value)


def fault_matches(fault, method):
    if fault["mode"] == "status" and method != "checkverificationstatus":
        return False
    return fault["method"] is None or fault["method"] == method


class Gateway:
    """All mock state, guarded by one lock; the API methods and the control
    operations. The HTTP layer only parses requests and writes answers."""

    def __init__(self, token, max_attempts, notify):
        self.token = token
        self.max_attempts = max_attempts
        self.notify = notify
        self.control_port = 0
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.reset()

    # ---- control operations
    def reset(self):
        with self.lock:
            self.messages = {}
            self.faults = []
            self.request_log = []
            self.last = None
            self.balance = START_BALANCE
            self.not_on_telegram = set()
            self.own_numbers = set()
            self.owned_senders = set(DEFAULT_SENDERS)
            self.fixed_code = None
            self.stats = self._fresh_stats()

    @staticmethod
    def _fresh_stats():
        return {"connections": 0, "handshakes": 0, "resumed": 0, "requests": 0, "methods": {},
                "access_token_param_used": False,
                "tls_connections_by_port": {name: 0 for name, _ in TLS_PORTS},
                "stall_connections": 0, "stolen": 0,
                "stolen_with_authorization": 0}

    def snapshot_stats(self):
        with self.lock:
            return json.loads(json.dumps(self.stats))

    def count_connection(self, port_name):
        with self.lock:
            if port_name == "stall":
                self.stats["stall_connections"] += 1
                return
            self.stats["connections"] += 1
            self.stats["tls_connections_by_port"][port_name] += 1

    def count_handshake(self, resumed):
        with self.lock:
            self.stats["handshakes"] += 1
            if resumed:
                self.stats["resumed"] += 1

    def count_stolen(self, with_authorization):
        with self.lock:
            self.stats["stolen"] += 1
            if with_authorization:
                self.stats["stolen_with_authorization"] += 1

    def record_request(self, entry, token_param_used):
        with self.lock:
            self.stats["requests"] += 1
            methods = self.stats["methods"]
            methods[entry["method"]] = methods.get(entry["method"], 0) + 1
            if token_param_used:
                self.stats["access_token_param_used"] = True
            self.request_log.append(entry)

    def requests(self):
        with self.lock:
            return list(self.request_log)

    def last_message(self):
        with self.lock:
            return self.last

    def expire_all(self):
        now = time.time()
        with self.lock:
            for msg in self.messages.values():
                if msg.sent_at is not None and msg.expired_at is None:
                    msg.expired_at = now
            return len(self.messages)

    def configure(self, settings):
        """Apply a subset of the settings; raise ValueError on bad input."""
        parsed = parse_config(settings)
        with self.lock:
            for key, value in parsed.items():
                setattr(self, key, value)
            return self._config_view()

    def _config_view(self):
        return {"not_on_telegram": sorted(self.not_on_telegram),
                "own_numbers": sorted(self.own_numbers),
                "owned_senders": sorted(self.owned_senders), "fixed_code": self.fixed_code,
                "balance": self.balance, "max_attempts": self.max_attempts}

    def add_fault(self, spec):
        fault = parse_fault(spec)
        with self.lock:
            self.faults.append(fault)
            return dict(fault)

    def list_faults(self):
        with self.lock:
            return [dict(f) for f in self.faults]

    def take_fault(self, method):
        """The most recent fault matching method (its count used up by one)."""
        with self.lock:
            for fault in reversed(self.faults):
                if not fault_matches(fault, method):
                    continue
                if fault["count"] is not None:
                    fault["count"] -= 1
                    if fault["count"] <= 0:
                        self.faults.remove(fault)
                return dict(fault)
        return None

    def list_messages(self):
        now = time.time()
        with self.lock:
            return [self._describe(m, now) for m in self.messages.values()]

    def _describe(self, msg, now):
        view = self._status(msg, now)
        view.update({"code": msg.code, "ttl": msg.ttl, "attempts": msg.attempts})
        return view

    # ---- API entry points
    def call(self, method, params, header, token_param):
        """Run one API call; return (http status, envelope)."""
        try:
            self._authenticate(header, token_param)
            handler = self._api_methods().get(method)
            if handler is None:
                raise ApiError("UNKNOWN_METHOD")
            with self.lock:
                result = handler(params, time.time())
            return 200, {"ok": True, "result": result}
        except ApiError as err:
            return error_envelope(err.error)

    def fake_status(self, params, status):
        """checkVerificationStatus answered with a forced status string."""
        now = time.time()
        request_id = params.get("request_id") or ""
        with self.lock:
            msg = self.messages.get(request_id)
            result = self._status(msg, now) if msg else {
                "request_id": request_id, "phone_number": "", "request_cost": 0}
        result["verification_status"] = {"status": status, "updated_at": int(now)}
        if params.get("code") is not None:
            result["verification_status"]["code_entered"] = params["code"]
        return 200, {"ok": True, "result": result}

    def _api_methods(self):
        return {"checksendability": self._check_send_ability,
                "sendverificationmessage": self._send_verification_message,
                "checkverificationstatus": self._check_verification_status,
                "revokeverificationmessage": self._revoke_verification_message}

    def _authenticate(self, header, token_param):
        if header is not None and header.strip():
            scheme, _, token = header.strip().partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token:
                raise ApiError("ACCESS_TOKEN_INVALID")
        elif token_param:
            token = token_param
        else:
            raise ApiError("ACCESS_TOKEN_REQUIRED")
        if not hmac.compare_digest(token.encode("utf-8", "surrogatepass"),
                                   self.token.encode("utf-8")):
            raise ApiError("ACCESS_TOKEN_INVALID")

    # ---- the four methods (called with the lock held)
    def _check_send_ability(self, params, now):
        digits = phone_digits(params.get("phone_number"))
        self._require_on_telegram(digits)
        msg = self._create_charged(digits)
        return self._status(msg, now, balance=True)

    def _send_verification_message(self, params, now):
        digits = phone_digits(params.get("phone_number"))
        msg = self._prepaid(params.get("request_id"), digits)
        code = choose_code(params, self.fixed_code)
        ttl = checked_ttl(params)
        self._check_sender(params.get("sender_username"))
        self._require_on_telegram(digits)
        if msg is None:
            msg = self._create_charged(digits)
        self._deliver(msg, code, ttl, params, now)
        return self._status(msg, now, balance=True)

    def _check_verification_status(self, params, now):
        msg = self._lookup(params.get("request_id"))
        verification = None
        if msg.sent_at is not None:
            verification = self._verify(msg, params.get("code"), now)
        return self._status(msg, now, verification=verification)

    def _revoke_verification_message(self, params, now):
        msg = self._lookup(params.get("request_id"))
        if msg.revoked_at is None:
            msg.revoked_at = now
        return True

    # ---- helpers of the methods
    def _lookup(self, request_id):
        if request_id is None:
            raise ApiError("REQUEST_ID_REQUIRED")
        msg = self.messages.get(request_id)
        if msg is None:
            raise ApiError("REQUEST_ID_INVALID")
        return msg

    def _prepaid(self, request_id, digits):
        """The checkSendAbility request to send with, if one was given."""
        if request_id is None:
            return None
        msg = self.messages.get(request_id)
        if msg is None:
            raise ApiError("REQUEST_ID_INVALID")
        if msg.digits != digits:
            raise ApiError("PHONE_NUMBER_MISMATCH")
        if msg.sent_at is not None:
            raise ApiError("MESSAGE_ALREADY_SENT")
        return msg

    def _require_on_telegram(self, digits):
        if digits.startswith(NOT_ON_TELEGRAM_PREFIX) or digits in self.not_on_telegram:
            raise ApiError("PHONE_NUMBER_NOT_AVAILABLE")

    def _check_sender(self, sender):
        if sender is None:
            return
        name = sender[1:] if sender.startswith("@") else sender
        if name.lower() not in {s.lower() for s in self.owned_senders}:
            raise ApiError("SENDER_NOT_OWNED")

    def _create_charged(self, digits):
        cost = 0 if digits in self.own_numbers else MESSAGE_COST
        if cost and self.balance < cost - 1e-9:
            raise ApiError("BALANCE_NOT_ENOUGH")
        self.balance = round(self.balance - cost, 6)
        request_id = new_request_id()
        while request_id in self.messages:
            request_id = new_request_id()
        msg = Message(request_id, digits, cost)
        self.messages[request_id] = msg
        return msg

    def _deliver(self, msg, code, ttl, params, now):
        msg.code, msg.ttl, msg.sent_at = code, ttl, now
        msg.payload = params.get("payload")
        self.last = {"request_id": msg.request_id, "phone_number": "+" + msg.digits,
                     "code": code, "params": dict(params), "ttl": ttl}
        self.notify("[Telegram -> +%s] Verification code: %s (request %s, valid %d s)"
                    % (msg.digits, code, msg.request_id, ttl))

    def _verify(self, msg, code, now):
        """Apply one check to msg; return the verification_status to report."""
        current = msg.verification
        state = current["status"] if current else None
        if state == "code_valid":
            if code is None or code == msg.code:
                return current
            return {"status": "code_invalid", "updated_at": int(now), "code_entered": code}
        if state == "code_max_attempts_exceeded":
            return current
        if msg.expired(now):
            if state != "expired":
                msg.verification = {"status": "expired", "updated_at": int(msg.expiry_time())}
            return msg.verification
        if code is None:
            return current
        if code == msg.code:
            state = "code_valid"
        else:
            msg.attempts += 1
            state = ("code_max_attempts_exceeded" if msg.attempts >= self.max_attempts
                     else "code_invalid")
        msg.verification = {"status": state, "updated_at": int(now), "code_entered": code}
        return msg.verification

    def _status(self, msg, now, balance=False, verification=None):
        """The RequestStatus object of msg."""
        result = {"request_id": msg.request_id, "phone_number": msg.digits,
                  "request_cost": msg.cost}
        if balance:
            result["remaining_balance"] = self.balance
        if msg.sent_at is not None:
            result["delivery_status"] = msg.delivery_status(now)
        verification = verification or msg.verification
        if verification:
            result["verification_status"] = dict(verification)
        if msg.payload is not None:
            result["payload"] = msg.payload
        return result


def string_set(values, key, strip):
    """A JSON list of strings as a set, each without a leading strip char."""
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError("%s: a list of strings expected" % key)
    return {v[1:] if v.startswith(strip) else v for v in values}


def parse_config(settings):
    if not isinstance(settings, dict):
        raise ValueError("a JSON object expected")
    parsed = {}
    for key, value in settings.items():
        if key in ("not_on_telegram", "own_numbers"):
            parsed[key] = string_set(value, key, "+")
        elif key == "owned_senders":
            parsed[key] = string_set(value, key, "@")
        elif key == "fixed_code" and (value is None or isinstance(value, str)
                                      and re.fullmatch(r"[0-9]{8}", value)):
            parsed[key] = value
        elif key == "balance" and isinstance(value, (int, float)) \
                and not isinstance(value, bool):
            parsed[key] = float(value)
        else:
            raise ValueError("bad or unknown setting: %s" % key)
    return parsed


def parse_fault(spec):
    if not isinstance(spec, dict) or spec.get("mode") not in FAULT_MODES:
        raise ValueError("mode must be one of: " + ", ".join(FAULT_MODES))
    method, count, arg = spec.get("method"), spec.get("count"), spec.get("arg")
    if method is not None and not isinstance(method, str):
        raise ValueError("method must be a string or null")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool)
                              or count < 1):
        raise ValueError("count must be a positive integer or null")
    if spec["mode"] in FAULTS_NEEDING_ARG and not isinstance(arg, str):
        raise ValueError("mode %s needs a string arg" % spec["mode"])
    if spec["mode"] in NUMERIC_ARG_FAULTS and arg is not None and (
            not isinstance(arg, (int, float)) or isinstance(arg, bool) or arg < 0):
        raise ValueError("mode %s takes a number arg" % spec["mode"])
    return {"mode": spec["mode"], "method": method.lower() if method else None,
            "count": count, "arg": arg}


# ---------------------------------------------------------------- HTTP layer

class Registry:
    """Open client sockets, so that shutdown can unblock their threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sockets = set()
        self.closed = False

    def add(self, sock):
        with self.lock:
            if not self.closed:
                self.sockets.add(sock)
                return
        hard_shutdown(sock)

    def discard(self, sock):
        with self.lock:
            self.sockets.discard(sock)

    def close_all(self):
        with self.lock:
            self.closed = True
            sockets = list(self.sockets)
        for sock in sockets:
            hard_shutdown(sock)


def hard_shutdown(sock):
    """shutdown(2) on the descriptor, bypassing SSLSocket.shutdown()."""
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except (OSError, ValueError):
        pass


def reason_phrase(status):
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def json_bytes(obj):
    return json.dumps(obj, separators=(",", ":")).encode("ascii")


class Handler(BaseHTTPRequestHandler):
    """Common part of the API and control handlers: keep-alive HTTP/1.1,
    raw answers, request bodies, socket registration."""

    protocol_version = "HTTP/1.1"

    def setup(self):
        self.server.registry.add(self.request)
        super().setup()

    def handle(self):
        try:
            super().handle()
        except (OSError, ValueError):
            pass  # the client went away (or we are shutting down)

    def finish(self):
        try:
            super().finish()
        except (OSError, ValueError):
            pass
        self.server.registry.discard(self.request)

    @property
    def gateway(self):
        return self.server.gateway

    def log_request(self, code="-", size="-"):
        pass  # requests are logged by the handlers, without query strings

    def log_message(self, format, *args):  # noqa: A002 (base class name)
        log("%s: %s" % (self.server.name, format % args))

    def head_bytes(self, status, headers, version="HTTP/1.1"):
        lines = ["%s %d %s" % (version, status, reason_phrase(status)),
                 "Server: mock-gateway", "Date: " + self.date_time_string()]
        lines += headers
        if self.close_connection:
            lines.append("Connection: close")
        elif self.request_version == "HTTP/1.0":
            lines.append("Connection: keep-alive")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def send_raw(self, status, body, ctype="application/json", headers=(),
                 version="HTTP/1.1"):
        all_headers = ["Content-Type: " + ctype, "Content-Length: %d" % len(body)]
        head = self.head_bytes(status, all_headers + list(headers), version)
        self.wfile.write(head + body)

    def send_json(self, status, obj):
        self.send_raw(status, json_bytes(obj))

    def read_body(self):
        """The request body, or None after answering a framing error."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self.read_chunked()
        length = self.headers.get("Content-Length", "0").strip()
        if not re.fullmatch(r"[0-9]{1,12}", length):
            return self.refuse(400, "bad Content-Length")
        if int(length) > MAX_BODY:
            return self.refuse(413, "body too large")
        return self.rfile.read(int(length))

    def read_chunked(self):
        body = b""
        while True:
            size_line = self.rfile.readline(100).split(b";")[0].strip()
            if not re.fullmatch(rb"[0-9a-fA-F]{1,8}", size_line):
                return self.refuse(400, "bad chunk size")
            size = int(size_line, 16)
            if len(body) + size > MAX_BODY:
                return self.refuse(413, "body too large")
            if size == 0:
                break
            body += self.rfile.read(size)
            self.rfile.readline(3)
        while self.rfile.readline(1000) not in (b"\r\n", b"\n", b""):
            pass  # trailers
        return body

    def refuse(self, status, why):
        self.close_connection = True
        self.send_raw(status, why.encode() + b"\n", "text/plain")
        return None


class ApiHandler(Handler):
    """The Gateway API on one TLS port."""

    def setup(self):
        self.server.gateway.count_connection(self.server.name)
        context = self.server.tls_context
        raw = self.request
        # Small answers go out at once (no Nagle/delayed-ACK stall of ~40 ms).
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.request = context.wrap_socket(raw, server_side=True,
                                               do_handshake_on_connect=False)
        except (OSError, ValueError):
            raw.close()
            raise
        super().setup()

    def handle(self):
        try:
            self.request.do_handshake()  # in this connection's thread
        except (OSError, ValueError):
            return
        self.gateway.count_handshake(self.request.session_reused)
        super().handle()

    def finish(self):
        super().finish()
        self.request.close()

    def do_GET(self):
        self.handle_api()

    do_POST = do_GET

    def handle_api(self):
        body = self.read_body()
        if body is None:
            return
        method = urlsplit(self.path).path[1:].lower()
        try:
            params = self.request_params(body)
        except ApiError as err:
            self.log_api(method, None, 400)
            return self.send_json(*error_envelope(err.error))
        header = self.headers.get("Authorization")
        token_param = params.pop("access_token", None)
        self.record(method, params, header, token_param)
        fault = self.gateway.take_fault(method)
        if fault is None:
            status, envelope = self.gateway.call(method, params, header, token_param)
            self.log_api(method, None, status)
            return self.send_json(status, envelope)
        self.log_api(method, fault, None)
        call = lambda: self.gateway.call(method, params, header, token_param)  # noqa: E731
        getattr(self, "fault_" + fault["mode"])(fault["arg"], call, params)

    def request_params(self, body):
        """Query string, then the body (form or JSON) over it."""
        params = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype == "application/x-www-form-urlencoded":
            params.update(parse_qsl(body.decode("utf-8", "replace"),
                                    keep_blank_values=True))
        elif ctype == "application/json" and body.strip():
            try:
                data = json.loads(body.decode("utf-8"))
            except ValueError:
                raise ApiError("INVALID_JSON") from None
            if not isinstance(data, dict):
                raise ApiError("INVALID_JSON")
            params.update({k: to_param(v) for k, v in data.items() if v is not None})
        return params

    def record(self, method, params, header, token_param):
        recorded = dict(params)
        if token_param is not None:
            recorded["access_token"] = "<redacted>"
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("authorization", "proxy-authorization")}
        auth = auth_kind(header, token_param)
        entry = {"method": method, "params": recorded, "headers": headers,
                 "http_version": self.request_version, "http_method": self.command,
                 "path": urlsplit(self.path).path, "port": self.server.name,
                 "auth": auth, "time": time.time()}
        self.gateway.record_request(entry, token_param is not None)

    def log_api(self, method, fault, status):
        what = ("fault " + fault["mode"]) if fault else str(status)
        log("%s: %s /%s -> %s" % (self.server.name, self.command, method, what))

    # ---- fault modes: fault_<mode>(arg, call, params); call() runs the API
    def answer_normally(self, call):
        self.send_json(*call())

    def fault_slow(self, arg, call, params):
        if self.gateway.stop.wait(float(arg if arg is not None else 30)):
            self.close_connection = True
            return
        self.answer_normally(call)

    def fault_garbage(self, arg, call, params):
        self.send_raw(200, b"<html>502 Bad Gateway</html>", "text/html")

    def fault_http5xx(self, arg, call, params):
        self.send_raw(int(arg) if arg is not None else 502, b"Bad Gateway", "text/plain")

    def fault_http5xx_json(self, arg, call, params):
        self.send_json(500, {"ok": False, "error": "INTERNAL"})

    def fault_error(self, arg, call, params):
        self.send_json(*error_envelope(arg))

    def fault_status(self, arg, call, params):
        self.send_json(*self.gateway.fake_status(params, arg))

    def fault_ok_no_result(self, arg, call, params):
        self.send_json(200, {"ok": True})

    def fault_no_ok(self, arg, call, params):
        status, envelope = call()
        envelope.pop("ok")
        self.send_json(status, envelope)

    def fault_json_array(self, arg, call, params):
        self.send_raw(200, b"[1,2,3]")

    def fault_ok_string(self, arg, call, params):
        status, envelope = call()
        envelope["ok"] = "true" if envelope["ok"] else "false"
        self.send_json(status, envelope)

    def fault_close(self, arg, call, params):
        self.close_connection = True

    def fault_slowloris(self, arg, call, params):
        seconds = int(arg) if arg is not None else 60
        status, envelope = call()
        body = json_bytes(envelope)
        body += b" " * max(0, seconds + 1 - len(body))  # JSON allows trailing blanks
        self.wfile.write(self.head_bytes(status, ["Content-Type: application/json",
                                                  "Content-Length: %d" % len(body)]))
        for i in range(seconds):
            self.wfile.write(body[i:i + 1])
            if self.gateway.stop.wait(1.0):
                self.close_connection = True
                return
        self.wfile.write(body[seconds:])

    def fault_endless(self, arg, call, params):
        self.close_connection = True
        self.wfile.write(self.head_bytes(200, ["Content-Type: application/json",
                                               "Transfer-Encoding: chunked"]))
        chunk = b"%x\r\n%s\r\n" % (ENDLESS_CHUNK, b"a" * ENDLESS_CHUNK)
        deadline = time.monotonic() + ENDLESS_CAP
        while time.monotonic() < deadline and not self.gateway.stop.is_set():
            self.wfile.write(chunk)  # raises once the client has gone

    def fault_huge(self, arg, call, params):
        head = b'{"ok":true,"result":{"request_id":"100000000000001","payload":"'
        tail = b'"}}'
        body = head + b"a" * (HUGE_SIZE - len(head) - len(tail)) + tail
        self.wfile.write(self.head_bytes(200, ["Content-Type: application/json",
                                               "Content-Length: %d" % len(body)]))
        view = memoryview(body)
        for start in range(0, len(body), 1 << 20):
            if self.gateway.stop.is_set():
                self.close_connection = True
                return
            self.wfile.write(view[start:start + (1 << 20)])

    def fault_nested(self, arg, call, params):
        depth = int(arg) if arg is not None else 100000
        self.send_raw(200, b"[" * depth + b"]" * depth)

    def fault_nul(self, arg, call, params):
        status, envelope = call()
        insert_nul(envelope)
        body = json_bytes(envelope)
        if arg != "escaped":
            body = body.replace(b"\\u0000", b"\x00")
        self.send_raw(status, body)

    def fault_redirect(self, arg, call, params):
        location = "Location: http://127.0.0.1:%d/stolen" % self.gateway.control_port
        self.send_raw(302, b"", "text/plain", [location])

    def fault_ansi(self, arg, call, params):
        self.send_json(400, {"ok": False, "error": ANSI_ERROR})

    def fault_foreign_id(self, arg, call, params):
        status, envelope = call()
        result = envelope.get("result")
        if isinstance(result, dict) and "request_id" in result:
            result["request_id"] = FOREIGN_REQUEST_ID
        self.send_json(status, envelope)

    def fault_http10(self, arg, call, params):
        status, envelope = call()
        self.close_connection = True
        self.send_raw(status, json_bytes(envelope), version="HTTP/1.0")


def auth_kind(header, token_param):
    """How a request authenticated, for /requests: bearer, other, param, none."""
    if header and header.strip():
        return "bearer" if header.strip().lower().startswith("bearer ") else "other"
    return "param" if token_param is not None else "none"


def insert_nul(envelope):
    """Put a NUL inside a string of the answer: a status that reads
    "code_valid" up to the NUL, or the middle of the request_id."""
    result = envelope.get("result")
    if not isinstance(result, dict):
        envelope["error"] = "ERROR\x00_HIDDEN"
        return
    verification = result.get("verification_status")
    if isinstance(verification, dict):
        verification["status"] = NUL_STATUS
    else:
        result["request_id"] = result["request_id"][:5] + "\x00" + result["request_id"][5:]


class ControlHandler(Handler):
    """Plain-HTTP control API: JSON in, JSON out."""

    ROUTES = {("POST", "/reset"): "ctl_reset", ("GET", "/stats"): "ctl_stats",
              ("GET", "/last"): "ctl_last", ("GET", "/requests"): "ctl_requests",
              ("POST", "/expire"): "ctl_expire", ("POST", "/config"): "ctl_config",
              ("POST", "/fault"): "ctl_fault", ("GET", "/faults"): "ctl_faults",
              ("GET", "/messages"): "ctl_messages"}

    def do_GET(self):
        self.route()

    do_POST = do_PUT = do_DELETE = do_GET

    def route(self):
        body = self.read_body()
        if body is None:
            return
        path = urlsplit(self.path).path.rstrip("/") or "/"
        if path == "/stolen":
            return self.ctl_stolen()
        name = self.ROUTES.get((self.command, path))
        if name is None:
            known = any(p == path for _, p in self.ROUTES)
            return self.send_json(405 if known else 404, {"error": "no such endpoint"})
        try:
            data = json.loads(body.decode("utf-8")) if body.strip() else {}
            status, obj = getattr(self, name)(data)
        except ValueError as err:
            status, obj = 400, {"error": str(err)}
        log("control: %s %s -> %d" % (self.command, path, status))
        self.send_json(status, obj)

    def ctl_reset(self, data):
        self.gateway.reset()
        return 200, {"ok": True}

    def ctl_stats(self, data):
        return 200, self.gateway.snapshot_stats()

    def ctl_last(self, data):
        last = self.gateway.last_message()
        return (200, last) if last else (404, {"error": "no message sent"})

    def ctl_requests(self, data):
        return 200, self.gateway.requests()

    def ctl_expire(self, data):
        return 200, {"ok": True, "messages": self.gateway.expire_all()}

    def ctl_config(self, data):
        return 200, self.gateway.configure(data)

    def ctl_fault(self, data):
        return 200, self.gateway.add_fault(data)

    def ctl_faults(self, data):
        return 200, self.gateway.list_faults()

    def ctl_messages(self, data):
        return 200, self.gateway.list_messages()

    def ctl_stolen(self):
        self.gateway.count_stolen(self.headers.get("Authorization") is not None)
        log("control: %s /stolen (a client followed the redirect)" % self.command)
        trap = {"ok": True, "result": {
            "request_id": "100000000000666", "phone_number": "0", "request_cost": 0,
            "verification_status": {"status": "code_valid", "updated_at": int(time.time())}}}
        self.send_json(200, trap)


class StallHandler(socketserver.BaseRequestHandler):
    """Accepts, never answers, keeps the socket until the client goes."""

    def setup(self):
        self.server.gateway.count_connection("stall")
        self.server.registry.add(self.request)

    def handle(self):
        try:
            while self.request.recv(4096):
                pass
        except OSError:
            pass

    def finish(self):
        self.server.registry.discard(self.request)


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """One listening port on 127.0.0.1; a (joined) thread per connection."""

    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True
    request_queue_size = 1024  # make bench starts 256 logins at once

    def __init__(self, name, handler, gateway, registry, tls_context=None):
        self.name = name
        self.gateway = gateway
        self.registry = registry
        self.tls_context = tls_context
        super().__init__(("127.0.0.1", 0), handler)

    @property
    def port(self):
        return self.server_address[1]

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (OSError, ValueError)):
            return  # a client that went away
        log("%s: internal error:\n%s" % (self.name, traceback.format_exc().rstrip()))


# ---------------------------------------------------------------- main

def parse_args(argv):
    parser = argparse.ArgumentParser(description="Mock Telegram Gateway API.")
    parser.add_argument("--certs", required=True, help="directory made by gen-certs.sh")
    parser.add_argument("--ports-file", required=True, help="JSON file written when ready")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--token-file", help="file whose first line is the token")
    group.add_argument("--token", help="the access token (default %s)" % DEFAULT_TOKEN)
    parser.add_argument("--max-attempts", type=int, default=3,
                        help="wrong codes before code_max_attempts_exceeded")
    parser.add_argument("--quiet", action="store_true",
                        help="no notification lines on stdout")
    args = parser.parse_args(argv)
    if args.max_attempts < 1:
        parser.error("--max-attempts must be at least 1")
    return args


def load_token(args):
    if args.token_file:
        with open(args.token_file, encoding="utf-8") as handle:
            return handle.readline().strip()
    return args.token if args.token is not None else DEFAULT_TOKEN


def make_notifier(quiet):
    def notify(line):
        if quiet:
            return
        try:
            print(line, flush=True)
        except (OSError, ValueError):
            pass
    return notify


def tls_context(certs, stem):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.path.join(certs, stem + ".pem"),
                            os.path.join(certs, stem + ".key"))
    context.set_alpn_protocols(["http/1.1"])
    return context


def build_servers(certs, gateway, registry):
    servers = [Server(name, ApiHandler, gateway, registry, tls_context(certs, stem))
               for name, stem in TLS_PORTS]
    servers.append(Server("stall", StallHandler, gateway, registry))
    servers.append(Server("control", ControlHandler, gateway, registry))
    gateway.control_port = servers[-1].port
    return servers


def write_ports_file(path, servers):
    ports = {server.name: server.port for server in servers}
    ports["pid"] = os.getpid()
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(ports, handle)
        handle.write("\n")
    os.replace(tmp, path)


def start(servers):
    threads = [threading.Thread(target=s.serve_forever, args=(SERVE_POLL,),
                                name="serve-" + s.name) for s in servers]
    for thread in threads:
        thread.start()
    return threads


def shut_down(servers, threads, registry):
    for server in servers:
        server.shutdown()          # stop accepting (serve_forever returns)
    registry.close_all()           # unblock every connection thread
    for server in servers:
        server.server_close()      # close the listener, join its threads
    for thread in threads:
        thread.join()


def main(argv=None):
    args = parse_args(argv)
    gateway = Gateway(load_token(args), args.max_attempts, make_notifier(args.quiet))
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: gateway.stop.set())
    registry = Registry()
    servers = build_servers(args.certs, gateway, registry)
    threads = start(servers)
    write_ports_file(args.ports_file, servers)
    log("ready: " + ", ".join("%s=%d" % (s.name, s.port) for s in servers))
    while not gateway.stop.wait(1.0):
        pass
    shut_down(servers, threads, registry)
    leftover = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    if leftover:
        log("threads still running at exit: " + ", ".join(leftover))
        return 1
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
