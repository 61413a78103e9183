#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The Debian package, installed for real: build the .deb from this tree, install it
# with apt-get, put a key and a signed list in place with the installed `sigward`,
# and check that the installed files enforce: podman through the installed hooks.d
# file, runc through the installed sigward-runc. Then `apt-get remove` leaves no
# runtime wired to a missing binary, and `purge` removes what the package created.
# Also: lintian reports no errors or warnings, and rpmbuild builds the RPM spec with
# the same files. Changes the machine (that is the point); restores it in the trap.
set -uo pipefail
SRC=${SIGWARD_SRC:?}
pass=0 fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
nok() { echo "not ok - $1${2:+: $2}"; fail=$((fail + 1)); }
skip() {
	echo "SKIP: $1"
	[ "${SIGWARD_REQUIRE_ALL:-}" = 1 ] && exit 1
	exit 77
}
[ "$(id -u)" = 0 ] || skip "installing a package needs root"
for t in dpkg-buildpackage apt-get podman runc umoci jq openssl git; do
	command -v "$t" >/dev/null || skip "$t not installed"
done
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] || skip "busybox not installed"
if dpkg -s sigward >/dev/null 2>&1; then
	skip "a sigward package is already installed on this machine; not touching it"
fi

# Lowercase only: podman names an image pulled from an OCI layout after its path.
T=/tmp/sw-pkg-$$-$RANDOM
mkdir -m 0700 "$T" || exit 1
ID=sw-pkg-$$-$RANDOM
DOCKER_JSON=/etc/docker/daemon.json
cleanup() {
	runc --root "$T/runc" delete --force "$ID-s" >/dev/null 2>&1
	runc --root "$T/runc" delete --force "$ID-u" >/dev/null 2>&1
	podman --root "$T/storage" --runroot "$T/run" rm -af >/dev/null 2>&1
	[ -f "$T/daemon.json.orig" ] && cp "$T/daemon.json.orig" "$DOCKER_JSON"
	[ -f "$T/no-daemon.json" ] && rm -f "$DOCKER_JSON"
	rm -f /etc/sigward/keys.d/pkgtest.pub /etc/sigward/sigward.conf.d/50-pkgtest.conf \
		/etc/sigward/sigward.conf.d/60-pkgtest-evil.conf
	rm -rf /run/sigward /run/sigwardd
	if dpkg -s sigward >/dev/null 2>&1; then
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 purge -y sigward >/dev/null 2>&1
	fi
	umount -R "$T/storage" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT

echo "# building the package"
if ! timeout 900 bash "$SRC/packaging/build-deb.sh" "$T/out" > "$T/build.log" 2>&1; then
	tail -20 "$T/build.log"
	nok "dpkg-buildpackage builds the package"
	echo "$pass passed, $fail failed"
	exit 1
fi
ok "dpkg-buildpackage builds the package"
DEB=$(ls "$T"/out/sigward_*.deb)
if command -v lintian >/dev/null; then
	lint=$(lintian "$DEB" 2>/dev/null | grep -E '^(E|W):')
	if [ -z "$lint" ]; then ok "lintian: no errors and no warnings (the static hook and wrapper are overridden with the reason)"; else nok "lintian: no errors and no warnings" "$(echo "$lint" | head -3)"; fi
fi

# The RPM from packaging/rpm/sigward.spec (rpmspec -P, then rpmbuild --nodeps: the
# build dependencies are dpkg packages here) holds what the .deb holds.
if timeout 900 bash "$SRC/packaging/build-rpm.sh" "$T/rpm" > "$T/rpm.log" 2>&1; then
	RPM=$(ls "$T"/rpm/sigward-*.rpm)
	rpm_files=$(rpm -qlp "$RPM" 2>/dev/null | sed 's/\.gz$//')
	deb_files=$(dpkg -c "$DEB" | awk '{print $6}' | sed 's|^\.||; s|/$||; s/\.gz$//')
	missing=
	for f in /usr/bin/sigward /usr/bin/sigward-runc /usr/sbin/sigwardd /usr/libexec/sigward/sigward-hook /usr/libexec/sigward/sigward-hook-verify \
		/usr/share/containers/oci/hooks.d/sigward.json /etc/sigward/sigward.conf /etc/logrotate.d/sigward \
		/usr/lib/sigward/sigward.conf.d/00-package-defaults.conf /usr/share/man/man1/sigward.1 \
		/usr/share/man/man5/sigward.conf.5 /usr/share/man/man8/sigward-hook.8 /usr/share/man/man8/sigward-runc.8 \
		/usr/share/man/man8/sigwardd.8; do
		grep -qxF "$f" <<<"$rpm_files" || missing="$missing $f(rpm)"
		grep -qxF "$f" <<<"$deb_files" || missing="$missing $f(deb)"
	done
	# The state directories: the RPM owns them; the .deb's postinst makes them (checked below).
	for f in /var/lib/sigward/lists /var/log/sigward; do
		grep -qxF "$f" <<<"$rpm_files" || missing="$missing $f(rpm)"
	done
	if [ -z "$missing" ]; then
		ok "rpmbuild builds packaging/rpm/sigward.spec; the RPM and the .deb hold the binaries, hooks.d, configuration, man pages and state directories"
	else
		nok "the RPM and the .deb hold the same files" "missing:$missing"
	fi
else
	nok "rpmbuild builds packaging/rpm/sigward.spec" "$(grep -E 'error|Error' "$T/rpm.log" | tail -3)"
fi

if DEBIAN_FRONTEND=noninteractive timeout 300 apt-get -o DPkg::Lock::Timeout=300 install -y "$DEB" > "$T/install.log" 2>&1; then
	ok "apt-get install ./sigward_*.deb"
else
	tail -5 "$T/install.log"; nok "apt-get install ./sigward_*.deb"
	echo "$pass passed, $fail failed"
	exit 1
fi
for f in /usr/bin/sigward /usr/bin/sigward-runc /usr/sbin/sigwardd /usr/libexec/sigward/sigward-hook /usr/libexec/sigward/sigward-hook-verify \
	 /usr/share/containers/oci/hooks.d/sigward.json /etc/sigward/sigward.conf /lib/systemd/system/sigwardd.service \
	 /usr/share/man/man8/sigwardd.8.gz /usr/share/man/man8/sigward-runc.8.gz; do
	[ -e "$f" ] || nok "installed: $f"
done
getent passwd sigward >/dev/null && [ "$(stat -c %U /var/lib/sigward/lists)" = sigward ] &&
	[ "$(stat -c %U:%a /var/lib/sigward)" = root:755 ] && ok "system user and state directories created" ||
	nok "system user and state directories created"
HOOKPATH=$(jq -r .hook.path /usr/share/containers/oci/hooks.d/sigward.json)
[ "$HOOKPATH" = /usr/libexec/sigward/sigward-hook ] && ok "hooks.d names the installed hook" || nok "hooks.d names the installed hook" "$HOOKPATH"

# Two images; the first is signed off.
cd "$T"
umoci init --layout img >/dev/null && umoci new --image img:base >/dev/null
mk() {
	umoci unpack --image img:base "u-$1" >/dev/null
	mkdir -p "u-$1/rootfs/bin" && cp "$BUSYBOX" "u-$1/rootfs/bin/busybox"
	for t in sh echo cat true; do ln -sf busybox "u-$1/rootfs/bin/$t"; done
	echo "$1" > "u-$1/rootfs/which"
	umoci repack --image "img:$1" "u-$1" >/dev/null
	umoci unpack --image "img:$1" "b-$1" >/dev/null
}
mk signed && mk unsigned
dg() { jq -r --arg t "$1" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' img/index.json; }
SIGNED=$(dg signed)
UNSIGNED=$(dg unsigned)

# Default after install: warn mode (the first install must not break a node).
mode=$(/usr/bin/sigward check --bundle "$T/b-unsigned" 2>/dev/null | sed -n 's/^mode: *//p')
[ "$mode" = warn ] && ok "installs in warn mode" || nok "installs in warn mode" "mode=$mode"

# The operator's steps, with the installed tools.
openssl genpkey -algorithm ed25519 -out "$T/org.key" 2>/dev/null
openssl pkey -in "$T/org.key" -pubout -out /etc/sigward/keys.d/pkgtest.pub
# Enforcement is turned on where the main file's comments invite an operator to
# edit: /etc/sigward/sigward.conf must win over the package's mode = warn
# (/usr/lib/sigward/sigward.conf.d/00-package-defaults.conf).
printf '\n[sigward]\nmode = enforce\nscope = pkgtest\n' >> /etc/sigward/sigward.conf
mode_line=$(grep -n '^mode = enforce' /etc/sigward/sigward.conf | cut -d: -f1)
cat > /etc/sigward/sigward.conf.d/50-pkgtest.conf <<CONF
[sigward]
syslog = no
[resolve]
storage_root = $T/storage
CONF
st=$(/usr/bin/sigward status 2>&1)
if grep -qE "^  \[sigward\] mode +=  *enforce +/etc/sigward/sigward.conf:$mode_line\$" <<<"$st"; then
	ok "mode = enforce in /etc/sigward/sigward.conf wins over the package default; status names file:line"
else
	nok "mode = enforce in /etc/sigward/sigward.conf wins over the package default" "$(grep -E 'mode' <<<"$st" | head -3)"
fi
echo "localhost/pkg/app:signed@$SIGNED" | /usr/bin/sigward allowlist build --scope pkgtest --serial 1 --expires 1d --out "$T/list"
if /usr/bin/sigward allowlist sign --key "$T/org.key" "$T/list" >/dev/null &&
	/usr/bin/sigward allowlist install "$T/list" >/dev/null; then
	ok "sigward allowlist sign + install"
else
	nok "sigward allowlist sign + install"
fi
[ -d /var/lib/sigward/lists/current ] && ok "a generation is current" || nok "a generation is current"

# podman through the installed hooks.d file (podman's default hooks directory).
P=(podman --root "$T/storage" --runroot "$T/run" --storage-driver overlay --runtime runc)
U=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network none)
ID_S=$("${P[@]}" pull -q "oci:$T/img:signed" 2>/dev/null | tail -1)
ID_U=$("${P[@]}" pull -q "oci:$T/img:unsigned" 2>/dev/null | tail -1)
out=$(timeout 120 "${P[@]}" run --rm "${U[@]}" "$ID_S" /bin/cat /which 2>&1)
[ "$out" = signed ] && ok "podman: the signed image runs" || nok "podman: the signed image runs" "$out"
out=$(timeout 120 "${P[@]}" run --rm "${U[@]}" "$ID_U" /bin/cat /which 2>&1)
if [ $? -ne 0 ] && grep -q "sigward: denied container" <<<"$out" && grep -q "not in allowlist pkgtest#1" <<<"$out"; then
	ok "podman: the unsigned image is refused with sigward's reason"
else
	nok "podman: the unsigned image is refused with sigward's reason" "$out"
fi

# runc through the installed wrapper (its default config: /etc/sigward).
wire() {
	jq --arg ref "localhost/pkg/app@$2" '.process.terminal = false | .process.args = ["/bin/cat", "/which"] |
		.annotations["io.kubernetes.cri.image-name"] = $ref' "b-$1/config.json" > "b-$1/c.json" && mv "b-$1/c.json" "b-$1/config.json"
}
wire signed "$SIGNED" && wire unsigned "$UNSIGNED"
out=$(timeout 60 /usr/bin/sigward-runc --root "$T/runc" run -b "$T/b-signed" "$ID-s" 2>&1)
[ "$out" = signed ] && ok "sigward-runc: the signed image runs" || nok "sigward-runc: the signed image runs" "$out"
out=$(timeout 60 /usr/bin/sigward-runc --root "$T/runc" run -b "$T/b-unsigned" "$ID-u" 2>&1)
if [ $? -ne 0 ] && grep -q "image $UNSIGNED is not in allowlist pkgtest#1" <<<"$out"; then
	ok "sigward-runc: the unsigned image is refused"
else
	nok "sigward-runc: the unsigned image is refused" "$out"
fi
grep -q '"decision":"deny"' /var/log/sigward/decisions.jsonl && /usr/bin/sigward log verify >/dev/null &&
	ok "decisions logged in /var/log/sigward and the chain verifies" || nok "decisions logged in /var/log/sigward and the chain verifies"

# ---- Attacks from the refresh daemon's account (user sigward) on the package's
# layout. Everything root's binaries take configuration, keys or the runtime
# from must be root's: the daemon's account may write only its lists and
# /run/sigwardd (its RuntimeDirectory).
AS_D=(runuser -u sigward --)
# The unit gives the daemon /run/sigwardd, a name no root binary reads drop-ins from.
if grep -qx 'RuntimeDirectory=sigwardd' /lib/systemd/system/sigwardd.service &&
	! grep -q '^RuntimeDirectory=sigward$' /lib/systemd/system/sigwardd.service; then
	ok "sigwardd.service: RuntimeDirectory=sigwardd (not /run/sigward)"
else
	nok "sigwardd.service: RuntimeDirectory=sigwardd" "$(grep RuntimeDirectory /lib/systemd/system/sigwardd.service)"
fi
if "${AS_D[@]}" mkdir -p /run/sigward/sigward.conf.d 2>/dev/null || [ -e /run/sigward ]; then
	nok "the daemon's account cannot create /run/sigward (a drop-in directory root reads)"
else
	ok "the daemon's account cannot create /run/sigward (a drop-in directory root reads)"
fi
# The layout an older unit made (RuntimeDirectory=sigward): /run/sigward in the
# daemon's hands. Whatever it writes there is refused, and the node stays closed.
install -d -o sigward -g sigward -m 0755 /run/sigward
"${AS_D[@]}" mkdir -p /run/sigward/sigward.conf.d /run/sigward/keys
MARK=$T/evil-ran
printf '#!/bin/sh\ntouch %s\nexec /usr/sbin/runc "$@"\n' "$MARK" > "$T/evil.sh"
# (Through stdin: the daemon's account cannot read the test's 0700 directory.)
"${AS_D[@]}" tee /run/sigward/evil < "$T/evil.sh" >/dev/null
"${AS_D[@]}" chmod 0755 /run/sigward/evil
# The payload works: run directly, it leaves its mark (so its absence below means
# sigward did not run it).
rm -f "$MARK"
/run/sigward/evil --version >/dev/null 2>&1
[ -e "$MARK" ] && [ "$(stat -c %U /run/sigward/evil)" = sigward ] && ok "the daemon's payload /run/sigward/evil is in place and works" ||
	nok "the daemon's payload /run/sigward/evil is in place and works"
openssl genpkey -algorithm ed25519 -out "$T/attacker.key" 2>/dev/null
openssl pkey -in "$T/attacker.key" -pubout -out "$T/attacker.pub"
"${AS_D[@]}" tee /run/sigward/keys/attacker.pub < "$T/attacker.pub" >/dev/null
for evil in "mode = warn" "keys_dir = /run/sigward/keys" "ATTACK_RUNTIME"; do
	if [ "$evil" = ATTACK_RUNTIME ]; then
		printf '[runtime]\npath = /run/sigward/evil\n' | "${AS_D[@]}" tee /run/sigward/sigward.conf.d/99-evil.conf >/dev/null
	else
		printf '[sigward]\n%s\n' "$evil" | "${AS_D[@]}" tee /run/sigward/sigward.conf.d/99-evil.conf >/dev/null
	fi
	out=$(timeout 60 /usr/bin/sigward-runc --root "$T/runc" run -b "$T/b-unsigned" "$ID-u" 2>&1)
	if [ $? -ne 0 ] && grep -q "sigward: denied container $ID-u: /run/sigward: directory owned by uid $(id -u sigward), not root: refused" <<<"$out"; then
		ok "daemon's drop-in '$evil' in /run/sigward: sigward-runc refuses the unsigned image, naming the directory and owner"
	else
		nok "daemon's drop-in '$evil' in /run/sigward: sigward-runc refuses the unsigned image" "$out"
	fi
	out=$(timeout 120 "${P[@]}" run --rm "${U[@]}" "$ID_U" /bin/cat /which 2>&1)
	if [ $? -ne 0 ] && grep -q "/run/sigward: directory owned by uid" <<<"$out"; then
		ok "daemon's drop-in '$evil': podman's hook refuses the unsigned image"
	else
		nok "daemon's drop-in '$evil': podman's hook refuses the unsigned image" "$out"
	fi
	rm -f "$MARK"
	timeout 30 /usr/bin/sigward-runc --root "$T/runc" state "$ID-nonexistent" >/dev/null 2>&1
	[ ! -e "$MARK" ] && ok "daemon's drop-in '$evil': sigward-runc state (pass-through) does not run the daemon's file as root" ||
		nok "daemon's drop-in '$evil': sigward-runc state ran /run/sigward/evil as root"
done
rm -rf /run/sigward
# A runtime path root configured by mistake into the daemon's directory is not
# executed either: the file and every directory above it must be root's.
"${AS_D[@]}" tee /var/lib/sigward/lists/evil < "$T/evil.sh" >/dev/null
"${AS_D[@]}" chmod 0755 /var/lib/sigward/lists/evil
[ -x /var/lib/sigward/lists/evil ] || nok "the daemon's payload /var/lib/sigward/lists/evil is in place"
printf '[runtime]\npath = /var/lib/sigward/lists/evil\n' > /etc/sigward/sigward.conf.d/60-pkgtest-evil.conf
rm -f "$MARK"
out=$(timeout 30 /usr/bin/sigward-runc --root "$T/runc" state "$ID-nonexistent" 2>&1)
if [ ! -e "$MARK" ] && grep -q "/var/lib/sigward/lists: directory owned by uid $(id -u sigward), not root: refused" <<<"$out"; then
	ok "a [runtime] path in the daemon's directory is not executed (named with its owner)"
else
	nok "a [runtime] path in the daemon's directory is not executed" "$out"
fi
rm -f /etc/sigward/sigward.conf.d/60-pkgtest-evil.conf /var/lib/sigward/lists/evil
# The daemon's status file is shown by sigward status: escape sequences in it
# reach the terminal escaped.
install -d -o sigward -g sigward -m 0755 /run/sigwardd
printf '{"last_error":"\\u001b[2J\\u001b]0;owned\\u0007 all clear","consecutive_failures":0}' |
	"${AS_D[@]}" tee /run/sigwardd/refresh.json >/dev/null
st=$(/usr/bin/sigward status 2>&1)
if ! grep -q $'\x1b' <<<"$st" && ! grep -q $'\x07' <<<"$st" && grep -qF '\x1b[2J\x1b]0;owned\x07 all clear' <<<"$st"; then
	ok "sigward status prints the daemon's status file with its escape sequences escaped"
else
	nok "sigward status prints the daemon's status file escaped" "$(grep last_error <<<"$st" | od -c | head -3)"
fi
rm -rf /run/sigwardd
# After the attacks the node enforces as before.
out=$(timeout 60 /usr/bin/sigward-runc --root "$T/runc" run -b "$T/b-signed" "$ID-s2" 2>&1)
[ "$out" = signed ] && ok "after the attacks: the signed image runs" || nok "after the attacks: the signed image runs" "$out"
runc --root "$T/runc" delete --force "$ID-s2" >/dev/null 2>&1

# Removal must not leave Docker pointing at a missing sigward-runc.
if [ -f "$DOCKER_JSON" ]; then cp "$DOCKER_JSON" "$T/daemon.json.orig"; else mkdir -p /etc/docker && touch "$T/no-daemon.json"; fi
echo '{"runtimes":{"sigward":{"path":"/usr/bin/sigward-runc"}}}' > "$DOCKER_JSON"
if DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 remove -y sigward > "$T/remove.log" 2>&1; then
	nok "remove is refused while Docker is wired to sigward-runc"
else
	grep -q "still configured in" "$T/remove.log" && ok "remove is refused while Docker is wired to sigward-runc" ||
		nok "remove is refused while Docker is wired to sigward-runc" "$(tail -3 "$T/remove.log")"
fi
if [ -f "$T/daemon.json.orig" ]; then cp "$T/daemon.json.orig" "$DOCKER_JSON"; else rm -f "$DOCKER_JSON"; rm -f "$T/no-daemon.json"; fi
rm -f "$T/daemon.json.orig"

if DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 remove -y sigward > "$T/remove.log" 2>&1; then ok "apt-get remove"; else nok "apt-get remove" "$(tail -3 "$T/remove.log")"; fi
[ ! -e /usr/share/containers/oci/hooks.d/sigward.json ] && [ ! -e /usr/bin/sigward-runc ] &&
	ok "after remove: no hooks.d file, no wrapper" || nok "after remove: no hooks.d file, no wrapper"
out=$(timeout 120 "${P[@]}" run --rm "${U[@]}" "$ID_S" /bin/cat /which 2>&1)
[ "$out" = signed ] && ok "after remove: podman runs without a dangling hook" || nok "after remove: podman runs without a dangling hook" "$out"

rm -f /etc/sigward/keys.d/pkgtest.pub /etc/sigward/sigward.conf.d/50-pkgtest.conf
if DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 purge -y sigward > "$T/purge.log" 2>&1; then ok "apt-get purge"; else nok "apt-get purge"; fi
left=""
for p in /var/lib/sigward /var/log/sigward /etc/sigward; do [ -e "$p" ] && left="$left $p"; done
getent passwd sigward >/dev/null && left="$left user:sigward"
[ -z "$left" ] && ok "purge removes what the package created" || nok "purge removes what the package created" "left:$left"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
