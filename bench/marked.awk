# SPDX-License-Identifier: GPL-2.0
#
# marked.awk - which of bench/guest.sh's lines are runs between the marker
# nops, each one count of the TCG plugin: shared by bench/pair.awk and
# bench/profile.awk (awk -f bench/marked.awk -f ...).

function marked(   w) {
	if ($2 == "calibrate" || $2 == "warmup" || $2 == "scale-warmup" || $2 == "scale-fork-write")
		return 1
	w = $3
	return ($2 == "bare" || $2 == "module" || $2 == "kprobe" || $2 == "fprobe" ||
		$2 == "base" || $2 == "bpftrace") &&
	       (w == "fork-write" || w == "faults" || w == "storm")
}
