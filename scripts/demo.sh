#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: install what is needed, build the module and the workload for
# Debian's kernel, boot it in qemu and run scripts/demo-guest.sh there.

set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
release=$(scripts/kernel-release.sh)
make --no-print-directory KERNELRELEASE="$release" module tools >/dev/null
echo "demo: booting $release in qemu (software emulation, about 30 s)"
exec scripts/vm-run.sh -k "$release" -- "$PWD/scripts/demo-guest.sh"
