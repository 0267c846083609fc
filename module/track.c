// SPDX-License-Identifier: GPL-2.0
/*
 * The table of processes and their counts.
 *
 * A process is keyed by its tgid and the start time of its thread group
 * leader, so a reused PID never inherits another process's numbers (exec
 * from a non-leader thread keeps both: de_thread() copies the old leader's
 * start time).  Live processes are in a hash table that probe handlers read
 * under RCU; entries are only added, moved and freed under table_lock.  When
 * a process is reaped its entry moves to a FIFO of exited processes, capped
 * at cowstat_history; the oldest are evicted.
 *
 * Probe handlers run with preemption disabled and must not sleep: entries
 * are allocated with GFP_NOWAIT, and at most cowstat_max_tracked are live.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/hashtable.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/rculist.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>

#include "cowstat.h"

const char *const cowstat_counter_names[CS_NR_COUNTERS] = {
	[CS_FORKS]		= "forks",
	[CS_FORK_SHARED]	= "fork_shared",
	[CS_FORK_INHERITED]	= "fork_inherited",
	[CS_COW_FAULTS]		= "cow_faults",
	[CS_COW_COPIES]		= "cow_copies",
	[CS_COW_ZERO]		= "cow_zero",
	[CS_COW_FILE]		= "cow_file",
	[CS_COW_REUSES]		= "cow_reuses",
	[CS_COW_THP]		= "cow_thp",
	[CS_COW_HUGETLB]	= "cow_hugetlb",
	[CS_COPIED_BYTES]	= "copied_bytes",
};

struct cowstat_proc {
	struct hlist_node hnode;	/* in proc_table while live */
	struct list_head exited;	/* in exited_list once reaped */
	struct rcu_head rcu;
	u64 start;			/* leader's start_boottime */
	pid_t pid;			/* tgid */
	pid_t ppid;
	char comm[TASK_COMM_LEN];
	atomic64_t count[CS_NR_COUNTERS];
};

#define PROC_HASH_BITS 10

static struct kmem_cache *proc_cache;
static DEFINE_SPINLOCK(table_lock);
static DEFINE_HASHTABLE(proc_table, PROC_HASH_BITS);
static LIST_HEAD(exited_list);
static unsigned int nr_tracked;		/* under table_lock */
static unsigned int nr_exited;		/* under table_lock */

/*
 * Processes started before this boottime (module load or the last reset) get
 * an entry on their first event; later ones get theirs at fork, so one found
 * without an entry was dropped for lack of room and is not retried.
 */
static u64 epoch;

static atomic64_t nr_dropped;		/* processes not tracked (table full) */
static atomic64_t nr_dropped_events;	/* events of untracked processes */
static atomic64_t nr_evicted;		/* exited entries pushed out of history */

/* Totals count every event, tracked or not; reset moves the baseline. */
static DEFINE_PER_CPU(u64 [CS_NR_COUNTERS], totals);
static u64 totals_base[CS_NR_COUNTERS];	/* under table_lock */

static void proc_free_rcu(struct rcu_head *head)
{
	kmem_cache_free(proc_cache, container_of(head, struct cowstat_proc, rcu));
}

/*
 * get_task_comm() takes task_lock(), which a handler must not; a racing
 * prctl(PR_SET_NAME) can at worst give a mixed name.
 */
static void comm_copy(char *comm, struct task_struct *tsk)
{
	strscpy_pad(comm, tsk->comm, TASK_COMM_LEN);
}

static u64 task_key_start(struct task_struct *tsk)
{
	return READ_ONCE(tsk->group_leader)->start_boottime;
}

static struct cowstat_proc *proc_lookup(pid_t tgid, u64 start)
{
	struct cowstat_proc *p;

	hash_for_each_possible_rcu(proc_table, p, hnode, tgid)
		if (p->pid == tgid && p->start == start)
			return p;
	return NULL;
}

/*
 * Insert an entry for @tsk's process unless one exists.  Returns the entry,
 * or NULL when the table is full or memory is short.  Caller is in an RCU
 * read-side section.
 */
static struct cowstat_proc *proc_create(struct task_struct *tsk, pid_t ppid)
{
	struct cowstat_proc *p, *old;
	pid_t tgid = tsk->tgid;
	u64 start = task_key_start(tsk);

	/* In NMI context (an int3 kprobe) neither allocate nor lock. */
	if (in_nmi() || READ_ONCE(nr_tracked) >= cowstat_max_tracked)
		return NULL;
	p = kmem_cache_zalloc(proc_cache, GFP_NOWAIT | __GFP_NOWARN);
	if (!p)
		return NULL;
	p->pid = tgid;
	p->ppid = ppid;
	p->start = start;
	comm_copy(p->comm, tsk);

	spin_lock(&table_lock);
	old = proc_lookup(tgid, start);
	if (old || nr_tracked >= cowstat_max_tracked) {
		spin_unlock(&table_lock);
		kmem_cache_free(proc_cache, p);
		return old;
	}
	hash_add_rcu(proc_table, &p->hnode, tgid);
	nr_tracked++;
	spin_unlock(&table_lock);
	return p;
}

static pid_t task_ppid(struct task_struct *tsk)
{
	return task_tgid_nr(rcu_dereference(tsk->real_parent));
}

/* The entry of @tsk's process, created on first sight if it predates epoch. */
static struct cowstat_proc *proc_get(struct task_struct *tsk)
{
	struct cowstat_proc *p;
	u64 start = task_key_start(tsk);

	p = proc_lookup(tsk->tgid, start);
	if (p)
		return p;
	if (start < READ_ONCE(epoch))
		p = proc_create(tsk, task_ppid(tsk));
	if (!p)
		atomic64_inc(&nr_dropped_events);
	return p;
}

void cowstat_account(struct task_struct *tsk, const struct cowstat_delta *d,
		     unsigned int nr)
{
	struct cowstat_proc *p;
	unsigned int i;

	for (i = 0; i < nr; i++)
		this_cpu_add(totals[d[i].ctr], d[i].n);
	if (!tsk || (tsk->flags & PF_KTHREAD))
		return;
	rcu_read_lock();
	p = proc_get(tsk);
	for (i = 0; p && i < nr; i++)
		atomic64_add(d[i].n, &p->count[d[i].ctr]);
	rcu_read_unlock();
}

/*
 * @child was just created by copy_process() of @parent and has not run yet.
 * A child with a new address space (@new_mm) received @shared anonymous
 * pages copy-on-write; a CLONE_VM child (vfork, posix_spawn) gets an entry
 * but counts as no fork.
 */
void cowstat_account_fork(struct task_struct *parent, struct task_struct *child,
			  bool new_mm, u64 shared)
{
	struct cowstat_proc *p;

	rcu_read_lock();
	p = proc_create(child, task_ppid(child));
	if (!p)
		atomic64_inc(&nr_dropped);
	if (new_mm) {
		this_cpu_add(totals[CS_FORK_INHERITED], shared);
		if (p)
			atomic64_add(shared, &p->count[CS_FORK_INHERITED]);
	}
	rcu_read_unlock();

	if (new_mm)
		COWSTAT_ACCOUNT(parent, { CS_FORKS, 1 }, { CS_FORK_SHARED, shared });
}

/* Called with table_lock held: trim the exited FIFO to the history size. */
static void exited_trim(void)
{
	struct cowstat_proc *p;

	while (nr_exited > cowstat_history) {
		p = list_first_entry(&exited_list, struct cowstat_proc, exited);
		list_del(&p->exited);
		nr_exited--;
		atomic64_inc(&nr_evicted);
		call_rcu(&p->rcu, proc_free_rcu);
	}
}

/* The thread group led by @leader is being reaped: move it to exited. */
void cowstat_process_reaped(struct task_struct *leader)
{
	struct cowstat_proc *p;

	if (in_nmi())
		return;
	rcu_read_lock();
	p = proc_lookup(leader->tgid, leader->start_boottime);
	if (p) {
		spin_lock(&table_lock);
		/* A reset may have freed it since the lookup. */
		if (!hlist_unhashed(&p->hnode)) {
			hash_del_rcu(&p->hnode);
			nr_tracked--;
			/* The name it had when it died, after any exec. */
			comm_copy(p->comm, leader);
			list_add_tail(&p->exited, &exited_list);
			nr_exited++;
			exited_trim();
		}
		spin_unlock(&table_lock);
	}
	rcu_read_unlock();
}

/* @leader's process changed its name (exec or PR_SET_NAME) to @name. */
void cowstat_process_renamed(struct task_struct *leader, const char *name)
{
	struct cowstat_proc *p;

	rcu_read_lock();
	p = proc_lookup(leader->tgid, leader->start_boottime);
	if (p)
		strscpy_pad(p->comm, name, TASK_COMM_LEN);
	rcu_read_unlock();
}

static void totals_sum(u64 *sum)
{
	int cpu, i;

	memset(sum, 0, sizeof(u64) * CS_NR_COUNTERS);
	for_each_possible_cpu(cpu)
		for (i = 0; i < CS_NR_COUNTERS; i++)
			sum[i] += per_cpu(totals, cpu)[i];
}

/*
 * Forget every entry.  Called with table_lock held; handlers that looked an
 * entry up before may still add to it until the RCU grace period ends.
 */
static void table_clear(void)
{
	struct cowstat_proc *p, *tmp;
	struct hlist_node *n;
	int bkt;

	hash_for_each_safe(proc_table, bkt, n, p, hnode) {
		hash_del_rcu(&p->hnode);
		call_rcu(&p->rcu, proc_free_rcu);
	}
	list_for_each_entry_safe(p, tmp, &exited_list, exited) {
		list_del(&p->exited);
		call_rcu(&p->rcu, proc_free_rcu);
	}
	nr_tracked = 0;
	nr_exited = 0;
}

void cowstat_reset(void)
{
	spin_lock(&table_lock);
	table_clear();
	totals_sum(totals_base);
	WRITE_ONCE(epoch, ktime_get_boottime_ns());
	atomic64_set(&nr_dropped, 0);
	atomic64_set(&nr_dropped_events, 0);
	atomic64_set(&nr_evicted, 0);
	spin_unlock(&table_lock);
	pr_info("counts reset\n");
}

void cowstat_get_status(struct cowstat_status *st)
{
	int i;

	/* Summed under the lock, so never before a reset's baseline. */
	spin_lock(&table_lock);
	totals_sum(st->totals);
	for (i = 0; i < CS_NR_COUNTERS; i++)
		st->totals[i] -= totals_base[i];
	st->tracked = nr_tracked;
	st->exited = nr_exited;
	spin_unlock(&table_lock);
	st->dropped = atomic64_read(&nr_dropped);
	st->dropped_events = atomic64_read(&nr_dropped_events);
	st->evicted = atomic64_read(&nr_evicted);
	st->entry_bytes = kmem_cache_size(proc_cache);
}

static void row_fill(struct cowstat_row *row, struct cowstat_proc *p)
{
	int i;

	row->pid = p->pid;
	row->ppid = p->ppid;
	memcpy(row->comm, p->comm, sizeof(row->comm));
	for (i = 0; i < CS_NR_COUNTERS; i++)
		row->count[i] = atomic64_read(&p->count[i]);
}

/*
 * Copy the live (or exited) entries for a reader, so that formatting them
 * happens outside table_lock.  Sleeps; returns NULL on -ENOMEM.
 */
struct cowstat_snapshot *cowstat_snapshot(bool exited)
{
	struct cowstat_snapshot *snap;
	struct cowstat_proc *p;
	size_t room = 0;
	int bkt;

	for (;;) {
		snap = kvmalloc(struct_size(snap, rows, room), GFP_KERNEL);
		if (!snap)
			return NULL;
		snap->nr = 0;
		spin_lock(&table_lock);
		if ((exited ? nr_exited : nr_tracked) <= room)
			break;
		room = (exited ? nr_exited : nr_tracked) + 16;
		spin_unlock(&table_lock);
		kvfree(snap);
	}
	if (exited) {
		list_for_each_entry(p, &exited_list, exited)
			row_fill(&snap->rows[snap->nr++], p);
	} else {
		hash_for_each(proc_table, bkt, p, hnode)
			row_fill(&snap->rows[snap->nr++], p);
	}
	spin_unlock(&table_lock);
	return snap;
}

int cowstat_track_init(void)
{
	proc_cache = KMEM_CACHE(cowstat_proc, SLAB_HWCACHE_ALIGN);
	if (!proc_cache)
		return -ENOMEM;
	/* Until the probes are in, every process predates them. */
	epoch = U64_MAX;
	return 0;
}

/*
 * The probes are registered: from now on a new process gets its entry at
 * fork, and one started before now gets it on its first event.
 */
void cowstat_track_start(void)
{
	WRITE_ONCE(epoch, ktime_get_boottime_ns());
}

/* After the probes are gone: free every entry. */
void cowstat_track_exit(void)
{
	spin_lock(&table_lock);
	table_clear();
	spin_unlock(&table_lock);
	rcu_barrier();
	kmem_cache_destroy(proc_cache);
}
