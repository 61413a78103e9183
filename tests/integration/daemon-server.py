#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A misbehaving HTTPS list server for daemon.sh (nginx cannot cut a response short).

daemon-server.py CERT KEY DIR PORTFILE
Serves DIR's files over HTTPS on a free 127.0.0.1 port (written to PORTFILE).
manifest.sig and manifest are answered correctly; entries is announced with its
full Content-Length, but only its first half is sent before the connection is
closed, as when a server or a proxy dies mid-transfer. Logs "METHOD PATH" lines
to stderr. Stopped by the test with SIGTERM.
"""
import http.server
import os
import ssl
import sys

CERT, KEY, ROOT, PORTFILE = sys.argv[1:5]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.command, self.path))
        sys.stderr.flush()

    def do_GET(self):
        name = os.path.basename(self.path.split("?", 1)[0])
        path = os.path.join(ROOT, name)
        if name not in ("manifest", "entries", "manifest.sig") or not os.path.isfile(path):
            self.send_error(404)
            return
        with open(path, "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        if name == "entries":
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.end_headers()
        self.wfile.write(body)


def main():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(CERT, KEY)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    tmp = PORTFILE + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, PORTFILE)
    srv.serve_forever()


if __name__ == "__main__":
    main()
