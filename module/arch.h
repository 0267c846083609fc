/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few facts about the instruction set that cowstat needs: how a direct
 * branch is encoded (text.c scans kernel functions for them) and where a
 * probed function's return address is.  x86-64 only so far.
 */
#ifndef _COWSTAT_ARCH_H
#define _COWSTAT_ARCH_H

#include <linux/pgtable.h>
#include <linux/ptrace.h>
#include <linux/string.h>
#include <linux/types.h>

#ifndef CONFIG_X86_64
#error "cowstat supports x86-64 only so far (see arch.h)"
#endif

/*
 * Is @addr in the area where modules, BPF programs and trampolines and
 * kprobe instruction slots live?  No kernel function is called from there
 * but by a livepatch or a trampoline.
 */
static inline bool arch_module_text(unsigned long addr)
{
	return addr >= MODULES_VADDR && addr < MODULES_END;
}

/* What arch_direct_branch() found. */
enum arch_branch {
	ARCH_BRANCH_NONE,
	ARCH_BRANCH_CALL,	/* call rel32: returns to the next instruction */
	ARCH_BRANCH_JUMP,	/* jmp rel32 or jcc rel32: a tail call */
};

/*
 * If the bytes at @addr are a direct near call or jump with a 32-bit
 * displacement (e8, e9, 0f 80-8f), store its destination in @dest and its
 * length in @len.  This only looks at bytes: the caller must make sure that
 * @addr starts an instruction (text.c asks the kprobes core, which decodes
 * the function from its start).
 */
static inline enum arch_branch arch_direct_branch(unsigned long addr,
						  unsigned long *dest,
						  unsigned int *len)
{
	const u8 *op = (const u8 *)addr;
	enum arch_branch kind;
	unsigned int oplen;
	s32 rel;

	if (op[0] == 0xe8) {
		kind = ARCH_BRANCH_CALL;
		oplen = 1;
	} else if (op[0] == 0xe9) {
		kind = ARCH_BRANCH_JUMP;
		oplen = 1;
	} else if (op[0] == 0x0f && (op[1] & 0xf0) == 0x80) {
		kind = ARCH_BRANCH_JUMP;
		oplen = 2;
	} else {
		return ARCH_BRANCH_NONE;
	}
	memcpy(&rel, op + oplen, sizeof(rel));
	*len = oplen + sizeof(rel);
	*dest = addr + *len + (long)rel;
	return kind;
}

/*
 * Has a kprobe replaced the instruction at @addr, which may be a call of
 * @target?  A plain kprobe puts int3 on its first byte and leaves the
 * rest: int3 followed by a displacement to @target (int3 padding after a
 * ret never is).  An optimized one puts a jmp to its detour buffer, in
 * module space, where no jump of the kernel's own code goes.
 */
static inline bool arch_probed_branch(unsigned long addr, unsigned long target)
{
	const u8 *op = (const u8 *)addr;
	s32 rel;

	memcpy(&rel, op + 1, sizeof(rel));
	if (op[0] == 0xcc)
		return addr + 5 + (long)rel == target;
	return op[0] == 0xe9 && arch_module_text(addr + 5 + (long)rel);
}

/* The longest instruction arch_direct_branch() reads. */
#define ARCH_BRANCH_MAX_LEN	6

/*
 * A direct call may land up to this many bytes before its function, in the
 * padding where call depth tracking (CONFIG_CALL_DEPTH_TRACKING, 6.2 on)
 * puts its accounting thunk.
 */
#define ARCH_CALL_PADDING	16

/*
 * The return address of a function entered through a kprobe on its entry
 * (ftrace-based, or int3 at the first instruction): nothing has touched the
 * stack since the call pushed it.  rethook takes it from the same word for
 * kretprobes.
 */
static inline unsigned long arch_entry_return_address(struct pt_regs *regs)
{
	return *(unsigned long *)kernel_stack_pointer(regs);
}

/*
 * A hugetlb page table entry.  x86 keeps them in the format of an ordinary
 * PTE and takes asm-generic's huge_ptep_get(), which is ptep_get(); reading
 * it so spares a version check for huge_ptep_get()'s mm and address
 * arguments, which only other architectures use.
 */
static inline pte_t arch_huge_ptep_get(pte_t *ptep)
{
	return ptep_get(ptep);
}

#endif /* _COWSTAT_ARCH_H */
