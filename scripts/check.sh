#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: install what is needed, build the module, the selftests and the
# tools, then run every test: checkpatch on the host, and the whole selftest
# suite inside each kernel of $KERNELS booted in qemu, one after the other.
# Prints each run's KTAP, a per-kernel line, and closes with the per-kernel
# lines again and "N passed, N failed, N skipped".  Exits non-zero on any
# failure, including a guest kernel warning.
#
# KERNELS: kernel releases (6.12.95+deb12-amd64) or series (6.1 6.12 7.2),
# separated by spaces; default: every supported series (scripts/
# kernel-release.sh --series).  Each release's module is built in
# build/<release>/.  Sid's 7.2 is installed and its module built through
# scripts/sid-kernel.sh (a cached sid chroot: its kbuild needs gcc-16).
# "debug" is the KASAN/lockdep/kmemleak build of 6.1 that
# scripts/debug-kernel.sh makes (and caches; half an hour to build the first
# time): not in the default set, not a packaged kernel, so no DKMS test.

set -uo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh || exit 1
if [ -z "${KERNELS:-}" ]; then
	KERNELS=$(scripts/kernel-release.sh --series) || exit 1
fi
# The sid chroot and the 7.2 kernel on the host, before its release can be
# named (quick when it is all in place).
for k in $KERNELS; do
	case $k in
	7.2|7.2.*) scripts/sid-kernel.sh prepare || exit 1; break ;;
	esac
done
sid_rel=$(scripts/sid-kernel.sh release 2>/dev/null) || sid_rel=
debug_rel=
for k in $KERNELS; do
	if [ "$k" = debug ]; then
		scripts/debug-kernel.sh build || exit 1
		debug_rel=$(scripts/debug-kernel.sh release) || exit 1
	fi
done
releases=()
for k in $KERNELS; do
	case $k in
	debug) releases+=("$debug_rel") ;;
	[0-9]*.[0-9]*-*) releases+=("$k") ;;	# a release: has a dash
	*) r=$(scripts/kernel-release.sh "$k") || exit 1; releases+=("$r") ;;
	esac
done

pass=0 fail=0 skip=0
summary=()
mkdir -p build

# Add up the "# Totals:" lines of one KTAP log.  A nested document (an
# indented Totals line, a test program run as one test of the runner) counts
# as its own tests instead of as the one test that wraps it.  A run that
# failed without reporting a failing test (crash, timeout, kernel warning)
# is one failure.
tally() {
	local log=$1 rc=$2 label=$3 p f s
	read -r p f s < <(awk '
		match($0, /# Totals: pass:[0-9]+ fail:[0-9]+ xfail:[0-9]+ xpass:[0-9]+ skip:[0-9]+ error:[0-9]+/) {
			split(substr($0, RSTART, RLENGTH), t, /[: ]/)
			# t: "#" "Totals" "" pass P fail F xfail X xpass XP skip S error E
			tp = t[5]; tf = t[7] + t[15]; ts = t[13]
			p += tp; f += tf; s += ts
			if (RSTART > 1) { if (tf) wf++; else wp++ }
			else { p -= wp; f -= wf; wp = wf = 0 }
		}
		END { print p + 0, f + 0, s + 0 }' "$log")
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "# $label: exit status $rc with no failing test reported: counted as 1 failure"
		f=1
	fi
	echo "# $label: $p passed, $f failed, $s skipped"
	summary+=("# $label: $p passed, $f failed, $s skipped")
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
}

scripts/checkpatch.sh | tee build/check-checkpatch.log
tally build/check-checkpatch.log "${PIPESTATUS[0]}" "checkpatch"

make --no-print-directory tools selftests >build/check-build.log 2>&1 || {
	cat build/check-build.log
	echo "# build of tools/selftests failed"
	fail=$((fail + 1))
}

# The module and the selftests' missing-probe variant for one release, in
# build/<release>/ and build/<release>/missing-probe/.
build_module() {
	local rel=$1 dir=build/$1
	if [ "$rel" = "$debug_rel" ]; then
		make --no-print-directory KDIR="$(scripts/debug-kernel.sh tree)" \
			BUILDDIR="$dir" module selftest-modules
	elif [ "$rel" = "$sid_rel" ]; then
		scripts/sid-kernel.sh build . "$dir" &&
		scripts/sid-kernel.sh build . "$dir/missing-probe" \
			KCFLAGS=-DCOWSTAT_SELFTEST_MISSING_PROBE
	else
		make --no-print-directory KERNELRELEASE="$rel" BUILDDIR="$dir" \
			module selftest-modules
	fi
}

for rel in "${releases[@]}"; do
	log=build/check-$rel.log
	dir=build/$rel
	# The build must be warning-free, like the kernel's own -Werror builds.
	if ! build_module "$rel" >build/check-module-$rel.log 2>&1 ||
	   grep -q 'warning:' build/check-module-$rel.log; then
		cat build/check-module-$rel.log
		echo "# kernel $rel: module build failed or warned: counted as 1 failure"
		summary+=("# kernel $rel: module build failed or warned")
		fail=$((fail + 1))
		continue
	fi
	echo "# kernel $rel: booting in qemu"
	# KASAN, lockdep and kmemleak make the debug kernel several times
	# slower; its image has everything built in.
	vm=(-k "$rel")
	[ "$rel" != "$debug_rel" ] ||
		vm=(-i "$(scripts/debug-kernel.sh image)" -m 3G -t 4800)
	scripts/vm-run.sh "${vm[@]}" -- "$PWD/selftests/cowstat/run_vm_tests.sh" \
		"$PWD/$dir/cowstat.ko" "$PWD/$dir/missing-probe/cowstat.ko" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	# run_vm_tests.sh prints "# kernel $(uname -r), ...": the guest must
	# really have run this release.
	if ! grep -q "^# kernel $rel, " "$log"; then
		echo "# kernel $rel: the guest did not report running $rel"
		[ "$rc" != 0 ] || rc=1
	fi
	tally "$log" "$rc" "kernel $rel"
	[ "$rel" != "$debug_rel" ] || continue
	# The DKMS package: install on this host for $rel, modprobe in the VM.
	selftests/cowstat/dkms_test.sh "$rel" 2>&1 | tee "build/check-dkms-$rel.log"
	tally "build/check-dkms-$rel.log" "${PIPESTATUS[0]}" "dkms $rel"
done

printf '%s\n' "${summary[@]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
