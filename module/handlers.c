// SPDX-License-Identifier: GPL-2.0
/*
 * The probe handlers: what each probe hit counts.  probes.c puts them on
 * the kernel's functions.
 *
 * Every handler runs with preemption disabled, never sleeps and never prints.
 * On Debian's kernels these function-entry probes go through ftrace, not
 * int3, so they do not run in NMI context; track.c still refuses to lock or
 * allocate there, should a kernel use int3.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hash.h>
#include <linux/hugetlb.h>
#include <linux/kprobes.h>
#include <linux/mm.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/sched/task.h>

#include "arch.h"
#include "compat.h"
#include "cowstat.h"
#include "handlers.h"

/*
 * The process that owns @mm: the faulting task itself, or, for a fault on
 * another process's memory (ptrace, process_vm_writev(), a kernel thread
 * borrowing the mm), mm->owner.  Call under rcu_read_lock().
 */
static struct task_struct *mm_task(struct mm_struct *mm)
{
	struct task_struct *tsk = current;

	if (unlikely(tsk->mm != mm || (tsk->flags & PF_KTHREAD)))
		tsk = compat_mm_owner(mm);
	return tsk;
}
NOKPROBE_SYMBOL(mm_task);

/* Count an event of @mm's process: one counter, or two by one lookup. */
static __always_inline void account_mm(struct mm_struct *mm, enum cowstat_counter c1, u64 n1,
				       enum cowstat_counter c2, u64 n2)
{
	rcu_read_lock();
	cowstat_account(mm_task(mm), c1, n1, c2, n2);
	rcu_read_unlock();
}
#define count_mm(mm, c, n) account_mm(mm, c, n, CS_NR_COUNTERS, 0)

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

static bool call_site_is(const struct call_sites *cs, unsigned long ret)
{
	unsigned int i;

	for (i = 0; i < cs->nr; i++)
		if (ret == cs->ret[i])
			return true;
	return false;
}
NOKPROBE_SYMBOL(call_site_is);

/*
 * Does this hit of a call_sites callee return into one of its sites?  If
 * another tracer's return hook hides the return address (hooks.c), it is
 * read back where that can be done; where not, the hit counts in lost.
 */
static bool call_site_hit(const struct call_sites *cs, const struct probe_hit *hit)
{
	unsigned long ret = hit->ret;

	if (call_site_is(cs, ret))
		return true;
	if (likely(!cowstat_return_hidden(ret)))
		return false;
	ret = hit->ret_from_stack ? cowstat_return_recover(hit->regs) : 0;
	if (ret)
		return call_site_is(cs, ret);
	probe_hit_lost(hit);
	return false;
}
NOKPROBE_SYMBOL(call_site_hit);

/* --- fork: the sched_process_fork tracepoint ------------------------- */

/*
 * kernel_clone() fires it after copy_process() and before
 * wake_up_new_task(): the child exists but has not run, so its mm's
 * anonymous rss is exactly what dup_mmap() mapped into it copy-on-write.
 * A thread (CLONE_THREAD) is no new process; a CLONE_VM child (vfork,
 * posix_spawn) gets a row but counts as no fork.  Tracepoint probes need
 * no instances, so no fork goes uncounted for want of one; on 7.x they
 * run preemptible (SRCU), which nothing here minds.
 */
void fork_tp(void *unused, struct task_struct *parent, struct task_struct *child)
{
	bool new_mm;

	if (!thread_group_leader(child) || (child->flags & PF_KTHREAD))
		return;
	new_mm = child->mm && child->mm != parent->mm;
	cowstat_account_fork(parent, child, new_mm,
			     new_mm ? compat_mm_anon_pages(child->mm) : 0);
}
NOKPROBE_SYMBOL(fork_tp);

/* --- exit: release_task(), and the sched_process_free tracepoint -------- */

static void unshare_note_drop(struct task_struct *tsk);

static void task_released(struct task_struct *p)
{
	unshare_note_drop(p);
	if (!(p->flags & PF_KTHREAD) && thread_group_leader(p))
		cowstat_process_reaped(p->tgid, p->start_boottime, p);
}
NOKPROBE_SYMBOL(task_released);

/*
 * A process is gone when release_task() frees its group leader, which is
 * released last.  Usually that is a call of its own (the parent's wait, or
 * exit_notify() when autoreaped).  But when the last other thread of a
 * leader that is, or becomes meanwhile, a zombie is released and the parent
 * ignores SIGCHLD, the same call loops back ("goto repeat") and releases
 * the leader too.  Whether the leader is a zombie yet cannot be known at
 * entry (exit_group() races the threads to their exits), so every release
 * of a non-leader thread checks on return whether its process still
 * exists.  Only (tgid, start) is kept, no task reference: a handler must
 * not drop the last one (on RT that frees with sleeping locks), nor may
 * rmmod leave one.  The old leader that de_thread() releases at exec is no
 * longer a leader.
 */
int reap_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct task_struct *p = (struct task_struct *)regs_get_kernel_argument(regs, 0);
	struct reap_data *data = (struct reap_data *)ri->data;

	if (thread_group_leader(p) || (p->flags & PF_KTHREAD)) {
		task_released(p);
		return 1;
	}
	unshare_note_drop(p);
	data->tgid = p->tgid;
	data->start = READ_ONCE(p->group_leader)->start_boottime;
	return 0;
}
NOKPROBE_SYMBOL(reap_entry);

int reap_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct reap_data *data = (struct reap_data *)ri->data;

	cowstat_process_check_reaped(data->tgid, data->start);
	return 0;
}
NOKPROBE_SYMBOL(reap_return);

/*
 * Every task_struct, once released and switched out for the last time,
 * passes here one RCU grace period later (delayed_put_task_struct(), in
 * RCU callback context).  A leader whose release the kretprobe missed (no
 * instance left) still has its row, which moves now: no row stays in
 * processes for want of an instance.  For every other task the lookup
 * finds nothing, as the row has moved already.
 */
void free_tp(void *unused, struct task_struct *p)
{
	task_released(p);
}
NOKPROBE_SYMBOL(free_tp);

/* --- names: the task_rename tracepoint (exec, PR_SET_NAME) ------------- */

void rename_tp(void *unused, struct task_struct *tsk, const char *name)
{
	/* A process's name is its leader's; exec makes the execing thread leader. */
	if (thread_group_leader(tsk))
		cowstat_process_renamed(tsk, name);
}
NOKPROBE_SYMBOL(rename_tp);

/* --- write-protect faults: do_wp_page() and what it calls -------------- */

/*
 * Copies are counted where the kernel commits to one.  wp_page_copy() takes
 * the page table lock, checks that the entry is still the one the fault saw,
 * and only then calls ptep_clear_flush() on it, once, after which nothing
 * can fail: the new page is installed.  A call of ptep_clear_flush() from
 * there is exactly one installed copy.  A lost race, an allocation or copy
 * failure never gets there.
 *
 * wp_page_copy() is a function of its own on Debian's 6.1 but inlined into
 * do_wp_page() on Debian's 6.12, so it cannot be probed itself everywhere.
 * ptep_clear_flush() is out of line on both (mm/pgtable-generic.c), but has
 * many other callers (reclaim, migration, KSM, ...).  The copy site is told
 * by the return address at its entry: at load, copy_sites_find() collects
 * the calls of ptep_clear_flush() in wp_page_copy() or, where that has no
 * symbol, do_wp_page(), and refuses to load if there are none.
 *
 * The call's arguments tell the rest: the VMA (so the mm), and the entry
 * about to be cleared, which wp_page_copy() has just found unchanged under
 * the lock: the zero page, an anonymous (or KSM) page, or a page cache page
 * or raw PFN.  Only one thing is not in them: whether the fault is a write
 * or an unshare (FAULT_FLAG_UNSHARE: a read-only GUP pin breaking COW, which
 * copies too but is no write).  Unshares are rare, so they alone leave a
 * note, in a small table keyed by task (unshare_notes[]): (task, VMA,
 * address).  A copy at the noted address is the unshare's, not counted.  The
 * task's next write fault drops its note (an unshare that ended without a
 * copy must not hide a later write's), and so does its exit.
 *
 * So a write fault costs two probe hits, do_wp_page() and the copy site,
 * and no return probe: a kretprobe on do_wp_page() with a record of every
 * write fault was half the module's cost on fork-and-write, and its
 * instances limited the tasks inside at once.
 *
 * Anything that hooks the return of ptep_clear_flush() (another kretprobe,
 * the function graph tracer) replaces the return address this relies on:
 * call_site_hit() reads it back from the rethook list, or counts the hit in
 * lost (see Documentation/cowstat.rst).
 */

#define UNSHARE_BITS		8
#define UNSHARE_SIZE		(1U << UNSHARE_BITS)
#define UNSHARE_PROBES		16

/*
 * A slot belongs to the task that set ->task from NULL; only that task, or
 * release_task() once it is dead, writes its other fields or frees it.  A
 * task has at most one note, in one of the UNSHARE_PROBES slots from its
 * hash on.  nr_unshare_notes lets write faults skip the table while it is
 * empty, which is nearly always.
 */
struct unshare_note {
	struct task_struct *task;
	struct vm_area_struct *vma;
	unsigned long address;
};

static struct unshare_note unshare_notes[UNSHARE_SIZE];
static atomic_t nr_unshare_notes;

static struct unshare_note *unshare_note_find(struct task_struct *tsk)
{
	unsigned int i, n = hash_ptr(tsk, UNSHARE_BITS);

	for (i = 0; i < UNSHARE_PROBES; i++, n = (n + 1) % UNSHARE_SIZE)
		if (READ_ONCE(unshare_notes[n].task) == tsk)
			return &unshare_notes[n];
	return NULL;
}
NOKPROBE_SYMBOL(unshare_note_find);

static void unshare_note_free(struct unshare_note *note)
{
	atomic_dec(&nr_unshare_notes);
	/* our reads of ->vma and ->address are done before another task claims it */
	smp_store_release(&note->task, NULL);
}
NOKPROBE_SYMBOL(unshare_note_free);

/* Drop @tsk's note, if it has one: only @tsk itself, or after its death. */
static void unshare_note_drop(struct task_struct *tsk)
{
	struct unshare_note *note;

	if (likely(!atomic_read(&nr_unshare_notes)))
		return;
	note = unshare_note_find(tsk);
	if (note)
		unshare_note_free(note);
}
NOKPROBE_SYMBOL(unshare_note_drop);

static bool unshare_note_add(struct vm_area_struct *vma, unsigned long address)
{
	unsigned int i, n = hash_ptr(current, UNSHARE_BITS);
	struct unshare_note *note;

	unshare_note_drop(current);
	for (i = 0; i < UNSHARE_PROBES; i++, n = (n + 1) % UNSHARE_SIZE) {
		note = &unshare_notes[n];
		if (READ_ONCE(note->task) || cmpxchg(&note->task, NULL, current))
			continue;
		note->vma = vma;
		note->address = address;
		atomic_inc(&nr_unshare_notes);
		return true;
	}
	return false;
}
NOKPROBE_SYMBOL(unshare_note_add);

/* current's note, if it is of this very page; NULL otherwise. */
static struct unshare_note *unshare_note_match(struct vm_area_struct *vma,
					       unsigned long address)
{
	struct unshare_note *note;

	if (likely(!atomic_read(&nr_unshare_notes)))
		return NULL;
	note = unshare_note_find(current);
	if (!note || note->vma != vma || note->address != address)
		return NULL;
	return note;
}
NOKPROBE_SYMBOL(unshare_note_match);

/* Is this copy the unshare current noted?  Then the note is used up. */
static bool unshare_note_take(struct vm_area_struct *vma, unsigned long address)
{
	struct unshare_note *note = unshare_note_match(vma, address);

	if (note)
		unshare_note_free(note);
	return note;
}
NOKPROBE_SYMBOL(unshare_note_take);

/*
 * Every write fault on a present write-protected PTE of a private mapping:
 * count it, but for one that userfaultfd write-protects, which goes to its
 * handler, not to a copy.  An unshare leaves a note instead; one that cannot (a full
 * window, very unlikely) shows in nmissed, as its copy will count.
 */
void wp_fault_hit(const struct probe_hit *hit)
{
	struct vm_fault *vmf = vmf_arg(hit->regs);

	if (vmf->vma->vm_flags & VM_SHARED)
		return;
	if (vmf->flags & FAULT_FLAG_UNSHARE) {
		if (!unshare_note_add(vmf->vma, vmf->address))
			probe_hit_lost(hit);
		return;
	}
	/* KSM unmerging by a write fault: an unshare, see break_ksm_hit() */
	if ((vmf->flags & FAULT_FLAG_REMOTE) && unshare_note_match(vmf->vma, vmf->address))
		return;
	unshare_note_drop(current);
	if (compat_uffd_wp_fault(vmf))
		return;
	count_mm(vmf->vma->vm_mm, CS_COW_FAULTS, 1);
}
NOKPROBE_SYMBOL(wp_fault_hit);

/*
 * break_ksm(vma, addr): KSM unmerges the page at addr, from madvise
 * (MADV_UNMERGEABLE), a write of 2 to /sys/kernel/mm/ksm/run, or ksmd
 * undoing a merge.  That copies the page but is no write of the process's.
 * Since 6.2 its fault says so (FAULT_FLAG_UNSHARE); before, it is a write
 * fault with FAULT_FLAG_REMOTE, which this note turns into an unshare: the
 * fault and its copy count nowhere, on every kernel alike.  A note that
 * cannot be made shows in lost, as the copy then counts as a write's.
 */
void break_ksm_hit(const struct probe_hit *hit)
{
	struct vm_area_struct *vma =
		(struct vm_area_struct *)regs_get_kernel_argument(hit->regs, 0);
	unsigned long address = regs_get_kernel_argument(hit->regs, 1) & PAGE_MASK;

	if (!unshare_note_add(vma, address))
		probe_hit_lost(hit);
}
NOKPROBE_SYMBOL(break_ksm_hit);

void wp_reuse_hit(const struct probe_hit *hit)
{
	struct vm_fault *vmf = vmf_arg(hit->regs);

	if (cow_write_fault(vmf))
		count_mm(vmf->vma->vm_mm, CS_COW_REUSES, 1);
}
NOKPROBE_SYMBOL(wp_reuse_hit);

/*
 * wp_page_copy() is its own function on some builds and inlined into its
 * only caller do_wp_page() on others; both are searched (a function can
 * also be inlined at some call sites and not at others).
 */
struct call_sites copy_sites = {
	.what = "copies", .callee = "ptep_clear_flush",
	.funcs = FUNCS("wp_page_copy", "do_wp_page"),
};

/*
 * Only where wp_page_reuse() has no symbol of that name: its
 * ptep_set_access_flags() call is the reuse.  gcc inlines the function
 * into do_wp_page() (Debian's 5.10), or makes a clone of it with a
 * constant argument folded in (wp_page_reuse.constprop.0 on Debian's
 * 6.12-rt), which only do_wp_page() and the shared-mapping paths inlined
 * into it call.  wp_page_shared() and wp_pfn_shared() reuse through the
 * same call, for shared mappings only, which the handler leaves out as
 * wp_reuse_hit() does.
 */
struct call_sites reuse_sites = {
	.what = "reuses", .callee = "ptep_set_access_flags",
	.funcs = FUNCS("do_wp_page", "wp_page_reuse.constprop.0", "wp_page_reuse.isra.0",
		       "wp_page_reuse.part.0"),
};


/*
 * ptep_set_access_flags(vma, address, ptep, entry, dirty) from an inlined
 * wp_page_reuse(): no unshare gets there (do_wp_page() returns before a
 * reuse when unsharing), so a private mapping's is a write reusing the page.
 */
void reuse_site_hit(const struct probe_hit *hit)
{
	struct vm_area_struct *vma =
		(struct vm_area_struct *)regs_get_kernel_argument(hit->regs, 0);

	if (call_site_hit(&reuse_sites, hit) && !(vma->vm_flags & VM_SHARED))
		count_mm(vma->vm_mm, CS_COW_REUSES, 1);
}
NOKPROBE_SYMBOL(reuse_site_hit);

/*
 * What the copy replaces, as vm_normal_page() sees it on x86, which has
 * pte_special(): the zero page; a special entry (a raw PFN, no struct page
 * to go by); or a page, anonymous (or KSM) or not.  wp_page_copy() holds a
 * reference on that page.
 */
static enum cowstat_counter copy_kind(pte_t pte)
{
	unsigned long pfn = pte_pfn(pte);

	if (is_zero_pfn(pfn))
		return CS_COW_ZERO;
	if (!pte_special(pte) && pfn_valid(pfn) && PageAnon(pfn_to_page(pfn)))
		return CS_COW_COPIES;
	return CS_COW_FILE;
}
NOKPROBE_SYMBOL(copy_kind);

/* ptep_clear_flush(vma, address, ptep) */
void copy_site_hit(const struct probe_hit *hit)
{
	struct vm_area_struct *vma =
		(struct vm_area_struct *)regs_get_kernel_argument(hit->regs, 0);
	unsigned long address = regs_get_kernel_argument(hit->regs, 1);
	pte_t *ptep = (pte_t *)regs_get_kernel_argument(hit->regs, 2);
	enum cowstat_counter kind;

	if (!call_site_hit(&copy_sites, hit) || unshare_note_take(vma, address))
		return;
	kind = copy_kind(ptep_get(ptep));
	account_mm(vma->vm_mm, kind, 1,
		   CS_COPIED_BYTES, kind == CS_COW_ZERO ? 0 : PAGE_SIZE);
}
NOKPROBE_SYMBOL(copy_site_hit);

/* --- first write to a private file page: do_fault() -> do_cow_fault() --- */

int file_fault_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
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

int file_fault_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct file_cow_data *data = (struct file_cow_data *)ri->data;
	vm_fault_t ret = regs_return_value(regs);

	/*
	 * NOPAGE: finish_fault() found the PTE taken by a racing fault.
	 * DONE_COW: DAX copied and installed the page itself, successfully.
	 */
	if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY))
		return 0;
	account_mm(data->mm, CS_COW_FILE, 1, CS_COPIED_BYTES, PAGE_SIZE);
	return 0;
}
NOKPROBE_SYMBOL(file_fault_return);

/*
 * Where do_fault() has no symbol of its own (Debian's 5.10 inlines it, and
 * do_cow_fault(), into handle_mm_fault(); its only do_fault is the AMD
 * IOMMU driver's): finish_fault(), which do_cow_fault() calls to install
 * the copy.  A write to a private mapping there is always do_cow_fault()'s
 * (do_read_fault() has no write, do_shared_fault() a shared mapping).  DAX
 * installs its copies itself (VM_FAULT_DONE_COW) without finish_fault(): on
 * such a kernel they are not counted (Documentation/cowstat.rst).
 */
int finish_fault_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct vm_fault *vmf = vmf_arg(regs);
	struct file_cow_data *data = (struct file_cow_data *)ri->data;

	if (!(vmf->flags & FAULT_FLAG_WRITE) || (vmf->vma->vm_flags & VM_SHARED))
		return 1;
	data->mm = vmf->vma->vm_mm;
	return 0;
}
NOKPROBE_SYMBOL(finish_fault_entry);

/* --- transparent huge pages: do_huge_pmd_wp_page() --------------------- */

void thp_fault_hit(const struct probe_hit *hit)
{
	struct vm_fault *vmf = vmf_arg(hit->regs);

	if (cow_write_fault(vmf))
		count_mm(vmf->vma->vm_mm, CS_COW_THP, 1);
}
NOKPROBE_SYMBOL(thp_fault_hit);

/* --- hugetlb: hugetlb_wp() --------------------------------------------- */

int hugetlb_wp_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct hugetlb_data *data = (struct hugetlb_data *)ri->data;
	struct compat_hugetlb_wp_args a;

	compat_hugetlb_wp_args(regs, &a);
	if ((a.flags & FAULT_FLAG_UNSHARE) || (a.vma->vm_flags & VM_SHARED))
		return 1;
	data->mm = a.vma->vm_mm;
	data->ptep = a.ptep;
	data->vmf = a.vmf;
	data->pfn = pte_pfn(arch_huge_ptep_get(a.ptep));
	data->size = vma_kernel_pagesize(a.vma);
	return 0;
}
NOKPROBE_SYMBOL(hugetlb_wp_entry);

/*
 * hugetlb_wp() returns 0 for a reuse, a copy and a lost race alike.  It is
 * entered and left with the page table lock held, so the entry now tells:
 * a different page there is a copy.  Where it takes the vm_fault, the entry
 * is the one in vmf->pte now, which a walk after dropping the lock may have
 * changed (NULL: the table is gone, nothing was installed).
 */
int hugetlb_wp_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct hugetlb_data *data = (struct hugetlb_data *)ri->data;
	pte_t *ptep = data->vmf ? READ_ONCE(data->vmf->pte) : data->ptep;
	pte_t pte;

	if (!ptep)
		return 0;
	pte = arch_huge_ptep_get(ptep);
	if (!pte_present(pte) || pte_pfn(pte) == data->pfn)
		return 0;
	account_mm(data->mm, CS_COW_HUGETLB, 1, CS_COPIED_BYTES, data->size);
	return 0;
}
NOKPROBE_SYMBOL(hugetlb_wp_return);
