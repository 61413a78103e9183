#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# docker.sh: sigward-runc as the Docker engine's runtime (issue 9).
#
# A dockerd of the test's own (data root, exec root, socket; --iptables=false
# --bridge=none), configured from the shipped daemon.json examples with the
# runtime pointed at the built sigward-runc, and SIGWARD_CONFIG naming a test
# configuration (docker = yes, docker_root = that data root). Images are made with
# umoci (no network) and brought in with skopeo + `docker load`; one is pushed to
# a loopback docker-registry and pulled by digest, another pulled by tag. The
# allowlist holds the image id of `signed` (loaded) and the manifest digests of
# `pulled` (pulled by digest) and `bytag` (pulled by tag).
#
#  0. the shipped examples are what they claim (and `sigward status` says so);
#  1. opt-in form (docker-daemon-optin.json, `--runtime sigward`): a listed image
#     runs; an unlisted one is refused and `docker run` prints sigward's line with
#     the digest; the unlisted image under the listed image's name is refused; an
#     image listed by its manifest digest only (pulled by digest, or by tag) and
#     one listed by its image id only run; with a terminal (-t) too; without --runtime nothing is decided; a broken configuration (an
#     internal error) reaches the user as well; ps, exec, top, pause, update,
#     stop, start, kill, rm pass through (start decides again);
#  2. config.v2.json edited between `docker create` and `docker start` to name the
#     listed image (content not matching) is refused, with dockerd running;
#  3. default-runtime form (docker-daemon.json), by SIGHUP: listed runs and
#     unlisted is refused without --runtime; a container created before keeps
#     runc and starts unchecked; the classic builder's second RUN step is refused,
#     BuildKit's RUN steps are not decided at all (facts the docs state);
#  4. a restart on the default-runtime file: the same; config.v2.json edited while
#     dockerd was stopped is refused; a --restart always container created before
#     comes back under runc, unchecked;
#  5. dockerd on a separate containerd (--containerd, as Debian's docker.service
#     runs it), SIGWARD_CONFIG in containerd's environment only: the same
#     decisions;
#  6. the decision log holds one record per decision and verifies.
# Exit 0 ok, 77 skipped (a tool missing, or not root; a failure when
# SIGWARD_REQUIRE_ALL=1), 1 failed.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/runtimes-lib.sh
. "$HERE/runtimes-lib.sh"
rt_init docker dockerd docker containerd ctr umoci skopeo docker-registry runc jq openssl ss timeout
# shellcheck source=tests/integration/docker-lib.sh
. "$HERE/docker-lib.sh" || exit 1
# Only the environment a step gives dockerd or containerd counts.
unset SIGWARD_CONFIG
# The separate containerd of part 5 (started there), stopped after dockerd
# (cleanups run last registered first), then its shims.
CTRD_PID=
CT=$T/ctrd
rt_on_exit '[ -z "$CTRD_PID" ] || { kill "$CTRD_PID"; for _ in $(seq 50); do kill -0 "$CTRD_PID" || break; sleep 0.1; done; kill -KILL "$CTRD_PID"; }; for p in $(dk_pids_under "$CT"); do kill -KILL "$p"; done'
rt_on_exit dk_stop_all
RUNC=$(command -v runc)
echo "# $("$DK_CLIENT" --version), $(dockerd --version)"

# ============================================================ setup
rt_images
# Two more images, pushed to the registry: one pulled by digest, one by tag.
for t in pulled bytag; do
	(
		cd "$T" && umoci unpack --image img:signed "w-$t" >/dev/null 2>&1 && echo "$t" >"w-$t/rootfs/which" &&
			umoci repack --image "img:$t" "w-$t" >/dev/null
	) || bail "setup: the $t image"
done
manifest() { jq -r --arg t "$1" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' "$T/img/index.json"; }
PULLED=$(manifest pulled) BYTAG=$(manifest bytag)
PULLED_ID=$(jq -r .config.digest "$T/img/blobs/sha256/${PULLED#sha256:}")
BYTAG_ID=$(jq -r .config.digest "$T/img/blobs/sha256/${BYTAG#sha256:}")
[ "${#PULLED}" = 71 ] && [ "${#PULLED_ID}" = 71 ] && [ "${#BYTAG}" = 71 ] && [ "${#BYTAG_ID}" = 71 ] ||
	bail "setup: digests of the pulled images ($PULLED $PULLED_ID $BYTAG $BYTAG_ID)"
rt_key
# Each image is listed under one digest only: `signed` by its image id (a loaded
# image has no manifest digest in Docker), `pulled` and `bytag` by their
# manifest digests.
rt_list 1 "image-id $GOOD_ID" "$PULLED" "$BYTAG"
CONF=$T/sigward.conf
rt_conf "$CONF" docker=yes docker_root="$DK_ROOT" runtime="$RUNC"
NOT_LISTED="image $BAD_ID is not in allowlist test#1"

# The shipped daemon.json examples, pointed at the built wrapper.
for f in docker-daemon-optin docker-daemon; do
	sed "s|@RUNC_WRAPPER@|$WRAP|" "$SRC/config/$f.json.in" >"$T/$f.json" && jq -e . "$T/$f.json" >/dev/null ||
		bail "setup: config/$f.json.in"
done
jq -e --arg w "$WRAP" '.runtimes.sigward.path == $w and (has("default-runtime") | not)' "$T/docker-daemon-optin.json" >/dev/null &&
	jq -e --arg w "$WRAP" '.runtimes.sigward.path == $w and .["default-runtime"] == "sigward"' "$T/docker-daemon.json" >/dev/null &&
	ok "config: docker-daemon-optin.json registers the runtime, docker-daemon.json also makes it the default" ||
	notok "config: docker-daemon-optin.json registers the runtime, docker-daemon.json also makes it the default" \
		"$(cat "$T/docker-daemon-optin.json" "$T/docker-daemon.json")"
# `sigward status` tells the two forms apart.
for f in docker-daemon docker-daemon-optin; do
	timeout 30 "$CLI" status --config "$CONF" --json --docker-config "$T/$f.json" >"$T/status-$f.json" 2>&1
done
if jq -e '.wiring.docker.ok == true and (.wiring.docker.detail | endswith("runtime '"'"'sigward'"'"' is the default-runtime"))' \
	"$T/status-docker-daemon.json" >/dev/null &&
	jq -e '.wiring.docker.ok == false and (.wiring.docker.detail | contains("only --runtime sigward uses it"))' \
		"$T/status-docker-daemon-optin.json" >/dev/null; then
	ok "config: sigward status calls docker-daemon.json enforcing and docker-daemon-optin.json not"
else
	notok "config: sigward status calls docker-daemon.json enforcing and docker-daemon-optin.json not" \
		"$(cat "$T/status-docker-daemon.json" "$T/status-docker-daemon-optin.json")"
fi
# dockerd reads $T/daemon.json; SIGHUP and restarts pick up a new copy.
cp "$T/docker-daemon-optin.json" "$T/daemon.json"

dk_registry_start || bail "setup: docker-registry" "$DK_ERR"
for t in pulled bytag; do
	timeout 120 skopeo copy -q --dest-tls-verify=false "oci:$T/img:$t" "docker://$DK_REG/sw/$t:v1" >"$T/push.log" 2>&1 ||
		bail "setup: skopeo copy of $t to the registry" "$(cat "$T/push.log")"
done
SIGWARD_CONFIG=$CONF dk_dockerd_start "$T/daemon.json" || bail "setup: dockerd" "$DK_ERR"
for t in signed unsigned; do
	timeout 120 skopeo copy -q "oci:$T/img:$t" "docker-archive:$T/$t.tar:sw/load:$t" >"$T/load.log" 2>&1 &&
		dk load -q -i "$T/$t.tar" >>"$T/load.log" 2>&1 || bail "setup: skopeo + docker load of $t" "$(cat "$T/load.log")"
done
dk tag sw/load:signed sw/app:signed && dk tag sw/load:unsigned sw/other:unsigned && dk rmi sw/load:signed sw/load:unsigned >/dev/null ||
	bail "setup: docker tag"
dk pull -q "$DK_REG/sw/pulled@$PULLED" >"$T/pull.log" 2>&1 || bail "setup: docker pull by digest" "$(cat "$T/pull.log")"
dk pull -q "$DK_REG/sw/bytag:v1" >"$T/pull.log" 2>&1 || bail "setup: docker pull by tag" "$(cat "$T/pull.log")"
[ "$(dk inspect -f '{{.Id}}' sw/app:signed)" = "$GOOD_ID" ] && [ "$(dk inspect -f '{{.Id}}' sw/other:unsigned)" = "$BAD_ID" ] &&
	[ "$(dk inspect -f '{{.Id}}' "$DK_REG/sw/pulled@$PULLED")" = "$PULLED_ID" ] &&
	[ "$(dk inspect -f '{{.Id}}' "$DK_REG/sw/bytag:v1")" = "$BYTAG_ID" ] ||
	bail "setup: Docker's image ids are not the OCI config digests"

# ============================================================ helpers
NAME_SEQ=0
newname() {
	NAME_SEQ=$((NAME_SEQ + 1))
	NAME=sw-docker-$$-$NAME_SEQ
}
# drun [RUN-OPTION...] IMAGE [CMD...]: `docker run` (kept, not --rm) of a new
# container $NAME, stdin closed: $RC, $OUT (stdout and stderr), $CID.
drun() {
	newname
	OUT=$(dk run --name "$NAME" --network none "$@" 2>&1 </dev/null)
	RC=$?
	CID=$(dk inspect -f '{{.Id}}' "$NAME" 2>/dev/null)
}
# dcreate [CREATE-OPTION...] IMAGE [CMD...]: `docker create` of a new container $NAME: $CID.
dcreate() {
	newname
	CID=$(dk create --name "$NAME" --network none "$@" 2>"$T/create.err") ||
		bail "setup: docker create $*" "$(cat "$T/create.err")"
}
# dstart NAME: `docker start -a` (attached: the container's output): $RC, $OUT.
dstart() {
	OUT=$(dk start -a "$1" 2>&1 </dev/null)
	RC=$?
}
inspect() { # FORMAT NAME
	dk inspect -f "$1" "$2" 2>&1
}
deny_line() { # CID REASON
	printf 'sigward: denied container %s: %s' "$1" "$2"
}
# The expected number of decision records of each container, checked at the end.
declare -A WANT_RECORDS=()
expect_ran() { # CASE WANT: ran to completion through sigward, printed WANT
	WANT_RECORDS[$CID]=$((${WANT_RECORDS[$CID]:-0} + 1))
	if [ "$RC" = 0 ] && [ "$OUT" = "$2" ]; then ok "$1"; else notok "$1" "rc=$RC" "$OUT"; fi
}
# expect_refused CASE REASON: a non-zero exit, Docker's error carries sigward's
# line ("OCI runtime create failed: <line>: unknown"), the container never ran.
expect_refused() {
	local line started
	WANT_RECORDS[$CID]=$((${WANT_RECORDS[$CID]:-0} + 1))
	line=$(deny_line "$CID" "$2")
	started=$(inspect '{{.State.StartedAt}}' "$NAME")
	if [ "$RC" != 0 ] && [ -n "$CID" ] && grep -qF "OCI runtime create failed: $line: unknown" <<<"$OUT" &&
		! grep -qx -e signed -e unsigned -e pulled -e bytag <<<"$OUT" && [[ $started == 0001-01-01T* ]]; then
		ok "$1"
		echo "#   $(grep -F "$line" <<<"$OUT" | head -1)"
	else
		notok "$1" "rc=$RC started=$started" "want: $line" "got: $OUT"
	fi
}
# expect_record CASE CID DECISION [JQ-CONDITION]: the last record of CID.
expect_record() {
	local rec
	rec=$(rt_record "$2")
	if [ -n "$rec" ] && jq -e --arg d "$3" --arg id "$2" \
		".decision == \$d and .runtime == \"sigward-runc\" and (.bundle | endswith(\"/io.containerd.runtime.v2.task/moby/\" + \$id)) and (${4:-true})" \
		<<<"$rec" >/dev/null; then
		ok "$1"
	else
		notok "$1" "${rec:-no record for $2}"
	fi
}
# Docker's digests in a record, sorted: "kind digest" per line.
DOCKER_DIGESTS='[.digests[] | select(.source == "docker") | "\(.kind) \(.digest)"] | sort'
# tamper CID: config.v2.json names the listed image instead of the container's own.
tamper() {
	local f=$DK_ROOT/containers/$1/config.v2.json
	jq -c --arg i "$GOOD_ID" '.Image = $i' "$f" >"$T/tampered.json" && cat "$T/tampered.json" >"$f" ||
		bail "setup: editing $f"
}
# expect_tampered CASE: refused because the image config.v2.json names (the
# listed one) is not the one the container's layers were made from.
expect_tampered() {
	local rec
	rec=$(rt_record "$CID")
	if jq -e --arg i "$GOOD_ID" '.decision == "deny" and (.reason | contains("the container'"'"'s layer chain is")) and
		(.reason | contains("image " + $i + "'"'"'s is")) and
		(.reason | endswith("(config.v2.json names an image the container was not made from)"))' <<<"$rec" >/dev/null; then
		expect_refused "$1" "$(jq -r .reason <<<"$rec")"
	else
		WANT_RECORDS[$CID]=$((${WANT_RECORDS[$CID]:-0} + 1))
		notok "$1" "record: ${rec:-none}" "$OUT"
	fi
}

# ============================================================ 1. --runtime sigward
drun --runtime sigward sw/app:signed /bin/cat /which
expect_ran "opt-in: a listed image runs through --runtime sigward" signed
expect_record "opt-in: its record: allowed by its image id, the only digest Docker has for a loaded image" "$CID" allow \
	".matched == \"$GOOD_ID\" and ($DOCKER_DIGESTS) == [\"image-id $GOOD_ID\"] and .reference == \"sw/app:signed\""

drun --runtime sigward sw/other:unsigned /bin/cat /which
expect_refused "opt-in: an unlisted image is refused, docker run prints sigward's line and the digest" "$NOT_LISTED"
expect_record "opt-in: the refusal is recorded" "$CID" deny ".reason == \"$NOT_LISTED\""
REFUSED=$NAME
out=$(inspect '{{.State.Status}} {{.State.Error}}' "$REFUSED")
[[ $out == "created "*"$(deny_line "$CID" "$NOT_LISTED")"* ]] &&
	ok "opt-in: the refused container stays created, with sigward's line as its State.Error" ||
	notok "opt-in: the refused container stays created, with sigward's line as its State.Error" "$out"
dstart "$REFUSED"
expect_refused "opt-in: docker start of the refused container is refused again" "$NOT_LISTED"

# Detached, a container that got past the runtime would be running.
drun -d --runtime sigward sw/other:unsigned /bin/sleep 600
expect_refused "opt-in: docker run -d of an unlisted image is refused" "$NOT_LISTED"
out=$(inspect '{{.State.Running}}' "$NAME")
[ "$out" = false ] && ok "opt-in: the refused detached container is not running" ||
	notok "opt-in: the refused detached container is not running" "$out"

dk tag sw/other:unsigned sw/app:signed || bail "setup: docker tag of the unlisted image as sw/app:signed"
drun --runtime sigward sw/app:signed /bin/cat /which
expect_refused "opt-in: the unlisted image tagged sw/app:signed (the listed image's name) is refused" "$NOT_LISTED"
expect_record "opt-in: that refusal names the tag as reference, the unlisted image id as digest" "$CID" deny \
	".reference == \"sw/app:signed\" and ($DOCKER_DIGESTS) == [\"image-id $BAD_ID\"]"
dk tag "$GOOD_ID" sw/app:signed || bail "setup: docker tag of the listed image back"

drun --runtime sigward "$DK_REG/sw/pulled@$PULLED" /bin/cat /which
expect_ran "opt-in: an image listed by its manifest digest only, pulled by digest, runs" pulled
expect_record "opt-in: its record: matched the manifest digest from repositories.json (its image id is not listed)" "$CID" allow \
	".matched == \"$PULLED\" and ($DOCKER_DIGESTS) == ([\"image-id $PULLED_ID\", \"unknown $PULLED\"] | sort)"

drun --runtime sigward "$DK_REG/sw/bytag:v1" /bin/cat /which
expect_ran "opt-in: an image listed by its manifest digest only, pulled by tag, runs" bytag
expect_record "opt-in: its record: Docker recorded the manifest digest of the tag pull, and it matched" "$CID" allow \
	".matched == \"$BYTAG\" and ($DOCKER_DIGESTS) == ([\"image-id $BYTAG_ID\", \"unknown $BYTAG\"] | sort)"

drun --runtime sigward "$GOOD_ID" /bin/cat /which
expect_ran "opt-in: an image listed by its image id only, run by that id, runs" signed
expect_record "opt-in: its record: matched the image id" "$CID" allow ".matched == \"$GOOD_ID\""

# With a terminal: containerd passes --console-socket to create.
drun -t --runtime sigward sw/app:signed /bin/cat /which
OUT=${OUT//$'\r'/}
expect_ran "opt-in: with a terminal (docker run -t), a listed image runs" signed
drun -t --runtime sigward sw/other:unsigned /bin/cat /which
expect_refused "opt-in: with a terminal (docker run -t), an unlisted image is refused" "$NOT_LISTED"

# Opt-in means just that: without --runtime, runc runs anything.
drun sw/other:unsigned /bin/cat /which
rt=$(inspect '{{.HostConfig.Runtime}}' "$NAME")
[ "$RC" = 0 ] && [ "$OUT" = unsigned ] && [ "$rt" = runc ] && [ "$(rt_records "$CID")" = 0 ] &&
	ok "opt-in: without --runtime sigward the container runs on runc, undecided (use default-runtime to enforce)" ||
	notok "opt-in: without --runtime sigward the container runs on runc, undecided" "rc=$RC runtime=$rt" "$OUT"

# An internal error (here: the configuration) also reaches docker run.
cp "$CONF" "$T/sigward.conf.good"
printf '\n[sigward]\nno_such_key = 1\n' >>"$CONF"
drun --runtime sigward sw/app:signed /bin/cat /which
cp "$T/sigward.conf.good" "$CONF"
WANT_RECORDS[$CID]=0
if [ "$RC" != 0 ] && grep -qF "OCI runtime create failed: $(deny_line "$CID" "$CONF:")" <<<"$OUT" &&
	grep -qF no_such_key <<<"$OUT" && ! grep -qx signed <<<"$OUT"; then
	ok "opt-in: an unreadable configuration refuses, and docker run prints why"
	echo "#   $(grep -F "sigward: denied" <<<"$OUT" | head -1)"
else
	notok "opt-in: an unreadable configuration refuses, and docker run prints why" "rc=$RC" "$OUT"
fi

# ---- pass-through on a running allowed container
drun -d --runtime sigward sw/app:signed /bin/sleep 600
LONG=$NAME LONG_ID=$CID
WANT_RECORDS[$CID]=1
[ "$RC" = 0 ] && [ "$(inspect '{{.State.Running}}' "$LONG")" = true ] || notok "pass-through: docker run -d of the listed image" "rc=$RC" "$OUT"
out=$(dk ps --no-trunc --filter "name=^$LONG\$" --format '{{.ID}} {{.Status}}' 2>&1)
[[ $out == "$LONG_ID Up "* ]] && ok "pass-through: docker ps lists the running container" || notok "pass-through: docker ps lists the running container" "$out"
out=$(dk exec "$LONG" /bin/cat /which 2>&1 </dev/null)
[ "$out" = signed ] && ok "pass-through: docker exec runs in the container" || notok "pass-through: docker exec runs in the container" "$out"
out=$(dk exec -e SW_X=1 -w / "$LONG" /bin/sh -c 'echo $SW_X' 2>&1 </dev/null)
[ "$out" = 1 ] && ok "pass-through: docker exec with environment and working directory" || notok "pass-through: docker exec with environment and working directory" "$out"
out=$(dk top "$LONG" 2>&1)
grep -q 'sleep 600' <<<"$out" && ok "pass-through: docker top" || notok "pass-through: docker top" "$out"
dk pause "$LONG" >/dev/null 2>&1 && p=$(inspect '{{.State.Paused}}' "$LONG") && dk unpause "$LONG" >/dev/null 2>&1 &&
	[ "$p" = true ] && [ "$(inspect '{{.State.Paused}}' "$LONG")" = false ] &&
	ok "pass-through: docker pause and unpause" || notok "pass-through: docker pause and unpause" "paused=${p:-?}"
out=$(dk update --cpu-shares 512 "$LONG" 2>&1) && v=$(inspect '{{.HostConfig.CPUShares}}' "$LONG") &&
	[ "$v" = 512 ] && ok "pass-through: docker update" || notok "pass-through: docker update" "$out" "CPUShares=${v:-?}"
out=$(dk stop -t 1 "$LONG" 2>&1)
st=$(inspect '{{.State.Status}}' "$LONG")
[ "$st" = exited ] && ok "pass-through: docker stop" || notok "pass-through: docker stop" "$out" "status=$st"
out=$(dk start "$LONG" 2>&1)
WANT_RECORDS[$LONG_ID]=2
[ "$(inspect '{{.State.Running}}' "$LONG")" = true ] && [ "$(rt_records "$LONG_ID")" = 2 ] &&
	ok "pass-through: docker start of the stopped container runs it, decided again" ||
	notok "pass-through: docker start of the stopped container runs it, decided again" "$out" "$(rt_records "$LONG_ID") records"
out=$(dk kill "$LONG" 2>&1)
st=$(inspect '{{.State.Status}}' "$LONG")
[ "$st" = exited ] && ok "pass-through: docker kill" || notok "pass-through: docker kill" "$out" "status=$st"
out=$(dk rm "$LONG" 2>&1)
! dk inspect "$LONG" >/dev/null 2>&1 && ! dk ps -a --format '{{.Names}}' | grep -qx "$LONG" &&
	ok "pass-through: docker rm" || notok "pass-through: docker rm" "$out"
[ "$(rt_records "$LONG_ID")" = 2 ] && ok "pass-through: only run and start were decided (ps, exec, top, pause, update, stop, kill, rm record nothing)" ||
	notok "pass-through: only run and start were decided" "$(rt_records "$LONG_ID") records"

# ============================================================ 2. tampered, dockerd running
# dockerd does not rewrite config.v2.json between `docker start` and the
# runtime's create (it does afterwards, from memory): the edit is what the
# wrapper reads.
dcreate --runtime sigward sw/other:unsigned /bin/cat /which
tamper "$CID"
dstart "$NAME"
expect_tampered "tampered: config.v2.json edited after docker create to name the listed image: refused at docker start (layer chain)"
out=$(jq -r .Image "$DK_ROOT/containers/$CID/config.v2.json")
if [ "$out" = "$BAD_ID" ]; then
	echo "#   after the refused start, config.v2.json names the container's own image again (dockerd rewrote it from memory)"
else
	echo "#   after the refused start, config.v2.json still names ${out:0:19}..."
fi

# ============================================================ 3. default-runtime, by SIGHUP
# Created before sigward becomes the default: plain runc containers.
dcreate sw/other:unsigned /bin/cat /which
OLD=$NAME OLD_ID=$CID
newname
OLD_ALWAYS=$NAME
OLD_ALWAYS_ID=$(dk run -d --name "$OLD_ALWAYS" --network none --restart always --stop-timeout 1 sw/other:unsigned /bin/sleep 600 2>"$T/run.err") ||
	bail "setup: docker run -d --restart always" "$(cat "$T/run.err")"
# Created with --runtime sigward, tampered below while dockerd is stopped.
dcreate --runtime sigward sw/other:unsigned /bin/cat /which
TAMPER2=$NAME TAMPER2_ID=$CID

cp "$T/docker-daemon.json" "$T/daemon.json"
kill -HUP "$DK_DOCKERD_PID"
for _ in $(seq 100); do
	rt=$(dk info -f '{{.DefaultRuntime}}' 2>/dev/null)
	[ "$rt" = sigward ] && break
	sleep 0.2
done
[ "$rt" = sigward ] && ok "default: SIGHUP with docker-daemon.json makes sigward the default runtime" ||
	bail "default: SIGHUP with docker-daemon.json makes sigward the default runtime" "docker info says '$rt' after 20 s"
drun sw/app:signed /bin/cat /which
expect_ran "default: a listed image runs without --runtime" signed
rt=$(inspect '{{.HostConfig.Runtime}}' "$NAME")
[ "$rt" = sigward ] && ok "default: Docker records sigward as the container's runtime" || notok "default: Docker records sigward as the container's runtime" "$rt"
expect_record "default: its record" "$CID" allow ".matched == \"$GOOD_ID\""
drun sw/other:unsigned /bin/cat /which
expect_refused "default: an unlisted image is refused without --runtime" "$NOT_LISTED"
drun "$DK_REG/sw/pulled@$PULLED" /bin/cat /which
expect_ran "default: the image listed by manifest digest runs" pulled

# Fact for docs/runtimes.md: Docker records the runtime at create (HostConfig.Runtime)
# and keeps it; the new default does not apply to existing containers.
rt=$(inspect '{{.HostConfig.Runtime}}' "$OLD")
dstart "$OLD"
if [ "$RC" = 0 ] && [ "$OUT" = unsigned ] && [ "$rt" = runc ] && [ "$(rt_records "$OLD_ID")" = 0 ]; then
	ok "default: fact: a container created before keeps runtime runc; docker start runs the unlisted image unchecked"
else
	notok "default: fact: a container created before keeps runtime runc; docker start runs the unlisted image unchecked" \
		"rc=$RC runtime=$rt records=$(rt_records "$OLD_ID")" "$OUT"
fi
dk rm "$OLD" >/dev/null 2>&1

# Facts for docs/runtimes.md: image builds, with sigward the default runtime.
mkdir -p "$T/ctx"
printf 'FROM sw/app:signed\nRUN echo built >/which\nRUN cat /which\n' >"$T/ctx/Dockerfile"
before=$(wc -l <"$T/decisions.jsonl")
OUT=$(DOCKER_BUILDKIT=0 dk build --network none -t sw/built:classic "$T/ctx" 2>&1 </dev/null)
RC=$?
new=$(tail -n +"$((before + 1))" "$T/decisions.jsonl" | jq -c '{container, decision, digests: [.digests[].digest]}')
EXTRA_RECORDS=$(($(wc -l <"$T/decisions.jsonl") - before))
deny_id=$(jq -r 'select(.decision == "deny") | .container' <<<"$new")
if [ "$RC" != 0 ] && [ "$EXTRA_RECORDS" = 2 ] &&
	jq -se --arg g "$GOOD_ID" '.[0].decision == "allow" and .[0].digests == [$g] and .[1].decision == "deny" and (.[1].digests[0] != $g)' <<<"$new" >/dev/null &&
	grep -qF "OCI runtime create failed: sigward: denied container $deny_id: image " <<<"$OUT"; then
	ok "build: fact: the classic builder's first RUN (on the listed base) is allowed, the next (on an intermediate image) refused"
else
	notok "build: fact: the classic builder's first RUN (on the listed base) is allowed, the next (on an intermediate image) refused" \
		"rc=$RC, $EXTRA_RECORDS records: $new" "$(tail -5 <<<"$OUT")"
fi
before=$(wc -l <"$T/decisions.jsonl")
OUT=$(DOCKER_BUILDKIT=1 dk build --network none -t sw/built:buildkit "$T/ctx" 2>&1 </dev/null)
RC=$?
n=$(($(wc -l <"$T/decisions.jsonl") - before))
if [ "$RC" = 0 ] && [ "$n" = 0 ] && grep -q 'RUN cat /which' <<<"$OUT"; then
	ok "build: fact: BuildKit runs RUN steps without the runtime: nothing is decided or recorded"
else
	notok "build: fact: BuildKit runs RUN steps without the runtime: nothing is decided or recorded" "rc=$RC, $n records" "$(tail -5 <<<"$OUT")"
fi
BUILT_ID=$(inspect '{{.Id}}' sw/built:buildkit)
drun sw/built:buildkit /bin/cat /which
expect_refused "build: the image BuildKit built (not listed) is refused at docker run" "image $BUILT_ID is not in allowlist test#1"

# ============================================================ 4. restart on the default-runtime file
dk_dockerd_stop || notok "restart: dockerd stops" "$DK_ERR"
# Edited while dockerd is stopped: dockerd loads the edited file as the truth.
tamper "$TAMPER2_ID"
SIGWARD_CONFIG=$CONF dk_dockerd_start "$T/docker-daemon.json" || bail "restart: dockerd on docker-daemon.json" "$DK_ERR"
rt=$(dk info -f '{{.DefaultRuntime}}' 2>&1)
[ "$rt" = sigward ] && ok "restart: dockerd started on docker-daemon.json has sigward as its default runtime" ||
	notok "restart: dockerd started on docker-daemon.json has sigward as its default runtime" "$rt"
drun sw/app:signed /bin/cat /which
expect_ran "restart: a listed image runs without --runtime" signed
drun sw/other:unsigned /bin/cat /which
expect_refused "restart: an unlisted image is refused without --runtime" "$NOT_LISTED"

img=$(inspect '{{.Image}}' "$TAMPER2")
[ "$img" = "$GOOD_ID" ] && ok "restart: fact: dockerd loaded the config.v2.json edited while it was stopped (docker inspect names the listed image)" ||
	notok "restart: fact: dockerd loaded the config.v2.json edited while it was stopped" "Image: $img"
NAME=$TAMPER2 CID=$TAMPER2_ID
dstart "$TAMPER2"
expect_tampered "restart: that container's docker start is refused (layer chain)"

# Fact for docs/runtimes.md: a restart policy brings a container back on the
# runtime it was created with.
for _ in $(seq 100); do
	[ "$(inspect '{{.State.Running}}' "$OLD_ALWAYS")" = true ] && break
	sleep 0.2
done
st=$(inspect '{{.HostConfig.Runtime}} {{.State.Running}} {{.RestartCount}}' "$OLD_ALWAYS")
if [[ $st == "runc true "* ]] && [ "$(rt_records "$OLD_ALWAYS_ID")" = 0 ]; then
	ok "restart: fact: a --restart always container created before is restarted by dockerd on runc, unchecked"
else
	notok "restart: fact: a --restart always container created before is restarted by dockerd on runc, unchecked" \
		"$st, $(rt_records "$OLD_ALWAYS_ID") records"
fi

# ============================================================ 5. dockerd on a separate containerd
# Debian's docker.service runs `dockerd --containerd=/run/containerd/containerd.sock`:
# the runtime is then a child of containerd's shims and has containerd's
# environment, not dockerd's.
ids=$(dk ps -aq)
# shellcheck disable=SC2086
[ -z "$ids" ] || dk rm -f $ids >/dev/null 2>&1
dk_dockerd_stop || notok "containerd: dockerd stops" "$DK_ERR"
mkdir -p "$CT"
cat >"$CT/config.toml" <<EOF
version = 2
root = "$CT/root"
state = "$CT/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CT/sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$CT/opt"
EOF
SIGWARD_CONFIG=$CONF containerd --config "$CT/config.toml" >"$T/containerd.log" 2>&1 &
CTRD_PID=$!
for _ in $(seq 100); do
	[ -S "$CT/sock" ] && timeout 10 ctr --address "$CT/sock" version >/dev/null 2>&1 && break
	kill -0 "$CTRD_PID" 2>/dev/null || break
	sleep 0.1
done
timeout 10 ctr --address "$CT/sock" version >/dev/null 2>&1 || bail "containerd: it does not answer after 10 s" "$(tail -5 "$T/containerd.log")"
dk_dockerd_start "$T/docker-daemon.json" "--containerd=$CT/sock" || bail "containerd: dockerd --containerd" "$DK_ERR"
tr '\0' '\n' <"/proc/$DK_DOCKERD_PID/environ" | grep -q '^SIGWARD_CONFIG=' && bail "containerd: dockerd has SIGWARD_CONFIG"
drun sw/app:signed /bin/cat /which
expect_ran "containerd: dockerd --containerd: a listed image runs through the default runtime" signed
expect_record "containerd: its bundle is in that containerd's state, namespace moby" "$CID" allow \
	".matched == \"$GOOD_ID\" and (.bundle | startswith(\"$CT/state/\"))"
drun sw/other:unsigned /bin/cat /which
expect_refused "containerd: an unlisted image is refused, sigward's line in docker run's output" "$NOT_LISTED"

# ============================================================ 6. the decision log
bad=
for id in "${!WANT_RECORDS[@]}"; do
	n=$(rt_records "$id")
	[ "$n" = "${WANT_RECORDS[$id]}" ] || bad+="${id:0:12}: $n records, want ${WANT_RECORDS[$id]}; "
done
# The classic build's RUN containers are not in WANT_RECORDS.
total=$EXTRA_RECORDS
for id in "${!WANT_RECORDS[@]}"; do total=$((total + WANT_RECORDS[$id])); done
lines=$(wc -l <"$T/decisions.jsonl")
[ -z "$bad" ] && [ "$lines" = "$total" ] &&
	ok "log: each of the $total decisions of ${#WANT_RECORDS[@]} containers has its record, and nothing else is recorded" ||
	notok "log: each decision has its record, and nothing else is recorded" "$bad" "$lines lines, $total decisions"
"$CLI" log verify --state-dir "$T/state" "$T/decisions.jsonl" >"$T/verify.out" 2>&1 &&
	ok "log: the decision log's hash chain verifies" || notok "log: the decision log's hash chain verifies" "$(cat "$T/verify.out")"
rt_done
