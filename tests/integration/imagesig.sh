#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Image signatures (issue 18): `sigward image verify` against a real
# docker-registry holding images pushed with skopeo and signed the way cosign
# signs them, by a test Sigstore of the test's own (imagesig-fixtures.py: a
# Fulcio root, a Rekor key, trusted_root.json, a cosign key pair):
#  - classic signatures (tag sha256-<hex>.sig, simple-signing payload, signature,
#    certificate, Rekor SET, RFC 3161 timestamp annotations), keyed (one signed by
#    the openssl CLI and uploaded with curl) and keyless;
#  - cosign v3 bundles (DSSE, in-toto, Rekor entry with inclusion proof and
#    checkpoint) as OCI 1.1 referrers: through the referrers API (served by
#    imagesig-referrers.py in front of the registry, which lacks it) and through
#    the sha256-<hex> fallback tag on the registry itself;
#  - multi-arch indexes, an OCI layout copied with skopeo, an HTTPS registry
#    with the Bearer token flow (daemon-lib.sh);
#  - and what must fail: tampered payload, wrong digest, wrong reference, wrong
#    identity, wrong issuer, expired certificate, missing log entry, an
#    attestation without a signature, an index whose platform manifest is
#    unsigned, the registry down.
# Exit 0 pass, 77 skipped (a tool is missing), anything else fail.
set -uo pipefail
B=${SIGWARD_BUILD:?}
SRC=${SIGWARD_SRC:?}
HERE=$SRC/tests/integration
SW=$B/cli/sigward
pass=0 fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
nok() { echo "not ok - $1${2:+: $2}"; fail=$((fail + 1)); }
skip() {
	echo "SKIP: $1"
	[ "${SIGWARD_REQUIRE_ALL:-}" = 1 ] && exit 1
	exit 77
}
for t in docker-registry skopeo curl jq openssl python3 ss htpasswd; do
	command -v "$t" >/dev/null || skip "$t not installed"
done
python3 -c 'import cryptography' 2>/dev/null || skip "python3-cryptography not installed"
[ -x "$SW" ] || skip "build first: $SW"

T=$(mktemp -d /tmp/sw-imagesig.XXXXXX)
t0=$(date +%s.%N)
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
since() { echo "# $1: $(elapsed "$t0") s since the start"; }
PROXY_PID=
cleanup() {
	# Only the registry and the proxy were started (dk_stop_all would also
	# search every process of the machine for a dockerd of ours: seconds).
	local p
	dl_stop_all
	for p in $PROXY_PID $DK_REG_PID; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
# shellcheck source=docker-lib.sh
. "$HERE/docker-lib.sh"
# shellcheck source=daemon-lib.sh
. "$HERE/daemon-lib.sh"
cd "$T" || exit 1
FX=$T/fx
fx() { python3 "$HERE/imagesig-fixtures.py" "$@"; }

SAN=https://github.com/acme/app/.github/workflows/ci.yml@refs/heads/main
ISS=https://token.actions.githubusercontent.com
TAGS="key key-openssl key-notlog keyless keyless-tsa keyless-badtsa expired keyless-notlog tampered wrongdigest wrongref bundle-ref bundle-tag attest sig-referrer"
fx init "$FX" $TAGS || { echo "not ok - setup: fixtures"; exit 1; }
dk_registry_start || { echo "not ok - setup: $DK_ERR"; exit 1; }
REG=$DK_REG
python3 "$HERE/imagesig-referrers.py" "http://$REG" "$T/proxy.port" 2>"$T/proxy.log" &
PROXY_PID=$!
for _ in $(seq 100); do [ -s "$T/proxy.port" ] && break; sleep 0.1; done
[ -s "$T/proxy.port" ] || { echo "not ok - setup: referrers proxy did not start"; exit 1; }
PROXY=127.0.0.1:$(cat "$T/proxy.port")

# ---- images, pushed with skopeo ---------------------------------------------------
pids=()
for t in $TAGS multi1 multi2; do
	timeout 60 skopeo copy -q --all --dest-tls-verify=false "oci:$FX/layout:$t" "docker://$REG/app:$t" &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || { echo "not ok - setup: skopeo copy into the registry"; exit 1; }
done
# The digests as the registry serves them (skopeo compresses the layout's plain
# tar layers on the way, so the manifests are new ones).
ACCEPT='application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json'
raw() { curl -fsS -H "Accept: $ACCEPT" "http://$REG/v2/app/manifests/$1"; }
declare -A D
for t in $TAGS multi1 multi2; do
	D[$t]=sha256:$(raw "$t" | sha256sum | cut -c1-64)
done
plat() { # INDEX-TAG ARCH -> platform manifest digest
	raw "$1" | jq -r --arg a "$2" '.manifests[] | select(.platform.architecture == $a) | .digest'
}
M1_AMD=$(plat multi1 amd64) M1_ARM=$(plat multi1 arm64) M2_AMD=$(plat multi2 amd64) M2_ARM=$(plat multi2 arm64)

since "images pushed"
# ---- signatures -------------------------------------------------------------------
R=http://$REG
KL="--keyless '$SAN' '$ISS'"
{
	cat <<-EOF | fx batch
	simple $FX $R app ${D[key]}
	simple $FX $R app ${D[key-notlog]} --no-tlog
	simple $FX $R app ${D[keyless]} $KL
	simple $FX $R app ${D[keyless-tsa]} $KL --timestamp tsa
	simple $FX $R app ${D[keyless-badtsa]} $KL --timestamp tsa-untrusted
	simple $FX $R app ${D[expired]} $KL --expired
	simple $FX $R app ${D[keyless-notlog]} $KL --no-tlog
	simple $FX $R app ${D[tampered]} --tamper
	simple $FX $R app ${D[wrongdigest]} --payload-digest ${D[key]}
	simple $FX $R app ${D[wrongref]} --ref $REG/other
	bundle $FX http://$PROXY app ${D[bundle-ref]}
	simple $FX http://$PROXY app ${D[sig-referrer]} $KL --referrer
	bundle $FX $R app ${D[bundle-tag]} $KL --fallback-tag
	bundle $FX http://$PROXY app ${D[attest]} --predicate https://slsa.dev/provenance/v1
	simple $FX $R app ${D[multi1]} $KL
	simple $FX $R app $M2_AMD $KL
	EOF
} >"$T/sign.log" 2>&1 || { echo "not ok - setup: signing"; cat "$T/sign.log"; exit 1; }

# The openssl CLI signs a payload of the test's own; curl uploads it as cosign does.
{
	H=${D[key-openssl]}
	printf '{"critical":{"identity":{"docker-reference":"%s/app"},"image":{"docker-manifest-digest":"%s"},"type":"cosign container image signature"},"optional":null}' "$REG" "$H" >payload.json
	openssl dgst -sha256 -sign "$FX/cosign.key" -out payload.sig payload.json &&
	upload() { # FILE -> digest
		local d loc
		d=sha256:$(sha256sum "$1" | cut -c1-64)
		loc=$(curl -fsS -X POST -D - -o /dev/null "$R/v2/app/blobs/uploads/" | tr -d '\r' | sed -n 's/^Location: //Ip')
		case $loc in /*) loc=$R$loc ;; esac
		curl -fsS -X PUT -H 'Content-Type: application/octet-stream' --data-binary @"$1" "$loc&digest=$d" >/dev/null && echo "$d"
	}
	echo -n '{}' >config.json
	PD=$(upload payload.json) && CD=$(upload config.json) &&
	jq -n --arg pd "$PD" --argjson ps "$(stat -c %s payload.json)" --arg cd "$CD" --arg sig "$(base64 -w0 payload.sig)" \
		'{schemaVersion:2, mediaType:"application/vnd.oci.image.manifest.v1+json",
		  config:{mediaType:"application/vnd.oci.image.config.v1+json", digest:$cd, size:2},
		  layers:[{mediaType:"application/vnd.dev.cosign.simplesigning.v1+json", digest:$pd, size:$ps,
		           annotations:{"dev.cosignproject.cosign/signature":$sig}}]}' >sig.json &&
	curl -fsS -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary @sig.json \
		"$R/v2/app/manifests/sha256-${H#sha256:}.sig"
} >"$T/openssl.log" 2>&1 || { echo "not ok - setup: openssl signature"; cat "$T/openssl.log"; exit 1; }

since "images signed"
# ---- verification -------------------------------------------------------------------
TR=(--trusted-root "$FX/trusted_root.json")
KEY=(--key "$FX/cosign.pub" "${TR[@]}")
ID=(--identity "$SAN" --issuer "$ISS" "${TR[@]}")
# v NAME WANT-RC REF ARGS... : runs sigward image verify, JSON in $J, stderr in $E
v() {
	local name=$1 want=$2 ref=$3
	shift 3
	J=$(timeout 30 "$SW" image verify "$ref" "$@" 2>"$T/err") RC=$?
	E=$(cat "$T/err")
	if [ "$RC" = "$want" ]; then return 0; fi
	nok "$name" "rc=$RC (want $want) $E"
	return 1
}
# has NAME NEEDLE [--arg K V]... JQ-EXPR: the expression holds on $J and stderr
# holds NEEDLE (empty: not checked)
has() {
	local name=$1 needle=$2
	shift 2
	if jq -e "$@" <<<"$J" >/dev/null 2>&1 && { [ -z "$needle" ] || grep -qF -- "$needle" <<<"$E"; }; then ok "$name"
	else nok "$name" "$(jq -c . <<<"$J" 2>/dev/null | cut -c1-400) $E"; fi
}
start=$(date +%s.%N)

v "classic keyed" 0 "oci+http://$REG/app:key" "${KEY[@]}" &&
	has "classic keyed: approved with its evidence (simple signing, key id, Rekor log index and time, reference)" "" --arg d "${D[key]}" '.approved and .digest == $d and (.evidence | length) == 1 and
		 (.evidence[0] | .kind == "simple-signing" and .source == "tag" and .image == $d and .via_index == false and
		  (.key_id | startswith("sha256:")) and .log_index == 1 and .integrated_time > 1700000000 and
		  (.docker_reference | endswith("/app")))'
v "classic keyed, other key" 1 "oci+http://$REG/app:key" --key "$FX/other.pub" "${TR[@]}" &&
	has "classic keyed under another key: refused" "does not verify" '.approved == false and (.evidence | length) == 0'
v "classic keyed by the openssl CLI, uploaded with curl" 0 "oci+http://$REG/app:key-openssl" --key "$FX/cosign.pub" &&
	has "classic keyed by the openssl CLI (no log entry): approved without --need-tlog" "" '.approved and .evidence[0].log_index == null'
v "openssl signature with --need-tlog" 1 "oci+http://$REG/app:key-openssl" "${KEY[@]}" --need-tlog &&
	has "missing log entry (keyed, --need-tlog): refused" "no Rekor entry" '.approved == false'
v "classic keyless" 0 "oci+http://$REG/app:keyless" "${ID[@]}" &&
	has "classic keyless: approved, evidence names SAN, issuer, log index" "" --arg s "$SAN" --arg i "$ISS" '.approved and (.evidence[0] | .kind == "simple-signing" and .san == $s and .issuer == $i and .log_index == 1)'
v "classic keyless, identity pattern" 0 "oci+http://$REG/app:keyless" \
	--identity-regexp 'https://github\.com/acme/[^/]+/\.github/workflows/.*' --issuer-regexp 'https://token\.actions\.githubusercontent\.com' "${TR[@]}" &&
	has "keyless with identity and issuer patterns: approved, the matching SAN reported" "" --arg s "$SAN" '.approved and .evidence[0].san == $s'
v "unanchored pattern" 1 "oci+http://$REG/app:keyless" --identity-regexp 'https://github\.com/acme/' --issuer "$ISS" "${TR[@]}" &&
	has "an identity pattern matching only a prefix of the SAN: refused (patterns match whole SANs)" "identity pattern" '.approved == false'
v "wrong identity" 1 "oci+http://$REG/app:keyless" --identity https://github.com/evil/app/.github/workflows/ci.yml@refs/heads/main \
	--issuer "$ISS" "${TR[@]}" && has "wrong identity: refused" "is not among its URI or email SANs" '.approved == false'
v "wrong issuer" 1 "oci+http://$REG/app:keyless" --identity "$SAN" --issuer https://accounts.google.com "${TR[@]}" &&
	has "wrong issuer: refused" "OIDC issuer" '.approved == false'
v "keyless with an RFC 3161 timestamp" 0 "oci+http://$REG/app:keyless-tsa" "${ID[@]}" &&
	has "classic keyless with a Rekor entry and an RFC 3161 timestamp (openssl ts) of the signature: approved" "" '.approved'
v "keyless with a timestamp of an unknown TSA" 1 "oci+http://$REG/app:keyless-badtsa" "${ID[@]}" &&
	has "a timestamp from a TSA not in the trust root: refused" "does not verify under a timestamp authority of the trust root" '.approved == false'
v "expired certificate" 1 "oci+http://$REG/app:expired" "${ID[@]}" &&
	has "certificate expired before the log entry's integrated time: refused" "not valid at the verified time" '.approved == false'
v "keyless without log entry" 1 "oci+http://$REG/app:keyless-notlog" "${ID[@]}" &&
	has "missing log entry (keyless): refused" "no transparency log entry" '.approved == false'
v "tampered payload" 1 "oci+http://$REG/app:tampered" "${KEY[@]}" &&
	has "tampered payload: refused" "does not verify" '.approved == false'
v "wrong digest" 1 "oci+http://$REG/app:wrongdigest" "${KEY[@]}" &&
	has "validly signed payload naming another image's digest: refused" "docker-manifest-digest is ${D[key]}" '.approved == false'
v "wrong reference" 1 "oci+http://$REG/app:wrongref" "${KEY[@]}" &&
	has "payload docker-reference of another repository: refused" "docker-reference $REG/other is not" '.approved == false'
v "wrong reference, policy's own" 0 "oci+http://$REG/app:wrongref" "${KEY[@]}" --reference "$REG/other" &&
	has "the same signature under a policy naming that repository: approved" "" '.approved'
v "bundle through the referrers API" 0 "oci+http://$PROXY/app:bundle-ref" "${KEY[@]}" &&
	has "cosign v3 bundle (keyed) through the referrers API: approved" "" '.approved and (.evidence[0] | .kind == "bundle" and .source == "referrers" and .log_index == 1)'
# The proxy lies about the bundle's blob: a digest mismatch is an error, not "unsigned".
curl -fsS -H "Accept: application/vnd.oci.image.index.v1+json" "http://$PROXY/v2/app/referrers/${D[bundle-ref]}" |
	jq -r '.manifests[0].digest' | xargs -I{} curl -fsS -H "Accept: application/vnd.oci.image.manifest.v1+json" \
	"http://$PROXY/v2/app/manifests/{}" | jq -r '.layers[0].digest' >"$T/proxy.port.corrupt"
v "a registry serving other bytes for a blob" 2 "oci+http://$PROXY/app:bundle-ref" "${KEY[@]}" &&
	has "a registry serving other bytes for the bundle's digest: an error, nothing verified" "content does not match its digest" '. == null'
rm -f "$T/proxy.port.corrupt"
grep -q "GET /v2/app/referrers/${D[bundle-ref]}" "$T/proxy.log" && ok "the referrers API was asked" || nok "the referrers API was asked"
v "classic signature as a referrer" 0 "oci+http://$PROXY/app:sig-referrer" "${ID[@]}" &&
	has "classic keyless signature attached as an OCI 1.1 referrer (cosign 2's oci-1-1 mode): approved" "" \
		'.approved and (.evidence[0] | .kind == "simple-signing" and .source == "referrers")'
v "bundle through the fallback tag" 0 "oci+http://$REG/app:bundle-tag" "${ID[@]}" &&
	has "cosign v3 bundle (keyless) through the sha256-<hex> fallback tag (registry without the API): approved" "" --arg s "$SAN" '.approved and (.evidence[0] | .kind == "bundle" and .source == "referrers-tag" and .san == $s)'
v "bundle, wrong identity" 1 "oci+http://$REG/app:bundle-tag" --identity "$SAN" --issuer https://accounts.google.com "${TR[@]}" &&
	has "cosign v3 bundle under the wrong issuer: refused" "OIDC issuer" '.approved == false'
v "attestation only" 1 "oci+http://$PROXY/app:attest" "${KEY[@]}" &&
	has "an attestation (SLSA provenance) without a signature: refused" "an attestation (predicateType https://slsa.dev/provenance/v1), not a signature" '.approved == false and .manifests[0].signatures_found == 1'

# ---- multi-arch ------------------------------------------------------------------------
v "signed index" 0 "oci+http://$REG/app:multi1" "${ID[@]}" &&
	has "signed index: index and both platform manifests approved, the platforms as covered by the index" "" --arg i "${D[multi1]}" --arg a "$M1_AMD" --arg r "$M1_ARM" '.approved and (.manifests | length) == 3 and .manifests[0].index and
		 ([.manifests[1:][] | .covered_by] == ["index", "index"]) and
		 ([.evidence[] | select(.via_index) | .image] | sort) == ([$a, $r] | sort) and
		 all(.evidence[] | select(.via_index); .signed_digest == $i)'
v "signed index, --each-platform" 1 "oci+http://$REG/app:multi1" "${ID[@]}" --each-platform &&
	has "signed index whose platform manifests are unsigned, --each-platform: refused" "(linux/amd64): not approved" '.approved == false'
v "unsigned index" 1 "oci+http://$REG/app:multi2" "${ID[@]}" &&
	has "unsigned index, amd64 signed, arm64 unsigned: refused; amd64 reported as approved on its own" "not approved" --arg a "$M2_AMD" --arg r "$M2_ARM" '.approved == false and (.manifests[] | select(.digest == $a) | .approved and .covered_by == "own") and
		 (.manifests[] | select(.digest == $r) | .approved == false)'
v "platform manifest by digest" 0 "oci+http://$REG/app@$M2_AMD" "${ID[@]}" &&
	has "the signed platform manifest by digest: approved" "" '.approved'

# ---- memory: one run over an index and a bundle under valgrind --------------------------
if command -v valgrind >/dev/null; then
	for ref in "oci+http://$REG/app:multi1" "oci+http://$REG/app:bundle-tag"; do
		if timeout 120 valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 \
			"$SW" image verify "$ref" "${ID[@]}" >/dev/null 2>"$T/vg.log"; then
			ok "valgrind: no memory error or leak verifying ${ref##*:}"
		else
			nok "valgrind: ${ref##*:}" "$(head -20 "$T/vg.log")"
		fi
	done
fi

# ---- OCI layout (a mirror made with skopeo) ---------------------------------------------
{
	H=${D[key]}
	skopeo copy -q --src-tls-verify=false "docker://$REG/app:key" "oci:$T/mirror:key" &&
		skopeo copy -q --src-tls-verify=false "docker://$REG/app:sha256-${H#sha256:}.sig" "oci:$T/mirror:sha256-${H#sha256:}.sig"
} >"$T/mirror.log" 2>&1 || nok "skopeo copy into an OCI layout" "$(tail -3 "$T/mirror.log")"
v "OCI layout" 0 "oci-layout:$T/mirror:key" "${KEY[@]}" --reference "$REG/app" &&
	has "OCI layout (no network): approved, same digest as in the registry" "" --arg d "${D[key]}" '.approved and .digest == $d and .evidence[0].source == "layout"'

v "OCI layout without --reference" 2 "oci-layout:$T/mirror:key" "${KEY[@]}" &&
	has "OCI layout without the repository to match the payload against: usage error, nothing verified" "needs --reference" '. == null'

# ---- HTTPS and the Bearer token flow (daemon-lib.sh's registry and token service) ---------
# The signed image and its signature image copied registry to registry by skopeo.
if dl_make_pki && dl_start_registry sig pw0rd token; then
	H=${D[key]}
	S=127.0.0.1:$REG_PORT
	printf 'sig:pw0rd\n' >"$T/creds"
	printf 'sig:wrong\n' >"$T/badcreds"
	for t in key "sha256-${H#sha256:}.sig"; do
		timeout 60 skopeo copy -q --src-tls-verify=false --dest-creds sig:pw0rd \
			--dest-tls-verify=false "docker://$REG/app:$t" "docker://$S/app:$t" >>"$T/tls.log" 2>&1 ||
			nok "skopeo copy $t to the TLS registry" "$(tail -2 "$T/tls.log")"
	done
	v "TLS registry with token auth" 0 "oci://$S/app:key" "${KEY[@]}" --reference "$REG/app" \
		--ca-file "$T/pki/ca.pem" --credentials "$T/creds" &&
		has "HTTPS registry (test CA) with Bearer tokens: approved, same digest, token service asked" "" \
			--arg d "${D[key]}" '.approved and .digest == $d'
	grep -qx "token sig repository:app:pull pull" "$TOK_LOG" && ok "the token service granted sigward's pull" ||
		nok "token service" "$(tail -3 "$TOK_LOG")"
	v "TLS registry, wrong credentials" 2 "oci://$S/app:key" "${KEY[@]}" --reference "$REG/app" \
		--ca-file "$T/pki/ca.pem" --credentials "$T/badcreds" &&
		has "wrong registry credentials: an error, nothing verified" "token request answered 401" '. == null'
	v "TLS registry, CA not given" 2 "oci://$S/app:key" "${KEY[@]}" --reference "$REG/app" &&
		has "a registry certificate from an unknown CA: an error, nothing verified" "SSL" '. == null'
else
	nok "TLS registry with token auth did not start" "$(tail -3 "$T/registry-token/registry.log" 2>/dev/null)"
fi

# ---- the registry down ------------------------------------------------------------------
kill "$PROXY_PID" 2>/dev/null
wait "$PROXY_PID" 2>/dev/null
PROXY_PID=
v "registry down" 2 "oci+http://$PROXY/app:bundle-ref" "${KEY[@]}" --timeout 5 &&
	{ [ -z "$J" ] && grep -q "Could not connect\|Couldn't connect\|Connection refused" <<<"$E" &&
		ok "registry down: an error, nothing printed as verified" || nok "registry down" "$J $E"; }

echo "# $(elapsed "$start") s for the verifications"
since "done"
echo "# $pass passed, $fail failed"
[ "$fail" = 0 ]
