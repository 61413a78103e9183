# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# Fixtures shared by podman.sh and wrapper.sh (sourced, bash):
#   rt_init NAME TOOL...        root and tools check, binaries ($HOOK $WRAP $CLI), a
#                               private temp dir $T (0700; lowercase, podman names
#                               images after it), cleanup on exit
#   rt_on_exit CMD              run CMD at exit (last registered first)
#   rt_images [TAG...]          busybox images built with umoci, no network, in
#                               the layout $T/img: `signed` (listed) and `unsigned`;
#                               manifest digests $GOOD $BAD, image ids (config
#                               digests) $GOOD_ID $BAD_ID, unpacked in $T/u-signed and
#                               $T/u-unsigned; /which in each holds the image's name
#                               (given TAGs: those images instead, no digests set)
#   rt_key                      an Ed25519 signing key; public key in $T/keys
#   rt_conf FILE [K=V...]       a sigward.conf for tests (see below for the keys)
#   rt_list SERIAL ENTRY...     build, sign and install an allowlist for scope test
#   rt_bundle NAME IMAGE ANN [ARG...]   bundle $T/b/NAME running ARG... (default
#                               /bin/cat /which) on IMAGE's rootfs: $BUNDLE
#   rt_hook CONF ID BUNDLE      sigward-hook with the state on stdin: $RC, $OUT
#   rt_cgroup2 CMD...           CMD in a private mount namespace with a pure cgroup2
#                               mount (crun refuses this machine's hybrid layout)
#   rt_record ID                the last decision record for container ID (JSON)
#   ok NAME / notok NAME WHY... result lines; rt_done prints the summary
#                               ("NAME: N passed, N failed") and exits
# Every wait is bounded (timeout); whatever a script starts, it stops (trap).

RT_PASSED=0
RT_FAILED=0
RT_CLEANUPS=()
RT_START=$(date +%s)

ok() {
	echo "ok - $1"
	RT_PASSED=$((RT_PASSED + 1))
}

notok() {
	echo "not ok - $1"
	shift
	[ $# -gt 0 ] && printf '%s\n' "$@" | head -20 | sed 's/^/#   /'
	RT_FAILED=$((RT_FAILED + 1))
}

# A setup step failed: nothing after it can be trusted.
bail() {
	notok "$@"
	exit 1
}

rt_skip() {
	echo "SKIP: $*"
	[ "${SIGWARD_REQUIRE_ALL:-0}" = 1 ] && exit 1
	exit 77
}

rt_done() {
	echo "${RT_NAME:-#}: $RT_PASSED passed, $RT_FAILED failed, $(($(date +%s) - RT_START))s"
	[ "$RT_FAILED" = 0 ]
	exit $?
}

rt_on_exit() {
	RT_CLEANUPS+=("$1")
}

rt_cleanup() {
	set +e
	local i
	for ((i = ${#RT_CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${RT_CLEANUPS[$i]}" >/dev/null 2>&1
	done
	[ -n "${T:-}" ] && [ -d "$T" ] || return 0
	# Mounts left under $T (overlay, shm), deepest first. conmon may run `podman
	# container cleanup` after a container exits and mount the store again a
	# moment later: retry until $T is gone (bounded).
	for _ in $(seq 20); do
		grep -F " $T/" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
		rm -rf "$T" 2>/dev/null && break
		sleep 0.5
	done
}

rt_init() {
	local name=$1 tool b
	shift
	RT_NAME=$name
	[ "$(id -u)" = 0 ] || rt_skip "$name needs root (runtimes, containerd, podman's private store)"
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 || rt_skip "$tool not installed"
	done
	command -v busybox >/dev/null 2>&1 || rt_skip "busybox not installed"
	SRC=${SIGWARD_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
	BUILD=${SIGWARD_BUILD:-$SRC/build}
	HOOK=$BUILD/hook/sigward-hook
	WRAP=$BUILD/shim/sigward-runc
	CLI=$BUILD/cli/sigward
	for b in "$HOOK" "$WRAP" "$CLI"; do
		[ -x "$b" ] || { echo "not ok - $name: $b is not built (SIGWARD_BUILD=$BUILD)"; exit 1; }
	done
	T=/tmp/sw-$name.$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
	mkdir -m 700 "$T" || exit 1
	trap rt_cleanup EXIT
	trap 'exit 130' INT TERM
	mkdir -p "$T/keys" "$T/l" "$T/lists" "$T/state" "$T/b"
	chmod 700 "$T/state"
	cd "$T" || exit 1
}

rt_images() {
	local bb t tags=${*:-signed unsigned}
	bb=$(command -v busybox)
	(
		cd "$T" || exit 1
		umoci init --layout img >/dev/null && umoci new --image img:base >/dev/null || exit 1
		for t in $tags; do
			umoci unpack --image img:base "w-$t" >/dev/null 2>&1 &&
				mkdir -p "w-$t/rootfs/bin" && cp "$bb" "w-$t/rootfs/bin/busybox" &&
				for l in sh true echo cat sleep; do ln -s busybox "w-$t/rootfs/bin/$l"; done &&
				echo "$t" >"w-$t/rootfs/which" &&
				umoci repack --image "img:$t" "w-$t" >/dev/null &&
				umoci unpack --image "img:$t" "u-$t" >/dev/null 2>&1 || exit 1
		done
	) || bail "setup: building the test images with umoci"
	# Other tags than the two: $T/img:TAG, unpacked in $T/u-TAG, /which holds TAG.
	[ $# -eq 0 ] || return 0
	GOOD=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "signed") | .digest' "$T/img/index.json")
	BAD=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "unsigned") | .digest' "$T/img/index.json")
	GOOD_ID=$(jq -r .config.digest "$T/img/blobs/sha256/${GOOD#sha256:}")
	BAD_ID=$(jq -r .config.digest "$T/img/blobs/sha256/${BAD#sha256:}")
	[ "${#GOOD}" = 71 ] && [ "${#BAD}" = 71 ] && [ "$GOOD" != "$BAD" ] && [ "${#GOOD_ID}" = 71 ] ||
		bail "setup: image digests ($GOOD $BAD $GOOD_ID)"
}

rt_key() {
	openssl genpkey -algorithm ed25519 -out "$T/k1.key" 2>/dev/null &&
		openssl pkey -in "$T/k1.key" -pubout -out "$T/keys/k1.pub" 2>/dev/null || bail "setup: signing key"
}

# rt_conf FILE [KEY=VALUE...]: mode, lists_dir, state_dir, log_file, annotations,
# containers_storage, storage_root, docker, docker_root, containerd, containerd_root,
# runtime.
rt_conf() {
	local file=$1 kv
	shift
	local mode=enforce lists_dir=$T/lists state_dir=$T/state log_file=$T/decisions.jsonl
	local annotations="io.kubernetes.cri.image-name io.kubernetes.cri-o.ImageRef"
	local containers_storage=no storage_root=/var/lib/containers/storage
	local docker=no docker_root=/var/lib/docker containerd=no containerd_root=/var/lib/containerd runtime=/usr/sbin/runc
	for kv in "$@"; do
		case ${kv%%=*} in
		mode | lists_dir | state_dir | log_file | annotations | containers_storage | storage_root | \
			docker | docker_root | containerd | containerd_root | runtime)
			printf -v "${kv%%=*}" '%s' "${kv#*=}" ;;
		*) echo "rt_conf: unknown key ${kv%%=*}" >&2; exit 1 ;;
		esac
	done
	cat >"$file" <<EOF
[sigward]
mode = $mode
scope = test
threshold = 1
keys_dir = $T/keys
lists_dir = $lists_dir
state_dir = $state_dir
grace = 0
log_file = $log_file
syslog = no

[resolve]
annotations = $annotations
containers_storage = $containers_storage
storage_root = $storage_root
docker = $docker
docker_root = $docker_root
containerd = $containerd
containerd_root = $containerd_root

[runtime]
path = $runtime
EOF
}

# rt_list SERIAL ENTRY...: entries are sha256:<hex> or <ref>@sha256:<hex>.
rt_list() {
	local serial=$1 d=$T/l/gen-$1
	shift
	printf '%s\n' "$@" >"$d.in"
	"$CLI" allowlist build --scope test --serial "$serial" --expires 1d --out "$d" "$d.in" >"$d.log" 2>&1 ||
		bail "setup: allowlist build #$serial" "$(cat "$d.log")"
	openssl pkeyutl -sign -inkey "$T/k1.key" -rawin -in "$d/manifest" | base64 -w0 >"$d/manifest.sig" &&
		echo >>"$d/manifest.sig" || bail "setup: signing allowlist #$serial"
	rm -rf "$T/lists/gen-$serial"
	cp -r "$d" "$T/lists/gen-$serial" &&
		ln -sfn "gen-$serial" "$T/lists/.current.tmp" && mv -T "$T/lists/.current.tmp" "$T/lists/current" ||
		bail "setup: installing allowlist #$serial"
}

# rt_bundle NAME IMAGE ANNOTATIONS-JSON [ARG...]
rt_bundle() {
	local name=$1 image=$2 ann=$3 args='["/bin/cat","/which"]'
	shift 3
	[ $# -gt 0 ] && args=$(printf '%s\n' "$@" | jq -R . | jq -cs .)
	BUNDLE=$T/b/$name
	mkdir -p "$BUNDLE"
	jq --arg root "$T/u-$image/rootfs" --argjson ann "$ann" --argjson args "$args" \
		'.root.path = $root | .root.readonly = true | .process.terminal = false | .process.args = $args |
		 .annotations = ((.annotations // {}) + $ann) | del(.hooks) | del(.linux.cgroupsPath)' \
		"$T/u-$image/config.json" >"$BUNDLE/config.json" || bail "setup: bundle $name"
}

rt_state() {
	jq -cn --arg id "$1" --arg b "$2" '{ociVersion: "1.0.2", id: $id, status: "creating", pid: 1, bundle: $b, annotations: {}}'
}

# rt_hook CONF ID BUNDLE: the hook as a runtime runs it (only stderr carries output).
rt_hook() {
	OUT=$(rt_state "$2" "$3" | timeout -k 5 30 "$HOOK" --config "$1" 2>&1)
	RC=$?
}

rt_cgroup2() {
	unshare -m sh -c 'umount -l /sys/fs/cgroup 2>/dev/null; mount -t cgroup2 none /sys/fs/cgroup && exec "$@"' sh "$@"
}

# rt_record ID [LOG]: the last decision record for container ID.
rt_record() {
	[ -f "${2:-$T/decisions.jsonl}" ] || return 0
	jq -c --arg id "$1" 'select(.container == $id)' "${2:-$T/decisions.jsonl}" 2>/dev/null | tail -1
}

# rt_records ID [LOG]: how many decision records container ID has.
rt_records() {
	[ -f "${2:-$T/decisions.jsonl}" ] || { echo 0; return; }
	jq -c --arg id "$1" 'select(.container == $id)' "${2:-$T/decisions.jsonl}" 2>/dev/null | wc -l
}
