# SPDX-License-Identifier: GPL-2.0
#
# What counts as a kernel report in the log, and where a test's part of the
# log starts: sourced by selftests/cowstat/functions.sh (so by every shell
# selftest) and by scripts/guest-wrap.sh, so there is one definition.
#
#   kmsg_mark               write a line of our own into the kernel log and
#                           remember it (kmsg_tag): a canary, found again by
#                           its text, not by counting lines, which breaks
#                           once the ring buffer wraps
#   kmsg_since [TAG]        the log after the line TAG (default: the last
#                           mark; no TAG and no mark: all of it); status 1,
#                           and nothing printed, if TAG is no longer in the
#                           log (the buffer wrapped past it)
#   kernel_reports [TAG]    the report lines after TAG; status 0 if any
#   kernel_report_context [TAG]
#                           the same with the lines around them, at most 80
#
# A report is a line with BUG:, WARNING:, Oops, Call Trace, lockdep or
# UBSAN:, except lockdep's boot banner on a kernel built with it.  A log
# that lost its mark counts as a report: what was in between is unknown.

kernel_report_re='BUG:|WARNING:|Oops|Call Trace|lockdep|UBSAN:'
kernel_report_benign='^\[ *[0-9.]+\] rcu:[[:space:]]+RCU lockdep checking is enabled\.$'
kmsg_tag=

kmsg_mark() {
	kmsg_tag="cowstat-selftest: mark $$-$(date +%s%N)"
	echo "$kmsg_tag" >/dev/kmsg
}

kmsg_since() {
	local tag=${1-$kmsg_tag}

	if [ -z "$tag" ]; then
		dmesg
		return
	fi
	dmesg | awk -v tag="$tag" 'seen { print } index($0, tag) { seen = 1 }
		END { exit !seen }'
}

kernel_reports() {
	local log

	if ! log=$(kmsg_since "$@"); then
		echo "kernel log: the mark '${1-$kmsg_tag}' is gone (ring buffer wrapped)"
		return 0
	fi
	echo "$log" | grep -E "$kernel_report_re" | grep -v -E "$kernel_report_benign"
}

kernel_report_context() {
	local log

	if ! log=$(kmsg_since "$@"); then
		echo "kernel log: the mark '${1-$kmsg_tag}' is gone (ring buffer wrapped)"
		return
	fi
	echo "$log" | grep -v -E "$kernel_report_benign" |
		grep -E -B 2 -A 20 "$kernel_report_re" | head -n 80
}
