/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels cowstat supports lives here, so that
 * the rest of the module reads like code for a single kernel.
 *
 * Supported: 6.1 (Debian 12), 6.12 (bookworm-backports, Debian 13) and 7.2
 * (Debian sid).  Any other series is refused at build time rather than
 * counted wrong: each must first be checked against its mm/memory.c,
 * mm/hugetlb.c and a booted kernel's /proc/kallsyms.  What differs, for
 * cowstat:
 *
 * - mm->rss_stat: atomics on 6.1, percpu_counters since 6.2;
 * - hugetlb_wp(): its arguments (three layouts, see below), and
 *   huge_ptep_get() takes the mm since 6.12;
 * - wp_page_copy(): its own function on 6.1, inlined into do_wp_page() on
 *   Debian's 6.12 and 7.2.  That is a matter of the compiler, not of the
 *   version, so it is not decided here but at load time: probes.c looks for
 *   the calls of ptep_clear_flush() in whichever of the two exists.
 */
#ifndef _COWSTAT_COMPAT_H
#define _COWSTAT_COMPAT_H

#include <linux/version.h>
#include <linux/hugetlb.h>
#include <linux/mm.h>
#include <linux/mm_types.h>
#include <linux/percpu_counter.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/string.h>

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 1, 0) && \
	LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define COMPAT_SERIES_6_1
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0) && \
	LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
#define COMPAT_SERIES_6_12
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(7, 2, 0) && \
	LINUX_VERSION_CODE < KERNEL_VERSION(7, 3, 0)
#define COMPAT_SERIES_7_2
#else
#error "cowstat supports Linux 6.1, 6.12 and 7.2 only so far"
#endif

#ifndef CONFIG_X86_64
#error "cowstat supports x86-64 only so far (see compat_direct_call())"
#endif

/*
 * Anonymous pages (MM_ANONPAGES, in base pages) mapped by @mm, exactly, for
 * a child that copy_process() has just made and that has not run.
 */
#ifdef COMPAT_SERIES_6_1
/*
 * Fork adds the child's rss with atomic_long_add() straight into
 * mm->rss_stat (not the per-task cache), so a plain read is exact.
 */
static inline unsigned long compat_mm_anon_pages(struct mm_struct *mm)
{
	long pages = atomic_long_read(&mm->rss_stat.count[MM_ANONPAGES]);

	return pages > 0 ? pages : 0;
}
#else
/*
 * A percpu_counter: fork added the child's rss to the share of the CPU it
 * ran on, which a plain read misses until it exceeds the batch.  The summing
 * read takes the counter's raw spinlock with interrupts off: it does not
 * sleep, and is exact because nothing else changes this mm yet.
 */
static inline unsigned long compat_mm_anon_pages(struct mm_struct *mm)
{
	return percpu_counter_sum_positive(&mm->rss_stat[MM_ANONPAGES]);
}
#endif

/*
 * A hugetlb_wp() call at its entry: the VMA, the fault flags and the huge
 * page table entry it is about to resolve.
 */
struct compat_hugetlb_wp_args {
	struct vm_area_struct *vma;
	unsigned long address;
	unsigned int flags;
	pte_t *ptep;
};

#ifdef COMPAT_SERIES_6_1
/* hugetlb_wp(mm, vma, address, ptep, flags, pagecache_page, ptl) */
static inline void compat_hugetlb_wp_args(struct pt_regs *regs,
					  struct compat_hugetlb_wp_args *a)
{
	a->vma = (struct vm_area_struct *)regs_get_kernel_argument(regs, 1);
	a->address = regs_get_kernel_argument(regs, 2);
	a->ptep = (pte_t *)regs_get_kernel_argument(regs, 3);
	a->flags = regs_get_kernel_argument(regs, 4);
}
#else
/*
 * hugetlb_wp(pagecache_folio, vmf) on 6.12; hugetlb_wp(vmf) on 7.2, which
 * finds the page cache folio itself.
 */
static inline void compat_hugetlb_wp_args(struct pt_regs *regs,
					  struct compat_hugetlb_wp_args *a)
{
#ifdef COMPAT_SERIES_6_12
	struct vm_fault *vmf = (struct vm_fault *)regs_get_kernel_argument(regs, 1);
#else
	struct vm_fault *vmf = (struct vm_fault *)regs_get_kernel_argument(regs, 0);
#endif

	a->vma = vmf->vma;
	a->address = vmf->address;
	a->ptep = vmf->pte;
	a->flags = vmf->flags;
}
#endif

/* The huge page table entry at @ptep (6.12 on pass the mm and address along). */
static inline pte_t compat_huge_ptep_get(struct mm_struct *mm,
					 unsigned long address, pte_t *ptep)
{
#ifdef COMPAT_SERIES_6_1
	return huge_ptep_get(ptep);
#else
	return huge_ptep_get(mm, address, ptep);
#endif
}

/*
 * The return address of a function entered through a kprobe on its entry
 * (ftrace-based, or int3 at the first instruction): nothing has touched the
 * stack since the call pushed it.  rethook takes it from the same word for
 * kretprobes.
 */
static inline unsigned long compat_entry_return_address(struct pt_regs *regs)
{
	return *(unsigned long *)kernel_stack_pointer(regs);
}

/*
 * If the bytes at @addr are a direct near call, store its destination in
 * @dest and return the call's length.  x86-64: e8 and a 32-bit displacement
 * from the next instruction.  This only looks at bytes: the caller must make
 * sure that @addr starts an instruction (probes.c asks the kprobes core,
 * which decodes the function from its start).
 */
static inline unsigned int compat_direct_call(unsigned long addr, unsigned long *dest)
{
	s32 rel;

	if (*(const u8 *)addr != 0xe8)
		return 0;
	memcpy(&rel, (const void *)(addr + 1), sizeof(rel));
	*dest = addr + 5 + (long)rel;
	return 5;
}

/*
 * The task a fault on @mm belongs to when the faulting task is not one of
 * its threads (ptrace or process_vm_writev() writing into another process).
 * Call under rcu_read_lock().
 */
static inline struct task_struct *compat_mm_owner(struct mm_struct *mm)
{
#ifdef CONFIG_MEMCG
	return rcu_dereference(mm->owner);
#else
	return NULL;
#endif
}

#endif /* _COWSTAT_COMPAT_H */
