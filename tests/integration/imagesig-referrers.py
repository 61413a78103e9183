#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The OCI 1.1 referrers API in front of a registry that lacks it (docker-registry
2.8), for tests/integration/imagesig.sh.

  imagesig-referrers.py UPSTREAM PORTFILE

Listens on a free loopback port (written to PORTFILE) and forwards every request
to UPSTREAM (http://127.0.0.1:PORT) unchanged, except
GET /v2/<name>/referrers/<digest>: answered with an image index of the manifests
pushed through this proxy whose subject is <digest> (with their artifactType),
as distribution-spec 1.1 says; and blobs whose digests are listed in
PORTFILE.corrupt are served with their first byte changed (a lying registry).
Requests are logged to stderr.
"""
import hashlib
import http.server
import json
import os
import re
import sys
import threading
import urllib.error
import urllib.request

UPSTREAM = sys.argv[1]
REFERRERS = {}  # (name, subject digest) -> [descriptor]
LOCK = threading.Lock()
REF_RE = re.compile(r"^/v2/(.+)/referrers/(sha256:[0-9a-f]{64})$")
MAN_RE = re.compile(r"^/v2/(.+)/manifests/([^/]+)$")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.command, self.path))

    def reply(self, status, body, headers):
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def forward(self):
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n) if n else None
        req = urllib.request.Request(UPSTREAM + self.path, data=data, method=self.command)
        for k in ("Accept", "Content-Type", "Authorization"):
            if self.headers.get(k):
                req.add_header(k, self.headers[k])
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                status, body, headers = r.status, r.read(), r.getheaders()
        except urllib.error.HTTPError as e:
            status, body, headers = e.code, e.read(), e.headers.items()
        # A lying registry: the blobs named in PORTFILE.corrupt come back with
        # their first byte changed.
        try:
            with open(sys.argv[2] + ".corrupt") as f:
                corrupt = f.read().split()
        except OSError:
            corrupt = []
        if self.command == "GET" and status == 200 and body and any(self.path.endswith("/blobs/" + d) for d in corrupt):
            body = bytes([body[0] ^ 1]) + body[1:]
        m = MAN_RE.match(self.path)
        if self.command == "PUT" and m and status == 201 and data:
            doc = json.loads(data)
            subj = (doc.get("subject") or {}).get("digest")
            if subj:
                desc = {"mediaType": doc.get("mediaType"), "digest": "sha256:" + hashlib.sha256(data).hexdigest(),
                        "size": len(data)}
                if doc.get("artifactType"):
                    desc["artifactType"] = doc["artifactType"]
                with LOCK:
                    REFERRERS.setdefault((m.group(1), subj), []).append(desc)
        self.reply(status, body, headers)

    def referrers(self, m):
        with LOCK:
            ms = list(REFERRERS.get((m.group(1), m.group(2)), []))
        body = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                           "manifests": ms}).encode()
        self.reply(200, body, [("Content-Type", "application/vnd.oci.image.index.v1+json")])

    def do_GET(self):
        m = REF_RE.match(self.path.split("?")[0])
        if m:
            return self.referrers(m)
        self.forward()

    do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = forward


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))

os.rename(sys.argv[2] + ".tmp", sys.argv[2])
srv.serve_forever()
