/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels cowstat supports lives here, each
 * decided at the upstream version where the code changed, so that the rest
 * of the module reads like code for a single kernel.  Supported: 5.10 up to
 * the newest tested series (Kbuild states the range and refuses others).
 * What differs, for cowstat (sources: each version's mm/memory.c,
 * mm/hugetlb.c and include/linux/mm*.h):
 *
 * - mm->rss_stat: atomics before 6.2, percpu_counters since (6.2, "mm:
 *   convert mm's rss stats into percpu_counter");
 * - FAULT_FLAG_UNSHARE exists since 5.19 ("mm: support GUP-triggered
 *   unsharing of anonymous pages"); before it no fault unshares;
 * - the hugetlb write fault: hugetlb_cow() without fault flags before
 *   5.19, hugetlb_wp() with them since (the same commit), then taking the
 *   vm_fault: see compat_hugetlb_wp_args().
 * - KSM's unmerge, break_ksm(): a write fault (FAULT_FLAG_WRITE |
 *   FAULT_FLAG_REMOTE) before 6.2, an unshare (FAULT_FLAG_UNSHARE) since
 *   (6.2, "mm/ksm: use FAULT_FLAG_UNSHARE instead of FAULT_FLAG_WRITE in
 *   break_ksm()"): see COMPAT_BREAK_KSM_WRITES.
 *
 * - ftrace_ops callbacks: they get the function's arguments in a struct
 *   ftrace_regs without a full register save since 5.11 ("ftrace/x86:
 *   Allow for arguments to be passed in to ftrace_regs by default",
 *   CONFIG_DYNAMIC_FTRACE_WITH_ARGS), and before only with
 *   FTRACE_OPS_FL_SAVE_REGS, no cheaper than a kprobe: see
 *   COMPAT_FTRACE_ARGS.
 * - fprobe's entry handler: given the return address since 6.5, and
 *   ftrace_regs from the function graph tracer since 6.14: see
 *   COMPAT_FPROBE.
 *
 * One difference is a configuration's, not a version's: kretprobes and
 * fprobe exit handlers keep the return addresses they hide on the task's
 * rethook list with CONFIG_RETHOOK (5.18 on), elsewhere only in tables of
 * their own: see compat_rethook_return().
 *
 * Whether wp_page_copy() and wp_page_reuse() are functions of their own or
 * inlined into do_wp_page() is a matter of the compiler, not of the version,
 * so it is decided at load time (probes.c).  The instruction set's part,
 * huge page table entries included, is in arch.h.
 */
#ifndef _COWSTAT_COMPAT_H
#define _COWSTAT_COMPAT_H

#include <linux/version.h>
#include <linux/mm.h>
#include <linux/mm_types.h>
#include <linux/percpu_counter.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#ifdef CONFIG_RETHOOK
#include <linux/rethook.h>
#endif
#include <linux/sched/signal.h>
#include <linux/sched/task_stack.h>
#include <linux/userfaultfd_k.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 10, 0)
#error "cowstat supports Linux 5.10 and later"
#endif

/*
 * Before 6.2 KSM unmerges a page by a write fault of its own, which
 * do_wp_page() cannot tell from a write: a probe on break_ksm() notes the
 * page as an unshare first, so that it counts as one, as since 6.2.
 */
#define COMPAT_BREAK_KSM_WRITES \
	(IS_ENABLED(CONFIG_KSM) && LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0))

/*
 * Function-entry probes by ftrace_ops callbacks, without a register save:
 * only where the trampoline passes the arguments (x86 since 5.11).
 * Elsewhere probes.c uses kprobes.
 */
#if defined(CONFIG_DYNAMIC_FTRACE_WITH_ARGS) && LINUX_VERSION_CODE >= KERNEL_VERSION(5, 11, 0)
#define COMPAT_FTRACE_ARGS 1
#include <linux/ftrace.h>

/*
 * The arguments, as a pt_regs of which only the argument registers (and
 * the instruction pointer) are set: x86's ftrace_regs is a pt_regs.
 * ftrace_regs became opaque, reached through arch_ftrace_regs(), in 6.13
 * ("ftrace: Make ftrace_regs abstract from direct use"), which Debian's
 * 6.12 has as a stable backport: so decided by that macro, not a version.
 */
static __always_inline struct pt_regs *compat_ftrace_args(struct ftrace_regs *fregs)
{
#ifdef arch_ftrace_regs
	return &arch_ftrace_regs(fregs)->regs;
#else
	return &fregs->regs;
#endif
}
#else
#define COMPAT_FTRACE_ARGS 0
#endif

/*
 * fprobe, for probe_path=fprobe (measured beside the others by make
 * bench): only where its entry handler gets the return address (6.5,
 * "fprobe: Pass return address to the handlers"), which the copy-site
 * check needs.  Until 6.14 fprobe is an ftrace_ops with a full register
 * save and the handler gets a pt_regs and the trampoline's parent_ip;
 * since ("fprobe: Rewrite fprobe on function-graph tracer", with "fprobe:
 * Use ftrace_regs in fprobe entry handler") it runs from the function
 * graph tracer's entry, gets ftrace_regs, and reads the return address
 * from the stack, where another tracer's return hook may have put its
 * trampoline: COMPAT_FPROBE_STACK_RET.
 */
#if defined(CONFIG_FPROBE) && LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0) && \
	(LINUX_VERSION_CODE < KERNEL_VERSION(6, 14, 0) || COMPAT_FTRACE_ARGS)
#define COMPAT_FPROBE 1
#include <linux/fprobe.h>
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 14, 0)
#define COMPAT_FPROBE_STACK_RET 1
/* the struct the entry handler gets its registers in */
#define COMPAT_FPROBE_REGS ftrace_regs

static __always_inline struct pt_regs *compat_fprobe_args(struct ftrace_regs *fregs)
{
	return compat_ftrace_args(fregs);
}
#else
#define COMPAT_FPROBE_STACK_RET 0
#define COMPAT_FPROBE_REGS pt_regs

static __always_inline struct pt_regs *compat_fprobe_args(struct pt_regs *regs)
{
	return regs;
}
#endif
#else
#define COMPAT_FPROBE 0
#define COMPAT_FPROBE_STACK_RET 0
#endif

/*
 * Anonymous pages (MM_ANONPAGES, in base pages) mapped by @mm, exactly, for
 * a child that copy_process() has just made and that has not run.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
/*
 * Fork adds the child's rss with add_mm_rss_vec(), atomic_long_add()
 * straight into mm->rss_stat (not the per-task cache of
 * SPLIT_RSS_COUNTING), so a plain read is exact.
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
 * No fault unshares before 5.19, and fault flags were #defines before 5.13
 * (an enum since): a flag no fault has.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 19, 0)
#define FAULT_FLAG_UNSHARE 0
#endif

/* The function that resolves a write fault on a present hugetlb entry. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 19, 0)
#define COMPAT_HUGETLB_WP "hugetlb_cow"
#else
#define COMPAT_HUGETLB_WP "hugetlb_wp"
#endif

/*
 * A COMPAT_HUGETLB_WP call at its entry: the VMA, the fault flags and the
 * huge page table entry it is about to resolve.
 */
struct compat_hugetlb_wp_args {
	struct vm_area_struct *vma;
	unsigned long address;
	unsigned int flags;
	pte_t *ptep;
	/*
	 * The caller's vm_fault, in the layouts that take one (else NULL):
	 * hugetlb_wp() may drop the lock and walk the table again, leaving the
	 * entry it returns with in vmf->pte, so read that at return.
	 */
	struct vm_fault *vmf;
};

/*
 * Three layouts:
 * - (mm, vma, address, ptep, [flags since 5.19,] pagecache_page, ptl);
 * - (pagecache_folio, vmf) since 6.10;
 * - (vmf) since 6.16 ("mm,hugetlb: change mechanism to detect a COW on
 *   private mapping"), a fix that stable kernels below 6.16 took too.
 * So the version cannot tell the last two apart.  The vm_fault is always
 * hugetlb_fault()'s local variable, on this task's stack, where no mm,
 * folio or VMA ever is: that tells all three.
 */
static inline void compat_hugetlb_wp_args(struct pt_regs *regs,
					  struct compat_hugetlb_wp_args *a)
{
	void *arg0 = (void *)regs_get_kernel_argument(regs, 0);
	void *arg1 = (void *)regs_get_kernel_argument(regs, 1);
	struct vm_fault *vmf = NULL;

	if (object_is_on_stack(arg0))
		vmf = arg0;
	else if (object_is_on_stack(arg1))
		vmf = arg1;
	a->vmf = vmf;
	if (vmf) {
		a->vma = vmf->vma;
		a->address = vmf->address;
		a->ptep = vmf->pte;
		a->flags = vmf->flags;
		return;
	}
	a->vma = arg1;
	a->address = regs_get_kernel_argument(regs, 2);
	a->ptep = (pte_t *)regs_get_kernel_argument(regs, 3);
#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 19, 0)
	a->flags = FAULT_FLAG_WRITE;
#else
	a->flags = regs_get_kernel_argument(regs, 4);
#endif
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

/*
 * A write fault on a PTE that userfaultfd write-protects (uffd-wp, 5.7
 * on): do_wp_page() hands it to the userspace handler before any copy, and
 * the write is retried once the handler resolves it.  No copy-on-write.
 * vmf->orig_pte is the entry do_wp_page() tests, read under the same lock.
 * Since 6.7 a registration in async mode (UFFD_FEATURE_WP_ASYNC) is
 * resolved in place and goes on to copy or reuse; userfaultfd_wp_async()
 * is not exported, so such a fault is left out too, while its copy or
 * reuse counts (Documentation/cowstat.rst).
 */
static inline bool compat_uffd_wp_fault(const struct vm_fault *vmf)
{
	return userfaultfd_pte_wp(vmf->vma, vmf->orig_pte);
}

/*
 * The return address that a rethook (a kretprobe or an fprobe exit
 * handler) saved when it replaced the one at @frame by its trampoline, or
 * 0.  The current task's list, newest first, is only changed by the task
 * itself (an interrupt pushes and pops its own before it returns), so it
 * is read without a lock; it holds one node per hooked call in progress.
 */
#ifdef CONFIG_RETHOOK
static inline unsigned long compat_rethook_return(unsigned long frame)
{
	struct llist_node *n;
	struct rethook_node *rh;

	for (n = READ_ONCE(current->rethooks.first); n; n = READ_ONCE(n->next)) {
		rh = container_of(n, struct rethook_node, llist);
		if (rh->frame == frame)
			return rh->ret_addr;
	}
	return 0;
}
#else
static inline unsigned long compat_rethook_return(unsigned long frame)
{
	return 0;
}
#endif

#endif /* _COWSTAT_COMPAT_H */
