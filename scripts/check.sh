#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: install what is needed, build the module, the selftests and the
# tools, then run every test: checkpatch on the host, and the whole selftest
# suite inside each kernel of $KERNELS booted in qemu.  Prints each run's
# KTAP, a per-kernel line, and closes with "N passed, N failed, N skipped".
# Exits non-zero on any failure, including a guest kernel warning.

set -uo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh || exit 1
default_release=$(scripts/kernel-release.sh) || exit 1
KERNELS=${KERNELS:-$default_release}

pass=0 fail=0 skip=0
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
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
}

scripts/checkpatch.sh | tee build/check-checkpatch.log
tally build/check-checkpatch.log "${PIPESTATUS[0]}" "checkpatch"

make --no-print-directory tools selftests >build/check-build.log 2>&1 || {
	cat build/check-build.log
	echo "# build of tools/selftests failed"
	fail=$((fail + 1))
}

for rel in $KERNELS; do
	log=build/check-$rel.log
	if ! make --no-print-directory KERNELRELEASE="$rel" module selftest-modules >build/check-module-$rel.log 2>&1; then
		cat build/check-module-$rel.log
		echo "# kernel $rel: module build failed: counted as 1 failure"
		fail=$((fail + 1))
		continue
	fi
	echo "# kernel $rel: booting in qemu"
	scripts/vm-run.sh -k "$rel" -- "$PWD/selftests/cowstat/run_vm_tests.sh" "$PWD/cowstat.ko" 2>&1 | tee "$log"
	tally "$log" "${PIPESTATUS[0]}" "kernel $rel"
	# The DKMS package: install on this host for $rel, modprobe in the VM.
	selftests/cowstat/dkms_test.sh "$rel" 2>&1 | tee "build/check-dkms-$rel.log"
	tally "build/check-dkms-$rel.log" "${PIPESTATUS[0]}" "dkms $rel"
done

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
