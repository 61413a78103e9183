#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# daemon.sh: sigwardd against real servers on loopback (issue 4, item 6).
#
#   nginx over HTTPS (a throwaway CA, a server certificate for IP 127.0.0.1) serving
#   list directories, with an access log; docker-registry (distribution) with TLS
#   from the same CA and htpasswd Basic auth, the list pushed there with
#   `sigward allowlist push`; a small Python HTTPS server that cuts a response short.
#
# Cases: a new list is installed; an unchanged list costs one 304 (nginx) or one
# HEAD and no blob (registry), within a running daemon and across --once runs;
# server down; truncated, corrupted, oversized and slow responses; bad signature,
# lower serial, wrong scope, expired list; wrong registry credentials; corrupted and
# truncated blobs in the registry's storage; SIGHUP reload (and a broken reload);
# SIGTERM; an unprivileged daemon (setpriv to nobody); kill -9 during installs;
# 20 concurrent container starts (sigward-hook with a state on stdin) during 100
# back-to-back refreshes. Every refusal also shows that the node kept its list:
# `current` unchanged, the status file names the error, the hook still decides.
#
# Needs root (setpriv, nginx), nginx, docker-registry, htpasswd (apache2-utils),
# openssl, jq, python3, setpriv, timeout. Exit 77 when one is missing (a failure
# with SIGWARD_REQUIRE_ALL=1). SIGWARD_BUILD comes from meson. SIGWARD_KEEP=1 keeps
# the temporary directory.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
B=${SIGWARD_BUILD:?SIGWARD_BUILD is the meson build directory}
SWD=$B/daemon/sigwardd
SW=$B/cli/sigward
HOOK=$B/hook/sigward-hook

DF_NAME=sw-daemon
# shellcheck source=tests/integration/daemon-fixtures.sh
. "$HERE/daemon-fixtures.sh"

# ---- servers -----------------------------------------------------------------
mkdir -p www src
dl_start_nginx "$T/www" || { nok "nginx starts over HTTPS on loopback" "$(cat "$T/nginx/error.log")"; exit 1; }
URL=https://127.0.0.1:$NGINX_PORT
REGUSER=sigward-ci REGPASS=pw-$$-$RANDOM
dl_start_registry "$REGUSER" "$REGPASS" || { nok "docker-registry starts with TLS and htpasswd" "$(tail -5 "$REG_LOG")"; exit 1; }
printf '%s:%s\n' "$REGUSER" "$REGPASS" > creds
chmod 600 creds
printf '%s:wrong\n' "$REGUSER" > badcreds
OCI=oci://127.0.0.1:$REG_PORT/sigward/allowlist:test

# ==== HTTPS (nginx) ===========================================================
H=$T/n-https
mklist s1 1 && publish s1
node "$H" "$URL/list/"
once "$H"
GEN1=$(cur "$H")
check "https: a new list is installed (current -> gen-1-*, status installed serial 1)" "$(why "$H")" \
	eval '[ "$RC" = 0 ] && [[ $GEN1 == gen-1-* ]] && [ -f "$H/lists/$GEN1/entries" ] &&
	[ "$(st "$H" .last_result)" = installed ] && [ "$(st "$H" .last_error)" = null ] &&
	[ "$(st "$H" .source)" = "$URL/list/" ] && [ "$(st "$H" .installed.scope)" = test ] && still_enforces "$H" 1 &&
	grep -qx "sigward_allowlist_serial 1" "$H/metrics.prom"'
grep -q "GET /list/entries 200" "$NGINX_LOG" || nok "https: nginx served the list" "$(cat "$NGINX_LOG")"

m=$(logmark "$NGINX_LOG")
once "$H"; r1=$RC
once "$H"; r2=$RC
once "$H"; r3=$RC
new=$(since "$NGINX_LOG" "$m")
check "https: an unchanged list costs one 304 per --once run (3 runs: 3 x 'GET manifest.sig 304', no GET of manifest or entries)" \
	"rcs=$r1$r2$r3 log: $new" eval '[ "$r1$r2$r3" = 000 ] && [ "$(grep -c "^GET /list/manifest.sig 304 0$" <<<"$new")" = 3 ] &&
	[ "$(wc -l <<<"$new")" = 3 ] && [ "$(st "$H" .last_result)" = unchanged ] && [ "$(cur "$H")" = "$GEN1" ]'

mklist s2 2 && publish s2
once "$H"
GEN2=$(cur "$H")
check "https: a newer list (serial 2) is installed after a 200 for manifest.sig" "$(why "$H")" \
	eval '[ "$RC" = 0 ] && [[ $GEN2 == gen-2-* ]] && still_enforces "$H" 2 && no_leftovers "$H"'

# server down: nginx stopped, then started again on the same port
dl_stop_nginx
once "$H"
check "https: server down: the old list is kept, status has last_error naming the URL" "$(why "$H")" \
	eval 'kept "$H" "$GEN2" 2 "127.0.0.1:$NGINX_PORT/list/manifest.sig" && [ "$(st "$H" .consecutive_failures)" = 1 ]'
dl_start_nginx "$T/www" 1 "$NGINX_PORT" || { nok "nginx restarts on port $NGINX_PORT" "$(tail -3 "$T/nginx/error.log")"; exit 1; }
once "$H"
check "https: the server back: unchanged, the error cleared" "$(why "$H")" \
	eval '[ "$RC" = 0 ] && [ "$(st "$H" .last_error)" = null ] && [ "$(st "$H" .consecutive_failures)" = 0 ] && [ "$(cur "$H")" = "$GEN2" ]'

# Damaged lists: each case points the node at another path with the list served
# there; all are newer (serial 3) and correctly signed unless said otherwise.
mklist s3 3
refuse_case() { # CASE PATH NEEDLE [KEY=VALUE...]
	local name=$1 path=$2 needle=$3
	shift 3
	node "$H" "$URL/$path/" "$@"
	once "$H"
	check "https: $name: refused, the old list kept" "$(why "$H")" kept "$H" "$GEN2" 2 "$needle"
}
cp -r src/s3 src/trunc && head -c "$(($(stat -c %s src/s3/entries) / 2))" src/s3/entries > src/trunc/entries
publish trunc trunc
refuse_case "truncated entries file (the error names the source URL, not the private fetch directory)" trunc "$URL/trunc/entries: [0-9]+ bytes, the manifest says"

cp -r src/s3 src/corrupt && "$DL_PY" -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[20] ^= 1; open(p, "wb").write(b)' src/corrupt/entries
publish corrupt corrupt
refuse_case "corrupted entries (one bit flipped)" corrupt "does not match its hash"

cp -r src/s3 src/corruptm && sed -i 's/^serial 3$/serial 4/' src/corruptm/manifest
publish corruptm corruptm
refuse_case "corrupted manifest (serial changed after signing)" corruptm "signature|threshold|trusted key"

mklist big 3 test 7d 20000
publish big big
refuse_case "oversized: a 1.4 MB entries file with max_size = 256 kB" big "larger than max_size" max_size=262144

publish big slow
start=$SECONDS
refuse_case "slow: entries trickled at 256 B/s (nginx limit_rate), timeout = 2s" slow "timeout|too slow|transfer"
took=$((SECONDS - start))
[ "$took" -le 30 ] || nok "https: slow: gave up within 30 s" "took $took s"

# Transport-level truncation: the server announces the full length and closes.
"$DL_PY" "$HERE/daemon-server.py" "$T/pki/server.pem" "$T/pki/server.key" "$T/src/s3" "$T/pyport" 2>"$T/pyserver.log" &
PYPID=$!
DL_PIDS+=("$PYPID")
if wait_for 20 test -s "$T/pyport"; then
	node "$H" "https://127.0.0.1:$(cat "$T/pyport")/"
	once "$H"
	check "https: truncated response (connection closed before Content-Length): refused, the old list kept" \
		"$(why "$H") server: $(tail -3 "$T/pyserver.log")" eval 'kept "$H" "$GEN2" 2 "partial|transfer closed|entries" &&
		grep -q "^GET /entries" "$T/pyserver.log"'
else
	nok "https: truncated response: the Python server started" "$(cat "$T/pyserver.log")"
fi
kill "$PYPID" 2>/dev/null

# Policy refusals on the main path.
node "$H" "$URL/list/"
mklist rogue 5 test 7d 0 rogue && publish rogue
once "$H"
check "https: bad signature (an untrusted key): refused, the old list kept" "$(why "$H")" kept "$H" "$GEN2" 2 "signature|threshold|trusted"
mklist low 1 && publish low
once "$H"
check "https: lower serial (1 < 2): refused as a rollback, the old list kept" "$(why "$H")" kept "$H" "$GEN2" 2 "rollback|older|serial"
mklist prod 6 prod && publish prod
once "$H"
check "https: wrong scope (prod on a test node): refused, the old list kept" "$(why "$H")" kept "$H" "$GEN2" 2 "scope"
mklist expired 7 test 2020-02-01T00:00:00Z && publish expired
once "$H"
check "https: expired list: refused, the old list kept" "$(why "$H")" kept "$H" "$GEN2" 2 "expire"
grep -qx "sigward_refresh_errors_total 1" "$H/metrics.prom" && grep -qx "sigward_refresh_consecutive_failures 1" "$H/metrics.prom" ||
	nok "https: a failed --once run is counted in the metrics" "$(cat "$H/metrics.prom")"

# ==== the running daemon: polling, SIGHUP, SIGTERM ============================
R=$T/n-run
mklist r10 10 && publish r10
node "$R" "$URL/list/"
"$SWD" --config "$R/sigward.conf" 2>"$R/daemon.log" &
DPID=$!
DAEMONS+=("$DPID")
if wait_for 20 eval '[ "$(st "$R" .installed.serial)" = 10 ]'; then
	ok "daemon: installs serial 10 on start"
else
	nok "daemon: installs serial 10 on start" "$(cat "$R/daemon.log")"
fi
m=$(logmark "$NGINX_LOG")
sleep 3.5
new=$(since "$NGINX_LOG" "$m")
n304=$(grep -c "^GET /list/manifest.sig 304 0$" <<<"$new")
check "daemon: polling every 1s an unchanged list costs only 304s ($n304 in 3.5 s, nothing else requested)" "log: $new" \
	eval '[ "$n304" -ge 2 ] && [ "$(grep -vc "^GET /list/manifest.sig 304 0$" <<<"$new")" = 0 ] &&
	[ "$(st "$R" .last_result)" = unchanged ] && [ "$(st "$R" .next_attempt)" != null ]'
mklist r11 11 && publish r11
check "daemon: a newly published list (serial 11) is installed by the next poll" "$(cat "$R/status.json") $(tail -3 "$R/daemon.log")" \
	wait_for 20 eval '[ "$(st "$R" .installed.serial)" = 11 ]'

# SIGHUP: the source moves to the registry (a newer list pushed there).
mklist r12 12
if PD=$("$SW" allowlist push --ca-file pki/ca.pem --credentials creds src/r12 "$OCI" 2>push.err) && [[ $PD == sha256:* ]]; then
	ok "push: sigward allowlist push uploads a list to docker-registry (TLS, Basic auth) and prints its digest"
else
	nok "push: sigward allowlist push uploads a list to docker-registry" "$(cat push.err)"
fi
printf 'credentials = %s\n' "$T/creds" >> "$R/sigward.conf"
sed -i "s#^source = .*#source = $OCI#" "$R/sigward.conf"
kill -HUP "$DPID"
check "daemon: SIGHUP reloads the configuration (new source: the registry; serial 12 installed)" \
	"$(cat "$R/status.json") $(tail -3 "$R/daemon.log")" \
	eval 'wait_for 20 eval "[ \"\$(st \"$R\" .installed.serial)\" = 12 ] && [ \"\$(st \"$R\" .source)\" = \"$OCI\" ]" &&
	grep -q "configuration reloaded" "$R/daemon.log"'
cp "$R/sigward.conf" "$R/good.conf"
echo "no_such_key = 1" >> "$R/sigward.conf"
kill -HUP "$DPID"
check "daemon: a broken configuration on SIGHUP is refused, the daemon keeps running and polling" "$(tail -3 "$R/daemon.log")" \
	eval 'wait_for 10 grep -q "reload failed, keeping the running configuration: .*no_such_key" "$R/daemon.log" && sleep 1.5 &&
	kill -0 "$DPID" && [ "$(st "$R" .source)" = "$OCI" ] && [ "$(st "$R" .last_error)" = null ]'
cp "$R/good.conf" "$R/sigward.conf"
kill -TERM "$DPID"
wait_for 10 eval '! kill -0 "$DPID" 2>/dev/null'
wait "$DPID"
drc=$?
check "daemon: SIGTERM exits cleanly (status 0, no staging leftovers)" "rc=$drc $(tail -3 "$R/daemon.log")" \
	eval '[ "$drc" = 0 ] && grep -q "exiting on signal 15" "$R/daemon.log" && no_leftovers "$R"'

# Backoff: a source that refuses connections, interval 60s: retries after 5 s, then
# 10 s (next_attempt is counted from the end of an attempt, last_attempt from its
# start, and both are whole seconds: a gap may read one second more).
BO=$T/n-backoff
node "$BO" "https://127.0.0.1:$(dl_free_port)/list/" interval=60s
"$SWD" --config "$BO/sigward.conf" 2>"$BO/daemon.log" &
BPID=$!
DAEMONS+=("$BPID")
gap() { echo $(($(date -d "$(st "$BO" .next_attempt)" +%s) - $(date -d "$(st "$BO" .last_attempt)" +%s))); }
wait_for 10 eval '[ "$(st "$BO" .consecutive_failures)" = 1 ]'
g1=$(gap)
wait_for 15 eval '[ "$(st "$BO" .consecutive_failures)" = 2 ]'
g2=$(gap)
check "daemon: exponential backoff on failure (next attempt after 5 s, then 10 s; interval 60s), last_error in the status" \
	"gaps=$g1,$g2 $(cat "$BO/status.json")" eval '[ "$g1" -ge 5 ] && [ "$g1" -le 6 ] && [ "$g2" -ge 10 ] && [ "$g2" -le 11 ] && [ "$(st "$BO" .last_result)" = failed ] &&
	st "$BO" .last_error | grep -q "127.0.0.1" && grep -qx "sigward_refresh_consecutive_failures 2" "$BO/metrics.prom"'
kill -TERM "$BPID"
wait "$BPID" 2>/dev/null

# ==== OCI registry ============================================================
O=$T/n-oci
mklist o1 1
"$SW" allowlist push --ca-file pki/ca.pem --credentials creds src/o1 "$OCI" >/dev/null 2>push.err ||
	nok "oci: push serial 1" "$(cat push.err)"
node "$O" "$OCI" credentials="$T/creds"
m=$(logmark "$REG_LOG")
once "$O"
OGEN1=$(cur "$O")
new=$(since "$REG_LOG" "$m" | grep '^127\.0\.0\.1 ')
check "oci: a new list is installed from the registry (three blobs fetched, Basic auth)" "$(why "$O") log: $new" \
	eval '[ "$RC" = 0 ] && [[ $OGEN1 == gen-1-* ]] && still_enforces "$O" 1 &&
	[ "$(grep -c "\"GET /v2/sigward/allowlist/blobs/sha256:[0-9a-f]* HTTP/[0-9.]*\" 200" <<<"$new")" = 3 ]'
m=$(logmark "$REG_LOG")
once "$O"; r1=$RC
once "$O"; r2=$RC
new=$(since "$REG_LOG" "$m" | grep '^127\.0\.0\.1 ')
check "oci: an unchanged list costs a HEAD of the manifest and no GET (2 --once runs)" "rcs=$r1$r2 log: $new" \
	eval '[ "$r1$r2" = 00 ] && [ "$(grep -c "\"HEAD /v2/sigward/allowlist/manifests/test HTTP/[0-9.]*\" 200" <<<"$new")" = 2 ] &&
	! grep -q "\"GET " <<<"$new" && [ "$(st "$O" .last_result)" = unchanged ]'

node "$O" "$OCI" credentials="$T/badcreds"
once "$O"
check "oci: wrong registry credentials: refused (401), the old list kept" "$(why "$O")" kept "$O" "$OGEN1" 1 "401|credential|auth"

mklist o2 2
"$SW" allowlist push --ca-file pki/ca.pem --credentials creds src/o2 "$OCI" >/dev/null 2>push.err ||
	nok "oci: push serial 2" "$(cat push.err)"
EHEX=$(sha256sum src/o2/entries | cut -c1-64)
BLOB=$REG_DATA/docker/registry/v2/blobs/sha256/${EHEX:0:2}/$EHEX/data
cp "$BLOB" blob.orig
node "$O" "$OCI" credentials="$T/creds"
"$DL_PY" -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[10] ^= 1; open(p, "wb").write(b)' "$BLOB"
once "$O"
check "oci: a corrupted blob in the registry's storage: refused (digest mismatch), the old list kept" "$(why "$O")" \
	kept "$O" "$OGEN1" 1 "does not match its digest"
head -c 40 blob.orig > "$BLOB"
once "$O"
check "oci: a truncated blob in the registry's storage: refused, the old list kept" "$(why "$O")" \
	kept "$O" "$OGEN1" 1 "does not match its digest|partial|blob"
cp blob.orig "$BLOB"
node "$O" "$OCI" credentials="$T/creds" max_size=100
once "$O"
check "oci: oversized: a layer larger than max_size is refused before it is requested, the old list kept" "$(why "$O")" \
	kept "$O" "$OGEN1" 1 "not a valid allowlist file|max_size"
node "$O" "$OCI" credentials="$T/creds"
once "$O"
check "oci: the repaired blob: serial 2 is installed" "$(why "$O")" eval '[ "$RC" = 0 ] && [[ $(cur "$O") == gen-2-* ]] && still_enforces "$O" 2'

# ==== an unprivileged daemon ==================================================
U=$T/n-nobody
node "$U" "$URL/list/" status_file="$U/run/status.json" metrics_file="$U/run/metrics.prom"
mkdir -p "$U/run"
chown nobody:"$NOGROUP" "$U/lists" "$U/run"
chown root:root "$U/state" && chmod 700 "$U/state"
publish s2
OUT=$(cd / && timeout 60 setpriv --reuid=nobody --regid="$NOGROUP" --clear-groups "$SWD" --config "$U/sigward.conf" --once 2>&1)
RC=$?
UG=$(readlink "$U/lists/current")
check "unprivileged: sigwardd as nobody installs the list (generation owned by nobody, the root-only state dir untouched)" \
	"rc=$RC $OUT $(cat "$U/run/status.json" 2>/dev/null)" \
	eval '[ "$RC" = 0 ] && [[ $UG == gen-2-* ]] && [ "$(stat -c %U "$U/lists/$UG")" = nobody ] &&
	[ "$(stat -c %U "$U/lists/$UG/entries")" = nobody ] && [ -z "$(ls -A "$U/state")" ] &&
	[ "$(jq -r .installed.serial "$U/run/status.json")" = 2 ]'
decide "$U" bgood; g=$HRC
decide "$U" bbad
check "unprivileged: the hook (root) accepts what the unprivileged daemon installed" "good=$g bad=$HRC $HOUT" \
	eval '[ "$g" = 0 ] && [ "$HRC" = 1 ]'

# ==== kill -9 during installs =================================================
K=$T/n-kill
mklist kbase 1 && mklist kbig 2 test 7d 300000
node "$K" "file://$T/src/kbase" max_size=67108864
once "$K"
KBASE=$(cur "$K")
cp -a "$K/lists" "$K/lists.base"
sed -i "s#^source = .*#source = file://$T/src/kbig#" "$K/sigward.conf"
s=$(date +%s%N)
once "$K"
dur_ms=$((($(date +%s%N) - s) / 1000000))
[ "$RC" = 0 ] || nok "kill -9: a clean install of the 300 000-entry list" "$(why "$K")"
killed=0 old=0 newer=0 bad=()
for i in $(seq 1 20); do
	rm -rf "$K/lists" && cp -a "$K/lists.base" "$K/lists"
	"$SWD" --config "$K/sigward.conf" --once >/dev/null 2>&1 &
	p=$!
	d=$(((RANDOM * 32768 + RANDOM) % (dur_ms * 9 / 10 + 1)))
	sleep "$((d / 1000)).$(printf %03d $((d % 1000)))"
	kill -KILL "$p" 2>/dev/null && killed=$((killed + 1))
	wait "$p" 2>/dev/null
	c=$(cur "$K")
	# `current` must be a symlink to a complete generation that verifies in full.
	if [ -L "$K/lists/current" ] && [[ $c == gen-* ]] && "$SW" check --config "$K/sigward.conf" --bundle "$T/bgood" >"$K/check.out" 2>&1; then
		if [ "$c" = "$KBASE" ]; then old=$((old + 1)); else newer=$((newer + 1)); fi
	else
		bad+=("iteration $i: current=$c $(tr '\n' ' ' < "$K/check.out")")
	fi
done
check "kill -9 at a random moment of 20 installs of a 300 000-entry list (${dur_ms} ms each; $killed killed): current is always a complete valid generation ($old old, $newer new)" \
	"${bad[*]:-}" eval '[ ${#bad[@]} = 0 ] && [ "$killed" -ge 5 ]'
# Crash leftovers: a few kills without restoring, then a clean run cleans up.
for i in 1 2 3; do
	rm -rf "$K/lists" && cp -a "$K/lists.base" "$K/lists"
	"$SWD" --config "$K/sigward.conf" --once >/dev/null 2>&1 &
	p=$!
	d=$((dur_ms * 4 / 10))
	sleep "$((d / 1000)).$(printf %03d $((d % 1000)))"
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
done
once "$K"
check "kill -9: the next run installs the list and leaves no staging leftovers" "$(why "$K") $(ls -A "$K/lists" "$K/lists/.staging")" \
	eval '[ "$RC" = 0 ] && [[ $(cur "$K") == gen-2-* ]] && no_leftovers "$K"'

# ==== 20 concurrent container starts during 100 back-to-back refreshes ========
Q=$T/n-conc
# 101 lists (serials 1..101), alternating two shapes; every one lists the good image.
for i in $(seq 0 100); do mklist "q$i" $((i + 1)) test 7d $((i % 2 ? 50 : 200)) || break; done
publish q0
node "$Q" "$URL/list/"
once "$Q"
[ "$RC" = 0 ] || nok "concurrency: the first list is installed" "$(why "$Q")"
rm -f stop
# burster: until ./stop exists, 20 container starts at once (10 of the good image,
# 10 of the bad one), then a short pause.
burster() {
	local round=0 w
	while [ ! -e "$T/stop" ]; do
		round=$((round + 1))
		for w in $(seq 1 20); do
			(
				b=bgood
				[ $((w % 2)) = 0 ] && b=bbad
				out=$(printf '{"ociVersion":"1.0.2","id":"w%s-%d","status":"creating","pid":1,"bundle":"%s"}' "$w" "$round" "$T/$b" |
					"$HOOK" --config "$Q/sigward.conf" 2>&1)
				printf '%s %s %s\n' "$b" "$?" "$(tr '\n' ' ' <<<"$out")" >> "$Q/res.$w"
			) &
		done
		wait
		sleep 0.2
	done
}
burster &
WORKERS+=($!)
rfail=()
for i in $(seq 1 100); do
	publish "q$i"
	once "$Q"
	[ "$RC" = 0 ] && [ "$(st "$Q" .installed.serial)" = $((i + 1)) ] || rfail+=("refresh $i: $(why "$Q")")
done
touch stop
for p in "${WORKERS[@]}"; do wait "$p"; done
WORKERS=()
cat "$Q"/res.* > "$Q/all"
total=$(wc -l < "$Q/all")
ngood=$(grep -c '^bgood ' "$Q/all")
nbad=$(grep -c '^bbad ' "$Q/all")
gok=$(grep -c '^bgood 0 *$' "$Q/all")
bdeny=$(grep -cE '^bbad 1 sigward: denied container w[0-9]+-[0-9]+: ' "$Q/all")
bwhy=$(grep -cE '^bbad 1 sigward: denied container w[0-9]+-[0-9]+: image '"$BAD"' is not in allowlist test#[0-9]+ $' "$Q/all")
check "concurrency: 100 back-to-back refreshes (serials 2..101) all installed while bursts of 20 concurrent container starts ran" \
	"${rfail[*]:0:3}" eval '[ ${#rfail[@]} = 0 ]'
check "concurrency: every start of the listed image was allowed ($gok of $ngood; $total starts in all)" \
	"$(grep -v '^bgood 0 *$' "$Q/all" | grep '^bgood' | head -3)" eval '[ "$total" -ge 200 ] && [ "$gok" = "$ngood" ]'
check "concurrency: every start of the unlisted image was denied ($bdeny of $nbad)" \
	"$(grep '^bbad' "$Q/all" | grep -vE '^bbad 1 sigward: denied container' | head -3)" eval '[ "$bdeny" = "$nbad" ]'
check "concurrency: every denial gave the right reason, 'not in allowlist test#N' ($bwhy of $nbad)" \
	"$(grep '^bbad' "$Q/all" | grep -v "is not in allowlist test#[0-9]* *\$" | head -3)" eval '[ "$bwhy" = "$nbad" ]'

echo "daemon: $pass passed, $fail failed"
[ "$fail" = 0 ]
