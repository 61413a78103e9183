#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# containerd-meta.sh PROBE: lib/ctrmeta against a real containerd.
#
# Starts containerd on its own root, state and socket, imports an image built
# with umoci, creates containers with ctr, and checks with sw-ctrmeta-probe that:
#  - a container resolves to the image's manifest digest and config (image id);
#  - an image pulled by index resolves to the index and the manifest in it;
#  - the namespace comes out of a real task bundle path (ctr run -d);
#  - re-pointing the container's tag afterwards is refused (chain of custody);
#  - reading in a loop never blocks containerd: ctr keeps creating, tagging and
#    removing while the probe reads, and the probe's answer never changes.
# Exit 0 ok, 77 skipped (no containerd, ctr, umoci, busybox or not root), 1 failed.

set -eu

PROBE=${1:-${SW_CTRMETA_PROBE:-}}
if [ -z "$PROBE" ] || [ ! -x "$PROBE" ]; then
	echo "usage: containerd-meta.sh PATH/TO/sw-ctrmeta-probe" >&2
	exit 1
fi
for tool in containerd ctr umoci runc; do
	command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool not installed"; exit 77; }
done
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] || { echo "SKIP: busybox not installed"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: containerd needs root"; exit 77; }

T=$(mktemp -d /tmp/sw-ctrmeta.XXXXXX)
CTRD_PID=
LOOP_PID=
cleanup() {
	set +e
	[ -n "$LOOP_PID" ] && kill "$LOOP_PID" 2>/dev/null
	if [ -n "$CTRD_PID" ]; then
		for t in $(ctr --address "$T/sock" task ls -q 2>/dev/null); do
			ctr --address "$T/sock" task kill -s KILL "$t" 2>/dev/null
			sleep 0.3
			ctr --address "$T/sock" task rm -f "$t" >/dev/null 2>&1
		done
		kill "$CTRD_PID" 2>/dev/null
		wait "$CTRD_PID" 2>/dev/null
	fi
	# overlay and shm mounts of our containers, deepest first
	grep " $T/" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do umount "$m"; done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# ---- an image without any network (../shared/ENVIRONMENT.md) ----
cd "$T"
umoci init --layout img >/dev/null
umoci new --image img:base >/dev/null
umoci unpack --image img:base bundle >/dev/null
mkdir -p bundle/rootfs/bin
cp "$BUSYBOX" bundle/rootfs/bin/busybox
for l in sh sleep true; do ln -s busybox "bundle/rootfs/bin/$l"; done
umoci repack --image img:v1 bundle >/dev/null
echo two >bundle/rootfs/marker
umoci repack --image img:v2 bundle >/dev/null
V1=$(grep -o '"digest":"sha256:[0-9a-f]*","size":[0-9]*,"annotations":{"org.opencontainers.image.ref.name":"v1"' img/index.json |
	sed 's/"digest":"\(sha256:[0-9a-f]*\)".*/\1/')
V2=$(grep -o '"digest":"sha256:[0-9a-f]*","size":[0-9]*,"annotations":{"org.opencontainers.image.ref.name":"v2"' img/index.json |
	sed 's/"digest":"\(sha256:[0-9a-f]*\)".*/\1/')
[ -n "$V1" ] && [ -n "$V2" ] || fail "cannot read the manifest digests from img/index.json"
V1_CONFIG=$(grep -o '"config":{[^}]*' "img/blobs/sha256/${V1#sha256:}" | grep -o 'sha256:[0-9a-f]*')
# An index over v1, as a registry serves multi-platform images.
INDEX_JSON=$(printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"platform":{"architecture":"amd64","os":"linux"}}]}' \
	"$V1" "$(stat -c %s "img/blobs/sha256/${V1#sha256:}")")
INDEX=sha256:$(printf '%s' "$INDEX_JSON" | sha256sum | cut -d' ' -f1)
printf '%s' "$INDEX_JSON" >"img/blobs/sha256/${INDEX#sha256:}"
sed -i "s|\]}\$|,{\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"digest\":\"$INDEX\",\"size\":$(printf '%s' "$INDEX_JSON" | wc -c),\"annotations\":{\"org.opencontainers.image.ref.name\":\"multi\"}}]}|" img/index.json
tar -C img -cf img.tar .

# ---- containerd on its own root, state and socket ----
cat >config.toml <<EOF
version = 2
root = "$T/root"
state = "$T/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$T/sock"
EOF
containerd --config "$T/config.toml" >"$T/containerd.log" 2>&1 &
CTRD_PID=$!
C="ctr --address $T/sock"
i=0
until $C version >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "containerd did not start: $(tail -3 "$T/containerd.log")"
	sleep 0.1
done
ROOT=$T/root

$C images import --base-name localhost/img --digests img.tar >/dev/null
$C images tag localhost/img:v1 localhost/img:moving >/dev/null
$C container create localhost/img:v1 c-v1 /bin/true
$C container create localhost/img:multi c-index /bin/true
$C container create localhost/img:moving c-moving /bin/true

# ---- resolution ----
out=$("$PROBE" resolve "$ROOT" default c-v1) || fail "resolve c-v1"
echo "$out" | grep -qx "manifest $V1 containerd" || fail "c-v1: no manifest $V1 in: $out"
echo "$out" | grep -qx "image-id $V1_CONFIG containerd" || fail "c-v1: no image id $V1_CONFIG in: $out"
echo "$out" | grep -qx "reference localhost/img:v1" || fail "c-v1: reference: $out"
echo "ok: c-v1 resolves to manifest $V1"

out=$("$PROBE" resolve "$ROOT" default c-index) || fail "resolve c-index"
echo "$out" | grep -qx "index $INDEX containerd" || fail "c-index: no index in: $out"
echo "$out" | grep -qx "manifest $V1 containerd" || fail "c-index: no manifest in: $out"
echo "ok: c-index resolves to index $INDEX and manifest $V1"

rc=0
"$PROBE" resolve "$ROOT" default no-such-container >/dev/null || rc=$?
[ $rc = 3 ] || fail "an unknown container gave $rc, not 3 (not found)"
rc=0
"$PROBE" resolve "$ROOT" other-ns c-v1 >/dev/null || rc=$?
[ $rc = 3 ] || fail "another namespace gave $rc, not 3 (not found)"

# ---- a real task bundle names the namespace ----
$C run -d localhost/img:v1 c-run /bin/sleep 600 >/dev/null
BUNDLE=$T/state/io.containerd.runtime.v2.task/default/c-run
[ -f "$BUNDLE/config.json" ] || fail "no task bundle at $BUNDLE"
ns=$("$PROBE" ns "$BUNDLE" c-run) || fail "namespace of $BUNDLE"
[ "$ns" = default ] || fail "namespace of $BUNDLE is \"$ns\""
out=$("$PROBE" resolve "$ROOT" "$ns" c-run) || fail "resolve c-run"
echo "$out" | grep -qx "manifest $V1 containerd" || fail "c-run: $out"
echo "ok: the running task's bundle gives namespace default and manifest $V1"

# ---- reading never blocks containerd ----
"$PROBE" loop "$ROOT" default c-v1 600 >"$T/loop.out" 2>"$T/loop.err" &
LOOP_PID=$!
n=0
start=$(date +%s)
while [ $n -lt 20 ]; do
	timeout 10 $C container create localhost/img:v2 "busy-$n" /bin/true || fail "ctr container create blocked or failed while reading"
	timeout 10 $C images tag --force localhost/img:v2 "localhost/img:busy" >/dev/null || fail "ctr images tag blocked or failed"
	timeout 10 $C container rm "busy-$n" || fail "ctr container rm blocked or failed while reading"
	n=$((n + 1))
done
timeout 10 $C container ls -q >/dev/null || fail "ctr container ls blocked"
elapsed=$(($(date +%s) - start))
kill -0 "$LOOP_PID" 2>/dev/null || fail "the probe loop ended before containerd's work did: $(cat "$T/loop.err")"
kill -TERM "$LOOP_PID"
wait "$LOOP_PID" || fail "reading while containerd wrote: $(cat "$T/loop.err")"
LOOP_PID=
reads=$(sed -n 's/^reads //p' "$T/loop.out")
[ "${reads:-0}" -gt 100 ] || fail "only ${reads:-0} reads in the loop"
echo "ok: 60 ctr writes in ${elapsed}s while the probe made $reads consistent reads"

# ---- a tag re-pointed after create is refused ----
$C images tag --force localhost/img:v2 localhost/img:moving >/dev/null
rc=0
"$PROBE" resolve "$ROOT" default c-moving >"$T/moved.out" 2>"$T/moved.err" || rc=$?
[ $rc = 1 ] || fail "a re-pointed tag gave $rc: $(cat "$T/moved.out")"
grep -q "does not match its root filesystem" "$T/moved.err" || fail "re-pointed tag: $(cat "$T/moved.err")"
[ ! -s "$T/moved.out" ] || fail "a refused container printed digests"
echo "ok: re-pointed tag refused: $(cat "$T/moved.err")"

echo "PASS"
