# SPDX-License-Identifier: GPL-2.0
#
# The shell selftests' one library, sourced by each of them (and by
# scripts/checkpatch.sh and scripts/dkms_test.sh for its KTAP part):
#
#   . "$here/functions.sh"
#
# KTAP: the script sets names=(...), its tests in order, and calls
# ktap_plan (a script without names[] sets ntests and prints the header
# itself); then ok, not_ok, skip, result and log per test, and totals (or
# skip_rest) at the end.  need_module and need_exec PATH skip the rest when
# what the tests need is not there.
#
# The module: cs_loaded, cs_load KO [PARAM=VALUE...], cs_unload.
# Its files: cs_read_summary ARRAY, cs_table_column FILE COLUMN ARRAY,
# cs_table_sums FILE ARRAY.  They use shell builtins only, so a test that
# reads them forks nothing while it reads.
# The kernel log: kmsg_mark, kmsg_since, kernel_reports (scripts/kernel_log.sh).
# hang_report PID: what PID and the processes below it wait for.
# Tracing: cs_tracefs prints tracefs's directory (kprobe_events, ...).

n=0 pass=0 fail=0 skip=0
dbg=/sys/kernel/debug/cowstat

. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/kernel_log.sh"

# With names[] set, each result must be the next test of that list: a
# script whose tests and plan drift apart fails rather than miscounts.
planned() {
	[ -z "${names+set}" ] || [ "${names[$n]:-}" = "$1" ] && return
	echo "# test $((n + 1)) is '$1', but names[] says '${names[$n]:-nothing}'"
	fail=$((fail + 1))
}
ok() { planned "$1"; n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $1"; }
not_ok() { planned "$1"; n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"; }
skip() { planned "$1"; n=$((n + 1)); skip=$((skip + 1)); echo "ok $n $1 # SKIP $2"; }
result() { if [ "$1" -eq 0 ]; then ok "$2"; else not_ok "$2"; fi; }
# As result, but status 2 is a skip, for the reason $3.
result_or_skip() {
	case $1 in
	0) ok "$2" ;;
	2) skip "$2" "$3" ;;
	*) not_ok "$2" ;;
	esac
}
log() { echo "# $*"; }

# The header, planning every test of names[].
ktap_plan() {
	ntests=${#names[@]}
	echo "TAP version 13"
	echo "1..$ntests"
}

# The closing line; exits non-zero if anything failed or the plan of
# ntests was not run.
totals() {
	if [ "$n" -ne "$ntests" ]; then
		echo "# $n tests run, $ntests planned"
		fail=$((fail + 1))
	fi
	echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
	[ "$fail" -eq 0 ]
	exit $?
}

# Skip every test not run yet (by its name in names[]), then close.
skip_rest() {
	while [ "$n" -lt "$ntests" ]; do skip "${names[$n]:-not_run}" "$1"; done
	totals
}

need_module() { [ -d "$dbg" ] || skip_rest "$dbg missing: cowstat.ko not loaded"; }
need_exec() { [ -x "$1" ] || skip_rest "no program $1 (make -C selftests/cowstat)"; }

cs_loaded() { grep -q '^cowstat ' /proc/modules; }

# Where tracefs is: its own mount point, mounted there if need be, or the
# older place under debugfs.  Callers check the file they need in it.
cs_tracefs() {
	local d=/sys/kernel/tracing
	[ -e $d/trace ] || mount -t tracefs nodev $d 2>/dev/null
	[ -e $d/trace ] || d=/sys/kernel/debug/tracing
	echo $d
}

# What process $1 and every process below it are doing, as "# " lines: state,
# where it sleeps, its system call and, for each thread, the kernel stack.
# For a test that runs far longer than it should: the report says where
# it waits before the time limit kills everything.
hang_report() {
	local pids p t

	# one ps, the tree walked in awk: a test may have thousands of them
	pids=$(ps -eo pid=,ppid= | awk -v top="$1" '
		{ parent[$1] = $2 }
		END {
			for (p in parent) {
				for (q = p; q in parent && q != top; q = parent[q])
					;
				if (q == top)
					print p
			}
		}' | sort -n | head -50)
	for p in $pids; do
		[ -d /proc/$p ] || continue
		echo "# pid $p: $(tr '\0' ' ' </proc/$p/cmdline | cut -c1-120)"
		for t in /proc/$p/task/*; do
			echo "#   thread ${t##*/}: $(awk '/^State:/ { print $2, $3 }' $t/status) wchan $(cat $t/wchan 2>/dev/null) syscall $(cut -d' ' -f1 $t/syscall 2>/dev/null)"
			sed 's/^/#     /' $t/stack 2>/dev/null
		done
	done
}

# Unload cowstat if it is loaded.  rmmod refuses (EBUSY) while a write to
# control is under way: try again for up to 5 s.
cs_unload() {
	local i

	cs_loaded || return 0
	for i in $(seq 50); do
		rmmod cowstat 2>/dev/null && return 0
		sleep 0.1
	done
	rmmod cowstat
}

# Load KO with the given parameters, unloading any cowstat first.
cs_load() {
	cs_unload || return 1
	insmod "$@"
}

# The module's files are read whole by mapfile, then split: bash's read on
# a seekable file reads ahead and seeks back after each line, and a seek of
# a seq_file to any offset but 0 renders the file again, from a new
# snapshot of a table that may have changed meanwhile, which tears a row
# (Documentation/cowstat.rst).  mapfile reads to the end and seeks nowhere;
# a pipe from cat would add a fork to the counts being read.

# summary's "key: value" lines into the associative array named $1.
cs_read_summary() {
	local -n into=$1
	local -a lines
	local l

	into=()
	mapfile -t lines <"$dbg/summary"
	for l in "${lines[@]}"; do
		into[${l%%: *}]=${l#*: }
	done
}

# How many values of the array named $1 equal $2.
count_value() {
	local -n of=$1
	local v c=0

	for v in "${of[@]}"; do
		[ "$v" = "$2" ] && c=$((c + 1))
	done
	echo $c
}

# The column named $2 of table $1 (processes or exited, or a path) into
# the array named $3, by pid; for a pid in exited twice, the later row.
cs_table_column() {
	local file=$1 name=$2
	local -n into=$3
	local -a lines cols vals
	local i l col=-1

	[ "${file#/}" != "$file" ] || file=$dbg/$file
	into=()
	mapfile -t lines <"$file" || return 1
	read -r -a cols <<<"${lines[0]:-}"
	for ((i = 0; i < ${#cols[@]}; i++)); do
		[ "${cols[$i]}" = "$name" ] && col=$i
	done
	[ "$col" -ge 0 ] || return 1
	for l in "${lines[@]:1}"; do
		read -r -a vals <<<"$l"
		into[${vals[0]}]=${vals[$col]}
	done
}

# Add each counter column of table $1 to the array named $2, by column
# name (pid, ppid and comm come first; comm has no spaces: the module
# escapes them).
cs_table_sums() {
	local file=$1
	local -n sums=$2
	local -a lines cols vals
	local i l

	[ "${file#/}" != "$file" ] || file=$dbg/$file
	mapfile -t lines <"$file" || return 1
	read -r -a cols <<<"${lines[0]:-}"
	for l in "${lines[@]:1}"; do
		read -r -a vals <<<"$l"
		for ((i = 3; i < ${#cols[@]}; i++)); do
			sums[${cols[$i]}]=$((${sums[${cols[$i]}]:-0} + vals[i]))
		done
	done
}

# The bpftrace tests' prologue: skip without the module, bpftrace or the
# workload $1; a work directory in out, removed at exit, when a bpftrace
# still running (a test that ended early) is killed: closing its perf
# events detaches its probes.
bt_setup() {
	need_module
	command -v bpftrace >/dev/null || skip_rest "bpftrace not installed"
	need_exec "$1"
	out=$(mktemp -d /tmp/cowstat-bt.XXXXXX)
	trap 'kill -KILL $btpid 2>/dev/null; rm -rf "$out"' EXIT
}

# Stop the bpftrace of bt_start (btpid, output in $1/bt) and wait for it;
# its END prints a line starting with $2.  bpftrace 0.17 acts on SIGINT only
# when the signal interrupts its epoll_wait(): one that arrives while it
# reads events sets its flag, and the loop waits on, forever (seen under
# TCG: the guest sat in do_epoll_wait until the VM's time limit).  So the
# signal goes when /proc says it waits there, and again every 10 s until
# END has begun; not after, as one in END's drain would cut it short.
# Returns 1, after SIGKILL, if it has not ended in 60 s.
#
# "Waits there" is the syscall number in /proc/PID/syscall (x86-64:
# epoll_wait 232, epoll_pwait 281, epoll_pwait2 441), not wchan: before
# 5.16 ("x86: Fix get_wchan() to support the ORC unwinder") x86's wchan
# walked frame pointers, which Debian's ORC kernels do not keep, so 5.10
# shows 0 there and the signal never went.
in_epoll_wait() {
	local nr

	read -r nr _ <"/proc/$1/syscall" 2>/dev/null || return 1
	case $nr in 232 | 281 | 441) return 0 ;; esac
	return 1
}

bt_stop() {
	local out=$1 marker=$2 i last=-50

	for i in $(seq 300); do
		kill -0 "$btpid" 2>/dev/null || break
		if [ $((i - last)) -ge 50 ] && ! grep -q "^$marker" "$out/bt" &&
		   in_epoll_wait "$btpid"; then
			[ $last -lt 0 ] || log "bpftrace $btpid still runs: SIGINT again"
			kill -INT "$btpid" 2>/dev/null
			last=$i
		fi
		sleep 0.2
	done
	if kill -0 "$btpid" 2>/dev/null; then
		log "bpftrace $btpid did not stop in 60 s; its state:"
		hang_report "$btpid"
		kill -KILL "$btpid"
		wait "$btpid"
		return 1
	fi
	wait "$btpid"
}

# Start bpftrace with the arguments after $1 and $2 in the background, its
# output in $1/bt and $1/bt.err and its pid in btpid, and wait until its
# output has a line starting with $2.  Returns 1, showing its output, if it
# never does.
bt_start() {
	local out=$1 marker=$2

	shift 2
	bpftrace "$@" >"$out/bt" 2>"$out/bt.err" &
	btpid=$!
	for _ in $(seq 300); do
		grep -q "^$marker" "$out/bt" 2>/dev/null && return 0
		kill -0 $btpid 2>/dev/null || break
		sleep 0.5
	done
	grep -q "^$marker" "$out/bt" && return 0
	sed 's/^/# bpftrace: /' "$out/bt.err" "$out/bt"
	return 1
}
