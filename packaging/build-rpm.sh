#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Check the RPM spec and build the binary RPM: bash packaging/build-rpm.sh [OUT_DIR]
# On Debian, rpmbuild cannot see the build dependencies (they are dpkg packages),
# hence --nodeps; the unit directory is the one this system uses.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(realpath -m "${1:-$SRC/packaging/out}")
TOP=$(mktemp -d /tmp/sigward-rpm.XXXXXX)
trap 'rm -rf "$TOP"' EXIT
mkdir -p "$OUT" "$TOP"/{SOURCES,SPECS,BUILD,RPMS,SRPMS}
rpmspec -P "$SRC/packaging/rpm/sigward.spec" > /dev/null
(cd "$SRC" && git ls-files -z --cached --others --exclude-standard |
	tar --null -T - --transform 's,^,sigward-0.1.0/,' -czf "$TOP/SOURCES/sigward-0.1.0.tar.gz")
UNITDIR=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /usr/lib/systemd/system)
rpmbuild --define "_topdir $TOP" --define "_unitdir $UNITDIR" --nodeps -bb "$SRC/packaging/rpm/sigward.spec"
find "$TOP/RPMS" -name '*.rpm' -exec cp {} "$OUT"/ \;
ls -1 "$OUT"/*.rpm
