#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Kernels whose modules cannot be built on the host: build modules for them
# in a chroot of another Debian suite, and boot them in qemu.
#
# Some Debian kernels' build trees need a compiler or a C library bookworm
# does not have: bullseye's 5.10 needs gcc-10, trixie-backports' 7.3 gcc-14
# and glibc >= 2.38 (its kbuild tools), sid's kernel gcc-16.  kernels.table
# marks them "chroot:SUITE": modules for them are built inside a minimal
# chroot of SUITE (mmdebstrap), one per suite, kept in a cache directory.
# The kernel image and its modules are installed on the host, because
# virtme-ng boots /boot/vmlinuz-RELEASE with the host's root file system and
# loads modules from /lib/modules/RELEASE.
#
# usage: scripts/chroot-kernel.sh prepare NAME...
#        scripts/chroot-kernel.sh release NAME
#        scripts/chroot-kernel.sh build NAME SRCDIR OUTDIR [MAKE-ARGS...]
#        scripts/chroot-kernel.sh dkms NAME DKMS-ARGS...
#        scripts/chroot-kernel.sh root NAME
#        scripts/chroot-kernel.sh tool SUITE PACKAGE...
#
# NAME is a row of kernels.table whose build column is chroot:SUITE.
#
#   prepare  (root) create or update SUITE's chroot, resolve the release the
#            row's metapackages point at in its suite (added to the chroot
#            when it is not SUITE itself, e.g. trixie-backports in the
#            trixie chroot), install that release's headers, make and dkms
#            in the chroot, and the image on the host; idempotent, and
#            quick when everything is in place
#   release  print the release prepare installed (7.3.4+deb13-amd64)
#   build    (root) build the out-of-tree module whose Kbuild is in SRCDIR for
#            that release; SRCDIR is only read (a build for another kernel
#            may be in it), objects and the .ko go to OUTDIR (kbuild's MO=,
#            OUTDIR may lie inside SRCDIR), MAKE-ARGS (e.g. KCFLAGS=...) are
#            passed to make; exits with make's status
#   dkms     (root) run the chroot's dkms for that release, with the host's
#            /usr/lib/modules/RELEASE in place of the chroot's (in a private
#            mount namespace), so that "dkms install" puts the module where
#            the booted guest's modprobe finds it, and "dkms remove" takes it
#            away again.  -k RELEASE and --kernelsourcedir are added for build
#            and install without -k (the host's tree has no build link).  Sources to
#            "dkms add" go to ROOT/usr/src/NAME-VERSION first.
#   root     print the chroot's directory
#   tool     (root) make SUITE's chroot if it is missing and install PACKAGEs
#            in it (scripts/virtiofsd.sh takes trixie's virtiofsd from there)
#
# The image: a 7.x release comes as linux-base-REL, linux-binary-REL (the
# vmlinuz, under /usr/lib/modules/REL) and linux-modules-REL, installed
# without the linux-image-REL package around them (that would only build an
# initramfs nobody uses), plus the link /boot/vmlinuz-REL that vm-run.sh -k
# boots; older ones (5.10) are one linux-image-REL package with its own
# /boot/vmlinuz-REL.  Remove them with dpkg -r.
#
# Environment:
#   COWSTAT_CHROOT_CACHE    cache directory; SUITE's chroot is SUITE/root in
#                           it (default /var/cache/cowstat)
#   COWSTAT_CHROOT_MAX_AGE  seconds after which prepare refreshes a chroot's
#                           package lists (default 86400); 0: every time

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

cache_top=${COWSTAT_CHROOT_CACHE:-/var/cache/cowstat}
max_age=${COWSTAT_CHROOT_MAX_AGE:-86400}

usage() {
	echo "usage: $0 prepare NAME... | release NAME | build NAME SRCDIR OUTDIR [MAKE-ARGS...] | dkms NAME ARGS... | root NAME | tool SUITE PACKAGE..." >&2
	exit 2
}

need_root() {
	[ "$(id -u)" = 0 ] || die "$1 must run as root (chroot, mounts, dpkg)"
}

# Select a suite's chroot: sets suite, cache, root.
select_suite() {
	case $1 in
	*[!a-z0-9.-]* | '') die "bad suite name '$1'" ;;
	esac
	suite=$1
	cache=$cache_top/$suite
	root=$cache/root
	apt_root=$root
}

# Select a table row: sets K_* (lib.sh), and its chroot as select_suite.
select_row() {
	kernel_row "$1" || die "no kernel '$1' in $table_file"
	[ -n "$K_CHROOT" ] ||
		die "$1 is built on the host (kernels.table), not in a chroot"
	select_suite "$K_CHROOT"
}

# Run a command in the chroot with a clean environment; the host's locale
# and variables mean nothing there.
in_root() {
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}
apt_cache() { in_root apt-cache "$@"; }

# A file older than max_age seconds (or missing) is stale.
stale() {
	local f=$1 now mtime
	[ -e "$f" ] || return 0
	now=$(date +%s)
	mtime=$(stat -c %Y "$f")
	[ $((now - mtime)) -ge "$max_age" ]
}

bootstrap() {
	local uri
	command -v mmdebstrap >/dev/null || {
		log "installing mmdebstrap on the host"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			-o DPkg::Lock::Timeout=900 --no-install-recommends mmdebstrap >/dev/null
	}
	uri=$(debian_archive_uri)
	if [ -z "$uri" ]; then
		apt-get update -qq
		uri=$(debian_archive_uri)
	fi
	[ -n "$uri" ] || die "no Debian archive in this machine's apt sources"

	# A half-made chroot (interrupted run) is thrown away, not repaired.
	# No mount is ever left in it: build mounts in a private namespace.
	rm -rf "$root"
	mkdir -p "$cache"
	# Releases prepared in the chroot that is thrown away are gone with it.
	rm -f "$cache"/*.release
	# mmdebstrap's "apt" variant (Essential packages and apt, less than
	# debootstrap's minbase) took 60 s where debootstrap --variant=minbase
	# took 66-160 s on the same machine, and is half the size.
	# Only what a module build needs: no recommends, no documentation.
	# The archive this machine reaches may be a frozen copy whose Release
	# files are past their Valid-Until date; apt would then refuse every
	# update.  Signatures are still checked.  The options stay in the chroot.
	log "mmdebstrap --variant=apt $suite from $uri (about a minute)"
	mmdebstrap --mode=root --variant=apt --components=main --include=make \
		--aptopt='APT::Install-Recommends "false"' \
		--aptopt='APT::Install-Suggests "false"' \
		--aptopt='Acquire::Check-Valid-Until "false"' \
		--aptopt='Acquire::Languages "none"' \
		--aptopt='Dpkg::Use-Pty "false"' \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/info/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		"$suite" "$root" "$uri" >"$cache/bootstrap.log" 2>&1 || {
		tail -n 20 "$cache/bootstrap.log" >&2
		die "mmdebstrap failed (log: $cache/bootstrap.log)"
	}
	echo "$uri" >"$root/.cowstat-uri"
	# mmdebstrap removes its package lists when it is done.
	rm -f "$cache/apt-updated"
	touch "$root/.cowstat-bootstrapped"
}

# The row's suite, when it is not the chroot's own (trixie-backports in the
# trixie chroot): same archive, pinned at 100 so that only what the kernel
# packages need is taken from it.
add_package_suite() {
	local f=$root/etc/apt/sources.list.d/cowstat-$K_SUITE.sources
	[ "$K_SUITE" != "$suite" ] || return 0
	[ ! -e "$f" ] || return 0
	log "adding $K_SUITE to the $suite chroot (pinned at 100)"
	apt_source_file "$f" "$(cat "$root/.cowstat-uri")" "$K_SUITE" \
		"$root/etc/apt/preferences.d/cowstat-$K_SUITE" 100
	rm -f "$cache/apt-updated"
}

pkg_version() {	# in chroot: candidate version of a package
	in_root apt-cache policy "$1" | sed -n 's/^ *Candidate: //p'
}
pkg_known() {	# in chroot: apt has the package
	[ -n "$(pkg_version "$1")" ] && [ "$(pkg_version "$1")" != "(none)" ]
}

# PACKAGE VERSION: installed on the host (in the chroot) at that version,
# or at any version if VERSION is empty.
host_has() {
	dpkg-query -W -f '${Status} ${Version}\n' "$1" 2>/dev/null |
		grep -qx "install ok installed ${2:-.*}"
}
root_has() {
	in_root dpkg-query -W -f '${Status} ${Version}\n' "$1" 2>/dev/null |
		grep -qx "install ok installed ${2:-.*}"
}

# The modules directory of RELEASE inside the chroot (merged /usr or not).
root_modules_dir() {
	if [ -L "$root/lib" ]; then
		echo "$root/usr/lib/modules/$1"
	else
		echo "$root/lib/modules/$1"
	fi
}

prepare_one() {
	local rel hrel ver pkgs p missing=0 debs r
	select_row "$1"
	mkdir -p "$cache"
	exec 9>"$cache/lock"
	flock 9

	[ -e "$root/.cowstat-bootstrapped" ] || bootstrap
	add_package_suite

	if stale "$cache/apt-updated"; then
		log "apt-get update in the $suite chroot"
		in_root apt-get update -qq
		touch "$cache/apt-updated"
	fi

	r=$(meta_release "$K_SUITE" "$K_IMAGE" linux-image) || exit 1
	rel=${r%% *}
	r=$(meta_release "$K_SUITE" "$K_HEADERS" linux-headers) || exit 1
	hrel=${r%% *}
	[ "$rel" = "$hrel" ] ||
		die "$K_NAME: $K_IMAGE points at $rel but $K_HEADERS at $hrel in $K_SUITE"
	ver=$(pkg_version "linux-headers-$rel")

	# Build tree, and with it the compiler it was made with; and dkms,
	# because the host's cannot use that compiler (dkms_test.sh).
	if ! root_has "linux-headers-$rel" "$ver" || ! root_has make "" ||
	   ! root_has dkms ""; then
		log "installing linux-headers-$rel ($ver), make and dkms in the $suite chroot"
		# Its output (harmless update-alternatives warnings about the
		# excluded manual pages) goes to a log, shown on failure.
		in_root apt-get install -y -qq "linux-headers-$rel=$ver" make dkms \
			>"$cache/install.log" 2>&1 || {
			tail -n 20 "$cache/install.log" >&2
			die "apt-get install in the chroot failed (log: $cache/install.log)"
		}
		in_root apt-get clean
	fi

	# A build tree that something changed (DKMS 2.x cleaning it: see
	# cmd_dkms) is put back as packaged; the check takes half a second.
	# Files excluded at unpack (documentation) count as changed: skipped.
	pkgs=($(in_root dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' \
		'linux-headers-*' 'linux-kbuild-*' 2>/dev/null | awk '$1 == "ii" { print $2 }'))
	if in_root dpkg --verify "${pkgs[@]}" 2>&1 | grep -v ' /usr/share/doc/' | grep -q .; then
		log "the build tree of $rel in the $suite chroot was changed: reinstalling ${pkgs[*]}"
		in_root apt-get install -y -qq --reinstall "${pkgs[@]}" >"$cache/install.log" 2>&1 || {
			tail -n 20 "$cache/install.log" >&2
			die "reinstalling the headers in the chroot failed (log: $cache/install.log)"
		}
		in_root apt-get clean
	fi

	# Kernel image and modules on the host.  The 7.x packages depend on
	# nothing but each other and kmod and run no maintainer script but
	# depmod; a 5.10 linux-image-REL needs only kmod, linux-base and
	# initramfs-tools, which bookworm has.
	if pkg_known "linux-binary-$rel"; then
		pkgs=("linux-base-$rel" "linux-binary-$rel" "linux-modules-$rel")
	else
		pkgs=("linux-image-$rel")
	fi
	ver=$(pkg_version "${pkgs[0]}")
	for p in "${pkgs[@]}"; do
		host_has "$p" "$ver" || missing=1
	done
	if [ "$missing" = 1 ]; then
		log "downloading ${pkgs[*]} ($ver) in the $suite chroot"
		debs=$root/tmp/cowstat-debs-$K_NAME
		rm -rf "$debs" && mkdir -p "$debs"
		in_root sh -c 'cd "$1" && shift &&
			exec apt-get download -qq -o APT::Sandbox::User=root "$@"' \
			download "/tmp/cowstat-debs-$K_NAME" "${pkgs[@]/%/=$ver}" >/dev/null
		log "installing them on the host"
		host_install_debs "$debs"/*.deb || die "installing ${pkgs[*]} on the host failed"
		rm -rf "$debs"
	fi
	# The 7.x packages leave the image in the modules directory; the boot
	# loader hooks that link it into /boot come with linux-image-*.
	if [ ! -e "/boot/vmlinuz-$rel" ]; then
		[ -e "/usr/lib/modules/$rel/vmlinuz" ] ||
			die "neither /boot/vmlinuz-$rel nor /usr/lib/modules/$rel/vmlinuz"
		ln -sfn "/usr/lib/modules/$rel/vmlinuz" "/boot/vmlinuz-$rel"
	fi

	echo "$rel" >"$cache/$K_NAME.release"
	log "$K_NAME ready: $rel, $(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(.*\)"/\1/p' \
		"$root/usr/src/linux-headers-$rel/.config")"
	exec 9>&-
}

# tool SUITE PACKAGE...: SUITE's chroot, made if missing, with PACKAGEs
# installed (trixie's virtiofsd for scripts/virtiofsd.sh).
cmd_tool() {
	local p missing=()
	select_suite "$1"
	shift
	mkdir -p "$cache"
	exec 9>"$cache/lock"
	flock 9
	[ -e "$root/.cowstat-bootstrapped" ] || bootstrap
	for p in "$@"; do
		root_has "$p" "" || missing+=("$p")
	done
	[ ${#missing[@]} -gt 0 ] || return 0
	if stale "$cache/apt-updated"; then
		log "apt-get update in the $suite chroot"
		in_root apt-get update -qq
		touch "$cache/apt-updated"
	fi
	log "installing ${missing[*]} in the $suite chroot"
	in_root apt-get install -y -qq "${missing[@]}" >"$cache/install.log" 2>&1 || {
		tail -n 20 "$cache/install.log" >&2
		die "apt-get install in the chroot failed (log: $cache/install.log)"
	}
	in_root apt-get clean
	exec 9>&-
}

# The release prepare installed for the selected row.
prepared_release() {
	[ -s "$cache/$K_NAME.release" ] && [ -e "$root/.cowstat-bootstrapped" ] ||
		die "$K_NAME not prepared: run scripts/chroot-kernel.sh prepare $K_NAME"
	cat "$cache/$K_NAME.release"
}

# Does the kbuild of the build tree KDIR (in the chroot) take MO= (6.13+)?
# Debian's per-flavour Makefile includes the common one, which has it.
kbuild_has_mo() {
	local mk=$root$1/Makefile inc
	grep -qs 'origin MO' "$mk" && return 0
	inc=$(sed -n 's/^include \(\/.*\)/\1/p' "$mk" | head -n 1)
	[ -n "$inc" ] && grep -qs 'origin MO' "$root$inc"
}

cmd_build() {
	local name=$1 src out rel kdir sub excl mo
	[ $# -ge 3 ] || usage
	need_root build
	src=$(cd "$2" && pwd) || die "no source directory $2"
	mkdir -p "$3"
	out=$(cd "$3" && pwd)
	shift 3
	[ -e "$src/Kbuild" ] || die "no Kbuild in $src"
	[ "$src" != "$out" ] || die "OUTDIR must differ from SRCDIR"
	select_row "$name"
	rel=$(prepared_release)
	kdir=/usr/src/linux-headers-$rel
	[ -d "$root$kdir" ] || die "no build tree for $rel in the $suite chroot: run prepare $name"

	exec 9>"$cache/lock"
	flock -s 9

	# kbuild builds into MO= only from a clean source tree (it refuses one
	# with a modules.order), and the tree may hold a build for another
	# kernel.  So the build reads a copy without build products, .git,
	# build/ or OUTDIR.
	stage=$(mktemp -d "$cache/stage.XXXXXX")
	trap 'rm -rf "${stage:-}"' EXIT
	excl=(--exclude-vcs --exclude=./build --exclude='*.o' --exclude='*.ko'
	      --exclude='*.mod' --exclude='*.mod.c' --exclude='.*.cmd'
	      --exclude='*.a' --exclude=modules.order --exclude=Module.symvers)
	sub=
	case $out/ in
	"$src"/*) sub=${out#"$src"/}; excl+=("--exclude=./$sub") ;;
	esac
	# kbuild before 6.13 (5.10) has no MO=: the copy then goes into OUTDIR,
	# and the build runs there (messages name OUTDIR's copies).
	if kbuild_has_mo "$kdir"; then
		tar -C "$src" -cf - "${excl[@]}" . | tar -C "$stage" -xf -
		# The mount point for OUTDIR when it lies inside SRCDIR.
		[ -z "$sub" ] || mkdir -p "$stage/$sub"
		mo=1
	else
		tar -C "$src" -cf - "${excl[@]}" . | tar -C "$out" -xf -
		mo=
	fi

	# With MO=, the copy appears in the chroot at SRCDIR's path, read-only, and OUTDIR
	# at its own, so the compiler's messages name the real files.  The
	# mounts (and /proc, which objtool reads) live in a private mount
	# namespace that goes away with the build: nothing stays mounted in the
	# cache, even after a kill.
	unshare --mount --propagation private /bin/bash -euo pipefail -c '
		root=$1 stage=$2 src=$3 out=$4 kdir=$5 mo=$6
		shift 6
		mount -t proc proc "$root/proc"
		mkdir -p "$root$src" "$root$out"
		if [ -n "$mo" ]; then
			mount --bind "$stage" "$root$src"
			mount -o remount,bind,ro "$root$src"
		fi
		mount --bind "$out" "$root$out"
		if [ -n "$mo" ]; then
			set -- M="$src" MO="$out" "$@"
		else
			set -- M="$out" "$@"
		fi
		exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 make -C "$kdir" "$@" modules
	' chroot-build "$root" "$stage" "$src" "$out" "$kdir" "$mo" "$@"
}

cmd_dkms() {
	local name=$1 rel mods
	[ $# -ge 2 ] || usage
	shift
	need_root dkms
	select_row "$name"
	rel=$(prepared_release)
	mods=/usr/lib/modules/$rel
	[ -d "$mods" ] || die "$rel is not installed on the host: run prepare $name"
	in_root sh -c 'command -v dkms' >/dev/null || die "no dkms in the $suite chroot: run prepare $name"
	exec 9>"$cache/lock"
	flock -s 9
	# -k RELEASE unless the command names a kernel itself (the DKMS test
	# asks for releases outside BUILD_EXCLUSIVE_KERNEL, which have no tree).
	case $1 in
	build|install)
		case " $* " in
		*" -k "*|*" --kernelver "*|*" --kernelver="*) ;;
		*) set -- "$@" -k "$rel" --kernelsourcedir "/usr/src/linux-headers-$rel" ;;
		esac
		;;
	esac
	# DKMS 2.x (bullseye's 2.8.4) treats a tree named with
	# --kernelsourcedir as a full source tree: before the build it runs
	# make mrproper, oldconfig and prepare-all in it, after the build make
	# mrproper again and it empties its .config, which breaks the headers
	# (include/generated/autoconf.h, .config).  --no-prepare-kernel and
	# --no-clean-kernel stop both.
	case " $* " in
	*" --kernelsourcedir "*)
		case $(in_root dpkg-query -W -f '${Version}' dkms) in
		2.*) set -- "$@" --no-prepare-kernel --no-clean-kernel ;;
		esac
		;;
	esac
	unshare --mount --propagation private /bin/bash -euo pipefail -c '
		root=$1 mods=$2 target=$3
		shift 3
		mount -t proc proc "$root/proc"
		mkdir -p "$target"
		mount --bind "$mods" "$target"
		exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 dkms "$@"
	' chroot-dkms "$root" "$mods" "$(root_modules_dir "$rel")" "$@"
}

[ $# -ge 2 ] || usage
cmd=$1
shift
case $cmd in
prepare) need_root prepare; for n in "$@"; do prepare_one "$n"; done ;;
release) [ $# = 1 ] || usage; select_row "$1"; prepared_release ;;
build) cmd_build "$@" ;;
dkms) cmd_dkms "$@" ;;
root) [ $# = 1 ] || usage; select_row "$1"; echo "$root" ;;
tool) [ $# -ge 2 ] || usage; need_root tool; cmd_tool "$@" ;;
*) usage ;;
esac
