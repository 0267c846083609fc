#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the release of the kernel Debian's linux-image-amd64 metapackage
# points at (the kernel the VM tests boot and the module is built for).

set -euo pipefail
dep=$(dpkg-query -W -f '${Depends}' linux-image-amd64 2>/dev/null) || {
	echo "kernel-release: linux-image-amd64 is not installed (run scripts/setup.sh)" >&2
	exit 1
}
# "linux-image-6.1.0-56-amd64 (= 6.1.140-1)" -> 6.1.0-56-amd64
rel=$(echo "$dep" | sed -n 's/^linux-image-\([^ ,]*\).*/\1/p')
[ -n "$rel" ] || { echo "kernel-release: cannot parse '$dep'" >&2; exit 1; }
echo "$rel"
