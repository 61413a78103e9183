# SPDX-License-Identifier: Apache-2.0
# The harness daemon.sh and daemon-auth.sh share: TAP-style results, the tools
# they need, a private temporary directory (removed by the EXIT trap), a CA and a
# signing key, list building and publishing, a node's configuration, and the
# checks that a refused refresh left the node's list and enforcement intact.
# Source it after setting HERE, SWD, SW, HOOK and DF_NAME (the temp dir's prefix).
pass=0 fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
nok() {
	echo "not ok - $1"
	shift
	local l
	for l in "$@"; do [ -n "$l" ] && printf '#   %s\n' "$l"; done
	fail=$((fail + 1))
}
check() { # CASE DETAIL COMMAND...: ok when COMMAND succeeds
	local name=$1 detail=$2
	shift 2
	if "$@"; then ok "$name"; else nok "$name" "$detail"; fi
}
skip() {
	echo "SKIP: $1"
	[ "${SIGWARD_REQUIRE_ALL:-}" = 1 ] && exit 1
	exit 77
}
[ "$(id -u)" = 0 ] || skip "needs root (setpriv, nginx)"
for t in nginx docker-registry htpasswd openssl jq python3 setpriv timeout base64 sha256sum; do
	command -v "$t" >/dev/null || skip "$t not installed"
done
for b in "$SWD" "$SW" "$HOOK"; do [ -x "$b" ] || skip "not built: $b"; done
getent passwd nobody >/dev/null || skip "no user nobody"
NOGROUP=$(id -gn nobody)

T=$(mktemp -d "/tmp/${DF_NAME:-sw-daemon}.XXXXXX")
chmod 755 "$T" # nginx workers and the unprivileged daemon read below it
# shellcheck source=tests/integration/daemon-lib.sh
. "$HERE/daemon-lib.sh"
DAEMONS=() WORKERS=()
cleanup() {
	local p
	for p in "${WORKERS[@]}" "${DAEMONS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	for p in "${WORKERS[@]}" "${DAEMONS[@]}"; do wait "$p" 2>/dev/null; done
	dl_stop_all
	if [ "${SIGWARD_KEEP:-}" = 1 ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$T" || exit 1

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds; 1 on timeout.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.2
	done
}

# ---- fixtures ----------------------------------------------------------------
dl_make_pki || { nok "a throwaway CA and a server certificate for 127.0.0.1"; exit 1; }
mkdir -p keys
openssl genpkey -algorithm ed25519 -out k1.key 2>/dev/null && openssl pkey -in k1.key -pubout -out keys/k1.pub
openssl genpkey -algorithm ed25519 -out rogue.key 2>/dev/null
chmod -R a+rX keys pki

hexof() { printf '%s' "$1" | sha256sum | cut -c1-64; }
GOOD=sha256:$(hexof good-image)
BAD=sha256:$(hexof bad-image)
# fill N: N filler digests, one per line (cached)
fill() {
	[ -f "fill-$1" ] || "$DL_PY" -c 'import hashlib, sys
sys.stdout.write("".join("sha256:%s\n" % hashlib.sha256(b"fill-%d" % i).hexdigest() for i in range(int(sys.argv[1]))))' "$1" > "fill-$1"
	cat "fill-$1"
}
# mklist NAME SERIAL [SCOPE] [EXPIRES] [FILL] [KEY]: a signed list in src/NAME
mklist() {
	local name=$1 serial=$2 scope=${3:-test} exp=${4:-7d} n=${5:-0} key=${6:-k1} issued=()
	case $exp in 20*) issued=(--issued 2020-01-01T00:00:00Z) ;; esac
	rm -rf "src/$name"
	{ echo "$GOOD"; [ "$n" = 0 ] || fill "$n"; } | "$SW" allowlist build --scope "$scope" --serial "$serial" \
		--expires "$exp" "${issued[@]}" --out "src/$name" 2>/dev/null || { echo "mklist $name failed" >&2; return 1; }
	openssl pkeyutl -sign -inkey "$key.key" -rawin -in "src/$name/manifest" | base64 -w0 > "src/$name/manifest.sig"
	echo >> "src/$name/manifest.sig"
}
# publish NAME [PATH]: www/PATH serves src/NAME, switched atomically (a symlink
# renamed over the old one), each publication with its own mtime so that nginx's
# ETag (mtime and size) changes even for same-sized files.
PUBN=0
T0=$(($(date +%s) - 100000))
publish() {
	local name=$1 path=${2:-list}
	PUBN=$((PUBN + 1))
	rm -rf "www/.pub-$PUBN" && cp -r "src/$name" "www/.pub-$PUBN" || return 1
	touch -d "@$((T0 + PUBN))" "www/.pub-$PUBN"/*
	chmod -R a+rX "www/.pub-$PUBN"
	ln -sfn ".pub-$PUBN" "www/.new-$path" && mv -T "www/.new-$path" "www/$path"
}

# Bundles whose config.json names the image by digest (containerd's CRI annotation).
mkbundle() { # DIR DIGEST
	mkdir -p "$1"
	printf '{"ociVersion":"1.0.2","annotations":{"io.kubernetes.cri.image-name":"localhost/img@%s"}}\n' "$2" > "$1/config.json"
}
mkbundle bgood "$GOOD"
mkbundle bbad "$BAD"

# node DIR SOURCE [KEY=VALUE...]: a node's configuration and directories; extra
# [refresh] keys are appended (a later key wins).
node() {
	local dir=$1 src=$2
	shift 2
	mkdir -p "$dir/lists" "$dir/state"
	chmod 700 "$dir/state"
	cat > "$dir/sigward.conf" <<EOF
[sigward]
scope = test
keys_dir = $T/keys
lists_dir = $dir/lists
state_dir = $dir/state
log_file = $dir/decisions.jsonl
syslog = no
[resolve]
annotations = io.kubernetes.cri.image-name
containers_storage = no
docker = no
containerd = no
[refresh]
source = $src
ca_file = $T/pki/ca.pem
interval = 1s
jitter = 0
timeout = 2s
max_size = 8388608
staging_dir = $dir/lists/.staging
status_file = $dir/status.json
metrics_file = $dir/metrics.prom
EOF
	local kv
	for kv in "$@"; do printf '%s = %s\n' "${kv%%=*}" "${kv#*=}" >> "$dir/sigward.conf"; done
	chmod 644 "$dir/sigward.conf"
}
# once DIR [TIMEOUT]: sigwardd --once -> RC, OUT
once() {
	OUT=$(timeout "${2:-60}" "$SWD" --config "$1/sigward.conf" --once 2>&1)
	RC=$?
}
# nginx and docker-registry write a request's access-log line once the response
# is complete, so the line can trail the client's exit: wait until the servers'
# logs stop growing (unchanged over two 0.1 s samples, at most 5 s).
settle_logs() {
	local prev='' now i=0 same=0
	while [ $same -lt 2 ] && [ $i -lt 50 ]; do
		now=$(stat -c %s ${NGINX_LOG:+"$NGINX_LOG"} ${REG_LOG:+"$REG_LOG"} 2>/dev/null | tr '\n' ' ')
		if [ "$now" = "$prev" ]; then same=$((same + 1)); else same=0; fi
		prev=$now
		i=$((i + 1))
		sleep 0.1
	done
}
cur() { readlink "$1/lists/current" 2>/dev/null; }
st() { jq -r "$2" "$1/status.json" 2>/dev/null; }
# decide DIR BUNDLE -> HRC, HOUT: the hook as a runtime runs it
NSTART=0
decide() {
	NSTART=$((NSTART + 1))
	HOUT=$(printf '{"ociVersion":"1.0.2","id":"c%d","status":"creating","pid":1,"bundle":"%s"}' "$NSTART" "$T/$2" |
		"$HOOK" --config "$1/sigward.conf" 2>&1)
	HRC=$?
}
# still_enforces DIR SERIAL: the installed list is test#SERIAL and the hook allows
# the good image and denies the bad one with it.
still_enforces() {
	decide "$1" bgood
	local g=$HRC
	decide "$1" bbad
	[ "$g" = 0 ] && [ "$HRC" = 1 ] && grep -q "is not in allowlist test#$2\$" <<<"$HOUT" &&
		[ "$(st "$1" .installed.serial)" = "$2" ]
}
# kept DIR GEN SERIAL NEEDLE: a refused refresh: exit 1, `current` still GEN, the
# status file names the error (NEEDLE), the node still enforces SERIAL.
kept() {
	[ "$RC" = 1 ] && [ "$(cur "$1")" = "$2" ] && [ "$(st "$1" .last_result)" = failed ] &&
		st "$1" .last_error | grep -qiE -- "$4" && still_enforces "$1" "$3"
}
# no_leftovers DIR: no fetch directory in staging_dir, no installer staging copy
no_leftovers() {
	! ls -A "$1/lists/.staging" | grep -v '^fetch-state$' | grep -q '^fetch-' && ! ls -A "$1/lists" | grep -q '^\.staging-\|^\.current'
}
why() { echo "rc=$RC current=$(cur "$1") status=$(cat "$1/status.json" 2>/dev/null) out=$(tail -c 400 <<<"$OUT")"; }
logmark() { wc -l < "$1"; }
# since FILE MARK: the lines after MARK, once the servers' logs have settled. The
# scripts run with pipefail and checks read this through `grep -q`, which exits at
# the first match: tail's SIGPIPE on a long log must not turn a match into a miss.
since() {
	settle_logs
	tail -n +"$(($2 + 1))" "$1" || true
}
