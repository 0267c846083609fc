#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Cross-check cowstat's cow_faults against an independent count of
# do_wp_page entries by tools/bpftrace/cow_faults.bt.
#
# usage: cow_faults_test.sh [WORKLOAD]   (root, cowstat.ko loaded, bpftrace)
#
# "cowstat_workload bpf S K" forks a child that reads S pages of a MAP_SHARED
# mapping, clears soft-dirty (which write-protects every PTE), then writes
# the S shared pages and K private ones.  Every do_wp_page entry of a process
# is either a copy-on-write fault on a private mapping (cowstat: cow_faults)
# or one on a shared mapping (the S writes: wp_page_shared), so for the
# child bpftrace must see exactly cow_faults + S, and for the parent, which
# writes no write-protected shared page, exactly cow_faults.  Both processes
# are created after bpftrace has attached, so both counts cover their whole
# lives.  Prints KTAP.

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
workload=${1:-$here/cowstat_workload}
bt=$top/tools/bpftrace/cow_faults.bt
dbg=/sys/kernel/debug/cowstat
S=24
K=40

. "$here/functions.sh"

names=(bpftrace_attached workload_ran child_do_wp_page_eq_cow_faults_plus_shared
       parent_do_wp_page_eq_cow_faults)
ktap_plan

bt_setup "$workload"

# BEGIN's line appears once bpftrace runs; give the kprobe a moment more.
if ! bt_start "$out" 'cow_faults: counting' "$bt"; then
	not_ok "${names[0]}"
	skip_rest "bpftrace did not start"
fi
sleep 2
ok "${names[0]}"

if ! "$workload" bpf $S $K >"$out/wl" 2>&1; then
	sed 's/^/# workload: /' "$out/wl"
	not_ok "${names[1]}"
	skip_rest "workload failed"
fi
if ! bt_stop "$out" 'cow_faults: do_wp_page entries'; then
	not_ok "${names[1]}"
	skip_rest "bpftrace did not stop"
fi
read -r _ parent _ child <"$out/wl"
echo "# workload parent $parent child $child, S=$S K=$K"
ok "${names[1]}"

# bpftrace: "@do_wp_page[PID]: COUNT"
bpf_count() {
	sed -n "s/^@do_wp_page\[$1\]: \([0-9]*\)$/\1/p" "$out/bt"
}

# cowstat: the last row of pid $1 in exited, column cow_faults
cs_faults() {
	local -A faults

	cs_table_column exited cow_faults faults && echo "${faults[$1]}"
}

check() {
	local name=$1 pid=$2 extra=$3 b c
	b=$(bpf_count "$pid")
	c=$(cs_faults "$pid")
	echo "# pid $pid: bpftrace do_wp_page=${b:-none} cowstat cow_faults=${c:-none} (+$extra)"
	if [ -n "$b" ] && [ -n "$c" ] && [ "$b" -eq $((c + extra)) ]; then
		ok "$name"
	else
		not_ok "$name"
	fi
}

check "${names[2]}" "$child" "$S"
check "${names[3]}" "$parent" 0
grep '^probe\.' "$dbg/summary" | sed 's/^/# /'
totals
