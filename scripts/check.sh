#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: install what is needed, build the module, the selftests and the
# tools, then run every test: checkpatch and the tool's tests that need no
# kernel on the host, and for each kernel of
# $KERNELS its module build and, for a "full" kernel of kernels.table, the
# whole selftest suite inside that kernel booted in qemu and the DKMS test.
# Prints each kernel's output as one block when it is done, a per-part line
# ("# kernel RELEASE: N passed, ..."), and closes with the per-part lines
# again and "N passed, N failed, N skipped".  Exits non-zero on any failure,
# including a guest kernel warning.
#
# KERNELS: names of kernels.table (5.10 6.1-rt sid), kernel releases
# (6.12.95+deb12-amd64: the row with that release, else a host kernel with
# that release's headers installed, tested in full), "debug" or "debug-rt"; separated by
# spaces.  Default: every row of the table: the "full" ones tested, the
# "build" ones only built (warnings fail).  Each release's module is built in
# build/<release>/.
#
# "chroot:SUITE" kernels are installed and their modules built through
# scripts/chroot-kernel.sh (a cached chroot per suite); their preparation
# runs in the background while the first host kernels are tested.
# COWSTAT_LANES (default 2) kernels are tested at once: each guest is one
# emulation thread, about one core; DKMS tests take turns (a lock in
# dkms_test.sh: they share /usr/src and /var/lib/dkms).  COWSTAT_LANES=1 is
# one kernel after the other.
#
# "debug" is the KASAN/lockdep/kmemleak build of 6.1 and "debug-rt" the
# PREEMPT_RT/lockdep/kmemleak build of 6.12 that scripts/debug-kernel.sh
# makes (and caches; half an hour each to build the first time): not in the
# default set, not packaged kernels, so no DKMS test.

set -uo pipefail
cd "$(dirname "$0")/.."
prog=check
. scripts/lib.sh

lanes=${COWSTAT_LANES:-2}
case $lanes in '' | *[!0-9]* | 0) die "COWSTAT_LANES must be a number >= 1" ;; esac
t0=$SECONDS

scripts/setup.sh || exit 1
[ -n "${KERNELS:-}" ] || KERNELS=$(table_names | tr '\n' ' ')

work=build/check.d
rm -rf "$work"
mkdir -p "$work/prep" "$work/res"

# The jobs, in the order given: "N KIND NAME MODE", KIND row (a table
# name), rel (a release without a row) or debug (NAME debug or debug-rt);
# MODE full or build.
jobs=()
chroot_names=()
n=0
debug_flavours=()
for k in $KERNELS; do
	n=$((n + 1))
	if [ "$k" = debug ] || [ "$k" = debug-rt ]; then
		jobs+=("$n debug $k full")
		debug_flavours+=("$k")
		continue
	fi
	if ! kernel_row "$k"; then
		case $k in
		[0-9]*.*-*) ;;
		*) die "unknown kernel '$k': not a name of $table_file ($(table_names | tr '\n' ' ')), a release, debug or debug-rt" ;;
		esac
		name=$(scripts/kernel-release.sh --name "$k" 2>/dev/null) || name=
		if [ -z "$name" ]; then
			[ -d "/lib/modules/$k/build" ] ||
				die "kernel '$k': no row of $table_file has that release, and its headers are not installed"
			jobs+=("$n rel $k full")
			continue
		fi
		kernel_row "$name"
	fi
	jobs+=("$n row $K_NAME $K_TEST")
	[ -z "$K_CHROOT" ] || chroot_names+=("$K_NAME")
done

# Kernels without 9P boot over virtio-fs with trixie's virtiofsd
# (scripts/virtiofsd.sh): that comes from the trixie chroot, prepared first.
need_vfs=
for j in "${jobs[@]}"; do
	read -r _ kind name mode <<<"$j"
	[ "$mode" = full ] || continue
	case $kind in
	row) kernel_row "$name"; [ -z "$K_CHROOT" ] || continue
	     r=$(scripts/kernel-release.sh "$name") || continue ;;
	rel) r=$name ;;
	*) continue ;;
	esac
	if [ -r "/boot/config-$r" ] && ! grep -q '^CONFIG_9P_FS=[ym]' "/boot/config-$r"; then
		need_vfs=1
	fi
done

if [ "${#chroot_names[@]}" -gt 0 ] || [ -n "$need_vfs" ]; then
	# One preparation after the other (they download and unpack; the
	# guests need the cores), each reported as NAME.rc when done.
	(
		if [ -n "$need_vfs" ]; then
			scripts/virtiofsd.sh --prepare >"$work/prep/virtiofsd.log" 2>&1
			echo $? >"$work/prep/virtiofsd.rc"
		fi
		for name in "${chroot_names[@]}"; do
			s=$SECONDS
			scripts/chroot-kernel.sh prepare "$name" >"$work/prep/$name.log" 2>&1
			echo $? >"$work/prep/$name.rc"
			echo "# prepared $name in $((SECONDS - s)) s" >>"$work/prep/$name.log"
		done
	) &
	prep_pid=$!
fi

# Wait for a background preparation (virtiofsd or a chroot kernel's).
wait_prep() {
	while [ ! -e "$work/prep/$1.rc" ]; do
		sleep 2
	done
	[ "$(cat "$work/prep/$1.rc")" = 0 ]
}

for k in "${debug_flavours[@]}"; do
	scripts/debug-kernel.sh "$k" build || exit 1
done

# Add up the "# Totals:" lines of one KTAP log.  A nested document (an
# indented Totals line, a test program run as one test of the runner) counts
# as its own tests instead of as the one test that wraps it.  A run that
# failed without reporting a failing test (crash, timeout, kernel warning)
# is one failure.  Prints the per-part line and appends "P F S LABEL" to
# the job's result file ($res).
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
	echo "$p $f $s $label: $p passed, $f failed, $s skipped" >>"$res"
}

# A part that is one check of its own (a build): 1 passed or 1 failed.
count() {
	local ok=$1 label=$2 text=$3
	echo "# $label: $text"
	if [ "$ok" = 0 ]; then
		echo "1 0 0 $label: $text" >>"$res"
	else
		echo "0 1 0 $label: $text: counted as 1 failure" >>"$res"
	fi
}

res=$work/res/0
scripts/checkpatch.sh | tee build/check-checkpatch.log
tally build/check-checkpatch.log "${PIPESTATUS[0]}" "checkpatch"

if ! make --no-print-directory tools selftests >build/check-build.log 2>&1; then
	cat build/check-build.log
	count 1 "build of tools/selftests" "failed"
fi
# The tool's tests that need no kernel (usage, --version, fake debugfs
# files): seconds, before the first VM boots.
python3 selftests/cowstat/cowstat_tool_test.py --host 2>&1 | tee build/check-tool-host.log
tally build/check-tool-host.log "${PIPESTATUS[0]}" "tool tests on the host"

# The module and the selftests' missing-probe variant for one release, in
# build/<release>/ and build/<release>/missing-probe/.
build_module() {
	local kind=$1 name=$2 rel=$3 dir=build/$3
	if [ "$kind" = debug ]; then
		make --no-print-directory KDIR="$(scripts/debug-kernel.sh "$name" tree)" \
			BUILDDIR="$dir" module selftest-modules
	elif [ "$kind" = row ] && [ -n "$K_CHROOT" ]; then
		scripts/chroot-kernel.sh build "$name" . "$dir" &&
		scripts/chroot-kernel.sh build "$name" . "$dir/missing-probe" \
			KCFLAGS=-DCOWSTAT_SELFTEST_MISSING_PROBE
	else
		make --no-print-directory KERNELRELEASE="$rel" BUILDDIR="$dir" \
			module selftest-modules
	fi
}

# One job: prepare (wait for it), build, and for "full" the VM suite and the
# DKMS test.  Everything it prints goes to its block; res collects its
# per-part lines.
run_job() {
	local idx=$1 kind=$2 name=$3 mode=$4 rel log dir vm rc start=$SECONDS
	res=$work/res/$idx
	K_CHROOT=
	case $kind in
	debug) rel=$(scripts/debug-kernel.sh "$name" release) || return ;;
	rel) rel=$name ;;
	row)
		kernel_row "$name"
		if [ -n "$K_CHROOT" ]; then
			if ! wait_prep "$name"; then
				cat "$work/prep/$name.log"
				count 1 "kernel $name" "preparation failed (scripts/chroot-kernel.sh prepare $name)"
				return
			fi
			sed -n 's/^\(chroot-kernel: .*\)/# \1/p' "$work/prep/$name.log"
		fi
		rel=$(scripts/kernel-release.sh "$name") || {
			count 1 "kernel $name" "no release (scripts/kernel-release.sh $name)"
			return
		}
		;;
	esac
	echo "# kernel $rel ($name, $mode${K_CHROOT:+, built in the $K_CHROOT chroot}): started after $((SECONDS - t0)) s"
	log=build/check-$rel.log
	dir=build/$rel
	# The build must be warning-free, like the kernel's own -Werror builds.
	if ! build_module "$kind" "$name" "$rel" >"build/check-module-$rel.log" 2>&1 ||
	   grep -q 'warning:' "build/check-module-$rel.log"; then
		cat "build/check-module-$rel.log"
		count 1 "build $rel" "module build failed or warned"
		return
	fi
	if [ "$mode" = build ]; then
		count 0 "build $rel" "module built without warnings (build-tested only: kernels.table)"
		return
	fi
	if [ -r "/boot/config-$rel" ] && ! grep -q '^CONFIG_9P_FS=[ym]' "/boot/config-$rel" &&
	   ! wait_prep virtiofsd; then
		cat "$work/prep/virtiofsd.log"
		count 1 "kernel $rel" "no virtiofsd for this kernel without 9P (scripts/virtiofsd.sh --prepare)"
		return
	fi
	echo "# kernel $rel: booting in qemu"
	# KASAN, lockdep and kmemleak make the debug kernel several times
	# slower; its image has everything built in.
	vm=(-k "$rel")
	[ "$kind" != debug ] ||
		vm=(-i "$(scripts/debug-kernel.sh "$name" image)" -m 3G -t 4800)
	scripts/vm-run.sh "${vm[@]}" -- "$PWD/selftests/cowstat/run_vm_tests.sh" \
		"$PWD/$dir/cowstat.ko" "$PWD/$dir/missing-probe/cowstat.ko" >"$log" 2>&1
	rc=$?
	cat "$log"
	# run_vm_tests.sh prints "# kernel $(uname -r), ...": the guest must
	# really have run this release.
	if ! grep -q "^# kernel $rel, " "$log"; then
		echo "# kernel $rel: the guest did not report running $rel"
		[ "$rc" != 0 ] || rc=1
	fi
	tally "$log" "$rc" "kernel $rel"
	echo "# kernel $rel: VM suite took $((SECONDS - start)) s"
	[ "$kind" != debug ] || return
	# The DKMS package: install for $rel, modprobe in the VM.
	scripts/dkms_test.sh "$rel" >"build/check-dkms-$rel.log" 2>&1
	rc=$?
	cat "build/check-dkms-$rel.log"
	tally "build/check-dkms-$rel.log" "$rc" "dkms $rel"
	echo "# kernel $rel: done in $((SECONDS - start)) s"
}

# A lane takes the next job off the queue until none is left, and prints
# each job's block when that job is done.
queue=$work/queue
printf '%s\n' "${jobs[@]}" >"$queue"
lane() {
	local j idx kind name mode
	while :; do
		j=$(flock "$queue.lock" sh -c 'head -n 1 "$1"; sed -i 1d "$1"' next "$queue")
		[ -n "$j" ] || return 0
		read -r idx kind name mode <<<"$j"
		run_job "$idx" "$kind" "$name" "$mode" >"$work/block-$idx" 2>&1
		flock "$work/print.lock" cat "$work/block-$idx"
	done
}
pids=()
for i in $(seq 1 "$lanes"); do
	lane &
	pids+=($!)
done
wait "${pids[@]}"
[ -z "${prep_pid:-}" ] || wait "$prep_pid"

pass=0 fail=0 skip=0
for i in $(seq 0 "$n"); do
	[ -e "$work/res/$i" ] || continue
	while read -r p f s line; do
		echo "# $line"
		pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	done <"$work/res/$i"
done
echo "# check took $((SECONDS - t0)) s, $lanes lane(s)"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
