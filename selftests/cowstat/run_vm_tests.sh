#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run all cowstat tests on a test machine, as root:
#
#   selftests/cowstat/run_vm_tests.sh /path/to/cowstat.ko
#
# Meant for the throw-away VM of scripts/vm-run.sh, also usable by hand on a
# real test VM: it changes global settings (THP "madvise", reserves hugetlb
# pages, where the kernel has them), loads and unloads the module several
# times and resets it.  Tests of a feature the kernel lacks skip.  Build
# first (make && make tools && make -C selftests/cowstat): the VM sees the
# tree read-only.
#
# Prints KTAP: this script's own tests, with the output of the C tests
# (cow_fork, cow_faults, cow_huge, cow_control), cow_faults_test.sh,
# return_hooks_test.sh, stress_test.sh, cowstat_tool_test.py, hardening_test.py, bounds_test.sh
# and cow_pool (with the selftest build)
# (each a KTAP document with its own "# Totals:" line) nested as indented
# subtests.  Exits non-zero if anything
# failed.

set -u

ko=${1:?usage: $0 /path/to/cowstat.ko [/path/to/missing-probe/cowstat.ko]}
here=$(cd "$(dirname "$0")" && pwd)
# make BUILDDIR=DIR selftest-modules puts it in DIR/missing-probe/, an
# in-place build in build/missing-probe/
missing_ko=${2:-}
if [ -z "$missing_ko" ]; then
	missing_ko=$(dirname "$ko")/missing-probe/cowstat.ko
	[ -e "$missing_ko" ] || missing_ko=$(dirname "$ko")/build/missing-probe/cowstat.ko
fi
c_tests=(cow_fork cow_faults cow_huge cow_control)
workload=$here/cowstat_workload
dbg=/sys/kernel/debug/cowstat
hugepages=16
thp_dir=/sys/kernel/mm/transparent_hugepage
nr_hugepages=/proc/sys/vm/nr_hugepages
kmemleak=/sys/kernel/debug/kmemleak

# This runner's tests, in order: the plan (1..N) and every result line
# are checked against this list (functions.sh).
names=(setup insmod_refuses_max_tracked=0 insmod_refuses_max_tracked=-1
       insmod_refuses_history=99999999999 insmod_refuses_sweep_secs=0
       insmod_refuses_probe_path=bogus
       insmod_fails_on_missing_required_probe insmod_fails_on_wrong_function
       rows_move_without_release_task rows_swept_without_reap_probes
       insmod_refuses_probed_copy_site insmod probes_via_expected "${c_tests[@]}" cow_faults_bpftrace return_hooks stress cowstat_tool hardening
       bounds cow_pool kprobe_path_load kprobe_path_cow_fork kprobe_path_return_hooks
       fprobe_path_load fprobe_path_cow_fork fprobe_path_return_hooks
       reload_10x_under_stress reset_forgets_dead_processes
       control_from_shell rmmod insmod_with_parameters final_rmmod
       kmemleak_after_unload)
# kselftest's settings file: the timeout of each nested test, in seconds
test_timeout=$(sed -n 's/^timeout=\([0-9][0-9]*\)$/\1/p' "$here/settings")
test_timeout=${test_timeout:-900}
. "$here/functions.sh"

ktap_plan
log "kernel $(uname -r), module $ko"
log "kernel build $(uname -v)"

# Environment
setup() {
	local thp hugetlb
	[ "$(id -u)" = 0 ] || { log "must run as root"; return 1; }
	[ -r "$ko" ] || { log "no module $ko"; return 1; }
	for t in "${c_tests[@]}" cowstat_workload; do
		[ -x "$here/$t" ] ||
			{ log "test program $t missing: make -C selftests/cowstat"; return 1; }
	done
	if ! mountpoint -q /sys/kernel/debug; then
		mount -t debugfs debugfs /sys/kernel/debug || return 1
	fi
	# THP only where asked for (MADV_HUGEPAGE): the 4 KiB tests stay 4 KiB.
	# A kernel without CONFIG_TRANSPARENT_HUGEPAGE (Debian's PREEMPT_RT
	# 6.1) has no $thp_dir, one without hugetlb no $nr_hugepages: their
	# tests skip, saying so.  /sys/kernel/mm is there on every kernel, so
	# a missing $thp_dir is the kernel's answer, not a sysfs problem.
	[ -d /sys/kernel/mm ] || { log "no /sys/kernel/mm: sysfs not mounted?"; return 1; }
	if [ -e "$thp_dir" ]; then
		echo madvise >"$thp_dir/enabled" || return 1
		thp="THP $(cat "$thp_dir/enabled")"
	else
		thp="no transparent huge pages on this kernel (no $thp_dir)"
	fi
	if [ -e "$nr_hugepages" ]; then
		if [ "$(cat "$nr_hugepages")" -lt $hugepages ]; then
			echo $hugepages >"$nr_hugepages" || return 1
		fi
		hugetlb="hugetlb pages $(cat "$nr_hugepages")"
	else
		hugetlb="no hugetlb pages on this kernel (no $nr_hugepages)"
	fi
	log "$thp, $hugetlb"
	if cs_loaded; then
		log "cowstat already loaded: unloading it first"
		rmmod cowstat || return 1
	fi
	# On a kmemleak kernel: forget what leaked before the tests.
	if [ -w "$kmemleak" ]; then
		echo scan >"$kmemleak" && echo clear >"$kmemleak" || return 1
	fi
	return 0
}
setup
result $? setup
[ "$fail" -eq 0 ] || skip_rest "setup failed"

# Out-of-range parameters: insmod fails and the kernel log says why
bad_param() {
	local rc lines
	kmsg_mark
	insmod "$ko" "$@" 2>/dev/null
	rc=$?
	lines=$(kmsg_since | grep -i 'cowstat')
	if [ $rc -eq 0 ]; then
		log "insmod $* succeeded"
		rmmod cowstat
		return 1
	fi
	if [ -z "$lines" ]; then
		log "insmod $* failed ($rc) without a kernel log line"
		return 1
	fi
	echo "$lines" | sed 's/^/# dmesg: /'
	return 0
}
for p in max_tracked=0 max_tracked=-1 history=99999999999 sweep_secs=0 probe_path=bogus; do
	bad_param "$p"
	result $? "insmod_refuses_$p"
done

# A build with one more required probe, on a symbol no kernel has (make
# selftest-modules): the load fails, the log names the symbol and the
# release, and no probe of it is left behind.
missing_probe() {
	local lines sym=cowstat_selftest_no_such_symbol
	[ -r "$missing_ko" ] || { log "no $missing_ko: make selftest-modules"; return 2; }
	kmsg_mark
	if insmod "$missing_ko" 2>/dev/null; then
		log "insmod of the missing-probe build succeeded"
		rmmod cowstat
		return 1
	fi
	lines=$(kmsg_since | grep 'cowstat')
	echo "$lines" | sed 's/^/# dmesg: /'
	echo "$lines" | grep -q "cannot probe $sym on kernel $(uname -r) " || return 1
	if cs_loaded; then
		log "module still loaded"
		return 1
	fi
	if grep -q cowstat /sys/kernel/debug/kprobes/list 2>/dev/null ||
	   grep -qE ' (release_task|do_wp_page)\+' /sys/kernel/debug/kprobes/list 2>/dev/null; then
		log "probes left registered:"
		sed 's/^/# /' /sys/kernel/debug/kprobes/list
		return 1
	fi
	return 0
}
missing_probe
result_or_skip $? insmod_fails_on_missing_required_probe "test module not built"

# The same build told to check do_wp_page against a function that does not
# call it (selftest_wrong_function=1), as when the name resolves to another
# function of the same name: the load fails, naming do_wp_page and the
# release, and no probe is left behind.
wrong_function() {
	local lines
	[ -r "$missing_ko" ] || { log "no $missing_ko: make selftest-modules"; return 2; }
	kmsg_mark
	if insmod "$missing_ko" selftest_wrong_function=1 2>/dev/null; then
		log "insmod with selftest_wrong_function=1 succeeded"
		rmmod cowstat
		return 1
	fi
	lines=$(kmsg_since | grep 'cowstat')
	echo "$lines" | sed 's/^/# dmesg: /'
	echo "$lines" | grep -q "do_wp_page on kernel $(uname -r) is not the function cowstat probes: kernel_clone does not call it" ||
		return 1
	# the probes before do_wp_page in the table were registered, then unwound
	if cs_loaded || grep -qE ' (release_task|do_wp_page|ptep_clear_flush)\+' \
		/sys/kernel/debug/kprobes/list 2>/dev/null; then
		log "module or probes left behind"
		return 1
	fi
	return 0
}
wrong_function
result_or_skip $? insmod_fails_on_wrong_function "test module not built"

# The pid of a shell that ran $1 children, each exiting and reaped by its
# wait, and exited itself.
children_of_shell() {
	sh -c 'i=0; while [ $i -lt '"$1"' ]; do /bin/true & i=$((i + 1)); done
		wait; echo $$'
}

# Poll, up to $2 times 0.1 s apart, until no row of a child of $1 is left
# in processes and $1's own row is in exited.  Sets the caller's live,
# dead (by pid: ppid), nl, nd (rows of children of $1 in each) and tries.
wait_moved() {
	for tries in $(seq "$2"); do
		cs_table_column processes ppid live
		cs_table_column exited ppid dead
		nl=$(count_value live "$1")
		nd=$(count_value dead "$1")
		[ "$nl" -eq 0 ] && [ -n "${dead[$1]:-}" ] && break
		sleep 0.1
	done
}

# The same build without its missing probe and without the release_task()
# kretprobe (selftest_missing_probe=0 selftest_no_reap=1), as if every
# release had found the kretprobe out of instances: every row must still
# move to exited, by the sched_process_free tracepoint, a grace period late.
late_reap() {
	local -A live dead sum
	local n=40 sh_pid tries nl nd rc=0
	[ -r "$missing_ko" ] || { log "no $missing_ko: make selftest-modules"; return 2; }
	cs_load "$missing_ko" selftest_missing_probe=0 selftest_no_reap=1 || return 1
	if ! grep -q '^probe\.release_task: registered=no ' "$dbg/summary"; then
		log "release_task is probed all the same"
		rc=1
	fi
	sh_pid=$(children_of_shell $n)
	if [ -z "$sh_pid" ]; then
		log "the shell of the $n children printed no pid"
		cs_unload
		return 1
	fi
	wait_moved "$sh_pid" 50
	log "$n children of $sh_pid: $nl rows left in processes, $nd in exited" \
	    "(read $tries times); the shell's own row ${dead[$sh_pid]:+in exited}"
	if [ "$nl" -ne 0 ] || [ "$nd" -ne $n ] || [ -z "${dead[$sh_pid]:-}" ]; then
		rc=1
	fi
	# the tracepoint moved them, not the sweep (two passes 10 s apart)
	cs_read_summary sum
	if [ "${sum[swept]:-x}" != 0 ]; then
		log "swept: ${sum[swept]:-missing}, want 0"
		rc=1
	fi
	cs_unload || rc=1
	return $rc
}
late_reap
result_or_skip $? rows_move_without_release_task "test module not built"

# The same build without any reap probe (selftest_no_reap=2), as if every
# probe had missed every reap: rows stay in processes until the sweep
# (sweep_secs=3) finds their processes gone on two passes in a row, then
# move to exited, each counted in swept.  With no probe to move them, every
# row in exited is one the sweep moved: swept equals exited exactly.
sweep_reap() {
	local -A live dead sum
	local n=10 secs=3 sh_pid tries nl nd t0 t1 rc=0
	[ -r "$missing_ko" ] || { log "no $missing_ko: make selftest-modules"; return 2; }
	cs_load "$missing_ko" selftest_missing_probe=0 selftest_no_reap=2 sweep_secs=$secs \
		history=65536 || return 1
	if ! grep -q '^probe\.release_task: registered=no ' "$dbg/summary" ||
	   ! grep -q '^probe\.sched_process_free: registered=no ' "$dbg/summary"; then
		log "a reap probe is registered all the same"
		rc=1
	fi
	t0=$(date +%s%N)
	sh_pid=$(children_of_shell $n)
	if [ -z "$sh_pid" ]; then
		log "the shell of the $n children printed no pid"
		cs_unload
		return 1
	fi
	cs_table_column processes ppid live
	t1=$(date +%s%N)
	nl=$(count_value live "$sh_pid")
	# A row moves a whole period after its death at the earliest.
	if [ $((t1 - t0)) -lt $((secs * 1000000000)) ]; then
		log "$nl of $n children of $sh_pid in processes right after their reap"
		[ "$nl" -eq $n ] || rc=1
	else
		log "reading processes took $(((t1 - t0) / 1000000)) ms, more than a sweep" \
		    "period: not checking that the rows stayed"
	fi
	wait_moved "$sh_pid" 150
	cs_read_summary sum
	log "$n children of $sh_pid: $nl rows left in processes, $nd in exited" \
	    "(read $tries times); the shell's own row ${dead[$sh_pid]:+in exited};" \
	    "swept ${sum[swept]:-missing}, exited ${sum[exited]:-missing}," \
	    "evicted ${sum[evicted]:-missing}"
	if [ "$nl" -ne 0 ] || [ "$nd" -ne $n ] || [ -z "${dead[$sh_pid]:-}" ] ||
	   [ "${sum[evicted]:-x}" != 0 ] || [ "${sum[swept]:-x}" != "${sum[exited]:-y}" ]; then
		rc=1
	fi
	cs_unload || rc=1
	return $rc
}
sweep_reap
result_or_skip $? rows_swept_without_reap_probes "test module not built"

# A kprobe on a copy site's call instruction, there before the load, hides
# the call from the scan (an int3 on its first byte, or once optimized a jmp
# to the kprobe's detour): the load must fail, naming the place, with the
# probe as a plain int3 and, where the kernel optimizes it, as a jmp.
probed_site() {
	local site opt lines rc=0 mode tracefs
	tracefs=$(cs_tracefs)
	[ -w $tracefs/kprobe_events ] || { log "no kprobe_events in tracefs"; return 2; }
	cs_load "$ko" || return 1
	site=$(sed -n 's/^copy_site: \([^/]*\)\/.*/\1/p' "$dbg/summary" | head -n 1)
	cs_unload || return 1
	[ -n "$site" ] || { log "summary names no copy site"; return 1; }
	opt=$(cat /proc/sys/debug/kprobes-optimization 2>/dev/null || echo)
	for mode in int3 jmp; do
		if [ $mode = int3 ] && [ -n "$opt" ]; then
			echo 0 >/proc/sys/debug/kprobes-optimization
		elif [ $mode = jmp ]; then
			[ -n "$opt" ] || { log "no kprobe optimization on this kernel"; break; }
			echo 1 >/proc/sys/debug/kprobes-optimization
		fi
		echo "p:cowstat_test/site $site" >>$tracefs/kprobe_events || { rc=1; break; }
		echo 1 >$tracefs/events/cowstat_test/site/enable
		sleep 0.5	# the optimizer runs a few jiffies later
		grep " ${site%%/*}" /sys/kernel/debug/kprobes/list | sed "s/^/# $mode: /"
		if [ $mode = jmp ] && ! grep " ${site%%/*}" /sys/kernel/debug/kprobes/list | grep -q OPTIMIZED; then
			log "jmp: the kernel did not optimize the probe at $site"
		else
			kmsg_mark
			if insmod "$ko" 2>/dev/null; then
				log "$mode: insmod succeeded with a probe at $site"
				rmmod cowstat
				rc=1
			fi
			lines=$(kmsg_since | grep 'cowstat')
			echo "$lines" | sed "s/^/# $mode: dmesg: /"
			echo "$lines" | grep -q "a probe sits on $site on kernel $(uname -r)" || rc=1
		fi
		echo 0 >$tracefs/events/cowstat_test/site/enable
		echo "-:cowstat_test/site" >>$tracefs/kprobe_events || rc=1
	done
	[ -z "$opt" ] || echo "$opt" >/proc/sys/debug/kprobes-optimization
	return $rc
}
probed_site
result_or_skip $? insmod_refuses_probed_copy_site "no kprobe_events"

# Load
load() {
	insmod "$ko" || return 1
	for f in summary processes exited control; do
		[ -e "$dbg/$f" ] || { log "$dbg/$f missing"; return 1; }
	done
	grep -E '^(probe\.|copy_site:)' "$dbg/summary" | sed 's/^/# /'
}
load
result $? insmod

# How each function-entry probe is attached: with probe_path=auto an
# ftrace_ops callback where the kernel's config says its trampolines pass
# the arguments (DYNAMIC_FTRACE_WITH_ARGS, x86 since 5.11) and ftrace lists
# the function in available_filter_functions (an inline function kept out
# of line, like wp_page_reuse on 6.1, is notrace and is not), a kprobe
# elsewhere; with probe_path=kprobe, kprobes.  The tracepoints and
# kretprobes stay what they are.
entry_probes="do_wp_page ptep_clear_flush wp_page_reuse ptep_set_access_flags do_huge_pmd_wp_page break_ksm"
# $1: "ftrace" or "fprobe" (that, where ftrace can take the function,
# kprobe where not) or "kprobe" (all of them)
probes_via() {
	local mode=$1 line sym via want bad=0 n=0 nf=0 filters=""
	if [ "$mode" != kprobe ]; then
		filters=$(cs_tracefs)/available_filter_functions
		[ -r "$filters" ] || { log "no available_filter_functions"; return 1; }
	fi
	while read -r line; do
		sym=${line#probe.}
		sym=${sym%%:*}
		case " $entry_probes " in *" $sym "*) ;; *) continue ;; esac
		case $line in *" registered=yes "*) ;; *) continue ;; esac
		via=${line##* via=}
		want=kprobe
		if [ "$mode" != kprobe ] && grep -qx "$sym" "$filters"; then
			want=$mode
		fi
		[ "$want" = "$mode" ] && nf=$((nf + 1))
		n=$((n + 1))
		[ "$via" = "$want" ] || { log "$sym: via=$via, expected $want"; bad=1; }
		log "$sym: via=$via"
	done < <(grep '^probe\.' "$dbg/summary")
	log "$n function-entry probes, $nf of them in ftrace's list, each as expected: $([ $bad = 0 ] && echo yes || echo no)"
	# do_wp_page and ptep_clear_flush are ordinary functions: where the
	# config has the ftrace (or fprobe) path, at least those two take it
	[ "$n" -ge 3 ] && [ $bad = 0 ] && { [ "$mode" = kprobe ] || [ "$nf" -ge 2 ]; }
}
# The kernel's config: Debian's in /boot, or in /lib/modules/RELEASE/ (the
# packages of trixie and later, 7.x here, install it only there), a debug
# build's (IKCONFIG) in /proc
config=/boot/config-$(uname -r)
[ -r "$config" ] || config=/lib/modules/$(uname -r)/config
if [ ! -r "$config" ] && [ -r /proc/config.gz ]; then
	zcat /proc/config.gz >/tmp/cowstat-kconfig && config=/tmp/cowstat-kconfig
fi
if ! cs_loaded; then
	skip probes_via_expected "module not loaded"
elif [ ! -r "$config" ]; then
	skip probes_via_expected "no $config"
elif grep -q '^CONFIG_DYNAMIC_FTRACE_WITH_ARGS=y' "$config"; then
	probes_via ftrace
	result $? probes_via_expected
else
	probes_via kprobe
	result $? probes_via_expected
fi

# The C tests, nested
# A nested test still running after $report_after s gets a report of what
# its processes wait for (hang_report), once: the limit of scripts/vm-run.sh
# may end the guest before the test's own timeout does.  sed -u passes its
# lines on as they come, so the console shows how far a test got.
report_after=240
[ ! -e "$kmemleak" ] || report_after=1200	# a debug kernel, several times slower
run_nested() {
	local name=$1 rc watcher
	shift
	( trap 'kill $sleeper 2>/dev/null; exit 0' TERM
	  sleep "$report_after" & sleeper=$!
	  wait $sleeper
	  log "$name: still running after $report_after s; its processes:"
	  hang_report $$ ) &
	watcher=$!
	timeout -k 10 "$test_timeout" "$@" 2>&1 | sed -u 's/^/    /'
	rc=${PIPESTATUS[0]}
	kill "$watcher" 2>/dev/null
	wait "$watcher" 2>/dev/null
	[ "$rc" -ne 124 ] || log "$name: killed after ${test_timeout} s (settings: timeout)"
	result "$rc" "$name"
}
if cs_loaded; then
	for t in "${c_tests[@]}"; do
		run_nested "$t" "$here/$t"
	done
	# bpftrace cross-check, nested
	run_nested cow_faults_bpftrace "$here/cow_faults_test.sh" "$workload"
	# copies under bpftrace's kretprobe on ptep_clear_flush, nested
	run_nested return_hooks "$here/return_hooks_test.sh" "$workload"
	# 60 s of fork loops, readers and resets, nested
	run_nested stress "$here/stress_test.sh" "$workload"
	# the user tool, nested (its tests that need no kernel ran on the host:
	# cowstat_tool_test.py --host); it unloads and reloads the module at its end
	run_nested cowstat_tool python3 "$here/cowstat_tool_test.py" "$ko"
	# control fuzzing, file modes, unprivileged readers, no addresses
	run_nested hardening "$here/hardening_test.py"
	# max_tracked=64 with 5000 live processes; reloads the module
	run_nested bounds "$here/bounds_test.sh" "$ko" "$workload"
else
	for t in "${c_tests[@]}"; do
		skip "$t" "module not loaded"
	done
	skip cow_faults_bpftrace "module not loaded"
	skip return_hooks "module not loaded"
	skip stress "module not loaded"
	skip cowstat_tool "module not loaded"
	skip hardening "module not loaded"
	skip bounds "module not loaded"
fi

# The pools run dry, nested: the selftest build with one instance per
# kretprobe (selftest_maxactive=1) and a pool of 64 rows filled at load and
# never refilled (selftest_pool_fixed=64); then the usual module again.
if [ ! -r "$missing_ko" ]; then
	skip cow_pool "test module not built"
elif cs_load "$missing_ko" selftest_missing_probe=0 selftest_maxactive=1 \
		selftest_pool_fixed=64 history=65536; then
	run_nested cow_pool "$here/cow_pool"
	cs_load "$ko"
else
	result 1 cow_pool
fi

# probe_path_tests PATH: the module loaded with probe_path=PATH, each
# function-entry probe attached as probes_via PATH expects, then the exact
# fork scenarios and copies under another tracer's return hook again
# (PATH_path_load, PATH_path_cow_fork, PATH_path_return_hooks).
probe_path_tests() {
	local path=$1
	if cs_load "$ko" probe_path="$path"; then
		probes_via "$path"
		result $? "${path}_path_load"
		run_nested "${path}_path_cow_fork" "$here/cow_fork"
		run_nested "${path}_path_return_hooks" "$here/return_hooks_test.sh" "$workload"
	else
		result 1 "${path}_path_load"
		skip "${path}_path_cow_fork" "probe_path=$path did not load"
		skip "${path}_path_return_hooks" "probe_path=$path did not load"
	fi
}

# The kprobe path, the fallback where ftrace cannot serve (and the path
# before it), with every function-entry probe a kprobe.
probe_path_tests kprobe

# fprobe, which make bench weighs against the others: the same exact
# scenarios with probe_path=fprobe where the kernel has an fprobe that
# passes the return address (CONFIG_FPROBE, 6.5 on); elsewhere the load
# must refuse, naming the kernel, and leave nothing loaded.
release=$(uname -r)
major=${release%%.*}
minor=${release#*.}
minor=${minor%%[!0-9]*}
if [ ! -r "$config" ]; then
	skip fprobe_path_load "no $config"
	skip fprobe_path_cow_fork "no $config"
	skip fprobe_path_return_hooks "no $config"
elif grep -q '^CONFIG_FPROBE=y' "$config" && [ $((major * 1000 + minor)) -ge 6005 ]; then
	probe_path_tests fprobe
else
	log "kernel $release: no CONFIG_FPROBE=y, or older than 6.5"
	cs_unload
	bad_param probe_path=fprobe &&
		kmsg_since | grep -q "probe_path=fprobe: kernel $release has no fprobe"
	result $? fprobe_path_load
	skip fprobe_path_cow_fork "kernel $release has no fprobe that passes the return address"
	skip fprobe_path_return_hooks "kernel $release has no fprobe that passes the return address"
fi
cs_load "$ko"

# Unload and load ten times in a row while the stress of stress_test.sh
# runs (two fork loops with threads, grandchildren and fork-then-exec, a
# reader of every file, a resetter), so while probe handlers run and
# kretprobes are in flight, each time with a reader holding processes open:
# it must read -EIO after the unload.
reload_rounds=10
reload_under_load() {
	local bg=() p round header rc=0
	kmsg_mark
	cs_loaded || insmod "$ko" || return 1
	"$workload" loop 600 >/tmp/cowstat-loop1.out 2>&1 &
	bg+=($!)
	"$workload" loop 600 >/tmp/cowstat-loop2.out 2>&1 &
	bg+=($!)
	# The files come and go with the module: errors are expected.
	while :; do
		cat "$dbg/summary" "$dbg/processes" "$dbg/exited" >/dev/null 2>&1
	done &
	bg+=($!)
	while :; do
		echo reset 2>/dev/null >"$dbg/control"
		sleep 0.5
	done &
	bg+=($!)
	sleep 3
	for round in $(seq "$reload_rounds"); do
		# A reader holds processes open across the unload: the
		# unload must work, and the reader then gets an error.
		exec 3<"$dbg/processes"
		read -r header <&3
		cs_unload || { log "rmmod round $round failed"; rc=1; break; }
		if cat <&3 >/dev/null 2>/tmp/cowstat-held.err ||
		   ! grep -q 'Input/output error' /tmp/cowstat-held.err; then
			log "round $round: held file after unload:" \
			    "$(cat /tmp/cowstat-held.err)"
			rc=1
		fi
		exec 3<&-
		insmod "$ko" || { log "insmod round $round failed"; rc=1; break; }
		sleep 1
		cat "$dbg/summary" "$dbg/processes" "$dbg/exited" >/dev/null ||
			{ log "reading debugfs failed"; rc=1; }
	done
	for p in "${bg[@]}"; do
		kill -TERM "$p"
		wait "$p" 2>/dev/null
	done
	log "fork loops: $(cat /tmp/cowstat-loop1.out /tmp/cowstat-loop2.out | tr '\n' ' ')"
	if kernel_reports >/dev/null; then
		kernel_reports | head -n 40 | sed 's/^/# dmesg: /'
		rc=1
	fi
	return $rc
}
reload_under_load
result $? "reload_${reload_rounds}x_under_stress"

# After the loop has been reaped, reset: only rows of live processes may
# come back (lazily, on their next event), and nothing is reaped while the
# checks run, because they use shell builtins only (no fork).
count_rows() {
	local pid rest
	rows=0
	{
		read -r rest
		while read -r pid rest; do
			rows=$((rows + 1))
			[ -d "/proc/$pid" ] || { dead=$((dead + 1)); log "row of dead pid $pid"; }
		done
	} <"$dbg/processes"
}
reset_after_load() {
	local rows=0 rows1 dead=0 exited_rows=0 tracked exited pid rest
	local -A sum
	cs_loaded || return 1
	echo reset >"$dbg/control" || return 1
	count_rows
	rows1=$rows
	{
		read -r rest
		while read -r pid rest; do
			exited_rows=$((exited_rows + 1))
			log "exited row: $pid $rest"
		done
	} <"$dbg/exited"
	cs_read_summary sum
	tracked=${sum[tracked]:-x} exited=${sum[exited]:-x}
	count_rows
	# Live processes (this shell too) get rows back on their next event,
	# also between the reads: tracked lies between the two row counts.
	log "after reset: processes rows $rows1..$rows (dead $dead), exited rows" \
	    "$exited_rows, summary tracked $tracked exited $exited"
	[ "$dead" -eq 0 ] && [ "$exited_rows" -eq 0 ] && [ "$exited" = 0 ] &&
		[ "$tracked" != x ] && [ "$rows1" -le "$tracked" ] &&
		[ "$tracked" -le "$rows" ]
}
# Other processes can be reaped in between, e.g. systemd-udevd's workers
# retiring a few seconds after the module's uevents: retry a few times.
reset_rc=1
for attempt in 1 2 3 4 5; do
	if reset_after_load; then
		reset_rc=0
		break
	fi
	log "attempt $attempt: other processes were active, trying again"
	udevadm settle 2>/dev/null
	sleep 3
done
result $reset_rc reset_forgets_dead_processes

# Write to control while reading, unload with readers gone: no report
control_ok() {
	local start
	kmsg_mark
	echo reset >"$dbg/control" || return 1
	printf 'reset' >"$dbg/control" || return 1
	if printf 'nonsense' >"$dbg/control" 2>/dev/null; then
		log "control accepted 'nonsense'"
		return 1
	fi
	kmsg_since | grep -qi cowstat ||
		{ log "no kernel log line for a bad control write"; return 1; }
	return 0
}
control_ok
result $? control_from_shell

# Unload
unload() {
	local start
	kmsg_mark
	rmmod cowstat || return 1
	[ ! -e "$dbg" ] || { log "$dbg still there after rmmod"; return 1; }
	! kernel_reports >/dev/null
}
unload
result $? rmmod

# Load with explicit parameters, they show in summary; unload again
params() {
	local mt hi sw
	insmod "$ko" max_tracked=1 history=0 sweep_secs=3600 || return 1
	mt=$(sed -n 's/^max_tracked: //p' "$dbg/summary")
	hi=$(sed -n 's/^history: //p' "$dbg/summary")
	sw=$(cat /sys/module/cowstat/parameters/sweep_secs)
	log "max_tracked=$mt history=$hi sweep_secs=$sw"
	[ "$mt" = 1 ] && [ "$hi" = 0 ] && [ "$sw" = 3600 ]
}
params
result $? insmod_with_parameters
cs_loaded && rmmod cowstat
! cs_loaded
result $? final_rmmod

# On a kernel with kmemleak (the debug kernel, make check
# KERNELS=debug): after the last unload, no leak of the module's.  A block
# it allocated is reported with a backtrace through its code, which is
# gone: kmemleak prints those frames as bare addresses, never as symbols.
# Other leaks (the rest of the kernel's, also those of a process that
# happens to be called cowstat_*) are counted, not failed.
kmemleak_clean() {
	local report ours
	sleep 6		# kmemleak reports blocks older than 5 s
	echo scan >"$kmemleak" && echo scan >"$kmemleak" || return 1
	report=$(cat "$kmemleak")
	ours=$(echo "$report" | awk '
		/^unreferenced object/ { if (blk != "" && hit) print blk; blk = $0; hit = 0; next }
		{ blk = blk "\n" $0 }
		/^ *\[<[0-9a-f]+>\] (.*cowstat|0x[0-9a-f]+$)/ { hit = 1 }
		END { if (blk != "" && hit) print blk }')
	log "kmemleak: $(echo "$report" | grep -c '^unreferenced object') unreferenced" \
	    "block(s) after the tests, $(echo -n "$ours" | grep -c '^unreferenced object') of cowstat's"
	if [ -n "$ours" ]; then
		printf '%b\n' "$ours" | head -n 60 | sed 's/^/# kmemleak: /'
		return 1
	fi
	return 0
}
if [ -w "$kmemleak" ]; then
	kmemleak_clean
	result $? kmemleak_after_unload
else
	skip kmemleak_after_unload "no kmemleak in this kernel"
fi

totals
