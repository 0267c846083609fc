/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels cowstat supports lives here, so that
 * the rest of the module reads like code for a single kernel.
 *
 * Supported: 6.1 (Debian 12).  Later series change the COW path in ways the
 * probes must follow (no VM_FAULT_WRITE since 6.2, wp_page_copy() inlined,
 * percpu rss counters); until they are handled here the build refuses them
 * rather than count wrong.
 */
#ifndef _COWSTAT_COMPAT_H
#define _COWSTAT_COMPAT_H

#include <linux/version.h>
#include <linux/mm.h>
#include <linux/mm_types.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0) || \
	LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#error "cowstat supports Linux 6.1 only so far"
#endif

/*
 * Anonymous pages (MM_ANONPAGES, in base pages) mapped by @mm, exactly.
 * On 6.1 fork adds the child's rss with atomic_long_add() straight into
 * mm->rss_stat (not the per-task cache), so a plain read is exact for a
 * child that has not run yet.
 */
static inline unsigned long compat_mm_anon_pages(struct mm_struct *mm)
{
	long pages = atomic_long_read(&mm->rss_stat.count[MM_ANONPAGES]);

	return pages > 0 ? pages : 0;
}

/* Did wp_page_copy() install the new page, rather than lose a race? */
static inline bool compat_wp_page_copy_installed(vm_fault_t ret)
{
	return ret & VM_FAULT_WRITE;
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
