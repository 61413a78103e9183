#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest.sh: `sigward selftest` (heartbeats and canaries) and `sigward audit`
# step 9 on real runc and crun with the hook, and on sigward-runc as containerd's
# BinaryName and Docker's runtime (the wiring is read from files written here;
# containerd and dockerd themselves are not needed: the canary runs the binary
# they are configured with, as they would).
#
#  1. a wired, enforcing node: every canary (runc+hook, crun+hook, containerd's
#     and Docker's sigward-runc) is refused, each with a deny record of its own
#     before the heartbeat; the heartbeat (mode, list, wiring, canaries) is in the
#     chain (`log verify`), `log show` prints it; the Prometheus textfile says the
#     same; sigwardd --once exports the heartbeat's age; nothing is left behind;
#  2. two heartbeats in a row: the audit's step 9 has no finding and
#     report.json's liveness says live;
#  3. the node unwired for a while: the hooks.d file made to run /bin/true and
#     containerd's BinaryName set back to runc, no heartbeat for longer than
#     interval x tolerance (10 s x 2: the scaled-down week); the self-test then
#     reports the hook canaries NOT refused (exit 1, the created containers
#     deleted at once) and the audit reports the gap and those canaries as
#     findings, with the heartbeats' times, and liveness says not live;
#  4. a heartbeat edited to look refused breaks the chain.
# crun runs in a private mount namespace with a pure cgroup2 mount (it refuses
# this machine's hybrid layout; docs/runtimes.md).
set -u
. "$(dirname "$0")/runtimes-lib.sh"
rt_init selftest runc crun jq openssl
rt_key
rt_conf "$T/sw.conf"
cat >>"$T/sw.conf" <<EOF

[selftest]
interval = 10s
tolerance = 2
metrics_file = $T/metrics/selftest.prom

[refresh]
source = file://$T/l/gen-1
status_file = $T/metrics/refresh.json
metrics_file = $T/metrics/refresh.prom
staging_dir = $T/staging
EOF
mkdir -p "$T/metrics" "$T/hooks.d"
LISTED=sha256:$(printf '%064d' 1)
rt_list 1 "$LISTED"
LOG=$T/decisions.jsonl

hookfile() { # PATH: the hooks.d file naming PATH as the hook
	jq -n --arg p "$1" --arg c "$T/sw.conf" \
		'{version: "1.0.0", hook: {path: $p, args: ["sigward-hook", "--config", $c], timeout: 15},
		  when: {always: true}, stages: ["prestart"]}' >"$T/hooks.d/sigward.json"
}
containerd_conf() { # BINARY
	printf 'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n  BinaryName = "%s"\n' \
		"$1" >"$T/ctrd.toml"
}
hookfile "$HOOK"
containerd_conf "$WRAP"
jq -n --arg w "$WRAP" '{runtimes: {sigward: {path: $w}}, "default-runtime": "sigward"}' >"$T/daemon.json"

# selftest: one run of the real command; $OUT, $RC, $HB (the newest heartbeat).
selftest() {
	OUT=$(timeout -k 5 180 unshare -m sh -c 'umount -l /sys/fs/cgroup 2>/dev/null; mount -t cgroup2 none /sys/fs/cgroup &&
		exec "$@"' sh "$CLI" selftest --config "$T/sw.conf" --hooks-dir "$T/hooks.d" \
		--containerd-config "$T/ctrd.toml" --docker-config "$T/daemon.json" 2>&1)
	RC=$?
	HB=$(jq -c 'select(.kind == "heartbeat")' "$LOG" 2>/dev/null | tail -1)
}
t_of() { jq -r .time <<<"$1"; }
audit() { # OUT-DIR SINCE: the audit, $ARC its exit status
	"$CLI" audit --config "$T/sw.conf" --out "$1" --since "$2" --hooks-dir "$T/hooks.d" \
		--containerd-config "$T/ctrd.toml" --docker-config "$T/daemon.json" --runc-root "$T/no-runc" \
		>"$1.out" 2>&1
	ARC=$?
	[ -f "$1/report.json" ] || bail "the audit wrote no report.json" "$(cat "$1.out")"
}
step9() { jq -r '.sections[] | select(.step == 9) | .findings[]' "$1/report.json"; }

START=$(date -u +%FT%TZ)

# ---- 1. a wired, enforcing node ----
selftest
[ "$RC" = 0 ] && ok "selftest on a wired node exits 0" || notok "selftest on a wired node exits 0 (got $RC)" "$OUT"
HB1=$HB
# The second heartbeat at once (step 2 below): between the two lies only the
# self-test itself, whatever the machine's load.
selftest
HB2=$HB
[ "$RC" = 0 ] && [ -n "$HB2" ] && [ "$HB2" != "$HB1" ] && ok "a second selftest exits 0 with its own heartbeat" ||
	notok "a second selftest" "$OUT"
[ -n "$HB1" ] || bail "no heartbeat record in $LOG" "$OUT"
[ "$(tail -1 "$LOG")" = "$HB2" ] && ok "the heartbeat is the newest record" ||
	notok "the heartbeat is the newest record" "$(tail -1 "$LOG")"
got=$(jq -r '[.mode, (.allowlist.scope + "#" + (.allowlist.serial | tostring)), .interval, .tolerance] | join(" ")' <<<"$HB1")
[ "$got" = "enforce test#1 10 2" ] && ok "heartbeat: mode, list, interval, tolerance ($got)" ||
	notok "heartbeat: mode, list, interval, tolerance" "$got"
got=$(jq -r '[.wiring[] | "\(.name)=\(.wired)"] | join(" ")' <<<"$HB1")
[ "$got" = "hooks.d=true containerd=true docker=true" ] && ok "heartbeat: wiring ($got)" || notok "heartbeat: wiring" "$got"
got=$(jq -r '[.canaries[] | "\(.runtime)/\(.path)=\(.result)"] | join(" ")' <<<"$HB1")
[ "$got" = "runc/hooks.d=refused crun/hooks.d=refused runc/containerd=refused runc/docker=refused" ] &&
	ok "four canaries, each refused: $got" || notok "four canaries, each refused" "$got" "$OUT"
# Each canary's own deny record, written by the hook or sigward-runc, comes
# before the heartbeat, with the canary's random digest; no two digests alike.
bad=
n=0
for c in $(jq -r '.canaries[] | "\(.container)=\(.digest)"' <<<"$HB1"); do
	id=${c%%=*} dg=${c#*=}
	n=$((n + 1))
	rec=$(rt_record "$id")
	[ "$(jq -r '.decision + " " + .digests[0].digest' <<<"$rec" 2>/dev/null)" = "deny $dg" ] || bad="$bad $id:$rec"
	grep -qF "\"$dg\"" "$T/l/gen-1.in" && bad="$bad $dg-listed"
done
[ "$n" = 4 ] && [ -z "$bad" ] && [ "$(jq -r '.canaries[].digest' <<<"$HB1" | sort -u | wc -l)" = 4 ] &&
	ok "each canary has its own deny record with its random digest" || notok "each canary's deny record" "$bad"
[ "$(grep -n . "$LOG" | grep '"kind":"heartbeat"' | tail -1 | cut -d: -f1)" = "$(wc -l <"$LOG")" ] &&
	[ "$(jq -r 'select(.decision == "deny") | .container' "$LOG" | grep -c "^sigward-canary-")" = 8 ] &&
	ok "the deny records precede the heartbeat" || notok "the deny records precede the heartbeat"
"$CLI" log verify --config "$T/sw.conf" >"$T/verify.out" 2>&1 &&
	ok "log verify: decisions and the heartbeat in one intact chain ($(cat "$T/verify.out"))" ||
	notok "log verify" "$(cat "$T/verify.out")"
"$CLI" log show --config "$T/sw.conf" | grep -q "alive .*(heartbeat).*mode enforce, list test#1, canaries: runc via hooks.d refused, crun via hooks.d refused" &&
	ok "log show prints the heartbeat" || notok "log show prints the heartbeat" "$("$CLI" log show --config "$T/sw.conf" 2>&1 | tail -3)"
st=$("$CLI" status --config "$T/sw.conf" --hooks-dir "$T/hooks.d" 2>&1)
grep -q "^selftest: *last heartbeat .*, within the 20s allowed: 4 of 4 canaries refused, mode enforce" <<<"$st" &&
	! grep -q unreadable <<<"$st" &&
	[ "$("$CLI" status --config "$T/sw.conf" --json 2>/dev/null | jq -c '.selftest | [.canaries, .refused, .late, .mode]')" = '[4,4,false,"enforce"]' ] &&
	ok "status shows the last heartbeat (text and --json), not as an unreadable line" ||
	notok "status shows the last heartbeat" "$(grep -E 'selftest|24h' <<<"$st")"
M=$T/metrics/selftest.prom
ts=$(date -d "$(t_of "$HB2")" +%s)
grep -qx "sigward_heartbeat_timestamp_seconds $ts" "$M" &&
	[ "$(grep -c '^sigward_canary_last_result{.*} 1$' "$M")" = 4 ] &&
	grep -qx 'sigward_canary_last_result{path="hooks.d",runtime="crun"} 1' "$M" &&
	[ "$(grep -c "^sigward_canary_last_timestamp_seconds{.*} $ts\$" "$M")" = 4 ] &&
	grep -qx 'sigward_mode_enforce 1' "$M" && grep -qx 'sigward_wired_paths 3' "$M" &&
	grep -qx 'sigward_heartbeat_max_gap_seconds 20' "$M" &&
	ok "metrics: heartbeat timestamp, 4 canaries refused (1), their time, mode, wiring, max gap" ||
	notok "metrics" "$(grep -v '^#' "$M")"
timeout 60 "$BUILD/daemon/sigwardd" --config "$T/sw.conf" --once >"$T/d.out" 2>&1
age=$(sed -n 's/^sigward_heartbeat_age_seconds //p' "$T/metrics/refresh.prom" 2>/dev/null)
[ -n "$age" ] && [ "$age" -ge 0 ] && [ "$age" -lt 60 ] && ok "sigwardd exports the heartbeat's age ($age s)" ||
	notok "sigwardd exports the heartbeat's age" "$(cat "$T/d.out" "$T/metrics/refresh.prom" 2>&1 | tail -5)"
nonce=$(jq -r '.canaries[0].container' <<<"$HB2" | cut -d- -f3)
[ ! -e "/tmp/sigward-selftest.$nonce" ] && ! grep -q "STILL THERE" <<<"$OUT" &&
	ok "nothing left behind (/tmp/sigward-selftest.$nonce removed)" || notok "nothing left behind" "$OUT"

# ---- 2. two heartbeats within the interval: live ----
UNTIL=$(date -u +%FT%TZ)
"$CLI" audit --config "$T/sw.conf" --out "$T/a1" --since "$START" --until "$UNTIL" --hooks-dir "$T/hooks.d" \
	--containerd-config "$T/ctrd.toml" --docker-config "$T/daemon.json" --runc-root "$T/no-runc" >"$T/a1.out" 2>&1
[ -f "$T/a1/report.json" ] || bail "the audit wrote no report.json" "$(cat "$T/a1.out")"
got=$(jq -c '.liveness | [.heartbeats, .canaries, .canaries_refused, (.gaps | length), (.canaries_failed | length), .live]' "$T/a1/report.json")
[ "$got" = "[2,8,8,0,0,true]" ] && [ -z "$(step9 "$T/a1")" ] &&
	ok "audit: 2 heartbeats, 8 canaries refused, no gap, step 9 without finding, live ($got)" ||
	notok "audit of a live node" "$got" "$(step9 "$T/a1")"
[ "$(wc -l <"$T/a1/evidence/heartbeats.jsonl")" = 2 ] && grep -qF "$HB2" "$T/a1/evidence/heartbeats.jsonl" &&
	ok "evidence/heartbeats.jsonl holds the period's heartbeats as written" || notok "evidence/heartbeats.jsonl"

# ---- 3. unwired for longer than interval x tolerance ----
hookfile /bin/true            # the hooks.d file disarmed: its hook allows everything
containerd_conf /usr/sbin/runc  # containerd no longer through sigward-runc
sleep 21
selftest
HB3=$HB
[ "$RC" = 1 ] && ok "selftest on the unwired node exits 1" || notok "selftest on the unwired node exits 1 (got $RC)" "$OUT"
got=$(jq -r '[.canaries[] | "\(.runtime)/\(.path)=\(.result)"] | join(" ")' <<<"$HB3")
[ "$got" = "runc/hooks.d=not-refused crun/hooks.d=not-refused runc/docker=refused" ] &&
	ok "canaries through the disarmed hook NOT refused, Docker's refused: $got" || notok "unwired canaries" "$got" "$OUT"
jq -e '[.canaries[] | select(.result == "not-refused") | .detail | test("deleted at once")] | all' <<<"$HB3" >/dev/null &&
	! grep -q "STILL THERE" <<<"$OUT" && ok "the canaries that got through were deleted at once" ||
	notok "the canaries that got through were deleted" "$OUT"
[ "$(jq -r '.wiring[] | select(.name == "containerd") | .wired' <<<"$HB3")" = false ] &&
	ok "heartbeat: containerd recorded as not wired" || notok "heartbeat: containerd not wired" "$HB3"
grep -qx 'sigward_canary_last_result{path="hooks.d",runtime="runc"} 0' "$M" &&
	grep -qx 'sigward_canary_last_result{path="docker",runtime="runc"} 1' "$M" && grep -qx 'sigward_wired_paths 2' "$M" &&
	ok "metrics: the hook's canary 0 (not refused), Docker's 1, 2 paths wired" || notok "metrics after unwiring" "$(grep -v '^#' "$M")"
hookfile "$HOOK"
containerd_conf "$WRAP"
selftest
HB4=$HB
[ "$RC" = 0 ] && ok "rewired: selftest exits 0 again" || notok "rewired: selftest exits 0" "$OUT"
UNTIL=$(date -u +%FT%TZ)
"$CLI" audit --config "$T/sw.conf" --out "$T/a2" --since "$START" --until "$UNTIL" --hooks-dir "$T/hooks.d" \
	--containerd-config "$T/ctrd.toml" --docker-config "$T/daemon.json" --runc-root "$T/no-runc" >"$T/a2.out" 2>&1
ARC=$?
[ -f "$T/a2/report.json" ] || bail "the audit wrote no report.json" "$(cat "$T/a2.out")"
t2=$(t_of "$HB2") t3=$(t_of "$HB3")
[ "$ARC" = 1 ] && ok "audit exits 1 (findings)" || notok "audit exits 1" "$(cat "$T/a2.out")"
step9 "$T/a2" | grep -qx "no heartbeat from $t2 to $t3 (.*; at most 0m 20s allowed): enforcement is not evidenced for that time" &&
	ok "finding: the gap, from the last heartbeat before to the first after ($t2 .. $t3)" ||
	notok "finding: the gap $t2 .. $t3" "$(step9 "$T/a2")"
[ "$(step9 "$T/a2" | grep -c "^$t3: a canary was NOT refused through hooks.d (\(runc\|crun\), /bin/true)")" = 2 ] &&
	ok "findings: both hook canaries NOT refused at $t3" || notok "findings: canaries not refused at $t3" "$(step9 "$T/a2")"
[ "$(step9 "$T/a2" | wc -l)" = 3 ] && ok "step 9: exactly those 3 findings" || notok "step 9: 3 findings" "$(step9 "$T/a2")"
got=$(jq -c --arg t2 "$t2" --arg t3 "$t3" '.liveness | [.heartbeats, .live,
	(.gaps | map(.from == $t2 and .to == $t3 and .seconds > 20) ), (.canaries_failed | map("\(.time == $t3) \(.runtime) \(.result)"))]' "$T/a2/report.json")
[ "$got" = '[4,false,[true],["true runc not-refused","true crun not-refused"]]' ] &&
	ok "report.json liveness: 4 heartbeats, not live, the gap and the two canaries with their times" ||
	notok "report.json liveness" "$got"
grep -q "no heartbeat from $t2 to $t3" "$T/a2/report.md" && grep -q "Enforcement was live for the whole period" "$T/a2/report.html" &&
	ok "report.md and report.html carry step 9" || notok "report.md and report.html carry step 9"
# Step 8 counts decisions only: the 4 x refused canaries + 1 x Docker's at
# HB3 are denials; the heartbeats are not decisions.
d=$(jq -r '.sections[] | select(.step == 8) | .answer' "$T/a2/report.json")
[[ $d == "$(jq -r 'select(.decision) | .time' "$LOG" | awk -v s="$START" -v u="$UNTIL" '$0 >= s && $0 <= u' | wc -l) decision(s) in the period;"* ]] &&
	ok "step 8 counts decisions, not heartbeats ($d)" || notok "step 8 counts decisions only" "$d"

# The canaries' refusals are counted apart from the denials of starts anyone
# asked for: 4 + 4 + 1 (Docker's, the hook's got through) + 4.
got=$(jq -r '.sections[] | select(.step == 8) | .tables["decisions per day"] |
	[(map(.denied | tonumber) | add), (map(.["canaries refused (step 9)"] | tonumber) | add)] | join(",")' "$T/a2/report.json")
[ "$got" = 0,13 ] && ok "step 8: 0 denied, 13 canaries refused counted apart" || notok "step 8: canaries apart" "$got"

# ---- 4. a heartbeat edited to say refused ----
cp "$LOG" "$T/log.bak" && cp "$T/state/decisions.head" "$T/head.bak"
ln=$(grep -n '"result":"not-refused"' "$LOG" | head -1 | cut -d: -f1)
sed -i "${ln}s/\"result\":\"not-refused\"/\"result\":\"refused\"/g" "$LOG"
out=$("$CLI" log verify --config "$T/sw.conf" 2>&1)
[ $? = 1 ] && [[ $out == *":$((ln + 1)): chain broken"* ]] &&
	ok "a heartbeat edited to say refused breaks the chain ($out)" || notok "edited heartbeat breaks the chain" "$out"
cp "$T/log.bak" "$LOG"

rt_done
