#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the release of a Debian kernel cowstat is built for and tested on.
#
#   scripts/kernel-release.sh          the default: 6.1
#   scripts/kernel-release.sh 6.1      what bookworm's linux-image-amd64
#                                      (installed) points at
#   scripts/kernel-release.sh 6.12     what bookworm-backports'
#                                      linux-image-amd64 points at (from apt's
#                                      lists: the metapackage itself is not
#                                      installed, 6.1's is)
#   scripts/kernel-release.sh 7.2      the sid release scripts/sid-kernel.sh
#                                      prepare installed (run that first)
#   scripts/kernel-release.sh --all    every supported series' release, one
#                                      a line
#   scripts/kernel-release.sh --series every supported series (6.1 ...)
#   scripts/kernel-release.sh --version 6.12
#                                      the package version of that series'
#                                      metapackage (for scripts/setup.sh)

set -euo pipefail

SERIES=(6.1 6.12 7.2)

# "linux-image-6.1.0-56-amd64 (= 6.1.140-1)" -> 6.1.0-56-amd64
release_of_depends() {
	local rel
	rel=$(echo "$1" | sed -n 's/^linux-image-\([^ ,]*\).*/\1/p')
	[ -n "$rel" ] || { echo "kernel-release: cannot parse '$1'" >&2; return 1; }
	echo "$rel"
}

# The version of linux-image-amd64 that bookworm-backports has.  Not
# trixie's or sid's, which apt knows about too (virtme-ng comes from trixie).
backports_version() {
	local ver
	ver=$(apt-cache madison linux-image-amd64 2>/dev/null |
		awk -F' *[|] *' '$3 ~ / bookworm-backports\// { print $2; exit }')
	[ -n "$ver" ] || {
		echo "kernel-release: apt knows no linux-image-amd64 in bookworm-backports (run scripts/setup.sh)" >&2
		return 1
	}
	case $ver in
	6.12.*) echo "$ver" ;;
	*) echo "kernel-release: bookworm-backports has linux-image-amd64 $ver, not 6.12" >&2; return 1 ;;
	esac
}

release() {
	local dep ver
	case $1 in
	6.1)
		dep=$(dpkg-query -W -f '${Depends}' linux-image-amd64 2>/dev/null) || {
			echo "kernel-release: linux-image-amd64 is not installed (run scripts/setup.sh)" >&2
			return 1
		}
		case $dep in
		linux-image-6.1.*) ;;
		*) echo "kernel-release: the installed linux-image-amd64 is not 6.1: '$dep'" >&2; return 1 ;;
		esac
		release_of_depends "$dep"
		;;
	6.12)
		ver=$(backports_version) || return 1
		dep=$(apt-cache show "linux-image-amd64=$ver" | sed -n 's/^Depends: //p' | head -n 1)
		release_of_depends "$dep"
		;;
	7.2)
		"$(dirname "$0")/sid-kernel.sh" release
		;;
	*)
		echo "kernel-release: unknown series '$1' (supported: ${SERIES[*]})" >&2
		return 1
		;;
	esac
}

case ${1:-6.1} in
--series)
	echo "${SERIES[*]}"
	;;
--all)
	for s in "${SERIES[@]}"; do
		release "$s"
	done
	;;
--version)
	[ "${2:-}" = 6.12 ] || { echo "kernel-release: --version only for 6.12" >&2; exit 1; }
	backports_version
	;;
*)
	release "${1:-6.1}"
	;;
esac
