#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The demo, inside the VM (or on a real test VM, as root): load the module,
# run the fork-and-write workload, show the module's rows for it next to
# what the workload did, then the same through the cowstat tool (its -p,
# run and table modes), unload.

set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
d=/sys/kernel/debug/cowstat

mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
insmod "$top/cowstat.ko"
trap 'rmmod cowstat' EXIT

out=$("$top/tools/demo/fork_write" -m 64 -c 25 -p 10)
echo "$out"
parent=$(echo "$out" | sed -n 's/^fork_write: parent \([0-9]*\) touched.*/\1/p')
child=$(echo "$out" | sed -n 's/.*forked child \([0-9]*\)$/\1/p')

echo
echo "$d/exited, the header and the rows of the two processes:"
grep -E "^(pid|$parent|$child) " "$d/exited" | sed 's/^/  /'
echo
echo "cowstat -p $parent,$child (the same rows, read by the tool):"
"$top/tools/cowstat/cowstat" -p "$parent,$child"
echo
echo "$d/summary:"
sed 's/^/  /' "$d/summary"
echo
echo "cowstat run -- fork_write -m 16 -c 50 (the tool's report of a run):"
# the report goes to stderr, which the VM harness keeps for its console
"$top/tools/cowstat/cowstat" run -- "$top/tools/demo/fork_write" -m 16 -c 50 -p 0 2>&1 >/dev/null
echo
echo "cowstat -b -n 1 (one refresh of the table, top 5 rows):"
"$top/tools/cowstat/cowstat" -b -n 1 | head -n 14
