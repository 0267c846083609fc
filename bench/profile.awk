# SPDX-License-Identifier: GPL-2.0
#
# profile.awk - where the module's added instructions go: the TCG plugin's
# per-block profile (bench/insn_count.c, profile=) of the fork-write runs,
# summed by kernel function, each configuration against bare, for
# BENCHMARKS.md.
#
# usage: awk -v copies=65536 -f bench/marked.awk -f bench/profile.awk GUEST_LOG PROFILE
#
# GUEST_LOG is the guest's log of a COWBENCH_PROFILE=1 boot
# (bench/guest.sh): its "bench-ksym:" lines give the kernel's text symbols
# and, after each configuration's setup, those of the module, the
# trampolines and BPF programs; its "bench:" lines give the order of the
# runs, whose Nth marked run is the plugin's Nth profile (the order
# bench/pair.awk pairs counts by).  Kernel addresses are compared by their
# low 32 bits: the kernel's text and the module area both lie in the top
# 2 GiB, so the high half is all ones, and awk's doubles stay exact.

function hex(s,   i, n) {
	n = 0
	s = tolower(s)
	for (i = 1; i <= length(s); i++)
		n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
	return n
}
# The low 32 bits of a kernel address, or -1 for a user one.
function kaddr(s) {
	if (length(s) != 16 || substr(s, 1, 8) != "ffffffff")
		return -1
	return hex(substr(s, 9))
}
# index of the last of a[1..n] (ascending) at or below v; 0 if none
function below(a, n, v,   lo, hi, mid) {
	lo = 0; hi = n
	while (lo < hi) {
		mid = int((lo + hi + 1) / 2)
		if (a[mid] <= v) lo = mid; else hi = mid - 1
	}
	return lo
}
# The name of the function at kernel address a (low 32 bits; as written,
# x) in run r's configuration: the module's, a trampoline's or a BPF
# program's symbol at most 64 KiB below, else the kernel's.  The memo is
# keyed by x: a number above 2^31 would become a key by CONVFMT in mawk
# ("%.6g"), and a thousand addresses would share one.
function name_of(a, x, r,   s, i, k) {
	if (a < 0)
		return "[user space]"
	s = run_setup[r]
	if ((s, x) in memo)
		return memo[s, x]
	k = 0
	for (i = 1; i <= msyms[s]; i++)
		if (ma[s, i] <= a && (k == 0 || ma[s, i] > ma[s, k]))
			k = i
	if (k && a - ma[s, k] < 65536)
		memo[s, x] = mn[s, k]
	else if (nkt && a >= kt[1] && a - kt[nkt] < 65536)
		memo[s, x] = kn[below(kt, nkt, a)]
	else
		memo[s, x] = "[kernel, elsewhere]"
	return memo[s, x]
}

BEGIN { if (!copies) copies = 65536 }

# The guest's symbols (the kernel's sorted) and bench lines
FILENAME == ARGV[1] {
	if ($1 == "bench-ksym:") {
		if ($2 == "kernel" && kaddr($3) >= 0) {
			kt[++nkt] = kaddr($3); kn[nkt] = $4
		} else if ($2 == "setup") {
			setup++; msyms[setup] = 0
		} else if ($2 == "module") {
			msyms[setup]++
			ma[setup, msyms[setup]] = kaddr($3); mn[setup, msyms[setup]] = $4
		}
		next
	}
	if ($1 != "bench:") next
	if (!marked()) next
	nmarked++
	if ($3 == "fork-write" && $2 != "warmup") {
		run_cfg[nmarked] = $2; run_setup[nmarked] = setup
		runs[$2]++; cfgs[$2] = 1
	}
	next
}

# The plugin's profile
$1 == "profile" { r = $2; nprof = r; next }
r in run_cfg {
	c = run_cfg[r]
	f = name_of(kaddr($1), $1, r)
	sum[c, f] += $2; fn[f] = 1
}

END {
	if (nprof != nmarked) {
		printf "Profile not paired: %d marked runs, %d profiles.\n", nmarked, nprof
		exit
	}
	if (!runs["bare"] || !nkt) {
		print "Profile: no bare fork-write runs, or no kernel symbols."
		exit
	}
	nc = 0
	split("module base kprobe fprobe bpftrace", order, " ")
	for (i = 1; i <= 5; i++)
		if (order[i] in cfgs) col[++nc] = order[i]
	# added instructions per copy, per function, per configuration
	nf = 0
	for (f in fn) {
		big = 0
		for (j = 1; j <= nc; j++) {
			c = col[j]
			add[f, c] = (sum[c, f] / runs[c] - sum["bare", f] / runs["bare"]) / copies
			total[c] += add[f, c]
			v = add[f, c] < 0 ? -add[f, c] : add[f, c]
			if (v > big) big = v
		}
		if (big >= 1) { nf++; fl[nf] = f; fb[nf] = big }
	}
	# largest first
	for (i = 2; i <= nf; i++)
		for (j = i; j > 1 && fb[j - 1] < fb[j]; j--) {
			t = fb[j]; fb[j] = fb[j - 1]; fb[j - 1] = t
			t = fl[j]; fl[j] = fl[j - 1]; fl[j - 1] = t
		}
	printf "| function |"
	for (j = 1; j <= nc; j++) printf " %s |", col[j]
	printf "\n|---|"
	for (j = 1; j <= nc; j++) printf "---:|"
	printf "\n"
	for (i = 1; i <= nf && i <= 20; i++) {
		printf "| `%s` |", fl[i]
		for (j = 1; j <= nc; j++) { printf " %.0f |", add[fl[i], col[j]]; shown[col[j]] += add[fl[i], col[j]] }
		printf "\n"
	}
	printf "| everything else |"
	for (j = 1; j <= nc; j++) printf " %.0f |", total[col[j]] - shown[col[j]]
	printf "\n| **all** |"
	for (j = 1; j <= nc; j++) printf " **%.0f** |", total[col[j]]
	printf "\n"
}
