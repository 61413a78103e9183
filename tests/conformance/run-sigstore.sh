#!/bin/bash
# Run every case of the public Sigstore conformance suite through
# `sigward verify-bundle` (the suite's own command-line protocol) and compare
# the exit status with the case's name: *_fail must fail, the others pass.
# usage: run-sigstore.sh SIGWARD SUITE_DIR
# The suite is read in place, never copied or changed. Exit 77 (skip) only
# when the suite directory is missing; tests/run-all.sh counts that as a
# failure in CI, which has it.
set -u
sigward=$1
suite=$2
if [ ! -d "$suite/bundle-verify" ]; then
	echo "SKIP: Sigstore conformance suite not found at $suite/bundle-verify"
	exit 77
fi
default_identity='https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main'
default_issuer='https://token.actions.githubusercontent.com'
pass=0 fail=0 failed=()
for dir in "$suite"/bundle-verify/*/; do
	dir=${dir%/}
	name=${dir##*/}
	[ -f "$dir/bundle.sigstore.json" ] || continue
	artifact="$dir/artifact"
	[ -f "$artifact" ] || artifact="$suite/a.txt"
	root="$dir/trusted_root.json"
	[ -f "$root" ] || root="$suite/trusted_root.production.json"
	args=(verify-bundle --bundle "$dir/bundle.sigstore.json" --trusted-root "$root")
	if [ -f "$dir/key.pub" ]; then
		args+=(--key "$dir/key.pub")
	else
		identity=$default_identity issuer=$default_issuer
		[ -f "$dir/identity" ] && identity=$(cat "$dir/identity")
		[ -f "$dir/issuer" ] && issuer=$(cat "$dir/issuer")
		args+=(--certificate-identity "$identity" --certificate-oidc-issuer "$issuer")
	fi
	want=0
	[[ $name == *_fail ]] && want=1
	# The artifact as a path, then as sha256:<hex> (the protocol allows
	# both): the verdict must not depend on the form.
	digest=sha256:$(sha256sum "$artifact" | cut -c1-64)
	out=$("$sigward" "${args[@]}" "$artifact" 2>&1)
	rc=$?
	out2=$("$sigward" "${args[@]}" "$digest" 2>&1)
	rc2=$?
	got=$(( rc != 0 ))
	# exit 1 is "not valid"; anything else (usage error, crash) is no verdict
	if { [ $rc -ne 0 ] && [ $rc -ne 1 ]; } || { [ $rc2 -ne 0 ] && [ $rc2 -ne 1 ]; } || [ $rc -ne $rc2 ]; then
		got=2
		out="$out / as $digest: exit $rc2: $out2"
	fi
	if [ "$got" -eq "$want" ]; then
		pass=$((pass + 1))
		echo "ok   $name${out:+: $out}"
	else
		fail=$((fail + 1))
		failed+=("$name")
		echo "FAIL $name (exit $rc, wanted $([ $want -eq 1 ] && echo non-zero || echo 0))${out:+: $out}"
	fi
done
echo "${pass} passed, ${fail} failed"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
