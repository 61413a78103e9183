#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A hostile OCI registry on loopback for attacks.sh (plain HTTP: sigwardd's oci+http://).

    attacks-registry.py LIST_DIR MODE PORT_FILE

Serves the three files of LIST_DIR (manifest, entries, manifest.sig) as a sigward
allowlist artifact under /v2/sigward/list/manifests/prod, the way `sigward
allowlist push` lays it out. MODE:
  good     answers correctly
  endless  the manifest promises the entries blob's real size, then the blob never
           ends (endless data)
  slow     the artifact manifest trickles out one byte every 0.3 s (slow retrieval)
Binds 127.0.0.1 on a free port, writes the port to PORT_FILE, serves until killed.
"""
import hashlib
import http.server
import json
import os
import sys
import time

list_dir, mode, port_file = sys.argv[1], sys.argv[2], sys.argv[3]
FILES = ("manifest", "entries", "manifest.sig")
LAYER = "application/vnd.sigward.allowlist.file.v1"

blobs = {}
layers = []
for name in FILES:
    data = open(os.path.join(list_dir, name), "rb").read()
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    blobs[d] = (name, data)
    layers.append({"mediaType": LAYER, "digest": d, "size": len(data),
                   "annotations": {"org.opencontainers.image.title": name}})
config = b"{}"
config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
blobs[config_digest] = ("config", config)
manifest = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "artifactType": "application/vnd.sigward.allowlist.v1",
    "config": {"mediaType": "application/vnd.sigward.allowlist.config.v1+json",
               "digest": config_digest, "size": len(config)},
    "layers": layers,
}, separators=(",", ":")).encode()
manifest_digest = "sha256:" + hashlib.sha256(manifest).hexdigest()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write("registry: " + (fmt % args) + "\n")

    def send_manifest(self, body):
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
        self.send_header("Docker-Content-Digest", manifest_digest)
        self.send_header("Content-Length", str(len(manifest)))
        self.end_headers()
        if not body:
            return
        if mode == "slow":
            for i in range(len(manifest)):
                self.wfile.write(manifest[i:i + 1])
                self.wfile.flush()
                time.sleep(0.3)
        else:
            self.wfile.write(manifest)

    def send_blob(self, digest):
        name, data = blobs[digest]
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Docker-Content-Digest", digest)
        if mode == "endless" and name == "entries":
            # No length: the body simply never ends.
            self.end_headers()
            chunk = data + b"x" * 65536
            while True:
                self.wfile.write(chunk)
            return
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def route(self, body):
        p = self.path.split("?")[0]
        try:
            if p == "/v2/" or p == "/v2":
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif p == "/v2/sigward/list/manifests/prod":
                self.send_manifest(body)
            elif p.startswith("/v2/sigward/list/blobs/") and p.rsplit("/", 1)[1] in blobs:
                self.send_blob(p.rsplit("/", 1)[1])
            else:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        self.route(True)

    def do_HEAD(self):
        self.route(False)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
