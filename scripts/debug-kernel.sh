#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The debug kernels to run the selftests on, built from the linux-source
# packages that scripts/setup.sh installs and cached between runs:
#
#   debug     Debian's 6.1 with KASAN, lockdep, DEBUG_ATOMIC_SLEEP and
#             kmemleak (scripts/debug-kernel.config);
#   debug-rt  Debian's 6.12 with PREEMPT_RT, lockdep with raw-lock nesting
#             checks, DEBUG_ATOMIC_SLEEP and kmemleak
#             (scripts/debug-rt-kernel.config): where a handler that sleeps
#             or takes a sleeping lock shows.
#
# The config is virtme-ng's minimal guest config plus
# selftests/cowstat/config plus the flavour's fragment, everything built
# in, so that virtme-ng boots the image directly; only cowstat.ko is a
# module.
#
# usage: scripts/debug-kernel.sh [debug | debug-rt] build | release | image | tree
#
#   build    (root) install the build dependencies, unpack the source and
#            build the kernel unless the cache has this config built; about
#            30 minutes on 2 cores the first time, seconds after
#   release  print its release (6.1.158-cowstat-debug)
#   image    print the path of its bzImage
#   tree     print its build tree (KDIR= for the module)
#
# The flavour defaults to debug.  make check KERNELS=debug (or debug-rt;
# make debug-check runs both) builds it and runs the whole suite on it; a
# kmemleak scan after the last unload is one of the tests there.
#
# Environment:
#   COWSTAT_DEBUG_CACHE  cache directory (default /var/cache/cowstat/FLAVOUR)
#   COWSTAT_DEBUG_JOBS   make -j for the kernel (default: nproc)

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
flavour=debug
case ${1:-} in
debug | debug-rt) flavour=$1; shift ;;
esac
case $flavour in
debug) series=6.1 fragment=$here/debug-kernel.config ;;
debug-rt) series=6.12 fragment=$here/debug-rt-kernel.config ;;
esac
cache=${COWSTAT_DEBUG_CACHE:-/var/cache/cowstat/$flavour}
tarball=/usr/src/linux-source-$series.tar.xz
tree=$cache/linux-source-$series
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
	frag=$(cat "$top/selftests/cowstat/config" "$fragment" "$0" | sha256sum)
	if [ "$(cat "$cache/config.stamp" 2>/dev/null)" != "$frag" ]; then
		log "configuring (virtme-ng's guest config + selftests/cowstat/config + ${fragment##*/})"
		(cd "$tree" && vng --kconfig \
			--config "$top/selftests/cowstat/config" \
			--config "$fragment" >&2 &&
		 scripts/config -e DEBUG_INFO_NONE \
			-d DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT -d DEBUG_INFO &&
		 make -s mod2yesconfig >&2)
		check_config
		echo "$frag" >"$cache/config.stamp"
	fi
	[ "$flavour" != debug ] || keep_out_of_line
	log "building $(cd "$tree" && make -s kernelrelease) (make -j$jobs)"
	make -C "$tree" -s -j"$jobs" bzImage modules >&2
	log "built $(image)"
}

# The module probes wp_page_reuse() and do_fault() (mm/memory.c), which are
# functions of their own in Debian's 6.1 but which gcc inlines in this much
# smaller configuration.  The 6.1 debug kernel is for checking the module's
# memory safety and locking on the probes Debian's 6.1 has, so its
# mm/memory.c keeps the two out of line.  (The debug-rt kernel is left as
# gcc builds it: there the module counts at its stand-ins, as on Debian's
# 5.10 and 6.12-rt.)  Idempotent.
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
# (a dependency missing drops an option silently).  A later fragment's
# value of an option replaces an earlier one's.
check_config() {
	local line opt bad=0
	local -A want=()
	while read -r line; do
		case $line in
		CONFIG_*=*) want[${line%%=*}]=${line#*=} ;;
		esac
	done < <(cat "$top/selftests/cowstat/config" "$fragment")
	for opt in "${!want[@]}"; do
		[ "${want[$opt]}" = n ] && continue
		if ! grep -qx "$opt=${want[$opt]}" "$tree/.config"; then
			echo "debug-kernel: $opt=${want[$opt]} did not make it into the config" \
			     "($(grep "^$opt=\|# $opt is" "$tree/.config" || echo absent))" >&2
			bad=1
		fi
	done
	[ $bad -eq 0 ] || die "config incomplete"
}

case ${1:-} in
build) build ;;
release) release ;;
image) image ;;
tree) echo "$tree" ;;
*) echo "usage: $0 [debug | debug-rt] build | release | image | tree" >&2; exit 2 ;;
esac
