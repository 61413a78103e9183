#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Build the libFuzzer targets (tests/fuzz/fuzz_*.c) with clang-14 and
# -fsanitize=fuzzer,address,undefined directly against lib/'s sources, replay
# the crash reproducers in tests/fuzz/regress/<target>/ (every one a past
# finding: it must now run clean), then fuzz each target for a bounded time
# from its seed corpus tests/fuzz/corpus/<target>/, two at a time.
#
#   bash tests/fuzz/run.sh [SECONDS-PER-TARGET] [TARGET...]
#
# Prints "ok - ..."/"not ok - ..." per step, the executions per target and
# "fuzz: N executions in total"; exits 0 when nothing crashed, leaked or
# timed out, 1 otherwise (the crashing input is kept and named), 77 when clang-14
# or libFuzzer is missing (a failure when SIGWARD_REQUIRE_ALL=1).
# New corpus entries go to the build directory, never into the repository.
set -uo pipefail

SECS=${1:-12}
shift || true
SRC=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${SIGWARD_FUZZ_OUT:-$SRC/_build-fuzz}
CC=${SIGWARD_FUZZ_CC:-clang-14}
JOBS=${SIGWARD_FUZZ_JOBS:-2}

skip() {
	echo "skip - fuzzers: $*"
	[ "${SIGWARD_REQUIRE_ALL:-0}" = 1 ] && exit 1
	exit 77
}
command -v "$CC" >/dev/null || skip "$CC not found (apt-get install clang-14 libclang-rt-14-dev)"
case $SECS in '' | *[!0-9]*) echo "usage: run.sh [SECONDS-PER-TARGET] [TARGET...]" >&2; exit 2 ;; esac

mkdir -p "$OUT/obj" "$OUT/bin" "$OUT/work"
TMPD=$(mktemp -d "${SIGWARD_FUZZ_TMP:-/dev/shm}/sigward-fuzz.XXXXXX" 2>/dev/null || mktemp -d)
trap 'rm -rf "$TMPD"' EXIT

CFLAGS=(-std=gnu11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE '-DSIGWARD_VERSION="fuzz"'
	-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
	-Wno-missing-field-initializers
	-fsanitize=address,undefined -fno-sanitize-recover=undefined -I"$SRC/lib")
LIBS=$(pkg-config --libs libcrypto yajl libseccomp libcap libcurl zlib 2>/dev/null) ||
	skip "pkg-config cannot find libcrypto yajl libseccomp libcap libcurl zlib"

# The library: every source lib/meson.build lists, instrumented for coverage.
mapfile -t LIBSRC < <(sed -n "s/^[[:space:]]*'\([a-z_]*\.c\)',\{0,1\}[[:space:]]*$/\1/p" "$SRC/lib/meson.build")
[ ${#LIBSRC[@]} -gt 0 ] || { echo "not ok - fuzzers: no sources found in lib/meson.build"; exit 1; }
status=0
objs=()
running=0
for f in "${LIBSRC[@]}"; do
	o="$OUT/obj/${f%.c}.o"
	objs+=("$o")
	if [ ! -e "$o" ] || [ "$SRC/lib/$f" -nt "$o" ] || [ "$0" -nt "$o" ] ||
		[ -n "$(find "$SRC/lib" -name '*.h' -newer "$o" -print -quit)" ]; then
		rm -f "$o"
		"$CC" "${CFLAGS[@]}" -fsanitize=fuzzer-no-link -c "$SRC/lib/$f" -o "$o" &
		running=$((running + 1))
		if [ $running -ge "$JOBS" ]; then
			wait -n || status=1
			running=$((running - 1))
		fi
	fi
done
while [ $running -gt 0 ]; do
	wait -n || status=1
	running=$((running - 1))
done
[ $status = 0 ] || { echo "not ok - fuzzers: library build"; exit 1; }
rm -f "$OUT/libsigward-fuzz.a"
ar rcs "$OUT/libsigward-fuzz.a" "${objs[@]}" || exit 1

if [ $# -gt 0 ]; then
	TARGETS=("$@")
else
	mapfile -t TARGETS < <(cd "$SRC/tests/fuzz" && ls fuzz_*.c | sed 's/^fuzz_\(.*\)\.c$/\1/')
fi

for t in "${TARGETS[@]}"; do
	if "$CC" "${CFLAGS[@]}" -fsanitize=fuzzer "$SRC/tests/fuzz/fuzz_$t.c" "$OUT/libsigward-fuzz.a" $LIBS \
		-o "$OUT/bin/fuzz_$t" 2>"$OUT/work/build-$t.log"; then
		echo "ok - build fuzz_$t"
	else
		cat "$OUT/work/build-$t.log"
		echo "not ok - build fuzz_$t"
		status=1
	fi
done
[ $status = 0 ] || exit 1

export TMPDIR=$TMPD
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# Past findings first: each reproducer runs once and must not crash.
for t in "${TARGETS[@]}"; do
	d="$SRC/tests/fuzz/regress/$t"
	[ -d "$d" ] || continue
	for f in "$d"/*; do
		[ -f "$f" ] || continue
		if timeout 60 "$OUT/bin/fuzz_$t" -rss_limit_mb=4096 "$f" >"$OUT/work/regress-$t.log" 2>&1; then
			echo "ok - regress $t/$(basename "$f")"
		else
			tail -30 "$OUT/work/regress-$t.log"
			echo "not ok - regress $t/$(basename "$f")"
			status=1
		fi
	done
done

# Per-target input size limits: big enough for a realistic document of each kind.
max_len() {
	case $1 in
	storage | docker | ctrmeta) echo 16384 ;;
	bundle | config | manifest | entries | registry | wiring) echo 8192 ;;
	*) echo 4096 ;;
	esac
}

fuzz_one() {
	local t=$1 w="$OUT/work/$1"
	mkdir -p "$w/corpus"
	rm -f "$w"/crash-* "$w"/leak-* "$w"/timeout-* "$w"/oom-*
	local seeds=()
	[ -d "$SRC/tests/fuzz/corpus/$t" ] && seeds=("$SRC/tests/fuzz/corpus/$t")
	# -timeout: no single input may take a second (a hang is a finding);
	# the outer timeout bounds everything else.
	timeout -k 10 $((SECS + 60)) "$OUT/bin/fuzz_$t" -max_total_time="$SECS" -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=2048 -max_len="$(max_len "$t")" -artifact_prefix="$w/" \
		"$w/corpus" "${seeds[@]}" >"$w/log" 2>&1
	echo $? >"$w/rc"
}

if [ "$SECS" -gt 0 ]; then
	running=0
	for t in "${TARGETS[@]}"; do
		fuzz_one "$t" &
		running=$((running + 1))
		if [ $running -ge "$JOBS" ]; then
			wait -n
			running=$((running - 1))
		fi
	done
	wait

	total=0
	for t in "${TARGETS[@]}"; do
		w="$OUT/work/$t"
		rc=$(cat "$w/rc" 2>/dev/null || echo 1)
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$w/log" | tail -1)
		execs=${execs:-0}
		total=$((total + execs))
		corpus=$(find "$w/corpus" -type f | wc -l)
		if [ "$rc" = 0 ]; then
			echo "ok - fuzz $t: $execs executions in ${SECS}s, corpus $corpus"
		else
			grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$w/log" | head -5
			tail -40 "$w/log"
			echo "not ok - fuzz $t (exit $rc): input kept in $(ls "$w"/crash-* "$w"/leak-* "$w"/timeout-* "$w"/oom-* 2>/dev/null | tr '\n' ' ')"
			status=1
		fi
	done
	echo "fuzz: $total executions in total"
fi
exit $status
