#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the release of a kernel of kernels.table, the kernels cowstat is
# built and tested on.
#
#   scripts/kernel-release.sh            the default kernel: 6.1
#   scripts/kernel-release.sh NAME       the release of the table's row NAME
#                                        (6.1-rt -> 6.1.0-57-rt-amd64)
#   scripts/kernel-release.sh --names [full|build|host|chroot]
#                                        the table's names, one a line; only
#                                        those rows whose test or build
#                                        column is that, if given
#   scripts/kernel-release.sh --all      "NAME RELEASE TEST BUILD" for every
#                                        row ("-" for a release not known yet)
#   scripts/kernel-release.sh --name RELEASE
#                                        the row whose release is RELEASE
#   scripts/kernel-release.sh --version NAME
#                                        the version of a host row's image
#                                        metapackage in its suite
#
# A host row's release is read off its image metapackage's Depends in its
# suite, from the host's apt lists (scripts/setup.sh adds the suite and
# installs that release); for the host's own release (bookworm) its
# -security and -updates suites count too.  A chroot row's release is the
# one scripts/chroot-kernel.sh prepare resolved the same way in its chroot
# and installed (run that first).

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

DEFAULT=6.1

release() {
	local r
	kernel_row "$1" || {
		echo "$prog: no kernel '$1' in $table_file (names: $(table_names | tr '\n' ' '))" >&2
		return 1
	}
	if [ -n "$K_CHROOT" ]; then
		"$here/chroot-kernel.sh" release "$1"
		return
	fi
	r=$(meta_release "$K_SUITE" "$K_IMAGE" linux-image) || {
		echo "$prog: (run scripts/setup.sh)" >&2
		return 1
	}
	echo "${r%% *}"
}

case ${1:-} in
--names)
	table_names "${2:-}"
	;;
--series)	# the old name of --names
	table_names | tr '\n' ' ' | sed 's/ $/\n/'
	;;
--all)
	table_rows | while read -r name suite image headers env test; do
		echo "$name $(release "$name" 2>/dev/null || echo -) $test $env"
	done
	;;
--name)
	[ -n "${2:-}" ] || { echo "usage: $0 --name RELEASE" >&2; exit 2; }
	for n in $(table_names); do
		if [ "$(release "$n" 2>/dev/null)" = "$2" ]; then
			echo "$n"
			exit 0
		fi
	done
	echo "$prog: no kernel of $table_file has release $2" >&2
	exit 1
	;;
--version)
	kernel_row "${2:-}" || { echo "$prog: no kernel '${2:-}' in $table_file" >&2; exit 1; }
	r=$(meta_release "$K_SUITE" "$K_IMAGE" linux-image) || exit 1
	echo "${r#* }"
	;;
-*)
	sed -n '3,/^$/s/^# \{0,1\}//p' "$0" >&2
	exit 2
	;;
*)
	release "${1:-$DEFAULT}"
	;;
esac
