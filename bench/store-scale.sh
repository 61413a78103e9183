#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Per-start cost of sigward-hook's allow decision against an image store holding
# 1, 300 and 3 000 images (and a third as many containers), for each resolution
# source: containers/storage, Docker's data root, containerd's metadata. One
# interleaved run (bench/spawnbench: A B C A B C ..., wall and CPU time; hyperfine,
# which runs each command's runs in a row, on request), every command behind
# bench/with-stdin, the static no-op as baseline; prints each ratio to the no-op
# and the largest store over the smallest, per store.
#
# usage: bench/store-scale.sh [BUILD_DIR] [RUNS] [SIZES]
#   SIZES defaults to "1 300 3000". Target (issue 17): 3 000 images <= 1.2x one
#   image for every store (goal 1.05x); exit 1 when missed. Not run in CI.
#   SIGWARD_BENCH_BASE=OTHER_BUILD_DIR adds that build's hook on the same stores to
#   the same interleaved run (before/after a change); SIGWARD_BENCH_CLI names a
#   sigward to build the lists with when BUILD_DIR's does not link.
#
# The stores are synthetic but in the stores' own formats, grown from the real
# records of the unit-test fixtures (tests/unit/data: a podman store, a Docker
# data root, a containerd root): the container started is a real one; the other
# images and containers are copies of real records under random ids (storage:
# image, layer and container records; Docker: repositories.json entries and
# containers/<id>/config.v2.json; containerd: image records made by `ctr images
# tag` on a private containerd, all naming the fixture's manifest).
set -euo pipefail
BUILD=$(realpath "${1:-build}")
RUNS=${2:-200}
SIZES=${3:-1 300 3000}
SRC=$(cd "$(dirname "$0")/.." && pwd)
HOOK=$BUILD/hook/sigward-hook
CLI=${SIGWARD_BENCH_CLI:-$BUILD/cli/sigward}   # any sigward that builds lists
W=$BUILD/bench/with-stdin
for f in "$HOOK" "$CLI" "$BUILD/bench/noop-static" "$W"; do
	[ -x "$f" ] || { echo "store-scale: $f missing: build first" >&2; exit 2; }
done
command -v hyperfine >/dev/null || { echo "store-scale: hyperfine missing" >&2; exit 2; }

T=$(mktemp -d /tmp/sigward-storescale.XXXXXX)
CTRD_PID=
cleanup() {
	[ -z "$CTRD_PID" ] || { kill "$CTRD_PID" 2>/dev/null; wait "$CTRD_PID" 2>/dev/null || true; }
	[ -n "${SIGWARD_BENCH_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
chmod 700 "$T"

openssl ecparam -genkey -name prime256v1 -noout -out "$T/key.pem" 2>/dev/null
mkdir -p "$T/keys"
openssl pkey -in "$T/key.pem" -pubout -out "$T/keys/bench.pub"

# A signed list of 1 000 digests holding $1 (the container's manifest digest).
mklist() { # DIR DIGEST
	mkdir -p "$1/lists"
	{ head -c 32000 /dev/urandom | od -An -v -tx1 -w32 | tr -d ' ' | sed 's/^/sha256:/'; echo "$2"; } > "$1/input"
	"$CLI" allowlist build --scope bench --serial 1 --expires 30d --out "$1/lists/gen-1" "$1/input" >/dev/null
	openssl dgst -sha256 -sign "$T/key.pem" "$1/lists/gen-1/manifest" | base64 -w0 > "$1/lists/gen-1/manifest.sig"
	echo >> "$1/lists/gen-1/manifest.sig"
	ln -s gen-1 "$1/lists/current"
}

# sigward.conf for one store: $3 is the [resolve] section's store lines.
mkconf() { # DIR STATE_JSON RESOLVE_LINES
	mkdir -p "$1/state"
	chmod 700 "$1/state"
	cat > "$1/sigward.conf" <<CONF
[sigward]
mode = enforce
scope = bench
keys_dir = $T/keys
lists_dir = $1/lists
state_dir = $1/state
log_file = $1/decisions.jsonl
syslog = no
[resolve]
$3
CONF
}

# The container's bundle (a config.json without annotations: the store decides)
# and the OCI state the runtime hands the hook, in DIR/state.json.
mkbundle() { # DIR BUNDLE CONTAINER_ID
	mkdir -p "$2"
	echo '{"ociVersion":"1.0.2"}' > "$2/config.json"
	printf '{"ociVersion":"1.0.2","id":"%s","status":"creating","pid":1,"bundle":"%s"}\n' "$3" "$2" > "$1/state.json"
}

# $T/PREFIX-N/root, a copy of a fixture's store, to grow.
newstore() { # PREFIX N FIXTURE
	mkdir -p "$T/$1-$2"
	cp -a "$3" "$T/$1-$2/root"
}

# First start: must allow (exit 0); it also fills the verification cache and, once
# the store files are older than a clock tick, the store indexes.
prime() { # DIR STATE_JSON
	sleep 0.1
	for _ in 1 2; do
		"$HOOK" --config "$1/sigward.conf" < "$2" || { echo "store-scale: $1: not allowed" >&2; tail -1 "$1/decisions.jsonl" >&2; exit 1; }
	done
}

# ---- containers/storage: the podman fixture grown to N images, N/3 containers ----
CS_FIX=$SRC/tests/unit/data/storage/root
CS_CID=12a03b098a221bbb50cf97741a463bfd4561bb6c8e0cca8af81c9b79910cc4d3
cs_store() { # N
	local d=$T/cs-$1
	newstore cs "$1" "$CS_FIX"
	python3 - "$d/root" "$1" "$CS_CID" <<'PY'
import json, os, sys, copy
root, n, cid = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rnd = lambda: os.urandom(32).hex()
def load(p): return json.load(open(os.path.join(root, p)))
def dump(p, v):
    # As containers/storage writes them: encoding/json, no whitespace, renamed into place.
    tmp = os.path.join(root, p + ".tmp")
    with open(tmp, "w") as f: json.dump(v, f, separators=(",", ":"))
    os.rename(tmp, os.path.join(root, p))
images, layers, ctrs = load("overlay-images/images.json"), load("overlay-layers/layers.json"), load("overlay-containers/containers.json")
tmpl_img, tmpl_layer, tmpl_ctr = images[0], layers[0], [c for c in ctrs if c["id"] == cid][0]
new_imgs, new_layers, new_ctrs = [], [], []
for i in range(max(0, n - len(images))):
    parent = None
    for _ in range(3):   # three layers per image
        l = copy.deepcopy(tmpl_layer); l["id"] = rnd(); l["parent"] = parent
        l["diff-digest"] = l["compressed-diff-digest"] = "sha256:" + rnd()
        if parent is None: l.pop("parent")
        new_layers.append(l); parent = l["id"]
    im = copy.deepcopy(tmpl_img); iid = rnd()
    im["id"] = iid; im["digest"] = "sha256:" + rnd(); im["layer"] = parent
    im["names"] = ["localhost/bench/img-%d:latest" % i]
    im["big-data-digests"] = {k: ("sha256:" + rnd()) for k in im.get("big-data-digests", {})}
    new_imgs.append(im)
for i in range(max(0, n // 3 - len(ctrs))):
    c = copy.deepcopy(tmpl_ctr); c["id"] = rnd(); c["names"] = ["bench-%d" % i]
    l = copy.deepcopy(tmpl_layer); l["id"] = rnd(); l["parent"] = tmpl_img.get("layer") or new_layers[0]["id"]
    c["layer"] = l["id"]; new_ctrs.append(c); new_layers.append(l)
# The real records in the middle of the files.
mid = lambda real, new: new[:len(new) // 2] + real + new[len(new) // 2:]
dump("overlay-images/images.json", mid(images, new_imgs))
dump("overlay-layers/layers.json", mid(layers, new_layers))
dump("overlay-containers/containers.json", mid(ctrs, new_ctrs))
PY
	mkbundle "$d" "$d/root/overlay-containers/$CS_CID/userdata" "$CS_CID"
	local man
	man=$(python3 -c 'import json,sys; print([i for i in json.load(open(sys.argv[1])) if i["names"] == ["localhost/sw/v1:latest"]][0]["digest"])' \
		"$d/root/overlay-images/images.json")
	mklist "$d" "$man"
	mkconf "$d" "$d/state.json" "containers_storage = yes
storage_root = $d/root
docker = no
containerd = no"
	prime "$d" "$d/state.json"
	printf 'containers-storage %5s images: images.json %8s B, containers.json %8s B, layers.json %8s B\n' "$1" \
		"$(stat -c %s "$d/root/overlay-images/images.json")" "$(stat -c %s "$d/root/overlay-containers/containers.json")" \
		"$(stat -c %s "$d/root/overlay-layers/layers.json")"
}

# ---- Docker: the fixture's data root, N images in repositories.json, N/3 containers ----
DK_FIX=$SRC/tests/unit/data/docker/root
DK_CID=13b89934a0489d5bfdfe586f24efdef5ee6d4a6bdd3e9d34fff6960be8b10da4
DK_MAN=sha256:81db2f8fbfbabfb66fd244498ad0ba8d645c2e6e09fe3bc642918a336efcf3fa
dk_store() { # N
	local d=$T/dk-$1
	newstore dk "$1" "$DK_FIX"
	python3 - "$d/root" "$1" "$DK_CID" <<'PY'
import json, os, sys
root, n, cid = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rnd = lambda: os.urandom(32).hex()
store = os.path.join(root, "image/overlay2")
repos = json.load(open(os.path.join(store, "repositories.json")))
r = repos["Repositories"]
have = len({v for m in r.values() for v in m.values()})
items = list(r.items())
new = []
for i in range(max(0, n - have)):
    iid, name = "sha256:" + rnd(), "registry.example/bench/img-%d" % i
    new.append((name, {name + ":latest": iid, name + "@sha256:" + rnd(): iid}))
    cfg = os.path.join(store, "imagedb/content/sha256", iid[7:])
    with open(cfg, "w") as f: f.write('{"rootfs":{"type":"layers","diff_ids":[]}}')
repos["Repositories"] = dict(new[:len(new) // 2] + items + new[len(new) // 2:])
with open(os.path.join(store, "repositories.json.tmp"), "w") as f: json.dump(repos, f, separators=(",", ":"))
os.rename(os.path.join(store, "repositories.json.tmp"), os.path.join(store, "repositories.json"))
cdir = os.path.join(root, "containers")
tmpl = open(os.path.join(cdir, cid, "config.v2.json")).read()
for i in range(max(0, n // 3 - len(os.listdir(cdir)))):
    c = rnd(); os.mkdir(os.path.join(cdir, c))
    open(os.path.join(cdir, c, "config.v2.json"), "w").write(tmpl.replace(cid, c))
PY
	mkbundle "$d" "$d/run/io.containerd.runtime.v2.task/moby/$DK_CID" "$DK_CID"
	mklist "$d" "$DK_MAN"
	mkconf "$d" "$d/state.json" "containers_storage = no
docker = yes
docker_root = $d/root
containerd = no"
	prime "$d" "$d/state.json"
	printf 'docker             %5s images: repositories.json %8s B\n' "$1" "$(stat -c %s "$d/root/image/overlay2/repositories.json")"
}

# ---- containerd: the fixture's root, N image records in namespace k8s.io ----
CD_FIX=$SRC/tests/unit/data/ctrmeta/root
CD_CID=2d6cc0fd1f9678f691cbd044a10d59ffd529c6582bae0b41c908f8f5ca2d7437
CD_MAN=sha256:e2ff23b90dcede64c681406e44c85ee94416c5c1dd986883914220a644bb3aed
CD_CONFIG=sha256:9d22770cf9971156729d1afc71900bc852615a04875d2d5a26c5a77db87fc5bf
cd_store() { # N
	local d=$T/cd-$1
	newstore cd "$1" "$CD_FIX"
	cat > "$d/config.toml" <<EOF
version = 2
root = "$d/root"
state = "$d/cstate"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$d/sock"
EOF
	containerd --config "$d/config.toml" > "$d/containerd.log" 2>&1 &
	CTRD_PID=$!
	local C="ctr --address $d/sock -n k8s.io" i=0
	until $C version >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "store-scale: containerd did not start" >&2; exit 1; }
		sleep 0.1
	done
	# The record the CRI plugin writes for every pull, named after the image id.
	$C images tag localhost/img:v1 "$CD_CONFIG" >/dev/null 2>&1 || true
	local have names=() k
	have=$($C images ls -q | wc -l)
	for ((k = have; k < $1; k++)); do
		names+=("registry.example/bench/img-$k:latest")
		if [ ${#names[@]} -ge 500 ]; then $C images tag localhost/img:v1 "${names[@]}" >/dev/null; names=(); fi
	done
	[ ${#names[@]} -eq 0 ] || $C images tag localhost/img:v1 "${names[@]}" >/dev/null
	kill "$CTRD_PID"; wait "$CTRD_PID" 2>/dev/null || true; CTRD_PID=
	mkbundle "$d" "$d/run/io.containerd.runtime.v2.task/k8s.io/$CD_CID" "$CD_CID"
	mklist "$d" "$CD_MAN"
	mkconf "$d" "$d/state.json" "containers_storage = no
docker = no
containerd = yes
containerd_root = $d/root"
	prime "$d" "$d/state.json"
	printf 'containerd         %5s images: meta.db %8s B\n' "$1" "$(stat -c %s "$d/root/io.containerd.metadata.v1.bolt/meta.db")"
}

for n in $SIZES; do
	cs_store "$n"
	dk_store "$n"
	cd_store "$n"
done
FIRST=${SIZES%% *}
BASE_HOOK=
if [ -n "${SIGWARD_BENCH_BASE:-}" ]; then
	BASE_HOOK=$(realpath "$SIGWARD_BENCH_BASE")/hook/sigward-hook
	[ -x "$BASE_HOOK" ] || { echo "store-scale: $BASE_HOOK missing" >&2; exit 2; }
fi
# spawnbench (interleaved: noop, cs-1, cs-300, ... noop, cs-1, ...), so the load of
# a shared machine hits every command alike; each command behind with-stdin, which
# feeds it its own OCI state (the no-op too).
ARGS=(-- noop "$W" "$T/cs-$FIRST/state.json" "$BUILD/bench/noop-static")
HF=(-n noop "$W $T/cs-$FIRST/state.json $BUILD/bench/noop-static")
for s in cs dk cd; do
	for n in $SIZES; do
		ARGS+=(-- "$s-$n" "$W" "$T/$s-$n/state.json" "$HOOK" --config "$T/$s-$n/sigward.conf")
		HF+=(-n "$s-$n" "$W $T/$s-$n/state.json $HOOK --config $T/$s-$n/sigward.conf")
		[ -z "$BASE_HOOK" ] || ARGS+=(-- "before-$s-$n" "$W" "$T/$s-$n/state.json" "$BASE_HOOK" --config "$T/$s-$n/sigward.conf")
	done
done

echo
echo "spawnbench, $RUNS interleaved runs of each command, every command behind with-stdin:"
"$BUILD/bench/spawnbench" "$RUNS" /dev/null "${ARGS[@]}" > "$T/sb.txt" 2>"$T/sb.err" ||
	{ echo "store-scale: spawnbench failed: $(tail -3 "$T/sb.err")" >&2; exit 1; }
[ -z "${SIGWARD_BENCH_OUT:-}" ] || cp "$T/sb.txt" "$SIGWARD_BENCH_OUT"
rc=0
python3 - "$T/sb.txt" "$SIZES" <<'PY' || rc=$?
import sys
rows = {}
for line in open(sys.argv[1]).read().splitlines()[1:]:
    f = line.split()
    rows[f[0]] = (float(f[3]), float(f[5]), float(f[6]), float(f[7]))   # median ms, ratio, cpu ms, cpu ratio
sizes = sys.argv[2].split()
names = {"cs": "containers/storage", "dk": "docker", "cd": "containerd"}
print("%-27s %s" % ("hook / store", "  ".join("%23s" % ("%s images" % n) for n in sizes)) + "   %s/%s wall, cpu" % (sizes[-1], sizes[0]))
worst = 0.0
for pre in ("before-", ""):
    for s in ("cs", "dk", "cd"):
        if pre + "%s-%s" % (s, sizes[0]) not in rows:
            continue
        r = [rows[pre + "%s-%s" % (s, n)] for n in sizes]
        cells = ["%7.3f ms %4.2fx cpu %4.2fx" % (x[0], x[1], x[3]) for x in r]
        scale, cscale = r[-1][0] / r[0][0], r[-1][2] / r[0][2]
        if not pre:
            worst = max(worst, scale)
        print("%-27s %s   %.2fx, %.2fx" % ((pre or "after-") + names[s], "  ".join("%23s" % c for c in cells), scale, cscale))
print("noop median %.3f ms (cpu %.3f ms); ratios are medians to the no-op's, by wall time and by CPU time;" % (rows["noop"][0], rows["noop"][2]))
print("last columns: the largest store over the smallest, by wall time and by CPU time")
sys.exit(0 if worst <= 1.2 else 1)
PY

# The same with hyperfine when asked (not interleaved: each command's runs in a row).
if [ "${SIGWARD_BENCH_HYPERFINE:-0}" = 1 ]; then
	echo
	hyperfine -N --warmup 20 --runs "$RUNS" --style none --export-json "$T/hf.json" "${HF[@]}" >/dev/null 2>"$T/hf.err" &&
		python3 -c 'import json,sys; r={x["command"]:x["median"] for x in json.load(open(sys.argv[1]))["results"]}; [print("hyperfine %-10s %8.3f ms %5.2fx" % (k, v*1e3, v/r["noop"])) for k,v in r.items()]' "$T/hf.json" ||
		echo "hyperfine failed: $(tail -1 "$T/hf.err")"
fi
exit $rc
