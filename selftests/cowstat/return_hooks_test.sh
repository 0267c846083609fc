#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Copies made while another tracer hooks the return of ptep_clear_flush():
# counted exactly, or counted in lost, never missing silently.
#
# usage: return_hooks_test.sh [WORKLOAD]   (root, cowstat.ko loaded, bpftrace)
#
# bpftrace's kretprobe:ptep_clear_flush replaces the return address that
# cowstat tells copy sites by.  Where summary says "kretprobe_hidden:
# recovered", the module reads it back from the task's rethook list: the C
# fork scenarios (cow_fork, exact counts) must pass unchanged under the
# kretprobe, and lost must not move.  Where it says "lost" (no rethook, as
# on 5.10), every hit under the kretprobe counts in lost: lost must grow by
# exactly the calls bpftrace counted, which are at least the K copies of
# "cowstat_workload bpf S K".  Prints KTAP.

here=$(cd "$(dirname "$0")" && pwd)
workload=${1:-$here/cowstat_workload}
dbg=/sys/kernel/debug/cowstat
S=8
K=40

. "$here/functions.sh"

names=(bpftrace_attached copies_under_kretprobe lost_accounts_for_hidden_hits)
ktap_plan

bt_setup "$workload"

declare -A before after
cs_read_summary before
mode=${before[kretprobe_hidden]:-}
log "kretprobe_hidden: ${mode:-missing}; lost before: ${before[lost]:-missing}"
case $mode in
seen | recovered | lost) ;;
*) skip_rest "summary has no kretprobe_hidden line" ;;
esac

if ! bt_start "$out" attached -e \
	'BEGIN { printf("attached\n"); } kretprobe:ptep_clear_flush { @calls = count(); }'; then
	not_ok "${names[0]}"
	skip_rest "bpftrace did not start"
fi
sleep 1
grep ptep_clear_flush /sys/kernel/debug/kprobes/list | sed 's/^/# kprobes: /'
ok "${names[0]}"

if [ "$mode" != lost ]; then
	# every exact fork scenario, nested
	"$here/cow_fork" 2>&1 | sed 's/^/    /'
	result "${PIPESTATUS[0]}" "${names[1]}"
else
	"$workload" bpf $S $K >"$out/wl" 2>&1
	rc=$?
	sed 's/^/# workload: /' "$out/wl"
	result $rc "${names[1]}"
fi

kill -INT $btpid
wait $btpid
calls=$(sed -n 's/^@calls: \([0-9]*\)$/\1/p' "$out/bt")
cs_read_summary after
log "bpftrace counted ${calls:-no} ptep_clear_flush calls; lost ${before[lost]} -> ${after[lost]}"
lost=$((after[lost] - before[lost]))
if [ "$mode" != lost ]; then
	[ "$lost" -eq 0 ]
else
	[ -n "$calls" ] && [ "$lost" -eq "$calls" ] && [ "$calls" -ge $K ]
fi
result $? "${names[2]}"
totals
