// SPDX-License-Identifier: GPL-2.0
/*
 * Reading kernel text at load time: where a function is, and which direct
 * calls and jumps it makes to another.  probes.c uses it to find the call
 * sites that tell a copy (and, where wp_page_reuse() is inlined, a reuse)
 * apart from other calls of the same function, and to check that every
 * probed symbol is the function meant: one its known callers really call.
 * Never used from a probe handler.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/utsname.h>

#include "arch.h"
#include "cowstat.h"

/*
 * The extent [*start, *start + *size) of the kernel function @name, found
 * the way the probes find it: a disabled kprobe resolves the name without
 * arming anything.  -ENOENT (or -EINVAL) if there is no such function.
 */
int cowstat_text_extent(const char *name, unsigned long *start, unsigned long *size)
{
	struct kprobe kp = { .symbol_name = name, .flags = KPROBE_FLAG_DISABLED };
	char sym[KSYM_SYMBOL_LEN];
	unsigned long addr, off;
	const char *plus;
	int err;

	err = register_kprobe(&kp);
	if (err)
		return err;
	addr = (unsigned long)kp.addr;
	unregister_kprobe(&kp);

	/* "name+0xoff/0xsize": kp.addr may be past an endbr64 (IBT) */
	sprint_symbol(sym, addr);
	plus = strrchr(sym, '+');
	if (!plus || sscanf(plus, "+%lx/%lx", &off, size) != 2 || off >= *size)
		return -ENOENT;
	*start = addr - off;
	return 0;
}

/*
 * The address of the kernel symbol @name, or 0.  The kprobes core resolves
 * the name before it checks whether the place may be probed, so this also
 * finds code no probe may go on (the trampolines of hooks.c).
 */
unsigned long cowstat_text_address(const char *name)
{
	struct kprobe kp = { .symbol_name = name, .flags = KPROBE_FLAG_DISABLED };

	if (!register_kprobe(&kp))
		unregister_kprobe(&kp);
	return (unsigned long)kp.addr;
}

/*
 * Is @addr the start of an instruction?  The kprobes core decodes the
 * function from its start with the kernel's instruction decoder and refuses
 * (-EILSEQ) a probe anywhere else.  The probe is disabled: never armed.
 */
static int insn_boundary(unsigned long addr)
{
	struct kprobe kp = { .addr = (kprobe_opcode_t *)addr,
			     .flags = KPROBE_FLAG_DISABLED };
	int err;

	err = register_kprobe(&kp);
	if (err == -EILSEQ)
		return 0;
	if (err)
		return err;
	unregister_kprobe(&kp);
	return 1;
}

/* insn_boundary() at @p in @func (at @start), logging a failure to decode. */
static int func_insn_boundary(const char *func, unsigned long start, unsigned long p)
{
	int err = insn_boundary(p);

	if (err < 0)
		pr_err("cannot decode %s+%#lx on kernel %s (error %d); not loading\n",
		       func, p - start, init_utsname()->release, err);
	return err;
}

/*
 * Direct branches in the function @func to the function that starts at
 * @target: calls, and with @tail_calls jumps too.  A call's return address
 * is stored in @rets, if given (at most @max of them).  Returns how many
 * branches it found, -ENOENT if there is no function @func, -E2BIG past
 * @max, or the kprobes core's error for text it cannot decode.
 */
static int text_branches(const char *func, unsigned long target, bool tail_calls,
			 unsigned long *rets, unsigned int max)
{
	unsigned long start, size, p, dest;
	enum arch_branch kind;
	unsigned int len;
	int err, found = 0;

	err = cowstat_text_extent(func, &start, &size);
	if (err)
		return err == -EINVAL ? -ENOENT : err;
	for (p = start; p + ARCH_BRANCH_MAX_LEN <= start + size; p++) {
		kind = arch_direct_branch(p, &dest, &len);
		if (!tail_calls && arch_probed_branch(p, target)) {
			err = func_insn_boundary(func, start, p);
			if (err < 0)
				return err;
			if (err) {
				pr_err("a probe sits on %s+%#lx on kernel %s, where it may hide a call of the function cowstat counts at: remove it (see /sys/kernel/debug/kprobes/list); not loading\n",
				       func, p - start, init_utsname()->release);
				return -EBUSY;
			}
		}
		if (kind == ARCH_BRANCH_NONE ||
		    (kind == ARCH_BRANCH_JUMP && !tail_calls) ||
		    dest > target || dest + ARCH_CALL_PADDING < target ||
		    (dest >= start && dest < start + size))
			continue;
		/* bytes inside another instruction that happen to match? */
		err = func_insn_boundary(func, start, p);
		if (err < 0)
			return err;
		if (!err)
			continue;
		if (rets) {
			if (found == max)
				return -E2BIG;
			rets[found] = p + len;
		}
		found++;
	}
	return found;
}

int cowstat_text_calls(const char *func, unsigned long target,
		       unsigned long *rets, unsigned int max)
{
	return text_branches(func, target, false, rets, max);
}

int cowstat_text_branches_to(const char *func, unsigned long target)
{
	return text_branches(func, target, true, NULL, 0);
}
