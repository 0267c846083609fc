#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The benchmark inside one VM boot (see bench/run.sh), or on a real test VM
# as root:  bench/guest.sh KO ROUNDS
#
# Each round runs every workload under each configuration -- module not
# loaded ("bare"), module loaded ("module"), bpftrace counting the same
# events ("bpftrace") -- with the order of the configurations rotated from
# round to round, so slow drift in the machine hits all three alike.  Prints
# one line per run, "bench: CONFIG WORKLOAD NANOSECONDS", and at the end the
# time to read `processes` with many processes tracked, and entry_bytes.

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

mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
echo never >/sys/kernel/mm/transparent_hugepage/enabled
lsmod | grep -q '^cowstat ' && rmmod cowstat

bt_pid=
setup() {
	case $1 in
	module) insmod "$ko" ;;
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
}
teardown() {
	case $1 in
	module) rmmod cowstat ;;
	bpftrace)
		if ! kill -INT "$bt_pid"; then
			echo "bench: bpftrace ended early:"
			cat /tmp/cowbench-bt.out
			exit 1
		fi
		wait "$bt_pid" || true
		;;
	esac
}

# Warm up (guest memory first touched, caches filled) before measuring.
for w in "${workloads[@]}"; do
	# shellcheck disable=SC2086
	"$bench" $w >/dev/null
done

echo "bench: kernel $(uname -r), $(nproc) CPUs, $rounds rounds"
for r in $(seq "$rounds"); do
	for i in 0 1 2; do
		c=${configs[$(((r + i) % 3))]}
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
read -r line <&"${SPAWN[0]}"
echo "bench: $line, tracked $(sed -n 's/^tracked: //p' "$dbg/summary")"
for _ in 1 2 3 4 5; do
	set -- $("$bench" read "$dbg/processes")
	echo "bench: read-processes $2 $3"
done
echo "bench: entry_bytes $(sed -n 's/^entry_bytes: //p' "$dbg/summary")"
kill "$SPAWN_PID"
wait "$SPAWN_PID" || true
rmmod cowstat
