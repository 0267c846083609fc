# SPDX-License-Identifier: GPL-2.0
#
# KTAP helpers for the shell selftests, sourced by each of them:
#
#   . "$here/ktap.sh"
#
# The script sets ntests, prints "TAP version 13" and "1..$ntests", and
# names=(...) its tests in order if it uses skip_rest.

n=0 pass=0 fail=0 skip=0

# kernel_reports, kernel_report_context
. "$(dirname "${BASH_SOURCE[0]}")/kernel_log.sh"

ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"; }
skip() { n=$((n + 1)); skip=$((skip + 1)); echo "ok $n $1 # SKIP $2"; }
result() { if [ "$1" -eq 0 ]; then ok "$2"; else not_ok "$2"; fi; }
log() { echo "# $*"; }

# The closing line; exits non-zero if anything failed.
totals() {
	echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
	[ "$fail" -eq 0 ]
	exit $?
}

# Skip every test not run yet (by its name in names[]), then close.
skip_rest() {
	while [ "$n" -lt "$ntests" ]; do skip "${names[$n]}" "$1"; done
	totals
}
