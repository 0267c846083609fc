#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the VM (see vm-run.sh): run the command, then fail on any kernel
# report in the guest's log.  Also usable on a real test VM by hand.

bad='BUG:|WARNING:|Oops|Call Trace|lockdep|UBSAN:'

echo "cowstat-vm: kernel $(uname -r), $(nproc) CPUs"
"$@"
rc=$?

if dmesg | grep -E "$bad" >/dev/null; then
	echo "cowstat-vm: kernel log NOT clean:"
	dmesg | grep -E -B 2 -A 20 "$bad" | head -n 80
	echo "cowstat-vm: exit status $rc (kernel log NOT clean)"
	exit 125
fi
echo "cowstat-vm: kernel log clean"
echo "cowstat-vm: exit status $rc"
exit "$rc"
