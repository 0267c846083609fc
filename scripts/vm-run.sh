#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a Debian distro kernel under qemu (virtme-ng, software emulation) with
# this machine's root file system shared read-only and the current directory
# visible, run one command as root inside it, and return its exit status.
#
# The run fails (exit 125) if the guest's kernel log shows any BUG:, WARNING:,
# Oops, Call Trace or lockdep report, whatever the command returned.
#
# usage: scripts/vm-run.sh [-k RELEASE | -i IMAGE] [-c CPUS] [-m MEM] [-t SECS] -- CMD...
#        scripts/vm-run.sh -A      print the accelerator it would use: KVM or TCG
#
# COWSTAT_VM_PLUGIN=FILE.so[,ARG=...] loads a qemu TCG plugin (make bench's
# instruction counter, bench/insn_count.c); with KVM there are none.
#
# -k boots /boot/vmlinuz-RELEASE (with /lib/modules/RELEASE), -i a kernel
# image of a build tree that has everything it needs built in (the debug
# kernel of scripts/debug-kernel.sh).  A kernel without 9P (the cloud
# kernel) gets the root file system over virtio-fs (scripts/virtiofsd.sh).

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
release=${COWSTAT_KERNEL:-}
image=
cpus=2
mem=2G
limit=900

print_accel=
while getopts "k:i:c:m:t:A" opt; do
	case $opt in
	A) print_accel=1 ;;
	k) release=$OPTARG ;;
	i) image=$OPTARG ;;
	c) cpus=$OPTARG ;;
	m) mem=$OPTARG ;;
	t) limit=$OPTARG ;;
	*) echo "usage: $0 [-k RELEASE | -i IMAGE] [-c CPUS] [-m MEM] [-t SECS] -- CMD..." >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))

# KVM is used only where it is the processor's own (kvm_intel or kvm_amd):
# a /dev/kvm can also come from kvm_pvm, a software KVM for nested clouds
# that runs only guest kernels built for it; a Debian kernel hangs there
# after "Probing EDD" and never boots.  COWSTAT_VM_ACCEL=kvm or tcg
# overrides the choice.
#
# Without KVM qemu emulates the CPUs (TCG).  Its default multi-threaded mode
# does not reliably drop stale translated code when one vCPU rewrites kernel
# text that another is executing: with kprobes being armed and disarmed in a
# loop (module reload under load) a vCPU was seen trapping forever on an int3
# already removed from memory (soft lockup at wp_page_reuse+0 and
# release_task+0) and, we believe, jumping to address 0.  One emulation
# thread for all vCPUs has no such race; the guest still has several CPUs
# and real preemption.
accel_choice=${COWSTAT_VM_ACCEL:-}
if [ -z "$accel_choice" ]; then
	accel_choice=tcg
	if [ -r /dev/kvm ] && [ -w /dev/kvm ] &&
	   { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; }; then
		accel_choice=kvm
	fi
fi
if [ -n "$print_accel" ]; then
	echo "$accel_choice" | tr a-z A-Z
	exit 0
fi
[ $# -gt 0 ] || { echo "vm-run: no command" >&2; exit 2; }
if [ -z "$image" ]; then
	[ -n "$release" ] || release=$("$here/kernel-release.sh")
	image=/boot/vmlinuz-$release
fi
[ -r "$image" ] || { echo "vm-run: no kernel image $image (run scripts/setup.sh)" >&2; exit 2; }

# A kernel without 9P (Debian's cloud kernel) gets the host's root over
# virtio-fs instead, served by trixie's virtiofsd (scripts/virtiofsd.sh),
# which virtme-ng finds first in its PATH.
vfsdir=
config=/boot/config-$release
if [ "$image" = "/boot/vmlinuz-$release" ] && [ -r "$config" ] && ! grep -q '^CONFIG_9P_FS=[ym]' "$config"; then
	grep -q '^CONFIG_VIRTIO_FS=[ym]' "$config" ||
		{ echo "vm-run: $release has neither 9P nor virtio-fs: virtme-ng cannot boot it" >&2; exit 2; }
	"$here/virtiofsd.sh" --check ||
		{ echo "vm-run: $release has no 9P and needs trixie's virtiofsd: run scripts/virtiofsd.sh --prepare" >&2; exit 2; }
	vfsdir=$(mktemp -d)
	ln -s "$here/virtiofsd.sh" "$vfsdir/virtiofsd"
	PATH=$vfsdir:$PATH
fi

# The command runs under guest-wrap.sh, which checks the guest's kernel log
# after it and prints one status line that is checked here as well, so a
# guest that dies early cannot pass.
#
# The guest's console (its kernel log as it happens) goes to a file, shown
# when the run fails: a guest that oopses or locks up panics at once (and
# virtme-ng's panic=-1 with qemu's -no-reboot ends the VM), and one that
# hangs otherwise is killed after the time limit, qemu included: timeout runs
# vng in its own process group and signals the whole group.
case $accel_choice in
kvm) accel=() ;;
tcg) accel=(--disable-kvm --qemu-opts="-accel tcg,thread=single${COWSTAT_VM_PLUGIN:+ -plugin $COWSTAT_VM_PLUGIN}") ;;
*) echo "vm-run: COWSTAT_VM_ACCEL must be kvm or tcg" >&2; exit 2 ;;
esac
if [ -n "${COWSTAT_VM_PLUGIN:-}" ] && [ "$accel_choice" != tcg ]; then
	echo "vm-run: COWSTAT_VM_PLUGIN needs software emulation (TCG), not $accel_choice" >&2
	exit 2
fi
cmd=$(printf '%q ' "$@")
out=$(mktemp)
console=$(mktemp)
trap 'rm -f "$out" "$out.pid" "$out.rc" "$console"; [ -z "$vfsdir" ] || rm -rf "$vfsdir"' EXIT
# timeout puts vng (and qemu, virtiofsd) in a process group of its own, so a
# signal to this script's group (make check interrupted) would leave the
# guest running: pass it on to that group.
stop_guest() {
	local p
	p=$(cat "$out.pid" 2>/dev/null) && kill -TERM -- "-$p" 2>/dev/null
	exit 130
}
trap stop_guest INT TERM HUP
# In the background, so that a signal (stop_guest) is handled at once, not
# after the guest is done: bash runs traps only between commands, and wait
# is one.
boot_guest() {
	set +e
	{
		timeout -k 10 "$limit" vng -v -r "$image" --cpus "$cpus" --memory "$mem" \
			"${accel[@]}" \
			--append "oops=panic softlockup_panic=1" \
			-- "bash $(printf '%q' "$here/guest-wrap.sh") $cmd" \
			</dev/null 2>"$console" &
		echo $! >"$out.pid"
		wait $!
		echo $? >"$out.rc"
	} | tee "$out" &
	wait $!
	rc=$(cat "$out.rc" 2>/dev/null || echo 125)
	set -e
}
boot_guest
# virtme-init runs the command only once udev has made the virtio-serial
# ports' names; a guest slowed down enough (a KASAN kernel next to another
# guest on 2 CPUs) sees udevadm time out first and powers off without
# running anything.  Nothing ran, so booting again is safe: once.
if ! grep -q '^cowstat-vm: exit status' "$out" &&
	grep -q 'virtme-init: cannot find script I/O ports' "$console"; then
	echo "vm-run: the guest's udev did not name the script ports in time (nothing ran): booting again" >&2
	boot_guest
fi

show_console() {
	echo "vm-run: $1; the guest's console (last 80 lines):" >&2
	tail -n 80 "$console" >&2
}

status=$(sed -n 's/^cowstat-vm: exit status \([0-9]*\).*/\1/p' "$out" | tail -n 1)
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
	show_console "guest did not finish within ${limit}s"
	exit 124
fi
if [ -z "$status" ]; then
	show_console "guest ended without a status line (vng exit $rc)"
	exit 125
fi
if grep -q '^cowstat-vm: kernel log NOT clean' "$out"; then
	exit 125
fi
exit "$status"
