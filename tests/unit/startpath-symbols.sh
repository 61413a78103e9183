#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The start path links only what a start needs: no tool code (list builder, log
# verification and rotated sets, signing, fetching, installing, wiring checks,
# the audit's report) and no zlib or curl in sigward-hook or sigward-runc
# (lib/meson.build: libsigward-start vs libsigward-tools), and sigward-hook no
# libcrypto at all (sigward-hook-verify has it; hook/sigward-hook.c says why).
#
#   startpath-symbols.sh HOOK WRAPPER CLI VERIFIER
#
# The CLI links the tools: the same patterns must find its symbols, so a
# pattern that names nothing (or an nm that reads nothing) fails here too.
set -uo pipefail
[ $# = 4 ] || { echo "usage: startpath-symbols.sh HOOK WRAPPER CLI VERIFIER" >&2; exit 2; }
HOOK=$1 WRAPPER=$2 CLI=$3 VERIFIER=$4

# Function and data symbols that belong to the tools.
TOOLS='^(sw_build_|sw_declog_verify|sw_declog_set_|sw_declog_plain$|sw_list_install$|sw_list_verify_full$|sw_list_check_entries$|sw_installed_serial$|sw_list_sign$|sw_signer_|sw_keygen$|sw_fetch$|sw_push$|sw_registry_token$|sw_ociimage_|sw_tar_|sw_wiring_|sw_audit|sw_report|gzread$|gzdopen$|inflate$|curl_easy_)'

syms() { # BINARY: its defined symbol names
	nm --defined-only "$1" 2>/dev/null | awk 'NF == 3 { print $3 }'
}

fail=0
for b in "$HOOK" "$WRAPPER" "$VERIFIER"; do
	n=$(syms "$b" | grep -c '^sw_')
	if [ "$n" -lt 20 ]; then
		echo "not ok - $b: nm shows $n sw_ symbols (stripped or unreadable)"
		fail=1
		continue
	fi
	bad=$(syms "$b" | grep -E "$TOOLS" | sort -u | tr '\n' ' ')
	if [ -n "$bad" ]; then
		echo "not ok - $b links tool code: $bad"
		fail=1
	else
		echo "ok - $(basename "$b"): $n sw_ symbols, none of the tools'"
	fi
done

# libcrypto: none of it in sigward-hook; the same pattern finds it in the
# verifier, so it names real symbols.
CRYPTO='^(EVP_|OPENSSL_|OSSL_|SHA256_Init$|d2i_PUBKEY$|ERR_clear_error$)'
bad=$(syms "$HOOK" | grep -E "$CRYPTO" | sort -u | head -20 | tr '\n' ' ')
if [ -n "$bad" ]; then
	echo "not ok - $HOOK links libcrypto: $bad"
	fail=1
else
	echo "ok - $(basename "$HOOK"): no libcrypto symbol"
fi
n=$(syms "$VERIFIER" | grep -cE "$CRYPTO")
if [ "$n" -ge 100 ]; then
	echo "ok - $(basename "$VERIFIER") links libcrypto ($n symbols: the pattern names real code)"
else
	echo "not ok - $VERIFIER: only $n libcrypto symbols: the check would pass on nothing"
	fail=1
fi

# The patterns must match what the tools really define.
# (The list is read once into a variable: `nm | grep -q` under pipefail fails
# whenever grep exits at its first match before nm has written everything.)
cli_syms=$(syms "$CLI")
for want in sw_build_write sw_declog_verify sw_declog_set_find sw_declog_plain sw_wiring_containerd sw_list_sign; do
	if grep -qx "$want" <<<"$cli_syms"; then
		echo "ok - the CLI defines $want (the pattern names real code)"
	else
		echo "not ok - the CLI does not define $want: the check would pass on nothing"
		fail=1
	fi
done
exit $fail
