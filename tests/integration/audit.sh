#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# audit.sh: `sigward audit` on a node with real runc and podman containers running.
#
# Three images built with umoci (no network): A and B listed by allowlist #1, C
# never listed. Containers started with runc and the sigward hook: ca (A) and cb
# (B) in enforce mode, cc (C) in warn mode; with podman (a private store, the hook
# through hooks.d): pa (A) and pb (B), and pc (C) through a warn-mode hooks.d.
# On the test's containerd (ctr run, sigward-runc as runc binary) ka (A) and kb
# (B); on its dockerd (--runtime sigward) da (A) and db (B).
# Allowlist #2 then drops B. The audit must report:
#  - ca, pa, ka and da without finding, cb, pb, kb and db as revoked (allowed at start, not in the
#    current list), cc and pc as unlisted, and their starts among the allows in
#    warn mode;
#  - with --negative-test: a never-listed image started through every wired
#    runtime is refused: runc with the hook, podman through the test's hooks.d,
#    containerd (started by the test, its config naming sigward-runc as
#    BinaryName) through ctr, dockerd (started by the test, sigward-runc as the
#    opt-in runtime `sigward`, then by SIGHUP the default-runtime) through
#    docker --runtime and plain docker; each refusal and its deny
#    record are evidence, and no container, image or directory is left behind
#    (asked of each runtime independently); a wired containerd and Docker that
#    cannot be reached are findings;
#  - --sign-key: SHA256SUMS.sig verifies with openssl and `sigward audit verify`,
#    a modified SHA256SUMS or report fails, a bad key path is one line, exit 2;
#  - serials above 2^63-1 are shown as they are;
#  - a store it cannot read (a containers/storage file, a Docker record) is a
#    step-4 finding, never skipped; every graph driver's containers are listed;
#  - an intact chain; after one log line is deleted, a broken chain (exit 1);
#  - step 8 over a log rotated into FILE.1 and FILE.2.gz (the hook's own records):
#    counts over every file, no finding; FILE.1 deleted: a finding naming it;
#  - a bundle whose SHA256SUMS verifies with sha256sum -c;
#  - an HTML report that headless Chromium renders (screenshot > 10 KB), kept
#    with its bundle under $SIGWARD_ARTIFACTS (default: $SIGWARD_BUILD/artifacts)
#    as CI artifacts.
# Exit 0 pass, 77 skipped (a tool missing or not root, a failure with
# SIGWARD_REQUIRE_ALL=1), anything else fail.

set -u

skip() {
	if [ "${SIGWARD_REQUIRE_ALL:-0}" = 1 ]; then
		echo "not ok - $1 (SIGWARD_REQUIRE_ALL=1)"
		exit 1
	fi
	echo "SKIP: $1"
	exit 77
}

for tool in runc umoci jq openssl sha256sum busybox chromium file; do
	command -v "$tool" >/dev/null 2>&1 || skip "$tool not installed"
done
[ "$(id -u)" = 0 ] || skip "runc containers need root"
: "${SIGWARD_BUILD:?SIGWARD_BUILD must name the build directory}"
CLI=$SIGWARD_BUILD/cli/sigward
HOOK=$SIGWARD_BUILD/hook/sigward-hook
[ -x "$CLI" ] && [ -x "$HOOK" ] || { echo "not ok - build: $CLI or $HOOK missing"; exit 1; }

# Lowercase only: podman names an image pulled from an OCI layout after its path.
T=/tmp/sw-audit-it.$(od -An -N6 -tx1 /dev/urandom | tr -d " \n")
mkdir -m 700 "$T" || { echo "not ok - setup: mkdir $T"; exit 1; }
RUNC="runc --root $T/runc"
RUNC_BIG="runc --root $T/runc-big"
CTRS="ca cb cc"
# podman with a private store (never /var/lib/containers); crun refuses this
# machine's cgroup layout (../shared/ENVIRONMENT.md), so runc.
P="podman --root $T/proot --runroot $T/prun --runtime runc"
HAVE_PODMAN=0 HAVE_CTRD=0 HAVE_DOCKER=0
command -v podman >/dev/null 2>&1 && HAVE_PODMAN=1
command -v containerd >/dev/null 2>&1 && command -v ctr >/dev/null 2>&1 && HAVE_CTRD=1
command -v dockerd >/dev/null 2>&1 && command -v docker >/dev/null 2>&1 && HAVE_DOCKER=1
CT=$T/ctrd
CTRD_PID=
if [ $HAVE_DOCKER = 1 ]; then
	# dockerd on $T/root, $T/exec, $T/sock (docker-lib.sh; DOCKER_HOST is exported).
	# shellcheck source=tests/integration/docker-lib.sh
	. "$(dirname "${BASH_SOURCE[0]}")/docker-lib.sh"
fi
cleanup() {
	for id in $CTRS; do $RUNC delete --force "$id" >/dev/null 2>&1; done
	for id in cs1 cs2; do $RUNC_BIG delete --force "$id" >/dev/null 2>&1; done
	[ $HAVE_PODMAN = 1 ] && $P rm -a -f -t 0 >/dev/null 2>&1
	[ $HAVE_DOCKER = 1 ] && dk_stop_all
	if [ -n "$CTRD_PID" ]; then
		for ns in default swaudit; do
			for t in $(timeout 20 ctr --address "$CT/sock" -n "$ns" task ls -q 2>/dev/null); do
				timeout 20 ctr --address "$CT/sock" -n "$ns" task rm -f "$t" >/dev/null 2>&1
			done
		done
		kill "$CTRD_PID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$CTRD_PID" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$CTRD_PID" 2>/dev/null
		# Shims of our containers name our private socket. (soc[k]: not grep itself.)
		for f in $(grep -l -- "$CT/soc[k]" /proc/[0-9]*/cmdline 2>/dev/null); do
			p=${f#/proc/}
			kill -9 "${p%/cmdline}" 2>/dev/null
		done
	fi
	# Unmount the overlay, shm and store mounts under $T, deepest first. conmon
	# runs `podman container cleanup` after a container exits, which mounts the
	# store again a moment later: retry until $T is gone (bounded).
	for _ in $(seq 20); do
		grep " $T/" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do umount "$m" 2>/dev/null; done
		rm -rf "$T" 2>/dev/null && break
		sleep 0.5
	done
}
trap cleanup EXIT INT TERM

FAILED=0
ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1"; FAILED=1; }
bail() { echo "not ok - $1"; exit 1; }
check() { # check NAME COMMAND...
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

cd "$T" || bail "setup: cd $T"

# ---- images A, B, C: three rootfs contents, three digests ----
umoci init --layout img >/dev/null && umoci new --image img:base >/dev/null &&
	umoci unpack --image img:base base >/dev/null || bail "setup: umoci base"
mkdir -p base/rootfs/bin && cp "$(command -v busybox)" base/rootfs/bin/busybox &&
	for l in sh sleep true; do ln -sf busybox "base/rootfs/bin/$l"; done
for tag in a b c; do
	echo "$tag" >base/rootfs/marker
	umoci repack --image "img:$tag" base >/dev/null || bail "setup: umoci repack $tag"
done
digest_of() {
	jq -r --arg t "$1" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' img/index.json
}
DA=$(digest_of a) DB=$(digest_of b) DC=$(digest_of c)
[ -n "$DA" ] && [ -n "$DB" ] && [ -n "$DC" ] || bail "setup: digests from img/index.json"

# ---- sigward: key, configs (enforce and warn), lists, a wired hooks.d ----
mkdir -p keys lists state hooks.d
openssl genpkey -algorithm ed25519 -out ed.key 2>/dev/null &&
	openssl pkey -in ed.key -pubout -out keys/test.pub 2>/dev/null || bail "setup: key"
write_conf() { # write_conf MODE [NAME SCOPE DIR]: $T/NAME.conf (NAME defaults to MODE)
	local lists=$T/lists state=$T/state log=$T/decisions.jsonl
	if [ -n "${4:-}" ]; then
		lists=$4/lists state=$4/state log=$4/decisions.jsonl
		mkdir -p "$lists" "$state"
	fi
	cat >"$T/${2:-$1}.conf" <<EOF
[sigward]
mode = $1
scope = ${3:-audittest}
keys_dir = $T/keys
lists_dir = $lists
state_dir = $state
log_file = $log
syslog = no

[resolve]
annotations = io.kubernetes.cri.image-name
containers_storage = yes
storage_root = $T/proot
docker = yes
docker_root = $T/root
containerd = yes
containerd_root = $T/ctrd/root
EOF
}
write_conf enforce
write_conf warn
hooks_file() { # hooks_file DIR CONF: a hooks.d directory whose sigward.json runs the hook with CONF
	mkdir -p "$1"
	printf '{"version":"1.0.0","hook":{"path":"%s","args":["sigward-hook","--config","%s"]},"when":{"always":true},"stages":["prestart"]}\n' \
		"$HOOK" "$2" >"$1/sigward.json"
}
hooks_file "$T/hooks.d" "$T/enforce.conf"
hooks_file "$T/hooks-warn" "$T/warn.conf"

# install_list SERIAL DIGEST...: signed, installed as the current generation of
# $LISTS (default $T/lists) for scope $SCOPE (default audittest). A DIGEST written
# "image-id sha256:..." is listed as an image id.
install_list() {
	local serial=$1 out=$T/list-${SCOPE:-audittest}-$1 lists=${LISTS:-$T/lists} d
	shift
	for d in "$@"; do
		case $d in
		"image-id "*) printf 'image-id localhost/img@%s\n' "${d#image-id }" ;;
		*) printf 'localhost/img@%s\n' "$d" ;;
		esac
	done >"$out.in"
	"$CLI" allowlist build --scope "${SCOPE:-audittest}" --serial "$serial" --expires 1d --out "$out" "$out.in" >/dev/null &&
		openssl pkeyutl -sign -inkey "$T/ed.key" -rawin -in "$out/manifest" | base64 -w0 >"$out/manifest.sig" &&
		echo >>"$out/manifest.sig" &&
		cp -r "$out" "$lists/gen-$serial" &&
		ln -sfn "gen-$serial" "$lists/current"
}
# Docker keeps only the image id (config digest) of a loaded image: listed too.
image_id() { jq -r .config.digest "img/blobs/sha256/${1#sha256:}"; }
IA=$(image_id "$DA") IB=$(image_id "$DB")
install_list 1 "$DA" "$DB" "image-id $IA" "image-id $IB" || bail "setup: allowlist #1"

# ---- containers: runc with the hook in each bundle ----
start() { # start ID TAG DIGEST CONF-NAME [RUNC-ROOT]
	local id=$1 b=$T/bundle-$1 RUNC="runc --root ${5:-$T/runc}"
	umoci unpack --image "img:$2" "$b" >/dev/null || return 1
	jq --arg hook "$HOOK" --arg conf "$T/$4.conf" --arg ref "localhost/img@$3" '
		.process.terminal = false | .process.args = ["/bin/sleep", "600"] |
		.hooks.prestart = [{path: $hook, args: ["sigward-hook", "--config", $conf]}] |
		.annotations["io.kubernetes.cri.image-name"] = $ref' "$b/config.json" >"$b/config.json.new" &&
		mv "$b/config.json.new" "$b/config.json" &&
		$RUNC run -d -b "$b" "$id" </dev/null >"$T/run-$id.out" 2>&1
}
check "ca (listed image) starts in enforce mode" start ca a "$DA" enforce
check "cb (listed image) starts in enforce mode" start cb b "$DB" enforce
check "cc (unlisted image) starts in warn mode" start cc c "$DC" warn
[ "$($RUNC state cb 2>/dev/null | jq -r .status)" = running ] || bail "setup: cb is not running"

# podman: pa from image A and pb from image B, started through hooks.d; pc from
# image C (never listed) through a hooks.d whose hook runs in warn mode.
if [ $HAVE_PODMAN = 1 ]; then
	U="--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network none"
	for x in a b c; do
		$P pull -q "oci:$T/img:$x" >/dev/null &&
			$P tag "$(jq -r .config.digest "img/blobs/sha256/$(digest_of "$x" | cut -d: -f2)" | cut -d: -f2)" "localhost/sw/$x" ||
			bail "setup: podman pull $x"
	done
	PA=$(timeout 120 $P run -d $U --hooks-dir "$T/hooks.d" --name pa localhost/sw/a /bin/sleep 600) &&
		PB=$(timeout 120 $P run -d $U --hooks-dir "$T/hooks.d" --name pb localhost/sw/b /bin/sleep 600) &&
		PC=$(timeout 120 $P run -d $U --hooks-dir "$T/hooks-warn" --name pc localhost/sw/c /bin/sleep 600) ||
		bail "setup: podman run through hooks.d"
elif [ "${SIGWARD_REQUIRE_ALL:-0}" = 1 ]; then
	bail "podman not installed (SIGWARD_REQUIRE_ALL=1)"
else
	echo "# podman not installed: its containers are not part of this run"
fi

# containerd, with its own root, state and socket, configured as a node wired to
# sigward: the CRI plugin's runc BinaryName is sigward-runc (the plugin itself is
# off; the audit reads the setting from this file). The shim, and so
# sigward-runc, inherit containerd's environment: SIGWARD_CONFIG.
WRAP=$SIGWARD_BUILD/shim/sigward-runc
if [ $HAVE_CTRD = 1 ]; then
	mkdir -p "$CT"
	{
		echo 'version = 2'
		echo "root = \"$CT/root\""
		echo "state = \"$CT/state\""
		echo 'disabled_plugins = ["io.containerd.grpc.v1.cri"]'
		echo '[grpc]'
		echo "  address = \"$CT/sock\""
		echo '[plugins."io.containerd.internal.v1.opt"]'
		echo "  path = \"$CT/opt\""
		echo '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]'
		echo "  BinaryName = \"$WRAP\""
	} >"$CT/config.toml"
	SIGWARD_CONFIG=$T/enforce.conf containerd --config "$CT/config.toml" >"$CT/containerd.log" 2>&1 &
	CTRD_PID=$!
	for _ in $(seq 100); do
		timeout 10 ctr --address "$CT/sock" version >/dev/null 2>&1 && break
		kill -0 "$CTRD_PID" 2>/dev/null || break
		sleep 0.1
	done
	timeout 10 ctr --address "$CT/sock" version >/dev/null 2>&1 || bail "setup: containerd did not start: $(tail -3 "$CT/containerd.log")"
elif [ "${SIGWARD_REQUIRE_ALL:-0}" = 1 ]; then
	bail "containerd or ctr not installed (SIGWARD_REQUIRE_ALL=1)"
else
	echo "# containerd not installed: the negative test does not go through it"
fi
# dockerd with sigward-runc as the opt-in runtime `sigward` (config/docker-daemon-optin.json):
# the negative test must use `docker --runtime sigward`.
if [ $HAVE_DOCKER = 1 ]; then
	printf '{"runtimes": {"sigward": {"path": "%s"}}}\n' "$WRAP" >"$T/daemon.json"
	SIGWARD_CONFIG=$T/enforce.conf dk_dockerd_start "$T/daemon.json" || bail "setup: $DK_ERR"
elif [ "${SIGWARD_REQUIRE_ALL:-0}" = 1 ]; then
	bail "dockerd or docker not installed (SIGWARD_REQUIRE_ALL=1)"
else
	echo "# dockerd not installed: the negative test does not go through Docker"
fi

# Step 4's containerd and Docker containers: ka (image A) and kb (B) run by
# containerd through sigward-runc in namespace swaudit (the negative test uses
# default), da (A) and db (B) by dockerd through its runtime sigward.
C="ctr --address $CT/sock"
if [ $HAVE_CTRD = 1 ]; then
	tar -C img -cf img.tar . &&
		timeout 120 $C -n swaudit images import --base-name localhost/img --digests img.tar >/dev/null ||
		bail "setup: ctr images import"
	for x in a b; do
		timeout 120 $C -n swaudit run -d --runc-binary "$WRAP" "localhost/img:$x" "k$x" /bin/sleep 600 \
			>"$T/ctr-$x.out" 2>&1 || bail "setup: ctr run k$x: $(cat "$T/ctr-$x.out")"
	done
fi
if [ $HAVE_DOCKER = 1 ]; then
	for x in a b; do
		timeout 120 skopeo copy -q "oci:$T/img:$x" "docker-archive:$T/docker-$x.tar:sw/$x:v1" >"$T/load.log" 2>&1 &&
			dk load -q -i "$T/docker-$x.tar" >>"$T/load.log" 2>&1 || bail "setup: skopeo + docker load of $x: $(cat "$T/load.log")"
	done
	DKA=$(dk run -d --runtime sigward --network none sw/a:v1 /bin/sleep 600) &&
		DKB=$(dk run -d --runtime sigward --network none sw/b:v1 /bin/sleep 600) || bail "setup: docker run da, db"
	DK_CTRS=$(dk ps -aq --no-trunc | sort) DK_IMGS=$(dk images -q --no-trunc | sort)
fi

# B is revoked by the next list, while cb, pb, kb and db keep running.
install_list 2 "$DA" "image-id $IA" || bail "setup: allowlist #2"

# ---- the audit ----
audit() { # audit OUTDIR: runs the audit, leaves its exit status in $RC
	RC=0
	# No --containerd-state: containerd's tasks are found through the state
	# directory its config.toml names.
	"$CLI" audit --config "$T/enforce.conf" --out "$1" --runc-root "$T/runc" \
		--hooks-dir "$T/hooks.d" --containerd-config "$CT/config.toml" \
		--docker-config "$T/daemon.json" >"$1.out" 2>&1 || RC=$?
}
audit "$T/out1"
check "audit with a revoked and a warn-mode container exits 1 (findings)" [ "$RC" = 1 ]
[ -f "$T/out1/report.json" ] || { cat "$T/out1.out"; bail "audit wrote no report.json"; }
R=$T/out1/report.json
ctr_field() { # ctr_field ID FIELD
	jq -r --arg id "$1" --arg f "$2" '.sections[] | select(.step == 4) | .tables.containers[] | select(.container == $id) | .[$f]' "$R"
}
check "report: the nine steps in order (6 marked as not run; 9, liveness, since issue 16)" \
	[ "$(jq -c '[.sections[].step]' "$R")" = "[1,2,3,4,5,6,7,8,9]" ]
check "report: step 6 without --negative-test is NOT EVIDENCED and counted apart from the findings" \
	[ "$(jq -r '[.n_not_evidenced, (.sections[] | select(.step == 6) | .not_evidenced), ([.sections[] | select(.not_evidenced)] | length)] | @csv' "$R")" = "1,true,1" ]
check "report.md and report.html say so (no 'No finding' for step 6)" \
	bash -c 'grep -q "Steps not evidenced: 1" "$0/report.md" && grep -q "NOT EVIDENCED: the negative test was not run" "$0/report.md" &&
		grep -q "1 step(s) not evidenced" "$0/report.html" && grep -q "Not evidenced by this run" "$0/report.html"' "$T/out1"
check "report.html: table cells wrap between words, not inside them" \
	bash -c 'grep -q "th,td{[^}]*word-break:normal" "$0/report.html" && ! grep -q "th,td{[^}]*break-all" "$0/report.html"' "$T/out1"
check "report: ca is running, allowed at start by audittest#1, no finding" \
	[ "$(ctr_field ca state)|$(ctr_field ca 'list at start')|$(ctr_field ca finding)|$(ctr_field ca _finding)" = "running|audittest#1||false" ]
check "report: ca is in the current list" bash -c '[[ $0 == yes:* ]]' "$(ctr_field ca 'in current list')"
check "report: cb (digest removed by list #2) is a revoked finding" \
	bash -c '[[ $0 == revoked:* && $1 == true ]]' "$(ctr_field cb finding)" "$(ctr_field cb _finding)"
check "report: cc (warn mode, unlisted) is an unlisted finding" \
	bash -c '[[ $0 == unlisted:* && $1 == true ]]' "$(ctr_field cc finding)" "$(ctr_field cc _finding)"
if [ $HAVE_PODMAN = 1 ]; then
	check "report: podman's pa (image A, via containers/storage) has no finding and its start record" \
		[ "$(ctr_field "$PA" runtime)|$(ctr_field "$PA" finding)|$(ctr_field "$PA" 'list at start')" = "podman (containers/storage)||audittest#1" ]
	check "report: podman's pa runs, as the runtime's state says (containers/storage does not record it)" \
		bash -c '[[ $0 == "running (runtime state /run/runc/$1/state.json)" ]]' "$(ctr_field "$PA" state)" "$PA"
	check "report: podman's pb (image B, removed by list #2) is a revoked finding" \
		bash -c '[[ $0 == revoked:* ]]' "$(ctr_field "$PB" finding)"
	check "report: podman's digests are the image id and the manifest" \
		bash -c '[[ $0 == *"$1 (manifest)"* && $0 == *"(image-id)"* ]]' "$(ctr_field "$PB" digests)" "$DB"
	check "report: podman's pc (warn mode, unlisted) is an unlisted finding" \
		bash -c '[[ $0 == unlisted:* && $1 == true ]]' "$(ctr_field "$PC" finding)" "$(ctr_field "$PC" _finding)"
fi
ctr_row() { jq -c --arg id "$1" '.sections[] | select(.step == 4) | .tables.containers[] | select(.container == $id)' "$R"; }
if [ $HAVE_CTRD = 1 ]; then
	echo "#   ka: $(ctr_row ka)"
	check "report: containerd's ka (image A): running, digests from its metadata, allowed at start by audittest#1, no finding" \
		[ "$(ctr_field ka runtime)|$(ctr_field ka state)|$(ctr_field ka reference)|$(ctr_field ka 'list at start')|$(ctr_field ka finding)|$(ctr_field ka _finding)" = \
		"containerd (namespace swaudit)|running|localhost/img:a|audittest#1||false" ]
	check "report: containerd's ka: manifest digest and image id, in the current list, signers and the start decision" \
		bash -c '[[ $0 == *"$3 (manifest)"* && $0 == *"$4 (image-id)"* && $1 == yes:* && $2 == "allow (enforce mode): "* && -n $5 ]]' \
		"$(ctr_field ka digests)" "$(ctr_field ka 'in current list')" "$(ctr_field ka 'start decision (log)')" "$DA" "$IA" \
		"$(ctr_field ka 'signers at start')"
	check "report: containerd's kb (image B, removed by list #2) is a revoked finding" \
		bash -c '[[ $0 == revoked:* && $1 == true && $2 == "audittest#1" ]]' "$(ctr_field kb finding)" "$(ctr_field kb _finding)" "$(ctr_field kb 'list at start')"
fi
if [ $HAVE_DOCKER = 1 ]; then
	echo "#   da: $(ctr_row "$DKA")"
	check "report: Docker's da (image A): running under its runtime sigward, image id, allowed at start by audittest#1, no finding" \
		[ "$(ctr_field "$DKA" runtime)|$(ctr_field "$DKA" state)|$(ctr_field "$DKA" reference)|$(ctr_field "$DKA" hook)|$(ctr_field "$DKA" 'list at start')|$(ctr_field "$DKA" finding)" = \
		"docker|running|sw/a:v1|runtime sigward (sigward-runc, step 2)|audittest#1|" ]
	check "report: Docker's da: its image id, in the current list, its start decision" \
		bash -c '[[ $0 == *"$3 (image-id)"* && $1 == "yes: $3"* && $2 == "allow (enforce mode): "* ]]' \
		"$(ctr_field "$DKA" digests)" "$(ctr_field "$DKA" 'in current list')" "$(ctr_field "$DKA" 'start decision (log)')" "$IA"
	check "report: Docker's db (image B, removed by list #2) is a revoked finding" \
		bash -c '[[ $0 == revoked:* && $1 == true ]]' "$(ctr_field "$DKB" finding)" "$(ctr_field "$DKB" _finding)"
fi
check "report: the digests come from the annotation" bash -c '[[ $0 == *"$1"* ]]' "$(ctr_field cb digests)" "$DB"
WARN_STARTS=cc
[ $HAVE_PODMAN = 1 ] && WARN_STARTS=cc,$PC
check "report: the warn-mode starts ($WARN_STARTS) are listed among the allows in warn mode, each a finding" \
	[ "$(jq -r '.sections[] | select(.step == 8) | [.tables["every allow in warn mode"][] | select(._finding) | .container] | join(",")' "$R")" = "$WARN_STARTS" ]
check "report: the chain is intact" \
	bash -c '[[ $0 == intact* ]]' "$(jq -r '.sections[] | select(.step == 8) | .tables.integrity[] | select(.check == "chain") | .result' "$R")"
check "report: the current list re-verifies now" \
	[ "$(jq -r '.sections[] | select(.step == 5) | .tables.verification[1].result' "$R")" = valid ]
check "report: keys, with their algorithm" [ "$(jq -r '.sections[0].tables["trusted keys"][0].algorithm' "$R")" = ed25519 ]
check "report: both generations, #2 current" \
	[ "$(jq -r '.sections[] | select(.step == 7) | .tables["installed generations"] | map(.serial + .current) | join(",")' "$R")" = "1,2yes" ]
check "evidence: config, key, manifest, manifest.sig, decisions excerpt" \
	test -s out1/evidence/config/00-enforce.conf -a -s out1/evidence/keys/test.pub -a -s out1/evidence/allowlist/manifest \
	-a -s out1/evidence/allowlist/manifest.sig -a -s out1/evidence/decisions.jsonl
NSTARTS=$((3 + 3 * HAVE_PODMAN + 2 * HAVE_CTRD + 2 * HAVE_DOCKER))
check "evidence: the decisions excerpt holds the $NSTARTS starts" [ "$(wc -l <out1/evidence/decisions.jsonl)" = $NSTARTS ]
check "report: config file hash matches the copy" \
	[ "$(jq -r '.sections[] | select(.step == 3) | .tables["configuration files"][0].sha256' "$R")" = "$(sha256sum <"$T/enforce.conf" | cut -d' ' -f1)" ]
check "SHA256SUMS verifies with sha256sum -c" bash -c 'cd "$0" && sha256sum --quiet -c SHA256SUMS'  "$T/out1"
check "SHA256SUMS covers every file of the bundle" \
	[ "$(cd out1 && find . -type f ! -name SHA256SUMS | wc -l)" = "$(wc -l <out1/SHA256SUMS)" ]
check "report.md and report.html name the revoked container" \
	bash -c 'grep -q "revoked" "$0/report.md" && grep -q "<tr class=\"finding\"><td>cb</td>" "$0/report.html"' "$T/out1"
check "report.html is self-contained (no external assets)" \
	bash -c '! grep -Eiq "(src|href)=|@import|url\(" "$0/report.html"' "$T/out1"

# ---- --sign-key: SHA256SUMS signed, checked with openssl and `sigward audit verify` ----
openssl genpkey -algorithm ed25519 -out audit-ed.key 2>/dev/null &&
	openssl pkey -in audit-ed.key -pubout -out audit-ed.pub 2>/dev/null &&
	openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out audit-p256.key 2>/dev/null &&
	openssl pkey -in audit-p256.key -pubout -out audit-p256.pub 2>/dev/null &&
	openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out other.key 2>/dev/null &&
	openssl pkey -in other.key -pubout -out other.pub 2>/dev/null || bail "setup: audit signing keys"
keyid() { openssl pkey -pubin -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }
RC=0
"$CLI" audit --config "$T/enforce.conf" --out "$T/outs" --containerd-state "$CT/state" --runc-root "$T/runc" --hooks-dir "$T/hooks.d" \
	--containerd-config "$T/no-containerd.toml" --docker-config "$T/no-daemon.json" \
	--sign-key "$T/audit-ed.key" --sign-key "$T/audit-p256.key" >"$T/outs.out" 2>&1 || RC=$?
check "--sign-key twice: the audit runs (exit 1: findings) and writes SHA256SUMS.sig, one line per key" \
	bash -c '[ "$0" = 1 ] && [ "$(wc -l <"$1/SHA256SUMS.sig")" = 2 ]' "$RC" "$T/outs"
sed -n 1p outs/SHA256SUMS.sig | base64 -d >sig-ed.bin
sed -n 2p outs/SHA256SUMS.sig | base64 -d >sig-p256.bin
check "--sign-key: line 1 verifies with openssl (Ed25519 over the bytes of SHA256SUMS)" \
	openssl pkeyutl -verify -pubin -inkey audit-ed.pub -rawin -in outs/SHA256SUMS -sigfile sig-ed.bin
check "--sign-key: line 2 verifies with openssl (ECDSA over SHA-256 of SHA256SUMS)" \
	bash -c 'openssl dgst -sha256 -verify "$0" -signature "$1" "$2" >/dev/null' audit-p256.pub sig-p256.bin outs/SHA256SUMS
check "--sign-key: sigward audit verify with both public keys: exit 0" \
	bash -c '"$0" audit verify --key audit-ed.pub --key audit-p256.pub "$1" >verify.out' "$CLI" "$T/outs"
check "--sign-key: SHA256SUMS.sig is not itself in SHA256SUMS, sha256sum -c passes" \
	bash -c 'cd "$0" && ! grep -q "SHA256SUMS.sig" SHA256SUMS && sha256sum --quiet -c SHA256SUMS' "$T/outs"
check "--sign-key: report.json names the key ids in signing order" \
	[ "$(jq -r '[.bundle_signature.keys[] | .id] | join(",")' outs/report.json)" = "$(keyid audit-ed.pub),$(keyid audit-p256.pub)" ]
check "--sign-key: report.html and report.md say how to check the signature" \
	bash -c 'grep -q "sigward audit verify --key" "$0/report.html" && grep -q "$1" "$0/report.md"' "$T/outs" "$(keyid audit-ed.pub)"
RC=0
"$CLI" audit verify --key other.pub "$T/outs" >verify.out 2>&1 || RC=$?
check "--sign-key: a key that did not sign: exit 1, naming its id" \
	bash -c '[ "$0" = 1 ] && grep -q "no valid signature of SHA256SUMS by key $1 (other.pub)" "$2"' "$RC" "$(keyid other.pub)" verify.out
# A modified SHA256SUMS: every signature fails, with openssl and with sigward.
cp -a outs outs-sums
sed -i '1s/^\(.\)/\1/; $a 0000000000000000000000000000000000000000000000000000000000000000  forged' outs-sums/SHA256SUMS
check "modified SHA256SUMS: openssl's verification fails" \
	bash -c '! openssl pkeyutl -verify -pubin -inkey audit-ed.pub -rawin -in outs-sums/SHA256SUMS -sigfile sig-ed.bin >/dev/null 2>&1 &&
		! openssl dgst -sha256 -verify audit-p256.pub -signature sig-p256.bin outs-sums/SHA256SUMS >/dev/null 2>&1'
RC=0
"$CLI" audit verify --key audit-ed.pub --key audit-p256.pub "$T/outs-sums" >verify.out 2>&1 || RC=$?
check "modified SHA256SUMS: sigward audit verify exits 1, no valid signature by either key" \
	bash -c '[ "$0" = 1 ] && [ "$(grep -c "no valid signature of SHA256SUMS" "$1")" = 2 ]' "$RC" verify.out
# A modified report and an added file: the signature still holds, the sums do not.
cp -a outs outs-file
echo "<p>all good</p>" >>outs-file/report.html
echo extra >outs-file/evidence/extra.txt
RC=0
"$CLI" audit verify --key audit-ed.pub "$T/outs-file" >verify.out 2>&1 || RC=$?
check "a changed report.html and an added file: exit 1, both named" \
	bash -c '[ "$0" = 1 ] && grep -q "outs-file/report.html: SHA-256 .* (the file was changed)" "$1" &&
		grep -q "outs-file/evidence/extra.txt: not in SHA256SUMS" "$1"' "$RC" verify.out
# A key that cannot be used: one line naming the file, exit 2, nothing written.
RC=0
"$CLI" audit --config "$T/enforce.conf" --out "$T/outs-bad" --sign-key "$T/no-such.key" >bad.out 2>bad.err || RC=$?
check "--sign-key with a missing file: exit 2, one line naming it, no bundle" \
	bash -c '[ "$0" = 2 ] && [ "$(wc -l <"$1")" = 1 ] && grep -q "^sigward: $2/no-such.key: " "$1" && [ ! -e "$2/outs-bad" ]' "$RC" bad.err "$T"
RC=0
"$CLI" audit --config "$T/enforce.conf" --out "$T/outs-bad" --sign-key "$T/audit-ed.pub" >bad.out 2>bad.err || RC=$?
check "--sign-key with a public key: exit 2, one line naming it, no bundle" \
	bash -c '[ "$0" = 2 ] && [ "$(wc -l <"$1")" = 1 ] && grep -q "^sigward: $2/audit-ed.pub" "$1" && [ ! -e "$2/outs-bad" ]' "$RC" bad.err "$T"
# A key in a PKCS#11 token (softhsm2), as `allowlist sign` takes it.
SOFTHSM_MODULE=/usr/lib/softhsm/libsofthsm2.so
if command -v softhsm2-util >/dev/null 2>&1 && [ -r "$SOFTHSM_MODULE" ]; then
	mkdir -p hsm/tokens
	printf 'directories.tokendir = %s/hsm/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$T" >hsm/softhsm2.conf
	export SOFTHSM2_CONF=$T/hsm/softhsm2.conf
	softhsm2-util --init-token --free --label audittok --pin 1234 --so-pin 5678 >/dev/null &&
		softhsm2-util --import audit-p256.key --token audittok --label auditkey --id 01 --pin 1234 >/dev/null ||
		bail "setup: softhsm2 token"
	RC=0
	"$CLI" audit --config "$T/enforce.conf" --out "$T/outs-hsm" --containerd-state "$CT/state" --runc-root "$T/runc" --hooks-dir "$T/hooks.d" \
		--containerd-config "$T/no-containerd.toml" --docker-config "$T/no-daemon.json" \
		--sign-key "pkcs11:token=audittok;object=auditkey;type=private?pin-value=1234&module-path=$SOFTHSM_MODULE" \
		>"$T/outs-hsm.out" 2>&1 || RC=$?
	check "--sign-key with a PKCS#11 URI (softhsm2): the signature verifies, the PIN is not in the report" \
		bash -c '[ "$0" = 1 ] && "$1" audit verify --key audit-p256.pub "$2" >/dev/null && ! grep -rq "pin-value=1234" "$2"' \
		"$RC" "$CLI" "$T/outs-hsm"
	unset SOFTHSM2_CONF
elif [ "${SIGWARD_REQUIRE_ALL:-0}" = 1 ]; then
	not_ok "softhsm2 not installed (SIGWARD_REQUIRE_ALL=1)"
else
	echo "# softhsm2 not installed: --sign-key with a PKCS#11 URI not tested"
fi

# ---- step 6: an unsigned image started through every wired runtime ----
NEG_ARGS=(--negative-test --hook "$HOOK" --podman-root "$T/proot" --podman-runroot "$T/prun" --podman-runtime runc)
CTRD_CONF=$T/no-containerd.toml DOCKER_CONF=$T/no-daemon.json
[ $HAVE_CTRD = 1 ] && CTRD_CONF=$CT/config.toml
if [ $HAVE_DOCKER = 1 ]; then
	DOCKER_CONF=$T/daemon.json
	NEG_ARGS+=(--docker-host "$DOCKER_HOST")
fi
[ $HAVE_PODMAN = 1 ] && PODMAN_IMAGES=$($P images -q --no-trunc | sort)
RC=0
"$CLI" audit --config "$T/enforce.conf" --out "$T/out3" --containerd-state "$CT/state" --runc-root "$T/runc" --hooks-dir "$T/hooks.d" \
	--containerd-config "$CTRD_CONF" --docker-config "$DOCKER_CONF" "${NEG_ARGS[@]}" >"$T/out3.out" 2>&1 || RC=$?
R3=$T/out3/report.json
WANT_RT=runc
[ $HAVE_PODMAN = 1 ] && WANT_RT+=,podman
[ $HAVE_CTRD = 1 ] && WANT_RT+=,containerd
[ $HAVE_DOCKER = 1 ] && WANT_RT+=,docker
negrow() { # negrow RUNTIME COLUMN
	jq -r --arg r "$1" --arg c "$2" '.sections[] | select(.step == 6) | .tables["negative tests"][] | select(.runtime == $r) | .[$c]' "$R3"
}
negimg() { # negimg CHECK
	jq -r --arg c "$1" '.sections[] | select(.step == 6) | .tables["throwaway image"][] | select(.check == $c) | .result' "$R3"
}
NEG_DIGEST=$(negimg "manifest digest")
NEG_ID=$(negimg "image id (config digest)")
NEG_TMP=$(negimg "private directory")
NEG_TMP=${NEG_TMP%%,*}
check "--negative-test: through each wired runtime ($WANT_RT)" \
	[ "$(jq -r '[.sections[] | select(.step == 6) | .tables["negative tests"][].runtime] | join(",")' "$R3")" = "$WANT_RT" ]
check "--negative-test: no finding in step 6" [ "$(jq -r '.sections[] | select(.step == 6) | .findings | length' "$R3")" = 0 ]
check "--negative-test: a fresh image: a manifest digest and image id no list holds" \
	bash -c '[[ $0 == sha256:* && $1 == sha256:* && $0 != "$2" && $0 != "$3" && $0 != "$4" && $5 == no ]]' \
	"$NEG_DIGEST" "$NEG_ID" "$DA" "$DB" "$DC" "$(negimg "in the current list")"
check "--negative-test: the image's manifest is evidence and hashes to its digest" \
	[ "sha256:$(sha256sum <out3/evidence/negative-test/image/manifest.json | cut -d' ' -f1)" = "$NEG_DIGEST" ]
for rt in ${WANT_RT//,/ }; do
	cid=$(negrow "$rt" container)
	refusal=$(negrow "$rt" refusal)
	check "--negative-test: $rt: refused with sigward's line for its container" \
		bash -c '[[ $0 == "sigward: denied container $1: image sha256:"*" is not in allowlist audittest#2"* ]]' "$refusal" "$cid"
	echo "#   $rt: $refusal"
	check "--negative-test: $rt: a deny record for that container, nothing left behind" \
		bash -c '[[ $0 == "deny: image sha256:"* && $1 == nothing ]]' "$(negrow "$rt" 'decision log record')" "$(negrow "$rt" 'left behind')"
	check "--negative-test: $rt: its transcript and record are evidence" \
		bash -c 'test -s "$0/transcript.txt" && [ "$(jq -r .container "$0/decision.jsonl")" = "$1" ] &&
			grep -Eq "^\\$ .* (start|run) " "$0/transcript.txt"' "$T/out3/evidence/negative-test/$rt" "$cid"
done
if [ $HAVE_PODMAN = 1 ]; then
	PCID=$(negrow podman container)
	check "--negative-test: podman: the hook decided on podman's container, digests from containers/storage" \
		bash -c '[[ $0 =~ ^[0-9a-f]{64}$ ]] && jq -e --arg d "$1" ".runtime == \"hook\" and ([.digests[].digest] | index(\$d) != null)" "$2" >/dev/null' \
		"$PCID" "$NEG_DIGEST" out3/evidence/negative-test/podman/decision.jsonl
	check "--negative-test: podman: no container and no image left (podman asked independently)" \
		bash -c '! $0 container exists "$1" && [ "$($0 images -q --no-trunc | sort)" = "$2" ] && ! $0 ps -a --format "{{.Names}}" | grep -q sigward-audit-negative' \
		"$P" "$PCID" "$PODMAN_IMAGES"
fi
if [ $HAVE_CTRD = 1 ]; then
	C="ctr --address $CT/sock"
	check "--negative-test: containerd: sigward-runc decided, digests from containerd's metadata" \
		jq -e --arg d "$NEG_DIGEST" '.runtime == "sigward-runc" and ([.digests[] | select(.source == "containerd") | .digest] | index($d) != null)' \
		out3/evidence/negative-test/containerd/decision.jsonl
	check "--negative-test: containerd: no container, image, content or namespace left (ctr asked independently)" \
		bash -c '[ "$($0 namespaces ls -q)" = swaudit ] && [ -z "$($0 -n default containers ls -q)" ] && [ -z "$($0 -n default images ls -q)" ] &&
			[ -z "$($0 -n default content ls -q)" ]' "$C"
fi
if [ $HAVE_DOCKER = 1 ]; then
	check "--negative-test: docker: through --runtime sigward, sigward-runc decided on the image id" \
		bash -c '[[ $0 == *"--runtime sigward"* ]] && jq -e --arg d "$1" ".runtime == \"sigward-runc\" and ([.digests[].digest] | index(\$d) != null)" "$2" >/dev/null' \
		"$(negrow docker start)" "$NEG_ID" out3/evidence/negative-test/docker/decision.jsonl
	check "--negative-test: docker: no container and no image left (docker asked independently)" \
		[ "$(dk ps -aq --no-trunc | sort)|$(dk images -q --no-trunc | sort)" = "$DK_CTRS|$DK_IMGS" ]
fi
check "--negative-test: the runc container and the private directory are gone" \
	bash -c '[[ $0 == /tmp/sigward-audit-neg.* ]] && [ ! -e "$0" ] && ! $1 state "sigward-audit-negative-${0##*.}" >/dev/null 2>&1' "$NEG_TMP" "$RUNC"
NNEG=$(($(tr -cd , <<<"$WANT_RT" | wc -c) + 1))
check "--negative-test: its $NNEG records are in the period's excerpt, chain intact" \
	bash -c '[ "$(wc -l <"$0/evidence/decisions.jsonl")" = $(($1 + $2)) ] && jq -e ".sections[7].tables.integrity[2].result | startswith(\"intact\")" "$0/report.json" >/dev/null' "$T/out3" "$NSTARTS" "$NNEG"
if [ $HAVE_CTRD = 1 ]; then
	check "--negative-test: step 2 shows containerd wired through its BinaryName" \
		bash -c '[[ $(jq -r ".sections[1].tables.runtimes[] | select(.runtime == \"containerd\") | .wired + \" \" + .how" "$0") == "yes $1:"*": BinaryName = "*sigward-runc ]]' \
		"$R3" "$CT/config.toml"
fi
check "--negative-test: SHA256SUMS verifies" bash -c 'cd "$0" && sha256sum --quiet -c SHA256SUMS' "$T/out3"

# A wired containerd and Docker the test cannot reach are findings, each naming why.
printf '[grpc]\n  address = "%s/no-such.sock"\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n  BinaryName = "%s"\n' \
	"$T" "$WRAP" >"$T/dead-containerd.toml"
printf '{"runtimes": {"sigward": {"path": "%s"}}, "default-runtime": "sigward", "hosts": ["unix://%s/no-such-docker.sock"]}\n' \
	"$WRAP" "$T" >"$T/dead-daemon.json"
mkdir -p "$T/hooks-none"
RC=0
"$CLI" audit --config "$T/enforce.conf" --out "$T/out4" --containerd-state "$CT/state" --runc-root "$T/runc" --hooks-dir "$T/hooks-none" \
	--containerd-config "$T/dead-containerd.toml" --docker-config "$T/dead-daemon.json" \
	--negative-test --hook "$HOOK" >"$T/out4.out" 2>&1 || RC=$?
F4=$(jq -r '.sections[] | select(.step == 6) | .findings[]' "$T/out4/report.json" 2>/dev/null)
check "--negative-test: an unreachable wired containerd and Docker: exit 1, one finding each naming the socket" \
	bash -c '[ "$0" = 1 ] && [ "$(wc -l <<<"$1")" = 2 ] &&
		grep -qx "the negative test could not run through containerd: containerd is not reachable at $2/no-such.sock" <<<"$1" &&
		grep -qx "the negative test could not run through docker: dockerd is not reachable at unix://$2/no-such-docker.sock" <<<"$1"' \
	"$RC" "$F4" "$T"
check "--negative-test: ... while runc still refused the image" \
	bash -c '[[ $(jq -r ".sections[] | select(.step == 6) | .tables[\"negative tests\"][] | select(.runtime == \"runc\") | .refusal" "$0") == "sigward: denied container "* ]]' \
	"$T/out4/report.json"

# Docker with sigward-runc as the default-runtime (config/docker-daemon.json, by
# SIGHUP): wired in step 2, and the negative test starts without --runtime.
if [ $HAVE_DOCKER = 1 ]; then
	printf '{"runtimes": {"sigward": {"path": "%s"}}, "default-runtime": "sigward"}\n' "$WRAP" >"$T/daemon.json"
	kill -HUP "$DK_DOCKERD_PID"
	for _ in $(seq 100); do
		[ "$(dk info -f '{{.DefaultRuntime}}' 2>/dev/null)" = sigward ] && break
		sleep 0.2
	done
	[ "$(dk info -f '{{.DefaultRuntime}}' 2>/dev/null)" = sigward ] || bail "setup: dockerd did not take sigward as default-runtime"
	RC=0
	"$CLI" audit --config "$T/enforce.conf" --out "$T/out5" --containerd-state "$CT/state" --runc-root "$T/runc" --hooks-dir "$T/hooks-none" \
		--containerd-config "$T/no-containerd.toml" --docker-config "$T/daemon.json" --docker-host "$DOCKER_HOST" \
		--negative-test --hook "$HOOK" >"$T/out5.out" 2>&1 || RC=$?
	R5=$T/out5/report.json
	check "--negative-test: Docker's default-runtime: wired in step 2, refused without --runtime, nothing left" \
		bash -c '[ "$(jq -r ".sections[1].tables.runtimes[] | select(.runtime == \"dockerd\") | .wired" "$0")" = yes ] &&
			jq -e ".sections[] | select(.step == 6) | (.findings | length) == 0 and (.tables[\"negative tests\"][] | select(.runtime == \"docker\") |
				(.start | contains(\"default-runtime\")) and (.container as \$c | .refusal | startswith(\"sigward: denied container \" + \$c + \": \")) and
				(.[\"decision log record\"] | startswith(\"deny: \")) and .[\"left behind\"] == \"nothing\")" "$0" >/dev/null &&
			! grep -q -- "--runtime" "$1" && [ "$2" = "$3" ]' \
		"$R5" "$T/out5/evidence/negative-test/docker/transcript.txt" "$(dk ps -aq --no-trunc | sort)|$(dk images -q --no-trunc | sort)" \
		"$DK_CTRS|$DK_IMGS"
fi

# ---- a tampered log: one line deleted ----
sed -i 2d decisions.jsonl
audit "$T/out2"
check "a deleted log line: exit 1" [ "$RC" = 1 ]
check "a deleted log line is a finding naming the broken line" \
	bash -c '[[ $0 == *"chain is broken"*decisions.jsonl:2* ]]' \
	"$(jq -r '.sections[] | select(.step == 8) | .findings[]' "$T/out2/report.json" 2>/dev/null)"

# ---- step 8 over a rotated log: FILE.2.gz, FILE.1, FILE ----
# Its own log and state (the lists are shared): the hook writes two decisions,
# the log is rotated as logrotate does (rename, the hook starts the next file
# from its head; delaycompress: .2 is compressed), and so on.
write_conf enforce rot audittest "$T/rot"
sed -i "s|^lists_dir = .*|lists_dir = $T/lists|" "$T/rot.conf"
RL=$T/rot/decisions.jsonl
hookrun() { # hookrun ID BUNDLE: one decision by the hook, as runc would ask for it
	printf '{"ociVersion":"1.0.2","id":"%s","status":"creating","pid":1,"bundle":"%s"}' "$1" "$2" |
		"$HOOK" --config "$T/rot.conf" >/dev/null 2>&1
}
hookrun rot-a1 "$T/bundle-ca"; hookrun rot-b1 "$T/bundle-cb"
mv "$RL" "$RL.1"
hookrun rot-a2 "$T/bundle-ca"; hookrun rot-b2 "$T/bundle-cb"
mv "$RL.1" "$RL.2" && gzip "$RL.2" && mv "$RL" "$RL.1"
hookrun rot-a3 "$T/bundle-ca"; hookrun rot-a4 "$T/bundle-ca"
[ -s "$RL.2.gz" ] && [ -s "$RL.1" ] && [ "$(wc -l <"$RL")" = 2 ] || bail "setup: the rotated log"
check "the rotated log verifies with sigward log verify (3 files)" \
	bash -c '"$0" log verify --config "$1" | grep -q "6 records in 3 files, chain intact, head matches"' "$CLI" "$T/rot.conf"
RC=0
"$CLI" audit --config "$T/rot.conf" --out "$T/out-rot" --containerd-state "$CT/state" --runc-root "$T/no-runc" --hooks-dir "$T/hooks-none" \
	--containerd-config "$T/no-containerd.toml" --docker-config "$T/no-daemon.json" >"$T/out-rot.out" 2>&1 || RC=$?
RR=$T/out-rot/report.json
check "rotated log: the audit ran (exit 0 or 1)" bash -c '[ "$0" -le 1 ] && [ -s "$1" ]' "$RC" "$RR"
check "rotated log: step 8 has no finding" [ "$(jq -r '.sections[] | select(.step == 8) | .findings | length' "$RR")" = 0 ]
check "rotated log: the counts include every file (4 allowed, 2 denied)" \
	[ "$(jq -r '.sections[] | select(.step == 8) | .tables["decisions per day"] | [(map(.allowed | tonumber) | add), (map(.denied | tonumber) | add)] | join(",")' "$RR")" = 4,2 ]
check "rotated log: the three files, oldest first, each intact" \
	[ "$(jq -r '.sections[] | select(.step == 8) | .tables["log files"] | map(.file + ":" + .records + ":" + .chain) | join(",")' "$RR")" = \
	"$RL.2.gz:2:intact,$RL.1:2:intact,$RL:2:intact" ]
check "rotated log: the chain is intact over 6 records in 3 files" \
	bash -c '[[ $0 == "intact, 6 records in 3 file(s), last record matches"* ]]' \
	"$(jq -r '.sections[] | select(.step == 8) | .tables.integrity[] | select(.check == "chain") | .result' "$RR")"
check "rotated log: the excerpt holds the records of every file" \
	[ "$(jq -r .container "$T/out-rot/evidence/decisions.jsonl" | paste -sd,)" = rot-a1,rot-b1,rot-a2,rot-b2,rot-a3,rot-a4 ]
# A period before every record: none is in it, the three files are still verified.
RC=0
"$CLI" audit --config "$T/rot.conf" --out "$T/out-rot-since" --since 2001-01-01T00:00:00Z --until 2001-01-02T00:00:00Z --containerd-state "$CT/state" --runc-root "$T/no-runc" --hooks-dir "$T/hooks-none" \
	--containerd-config "$T/no-containerd.toml" --docker-config "$T/no-daemon.json" >"$T/out-rot-since.out" 2>&1 || RC=$?
check "rotated log, a period before every record: no record in the period, the three files still verified, no finding" \
	bash -c '[ "$(wc -c <"$0/evidence/decisions.jsonl")" = 0 ] &&
		jq -e ".sections[] | select(.step == 8) | (.findings | length) == 0 and (.tables[\"log files\"] | length) == 3" "$0/report.json" >/dev/null' \
	"$T/out-rot-since"
# The middle file deleted: a finding naming it, and the break it leaves.
rm "$RL.1"
RC=0
"$CLI" audit --config "$T/rot.conf" --out "$T/out-rot2" --containerd-state "$CT/state" --runc-root "$T/no-runc" --hooks-dir "$T/hooks-none" \
	--containerd-config "$T/no-containerd.toml" --docker-config "$T/no-daemon.json" >"$T/out-rot2.out" 2>&1 || RC=$?
F8=$(jq -r '.sections[] | select(.step == 8) | .findings[]' "$T/out-rot2/report.json" 2>/dev/null)
check "rotated log, FILE.1 deleted: exit 1, a finding naming it and the break between FILE.2.gz and FILE" \
	bash -c '[ "$0" = 1 ] && grep -q "the rotated decision log file $2.1 is missing" <<<"$1" &&
		grep -q "chain is broken between $2.2.gz and $2:" <<<"$1"' "$RC" "$F8" "$RL"
check "rotated log, FILE.1 deleted: sigward log verify names it too (exit 1)" \
	bash -c 'out=$("$0" log verify --config "$1" 2>&1); [ $? = 1 ] && grep -q "$2.1: missing from the rotated set" <<<"$out"' \
	"$CLI" "$T/rot.conf" "$RL"

# ---- stores the audit cannot read: findings, never skipped ----
# A containers/storage root whose vfs store does not parse and whose zfs store
# holds one container (every graph driver is read, not only overlay), and a
# Docker data root with a container whose config.v2.json is not JSON.
US=$T/unread-storage UD=$T/unread-docker UCID=$(printf 'de%.0s' $(seq 32))
mkdir -p "$US/vfs-containers" "$US/zfs-containers" "$UD/containers/$UCID"
printf '[{"id":' >"$US/vfs-containers/containers.json"
printf '[{"id":"zfsctr1","image":""}]' >"$US/zfs-containers/containers.json"
printf '{"State":{"Running":tru' >"$UD/containers/$UCID/config.v2.json"
sed -e "s|^storage_root = .*|storage_root = $US|" -e "s|^docker_root = .*|docker_root = $UD|" "$T/rot.conf" >"$T/unread.conf"
RC=0
"$CLI" audit --config "$T/unread.conf" --out "$T/out-unread" --containerd-state "$T/no-ctrd-state" --runc-root "$T/no-runc" \
	--hooks-dir "$T/hooks-none" --containerd-config "$T/no-containerd.toml" --docker-config "$T/no-daemon.json" \
	>"$T/out-unread.out" 2>&1 || RC=$?
F4=$(jq -r '.sections[] | select(.step == 4) | .findings[]' "$T/out-unread/report.json" 2>/dev/null)
check "an unreadable containers/storage store is a step-4 finding naming its file (exit 1)" \
	bash -c '[ "$0" = 1 ] && grep -q "^cannot read: containers/storage (vfs): $2/vfs-containers/containers.json" <<<"$1"' "$RC" "$F4" "$US"
check "an unreadable Docker container record is a step-4 finding naming it" \
	bash -c 'grep -q "^cannot read: docker container $1: $2/containers/$1/config.v2.json" <<<"$0"' "$F4" "$UCID" "$UD"
check "a container in the zfs driver's store is listed (every graph driver, not only overlay)" \
	[ "$(jq -r '.sections[] | select(.step == 4) | .tables.containers[] | select(.container == "zfsctr1") | .runtime' "$T/out-unread/report.json")" = "podman (containers/storage)" ]

# ---- serials above 2^63-1: a serial is unsigned 64-bit ----
# Its own scope, lists, state and log: a serial of 2^64-1 would otherwise be the
# rollback floor of the lists above.
write_conf enforce big bigserial "$T/big"
BIG1=9223372036854775808 BIG2=18446744073709551615
SCOPE=bigserial LISTS=$T/big/lists install_list $BIG1 "$DA" || bail "setup: allowlist #2^63"
check "cs1 starts under list bigserial#2^63" start cs1 a "$DA" big "$T/runc-big"
SCOPE=bigserial LISTS=$T/big/lists install_list $BIG2 "$DA" || bail "setup: allowlist #2^64-1"
check "cs2 starts under list bigserial#2^64-1" start cs2 a "$DA" big "$T/runc-big"
RC=0
"$CLI" audit --config "$T/big.conf" --out "$T/out-big" --containerd-state "$CT/state" --runc-root "$T/runc-big" --hooks-dir "$T/hooks.d" \
	--containerd-config "$T/no-containerd.toml" --docker-config "$T/no-daemon.json" >"$T/out-big.out" 2>&1 || RC=$?
RB=$T/out-big/report.json
R=$RB
check "big serials: the audit ran (exit 0 or 1) and wrote report.json" bash -c '[ "$0" -le 1 ] && [ -s "$1" ]' "$RC" "$RB"
check "big serials: step 4 shows the list at each start, 2^63 and 2^64-1" \
	[ "$(ctr_field cs1 'list at start')|$(ctr_field cs2 'list at start')" = "bigserial#$BIG1|bigserial#$BIG2" ]
check "big serials: step 4 shows the current list's serial" bash -c '[[ $0 == *"(bigserial#$1)" ]]' "$(ctr_field cs2 'in current list')" "$BIG2"
check "big serials: step 5 names the current list" \
	[ "$(jq -r '.sections[] | select(.step == 5) | .tables.verification[0].result' "$RB")" = "bigserial#$BIG2" ]
check "big serials: step 7 lists both generations and both lists of the decisions" \
	[ "$(jq -r '.sections[] | select(.step == 7) | [(.tables["installed generations"][] | .serial), (.tables["lists used by the decisions of the period"][] | .list)] | join(",")' "$RB")" = \
	"$BIG1,$BIG2,bigserial#$BIG1,bigserial#$BIG2" ]
$RUNC_BIG delete --force cs1 >/dev/null 2>&1
$RUNC_BIG delete --force cs2 >/dev/null 2>&1

# ---- the HTML in a browser ----
# Kept after the run as CI artifacts (under the build directory unless
# SIGWARD_ARTIFACTS says otherwise): the screenshot of the report with every
# step filled in (out3: the negative test through each runtime), and that
# bundle itself.
ART=${SIGWARD_ARTIFACTS:-$SIGWARD_BUILD/artifacts}
mkdir -p "$ART" || bail "setup: mkdir $ART"
SHOT=$ART/audit.png
rm -rf "$SHOT" "$ART/audit-bundle"
cp -a "$T/out3" "$ART/audit-bundle"
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
	--disable-component-update --no-first-run --user-data-dir="$(mktemp -d "$T/chrome.XXXXXX")" \
	--window-size=1200,2400 --screenshot="$SHOT" "file://$ART/audit-bundle/report.html" >"$T/chromium.log" 2>&1
check "headless chromium renders report.html (screenshot > 10 KB, kept as $SHOT)" \
	bash -c '[ -f "$0" ] && [ "$(stat -c %s "$0")" -gt 10240 ] && file "$0" | grep -q "PNG image data, 1200 x 2400"' "$SHOT"
check "the kept bundle still verifies (sigward audit verify)" bash -c '"$0" audit verify "$1" >/dev/null' "$CLI" "$ART/audit-bundle"

if [ $FAILED = 0 ]; then
	echo "audit: all passed"
	exit 0
fi
echo "--- audit output ---"; cat "$T/out1.out" "$T/out2.out" 2>/dev/null
exit 1
