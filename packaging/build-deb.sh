#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Build the Debian package from this tree: bash packaging/build-deb.sh [OUT_DIR]
# The debian/ directory lives in packaging/debian; the build runs in a copy of
# the tree so that nothing is written into the checkout.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(realpath -m "${1:-$SRC/packaging/out}")
WORK=$(mktemp -d /tmp/sigward-deb.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT" "$WORK/sigward-0.1.0"
# Only what git tracks (plus uncommitted edits), never build directories.
(cd "$SRC" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) | tar -C "$WORK/sigward-0.1.0" -xf -
cp -r "$SRC/packaging/debian" "$WORK/sigward-0.1.0/debian"
(cd "$WORK/sigward-0.1.0" && dpkg-buildpackage -us -uc -b)
cp "$WORK"/sigward_*.deb "$WORK"/sigward_*.buildinfo "$WORK"/sigward_*.changes "$OUT"/
ls -1 "$OUT"/sigward_*.deb
