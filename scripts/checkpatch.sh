#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the kernel's checkpatch.pl (from Debian's linux-source package, taken at
# run time) over the module sources, and docutils over Documentation/*.rst
# (what the kernel's Sphinx build parses them with); KTAP output, one test
# per file.

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
docs=(Documentation/*.rst)
names=("${files[@]/#/checkpatch }" "${docs[@]/#/docutils }")
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
# A malformed table or a broken reference is an error or a warning to
# docutils; either fails the file.
for f in "${docs[@]}"; do
	if out=$(python3 - "$f" 2>&1 <<-'EOF'
		import sys
		import docutils.core
		docutils.core.publish_string(
		    open(sys.argv[1], encoding="utf-8").read(), writer_name="null",
		    settings_overrides={"report_level": 2, "halt_level": 2,
		                        "warning_stream": sys.stderr})
	EOF
	); then
		ok "docutils $f"
	else
		echo "$out" | sed 's/^/# /'
		not_ok "docutils $f"
	fi
done
totals
