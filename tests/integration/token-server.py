#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A registry token service (the Bearer token flow) for daemon-auth.sh.

token-server.py CERT KEY SIGNKEY SIGNCERT USERPASS SERVICE PORTFILE
Serves GET /token over HTTPS on a free 127.0.0.1 port (written to PORTFILE), as
docker-registry's `auth: token` expects of its realm: with `Authorization: Basic`
matching USERPASS ("user:password") it grants the actions asked for in `scope`
(repository:NAME:ACTIONS); without credentials it grants "pull" only; with wrong
credentials it answers 401. The token is a JWT signed RS256 with SIGNKEY, whose
header "kid" is the libtrust key id of SIGNCERT's public key (the registry finds
the key in its rootcertbundle by that id). Signing uses the openssl command, so
nothing beyond the standard library is needed. Logs one line per request
("token USER SCOPE GRANTED" or "token 401") to stderr. Stopped with SIGTERM.
"""
import base64
import hashlib
import http.server
import json
import os
import ssl
import subprocess
import sys
import time
import urllib.parse

CERT, KEY, SIGNKEY, SIGNCERT, USERPASS, SERVICE, PORTFILE = sys.argv[1:8]


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def libtrust_kid(cert_path):
    der = subprocess.run(["openssl", "x509", "-in", cert_path, "-noout", "-pubkey"],
                         check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=der,
                         check=True, capture_output=True).stdout
    s = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(s[i:i + 4] for i in range(0, len(s), 4))


KID = libtrust_kid(SIGNCERT)


def token(sub, access):
    now = int(time.time())
    header = {"typ": "JWT", "alg": "RS256", "kid": KID}
    claims = {"iss": "sigward-test-issuer", "sub": sub, "aud": SERVICE, "exp": now + 300,
              "nbf": now - 10, "iat": now, "jti": os.urandom(8).hex(), "access": access}
    signing_input = (b64url(json.dumps(header).encode()) + "." +
                     b64url(json.dumps(claims).encode())).encode()
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", SIGNKEY], input=signing_input,
                         check=True, capture_output=True).stdout
    return signing_input.decode() + "." + b64url(sig)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query)
        if url.path != "/token" or q.get("service", [""])[0] != SERVICE:
            self.reply(404, {"error": "unknown service"})
            return
        user = ""
        auth = self.headers.get("Authorization", "")
        if auth:
            try:
                given = base64.b64decode(auth.split(" ", 1)[1]).decode() if auth.startswith("Basic ") else None
            except Exception:
                given = None
            if given != USERPASS:
                sys.stderr.write("token 401\n")
                sys.stderr.flush()
                self.reply(401, {"error": "bad credentials"})
                return
            user = USERPASS.split(":", 1)[0]
        access = []
        for scope in q.get("scope", []):
            parts = scope.split(":")
            if len(parts) != 3 or parts[0] != "repository":
                continue
            wanted = parts[2].split(",")
            granted = [a for a in wanted if user or a == "pull"]
            access.append({"type": "repository", "name": parts[1], "actions": granted})
        sys.stderr.write("token %s %s %s\n" % (user or "-", ",".join(q.get("scope", [])) or "-",
                                               ";".join(",".join(a["actions"]) for a in access) or "-"))
        sys.stderr.flush()
        self.reply(200, {"token": token(user, access), "expires_in": 300})


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(CERT, KEY)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
