#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# storage-podman.sh PROBE: lib/storage against a real podman.
#
# Builds two images and an index with umoci (no network), pulls them into a
# private podman storage root (never /var/lib/containers), creates and runs
# containers, and checks with sw-storage-probe that:
#  - a container resolves to its image id (= the config digest its manifest
#    names, = podman's image id) and the manifest digest in img/index.json;
#  - an image also pulled through an index resolves to that index too;
#  - re-tagging another image with the container's image name changes nothing
#    for the existing container, and a container created from the moved name
#    resolves to the other image's digests;
#  - at prestart, from a real OCI hook (state on stdin, podman holding its own
#    locks), the container already resolves, and its bundle is recognised as
#    containers/storage's bundle of that container;
#  - the probe opens no lock file and takes no lock (strace);
#  - reading in a loop never blocks podman: podman keeps pulling, tagging,
#    creating and removing while the probe reads, and the answer never changes;
#  - on a copy of the real store, a tampered manifest and a manifest swapped in
#    from another image (with its recorded digest edited to match) are refused;
#  - the vfs driver's store is read as well.
# Exit 0 ok, 77 skipped (no podman, umoci, runc, jq, busybox, or not root), 1 failed.

set -eu

PROBE=${1:-${SW_STORAGE_PROBE:-}}
if [ -z "$PROBE" ] || [ ! -x "$PROBE" ]; then
	echo "usage: storage-podman.sh PATH/TO/sw-storage-probe" >&2
	exit 1
fi
case $PROBE in /*) ;; *) PROBE=$(pwd)/$PROBE ;; esac
for tool in podman umoci runc jq sha256sum; do
	command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool not installed"; exit 77; }
done
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] || { echo "SKIP: busybox not installed"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: podman with a private root store needs root"; exit 77; }

# Lowercase only: podman names an image pulled from an OCI layout after the
# layout's path, and an image name has no upper case.
T=/tmp/sw-storage-it.$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
mkdir -m 700 "$T"
ROOT=$T/root
VFS_ROOT=$T/vfs-root
LOOP_PID=
# crun refuses this machine's hybrid cgroup layout (../shared/ENVIRONMENT.md): runc.
P="podman --root $ROOT --runroot $T/run --runtime runc"
PV="podman --root $VFS_ROOT --runroot $T/vfs-run --runtime runc --storage-driver vfs"
U="--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network none"

cleanup() {
	set +e
	[ -n "$LOOP_PID" ] && kill "$LOOP_PID" 2>/dev/null
	$P rm -a -f -t 0 >/dev/null 2>&1
	$PV rm -a -f -t 0 >/dev/null 2>&1
	# overlay and shm mounts of our containers, deepest first
	grep " $T/" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do umount "$m"; done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# ---- images without any network (../shared/ENVIRONMENT.md) ----
cd "$T"
umoci init --layout img >/dev/null
umoci new --image img:base >/dev/null
umoci unpack --image img:base bundle >/dev/null
mkdir -p bundle/rootfs/bin
cp "$BUSYBOX" bundle/rootfs/bin/busybox
for l in sh sleep true cat; do ln -s busybox "bundle/rootfs/bin/$l"; done
umoci repack --image img:v1 bundle >/dev/null
echo two >bundle/rootfs/marker
umoci repack --image img:v2 bundle >/dev/null
V1=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "v1") | .digest' img/index.json)
V2=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "v2") | .digest' img/index.json)
[ -n "$V1" ] && [ -n "$V2" ] || fail "cannot read the manifest digests from img/index.json"
V1_CONFIG=$(jq -r .config.digest "img/blobs/sha256/${V1#sha256:}")
V2_CONFIG=$(jq -r .config.digest "img/blobs/sha256/${V2#sha256:}")
# An index over v1, as a registry serves multi-platform images.
INDEX_JSON=$(printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"platform":{"architecture":"amd64","os":"linux"}}]}' \
	"$V1" "$(stat -c %s "img/blobs/sha256/${V1#sha256:}")")
INDEX=sha256:$(printf '%s' "$INDEX_JSON" | sha256sum | cut -d' ' -f1)
printf '%s' "$INDEX_JSON" >"img/blobs/sha256/${INDEX#sha256:}"
jq -c --arg d "$INDEX" --argjson s "$(printf '%s' "$INDEX_JSON" | wc -c)" \
	'.manifests += [{"mediaType":"application/vnd.oci.image.index.v1+json","digest":$d,"size":$s,"annotations":{"org.opencontainers.image.ref.name":"multi"}}]' \
	img/index.json >img/index.json.new && mv img/index.json.new img/index.json

# ---- pull, tag, create ----
$P pull -q "oci:$T/img:v1" >/dev/null || fail "podman pull v1"
$P tag "${V1_CONFIG#sha256:}" localhost/sw/v1
$P pull -q "oci:$T/img:v2" >/dev/null || fail "podman pull v2"
$P tag "${V2_CONFIG#sha256:}" localhost/sw/v2
IMG_V1=$($P image inspect --format '{{.Id}}' localhost/sw/v1)
[ "sha256:$IMG_V1" = "$V1_CONFIG" ] || fail "podman's image id $IMG_V1 is not the config digest $V1_CONFIG"
[ "$($P image inspect --format '{{.Digest}}' localhost/sw/v1)" = "$V1" ] || fail "podman's digest of v1 is not $V1"
C1=$($P create $U --name c1 localhost/sw/v1 /bin/true)

out=$("$PROBE" resolve "$ROOT" "$C1") || fail "resolve c1"
echo "$out" | grep -qx "image-id $V1_CONFIG containers-storage" || fail "c1: no image id $V1_CONFIG in: $out"
echo "$out" | grep -qx "manifest $V1 containers-storage" || fail "c1: no manifest $V1 in: $out"
echo "$out" | grep -qx "reference localhost/sw/v1:latest" || fail "c1: reference: $out"
[ "$(echo "$out" | grep -c containers-storage)" = 2 ] || fail "c1: more digests than expected: $out"
[ "$("$PROBE" container "$ROOT" "$C1")" = "overlay ${V1_CONFIG#sha256:}" ] || fail "c1: container -> image"
echo "ok: c1 resolves to image id $V1_CONFIG and manifest $V1"

rc=0
"$PROBE" resolve "$ROOT" 0000000000000000000000000000000000000000000000000000000000000000 >/dev/null || rc=$?
[ $rc = 3 ] || fail "an unknown container gave $rc, not 3 (not found)"
rc=0
"$PROBE" resolve "$T/no-such-root" "$C1" >/dev/null || rc=$?
[ $rc = 3 ] || fail "a missing storage root gave $rc, not 3 (not found)"

# ---- the same image pulled again through an index ----
$P pull -q "oci:$T/img:multi" >/dev/null || fail "podman pull multi"
out=$("$PROBE" image "$ROOT" "$V1_CONFIG") || fail "image $V1_CONFIG"
echo "$out" | grep -qx "index $INDEX" || fail "no index $INDEX after pulling through it: $out"
echo "$out" | grep -qx "manifest $V1" || fail "no manifest $V1: $out"
out=$("$PROBE" resolve "$ROOT" "$C1") || fail "resolve c1 after the index pull"
echo "$out" | grep -qx "index $INDEX containers-storage" || fail "c1: no index: $out"
echo "ok: after a pull through index $INDEX, c1 resolves to it as well"

# ---- a name moved to another image ----
$P tag localhost/sw/v2 localhost/sw/v1
C2=$($P create $U --name c2 localhost/sw/v1 /bin/true)
out=$("$PROBE" resolve "$ROOT" "$C2") || fail "resolve c2"
echo "$out" | grep -qx "manifest $V2 containers-storage" || fail "c2 (v2 tagged as v1): $out"
echo "$out" | grep -q "$V1" && fail "c2 (v2 tagged as v1) resolved to v1's digest: $out"
out=$("$PROBE" resolve "$ROOT" "$C1") || fail "resolve c1 after the re-tag"
echo "$out" | grep -qx "manifest $V1 containers-storage" || fail "c1 after the re-tag: $out"
echo "ok: v2 tagged localhost/sw/v1 resolves to $V2; c1 still to $V1"

# ---- from a real prestart hook ----
mkdir -p hooks
cat >hook.sh <<EOF
#!/bin/sh
state=\$(cat)
id=\$(printf '%s' "\$state" | jq -r .id)
printf '%s\n' "\$state" | jq -r .bundle >"$T/hook.bundle"
exec "$PROBE" resolve "$ROOT" "\$id" >"$T/hook.out" 2>"$T/hook.err"
EOF
chmod +x hook.sh
printf '{"version":"1.0.0","hook":{"path":"%s"},"when":{"always":true},"stages":["prestart"]}\n' "$T/hook.sh" >hooks/probe.json
C3=$(timeout 120 $P run -d $U --hooks-dir "$T/hooks" --name c3 "$IMG_V1" /bin/sleep 600) ||
	fail "podman run with the probe as prestart hook: $(cat "$T/hook.err" 2>/dev/null)"
grep -qx "manifest $V1 containers-storage" "$T/hook.out" || fail "prestart: $(cat "$T/hook.out" "$T/hook.err")"
[ "$(cat "$T/hook.bundle")" = "$ROOT/overlay-containers/$C3/userdata" ] || fail "prestart bundle: $(cat "$T/hook.bundle")"
"$PROBE" bundle "$(cat "$T/hook.bundle")" "$C3" || fail "the prestart bundle is not recognised as containers/storage's"
rc=0
"$PROBE" bundle "$(cat "$T/hook.bundle")" "$C1" || rc=$?
[ $rc = 3 ] || fail "the prestart bundle was taken for another container's"
echo "ok: at prestart the running container $C3 resolves to $V1 (bundle $ROOT/overlay-containers/<id>/userdata)"

# ---- no lock taken ----
if command -v strace >/dev/null 2>&1; then
	strace -f -e trace=open,openat,flock,fcntl -o "$T/strace.out" "$PROBE" resolve "$ROOT" "$C1" >/dev/null ||
		fail "resolve under strace"
	if grep -E '\.lock|F_SETLK|F_OFD_SETLK|flock\(' "$T/strace.out"; then
		fail "the probe touched a lock"
	fi
	grep -q 'containers.json' "$T/strace.out" || fail "strace saw no read of containers.json"
	echo "ok: no lock file opened, no lock taken ($(grep -c openat "$T/strace.out") openat calls)"
else
	echo "note: strace not installed, lock check skipped"
fi

# ---- reading never blocks podman, and podman's writes never change the answer ----
want=$("$PROBE" resolve "$ROOT" "$C1")
"$PROBE" loop "$ROOT" "$C1" 600 >"$T/loop.out" 2>"$T/loop.err" &
LOOP_PID=$!
n=0
start=$(date +%s)
while [ $n -lt 6 ]; do
	timeout 60 $P pull -q "oci:$T/img:v2" >/dev/null || fail "podman pull blocked or failed while reading"
	timeout 60 $P pull -q "oci:$T/img:v1" >/dev/null || fail "podman re-pull of c1's image blocked or failed"
	timeout 60 $P tag "${V2_CONFIG#sha256:}" "localhost/sw/busy:$n" || fail "podman tag blocked or failed"
	c=$(timeout 60 $P create $U "localhost/sw/busy:$n" /bin/true) || fail "podman create blocked or failed while reading"
	timeout 60 $P rm "$c" >/dev/null || fail "podman rm blocked or failed while reading"
	timeout 60 $P untag "${V2_CONFIG#sha256:}" "localhost/sw/busy:$n" || fail "podman untag blocked or failed"
	n=$((n + 1))
done
elapsed=$(($(date +%s) - start))
kill -0 "$LOOP_PID" 2>/dev/null || fail "the probe loop ended before podman's work did: $(cat "$T/loop.err")"
kill -TERM "$LOOP_PID"
wait "$LOOP_PID" || fail "reading while podman wrote: $(cat "$T/loop.err")"
LOOP_PID=
reads=$(sed -n 's/^reads //p' "$T/loop.out")
[ "${reads:-0}" -gt 50 ] || fail "only ${reads:-0} reads in the loop"
[ "$(sed 1d "$T/loop.out")" = "$want" ] || fail "the loop's answer differs: $(cat "$T/loop.out")"
echo "ok: 36 podman writes in ${elapsed}s while the probe made $reads identical reads"

# ---- tampering, on a copy of the real store ----
mkdir copy
cp -a "$ROOT/overlay-containers" "$ROOT/overlay-images" "$ROOT/overlay-layers" copy/
"$PROBE" resolve "$T/copy" "$C1" >/dev/null || fail "the copy does not resolve"
IMGDIR=$T/copy/overlay-images/${V1_CONFIG#sha256:}
cp "$IMGDIR/manifest" "$T/manifest.orig"
printf ' ' >>"$IMGDIR/manifest"
rc=0
"$PROBE" resolve "$T/copy" "$C1" >"$T/t.out" 2>"$T/t.err" || rc=$?
[ $rc = 1 ] && grep -q "manifest: does not hash to its recorded digest $V1" "$T/t.err" ||
	fail "a tampered manifest gave $rc: $(cat "$T/t.out" "$T/t.err")"
[ ! -s "$T/t.out" ] || fail "a refused container printed digests"
echo "ok: tampered manifest refused: $(cat "$T/t.err")"

# v2's manifest swapped in, its recorded digest edited to match: the manifest
# is intact but names another config than the image id
cp "$ROOT/overlay-images/${V2_CONFIG#sha256:}/manifest" "$IMGDIR/manifest"
jq -c --arg id "${V1_CONFIG#sha256:}" --arg d "$V2" \
	'map(if .id == $id then .["big-data-digests"].manifest = $d else . end)' \
	"$T/copy/overlay-images/images.json" >"$T/images.json.new"
mv "$T/images.json.new" "$T/copy/overlay-images/images.json"
rc=0
"$PROBE" resolve "$T/copy" "$C1" >"$T/t.out" 2>"$T/t.err" || rc=$?
[ $rc = 1 ] && grep -q "not the image id" "$T/t.err" || fail "a swapped manifest gave $rc: $(cat "$T/t.out" "$T/t.err")"
echo "ok: swapped manifest refused: $(cat "$T/t.err")"

# ---- the vfs driver ----
$PV pull -q "oci:$T/img:v1" >/dev/null || fail "podman (vfs) pull v1"
CV=$($PV create $U "${V1_CONFIG#sha256:}" /bin/true)
[ "$("$PROBE" container "$VFS_ROOT" "$CV")" = "vfs ${V1_CONFIG#sha256:}" ] || fail "vfs: container -> image"
out=$("$PROBE" resolve "$VFS_ROOT" "$CV") || fail "resolve in the vfs store"
echo "$out" | grep -qx "manifest $V1 containers-storage" || fail "vfs: $out"
echo "ok: the vfs store resolves too"

echo "PASS"
