#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# attacks.sh: the attack list of issue 7 (modelled on The Update Framework's),
# each against the real sigward-hook, through runc where a runtime matters and
# with the state on stdin where only the hook's reading matters. Every case shows
# the attack is refused AND that nothing is lost: afterwards the node still
# enforces the last good list (the signed image starts, the unsigned one is
# refused with "not in allowlist prod#N"), and the rollback record was not moved.
#
# The attacker controls what sigward does not trust (PRODUCT.md): everything the
# refresh daemon can write (lists_dir: generations and `current`), the network
# and the registry, workload specs (annotations, names, tags), image contents,
# and one of several signing keys. Lists are installed here by copying and
# switching `current` directly, without the installer's checks, because a
# compromised daemon can do exactly that; the hook must refuse on its own.
#
# Cases: arbitrary image; rollback; indefinite freeze; mix-and-match (entries of
# another generation, signatures of another generation, a `current` switched
# during 300 decisions); wrong environment; endless data (manifest, signatures,
# a 64 GiB entries file, config.json, state on stdin, a download for sigwardd);
# slow retrieval (sigwardd); key compromise below the threshold; untrusted key;
# tag re-pointing (runc and podman); annotation spoofing (runc and podman);
# symlinks and FIFOs in the bundle, in a generation and in the state directory;
# config.json changed after the decision.
#
# Needs root, runc, umoci, jq, openssl, busybox, python3, strace, podman; exit 77
# when one is missing (a failure with SIGWARD_REQUIRE_ALL=1). SIGWARD_BUILD and
# SIGWARD_SRC come from meson.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/harden-lib.sh
. "$HERE/harden-lib.sh"
hl_init attacks runc umoci jq openssl busybox python3 strace podman timeout mkfifo truncate
[ -x "$DAEMON" ] || { echo "not ok - sigwardd is not built ($DAEMON)"; exit 1; }
hl_images
hl_keys

ISSUED=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
EXPIRES=$(date -u -d '+7 days' +%Y-%m-%dT%H:%M:%SZ)
REF1=registry.example/app:v1
REF2=registry.example/app:v2
ANN=io.kubernetes.cri.image-ref
CONF=$T/sigward.conf
hl_conf "$CONF"

# Filler entries, so that lists have more than one bin.
FILL=()
for i in $(seq 1 40); do FILL+=("sha256:$(printf 'filler-%d' "$i" | sha256sum | cut -c1-64)"); done

B1=$(hl_bundle v1 "$T/u1/rootfs" "{\"$ANN\": \"$V1\"}" /bin/cat /image)
B2=$(hl_bundle v2 "$T/u2/rootfs" "{\"$ANN\": \"$V2\"}" /bin/cat /image)

# expect_deny CASE ID REASON: the start was refused, the runtime shows sigward's
# one line naming the container and REASON, and the decision log says deny.
expect_deny() {
	local name=$1 id=$2 want=$3
	if [ "$RC" = 0 ]; then
		notok "$name" "allowed (exit 0)" "$OUT"
	elif [ "$RC" = 124 ] || [ "$RC" = 137 ]; then
		notok "$name" "timed out" "$OUT"
	elif ! grep -qF "sigward: denied container $id: " <<<"$OUT" ||
		! grep -q"$([ "${WANT_ERE:-0}" = 1 ] && echo E || echo F)" -- "$want" <<<"$OUT"; then
		notok "$name" "exit $RC without 'sigward: denied container $id: ...$want...'" "$OUT"
	elif [ "${NOREC:-0}" = 1 ]; then
		ok "$name"
	else
		local rec
		rec=$(hl_record "$id")
		case $rec in
		deny*) ok "$name" ;;
		*) notok "$name" "decision log record: '$rec'" ;;
		esac
	fi
}

expect_allow() {
	local name=$1 want=${2:-}
	if [ "$RC" = 0 ] && { [ -z "$want" ] || grep -qF -- "$want" <<<"$OUT"; }; then
		ok "$name"
	else
		notok "$name" "exit $RC, want 0${want:+ and '$want'}" "$OUT"
	fi
}

serial_is() {
	grep -qx "prod $1" "$T/state/serials" 2>/dev/null
}

# The node still enforces the good list (serial $GOOD): V1 runs, V2 is refused
# as unlisted, and the rollback record still says $GOOD.
GOOD=6
still_enforcing() {
	local name="$1: nothing lost" id1 id2 r1 r2 o1 o2
	hl_id
	id1=$ID
	hl_hook "$CONF" "$id1" "$B1"
	r1=$RC o1=$OUT
	hl_id
	id2=$ID
	hl_hook "$CONF" "$id2" "$B2"
	r2=$RC o2=$OUT
	if [ "$r1" = 0 ] && [ "$r2" = 1 ] && grep -qF "is not in allowlist prod#$GOOD" <<<"$o2" && serial_is "$GOOD"; then
		ok "$name"
	else
		notok "$name" "V1: exit $r1 $o1" "V2: exit $r2 $o2" "serials: $(cat "$T/state/serials" 2>/dev/null)"
	fi
}

# ------------------------------------------------------------- the good list
hl_list good5 prod 5 "$ISSUED" "$EXPIRES" "$REF1@$V1" "${FILL[@]}"
hl_sign good5 k1
hl_install good5
hl_id
hl_runc "$CONF" "$ID" "$B1"
expect_allow "baseline: the signed image starts under runc" v1
hl_list good6 prod 6 "$ISSUED" "$EXPIRES" "$REF1@$V1" "${FILL[@]}"
hl_sign good6 k1
hl_install good6
hl_id
hl_runc "$CONF" "$ID" "$B1"
expect_allow "baseline: serial 6 accepted"
serial_is 6 && ok "baseline: rollback record raised to 6" || notok "baseline: rollback record raised to 6" "$(cat "$T/state/serials")"

# ------------------------------------------------------------ arbitrary image
hl_id
hl_runc "$CONF" "$ID" "$B2"
expect_deny "arbitrary image: unsigned digest refused by runc's prestart hook" "$ID" "image $V2 is not in allowlist prod#6"
still_enforcing "arbitrary image"

# ------------------------------------------------------------------- rollback
# Serial 4 was signed by a trusted key and listed V2 back then.
hl_list old4 prod 4 "$ISSUED" "$EXPIRES" "$REF1@$V1" "$REF2@$V2" "${FILL[@]}"
hl_sign old4 k1
hl_install old4
hl_id
hl_runc "$CONF" "$ID" "$B2"
expect_deny "rollback: validly signed serial 4 after 6 refused" "$ID" "older than serial 6 already accepted (rollback refused)"
serial_is 6 && ok "rollback: record still 6" || notok "rollback: record still 6" "$(cat "$T/state/serials")"
# The installer sigwardd shares with `sigward allowlist install` refuses it before
# switching `current` (file:// source: the daemon's own transport is tested below).
hl_install good6
mkdir -p "$T/fstaging"
hl_conf "$T/file.conf" extra="
[refresh]
source = file://$T/l/old4
staging_dir = $T/fstaging
status_file = $T/fstatus.json"
if timeout -k 5 60 "$DAEMON" --config "$T/file.conf" --once >"$T/out" 2>&1; then
	notok "rollback: sigwardd refuses to install serial 4" "$(cat "$T/out")"
elif [ "$(readlink "$T/lists/current")" != good6 ]; then
	notok "rollback: sigwardd refuses to install serial 4" "current is now $(readlink "$T/lists/current")"
else
	ok "rollback: sigwardd refuses to install serial 4 and keeps current"
fi
hl_install good6
still_enforcing "rollback"

# ----------------------------------------------------------- indefinite freeze
hl_list frozen prod 7 2020-01-01T00:00:00Z 2020-01-08T00:00:00Z "$REF1@$V1" "$REF2@$V2"
hl_sign frozen k1
hl_install frozen
hl_id
hl_runc "$CONF" "$ID" "$B2"
expect_deny "freeze: expired list refused" "$ID" "expired at 2020-01-08T00:00:00Z"
hl_install good6
still_enforcing "freeze"

# ------------------------------------------------------------- mix-and-match
# old3 listed V2 and was signed; its entries file has exactly the size of good6's.
hl_list old3 prod 3 "$ISSUED" "$EXPIRES" "$REF2@$V2" "${FILL[@]}"
hl_sign old3 k1
mkdir -p "$T/l/mix1"
cp "$T/l/good6/manifest" "$T/l/good6/manifest.sig" "$T/l/mix1/"
cp "$T/l/old3/entries" "$T/l/mix1/"
if [ "$(stat -c %s "$T/l/old3/entries")" != "$(stat -c %s "$T/l/good6/entries")" ]; then
	notok "mix-and-match: fixture" "entries sizes differ"
fi
hl_install mix1
# V1 is listed by serial 6, so its bin holds V1's line, which old3's entries do not
# have anywhere: the bin the lookup reads cannot hash right.
hl_id
hl_runc "$CONF" "$ID" "$B1"
expect_deny "mix-and-match: manifest of serial 6 with the entries of serial 3: a listed image refused (the bin's hash)" \
	"$ID" "does not match its hash in the signed manifest"
# V2, the image only serial 3 lists, is what the attacker wants to run. Its bin's
# hash fails too, unless old3's bytes at that bin's place happen to be exactly
# serial 6's bin (V1 sorts before it and V2 comes first in its bin: old3 is then
# the same bytes shifted by one line): then the lookup reads serial 6's real bin,
# and V2 is not in it. Either way it is denied, and never by old3's entries.
hl_id
hl_runc "$CONF" "$ID" "$B2"
WANT_ERE=1 expect_deny "mix-and-match: manifest of serial 6 with the entries of serial 3: the image only serial 3 lists refused" \
	"$ID" "does not match its hash in the signed manifest|is not in allowlist prod#6"
# A new manifest listing V2 with the signatures of serial 6.
hl_list mix2 prod 8 "$ISSUED" "$EXPIRES" "$REF2@$V2" "$REF1@$V1" "${FILL[@]}"
cp "$T/l/good6/manifest.sig" "$T/l/mix2/"
hl_install mix2
hl_id
hl_runc "$CONF" "$ID" "$B2"
expect_deny "mix-and-match: manifest of serial 8 with the signatures of serial 6 refused" "$ID" "0 valid signatures by trusted keys, 1 required"
hl_install good6
still_enforcing "mix-and-match"

# `current` switched back and forth between two signed generations of the same
# serial while the hook decides: every decision must read one generation whole.
mkdir -p "$T/race-lists" "$T/race-state"
chmod 700 "$T/race-state"
hl_conf "$T/race.conf" lists_dir="$T/race-lists" state_dir="$T/race-state" log_file="$T/race.jsonl"
hl_list raceA prod 10 "$ISSUED" "$EXPIRES" "$REF1@$V1" "${FILL[@]:0:20}"
hl_list raceB prod 10 "$ISSUED" "$EXPIRES" "$V1" "${FILL[@]:10:30}"
hl_sign raceA k1
hl_sign raceB k2
cp -r "$T/l/raceA" "$T/l/raceB" "$T/race-lists/"
ln -s raceA "$T/race-lists/current"
(
	end=$((SECONDS + 60))
	while [ $SECONDS -lt $end ] && [ ! -e "$T/race-stop" ]; do
		ln -sfn raceB "$T/race-lists/.c" && mv -T "$T/race-lists/.c" "$T/race-lists/current"
		ln -sfn raceA "$T/race-lists/.c" && mv -T "$T/race-lists/.c" "$T/race-lists/current"
	done
) &
FLIP=$!
hl_on_exit "kill $FLIP"
bad=0 runs=0
for i in $(seq 1 300); do
	hl_hook "$T/race.conf" "race-$$-$i" "$B1"
	runs=$((runs + 1))
	[ "$RC" = 0 ] || { bad=$((bad + 1)); echo "# $OUT"; }
	[ $bad -gt 3 ] && break
done
touch "$T/race-stop"
wait "$FLIP" 2>/dev/null
if [ $bad = 0 ] && [ "$(grep -c '"decision":"allow"' "$T/race.jsonl")" = 300 ]; then
	ok "mix-and-match: 300 decisions while current flips between two generations, each read whole"
else
	notok "mix-and-match: 300 decisions while current flips" "$bad of $runs denied"
fi

# -------------------------------------------------------- wrong environment
hl_list staging staging 12 "$ISSUED" "$EXPIRES" "$REF1@$V1" "$REF2@$V2"
hl_sign staging k1
hl_install staging
hl_id
hl_runc "$CONF" "$ID" "$B2"
expect_deny "wrong environment: a staging list on a prod node refused" "$ID" "is for scope 'staging', this node is configured for 'prod'"
hl_install good6
still_enforcing "wrong environment"

# ------------------------------------------------------------- endless data
bounded() { # bounded NAME SECONDS: the last hl_hook finished in time
	[ "$RC" != 124 ] && [ "$RC" != 137 ]
}
gen_copy() { # gen_copy NAME: a copy of good6 to tamper with, installed
	rm -rf "$T/l/$1"
	cp -r "$T/l/good6" "$T/l/$1"
}
gen_copy big-manifest
{ cat "$T/l/good6/manifest"; head -c $((9 * 1024 * 1024)) /dev/zero | tr '\0' 'a'; } >"$T/l/big-manifest/manifest"
hl_install big-manifest
hl_id
hl_hook "$CONF" "$ID" "$B1" 20
bounded && expect_deny "endless data: a 9 MiB manifest refused" "$ID" "more than the limit of 8388608" ||
	notok "endless data: a 9 MiB manifest refused" "timed out"
gen_copy big-sig
{ cat "$T/l/good6/manifest.sig"; head -c $((300 * 1024)) /dev/zero | tr '\0' '\n'; } >"$T/l/big-sig/manifest.sig"
hl_install big-sig
hl_id
hl_hook "$CONF" "$ID" "$B1" 20
bounded && expect_deny "endless data: a 300 KiB signature file refused" "$ID" "more than the limit of 262144" ||
	notok "endless data: a 300 KiB signature file refused" "timed out"
gen_copy big-entries
truncate -s 64G "$T/l/big-entries/entries"
hl_install big-entries
hl_id
start=$SECONDS
hl_hook "$CONF" "$ID" "$B1" 20
if bounded && [ $((SECONDS - start)) -le 5 ]; then
	expect_deny "endless data: a 64 GiB entries file refused without reading it" "$ID" "bytes, the manifest says"
else
	notok "endless data: a 64 GiB entries file refused without reading it" "exit $RC after $((SECONDS - start)) s"
fi
hl_install good6
mkdir -p "$T/b/bigconf"
cp "$B1/config.json" "$T/b/bigconf/config.json"
truncate -s 17M "$T/b/bigconf/config.json"
hl_id
hl_hook "$CONF" "$ID" "$T/b/bigconf" 20
bounded && expect_deny "endless data: a 17 MiB config.json refused" "$ID" "more than the limit of 16777216" ||
	notok "endless data: a 17 MiB config.json refused" "timed out"
truncate -s 10G "$T/b/bigconf/config.json"
hl_id
start=$SECONDS
hl_hook "$CONF" "$ID" "$T/b/bigconf" 20
if bounded && [ $((SECONDS - start)) -le 5 ]; then
	expect_deny "endless data: a 10 GiB config.json refused without reading it" "$ID" "more than the limit"
else
	notok "endless data: a 10 GiB config.json refused without reading it" "exit $RC"
fi
start=$SECONDS
OUT=$(yes '{"id":"x","bundle":"/"}' | timeout -k 5 20 "$HOOK" --config "$CONF" 2>&1)
RC=$?
if [ "$RC" = 1 ] && grep -qF "state (stdin): more than the limit of 1048576 bytes" <<<"$OUT" && [ $((SECONDS - start)) -le 10 ]; then
	ok "endless data: endless state on stdin refused after 1 MiB"
else
	notok "endless data: endless state on stdin refused after 1 MiB" "exit $RC" "$OUT"
fi
still_enforcing "endless data (files)"

# sigwardd (one case each for the daemon: its own tests cover the rest).
# A separate lists_dir it installs into, fed by a hostile registry on loopback.
REG_PID=
start_registry() { # start_registry LIST MODE
	[ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null && wait "$REG_PID" 2>/dev/null
	rm -f "$T/reg.port"
	python3 "$HERE/attacks-registry.py" "$T/l/$1" "$2" "$T/reg.port" 2>>"$T/registry.log" &
	REG_PID=$!
	local i
	for i in $(seq 1 100); do
		[ -s "$T/reg.port" ] && break
		sleep 0.1
	done
	PORT=$(cat "$T/reg.port" 2>/dev/null)
	[ -n "$PORT" ] || { notok "registry on loopback did not start" "$(tail -5 "$T/registry.log")"; return 1; }
}
hl_on_exit '[ -n "$REG_PID" ] && kill $REG_PID'
mkdir -p "$T/dlists" "$T/dstate" "$T/dstaging"
chmod 700 "$T/dstate"
daemon_conf() {
	hl_conf "$T/daemon.conf" lists_dir="$T/dlists" state_dir="$T/dstate" log_file="$T/dlog.jsonl" extra="
[refresh]
source = oci+http://127.0.0.1:$PORT/sigward/list:prod
timeout = 2s
max_size = 1M
staging_dir = $T/dstaging
status_file = $T/dstatus.json"
}
if start_registry good6 good; then
	daemon_conf
	if timeout -k 5 60 "$DAEMON" --config "$T/daemon.conf" --once >"$T/dout" 2>&1 && [ -e "$T/dlists/current/manifest" ] &&
		cmp -s "$T/dlists/current/manifest" "$T/l/good6/manifest"; then
		ok "sigwardd: control: installs serial 6 from the loopback registry"
	else
		notok "sigwardd: control: installs serial 6 from the loopback registry" "$(cat "$T/dout")" "$(tail -5 "$T/registry.log")"
	fi
	GOODGEN=$(readlink "$T/dlists/current")
	hl_list newer prod 30 "$ISSUED" "$EXPIRES" "$REF1@$V1" "$REF2@$V2" "${FILL[@]}"
	hl_sign newer k1
	if start_registry newer endless; then
		daemon_conf
		start=$SECONDS
		timeout -k 5 60 "$DAEMON" --config "$T/daemon.conf" --once >"$T/dout" 2>&1
		RC=$?
		if [ "$RC" = 1 ] && grep -q "larger than max_size" "$T/dout" && [ "$(readlink "$T/dlists/current")" = "$GOODGEN" ] &&
			[ $((SECONDS - start)) -le 30 ]; then
			ok "endless data: sigwardd stops an endless download at its declared size, keeps the installed generation"
		else
			notok "endless data: sigwardd stops an endless download" "exit $RC after $((SECONDS - start)) s" "$(cat "$T/dout")" \
				"current: $(readlink "$T/dlists/current")"
		fi
	fi
	if start_registry newer slow; then
		daemon_conf
		start=$SECONDS
		timeout -k 5 60 "$DAEMON" --config "$T/daemon.conf" --once >"$T/dout" 2>&1
		RC=$?
		if [ "$RC" = 1 ] && grep -qi "timeout\|too slow" "$T/dout" && [ "$(readlink "$T/dlists/current")" = "$GOODGEN" ] &&
			[ $((SECONDS - start)) -le 30 ]; then
			ok "slow retrieval: sigwardd gives up on a registry trickling 3 bytes/s ($((SECONDS - start)) s), keeps the installed generation"
		else
			notok "slow retrieval: sigwardd gives up on a trickling registry" "exit $RC after $((SECONDS - start)) s" \
				"$(cat "$T/dout")" "current: $(readlink "$T/dlists/current")"
		fi
	fi
	kill "$REG_PID" 2>/dev/null
	wait "$REG_PID" 2>/dev/null
	REG_PID=
	if [ -n "$(find "$T/dstaging" -mindepth 1 -type d)$(find "$T/dlists" -maxdepth 1 -name '.staging*')" ]; then
		notok "sigwardd: no staging copy left behind" "$(ls -laR "$T/dstaging" "$T/dlists")"
	else
		ok "sigwardd: no staging copy left behind"
	fi
fi

# ---------------------------------------------- key compromise below threshold
mkdir -p "$T/lists2" "$T/state2"
chmod 700 "$T/state2"
hl_conf "$T/t2.conf" threshold=2 lists_dir="$T/lists2" state_dir="$T/state2"
hl_list t2good prod 6 "$ISSUED" "$EXPIRES" "$REF1@$V1" "${FILL[@]}"
hl_sign t2good k1 k2
hl_install t2good "$T/lists2"
hl_id
hl_runc "$T/t2.conf" "$ID" "$B1"
expect_allow "threshold 2 of 3: control: a list signed by k1 and k2 is accepted"
for variant in "k1" "k1 k1" "k1 kx"; do
	name=t2-$(tr ' ' - <<<"$variant")
	hl_list "$name" prod 7 "$ISSUED" "$EXPIRES" "$REF1@$V1" "$REF2@$V2" "${FILL[@]}"
	# shellcheck disable=SC2086
	hl_sign "$name" $variant
	hl_install "$name" "$T/lists2"
	hl_id
	hl_runc "$T/t2.conf" "$ID" "$B2"
	expect_deny "key compromise: threshold 2, a list adding V2 signed by $variant refused" "$ID" \
		"1 valid signature by trusted keys, 2 required"
done
hl_install t2good "$T/lists2"
hl_id
hl_hook "$T/t2.conf" "$ID" "$B1"
expect_allow "key compromise: nothing lost (serial 6 by k1+k2 still accepted)"

# ------------------------------------------------------------- untrusted key
hl_list untrusted prod 9 "$ISSUED" "$EXPIRES" "$REF1@$V1" "$REF2@$V2" "${FILL[@]}"
hl_sign untrusted kx
hl_install untrusted
hl_id
hl_runc "$CONF" "$ID" "$B2"
expect_deny "untrusted key: a list signed only by a key outside keys_dir refused" "$ID" "0 valid signatures by trusted keys, 1 required"
hl_install good6
still_enforcing "untrusted key"

# ----------------------------------------------------------- tag re-pointing
# The name V1 was published under, given to the unsigned image.
BT=$(hl_bundle repoint "$T/u2/rootfs" "{\"io.kubernetes.cri.image-name\": \"$REF1\", \"$ANN\": \"$V2\"}" /bin/cat /image)
hl_conf "$T/sigward-names.conf" annotations="io.kubernetes.cri.image-name $ANN"
hl_id
hl_runc "$T/sigward-names.conf" "$ID" "$BT"
expect_deny "tag re-pointing: $REF1 given to the unsigned image (runc, CRI annotations)" "$ID" "image $V2 is not in allowlist prod#6"

# podman: the image store itself re-points the name.
PROOT=$T/podman
P="podman --root $PROOT/root --runroot $PROOT/run --runtime runc"
U="--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network none"
mkdir -p "$PROOT/hooks"
hl_on_exit "$P rm -a -f -t 0"
hl_conf "$T/podman.conf" containers_storage=yes storage_root="$PROOT/root" annotations="io.kubernetes.cri-o.ImageRef"
jq -n --arg p "$HOOK" --arg c "$T/podman.conf" \
	'{"version":"1.0.0","hook":{"path":$p,"args":["sigward-hook","--config",$c],"timeout":30},"when":{"always":true},"stages":["prestart"]}' \
	>"$PROOT/hooks/sigward.json"
HOOKS="--hooks-dir $PROOT/hooks"
if timeout 120 $P pull -q "oci:$T/img:v1" >/dev/null 2>&1 && timeout 120 $P pull -q "oci:$T/img:v2" >/dev/null 2>&1 &&
	timeout 30 $P tag "${C1#sha256:}" localhost/app:v1 && timeout 30 $P tag "${C2#sha256:}" localhost/evil:latest; then
	# shellcheck disable=SC2086
	OUT=$(timeout 120 $P run --rm $HOOKS $U --name "pv1-$$" localhost/app:v1 /bin/cat /image 2>&1)
	RC=$?
	expect_allow "podman: control: the signed image starts through the prestart hook" v1
	timeout 30 $P untag localhost/app:v1 >/dev/null 2>&1
	timeout 30 $P tag "${C2#sha256:}" localhost/app:v1
	ID=pv2-$$
	# shellcheck disable=SC2086
	OUT=$(timeout 120 $P run --rm $HOOKS $U --name "$ID" localhost/app:v1 /bin/cat /image 2>&1)
	RC=$?
	CID=$(grep -o 'sigward: denied container [0-9a-f]*' <<<"$OUT" | awk '{print $4}')
	expect_deny "tag re-pointing: podman tag moves localhost/app:v1 to the unsigned image, run by name refused" "${CID:-?}" \
		"is not in allowlist prod#6"

	# ---------------------------------------------------- annotation spoofing
	# A workload-supplied annotation naming the signed image's id, on the unsigned
	# image: containers/storage (the runtime's own record) contradicts it.
	# shellcheck disable=SC2086
	OUT=$(timeout 120 $P run --rm $HOOKS $U --annotation "io.kubernetes.cri-o.ImageRef=${C1#sha256:}" \
		localhost/evil:latest /bin/cat /image 2>&1)
	RC=$?
	CID=$(grep -o 'sigward: denied container [0-9a-f]*' <<<"$OUT" | awk '{print $4}')
	expect_deny "annotation spoofing: podman --annotation claiming the signed image id, storage disagrees" "${CID:-?}" \
		"image sources disagree"
else
	notok "podman: pulling the test images" "$(timeout 60 $P pull "oci:$T/img:v1" 2>&1 | tail -3)"
fi

BS=$(hl_bundle spoof "$T/u2/rootfs" "{\"$ANN\": \"$V1\", \"io.kubernetes.cri-o.ImageRef\": \"${C2#sha256:}\"}")
hl_id
hl_runc "$CONF" "$ID" "$BS"
expect_deny "annotation spoofing: two annotations naming different images (runc)" "$ID" "image sources disagree"
BS=$(hl_bundle spoof2 "$T/u2/rootfs" "{\"$ANN\": \"$REF1@sha512:$(printf x | sha512sum | cut -c1-128)\"}")
hl_id
hl_runc "$CONF" "$ID" "$BS"
expect_deny "annotation spoofing: a digest sigward cannot read is refused, not skipped" "$ID" "is not a sha256 digest"
still_enforcing "annotation spoofing"

# ------------------------------------------------- symlinks and FIFOs
mkdir -p "$T/b/linked"
ln -s "$B1/config.json" "$T/b/linked/config.json"
hl_id
OUT=$(timeout -k 5 60 runc --root "$T/runc" run -b "$T/b/linked" "$ID" </dev/null 2>&1)
RC=$?
timeout 20 runc --root "$T/runc" delete -f "$ID" >/dev/null 2>&1
expect_deny "symlink: config.json a symbolic link in the bundle (runc follows it, the hook refuses)" "$ID" "is a symbolic link, refused"
mkdir -p "$T/b/fifo"
mkfifo "$T/b/fifo/config.json"
hl_id
start=$SECONDS
hl_hook "$CONF" "$ID" "$T/b/fifo" 10
bounded && expect_deny "FIFO: config.json a FIFO with no writer, refused without blocking" "$ID" "not a regular file" ||
	notok "FIFO: config.json a FIFO" "hook blocked"
for f in manifest entries manifest.sig; do
	gen_copy "link-$f"
	rm "$T/l/link-$f/$f"
	ln -s "../good6/$f" "$T/l/link-$f/$f"
	hl_install "link-$f"
	hl_id
	hl_hook "$CONF" "$ID" "$B1" 10
	case $f in
	entries) want="entries: cannot open" ;;
	*) want="$f: is a symbolic link, refused" ;;
	esac
	bounded && expect_deny "symlink: $f of the generation a symbolic link to the good one's, refused" "$ID" "$want" ||
		notok "symlink: $f" "timed out"
	gen_copy "fifo-$f"
	rm "$T/l/fifo-$f/$f"
	mkfifo "$T/l/fifo-$f/$f"
	hl_install "fifo-$f"
	hl_id
	hl_hook "$CONF" "$ID" "$B1" 10
	case $f in
	entries) want="entries: not a regular file" ;;
	*) want="$f: not a regular file" ;;
	esac
	bounded && expect_deny "FIFO: $f of the generation a FIFO, refused without blocking" "$ID" "$want" ||
		notok "FIFO: $f" "hook blocked"
done
mkfifo "$T/lists/fifo-current"
ln -sfn fifo-current "$T/lists/.current.tmp" && mv -T "$T/lists/.current.tmp" "$T/lists/current"
hl_id
hl_hook "$CONF" "$ID" "$B1" 10
bounded && expect_deny "FIFO: current pointing at a FIFO, refused without blocking" "$ID" "cannot open allowlist" ||
	notok "FIFO: current pointing at a FIFO" "hook blocked"
hl_install good6
# The state directory (root-only, but a FIFO there must still not hang a start).
fifo_state() { # fifo_state NAME FILE WANT: FILE in a copy of the state dir is a FIFO
	local name=$1 file=$2 want=$3 st=$T/fstate-$2
	rm -rf "$st"
	cp -a "$T/state" "$st"
	rm -f "$st/$file"
	mkfifo "$st/$file"
	hl_conf "$T/fifo.conf" state_dir="$st" log_file="$T/fifo-$file.jsonl"
	hl_id
	hl_hook "$T/fifo.conf" "$ID" "$B1" 10
	if ! bounded; then
		notok "$name" "hook blocked"
	elif [ "$want" = allow ]; then
		expect_allow "$name"
	elif [ "$file" = decisions.head ]; then
		# Refused before anything is appended: the log must not show an
		# allow for a start that was denied.
		local rec
		rec=$(hl_record "$ID")
		[ -z "$rec" ] || { notok "$name" "the log records '$rec' for a denied start"; return; }
		NOREC=1 expect_deny "$name" "$ID" "$want"
	else
		expect_deny "$name" "$ID" "$want"
	fi
}
fifo_state "FIFO: state_dir/serials a FIFO, refused without blocking" serials "serials: not a regular file"
fifo_state "FIFO: state_dir/verified (cache) a FIFO, ignored without blocking, full verification" verified allow
fifo_state "FIFO: state_dir/decisions.head a FIFO, no blocking, an unrecordable allow is denied and not logged as an allow" decisions.head "cannot record the decision"
hl_conf "$T/fifo.conf" log_file="$T/fifo.log"
mkfifo "$T/fifo.log"
hl_id
hl_hook "$T/fifo.conf" "$ID" "$B1" 10
bounded && NOREC=1 expect_deny "FIFO: the decision log a FIFO, no blocking, an unrecordable allow is denied" "$ID" "cannot record the decision" ||
	notok "FIFO: the decision log a FIFO" "hook blocked"
still_enforcing "symlinks and FIFOs"

# ------------------------------------------- config.json changing between reads
# sigward reads config.json once per decision (one open, one bounded read into
# memory), so a writer cannot show it two versions.
hl_id
hl_state "$ID" "$B1" >"$T/state.json"
strace -f -qq -e trace=open,openat -o "$T/strace.out" "$HOOK" --config "$CONF" <"$T/state.json" >/dev/null 2>&1
n=$(grep -c 'config.json' "$T/strace.out")
[ "$n" = 1 ] && ok "config.json: read with exactly one open per decision" ||
	notok "config.json: read with exactly one open per decision" "$n opens" "$(grep config.json "$T/strace.out")"
# Swapped after the decision (a second prestart hook rewrites it to claim and run
# the unsigned image): runc runs what it read before the hooks, and the decision
# on record stays the one sigward took.
BW=$(hl_bundle swap "$T/u1/rootfs" "{\"$ANN\": \"$V1\"}" /bin/cat /image)
jq --arg ann "$ANN" --arg v2 "$V2" --arg r2 "$T/u2/rootfs" \
	'.annotations[$ann] = $v2 | .root.path = $r2 | .process.args = ["/bin/echo", "SWAPPED"]' "$BW/config.json" >"$T/swapped.json"
hl_id
hook=$(jq -n --arg p "$HOOK" --arg c "$CONF" --arg b "$BW" --arg s "$T/swapped.json" \
	'[{"path": $p, "args": ["sigward-hook", "--config", $c], "timeout": 30},
	  {"path": "/bin/sh", "args": ["sh", "-c", "cp \"$1\" \"$2/config.json\"", "sh", $s, $b], "timeout": 10}]')
jq --argjson h "$hook" '.hooks.prestart = $h' "$BW/config.json" >"$BW/c.new" && mv "$BW/c.new" "$BW/config.json"
OUT=$(timeout -k 5 60 runc --root "$T/runc" run -b "$BW" "$ID" </dev/null 2>&1)
RC=$?
timeout 20 runc --root "$T/runc" delete -f "$ID" >/dev/null 2>&1
rec=$(hl_record "$ID")
if [ "$RC" = 0 ] && [ "$OUT" = v1 ] && grep -qF "\"$V2\"" "$BW/config.json" && [ "${rec%%$'\t'*}" = allow ] &&
	jq -e --arg id "$ID" --arg v1 "$V1" 'select(.container == $id) | .matched == $v1' "$T/decisions.jsonl" >/dev/null; then
	ok "config.json: rewritten after the decision to claim the unsigned image: the container ran what was judged (V1)"
else
	notok "config.json: rewritten after the decision" "exit $RC, output '$OUT', record '$rec'"
fi

# ------------------------------------------------------------- the record
if "$CLI" log verify "$T/decisions.jsonl" >"$T/out" 2>&1; then
	ok "decision log: every attempt above recorded, chain intact ($(sed 's/.*: //' "$T/out"))"
else
	notok "decision log: chain intact" "$(cat "$T/out")"
fi
hl_done
