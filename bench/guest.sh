#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The benchmark inside one VM boot (see bench/run.sh), or on a real test VM
# as root:  bench/guest.sh KO ROUNDS
#
# Each round runs every workload under each configuration -- module not
# loaded ("bare"), module loaded ("module"), the module with its old probe
# path, kprobes everywhere ("kprobe", where the module has probe_path=),
# with fprobes ("fprobe", where the kernel has them: 6.5 on, CONFIG_FPROBE),
# bpftrace counting the same events ("bpftrace"), and with COWBENCH_BASE_KO
# set, that other build of the module ("base", make bench BASE=) -- with
# the order of the
# configurations rotated from round to round, so slow drift in the machine
# hits all alike.  Prints one line per run, "bench: CONFIG WORKLOAD
# NANOSECONDS", and at the end the time to read `processes` with many
# processes tracked, and entry_bytes; then the scale runs (bench: scale-...):
# max_tracked=1048576, fork-write with 100 and with COWBENCH_SCALE (100,000;
# 0 leaves the scale runs out) idle tracked processes, those all tracked
# exactly, reading them, the longest table-lock hold.
#
# Every run of cowbench that passes its marker instructions (calibrate, and
# the timed part of fork-write, faults and storm) prints exactly one line,
# warm-ups included ("bench: warmup ...", "bench: scale-warmup ..."), in the
# order it ran: under make bench's TCG plugin each such run is one count of
# the plugin's output, and bench/run.sh pairs them by order.
#
# With COWBENCH_PROFILE=1 (the plugin's profile= is on) it also prints
# the symbols that name the profile's addresses, as "bench-ksym:" lines
# (not "bench:", so that they stay in the log and off the terminal): the
# kernel's text symbols once, sorted ("bench-ksym: kernel ADDRESS NAME";
# Debian's /boot/System.map is a stub, and KASLR moves the kernel anyway),
# and after each configuration is set up ("bench-ksym: setup CONFIG") the
# symbols of the module, the ftrace and kprobe trampolines and BPF
# programs ("bench-ksym: module ADDRESS NAME"), which load at new
# addresses each time.  bench/profile.awk reads them.

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
ko=$1
rounds=${2:-7}
bench=$here/cowbench
bt=$top/tools/bpftrace/cow_events.bt
dbg=/sys/kernel/debug/cowstat
spawn_count=${COWBENCH_SPAWN:-10000}

# The workloads: the issue's three cases, sized so one run takes about a
# second under emulation.
workloads=("fork-write 256" "faults 256" "storm 500")
configs=(bare module bpftrace)
# The old probe path beside the new, where the module has the choice.
probe_paths=0
if modinfo -p "$ko" 2>/dev/null | grep -q '^probe_path:'; then
	probe_paths=1
	configs+=(kprobe)
fi

mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
echo never >/sys/kernel/mm/transparent_hugepage/enabled
lsmod | grep -q '^cowstat ' && rmmod cowstat
# fprobe beside them where this kernel has one the module can use (the
# load refuses elsewhere, saying why).
if [ "$probe_paths" = 1 ] && insmod "$ko" probe_path=fprobe 2>/dev/null; then
	rmmod cowstat
	configs+=(fprobe)
fi
[ -z "${COWBENCH_BASE_KO:-}" ] || configs+=(base)

ksyms() {
	[ "${COWBENCH_PROFILE:-0}" = 1 ] || return 0
	echo "bench-ksym: setup $1"
	awk '/\[(cowstat|__builtin__ftrace|__builtin__kprobes|bpf)\]/ { print "bench-ksym: module", $1, $3 }' /proc/kallsyms
}

bt_pid=
setup() {
	case $1 in
	module) insmod "$ko" ;;
	kprobe) insmod "$ko" probe_path=kprobe ;;
	fprobe) insmod "$ko" probe_path=fprobe ;;
	base) insmod "$COWBENCH_BASE_KO" ;;
	bpftrace)
		bpftrace "$bt" >/tmp/cowbench-bt.out 2>&1 &
		bt_pid=$!
		# Measure only once every probe is attached.
		for _ in $(seq 600); do
			grep -q '^Attaching' /tmp/cowbench-bt.out && break
			kill -0 "$bt_pid" || { cat /tmp/cowbench-bt.out; exit 1; }
			sleep 0.1
		done
		sleep 2
		;;
	esac
	ksyms "$1"
}
teardown() {
	case $1 in
	module | kprobe | fprobe | base) rmmod cowstat ;;
	bpftrace)
		# Its output is not needed: SIGKILL, which closes its perf
		# events and so detaches its probes, cannot be missed as a
		# SIGINT can (selftests/cowstat/functions.sh, bt_stop).
		if ! kill -KILL "$bt_pid"; then
			echo "bench: bpftrace ended early:"
			cat /tmp/cowbench-bt.out
			exit 1
		fi
		wait "$bt_pid" || true
		;;
	esac
}

echo "bench: kernel $(uname -r), $(nproc) CPUs, $rounds rounds, configs ${configs[*]}"
[ "${COWBENCH_PROFILE:-0}" != 1 ] ||
	awk 'NF == 3 && $2 ~ /^[tTwW]$/ { print "bench-ksym: kernel", $1, $3 }' /proc/kallsyms |
	LC_ALL=C sort -k3,3
# The plugin's count against a loop of known length (cowbench calibrate).
for _ in 1 2 3; do
	echo "bench: $("$bench" calibrate 10000000)"
done

# Warm up (guest memory first touched, caches filled) before measuring.
for w in "${workloads[@]}"; do
	# shellcheck disable=SC2086
	set -- $("$bench" $w)
	echo "bench: warmup $1 $2"
done

nconfigs=${#configs[@]}
for r in $(seq "$rounds"); do
	for i in $(seq 0 $((nconfigs - 1))); do
		c=${configs[$(((r + i) % nconfigs))]}
		setup "$c"
		for w in "${workloads[@]}"; do
			# shellcheck disable=SC2086
			set -- $("$bench" $w)
			echo "bench: $c $1 $2"
		done
		teardown "$c"
	done
done

# Reading `processes` with many live processes tracked (rows are made at
# fork, so spawn after loading).
insmod "$ko" max_tracked=$((spawn_count + 1024))
coproc SPAWN { "$bench" spawn "$spawn_count"; }
# bash unsets SPAWN_PID once the coprocess is reaped: keep it
spawn_pid=$SPAWN_PID
read -r line <&"${SPAWN[0]}"
echo "bench: $line, tracked $(sed -n 's/^tracked: //p' "$dbg/summary")"
for _ in 1 2 3 4 5; do
	set -- $("$bench" read "$dbg/processes")
	echo "bench: read-processes $2 $3"
done
echo "bench: entry_bytes $(sed -n 's/^entry_bytes: //p' "$dbg/summary")"
kill "$spawn_pid"
wait "$spawn_pid" || true
rmmod cowstat

# Scale.  A row per idle process costs nothing on the fault path (one hash
# lookup), so fork-write must not slow down with the table full; one
# 100,000-row read must stay short and take the table lock not at all.
scale_count=${COWBENCH_SCALE:-100000}
[ "$scale_count" -gt 0 ] || exit 0
scale_rounds=${COWBENCH_SCALE_ROUNDS:-$rounds}
echo 4194304 >/proc/sys/kernel/pid_max
echo $((scale_count * 2 + 100000)) >/proc/sys/kernel/threads-max
if insmod "$ko" max_tracked=1048576; then
	echo "bench: scale-load ok"
else
	echo "bench: scale-load failed"
	exit 1
fi
summary_value() { sed -n "s/^$1: //p" "$dbg/summary"; }
# The pid of the cowbench spawn process under coproc $1's pid.
spawner() {
	if [ "$(cat "/proc/$1/comm")" = cowbench ]; then
		echo "$1"
	else
		pgrep -x -P "$1" cowbench
	fi
}
scale_idle() {
	local n=$1 line sp rows idle_pid
	coproc IDLE { "$bench" spawn "$n"; }
	idle_pid=$IDLE_PID
	read -r line <&"${IDLE[0]}"
	sp=$(spawner "$idle_pid")
	rows=$(awk -v p="$sp" 'NR > 1 && $2 == p' "$dbg/processes" | wc -l)
	echo "bench: scale-idle $n rows $rows dropped $(summary_value dropped)" \
	     "tracked $(summary_value tracked)"
	# Untimed first: the first runs after a change of the guest's memory
	# use are slower (2026-12-03: 1.9 s, 1.3 s, 1.2 s, then 0.7 s).
	for _ in 1 2 3; do
		set -- $("$bench" fork-write 256)
		echo "bench: scale-warmup $1 $2"
	done
	for _ in $(seq "$scale_rounds"); do
		set -- $("$bench" fork-write 256)
		echo "bench: scale-fork-write $n $2"
	done
	if [ "$n" -gt 100 ]; then
		for _ in 1 2 3 4 5; do
			set -- $("$bench" read "$dbg/processes")
			echo "bench: scale-read $2 $3"
		done
		echo "bench: scale-lock-max $(summary_value table_lock_max_ns)"
	fi
	kill "$idle_pid"
	wait "$idle_pid" || true
}
scale_idle 100
scale_idle "$scale_count"
rmmod cowstat
