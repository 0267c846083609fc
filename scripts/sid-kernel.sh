#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Debian sid's 7.2 kernel: build modules for it and boot it in qemu.
#
# Its build tree (linux-headers-7.2.*) needs gcc-16 and glibc >= 2.38, which
# bookworm does not have, so modules for it are built inside a minimal sid
# chroot (mmdebstrap) kept in a cache directory.  The kernel image and its
# modules are installed on the host, because virtme-ng boots
# /boot/vmlinuz-RELEASE with the host's root file system and loads modules
# from /lib/modules/RELEASE.
#
# usage: scripts/sid-kernel.sh prepare
#        scripts/sid-kernel.sh release
#        scripts/sid-kernel.sh build SRCDIR OUTDIR [MAKE-ARGS...]
#        scripts/sid-kernel.sh dkms DKMS-ARGS...
#        scripts/sid-kernel.sh root
#
#   prepare  (root) create or update the chroot and install 7.2 on the host;
#            idempotent, and quick when everything is in place
#   release  print the 7.2 release that prepare installed (7.2.13+deb14-amd64)
#   build    (root) build the out-of-tree module whose Kbuild is in SRCDIR for
#            that release; SRCDIR is only read (a build for another kernel
#            may be in it), objects and the .ko go to OUTDIR (kbuild's MO=,
#            OUTDIR may lie inside SRCDIR), MAKE-ARGS (e.g. KCFLAGS=...) are
#            passed to make; exits with make's status
#   dkms     (root) run sid's dkms in the chroot for that release, with the
#            host's /usr/lib/modules/RELEASE in place of the chroot's (in a
#            private mount namespace), so that "dkms install" puts the module
#            where the booted 7.2 guest's modprobe finds it, and "dkms remove"
#            takes it away again.  --kernelsourcedir is added for build and
#            install (the host's tree has no build link).  Sources to "dkms
#            add" go to ROOT/usr/src/NAME-VERSION first.
#   root     print the chroot's directory
#
# Environment:
#   COWSTAT_SID_CACHE    cache directory (default /var/cache/cowstat/sid)
#   COWSTAT_SID_SERIES   kernel series to take from sid (default 7.2)
#   COWSTAT_SID_MAX_AGE  seconds after which prepare refreshes sid's package
#                        lists (default 86400); 0 refreshes every time

set -euo pipefail

cache=${COWSTAT_SID_CACHE:-/var/cache/cowstat/sid}
series=${COWSTAT_SID_SERIES:-7.2}
max_age=${COWSTAT_SID_MAX_AGE:-86400}
root=$cache/root

log() { echo "sid-kernel: [${SECONDS}s] $*" >&2; }
die() { echo "sid-kernel: $*" >&2; exit 1; }
usage() {
	echo "usage: $0 prepare | release | build SRCDIR OUTDIR [MAKE-ARGS...] | dkms ARGS... | root" >&2
	exit 2
}

need_root() {
	[ "$(id -u)" = 0 ] || die "$1 must run as root (chroot, mounts, dpkg)"
}

# Run a command in the chroot with a clean environment; the host's locale
# and variables mean nothing there.
in_root() {
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

# The main Debian archive this machine's apt already uses for its own release
# (the same derivation as setup.sh): sid lives in the same archive, and no
# mirror host is written into the repository.
debian_archive_uri() {
	local codename
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	apt-get indextargets --format '$(REPO_URI) $(RELEASE)' \
		'Identifier: Packages' 2>/dev/null |
		awk -v rel="$codename" '$2 == rel && $1 !~ /security/ { print $1; exit }'
}

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
		apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
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
	# mmdebstrap's "apt" variant (Essential packages and apt, less than
	# debootstrap's minbase) took 60 s where debootstrap --variant=minbase
	# took 66-160 s on the same machine, and is half the size.
	# Only what a module build needs: no recommends, no documentation.
	# The archive this machine reaches may be a frozen copy whose sid
	# Release file is past its Valid-Until date; apt would then refuse every
	# update.  Signatures are still checked.  The options stay in the chroot.
	log "mmdebstrap --variant=apt sid from $uri (about a minute)"
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
		sid "$root" "$uri" >"$cache/bootstrap.log" 2>&1 || {
		tail -n 20 "$cache/bootstrap.log" >&2
		die "mmdebstrap failed (log: $cache/bootstrap.log)"
	}
	# mmdebstrap removes its package lists when it is done.
	rm -f "$cache/apt-updated"
	touch "$root/.cowstat-bootstrapped"
}

# The newest generic amd64 flavour of the series, e.g.
# linux-headers-7.2.13+deb14-amd64 -> 7.2.13+deb14-amd64.
newest_release() {
	in_root apt-cache pkgnames "linux-headers-$series." |
		sed -n 's/^linux-headers-\(.*-amd64\)$/\1/p' |
		{ grep -Ev -- '-(cloud|rt)-amd64$' || true; } | sort -V | tail -n 1
}

pkg_version() {	# in chroot: candidate version of a package
	in_root apt-cache policy "$1" | sed -n 's/^ *Candidate: //p'
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

cmd_prepare() {
	local rel ver pkgs p missing=0 debs
	need_root prepare
	mkdir -p "$cache"
	exec 9>"$cache/lock"
	flock 9

	[ -e "$root/.cowstat-bootstrapped" ] || bootstrap

	if stale "$cache/apt-updated"; then
		log "apt-get update in the chroot"
		in_root apt-get update -qq
		touch "$cache/apt-updated"
	fi

	rel=$(newest_release)
	[ -n "$rel" ] || die "sid has no linux-headers-$series.*-amd64"
	ver=$(pkg_version "linux-headers-$rel")

	# Build tree, and with it the compiler it was made with (gcc-16); and
	# dkms, because the host's cannot use that compiler (dkms_test.sh).
	if ! root_has "linux-headers-$rel" "$ver" || ! root_has make "" ||
	   ! root_has dkms ""; then
		log "installing linux-headers-$rel, make and dkms in the chroot"
		# Its output (harmless update-alternatives warnings about the
		# excluded manual pages) goes to a log, shown on failure.
		in_root apt-get install -y -qq "linux-headers-$rel" make dkms \
			>"$cache/install.log" 2>&1 || {
			tail -n 20 "$cache/install.log" >&2
			die "apt-get install in the chroot failed (log: $cache/install.log)"
		}
		in_root apt-get clean
	fi

	# Kernel image and modules on the host.  These three packages depend on
	# nothing but each other and kmod, and run no maintainer script but
	# depmod, so dpkg installs them on bookworm as they are, where dpkg -r
	# can take them away again.  The full linux-image-* package is not
	# installed: it would build an initramfs nobody uses.
	pkgs=("linux-base-$rel" "linux-binary-$rel" "linux-modules-$rel")
	for p in "${pkgs[@]}"; do
		host_has "$p" "$ver" || missing=1
	done
	if [ "$missing" = 1 ]; then
		log "downloading ${pkgs[*]} ($ver)"
		debs=$root/tmp/cowstat-debs
		rm -rf "$debs" && mkdir -p "$debs"
		in_root sh -c 'cd /tmp/cowstat-debs &&
			exec apt-get download -qq -o APT::Sandbox::User=root "$@"' \
			sid-download "${pkgs[@]/%/=$ver}" >/dev/null
		log "installing them on the host with dpkg"
		dpkg -i "$debs"/*.deb >/dev/null
		rm -rf "$debs"
	fi
	# The packages leave the image in the modules directory; the boot
	# loader hooks that link it into /boot come with linux-image-*.
	ln -sfn "/usr/lib/modules/$rel/vmlinuz" "/boot/vmlinuz-$rel"

	echo "$rel" >"$cache/release"
	log "ready: $rel, $(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(.*\)"/\1/p' \
		"$root/usr/lib/modules/$rel/build/.config")"
}

cmd_release() {
	[ -s "$cache/release" ] || die "not prepared: run scripts/sid-kernel.sh prepare"
	cat "$cache/release"
}

cmd_build() {
	local src out rel kdir sub excl
	[ $# -ge 2 ] || usage
	need_root build
	src=$(cd "$1" && pwd) || die "no source directory $1"
	mkdir -p "$2"
	out=$(cd "$2" && pwd)
	shift 2
	[ -e "$src/Kbuild" ] || die "no Kbuild in $src"
	[ "$src" != "$out" ] || die "OUTDIR must differ from SRCDIR"
	rel=$(cmd_release)
	kdir=/usr/lib/modules/$rel/build
	[ -d "$root$kdir" ] || die "no build tree for $rel in the chroot: run prepare"

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
	tar -C "$src" -cf - "${excl[@]}" . | tar -C "$stage" -xf -
	# The mount point for OUTDIR when it lies inside SRCDIR.
	[ -z "$sub" ] || mkdir -p "$stage/$sub"

	# The copy appears in the chroot at SRCDIR's path, read-only, and OUTDIR
	# at its own, so the compiler's messages name the real files.  The
	# mounts (and /proc, which objtool reads) live in a private mount
	# namespace that goes away with the build: nothing stays mounted in the
	# cache, even after a kill.
	unshare --mount --propagation private /bin/bash -euo pipefail -c '
		root=$1 stage=$2 src=$3 out=$4 kdir=$5
		shift 5
		mount -t proc proc "$root/proc"
		mkdir -p "$root$src" "$root$out"
		mount --bind "$stage" "$root$src"
		mount -o remount,bind,ro "$root$src"
		mount --bind "$out" "$root$out"
		exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 \
			make -C "$kdir" M="$src" MO="$out" "$@" modules
	' sid-build "$root" "$stage" "$src" "$out" "$kdir" "$@"
}

cmd_dkms() {
	local rel mods
	[ $# -ge 1 ] || usage
	need_root dkms
	rel=$(cmd_release)
	mods=/usr/lib/modules/$rel
	[ -d "$mods" ] || die "$rel is not installed on the host: run prepare"
	in_root sh -c 'command -v dkms' >/dev/null || die "no dkms in the chroot: run prepare"
	exec 9>"$cache/lock"
	flock -s 9
	case $1 in
	build|install) set -- "$@" -k "$rel" --kernelsourcedir "/usr/src/linux-headers-$rel" ;;
	esac
	unshare --mount --propagation private /bin/bash -euo pipefail -c '
		root=$1 mods=$2
		shift 2
		mount -t proc proc "$root/proc"
		mount --bind "$mods" "$root$mods"
		exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 dkms "$@"
	' sid-dkms "$root" "$mods" "$@"
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
prepare) [ $# = 0 ] || usage; cmd_prepare ;;
release) [ $# = 0 ] || usage; cmd_release ;;
build) cmd_build "$@" ;;
dkms) cmd_dkms "$@" ;;
root) [ $# = 0 ] || usage; echo "$root" ;;
*) usage ;;
esac
