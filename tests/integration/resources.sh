#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# resources.sh [SW-HOOK-NOSANDBOX [SW-FDLIST]]: resource safety of what runs on
# every container start (issue 7, item 4).
#
#  - valgrind memcheck on the hook's allow paths (first, fully verified decision
#    and the cached one), its deny paths (unlisted image, untrusted signature, no
#    list, disagreeing sources, malformed state, a FIFO config.json, a broken
#    configuration) and warn mode, and on CLI commands (allowlist build, check
#    allow and deny, log verify): no memory errors, no leak "definitely lost",
#    and only stdin, stdout and stderr open at exit (--track-fds). The hook runs
#    as sw-hook-nosandbox, the same sources with sw_sandbox_enter a no-op:
#    valgrind has no seccomp(2), and the real hook, correctly, refuses to decide
#    when it cannot enter its sandbox (checked here too).
#  - no descriptor leaks into the exec'd runtime: sigward-runc in front of
#    sw-fdlist (a stand-in runtime listing what it inherited) passes on exactly
#    0, 1, 2 and a descriptor its caller handed it (as containerd does), on the
#    deciding path (run) and the pass-through path (state);
#  - no descriptor leaks into the container: a container whose command lists
#    /proc/self/fd sees only 0, 1 and 2, behind sigward-runc -> runc and behind
#    runc with sigward-hook as its prestart hook.
# Exit 0 ok, 77 when a tool is missing (1 with SIGWARD_REQUIRE_ALL=1), 1 failed.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/harden-lib.sh
. "$HERE/harden-lib.sh"
hl_init resources valgrind runc umoci jq openssl busybox timeout mkfifo
HOOK_NS=${1:-$BUILD/tests/integration/sw-hook-nosandbox}
FDLIST=${2:-$BUILD/tests/integration/sw-fdlist}
for b in "$HOOK_NS" "$FDLIST"; do
	[ -x "$b" ] || { echo "not ok - $b is not built"; exit 1; }
done
HOOK_NS=$(realpath "$HOOK_NS")
FDLIST=$(realpath "$FDLIST")
hl_images
hl_keys

ISSUED=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
EXPIRES=$(date -u -d '+7 days' +%Y-%m-%dT%H:%M:%SZ)
ANN=io.kubernetes.cri.image-ref
CONF=$T/sigward.conf
hl_conf "$CONF"
hl_list good prod 5 "$ISSUED" "$EXPIRES" "registry.example/app:v1@$V1" \
	$(for i in $(seq 1 30); do echo "sha256:$(echo "$i" | sha256sum | cut -c1-64)"; done)
hl_sign good k1 k2
hl_install good
B1=$(hl_bundle v1 "$T/u1/rootfs" "{\"$ANN\": \"$V1\"}")
B2=$(hl_bundle v2 "$T/u2/rootfs" "{\"$ANN\": \"$V2\"}")

# Run a command with nothing but 0, 1 and 2 open (whatever this script inherited
# is not the command's to account for).
clean_exec() {
	(
		for fd in $(ls /proc/$BASHPID/fd); do
			[ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
		done
		exec "$@"
	)
}

# vg NAME WANT-EXIT STDIN-FILE CMD...: memcheck, leaks "definitely lost" are
# errors, descriptors tracked.
vg() {
	local name=$1 want=$2 in=$3
	shift 3
	VG_SEQ=$((${VG_SEQ:-0} + 1))
	local log=$T/vg-$VG_SEQ-%p.log
	clean_exec timeout -k 5 300 valgrind --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
		--error-exitcode=99 --track-fds=yes --log-file="$log" "$@" <"$in" >"$T/vg.out" 2>&1
	local rc=$? bad="" f
	for f in "$T"/vg-$VG_SEQ-*.log; do
		[ -f "$f" ] || { bad="no valgrind log"; continue; }
		grep -q "ERROR SUMMARY: 0 errors" "$f" || bad="$bad memory errors or leaks;"
		grep -q "definitely lost: [1-9]" "$f" && bad="$bad definitely lost;"
		# Open at exit: the three standard ones and valgrind's own log, nothing else.
		grep -q "FILE DESCRIPTORS: [0-9]* open (3 std) at exit" "$f" || bad="$bad no descriptor report;"
		grep -E "Open (file descriptor|AF_[A-Z0-9]+ socket) [0-9]+" "$f" | grep -vF "$f" | grep -qvE "descriptor [012]:" &&
			bad="$bad descriptors left open;"
	done
	if [ "$rc" = "$want" ] && [ -z "$bad" ]; then
		ok "valgrind: $name"
	else
		notok "valgrind: $name" "exit $rc (want $want)$bad" "$(cat "$T/vg.out")" \
			"$(grep -hE 'ERROR SUMMARY|definitely|Open file descriptor|Invalid|uninitialised|at 0x|by 0x' "$T"/vg-$VG_SEQ-*.log | head -30)"
	fi
}

state_file() { # state_file NAME ID BUNDLE
	hl_state "$2" "$3" >"$T/$1.state"
	echo "$T/$1.state"
}

# ------------------------------------------------------------- the real hook
hl_id
OUT=$(hl_state "$ID" "$B1" | valgrind -q "$HOOK" --config "$CONF" 2>&1)
RC=$?
if [ "$RC" = 1 ] && grep -q "sandbox" <<<"$OUT"; then
	ok "the real hook under valgrind (no seccomp) refuses to decide: fail closed"
else
	notok "the real hook under valgrind (no seccomp) refuses to decide" "exit $RC" "$OUT"
fi

# ------------------------------------------------------- hook: allow paths
hl_id
vg "hook allow, full signature verification (2 keys), cache written" 0 "$(state_file a1 "$ID" "$B1")" "$HOOK_NS" --config "$CONF"
[ -f "$T/state/verified" ] || notok "verification cache written" "no $T/state/verified"
hl_id
vg "hook allow, cached verification" 0 "$(state_file a2 "$ID" "$B1")" "$HOOK_NS" --config "$CONF"
hl_conf "$T/nocache.conf" verify_cache=no
hl_id
vg "hook allow, verify_cache = no" 0 "$(state_file a3 "$ID" "$B1")" "$HOOK_NS" --config "$T/nocache.conf"

# -------------------------------------------------------- hook: deny paths
hl_id
vg "hook deny: unlisted image" 1 "$(state_file d1 "$ID" "$B2")" "$HOOK_NS" --config "$CONF"
hl_conf "$T/warn.conf" mode=warn
hl_id
vg "hook warn mode: unlisted image allowed with a warning" 0 "$(state_file d2 "$ID" "$B2")" "$HOOK_NS" --config "$T/warn.conf"
hl_list untrusted prod 6 "$ISSUED" "$EXPIRES" "$V1" "$V2"
hl_sign untrusted kx
hl_install untrusted
hl_id
vg "hook deny: list signed by an untrusted key" 1 "$(state_file d3 "$ID" "$B1")" "$HOOK_NS" --config "$CONF"
rm "$T/lists/current"
hl_id
vg "hook deny: no list installed" 1 "$(state_file d4 "$ID" "$B1")" "$HOOK_NS" --config "$CONF"
hl_install good
BS=$(hl_bundle spoof "$T/u2/rootfs" "{\"$ANN\": \"$V1\", \"io.kubernetes.cri-o.ImageRef\": \"${C2#sha256:}\"}")
hl_id
vg "hook deny: sources disagree" 1 "$(state_file d5 "$ID" "$BS")" "$HOOK_NS" --config "$CONF"
printf '{"id":"x","bundle":"/tmp","annotations":{"a":[1,2,{"b":null}]},"id":"y"}' >"$T/bad.state"
vg "hook deny: malformed state (duplicate key)" 1 "$T/bad.state" "$HOOK_NS" --config "$CONF"
mkdir -p "$T/b/fifo"
mkfifo "$T/b/fifo/config.json"
hl_id
vg "hook deny: config.json a FIFO" 1 "$(state_file d6 "$ID" "$T/b/fifo")" "$HOOK_NS" --config "$CONF"
printf '[sigward]\nscope = prod\nbogus = 1\n' >"$T/broken.conf"
hl_id
vg "hook deny: broken configuration" 1 "$(state_file d7 "$ID" "$B1")" "$HOOK_NS" --config "$T/broken.conf"

# -------------------------------------------------------------------- CLI
printf 'sha256:%s\nregistry.example/b@sha256:%s\n' "$(echo a | sha256sum | cut -c1-64)" "$(echo b | sha256sum | cut -c1-64)" >"$T/cli.in"
vg "sigward allowlist build" 0 /dev/null "$CLI" allowlist build --scope prod --serial 9 --expires 1d --out "$T/cli-list" "$T/cli.in"
vg "sigward check: allow" 0 /dev/null "$CLI" check --config "$CONF" --bundle "$B1" --id cli-1
vg "sigward check: deny" 1 /dev/null "$CLI" check --config "$CONF" --bundle "$B2" --id cli-2
vg "sigward log verify" 0 /dev/null "$CLI" log verify "$T/decisions.jsonl"

# ----------------------------------------- descriptors into the exec'd runtime
hl_conf "$T/wrap.conf" extra="
[runtime]
path = $FDLIST"
fds_are() { # fds_are NAME FILE WANT...: the fd numbers listed in FILE are exactly WANT
	local name=$1 file=$2
	shift 2
	local got
	got=$(awk '{print $1}' "$file" 2>/dev/null | sort -n | tr '\n' ' ')
	if [ "$got" = "$* " ]; then
		ok "$name"
	else
		notok "$name" "got: $got, want: $*" "$(cat "$file" 2>/dev/null)"
	fi
}
hl_id
rm -f "$T/fds"
OUT=$(SIGWARD_CONFIG=$T/wrap.conf SW_FDLIST_OUT=$T/fds clean_exec bash -c 'exec 5</dev/null; exec "$@"' sh \
	"$WRAP" --root "$T/runc" --log "$T/runc-log.json" --log-format json run -b "$B1" "$ID" 2>&1)
RC=$?
[ "$RC" = 0 ] || notok "sigward-runc run: allowed and exec'ed the runtime" "exit $RC" "$OUT"
fds_are "sigward-runc run (decides, then execs): the runtime inherits only 0 1 2 and the caller's 5" "$T/fds" 0 1 2 5
rm -f "$T/fds"
OUT=$(SIGWARD_CONFIG=$T/wrap.conf SW_FDLIST_OUT=$T/fds clean_exec bash -c 'exec 5</dev/null; exec "$@"' sh \
	"$WRAP" --root "$T/runc" state "$ID" 2>&1)
fds_are "sigward-runc state (pass-through): the runtime inherits only 0 1 2 and the caller's 5" "$T/fds" 0 1 2 5

# ---------------------------------------------- descriptors into the container
# busybox ls -l /proc/self/fd inside the container: its own directory fd aside,
# the container must see exactly 0, 1 and 2.
container_fds() { # container_fds NAME OUTPUT
	local name=$1 got
	got=$(awk -F' -> ' '/ -> / { n = split($1, a, " "); if ($2 !~ "^/proc/[0-9]+/fd$") print a[n] }' <<<"$2" | sort -n | tr '\n' ' ')
	if [ "$got" = "0 1 2 " ]; then
		ok "$name"
	else
		notok "$name" "got: $got" "$2"
	fi
}
hl_conf "$T/wrap-runc.conf" extra="
[runtime]
path = $(command -v runc)"
BL=$(hl_bundle lsfd "$T/u1/rootfs" "{\"$ANN\": \"$V1\"}" /bin/ls -l /proc/self/fd)
hl_id
OUT=$(SIGWARD_CONFIG=$T/wrap-runc.conf clean_exec timeout -k 5 60 "$WRAP" --root "$T/runc" run -b "$BL" "$ID" </dev/null 2>&1)
RC=$?
timeout 20 runc --root "$T/runc" delete -f "$ID" >/dev/null 2>&1
[ "$RC" = 0 ] && container_fds "sigward-runc -> runc: the container sees only 0 1 2" "$OUT" ||
	notok "sigward-runc -> runc: the container sees only 0 1 2" "exit $RC" "$OUT"
hl_id
hl_runc "$CONF" "$ID" "$BL"
[ "$RC" = 0 ] && container_fds "runc with the sigward-hook prestart hook: the container sees only 0 1 2" "$OUT" ||
	notok "runc with the sigward-hook prestart hook: the container sees only 0 1 2" "exit $RC" "$OUT"
hl_done
