#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# wrapper.sh: sigward-runc, the runtime wrapper, in front of real runtimes.
#
#  - runc through sigward-runc called directly: run, create + start as two calls,
#    the bundle from -b, --bundle=, after the id, or the working directory; a
#    refusal on stderr and in --log (json and text); the runtime is never reached
#    for a refused container; pass-through subcommands (list, state, ps, kill,
#    delete, --version) work and record nothing, even with a broken configuration;
#    argv and environment reach the runtime untouched; refused: crun's --config
#    and -f, an unknown option of create, an unknown global option before run;
#    restore (a container from a bundle and a criu image) is decided like run;
#  - crun through sigward-runc ([runtime] path = crun, --cgroup-manager=disabled;
#    crun runs in a private mount namespace with a pure cgroup2 mount, as this
#    machine's hybrid layout is refused otherwise): run, create + start, refusals;
#  - containerd started by the test on its own root, state and socket, and
#    `ctr run --runc-binary sigward-runc`: a signed image runs, an unsigned one is
#    refused with sigward's reason in ctr's output, the unsigned image under the
#    signed image's tag is refused, and ctr's task ls/ps/exec/kill/delete and
#    container rm keep working and record nothing; decisions taken while
#    containerd commits metadata are all right;
#  - the hook and the wrapper take the same decision on the same bundles (listed,
#    unlisted, a tag only, no digest, disagreeing annotations, a broken
#    config.json, warn mode): same exit status, same reason line, same record,
#    and `sigward check` agrees.
# Exit 0 ok, 77 skipped (a tool missing, or not root), 1 failed.
set -uo pipefail
# shellcheck source=tests/integration/runtimes-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/runtimes-lib.sh"
rt_init wrapper runc umoci jq openssl timeout unshare
RUNC=$(command -v runc)
CRUN=$(command -v crun || true)
A=io.kubernetes.cri.image-name
R=io.kubernetes.cri-o.ImageRef
rt_on_exit "for id in \$(runc --root '$T/runc' list -q); do timeout 20 runc --root '$T/runc' delete -f \"\$id\"; done"
[ -n "$CRUN" ] && rt_on_exit "for id in \$(crun --root '$T/crun' list -q); do timeout 20 crun --root '$T/crun' delete -f \"\$id\"; done"

rt_images
rt_key
rt_list 1 "localhost/sw/app@$GOOD"
rt_conf "$T/runc.conf" runtime="$RUNC"
[ -n "$CRUN" ] && rt_conf "$T/crun.conf" runtime="$CRUN"
rt_conf "$T/stub.conf" runtime="$T/stub-runtime"
mkdir -m 700 "$T/state-warn"
rt_conf "$T/warn.conf" mode=warn runtime="$RUNC" log_file="$T/warn.jsonl" state_dir="$T/state-warn"
# A stand-in runtime that records what it was given.
cat >"$T/stub-runtime" <<EOF
#!/bin/sh
printf '%s\0' "\$@" >"$T/stub.argv"
env >"$T/stub.env"
echo stub-runtime-reached
EOF
chmod 755 "$T/stub-runtime"

rt_bundle listed signed "{\"$A\": \"localhost/sw/app@$GOOD\"}"
rt_bundle unlisted unsigned "{\"$A\": \"localhost/sw/app@$BAD\"}"
rt_bundle tagonly unsigned "{\"$A\": \"localhost/sw/app:signed\"}"
rt_bundle nodigest signed '{}'
rt_bundle disagree unsigned "{\"$A\": \"localhost/sw/app@$GOOD\", \"$R\": \"${BAD_ID#sha256:}\"}"
rt_bundle broken signed '{}'
printf '{"ociVersion": "1.0.2", "process": ' >"$T/b/broken/config.json"
rt_bundle listed-sleep signed "{\"$A\": \"localhost/sw/app@$GOOD\"}" /bin/sleep 600
rt_bundle unlisted-sleep unsigned "{\"$A\": \"localhost/sw/app@$BAD\"}" /bin/sleep 600

SEQ=0
newid() {
	SEQ=$((SEQ + 1))
	ID=sw-wrap-$$-$SEQ
}
# wrap CONF ARG...: sigward-runc with SIGWARD_CONFIG=CONF; $RC, $OUT (stdout),
# $ERR (stderr). Never waits on a container's stdio: stdin is /dev/null.
wrap() {
	local conf=$1
	shift
	SIGWARD_CONFIG=$conf timeout -k 5 60 "$WRAP" "$@" </dev/null >"$T/wrap.out" 2>"$T/wrap.err"
	RC=$?
	OUT=$(cat "$T/wrap.out")
	ERR=$(cat "$T/wrap.err")
}
# crun_wrap ARG...: sigward-runc with the crun config, in a cgroup2-only mount namespace.
crun_wrap() {
	SIGWARD_CONFIG=$T/crun.conf timeout -k 5 60 unshare -m sh -c \
		'umount -l /sys/fs/cgroup 2>/dev/null; mount -t cgroup2 none /sys/fs/cgroup && exec "$@"' \
		sh "$WRAP" --cgroup-manager=disabled --root "$T/crun" "$@" </dev/null >"$T/wrap.out" 2>"$T/wrap.err"
	RC=$?
	OUT=$(cat "$T/wrap.out")
	ERR=$(cat "$T/wrap.err")
}
deny_line() { # ID DIGEST-REASON
	printf 'sigward: denied container %s: %s' "$1" "$2"
}
expect_ran() { # CASE WANT
	if [ "$RC" = 0 ] && [ "$OUT" = "$2" ]; then ok "$1"; else notok "$1" "rc=$RC" "$OUT" "$ERR"; fi
}
# expect_refused CASE LINE: exit 1, exactly sigward's line on stderr, nothing ran.
expect_refused() {
	if [ "$RC" = 1 ] && [ "$ERR" = "$2" ] && [ -z "$OUT" ]; then ok "$1"; else notok "$1" "rc=$RC" "want: $2" "stderr: $ERR" "stdout: $OUT"; fi
}
expect_record() { # CASE ID DECISION [JQ-CONDITION]
	local rec
	rec=$(rt_record "$2")
	if [ -n "$rec" ] && jq -e --arg d "$3" ".decision == \$d and (${4:-true})" <<<"$rec" >/dev/null; then
		ok "$1"
	else
		notok "$1" "${rec:-no record for $2}"
	fi
}
NOT_LISTED="image $BAD is not in allowlist test#1"

# ============================================================ runc, directly
newid
wrap "$T/runc.conf" --root "$T/runc" run -b "$T/b/listed" "$ID"
expect_ran "runc: sigward-runc run of a listed bundle runs it" signed
expect_record "runc: the allow record names sigward-runc and the bundle" "$ID" allow \
	".runtime == \"sigward-runc\" and .bundle == \"$T/b/listed\" and .matched == \"$GOOD\""
timeout 20 "$RUNC" --root "$T/runc" delete -f "$ID" >/dev/null 2>&1

newid
wrap "$T/runc.conf" --root "$T/runc" run -b "$T/b/unlisted" "$ID"
expect_refused "runc: run of an unlisted bundle is refused with sigward's reason" "$(deny_line "$ID" "$NOT_LISTED")"
expect_record "runc: the refusal is recorded" "$ID" deny \
	".runtime == \"sigward-runc\" and .reason == \"$NOT_LISTED\" and .digests[0].source == \"annotation:$A\""
# Detached, a container that reached runc would still be there.
newid
wrap "$T/runc.conf" --root "$T/runc" run -d -b "$T/b/unlisted-sleep" "$ID"
if [ "$RC" = 1 ] && ! timeout 20 "$RUNC" --root "$T/runc" state "$ID" >/dev/null 2>&1; then
	ok "runc: a refused run -d never reaches runc"
else
	notok "runc: a refused run -d never reaches runc" "rc=$RC $ERR" "$("$RUNC" --root "$T/runc" state "$ID" 2>&1)"
fi

# --log, as containerd and Docker pass it, json and text
newid
wrap "$T/runc.conf" --root "$T/runc" --log "$T/runc-log.json" --log-format json run -b "$T/b/unlisted" "$ID"
if [ "$RC" = 1 ] && jq -e --arg m "$(deny_line "$ID" "$NOT_LISTED")" \
	'.level == "error" and .msg == $m and (.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T"))' "$T/runc-log.json" >/dev/null; then
	ok "runc: --log-format json: the refusal is one json line with level error and the reason as msg"
else
	notok "runc: --log-format json: the refusal is one json line with level error and the reason as msg" "rc=$RC" "$(cat "$T/runc-log.json" 2>&1)"
fi
newid
wrap "$T/runc.conf" --root "$T/runc" --log "$T/runc-log.txt" run -b "$T/b/unlisted" "$ID"
if [ "$RC" = 1 ] && grep -qF "level=error msg=\"$(deny_line "$ID" "$NOT_LISTED")\"" "$T/runc-log.txt"; then
	ok "runc: --log in text format carries the refusal"
else
	notok "runc: --log in text format carries the refusal" "rc=$RC" "$(cat "$T/runc-log.txt" 2>&1)"
fi

# create + start as two calls; the container's stdio goes to a file
newid
SIGWARD_CONFIG=$T/runc.conf timeout 60 "$WRAP" --root "$T/runc" create -b "$T/b/listed" "$ID" </dev/null >"$T/cs.out" 2>"$T/cs.err"
RC=$?
st=$(timeout 20 "$WRAP" --root "$T/runc" state "$ID" 2>/dev/null | jq -r .status)
if [ "$RC" = 0 ] && [ "$st" = created ] && [ ! -s "$T/cs.out" ]; then
	ok "runc: create of a listed bundle leaves it created, not started"
else
	notok "runc: create of a listed bundle leaves it created, not started" "rc=$RC status=$st" "$(cat "$T/cs.err")"
fi
wrap "$T/runc.conf" --root "$T/runc" start "$ID"
for _ in $(seq 50); do
	st=$(timeout 20 "$WRAP" --root "$T/runc" state "$ID" 2>/dev/null | jq -r .status)
	[ "$st" = stopped ] && break
	sleep 0.1
done
if [ "$RC" = 0 ] && [ "$st" = stopped ] && [ "$(cat "$T/cs.out")" = signed ]; then
	ok "runc: start through sigward-runc runs the created container"
else
	notok "runc: start through sigward-runc runs the created container" "rc=$RC status=$st" "$(cat "$T/cs.out" "$T/cs.err")"
fi
wrap "$T/runc.conf" --root "$T/runc" delete "$ID"
[ "$RC" = 0 ] && ! "$RUNC" --root "$T/runc" state "$ID" >/dev/null 2>&1 &&
	ok "runc: delete passes through" || notok "runc: delete passes through" "rc=$RC" "$ERR"
[ "$(rt_records "$ID")" = 1 ] && ok "runc: create was decided once; state, start and delete record nothing" ||
	notok "runc: create was decided once; state, start and delete record nothing" "$(rt_records "$ID") records"

newid
wrap "$T/runc.conf" --root "$T/runc" create --bundle "$T/b/unlisted" --pid-file "$T/pid" "$ID"
expect_refused "runc: create of an unlisted bundle is refused" "$(deny_line "$ID" "$NOT_LISTED")"
wrap "$T/runc.conf" --root "$T/runc" start "$ID"
[ "$RC" != 0 ] && [ ! -e "$T/pid" ] && ok "runc: there is nothing to start after a refused create" ||
	notok "runc: there is nothing to start after a refused create" "rc=$RC" "$OUT" "$ERR"

# where the bundle comes from
newid
wrap "$T/runc.conf" --root "$T/runc" run "--bundle=$T/b/unlisted" "$ID"
expect_refused "runc: --bundle=DIR is the bundle decided on" "$(deny_line "$ID" "$NOT_LISTED")"
newid
wrap "$T/runc.conf" --root "$T/runc" run "$ID" -b "$T/b/unlisted"
expect_refused "runc: -b after the id (runc reads it there too) is the bundle decided on" "$(deny_line "$ID" "$NOT_LISTED")"
newid
(cd "$T/b/unlisted" && wrap "$T/runc.conf" --root "$T/runc" run "$ID" && echo "$RC" >"$T/rc" && printf '%s' "$ERR" >"$T/err")
RC=$(cat "$T/rc") ERR=$(cat "$T/err") OUT=
expect_refused "runc: without -b the working directory is the bundle decided on" "$(deny_line "$ID" "$NOT_LISTED")"
newid
(cd "$T/b/listed" && wrap "$T/runc.conf" --root "$T/runc" run "$ID" && echo "$RC $OUT" >"$T/rc")
[ "$(cat "$T/rc")" = "0 signed" ] && ok "runc: without -b a listed working directory runs" ||
	notok "runc: without -b a listed working directory runs" "$(cat "$T/rc")"
timeout 20 "$RUNC" --root "$T/runc" delete -f "$ID" >/dev/null 2>&1
expect_record "runc: the record names the working directory as the bundle" "$ID" allow ".bundle == \"$T/b/listed\""

# pass-through on a running container
newid
LONG=$ID
wrap "$T/runc.conf" --root "$T/runc" run -d -b "$T/b/listed-sleep" "$LONG"
[ "$RC" = 0 ] || notok "runc: run -d of a listed bundle" "rc=$RC" "$ERR"
out=$(SIGWARD_CONFIG=$T/runc.conf timeout 20 "$WRAP" --root "$T/runc" list 2>&1)
grep -qE "^$LONG +[0-9]+ +running " <<<"$out" && ok "runc: list passes through" || notok "runc: list passes through" "$out"
out=$(SIGWARD_CONFIG=$T/runc.conf timeout 20 "$WRAP" --root "$T/runc" ps "$LONG" 2>&1)
grep -q 'sleep 600' <<<"$out" && ok "runc: ps passes through" || notok "runc: ps passes through" "$out"
out=$(SIGWARD_CONFIG=$T/runc.conf timeout 20 "$WRAP" --version 2>&1)
want=$(printf 'sigward-runc %s (wrapping %s)\n%s' "$(sed -n "s/^  version : '\(.*\)',/\1/p" "$SIGWARD_SRC/meson.build")" "$RUNC" "$("$RUNC" --version)")
[ "$out" = "$want" ] && ok "runc: --version names the wrapper and its runtime, then passes through" ||
	notok "runc: --version names the wrapper, then passes through" "$out"
out=$(SIGWARD_CONFIG=$T/runc.conf timeout 20 "$WRAP" --help 2>&1)
grep -q "^sigward-runc .*decides create, run and restore" <<<"$out" && grep -q "Open Container Initiative runtime" <<<"$out" &&
	ok "runc: --help says what sigward-runc does, then shows the runtime's help" || notok "runc: --help" "$(head -3 <<<"$out")"
# A broken configuration must not keep containers from being stopped.
printf '[sigward]\nno_such_key = 1\n' >"$T/broken.conf"
out=$(SIGWARD_CONFIG=$T/broken.conf timeout 20 "$WRAP" --root "$T/runc" kill "$LONG" KILL 2>&1)
rc=$?
for _ in $(seq 50); do
	st=$(timeout 20 "$RUNC" --root "$T/runc" state "$LONG" 2>/dev/null | jq -r .status)
	[ "$st" = stopped ] && break
	sleep 0.1
done
[ "$rc" = 0 ] && [ "$st" = stopped ] && grep -q "^sigward-runc: warning: .*broken.conf" <<<"$out" &&
	ok "runc: kill passes through with a broken configuration (a warning, not a refusal)" ||
	notok "runc: kill passes through with a broken configuration (a warning, not a refusal)" "rc=$rc status=$st" "$out"
out=$(SIGWARD_CONFIG=$T/broken.conf timeout 20 "$WRAP" --root "$T/runc" delete "$LONG" 2>&1)
[ $? = 0 ] && ! "$RUNC" --root "$T/runc" state "$LONG" >/dev/null 2>&1 &&
	ok "runc: delete passes through with a broken configuration" || notok "runc: delete passes through with a broken configuration" "$out"
newid
wrap "$T/broken.conf" --root "$T/runc" run -b "$T/b/listed" "$ID"
if [ "$RC" = 1 ] && [[ $ERR == "sigward: denied container $ID: "*broken.conf* ]] && [ -z "$OUT" ]; then
	ok "runc: run with a broken configuration is refused"
else
	notok "runc: run with a broken configuration is refused" "rc=$RC" "$ERR" "$OUT"
fi
[ "$(rt_records "$LONG")" = 1 ] && ok "runc: list, ps, kill and delete record nothing" ||
	notok "runc: list, ps, kill and delete record nothing" "$(rt_records "$LONG") records for $LONG"

# argv and environment reach the runtime untouched
newid
args=(--root "$T/runc" --log "$T/stub-log.json" --log-format json create --bundle "$T/b/listed" --pid-file "$T/stub.pid"
	--console-socket "$T/no.sock" --no-pivot "$ID")
SIGWARD_CONFIG=$T/stub.conf SW_TEST_MARK="a b" timeout 60 "$WRAP" "${args[@]}" >"$T/wrap.out" 2>"$T/wrap.err"
RC=$?
if [ "$RC" = 0 ] && [ "$(cat "$T/wrap.out")" = stub-runtime-reached ] && cmp -s "$T/stub.argv" <(printf '%s\0' "${args[@]}") &&
	grep -qx 'SW_TEST_MARK=a b' "$T/stub.env" && grep -qx "SIGWARD_CONFIG=$T/stub.conf" "$T/stub.env"; then
	ok "create: the runtime gets the caller's arguments and environment unchanged"
else
	notok "create: the runtime gets the caller's arguments and environment unchanged" "rc=$RC $(cat "$T/wrap.err")" \
		"$(tr '\0' ' ' <"$T/stub.argv" 2>&1)"
fi
rm -f "$T/stub.argv"
args=(--root "$T/runc" --debug events --stats "$ID")
SIGWARD_CONFIG=$T/stub.conf timeout 60 "$WRAP" "${args[@]}" >/dev/null 2>&1
cmp -s "$T/stub.argv" <(printf '%s\0' "${args[@]}") && [ "$(rt_records "$ID")" = 1 ] &&
	ok "pass-through: the runtime gets the arguments unchanged, nothing is decided" ||
	notok "pass-through: the runtime gets the arguments unchanged, nothing is decided" "$(tr '\0' ' ' <"$T/stub.argv" 2>&1)"

# options sigward-runc does not know are refused, the runtime never reached
rm -f "$T/stub.argv"
refused_opt() { # CASE OPTION-TEXT ARG...
	local case_=$1 opt=$2
	shift 2
	newid
	wrap "$T/stub.conf" "$@" "$ID"
	if [ "$RC" = 1 ] && [[ $ERR == "sigward: denied container "*"sigward-runc: "*"'$opt'"* ]] && [ ! -e "$T/stub.argv" ]; then
		ok "$case_"
	else
		notok "$case_" "rc=$RC" "$ERR" "$OUT"
	fi
	rm -f "$T/stub.argv"
}
refused_opt "create --config FILE (crun: another config.json than the one judged) is refused" --config \
	--root "$T/crun" create --config "$T/b/unlisted/config.json" -b "$T/b/listed"
refused_opt "create -f FILE is refused" -f --root "$T/crun" create -f "$T/b/unlisted/config.json" -b "$T/b/listed"
refused_opt "create --config=FILE is refused" "--config=$T/b/unlisted/config.json" \
	--root "$T/crun" create "--config=$T/b/unlisted/config.json" -b "$T/b/listed"
refused_opt "run --config FILE is refused" --config --root "$T/crun" run --config "$T/b/unlisted/config.json" -b "$T/b/listed"
refused_opt "an unknown option of create is refused" --no-such-option --root "$T/runc" create --no-such-option -b "$T/b/listed"
refused_opt "an unknown global option before run is refused" --no-such-global --no-such-global --root "$T/runc" run -b "$T/b/listed"
refused_opt "an unknown global option with a value before create is refused" --weird=x --weird=x create -b "$T/b/listed"
newid
wrap "$T/stub.conf" --root "$T/runc" run -b "$T/b/listed" "$ID" extra-arg
[ "$RC" = 1 ] && [[ $ERR == *"unexpected argument 'extra-arg'"* ]] && [ ! -e "$T/stub.argv" ] &&
	ok "a second id after run is refused" || notok "a second id after run is refused" "rc=$RC" "$ERR"
rm -f "$T/stub.argv"

# restore starts a container from a bundle as well (with a criu image)
newid
wrap "$T/stub.conf" --root "$T/runc" restore --image-path "$T/ckpt" --work-path "$T/ckpt-work" --tcp-established \
	--detach -b "$T/b/unlisted" "$ID"
if [ "$RC" = 1 ] && [ "$ERR" = "$(deny_line "$ID" "$NOT_LISTED")" ] && [ ! -e "$T/stub.argv" ]; then
	ok "restore of an unlisted bundle is refused before the runtime"
else
	notok "restore of an unlisted bundle is refused before the runtime" "rc=$RC" "$ERR" "$OUT"
fi
rm -f "$T/stub.argv"
newid
args=(--root "$T/runc" restore --image-path "$T/ckpt" --detach --bundle "$T/b/listed" "$ID")
SIGWARD_CONFIG=$T/stub.conf timeout 60 "$WRAP" "${args[@]}" >/dev/null 2>&1
cmp -s "$T/stub.argv" <(printf '%s\0' "${args[@]}") && expect_record "restore of a listed bundle reaches the runtime unchanged" "$ID" allow ||
	notok "restore of a listed bundle reaches the runtime unchanged" "$(tr '\0' ' ' <"$T/stub.argv" 2>&1)"

# ============================================================ crun
if [ -n "$CRUN" ]; then
	newid
	crun_wrap run -b "$T/b/listed" "$ID"
	expect_ran "crun: sigward-runc run of a listed bundle runs it" signed
	timeout 20 crun --root "$T/crun" delete -f "$ID" >/dev/null 2>&1
	newid
	crun_wrap run -b "$T/b/unlisted" "$ID"
	expect_refused "crun: run of an unlisted bundle is refused with sigward's reason" "$(deny_line "$ID" "$NOT_LISTED")"
	expect_record "crun: the refusal is recorded" "$ID" deny ".runtime == \"sigward-runc\" and .reason == \"$NOT_LISTED\""
	newid
	crun_wrap run -d -b "$T/b/unlisted-sleep" "$ID"
	if [ "$RC" = 1 ] && ! timeout 20 crun --root "$T/crun" state "$ID" >/dev/null 2>&1; then
		ok "crun: a refused run -d never reaches crun"
	else
		notok "crun: a refused run -d never reaches crun" "rc=$RC $ERR" "$(crun --root "$T/crun" state "$ID" 2>&1)"
	fi

	newid
	SIGWARD_CONFIG=$T/crun.conf timeout 60 unshare -m sh -c \
		'umount -l /sys/fs/cgroup 2>/dev/null; mount -t cgroup2 none /sys/fs/cgroup && exec "$@"' \
		sh "$WRAP" --cgroup-manager=disabled --root "$T/crun" create -b "$T/b/listed" "$ID" </dev/null >"$T/ccs.out" 2>"$T/ccs.err"
	RC=$?
	st=$(timeout 20 crun --root "$T/crun" state "$ID" 2>/dev/null | jq -r .status)
	if [ "$RC" = 0 ] && [ "$st" = created ]; then
		crun_wrap start "$ID"
		for _ in $(seq 50); do
			st=$(timeout 20 crun --root "$T/crun" state "$ID" 2>/dev/null | jq -r .status)
			[ "$st" = stopped ] && break
			sleep 0.1
		done
		[ "$RC" = 0 ] && [ "$st" = stopped ] && [ "$(cat "$T/ccs.out")" = signed ] &&
			ok "crun: create + start through sigward-runc runs a listed bundle" ||
			notok "crun: create + start through sigward-runc runs a listed bundle" "rc=$RC status=$st" "$ERR" "$(cat "$T/ccs.out")"
	else
		notok "crun: create + start through sigward-runc runs a listed bundle" "create rc=$RC status=$st" "$(cat "$T/ccs.err")"
	fi
	crun_wrap delete -f "$ID"
	[ "$RC" = 0 ] && [ "$(rt_records "$ID")" = 1 ] && ok "crun: delete passes through; only create was decided" ||
		notok "crun: delete passes through; only create was decided" "rc=$RC $ERR" "$(rt_records "$ID") records"

	newid
	crun_wrap create -b "$T/b/unlisted" "$ID"
	expect_refused "crun: create of an unlisted bundle is refused" "$(deny_line "$ID" "$NOT_LISTED")"
	for opt in --config -f; do
		newid
		crun_wrap create "$opt" "$T/b/unlisted/config.json" -b "$T/b/listed" "$ID"
		if [ "$RC" = 1 ] && [[ $ERR == *"sigward-runc: option '$opt' is not supported by sigward-runc" ]] && [ -z "$OUT" ] &&
			! crun --root "$T/crun" state "$ID" >/dev/null 2>&1; then
			ok "crun: create $opt FILE is refused, crun never reached"
		else
			notok "crun: create $opt FILE is refused, crun never reached" "rc=$RC" "$ERR"
		fi
	done
	newid
	crun_wrap --no-such-global run -b "$T/b/listed" "$ID"
	[ "$RC" = 1 ] && [[ $ERR == *"unknown runtime option '--no-such-global'" ]] && [ -z "$OUT" ] &&
		ok "crun: an unknown global option before run is refused" ||
		notok "crun: an unknown global option before run is refused" "rc=$RC" "$ERR" "$OUT"
elif [ "${SIGWARD_REQUIRE_ALL:-0}" = 1 ]; then
	notok "crun: not installed"
else
	echo "# crun not installed: crun through sigward-runc not tested"
fi

# ============================================================ hook and wrapper agree
# Same bundle, same container id, same configuration: the hook (state on stdin)
# and the wrapper (runc run) must give the same exit status and the same line,
# record the same decision, and `sigward check` must say the same.
agree() { # NAME BUNDLE CONF LOG
	local name=$1 bundle=$T/b/$2 conf=$3 log=$4 id hrc hout wrc werr crc cout hrec wrec
	newid
	id=$ID
	rt_hook "$conf" "$id" "$bundle"
	hrc=$RC hout=$OUT
	hrec=$(rt_record "$id" "$log" | jq -c 'del(.time, .prev, .runtime)')
	wrap "$conf" --root "$T/runc" run -b "$bundle" "$id"
	wrc=$RC werr=$ERR
	timeout 20 "$RUNC" --root "$T/runc" delete -f "$id" >/dev/null 2>&1
	wrec=$(rt_record "$id" "$log" | jq -c 'del(.time, .prev, .runtime)')
	cout=$(timeout 30 "$CLI" check --config "$conf" --bundle "$bundle" --id "$id" 2>&1)
	crc=$?
	local verdict reason
	verdict=$(jq -r .decision <<<"$wrec")
	reason=$(jq -r .reason <<<"$wrec")
	if [ "$hrc" = "$wrc" ] && [ "$hout" = "$werr" ] && [ -n "$hrec" ] && [ "$hrec" = "$wrec" ] &&
		[ "$(rt_records "$id" "$log")" = 2 ] && grep -qxF "decision:   $verdict: $reason" <<<"$cout" &&
		{ { [ "$crc" = 0 ] && [ "$verdict" = allow ]; } || { [ "$crc" = 1 ] && [ "$verdict" != allow ]; }; }; then
		ok "agree: $name: hook and wrapper both $verdict (exit $hrc)${hout:+: ${hout#*: }}"
	else
		notok "agree: $name: hook and wrapper take the same decision" "hook rc=$hrc: $hout" "wrapper rc=$wrc: $werr" \
			"hook record: $hrec" "wrapper record: $wrec" "check rc=$crc: $cout"
	fi
	AGREE_RC=$hrc AGREE_LINE=$hout AGREE_ID=$id
}
agree "a listed image" listed "$T/runc.conf" "$T/decisions.jsonl"
[ "$AGREE_RC" = 0 ] && [ -z "$AGREE_LINE" ] || notok "agree: the listed image is allowed" "$AGREE_RC $AGREE_LINE"
agree "an unlisted image" unlisted "$T/runc.conf" "$T/decisions.jsonl"
[ "$AGREE_LINE" = "$(deny_line "$AGREE_ID" "$NOT_LISTED")" ] || notok "agree: the unlisted image's line" "$AGREE_LINE"
agree "the signed image's tag on the unsigned image" tagonly "$T/runc.conf" "$T/decisions.jsonl"
[ "$AGREE_RC" = 1 ] || notok "agree: a tag alone is refused" "$AGREE_LINE"
agree "no digest" nodigest "$T/runc.conf" "$T/decisions.jsonl"
[ "$AGREE_RC" = 1 ] && [[ $AGREE_LINE == *"no image digest"* ]] || notok "agree: no digest is refused" "$AGREE_LINE"
agree "disagreeing annotations" disagree "$T/runc.conf" "$T/decisions.jsonl"
[ "$AGREE_RC" = 1 ] && [[ $AGREE_LINE == *disagree* ]] || notok "agree: disagreeing annotations are refused" "$AGREE_LINE"
agree "a truncated config.json" broken "$T/runc.conf" "$T/decisions.jsonl"
[ "$AGREE_RC" = 1 ] && [[ $AGREE_LINE == *config.json* ]] || notok "agree: a truncated config.json is refused" "$AGREE_LINE"
agree "an unlisted image in warn mode" unlisted "$T/warn.conf" "$T/warn.jsonl"
[ "$AGREE_RC" = 0 ] && [ -n "$AGREE_LINE" ] && [ "$(rt_record "$AGREE_ID" "$T/warn.jsonl" | jq -r .decision)" = warn ] ||
	notok "agree: warn mode runs the unlisted image and prints the warning" "$AGREE_RC $AGREE_LINE"

# ============================================================ containerd and ctr
if command -v containerd >/dev/null 2>&1 && command -v ctr >/dev/null 2>&1; then
	CT=$T/ctrd
	mkdir -p "$CT"
	rt_conf "$T/ctrd.conf" runtime="$RUNC" containerd=yes containerd_root="$CT/root"
	cat >"$CT/config.toml" <<EOF
version = 2
root = "$CT/root"
state = "$CT/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CT/sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$CT/opt"
EOF
	# The shim and so sigward-runc inherit containerd's environment.
	SIGWARD_CONFIG=$T/ctrd.conf containerd --config "$CT/config.toml" >"$CT/containerd.log" 2>&1 &
	CTRD_PID=$!
	C() { timeout 60 ctr --address "$CT/sock" "$@"; }
	# Shims of our containers name our private socket; stop them if containerd did not.
	# (soc[k]: grep's own command line must not match.)
	rt_on_exit "for f in \$(grep -l -- '$CT/soc[k]' /proc/[0-9]*/cmdline 2>/dev/null); do p=\${f#/proc/}; kill -KILL \${p%/cmdline}; done"
	rt_on_exit "kill $CTRD_PID; for _ in \$(seq 50); do kill -0 $CTRD_PID || break; sleep 0.1; done; kill -KILL $CTRD_PID"
	rt_on_exit "for t in \$(timeout 20 ctr --address '$CT/sock' task ls -q); do timeout 20 ctr --address '$CT/sock' task kill -s KILL \$t; sleep 0.2; timeout 20 ctr --address '$CT/sock' task rm -f \$t; done"
	for _ in $(seq 100); do
		C version >/dev/null 2>&1 && break
		kill -0 "$CTRD_PID" 2>/dev/null || break
		sleep 0.1
	done
	C version >/dev/null 2>&1 || bail "setup: containerd did not start" "$(tail -5 "$CT/containerd.log")"
	tar -C "$T/img" -cf "$T/img.tar" . && C images import --base-name localhost/sw/app --digests "$T/img.tar" >/dev/null 2>"$CT/import.err" ||
		bail "setup: ctr images import" "$(cat "$CT/import.err")"
	ctr_run() { # ID IMAGE [ARG...]: $RC, $OUT (stdout and stderr)
		local id=$1 image=$2
		shift 2
		[ $# -gt 0 ] || set -- /bin/cat /which
		OUT=$(C run --rm --runc-binary "$WRAP" "$image" "$id" "$@" 2>&1 </dev/null)
		RC=$?
	}

	newid
	ctr_run "$ID" localhost/sw/app:signed
	[ "$RC" = 0 ] && [ "$OUT" = signed ] && ok "ctr: a signed image runs through --runc-binary sigward-runc" ||
		notok "ctr: a signed image runs through --runc-binary sigward-runc" "rc=$RC" "$OUT"
	expect_record "ctr: its record has the image's digests from containerd's metadata" "$ID" allow \
		".runtime == \"sigward-runc\" and .matched == \"$GOOD\" and (.digests | map(select(.source == \"containerd\")) | map(.digest) | sort) == ([\"$GOOD\", \"$GOOD_ID\"] | sort) and (.bundle | endswith(\"/io.containerd.runtime.v2.task/default/$ID\"))"

	newid
	ctr_run "$ID" localhost/sw/app:unsigned
	line="sigward: denied container $ID: image $BAD (and 1 other digest) is not in allowlist test#1"
	if [ "$RC" != 0 ] && grep -qF "$line" <<<"$OUT" && ! grep -qx unsigned <<<"$OUT"; then
		ok "ctr: an unsigned image is refused, sigward's reason in ctr's output"
		echo "#   $OUT"
	else
		notok "ctr: an unsigned image is refused, sigward's reason in ctr's output" "rc=$RC" "$OUT"
	fi
	expect_record "ctr: the refusal is recorded" "$ID" deny ".runtime == \"sigward-runc\""
	C container rm "$ID" >/dev/null 2>&1
	# Detached, a task that reached runc would still be running.
	newid
	OUT=$(C run -d --runc-binary "$WRAP" localhost/sw/app:unsigned "$ID" /bin/sleep 600 2>&1 </dev/null)
	RC=$?
	out=$(C task ls 2>&1)
	if [ "$RC" != 0 ] && [ -n "$out" ] && ! grep -q "^$ID " <<<"$out"; then
		ok "ctr: a refused ctr run -d leaves no task"
	else
		notok "ctr: a refused ctr run -d leaves no task" "rc=$RC $OUT" "$out"
	fi
	C container rm "$ID" >/dev/null 2>&1

	# The unsigned image under the signed image's tag.
	C images tag --force localhost/sw/app:unsigned localhost/sw/app:signed >/dev/null || bail "setup: ctr images tag"
	newid
	ctr_run "$ID" localhost/sw/app:signed
	if [ "$RC" != 0 ] && grep -qF "sigward: denied container $ID: image $BAD (and 1 other digest) is not in allowlist test#1" <<<"$OUT" &&
		! grep -qx unsigned <<<"$OUT"; then
		ok "ctr: the unsigned image tagged localhost/sw/app:signed is refused"
	else
		notok "ctr: the unsigned image tagged localhost/sw/app:signed is refused" "rc=$RC" "$OUT"
	fi
	C container rm "$ID" >/dev/null 2>&1
	C images tag --force localhost/sw/app@"$GOOD" localhost/sw/app:signed >/dev/null 2>&1 ||
		C images import --base-name localhost/sw/app --digests "$T/img.tar" >/dev/null 2>&1

	# Pass-through: a running task seen, entered, killed and removed through ctr.
	newid
	LONG=$ID
	OUT=$(C run -d --runc-binary "$WRAP" localhost/sw/app:signed "$LONG" /bin/sleep 600 2>&1 </dev/null)
	RC=$?
	out=$(C task ls 2>&1)
	if [ "$RC" = 0 ] && grep -qE "^$LONG +[0-9]+ +RUNNING$" <<<"$out"; then ok "ctr: task ls shows the running task"; else notok "ctr: task ls shows the running task" "rc=$RC $OUT" "$out"; fi
	out=$(C task ps "$LONG" 2>&1)
	grep -qE '^[0-9]+ ' <<<"$out" && ok "ctr: task ps" || notok "ctr: task ps" "$out"
	out=$(C task exec --exec-id sw-exec "$LONG" /bin/cat /which 2>&1 </dev/null)
	[ "$out" = signed ] && ok "ctr: task exec runs in the container" || notok "ctr: task exec runs in the container" "$out"
	out=$(C task pause "$LONG" 2>&1) && st=$(C task ls | awk -v id="$LONG" '$1 == id {print $3}') &&
		C task resume "$LONG" >/dev/null 2>&1 && [ "$st" = PAUSED ] &&
		ok "ctr: task pause and resume" || notok "ctr: task pause and resume" "$out state=${st:-}"
	out=$(C task kill -s KILL "$LONG" 2>&1)
	for _ in $(seq 50); do
		st=$(C task ls | awk -v id="$LONG" '$1 == id {print $3}')
		[ "$st" = STOPPED ] && break
		sleep 0.1
	done
	[ "$st" = STOPPED ] && ok "ctr: task kill stops the task" || notok "ctr: task kill stops the task" "$out state=$st"
	out=$(C task delete "$LONG" 2>&1)
	! C task ls -q | grep -qx "$LONG" && ok "ctr: task delete" || notok "ctr: task delete" "$out"
	out=$(C container rm "$LONG" 2>&1)
	! C container ls -q | grep -qx "$LONG" && ok "ctr: container rm" || notok "ctr: container rm" "$out"
	[ "$(rt_records "$LONG")" = 1 ] && ok "ctr: only the create was decided (start, exec, pause, kill, delete record nothing)" ||
		notok "ctr: only the create was decided (start, exec, pause, kill, delete record nothing)" "$(rt_records "$LONG") records"

	# Decisions while containerd commits: the metadata reader retries a view
	# that raced a transaction, after a pause, inside the decision's sandbox.
	# The stand-in runtime keeps this to the decisions themselves.
	newid
	RACE=$ID
	RB=$CT/state/io.containerd.runtime.v2.task/default/$RACE
	mkdir -m 700 "$T/state-race"
	rt_conf "$T/race.conf" runtime="$T/stub-runtime" containerd=yes containerd_root="$CT/root" \
		log_file="$T/race.jsonl" state_dir="$T/state-race"
	if C run -d --runc-binary "$WRAP" localhost/sw/app:signed "$RACE" /bin/sleep 600 >/dev/null 2>"$T/race.err" </dev/null; then
		(for i in $(seq 200); do C images tag --force localhost/sw/app:unsigned "localhost/sw/app:busy$((i % 5))" >/dev/null || exit 1; done) &
		TAGGER=$!
		n=0 wrong=0
		while kill -0 "$TAGGER" 2>/dev/null && [ $n -lt 2000 ]; do
			SIGWARD_CONFIG=$T/race.conf timeout 30 "$WRAP" --root "$T/runc" create --bundle "$RB" "$RACE" \
				</dev/null >/dev/null 2>"$T/race.err" || { wrong=$((wrong + 1)); cp "$T/race.err" "$T/race.bad"; }
			n=$((n + 1))
		done
		wait "$TAGGER"
		trc=$?
		allows=$(jq -r 'select(.decision == "allow") | .container' "$T/race.jsonl" | grep -cx "$RACE")
		if [ "$trc" = 0 ] && [ "$n" -ge 50 ] && [ "$wrong" = 0 ] && [ "$allows" = "$n" ]; then
			ok "ctr: $n decisions while containerd committed 200 tags: all allowed"
		else
			notok "ctr: decisions while containerd commits are all allowed" \
				"tagger rc=$trc, $n decisions, $wrong refused, $allows allow records" "$(cat "$T/race.bad" 2>/dev/null)"
		fi
	else
		notok "ctr: decisions while containerd commits: ctr run -d" "$(cat "$T/race.err")"
	fi
	C task kill -s KILL "$RACE" >/dev/null 2>&1
	for _ in $(seq 50); do
		[ "$(C task ls | awk -v id="$RACE" '$1 == id {print $3}')" = STOPPED ] && break
		sleep 0.1
	done
	C task delete "$RACE" >/dev/null 2>&1
	C container rm "$RACE" >/dev/null 2>&1
	kill -0 "$CTRD_PID" 2>/dev/null || notok "containerd is still running at the end" "$(tail -5 "$CT/containerd.log")"
elif [ "${SIGWARD_REQUIRE_ALL:-0}" = 1 ]; then
	notok "ctr: containerd or ctr not installed"
else
	echo "# containerd or ctr not installed: ctr through sigward-runc not tested"
fi

"$CLI" log verify --state-dir "$T/state" "$T/decisions.jsonl" >"$T/verify.out" 2>&1 &&
	ok "the decision log verifies" || notok "the decision log verifies" "$(cat "$T/verify.out")"
rt_done
