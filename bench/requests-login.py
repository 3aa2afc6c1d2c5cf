#!/usr/bin/env python3
"""What an administrator might hook in with pam_exec instead of the module,
the way the Gateway's tutorials do it: Python requests, one Session (one
TLS connection), the same three calls as pam_tgotp, TLS verified against
CA_FILE. make bench times it.
    requests-login.py API_URL CA_FILE TOKEN_FILE PHONE CONTROL_PORT
The code is read from the mock Gateway's /last on CONTROL_PORT, as the
person would read it off the phone."""

import http.client
import json
import sys

import requests


def main(url, ca_file, token_file, phone, control):
    with open(token_file, encoding="utf-8") as handle:
        token = handle.readline().strip()
    with requests.Session() as session:
        session.trust_env = False  # as the module: no proxy or CA bundle from the environment
        session.verify = ca_file
        session.headers["Authorization"] = "Bearer " + token

        def call(method, body):
            answer = session.post("%s/%s" % (url, method), json=body, timeout=10).json()
            if answer.get("ok") is not True:
                raise SystemExit("%s: %s" % (method, answer))
            return answer["result"]

        ability = call("checkSendAbility", {"phone_number": phone})
        sent = call("sendVerificationMessage", {
            "phone_number": phone, "request_id": ability["request_id"], "code_length": 6,
            "ttl": 300, "payload": "sshd bench@host from 192.0.2.7"})
        conn = http.client.HTTPConnection("127.0.0.1", int(control), timeout=10)
        conn.request("GET", "/last")
        code = json.loads(conn.getresponse().read())["code"]
        conn.close()
        status = call("checkVerificationStatus", {"request_id": sent["request_id"], "code": code})
        if status["verification_status"]["status"] != "code_valid":
            raise SystemExit("not verified: %s" % status)


if __name__ == "__main__":
    main(*sys.argv[1:6])
