#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A debug build of Debian's 6.1 kernel (KASAN, lockdep, DEBUG_ATOMIC_SLEEP,
# kmemleak: scripts/debug-kernel.config) to run the selftests on, built from
# the linux-source-6.1 package that scripts/setup.sh installs and cached
# between runs.  The config is virtme-ng's minimal guest config plus
# selftests/cowstat/config plus the debug options, everything built in, so
# that virtme-ng boots the image directly; only cowstat.ko is a module.
#
# usage: scripts/debug-kernel.sh build | release | image | tree
#
#   build    (root) install the build dependencies, unpack the source and
#            build the kernel unless the cache has this config built; about
#            30 minutes on 2 cores the first time, seconds after
#   release  print its release (6.1.158-cowstat-debug)
#   image    print the path of its bzImage
#   tree     print its build tree (KDIR= for the module)
#
# make check KERNELS=debug (or make debug-check) builds it and runs the
# whole suite on it; a kmemleak scan after the last unload is one of the
# tests there.
#
# Environment:
#   COWSTAT_DEBUG_CACHE  cache directory (default /var/cache/cowstat/debug)
#   COWSTAT_DEBUG_JOBS   make -j for the kernel (default: nproc)

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
cache=${COWSTAT_DEBUG_CACHE:-/var/cache/cowstat/debug}
tarball=/usr/src/linux-source-6.1.tar.xz
tree=$cache/linux-source-6.1
jobs=${COWSTAT_DEBUG_JOBS:-$(nproc)}

log() { echo "debug-kernel: [${SECONDS}s] $*" >&2; }
die() { echo "debug-kernel: $*" >&2; exit 1; }

image() { echo "$tree/arch/x86/boot/bzImage"; }

release() {
	[ -s "$tree/include/config/kernel.release" ] ||
		die "not built yet: run $0 build"
	cat "$tree/include/config/kernel.release"
}

build_deps() {
	local pkgs=(flex bison bc libelf-dev libssl-dev xz-utils) missing=() p
	for p in "${pkgs[@]}"; do
		dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q \
		--no-install-recommends "${missing[@]}" >&2
}

build() {
	local frag stamp
	[ "$(id -u)" = 0 ] || die "build must run as root (apt-get, /var/cache)"
	[ -r "$tarball" ] || die "no $tarball: run scripts/setup.sh"
	build_deps
	mkdir -p "$cache"
	# Unpack once per version of the source package.
	stamp=$(stat -c '%s %Y' "$tarball")
	if [ "$(cat "$cache/source.stamp" 2>/dev/null)" != "$stamp" ]; then
		log "unpacking $tarball"
		rm -rf "$tree" "$cache/config.stamp"
		tar -C "$cache" -xf "$tarball"
		echo "$stamp" >"$cache/source.stamp"
	fi
	# Configure again only when a fragment (or this script) changed.  virtme-ng applies its own
	# fragment (with debug info) after --config ones: switch debug info off
	# after it, it would triple the build for nothing the tests use.
	frag=$(cat "$top/selftests/cowstat/config" "$here/debug-kernel.config" "$0" | sha256sum)
	if [ "$(cat "$cache/config.stamp" 2>/dev/null)" != "$frag" ]; then
		log "configuring (virtme-ng's guest config + selftests/cowstat/config + debug-kernel.config)"
		(cd "$tree" && vng --kconfig \
			--config "$top/selftests/cowstat/config" \
			--config "$here/debug-kernel.config" >&2 &&
		 scripts/config -e DEBUG_INFO_NONE \
			-d DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT -d DEBUG_INFO &&
		 make -s mod2yesconfig >&2)
		check_config
		echo "$frag" >"$cache/config.stamp"
	fi
	keep_out_of_line
	log "building $(cd "$tree" && make -s kernelrelease) (make -j$jobs)"
	make -C "$tree" -s -j"$jobs" bzImage modules >&2
	log "built $(image)"
}

# The module probes wp_page_reuse() and do_fault() (mm/memory.c), which are
# functions of their own in Debian's kernels but which gcc inlines in this
# much smaller configuration; on it the module refuses to load ("cannot
# probe wp_page_reuse ... (error -2)").  This kernel is for checking the
# module's memory safety and locking, so its mm/memory.c keeps the two out
# of line, as Debian's builds have them.  Idempotent.
keep_out_of_line() {
	local f=$tree/mm/memory.c
	if grep -q '^static inline void wp_page_reuse(struct vm_fault \*vmf)$' "$f"; then
		log "mm/memory.c: wp_page_reuse() noinline"
		sed -i 's/^static inline void wp_page_reuse(struct vm_fault \*vmf)$/static noinline void wp_page_reuse(struct vm_fault *vmf)/' "$f"
	fi
	if grep -q '^static vm_fault_t do_fault(struct vm_fault \*vmf)$' "$f"; then
		log "mm/memory.c: do_fault() noinline"
		sed -i 's/^static vm_fault_t do_fault(struct vm_fault \*vmf)$/static noinline vm_fault_t do_fault(struct vm_fault *vmf)/' "$f"
	fi
	grep -q '^static noinline void wp_page_reuse(struct vm_fault \*vmf)$' "$f" &&
		grep -q '^static noinline vm_fault_t do_fault(struct vm_fault \*vmf)$' "$f" ||
		die "mm/memory.c: cannot mark wp_page_reuse() and do_fault() noinline"
}

# Every option the fragments ask for must have survived olddefconfig
# (a dependency missing drops an option silently).
check_config() {
	local line opt val bad=0
	while read -r line; do
		case $line in
		CONFIG_*=*) ;;
		*) continue ;;
		esac
		opt=${line%%=*} val=${line#*=}
		[ "$val" = n ] && continue
		if ! grep -qx "$opt=$val" "$tree/.config"; then
			echo "debug-kernel: $opt=$val did not make it into the config" \
			     "($(grep "^$opt=\|# $opt is" "$tree/.config" || echo absent))" >&2
			bad=1
		fi
	done < <(cat "$top/selftests/cowstat/config" "$here/debug-kernel.config")
	[ $bad -eq 0 ] || die "config incomplete"
}

case ${1:-} in
build) build ;;
release) release ;;
image) image ;;
tree) echo "$tree" ;;
*) echo "usage: $0 build | release | image | tree" >&2; exit 2 ;;
esac
