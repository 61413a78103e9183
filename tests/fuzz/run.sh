#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Timed fuzzing of the libFuzzer targets (tests/fuzz/fuzz_*.c), as built by meson
# (tests/fuzz/meson.build) in a clang build with AddressSanitizer and
# UndefinedBehaviorSanitizer: set it up (CC=clang-14 meson setup -Db_sanitize=
# address,undefined) unless it exists, build the fuzz_* binaries and their
# replay executables, replay each target's seed corpus and past findings
# (tests/fuzz/corpus/<target>/, regress/<target>/: every one must run clean),
# then fuzz each target for a bounded time from its corpus, two at a time.
# The same replay runs in every `meson test` (suite fuzz); this adds the
# sanitizers of the clang build and the fuzzing.
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
BUILD=$OUT/build
CC=${SIGWARD_FUZZ_CC:-clang-14}
JOBS=${SIGWARD_FUZZ_JOBS:-2}

skip() {
	echo "skip - fuzzers: $*"
	[ "${SIGWARD_REQUIRE_ALL:-0}" = 1 ] && exit 1
	exit 77
}
command -v "$CC" >/dev/null || skip "$CC not found (apt-get install clang-14 libclang-rt-14-dev)"
case $SECS in '' | *[!0-9]*) echo "usage: run.sh [SECONDS-PER-TARGET] [TARGET...]" >&2; exit 2 ;; esac

mkdir -p "$OUT/work"
TMPD=$(mktemp -d "${SIGWARD_FUZZ_TMP:-/dev/shm}/sigward-fuzz.XXXXXX" 2>/dev/null || mktemp -d)
trap 'rm -rf "$TMPD"' EXIT

if [ $# -gt 0 ]; then
	TARGETS=("$@")
else
	mapfile -t TARGETS < <(cd "$SRC/tests/fuzz" && ls fuzz_*.c | sed 's/^fuzz_\(.*\)\.c$/\1/')
fi

# The build: clang, the sanitizers, libFuzzer (tests/fuzz/meson.build builds the
# fuzz_* binaries only then). No -Werror: clang warns where gcc, the -Werror
# compiler of CI, does not.
status=0
if [ ! -f "$BUILD/build.ninja" ]; then
	if ! CC=$CC meson setup "$BUILD" -Dbuildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false \
		-Dman=disabled >"$OUT/work/setup.log" 2>&1; then
		cat "$OUT/work/setup.log"
		echo "not ok - fuzzers: meson setup"
		exit 1
	fi
fi
bins=()
for t in "${TARGETS[@]}"; do
	bins+=("tests/fuzz/fuzz_$t" "tests/fuzz/fuzz-replay-$t")
done
if ninja -C "$BUILD" -j "$JOBS" "${bins[@]}" >"$OUT/work/build.log" 2>&1; then
	echo "ok - build ${#TARGETS[@]} fuzz targets (meson, $CC, libFuzzer)"
else
	tail -40 "$OUT/work/build.log"
	echo "not ok - build fuzz targets"
	exit 1
fi

export TMPDIR=$TMPD
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
# The targets find their test data relative to the build directory.
cd "$BUILD" || exit 1

# The seed corpus and past findings first: each input runs once and must not crash.
for t in "${TARGETS[@]}"; do
	if timeout 300 "./tests/fuzz/fuzz-replay-$t" "$SRC/tests/fuzz/corpus/$t" "$SRC/tests/fuzz/regress/$t" \
		>"$OUT/work/replay-$t.log" 2>&1; then
		echo "ok - replay $t: $(sed -n 's/^replay: //p' "$OUT/work/replay-$t.log")"
	else
		tail -30 "$OUT/work/replay-$t.log"
		echo "not ok - replay $t (corpus and regress)"
		status=1
	fi
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
	timeout -k 10 $((SECS + 60)) "./tests/fuzz/fuzz_$t" -max_total_time="$SECS" -print_final_stats=1 -timeout=10 \
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
