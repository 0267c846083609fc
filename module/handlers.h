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

/* The handlers, in the order of the table. */
void fork_tp(void *unused, struct task_struct *parent, struct task_struct *child);
int reap_entry(struct kretprobe_instance *ri, struct pt_regs *regs);
int reap_return(struct kretprobe_instance *ri, struct pt_regs *regs);
void free_tp(void *unused, struct task_struct *p);
void rename_tp(void *unused, struct task_struct *tsk, const char *name);
int wp_fault_pre(struct kprobe *kp, struct pt_regs *regs);
int wp_reuse_pre(struct kprobe *kp, struct pt_regs *regs);
int reuse_site_pre(struct kprobe *kp, struct pt_regs *regs);
int copy_site_pre(struct kprobe *kp, struct pt_regs *regs);
int file_fault_entry(struct kretprobe_instance *ri, struct pt_regs *regs);
int file_fault_return(struct kretprobe_instance *ri, struct pt_regs *regs);
int finish_fault_entry(struct kretprobe_instance *ri, struct pt_regs *regs);
int thp_fault_pre(struct kprobe *kp, struct pt_regs *regs);
int hugetlb_wp_entry(struct kretprobe_instance *ri, struct pt_regs *regs);
int hugetlb_wp_return(struct kretprobe_instance *ri, struct pt_regs *regs);
int break_ksm_pre(struct kprobe *kp, struct pt_regs *regs);

/* A hit a probe saw but could not count: shows in its nmissed (probes.c). */
void kprobe_lost(struct kprobe *kp);

#endif /* _COWSTAT_HANDLERS_H */
