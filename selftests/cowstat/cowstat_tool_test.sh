#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Tests of the user tool tools/cowstat/cowstat: each mode's numbers must be
# exactly those of the module's rows in /sys/kernel/debug/cowstat/, and the
# known workload tools/demo/fork_write must show what it did.
#
# usage: cowstat_tool_test.sh [/path/to/cowstat.ko]
#
# As root with cowstat.ko loaded (run_vm_tests.sh does that).  With the
# module's path, the last test unloads the module to check the tool's error
# and loads it again (the counts start over).  Needs python3 (JSON checks),
# the C.UTF-8 locale (display widths of names),
# setpriv and unshare (error cases).  Set COWSTAT_TOOL to test another
# binary.  Prints KTAP.

set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
tool=${COWSTAT_TOOL:-$top/tools/cowstat/cowstat}
fw=$top/tools/demo/fork_write
ko=${1:-}
dbg=/sys/kernel/debug/cowstat
py=$(command -v /usr/bin/python3 || command -v python3)

names=(version_and_help usage_errors parse_fake_files names_safe_for_terminal
       json_valid_in_every_mode
       table_matches_processes pid_detail_matches_rows children_of_live_process
       children_of_exited_process run_fork_write_json_exact run_text_report
       run_tree_of_descendants run_exit_status_passthrough
       run_ignores_rows_of_reused_pids error_not_root error_debugfs_not_mounted
       error_module_not_loaded)
ntests=${#names[@]}
. "$here/functions.sh"

# run the next test: the function named like it; 0 pass, 2 skip, else fail
t() {
	local name=${names[$n]} rc t0
	t0=$(date +%s%N)
	"$name" >"$tmp/log" 2>&1
	rc=$?
	sed 's/^/# /' "$tmp/log"
	echo "# $name: $((($(date +%s%N) - t0) / 1000000)) ms"
	case $rc in
	0) ok "$name" ;;
	2) skip "$name" "$(tail -n 1 "$tmp/log")" ;;
	*) not_ok "$name" ;;
	esac
}

echo "TAP version 13"
echo "1..$ntests"

[ "$(id -u)" = 0 ] || skip_rest "not root"
[ -d "$dbg" ] || skip_rest "$dbg missing: cowstat.ko not loaded"
[ -x "$tool" ] || skip_rest "no $tool (make -C tools/cowstat)"
[ -x "$fw" ] || skip_rest "no $fw (make tools)"
[ -n "$py" ] || skip_rest "python3 not installed"

tmp=$(mktemp -d /tmp/cowstat-tool.XXXXXX)
chmod 755 "$tmp"
sleepers=
pypid=
cleanup() {
	[ -n "$sleepers" ] && kill $sleepers 2>/dev/null
	[ -n "$pypid" ] && kill "$pypid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# One python3 for all checks (see cowstat_tool_check.py): started once,
# since each start takes seconds under emulation.  Its pipes are kept on
# fds 8 and 9 so that the programs under test do not inherit bash's
# coprocess descriptors by surprise.
mkfifo "$tmp/py.in" "$tmp/py.out"
"$py" -u "$here/cowstat_tool_check.py" <"$tmp/py.in" >"$tmp/py.out" 2>&1 &
pypid=$!
exec 8>"$tmp/py.in" 9<"$tmp/py.out"

# pycheck NAME ARGS...: run check_NAME of the checker; its output, its result
pycheck() {
	local line rc=1
	(IFS=$'\t'; echo "$*") >&8 || return 1
	while IFS= read -r line <&9; do
		case $line in
		"@@END "*) rc=${line#@@END }; break ;;
		*) echo "$line" ;;
		esac
	done
	return "$rc"
}

# Rows of these pids in processes, unchanged over 0.2 s (quiescent).
stable_rows() {
	local re a b
	re="^($(IFS='|'; echo "$*")) "
	a=$(grep -E "$re" "$dbg/processes")
	for _ in $(seq 20); do
		sleep 0.2
		b=$(grep -E "$re" "$dbg/processes")
		[ "$a" = "$b" ] && [ "$(grep -c . <<<"$b")" -eq $# ] && { echo "$b"; return 0; }
		a=$b
	done
	return 1
}

version_and_help() {
	local v
	v=$("$tool" -V) || return 1
	echo "$v; module $(sed -n 's/^version: //p' "$dbg/summary")"
	[ "$v" = "cowstat $(sed -n 's/^version: //p' "$dbg/summary")" ] || return 1
	"$tool" --help | grep -q '^usage: cowstat' || return 1
	"$tool" -h | grep -q 'run CMD' || return 1
}

usage_errors() {
	local args rc bad=0
	for args in "-x" "-s no_such_counter -b -n 1" "-p abc" "-p 0" "run" \
		    "-p 1 run -- true" "-d 0" "-n -3" "-b -p 1" "-c" "extra"; do
		# shellcheck disable=SC2086
		"$tool" $args >/dev/null 2>&1
		rc=$?
		echo "cowstat $args: exit $rc"
		[ $rc -eq 2 ] || bad=1
	done
	return $bad
}

# The parser against hand-written files: columns found by name (reordered,
# one unknown), \ooo escapes, both forms of an empty name, a bad line.
parse_fake_files() {
	local d=$tmp/fake rc
	mkdir -p "$d/cowstat" "$tmp/empty"
	printf 'version: 9.9\nkernel: k\ncow_copies: 7\nnewcount: 3\nforks: 2\nevicted: 0\nprobe.x: registered=yes required=yes nmissed=4\ncopy_site: f+0x1/0x9\ncopy_site: f+0x5/0x9\n' \
		>"$d/cowstat/summary"
	printf 'cow_copies comm pid newcount ppid forks\n5 a\\040b\\134c\\351 10 1 1 2\n9 \\000 11 0 10 0\n3  12 0 10 0\n1 bad\n' \
		>"$d/cowstat/processes"
	printf 'cow_copies comm pid newcount ppid forks\n4 gone 13 0 11 0\n' >"$d/cowstat/exited"
	COWSTAT_DEBUGFS=$d "$tool" -j -s newcount >"$tmp/fake.json" || return 1
	COWSTAT_DEBUGFS=$d "$tool" -j -p 10 -c >"$tmp/fake-p.json" || return 1
	cat "$tmp/fake.json" "$tmp/fake-p.json"
	pycheck parse_fake_files "$tmp/fake.json" "$tmp/fake-p.json" || return 1
	COWSTAT_DEBUGFS=$tmp/no-such-dir "$tool" -b -n 1
	rc=$?
	echo "missing debugfs directory: exit $rc"
	[ $rc -eq 4 ] || return 1
	COWSTAT_DEBUGFS=$tmp/empty "$tool" -b -n 1
	rc=$?
	echo "no cowstat directory: exit $rc"
	[ $rc -eq 5 ] || return 1
}

# Names on a terminal, against hand-written files: control characters (C0,
# DEL, C1 as a raw byte and UTF-8-encoded, 8-bit CSI included) become '?',
# and the columns are as wide as wcwidth(3) says in a UTF-8 locale (wide
# characters 2 columns, combining ones 0), one per character in C.
names_safe_for_terminal() {
	local d=$tmp/names l
	locale -a 2>/dev/null | grep -qix 'c\.utf-\?8' || { echo "no C.UTF-8 locale"; return 2; }
	mkdir -p "$d/cowstat"
	printf 'version: 9.9\nkernel: k\nforks: 6\ncow_copies: 0\nevicted: 0\n' >"$d/cowstat/summary"
	# the module's \ooo escapes, taken literally here
	cat >"$d/cowstat/processes" <<'EOF'
pid ppid comm forks cow_copies
1 0 r\302\233t 6 0
2 1 raw\233csi 0 0
3 1 u\302\200\302\233\302\237x 0 0
4 1 \033[31m\177\302\240| 0 0
5 1 e\314\201t 0 0
6 1 \346\227\245\346\234\254 0 0
7 1 \345\205\253\345\205\253\345\205\253\345\205\253\345\205\253\345\205\253\345\205\253\345\205\253 0 0
EOF
	echo 'pid ppid comm forks cow_copies' >"$d/cowstat/exited"
	for l in C C.UTF-8; do
		LC_ALL=$l COWSTAT_DEBUGFS=$d "$tool" -p 1 -c >"$tmp/names.$l" || return 1
		echo "LC_ALL=$l:"
		cat -v "$tmp/names.$l"
	done
	COWSTAT_DEBUGFS=$d "$tool" -j -p 1 -c >"$tmp/names.json" || return 1
	pycheck names_safe_for_terminal "$tmp/names.C" "$tmp/names.C.UTF-8" "$tmp/names.json"
}

json_valid_in_every_mode() {
	local m
	"$tool" -j >"$tmp/j1" || return 1
	"$tool" -j -n 2 -d 0.2 >"$tmp/j2" && [ "$(wc -l <"$tmp/j2")" -eq 2 ] || return 1
	"$tool" -j -p $$ >"$tmp/j3" || return 1
	"$tool" -j -p $$,1 -c >"$tmp/j4"
	[ $? -le 1 ] || return 1
	# run: to stderr unless -o
	"$tool" -j run -- sh -c 'echo out; echo err >&2; exit 0' >"$tmp/j5.out" 2>"$tmp/j5" ||
		return 1
	grep -v '^err$' "$tmp/j5" >"$tmp/j5.json"
	pycheck json_valid one "$tmp/j1" "$tmp/j3" "$tmp/j4" "$tmp/j5.json" || return 1
	pycheck json_valid lines "$tmp/j2" || return 1
	[ "$(cat "$tmp/j5.out")" = out ] || return 1
	for m in j1 j3 j4 j5.json; do
		echo "$m: $(head -c 300 "$tmp/$m")"
	done
	# sorted by the counter, largest first
	"$tool" -j -s cow_faults >"$tmp/j6" || return 1
	pycheck sorted "$tmp/j6" cow_faults
}

# Quiescent processes: sh waiting for two sleeps.
start_sleepers() {
	sh -c 'sleep 300 & echo $!; sleep 300 & echo $!; wait' >"$tmp/sleepers" &
	shpid=$!
	for _ in $(seq 100); do
		[ "$(wc -l <"$tmp/sleepers")" -eq 2 ] && break
		sleep 0.1
	done
	s1=$(sed -n 1p "$tmp/sleepers")
	s2=$(sed -n 2p "$tmp/sleepers")
	sleepers="$shpid $s1 $s2"
	for _ in $(seq 100); do
		[ "$(cat /proc/"$s1"/comm 2>/dev/null)" = sleep ] &&
			[ "$(cat /proc/"$s2"/comm 2>/dev/null)" = sleep ] && break
		sleep 0.1
	done
	echo "sh $shpid, sleeps $s1 $s2"
}

table_matches_processes() {
	local before after
	start_sleepers
	before=$(stable_rows $shpid $s1 $s2) || { echo "rows not stable"; return 1; }
	echo "$before"
	"$tool" -j >"$tmp/top.json" || return 1
	"$tool" -b -n 2 -d 0.2 -s cow_faults >"$tmp/top.txt" || return 1
	after=$(stable_rows $shpid $s1 $s2) || return 1
	[ "$before" = "$after" ] || { echo "rows changed meanwhile"; return 1; }
	head -n 8 "$tmp/top.txt"
	[ "$(grep -c '^cowstat ' "$tmp/top.txt")" -eq 2 ] || return 1
	pycheck table_matches_processes "$tmp/top.json" "$tmp/top.txt" $shpid $s1 $s2
}

pid_detail_matches_rows() {
	local rc
	"$tool" -j -p $s1,$s2 -p $shpid >"$tmp/p.json" || return 1
	"$tool" -p $s1 >"$tmp/p.txt" || return 1
	cat "$tmp/p.txt"
	"$tool" -p 2147483647 -j >"$tmp/p-none.json" 2>/dev/null
	rc=$?
	[ $rc -eq 1 ] || { echo "unknown pid: exit $rc"; return 1; }
	pycheck pid_detail_matches_rows "$tmp/p.json" "$tmp/p.txt" "$tmp/p-none.json" $s1 $s2 $shpid
}

children_of_live_process() {
	"$tool" -j -p $shpid -c >"$tmp/c.json" || return 1
	"$tool" -p $shpid -c || return 1
	pycheck children_of_live_process "$tmp/c.json" $shpid $s1 $s2
}

children_of_exited_process() {
	local _
	kill $s1 $s2
	for _ in $(seq 100); do
		kill -0 $shpid 2>/dev/null || break
		sleep 0.1
	done
	wait $shpid 2>/dev/null
	sleepers=
	"$tool" -j -p $shpid -c >"$tmp/ce.json" || return 1
	"$tool" -p $shpid -c || return 1
	pycheck children_of_exited_process "$tmp/ce.json" $shpid $s1 $s2
}

run_fork_write_json_exact() {
	local rc parent child
	"$tool" --json -o "$tmp/fw.json" run -- "$fw" -m 8 -c 25 -p 10 >"$tmp/fw.out"
	rc=$?
	cat "$tmp/fw.out" "$tmp/fw.json"
	[ $rc -eq 0 ] || { echo "exit $rc"; return 1; }
	parent=$(sed -n 's/^fork_write: parent \([0-9]*\) touched.*/\1/p' "$tmp/fw.out")
	child=$(sed -n 's/.*forked child \([0-9]*\)$/\1/p' "$tmp/fw.out")
	pycheck json_valid one "$tmp/fw.json" || return 1
	pycheck run_fork_write_json_exact "$tmp/fw.json" "$parent" "$child"
}

run_text_report() {
	local rc
	"$tool" run -- "$fw" -m 4 -c 50 -p 0 >"$tmp/tx.out" 2>"$tmp/tx.txt"
	rc=$?
	cat "$tmp/tx.out" "$tmp/tx.txt"
	[ $rc -eq 0 ] || return 1
	pycheck run_text_report "$tmp/tx.txt" "$tmp/tx.out"
}

# sh -> fork_write -> its child, all reaped; sh exits 3.
run_tree_of_descendants() {
	local rc
	"$tool" -j -o "$tmp/tree.json" run -- sh -c "$fw -m 4 -c 50 -p 0 >$tmp/tree.out; exit 3"
	rc=$?
	cat "$tmp/tree.out" "$tmp/tree.json"
	[ $rc -eq 3 ] || { echo "exit $rc, expected 3"; return 1; }
	pycheck run_tree_of_descendants "$tmp/tree.json" "$tmp/tree.out"
}

run_exit_status_passthrough() {
	local rc bad=0
	"$tool" run -- sh -c 'exit 7' 2>/dev/null
	rc=$?
	echo "exit 7: $rc"
	[ $rc -eq 7 ] || bad=1
	"$tool" -j -o "$tmp/sig.json" run -- sh -c 'kill -TERM $$'
	rc=$?
	echo "SIGTERM: $rc; $(cat "$tmp/sig.json")"
	[ $rc -eq 143 ] || bad=1
	pycheck killed_by_sigterm "$tmp/sig.json" || bad=1
	"$tool" run -- /nonexistent/command
	rc=$?
	echo "not found: $rc"
	[ $rc -eq 127 ] || bad=1
	"$tool" run -- /etc/passwd
	rc=$?
	echo "not executable: $rc"
	[ $rc -eq 126 ] || bad=1
	return $bad
}

# PID reuse, made to happen with ns_last_pid: an earlier process had the
# pid the command gets, and a child with that ppid.  run must not take that
# child; -p --children on the pid must not either.
run_ignores_rows_of_reused_pids() {
	local p attempt got
	[ -w /proc/sys/kernel/ns_last_pid ] || { echo "no writable ns_last_pid"; return 2; }
	p=$(($(cat /proc/sys/kernel/ns_last_pid) + 1000))
	for attempt in 1 2 3 4 5; do
		p=$((p + 100))
		[ -e /proc/$p ] || [ -e /proc/$((p - 1)) ] || [ -e /proc/$((p + 1)) ] && continue
		echo $((p - 1)) >/proc/sys/kernel/ns_last_pid
		sh -c '/bin/true; exit 0'
		echo $((p - 2)) >/proc/sys/kernel/ns_last_pid
		"$tool" -j -o "$tmp/reuse.json" run -- /bin/true || return 1
		# the checker verifies the whole document below
		got=$(sed -n 's/^{"command":\[.*\],"pid":\([0-9]*\),.*/\1/p' "$tmp/reuse.json")
		[ "$got" = "$p" ] && break
		echo "attempt $attempt: the command got pid $got, not $p"
	done
	[ "$got" = "$p" ] || { echo "could not make the pid be reused"; return 2; }
	grep -E "^[0-9]+ $p " "$dbg/exited" | sed 's/^/exited: /'
	"$tool" -j -p "$p" -c >"$tmp/reuse-p.json" || return 1
	cat "$tmp/reuse.json" "$tmp/reuse-p.json"
	pycheck run_ignores_rows_of_reused_pids "$tmp/reuse.json" "$tmp/reuse-p.json" "$p"
}

error_not_root() {
	local rc bad=0 w=$tmp/nobody
	command -v setpriv >/dev/null || { echo "no setpriv"; return 2; }
	mkdir -p "$w"
	chmod 777 "$w"
	cp "$tool" "$w/cowstat"
	chmod 755 "$w/cowstat"
	as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	as_nobody "$w/cowstat" -b -n 1 2>"$w/err"
	rc=$?
	echo "table as nobody: exit $rc: $(cat "$w/err")"
	[ $rc -eq 3 ] && grep -q root "$w/err" || bad=1
	as_nobody "$w/cowstat" -p 1 2>/dev/null
	rc=$?
	echo "-p as nobody: exit $rc"
	[ $rc -eq 3 ] || bad=1
	as_nobody "$w/cowstat" run -- touch "$w/marker" 2>/dev/null
	rc=$?
	echo "run as nobody: exit $rc"
	[ $rc -eq 3 ] && [ ! -e "$w/marker" ] || bad=1
	return $bad
}

error_debugfs_not_mounted() {
	local rc
	command -v unshare >/dev/null || { echo "no unshare"; return 2; }
	unshare -m sh -c 'umount -l /sys/kernel/debug || exit 99; exec "$@"' sh \
		"$tool" -b -n 1 2>"$tmp/err"
	rc=$?
	[ $rc -eq 99 ] && { echo "cannot unmount debugfs in a mount namespace"; return 2; }
	echo "debugfs unmounted: exit $rc: $(cat "$tmp/err")"
	[ $rc -eq 4 ] && grep -q 'not mounted' "$tmp/err"
}

error_module_not_loaded() {
	local rc bad=0
	[ -n "$ko" ] || { echo "no module path given"; return 2; }
	[ -r "$ko" ] || { echo "no $ko"; return 2; }
	rmmod cowstat || return 1
	"$tool" -b -n 1 2>"$tmp/err"
	rc=$?
	echo "module unloaded: exit $rc: $(cat "$tmp/err")"
	[ $rc -eq 5 ] && grep -q 'not loaded' "$tmp/err" || bad=1
	"$tool" run -- touch "$tmp/marker" 2>/dev/null
	rc=$?
	echo "run, module unloaded: exit $rc"
	[ $rc -eq 5 ] && [ ! -e "$tmp/marker" ] || bad=1
	insmod "$ko" || { echo "insmod $ko failed"; return 1; }
	return $bad
}

while [ "$n" -lt "$ntests" ]; do
	t
done
totals
