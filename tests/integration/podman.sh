#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# podman.sh: sigward-hook in podman through the shipped hooks.d file.
#
# podman runs on a private store (--root/--runroot under /tmp, never
# /var/lib/containers) and reads hooks only from a private --hooks-dir holding
# config/sigward-hooks.json.in as built, pointed at the built hook and a test
# config. podman puts no image digest in config.json: the hook finds the image
# through containers/storage. Checks that:
#  - without sigward's hooks.d file the unsigned image runs (control);
#  - a signed image runs, and its record names the digests from containers/storage;
#  - an image id (config digest) in the list admits the image as well;
#  - an unsigned image is refused, podman's error carries sigward's reason, the
#    container never runs, the refusal is recorded;
#  - the unsigned image re-tagged with the signed image's name is refused;
#  - a container created while its image was listed is refused at start once it
#    no longer is (the decision is at start, not at create);
#  - warn mode runs the unsigned image and records decision warn;
#  - podman with crun (podman's default runtime on cgroup2 nodes) enforces too.
# crun refuses this machine's hybrid cgroup layout (../shared/ENVIRONMENT.md),
# so podman runs with --runtime runc except in the crun case, which runs podman
# in a private mount namespace with a pure cgroup2 mount and --cgroups=disabled.
# Exit 0 ok, 77 skipped (a tool missing, or not root), 1 failed.
set -uo pipefail
# shellcheck source=tests/integration/runtimes-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/runtimes-lib.sh"
rt_init podman podman runc umoci jq openssl timeout unshare

TEMPLATE=$SRC/config/sigward-hooks.json.in
[ -f "$TEMPLATE" ] || bail "setup: $TEMPLATE missing (SIGWARD_SRC=$SRC)"
P="podman --root $T/proot --runroot $T/prun --runtime runc"
U="--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network none"
rt_on_exit "timeout 60 $P rm -a -f -t 0"
NAME_SEQ=0

rt_images
rt_key
# The signed image is listed by its manifest digest under its published name.
rt_list 1 "localhost/sw/app@$GOOD"

# hooks.d: the shipped template, pointed at the built hook and a test config.
hooksdir() { # DIR CONF
	mkdir -p "$1"
	sed 's|@HOOK_PATH@|/nonexistent|' "$TEMPLATE" |
		jq --arg p "$HOOK" --arg c "$2" '.hook.path = $p | .hook.args += ["--config", $c]' >"$1/sigward.json" ||
		bail "setup: hooks.d file from $TEMPLATE"
}
rt_conf "$T/enforce.conf" containers_storage=yes storage_root="$T/proot" annotations=io.kubernetes.cri-o.ImageRef
mkdir -m 700 "$T/state-warn"
rt_conf "$T/warn.conf" mode=warn log_file="$T/warn.jsonl" state_dir="$T/state-warn" containers_storage=yes storage_root="$T/proot" \
	annotations=io.kubernetes.cri-o.ImageRef
hooksdir "$T/hooks" "$T/enforce.conf"
hooksdir "$T/hooks-warn" "$T/warn.conf"
mkdir -p "$T/hooks-none"

timeout 120 $P pull -q "oci:$T/img:signed" >/dev/null 2>"$T/pull.err" &&
	timeout 120 $P pull -q "oci:$T/img:unsigned" >/dev/null 2>>"$T/pull.err" ||
	bail "setup: podman pull from the OCI layout" "$(cat "$T/pull.err")"
timeout 30 $P tag "${GOOD_ID#sha256:}" localhost/sw/app:signed &&
	timeout 30 $P tag "${BAD_ID#sha256:}" localhost/sw/other:unsigned || bail "setup: podman tag"
[ "$(timeout 30 $P image inspect --format '{{.Digest}}' localhost/sw/app:signed)" = "$GOOD" ] ||
	bail "setup: podman's digest of localhost/sw/app:signed is not $GOOD"

# prun HOOKSDIR IMAGE [PODMAN-OPTION...]: podman run (kept, not --rm) of
# `cat /which`; $RC, $OUT, $CID (podman's container id), $STATUS.
prun() {
	local hooks=$1 image=$2 name
	shift 2
	NAME_SEQ=$((NAME_SEQ + 1))
	name=sw-podman-$$-$NAME_SEQ
	# shellcheck disable=SC2086
	OUT=$(timeout 120 $P run $U --hooks-dir "$hooks" --name "$name" "$@" "$image" /bin/cat /which 2>&1)
	RC=$?
	CID=$(timeout 30 $P inspect --format '{{.Id}}' "$name" 2>/dev/null)
	STATUS=$(timeout 30 $P inspect --format '{{.State.Status}}' "$name" 2>/dev/null)
	timeout 60 $P rm -f -t 0 "$name" >/dev/null 2>&1
}
# expect_run CASE WANT: ran to completion and printed WANT (the image's name).
expect_run() {
	if [ "$RC" = 0 ] && grep -qx "$2" <<<"$OUT"; then ok "$1"; else notok "$1" "rc=$RC" "$OUT"; fi
}
# expect_refused CASE NEEDLE: podman failed, sigward's line for this container with
# NEEDLE is in podman's error, and the container's command never ran.
expect_refused() {
	if [ "$RC" != 0 ] && [ -n "$CID" ] && grep -qF "sigward: denied container $CID: " <<<"$OUT" &&
		grep -qF -- "$2" <<<"$OUT" && ! grep -qx -e signed -e unsigned <<<"$OUT" && [ "$STATUS" != exited ]; then
		ok "$1"
		echo "#   $(grep -o 'sigward: denied.*' <<<"$OUT")"
	else
		notok "$1" "rc=$RC cid=$CID status=$STATUS" "$OUT"
	fi
}
# expect_record CASE ID DECISION [JQ-CONDITION] [LOG]
expect_record() {
	local rec
	rec=$(rt_record "$2" "${5:-}")
	if [ -n "$rec" ] && jq -e --arg d "$3" ".decision == \$d and .runtime == \"hook\" and (${4:-true})" <<<"$rec" >/dev/null; then
		ok "$1"
	else
		notok "$1" "${rec:-no record for $2}"
	fi
}
STORE_DIGESTS='(.digests | map(select(.source == "containers-storage")) | map(.kind + " " + .digest) | sort)'

# ---- control: podman without sigward's hook runs anything ----
prun "$T/hooks-none" localhost/sw/other:unsigned
expect_run "control: without sigward's hooks.d file the unsigned image runs" unsigned

# ---- a signed image runs ----
prun "$T/hooks" localhost/sw/app:signed
expect_run "a signed image runs through the hooks.d hook" signed
expect_record "its allow record has the image id and manifest digest from containers/storage" "$CID" allow \
	"$STORE_DIGESTS == [\"image-id $GOOD_ID\", \"manifest $GOOD\"] and .matched == \"$GOOD\" and
	 .bundle == \"$T/proot/overlay-containers/$CID/userdata\""

# ---- an unsigned image is refused ----
prun "$T/hooks" localhost/sw/other:unsigned
expect_refused "an unsigned image is refused, podman's error shows sigward's reason" \
	"image $BAD_ID (and 1 other digest) is not in allowlist test#1"
expect_record "the refusal is recorded with the unsigned image's digests" "$CID" deny \
	"$STORE_DIGESTS == [\"image-id $BAD_ID\", \"manifest $BAD\"] and (.reason | contains(\"not in allowlist test#1\"))"

# ---- the unsigned image under the signed image's name ----
timeout 30 $P tag "${BAD_ID#sha256:}" localhost/sw/app:signed || bail "setup: re-tag"
if [ "$(timeout 30 $P image inspect --format '{{.Id}}' localhost/sw/app:signed)" = "${BAD_ID#sha256:}" ]; then
	prun "$T/hooks" localhost/sw/app:signed
	expect_refused "the unsigned image re-tagged as localhost/sw/app:signed is refused" \
		"image $BAD_ID (and 1 other digest) is not in allowlist test#1"
	if grep -qF "$GOOD" <<<"$OUT" || [ "$(rt_record "$CID" | jq -r .matched)" != null ]; then
		notok "the re-tagged image is judged by its own digests, not the name's" "$OUT" "$(rt_record "$CID")"
	else
		ok "the re-tagged image is judged by its own digests, not the name's"
	fi
else
	notok "podman tag moved localhost/sw/app:signed to the unsigned image"
fi
timeout 30 $P tag "${GOOD_ID#sha256:}" localhost/sw/app:signed || bail "setup: tag back"

# ---- listed by image id ----
rt_list 2 "image-id $GOOD_ID"
prun "$T/hooks" localhost/sw/app:signed
expect_run "a list naming the image id (config digest) admits the image" signed
expect_record "the match is the image id" "$CID" allow ".matched == \"$GOOD_ID\" and .allowlist.serial == 2"

# ---- decided at start, not at create ----
NAME_SEQ=$((NAME_SEQ + 1))
name=sw-podman-$$-$NAME_SEQ
if CID=$(timeout 120 $P create $U --name "$name" localhost/sw/app:signed /bin/cat /which 2>"$T/create.err"); then
	rt_list 3 "localhost/sw/other@$BAD"
	# podman reads hooks.d when it generates the OCI spec, at start.
	OUT=$(timeout 120 $P start --hooks-dir "$T/hooks" -a "$name" 2>&1)
	RC=$?
	STATUS=$(timeout 30 $P inspect --format '{{.State.Status}}' "$name" 2>/dev/null)
	timeout 60 $P rm -f -t 0 "$name" >/dev/null 2>&1
	expect_refused "a container created while listed is refused at start once its image is not" \
		"image $GOOD_ID (and 1 other digest) is not in allowlist test#3"
else
	notok "podman create" "$(cat "$T/create.err")"
fi
rt_list 4 "localhost/sw/app@$GOOD"

# ---- warn mode ----
prun "$T/hooks-warn" localhost/sw/other:unsigned
expect_run "warn mode lets the unsigned image run" unsigned
expect_record "warn mode records the would-be denial as decision warn" "$CID" warn \
	".mode == \"warn\" and (.reason | contains(\"not in allowlist test#4\")) and $STORE_DIGESTS == [\"image-id $BAD_ID\", \"manifest $BAD\"]" \
	"$T/warn.jsonl"
[ "$(rt_records "$CID")" = 0 ] && ok "warn mode wrote to its own log only" || notok "warn mode wrote to its own log only"
prun "$T/hooks-warn" localhost/sw/app:signed
expect_run "warn mode runs the signed image" signed
expect_record "warn mode records the signed image as allow" "$CID" allow ".matched == \"$GOOD\"" "$T/warn.jsonl"

# ---- podman with crun ----
# crun drops a hook's stderr unless run.oci.hooks.stderr names a file, and podman
# shows crun's own message only ("error executing hook ... (exit code: 1)"): the
# reason is checked in that file and in the decision log.
if command -v crun >/dev/null 2>&1; then
	PC="podman --root $T/proot --runroot $T/prun --runtime crun --cgroup-manager cgroupfs"
	crun_run() { # IMAGE -> RC OUT CID STATUS
		NAME_SEQ=$((NAME_SEQ + 1))
		local name=sw-podman-$$-$NAME_SEQ
		: >"$T/crun-hook.err"
		# shellcheck disable=SC2086
		OUT=$(timeout 120 unshare -m sh -c 'umount -l /sys/fs/cgroup 2>/dev/null; mount -t cgroup2 none /sys/fs/cgroup && exec "$@"' \
			sh $PC run $U --cgroups=disabled --hooks-dir "$T/hooks" --annotation "run.oci.hooks.stderr=$T/crun-hook.err" \
			--name "$name" "$1" /bin/cat /which 2>&1)
		RC=$?
		CID=$(timeout 30 $P inspect --format '{{.Id}}' "$name" 2>/dev/null)
		STATUS=$(timeout 30 $P inspect --format '{{.State.Status}}' "$name" 2>/dev/null)
		timeout 60 $P rm -f -t 0 "$name" >/dev/null 2>&1
	}
	crun_run localhost/sw/app:signed
	expect_run "podman with crun: a signed image runs" signed
	crun_run localhost/sw/other:unsigned
	if [ "$RC" != 0 ] && [ -n "$CID" ] && grep -qF "error executing hook \`$HOOK\`" <<<"$OUT" &&
		! grep -qx unsigned <<<"$OUT" && [ "$STATUS" != exited ] &&
		grep -qxF "sigward: denied container $CID: image $BAD_ID (and 1 other digest) is not in allowlist test#4" "$T/crun-hook.err"; then
		ok "podman with crun: an unsigned image is refused, the reason in run.oci.hooks.stderr's file"
	else
		notok "podman with crun: an unsigned image is refused, the reason in run.oci.hooks.stderr's file" \
			"rc=$RC cid=$CID status=$STATUS" "$OUT" "$(cat "$T/crun-hook.err")"
	fi
	expect_record "podman with crun: the refusal is recorded" "$CID" deny "$STORE_DIGESTS | length == 2"
elif [ "${SIGWARD_REQUIRE_ALL:-0}" = 1 ]; then
	notok "podman with crun: crun not installed"
else
	echo "# crun not installed: podman with crun not tested"
fi

"$CLI" log verify --state-dir "$T/state" "$T/decisions.jsonl" >"$T/verify.out" 2>&1 &&
	ok "the decision log verifies" || notok "the decision log verifies" "$(cat "$T/verify.out")"
rt_done
