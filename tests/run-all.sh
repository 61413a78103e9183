#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Every test of sigward, as CI runs them (root, packages from .ci/run installed):
#   1. build with -Werror and run all meson suites (unit + integration against
#      real runc, crun, podman, containerd, dockerd, nginx, docker-registry);
#   2. build with AddressSanitizer + UndefinedBehaviorSanitizer, run the unit tests;
#   3. the fuzzers for a bounded time, when present (tests/fuzz/run.sh: the
#      libFuzzer binaries meson builds in a clang build; the corpus replay is
#      already in step 1, suite fuzz);
# and print "tests: N passed, N failed" (a skipped test counts as failed: CI has
# every tool, so a skip means something is missing).
set -uo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
cd "$SRC"
export SIGWARD_REQUIRE_ALL=1
OUT=${SIGWARD_TEST_OUT:-$SRC/_build-tests}
mkdir -p "$OUT"
status=0

run() { echo "== $*"; "$@" || status=1; }
# Wall time of each phase, printed before the summary: CI must stay under 20
# minutes on 2 cores, and this shows where the time goes.
times=()
phase() { times+=("$1 $((SECONDS - phase_start))s"); phase_start=$SECONDS; }
phase_start=$SECONDS

rm -rf "$OUT/build" "$OUT/build-asan"
run meson setup "$OUT/build" -Dwerror=true -Dbuildtype=debugoptimized
run ninja -C "$OUT/build"
phase build
run meson test -C "$OUT/build" --print-errorlogs --num-processes 2
phase "all suites"

run meson setup "$OUT/build-asan" -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false
run ninja -C "$OUT/build-asan"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	run meson test -C "$OUT/build-asan" --suite unit --print-errorlogs
phase "asan+ubsan build and unit"

fuzz_pass=0 fuzz_fail=0
if [ -x tests/fuzz/run.sh ] || [ -f tests/fuzz/run.sh ]; then
	echo "== fuzzers"
	if bash tests/fuzz/run.sh "${SIGWARD_FUZZ_SECONDS:-12}"; then fuzz_pass=1; else fuzz_fail=1; status=1; fi
	phase fuzzers
fi
echo "time: ${times[*]/%/,} total ${SECONDS}s"

python3 - "$OUT/build/meson-logs/testlog.json" "$OUT/build-asan/meson-logs/testlog.json" "$fuzz_pass" "$fuzz_fail" <<'PY'
import json, sys
passed = failed = 0
for path, tag in ((sys.argv[1], ""), (sys.argv[2], " (asan+ubsan)")):
    try:
        lines = open(path).read().splitlines()
    except OSError:
        print(f"missing test log {path}")
        failed += 1
        continue
    for line in lines:
        t = json.loads(line)
        ok = t.get("result") == "OK"
        passed += ok
        failed += not ok
        if not ok:
            print(f"FAILED: {t.get('name')}{tag}: {t.get('result')}")
passed += int(sys.argv[3])
failed += int(sys.argv[4])
print(f"tests: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
rc=$?
[ $status = 0 ] || rc=1
exit $rc
