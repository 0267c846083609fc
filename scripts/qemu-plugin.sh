#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the TCG plugin of make bench (bench/insn_count.c) against
# qemu-plugin.h of the installed qemu's own source package, the same way the
# kselftest headers come from linux-source: nothing of qemu is committed.
#
# usage: scripts/qemu-plugin.sh OUT.so
#
# The source package's version is read off the installed qemu-system-x86
# (its source:Version); the deb-src entries are those of the host's own
# release, taken from apt's configuration, in a private apt state under
# /var/cache/cowstat/qemu, so the host's sources are left as they are.  The
# header is kept there per version; later builds need no network.

set -euo pipefail
prog=qemu-plugin
. "$(dirname "$0")/lib.sh"

out=${1:?usage: $0 OUT.so}
src=$cowstat_top/bench/insn_count.c

pkg=$(dpkg-query -W -f '${source:Package}' qemu-system-x86 2>/dev/null) ||
	die "qemu-system-x86 is not installed (scripts/setup.sh)"
ver=$(dpkg-query -W -f '${source:Version}' qemu-system-x86)
cache=/var/cache/cowstat/qemu/$ver
header=$cache/include/qemu-plugin.h

fetch_header() {
	local apt_dir=$cache/apt codename list uri suite orig
	codename=$(host_codename)
	rm -rf "$apt_dir"
	mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$cache/include"
	list=$apt_dir/sources.list
	# Every suite of the host's own release that apt uses (the release, its
	# updates and security), as deb-src: the installed version is in one.
	apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Identifier: Packages' 2>/dev/null |
		awk -v c="$codename" '$2 == c || index($2, c "-") == 1' | sort -u |
		while read -r uri suite; do
			echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main"
		done >"$list"
	[ -s "$list" ] || die "apt has no suite of $codename configured"
	local opts=(-o Dir::Etc::SourceList="$list" -o Dir::Etc::SourceParts=/dev/null
		    -o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache::pkgcache=
		    -o Dir::Cache::srcpkgcache= -o Dir::Cache::Archives="$apt_dir/archives"
		    -o APT::Sandbox::User=root)
	log "apt-get source --download-only $pkg=$ver (deb-src of $(awk '{print $4}' "$list" | paste -sd' '))"
	apt-get -qq "${opts[@]}" update ||
		die "apt-get update of the deb-src entries failed"
	(cd "$cache" && apt-get -qq "${opts[@]}" source --download-only "$pkg=$ver" >/dev/null) ||
		die "apt-get source $pkg=$ver failed: is that version still in the archive?"
	orig=$(ls "$cache"/"${pkg}"_*.orig.tar.* | head -n 1)
	tar --no-same-owner -xf "$orig" -C "$cache/include" --wildcards --strip-components=3 \
		'*/include/qemu/qemu-plugin.h' ||
		die "no include/qemu/qemu-plugin.h in $orig"
	# Only the header is kept.
	rm -rf "$apt_dir" "$cache"/*.tar.* "$cache"/*.dsc
}

[ -r "$header" ] || fetch_header
mkdir -p "$(dirname "$out")"
if [ ! -e "$out" ] || [ "$src" -nt "$out" ] || [ "$header" -nt "$out" ]; then
	${CC:-cc} -O2 -Wall -Wextra -Werror -shared -fPIC -I"$cache/include" -o "$out" "$src"
	log "built $out against qemu $ver's qemu-plugin.h"
fi
