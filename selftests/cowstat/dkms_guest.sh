#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The guest side of scripts/dkms_test.sh: the module has been installed with DKMS
# for this kernel on the host.  Load it by name, check that the loaded
# module is the DKMS build, run a fork-and-write scenario, unload it.
# Prints "dkms-guest: ok NAME" or "dkms-guest: not ok NAME" per test, and
# "dkms-guest: # ..." for what it saw.
#
# usage: dkms_guest.sh /path/to/fork_write

set -u

fw=${1:?usage: $0 /path/to/fork_write}
dbg=/sys/kernel/debug/cowstat
say() { echo "dkms-guest: $*"; }
result() { if [ "$1" -eq 0 ]; then say "ok $2"; else say "not ok $2"; fi; }
loaded() { grep -q '^cowstat ' /proc/modules; }

# The file modprobe picks must be DKMS's, and the module in the kernel
# must be that file (same srcversion).
load() {
	local file
	file=$(modinfo -n cowstat 2>&1)
	say "# modinfo -n cowstat: $file"
	case $file in
	/lib/modules/"$(uname -r)"/updates/dkms/cowstat.ko*) ;;
	*) return 1 ;;
	esac
	loaded && { say "# cowstat already loaded"; return 1; }
	modprobe cowstat || return 1
	loaded || return 1
	say "# srcversion: file $(modinfo -F srcversion cowstat)," \
	    "loaded $(cat /sys/module/cowstat/srcversion)"
	[ "$(modinfo -F srcversion cowstat)" = "$(cat /sys/module/cowstat/srcversion)" ]
}

# fork_write -m 4 -c 50 -p 0: 1024 pages touched, the child writes 512 of
# them while they are shared.  Its row must show the inherited pages, the
# parent's the same number shared, and the child's copies those 512 plus at
# most a few stack and libc pages.
scenario() {
	local out parent child prow crow
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
	out=$("$fw" -m 4 -c 50 -p 0) || return 1
	parent=$(echo "$out" | sed -n 's/^fork_write: parent \([0-9]*\) touched.*/\1/p')
	child=$(echo "$out" | sed -n 's/.*forked child \([0-9]*\)$/\1/p')
	say "# $(head -n 1 $dbg/exited)"
	prow=$(grep -E "^$parent [0-9]+ fork_write " $dbg/exited | tail -n 1)
	crow=$(grep -E "^$child $parent fork_write " $dbg/exited | tail -n 1)
	say "# parent: $prow"
	say "# child:  $crow"
	[ -n "$prow" ] && [ -n "$crow" ] || return 1
	# columns by name, as the format asks
	awk -v p="$prow" -v c="$crow" '
		NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; exit }
		END {
			split(p, P, " "); split(c, C, " ")
			shared = P[col["fork_shared"]]; inh = C[col["fork_inherited"]]
			copies = C[col["cow_copies"]]
			ok = P[col["forks"]] == 1 && shared == inh && inh >= 1024 &&
			     copies >= 512 && copies <= 512 + 32
			exit !ok
		}' $dbg/exited
}

unload() {
	modprobe -r cowstat || return 1
	! loaded && [ ! -e "$dbg" ]
}

load
rc=$?
result $rc modprobe_loads_dkms_build
if [ $rc -eq 0 ]; then
	scenario
	result $? fork_scenario
	unload
	result $? modprobe_remove
else
	say "not ok fork_scenario"
	say "not ok modprobe_remove"
fi
exit 0
