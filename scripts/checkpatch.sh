#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the kernel's checkpatch.pl (from Debian's linux-source package, taken at
# run time) over the module sources; KTAP output, one test per file.

set -uo pipefail
cd "$(dirname "$0")/.."

tarball=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n 1)
dir=build/checkpatch
if [ ! -x "$dir/scripts/checkpatch.pl" ]; then
	[ -n "$tarball" ] || { echo "checkpatch: no /usr/src/linux-source-*.tar.xz (run scripts/setup.sh)" >&2; exit 1; }
	mkdir -p "$dir"
	tar -xJf "$tarball" -C "$dir" --strip-components=1 --wildcards \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch'
fi

files=(module/*.c module/*.h)
names=("${files[@]/#/checkpatch }")
# the shell selftests' KTAP emitter: ktap_plan, ok, not_ok, totals
. selftests/cowstat/functions.sh
ktap_plan
for f in "${files[@]}"; do
	opts=(--no-tree --quiet --show-types --terse)
	# The compat header is where version checks belong (see its comment).
	[ "$f" = module/compat.h ] && opts+=(--ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON)
	if out=$("$dir/scripts/checkpatch.pl" "${opts[@]}" -f "$f" 2>&1); then
		ok "checkpatch $f"
	else
		echo "$out" | sed 's/^/# /'
		not_ok "checkpatch $f"
	fi
done
totals
