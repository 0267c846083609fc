#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The DKMS packaging, end to end, for one kernel release:
#
#   scripts/dkms_test.sh [RELEASE]
#
# Runs on the build host, as root (make check runs it after the VM suite):
# make dkms-install KERNELRELEASE=RELEASE builds and installs the module
# into /lib/modules/RELEASE; then the VM boots that kernel, which sees the
# host's root file system (/lib through a writable overlay), and
# selftests/cowstat/dkms_guest.sh loads the module with modprobe, runs a fork-and-write
# scenario and unloads it; then make dkms-uninstall, and nothing of cowstat
# may be left in /usr/src, /var/lib/dkms or /lib/modules/RELEASE.
#
# In between, with the module added, DKMS must refuse releases outside
# dkms.conf's BUILD_EXCLUSIVE_KERNEL (5.10 to 7.3), one above and one below
# (names of no real kernel: DKMS checks the range before it looks for a
# build tree): "dkms build -k" exits with 77, as dkms(8) documents (9 on
# DKMS 2.x, bullseye's 2.8.4, whose manual only says it errors out), says
# why, and builds nothing; "dkms autoinstall -k", what DKMS's kernel hook
# runs, skips the module and succeeds, except on DKMS 3.0.0 to 3.0.10
# (bookworm's), where it exits 11 (DKMS issue #302, fixed in 3.0.11): that
# test is a SKIP there.
#
# A kernel of kernels.table built in a chroot (scripts/chroot-kernel.sh: its
# build needs the chroot's compiler) runs that chroot's dkms instead: add,
# build, install and remove run there (scripts/chroot-kernel.sh dkms), with
# the host's /usr/lib/modules/RELEASE mounted in place, so the module lands
# where the guest's modprobe looks; the sources and DKMS tree are the
# chroot's.
#
# This installs into the machine's real DKMS and module trees; whatever
# happens, the script uninstalls again before it exits.  A lock keeps two
# runs on one machine (several worktrees, make check's parallel lanes) from
# interleaving.
#
# Needs dkms (scripts/setup.sh) and make tools.  Prints KTAP.

set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
rel=${1:-$(scripts/kernel-release.sh)} || exit 1
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' dkms.conf)

# Releases just outside the supported range.
above=7.4.0-1-amd64
below=5.9.0-1-amd64

names=(dkms_install build_exclusive_above build_exclusive_below
       autoinstall_skips_outside_range modprobe_loads_dkms_build
       fork_scenario modprobe_remove dkms_uninstall nothing_left_behind)
. "$top/selftests/cowstat/functions.sh"

ktap_plan
log "kernel $rel, cowstat $version"

[ "$(id -u)" = 0 ] || skip_rest "not root"

# Where DKMS runs: prefix is the root of its /usr/src and /var/lib/dkms.
name=$(scripts/kernel-release.sh --name "$rel" 2>/dev/null) || name=
chroot=
if [ -n "$name" ] && [ -n "$(. scripts/lib.sh; kernel_row "$name"; echo "$K_CHROOT")" ]; then
	chroot=$name
fi
if [ -n "$chroot" ]; then
	prefix=$(scripts/chroot-kernel.sh root "$chroot")
	log "DKMS in the chroot $prefix (kernels.table: $chroot is built there)"
	dkms() { scripts/chroot-kernel.sh dkms "$chroot" "$@"; }
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
	dkms_version=$(chroot "$prefix" dpkg-query -W -f '${Version}' dkms 2>/dev/null)
else
	prefix=
	command -v dkms >/dev/null || skip_rest "dkms not installed (scripts/setup.sh)"
	do_install() { make --no-print-directory dkms-install KERNELRELEASE="$rel"; }
	do_uninstall() { make --no-print-directory dkms-uninstall; }
	dkms_version=$(dpkg-query -W -f '${Version}' dkms 2>/dev/null)
fi
log "dkms $dkms_version"
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

# 2-3: outside BUILD_EXCLUSIVE_KERNEL nothing is built.  Nothing of that
# release may appear in DKMS's tree, its status or /lib/modules.
if dpkg --compare-versions "$dkms_version" ge 3; then
	want=77
else
	want=9
fi
nothing_for() {
	local k=$1 bad=0 d
	# (DKMS 3.2 prints the "added" line whatever -k says)
	if dkms status -m cowstat -v "$version" -k "$k" 2>/dev/null | grep -qF -- "$k"; then
		log "dkms status for $k: $(dkms status -m cowstat -v "$version" -k "$k")"
		bad=1
	fi
	[ ! -e "$prefix/var/lib/dkms/cowstat/$version/$k" ] ||
		{ log "$prefix/var/lib/dkms/cowstat/$version/$k exists"; bad=1; }
	for d in "/lib/modules/$k" "$prefix/lib/modules/$k"; do
		[ ! -e "$d" ] || { log "$d exists"; bad=1; }
	done
	return $bad
}
excluded() {
	local k=$1 rc
	dkms build "cowstat/$version" -k "$k" >"$tmp/excl-$k.log" 2>&1
	rc=$?
	log "dkms build -k $k: exit status $rc (want $want): ...$(tr -s '\n ' '  ' <"$tmp/excl-$k.log" |
		grep -o 'includes a BUILD_EXCLUSIVE directive.*should not be built' | head -n 1)"
	if [ "$rc" = "$want" ] &&
	   grep -q 'BUILD_EXCLUSIVE directive' "$tmp/excl-$k.log" &&
	   grep -q 'should not be built' "$tmp/excl-$k.log" && nothing_for "$k"; then
		return 0
	fi
	sed 's/^/# /' "$tmp/excl-$k.log"
	return 1
}
excluded "$above"
result $? build_exclusive_above
excluded "$below"
result $? build_exclusive_below

# 4: autoinstall, as DKMS's kernel hook runs it for a new kernel, whose
# headers are installed by then (DKMS 3.2 looks for them first): here the
# tested release's, named with --kernelsourcedir.
if [ -n "$chroot" ]; then
	tree=/usr/src/linux-headers-$rel
else
	tree=$(readlink -f "/lib/modules/$rel/build")
fi
autoinstall_skips() {
	local k rc bad=0
	for k in "$above" "$below"; do
		dkms autoinstall -k "$k" --kernelsourcedir "$tree" >"$tmp/auto-$k.log" 2>&1
		rc=$?
		log "dkms autoinstall -k $k: exit status $rc"
		if [ "$rc" != 0 ] || ! nothing_for "$k"; then
			sed 's/^/# /' "$tmp/auto-$k.log"
			bad=1
		fi
	done
	return $bad
}
if dpkg --compare-versions "$dkms_version" ge 3 &&
   dpkg --compare-versions "$dkms_version" lt 3.0.11; then
	dkms autoinstall -k "$above" --kernelsourcedir "$tree" >"$tmp/auto.log" 2>&1
	rc=$?
	if nothing_for "$above"; then
		skip autoinstall_skips_outside_range "dkms $dkms_version autoinstall exits $rc for a module outside BUILD_EXCLUSIVE (DKMS issue #302, fixed in 3.0.11); nothing was built"
	else
		not_ok autoinstall_skips_outside_range
	fi
else
	autoinstall_skips
	result $? autoinstall_skips_outside_range
fi
# The installed build is still there.
status=$(dkms status -m cowstat -v "$version" -k "$rel")
echo "$status" | grep -q ': installed' || log "after the refusals, dkms status: $status"

# 5-7: in the guest
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

# 8: remove from every kernel, and the sources
uninstall
rc=$?
installed=
[ $rc -eq 0 ] || sed 's/^/# /' "$tmp/uninstall.log"
result $rc dkms_uninstall

# 9: nothing left: not in DKMS, no sources, no module file, not in
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
