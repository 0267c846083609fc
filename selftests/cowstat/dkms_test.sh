#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The DKMS packaging, end to end, for one kernel release:
#
#   selftests/cowstat/dkms_test.sh [RELEASE]
#
# Runs on the build host, as root (make check runs it after the VM suite):
# make dkms-install KERNELRELEASE=RELEASE builds and installs the module
# into /lib/modules/RELEASE; then the VM boots that kernel, which sees the
# host's root file system (/lib through a writable overlay), and
# dkms_guest.sh loads the module with modprobe, runs a fork-and-write
# scenario and unloads it; then make dkms-uninstall, and nothing of cowstat
# may be left in /usr/src, /var/lib/dkms or /lib/modules/RELEASE.
#
# Sid's 7.2 (the release scripts/sid-kernel.sh prepared) is built with
# gcc-16, which only its sid chroot has: there, add, build, install and
# remove run sid's dkms in that chroot (scripts/sid-kernel.sh dkms), with the
# host's /usr/lib/modules/RELEASE mounted in place, so the module lands where
# the guest's modprobe looks; the sources and DKMS tree are the chroot's.
#
# This installs into the machine's real DKMS and module trees; whatever
# happens, the script uninstalls again before it exits.  A lock keeps two
# runs on one machine (several worktrees) from interleaving.
#
# Needs dkms (scripts/setup.sh) and make tools.  Prints KTAP.

set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
rel=${1:-$(scripts/kernel-release.sh)} || exit 1
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' dkms.conf)

names=(dkms_install modprobe_loads_dkms_build fork_scenario modprobe_remove
       dkms_uninstall nothing_left_behind)
ntests=${#names[@]}
. "$top/selftests/cowstat/ktap.sh"

echo "TAP version 13"
echo "1..$ntests"
log "kernel $rel, cowstat $version"

[ "$(id -u)" = 0 ] || skip_rest "not root"

# Where DKMS runs: prefix is the root of its /usr/src and /var/lib/dkms.
if [ "$rel" = "$(scripts/sid-kernel.sh release 2>/dev/null)" ]; then
	prefix=$(scripts/sid-kernel.sh root)
	log "DKMS in the sid chroot $prefix (the kernel's gcc-16 is only there)"
	dkms() { scripts/sid-kernel.sh dkms "$@"; }
	do_install() {
		rm -rf "$prefix/usr/src/cowstat-$version" &&
		mkdir -p "$prefix/usr/src/cowstat-$version" &&
		cp -r Kbuild dkms.conf module "$prefix/usr/src/cowstat-$version/" &&
		dkms add "cowstat/$version" &&
		dkms build "cowstat/$version" &&
		dkms install "cowstat/$version"
	}
	do_uninstall() {
		if dkms status -m cowstat | grep -q .; then
			dkms remove "cowstat/$version" --all || return 1
		fi
		rm -rf "$prefix/usr/src/cowstat-$version"
	}
else
	prefix=
	command -v dkms >/dev/null || skip_rest "dkms not installed (scripts/setup.sh)"
	do_install() { make --no-print-directory dkms-install KERNELRELEASE="$rel"; }
	do_uninstall() { make --no-print-directory dkms-uninstall; }
fi
[ -n "$version" ] || skip_rest "no PACKAGE_VERSION in dkms.conf"
[ -x tools/demo/fork_write ] || skip_rest "no tools/demo/fork_write (make tools)"

exec 7>/run/lock/cowstat-dkms.lock
flock 7

installed=
uninstall() { do_uninstall >"$tmp/uninstall.log" 2>&1; }
tmp=$(mktemp -d /tmp/cowstat-dkms.XXXXXX)
trap '[ -n "$installed" ] && uninstall; rm -rf "$tmp"' EXIT

if dkms status -m cowstat | grep -q .; then
	log "cowstat was already in DKMS: $(dkms status -m cowstat)"
	log "not touching another installation"
	skip_rest "cowstat already installed in DKMS"
fi

# 1: add, build, install for the release
installed=1
do_install >"$tmp/install.log" 2>&1
rc=$?
status=$(dkms status -m cowstat -v "$version" -k "$rel")
log "dkms status: $status"
modfile=$(find "/lib/modules/$rel" -name 'cowstat.ko*' 2>/dev/null)
log "installed: $modfile"
if [ $rc -ne 0 ] || ! echo "$status" | grep -q ': installed' || [ -z "$modfile" ] ||
   ! grep -q "cowstat.ko" "/lib/modules/$rel/modules.dep"; then
	sed 's/^/# /' "$tmp/install.log"
	not_ok dkms_install
	skip_rest "DKMS installation failed"
fi
ok dkms_install

# 2-4: in the guest
scripts/vm-run.sh -k "$rel" -- "$top/selftests/cowstat/dkms_guest.sh" \
	"$top/tools/demo/fork_write" >"$tmp/vm.log" 2>&1
rc=$?
sed -n 's/^dkms-guest: \(# .*\)/\1/p' "$tmp/vm.log"
for name in modprobe_loads_dkms_build fork_scenario modprobe_remove; do
	if grep -qx "dkms-guest: ok $name" "$tmp/vm.log"; then
		ok $name
	else
		not_ok $name
	fi
done
if [ $rc -ne 0 ]; then
	log "vm-run exit status $rc; its output:"
	grep -v '^dkms-guest: ' "$tmp/vm.log" | tail -n 40 | sed 's/^/# /'
	[ "$fail" -gt 0 ] || not_ok "vm_run"
fi

# 5: remove from every kernel, and the sources
uninstall
rc=$?
installed=
[ $rc -eq 0 ] || sed 's/^/# /' "$tmp/uninstall.log"
result $rc dkms_uninstall

# 6: nothing left: not in DKMS, no sources, no module file, not in
# modules.dep (depmod ran again).  dkms itself creates a signing key,
# /var/lib/dkms/mok.{key,pub}, on its first build on a machine: that is
# dkms's, shared by all its modules, and stays.
left() {
	local bad=0
	if dkms status -m cowstat | grep -q .; then
		log "dkms status: $(dkms status -m cowstat)"
		bad=1
	fi
	for d in "$prefix/usr/src/cowstat-$version" "$prefix/var/lib/dkms/cowstat"; do
		[ ! -e "$d" ] || { log "$d still there"; bad=1; }
	done
	if find "/lib/modules/$rel" -name 'cowstat.ko*' | grep .; then
		bad=1
	fi
	if grep -E '(^|/)cowstat\.ko' "/lib/modules/$rel/modules.dep"; then
		log "cowstat still in modules.dep"
		bad=1
	fi
	if modinfo -k "$rel" cowstat >/dev/null 2>&1; then
		log "modinfo -k $rel still finds cowstat"
		bad=1
	fi
	return $bad
}
left
result $? nothing_left_behind

totals
