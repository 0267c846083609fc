# SPDX-License-Identifier: GPL-2.0
#
# What counts as a kernel report in the log: sourced by ktap.sh (so by every
# shell selftest) and by scripts/guest-wrap.sh, so there is one definition.
#
#   kernel_reports [LINE]   print the report lines of dmesg after line LINE
#                           (default: all); status 0 if there is one
#   kernel_report_context [LINE]
#                           the same with the lines around them, at most 80
#
# A report is a line with BUG:, WARNING:, Oops, Call Trace, lockdep or
# UBSAN:, except lockdep's boot banner on a kernel built with it.

kernel_report_re='BUG:|WARNING:|Oops|Call Trace|lockdep|UBSAN:'
kernel_report_benign='^\[ *[0-9.]+\] rcu:[[:space:]]+RCU lockdep checking is enabled\.$'

kernel_reports() {
	dmesg | tail -n +"$((${1:-0} + 1))" | grep -E "$kernel_report_re" |
		grep -v -E "$kernel_report_benign"
}

kernel_report_context() {
	dmesg | tail -n +"$((${1:-0} + 1))" | grep -v -E "$kernel_report_benign" |
		grep -E -B 2 -A 20 "$kernel_report_re" | head -n 80
}
