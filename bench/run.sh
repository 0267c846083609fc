#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The cowstat benchmark: boots the VM, runs bench/guest.sh in it (each
# workload under "bare", "module", "kprobe" (the module's old probe path)
# and "bpftrace", interleaved round by round), prints the medians and ratios
# and writes them to BENCHMARKS.md.
#
# usage: bench/run.sh [ROUNDS]      (make bench; KERNELRELEASE=... to choose)
#        BOOTS=N (default 1): N boots; the scale runs only in the first, the
#        later ones give the spread of the ratios from boot to boot.
#        SCALE=0 leaves the scale runs out (100,000 processes, 12 GiB, most
#        of the hour).
#        BASE=REV (a commit) also builds that commit's module and runs it
#        as "base" beside this one in every boot: a change to the module
#        measured side by side with the module before it.
#
# A benchmark, not a test: it reports, it does not fail on slow numbers.
# Under software emulation absolute times are meaningless; the ratios taken
# in one boot are what to compare.  There, qemu also runs the TCG plugin
# bench/insn_count.c (built by scripts/qemu-plugin.sh), which counts the
# guest instructions of each measured part: a figure that does not drift
# with the host's load the way times do.  In the first boot the plugin also
# profiles by translated block, and bench/profile.awk tells, with the
# symbols the guest prints, in which functions the fork-write runs' added
# instructions are.

set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
rounds=${1:-7}
boots=${BOOTS:-1}
scale=${SCALE:-100000}
release=${KERNELRELEASE:-$(scripts/kernel-release.sh)}

scripts/setup.sh
# In build/RELEASE/, as make check builds it: a cowstat.ko left there by an
# earlier make check is brought up to date, never taken as it was.
make -s KERNELRELEASE="$release" BUILDDIR="build/$release" module >/dev/null
ko=$top/build/$release/cowstat.ko
base_ko=
if [ -n "${BASE:-}" ]; then
	base_rev=$(git rev-parse --short "$BASE^{commit}")
	rm -rf build/bench-base
	mkdir -p build/bench-base
	git archive "$base_rev" Kbuild module | tar -x -C build/bench-base
	make -s -C "/lib/modules/$release/build" M="$top/build/bench-base" modules >/dev/null
	base_ko=$top/build/bench-base/cowstat.ko
fi
${CC:-cc} -O2 -Wall -Wextra -Werror -o bench/cowbench bench/cowbench.c
mkdir -p build
plugin=
if [ "$(scripts/vm-run.sh -A)" = TCG ]; then
	scripts/qemu-plugin.sh build/insn-count.so
	plugin=$top/build/insn-count.so
fi

# The guest's whole output stays in build/bench-guest[-N].log: the kernel
# report, if vm-run.sh found one (exit 125), is there.  12 GiB and an hour:
# the scale runs keep 100,000 processes alive, at about 75 KiB of kernel
# memory each (40 KiB of it page tables): 8 GiB ran out at 93,000.
files=()
for b in $(seq "$boots"); do
	out=build/bench-guest.log
	[ "$b" = 1 ] || out=build/bench-guest-$b.log
	insns=$top/build/bench-insns-$b.txt
	rm -f "$insns"
	s=$scale
	[ "$b" = 1 ] || s=0
	prof=
	[ "$b" != 1 ] || [ -z "$plugin" ] || prof=$top/build/bench-profile.txt
	rm -f "$top/build/bench-profile.txt"
	echo "bench: boot $b of $boots"
	COWSTAT_VM_PLUGIN=${plugin:+$plugin,out=$insns${prof:+,profile=$prof}} \
	scripts/vm-run.sh -m 12G -t 3600 -k "$release" -- \
		env COWBENCH_SCALE="$s" COWBENCH_PROFILE="${prof:+1}" COWBENCH_BASE_KO="$base_ko" \
		"$top/bench/guest.sh" "$ko" "$rounds" |
		tee "$out" | grep '^bench:'
	paired=build/bench-boot-$b.txt
	if [ -n "$plugin" ]; then
		awk -f bench/marked.awk -f bench/pair.awk "$insns" "$out" >"$paired"
	else
		grep '^bench:' "$out" >"$paired"
	fi
	files+=("$paired")
done

table=$(awk -f bench/report.awk "${files[@]}")
if [ -s build/bench-profile.txt ]; then
	table+=$'\n\n'"Where fork-write's added instructions go, the first boot: guest"
	table+=$'\n'"instructions per copy over bare, by the kernel function (or the module's,"
	table+=$'\n'"or a trampoline) each translated block starts in (bench/profile.awk; the"
	table+=$'\n'"functions that add at least one per copy in some configuration):"
	table+=$'\n\n'$(awk -f bench/marked.awk -f bench/profile.awk build/bench-guest.log build/bench-profile.txt)
fi

echo
echo "$table"

marker='<!-- notes: written by hand, kept by make bench -->'
notes=$(sed -n "/^$marker\$/,\$p" BENCHMARKS.md 2>/dev/null)

{
	echo "# cowstat benchmarks"
	echo
	echo "Written by \`make bench\` (bench/run.sh, $rounds rounds, $boots boot(s)); medians of runs"
	echo "interleaved in one VM boot.  Workloads: fork-write = fork of a process"
	echo "with 256 MiB touched, the child writes every page; faults = first-touch"
	echo "faults on 256 MiB, no fork; storm = 500 forks whose children write 16"
	echo "pages and exit.  Under software emulation (no KVM) absolute times are"
	echo "slow and noisy; compare the ratios.  The scale runs (12 GiB guest) keep"
	echo "100 and then 100,000 idle tracked processes alive while fork-write runs."
	echo
	echo "Kernel $release, $(date -u +%Y-%m-%d), qemu $(scripts/vm-run.sh -A), 2 vCPUs; module"
	echo "= probe_path=auto (ftrace_ops callbacks where the kernel can), kprobe ="
	echo "probe_path=kprobe (the path before 2026-12-03), fprobe = probe_path=fprobe"
	echo "(where the kernel has it)${base_ko:+, base = the module of commit $base_rev}."
	echo
	echo "$table"
	# The notes below the marker are written by hand; keep them.
	if [ -n "$notes" ]; then
		echo
		echo "$notes"
	fi
} >BENCHMARKS.md
echo
echo "bench: wrote BENCHMARKS.md"
