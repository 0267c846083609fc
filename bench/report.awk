# SPDX-License-Identifier: GPL-2.0
#
# report.awk - the tables of BENCHMARKS.md from the bench lines of one or
# more boots (bench/run.sh; each file one boot, its marked runs paired with
# instruction counts by bench/pair.awk where the TCG plugin ran).
#
# usage: awk -f bench/report.awk BOOT1 [BOOT2 ...]
#
# The main tables are the first boot's: medians over its rounds, ratios of
# runs interleaved in that boot.  The later boots give the spread of the
# ratios from boot to boot.

function sort_vals(arr, n,   i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && arr[j - 1] > arr[j]; j--) {
			t = arr[j]; arr[j] = arr[j - 1]; arr[j - 1] = t
		}
}
# median of the values stored as tbl[key, 1..cnt[key]]
function median(tbl, cnt, key,   n, i, v) {
	n = cnt[key]
	if (!n) return ""
	for (i = 1; i <= n; i++) v[i] = tbl[key, i]
	sort_vals(v, n)
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
# (max - min) / median of the same, in percent
function spread(tbl, cnt, key,   n, i, lo, hi, m) {
	n = cnt[key]
	if (n < 2) return ""
	lo = hi = tbl[key, 1]
	for (i = 2; i <= n; i++) {
		if (tbl[key, i] < lo) lo = tbl[key, i]
		if (tbl[key, i] > hi) hi = tbl[key, i]
	}
	m = median(tbl, cnt, key)
	return m ? 100 * (hi - lo) / m : ""
}
function insns_of(   i) {
	for (i = NF; i > 3; i--)
		if ($i ~ /^insns=/) return substr($i, 7)
	return ""
}
function target(what, v, met, fmt) {
	if (v == "")
		printf "| %s | not measured | **missed** |\n", what
	else if (fmt == "%.1fx" && v >= 1e9)
		printf "| %s | module adds nothing | met |\n", what
	else
		printf "| %s | " fmt " | %s |\n", what, v, met ? "met" : "**missed**"
}
function fmt_or_dash(fmt, v) { return v == "" ? "-" : sprintf(fmt, v) }

FNR == 1 { boot++ }
$1 != "bench:" { next }
$2 == "insns-unpaired" { unpaired[boot] = $3 " marked runs, " $5 " counts"; next }
$2 == "bare" || $2 == "module" || $2 == "kprobe" || $2 == "fprobe" || $2 == "base" ||
    $2 == "bpftrace" {
	key = boot SUBSEP $2 SUBSEP $3
	t[key, ++tn[key]] = $4
	i = insns_of()
	if (i != "") { ins[key, ++inn[key]] = i; have_insns[boot] = 1 }
	w[$3] = 1; cf[$2] = 1
	next
}
$2 == "calibrate" { i = insns_of(); if (i != "") { cal_exp = $3; cal[++ncal] = i } ; next }
boot > 1 { next }
$2 == "read-processes" { rd[++nrd] = $3 / 1e6; bytes = $4 }
$2 == "entry_bytes" { eb = $3 }
$2 == "scale-load" { sload = $3 }
$2 == "scale-idle" { srows[$3] = $5; sdropped[$3] = $7; smax = $3 }
$2 == "scale-fork-write" { st["scale " $3, ++stn["scale " $3]] = $4 }
$2 == "scale-read" { srd[++nsrd] = $3 / 1e6 }
$2 == "scale-lock-max" { slock = $3 / 1e3 }
$2 == "spawned" { tracked = $5 }

END {
	split("fork-write faults storm", order, " ")
	# The COW copies of each workload's measured part (bench/guest.sh's
	# sizes): fork-write 256 MiB = 65,536 pages, storm 500 forks x 16
	# pages; faults makes no copy, its figure is per page faulted in.
	copies["fork-write"] = 65536; copies["faults"] = 65536; copies["storm"] = 8000
	unit["fork-write"] = "copy"; unit["faults"] = "page"; unit["storm"] = "copy"
	kp = ("kprobe" in cf)

	# Per boot and workload: medians and ratios
	for (b = 1; b <= boot; b++)
		for (k = 1; k <= 3; k++) {
			x = order[k]
			if (!(x in w)) continue
			for (c in cf) {
				mt[b, c, x] = median(t, tn, b SUBSEP c SUBSEP x)
				mi[b, c, x] = median(ins, inn, b SUBSEP c SUBSEP x)
			}
			if (mt[b, "bare", x]) rt[b, x] = mt[b, "module", x] / mt[b, "bare", x]
			if (mi[b, "bare", x]) ri[b, x] = mi[b, "module", x] / mi[b, "bare", x]
		}

	print "Time, the first boot (medians, ms):\n"
	printf "| workload | bare | module |%s bpftrace | module/bare |%s bpftrace/bare | added time bpftrace/module | round-to-round spread, bare / module |\n", kp ? " kprobe (old path) |" : "", kp ? " kprobe/bare |" : ""
	printf "|---|---:|---:|%s---:|---:|%s---:|---:|---:|\n", kp ? "---:|" : "", kp ? "---:|" : ""
	for (k = 1; k <= 3; k++) {
		x = order[k]
		if (!(x in w)) continue
		bb = mt[1, "bare", x]; m = mt[1, "module", x]; tt = mt[1, "bpftrace", x]; o = mt[1, "kprobe", x]
		added_t[x] = (m - bb > 0) ? (tt - bb) / (m - bb) : 1e9
		printf "| %s | %.1f | %.1f |%s %.1f | %.3f |%s %.3f | %s | %.1f%% / %.1f%% |\n", x, bb / 1e6, m / 1e6,
			kp ? sprintf(" %.1f |", o / 1e6) : "", tt / 1e6, m / bb,
			kp ? sprintf(" %.3f |", o / bb) : "", tt / bb,
			(added_t[x] >= 1e9) ? "module adds nothing measurable" : sprintf("%.1fx", added_t[x]),
			spread(t, tn, 1 SUBSEP "bare" SUBSEP x), spread(t, tn, 1 SUBSEP "module" SUBSEP x)
	}

	if (have_insns[1]) {
		print "\nGuest instructions of the measured part, the first boot (medians, millions; the TCG plugin bench/insn_count.c, every vCPU, kernel included):\n"
		printf "| workload | bare | module |%s bpftrace | module/bare |%s added per copy (page): module |%s bpftrace | bpftrace added / module added |%s round-to-round spread, bare / module |\n",
			kp ? " kprobe (old path) |" : "", kp ? " kprobe/bare |" : "", kp ? " kprobe |" : "", kp ? " module added / kprobe added |" : ""
		printf "|---|---:|---:|%s---:|---:|%s---:|%s---:|---:|%s---:|\n", kp ? "---:|" : "", kp ? "---:|" : "", kp ? "---:|" : "", kp ? "---:|" : ""
		for (k = 1; k <= 3; k++) {
			x = order[k]
			if (!(x in w)) continue
			bb = mi[1, "bare", x]; m = mi[1, "module", x]; tt = mi[1, "bpftrace", x]; o = mi[1, "kprobe", x]
			am[x] = (m - bb) / copies[x]; ab[x] = (tt - bb) / copies[x]
			ak[x] = kp ? (o - bb) / copies[x] : ""
			added_i[x] = (m - bb > 0) ? (tt - bb) / (m - bb) : 1e9
			half[x] = (kp && o - bb > 0) ? (m - bb) / (o - bb) : ""
			printf "| %s | %.1f | %.1f |%s %.1f | %.4f |%s %.0f |%s %.0f | %s |%s %.2f%% / %.2f%% |\n", x,
				bb / 1e6, m / 1e6, kp ? sprintf(" %.1f |", o / 1e6) : "", tt / 1e6, m / bb,
				kp ? sprintf(" %.4f |", o / bb) : "", am[x], kp ? sprintf(" %.0f |", ak[x]) : "", ab[x],
				(added_i[x] >= 1e9) ? "module adds nothing" : sprintf("%.1fx", added_i[x]),
				kp ? " " fmt_or_dash("%.2f", half[x]) " |" : "",
				spread(ins, inn, 1 SUBSEP "bare" SUBSEP x), spread(ins, inn, 1 SUBSEP "module" SUBSEP x)
		}
		for (i = 1; i <= ncal; i++) cv[i] = cal[i]
		sort_vals(cv, ncal)
		if (ncal)
			printf "\nCalibration (cowbench calibrate, a loop of known length): expected %d, counted %d (median of %d; +%.2f%%: the interrupts and timers that ran meanwhile, and the markers).\n",
				cal_exp, cv[int((ncal + 1) / 2)], ncal, 100 * (cv[int((ncal + 1) / 2)] - cal_exp) / cal_exp
	} else if (1 in unpaired) {
		print "\nNo instruction counts: the plugin's counts did not pair with the runs (" unpaired[1] ")."
	} else {
		print "\nNo instruction counts: the TCG plugin did not run (KVM, or no plugin)."
	}

	# The module's probe paths side by side: the same module, only how its
	# function-entry probes attach differs (probe_path=); and with make
	# bench BASE=, the module of that commit, on its default path.
	np = 0
	split("module base kprobe fprobe", paths, " ")
	for (j = 1; j <= 4; j++)
		if (paths[j] in cf) path[++np] = paths[j]
	if (np > 1) {
		print "\nThe probe paths, the first boot (medians; auto is the module as built, probe_path=auto: ftrace_ops callbacks where the kernel can; base, the module of make bench BASE=):\n"
		print "| workload | module | time/bare | instructions/bare | added instructions per copy (page) | added ÷ the kprobe path's |"
		print "|---|---|---:|---:|---:|---:|"
		for (k = 1; k <= 3; k++) {
			x = order[k]
			if (!(x in w)) continue
			bb = mt[1, "bare", x]; ib = mi[1, "bare", x]; ik = mi[1, "kprobe", x]
			for (j = 1; j <= np; j++) {
				c = path[j]
				ic = mi[1, c, x]
				printf "| %s | %s | %.3f | %s | %s | %s |\n", x, c == "module" ? "auto" : c,
					mt[1, c, x] / bb,
					fmt_or_dash("%.4f", (ib && ic != "") ? ic / ib : ""),
					fmt_or_dash("%.0f", (ib && ic != "") ? (ic - ib) / copies[x] : ""),
					fmt_or_dash("%.2f", (ib && ic != "" && ik - ib > 0) ? (ic - ib) / (ik - ib) : "")
			}
		}
	}

	if (boot > 1) {
		printf "\nModule/bare ratios boot by boot (%d boots; each boot's medians over its rounds):\n\n", boot
		printf "| measure |"
		for (b = 1; b <= boot; b++) printf " boot %d |", b
		print " spread (max - min) / min |"
		printf "|---|"
		for (b = 1; b <= boot; b++) printf "---:|"
		print "---:|"
		for (k = 1; k <= 3; k++) {
			x = order[k]
			if (!(x in w)) continue
			for (pass = 1; pass <= 2; pass++) {
				lo = hi = ""
				printf "| %s, %s |", x, pass == 1 ? "instructions" : "time"
				for (b = 1; b <= boot; b++) {
					v = pass == 1 ? ri[b, x] : rt[b, x]
					printf " %s |", fmt_or_dash("%.4f", v)
					if (v == "") continue
					if (lo == "" || v < lo) lo = v
					if (hi == "" || v > hi) hi = v
				}
				sp = (lo != "" && lo > 0) ? 100 * (hi - lo) / lo : ""
				if (pass == 1) boot_spread[x] = sp
				printf " %s |\n", fmt_or_dash("%.2f%%", sp)
			}
		}
	}

	for (i = 1; i <= nrd; i++) r[i] = rd[i]
	sort_vals(r, nrd)
	rmed = r[int((nrd + 1) / 2)]
	printf "\nReading `processes` with %s processes tracked (%s bytes): median %.1f ms of %d reads.\n", tracked, bytes, rmed, nrd
	printf "Memory per tracked process (`entry_bytes`): %s bytes.\n", eb

	print "\n| target | measured | |"
	print "|---|---:|---|"
	# issue 5's, in time
	target("fork-write: module/bare at most 1.05, time", rt[1, "fork-write"], rt[1, "fork-write"] <= 1.05, "%.3f")
	target("faults: module/bare at most 1.02, time", rt[1, "faults"], rt[1, "faults"] <= 1.02, "%.3f")
	for (k = 1; k <= 3; k++) {
		x = order[k]
		if (!(x in w)) continue
		target(x ": bpftrace adds at least 3x the module's time", added_t[x], added_t[x] >= 3, "%.1fx")
	}
	# issue 11's, in instructions
	if (have_insns[1]) {
		target("fork-write: module/bare at most 1.05, instructions", ri[1, "fork-write"], ri[1, "fork-write"] <= 1.05, "%.4f")
		target("faults: module/bare at most 1.02, instructions", ri[1, "faults"], ri[1, "faults"] <= 1.02, "%.4f")
		for (k = 1; k <= 3; k++) {
			x = order[k]
			if (!(x in w) || x == "faults") continue
			target(x ": bpftrace adds at least 3x the module's instructions", added_i[x], added_i[x] >= 3, "%.1fx")
			if (kp)
				target(x ": the module's added instructions per copy at most half the kprobe path's", half[x], half[x] != "" && half[x] <= 0.5, "%.2f")
		}
		if (boot > 1)
			for (k = 1; k <= 3; k++) {
				x = order[k]
				if (!(x in w)) continue
				target(x ": instruction ratio module/bare varies under 0.5% over " boot " boots", boot_spread[x], boot_spread[x] != "" && boot_spread[x] < 0.5, "%.2f%%")
			}
	}
	target("memory per tracked process at most 256 bytes", eb, eb <= 256, "%d")
	target("reading processes, 10,000 tracked, at most 50 ms", rmed, rmed <= 50, "%.1f ms")

	# The scale targets of issue 10.
	if (smax == "") { print "| scale runs | not run | **missed** |"; exit }
	for (i = 1; i <= nsrd; i++) r[i] = srd[i]
	sort_vals(r, nsrd)
	srmed = r[int((nsrd + 1) / 2)]
	sratio = median(st, stn, "scale " smax) / median(st, stn, "scale 100")
	printf "| max_tracked=1048576 loads | %s | %s |\n", sload, sload == "ok" ? "met" : "**missed**"
	printf "| %s idle processes tracked exactly (rows, dropped) | %s, %s | %s |\n", smax, srows[smax], sdropped[smax], (srows[smax] == smax && sdropped[smax] == 0) ? "met" : "**missed**"
	target("fork-write, " smax " idle tracked / 100 idle tracked, at most 1.02", sratio, sratio <= 1.02, "%.3f")
	target("reading processes, " smax " rows, at most 250 ms", srmed, srmed <= 250, "%.1f ms")
	target("longest table-lock hold, " smax " rows read, at most 100 us", slock, slock <= 100, "%.1f us")
}
