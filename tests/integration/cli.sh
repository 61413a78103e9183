#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The sigward CLI end to end: every subcommand and its error paths, signature
# interop with the openssl CLI in both directions (every key type, RSA-PSS, a
# cosign-style line), PKCS#11 signing on a softhsm2 token, generations kept by
# install, and `sigward check` agreeing with the real sigward-hook.
# Exit 0 pass, 77 skipped (a tool is missing), anything else fail.
set -uo pipefail
B=${SIGWARD_BUILD:?}
SW=$B/cli/sigward
HOOK=$B/hook/sigward-hook
pass=0 fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
nok() { echo "not ok - $1${2:+: $2}"; fail=$((fail + 1)); }
check() { # NAME COMMAND... : ok when the command succeeds
	local name=$1; shift
	if "$@"; then ok "$name"; else nok "$name"; fi
}
skip() {
	echo "SKIP: $1"
	[ "${SIGWARD_REQUIRE_ALL:-}" = 1 ] && exit 1
	exit 77
}
for t in openssl jq base64 umoci softhsm2-util pkcs11-tool sha256sum; do
	command -v "$t" >/dev/null || skip "$t not installed"
done
SOFTHSM_MODULE=/usr/lib/softhsm/libsofthsm2.so
[ -r "$SOFTHSM_MODULE" ] || skip "softhsm2 module not found"
[ -x "$SW" ] && [ -x "$HOOK" ] || skip "build first: $SW"

T=$(mktemp -d /tmp/sw-cli.XXXXXX)
cleanup() { rm -rf "$T"; }
trap cleanup EXIT
cd "$T"

# run CMD... -> OUT (stdout+stderr), RC
run() { OUT=$("$@" 2>&1); RC=$?; }
expect() { # NAME RC NEEDLE (NEEDLE may be empty)
	if [ "$RC" = "$2" ] && { [ -z "${3:-}" ] || grep -qF -- "$3" <<<"$OUT"; }; then
		ok "$1"
	else
		nok "$1" "rc=$RC (want $2) $(echo "$OUT" | tail -3)"
	fi
}
keyid() { openssl pkey -pubin -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }
dig() { printf 'sha256:%s' "$(printf %s "$1" | sha256sum | cut -d' ' -f1)"; }
snapshot() { (cd "$1" && find . -printf '%p %y %l\n' | sort && find . -type f -exec sha256sum {} + | sort); }

# ---- keys of every type, made by openssl --------------------------------------
mkdir -p keys/all
okey() { # NAME ALG
	case $2 in
	ed25519) openssl genpkey -algorithm ed25519 -out "$1.key" 2>/dev/null ;;
	p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null ;;
	p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$1.key" 2>/dev/null ;;
	rsa2048) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1.key" 2>/dev/null ;;
	rsa1024) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$1.key" 2>/dev/null ;;
	esac
	mkdir -p "keys/$1"
	openssl pkey -in "$1.key" -pubout -out "keys/$1/$1.pub"
}
for k in ed25519 p256 p384 rsa2048; do okey "o-$k" "$k"; cp "keys/o-$k/o-$k.pub" keys/all/; done
okey weak rsa1024
okey rogue ed25519

# A node: config with its own lists, state and log.
node() { # NAME [mode] [threshold] [keys]
	mkdir -p "$T/$1/lists" "$T/$1/state"
	cat > "$T/$1/sigward.conf" <<CONF
[sigward]
mode = ${2:-enforce}
scope = test
threshold = ${3:-1}
keys_dir = ${4:-$T/keys/all}
lists_dir = $T/$1/lists
state_dir = $T/$1/state
log_file = $T/$1/decisions.jsonl
syslog = no
[resolve]
annotations = io.kubernetes.cri-o.ImageRef io.kubernetes.cri.image-name
containers_storage = no
docker = no
containerd = no
[refresh]
status_file = $T/$1/refresh.json
CONF
	CONF=$T/$1/sigward.conf
}
node n1

D1=$(dig one) D2=$(dig two) D3=$(dig three) D4=$(dig four)
mklist() { # DIR SERIAL [EXPIRES [SCOPE]] DIGEST-LINES...
	local dir=$1 serial=$2 exp=${3:-30d} scope=${4:-test}
	shift 4
	local issued=()
	case $exp in 20*) issued=(--issued 2020-01-01T00:00:00Z) ;; esac
	printf '%s\n' "$@" | "$SW" allowlist build --scope "$scope" --serial "$serial" --expires "$exp" \
		"${issued[@]}" --out "$dir" >/dev/null 2>&1
}

# ---- --help everywhere, usage errors ------------------------------------------
for c in "allowlist build" "allowlist sign" "allowlist verify" "allowlist show" "allowlist diff" \
	"allowlist install" "allowlist push" "check" "status" "log verify" "log show" "keygen" "audit"; do
	run $SW $c --help
	if [ "$RC" = 0 ] && grep -q "^usage: sigward $c" <<<"$OUT"; then ok "'sigward $c --help'"; else nok "'sigward $c --help'" "$OUT"; fi
done
run $SW --help; expect "'sigward --help' lists status and keygen" 0 "keygen"
run $SW allowlist frobnicate; expect "an unknown subcommand is a usage error" 2 "unknown subcommand"
run $SW nonsense; expect "an unknown command is a usage error" 2 "unknown command"
run $SW allowlist sign lists; expect "sign without --key is a usage error" 2 "--key"
run $SW check; expect "check without a form is a usage error" 2 "exactly one of"
run $SW check --bundle x sha256:00; expect "check with two forms is a usage error" 2 "exactly one of"
run $SW check --config "$CONF" not-a-digest; expect "check with a bad digest is a usage error" 2 "not a digest"

# ---- keygen --------------------------------------------------------------------
mkdir -p kg
for a in ed25519 ecdsa-p256 ecdsa-p384 rsa-3072; do
	run $SW keygen --algorithm $a --out kg/$a
	id=$(keyid kg/$a.pub)
	if [ "$RC" = 0 ] && grep -qF "$id" <<<"$OUT" && [ "$(stat -c %a kg/$a.key)" = 600 ] &&
		[ "$(stat -c %a kg/$a.pub)" = 644 ] && openssl pkey -in kg/$a.key -noout 2>/dev/null; then
		ok "keygen $a writes PREFIX.key 0600 and PREFIX.pub, prints the key id"
	else
		nok "keygen $a" "$OUT"
	fi
done
run $SW keygen --algorithm ed25519 --out kg/ed25519; expect "keygen never overwrites a key" 2 "already exists"
run $SW keygen --algorithm dsa --out kg/dsa; expect "keygen refuses an unknown algorithm" 2 "unknown algorithm"
run $SW keygen --out kg/default
[ "$RC" = 0 ] && openssl pkey -in kg/default.key -noout -text 2>/dev/null | grep -q "ED25519" &&
	ok "keygen without --algorithm makes an Ed25519 key" || nok "keygen without --algorithm makes an Ed25519 key" "$OUT"
run $SW keygen --algorithm ed25519; expect "keygen without --out is a usage error" 2 "required"

# ---- build from an OCI layout ------------------------------------------------------
umoci init --layout img >/dev/null && umoci new --image img:base >/dev/null
umoci unpack --image img:base u >/dev/null 2>&1 && echo v1 > u/rootfs/which && umoci repack --image img:v1 u >/dev/null 2>&1
MAN=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "v1") | .digest' img/index.json)
CFG=$(jq -r .config.digest "img/blobs/sha256/${MAN#sha256:}")
run $SW allowlist build --scope test --serial 1 --expires 1d --out oci1 --from-oci-layout img:v1
if [ "$RC" = 0 ] && grep -qx "$MAN manifest v1" oci1/entries && grep -qx "$CFG image-id v1" oci1/entries &&
	[ "$(wc -l < oci1/entries)" = 2 ]; then
	ok "build --from-oci-layout DIR:TAG adds the manifest digest and the image id (marked image-id) with the reference"
else
	nok "build --from-oci-layout" "$OUT $(cat oci1/entries 2>/dev/null)"
fi
run $SW allowlist build --scope test --serial 1 --expires 1d --out oci2 --from-oci-layout img
[ "$RC" = 0 ] && [ "$(wc -l < oci2/entries)" = 4 ] && ok "build --from-oci-layout DIR takes every tagged image" || nok "build --from-oci-layout DIR" "$OUT"
run $SW allowlist build --scope test --serial 1 --expires 1d --out oci3 --from-oci-layout img:nope
expect "build --from-oci-layout with an unknown tag fails" 2 "no image tagged 'nope'"
cp -r img badimg
echo tampered >> "badimg/blobs/sha256/${MAN#sha256:}"
run $SW allowlist build --scope test --serial 1 --expires 1d --out oci4 --from-oci-layout badimg:v1
expect "build --from-oci-layout refuses a blob that does not match its digest" 2 "does not match its digest"
run $SW allowlist build --scope test --out x; expect "build without --serial is a usage error" 2 "required"
# --expires: a duration counts from now, even with --issued; a past time without
# --issued says how to build an already expired list.
D0=sha256:$(printf x | sha256sum | cut -d' ' -f1)
echo "$D0" | $SW allowlist build --scope test --serial 1 --issued "$(date -u -d '-10 days' +%Y-%m-%dT%H:%M:%SZ)" --expires 30d --out exp30 >/dev/null 2>&1
exp=$($SW allowlist show --json exp30 2>/dev/null | jq -r .expires)
left=$(( $(date -u -d "$exp" +%s) - $(date +%s) ))
[ "$left" -gt $((29 * 86400)) ] && [ "$left" -le $((30 * 86400)) ] &&
	ok "build --issued <10 days ago> --expires 30d: expires 30 days from now" || nok "--expires 30d counts from now" "expires=$exp left=$left"
OUT=$(echo "$D0" | $SW allowlist build --scope test --serial 1 --expires 2021-01-01T00:00:00Z --out expp 2>&1); RC=$?
expect "build --expires <past> without --issued names the issue time and the way out" 2 "give --issued with an earlier time"
echo "not a digest" | $SW allowlist build --scope test --serial 1 --expires 1d --out x >/dev/null 2>&1
[ $? = 2 ] && ok "build refuses a malformed input line" || nok "build refuses a malformed input line"

# ---- interop: openssl signs, sigward verifies -------------------------------------------
osign() { # DIR KEY ALG [pss]
	case $3 in
	ed25519) openssl pkeyutl -sign -inkey "$2" -rawin -in "$1/manifest" | base64 -w0 >> "$1/manifest.sig" ;;
	*) openssl dgst -sha256 ${4:+-sigopt rsa_padding_mode:pss} -sign "$2" "$1/manifest" | base64 -w0 >> "$1/manifest.sig" ;;
	esac
	echo >> "$1/manifest.sig"
}
for k in ed25519 p256 p384 rsa2048 rsa2048-pss; do
	kk=${k%-pss}
	mklist "os-$k" 1 30d test "$D1" "img/a@$D2"
	pss=; [ "$k" = rsa2048-pss ] && pss=pss
	osign "os-$k" "o-$kk.key" "$kk" $pss
	run $SW allowlist verify --config "$CONF" --keys "keys/o-$kk" "os-$k"
	expect "a signature by 'openssl' with $k verifies with 'sigward allowlist verify'" 0 "$(keyid keys/o-$kk/o-$kk.pub)"
done
# cosign sign-blob prints the base64 of a DER ECDSA signature, without a newline.
mklist cosign 1 30d test "$D1"
openssl dgst -sha256 -sign o-p256.key cosign/manifest | base64 -w0 > cosign/manifest.sig
run $SW allowlist verify --config "$CONF" --keys keys/o-p256 cosign
expect "a cosign-style base64 DER ECDSA line (no newline) verifies" 0 "valid"
printf '\r\n' >> cosign/manifest.sig
run $SW allowlist verify --config "$CONF" --keys keys/o-p256 cosign
expect "a CRLF-terminated signature line verifies" 0 "valid"

# ---- interop: sigward signs, openssl verifies -------------------------------------------
lastsig() { tail -1 "$1/manifest.sig" | base64 -d > "$1/sig.bin"; }
for k in ed25519 p256 p384 rsa2048 rsa2048-pss kg-ed25519 kg-ecdsa-p384 kg-rsa-3072; do
	case $k in kg-*) key=kg/${k#kg-}.key pub=kg/${k#kg-}.pub ;; *) key=o-${k%-pss}.key pub=keys/o-${k%-pss}/o-${k%-pss}.pub ;; esac
	pss=()
	[ "$k" = rsa2048-pss ] && pss=(--rsa-pss)
	mklist "ss-$k" 1 30d test "$D1" "$D3"
	run $SW allowlist sign --key "$key" "${pss[@]}" "ss-$k/"
	[ "$RC" = 0 ] || { nok "sigward allowlist sign with $k" "$OUT"; continue; }
	grep -q "^signed ss-$k/manifest with " <<<"$OUT" || nok "sign DIR/ names DIR/manifest (one slash)" "$OUT"
	lastsig "ss-$k"
	case $k in
	*ed25519) openssl pkeyutl -verify -pubin -inkey "$pub" -rawin -in "ss-$k/manifest" -sigfile "ss-$k/sig.bin" >/dev/null 2>&1 ;;
	*-pss) openssl dgst -sha256 -sigopt rsa_padding_mode:pss -verify "$pub" -signature "ss-$k/sig.bin" "ss-$k/manifest" >/dev/null 2>&1 ;;
	*) openssl dgst -sha256 -verify "$pub" -signature "ss-$k/sig.bin" "ss-$k/manifest" >/dev/null 2>&1 ;;
	esac
	[ $? = 0 ] && ok "a signature by 'sigward allowlist sign' with $k verifies with openssl" || nok "openssl verifies sigward's $k signature"
done
# An RSA PKCS#1 v1.5 signature is exactly what 'openssl dgst -sha256 -sign' makes (deterministic).
mklist det 1 30d test "$D1"
$SW allowlist sign --key o-rsa2048.key det >/dev/null
[ "$(head -1 det/manifest.sig)" = "$(openssl dgst -sha256 -sign o-rsa2048.key det/manifest | base64 -w0)" ] &&
	ok "sigward's RSA PKCS#1 v1.5 line is byte for byte openssl's" || nok "sigward's RSA line equals openssl's"
# Several keys at once append one line each to an existing file.
mklist multi 1 30d test "$D1"
osign multi o-p384.key p384
run $SW allowlist sign --key o-ed25519.key --key o-p256.key multi
[ "$RC" = 0 ] && [ "$(wc -l < multi/manifest.sig)" = 3 ] && ok "sign with two keys appends two lines" || nok "sign with two keys" "$OUT"
node th2 enforce 3
run $SW allowlist verify --config "$CONF" multi; expect "three signers meet threshold 3" 0 "3 of 3"

# ---- sign error paths: nothing is written -----------------------------------------------
mklist se 1 30d test "$D1"
osign se o-p256.key p256
before=$(sha256sum se/manifest.sig)
run $SW allowlist sign --key o-ed25519.key --key /nonexistent.key se; expect "sign with a missing key file fails" 2 "/nonexistent.key"
run $SW allowlist sign --key weak.key se; expect "sign refuses an RSA key under 2048 bits" 2 "too weak"
run $SW allowlist sign --key keys/o-p256/o-p256.pub se; expect "sign refuses a public key" 2 "not a PEM private key"
openssl pkey -in o-p256.key -aes256 -passout pass:s3cret -out enc.key
run $SW allowlist sign --key enc.key se; expect "sign refuses an encrypted key without a passphrase" 2 "no passphrase"
[ "$before" = "$(sha256sum se/manifest.sig)" ] && ok "failed signing leaves manifest.sig unchanged" || nok "failed signing leaves manifest.sig unchanged"
echo s3cret > pass.txt
run $SW allowlist sign --key enc.key --passphrase-file pass.txt se; expect "sign with an encrypted key and --passphrase-file" 0 "signed"
echo garbage > se/manifest
run $SW allowlist sign --key o-p256.key se; expect "sign refuses a file that is not a manifest" 2 "not a sigward allowlist manifest"
run $SW allowlist sign --key o-p256.key /nonexistent-dir; expect "sign of a missing directory fails" 2 "cannot open"

# ---- PKCS#11: a softhsm2 token ----------------------------------------------------
mkdir -p hsm/tokens
printf 'directories.tokendir = %s/hsm/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$T" > hsm/softhsm2.conf
export SOFTHSM2_CONF=$T/hsm/softhsm2.conf
softhsm2-util --init-token --free --label swtoken --pin 1234 --so-pin 5678 >/dev/null
softhsm2-util --import o-p256.key --token swtoken --label imported-ec --id 01 --pin 1234 >/dev/null
softhsm2-util --import o-rsa2048.key --token swtoken --label imported-rsa --id 02 --pin 1234 >/dev/null
# A key generated inside the token: its private half never exists outside it.
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label swtoken --login --pin 1234 \
	--keypairgen --key-type EC:secp384r1 --label ontoken --id 03 >/dev/null 2>&1
mkdir -p keys/hsm
# Its public key, read by openssl's own engine (opensc's --read-object cannot
# encode EC keys with OpenSSL 3).
PKCS11_MODULE_PATH=$SOFTHSM_MODULE openssl pkey -engine pkcs11 -pubin -inform engine \
	-in "pkcs11:token=swtoken;object=ontoken;type=public" -pubout -out keys/hsm/ontoken.pub >/dev/null 2>&1
cp keys/o-p256/o-p256.pub keys/o-rsa2048/o-rsa2048.pub keys/hsm/
URI="pkcs11:token=swtoken;object"
MP="module-path=$SOFTHSM_MODULE"
mklist hsm1 1 30d test "$D1"
run $SW allowlist sign --key "$URI=imported-ec;type=private?pin-value=1234&$MP" \
	--key "$URI=ontoken;type=private?pin-value=1234&$MP" hsm1
if [ "$RC" = 0 ] && ! grep -q 1234 <<<"$OUT"; then ok "sign with PKCS#11 URIs (imported key and on-token key), PIN not echoed"; else nok "sign with PKCS#11 URIs" "$OUT"; fi
node hsm enforce 2 "$T/keys/hsm"
run $SW allowlist verify --config "$CONF" hsm1
expect "both PKCS#11 signatures count towards threshold 2" 0 "2 of 2"
lastsig hsm1
openssl dgst -sha256 -verify keys/hsm/ontoken.pub -signature hsm1/sig.bin hsm1/manifest >/dev/null 2>&1 &&
	ok "openssl verifies the on-token key's signature" || nok "openssl verifies the on-token key's signature"
mklist hsm2 1 30d test "$D1"
SIGWARD_PKCS11_PIN=1234 SIGWARD_PKCS11_MODULE=$SOFTHSM_MODULE run $SW allowlist sign --rsa-pss --key "$URI=imported-rsa;type=private" hsm2
lastsig hsm2
[ "$RC" = 0 ] && openssl dgst -sha256 -sigopt rsa_padding_mode:pss -verify keys/hsm/o-rsa2048.pub -signature hsm2/sig.bin hsm2/manifest >/dev/null 2>&1 &&
	ok "RSA-PSS through PKCS#11 with module and PIN from the environment" || nok "RSA-PSS through PKCS#11" "$OUT"
run $SW allowlist sign --key "$URI=imported-ec;type=private?pin-value=9999&$MP" hsm2
expect "a wrong PIN fails with one line" 2 "no usable private key"
run $SW allowlist sign --key "$URI=absent;type=private?pin-value=1234&$MP" hsm2
expect "a missing token object fails" 2 "no usable private key"
unset SOFTHSM2_CONF

# ---- verify and show: refusals ------------------------------------------------------
node n2
mklist good 5 30d test "$D1" "app/x:v1@$D2"
osign good o-ed25519.key ed25519
run $SW allowlist verify --config "$CONF" good; expect "verify: a valid list" 0 "valid: test#5"
run $SW allowlist verify --config "$CONF" --json good
jq -e '.accepted == true and .serial == 5 and .entries == 2 and (.signers | length) == 1' <<<"$OUT" >/dev/null &&
	ok "verify --json" || nok "verify --json" "$OUT"
mklist untrusted 5 30d test "$D1"; osign untrusted rogue.key ed25519
run $SW allowlist verify --config "$CONF" untrusted; expect "verify: a signature by an untrusted key is refused" 1 "0 valid signatures"
mklist unsigned 5 30d test "$D1"
run $SW allowlist verify --config "$CONF" unsigned; expect "verify: an unsigned list is refused" 1 "not signed"
mklist prod 5 30d prod "$D1"; osign prod o-ed25519.key ed25519
run $SW allowlist verify --config "$CONF" prod; expect "verify: another scope is refused" 1 "scope 'prod'"
run $SW allowlist verify --config "$CONF" --scope prod prod; expect "verify --scope overrides the node's scope" 0 "valid"
mklist old 5 2021-01-01T00:00:00Z test "$D1"; osign old o-ed25519.key ed25519
run $SW allowlist verify --config "$CONF" old; expect "verify: an expired list is refused" 1 "expired"
cp -r good tampered; sed -i 's/^serial 5$/serial 6/' tampered/manifest
run $SW allowlist verify --config "$CONF" tampered; expect "verify: an edited manifest is refused" 1 "0 valid signatures"
cp -r good badentries; printf 'x' | dd of=badentries/entries bs=1 seek=10 conv=notrunc 2>/dev/null
run $SW allowlist verify --config "$CONF" badentries; expect "verify: a changed entries file is refused" 1 "does not match its hash"
echo "not base64!" >> badentries/manifest.sig
run $SW allowlist verify --config "$CONF" --keys /nonexistent good; expect "verify: a missing keys directory is an error" 2 "cannot open keys directory"
run $SW allowlist verify --config "$CONF" /nonexistent; expect "verify: a missing list is an error" 2 "cannot open"
echo "test 9" > "$T/n2/state/serials"
run $SW allowlist verify --config "$CONF" good; expect "verify: below the hook's rollback record is refused" 1 "rollback refused"
: > "$T/n2/state/serials"

run $SW allowlist show --config "$CONF" good
if [ "$RC" = 0 ] && grep -q "^serial: *5" <<<"$OUT" && grep -q "^scope: *test" <<<"$OUT" && grep -q "left)" <<<"$OUT" &&
	grep -q "^entries: *2" <<<"$OUT" && grep -qF "$(keyid keys/all/o-ed25519.pub)" <<<"$OUT" && grep -q "^accepted: *yes" <<<"$OUT"; then
	ok "show: serial, scope, time left, entries, signer, accepted"
else
	nok "show" "$OUT"
fi
run $SW allowlist show --config "$CONF" prod; expect "show: a list for another scope says why it is not accepted" 1 "accepted:   no: allowlist prod#5 is for scope 'prod'"
run $SW allowlist show --config "$CONF" --json old
jq -e '.accepted == false and (.reason | test("expired")) and .seconds_left < 0' <<<"$OUT" >/dev/null && ok "show --json of an expired list" || nok "show --json of an expired list" "$OUT"
run $SW allowlist show --config "$CONF" /nonexistent; expect "show of a missing list is an error" 2 "cannot open"

# ---- diff ------------------------------------------------------------------------
mklist d1 1 30d test "$D1" "app/a:v1@$D2" "$D3"
mklist d2 2 30d test "$D1" "app/a:v2@$D2" "$D4"
run $SW allowlist diff d1 d1; expect "diff of a list with itself: exit 0" 0 "0 added, 0 removed"
run $SW allowlist diff d1 d2
if [ "$RC" = 1 ] && grep -qx "+ $D4" <<<"$OUT" && grep -qx -- "- $D3" <<<"$OUT" && grep -qx "~ $D2 app/a:v1 -> app/a:v2" <<<"$OUT" &&
	grep -q "1 added, 1 removed, 1 reference changed" <<<"$OUT"; then
	ok "diff: added, removed and changed references, exit 1"
else
	nok "diff" "$OUT"
fi
run $SW allowlist diff --json d1 d2
jq -e --arg a "$D4" --arg r "$D3" '.added == 1 and .removed == 1 and
	(.changes | map(select(.change == "added"))[0].digest == $a) and
	(.changes | map(select(.change == "removed"))[0].digest == $r)' <<<"$OUT" >/dev/null && ok "diff --json" || nok "diff --json" "$OUT"
mklist d3 3 30d test "$D1" "image-id app/a:v1@$D2" "$D3"
run $SW allowlist diff d1 d3
if [ "$RC" = 1 ] && grep -qx "~ $D2 manifest app/a:v1 -> image-id app/a:v1" <<<"$OUT" &&
	grep -q "0 added, 0 removed, 0 references changed, 1 kind changed" <<<"$OUT" && grep -qx "$D2 image-id app/a:v1" d3/entries; then
	ok "diff: a manifest entry that became an image id is a change (exit 1)"
else
	nok "diff: kind change" "$OUT"
fi
cp -r d2 d2bad; printf 'x' | dd of=d2bad/entries bs=1 seek=10 conv=notrunc 2>/dev/null
run $SW allowlist diff d1 d2bad; expect "diff refuses entries that do not match the manifest" 2 "does not match its hash"
run $SW allowlist diff d1; expect "diff with one argument is a usage error" 2 "OLD and NEW"

# ---- install: generations, refusals change nothing ------------------------------------
node inst
for s in 1 2 3 4 5; do
	mklist "g$s" $s 30d test "$D1" "$(dig "g$s")"
	osign "g$s" o-p256.key p256
	run $SW allowlist install --config "$CONF" "g$s"
	[ "$RC" = 0 ] || nok "install serial $s" "$OUT"
done
gens=$(ls -d "$T/inst/lists"/gen-* | wc -l)
cur=$(readlink "$T/inst/lists/current")
if [ "$gens" = 3 ] && [[ $cur == gen-5-* ]] && [ -d "$T/inst/lists/$cur" ] && ! ls -d "$T/inst/lists"/gen-1-* >/dev/null 2>&1 &&
	ls -d "$T/inst/lists"/gen-3-* >/dev/null 2>&1; then
	ok "install five lists: the newest 3 generations are kept, current is serial 5"
else
	nok "install keeps 3 generations" "gens=$gens current=$cur"
fi
cmp -s g5/entries "$T/inst/lists/current/entries" && cmp -s g5/manifest.sig "$T/inst/lists/current/manifest.sig" &&
	ok "the installed generation is the list, byte for byte" || nok "the installed generation is the list"
run $SW check --config "$CONF" "$(dig g5)"; expect "check DIGEST finds an entry of the installed list" 0 "is in allowlist test#5"
refused() { # NAME DIR NEEDLE
	local before
	before=$(snapshot "$T/inst/lists")
	run $SW allowlist install --config "$CONF" "$2"
	if [ "$RC" = 1 ] && grep -qF -- "$3" <<<"$OUT" && [ "$before" = "$(snapshot "$T/inst/lists")" ]; then
		ok "$1: refused, nothing changed"
	else
		nok "$1" "rc=$RC $OUT"
	fi
}
refused "install of a lower serial" g4 "older than the installed serial 5"
mklist g6 6 30d test "$D1"; osign g6 rogue.key ed25519
refused "install of a list signed by an untrusted key" g6 "0 valid signatures"
mklist g7 7 30d test "$D1"; osign g7 o-p256.key p256; printf 'x' | dd of=g7/entries bs=1 seek=3 conv=notrunc 2>/dev/null
refused "install of a list with a changed entries file" g7 "does not match its hash"
mklist g8 8 2021-01-01T00:00:00Z test "$D1"; osign g8 o-p256.key p256
refused "install of an expired list" g8 "expired"
mklist g9 9 30d prod "$D1"; osign g9 o-p256.key p256
refused "install of a list for another scope" g9 "scope 'prod'"
before=$(snapshot "$T/inst/lists")
mklist g10 10 30d test "$D1"; osign g10 o-p256.key p256
run $SW allowlist install --config "$CONF" --dry-run g10
[ "$RC" = 0 ] && grep -q "would be installed" <<<"$OUT" && [ "$before" = "$(snapshot "$T/inst/lists")" ] &&
	ok "install --dry-run verifies and changes nothing" || nok "install --dry-run" "$OUT"
run $SW allowlist install --config "$CONF" /nonexistent; expect "install of a missing directory is an error" 2 "cannot open"
# Concurrent installs serialise: all succeed or are refused as rollbacks; current is valid.
for s in 11 12 13 14 15 16; do mklist "c$s" $s 30d test "$D1" "$(dig "c$s")"; osign "c$s" o-p256.key p256; done
for s in 11 12 13 14 15 16; do $SW allowlist install --config "$CONF" "c$s" >/dev/null 2>&1 & done
wait
run $SW allowlist verify --config "$CONF" "$T/inst/lists/current"
[ "$RC" = 0 ] && [ "$(ls -d "$T/inst/lists"/gen-* | wc -l)" = 3 ] && ! ls -d "$T/inst/lists"/.staging-* >/dev/null 2>&1 &&
	ok "six concurrent installs leave a valid current, 3 generations, no staging" || nok "concurrent installs" "$OUT"

# ---- check agrees with the real hook ------------------------------------------------
node agree
mklist al 1 30d test "$D1" "$D2"; osign al o-ed25519.key ed25519
$SW allowlist install --config "$CONF" al >/dev/null
node agreewarn warn
$SW allowlist install --config "$CONF" al >/dev/null
mkb() { # NAME ANNOTATIONS-JSON
	mkdir -p "$T/b/$1"
	jq -n --argjson a "$2" '{ociVersion: "1.0.2", process: {args: ["/bin/true"]}, root: {path: "rootfs"}, annotations: $a}' > "$T/b/$1/config.json"
}
mkb listed "{\"io.kubernetes.cri.image-name\": \"reg/app@$D1\"}"
mkb listed-crio "{\"io.kubernetes.cri-o.ImageRef\": \"$D2\"}"
mkb unlisted "{\"io.kubernetes.cri.image-name\": \"reg/app@$D3\"}"
mkb nodigest '{"io.kubernetes.cri.image-name": "reg/app:latest"}'
mkb conflict "{\"io.kubernetes.cri.image-name\": \"reg/app@$D1\", \"io.kubernetes.cri-o.ImageRef\": \"$D3\"}"
mkb noann '{}'
mkdir -p "$T/b/broken" && echo '{"annotations": ' > "$T/b/broken/config.json"
for n in agree agreewarn; do
	C=$T/$n/sigward.conf
	for b in listed listed-crio unlisted nodigest conflict noann broken; do
		id="c-$n-$b"
		printf '{"ociVersion":"1.0.2","id":"%s","status":"creating","pid":1,"bundle":"%s"}' "$id" "$T/b/$b" > "$T/state-$id.json"
		lines=$(cat "$T/$n/decisions.jsonl" 2>/dev/null | wc -l)
		run $SW check --config "$C" --json --state "$T/state-$id.json"
		cdec=$(jq -r .decision <<<"$OUT" 2>/dev/null); crc=$RC
		after=$(cat "$T/$n/decisions.jsonl" 2>/dev/null | wc -l)
		"$HOOK" --config "$C" < "$T/state-$id.json" >/dev/null 2>&1; hrc=$?
		hdec=$(tail -1 "$T/$n/decisions.jsonl" | jq -r 'select(.container == "'"$id"'") | .decision')
		# The hook exits 1 only on deny (warn lets the start go on); check exits 1
		# for deny and warn (would deny).
		want_hrc=$([ "$cdec" = deny ] && echo 1 || echo 0)
		want_crc=$([ "$cdec" = allow ] && echo 0 || echo 1)
		if [ -n "$hdec" ] && [ "$cdec" = "$hdec" ] && [ "$hrc" = "$want_hrc" ] && [ "$crc" = "$want_crc" ] &&
			[ "$lines" = "$after" ]; then
			ok "check --state agrees with sigward-hook ($n, $b: $cdec) and logs nothing"
		else
			nok "check agrees with the hook ($n, $b)" "check=$cdec/$crc hook=$hdec/$hrc log $lines->$after"
		fi
	done
done
C=$T/agree/sigward.conf
run $SW check --config "$C" --bundle "$T/b/listed" --id x1; expect "check --bundle allows a listed image" 0 "allow: image $D1 is in allowlist test#1"
run $SW check --config "$C" --bundle "$T/b/unlisted"; expect "check --bundle explains a denial" 1 "is not in allowlist test#1"
run $SW check --config "$C" "reg/app@$D2"; expect "check REF@DIGEST" 0 "matched:    $D2"
run $SW check --config "$C" "${D3#sha256:}"; expect "check bare hex: not listed" 1 "is not in allowlist"
run $SW check --config "$C" --state /nonexistent.json; expect "check --state of a missing file is an error" 2 "cannot open"

# ---- log show and log verify ---------------------------------------------------------
run $SW log show --config "$C"
n_all=$(grep -c '^20' <<<"$OUT")
[ "$RC" = 0 ] && [ "$n_all" = 7 ] && ok "log show prints every decision" || nok "log show" "$n_all $OUT"
run $SW log show --config "$C" --denied
[ "$RC" = 0 ] && ! grep -q " allow " <<<"$OUT" && [ "$(grep -c ' deny ' <<<"$OUT")" = 5 ] && ok "log show --denied" || nok "log show --denied" "$OUT"
run $SW log show --config "$C" --json --denied
[ "$RC" = 0 ] && [ "$(jq -s 'length' <<<"$OUT")" = 5 ] && [ "$(jq -r .decision <<<"$OUT" | sort -u)" = deny ] && ok "log show --json prints the records" || nok "log show --json" "$OUT"
run $SW log show --config "$C" --since 2099-01-01T00:00:00Z
[ "$RC" = 0 ] && ! grep -q '^20' <<<"$OUT" && ok "log show --since a future time shows nothing" || nok "log show --since" "$OUT"
run $SW log show --config "$C" --since 1h
[ "$(grep -c '^20' <<<"$OUT")" = 7 ] && ok "log show --since 1h" || nok "log show --since 1h" "$OUT"
run $SW log show --since yesterday "$T/agree/decisions.jsonl"; expect "log show --since with a bad time is a usage error" 2 "neither"
run $SW log show /nonexistent.jsonl; expect "log show of a missing file is an error" 2 "cannot open"
run $SW log show "$T/agreewarn/decisions.jsonl" --denied
[ "$(grep -c ' warn ' <<<"$OUT")" = 5 ] && ok "log show --denied includes warn-mode would-be denials" || nok "log show --denied (warn)" "$OUT"
# Store-busy denials ("denial":"store-busy": a store was written during every
# read of the budget) are no policy refusal: --denied leaves them out, --busy
# shows only them, the verdict column says busy / warn-busy, the count apart.
{
	for d in allow deny deny warn; do
		printf '{"time":"2030-01-01T00:00:00Z","container":"c-%s","digests":[],"matched":null,"mode":"enforce","decision":"%s","reason":"policy","prev":"x"}\n' "$d" "$d"
	done
	printf '{"time":"2030-01-01T00:00:01Z","container":"c-busy","digests":[],"matched":null,"mode":"enforce","decision":"deny","denial":"store-busy","reason":"store busy, a retry of the start will work (not a policy refusal): x","prev":"x"}\n'
	printf '{"time":"2030-01-01T00:00:02Z","container":"c-wbusy","digests":[],"matched":null,"mode":"warn","decision":"warn","denial":"store-busy","reason":"would deny: store busy","prev":"x"}\n'
} >busy.jsonl
run $SW log show busy.jsonl --denied
[ "$RC" = 0 ] && [ "$(grep -c '^20' <<<"$OUT")" = 3 ] && ! grep -q busy <<<"$(grep '^20' <<<"$OUT")" &&
	grep -q "3 shown: 0 allowed, 2 denied by policy, 1 would-deny (warn), 0 refused while a store was busy" <<<"$OUT" &&
	ok "log show --denied leaves store-busy denials out" || nok "log show --denied (store-busy)" "$OUT"
run $SW log show busy.jsonl --busy
[ "$RC" = 0 ] && [ "$(grep -c '^20' <<<"$OUT")" = 2 ] && grep -qE '^2030-01-01T00:00:01Z +busy +c-busy' <<<"$OUT" &&
	grep -qE '^2030-01-01T00:00:02Z +warn-busy +c-wbusy' <<<"$OUT" && grep -q "2 shown: .* 2 refused while a store was busy" <<<"$OUT" &&
	ok "log show --busy shows the store-busy denials, as busy" || nok "log show --busy" "$OUT"
run $SW log show busy.jsonl --json --busy
[ "$RC" = 0 ] && [ "$(jq -r .denial <<<"$OUT" | sort -u)" = store-busy ] && [ "$(jq -s length <<<"$OUT")" = 2 ] &&
	ok "log show --json --busy prints the store-busy records" || nok "log show --json --busy" "$OUT"
run $SW log show busy.jsonl
[ "$(grep -c '^20' <<<"$OUT")" = 6 ] && grep -q "6 shown: 1 allowed, 2 denied by policy, 1 would-deny (warn), 2 refused while a store was busy" <<<"$OUT" &&
	ok "log show counts store-busy denials apart from policy ones" || nok "log show (counts)" "$OUT"
run $SW log verify --config "$C"; expect "log verify of the hook's log" 0 "chain intact"
cp "$T/agree/decisions.jsonl" edited.jsonl; sed -i '3s/"deny"/"allow"/' edited.jsonl
run $SW log verify edited.jsonl; expect "log verify names the first broken line" 1 "edited.jsonl:4"
# Deep nesting: every reader parses through json.h's depth-checked parser, so
# a record of 30 000 nested arrays (under the 64 KiB line limit) is a one-line
# error, never a stack overflow in yajl_tree_free (which recurses once per
# level: with raw yajl_tree_parse these readers died of SIGSEGV on a 256 KiB
# stack, a thread's or a tight ulimit's).
nest() { head -c "$1" /dev/zero | tr '\0' '['; head -c "$1" /dev/zero | tr '\0' ']'; }
{ head -n 2 "$T/agree/decisions.jsonl"; nest 30000; echo; } > deep.jsonl
OUT=$(ulimit -s 256; $SW log verify deep.jsonl 2>&1); RC=$?
expect "log verify: a record nested 30 000 deep is a one-line error" 1 "deep.jsonl:3: not a JSON record"
[ "$(wc -l <<<"$OUT")" = 1 ] || nok "log verify of a deep record: one line" "$OUT"
OUT=$(ulimit -s 256; $SW log show deep.jsonl 2>&1); RC=$?
[ "$RC" = 0 ] && grep -qF "deep.jsonl:3: not a decision record" <<<"$OUT" && [ "$(grep -c '^20' <<<"$OUT")" = 2 ] &&
	ok "log show: a record nested 30 000 deep is named, the others shown" || nok "log show of a deep record" "rc=$RC $(tail -3 <<<"$OUT")"

# ---- status ------------------------------------------------------------------------------
mkdir -p wire/hooks.d
cat > wire/hooks.d/sigward.json <<J
{"version":"1.0.0","hook":{"path":"$HOOK","args":["sigward-hook"]},"when":{"always":true},"stages":["prestart"]}
J
cat > wire/config.toml <<'J'
version = 2
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  BinaryName = "/usr/bin/sigward-runc"
J
echo '{"runtimes":{"sigward":{"path":"/usr/bin/sigward-runc"}},"default-runtime":"sigward"}' > wire/daemon.json
echo '{"source":"file:///srv/lists","last_attempt":"2026-01-01T00:00:00Z","last_result":"installed","installed":{"scope":"test","serial":1}}' > "$T/agree/refresh.json"
W=(--hooks-dir wire/hooks.d --containerd-config wire/config.toml --docker-config wire/daemon.json)
run $SW status --config "$C" "${W[@]}"
if [ "$RC" = 0 ] && grep -q "^mode: *enforce" <<<"$OUT" && grep -qF "$(keyid keys/all/o-p256.pub)  ecdsa-p256" <<<"$OUT" &&
	grep -q "^list: *test#1" <<<"$OUT" && grep -q "valid      yes" <<<"$OUT" && grep -q "last_result  *installed" <<<"$OUT" &&
	grep -q "installed.serial  *1" <<<"$OUT" && grep -q "podman/CRI-O yes" <<<"$OUT" && grep -q "containerd   yes" <<<"$OUT" &&
	grep -q "docker       yes" <<<"$OUT" && grep -q "2 allowed, 5 denied, 0 would-deny" <<<"$OUT"; then
	ok "status: enforcing, keys, list, refresh state, wiring, last 24h; exit 0"
else
	nok "status" "rc=$RC $OUT"
fi
run $SW status --config "$C" "${W[@]}" --json
jq -e '.mode == "enforce" and .list.valid and .list.serial == 1 and (.keys | length) == 4 and .refresh.last_result == "installed" and
	.wiring.hooks_d.ok and .wiring.containerd.ok and .wiring.docker.ok and .decisions_24h.allow == 2 and .decisions_24h.deny == 5 and .exit == 0' \
	<<<"$OUT" >/dev/null && ok "status --json" || nok "status --json" "$OUT"
# sigward-hook without sigward-hook-verify beside it: status says a new list's
# starts will be refused.
mkdir -p lonely && cp "$HOOK" lonely/sigward-hook
cp wire/hooks.d/sigward.json hooks.keep
sed -i "s|\"path\":\"[^\"]*\"|\"path\":\"$PWD/lonely/sigward-hook\"|" wire/hooks.d/sigward.json
run $SW status --config "$C" "${W[@]}" --json
jq -e '.wiring.hooks_d.detail | test("sigward-hook-verify is missing: a new list.s starts will be refused")' <<<"$OUT" >/dev/null &&
	ok "status: a hook without its verifier is named" || nok "status: a hook without its verifier" "$(jq -c .wiring.hooks_d <<<"$OUT")"
mv hooks.keep wire/hooks.d/sigward.json
run $SW status --config "$C" "${W[@]}" --json
jq -e '.wiring.hooks_d.detail | test("missing") | not' <<<"$OUT" >/dev/null &&
	ok "status: the built hook has its verifier" || nok "status: the built hook has its verifier" "$(jq -c .wiring.hooks_d <<<"$OUT")"
# What the decision sandbox holds on this kernel: the Landlock ABI the kernel
# answers (landlock_create_ruleset is syscall 444 on every architecture), in text
# and JSON (issue 14 #6, docs/security.md).
ABI=$(python3 -c 'import ctypes; print(max(0, ctypes.CDLL(None).syscall(444, None, 0, 1)))')
run $SW status --config "$C" "${W[@]}" --json
[ "$(jq -r '.sandbox.landlock_abi' <<<"$OUT")" = "$ABI" ] || nok "status --json: sandbox" "kernel $ABI $OUT"
run $SW status --config "$C" "${W[@]}"
if [ "$ABI" -gt 0 ]; then
	grep -q "^sandbox: *Landlock ABI $ABI: a decision writes only beneath " <<<"$OUT"
else
	[ "$ABI" = 0 ] && grep -q "^sandbox: *no Landlock on this kernel" <<<"$OUT"
fi && ok "status: the sandbox line (Landlock ABI $ABI)" || nok "status: sandbox" "abi=$ABI $OUT"
# Deep nesting under each file's size limit, 32 000 arrays in the refresh
# state (64 KiB) and two million in the hooks.d file (4 MiB): status names the
# refresh file in one line and finds no hook, instead of crashing in
# yajl_tree_free (json.h's depth-checked parser).
cp "$T/agree/refresh.json" refresh.keep; cp wire/hooks.d/sigward.json hooks.keep
nest 32000 > "$T/agree/refresh.json"
nest 2000000 > wire/hooks.d/sigward.json
run $SW status --config "$C" "${W[@]}"
if [ "$RC" = 0 ] && grep -qF "refresh:     $T/agree/refresh.json: nested deeper than 64 levels" <<<"$OUT" &&
	grep -q "podman/CRI-O no" <<<"$OUT"; then
	ok "status: deeply nested refresh and hooks files are named, no crash"
else
	nok "status: deeply nested files" "rc=$RC $(grep -v '^ ' <<<"$OUT" | head -20)"
fi
mv refresh.keep "$T/agree/refresh.json"; mv hooks.keep wire/hooks.d/sigward.json
echo '{"runtimes":{"sigward":{"path":"/usr/bin/sigward-runc"}}}' > wire/daemon.json
echo '# BinaryName = "/usr/bin/sigward-runc"' > wire/config.toml
rm wire/hooks.d/sigward.json
run $SW status --config "$C" "${W[@]}" --json
jq -e '(.wiring.hooks_d.ok | not) and (.wiring.containerd.ok | not) and (.wiring.docker.ok | not) and
	(.wiring.docker.detail | test("not the default-runtime"))' <<<"$OUT" >/dev/null &&
	ok "status: unwired runtimes are shown as such" || nok "status: unwired" "$OUT"
run $SW status --config "$T/agreewarn/sigward.conf" "${W[@]}"; expect "status in warn mode: exit 3" 3 "NOT enforcing: warn mode"
node empty
run $SW status --config "$CONF" "${W[@]}"; expect "status with no list installed: exit 1" 1 "list:        none"
node expired
mklist ex 1 2021-01-01T00:00:00Z test "$D1"; osign ex o-p256.key p256
mkdir -p "$T/expired/lists/gen-1-x" && cp ex/* "$T/expired/lists/gen-1-x/" && ln -s gen-1-x "$T/expired/lists/current"
run $SW status --config "$CONF" "${W[@]}"; expect "status with an expired list: exit 1, says why" 1 "expired"
run $SW status --config /nonexistent.conf; expect "status with a missing config is an error" 2 ""

# ---- keys directory hygiene --------------------------------------------------------------
# A README and a private key beside the trusted key: status and the JSON name both,
# the private key as a warning; a stray *.pub that is not a public key makes
# install refuse before it can deny every start.
mkdir -p "$T/hyg/keys" && cp keys/all/o-p256.pub "$T/hyg/keys/" && echo "trusted keys" > "$T/hyg/keys/README"
cp o-ed25519.key "$T/hyg/keys/release.key"
node hyg enforce 1 "$T/hyg/keys"
mklist hg 1 30d test "$D1"; osign hg o-p256.key p256
run $SW allowlist install --config "$CONF" hg
run $SW status --config "$CONF" "${W[@]}"
if grep -q "WARNING: $T/hyg/keys/release.key holds a PRIVATE key" <<<"$OUT" &&
	grep -q "note: $T/hyg/keys/README is not a \*.pub key file" <<<"$OUT" && grep -q "^list: *test#1" <<<"$OUT"; then
	ok "status names a private key (warning) and a non-key file in keys_dir"
else
	nok "status names a private key and a non-key file in keys_dir" "$OUT"
fi
run $SW status --config "$CONF" "${W[@]}" --json
jq -e '[.keys_dir_other_files[] | {file, private_key}] == [{"file":"README","private_key":false},{"file":"release.key","private_key":true}]' \
	<<<"$OUT" >/dev/null && ok "status --json: keys_dir_other_files" || nok "status --json: keys_dir_other_files" "$OUT"
cp o-ed25519.key "$T/hyg/keys/oops.pub"
before=$(readlink "$T/hyg/lists/current")
mklist hg2 2 30d test "$D1"; osign hg2 o-p256.key p256
run $SW allowlist install --config "$CONF" hg2
if [ "$RC" != 0 ] && grep -q "oops.pub" <<<"$OUT" && [ -n "$before" ] && [ "$(readlink "$T/hyg/lists/current")" = "$before" ]; then
	ok "install refuses while a private key named *.pub is in keys_dir (it would deny every start), naming it"
else
	nok "install refuses while a private key named *.pub is in keys_dir" "rc=$RC $OUT"
fi
run $SW status --config "$CONF" "${W[@]}"
grep -q "oops.pub holds a PRIVATE key.*every start be denied" <<<"$OUT" && grep -q "error: .*oops.pub" <<<"$OUT" &&
	ok "status: the *.pub private key is named as the reason every start is denied" || nok "status: *.pub private key" "$OUT"

echo "cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
