#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# How many polling nodes one nginx serves: wrk over HTTPS against a 10 000-entry
# list, with and without conditional requests, in one run.
#
#   conditional: what sigwardd sends for an unchanged list, one
#                GET manifest.sig with If-None-Match (the current ETag) -> 304;
#   full:        what a poll would cost without conditionals, GET manifest.sig,
#                manifest and entries (the three files in turn).
#
# Each is measured twice: "new connection" (Connection: close, so each poll pays
# its TLS handshake, as nodes polling every few minutes do; in the full case one
# connection carries the three requests of a poll) and "keep-alive" (the server's
# ceiling when handshakes are free). nginx's access log confirms the status codes.
# nginx and wrk share this machine's cores: the figures are a lower bound for a
# dedicated server.
#
# usage: bench/refresh-load.sh [BUILD_DIR] [SECONDS] [CONNECTIONS]
# Needs nginx, wrk, openssl, curl; root not required. Exit 2 when a tool is missing.
set -uo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(realpath "${1:-${SIGWARD_BUILD:-$SRC/build}}")
DUR=${2:-5}
CONN=${3:-64}
SW=$BUILD/cli/sigward
for t in nginx wrk openssl curl; do
	command -v "$t" >/dev/null || { echo "refresh-load: $t not installed (apt-get install $t)" >&2; exit 2; }
done
[ -x "$SW" ] || { echo "refresh-load: $SW missing: build first" >&2; exit 2; }

T=$(mktemp -d /tmp/sigward-load.XXXXXX)
chmod 755 "$T"
# shellcheck source=tests/integration/daemon-lib.sh
. "$SRC/tests/integration/daemon-lib.sh"
trap 'dl_stop_all; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM

dl_make_pki || { echo "refresh-load: cannot make a CA" >&2; exit 1; }
mkdir -p "$T/www/list"
openssl genpkey -algorithm ed25519 -out "$T/k.key" 2>/dev/null
head -c $((10000 * 32)) /dev/urandom | od -An -v -tx1 -w32 | tr -d ' ' | sed 's/^/sha256:/' |
	"$SW" allowlist build --scope bench --serial 1 --expires 30d --out "$T/www/list" >/dev/null || exit 1
openssl pkeyutl -sign -inkey "$T/k.key" -rawin -in "$T/www/list/manifest" | base64 -w0 > "$T/www/list/manifest.sig"
echo >> "$T/www/list/manifest.sig"
chmod -R a+rX "$T/www"
dl_start_nginx "$T/www" "$(nproc)" || { echo "refresh-load: nginx did not start: $(cat "$T/nginx/error.log")" >&2; exit 1; }
BASE=https://127.0.0.1:$NGINX_PORT
ETAG=$(curl -sI --cacert "$T/pki/ca.pem" "$BASE/list/manifest.sig" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
[ -n "$ETAG" ] || { echo "refresh-load: no ETag from nginx" >&2; exit 1; }
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/pki/ca.pem" -H "If-None-Match: $ETAG" "$BASE/list/manifest.sig")
[ "$code" = 304 ] || { echo "refresh-load: a conditional request got $code, not 304" >&2; exit 1; }
poll_bytes=$(($(stat -c %s "$T/www/list/manifest.sig") + $(stat -c %s "$T/www/list/manifest") + $(stat -c %s "$T/www/list/entries")))

cat > "$T/cond.lua" <<'EOF'
local etag = os.getenv("ETAG")
local close = os.getenv("CLOSE") == "1"
request = function()
	local h = { ["If-None-Match"] = etag }
	if close then h["Connection"] = "close" end
	return wrk.format("GET", "/list/manifest.sig", h)
end
EOF
cat > "$T/full.lua" <<'EOF'
local close = os.getenv("CLOSE") == "1"
local paths = { "/list/manifest.sig", "/list/manifest", "/list/entries" }
local i = 0
request = function()
	i = i % 3 + 1
	local h = {}
	if close and i == 3 then h["Connection"] = "close" end
	return wrk.format("GET", paths[i], h)
end
EOF

# run NAME SCRIPT CLOSE REQUESTS_PER_POLL
printf '%-34s %12s %12s %14s  %s\n' "case (wrk -t2 -c$CONN -d${DUR}s)" "requests/s" "polls/s" "transfer/s" "statuses (nginx log)"
run() {
	local name=$1 script=$2 close=$3 per=$4 out rps xfer m
	m=$(wc -l < "$NGINX_LOG")
	out=$(ETAG=$ETAG CLOSE=$close wrk -t2 -c"$CONN" -d"${DUR}s" --timeout 10s -s "$T/$script" "$BASE/" 2>&1)
	rps=$(sed -n 's/^Requests\/sec: *//p' <<<"$out")
	xfer=$(sed -n 's/^Transfer\/sec: *//p' <<<"$out")
	[ -n "$rps" ] || { echo "refresh-load: wrk failed: $out" >&2; exit 1; }
	local statuses
	statuses=$(tail -n +"$((m + 1))" "$NGINX_LOG" | awk '{print $3}' | sort | uniq -c | awk '{printf "%s x%s ", $2, $1}')
	printf '%-34s %12.0f %12.0f %14s  %s\n' "$name" "$rps" "$(awk -v r="$rps" -v p="$per" 'BEGIN{print r / p}')" "$xfer" "$statuses"
}
run "conditional (304), new connection" cond.lua 1 1
run "full GET x3, new connection" full.lua 1 3
run "conditional (304), keep-alive" cond.lua 0 1
run "full GET x3, keep-alive" full.lua 0 3
echo "list: 10 000 entries; a full poll downloads $poll_bytes bytes, a conditional one 0 bytes of body"
