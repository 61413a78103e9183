#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# attacks-stall.sh: issue 14 #3, a log reader stalls every container start.
#
# The decision log is 0640 root:adm, as the package installs it (a 2750 root:adm
# directory, the hook creating the file 0640). Any member of group adm can open
# it, and whoever can open a file can flock it: LOCK_SH, and LOCK_EX on a
# read-only descriptor too. While the appenders locked the log itself, such a
# lock made `runc run` (prestart hook) and `sigward-runc run` hang until killed.
#
# Here a throwaway unprivileged user in group adm holds LOCK_SH, then LOCK_EX, on
# the log while runc (the hook in config.json, with no hook timeout, as runc runs
# it) and sigward-runc start a listed and an unlisted image: each start must be
# decided in well under a second (asserted < 2 s wall, including the container
# run), with the right verdict, its record appended, and `sigward log verify`
# passing afterwards. The user cannot open the appenders' own lock (the head in
# the 0700 state directory).
#
# The bounds, with root holding what no other account can (a stuck holder):
# the head locked, a start is denied after the 1 s lock wait ("still locked by
# another process"); a hook whose stdin never ends is denied at its 10 s alarm;
# a sigward-runc deciding child that never finishes (stopped) is killed at 10 s
# and the start denied.
#
# Needs root, runc, umoci, jq, openssl, busybox, python3, useradd; exit 77 when
# one is missing (a failure with SIGWARD_REQUIRE_ALL=1).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/harden-lib.sh
. "$HERE/harden-lib.sh"
hl_init stall runc umoci jq openssl busybox python3 useradd userdel setpriv flock pgrep timeout
hl_images
hl_keys

ISSUED=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
EXPIRES=$(date -u -d '+7 days' +%Y-%m-%dT%H:%M:%SZ)
ANN=io.kubernetes.cri.image-ref
RUNC=$(command -v runc)

# The package's log layout. $T stays closed to listing (0711) but the attacker
# must be able to reach the log directory, as /var/log/sigward is reachable.
chmod 0711 "$T"
install -d -m 2750 -o root -g adm "$T/log"
LOG=$T/log/decisions.jsonl
HEAD=$T/state/decisions.head
CONF=$T/sigward.conf
hl_conf "$CONF" log_file="$LOG" extra="
[runtime]
path = $RUNC"

hl_list good prod 5 "$ISSUED" "$EXPIRES" "$V1"
hl_sign good k1
hl_install good
B1=$(hl_bundle v1 "$T/u1/rootfs" "{\"$ANN\": \"$V1\"}")
B2=$(hl_bundle v2 "$T/u2/rootfs" "{\"$ANN\": \"$V2\"}")
NOT_LISTED="image $V2 is not in allowlist prod#5"

# ---------------------------------------------------------------- the reader
ATT=swstall$$
useradd --system --no-create-home --no-user-group --gid nogroup --groups adm --shell /usr/sbin/nologin "$ATT" ||
	{ echo "not ok - creating the throwaway user $ATT"; exit 1; }
# -f: a holder that outlived its kill must not leave the user behind.
hl_on_exit "userdel -f $ATT"
ATTDIR=$T/att
# A python the throwaway user can run (root's PATH may lead to root's own shims).
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
install -d -m 0700 -o "$ATT" -g nogroup "$ATTDIR"

# "${AS_READER[@]}" CMD...: CMD as the throwaway user, its supplementary groups
# (adm) from /etc/group, no capabilities. setpriv execs CMD, so a background
# CMD's $! is CMD itself.
AS_READER=(setpriv --reuid="$ATT" --regid=nogroup --init-groups --inh-caps=-all --bounding-set=-all --)
as_reader() { "${AS_READER[@]}" "$@"; }

# now_ms: a monotonic-enough wall clock in milliseconds.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# hl_runc puts the hook in with a timeout; runc runs config.json hooks without
# one unless it is written there, and that is what the review measured.
runc_hook() {
	local id=$1 bundle=$2 hook
	hook=$(jq -n --arg p "$HOOK" --arg c "$CONF" '[{"path": $p, "args": ["sigward-hook", "--config", $c]}]')
	jq --argjson h "$hook" '.hooks.prestart = $h' "$bundle/config.json" >"$bundle/config.json.new" &&
		mv "$bundle/config.json.new" "$bundle/config.json"
	local t0
	t0=$(now_ms)
	OUT=$(timeout -k 5 60 "$RUNC" --root "$T/runc" run -b "$bundle" "$id" </dev/null 2>&1)
	RC=$?
	MS=$(($(now_ms) - t0))
	timeout 20 "$RUNC" --root "$T/runc" delete -f "$id" >/dev/null 2>&1
}

wrap_run() {
	local id=$1 bundle=$2 t0
	jq 'del(.hooks)' "$bundle/config.json" >"$bundle/config.json.new" && mv "$bundle/config.json.new" "$bundle/config.json"
	t0=$(now_ms)
	OUT=$(SIGWARD_CONFIG=$CONF timeout -k 5 60 "$WRAP" --root "$T/runc" run -b "$bundle" "$id" </dev/null 2>&1)
	RC=$?
	MS=$(($(now_ms) - t0))
	timeout 20 "$RUNC" --root "$T/runc" delete -f "$id" >/dev/null 2>&1
}

# record ID: "decision<TAB>runtime" of ID's record in the log, "" when none.
record() {
	jq -r --arg id "$1" 'select(.container == $id) | [.decision, .runtime] | @tsv' "$LOG" 2>/dev/null | tail -1
}

# check NAME WANT-RC-ZERO(yes/no) WANT-TEXT RECORD: the start's verdict, its
# time (< 2000 ms) and its record ("allow<TAB>hook", ...; "" for none).
check() {
	local name=$1 want_ok=$2 text=$3 want_rec=$4 rec
	rec=$(record "$ID")
	if [ "$RC" = 124 ] || [ "$RC" = 137 ]; then
		notok "$name" "still hanging after 60 s (exit $RC)" "$OUT"
	elif [ "$want_ok" = yes ] && [ "$RC" != 0 ]; then
		notok "$name" "exit $RC, want 0" "$OUT"
	elif [ "$want_ok" = no ] && [ "$RC" = 0 ]; then
		notok "$name" "allowed, want denied" "$OUT"
	elif [ -n "$text" ] && ! grep -qF -- "$text" <<<"$OUT"; then
		notok "$name" "no '$text' in the output" "$OUT"
	elif [ "$MS" -ge 2000 ]; then
		notok "$name" "took $MS ms, want < 2000" "$OUT"
	elif [ "$rec" != "$want_rec" ]; then
		notok "$name" "record '$rec', want '$want_rec'" "$OUT"
	else
		ok "$name ($MS ms)"
	fi
}

# A first decision creates the log as the hook always does.
hl_id
runc_hook "$ID" "$B1"
check "baseline: the listed image starts under runc" yes "" "$(printf 'allow\thook')"
st=$(stat -c '%a %U:%G' "$LOG" 2>/dev/null)
[ "$st" = "640 root:adm" ] && ok "the decision log is 0640 root:adm, as the package leaves it" ||
	notok "the decision log is 0640 root:adm, as the package leaves it" "$st"

if as_reader id -Gn | grep -qw adm && [ "$(as_reader id -u)" != 0 ] && as_reader head -c1 "$LOG" >/dev/null; then
	ok "user $ATT (uid $(id -u "$ATT"), group adm) reads the decision log"
else
	notok "user $ATT (uid $(id -u "$ATT"), group adm) reads the decision log" "$(as_reader id 2>&1)"
fi

# The appenders' lock is out of its reach: it cannot even open it.
out=$(as_reader "$PY" -c 'import sys; open(sys.argv[1])' "$HEAD" 2>&1)
if [ $? != 0 ] && grep -q "PermissionError" <<<"$out"; then
	ok "the reader cannot open the appenders' lock ($HEAD)"
else
	notok "the reader cannot open the appenders' lock ($HEAD)" "$out"
fi

# HOLD_PY FILE SH|EX READY: open FILE read-only, flock it, say so in READY and
# keep the lock; one process, so killing its pid releases the lock.
HOLD_PY='
import fcntl, sys, time
f = open(sys.argv[1], "rb")
fcntl.flock(f, fcntl.LOCK_SH if sys.argv[2] == "SH" else fcntl.LOCK_EX)
open(sys.argv[3], "w").write("held\n")
time.sleep(300)'

# wait_ready FILE: bounded wait (10 s) for a holder's READY file.
wait_ready() {
	local i
	for i in $(seq 1 100); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# hold_lock SH|EX: the reader holds that lock on the log ($HOLDER).
HOLDER=
hold_lock() {
	rm -f "$ATTDIR/held"
	"${AS_READER[@]}" "$PY" -c "$HOLD_PY" "$LOG" "$1" "$ATTDIR/held" &
	HOLDER=$!
	hl_on_exit "kill $HOLDER"
	wait_ready "$ATTDIR/held"
}

COUNT0=$(wc -l <"$LOG")
STARTS=0
for op in SH EX; do
	if ! hold_lock "$op"; then
		notok "reader holds LOCK_$op on the log" "no lock after 10 s"
		kill "$HOLDER" 2>/dev/null
		continue
	fi
	# The lock is real: root itself cannot take a conflicting one.
	if flock -n -x "$LOG" true; then
		notok "reader holds LOCK_$op on the log" "root could still take LOCK_EX"
	else
		ok "reader holds LOCK_$op on the log (root's flock -n -x fails)"
	fi

	hl_id
	runc_hook "$ID" "$B1"
	check "LOCK_$op held: runc run + hook starts the listed image" yes "" "$(printf 'allow\thook')"
	hl_id
	runc_hook "$ID" "$B2"
	check "LOCK_$op held: runc run + hook refuses the unlisted image" no "$NOT_LISTED" "$(printf 'deny\thook')"
	hl_id
	wrap_run "$ID" "$B1"
	check "LOCK_$op held: sigward-runc run starts the listed image" yes "" "$(printf 'allow\tsigward-runc')"
	hl_id
	wrap_run "$ID" "$B2"
	check "LOCK_$op held: sigward-runc run refuses the unlisted image" no "$NOT_LISTED" "$(printf 'deny\tsigward-runc')"
	STARTS=$((STARTS + 4))

	kill "$HOLDER" 2>/dev/null
	wait "$HOLDER" 2>/dev/null
done

COUNT1=$(wc -l <"$LOG")
[ "$STARTS" = 8 ] && [ "$((COUNT1 - COUNT0))" = "$STARTS" ] && ok "every start under the reader's locks appended one record ($STARTS)" ||
	notok "every start under the reader's locks appended one record ($STARTS)" "$COUNT0 -> $COUNT1 lines"
out=$("$CLI" log verify --config "$CONF" 2>&1)
[ $? = 0 ] && ok "sigward log verify: the chain is intact" || notok "sigward log verify: the chain is intact" "$out"

# ------------------------------------------------------------------ bounds
# Only root can open the head: root holding it stands for a stuck appender.
"$PY" -c "$HOLD_PY" "$HEAD" EX "$T/rootheld" &
ROOTHOLD=$!
hl_on_exit "kill $ROOTHOLD"
wait_ready "$T/rootheld" || notok "root holds the head" "no lock after 10 s"
hl_id
runc_hook "$ID" "$B1"
if [ "$RC" != 0 ] && grep -qF "sigward: denied container $ID: cannot record the decision: $HEAD: still locked by another process after 1000 ms" <<<"$OUT" &&
	[ "$MS" -ge 1000 ] && [ "$MS" -lt 3000 ] && [ -z "$(record "$ID")" ]; then
	ok "head held by a stuck appender: runc run is denied after the 1 s lock wait ($MS ms), nothing recorded"
else
	notok "head held by a stuck appender: runc run is denied after the 1 s lock wait" "exit $RC, $MS ms, record '$(record "$ID")'" "$OUT"
fi

# sigward-runc's deciding child stopped while it waits for the head: the wrapper
# kills it at 10 s and denies.
hl_id
jq 'del(.hooks)' "$B1/config.json" >"$B1/config.json.new" && mv "$B1/config.json.new" "$B1/config.json"
t0=$(now_ms)
SIGWARD_CONFIG=$CONF "$WRAP" --root "$T/runc" run -b "$B1" "$ID" </dev/null >"$T/w.out" 2>&1 &
WPID=$!
hl_on_exit "kill $WPID"
child=
for i in $(seq 1 200); do
	child=$(pgrep -P "$WPID" | head -1)
	[ -n "$child" ] && break
	sleep 0.005
done
[ -n "$child" ] && kill -STOP "$child"
# bounded: the wrapper must end by itself; past 30 s it is a failure
for i in $(seq 1 300); do kill -0 "$WPID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$WPID" 2>/dev/null && kill -KILL "$WPID"
wait "$WPID"
RC=$?
MS=$(($(now_ms) - t0))
OUT=$(cat "$T/w.out")
timeout 20 "$RUNC" --root "$T/runc" delete -f "$ID" >/dev/null 2>&1
if [ -z "$child" ]; then
	notok "sigward-runc: a deciding child that never finishes is killed at 10 s" "no deciding child seen" "$OUT"
elif [ "$RC" = 1 ] && grep -qF "sigward: denied container $ID: the decision did not finish within 10 s (killed)" <<<"$OUT" &&
	[ "$MS" -ge 9500 ] && [ "$MS" -lt 13000 ]; then
	ok "sigward-runc: a deciding child that never finishes is killed at 10 s and the start denied ($MS ms)"
else
	notok "sigward-runc: a deciding child that never finishes is killed at 10 s" "exit $RC, $MS ms" "$OUT"
fi
kill "$ROOTHOLD" 2>/dev/null
wait "$ROOTHOLD" 2>/dev/null

# The hook's own alarm: a state that never ends (runc's config.json hooks run
# without a timeout unless one is written there).
hl_id
mkfifo "$T/stdin"
{ hl_state "$ID" "$B1"; exec sleep 60; } >"$T/stdin" &
WRITER=$!
hl_on_exit "kill $WRITER"
t0=$(now_ms)
OUT=$(timeout -k 5 40 "$HOOK" --config "$CONF" <"$T/stdin" 2>&1)
RC=$?
MS=$(($(now_ms) - t0))
kill "$WRITER" 2>/dev/null
if [ "$RC" = 1 ] && grep -qF "sigward: denied container (unknown): the decision did not finish within 10 s (timed out)" <<<"$OUT" &&
	[ "$MS" -ge 9500 ] && [ "$MS" -lt 13000 ]; then
	ok "hook: a decision that never finishes is denied at the 10 s alarm ($MS ms)"
else
	notok "hook: a decision that never finishes is denied at the 10 s alarm" "exit $RC, $MS ms" "$OUT"
fi

# The shipped hooks.d definition carries the runtime's own bound.
tmo=$(jq -r '.hook.timeout // empty' "$BUILD/config/sigward.json" 2>/dev/null)
[ -n "$tmo" ] && [ "$tmo" -gt 10 ] && [ "$tmo" -le 60 ] &&
	ok "the shipped hooks.d file sets hook.timeout ($tmo s, above the hook's own 10 s)" ||
	notok "the shipped hooks.d file sets hook.timeout" "'$tmo' in $BUILD/config/sigward.json"

out=$("$CLI" log verify --config "$CONF" 2>&1)
[ $? = 0 ] && ok "sigward log verify: still intact after the refused starts" ||
	notok "sigward log verify: still intact after the refused starts" "$out"

hl_done
