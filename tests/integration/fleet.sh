#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# fleet.sh: `sigward audit fleet` over the bundles of simulated nodes, each
# written by the real `sigward audit` on this machine with its own
# configuration, list, decision log and runtime state directory:
#   n-runc      enforce, list #2, a runc container of listed image A
#   n-crun      enforce, list #2, a crun container of A (private cgroup2 mount)
#   n-warn      warn mode, list #2, runc containers of A and of C (never listed)
#   n-revoked   enforce, containers of A and B started under list #1; list #2
#               then drops B: a revoked container still running
#   n-oldlist   enforce, still on list #1 while the fleet's newest is #2
#   n-tampered  a valid bundle whose report.json is edited afterwards
#   n-unsigned  a bundle written without --sign-key
#   n-missing   expected, no bundle
#   n-k8s       the DaemonSet's node audit (config/kubernetes/sigward-audit-daemonset.yaml):
#               the manifest parsed with python3 (kinds, hostPath volumes the audit
#               reads, read-only mounts, privileges), then its exact container
#               command run on this machine in a private mount namespace where the
#               test's node directories are bind-mounted at the manifest's
#               mountPaths (read-only where the manifest says so)
# The fleet audit must verify every bundle with the auditors' key and report
# each case above as a finding, the figures (share of nodes enforcing, share
# of running containers listed), a sample drawn again identically from the
# same seed, sign its own bundle (checked by `sigward audit verify`), and its
# report.html must render in headless Chromium (kept in $SIGWARD_ARTIFACTS).
# Exit 0 pass, 77 skipped (a tool missing or not root; a failure with
# SIGWARD_REQUIRE_ALL=1), anything else fail.

set -u
# shellcheck source=tests/integration/runtimes-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/runtimes-lib.sh"
RT_NAME=fleet

for tool in runc crun umoci jq openssl busybox chromium python3 unshare; do
	command -v "$tool" >/dev/null 2>&1 || rt_skip "$tool not installed"
done
python3 -c 'import yaml' 2>/dev/null || rt_skip "python3-yaml not installed"
[ "$(id -u)" = 0 ] || rt_skip "runc containers and mount namespaces need root"
: "${SIGWARD_BUILD:?SIGWARD_BUILD must name the build directory}"
SRC=${SIGWARD_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
CLI=$SIGWARD_BUILD/cli/sigward
HOOK=$SIGWARD_BUILD/hook/sigward-hook
WRAP=$SIGWARD_BUILD/shim/sigward-runc
MANIFEST=$SRC/config/kubernetes/sigward-audit-daemonset.yaml
[ -x "$CLI" ] && [ -x "$HOOK" ] && [ -x "$WRAP" ] || bail "build: $CLI, $HOOK or $WRAP missing"
ART=${SIGWARD_ARTIFACTS:-$SIGWARD_BUILD/artifacts}

T=/tmp/sw-fleet-it.$(od -An -N6 -tx1 /dev/urandom | tr -d " \n")
mkdir -m 700 "$T" || bail "setup: mkdir $T"
RUNC_ROOTS=() CRUN_IDS=()
stop_all() {
	local r id
	for r in "${RUNC_ROOTS[@]}"; do
		for id in $(runc --root "$r" list -q 2>/dev/null); do runc --root "$r" delete --force "$id"; done
	done
	for id in "${CRUN_IDS[@]}"; do crun --root "$T/nodes/n-crun/rt" delete --force "$id"; done
}
rt_on_exit stop_all
trap rt_cleanup EXIT INT TERM
cd "$T" || bail "setup: cd $T"

# ---- images A, B, C (umoci, no network), unpacked in u-a, u-b, u-c ----
rt_images a b c
digest_of() {
	jq -r --arg t "$1" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' img/index.json
}
DA=$(digest_of a) DB=$(digest_of b) DC=$(digest_of c)
[ -n "$DA" ] && [ -n "$DB" ] && [ -n "$DC" ] || bail "setup: digests"
for tag in a b c; do
	# crun creates missing mount points in the rootfs: they exist up front.
	mkdir -p "u-$tag/rootfs/proc" "u-$tag/rootfs/dev" "u-$tag/rootfs/sys" || bail "setup: rootfs of $tag"
done

# ---- keys: the list signing key (trusted by every node), the auditors' bundle key ----
mkdir -p keys lists-src bundles
openssl genpkey -algorithm ed25519 -out list.key 2>/dev/null &&
	openssl pkey -in list.key -pubout -out keys/test.pub 2>/dev/null &&
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out audit.key 2>/dev/null &&
	openssl pkey -in audit.key -pubout -out audit.pub 2>/dev/null || bail "setup: keys"
# Lists #1 (A, B) and #2 (A: B revoked) for scope test.
make_list() { # SERIAL DIGEST...
	local serial=$1 out=$T/lists-src/gen-$1 d
	shift
	for d in "$@"; do printf 'localhost/img@%s\n' "$d"; done >"$out.in"
	"$CLI" allowlist build --scope test --serial "$serial" --expires 1d --out "$out" "$out.in" >/dev/null &&
		openssl pkeyutl -sign -inkey "$T/list.key" -rawin -in "$out/manifest" | base64 -w0 >"$out/manifest.sig" &&
		echo >>"$out/manifest.sig"
}
make_list 1 "$DA" "$DB" && make_list 2 "$DA" || bail "setup: lists"

# ---- a simulated node: its own configuration, list, state, log, runtime root ----
# node NAME MODE [ETC VARLIB VARLOG]: $T/nodes/NAME (the three directories default
# to inside it); wiring files for step 2 (hooks.d, containerd, Docker) naming the
# hook and sigward-runc, as a wired node has them.
node() {
	local n=$T/nodes/$1 etc=${3:-$T/nodes/$1/etc} lib=${4:-$T/nodes/$1/lib} log=${5:-$T/nodes/$1/log}
	mkdir -p "$n/rt" "$n/hooks.d" "$etc" "$lib/lists" "$log"
	rt_conf "$n/sigward.conf" mode="$2" lists_dir="$lib/lists" state_dir="$lib" log_file="$log/decisions.jsonl" \
		annotations=io.kubernetes.cri.image-name
	printf '{"version":"1.0.0","hook":{"path":"%s","args":["sigward-hook","--config","%s"]},"when":{"always":true},"stages":["prestart"]}\n' \
		"$HOOK" "$n/sigward.conf" >"$n/hooks.d/sigward.json"
	printf 'version = 2\nstate = "%s/ctrd-state"\nroot = "%s/ctrd-root"\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n  BinaryName = "%s"\n' \
		"$n" "$n" "$WRAP" >"$n/containerd.toml"
	printf '{"runtimes": {"sigward": {"path": "%s"}}, "default-runtime": "sigward"}\n' "$WRAP" >"$n/daemon.json"
	RUNC_ROOTS+=("$n/rt")
}
install_list() { # NODE SERIAL [LISTS_DIR]
	local lists=${3:-$T/nodes/$1/lib/lists}
	cp -r "$T/lists-src/gen-$2" "$lists/gen-$2" && ln -sfn "gen-$2" "$lists/current"
}
# start NODE RUNTIME ID TAG: a container of image TAG with the hook in its bundle.
start() {
	local n=$T/nodes/$1 b=$T/b-$3 d
	d=$(digest_of "$4")
	cp -r "$T/u-$4" "$b" || return 1
	jq --arg hook "$HOOK" --arg conf "${CONF:-$n/sigward.conf}" --arg ref "localhost/img@$d" '
		.process.terminal = false | .process.args = ["/bin/sleep", "600"] | .linux.cgroupsPath = "" |
		.hooks.prestart = [{path: $hook, args: ["sigward-hook", "--config", $conf]}] |
		.annotations["io.kubernetes.cri.image-name"] = $ref' "$T/u-$4/config.json" >"$b/config.json" || return 1
	if [ "$2" = crun ]; then
		CRUN_IDS+=("$3")
		timeout 60 unshare -m sh -c 'umount -l /sys/fs/cgroup 2>/dev/null; mount -t cgroup2 none /sys/fs/cgroup &&
			exec crun --cgroup-manager=disabled --root "$1" run -d -b "$2" "$3"' sh "$n/rt" "$b" "$3" </dev/null >"$T/run-$3.out" 2>&1
	else
		timeout 60 runc --root "${RUNC_ROOT:-$n/rt}" run -d -b "$b" "$3" </dev/null >"$T/run-$3.out" 2>&1
	fi
}
# audit NODE [ARGS...]: the node's own `sigward audit` into bundles/NODE.
audit() {
	local n=$T/nodes/$1 name=$1
	shift
	"$CLI" audit --config "$n/sigward.conf" --node "$name" --out "$T/bundles/$name" --runc-root "$n/rt" \
		--hooks-dir "$n/hooks.d" --containerd-config "$n/containerd.toml" --docker-config "$n/daemon.json" \
		--docker-root "$n/docker" --sample 1000 "$@" >"$T/audit-$name.out" 2>&1
	local rc=$?
	[ $rc -le 1 ] && [ -f "$T/bundles/$name/report.json" ] || { echo "# audit $name: rc=$rc"; sed 's/^/#   /' "$T/audit-$name.out"; return 1; }
}

node n-runc enforce && install_list n-runc 2 || bail "setup: n-runc"
check_start() { start "$@" || bail "setup: start $3 on $1: $(cat "$T/run-$3.out" 2>/dev/null)"; }
check_start n-runc runc r1 a
node n-crun enforce && install_list n-crun 2 || bail "setup: n-crun"
check_start n-crun crun c1 a
node n-warn warn && install_list n-warn 2 || bail "setup: n-warn"
check_start n-warn runc w1 a
check_start n-warn runc w2 c
node n-revoked enforce && install_list n-revoked 1 || bail "setup: n-revoked"
check_start n-revoked runc v1 a
check_start n-revoked runc v2 b
install_list n-revoked 2 || bail "setup: n-revoked list #2"
node n-oldlist enforce && install_list n-oldlist 1 || bail "setup: n-oldlist"
check_start n-oldlist runc o1 a
node n-tampered enforce && install_list n-tampered 2 || bail "setup: n-tampered"
check_start n-tampered runc t1 a
[ "$(crun --root "$T/nodes/n-crun/rt" state c1 2>/dev/null | jq -r .status)" = running ] || bail "setup: c1 (crun) is not running"

# The nodes' self-test (sigward-selftest.timer on a node): a canary through runc and
# crun (a cgroup2 mount of its own) and a heartbeat in each node's log; n-oldlist has
# none (its audit's step 9: no heartbeat).
for n in n-runc n-crun n-warn n-revoked n-tampered; do
	d=$T/nodes/$n
	rt_cgroup2 "$CLI" selftest --config "$d/sigward.conf" --hooks-dir "$d/hooks.d" --containerd-config "$d/containerd.toml" \
		--docker-config "$d/daemon.json" >"$T/selftest-$n.out" 2>&1
	grep -q '"kind":"heartbeat"' "$d/log/decisions.jsonl" || bail "setup: sigward selftest on $n wrote no heartbeat: $(tail -3 "$T/selftest-$n.out")"
done
for n in n-runc n-crun n-warn n-revoked n-oldlist n-tampered; do
	audit "$n" --sign-key "$T/audit.key" || bail "setup: sigward audit of $n"
done
audit n-runc --sign-key "$T/audit.key" >/dev/null 2>&1 # bundles/n-runc exists: refused (exit 2), it stays as it was
cp -r "$T/nodes/n-runc" "$T/nodes/n-unsigned" && sed -i "s|$T/nodes/n-runc/|$T/nodes/n-unsigned/|" "$T/nodes/n-unsigned/sigward.conf" &&
	audit n-unsigned || bail "setup: the unsigned bundle"

check() { # check NAME COMMAND...
	local name=$1
	shift
	if "$@"; then ok "$name"; else notok "$name"; fi
}
NR=$T/bundles/n-runc/report.json
check "node report: --node names the node, facts for the fleet (mode, list, running containers)" \
	[ "$(jq -r '[.kind, .host, .facts.mode, .facts.list_scope, .facts.list_serial, .facts.list_verified, .facts.containers_running, .facts.containers_running_listed] | @csv' "$NR")" = '"node","n-runc","enforce","test","2","yes",1,1' ]
check "node report: crun's state directory is read (c1, runtime crun, running, listed)" \
	[ "$(jq -r '.sections[] | select(.step == 4) | .tables.containers[] | select(.container == "c1") | [.runtime, .state, (.["in current list"] | startswith("yes")), .finding] | @csv' "$T/bundles/n-crun/report.json")" = '"crun","running",true,""' ]
check "node report: n-revoked's v2 is revoked, counted as running and not listed" \
	[ "$(jq -r '[.facts.containers_running, .facts.containers_running_listed, (.sections[] | select(.step == 4) | .tables.containers[] | select(.container == "v2") | .finding | startswith("revoked"))] | @csv' "$T/bundles/n-revoked/report.json")" = '2,1,true' ]

# n-tampered: the node's report made to say "no finding" after it was signed.
jq '.n_findings = 0' "$T/bundles/n-tampered/report.json" >"$T/t.json" && mv "$T/t.json" "$T/bundles/n-tampered/report.json" ||
	bail "setup: tamper"
check "sigward audit verify refuses the tampered node bundle" \
	bash -c '! "$0" audit verify --key "$1" "$2" >/dev/null 2>&1' "$CLI" "$T/audit.pub" "$T/bundles/n-tampered"

# ---- the Kubernetes DaemonSet: the manifest, then its container command here ----
# Parse the manifest; print, for the node-audit container: the argv (NUL-separated in
# $T/k8s.argv), env (K=V lines in $T/k8s.env), the mounts (MOUNTPATH HOSTPATH RO lines
# in $T/k8s.mounts); fail with a message on anything the audit needs that is missing.
mkdir -p "$T/k8s"
python3 - "$MANIFEST" "$T" >"$T/k8s.check" 2>&1 <<'EOF'
import sys, yaml
manifest, out = sys.argv[1], sys.argv[2]
docs = [d for d in yaml.safe_load_all(open(manifest)) if d]
kinds = {d["kind"]: d for d in docs}
errs = []
def need(cond, msg):
    if not cond:
        errs.append(msg)
for k in ("Namespace", "ServiceAccount", "DaemonSet"):
    need(k in kinds, "no %s" % k)
ds = kinds["DaemonSet"]
need(ds.get("apiVersion") == "apps/v1", "DaemonSet apiVersion is not apps/v1")
sel = ds["spec"]["selector"]["matchLabels"]
labels = ds["spec"]["template"]["metadata"]["labels"]
need(all(labels.get(k) == v for k, v in sel.items()), "selector does not match the template's labels")
pod = ds["spec"]["template"]["spec"]
# kill(pid, 0) of step 4 must see the node's processes.
need(pod.get("hostPID") is True, "hostPID is not true: step 4 cannot tell running containers")
need(any(t.get("operator") == "Exists" for t in pod.get("tolerations", [])), "no toleration: tainted nodes are skipped")
vols = {v["name"]: v for v in pod["volumes"]}
audit = [c for c in pod.get("initContainers", []) + pod["containers"] if c["name"] == "node-audit"]
need(len(audit) == 1, "no container named node-audit")
c = audit[0]
sc = c.get("securityContext", {})
need(sc.get("privileged") is not True, "node-audit is privileged: it only reads")
need(sc.get("readOnlyRootFilesystem") is True, "root filesystem not read-only")
need(sc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation is not false")
caps = sc.get("capabilities", {})
need(caps.get("drop") == ["ALL"], "capabilities are not dropped")
need(set(caps.get("add", [])) <= {"DAC_READ_SEARCH", "KILL"}, "capabilities beyond DAC_READ_SEARCH, KILL")
mounts = {}
for m in c["volumeMounts"]:
    v = vols.get(m["name"])
    need(v is not None, "mount %s names no volume" % m["name"])
    if v is None:
        continue
    src = (v.get("hostPath", {}).get("path") or ("secret:" + v["secret"]["secretName"] if "secret" in v else None)
           or ("emptyDir" if "emptyDir" in v else None))
    need(src is not None, "volume %s is neither hostPath, secret nor emptyDir" % m["name"])
    mounts[m["mountPath"]] = (src, bool(m.get("readOnly")))
# What `sigward audit` reads on a node (docs/audit.md), read-only, at the host's own paths.
for p in ("/etc/sigward", "/usr/lib/sigward", "/var/lib/sigward", "/var/log/sigward", "/run", "/etc/containers",
          "/usr/share/containers/oci/hooks.d", "/etc/containerd", "/var/lib/containerd",
          "/etc/docker", "/var/lib/docker", "/var/lib/containers"):
    need(p in mounts, "%s is not mounted" % p)
    if p in mounts:
        need(mounts[p][0] == p, "%s is mounted from %s, not the host's %s" % (p, mounts[p][0], p))
        need(mounts[p][1], "%s is not mounted read-only" % p)
outs = [p for p, (s, ro) in mounts.items() if not ro and s.startswith("/")]
need(len(outs) == 1, "exactly one writable host mount (the bundles), not %s" % outs)
need(all(ro or s.startswith("/") or s == "emptyDir" for p, (s, ro) in mounts.items()), "a writable secret mount")
keys = [p for p, (s, ro) in mounts.items() if s.startswith("secret:")]
need(len(keys) == 1, "one secret mount (the bundle signing key)")
env = {e["name"]: e for e in c.get("env", [])}
need(env.get("NODE_NAME", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "spec.nodeName",
     "NODE_NAME does not come from spec.nodeName")
argv = c.get("command", []) + c.get("args", [])
need(argv and any("sigward audit" in a or a == "audit" for a in argv), "the command does not run sigward audit")
if errs:
    print("\n".join(errs))
    sys.exit(1)
open(out + "/k8s.argv", "wb").write(b"\0".join(a.encode() for a in argv))
with open(out + "/k8s.env", "w") as f:
    for e in c.get("env", []):
        if "value" in e:
            f.write("%s=%s\n" % (e["name"], e["value"]))
with open(out + "/k8s.mounts", "w") as f:
    for p, (s, ro) in sorted(mounts.items()):
        f.write("%s %s %s\n" % (p, s, "ro" if ro else "rw"))
print("manifest ok: %d mounts, writable %s, key %s" % (len(mounts), outs[0], keys[0]))
EOF
if [ $? = 0 ]; then ok "manifest: $(cat "$T/k8s.check")"; else notok "manifest: config/kubernetes/sigward-audit-daemonset.yaml" "$(cat "$T/k8s.check")"; fi
[ -f "$T/k8s.mounts" ] || bail "manifest: nothing to run"
# The node n-k8s: its host paths are directories of the test ($K + the host path),
# bind-mounted at the manifest's mountPaths in a private mount namespace, where a
# runc container starts (the hook reading /etc/sigward/sigward.conf, the standard
# places) and the manifest's command then runs. A mountPath missing on this machine
# is made inside an overlay of its nearest existing parent: nothing is created
# outside $T. /mnt/host-usr is this machine's /usr, as the manifest mounts it.
K=$T/k8s/host
while read -r mp src mode; do
	case $src in
	secret:*) mkdir -p "$K/secret" && cp "$T/audit.key" "$K/secret/audit.key" ;;
	emptyDir) ;;
	*) mkdir -p "$K$src" ;;
	esac
done <"$T/k8s.mounts"
mkdir -p "$K/etc/sigward/keys.d" "$K/var/lib/sigward/lists" "$K/etc/containers/oci/hooks.d" "$K/run/k8s-bundles" &&
	printf '[sigward]\nmode = enforce\nscope = test\nsyslog = no\n\n[resolve]\nannotations = io.kubernetes.cri.image-name\ncontainers_storage = no\ndocker = no\ncontainerd = no\n' \
		>"$K/etc/sigward/sigward.conf" && cp keys/test.pub "$K/etc/sigward/keys.d/" &&
	install_list n-k8s 2 "$K/var/lib/sigward/lists" &&
	printf '{"version":"1.0.0","hook":{"path":"%s","args":["sigward-hook","--config","/etc/sigward/sigward.conf"]},"when":{"always":true},"stages":["prestart"]}\n' \
		"$HOOK" >"$K/etc/containers/oci/hooks.d/sigward.json" &&
	printf 'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n  BinaryName = "%s"\n' "$WRAP" >"$K/etc/containerd/config.toml" &&
	printf '{"runtimes": {"sigward": {"path": "%s"}}, "default-runtime": "sigward"}\n' "$WRAP" >"$K/etc/docker/daemon.json" &&
	cp -r u-a "$K/run/k8s-bundles/k1" &&
	jq --arg hook "$HOOK" --arg ref "localhost/img@$DA" '.process.terminal = false | .process.args = ["/bin/sleep", "600"] |
		.linux.cgroupsPath = "" | .hooks.prestart = [{path: $hook, args: ["sigward-hook", "--config", "/etc/sigward/sigward.conf"]}] |
		.annotations["io.kubernetes.cri.image-name"] = $ref' u-a/config.json >"$K/run/k8s-bundles/k1/config.json" ||
	bail "setup: n-k8s host directories"
RUNC_ROOTS+=("$K/run/runc")
cat >"$T/k8s/run.sh" <<'EOF'
set -u
T=$1 K=$2 CLIDIR=$3
mapfile -d '' argv <"$T/k8s.argv"
mapfile -t env_args <"$T/k8s.env"
mapfile -t mounts <"$T/k8s.mounts"
path=$(grep '^PATH=' "$T/k8s.env" | cut -d= -f2-)
fail() { echo "run.sh: $*"; exit 3; }
# crun refuses this machine's hybrid cgroup layout: cgroup2 alone in this namespace.
umount -l /sys/fs/cgroup 2>/dev/null; mount -t cgroup2 none /sys/fs/cgroup || fail "cgroup2"
# Mount points first (an overlay of a parent must not cover a bind made before it),
# then the binds.
n=0
mkmp() {
	[ -e "$1" ] && return 0
	local a=$1
	while [ ! -e "$a" ]; do a=$(dirname "$a"); done
	[ "$a" != / ] || fail "$1: no parent to overlay"
	if ! grep -q " $a overlay " /proc/self/mounts; then
		n=$((n + 1)) && mkdir -p "$T/ovl/$n/up" "$T/ovl/$n/work" &&
			mount -t overlay overlay -o "lowerdir=$a,upperdir=$T/ovl/$n/up,workdir=$T/ovl/$n/work" "$a" || fail "overlay $a"
	fi
	mkdir -p "$1" || fail "mkdir $1"
}
for line in "${mounts[@]}"; do
	read -r mp src mode <<<"$line"
	mkmp "$mp"
done
# The built sigward, where the tmpfs on /tmp cannot hide it (in the image: /usr/bin).
mkmp /mnt/sigward-bin && mount --bind "$CLIDIR" /mnt/sigward-bin || fail "bind $CLIDIR"
for line in "${mounts[@]}"; do
	read -r mp src mode <<<"$line"
	[ "$src" = emptyDir ] && continue        # last: a tmpfs on /tmp hides $T
	case $src in secret:*) from=$K/secret ;; /usr) from=/usr ;; *) from=$K$src ;; esac
	mount --bind "$from" "$mp" || fail "bind $from $mp"
done
# The node's container, started through the hook before the audit (not read-only yet).
runc --root /run/runc run -d -b /run/k8s-bundles/k1 k1 </dev/null >"$T/run-k1.out" 2>&1 || fail "runc run k1: $(cat "$T/run-k1.out")"
# The node's self-test, as its timer runs it: a canary, a heartbeat in the log.
/mnt/sigward-bin/sigward selftest >"$T/selftest-n-k8s.out" 2>&1
grep -q '"kind":"heartbeat"' /var/log/sigward/decisions.jsonl || fail "selftest: no heartbeat: $(tail -3 "$T/selftest-n-k8s.out")"
for line in "${mounts[@]}"; do
	read -r mp src mode <<<"$line"
	if [ "$src" = emptyDir ]; then
		mount -t tmpfs tmpfs "$mp" || fail "tmpfs $mp"
	elif [ "$mode" = ro ]; then
		mount -o remount,bind,ro "$mp" || fail "remount ro $mp"
	fi
done
# The manifest's argv and env, NODE_NAME as the downward API gives it; the built
# sigward first on the manifest's PATH (in the image it is /usr/bin/sigward).
exec env -i "${env_args[@]}" NODE_NAME=n-k8s "PATH=/mnt/sigward-bin:$path" "${argv[@]}"
EOF
timeout 120 unshare -m --propagation private bash "$T/k8s/run.sh" "$T" "$K" "$(dirname "$CLI")" >"$T/k8s.out" 2>&1
K8S_RC=$?
OUTM=$(awk '$3 == "rw" && $2 ~ /^\// {print $1}' "$T/k8s.mounts")
KB=$K$OUTM/n-k8s
if [ "$K8S_RC" = 0 ] && [ -f "$KB/report.json" ] && [ -z "$(find "$K$OUTM" -mindepth 1 -maxdepth 1 -name '.*')" ]; then
	ok "the manifest's node-audit command on this machine wrote $OUTM/n-k8s (nothing else): $(tail -1 "$T/k8s.out")"
	cp -r "$KB" "$T/bundles/n-k8s"
else
	notok "the manifest's node-audit command on this machine" "rc=$K8S_RC" "$(tail -5 "$T/k8s.out")"
fi
K8R=$T/bundles/n-k8s/report.json
check "n-k8s: the DaemonSet's audit sees k1 running, listed, decided by the hook (no step 4 finding)" \
	[ "$(jq -r '[.host, .facts.mode, .facts.containers_running, .facts.containers_running_listed, (.sections[] | select(.step == 4) | .findings | length)] | @csv' "$K8R" 2>/dev/null)" = '"n-k8s","enforce",1,1,0' ]
check "n-k8s: the bundle is signed with the Secret's key (sigward audit verify --key audit.pub)" \
	"$CLI" audit verify --key "$T/audit.pub" "$T/bundles/n-k8s" >/dev/null

# ---- the fleet audit ----
printf '%s\n' "# the fleet's inventory" n-runc n-crun n-warn n-revoked n-oldlist n-tampered n-unsigned n-k8s n-missing >"$T/expected"
fleet() { # fleet OUT [ARGS...]: exit status in $RC
	local out=$1
	shift
	RC=0
	"$CLI" audit fleet --bundles "$T/bundles" --key "$T/audit.pub" --expect-nodes "$T/expected" --out "$out" "$@" \
		>"$out.out" 2>&1 || RC=$?
}
START=$(date +%s%N)
fleet "$T/fleet1" --seed fleet-test-1 --sign-key "$T/audit.key"
FLEET_MS=$((($(date +%s%N) - START) / 1000000))
check "fleet audit exits 1 (findings) in ${FLEET_MS} ms" [ "$RC" = 1 ]
F=$T/fleet1/report.json
[ -f "$F" ] || bail "fleet audit wrote no report.json: $(cat "$T/fleet1.out")"
has() { jq -e --arg re "$1" '[.sections[].findings[] | select(test($re))] | length > 0' "$F" >/dev/null; }
nrow() { jq -r --arg n "$1" '.sections[] | select(.step == 2) | .tables.nodes[] | select(.node == $n) | .status' "$F"; }
check "fleet: kind fleet, six sections" [ "$(jq -c '[.kind, [.sections[].step]]' "$F")" = '["fleet",[1,2,3,4,5,6]]' ]
check "fleet: n-tampered's bundle is NOT VALID and not used" \
	[ "$(jq -r '.sections[] | select(.step == 1) | .tables.bundles[] | select(.directory == "n-tampered") | [(.verification | startswith("NOT VALID")), .["used for the figures"]] | @csv' "$F")" = 'true,"no"' ]
check "fleet: the tampered file is named (report.json changed)" has '^bundle n-tampered: NOT VALID.*report\.json'
check "fleet: n-unsigned's bundle is NOT SIGNED and not used" has '^bundle n-unsigned: NOT SIGNED'
check "fleet: n-missing is a finding (expected, no bundle)" has '^node n-missing is expected but no bundle was received'
check "fleet: n-tampered and n-unsigned count as not evidenced" \
	bash -c '[[ "$0" == "NOT EVIDENCED"* ]] && [[ "$1" == "NOT EVIDENCED"* ]]' "$(nrow n-tampered)" "$(nrow n-unsigned)"
check "fleet: n-warn is in warn mode" has '^node n-warn is in warn mode'
check "fleet: n-oldlist is on an old list (#1, newest #2)" has '^node n-oldlist is on an old list: test#1 while the fleet.s newest of that scope is #2'
check "fleet: n-revoked's v2 is a running revoked container" has '^node n-revoked: container v2 \(runc\): revoked'
check "fleet: n-warn's w2 is a running unlisted container" has '^node n-warn: container w2 \(runc\): unlisted'
check "fleet: n-runc, n-crun and n-k8s are ok" \
	[ "$(nrow n-runc),$(nrow n-crun),$(nrow n-k8s)" = "ok,ok,ok" ]
check "fleet: no finding names n-runc, n-crun or n-k8s" \
	bash -c '! jq -r ".sections[].findings[]" "$0" | grep -E "n-(runc|crun|k8s)\b"' "$F"
# Nodes in scope: the nine expected; enforcing: verified and in enforce mode (n-runc,
# n-crun, n-revoked, n-oldlist, n-k8s); containers on the verified nodes: r1, c1, w1,
# w2, v1, v2, o1, k1 = 8 running, 6 listed (not w2, v2).
check "fleet figures: 5 of 9 nodes enforcing, 6 of 8 running containers listed" \
	[ "$(jq -r '.facts | [.nodes_in_scope, .nodes_expected, .nodes_missing, .nodes_enforcing, .share_nodes_enforcing, .containers_running, .containers_running_listed, .share_running_listed, .bundles, .bundles_verified] | @csv' "$F")" = '9,9,3,5,0.5556,8,6,0.75,8,6' ]
check "fleet: the sample is the 8 running containers, seed recorded" \
	[ "$(jq -r '[.facts.sample_seed, .facts.sample_size, .facts.sample_population, (.sections[] | select(.step == 4) | .tables.sample | length)] | @csv' "$F")" = '"fleet-test-1",8,8,8' ]
fleet "$T/fleet2" --seed fleet-test-1 --sample 5
fleet "$T/fleet3" --seed fleet-test-1 --sample 5
fleet "$T/fleet4" --seed another-seed --sample 5
sample() { jq -c '[.sections[] | select(.step == 4) | .tables.sample[] | [.node, .container]]' "$1/report.json"; }
check "fleet sample: 5 drawn, the same seed draws the same 5" \
	bash -c '[ "$(jq length <<<"$0")" = 5 ] && [ "$0" = "$1" ]' "$(sample "$T/fleet2")" "$(sample "$T/fleet3")"
check "fleet sample: another seed draws another order" [ "$(sample "$T/fleet2")" != "$(sample "$T/fleet4")" ]
check "fleet: each node's own findings are listed (n-warn's warn mode among them)" \
	jq -e '[.sections[] | select(.step == 5) | .tables["node findings"][] | select(.node == "n-warn" and (.finding | test("mode is warn")))] | length == 1' "$F" >/dev/null
check "fleet: one step-5 finding per node with findings of its own (n-warn, n-revoked, n-oldlist)" \
	[ "$(jq -r '[.sections[] | select(.step == 5) | .findings[] | capture("^node (?<n>[^:]*): [0-9]+ finding").n] | sort | join(" ")' "$F")" = "n-oldlist n-revoked n-warn" ]
check "fleet liveness: n-oldlist has no heartbeat" has '^node n-oldlist: no heartbeat in its audit period'
check "fleet liveness: n-warn's canary was not refused (warn mode lets it start)" has '^node n-warn: canary at .* through runc'
check "fleet liveness: 4 of 6 verified nodes live (n-runc, n-crun, n-revoked, n-k8s)" \
	[ "$(jq -r '[.facts.nodes_live, .facts.share_nodes_live, ([.sections[] | select(.step == 6) | .tables.liveness[] | select(.live == "yes") | .node] | sort | join(" "))] | @csv' "$F")" = '4,0.6667,"n-crun n-k8s n-revoked n-runc"' ]
check "fleet bundle: signed, verifies with sigward audit verify and sha256sum -c" \
	bash -c '"$0" audit verify --key "$1" "$2" >/dev/null && (cd "$2" && sha256sum --quiet -c SHA256SUMS)' "$CLI" "$T/audit.pub" "$T/fleet1"
check "fleet bundle: each node's SHA256SUMS, signature and verification are evidence" \
	bash -c 'cmp -s "$0/bundles/n-runc/SHA256SUMS" "$0/fleet1/evidence/bundles/n-runc/SHA256SUMS" &&
		[ -f "$0/fleet1/evidence/bundles/n-runc/report.json" ] && grep -q "report.json" "$0/fleet1/evidence/bundles/n-tampered/verify.txt"' "$T"
fleet "$T/fleet5" --seed fleet-test-1 --max-age 1s
sleep 1.1
rm -rf "$T/fleet5" && fleet "$T/fleet5" --seed fleet-test-1 --max-age 1s
check "fleet: --max-age 1s makes every verified bundle stale" \
	[ "$(jq '[.sections[].findings[] | select(test("its bundle is stale"))] | length' "$T/fleet5/report.json")" = 6 ]
# The node is the signed report's host, not the directory: n-runc's bundle copied as
# "aa-copy" is a second bundle of n-runc (the same time: the later name is used), and
# with an inventory of n-runc alone, n-crun is not expected.
mkdir -p "$T/bundles2" && cp -r "$T/bundles/n-runc" "$T/bundles/n-crun" "$T/bundles2/" &&
	cp -r "$T/bundles/n-runc" "$T/bundles2/aa-copy" && echo n-runc >"$T/expected2" || bail "setup: bundles2"
RC=0
"$CLI" audit fleet --bundles "$T/bundles2" --key "$T/audit.pub" --expect-nodes "$T/expected2" --out "$T/fleet7" >/dev/null 2>&1 || RC=$?
F7=$T/fleet7/report.json
check "fleet: a copy of a node's bundle under another name is a finding, one bundle of the node used" \
	[ "$RC,$(jq -r '[.facts.bundles, .facts.bundles_verified, ([.sections[].findings[] | select(test("^bundle aa-copy: node n-runc has a newer bundle \\(n-runc\\)"))] | length)] | @csv' "$F7")" = '1,3,2,1' ]
check "fleet: a node not in --expect-nodes is a finding" \
	jq -e '[.sections[].findings[] | select(test("^node n-crun \\(bundle n-crun\\) is not in the expected node list"))] | length == 1' "$F7" >/dev/null
# --node-keys: each node's bundle must be signed by that node's own key. n-runc's
# key is the one its bundle is signed with; n-crun's key is another (so n-crun's
# bundle could have been written by any holder of the shared key: refused); n-warn
# has no key file.
mkdir -p "$T/bundles3" "$T/node-keys" && cp -r "$T/bundles/n-runc" "$T/bundles/n-crun" "$T/bundles/n-warn" "$T/bundles3/" &&
	cp "$T/audit.pub" "$T/node-keys/n-runc.pub" && openssl genpkey -algorithm ed25519 2>/dev/null |
	openssl pkey -pubout -out "$T/node-keys/n-crun.pub" 2>/dev/null || bail "setup: node keys"
"$CLI" audit fleet --bundles "$T/bundles3" --node-keys "$T/node-keys" --out "$T/fleet8" >/dev/null 2>&1
nk_status() { jq -r --arg d "$1" '.sections[] | select(.step == 1) | .tables.bundles[] | select(.directory == $d) | .verification' "$T/fleet8/report.json"; }
check "fleet --node-keys: n-runc verified by its own key, n-crun's bundle not signed by n-crun's key, n-warn without a key" \
	bash -c '[ "$0" = verified ] && [[ "$1" == "NOT SIGNED by node n-crun'"'"'s own key"* ]] && [[ "$2" == "NOT VALID: no key of node n-warn"* ]]' \
	"$(nk_status n-runc)" "$(nk_status n-crun)" "$(nk_status n-warn)"
fleet "$T/fleet1"
check "fleet: an --out that is not empty is refused (exit 2)" [ "$RC" = 2 ]
"$CLI" audit fleet --bundles "$T/bundles" --out "$T/fleet6" >/dev/null 2>&1
check "fleet: without --key (the auditors' key) it refuses to run (exit 2)" [ $? = 2 ]

# ---- the HTML, rendered ----
mkdir -p "$ART" && rm -rf "$ART/fleet-bundle" && cp -r "$T/fleet1" "$ART/fleet-bundle"
SHOT=$ART/fleet.png
rm -f "$SHOT"
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
	--user-data-dir="$T/chromium" --window-size=1200,2400 --screenshot="$SHOT" \
	"file://$ART/fleet-bundle/report.html" >"$T/chromium.log" 2>&1
check "headless chromium renders the fleet report.html (screenshot > 10 KB, kept as $SHOT)" \
	bash -c '[ "$(stat -c %s "$0" 2>/dev/null || echo 0)" -gt 10240 ]' "$SHOT"
timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
	--user-data-dir="$T/chromium" --dump-dom "file://$ART/fleet-bundle/report.html" >"$T/dom.html" 2>/dev/null
check "report.html (DOM): the title, the figures, findings in red, each node" \
	bash -c 'grep -q "<h1>sigward fleet audit report</h1>" "$0" && grep -q "share of nodes enforcing" "$0" &&
		grep -q "5 of 9 (55.6%)" "$0" && grep -q "6 of 8 (75.0%)" "$0" && grep -q "tr class=\"finding\"" "$0" &&
		for n in n-runc n-crun n-warn n-revoked n-oldlist n-tampered n-unsigned n-k8s n-missing; do grep -q "$n" "$0" || exit 1; done' "$T/dom.html"
check "report.md: the figures table" grep -q "| share of running containers whose image is listed | 6 of 8 (75.0%) |" "$T/fleet1/report.md"
rt_done
