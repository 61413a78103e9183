#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# daemon-auth.sh: how sigwardd authenticates to its list source, and how it talks
# to systemd and to the people running it (issue 4, items 1, 4 and 5).
#
#   - HTTPS with a client certificate: nginx (a throwaway CA) answers 403 on /mtls/
#     unless the client shows a certificate from that CA;
#   - oci:// with the registry's Bearer token flow: docker-registry (distribution)
#     configured with `auth: token`, its realm tests/integration/token-server.py,
#     which grants push+pull to the right user:password, pull to anonymous callers
#     and answers 401 to wrong credentials; the list pushed there with
#     `sigward allowlist push`;
#   - the warning when the installed list has less than a quarter of its lifetime
#     left;
#   - sd_notify: READY=1 after the first attempt, STATUS= after each, the reload
#     protocol on SIGHUP and STOPPING=1 on SIGTERM, read from a real datagram
#     socket as systemd's NOTIFY_SOCKET.
#
# Needs root, nginx, docker-registry, openssl, jq, python3, timeout. Exit 77 when
# one is missing (a failure with SIGWARD_REQUIRE_ALL=1).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
B=${SIGWARD_BUILD:?SIGWARD_BUILD is the meson build directory}
SWD=$B/daemon/sigwardd
SW=$B/cli/sigward
HOOK=$B/hook/sigward-hook

DF_NAME=sw-daemon-auth
# shellcheck source=tests/integration/daemon-fixtures.sh
. "$HERE/daemon-fixtures.sh"

# ==== HTTPS with a client certificate =========================================
mkdir -p www src
dl_make_client_cert node1 || nok "a client certificate from the test CA"
# A second CA, not trusted by nginx, and a client certificate from it.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=other CA $$" \
	-keyout pki/other.key -out pki/other.pem 2>/dev/null
dl_make_client_cert stranger other || nok "a client certificate from an untrusted CA"
DL_NGINX_MTLS=1 dl_start_nginx "$T/www" || { nok "nginx starts over HTTPS on loopback" "$(cat "$T/nginx/error.log")"; exit 1; }
URL=https://127.0.0.1:$NGINX_PORT
mklist m1 1
publish m1 mtls

M=$T/n-mtls
node "$M" "$URL/mtls/"
once "$M"
check "mtls: without a client certificate the server answers 403: refused, nothing installed" "$(why "$M")" \
	eval '[ "$RC" = 1 ] && [ -z "$(cur "$M")" ] && st "$M" .last_error | grep -q 403'
node "$M" "$URL/mtls/" client_cert="$T/pki/stranger.pem" client_key="$T/pki/stranger.key"
once "$M"
check "mtls: a client certificate from another CA: refused, nothing installed" "$(why "$M")" \
	eval '[ "$RC" = 1 ] && [ -z "$(cur "$M")" ]'
node "$M" "$URL/mtls/" client_cert="$T/pki/node1.pem" client_key="$T/pki/node1.key"
m=$(logmark "$NGINX_LOG")
once "$M"
check "mtls: with client_cert and client_key the list is installed (serial 1)" "$(why "$M") $(since "$NGINX_LOG" "$m")" \
	eval '[ "$RC" = 0 ] && [[ $(cur "$M") == gen-1-* ]] && still_enforces "$M" 1 &&
	since "$NGINX_LOG" "$m" | grep -q "^GET /mtls/entries 200"'
node "$M" "$URL/mtls/" client_cert="$T/pki/missing.pem" client_key="$T/pki/node1.key"
once "$M"
check "mtls: a client certificate file that does not exist: a one-line error naming it, the old list kept" "$(why "$M")" \
	eval '[ "$RC" != 0 ] && [[ $(cur "$M") == gen-1-* ]] && grep -q "client_cert $T/pki/missing.pem" <<<"$OUT"'

# ==== the Bearer token flow ===================================================
REGUSER=sigward-ci REGPASS=pw-$$-$RANDOM
dl_start_registry "$REGUSER" "$REGPASS" token ||
	{ nok "docker-registry starts with TLS and token auth" "$(tail -5 "$REG_LOG") $(cat "$TOK_LOG" 2>/dev/null)"; exit 1; }
printf '%s:%s\n' "$REGUSER" "$REGPASS" > creds
printf '%s:wrong\n' "$REGUSER" > badcreds
chmod 600 creds badcreds
OCI=oci://127.0.0.1:$REG_PORT/sigward/allowlist:test

mklist t1 1
m=$(logmark "$TOK_LOG")
"$SW" allowlist push --ca-file pki/ca.pem src/t1 "$OCI" >/dev/null 2>push.err
prc=$?
check "token: an anonymous push is refused (the token grants pull only): exit 1, the registry's answer named" \
	"rc=$prc $(cat push.err) $(since "$TOK_LOG" "$m")" \
	eval '[ "$prc" = 1 ] && grep -qi "denied\|401\|403\|unauthorized" push.err'
m=$(logmark "$TOK_LOG")
"$SW" allowlist push --ca-file pki/ca.pem --credentials creds src/t1 "$OCI" >push.out 2>push.err
prc=$?
check "token: push with credentials goes through the token service (push,pull granted to $REGUSER)" \
	"rc=$prc $(cat push.err) token log: $(since "$TOK_LOG" "$m")" \
	eval '[ "$prc" = 0 ] && grep -q "^sha256:[0-9a-f]\{64\}" push.out &&
	since "$TOK_LOG" "$m" | grep -q "^token $REGUSER repository:sigward/allowlist:[a-z,]* .*push"'

O=$T/n-token
node "$O" "$OCI" credentials="$T/creds"
m=$(logmark "$TOK_LOG")
r=$(logmark "$REG_LOG")
once "$O"
check "token: sigwardd with credentials fetches a Bearer token and installs the list (serial 1)" \
	"$(why "$O") token log: $(since "$TOK_LOG" "$m")" \
	eval '[ "$RC" = 0 ] && [[ $(cur "$O") == gen-1-* ]] && still_enforces "$O" 1 &&
	since "$TOK_LOG" "$m" | grep -q "^token $REGUSER repository:sigward/allowlist:pull pull$" &&
	since "$REG_LOG" "$r" | grep -q "\"GET /v2/sigward/allowlist/blobs/sha256:[0-9a-f]* HTTP/[0-9.]*\" 200"'
r=$(logmark "$REG_LOG")
once "$O"
new=$(since "$REG_LOG" "$r" | grep '^127\.0\.0\.1 ')
check "token: an unchanged list costs a HEAD of the manifest and no blob download" "$(why "$O") log: $new" \
	eval '[ "$RC" = 0 ] && [ "$(st "$O" .last_result)" = unchanged ] &&
	grep -q "\"HEAD /v2/sigward/allowlist/manifests/test HTTP/[0-9.]*\" 200" <<<"$new" && ! grep -q "\"GET .*/blobs/" <<<"$new"'

mklist t2 2
"$SW" allowlist push --ca-file pki/ca.pem --credentials creds src/t2 "$OCI" >/dev/null 2>push.err ||
	nok "token: push serial 2" "$(cat push.err)"
A=$T/n-anon
node "$A" "$OCI"
m=$(logmark "$TOK_LOG")
once "$A"
check "token: an anonymous sigwardd (no credentials) gets a pull token and installs serial 2" \
	"$(why "$A") token log: $(since "$TOK_LOG" "$m")" \
	eval '[ "$RC" = 0 ] && [[ $(cur "$A") == gen-2-* ]] && still_enforces "$A" 2 &&
	since "$TOK_LOG" "$m" | grep -q "^token - repository:sigward/allowlist:pull pull$"'

node "$O" "$OCI" credentials="$T/badcreds"
m=$(logmark "$TOK_LOG")
once "$O"
check "token: wrong credentials: the token service answers 401, refused, the old list kept" \
	"$(why "$O") token log: $(since "$TOK_LOG" "$m")" \
	eval 'kept "$O" "$(cur "$O")" 1 "401|token" && since "$TOK_LOG" "$m" | grep -q "^token 401$"'

# ==== a running daemon keeps its token across polls ===========================
# One token per lifetime (expires_in 300 here), not one per poll: after the first
# poll's 401 and token request, every poll's HEAD carries the token.
P=$T/n-poll
node "$P" "$OCI" credentials="$T/creds"
m=$(logmark "$TOK_LOG")
r=$(logmark "$REG_LOG")
"$SWD" --config "$P/sigward.conf" 2>"$T/daemon-poll.log" &
PPID_=$!
DAEMONS+=("$PPID_")
heads() { since "$REG_LOG" "$r" | grep '^127\.0\.0\.1 ' | grep -c '"HEAD /v2/sigward/allowlist/manifests/test ' || true; }
wait_for 30 eval '[ "$(heads)" -ge 5 ]'
kill -TERM "$PPID_"
wait "$PPID_" 2>/dev/null
reg=$(since "$REG_LOG" "$r" | grep '^127\.0\.0\.1 ')
ntok=$(since "$TOK_LOG" "$m" | grep -c '^token ' || true)
n401=$(grep -c '" 401 ' <<<"$reg" || true)
check "token: a running sigwardd keeps its Bearer token across polls ($(heads) manifest HEADs: $ntok token request, $n401 401)" \
	"status: $(cat "$P/status.json" 2>/dev/null) token log: $(since "$TOK_LOG" "$m") registry: $reg" \
	eval '[ "$(heads)" -ge 5 ] && [ "$ntok" = 1 ] && [ "$n401" = 1 ] && [ "$(st "$P" .installed.serial)" = 2 ]'

# ==== less than a quarter of the lifetime left ================================
Q=$T/n-quarter
# Issued 2020-01-01 (mklist's rule for an absolute expiry), expiring in 2 hours.
mklist q1 1 test "$(date -u -d '+2 hours' +%Y-%m-%dT%H:%M:%SZ)"
node "$Q" "file://$T/src/q1"
once "$Q"
check "expiry: a list with less than a quarter of its lifetime left is installed with a warning naming it" "$(why "$Q")" \
	eval '[ "$RC" = 0 ] && grep -q "warning: the installed allowlist test#1 has less than a quarter of its lifetime left" <<<"$OUT"'
mklist q2 2
node "$Q" "file://$T/src/q2"
once "$Q"
check "expiry: a fresh list (7 days from now) gives no such warning" "$(why "$Q")" \
	eval '[ "$RC" = 0 ] && [[ $(cur "$Q") == gen-2-* ]] && ! grep -q "quarter" <<<"$OUT"'

# ==== sd_notify ===============================================================
N=$T/n-notify
mklist n1 1
node "$N" "file://$T/src/n1" interval=1h jitter=1h
rm -f notify.sock notify.log
"$DL_PY" -c 'import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
open(sys.argv[2] + ".ready", "w").close()
while True:
    m = s.recv(4096).decode()
    with open(sys.argv[2], "a") as f:
        f.write(m.replace("\n", "|") + "\n")' "$T/notify.sock" "$T/notify.log" &
LISTENER=$!
WORKERS+=("$LISTENER")
wait_for 10 test -e notify.log.ready || nok "notify: the test's datagram socket is listening"
NOTIFY_SOCKET=$T/notify.sock "$SWD" --config "$N/sigward.conf" 2>daemon-notify.log &
DPID=$!
DAEMONS+=("$DPID")
notified() { grep -q "$1" notify.log 2>/dev/null; }
wait_for 30 notified '^READY=1|STATUS=installed'
check "notify: READY=1 with STATUS=installed after the first attempt" "$(cat notify.log 2>/dev/null) $(cat daemon-notify.log)" \
	eval 'head -1 notify.log | grep -q "^READY=1|STATUS=installed"'
delay() { echo $(($(date -d "$(st "$N" .next_attempt)" +%s) - $(date -d "$(st "$N" .last_attempt)" +%s))); }
d1=$(delay)
kill -HUP "$DPID"
wait_for 30 notified '^READY=1$'
wait_for 10 eval '[ "$(delay)" != "$d1" ]'
d2=$(delay)
check "jitter: interval 1h + jitter 1h: the next attempt is 1 to 2 hours away, a new random delay each time ($d1 s, $d2 s)" \
	"$(cat "$N/status.json")" eval '[ "$d1" -ge 3600 ] && [ "$d1" -le 7200 ] && [ "$d2" -ge 3600 ] && [ "$d2" -le 7200 ] && [ "$d1" != "$d2" ]'
check "notify: SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1" "$(cat notify.log 2>/dev/null)" \
	eval 'grep -q "^RELOADING=1|MONOTONIC_USEC=[0-9]\+$" notify.log && grep -A3 "^RELOADING=1" notify.log | grep -q "^READY=1$"'
kill -TERM "$DPID"
end=$((SECONDS + 20))
while kill -0 "$DPID" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.1; done
wait "$DPID" 2>/dev/null
drc=$?
wait_for 10 notified '^STOPPING=1$'
check "notify: SIGTERM: STOPPING=1 and exit 0" "rc=$drc $(cat notify.log 2>/dev/null)" \
	eval '[ "$drc" = 0 ] && tail -1 notify.log | grep -q "^STOPPING=1$"'

echo "daemon-auth: $pass passed, $fail failed"
[ "$fail" = 0 ]
