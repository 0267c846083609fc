/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What runs at each probe (handlers.c), as the probe table (probes.c)
 * names it: the handlers (kprobe, kretprobe and tracepoint probes), the
 * per-hit data of the kretprobes, and the call sites that tell the events
 * of a function called from many places.
 */
#ifndef _COWSTAT_HANDLERS_H
#define _COWSTAT_HANDLERS_H

#include <linux/kprobes.h>
#include <linux/mm_types.h>
#include <linux/sched.h>

/*
 * The calls of one out-of-line function (@callee) from the code that
 * resolves a write fault (@funcs), found at load: a hit of @callee that
 * returns into one of them is the event, and any other caller's is not.
 */
#define MAX_CALL_SITES 4

struct call_sites {
	const char *what;		/* what they count, for the log */
	const char *callee;
	const char *const *funcs;	/* NULL-terminated */
	unsigned int nr;
	unsigned long ret[MAX_CALL_SITES];	/* the addresses they return to */
};

#define FUNCS(...) ((const char *const []){ __VA_ARGS__, NULL })

/* ptep_clear_flush() in wp_page_copy(): copies; filled by probes.c at load */
extern struct call_sites copy_sites;
/* ptep_set_access_flags() in do_wp_page(), where wp_page_reuse() is inlined */
extern struct call_sites reuse_sites;

/* Per-hit data of the kretprobes. */
struct reap_data {
	pid_t tgid;
	u64 start;		/* its leader's start_boottime */
};

struct file_cow_data {
	struct mm_struct *mm;
};

struct hugetlb_data {
	struct mm_struct *mm;
	pte_t *ptep;
	struct vm_fault *vmf;	/* if the layout has one: its pte at return */
	unsigned long pfn;
	unsigned long size;
};

/*
 * One hit of a function-entry probe, whichever mechanism took it
 * (probes.c): an ftrace_ops callback or a kprobe.
 */
struct probe_hit {
	/*
	 * The function's arguments (regs_get_kernel_argument()); from an
	 * ftrace_ops callback only the argument registers are set.
	 */
	struct pt_regs *regs;
	/*
	 * Where the function returns to.  An ftrace_ops callback gets it as
	 * the trampoline found it at entry, before any other tracer's entry
	 * handler could replace it; a kprobe reads the stack, where a return
	 * hook that ran first leaves its trampoline (hooks.c).
	 */
	unsigned long ret;
	/*
	 * ret was read from the stack at entry (a kprobe, an fprobe since
	 * 6.14), where a return hook may have hidden it: regs->sp is set, and
	 * ret may be recovered from it.
	 */
	bool ret_from_stack;
	atomic_long_t *lost;	/* the probe's count of hits not counted */
};

typedef void (*probe_hit_handler_t)(const struct probe_hit *hit);

/* The handlers, in the order of the table. */
void fork_tp(void *unused, struct task_struct *parent, struct task_struct *child);
int reap_entry(struct kretprobe_instance *ri, struct pt_regs *regs);
int reap_return(struct kretprobe_instance *ri, struct pt_regs *regs);
void free_tp(void *unused, struct task_struct *p);
void rename_tp(void *unused, struct task_struct *tsk, const char *name);
void wp_fault_hit(const struct probe_hit *hit);
void wp_reuse_hit(const struct probe_hit *hit);
void reuse_site_hit(const struct probe_hit *hit);
void copy_site_hit(const struct probe_hit *hit);
int file_fault_entry(struct kretprobe_instance *ri, struct pt_regs *regs);
int file_fault_return(struct kretprobe_instance *ri, struct pt_regs *regs);
int finish_fault_entry(struct kretprobe_instance *ri, struct pt_regs *regs);
void thp_fault_hit(const struct probe_hit *hit);
int hugetlb_wp_entry(struct kretprobe_instance *ri, struct pt_regs *regs);
int hugetlb_wp_return(struct kretprobe_instance *ri, struct pt_regs *regs);
void break_ksm_hit(const struct probe_hit *hit);

/* A hit a probe saw but could not count: shows in its nmissed and in lost. */
static inline void probe_hit_lost(const struct probe_hit *hit)
{
	atomic_long_inc(hit->lost);
}

#endif /* _COWSTAT_HANDLERS_H */
