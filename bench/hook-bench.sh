#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Per-start cost of sigward-hook's allow decision with 10 000 and 1 000 000 entries,
# as ratios to a static no-op process timed in the same interleaved run.
#
# usage: bench/hook-bench.sh [BUILD_DIR] [RUNS]
# Targets (issue 17): hook@10k <= 1.8x the no-op (it was 2.3x; 1.6x since sigward-hook
# has no libcrypto); hook@1M <= 1.1x hook@10k (it was 1.2x before the list index,
# bench/PROFILE.md).
# Exit 1 when a target is missed. (Instruction counts with callgrind need a build
# whose hook does not enter its seccomp sandbox: valgrind's own system calls are
# outside the allow-list.)
set -euo pipefail
BUILD=$(realpath "${1:-build}")
RUNS=${2:-300}
HOOK=$BUILD/hook/sigward-hook
CLI=$BUILD/cli/sigward
for f in "$HOOK" "$CLI" "$BUILD/bench/spawnbench" "$BUILD/bench/noop-static" "$BUILD/bench/with-stdin"; do
	[ -x "$f" ] || { echo "hook-bench: $f missing: build first (meson setup build && ninja -C build)" >&2; exit 2; }
done

T=$(mktemp -d /tmp/sigward-bench.XXXXXX)
[ -n "${SIGWARD_BENCH_KEEP:-}" ] || trap 'rm -rf "$T"' EXIT

openssl ecparam -genkey -name prime256v1 -noout -out "$T/key.pem" 2>/dev/null
mkdir -p "$T/keys" "$T/bundle"
openssl pkey -in "$T/key.pem" -pubout -out "$T/keys/bench.pub"

# N random digests, one per line.
gen() { head -c $(($1 * 32)) /dev/urandom | od -An -v -tx1 -w32 | tr -d ' ' | sed 's/^/sha256:/'; }

# The container's image: one digest, listed in both lists.
DIGEST=$(gen 1)
printf '{"ociVersion":"1.0.2","annotations":{"io.kubernetes.cri.image-name":"registry.example/app@%s"}}\n' "$DIGEST" \
	> "$T/bundle/config.json"
printf '{"ociVersion":"1.0.2","id":"bench","status":"creating","pid":1,"bundle":"%s"}\n' "$T/bundle" > "$T/state.json"

setup() { # NAME N
	local d="$T/$1"
	mkdir -p "$d/lists" "$d/state"
	{ gen $(($2 - 1)); echo "$DIGEST"; } > "$d/input"
	"$CLI" allowlist build --scope bench --serial 1 --expires 30d --out "$d/lists/gen-1" "$d/input"
	openssl dgst -sha256 -sign "$T/key.pem" "$d/lists/gen-1/manifest" | base64 -w0 > "$d/lists/gen-1/manifest.sig"
	echo >> "$d/lists/gen-1/manifest.sig"
	ln -s gen-1 "$d/lists/current"
	cat > "$d/sigward.conf" <<CONF
[sigward]
mode = enforce
scope = bench
keys_dir = $T/keys
lists_dir = $d/lists
state_dir = $d/state
log_file = $d/decisions.jsonl
syslog = no
[resolve]
annotations = io.kubernetes.cri.image-name
containers_storage = no
docker = no
containerd = no
CONF
	# Must allow (exit 0); this first run also fills the verification cache.
	"$HOOK" --config "$d/sigward.conf" < "$T/state.json"
	printf '%-5s %8s entries: manifest %8s bytes, entries %9s bytes, %s bins\n' "$1" "$2" \
		"$(stat -c %s "$d/lists/gen-1/manifest")" "$(stat -c %s "$d/lists/gen-1/entries")" \
		"$(sed -n 's/^bins //p' "$d/lists/gen-1/manifest")"
}

setup 10k 10000
setup 1m 1000000
# The same 10k list verified in full on every start (no verification cache).
sed 's/^syslog = no$/syslog = no\nverify_cache = no/' "$T/10k/sigward.conf" > "$T/10k/nocache.conf"

echo
echo "wall time, $RUNS interleaved runs each, stdin = the OCI state:"
OUT=$("$BUILD/bench/spawnbench" "$RUNS" "$T/state.json" \
	-- noop "$BUILD/bench/noop-static" \
	-- hook-10k "$HOOK" --config "$T/10k/sigward.conf" \
	-- hook-1m "$HOOK" --config "$T/1m/sigward.conf" \
	-- hook-10k-nocache "$HOOK" --config "$T/10k/nocache.conf" 2>&1)
echo "$OUT"

ratio() { echo "$OUT" | awk -v n="$1" '$1 == n { print $6 }'; }   # by median
R10K=$(ratio hook-10k)
R1M=$(ratio hook-1m)
SCALE=$(awk -v a="$R1M" -v b="$R10K" 'BEGIN { printf "%.2f", a / b }')
echo
echo "hook-10k / noop       = ${R10K}x (target <= 1.8)"
echo "hook-1m  / hook-10k   = ${SCALE}x (target <= 1.1)"
# The same by CPU time (user + system of each run): steadier than wall time
# on a machine other work keeps busy; bench/PROFILE.md says where it goes.
C10K=$(echo "$OUT" | awk '$1 == "hook-10k" { print $8 }')
C1M=$(echo "$OUT" | awk '$1 == "hook-1m" { print $8 }')
echo "by CPU time: hook-10k / noop = ${C10K}x, hook-1m / hook-10k = $(awk -v a="$C1M" -v b="$C10K" 'BEGIN { printf "%.2f", a / b }')x"

# The same comparison with hyperfine (-N: no shell, so no shell start-up to
# subtract, which at a millisecond is noise). Debian 12's hyperfine (1.15) has no
# --input and gives commands /dev/null as stdin, so every command, the no-op
# included, runs behind bench/with-stdin (one extra static exec each: the ratios
# are a little lower than spawnbench's). spawnbench above stays the measure the
# targets are judged on.
if command -v hyperfine >/dev/null && [ "${SIGWARD_BENCH_HYPERFINE:-1}" = 1 ]; then
	W=$BUILD/bench/with-stdin
	echo
	echo "hyperfine -N, $RUNS runs each, every command behind with-stdin:"
	if hyperfine -N --warmup 20 --runs "$RUNS" --style none --export-json "$T/hf.json" \
		-n noop "$W $T/state.json $BUILD/bench/noop-static" \
		-n hook-10k "$W $T/state.json $HOOK --config $T/10k/sigward.conf" \
		-n hook-1m "$W $T/state.json $HOOK --config $T/1m/sigward.conf" >/dev/null 2>"$T/hf.err"; then
		python3 - "$T/hf.json" <<'PY'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(sys.argv[1]))["results"]}
print("command           median ms  ratio")
for n in ("noop", "hook-10k", "hook-1m"):
    print("%-16s %10.3f  %5.2f" % (n, r[n] * 1e3, r[n] / r["noop"]))
print("hook-10k / noop       = %.2fx, hook-1m / hook-10k = %.2fx (hyperfine)" % (
    r["hook-10k"] / r["noop"], r["hook-1m"] / r["hook-10k"]))
PY
	else
		echo "hyperfine failed: $(tail -1 "$T/hf.err")"
	fi
fi

fail=0
awk -v r="$R10K" 'BEGIN { exit !(r <= 1.8) }' || { echo "hook-bench: target missed: hook-10k is ${R10K}x the no-op" >&2; fail=1; }
awk -v r="$SCALE" 'BEGIN { exit !(r <= 1.1) }' || { echo "hook-bench: target missed: 1M entries is ${SCALE}x 10k" >&2; fail=1; }
exit $fail
