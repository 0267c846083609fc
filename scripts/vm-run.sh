#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a Debian distro kernel under qemu (virtme-ng, software emulation) with
# this machine's root file system shared read-only and the current directory
# visible, run one command as root inside it, and return its exit status.
#
# The run fails (exit 125) if the guest's kernel log shows any BUG:, WARNING:,
# Oops, Call Trace or lockdep report, whatever the command returned.
#
# usage: scripts/vm-run.sh [-k RELEASE] [-c CPUS] [-m MEM] [-t SECS] -- CMD...

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
release=${COWSTAT_KERNEL:-}
cpus=2
mem=2G
limit=1200

while getopts "k:c:m:t:" opt; do
	case $opt in
	k) release=$OPTARG ;;
	c) cpus=$OPTARG ;;
	m) mem=$OPTARG ;;
	t) limit=$OPTARG ;;
	*) echo "usage: $0 [-k RELEASE] [-c CPUS] [-m MEM] [-t SECS] -- CMD..." >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { echo "vm-run: no command" >&2; exit 2; }
[ -n "$release" ] || release=$("$here/kernel-release.sh")

image=/boot/vmlinuz-$release
[ -r "$image" ] || { echo "vm-run: no kernel image $image (run scripts/setup.sh)" >&2; exit 2; }

# The command runs under guest-wrap.sh, which checks the guest's kernel log
# after it and prints one status line that is checked here as well, so a
# guest that dies early cannot pass.
cmd=$(printf '%q ' "$@")
out=$(mktemp)
trap 'rm -f "$out"' EXIT
set +e
timeout --foreground "$limit" vng -r "$image" --cpus "$cpus" --memory "$mem" \
	-- "bash $(printf '%q' "$here/guest-wrap.sh") $cmd" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
set -e

status=$(sed -n 's/^cowstat-vm: exit status \([0-9]*\).*/\1/p' "$out" | tail -n 1)
if [ "$rc" = 124 ]; then
	echo "vm-run: guest did not finish within ${limit}s" >&2
	exit 124
fi
if [ -z "$status" ]; then
	echo "vm-run: guest ended without a status line (vng exit $rc)" >&2
	exit 125
fi
if grep -q '^cowstat-vm: kernel log NOT clean' "$out"; then
	exit 125
fi
exit "$status"
