#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything cowstat's build, demo and VM tests need on a Debian 12
# (bookworm) machine.  Idempotent: a second run only checks.
#
#   scripts/setup.sh           the host's packages and every "host" kernel of
#                              kernels.table
#   scripts/setup.sh --all     also every "chroot:SUITE" kernel (scripts/
#                              chroot-kernel.sh prepare; make check does that
#                              itself, in the background)
#
# The Debian archive URI is taken from this machine's own apt configuration,
# never written into the repository.  virtme-ng only exists in trixie and
# later; it is taken from trixie at a low pin priority so that nothing else is
# upgraded from there (all of its dependencies install from bookworm).
#
# Each host kernel of kernels.table is installed as the versioned image and
# headers packages its metapackages depend on in its suite (scripts/
# kernel-release.sh resolves them: linux-image-6.12.95+deb12-rt-amd64), not
# as the metapackages, so that bookworm's own linux-image-amd64 keeps
# pointing at 6.1.  A suite apt does not know yet (bookworm-backports) is
# added with the same URI and pinned at 100: nothing else is taken from it.

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# Everything from bookworm, the 6.1 kernel (the default one) included.
PKGS=(gcc make libc6-dev xz-utils kmod cpio python3 python3-docutils
      qemu-system-x86 busybox-static bpftrace
      linux-image-amd64 linux-headers-amd64 linux-source-6.1 dkms
      mmdebstrap)

all=
case ${1:-} in
'') ;;
--all) all=1 ;;
*) echo "usage: $0 [--all]" >&2; exit 2 ;;
esac

[ "$(id -u)" = 0 ] || { echo "setup: must run as root (apt-get)" >&2; exit 1; }

codename=$(host_codename)

all_installed() {
	local n
	n=$(dpkg-query -W -f '${Status}\n' "${@%%=*}" 2>/dev/null |
		grep -c '^install ok installed$')
	[ "$n" = $# ]
}

# The packages of the host kernels as their suites' metapackages point at
# them now, and the 6.12 source pinned to the same version as its kernel
# (bookworm-security has other 6.12 versions of linux-source-6.12, at a
# higher priority).  Fails while apt does not know a suite yet.
kernel_pkgs() {
	local name rel ver
	KERNEL_PKGS=()
	for name in $(table_names host); do
		rel=$("$here/kernel-release.sh" "$name" 2>/dev/null) || return 1
		KERNEL_PKGS+=("linux-image-$rel" "linux-headers-$rel")
	done
	ver=$("$here/kernel-release.sh" --version 6.12 2>/dev/null) || return 1
	KERNEL_PKGS+=("linux-source-6.12=$ver")
}

prepare_chroots() {
	[ -n "$all" ] || return 0
	# shellcheck disable=SC2046
	"$here/chroot-kernel.sh" prepare $(table_names chroot)
}

KERNEL_PKGS=()
if kernel_pkgs && all_installed "${PKGS[@]}" virtme-ng "${KERNEL_PKGS[@]}"; then
	log "all packages present"
	prepare_chroots
	exit 0
fi

export DEBIAN_FRONTEND=noninteractive
uri=$(debian_archive_uri)
if [ -z "$uri" ]; then
	apt-get update -qq
	uri=$(debian_archive_uri)
fi
[ -n "$uri" ] || die "no Debian archive for '$codename' in apt's sources"

# The suites to add: trixie for virtme-ng, and every host kernel's.
suites=()
[ "$codename" = trixie ] || suites+=(trixie)
while read -r name suite _; do
	[ "$suite" = "$codename" ] || suites+=("$suite")
done < <(table_rows | awk '$5 == "host"')
for suite in $(printf '%s\n' "${suites[@]}" | sort -u); do
	apt_knows_suite "$suite" && continue
	log "adding $suite (pinned at 100) from $uri"
	apt_source_file "/etc/apt/sources.list.d/cowstat-$suite.sources" "$uri" \
		"$suite" "/etc/apt/preferences.d/cowstat-$suite" 100
done

log "apt-get update"
apt-get update -qq
kernel_pkgs || die "cannot resolve the host kernels' packages (kernels.table) in apt's lists"
log "installing ${PKGS[*]} ${KERNEL_PKGS[*]} virtme-ng"
# INITRD=No: virtme-ng makes its own initramfs; initramfs-tools' hook would
# spend 25 s per kernel on one nobody boots (see host_install_debs in lib.sh).
INITRD=No apt-get install -y -qq --no-install-recommends \
	-o DPkg::Lock::Timeout=900 "${PKGS[@]}" "${KERNEL_PKGS[@]}" >/dev/null
if [ "$codename" = trixie ]; then
	apt-get install -y -qq -o DPkg::Lock::Timeout=900 virtme-ng >/dev/null
else
	apt-get install -y -qq -o DPkg::Lock::Timeout=900 virtme-ng/trixie >/dev/null
fi
prepare_chroots
log "done"
