#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `sigward allowlist compile` (issue 18): cosign-signed images in a
# docker-registry (skopeo-pushed, signed by the test Sigstore of
# imagesig-fixtures.py: classic keyed and keyless, a v3 bundle through the
# fallback tag, a signed index) compiled under an image policy into a signed
# list with evidence, and that list used for real:
#  - signed images listed, each with its reference and its evidence (signature
#    or bundle digest, signer, key or identity, log index);
#  - unsigned and wrong-identity images left out and reported, never listed;
#  - k of n: an image one signer short of a 2-of-2 repository refused;
#  - the list signed by the compile (--sign-key), verified and installed; the
#    real hook under runc starts the listed image and refuses a left-out one;
#  - the evidence is covered by the list's signature: an edited evidence file
#    is refused;
#  - `allowlist push` carries the evidence (an artifact of its own beside the
#    3-layer list) and `sigwardd --once` installs it with the list; a tampered
#    evidence artifact is dropped with a warning while the list still installs;
#  - the registry down: nothing written, the old list byte for byte the same;
#    and the same image compiled from an OCI layout mirror with no registry;
#  - sigward audit step 5 verifies a running container's image signature again
#    offline, from the evidence.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=runtimes-lib.sh
. "$HERE/runtimes-lib.sh"
rt_init compile docker-registry skopeo jq openssl python3 ss runc umoci curl
python3 -c 'import cryptography' 2>/dev/null || rt_skip "python3-cryptography not installed"
# shellcheck source=docker-lib.sh
. "$HERE/docker-lib.sh"
rt_on_exit dk_stop_all
rt_on_exit 'for id in $(runc --root "$T/runc" list -q 2>/dev/null); do runc --root "$T/runc" delete -f "$id"; done'

rt_images
rt_key
FX=$T/fx
fx() { python3 "$HERE/imagesig-fixtures.py" "$@"; }
fx init "$FX" x y z w >"$T/fx.log" 2>&1 || bail "setup: fixtures" "$(tail -5 "$T/fx.log")"
dk_registry_start || bail "setup: $DK_ERR"
REG=$DK_REG
R=http://$REG
SAN=https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main
ISS=https://token.actions.githubusercontent.com
EVIL=https://github.com/evil/app/.github/workflows/release.yml@refs/heads/main

# ---- images and signatures ------------------------------------------------------
push() { timeout 60 skopeo copy -q --all --dest-tls-verify=false "$1" "docker://$REG/$2" || bail "setup: skopeo copy $1 $2"; }
push "oci:$T/img:signed" app:v1
push "oci:$T/img:unsigned" app:unsigned
push "oci:$FX/layout:x" app:wrongid
push "oci:$FX/layout:z" app:bundle
push "oci:$FX/layout:multi1" app:multi
push "oci:$FX/layout:y" app2:both
push "oci:$FX/layout:x" app2:one
push "oci:$FX/layout:y" app3:notlog
push "oci:$FX/layout:w" app4:att
push "oci:$FX/layout:y" app4:noatt
dg() { echo "sha256:$(timeout 30 skopeo inspect --raw --tls-verify=false "docker://$REG/$1" | sha256sum | cut -c1-64)"; }
V1=$(dg app:v1) UNS=$(dg app:unsigned) WID=$(dg app:wrongid) BUN=$(dg app:bundle) MUL=$(dg app:multi)
BOTH=$(dg app2:both) ONE=$(dg app2:one) NOTLOG=$(dg app3:notlog) ATT=$(dg app4:att) NOATT=$(dg app4:noatt)
[ "$V1" = "$GOOD" ] || bail "setup: the registry's digest of app:v1 ($V1) is not the layout's ($GOOD)"
MUL_PLAT=$(timeout 30 skopeo inspect --raw --tls-verify=false "docker://$REG/app:multi" | jq -r '[.manifests[].digest] | join(" ")')
KL=(--keyless "$SAN" "$ISS")
{
	fx simple "$FX" "$R" app "$V1" &&
	fx simple "$FX" "$R" app "$WID" --keyless "$EVIL" "$ISS" &&
	fx bundle "$FX" "$R" app "$BUN" "${KL[@]}" --fallback-tag &&
	fx simple "$FX" "$R" app "$MUL" "${KL[@]}" &&
	fx simple "$FX" "$R" app2 "$BOTH" &&
	fx simple "$FX" "$R" app2 "$BOTH" "${KL[@]}" &&
	fx simple "$FX" "$R" app2 "$ONE" &&
	fx simple "$FX" "$R" app3 "$NOTLOG" --no-tlog &&
	fx simple "$FX" "$R" app4 "$ATT" &&
	fx bundle "$FX" "$R" app4 "$ATT" "${KL[@]}" --predicate https://slsa.dev/provenance/v1 --fallback-tag &&
	fx simple "$FX" "$R" app4 "$NOATT"
} >"$T/sign.log" 2>&1 || bail "setup: signing" "$(tail -5 "$T/sign.log")"

cat >"$T/images.policy" <<EOF
# Which repositories need which signers (sigward(1) IMAGE POLICY).
[policy]
trusted_root = fx/trusted_root.json

[signer ci]
issuer = $ISS
identity_regex = https://github\.com/acme/app/\.github/workflows/.*

[signer release]
key = fx/cosign.pub

[repository $REG/app]
signers = ci release

[repository $REG/app2]
signers = ci release
threshold = 2

[repository $REG/app3]
signers = release
need_tlog = yes

[attestation provenance]
predicate_type = https://slsa.dev/provenance/v1
signers = ci

[repository $REG/app4]
signers = release
attestations = provenance
EOF
rt_conf "$T/sigward.conf"

# ---- compile ----------------------------------------------------------------------
compile() { # OUT SERIAL ARGS...: JSON in $J, exit status in $RC, stderr in $E
	local out=$1 serial=$2
	shift 2
	local t0
	t0=$(date +%s%N)
	J=$(timeout 120 "$CLI" allowlist compile --policy "$T/images.policy" --scope test --serial "$serial" --expires 1d \
		--out "$out" --sign-key "$T/k1.key" --json "$@" 2>"$T/compile.err")
	RC=$?
	MS=$((($(date +%s%N) - t0) / 1000000))
	E=$(cat "$T/compile.err")
}
compile "$T/list" 1 --repository "oci+http://$REG/app" "oci+http://$REG/app2:both" "oci+http://$REG/app2:one" \
	"oci+http://$REG/app3:notlog" "oci+http://$REG/app4:att" "oci+http://$REG/app4:noatt"
echo "# compile: $MS ms, $(jq -r .registry_requests <<<"$J") registry requests"
if [ "$RC" = 1 ] && [ "$(jq -r '[.listed, .left_out] | @csv' <<<"$J")" = "5,5" ]; then
	ok "compile: 5 images listed, 5 left out (exit 1: written, some left out)"
else
	notok "compile: 5 listed, 5 left out" "rc=$RC $E" "$J"
fi
img() { jq -c --arg r "$1" '.images[] | select(.ref == $r)' <<<"$J"; }
listed() { [ "$(img "$1" | jq -r .listed)" = true ]; }
reason() { img "$1" | jq -r .reason; }
listed "oci+http://$REG/app:v1" && ok "classic keyed signature: listed" || notok "classic keyed: listed" "$(img "oci+http://$REG/app:v1")"
listed "oci+http://$REG/app:bundle" && ok "cosign v3 bundle (keyless, fallback tag): listed" || notok "bundle: listed" "$(img "oci+http://$REG/app:bundle")"
[ "$(img "oci+http://$REG/app:multi" | jq -r '[.listed, .manifests] | @csv')" = "true,3" ] &&
	ok "signed index: listed with its 2 platform manifests" || notok "signed index" "$(img "oci+http://$REG/app:multi")"
listed "oci+http://$REG/app2:both" && ok "2-of-2 repository, both signers: listed" || notok "2 of 2: listed" "$(img "oci+http://$REG/app2:both")"
! listed "oci+http://$REG/app:unsigned" && reason "oci+http://$REG/app:unsigned" | grep -q "no signature" &&
	ok "unsigned image: left out, reported ($(reason "oci+http://$REG/app:unsigned" | cut -c1-90))" ||
	notok "unsigned: left out" "$(img "oci+http://$REG/app:unsigned")"
! listed "oci+http://$REG/app:wrongid" && reason "oci+http://$REG/app:wrongid" | grep -q "identity" &&
	ok "signed by another identity: left out, reported" || notok "wrong identity: left out" "$(img "oci+http://$REG/app:wrongid")"
! listed "oci+http://$REG/app2:one" && reason "oci+http://$REG/app2:one" | grep -q "1 of the 2 signer(s) required by \[repository $REG/app2\]" &&
	ok "k of n: one signer short of 2 of 2: left out ($(reason "oci+http://$REG/app2:one" | cut -c1-110))" ||
	notok "k of n: one short" "$(img "oci+http://$REG/app2:one")"
! listed "oci+http://$REG/app3:notlog" && reason "oci+http://$REG/app3:notlog" | grep -q "no Rekor entry" &&
	ok "need_tlog = yes: a keyed signature that was never logged is left out" || notok "need_tlog" "$(img "oci+http://$REG/app3:notlog")"
listed "oci+http://$REG/app4:att" && ! listed "oci+http://$REG/app4:noatt" &&
	reason "oci+http://$REG/app4:noatt" | grep -q "attestation 'provenance' (https://slsa.dev/provenance/v1) not verified" &&
	ok "attestation required: the image with a keyless SLSA provenance bundle listed, the one without left out" ||
	notok "attestation required" "$(img "oci+http://$REG/app4:att")" "$(img "oci+http://$REG/app4:noatt")"
jq -r '.images[].ref' <<<"$J" | grep -q 'sha256-' && notok "cosign's sha256-* tags are not images" || ok "cosign's sha256-* tags are not taken for images"

# The list: digests with references; nothing left out is in it.
ENT=$T/list/entries
grep -q "^$V1 manifest $REG/app:v1\$" "$ENT" && grep -q "^$BOTH manifest $REG/app2:both\$" "$ENT" &&
	ok "entries carry the digest, kind and reference" || notok "entries" "$(cat "$ENT")"
n=0
for d in $MUL $MUL_PLAT $BUN; do grep -q "^$d manifest $REG/app:" "$ENT" && n=$((n + 1)); done
[ "$n" = 4 ] && ok "the index, both platform manifests and the bundle-signed image are listed" || notok "index + platforms + bundle listed ($n of 4)" "$(cat "$ENT")"
bad=
for d in $UNS $WID $ONE $NOTLOG $NOATT; do [ "$d" = "$BOTH" ] && continue; grep -q "^$d " "$ENT" && bad="$bad $d"; done
[ -z "$bad" ] && ok "no left-out digest is in the entries" || notok "left-out digests listed:$bad"

# The evidence, covered by the signature.
EV=$T/list/evidence
H=$(sha256sum "$EV" | cut -c1-64)
grep -q "^sha256:$H image-id (evidence)\$" "$ENT" && ok "the evidence file's anchor (its SHA-256, image-id '(evidence)') is in the signed entries" ||
	notok "evidence anchor" "$(grep evidence "$ENT")"
head -1 "$EV" | grep -qx "sigward-evidence 1" && ok "evidence starts with its magic line (no JSON document: never an image config)" || notok "evidence magic"
apv() { tail -n +2 "$EV" | jq -c --arg d "$1" 'select(.type == "approval" and .digest == $d)'; }
apv "$V1" | jq -e --arg k "$(openssl pkey -pubin -in "$FX/cosign.pub" -outform DER | sha256sum | cut -c1-64)" \
	'.kind == "simple-signing" and .signer == "release" and .key_id == $k and .log_index == 1 and .integrated_time > 1700000000 and (.layer | startswith("sha256:"))' >/dev/null &&
	ok "evidence of app:v1: classic signature, its layer digest, signer 'release', the key id, Rekor log index and time" ||
	notok "evidence of app:v1" "$(apv "$V1")"
apv "$BUN" | jq -e --arg s "$SAN" --arg i "$ISS" '.kind == "bundle" and .signer == "ci" and .identity == $s and .issuer == $i and .source == "referrers-tag"' >/dev/null &&
	ok "evidence of the bundle: kind bundle, signer 'ci', the certificate's SAN and issuer" || notok "evidence of the bundle" "$(apv "$BUN")"
tail -n +2 "$EV" | jq -es --arg d "$ATT" 'map(select(.type == "attestation" and .digest == $d)) | length == 1 and
	(.[0] | .requirement == "provenance" and .signer == "ci" and .log_index == 1)' >/dev/null &&
	ok "evidence of the attestation: requirement, predicate, its signer and log index" ||
	notok "attestation evidence" "$(tail -n +2 "$EV" | jq -c 'select(.type == "attestation")')"
[ "$(apv "$BOTH" | jq -r .signer | sort | tr '\n' ' ')" = "ci release " ] &&
	ok "evidence of the 2-of-2 image: one approval per signer" || notok "2-of-2 evidence" "$(apv "$BOTH")"
P1=${MUL_PLAT%% *}
apv "$P1" | jq -e --arg i "$MUL" '.via_index and .signed_digest == $i and .platform != null' >/dev/null &&
	ok "a platform manifest's evidence: approved through the index's signature (signed_digest = the index)" || notok "platform evidence" "$(apv "$P1")"
[ "$(tail -n +2 "$EV" | jq -r 'select(.type == "signature") | .blob_b64' | wc -l)" -ge 5 ] &&
	ok "the signatures' material is stored (payloads, bundles) for offline re-verification" || notok "signature material"

# Signed by the compile, and valid as nodes verify it.
OUT=$("$CLI" allowlist verify --config "$T/sigward.conf" "$T/list" 2>&1) &&
	ok "the compiled list is signed (--sign-key) and verifies as the hook verifies it" || notok "allowlist verify" "$OUT"
OUT=$("$CLI" allowlist install --config "$T/sigward.conf" "$T/list" 2>&1) && [ -f "$T/lists/current/evidence" ] &&
	cmp -s "$T/lists/current/evidence" "$EV" && ok "installed; the evidence travels with the generation" || notok "install" "$OUT"

# ---- the real hook under runc ----------------------------------------------------------
runc_hook() { # ID IMAGE DIGEST ARGS...
	local id=$1 image=$2 digest=$3 hook
	shift 3
	rt_bundle "$id" "$image" "$(jq -cn --arg r "$REG/app@$digest" '{"io.kubernetes.cri.image-name": $r}')" "$@"
	hook=$(jq -n --arg p "$HOOK" --arg c "$T/sigward.conf" '[{"path": $p, "args": ["sigward-hook", "--config", $c]}]')
	jq --argjson h "$hook" '.hooks.prestart = $h' "$BUNDLE/config.json" >"$BUNDLE/c.new" && mv "$BUNDLE/c.new" "$BUNDLE/config.json"
}
ID=cmp-ok-$$
runc_hook "$ID" signed "$V1"
OUT=$(timeout -k 5 60 runc --root "$T/runc" run -b "$BUNDLE" "$ID" </dev/null 2>&1)
RC=$?
timeout 20 runc --root "$T/runc" delete -f "$ID" >/dev/null 2>&1
[ "$RC" = 0 ] && [ "$OUT" = signed ] && rt_record "$ID" | jq -e '.decision == "allow"' >/dev/null &&
	ok "runc + hook: the compiled list starts the listed image" || notok "runc starts the listed image" "rc=$RC" "$OUT" "$(rt_record "$ID")"
ID=cmp-no-$$
runc_hook "$ID" unsigned "$UNS"
OUT=$(timeout -k 5 60 runc --root "$T/runc" run -b "$BUNDLE" "$ID" </dev/null 2>&1)
RC=$?
timeout 20 runc --root "$T/runc" delete -f "$ID" >/dev/null 2>&1
[ "$RC" != 0 ] && ! grep -qx unsigned <<<"$OUT" && grep -q "sigward: denied container $ID" <<<"$OUT" &&
	ok "runc + hook: the left-out (unsigned) image is refused" || notok "runc refuses the left-out image" "rc=$RC" "$OUT"

# ---- the evidence is covered by the signature --------------------------------------------
cp -r "$T/list" "$T/edited"
sed -i "s/\"signer\":\"release\"/\"signer\":\"ci\"/" "$T/edited/evidence"
OUT=$("$CLI" allowlist evidence --config "$T/sigward.conf" "$T/edited" 2>&1)
RC=$?
[ "$RC" = 1 ] && grep -q "not covered by the list" <<<"$OUT" && ok "an edited evidence file is refused (not covered by the list's signature)" ||
	notok "edited evidence refused" "rc=$RC" "$OUT"
OUT=$("$CLI" allowlist evidence --config "$T/sigward.conf" "$T/list" "$V1" 2>&1)
RC=$?
[ "$RC" = 0 ] && grep -q "verified again" <<<"$OUT" && ok "allowlist evidence: app:v1's signature verified again offline from the list" ||
	notok "allowlist evidence" "rc=$RC" "$OUT"

# ---- push carries the evidence; sigwardd installs it with the list ---------------------------
SWD=$BUILD/daemon/sigwardd
PT0=$(date +%s%N)
LREF=oci+http://$REG/sigward/list:prod
node() { # NAME: a node's config fed from $LREF, its own lists and state
	mkdir -p "$T/$1/state"
	rt_conf "$T/$1/sigward.conf" lists_dir="$T/$1/lists" state_dir="$T/$1/state" log_file="$T/$1/decisions.jsonl"
	printf '[refresh]\nsource = %s\nstaging_dir = %s\nstatus_file = %s\ntimeout = 10s\n' \
		"$LREF" "$T/$1/staging" "$T/$1/refresh.json" >>"$T/$1/sigward.conf"
	OUT=$(timeout 60 "$SWD" --config "$T/$1/sigward.conf" --once 2>&1)
	RC=$?
}
OUT=$("$CLI" allowlist push "$T/edited" "$LREF" 2>&1)
RC=$?
[ "$RC" = 2 ] && grep -q "not covered by the list" <<<"$OUT" &&
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$R/v2/sigward/list/tags/list")" = 404 ] &&
	ok "allowlist push refuses a list directory whose evidence is not the list's (exit 2, nothing pushed)" ||
	notok "push refuses foreign evidence" "rc=$RC" "$OUT"
PD=$("$CLI" allowlist push "$T/list" "$LREF" 2>"$T/push.err")
RC=$?
EVTAG=sha256-${PD#sha256:}.evidence
EM=$(curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$R/v2/sigward/list/manifests/$EVTAG")
[ "$RC" = 0 ] && grep -q "with its evidence" "$T/push.err" &&
	[ "$(curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$R/v2/sigward/list/manifests/prod" | jq '.layers | length')" = 3 ] &&
	jq -e --arg d "$PD" --arg h "sha256:$(sha256sum <"$EV" | cut -d' ' -f1)" '.artifactType == "application/vnd.sigward.allowlist.evidence.v1" and
		.subject.digest == $d and (.layers | length) == 1 and .layers[0].digest == $h' <<<"$EM" >/dev/null &&
	ok "allowlist push: the list as before (3 layers), the evidence as an artifact of its own ($EVTAG, subject: the list)" ||
	notok "push with evidence" "rc=$RC" "$(cat "$T/push.err")" "$EM"
node node1
[ "$RC" = 0 ] && grep -q "with its evidence" <<<"$OUT" && cmp -s "$T/node1/lists/current/evidence" "$EV" &&
	ok "sigwardd --once (oci://): the list installed with its evidence, byte for byte" || notok "sigwardd installs the evidence" "rc=$RC" "$OUT"
OUT=$("$CLI" allowlist evidence --config "$T/node1/sigward.conf" "$T/node1/lists/current" "$V1" 2>&1)
RC=$?
[ "$RC" = 0 ] && grep -q "verified again" <<<"$OUT" && ok "on the node: allowlist evidence verifies app:v1's signature again from the fetched evidence" ||
	notok "allowlist evidence on the node" "rc=$RC" "$OUT"
# A hostile registry swaps the evidence artifact's layer for an edited file.
BAD=$T/edited/evidence
BD=sha256:$(sha256sum <"$BAD" | cut -d' ' -f1)
LOC=$(curl -s -D - -o /dev/null -X POST "$R/v2/sigward/list/blobs/uploads/" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
case $LOC in /*) LOC=$R$LOC ;; esac
case $LOC in *\?*) LOC="$LOC&digest=$BD" ;; *) LOC="$LOC?digest=$BD" ;; esac
curl -s -f -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$BAD" "$LOC" &&
	jq -c --arg d "$BD" --argjson n "$(stat -c %s "$BAD")" '.layers[0].digest = $d | .layers[0].size = $n' <<<"$EM" |
	curl -s -f -o /dev/null -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary @- \
		"$R/v2/sigward/list/manifests/$EVTAG" || notok "setup: the tampered evidence artifact"
node node2
[ "$RC" = 0 ] && grep -q "evidence dropped (the list is installed without it):.*not covered by the list" <<<"$OUT" &&
	grep -q "installed gen-" <<<"$OUT" && [ -f "$T/node2/lists/current/manifest" ] && [ ! -e "$T/node2/lists/current/evidence" ] &&
	ok "a tampered evidence artifact is dropped with a warning; the list installs all the same" ||
	notok "tampered evidence dropped" "rc=$RC" "$OUT"
echo "# push and two nodes' refresh: $((($(date +%s%N) - PT0) / 1000000)) ms"

# A mirror for the air-gapped case below: the image and its signature tag in an
# OCI layout, copied with skopeo while the registry is up.
{
	timeout 60 skopeo copy -q --src-tls-verify=false "docker://$REG/app:v1" "oci:$T/mirror:v1" &&
		timeout 60 skopeo copy -q --src-tls-verify=false "docker://$REG/app:sha256-${V1#sha256:}.sig" "oci:$T/mirror:sha256-${V1#sha256:}.sig"
} >"$T/mirror.log" 2>&1 || notok "setup: the OCI layout mirror" "$(tail -3 "$T/mirror.log")"

# ---- the registry down: nothing written, the old list stays -------------------------------
SUMS=$(cd "$T/list" && sha256sum manifest entries manifest.sig evidence)
kill "$DK_REG_PID" 2>/dev/null
wait "$DK_REG_PID" 2>/dev/null
compile "$T/list" 2 --timeout 5s "oci+http://$REG/app:v1"
[ "$RC" = 2 ] && grep -q "nothing written" <<<"$E" && [ "$(cd "$T/list" && sha256sum manifest entries manifest.sig evidence)" = "$SUMS" ] &&
	[ -z "$(find "$T" -maxdepth 1 -name '.list.compile-*')" ] &&
	ok "registry down: exit 2, nothing written, the old list unchanged byte for byte, no leftovers" ||
	notok "registry down" "rc=$RC" "$E" "$J"
# Air-gapped: the same image compiled from the mirror, no registry reachable.
compile "$T/airgap" 3 --layout-repository "$REG/app" --repository "oci-layout:$T/mirror"
[ "$RC" = 0 ] && [ "$(jq -r '[.listed, .left_out] | @csv' <<<"$J")" = "1,0" ] && grep -q "^$V1 manifest $REG/app:v1\$" "$T/airgap/entries" &&
	tail -n +2 "$T/airgap/evidence" | jq -es 'map(select(.type == "approval")) | length == 1 and .[0].source == "layout"' >/dev/null &&
	ok "air-gapped: compiled from an OCI layout mirror with the registry down (listed as $REG/app:v1, evidence from the layout)" ||
	notok "air-gapped compile from the mirror" "rc=$RC" "$E" "$J"

# ---- audit step 5: the running image's signature verified again, offline --------------------
ID=cmp-run-$$
runc_hook "$ID" signed "$V1" /bin/sleep 300
timeout -k 5 60 runc --root "$T/runc" run -d -b "$BUNDLE" "$ID" </dev/null >"$T/run.out" 2>&1 ||
	notok "audit: a running container of the listed image" "$(cat "$T/run.out")"
AT0=$(date +%s%N); "$CLI" audit --config "$T/sigward.conf" --out "$T/audit" --runc-root "$T/runc" >"$T/audit.out" 2>&1
echo "# audit: $((($(date +%s%N) - AT0) / 1000000)) ms"; A=$T/audit/report.json
jq -e --arg d "$V1" '.sections[] | select(.step == 5) | .tables["image signatures"][] | select(.digest == $d) |
	(.result | startswith("verified again")) and .signer == "release" and .["log index"] == "1" and .container == $id' --arg id "$ID" "$A" >/dev/null &&
	[ -f "$T/audit/evidence/allowlist/evidence" ] && grep -q "evidence/allowlist/evidence" "$T/audit/SHA256SUMS" &&
	ok "audit step 5: the running container's image signature verified again offline from the list's evidence" ||
	notok "audit step 5" "$(jq -c '.sections[] | select(.step == 5)' "$A" 2>/dev/null | cut -c1-600)" "$(tail -3 "$T/audit.out")"
jq -e --arg s "$SAN" --arg i "$ISS" '.sections[] | select(.step == 7) | .tables["who signed the listed images (the current list'"'"'s evidence)"] |
	(map(select(.signer == "ci" and .["key or identity"] == $s and .issuer == $i and (.["first signed (log)"] | length) > 0)) | length) == 1 and
	(map(select(.signer == "release")) | length) == 1' "$A" >/dev/null &&
	ok "audit step 7: who signed the listed images (the CI workflow's identity and issuer, the release key) and when the log saw it" ||
	notok "audit step 7" "$(jq -c '.sections[] | select(.step == 7) | .tables' "$A" 2>/dev/null | cut -c1-800)"
timeout 20 runc --root "$T/runc" delete -f "$ID" >/dev/null 2>&1
rt_done
