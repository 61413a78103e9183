#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# docker-store.sh PROBE: lib/dockerstore against a real dockerd.
#
# Starts dockerd on its own data root, exec root, pidfile and socket
# (--iptables=false --bridge=none) and a docker-registry on a free loopback port,
# builds images with umoci (no network), and checks with sw-docker-probe that:
#  - a container of an image brought in with `docker load` resolves to its image
#    id (= the OCI config digest) and nothing else, with its name as reference;
#  - a container of an image pulled by digest also resolves to that manifest
#    digest (the image has two layers: the layer chain check follows them);
#  - a container of an image pulled by tag through a multi-platform index
#    resolves to the index digest: that is what Docker records;
#  - the same answer comes at the moment Docker calls the runtime's `create`
#    (a wrapper runtime runs the probe, then runc), and after a start;
#  - an unknown container, a missing data root and a non-Docker id are "not found";
#  - on a copy of the real records: config.v2.json edited to name another
#    (intact) image, a tampered image config, a symlinked config.v2.json and a
#    repositories.json with a wrong type are refused.
# With SW_DOCKER_FIXTURE_OUT=DIR, also copies the records the unit tests use
# (tests/unit/data/docker) into DIR.
# Exit 0 ok, 77 skipped (no dockerd, docker, umoci, skopeo, docker-registry, runc,
# jq, ss, busybox, or not root), 1 failed.

set -eu

PROBE=${1:-${SW_DOCKER_PROBE:-}}
if [ -z "$PROBE" ] || [ ! -x "$PROBE" ]; then
	echo "usage: docker-store.sh PATH/TO/sw-docker-probe" >&2
	exit 1
fi
case $PROBE in /*) ;; *) PROBE=$(pwd)/$PROBE ;; esac
for tool in dockerd docker umoci skopeo docker-registry runc jq ss sha256sum timeout; do
	command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool not installed"; exit 77; }
done
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] || { echo "SKIP: busybox not installed"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: dockerd needs root"; exit 77; }
RUNC=$(command -v runc)

T=$(mktemp -d /tmp/sw-docker-it.XXXXXX)
# shellcheck source=tests/integration/docker-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/docker-lib.sh"
ROOT=$DK_ROOT
D=dk

cleanup() {
	set +e
	dk_stop_all
	# overlay and shm mounts of our containers, deepest first
	grep " $T/" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do umount -l "$m"; done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

fail() {
	echo "FAIL: $*" >&2
	[ -f "$T/dockerd.log" ] && tail -5 "$T/dockerd.log" >&2
	exit 1
}

# ---- images without any network (../shared/ENVIRONMENT.md) ----
cd "$T"
umoci init --layout img >/dev/null
umoci new --image img:base >/dev/null
umoci unpack --image img:base bundle >/dev/null
mkdir -p bundle/rootfs/bin
cp "$BUSYBOX" bundle/rootfs/bin/busybox
for l in sh true sleep cat; do ln -s busybox "bundle/rootfs/bin/$l"; done
umoci repack --image img:v1 bundle >/dev/null
# v2: v1 plus one layer (two layers: a real chain id); v3: another single layer.
umoci unpack --image img:v1 b2 >/dev/null
echo two >b2/rootfs/marker
umoci repack --image img:v2 b2 >/dev/null
echo three >bundle/rootfs/marker
umoci repack --image img:v3 bundle >/dev/null
manifest() { jq -r --arg t "$1" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' img/index.json; }
config() { jq -r .config.digest "img/blobs/sha256/${1#sha256:}"; }
V1=$(manifest v1) V2=$(manifest v2) V3=$(manifest v3)
V1_CONFIG=$(config "$V1") V2_CONFIG=$(config "$V2") V3_CONFIG=$(config "$V3")
[ "$(jq '.layers | length' "img/blobs/sha256/${V2#sha256:}")" = 2 ] || fail "v2 should have two layers"
# An index over v3, as a registry serves multi-platform images.
INDEX_JSON=$(printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"platform":{"architecture":"amd64","os":"linux"}}]}' \
	"$V3" "$(stat -c %s "img/blobs/sha256/${V3#sha256:}")")
INDEX=sha256:$(printf '%s' "$INDEX_JSON" | sha256sum | cut -d' ' -f1)
printf '%s' "$INDEX_JSON" >"img/blobs/sha256/${INDEX#sha256:}"
jq -c --arg d "$INDEX" --argjson s "${#INDEX_JSON}" \
	'.manifests += [{"mediaType":"application/vnd.oci.image.index.v1+json","digest":$d,"size":$s,"annotations":{"org.opencontainers.image.ref.name":"multi"}}]' \
	img/index.json >img/index.json.new && mv img/index.json.new img/index.json

# ---- a registry on a free loopback port ----
dk_registry_start || fail "$DK_ERR"
REG=$DK_REG
skopeo copy -q --dest-tls-verify=false oci:img:v2 "docker://$REG/sw/two:v2" || fail "push v2"
skopeo copy -q --all --dest-tls-verify=false oci:img:multi "docker://$REG/sw/multi:m" || fail "push the index"

# ---- dockerd, with a wrapper runtime that runs the probe at `create` ----
cat >wrap.sh <<EOF
#!/bin/sh
# Docker calls: --root R --log L --log-format json create --bundle B --pid-file P ID
create=
for a in "\$@"; do [ "\$a" = create ] && create=1; done
if [ -n "\$create" ]; then
	for id in "\$@"; do :; done
	printf '%s\n' "\$@" >"$T/args.\$id"
	"$PROBE" "$ROOT" "\$id" >"$T/at-create.\$id" 2>&1 || echo "exit \$?" >>"$T/at-create.\$id"
fi
exec "$RUNC" "\$@"
EOF
chmod +x wrap.sh
printf '{"runtimes":{"swprobe":{"path":"%s"}}}\n' "$T/wrap.sh" >daemon.json
dk_dockerd_start "$T/daemon.json" || fail "$DK_ERR"

# ---- loaded: image id only ----
skopeo copy -q oci:img:v1 docker-archive:v1.tar:test/img:v1 || fail "skopeo to docker-archive"
$D load -q -i v1.tar >/dev/null || fail "docker load"
C1=$($D create --network none test/img:v1 /bin/true) || fail "docker create test/img:v1"
[ "$(jq -r .Image "$ROOT/containers/$C1/config.v2.json")" = "$V1_CONFIG" ] ||
	fail "Docker's image id of v1 is not the OCI config digest $V1_CONFIG"
out=$("$PROBE" "$ROOT" "$C1") || fail "probe c1: $out"
[ "$out" = "$V1_CONFIG docker image-id
reference test/img:v1" ] || fail "c1 (loaded): expected only image id $V1_CONFIG, got: $out"
echo "ok: a loaded image's container resolves to its image id $V1_CONFIG only"

# ---- pulled by digest: image id + manifest digest ----
$D pull -q "$REG/sw/two@$V2" >/dev/null || fail "docker pull by digest"
C2=$($D create --network none "$REG/sw/two@$V2" /bin/true) || fail "docker create by digest"
out=$("$PROBE" "$ROOT" "$C2") || fail "probe c2: $out"
[ "$out" = "$V2_CONFIG docker image-id
$V2 docker unknown
reference $REG/sw/two@$V2" ] || fail "c2 (pulled by digest): got: $out"
jq -e --arg k "$REG/sw/two@$V2" --arg v "$V2_CONFIG" '.Repositories["'"$REG"'/sw/two"][$k] == $v' \
	"$ROOT/image/overlay2/repositories.json" >/dev/null || fail "repositories.json has no $REG/sw/two@$V2"
echo "ok: a container of an image pulled by digest resolves to $V2_CONFIG and manifest $V2"

# ---- pulled by tag through an index: the index digest ----
$D pull -q "$REG/sw/multi:m" >/dev/null || fail "docker pull through the index"
C3=$($D create --network none "$REG/sw/multi:m" /bin/true) || fail "docker create multi"
out=$("$PROBE" "$ROOT" "$C3") || fail "probe c3: $out"
[ "$out" = "$V3_CONFIG docker image-id
$INDEX docker unknown
reference $REG/sw/multi:m" ] || fail "c3 (pulled by tag through index $INDEX, manifest $V3): got: $out"
echo "ok: pulled by tag through an index, Docker records (and sigward reports) the index $INDEX, not the manifest $V3"

# ---- at the runtime's create, and after a start ----
C4=$($D run -d --network none --runtime swprobe "$REG/sw/two@$V2" /bin/sleep 600) || fail "docker run --runtime swprobe"
[ -f "$T/at-create.$C4" ] || fail "the wrapper runtime was not called with create for $C4"
if ! grep -qx "$V2_CONFIG docker image-id" "$T/at-create.$C4" || ! grep -qx "$V2 docker unknown" "$T/at-create.$C4"; then
	fail "at create: $(cat "$T/at-create.$C4")"
fi
$D start "$C1" >/dev/null || fail "docker start c1"
out=$("$PROBE" "$ROOT" "$C1") || fail "probe c1 after its start: $out"
echo "$out" | grep -qx "$V1_CONFIG docker image-id" || fail "c1 after its start: $out"
# The bundle Docker's containerd gives the runtime: containerd's "moby"
# namespace (what tells a caller to ask Docker's store about this container).
BUNDLE=$(sed -n '/^--bundle$/{n;p}' "$T/args.$C4")
case $BUNDLE in
*/io.containerd.runtime.v2.task/moby/"$C4") ;;
*) fail "the bundle of c4 is not in containerd's moby namespace: $BUNDLE" ;;
esac
echo "ok: the same answers at the runtime's create (c4, bundle $BUNDLE) and after a start (c1)"

# ---- not found ----
Z=0000000000000000000000000000000000000000000000000000000000000000
for args in "$ROOT $Z" "$T/no-such-root $C1" "$ROOT not-a-docker-id" "$ROOT ../../$C1"; do
	rc=0
	# shellcheck disable=SC2086
	"$PROBE" $args >/dev/null 2>&1 || rc=$?
	[ $rc = 3 ] || fail "probe $args gave $rc, not 3 (not found)"
done
echo "ok: unknown container, missing root and non-Docker ids are not found"

# ---- the unit-test fixture ----
copy_records() {  # DEST: the records of c1, c2, c3 (no layers, no other files)
	for c in "$C1" "$C2" "$C3"; do
		img=$(jq -r .Image "$ROOT/containers/$c/config.v2.json")
		(cd "$ROOT" && cp --parents "containers/$c/config.v2.json" \
			"image/overlay2/imagedb/content/sha256/${img#sha256:}" \
			"image/overlay2/layerdb/mounts/$c/parent" "$1/")
	done
	cp "$ROOT/image/overlay2/repositories.json" "$1/image/overlay2/"
}
if [ -n "${SW_DOCKER_FIXTURE_OUT:-}" ]; then
	mkdir -p "$SW_DOCKER_FIXTURE_OUT/root"
	copy_records "$SW_DOCKER_FIXTURE_OUT/root"
	cat >"$SW_DOCKER_FIXTURE_OUT/ids" <<EOF
C_LOADED=$C1 IMG_V1=$V1_CONFIG
C_BY_DIGEST=$C2 IMG_V2=$V2_CONFIG MAN_V2=$V2
C_BY_INDEX=$C3 IMG_V3=$V3_CONFIG MAN_V3=$V3 INDEX=$INDEX
REGISTRY=$REG
EOF
	echo "ok: fixture written to $SW_DOCKER_FIXTURE_OUT"
fi

# ---- damaged copies of the real records ----
damaged() {  # NAME: a fresh copy of the records
	rm -rf "${T:?}/$1"
	mkdir -p "$T/$1"
	copy_records "$T/$1"
	echo "$T/$1"
}
refused() {  # ROOT ID PATTERN WHAT
	rc=0
	err=$("$PROBE" "$1" "$2" 2>&1) || rc=$?
	[ $rc = 1 ] || fail "$4: probe gave $rc, not 1 (error): $err"
	echo "$err" | grep -q -- "$3" || fail "$4: the error does not say \"$3\": $err"
	echo "ok: $4 is refused: ${err#sw-docker-probe: }"
}
R=$(damaged copy)
out=$("$PROBE" "$R" "$C2") || fail "the copied records do not resolve: $out"
R=$(damaged swapped)
jq -c --arg i "$V1_CONFIG" '.Image = $i' "$ROOT/containers/$C2/config.v2.json" >"$R/containers/$C2/config.v2.json"
refused "$R" "$C2" "layer chain" "config.v2.json naming another (intact) image"
R=$(damaged tampered)
printf ' ' >>"$R/image/overlay2/imagedb/content/sha256/${V2_CONFIG#sha256:}"
refused "$R" "$C2" "hashes to" "a tampered image config"
R=$(damaged linked)
mv "$R/containers/$C2/config.v2.json" "$R/elsewhere.json"
ln -s ../../elsewhere.json "$R/containers/$C2/config.v2.json"
refused "$R" "$C2" "symbolic link" "a symlinked config.v2.json"
R=$(damaged types)
jq -c '.Repositories["test/img"]["test/img:v1"] = 1' "$ROOT/image/overlay2/repositories.json" >"$R/image/overlay2/repositories.json"
refused "$R" "$C2" "not an image id" "repositories.json with a number for an image id"

echo "PASS: docker-store"
