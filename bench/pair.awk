# SPDX-License-Identifier: GPL-2.0
#
# pair.awk - joins the guest's bench lines with the instruction counts of the
# TCG plugin (bench/insn_count.c), for bench/run.sh.
#
# usage: awk -f bench/marked.awk -f bench/pair.awk INSNS GUEST_LOG
#
# Every guest line of a run that passed the markers (bench/guest.sh: the
# calibrate lines, the configurations' timed runs, warm-ups, scale runs) is
# printed with " insns=COUNT" added, the Nth such line taking the Nth count;
# every other bench line is printed as it is.  Where the numbers of marked
# runs and of counts differ, nothing is paired and a line says so: a count
# given to the wrong run would be worse than none.

FNR == NR { if ($1 == "insns") count[$2] = $3; ncount += ($1 == "insns"); next }
$1 == "bench:" { line[++n] = $0; is_marked[n] = marked(); nmarked += is_marked[n] }
END {
	if (nmarked != ncount) {
		printf "bench: insns-unpaired %d marked runs, %d counts\n", nmarked, ncount
		for (i = 1; i <= n; i++) print line[i]
		exit
	}
	for (i = 1; i <= n; i++)
		print line[i] (is_marked[i] ? " insns=" count[++k] : "")
}
