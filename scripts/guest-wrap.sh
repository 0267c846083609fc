#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the VM (see vm-run.sh): run the command, then fail on any kernel
# report in the guest's log.  Also usable on a real test VM by hand.

# kernel_reports, kernel_report_context: what counts as a report
. "$(dirname "$0")/kernel_log.sh"

echo "cowstat-vm: kernel $(uname -r), $(nproc) CPUs"
"$@"
rc=$?

if kernel_reports >/dev/null; then
	echo "cowstat-vm: kernel log NOT clean:"
	kernel_report_context
	echo "cowstat-vm: exit status $rc (kernel log NOT clean)"
	exit 125
fi
echo "cowstat-vm: kernel log clean"
echo "cowstat-vm: exit status $rc"
exit "$rc"
