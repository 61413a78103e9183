# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034 # DK_* are read by the scripts that source this
#
# A dockerd and a docker-registry of the test's own, for docker-store.sh and
# docker.sh (sourced, bash). Needs $T, the test's private directory. Whatever is
# started here is stopped by dk_stop_all (call it from the EXIT trap); each
# function returns non-zero with the reason in $DK_ERR.
#
#   dk_client                 $DK_CLIENT: the docker client of the docker.io package
#                             (/usr/bin/docker) when present, else the one on PATH
#   dk ARG...                 that client, bounded (120 s), on our socket
#   dk_registry_start         docker-registry on a free loopback port: $DK_REG
#                             (127.0.0.1:PORT); $T/registry holds its storage
#   dk_dockerd_start JSON [DOCKERD-ARG...]
#                             dockerd with the daemon.json JSON on its own data root
#                             $DK_ROOT ($T/root), exec root $T/exec, pidfile and
#                             socket $T/sock (DOCKER_HOST is exported), without
#                             iptables and bridge, and (unless --containerd is
#                             given) with a containerd of its own, never the one on
#                             /run/containerd; returns when it answers. The
#                             caller's environment is dockerd's (and, through its
#                             containerd and shims, the runtime's):
#                             `SIGWARD_CONFIG=F dk_dockerd_start ...`
#   dk_dockerd_stop           stops dockerd (its containers stay on disk)
#   dk_stop_all               removes every container, stops dockerd, its
#                             containerd and shims, and the registry
#   dk_pids_under DIR         the processes with an argument under DIR
# ../shared/ENVIRONMENT.md ("Docker") has the facts this relies on.

DK_ROOT=$T/root
DK_REG=
DK_REG_PID=
DK_DOCKERD_PID=
DK_ERR=
export DOCKER_HOST=unix://$T/sock

dk_client() {
	if [ -x /usr/bin/docker ]; then DK_CLIENT=/usr/bin/docker; else DK_CLIENT=$(command -v docker); fi
}
dk_client

dk() {
	timeout -k 10 120 "$DK_CLIENT" "$@"
}

dk_registry_start() {
	cat >"$T/registry.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $T/registry
http:
  addr: 127.0.0.1:0
EOF
	docker-registry serve "$T/registry.yml" >"$T/registry.log" 2>&1 &
	DK_REG_PID=$!
	local port='' _
	# Port 0: the kernel picks a free port; ss tells which (no race with others).
	for _ in $(seq 100); do
		port=$(ss -Hltnp 2>/dev/null | grep "pid=$DK_REG_PID," | awk '{print $4}' |
			sed -n 's/^127\.0\.0\.1:\([0-9]*\)$/\1/p' | head -1)
		[ -n "$port" ] && break
		kill -0 "$DK_REG_PID" 2>/dev/null || { DK_ERR="docker-registry exited: $(tail -3 "$T/registry.log")"; return 1; }
		sleep 0.1
	done
	[ -n "$port" ] || { DK_ERR="docker-registry is not listening after 10 s"; return 1; }
	DK_REG=127.0.0.1:$port
}

dk_dockerd_start() {
	local json=$1 own=1 a _
	shift
	[ -z "$DK_DOCKERD_PID" ] || { DK_ERR="dockerd is already running"; return 1; }
	for a in "$@"; do
		case $a in --containerd | --containerd=*) own= ;; esac
	done
	echo "--- dockerd --config-file $json $*" >>"$T/dockerd.log"
	# Without --containerd, dockerd 20.10 uses /run/containerd/containerd.sock when
	# that file merely exists (a system containerd, another test's, or a stale
	# socket) and starts its own containerd only otherwise. For a containerd of
	# its own, dockerd runs in a private mount namespace with an empty
	# /run/containerd; its containers' mounts stay in there and go with it.
	# (With --containerd it must share that containerd's mounts: no namespace.)
	local args=(dockerd --config-file "$json" --data-root "$DK_ROOT" --exec-root "$T/exec" --pidfile "$T/dockerd.pid"
		--host "$DOCKER_HOST" --iptables=false --bridge=none "$@")
	if [ -n "$own" ]; then
		unshare -m --propagation private sh -c \
			'if [ -d /run/containerd ]; then mount -t tmpfs -o mode=0711 sw-docker /run/containerd || exit 1; fi; exec "$@"' \
			sh "${args[@]}" >>"$T/dockerd.log" 2>&1 &
	else
		"${args[@]}" >>"$T/dockerd.log" 2>&1 &
	fi
	DK_DOCKERD_PID=$!
	for _ in $(seq 450); do
		if timeout 10 "$DK_CLIENT" version >/dev/null 2>&1; then
			# Its own containerd is the one under our exec root.
			[ -z "$own" ] || [ -n "$(dk_pids_under "$T/exec/containerd")" ] && return 0
			DK_ERR="dockerd answers but runs no containerd under $T/exec/containerd"
			return 1
		fi
		if ! kill -0 "$DK_DOCKERD_PID" 2>/dev/null; then
			DK_DOCKERD_PID=
			DK_ERR="dockerd exited: $(tail -5 "$T/dockerd.log")"
			return 1
		fi
		sleep 0.2
	done
	DK_ERR="dockerd does not answer on $T/sock after 90 s: $(tail -5 "$T/dockerd.log")"
	return 1
}

dk_dockerd_stop() {
	local _
	[ -n "$DK_DOCKERD_PID" ] || return 0
	kill "$DK_DOCKERD_PID" 2>/dev/null
	# dockerd stops its running containers first (their stop timeout, 10 s by default).
	for _ in $(seq 300); do
		kill -0 "$DK_DOCKERD_PID" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$DK_DOCKERD_PID" 2>/dev/null; then
		kill -9 "$DK_DOCKERD_PID" 2>/dev/null
		DK_ERR="dockerd did not stop within 60 s (killed)"
		DK_DOCKERD_PID=
		return 1
	fi
	wait "$DK_DOCKERD_PID" 2>/dev/null
	DK_DOCKERD_PID=
}

# dk_pids_under DIR: the processes with an argument under DIR (ours: DIR is in
# $T), e.g. dockerd's containerd (--config $T/exec/containerd/...) and its shims
# (-address $T/exec/...).
dk_pids_under() {
	local f p
	for f in /proc/[0-9]*/cmdline; do
		p=${f#/proc/}
		p=${p%/cmdline}
		[ "$p" = $$ ] || [ "$p" = "$BASHPID" ] && continue
		{ tr '\0' '\n' <"$f"; } 2>/dev/null | grep -qF "$1/" && echo "$p"
	done
}

dk_stop_all() {
	local ids p
	if [ -n "$DK_DOCKERD_PID" ]; then
		ids=$(timeout 60 "$DK_CLIENT" ps -aq 2>/dev/null)
		# shellcheck disable=SC2086 # one id per word
		[ -n "$ids" ] && timeout 60 "$DK_CLIENT" rm -f $ids >/dev/null 2>&1
		dk_dockerd_stop
	fi
	for p in $(dk_pids_under "$T/exec"); do kill -9 "$p" 2>/dev/null; done
	if [ -n "$DK_REG_PID" ]; then
		kill "$DK_REG_PID" 2>/dev/null
		wait "$DK_REG_PID" 2>/dev/null
		DK_REG_PID=
	fi
	return 0
}
