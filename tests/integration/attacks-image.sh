#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# attacks-image.sh: issue 14 #2, a forged image on podman (containers/storage)
# under a listed digest, performed for real.
#
# The listed image (`signed`, built with umoci, no network) is in a signed list
# by its manifest digest and its image id. Two forged images are built as OCI
# manifests in the same layout and stored with `skopeo copy oci:...
# containers-storage:[overlay@ROOT+RUNROOT]...` into a private podman store:
#  - forged: its config blob is a byte copy of the listed image's manifest, so
#    its image id is the listed manifest digest; its layer is the unlisted
#    image's (what the attacker wants to run);
#  - variant: the listed image's real config bytes (so the listed image id) over
#    the unlisted image's layer, in a store of its own (a node that never pulled
#    the listed image).
# Each is started with podman through sigward-hook (--hooks-dir, enforce mode)
# and must be refused with sigward's reason, its command never run, and the
# refusal recorded; the listed image must run (so the refusals are not a broken
# setup). The reasons name the custody check that fails: the config is not an
# image config; the layers are not the config's diff_ids. The forged image is
# also refused through a format 1 (untyped) list, where only the custody check
# stands in the way, and `sigward allowlist build` refuses a list that gives
# one digest as both kinds.
# Exit 0 ok, 77 skipped (a tool missing, or not root), 1 failed.
set -uo pipefail
# shellcheck source=tests/integration/runtimes-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/runtimes-lib.sh"
rt_init attacks-image podman runc umoci skopeo jq openssl timeout sha256sum

TEMPLATE=$SRC/config/sigward-hooks.json.in
[ -f "$TEMPLATE" ] || bail "setup: $TEMPLATE missing (SIGWARD_SRC=$SRC)"
# crun refuses this machine's hybrid cgroup layout (../shared/ENVIRONMENT.md): runc.
P="podman --root $T/proot --runroot $T/prun --runtime runc"
PV="podman --root $T/vroot --runroot $T/vrun --runtime runc"
U="--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network none"
rt_on_exit "timeout 60 $P rm -a -f -t 0"
rt_on_exit "timeout 60 $PV rm -a -f -t 0"
NAME_SEQ=0

rt_images
rt_key
BLOBS=$T/img/blobs/sha256

# ---- the forged manifests, in the same OCI layout ----
# add_image REF CONFIG-DIGEST: a manifest naming CONFIG-DIGEST as its config
# (a blob already in the layout) over the unlisted image's layers, tagged REF.
add_image() {
	local ref=$1 cfg=$2 csize m d
	csize=$(stat -c %s "$BLOBS/${cfg#sha256:}") || return 1
	m=$(jq -c --arg c "$cfg" --argjson s "$csize" \
		'{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
		  config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $s},
		  layers: .layers}' "$BLOBS/${BAD#sha256:}") || return 1
	d=sha256:$(printf '%s' "$m" | sha256sum | cut -d' ' -f1)
	printf '%s' "$m" >"$BLOBS/${d#sha256:}"
	jq -c --arg d "$d" --argjson s "$(printf '%s' "$m" | wc -c)" --arg r "$ref" \
		'.manifests += [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $d, size: $s,
		                 annotations: {"org.opencontainers.image.ref.name": $r}}]' \
		"$T/img/index.json" >"$T/index.new" && mv "$T/index.new" "$T/img/index.json" || return 1
	printf '%s\n' "$d"
}
# The listed manifest's bytes are already a blob of the layout (under its own
# digest), so a config "blob" with that digest is exactly those bytes.
FORGED=$(add_image forged "$GOOD") && VARIANT=$(add_image variant "$GOOD_ID") ||
	bail "setup: forged manifests in $T/img"
cmp -s "$BLOBS/${GOOD#sha256:}" "$BLOBS/$(jq -r .config.digest "$BLOBS/${FORGED#sha256:}" | cut -d: -f2)" ||
	bail "setup: the forged config is not the listed manifest's bytes"

# ---- stored with skopeo, as a registry pull would ----
store() { # ROOT RUNROOT REF NAME
	timeout 120 skopeo copy -q "oci:$T/img:$3" "containers-storage:[overlay@$1+$2]localhost/sw/$4" \
		>"$T/skopeo.out" 2>&1 || bail "setup: skopeo copy $3 into $1" "$(cat "$T/skopeo.out")"
}
store "$T/proot" "$T/prun" signed app:signed
store "$T/proot" "$T/prun" forged forged:1
store "$T/vroot" "$T/vrun" variant variant:1
FORGED_ID=$(timeout 30 $P image inspect --format '{{.Id}}' localhost/sw/forged:1)
VARIANT_ID=$(timeout 30 $PV image inspect --format '{{.Id}}' localhost/sw/variant:1)
# The premise of the attack: podman gives the forged images the listed digests.
[ "sha256:$FORGED_ID" = "$GOOD" ] ||
	bail "setup: the forged image's id $FORGED_ID is not the listed manifest digest $GOOD"
[ "sha256:$VARIANT_ID" = "$GOOD_ID" ] ||
	bail "setup: the variant's id $VARIANT_ID is not the listed image id $GOOD_ID"
echo "# forged: image id sha256:$FORGED_ID = listed manifest digest; variant: image id = listed image id"

# ---- sigward: a signed list with the listed image's manifest digest and image id ----
rt_list 1 "localhost/sw/app@$GOOD" "image-id localhost/sw/app@$GOOD_ID"
hooksdir() { # DIR CONF
	mkdir -p "$1"
	sed 's|@HOOK_PATH@|/nonexistent|' "$TEMPLATE" |
		jq --arg p "$HOOK" --arg c "$2" '.hook.path = $p | .hook.args += ["--config", $c]' >"$1/sigward.json" ||
		bail "setup: hooks.d file from $TEMPLATE"
}
rt_conf "$T/enforce.conf" containers_storage=yes storage_root="$T/proot" annotations=
rt_conf "$T/enforce-v.conf" containers_storage=yes storage_root="$T/vroot" annotations=
hooksdir "$T/hooks" "$T/enforce.conf"
hooksdir "$T/hooks-v" "$T/enforce-v.conf"

# prun PODMAN HOOKSDIR IMAGE: podman run of `cat /which`: $RC, $OUT, $CID, $STATUS.
prun() {
	local pm=$1 hooks=$2 image=$3 name
	NAME_SEQ=$((NAME_SEQ + 1))
	name=sw-attimg-$$-$NAME_SEQ
	# shellcheck disable=SC2086
	OUT=$(timeout 120 $pm run $U --hooks-dir "$hooks" --name "$name" "$image" /bin/cat /which 2>&1)
	RC=$?
	CID=$(timeout 30 $pm inspect --format '{{.Id}}' "$name" 2>/dev/null)
	STATUS=$(timeout 30 $pm inspect --format '{{.State.Status}}' "$name" 2>/dev/null)
	timeout 60 $pm rm -f -t 0 "$name" >/dev/null 2>&1
}
# expect_refused CASE NEEDLE: podman failed with sigward's line for this container
# holding NEEDLE, the command never ran, and the refusal is recorded.
expect_refused() {
	local rec
	rec=$(rt_record "$CID")
	if [ "$RC" != 0 ] && [ -n "$CID" ] && grep -qF "sigward: denied container $CID: " <<<"$OUT" &&
		grep -qF -- "$2" <<<"$OUT" && ! grep -qx -e signed -e unsigned <<<"$OUT" && [ "$STATUS" != exited ] &&
		jq -e '.decision == "deny" and .matched == null' <<<"$rec" >/dev/null 2>&1; then
		ok "$1"
		echo "#   $(grep -o 'sigward: denied.*' <<<"$OUT")"
	else
		notok "$1" "rc=$RC cid=$CID status=$STATUS" "$OUT" "record: ${rec:-none}"
	fi
}

# ---- the listed image runs ----
prun "$P" "$T/hooks" localhost/sw/app:signed
if [ "$RC" = 0 ] && grep -qx signed <<<"$OUT" &&
	jq -e --arg m "$GOOD" --arg i "$GOOD_ID" '.decision == "allow" and (.matched == $m or .matched == $i)' \
		<<<"$(rt_record "$CID")" >/dev/null; then
	ok "the listed image runs"
else
	notok "the listed image runs" "rc=$RC" "$OUT" "$(rt_record "$CID")"
fi

# ---- the forged config: a byte copy of the listed manifest ----
prun "$P" "$T/hooks" localhost/sw/forged:1
expect_refused "forged image (config = the listed manifest's bytes, id = $GOOD) is refused" \
	"not an image config"
grep -qF "overlay-images/$FORGED_ID/" <<<"$OUT" || notok "the forged image's refusal names its config file" "$OUT"

# ---- the variant: the listed image's real config over the unlisted layer ----
prun "$PV" "$T/hooks-v" localhost/sw/variant:1
expect_refused "the listed image's real config over another layer (id = $GOOD_ID) is refused" \
	"overlay-layers/layers.json: image ${GOOD_ID#sha256:}: layer"
grep -qF "the config's rootfs.diff_ids[0] is" <<<"$OUT" || notok "the variant's refusal names the diff_ids" "$OUT"

# ---- an old (format 1, untyped) list: the store's custody check alone ----
mkdir -p "$T/l1" && printf '%s\n' "localhost/sw/app@$GOOD" "localhost/sw/app@$GOOD_ID" >"$T/l1/in" &&
	"$CLI" allowlist build --format 1 --scope test --serial 2 --expires 1d --out "$T/l1/gen-2" "$T/l1/in" \
		>"$T/l1/log" 2>&1 &&
	head -1 "$T/l1/gen-2/manifest" | grep -qx 'sigward-allowlist 1' &&
	openssl pkeyutl -sign -inkey "$T/k1.key" -rawin -in "$T/l1/gen-2/manifest" | base64 -w0 >"$T/l1/gen-2/manifest.sig" &&
	echo >>"$T/l1/gen-2/manifest.sig" && cp -r "$T/l1/gen-2" "$T/lists/gen-2" &&
	ln -sfn gen-2 "$T/lists/.current.tmp" && mv -T "$T/lists/.current.tmp" "$T/lists/current" ||
	bail "setup: format 1 list" "$(cat "$T/l1/log")"
prun "$P" "$T/hooks" localhost/sw/forged:1
expect_refused "forged image refused under a format 1 list too (untyped entries, custody check)" \
	"not an image config"
prun "$P" "$T/hooks" localhost/sw/app:signed
if [ "$RC" = 0 ] && grep -qx signed <<<"$OUT"; then
	ok "the listed image still runs under the format 1 list"
else
	notok "the listed image still runs under the format 1 list" "rc=$RC" "$OUT"
fi

# ---- the builder: one digest as both kinds is the forgery's shape ----
printf '%s\n' "localhost/sw/app@$GOOD" "image-id $GOOD" >"$T/both.in"
if "$CLI" allowlist build --scope test --serial 3 --expires 1d --out "$T/both" "$T/both.in" >"$T/both.out" 2>&1; then
	notok "allowlist build refuses a digest given as an image id and as a manifest digest" "$(cat "$T/both.out")"
elif grep -qF "cannot be both" "$T/both.out"; then
	ok "allowlist build refuses a digest given as an image id and as a manifest digest"
else
	notok "allowlist build refuses a digest given as an image id and as a manifest digest" "$(cat "$T/both.out")"
fi

rt_done
