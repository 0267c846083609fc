#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# cowstat.ko with a small table: load it with max_tracked=64 and history=16,
# keep BOUNDS_CHILDREN (default 5000) processes alive at once, each having
# written K pages it shared with its parent, and check that the table stays
# within its bounds, that `dropped` counts exactly the processes that got no
# row, and that the processes that did get one have exact numbers: their
# fork_inherited equals the anonymous pages each child found mapped by a
# walk of its page tables (smaps_rollup) before it wrote anything.  Reloads
# the module with default parameters at the end.
#
# usage: bounds_test.sh KO [WORKLOAD]   (root; cowstat.ko loaded or not)
# Prints KTAP.

ko=${1:?usage: $0 /path/to/cowstat.ko [WORKLOAD]}
here=$(cd "$(dirname "$0")" && pwd)
workload=${2:-$here/cowstat_workload}
dbg=/sys/kernel/debug/cowstat
children=${BOUNDS_CHILDREN:-5000}
max_tracked=64
history=16
K=4

. "$here/functions.sh"

names=(load_with_max_tracked_64 table_within_bounds dropped_counts_untracked
       tracked_children_exact)
ktap_plan

need_exec "$workload"

restore() { cs_load "$ko"; }

if ! cs_load "$ko" max_tracked=$max_tracked history=$history; then
	not_ok load_with_max_tracked_64
	restore
	skip_rest "module not loaded"
fi
ok load_with_max_tracked_64

declare -A s0 s1 row_inherited child_anon

# Nothing but the spawner may fork between the two reads of summary (they
# use shell builtins only), so the forks in between are exactly the spawner
# and its children; a run that saw other forks is repeated.
attempt_run() {
	local line pid anon
	pids=() child_anon=()
	echo reset >"$dbg/control" || return 2
	cs_read_summary s0
	# exec: the coproc's subshell becomes the spawner, one fork
	coproc SPAWN { exec "$workload" spawn "$children" "$K"; }
	spawner=$SPAWN_PID
	read -r line <&"${SPAWN[0]}"
	if [ "$line" != "children $children" ]; then
		log "spawner said: $line"
		return 2
	fi
	for ((i = 0; i < children; i++)); do
		read -r pid anon <&"${SPAWN[0]}"
		pids+=("$pid")
		child_anon[$pid]=$anon
	done
	cs_read_summary s1
	# rows of processes by pid: fork_inherited
	cs_table_column processes fork_inherited row_inherited || return 1
	# Let the spawner kill and reap its children.
	eval "exec ${SPAWN[1]}>&-"
	wait "$spawner"
	forks=$((s1[forks] - s0[forks]))
	if [ "$forks" -ne $((children + 1)) ]; then
		log "$forks forks while spawning $children children (others forked)"
		return 1
	fi
	return 0
}
rc=1
for attempt in 1 2 3; do
	attempt_run
	rc=$?
	[ $rc -eq 1 ] || break
done
if [ $rc -ne 0 ]; then
	restore
	skip_rest "could not run the spawner alone"
fi

# Never more rows than the parameters allow
log "tracked ${s1[tracked]} exited ${s1[exited]} dropped ${s1[dropped]}" \
    "dropped_events ${s1[dropped_events]} (max_tracked $max_tracked," \
    "history $history, $children children)"
[ "${s1[tracked]}" -le $max_tracked ] && [ "${s1[exited]}" -le $history ]
result $? table_within_bounds

# Dropped = new processes (spawner and children) without a row
untracked=0 tracked_children=0
for pid in "${pids[@]}"; do
	if [ -n "${row_inherited[$pid]}" ]; then
		tracked_children=$((tracked_children + 1))
	else
		untracked=$((untracked + 1))
	fi
done
[ -n "${row_inherited[$spawner]}" ] || untracked=$((untracked + 1))
log "$tracked_children children tracked, $untracked new processes untracked"
[ "${s1[dropped]}" -eq "$untracked" ] && [ "$tracked_children" -gt 0 ]
result $? dropped_counts_untracked

# Each tracked child's fork_inherited is what its page tables showed
bad=0
for pid in "${pids[@]}"; do
	[ -n "${row_inherited[$pid]}" ] || continue
	if [ "${row_inherited[$pid]}" -ne "${child_anon[$pid]}" ]; then
		log "child $pid: fork_inherited ${row_inherited[$pid]}," \
		    "smaps_rollup ${child_anon[$pid]} anonymous pages"
		bad=1
	fi
done
log "e.g. child ${pids[0]}: fork_inherited ${row_inherited[${pids[0]}]:-none}," \
    "smaps_rollup ${child_anon[${pids[0]}]}"
result $bad tracked_children_exact

restore || log "reloading with default parameters failed"
totals
