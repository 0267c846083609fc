/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cowstat: per-process copy-on-write accounting.
 *
 * Shared declarations of the module's parts: the counters (track.c), the
 * probes (probes.c) and the debugfs files (debugfs.c).
 */
#ifndef _COWSTAT_H
#define _COWSTAT_H

#include <linux/atomic.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/types.h>

struct pt_regs;

#define COWSTAT_VERSION "0.1.0"

/*
 * The counters, in the order of the columns of the debugfs files.  Their
 * exact meaning is in Documentation/cowstat.rst; the names are an interface.
 */
enum cowstat_counter {
	CS_FORKS,
	CS_FORK_SHARED,
	CS_FORK_INHERITED,
	CS_COW_FAULTS,
	CS_COW_COPIES,
	CS_COW_ZERO,
	CS_COW_FILE,
	CS_COW_REUSES,
	CS_COW_THP,
	CS_COW_HUGETLB,
	CS_COPIED_BYTES,
	CS_NR_COUNTERS
};

extern const char *const cowstat_counter_names[CS_NR_COUNTERS];

/* One process's numbers as the debugfs files show them. */
struct cowstat_row {
	pid_t pid;
	pid_t ppid;
	char comm[TASK_COMM_LEN];
	u64 count[CS_NR_COUNTERS];
};

/* A consistent copy of the live or the exited table, for one reader. */
struct cowstat_snapshot {
	size_t nr;
	struct cowstat_row rows[];
};

struct cowstat_status {
	u64 totals[CS_NR_COUNTERS];
	unsigned int tracked;
	unsigned int exited;
	u64 dropped;
	u64 dropped_events;
	u64 evicted;
	size_t entry_bytes;
	u64 pool_empty;
	u64 swept;
	u64 table_lock_max_ns;
};

/* track.c: the table of processes.  Safe to call from probe handlers. */
extern unsigned int cowstat_max_tracked;
extern unsigned int cowstat_history;
extern unsigned int cowstat_sweep_secs;

int cowstat_track_init(void);
void cowstat_track_start(void);
void cowstat_track_exit(void);
DECLARE_PER_CPU(u64 [CS_NR_COUNTERS], cowstat_totals);
/* The counters of @tsk's process's row, or NULL (counted as dropped_events). */
atomic64_t *cowstat_row_counts(struct task_struct *tsk);

/*
 * Add @n1 to counter @c1 of @tsk's process (and @n2 to @c2, unless @c2 is
 * CS_NR_COUNTERS), one lookup for both, and the same to the totals.
 * Inline, so that with the constant counters of each call the branches
 * fold away and an add of a constant is one instruction (a copy's cost,
 * BENCHMARKS.md).  The caller holds rcu_read_lock(), which the row is used
 * under.
 */
static __always_inline void cowstat_account(struct task_struct *tsk,
					    enum cowstat_counter c1, u64 n1,
					    enum cowstat_counter c2, u64 n2)
{
	atomic64_t *count;

	this_cpu_add(cowstat_totals[c1], n1);
	if (c2 != CS_NR_COUNTERS)
		this_cpu_add(cowstat_totals[c2], n2);
	if (!tsk || (tsk->flags & PF_KTHREAD))
		return;
	count = cowstat_row_counts(tsk);
	if (!count)
		return;
	atomic64_add(n1, &count[c1]);
	if (c2 != CS_NR_COUNTERS)
		atomic64_add(n2, &count[c2]);
}
#define cowstat_count(tsk, c, n) cowstat_account(tsk, c, n, CS_NR_COUNTERS, 0)
void cowstat_account_fork(struct task_struct *parent, struct task_struct *child,
			  bool new_mm, u64 shared);
void cowstat_process_reaped(pid_t tgid, u64 start, struct task_struct *leader);
void cowstat_process_check_reaped(pid_t tgid, u64 start);
void cowstat_process_renamed(struct task_struct *leader, const char *name);
int cowstat_reset(void);
struct cowstat_snapshot *cowstat_snapshot(bool exited);
void cowstat_get_status(struct cowstat_status *st);

/* probes.c: the probe table. */
int cowstat_probes_register(void);
void cowstat_probes_unregister(void);
void cowstat_probes_show(struct seq_file *m);
u64 cowstat_probes_lost(void);
const char *cowstat_probes_return_hidden(void);

/* text.c: kernel text at load time; never from a handler. */
int cowstat_text_extent(const char *name, unsigned long *start, unsigned long *size);
int cowstat_text_calls(const char *func, unsigned long target,
		       unsigned long *rets, unsigned int max);
int cowstat_text_branches_to(const char *func, unsigned long target);
unsigned long cowstat_text_address(const char *name);

/* hooks.c: other tracers' return hooks; cowstat_hooks_init() at load. */
void cowstat_hooks_init(void);
bool cowstat_return_hidden(unsigned long ret);
unsigned long cowstat_return_recover(struct pt_regs *regs);
const char *cowstat_return_hooks(void);

/* debugfs.c */
int cowstat_debugfs_init(void);
void cowstat_debugfs_exit(void);

#endif /* _COWSTAT_H */
