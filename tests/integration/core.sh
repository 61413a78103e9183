#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The enforcement core on a real runtime: core.sh runc|crun
# Every case starts a real container whose prestart (or createRuntime) hook is the
# built sigward-hook, and checks what the runtime did and what sigward recorded.
# crun discards a hook's stderr unless the bundle's annotation run.oci.hooks.stderr
# names a file, so crun bundles set it to /dev/stderr (docs/runtimes.md).
set -uo pipefail
RT=${1:?usage: core.sh runc|crun}
B=${SIGWARD_BUILD:?}
HOOK=$B/hook/sigward-hook
SW=$B/cli/sigward
pass=0 fail=0
ok() { echo "ok - $RT: $1"; pass=$((pass + 1)); }
nok() { echo "not ok - $RT: $1${2:+: $2}"; fail=$((fail + 1)); }
skip() {
	echo "SKIP: $1"
	[ "${SIGWARD_REQUIRE_ALL:-}" = 1 ] && exit 1
	exit 77
}
[ "$(id -u)" = 0 ] || skip "runtimes need root"
for t in "$RT" umoci jq openssl unshare timeout; do command -v "$t" >/dev/null || skip "$t not installed"; done
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] || skip "busybox not installed"
[ -x "$HOOK" ] && [ -x "$SW" ] || skip "build first: $HOOK"

T=$(mktemp -d /tmp/sw-core.XXXXXX)
N=0
IDS=()
cleanup() {
	for id in "${IDS[@]}"; do
		if [ "$RT" = runc ]; then runc --root "$T/rt" delete --force "$id" >/dev/null 2>&1
		else crun --root "$T/rt" delete --force "$id" >/dev/null 2>&1; fi
	done
	rm -rf "$T"
}
trap cleanup EXIT
cd "$T"

# ---- fixtures: two images, keys of every type --------------------------------
umoci init --layout img >/dev/null && umoci new --image img:base >/dev/null
mkimg() {
	umoci unpack --image img:base "u-$1" >/dev/null
	mkdir -p "u-$1/rootfs/bin" && cp "$BUSYBOX" "u-$1/rootfs/bin/busybox"
	for t in sh echo cat true; do ln -sf busybox "u-$1/rootfs/bin/$t"; done
	echo "$1" > "u-$1/rootfs/which"
	umoci repack --image "img:$1" "u-$1" >/dev/null
	umoci unpack --image "img:$1" "bundle-$1" >/dev/null
}
mkimg signed && mkimg unsigned
dg() { jq -r --arg t "$1" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' img/index.json; }
GOOD=$(dg signed)
BAD=$(dg unsigned)

mkdir -p keys other lists-src
keygen() { # NAME ALG DIR
	case $2 in
	ed25519) openssl genpkey -algorithm ed25519 -out "$1.key" 2>/dev/null ;;
	p256) openssl ecparam -genkey -name prime256v1 -noout -out "$1.key" ;;
	p384) openssl ecparam -genkey -name secp384r1 -noout -out "$1.key" ;;
	rsa*) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$1.key" 2>/dev/null ;;
	esac
	openssl pkey -in "$1.key" -pubout -out "$3/$1.pub"
}
keygen k1 ed25519 keys
keygen k2 p256 keys
keygen k3 p384 keys
keygen k4 rsa keys
keygen rogue ed25519 other
# A key's id: hex SHA-256 of its DER SubjectPublicKeyInfo (PRODUCT.md).
keyid() { openssl pkey -pubin -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }

sign() { # LISTDIR KEY [pss]
	case $2 in
	k1 | rogue) openssl pkeyutl -sign -inkey "$2.key" -rawin -in "$1/manifest" | base64 -w0 >> "$1/manifest.sig" ;;
	*) openssl dgst -sha256 ${3:+-sigopt rsa_padding_mode:pss} -sign "$2.key" "$1/manifest" | base64 -w0 >> "$1/manifest.sig" ;;
	esac
	echo >> "$1/manifest.sig"
}
# mklist NAME SCOPE SERIAL EXPIRES DIGEST... -> $T/lists-src/NAME (unsigned)
mklist() {
	local name=$1 scope=$2 serial=$3 exp=$4; shift 4
	local issued=()
	# A dated expiry in the past needs an issue time before it.
	case $exp in 20*) issued=(--issued 2020-01-01T00:00:00Z) ;; esac
	printf '%s\n' "$@" | "$SW" allowlist build --scope "$scope" --serial "$serial" --expires "$exp" \
		"${issued[@]}" --out "lists-src/$name" 2>&1 | grep -v "already expired" >&2
}
# Each case gets its own node state: lists, state, log.
node() { # [mode] [threshold] [grace] [keys_dir]
	N=$((N + 1))
	NODE=$T/node$N
	mkdir -p "$NODE/lists" "$NODE/state"
	cat > "$NODE/sigward.conf" <<CONF
[sigward]
mode = ${1:-enforce}
scope = test
threshold = ${2:-1}
keys_dir = ${4:-$T/keys}
lists_dir = $NODE/lists
state_dir = $NODE/state
grace = ${3:-0}
log_file = $NODE/decisions.jsonl
syslog = no
[resolve]
annotations = io.kubernetes.cri-o.ImageRef io.kubernetes.cri.image-name
containers_storage = no
docker = no
containerd = no
CONF
}
install_list() { # NAME
	rm -rf "$NODE/lists/gen-$1"
	cp -r "lists-src/$1" "$NODE/lists/gen-$1"
	ln -sfn "gen-$1" "$NODE/lists/current.tmp" && mv -T "$NODE/lists/current.tmp" "$NODE/lists/current"
}
# bundle NAME IMAGE [ANNOTATIONS_JSON] [STAGE]
bundle() {
	local dir=$T/b-$1
	rm -rf "$dir" && cp -r "bundle-$2" "$dir"
	jq --arg hook "$HOOK" --arg conf "$NODE/sigward.conf" --argjson ann "${3:-{\}}" --arg stage "${4:-prestart}" '
		.process.terminal = false | .process.args = ["/bin/cat", "/which"] |
		.annotations = ((.annotations // {}) + $ann) |
		.hooks = {($stage): [{path: $hook, args: ["sigward-hook", "--config", $conf]}]} |
		if $ENV.RT == "crun" then .linux.cgroupsPath = "" |
			.annotations["run.oci.hooks.stderr"] = "/dev/stderr" else . end' \
		"$dir/config.json" > "$dir/c.json" && mv "$dir/c.json" "$dir/config.json"
	# The mount points exist up front: crun creates missing ones in the rootfs, and
	# concurrent containers of one bundle then race on that mkdir ("cannot mkdir
	# `proc`: File exists", seen in CI), a failure of the test, not of sigward.
	mkdir -p "$dir/rootfs/proc" "$dir/rootfs/dev" "$dir/rootfs/sys"
	BUNDLE=$dir
}
export RT
ann() { printf '{"io.kubernetes.cri.image-name":"localhost/img@%s"}' "$1"; }
# start BUNDLE -> OUT, RC
start() {
	local id="sw-$RT-$$-$N-$RANDOM"
	IDS+=("$id")
	if [ "$RT" = runc ]; then
		OUT=$(timeout 60 runc --root "$T/rt" run -b "$1" "$id" 2>&1)
		RC=$?
	else
		OUT=$(timeout 60 unshare -m sh -c 'umount -l /sys/fs/cgroup 2>/dev/null; mount -t cgroup2 none /sys/fs/cgroup &&
			exec crun --cgroup-manager=disabled --root "$1" run -b "$2" "$3"' sh "$T/rt" "$1" "$id" 2>&1)
		RC=$?
	fi
	LASTID=$id
}
expect_run() { # CASE
	# The container's output line (a warn-mode hook may add its warning line).
	if [ "$RC" = 0 ] && grep -qx "${2:-signed}" <<<"$OUT"; then ok "$1"; else nok "$1" "rc=$RC $(echo "$OUT" | tail -2)"; fi
}
expect_refused() { # CASE NEEDLE
	if [ "$RC" != 0 ] && grep -qF "sigward: denied container $LASTID: " <<<"$OUT" && grep -qF -- "$2" <<<"$OUT" &&
		! grep -qx signed <<<"$OUT" && ! grep -qx unsigned <<<"$OUT"; then
		ok "$1"
	else
		nok "$1" "rc=$RC $(echo "$OUT" | tail -2)"
	fi
}

# ---- cases -------------------------------------------------------------------
mklist base test 1 1d "$GOOD"
sign lists-src/base k1

node; install_list base
bundle good signed "$(ann "$GOOD")"; start "$BUNDLE"; expect_run "a listed image starts and its command runs"
bundle bad unsigned "$(ann "$BAD")"; start "$BUNDLE"
expect_refused "an unlisted digest is refused, the reason in the runtime's error" "image $BAD is not in allowlist test#1"
last=$(tail -1 "$NODE/decisions.jsonl")
[ "$(jq -r .decision <<<"$last")" = deny ] && [ "$(jq -r .container <<<"$last")" = "$LASTID" ] &&
	[ "$(jq -r '.digests[0].digest' <<<"$last")" = "$BAD" ] && ok "the refusal is in the decision log" || nok "the refusal is in the decision log" "$last"
# The allow record names what was decided on and by whom; the next one chains to it.
first=$(sed -n 1p "$NODE/decisions.jsonl")
if jq -e --arg d "$GOOD" --arg k "$(keyid keys/k1.pub)" --arg b "$T/b-good" '
	.decision == "allow" and .mode == "enforce" and .matched == $d and .digests[0].digest == $d and
	.digests[0].source == "annotation:io.kubernetes.cri.image-name" and .bundle == $b and
	.allowlist == {scope: "test", serial: 1} and .signers == [$k] and
	.prev == ("0" * 64) and (.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$")) and (.container | startswith("sw-"))' \
	<<<"$first" >/dev/null; then
	ok "the allow record has the digest, list, signer, mode and time"
else
	nok "the allow record has the digest, list, signer, mode and time" "$first"
fi
[ "$(jq -r .prev <<<"$last")" = "$(printf %s "$first" | sha256sum | cut -d' ' -f1)" ] &&
	[ "$(wc -l < "$NODE/decisions.jsonl")" = 2 ] &&
	ok "each record carries the hash of the previous line" || nok "each record carries the hash of the previous line" "$last"

node; install_list base
bundle cr signed "$(ann "$GOOD")" createRuntime; start "$BUNDLE"; expect_run "works as a createRuntime hook"
bundle crbad unsigned "$(ann "$BAD")" createRuntime; start "$BUNDLE"; expect_refused "refuses as a createRuntime hook" "is not in allowlist"

# Tampering: a flipped byte in each file of the installed generation.
flip() { # FILE OFFSET
	local b
	b=$(od -An -tx1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\x%02x' $((0x$b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
for f in manifest entries manifest.sig; do
	node; install_list base
	case $f in
	manifest) sed -i 's/^serial 1$/serial 3/' "$NODE/lists/gen-base/manifest" ;;
	entries) flip "$NODE/lists/gen-base/entries" 20 ;;
	manifest.sig) c=$(head -c 12 "$NODE/lists/gen-base/manifest.sig" | tail -c 1); r=A; [ "$c" = A ] && r=B
		sed -i "1s/^\(.\{11\}\)./\1$r/" "$NODE/lists/gen-base/manifest.sig" ;;
	esac
	# The reason, so that a refusal for another cause (say, the changed entry no
	# longer matching) cannot pass for the integrity check.
	case $f in
	entries) why="entries: bin 0 does not match its hash in the signed manifest" ;;
	*) why="0 valid signatures by trusted keys, 1 required" ;;
	esac
	cmp -s "$NODE/lists/gen-base/$f" "lists-src/base/$f" && nok "the $f was changed"
	bundle t signed "$(ann "$GOOD")"; start "$BUNDLE"; expect_refused "a changed byte in $f is refused" "image $GOOD: "
	grep -qF "$why" <<<"$OUT" && ok "a changed $f is refused for its integrity: $why" || nok "a changed $f is refused for its integrity" "$(echo "$OUT" | tail -1)"
done

mklist byrogue test 1 1d "$GOOD" "$BAD"; sign lists-src/byrogue rogue
node; install_list byrogue
bundle r unsigned "$(ann "$BAD")"; start "$BUNDLE"; expect_refused "a list signed by an untrusted key is refused" "0 valid signatures"

mklist two test 1 1d "$GOOD"; sign lists-src/two k2
node enforce 2; install_list two
bundle t2 signed "$(ann "$GOOD")"; start "$BUNDLE"; expect_refused "threshold 2 with one signature is refused" "1 valid signature by trusted keys, 2 required"
sign lists-src/two k3; install_list two
bundle t2 signed "$(ann "$GOOD")"; start "$BUNDLE"; expect_run "threshold 2 with two signatures starts"
# Threshold counts distinct keys: one key signing twice is still one signer; one
# key trusted under two file names is a broken key set, refused as a whole.
mklist dup test 1 1d "$GOOD"; sign lists-src/dup k2; sign lists-src/dup k2
mkdir -p keys-dup && cp keys/k2.pub keys-dup/k2.pub && cp keys/k2.pub keys-dup/k2-again.pub && cp keys/k3.pub keys-dup/
[ "$(sort -u lists-src/dup/manifest.sig | wc -l)" = 2 ] || nok "two different ECDSA signature lines"
node enforce 2 0 "$T/keys"; install_list dup
bundle t2 signed "$(ann "$GOOD")"; start "$BUNDLE"
expect_refused "threshold 2, one key signing twice is refused" "1 valid signature by trusted keys, 2 required"
node enforce 2 0 "$T/keys-dup"; install_list dup
bundle t2 signed "$(ann "$GOOD")"; start "$BUNDLE"
expect_refused "threshold 2, one key trusted under two names is refused" "keys-dup/k2-again.pub and $T/keys-dup/k2.pub hold the same key"

mklist expired test 1 2021-01-01T00:00:00Z "$GOOD"; sign lists-src/expired k1
node; install_list expired
bundle e signed "$(ann "$GOOD")"; start "$BUNDLE"; expect_refused "an expired list is refused" "expired at 2021-01-01T00:00:00Z"
node enforce 1 "$(( ($(date +%s) - 1609459200) / 86400 + 2 ))d"; install_list expired
bundle e signed "$(ann "$GOOD")"; start "$BUNDLE"; expect_run "an expired list is accepted within the grace period"
node enforce 1 30d; install_list expired
bundle e signed "$(ann "$GOOD")"; start "$BUNDLE"; expect_refused "an expired list is refused past the grace period" "expired at 2021-01-01T00:00:00Z"

mklist prod prod 1 1d "$GOOD"; sign lists-src/prod k1
node; install_list prod
bundle p signed "$(ann "$GOOD")"; start "$BUNDLE"; expect_refused "a list for another scope is refused" "is for scope 'prod'"

mklist s5 test 5 1d "$GOOD"; sign lists-src/s5 k1
mklist s4 test 4 1d "$GOOD" "$BAD"; sign lists-src/s4 k1
node; install_list s5
bundle s signed "$(ann "$GOOD")"; start "$BUNDLE"; expect_run "serial 5 is accepted"
install_list s4
bundle s signed "$(ann "$GOOD")"; start "$BUNDLE"; expect_refused "after serial 5, serial 4 is refused" "older than serial 5"

node; install_list base
bundle nod signed '{}'; start "$BUNDLE"; expect_refused "no digest at all is refused" "no image digest"
bundle dis signed "$(printf '{"io.kubernetes.cri.image-name":"localhost/img@%s","io.kubernetes.cri-o.ImageRef":"%s"}' "$GOOD" "$BAD")"
start "$BUNDLE"; expect_refused "disagreeing annotations are refused" "disagree"

# Every key type verifies.
for k in k1 k2 k3 k4 k4pss; do
	mklist "type-$k" test 1 1d "$GOOD"
	if [ "$k" = k4pss ]; then sign "lists-src/type-$k" k4 pss; else sign "lists-src/type-$k" "$k"; fi
	node; install_list "type-$k"
	bundle kt signed "$(ann "$GOOD")"; start "$BUNDLE"; expect_run "a list signed by $k verifies"
	want=$(keyid "keys/${k%pss}.pub")
	got=$(tail -1 "$NODE/decisions.jsonl" | jq -c .signers)
	[ "$got" = "[\"$want\"]" ] && ok "the log names $k's key id as the signer" || nok "the log names $k's key id as the signer" "$got"
done

# Warn mode: runs, and the would-be denial is recorded.
node warn; install_list base
bundle w unsigned "$(ann "$BAD")"; start "$BUNDLE"; expect_run "warn mode starts an unlisted image" unsigned
last=$(tail -1 "$NODE/decisions.jsonl")
[ "$(jq -r .decision <<<"$last")" = warn ] && grep -q "would deny" <<<"$(jq -r .reason <<<"$last")" &&
	ok "warn mode logs the would-be denial" || nok "warn mode logs the would-be denial" "$last"

# The decision log: verifies; an edited or deleted line is detected.
node; install_list base
for i in 1 2 3; do bundle l signed "$(ann "$GOOD")"; start "$BUNDLE"; bundle l unsigned "$(ann "$BAD")"; start "$BUNDLE"; done
"$SW" log verify --state-dir "$NODE/state" "$NODE/decisions.jsonl" >/dev/null && ok "the decision log verifies" || nok "the decision log verifies"
cp "$NODE/decisions.jsonl" "$T/log.bak"
sed -i '2s/"decision":"deny"/"decision":"allow"/' "$NODE/decisions.jsonl"
! cmp -s "$NODE/decisions.jsonl" "$T/log.bak" || nok "the edit changed the log"
out=$("$SW" log verify --state-dir "$NODE/state" "$NODE/decisions.jsonl" 2>&1)
[ $? = 1 ] && grep -q ':3: chain broken' <<<"$out" && ok "an edited line is detected" || nok "an edited line is detected" "$out"
cp "$T/log.bak" "$NODE/decisions.jsonl" && sed -i '2d' "$NODE/decisions.jsonl"
out=$("$SW" log verify --state-dir "$NODE/state" "$NODE/decisions.jsonl" 2>&1)
[ $? = 1 ] && grep -q ':2: chain broken' <<<"$out" && ok "a deleted line is detected" || nok "a deleted line is detected" "$out"
cp "$T/log.bak" "$NODE/decisions.jsonl" && sed -i '$d' "$NODE/decisions.jsonl"
out=$("$SW" log verify --state-dir "$NODE/state" "$NODE/decisions.jsonl" 2>&1)
[ $? = 1 ] && grep -q 'recorded head' <<<"$out" && ok "a deleted last line is detected" || nok "a deleted last line is detected" "$out"

# Concurrency: many containers at once, right decisions, intact chain.
CONC=${SIGWARD_CONCURRENT:-50}
[ "$RT" = crun ] && CONC=${SIGWARD_CONCURRENT_CRUN:-10}
node; install_list base
bundle cg signed "$(ann "$GOOD")"; BG=$BUNDLE
bundle cb unsigned "$(ann "$BAD")"; BB=$BUNDLE
mkdir -p "$T/conc"
for i in $(seq 1 "$CONC"); do
	(
		if [ $((i % 2)) = 0 ]; then start "$BG"; else start "$BB"; fi
		echo "$RC $LASTID" > "$T/conc/$i.rc"
		printf '%s\n' "$OUT" > "$T/conc/$i.out"
	) &
done
wait
wrong=0 why=
for i in $(seq 1 "$CONC"); do
	read -r rc id < "$T/conc/$i.rc"
	IDS+=("$id")
	if [ $((i % 2)) = 0 ]; then
		[ "$rc" = 0 ] && grep -qx signed "$T/conc/$i.out" || { wrong=$((wrong + 1)); why="$why [$id rc=$rc: $(head -c 400 "$T/conc/$i.out")]"; }
	else
		[ "$rc" != 0 ] && grep -q "sigward: denied container $id: image $BAD is not in allowlist" "$T/conc/$i.out" ||
			{ wrong=$((wrong + 1)); why="$why [$id rc=$rc: $(head -c 400 "$T/conc/$i.out")]"; }
	fi
done
lines=$(wc -l < "$NODE/decisions.jsonl")
# Every container has exactly one record, with its own decision.
badrec=0
for i in $(seq 1 "$CONC"); do
	read -r rc id < "$T/conc/$i.rc"
	want=deny; [ $((i % 2)) = 0 ] && want=allow
	got=$(jq -r --arg id "$id" 'select(.container == $id) | .decision' "$NODE/decisions.jsonl")
	[ "$got" = "$want" ] || badrec=$((badrec + 1))
done
[ "$badrec" = 0 ] && ok "each of the $CONC containers has one record with its decision" ||
	nok "each of the $CONC containers has one record with its decision" "$badrec wrong"
[ "$wrong" = 0 ] && ok "$CONC concurrent starts all got the right decision" || nok "$CONC concurrent starts all got the right decision" "$wrong wrong:$why"
"$SW" log verify --state-dir "$NODE/state" "$NODE/decisions.jsonl" >/dev/null && [ "$lines" = "$CONC" ] &&
	ok "the chain stays intact with $CONC concurrent records" || nok "the chain stays intact with $CONC concurrent records" "lines=$lines"

# ---- the handoff to sigward-hook-verify (issue 17) ---------------------------------------
# sigward-hook has no libcrypto: a list whose signatures were not yet checked (a new
# generation, or verify_cache = no) is decided by sigward-hook-verify beside it. Both
# copied into a directory of this test's, so the verifier can be taken away.
mkdir -p "$T/hd" && cp "$HOOK" "$B/hook/sigward-hook-verify" "$T/hd/"
HOOK_SAVED=$HOOK; HOOK=$T/hd/sigward-hook
mklist ho1 test 1 1d "$GOOD"; sign lists-src/ho1 k1
mklist ho2 test 2 1d "$GOOD"; sign lists-src/ho2 k1
node; install_list ho1
mv "$T/hd/sigward-hook-verify" "$T/hd/verify.away"
bundle ho signed "$(ann "$GOOD")"; start "$BUNDLE"
expect_refused "without the verifier, a listed image of a new list is refused (its signatures unchecked)" \
	"its signatures must be checked, and handing that to sigward-hook-verify failed"
[ ! -e "$NODE/state/verified" ] && [ "$(jq -r .decision "$NODE/decisions.jsonl" | tail -1)" = deny ] &&
	ok "that refusal is recorded, and nothing is cached as verified" || nok "that refusal is recorded, nothing cached" "$(ls "$NODE/state")"
mv "$T/hd/verify.away" "$T/hd/sigward-hook-verify"
bundle ho signed "$(ann "$GOOD")"; start "$BUNDLE"; expect_run "with the verifier beside it, the same start runs"
last=$(tail -1 "$NODE/decisions.jsonl")
jq -e --arg k "$(keyid keys/k1.pub)" '.decision == "allow" and .signers == [$k] and .runtime == "hook"' <<<"$last" >/dev/null &&
	ok "the verifier's allow is recorded with the signer" || nok "the verifier's allow is recorded with the signer" "$last"
mv "$T/hd/sigward-hook-verify" "$T/hd/verify.away"
bundle ho signed "$(ann "$GOOD")"; start "$BUNDLE"; expect_run "once checked, sigward-hook alone allows the listed image"
bundle hob unsigned "$(ann "$BAD")"; start "$BUNDLE"; expect_refused "and alone refuses an unlisted one" "image $BAD is not in allowlist test#1"
install_list ho2
bundle ho signed "$(ann "$GOOD")"; start "$BUNDLE"
expect_refused "a new generation is not allowed without its signatures checked" "handing that to sigward-hook-verify failed"
mv "$T/hd/verify.away" "$T/hd/sigward-hook-verify"
# Who can write the verifier decides every new list's first start: one that others
# can write is refused like such a key.
chmod 0666 "$T/hd/sigward-hook-verify"
bundle ho signed "$(ann "$GOOD")"; start "$BUNDLE"
expect_refused "a verifier writable by others is not run" "sigward-hook-verify"
chmod 0755 "$T/hd/sigward-hook-verify"
bundle ho signed "$(ann "$GOOD")"; start "$BUNDLE"; expect_run "the new generation runs once the verifier checked it"
"$SW" log verify --state-dir "$NODE/state" "$NODE/decisions.jsonl" >/dev/null &&
	[ "$(wc -l < "$NODE/decisions.jsonl")" = 7 ] && ok "the two binaries' records form one chain" ||
	nok "the two binaries' records form one chain" "$(wc -l < "$NODE/decisions.jsonl") lines"
# verify_cache = no: every start is the verifier's.
node; install_list ho1
sed -i 's/^syslog = no$/syslog = no\nverify_cache = no/' "$NODE/sigward.conf"
for i in 1 2; do bundle hn signed "$(ann "$GOOD")"; start "$BUNDLE"; expect_run "verify_cache = no: start $i runs (checked by the verifier)"; done
mv "$T/hd/sigward-hook-verify" "$T/hd/verify.away"
bundle hn signed "$(ann "$GOOD")"; start "$BUNDLE"; expect_refused "verify_cache = no: without the verifier, refused" "sigward-hook-verify"
mv "$T/hd/verify.away" "$T/hd/sigward-hook-verify"
HOOK=$HOOK_SAVED

# A state as large as the hook reads (SW_STATE_MAX, 1 MiB) reaches the verifier
# whole: the pipe is sized for it (F_SETPIPE_SZ) before it is written.
if [ "$RT" = runc ]; then
	node; install_list ho1
	bundle hl signed "$(ann "$GOOD")"
	python3 -c 'import json, sys; print(json.dumps({"ociVersion": "1.0.2", "id": sys.argv[1], "status": "creating",
		"pid": 1, "bundle": sys.argv[2], "annotations": {"pad": "x" * 1048000}}))' "sw-big-$$" "$BUNDLE" > "$T/big.state"
	[ "$(stat -c %s "$T/big.state")" -gt 1048000 ] || nok "the large state is large"
	if "$HOOK" --config "$NODE/sigward.conf" < "$T/big.state" && [ -e "$NODE/state/verified" ] &&
		jq -e --arg id "sw-big-$$" 'select(.container == $id) | .decision == "allow"' "$NODE/decisions.jsonl" >/dev/null; then
		ok "a 1 MiB state goes through the handoff whole (allowed by the verifier)"
	else
		nok "a 1 MiB state goes through the handoff" "$(tail -1 "$NODE/decisions.jsonl" | head -c 300)"
	fi
fi

# The syslog line of each binary: the verifier sends on the socket sigward-hook
# connected before its sandbox (passed by number; the sandbox refuses a new
# connection). A private /dev with a listening /dev/log; the hook run directly.
if [ "$RT" = runc ]; then
	node; install_list ho1
	sed -i 's/^syslog = no$/syslog = yes/' "$NODE/sigward.conf"
	bundle hs signed "$(ann "$GOOD")"
	printf '{"ociVersion":"1.0.2","id":"sw-syslog-%s","status":"creating","pid":1,"bundle":"%s"}' "$$" "$BUNDLE" > "$T/hs.state"
	cat > "$T/listen.py" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
open(sys.argv[2], "w").close()                # ready
s.settimeout(10)
with open(sys.argv[1], "w") as out:
    for _ in range(2):
        out.write(s.recv(4096).decode() + "\n"); out.flush()
PY
	rm -f "$T/syslog.out" "$T/syslog.ready"
	timeout 30 unshare -m bash -c '
		mount -t tmpfs none /dev || exit 9
		python3 "$1/listen.py" "$1/syslog.out" "$1/syslog.ready" & L=$!
		for i in $(seq 100); do [ -e "$1/syslog.ready" ] && break; sleep 0.05; done
		for i in 1 2; do "$2" --config "$3" < "$1/hs.state" || echo "hook exit $?" >&2; done
		wait $L' sh "$T" "$HOOK" "$NODE/sigward.conf" 2> "$T/syslog.err"
	n=$(grep -c "^<86>sigward\[[0-9]*\]: container sw-syslog-$$ allow image $GOOD list test#1: " "$T/syslog.out" 2>/dev/null)
	[ "$n" = 2 ] && [ "$(wc -l < "$NODE/decisions.jsonl")" = 2 ] &&
		ok "syslog: the verifier's line (first start) and sigward-hook's (second) both arrive" ||
		nok "syslog: both binaries' lines arrive" "$n lines: $(cat "$T/syslog.out" "$T/syslog.err" 2>/dev/null | head -4)"
fi
# ---- the shipped binary's sandbox (issue 14 #6) -----------------------------------------
# sigward-hook --sandbox-selftest confines itself as without a configuration, then
# tries a new socket and a directory in / (root's, 0755), then execve: each must be
# refused, the last by SIGSYS (status 159). test_sandbox tests the library; this is
# the static binary the package ships.
ABI=$(python3 -c 'import ctypes; print(max(0, ctypes.CDLL(None).syscall(444, None, 0, 1)))')
# (in a subshell, whose "Bad system call" notice goes to /dev/null)
( "$HOOK" --sandbox-selftest 2> "$T/selftest.err"; echo $? > "$T/selftest.rc" ) 2>/dev/null
rc=$(cat "$T/selftest.rc")
if [ "$rc" = 159 ] && grep -q "a new socket: refused" "$T/selftest.err" && ! ls -d /sigward-selftest.* >/dev/null 2>&1 &&
	{ [ "$ABI" = 0 ] || { grep -q "Landlock ABI $ABI: creating /sigward-selftest\.[0-9]*: refused" "$T/selftest.err" &&
		grep -q "execveat of /bin/true: refused" "$T/selftest.err"; }; }; then
	ok "sigward-hook --sandbox-selftest: no socket, nothing created in / (Landlock ABI $ABI), no execveat but the verifier's, execve killed"
else
	nok "sigward-hook --sandbox-selftest" "rc=$rc $(cat "$T/selftest.err")"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
