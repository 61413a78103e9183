# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# Fixtures shared by attacks.sh and resources.sh (sourced, bash):
#   hl_init NAME TOOL...      temp dir $T (0700, removed on exit), binaries, tools check
#   hl_images                 two busybox images built with umoci, no network:
#                             V1 (listed and signed) and V2 (never listed); their
#                             manifest digests $V1 $V2, config digests $C1 $C2,
#                             rootfs $T/u1/rootfs $T/u2/rootfs, layout $T/img
#   hl_keys                   $T/keys (trusted: k1 Ed25519, k2 P-256, k3 P-384) and
#                             untrusted kx; private keys in $T/priv
#   hl_conf FILE [K=V...]     a sigward.conf for tests ([sigward] threshold=... etc.)
#   hl_list NAME SCOPE SERIAL ISSUED EXPIRES [DIGEST...]   unsigned list $T/l/NAME
#   hl_sign NAME KEY...       append one signature line per key (openssl CLI)
#   hl_install NAME           copy into $T/lists/NAME and switch `current` atomically
#   hl_bundle NAME ROOTFS ANNOTATIONS-JSON [ARG...]        $T/b/NAME/config.json
#   hl_hook CONF ID BUNDLE    sigward-hook with the state on stdin: $RC, $OUT
#   hl_runc CONF ID BUNDLE    runc run with sigward-hook as prestart hook: $RC, $OUT
#   ok NAME / notok NAME WHY  TAP-ish result lines; hl_done prints the summary, exits
# Every wait is bounded (timeout); every server or container a script starts is
# stopped by that script (trap).

HL_FAILED=0
HL_PASSED=0
HL_CLEANUPS=()

ok() {
	echo "ok - $1"
	HL_PASSED=$((HL_PASSED + 1))
}

notok() {
	echo "not ok - $1"
	shift
	[ $# -gt 0 ] && printf '#   %s\n' "$@" | head -40
	HL_FAILED=$((HL_FAILED + 1))
}

hl_skip() {
	echo "SKIP: $*"
	[ "${SIGWARD_REQUIRE_ALL:-0}" = 1 ] && exit 1
	exit 77
}

hl_done() {
	echo "# $HL_PASSED passed, $HL_FAILED failed"
	[ "$HL_FAILED" = 0 ]
	exit $?
}

hl_on_exit() {
	HL_CLEANUPS+=("$1")
}

hl_cleanup() {
	set +e
	local i
	for ((i = ${#HL_CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${HL_CLEANUPS[$i]}" >/dev/null 2>&1
	done
	if [ -n "${T:-}" ] && [ -d "$T" ]; then
		# runc containers of this run, then mounts left under $T, deepest first
		if [ -d "$T/runc" ]; then
			for id in $(runc --root "$T/runc" list -q 2>/dev/null); do
				timeout 20 runc --root "$T/runc" delete -f "$id" >/dev/null 2>&1
			done
		fi
		grep " $T/" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do umount -l "$m"; done
		rm -rf "$T"
	fi
}

hl_init() {
	local name=$1
	shift
	[ "$(id -u)" = 0 ] || hl_skip "$name needs root (runc, state files owned by root)"
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 || hl_skip "$tool not installed"
	done
	SRC=${SIGWARD_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
	BUILD=${SIGWARD_BUILD:-$SRC/build}
	HOOK=$BUILD/hook/sigward-hook
	WRAP=$BUILD/shim/sigward-runc
	CLI=$BUILD/cli/sigward
	DAEMON=$BUILD/daemon/sigwardd
	local b
	for b in "$HOOK" "$WRAP" "$CLI"; do
		[ -x "$b" ] || { echo "not ok - $name: $b is not built (SIGWARD_BUILD=$BUILD)"; exit 1; }
	done
	T=/tmp/sw-$name.$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
	mkdir -m 700 "$T" || exit 1
	trap hl_cleanup EXIT
	trap 'exit 130' INT TERM HUP
	mkdir -p "$T/keys" "$T/priv" "$T/l" "$T/lists" "$T/state" "$T/b" "$T/runc"
	chmod 700 "$T/state"
	HL_SEQ=0
}

# A fresh container id in $ID (not in a subshell: the counter must advance).
hl_id() {
	HL_SEQ=$((HL_SEQ + 1))
	ID=sw-$$-$HL_SEQ
}

hl_images() {
	local bb
	bb=$(command -v busybox)
	(
		cd "$T" || exit 1
		umoci init --layout img >/dev/null &&
			umoci new --image img:base >/dev/null &&
			umoci unpack --image img:base work >/dev/null 2>&1 &&
			mkdir -p work/rootfs/bin &&
			cp "$bb" work/rootfs/bin/busybox &&
			for l in sh true echo cat ls sleep; do ln -s busybox "work/rootfs/bin/$l"; done &&
			echo v1 >work/rootfs/image &&
			umoci repack --image img:v1 work >/dev/null &&
			echo v2 >work/rootfs/image &&
			umoci repack --image img:v2 work >/dev/null &&
			umoci unpack --image img:v1 u1 >/dev/null 2>&1 &&
			umoci unpack --image img:v2 u2 >/dev/null 2>&1
	) || { echo "not ok - building the test images with umoci"; exit 1; }
	V1=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "v1") | .digest' "$T/img/index.json")
	V2=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "v2") | .digest' "$T/img/index.json")
	C1=$(jq -r .config.digest "$T/img/blobs/sha256/${V1#sha256:}")
	C2=$(jq -r .config.digest "$T/img/blobs/sha256/${V2#sha256:}")
	[ "${#V1}" = 71 ] && [ "${#V2}" = 71 ] && [ "$V1" != "$V2" ] || { echo "not ok - image digests"; exit 1; }
}

hl_keys() {
	openssl genpkey -algorithm ed25519 -out "$T/priv/k1.key" 2>/dev/null &&
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/priv/k2.key" 2>/dev/null &&
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$T/priv/k3.key" 2>/dev/null &&
		openssl genpkey -algorithm ed25519 -out "$T/priv/kx.key" 2>/dev/null || { echo "not ok - keys"; exit 1; }
	local k
	for k in k1 k2 k3 kx; do
		openssl pkey -in "$T/priv/$k.key" -pubout -out "$T/priv/$k.pub" 2>/dev/null || exit 1
	done
	cp "$T/priv/k1.pub" "$T/priv/k2.pub" "$T/priv/k3.pub" "$T/keys/"
}

# hl_conf FILE [KEY=VALUE...]: overrides of [sigward] keys (threshold, mode, scope, grace,
# state_dir, lists_dir, log_file) and of [resolve] (annotations, containers_storage,
# storage_root) by name.
hl_conf() {
	local file=$1
	shift
	local threshold=1 mode=enforce scope=prod grace=0 state_dir=$T/state lists_dir=$T/lists
	local log_file=$T/decisions.jsonl keys_dir=$T/keys verify_cache=yes
	local annotations="io.kubernetes.cri.image-ref io.kubernetes.cri-o.ImageRef"
	local containers_storage=no storage_root=/var/lib/containers/storage extra=""
	local kv
	for kv in "$@"; do
		case ${kv%%=*} in
		threshold | mode | scope | grace | state_dir | lists_dir | log_file | keys_dir | verify_cache | \
			annotations | containers_storage | storage_root | extra)
			printf -v "${kv%%=*}" '%s' "${kv#*=}" ;;
		*) echo "hl_conf: unknown key ${kv%%=*}" >&2; exit 1 ;;
		esac
	done
	cat >"$file" <<EOF
[sigward]
mode = $mode
scope = $scope
threshold = $threshold
keys_dir = $keys_dir
lists_dir = $lists_dir
state_dir = $state_dir
grace = $grace
log_file = $log_file
syslog = no
verify_cache = $verify_cache

[resolve]
annotations = $annotations
containers_storage = $containers_storage
storage_root = $storage_root
docker = no
containerd = no
$extra
EOF
}

# hl_list NAME SCOPE SERIAL ISSUED EXPIRES [DIGEST-OR-REF@DIGEST...]
hl_list() {
	local name=$1 scope=$2 serial=$3 issued=$4 expires=$5
	shift 5
	rm -rf "$T/l/$name"
	printf '%s\n' "$@" >"$T/l/$name.in"
	"$CLI" allowlist build --scope "$scope" --serial "$serial" --issued "$issued" --expires "$expires" \
		--out "$T/l/$name" "$T/l/$name.in" >"$T/l/$name.log" 2>&1 ||
		{ cat "$T/l/$name.log"; echo "not ok - building list $name"; exit 1; }
}

# hl_sign NAME KEY...: one line per key, as the producers' tools make them.
hl_sign() {
	local name=$1 k
	shift
	for k in "$@"; do
		case $(openssl pkey -in "$T/priv/$k.key" -noout -text 2>/dev/null | head -1) in
		*ED25519*) openssl pkeyutl -sign -inkey "$T/priv/$k.key" -rawin -in "$T/l/$name/manifest" ;;
		*) openssl dgst -sha256 -sign "$T/priv/$k.key" "$T/l/$name/manifest" ;;
		esac | base64 -w0 >>"$T/l/$name/manifest.sig" || { echo "not ok - signing $name with $k"; exit 1; }
		echo >>"$T/l/$name/manifest.sig"
	done
}

# hl_install NAME [LISTS_DIR]: what an installer does, minus the checks (the hook
# must not rely on them: a compromised daemon can write lists_dir).
hl_install() {
	local name=$1 lists=${2:-$T/lists}
	rm -rf "${lists:?}/$name"
	cp -r "$T/l/$name" "$lists/$name" || exit 1
	ln -sfn "$name" "$lists/.current.tmp" && mv -T "$lists/.current.tmp" "$lists/current" || exit 1
}

# hl_bundle NAME ROOTFS ANNOTATIONS-JSON [ARG...]: a runc bundle sharing a rootfs;
# prestart hook added by hl_runc.
hl_bundle() {
	local name=$1 rootfs=$2 ann=$3
	shift 3
	local args='["/bin/true"]'
	[ $# -gt 0 ] && args=$(printf '%s\n' "$@" | jq -R . | jq -cs .)
	mkdir -p "$T/b/$name"
	jq --arg root "$rootfs" --argjson ann "$ann" --argjson args "$args" \
		'.root.path = $root | .root.readonly = true | .process.terminal = false | .process.args = $args |
		 .annotations = ((.annotations // {}) + $ann) | del(.hooks)' \
		"$T/u1/config.json" >"$T/b/$name/config.json" || { echo "not ok - bundle $name"; exit 1; }
	echo "$T/b/$name"
}

hl_state() {
	printf '{"ociVersion":"1.0.2","id":"%s","status":"creating","pid":%d,"bundle":"%s","annotations":{}}' "$1" $$ "$2"
}

# hl_hook CONF ID BUNDLE [TIMEOUT]: the hook as a runtime runs it.
hl_hook() {
	OUT=$(hl_state "$2" "$3" | timeout -k 5 "${4:-20}" "$HOOK" --config "$1" 2>&1)
	RC=$?
}

# hl_runc CONF ID BUNDLE [TIMEOUT]: runc run with sigward-hook as the prestart hook.
hl_runc() {
	local conf=$1 id=$2 bundle=$3 tmo=${4:-60}
	local hook
	hook=$(jq -n --arg p "$HOOK" --arg c "$conf" '[{"path": $p, "args": ["sigward-hook", "--config", $c], "timeout": 30}]')
	jq --argjson h "$hook" '.hooks.prestart = $h' "$bundle/config.json" >"$bundle/config.json.new" &&
		mv "$bundle/config.json.new" "$bundle/config.json"
	OUT=$(timeout -k 5 "$tmo" runc --root "$T/runc" run -b "$bundle" "$id" </dev/null 2>&1)
	RC=$?
	timeout 20 runc --root "$T/runc" delete -f "$id" >/dev/null 2>&1
}

# The last decision record for a container id in any of the test's logs
# ($T/*.jsonl): "verdict<TAB>reason".
hl_record() {
	local f
	for f in "$T"/*.jsonl; do
		[ -f "$f" ] && jq -r --arg id "$1" 'select(.container == $id) | [.decision, .reason] | @tsv' "$f" 2>/dev/null
	done | tail -1
}
