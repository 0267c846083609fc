// SPDX-License-Identifier: GPL-2.0
/*
 * The probes: one table of (symbol, handlers, required), registered by one
 * loop.  A required probe that cannot be registered fails the load and names
 * the symbol and the kernel release; an optional one (a feature the kernel
 * may be built without) leaves its counter at zero and says so in summary.
 *
 * Every handler runs with preemption disabled, never sleeps and never prints.
 * On Debian's kernels these function-entry probes go through ftrace, not
 * int3, so they do not run in NMI context; track.c still refuses to lock or
 * allocate there, should a kernel use int3.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hugetlb.h>
#include <linux/kprobes.h>
#include <linux/mm.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/utsname.h>

#include "compat.h"
#include "cowstat.h"

/*
 * Account to the process that owns @mm: the faulting task itself, or, for a
 * fault on another process's memory (ptrace, process_vm_writev(), a kernel
 * thread borrowing the mm), mm->owner.
 */
static void account_mm(struct mm_struct *mm, enum cowstat_counter ctr, u64 n)
{
	struct task_struct *tsk = current;

	rcu_read_lock();
	if (unlikely(tsk->mm != mm || (tsk->flags & PF_KTHREAD)))
		tsk = compat_mm_owner(mm);
	cowstat_account(tsk, ctr, n);
	rcu_read_unlock();
}
NOKPROBE_SYMBOL(account_mm);

/*
 * A write fault on a private mapping.  FAULT_FLAG_UNSHARE faults (a
 * read-only GUP pin breaking COW) are not writes; writes to MAP_SHARED
 * mappings are dirty tracking, not copy-on-write.
 */
static bool cow_write_fault(const struct vm_fault *vmf)
{
	return !(vmf->flags & FAULT_FLAG_UNSHARE) &&
	       !(vmf->vma->vm_flags & VM_SHARED);
}
NOKPROBE_SYMBOL(cow_write_fault);

static struct vm_fault *vmf_arg(struct pt_regs *regs)
{
	return (struct vm_fault *)regs_get_kernel_argument(regs, 0);
}
NOKPROBE_SYMBOL(vmf_arg);

/* --- fork: copy_process() --------------------------------------------- */

struct fork_data {
	u64 clone_flags;
};

static int fork_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	/* copy_process(pid, trace, node, struct kernel_clone_args *args) */
	struct kernel_clone_args *args =
		(struct kernel_clone_args *)regs_get_kernel_argument(regs, 3);
	struct fork_data *data = (struct fork_data *)ri->data;

	data->clone_flags = args->flags;
	return 0;
}
NOKPROBE_SYMBOL(fork_entry);

/*
 * The child exists but has not run, so its mm's anonymous rss is exactly
 * what dup_mmap() mapped into it copy-on-write.
 */
static int fork_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct task_struct *child = (struct task_struct *)regs_return_value(regs);
	struct fork_data *data = (struct fork_data *)ri->data;
	bool new_mm;

	if (IS_ERR_OR_NULL(child) || (data->clone_flags & CLONE_THREAD) ||
	    (child->flags & PF_KTHREAD))
		return 0;
	new_mm = !(data->clone_flags & CLONE_VM) && child->mm;
	cowstat_account_fork(current, child, new_mm,
			     new_mm ? compat_mm_anon_pages(child->mm) : 0);
	return 0;
}
NOKPROBE_SYMBOL(fork_return);

/* --- exit: release_task() --------------------------------------------- */

struct reap_data {
	struct task_struct *leader;
};

/*
 * A process is gone when release_task() frees its group leader, which is
 * released last.  Usually that is a call of its own (the parent's wait, or
 * exit_notify() when autoreaped).  But when the last other thread of an
 * already dead leader is released and the parent ignores SIGCHLD, the same
 * call loops back and releases the leader too: for that case hold on to the
 * leader and look at it again on return.
 */
static int reap_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct task_struct *p = (struct task_struct *)regs_get_kernel_argument(regs, 0);
	struct reap_data *data = (struct reap_data *)ri->data;
	struct task_struct *leader;

	if (p->flags & PF_KTHREAD)
		return 1;
	/* The old leader de_thread() releases at exec is no longer a leader. */
	if (thread_group_leader(p)) {
		cowstat_process_reaped(p);
		return 1;
	}
	leader = READ_ONCE(p->group_leader);
	if (READ_ONCE(leader->exit_state) != EXIT_ZOMBIE)
		return 1;
	get_task_struct(leader);
	data->leader = leader;
	return 0;
}
NOKPROBE_SYMBOL(reap_entry);

static int reap_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct reap_data *data = (struct reap_data *)ri->data;
	struct task_struct *leader = data->leader;

	if (READ_ONCE(leader->exit_state) == EXIT_DEAD && thread_group_leader(leader))
		cowstat_process_reaped(leader);
	put_task_struct(leader);
	return 0;
}
NOKPROBE_SYMBOL(reap_return);

/* --- names: __set_task_comm() (exec, PR_SET_NAME) ----------------------- */

static int rename_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct task_struct *tsk = (struct task_struct *)regs_get_kernel_argument(regs, 0);
	const char *name = (const char *)regs_get_kernel_argument(regs, 1);

	/* A process's name is its leader's; exec makes the execing thread leader. */
	if (thread_group_leader(tsk))
		cowstat_process_renamed(tsk, name);
	return 0;
}
NOKPROBE_SYMBOL(rename_pre);

/* --- write-protect faults: do_wp_page() and what it calls -------------- */

static int wp_fault_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct vm_fault *vmf = vmf_arg(regs);

	if (cow_write_fault(vmf))
		account_mm(vmf->vma->vm_mm, CS_COW_FAULTS, 1);
	return 0;
}
NOKPROBE_SYMBOL(wp_fault_pre);

static int wp_reuse_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct vm_fault *vmf = vmf_arg(regs);

	if (cow_write_fault(vmf))
		account_mm(vmf->vma->vm_mm, CS_COW_REUSES, 1);
	return 0;
}
NOKPROBE_SYMBOL(wp_reuse_pre);

struct copy_data {
	struct mm_struct *mm;
	enum cowstat_counter kind;
};

/* What wp_page_copy() is about to replace decides which counter it is. */
static int wp_copy_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct vm_fault *vmf = vmf_arg(regs);
	struct copy_data *data = (struct copy_data *)ri->data;

	if (!cow_write_fault(vmf))
		return 1;
	data->mm = vmf->vma->vm_mm;
	if (is_zero_pfn(pte_pfn(vmf->orig_pte)))
		data->kind = CS_COW_ZERO;
	else if (vmf->page && PageAnon(vmf->page))
		data->kind = CS_COW_COPIES;	/* anonymous or KSM */
	else
		data->kind = CS_COW_FILE;	/* page cache (or a raw PFN) */
	return 0;
}
NOKPROBE_SYMBOL(wp_copy_entry);

static int wp_copy_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct copy_data *data = (struct copy_data *)ri->data;

	if (!compat_wp_page_copy_installed(regs_return_value(regs)))
		return 0;
	account_mm(data->mm, data->kind, 1);
	if (data->kind != CS_COW_ZERO)
		account_mm(data->mm, CS_COPIED_BYTES, PAGE_SIZE);
	return 0;
}
NOKPROBE_SYMBOL(wp_copy_return);

/* --- first write to a private file page: do_fault() -> do_cow_fault() --- */

struct file_cow_data {
	struct mm_struct *mm;
};

static int file_fault_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct vm_fault *vmf = vmf_arg(regs);
	struct file_cow_data *data = (struct file_cow_data *)ri->data;

	/* do_fault() takes this branch to do_cow_fault() */
	if (!(vmf->flags & FAULT_FLAG_WRITE) || (vmf->vma->vm_flags & VM_SHARED) ||
	    !vmf->vma->vm_ops || !vmf->vma->vm_ops->fault)
		return 1;
	data->mm = vmf->vma->vm_mm;
	return 0;
}
NOKPROBE_SYMBOL(file_fault_entry);

static int file_fault_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct file_cow_data *data = (struct file_cow_data *)ri->data;
	vm_fault_t ret = regs_return_value(regs);

	/*
	 * NOPAGE: finish_fault() found the PTE taken by a racing fault.
	 * DONE_COW: DAX copied and installed the page itself, successfully.
	 */
	if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY))
		return 0;
	account_mm(data->mm, CS_COW_FILE, 1);
	account_mm(data->mm, CS_COPIED_BYTES, PAGE_SIZE);
	return 0;
}
NOKPROBE_SYMBOL(file_fault_return);

/* --- transparent huge pages: do_huge_pmd_wp_page() --------------------- */

static int thp_fault_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct vm_fault *vmf = vmf_arg(regs);

	if (cow_write_fault(vmf))
		account_mm(vmf->vma->vm_mm, CS_COW_THP, 1);
	return 0;
}
NOKPROBE_SYMBOL(thp_fault_pre);

/* --- hugetlb: hugetlb_wp() --------------------------------------------- */

struct hugetlb_data {
	struct mm_struct *mm;
	pte_t *ptep;
	unsigned long pfn;
	unsigned long size;
};

static int hugetlb_wp_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	/* hugetlb_wp(mm, vma, address, ptep, flags, pagecache_page, ptl) */
	struct vm_area_struct *vma =
		(struct vm_area_struct *)regs_get_kernel_argument(regs, 1);
	unsigned int flags = regs_get_kernel_argument(regs, 4);
	struct hugetlb_data *data = (struct hugetlb_data *)ri->data;

	if ((flags & FAULT_FLAG_UNSHARE) || (vma->vm_flags & VM_SHARED))
		return 1;
	data->mm = vma->vm_mm;
	data->ptep = (pte_t *)regs_get_kernel_argument(regs, 3);
	data->pfn = pte_pfn(huge_ptep_get(data->ptep));
	data->size = vma_kernel_pagesize(vma);
	return 0;
}
NOKPROBE_SYMBOL(hugetlb_wp_entry);

/*
 * hugetlb_wp() returns 0 for a reuse, a copy and a lost race alike.  It is
 * entered and left with the page table lock held, so the entry now tells:
 * a different page there is a copy.
 */
static int hugetlb_wp_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct hugetlb_data *data = (struct hugetlb_data *)ri->data;
	pte_t pte = huge_ptep_get(data->ptep);

	if (!pte_present(pte) || pte_pfn(pte) == data->pfn)
		return 0;
	account_mm(data->mm, CS_COW_HUGETLB, 1);
	account_mm(data->mm, CS_COPIED_BYTES, data->size);
	return 0;
}
NOKPROBE_SYMBOL(hugetlb_wp_return);

/* --- the table --------------------------------------------------------- */

struct cowstat_probe {
	const char *symbol;
	bool required;
	/* a kprobe has pre; a kretprobe has ret (and maybe entry) */
	kprobe_pre_handler_t pre;
	kretprobe_handler_t entry;
	kretprobe_handler_t ret;
	size_t data_size;
	int maxactive;		/* tasks that may sleep inside at once */

	struct kprobe kp;
	struct kretprobe krp;
	bool registered;
};

static struct cowstat_probe probes[] = {
	{ .symbol = "copy_process", .required = true,
	  .entry = fork_entry, .ret = fork_return,
	  .data_size = sizeof(struct fork_data), .maxactive = 512 },
	{ .symbol = "release_task", .required = true,
	  .entry = reap_entry, .ret = reap_return,
	  .data_size = sizeof(struct reap_data), .maxactive = 256 },
	{ .symbol = "__set_task_comm", .required = false, .pre = rename_pre },
	{ .symbol = "do_wp_page", .required = true, .pre = wp_fault_pre },
	{ .symbol = "wp_page_copy", .required = true,
	  .entry = wp_copy_entry, .ret = wp_copy_return,
	  .data_size = sizeof(struct copy_data), .maxactive = 256 },
	{ .symbol = "wp_page_reuse", .required = true, .pre = wp_reuse_pre },
	{ .symbol = "do_fault", .required = true,
	  .entry = file_fault_entry, .ret = file_fault_return,
	  .data_size = sizeof(struct file_cow_data), .maxactive = 512 },
	{ .symbol = "do_huge_pmd_wp_page", .required = IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE),
	  .pre = thp_fault_pre },
	{ .symbol = "hugetlb_wp", .required = IS_ENABLED(CONFIG_HUGETLB_PAGE),
	  .entry = hugetlb_wp_entry, .ret = hugetlb_wp_return,
	  .data_size = sizeof(struct hugetlb_data), .maxactive = 64 },
#ifdef COWSTAT_SELFTEST_MISSING_PROBE
	/*
	 * Only in the selftests' second build (make selftest-modules): a
	 * required probe no kernel has, last, so that a failed load must
	 * unwind every probe before it.
	 */
	{ .symbol = "cowstat_selftest_no_such_symbol", .required = true,
	  .pre = wp_fault_pre },
#endif
};

static int probe_register(struct cowstat_probe *p)
{
	if (!p->ret) {
		p->kp.symbol_name = p->symbol;
		p->kp.pre_handler = p->pre;
		return register_kprobe(&p->kp);
	}
	p->krp.kp.symbol_name = p->symbol;
	p->krp.entry_handler = p->entry;
	p->krp.handler = p->ret;
	p->krp.data_size = p->data_size;
	p->krp.maxactive = p->maxactive;
	return register_kretprobe(&p->krp);
}

static unsigned long probe_nmissed(const struct cowstat_probe *p)
{
	if (!p->ret)
		return p->kp.nmissed;
	return p->krp.nmissed + p->krp.kp.nmissed;
}

static void probe_unregister(struct cowstat_probe *p)
{
	if (!p->registered)
		return;
	if (p->ret)
		unregister_kretprobe(&p->krp);
	else
		unregister_kprobe(&p->kp);
	p->registered = false;
	if (probe_nmissed(p))
		pr_info("%s: %lu hits missed\n", p->symbol, probe_nmissed(p));
}

int cowstat_probes_register(void)
{
	struct cowstat_probe *p;
	int err;

	for (p = probes; p < probes + ARRAY_SIZE(probes); p++) {
		err = probe_register(p);
		if (!err) {
			p->registered = true;
			continue;
		}
		if (p->required) {
			pr_err("cannot probe %s on kernel %s (error %d); it is required, not loading\n",
			       p->symbol, init_utsname()->release, err);
			goto err_unwind;
		}
		pr_info("no %s on kernel %s (error %d): its counter stays 0\n",
			p->symbol, init_utsname()->release, err);
	}
	return 0;

err_unwind:
	while (p-- > probes)
		probe_unregister(p);
	return err;
}

void cowstat_probes_unregister(void)
{
	struct cowstat_probe *p;

	for (p = probes + ARRAY_SIZE(probes); p-- > probes; )
		probe_unregister(p);
}

void cowstat_probes_show(struct seq_file *m)
{
	const struct cowstat_probe *p;

	for (p = probes; p < probes + ARRAY_SIZE(probes); p++)
		seq_printf(m, "probe.%s: registered=%s required=%s nmissed=%lu\n",
			   p->symbol, p->registered ? "yes" : "no",
			   p->required ? "yes" : "no", probe_nmissed(p));
}
