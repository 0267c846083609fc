#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# virtiofsd for guests whose kernel has no 9P (Debian's 6.1 cloud kernel):
# virtme-ng shares the host's root file system over 9P, or over virtio-fs
# when it finds a virtiofsd that runs unprivileged.  bookworm has only
# qemu 7.2's C daemon (/usr/lib/qemu/virtiofsd), which rejects virtme-ng's
# arguments ("fuse: invalid argument"), so virtme-ng falls back to 9P and a
# kernel without it panics at boot.  trixie's Rust virtiofsd accepts them but
# needs glibc 2.39; it is installed in the cached trixie chroot
# (scripts/chroot-kernel.sh tool trixie virtiofsd) and run on the host with
# that chroot's own dynamic loader and libraries.
#
# usage: scripts/virtiofsd.sh --prepare  (root) install it in the chroot
#        scripts/virtiofsd.sh --check    exit 0 if it is ready
#        scripts/virtiofsd.sh ARGS...    run it with virtiofsd's ARGS
#
# scripts/vm-run.sh puts a link named virtiofsd to this script first in
# virtme-ng's PATH for a kernel without CONFIG_9P_FS.
#
# Environment: COWSTAT_CHROOT_CACHE as for scripts/chroot-kernel.sh.

set -euo pipefail

here=$(dirname "$(readlink -f "$0")")
root=${COWSTAT_CHROOT_CACHE:-/var/cache/cowstat}/trixie/root
ld=$root/usr/lib64/ld-linux-x86-64.so.2
bin=$root/usr/libexec/virtiofsd

case ${1:-} in
--prepare)
	exec "$here/chroot-kernel.sh" tool trixie virtiofsd
	;;
--check)
	[ -x "$ld" ] && [ -x "$bin" ]
	exit
	;;
esac
[ -x "$ld" ] && [ -x "$bin" ] || {
	echo "virtiofsd: no trixie virtiofsd in $root: run scripts/virtiofsd.sh --prepare" >&2
	exit 1
}
exec "$ld" --library-path "$root/usr/lib/x86_64-linux-gnu" "$bin" "$@"
