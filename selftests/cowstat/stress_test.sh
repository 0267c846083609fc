#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Stress cowstat.ko: for STRESS_SECONDS (default 60) run fork-and-write
# loops (children, grandchildren, threads, fork-then-exec: see
# cowstat_workload's "loop" mode) while other loops read every debugfs file
# and write "reset" to control.  Then, at a quiet point: the kernel log is
# clean, no row is left for a process that no longer exists, and after a
# reset and a known workload the rows of `processes` and `exited` add up
# exactly to the totals of `summary`.
#
# usage: stress_test.sh [WORKLOAD]   (root, cowstat.ko loaded)
# Prints KTAP.

here=$(cd "$(dirname "$0")" && pwd)
workload=${1:-$here/cowstat_workload}
dbg=/sys/kernel/debug/cowstat
seconds=${STRESS_SECONDS:-60}

. "$here/functions.sh"

names=(stress_ran kernel_log_clean no_rows_of_dead_processes
       rows_add_up_to_totals)
ktap_plan

need_module
need_exec "$workload"

kmsg_mark

# The stress itself
reader() {
	while :; do
		cat "$dbg/summary" "$dbg/processes" "$dbg/exited" >/dev/null ||
			exit 1
	done
}
resetter() {
	while :; do
		echo reset >"$dbg/control" || exit 1
		sleep 0.5
	done
}
pids=()
out=$(mktemp -d /tmp/cowstat-stress.XXXXXX)
trap 'rm -rf "$out"' EXIT
for i in 1 2; do
	"$workload" loop "$seconds" >"$out/loop$i" 2>&1 &
	pids+=($!)
done
reader & readers=($!)
reader & readers+=($!)
resetter & readers+=($!)
rc=0
for p in "${pids[@]}"; do
	wait "$p" || { log "workload $p failed"; rc=1; }
done
# A reader or the resetter that died on an error is gone already.
for p in "${readers[@]}"; do
	kill -0 "$p" 2>/dev/null || { log "reader/resetter $p ended early"; rc=1; }
	kill "$p" 2>/dev/null
	wait "$p" 2>/dev/null
done
log "$seconds s of stress; fork loops: $(cat "$out"/loop* | tr '\n' ' ')"
log "summary: $(tr '\n' ' ' <"$dbg/summary" | cut -c1-400)"
result $rc stress_ran

# No kernel report during the stress
if kernel_reports >/dev/null; then
	kernel_report_context | head -n 40 | sed 's/^/# dmesg: /'
	not_ok kernel_log_clean
else
	ok kernel_log_clean
fi

# Every row of `processes` belongs to a live process.  Read with shell
# builtins only, so this shell forks nothing while it reads; a process that
# was reaped between the read and the check is rechecked by reading again.
dead_rows() {
	local pid rest
	dead=()
	{
		read -r rest
		while read -r pid rest; do
			[ -d "/proc/$pid" ] || dead+=("$pid")
		done
	} <"$dbg/processes"
}
rc=1
for attempt in 1 2 3 4 5; do
	dead_rows
	if [ "${#dead[@]}" -eq 0 ]; then
		rc=0
		break
	fi
	log "attempt $attempt: rows of dead pids ${dead[*]}"
	sleep 2
done
result $rc no_rows_of_dead_processes

# After a reset and a short fork-and-write run, every counter's total
# equals the sum of its column over `processes` and `exited` (every event
# after a reset lands in some process's row, and none was dropped or
# evicted).  The summary is read before and after the tables; only a read
# with both summaries equal counts, so nothing happened in between.
declare -A total total2 sum
counters=(forks fork_shared fork_inherited cow_faults cow_copies cow_zero
	  cow_file cow_reuses cow_thp cow_hugetlb copied_bytes)
adds_up() {
	local c same=1 bad=0
	sum=()
	cs_read_summary total
	cs_table_sums processes sum
	cs_table_sums exited sum
	cs_read_summary total2
	for c in "${counters[@]}" dropped evicted; do
		[ "${total[$c]}" = "${total2[$c]}" ] || same=0
	done
	if [ $same -eq 0 ]; then
		log "events between the reads, reading again"
		return 2
	fi
	if [ "${total[dropped]}" != 0 ] || [ "${total[evicted]}" != 0 ]; then
		log "dropped ${total[dropped]} evicted ${total[evicted]}: rows cannot add up"
		return 1
	fi
	for c in "${counters[@]}"; do
		if [ "${sum[$c]:-0}" != "${total[$c]}" ]; then
			log "$c: rows add up to ${sum[$c]:-0}, total ${total[$c]}"
			bad=1
		fi
	done
	log "totals: forks ${total[forks]} cow_copies ${total[cow_copies]}" \
	    "cow_reuses ${total[cow_reuses]} fork_shared ${total[fork_shared]}"
	return $bad
}
echo reset >"$dbg/control"
"$workload" loop 3 >/dev/null 2>&1
# Retry at once, without sleep: a fork from this shell would share its
# pages copy-on-write again, and its next writes would be events in between.
# (The first attempt usually sees this shell's own copies after the fork of
# the workload.)
rc=1
for attempt in 1 2 3 4 5 6 7 8 9 10; do
	adds_up
	rc=$?
	[ $rc -ne 2 ] && break
done
result $rc rows_add_up_to_totals

totals
