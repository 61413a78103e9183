#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# sigward in one minute, on real runc: build sigward, make two images, sign an
# allowlist that names only the first, then start both through sigward-hook.
# The signed image runs; the unsigned one is refused with sigward's reason.
#
# usage: sudo bash demo/demo.sh        (Debian 12; installs what it needs)
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "demo: run as root (runc needs it): sudo bash demo/demo.sh" >&2; exit 2; }
SRC=$(cd "$(dirname "$0")/.." && pwd)

if [ "${SIGWARD_SKIP_INSTALL:-}" != 1 ]; then
	echo "== installing build and runtime packages (apt-get)"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		meson ninja-build pkg-config gcc libc6-dev libyajl-dev libssl-dev libseccomp-dev \
		libcurl4-openssl-dev libcmocka-dev zlib1g-dev runc umoci busybox-static jq openssl ca-certificates >/dev/null
fi

echo "== building sigward"
BUILD=$SRC/build-demo
[ -d "$BUILD" ] || meson setup "$BUILD" "$SRC" >/dev/null
ninja -C "$BUILD" >/dev/null
HOOK=$BUILD/hook/sigward-hook
SIGWARD=$BUILD/cli/sigward

T=$(mktemp -d /tmp/sigward-demo.XXXXXX)
IDS=()
cleanup() {
	for id in "${IDS[@]}"; do runc --root "$T/runc" delete --force "$id" >/dev/null 2>&1 || true; done
	rm -rf "$T"
}
trap cleanup EXIT
cd "$T"

echo "== two images (umoci + busybox): 'signed' and 'unsigned'"
umoci init --layout img >/dev/null
umoci new --image img:base >/dev/null
make_image() { # TAG MESSAGE
	umoci unpack --image img:base "u-$1" >/dev/null
	mkdir -p "u-$1/rootfs/bin"
	cp /bin/busybox "u-$1/rootfs/bin/"
	for t in sh echo cat; do ln -sf busybox "u-$1/rootfs/bin/$t"; done
	echo "$2" > "u-$1/rootfs/message"
	umoci repack --image "img:$1" "u-$1" >/dev/null
	umoci unpack --image "img:$1" "b-$1" >/dev/null
}
make_image signed "hello from a signed image"
make_image unsigned "this image was never signed off"
digest() { jq -r --arg t "$1" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' img/index.json; }
SIGNED=$(digest signed)
UNSIGNED=$(digest unsigned)
echo "   signed:   $SIGNED"
echo "   unsigned: $UNSIGNED"

echo "== the organisation's key, and an allowlist naming only the signed image"
mkdir -p keys lists state
openssl genpkey -algorithm ed25519 -out org.key 2>/dev/null
openssl pkey -in org.key -pubout -out keys/org.pub
echo "demo.example/app:v1@$SIGNED" | "$SIGWARD" allowlist build --scope demo --serial 1 --expires 7d --out lists/gen-1
openssl pkeyutl -sign -inkey org.key -rawin -in lists/gen-1/manifest | base64 -w0 > lists/gen-1/manifest.sig
echo >> lists/gen-1/manifest.sig
ln -s gen-1 lists/current
cat > sigward.conf <<CONF
[sigward]
mode = enforce
scope = demo
keys_dir = $T/keys
lists_dir = $T/lists
state_dir = $T/state
log_file = $T/decisions.jsonl
syslog = no
[resolve]
annotations = io.kubernetes.cri.image-name
containers_storage = no
docker = no
containerd = no
CONF
sed -n '1,7p' lists/gen-1/manifest | sed 's/^/   /'

# Wire the hook into each bundle and pass the image digest the way containerd's
# CRI plugin does (an image reference annotation).
wire() { # TAG DIGEST
	jq --arg hook "$HOOK" --arg conf "$T/sigward.conf" --arg ref "demo.example/app@$2" '
		.process.terminal = false | .process.args = ["/bin/cat", "/message"] |
		.annotations["io.kubernetes.cri.image-name"] = $ref |
		.hooks.prestart = [{path: $hook, args: ["sigward-hook", "--config", $conf]}]' \
		"b-$1/config.json" > "b-$1/config.json.new" && mv "b-$1/config.json.new" "b-$1/config.json"
}
wire signed "$SIGNED"
wire unsigned "$UNSIGNED"

echo
echo "== runc run (signed image)"
IDS+=("demo-signed-$$")
runc --root "$T/runc" run -b b-signed "demo-signed-$$"
echo
echo "== runc run (unsigned image)"
IDS+=("demo-unsigned-$$")
if runc --root "$T/runc" run -b b-unsigned "demo-unsigned-$$" 2> err.txt; then
	echo "demo: FAILED: the unsigned image started" >&2
	exit 1
fi
sed 's/^/   /' err.txt
grep -q "sigward: denied container demo-unsigned-$$: image $UNSIGNED is not in allowlist demo#1" err.txt

echo
echo "== the decision log ($T/decisions.jsonl)"
jq -c '{container, decision, reason}' decisions.jsonl | sed 's/^/   /'
"$SIGWARD" log verify --state-dir state decisions.jsonl | sed 's/^/   /'
echo
echo "demo: OK: the signed image ran, the unsigned image was refused."
