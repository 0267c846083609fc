#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything cowstat's build, demo and VM tests need on a Debian 12
# (bookworm) machine.  Idempotent: a second run only checks.
#
# The Debian archive URI is taken from this machine's own apt configuration,
# never written into the repository.  virtme-ng only exists in trixie and
# later; it is taken from trixie at a low pin priority so that nothing else is
# upgraded from there (all of its dependencies install from bookworm).
#
# The 6.12 kernel comes from bookworm-backports, as the versioned packages
# its linux-image-amd64/linux-headers-amd64 depend on (scripts/
# kernel-release.sh resolves them), so that bookworm's own linux-image-amd64
# keeps pointing at 6.1.  Backports is NotAutomatic: nothing else is taken
# from it.
#
# The 7.2 kernel is not installed here: scripts/sid-kernel.sh prepare (run by
# make check) makes its sid chroot with mmdebstrap, which is installed here.

set -euo pipefail

# Everything from bookworm, the 6.1 kernel (the default one) included.
PKGS=(gcc make libc6-dev xz-utils kmod cpio python3
      qemu-system-x86 busybox-static bpftrace
      linux-image-amd64 linux-headers-amd64 linux-source-6.1 dkms
      mmdebstrap)
here=$(cd "$(dirname "$0")" && pwd)

log() { echo "setup: $*"; }

[ "$(id -u)" = 0 ] || { echo "setup: must run as root (apt-get)" >&2; exit 1; }

codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")

# The URI of the main Debian archive this machine already uses for its own
# release (not the security archive).
debian_archive_uri() {
	apt-get indextargets --format '$(REPO_URI) $(RELEASE)' \
		'Identifier: Packages' 2>/dev/null |
		awk -v rel="$codename" '$2 == rel && $1 !~ /security/ { print $1; exit }'
}

all_installed() {
	local p
	for p in "$@"; do
		dpkg-query -W -f '${Status}\n' "${p%%/*}" 2>/dev/null |
			grep -q '^install ok installed' || return 1
	done
}

# The 6.12 packages bookworm-backports' metapackages point at now; the
# source is pinned to the same version (bookworm-security has other 6.12
# versions of linux-source-6.12, at a higher priority).
backports_pkgs() {
	local rel ver
	rel=$("$here/kernel-release.sh" 6.12) || return 1
	ver=$("$here/kernel-release.sh" --version 6.12) || return 1
	BPO_PKGS=("linux-image-$rel" "linux-headers-$rel" "linux-source-6.12=$ver")
}

BPO_PKGS=()
if backports_pkgs 2>/dev/null &&
   all_installed "${PKGS[@]}" virtme-ng "${BPO_PKGS[@]%%=*}"; then
	log "all packages present"
	exit 0
fi

export DEBIAN_FRONTEND=noninteractive
uri=$(debian_archive_uri)
if [ -z "$uri" ]; then
	apt-get update -qq
	uri=$(debian_archive_uri)
fi
[ -n "$uri" ] || { echo "setup: no Debian archive for '$codename' in apt's sources" >&2; exit 1; }

src=/etc/apt/sources.list.d/cowstat-trixie.sources
if [ "$codename" != trixie ] && ! apt-get indextargets --format '$(RELEASE)' 'Identifier: Packages' | grep -qx trixie; then
	log "adding trixie (pinned low) from $uri for virtme-ng"
	cat > "$src" <<EOT
Types: deb
URIs: $uri
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOT
	cat > /etc/apt/preferences.d/cowstat-trixie <<EOT
Package: *
Pin: release n=trixie
Pin-Priority: 100
EOT
fi

src=/etc/apt/sources.list.d/cowstat-bookworm-backports.sources
if [ "$codename" = bookworm ] &&
   ! apt-get indextargets --format '$(RELEASE)' 'Identifier: Packages' | grep -qx bookworm-backports; then
	log "adding bookworm-backports from $uri for the 6.12 kernel"
	cat > "$src" <<EOT
Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOT
fi

log "apt-get update"
apt-get update -qq
backports_pkgs || { echo "setup: cannot resolve the 6.12 kernel packages in bookworm-backports" >&2; exit 1; }
log "installing ${PKGS[*]} ${BPO_PKGS[*]} virtme-ng"
apt-get install -y -qq --no-install-recommends "${PKGS[@]}" "${BPO_PKGS[@]}" >/dev/null
if [ "$codename" = trixie ]; then
	apt-get install -y -qq virtme-ng >/dev/null
else
	apt-get install -y -qq virtme-ng/trixie >/dev/null
fi
log "done"
