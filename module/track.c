// SPDX-License-Identifier: GPL-2.0
/*
 * The table of processes and their counts.
 *
 * A process is keyed by its tgid and the start time of its thread group
 * leader, so a reused PID never inherits another process's numbers (exec
 * from a non-leader thread keeps both: de_thread() copies the old leader's
 * start time).  Live processes are in a hash table that probe handlers and
 * readers walk under RCU; entries are only added, moved and freed under
 * table_lock.  When a process is reaped its entry moves to a FIFO of exited
 * processes, capped at cowstat_history; the oldest are evicted.
 *
 * Probe handlers run with preemption disabled, on PREEMPT_RT too, so they
 * must neither sleep nor take a lock that sleeps there:
 *  - table_lock is a raw_spinlock_t, held for O(1) work only: one insert,
 *    one move, one eviction, or a reset's swap of the whole table.  It is
 *    taken with interrupts off: sched_process_free fires from RCU callbacks,
 *    in softirq context, which may interrupt a holder on the same CPU;
 *  - handlers never call the slab allocator: new entries come from a pool
 *    that pool_refill() tops up from a workqueue, and freed entries go back
 *    to it from their RCU callback.  A fork that finds the pool empty is
 *    counted in dropped, as one that finds the table full.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/hash.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/percpu.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/rculist.h>
#include <linux/sched/clock.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

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

struct cowstat_table;

struct cowstat_proc {
	struct hlist_node hnode;	/* in its table's buckets while live */
	struct list_head exited;	/* in its table's FIFO once reaped */
	union {
		struct rcu_head rcu;	/* on its way back to the pool */
		struct llist_node free;	/* in the pool */
	};
	const struct cowstat_table *table;	/* the one it was created in */
	u64 start;			/* leader's start_boottime */
	pid_t pid;			/* tgid */
	pid_t ppid;
	bool sweep_suspect;		/* the last sweep found it gone; sweep only */
	char comm[TASK_COMM_LEN];
	atomic64_t count[CS_NR_COUNTERS];
};

/*
 * One generation of the table: a reset swaps in a new one, so that it holds
 * table_lock for O(1) work and frees the old entries after a grace period.
 */
struct cowstat_table {
	unsigned int nr_tracked;	/* under table_lock */
	unsigned int nr_exited;		/* under table_lock */
	struct list_head exited;	/* oldest first; RCU for readers */
	unsigned int bits;
	struct hlist_head buckets[];	/* RCU for readers */
};

static struct kmem_cache *proc_cache;
static DEFINE_RAW_SPINLOCK(table_lock);
static u64 lock_taken_at;	/* under table_lock: when its holder took it */
static u64 lock_hold_max;	/* under table_lock: longest hold, ns */
static struct cowstat_table __rcu *cur_table;
static unsigned long table_gen;		/* bumped by each reset, under table_lock */

/*
 * table_lock, timed: summary's table_lock_max_ns is the longest hold since
 * load or reset, so that the claim "O(1) work only" is measured, not just
 * made.  local_clock() is safe in any context.
 */
static unsigned long table_lock_take(void)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&table_lock, flags);
	lock_taken_at = local_clock();
	return flags;
}

static void table_lock_give(unsigned long flags)
{
	u64 held = local_clock() - lock_taken_at;

	if (held > lock_hold_max)
		lock_hold_max = held;
	raw_spin_unlock_irqrestore(&table_lock, flags);
}

/*
 * Processes started before this boottime (module load or the last reset) get
 * an entry on their first event; later ones get theirs at fork, so one found
 * without an entry was dropped for lack of room and is not retried.
 */
static u64 epoch;

/*
 * What was seen but not kept, per CPU so that a storm of drops on every CPU
 * does not bounce one cache line; reset moves the baseline, as for totals.
 */
enum cowstat_miss {
	MISS_DROPPED,		/* processes not tracked (no room) */
	MISS_DROPPED_EVENTS,	/* events of untracked processes */
	MISS_POOL_EMPTY,	/* entries wanted when the pool had none */
	MISS_SWEPT,		/* rows the sweep moved: reaps no probe saw */
	MISS_NR
};

static DEFINE_PER_CPU(u64 [MISS_NR], misses);
static u64 misses_base[MISS_NR];	/* under table_lock */
static atomic64_t nr_evicted;		/* exited entries pushed out of history */

/* this_cpu_inc() is one instruction on x86: safe from any context. */
static void miss_count(enum cowstat_miss what)
{
	this_cpu_inc(misses[what]);
}

/*
 * Totals count every event, tracked or not; reset moves the baseline.
 * cowstat_account(), inline in cowstat.h, adds to them.
 */
DEFINE_PER_CPU(u64 [CS_NR_COUNTERS], cowstat_totals);
static u64 totals_base[CS_NR_COUNTERS];	/* under table_lock */

/* --- the pool of preallocated entries ----------------------------------- */

/*
 * Up to POOL_ROWS zeroed entries wait here (never more than max_tracked).
 * llist_add() is lock-free, so the refill work and RCU callbacks put entries
 * back without a lock; the one taker, proc_create(), holds table_lock, which
 * llist_del_first() needs.  Below half full the refill work is queued.
 */
#define POOL_ROWS 1024

static LLIST_HEAD(pool);
static atomic_t pool_nr;
static unsigned int pool_target;
static bool pool_stopped;

#ifdef COWSTAT_SELFTEST_MISSING_PROBE
/*
 * selftests only: a pool of this many rows, filled at load and never
 * refilled, so that a test can run it dry and count what that costs.
 */
static unsigned int selftest_pool_fixed;
module_param(selftest_pool_fixed, uint, 0444);
MODULE_PARM_DESC(selftest_pool_fixed, "selftests only: rows filled at load, never refilled");
#else
#define selftest_pool_fixed 0U
#endif

static void pool_refill(struct work_struct *work);
static DECLARE_WORK(pool_work, pool_refill);

static void pool_put(struct cowstat_proc *p)
{
	if (atomic_read(&pool_nr) >= pool_target) {
		kmem_cache_free(proc_cache, p);
		return;
	}
	memset(p, 0, sizeof(*p));
	llist_add(&p->free, &pool);
	atomic_inc(&pool_nr);
}

static void pool_refill(struct work_struct *work)
{
	struct cowstat_proc *p;

	while (atomic_read(&pool_nr) < pool_target) {
		p = kmem_cache_zalloc(proc_cache, GFP_KERNEL);
		if (!p)
			break;
		llist_add(&p->free, &pool);
		atomic_inc(&pool_nr);
	}
}

/* At exit, when nothing else can reach the pool. */
static void pool_drain(void)
{
	struct llist_node *n, *next;

	llist_for_each_safe(n, next, llist_del_all(&pool))
		kmem_cache_free(proc_cache, container_of(n, struct cowstat_proc, free));
	atomic_set(&pool_nr, 0);
}

/* Called with table_lock held. */
static struct cowstat_proc *pool_take(void)
{
	struct llist_node *n = llist_del_first(&pool);

	if (!n) {
		miss_count(MISS_POOL_EMPTY);
		return NULL;
	}
	atomic_dec(&pool_nr);
	return container_of(n, struct cowstat_proc, free);
}

/* queue_work() takes only raw locks: safe from a handler, on RT too. */
static void pool_kick(void)
{
	if (atomic_read(&pool_nr) < pool_target / 2 && !READ_ONCE(pool_stopped) &&
	    !selftest_pool_fixed)
		queue_work(system_highpri_wq, &pool_work);
}

static void proc_free_rcu(struct rcu_head *head)
{
	pool_put(container_of(head, struct cowstat_proc, rcu));
}

/* --- the table ------------------------------------------------------------ */

/* Room for max_tracked entries at about one per bucket. */
static struct cowstat_table *table_alloc(void)
{
	unsigned int bits = max(ilog2(roundup_pow_of_two(cowstat_max_tracked)), 6);
	struct cowstat_table *t;

	t = kvzalloc(struct_size(t, buckets, 1UL << bits), GFP_KERNEL);
	if (!t)
		return NULL;
	t->bits = bits;
	INIT_LIST_HEAD(&t->exited);
	return t;
}

/* A table no reader or handler can see any more: free it and its entries. */
static void table_free(struct cowstat_table *t)
{
	struct cowstat_proc *p, *tmp;
	struct hlist_node *n;
	unsigned long bkt;

	for (bkt = 0; bkt < (1UL << t->bits); bkt++) {
		hlist_for_each_entry_safe(p, n, &t->buckets[bkt], hnode)
			pool_put(p);
		if (!(bkt & 1023))
			cond_resched();
	}
	list_for_each_entry_safe(p, tmp, &t->exited, exited)
		pool_put(p);
	kvfree(t);
}

static struct cowstat_table *table_locked(void)
{
	return rcu_dereference_protected(cur_table, lockdep_is_held(&table_lock));
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

static struct hlist_head *proc_bucket(struct cowstat_table *t, pid_t tgid)
{
	return &t->buckets[hash_32(tgid, t->bits)];
}

/* Caller holds table_lock or is in an RCU read-side section. */
static struct cowstat_proc *proc_lookup(struct cowstat_table *t, pid_t tgid,
					u64 start)
{
	struct cowstat_proc *p;

	hlist_for_each_entry_rcu(p, proc_bucket(t, tgid), hnode,
				 lockdep_is_held(&table_lock))
		if (p->pid == tgid && p->start == start)
			return p;
	return NULL;
}

/*
 * Insert an entry for @tsk's process unless one exists.  Returns the entry,
 * or NULL when the table is full or the pool empty.  Caller is in an RCU
 * read-side section.
 */
static struct cowstat_proc *proc_create(struct task_struct *tsk, pid_t ppid)
{
	struct cowstat_proc *p, *old;
	struct cowstat_table *t;
	unsigned long flags;
	pid_t tgid = tsk->tgid;
	u64 start = task_key_start(tsk);

	/* In NMI context (an int3 kprobe) take no lock. */
	if (in_nmi() ||
	    READ_ONCE(rcu_dereference(cur_table)->nr_tracked) >= cowstat_max_tracked)
		return NULL;

	flags = table_lock_take();
	t = table_locked();
	old = proc_lookup(t, tgid, start);
	if (old || t->nr_tracked >= cowstat_max_tracked) {
		table_lock_give(flags);
		return old;
	}
	p = pool_take();
	if (p) {
		p->table = t;
		p->pid = tgid;
		p->ppid = ppid;
		p->start = start;
		comm_copy(p->comm, tsk);
		hlist_add_head_rcu(&p->hnode, proc_bucket(t, tgid));
		t->nr_tracked++;
	}
	table_lock_give(flags);
	pool_kick();
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

	p = proc_lookup(rcu_dereference(cur_table), tsk->tgid, start);
	if (p)
		return p;
	if (start < READ_ONCE(epoch))
		p = proc_create(tsk, task_ppid(tsk));
	if (!p)
		miss_count(MISS_DROPPED_EVENTS);
	return p;
}

atomic64_t *cowstat_row_counts(struct task_struct *tsk)
{
	struct cowstat_proc *p;

	RCU_LOCKDEP_WARN(!rcu_read_lock_held(), "cowstat_account() without rcu_read_lock()");
	p = proc_get(tsk);
	return p ? p->count : NULL;
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
		miss_count(MISS_DROPPED);
	if (new_mm) {
		this_cpu_add(cowstat_totals[CS_FORK_INHERITED], shared);
		if (p)
			atomic64_add(shared, &p->count[CS_FORK_INHERITED]);
		cowstat_account(parent, CS_FORKS, 1, CS_FORK_SHARED, shared);
	}
	rcu_read_unlock();
}

/* Called with table_lock held: trim @t's exited FIFO to the history size. */
static void exited_trim(struct cowstat_table *t)
{
	struct cowstat_proc *p;

	/* One reaped process in, at most one out: O(1). */
	while (t->nr_exited > cowstat_history) {
		p = list_first_entry(&t->exited, struct cowstat_proc, exited);
		list_del_rcu(&p->exited);
		t->nr_exited--;
		atomic64_inc(&nr_evicted);
		call_rcu(&p->rcu, proc_free_rcu);
	}
}

/*
 * Move @p from processes to exited, unless a reset swapped the table or
 * another reap moved it first.  @leader, if known, gives the name it had
 * when it died, after any exec.  The sweep's moves are counted under the
 * lock, so that summary's swept and exited always agree.  Caller is in an
 * RCU read-side section.
 */
static void proc_move_exited(struct cowstat_proc *p, struct task_struct *leader,
			     bool swept)
{
	struct cowstat_table *t;
	unsigned long flags;

	flags = table_lock_take();
	t = table_locked();
	if (p->table == t && !hlist_unhashed(&p->hnode)) {
		hlist_del_init_rcu(&p->hnode);
		t->nr_tracked--;
		if (leader)
			comm_copy(p->comm, leader);
		list_add_tail_rcu(&p->exited, &t->exited);
		t->nr_exited++;
		exited_trim(t);
		if (swept)
			miss_count(MISS_SWEPT);
	}
	table_lock_give(flags);
}

/* The process (@tgid, @start) is gone: move its entry to exited. */
void cowstat_process_reaped(pid_t tgid, u64 start, struct task_struct *leader)
{
	struct cowstat_proc *p;

	if (in_nmi())
		return;
	rcu_read_lock();
	p = proc_lookup(rcu_dereference(cur_table), tgid, start);
	if (p)
		proc_move_exited(p, leader, false);
	rcu_read_unlock();
}

/*
 * Does the process (@tgid, @start) still exist?  Its leader leaves the pid's
 * PIDTYPE_TGID list when it is released; a reused pid has another start.
 * Caller is in an RCU read-side section.
 */
static bool process_exists(pid_t tgid, u64 start)
{
	struct task_struct *leader;

	leader = pid_task(find_pid_ns(tgid, &init_pid_ns), PIDTYPE_TGID);
	return leader && leader->start_boottime == start;
}

/* Has the process (@tgid, @start) been reaped?  Then move its entry. */
void cowstat_process_check_reaped(pid_t tgid, u64 start)
{
	bool alive;

	rcu_read_lock();
	alive = process_exists(tgid, start);
	rcu_read_unlock();
	if (!alive)
		cowstat_process_reaped(tgid, start, NULL);
}

/* @leader's process changed its name (exec or PR_SET_NAME) to @name. */
void cowstat_process_renamed(struct task_struct *leader, const char *name)
{
	struct cowstat_proc *p;

	rcu_read_lock();
	p = proc_lookup(rcu_dereference(cur_table), leader->tgid,
			leader->start_boottime);
	if (p)
		strscpy_pad(p->comm, name, TASK_COMM_LEN);
	rcu_read_unlock();
}

/* Sum the per-CPU array of @n counters that starts at @first. */
static void percpu_sum(u64 *sum, u64 __percpu *first, unsigned int n)
{
	unsigned int i;
	int cpu;

	memset(sum, 0, sizeof(u64) * n);
	for_each_possible_cpu(cpu)
		for (i = 0; i < n; i++)
			sum[i] += per_cpu_ptr(first, cpu)[i];
}

static void totals_sum(u64 *sum)
{
	percpu_sum(sum, &cowstat_totals[0], CS_NR_COUNTERS);
}

static void misses_sum(u64 *sum)
{
	percpu_sum(sum, &misses[0], MISS_NR);
}

/*
 * Forget every entry: swap in an empty table under the lock, free the old
 * one's entries once no handler or reader can hold one.  Handlers that
 * looked an entry up before the swap may still add to it until then.
 */
int cowstat_reset(void)
{
	struct cowstat_table *new, *old;
	unsigned long flags;

	new = table_alloc();
	if (!new)
		return -ENOMEM;
	flags = table_lock_take();
	old = table_locked();
	rcu_assign_pointer(cur_table, new);
	totals_sum(totals_base);
	misses_sum(misses_base);
	WRITE_ONCE(epoch, ktime_get_boottime_ns());
	WRITE_ONCE(table_gen, table_gen + 1);
	atomic64_set(&nr_evicted, 0);
	lock_hold_max = 0;
	table_lock_give(flags);
	synchronize_rcu();
	table_free(old);
	pr_info("counts reset\n");
	return 0;
}

void cowstat_get_status(struct cowstat_status *st)
{
	u64 miss[MISS_NR];
	struct cowstat_table *t;
	unsigned long flags;
	int i;

	/* Summed under the lock, so never before a reset's baseline. */
	flags = table_lock_take();
	t = table_locked();
	totals_sum(st->totals);
	for (i = 0; i < CS_NR_COUNTERS; i++)
		st->totals[i] -= totals_base[i];
	misses_sum(miss);
	for (i = 0; i < MISS_NR; i++)
		miss[i] -= misses_base[i];
	st->tracked = t->nr_tracked;
	st->exited = t->nr_exited;
	st->table_lock_max_ns = lock_hold_max;
	table_lock_give(flags);
	st->dropped = miss[MISS_DROPPED];
	st->dropped_events = miss[MISS_DROPPED_EVENTS];
	st->pool_empty = miss[MISS_POOL_EMPTY];
	st->swept = miss[MISS_SWEPT];
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
 * Copy the live (or exited) entries for a reader, walking the table under
 * RCU without table_lock, so that neither handlers nor the lock wait for a
 * reader.  An entry that moves while the walk runs may be missed or seen
 * in both tables; readers that need a consistent view compare the summary
 * before and after (Documentation/cowstat.rst).  Sleeps; NULL on -ENOMEM.
 */
struct cowstat_snapshot *cowstat_snapshot(bool exited)
{
	struct cowstat_snapshot *snap;
	struct cowstat_table *t;
	struct cowstat_proc *p;
	unsigned long bkt;
	size_t room;

	rcu_read_lock();
	t = rcu_dereference(cur_table);
	room = exited ? READ_ONCE(t->nr_exited) : READ_ONCE(t->nr_tracked);
	rcu_read_unlock();
	/* Entries added while this allocates are as if added after the read. */
	room += 64;
	snap = kvmalloc(struct_size(snap, rows, room), GFP_KERNEL);
	if (!snap)
		return NULL;
	snap->nr = 0;

	rcu_read_lock();
	t = rcu_dereference(cur_table);
	if (exited) {
		list_for_each_entry_rcu(p, &t->exited, exited) {
			if (snap->nr == room)
				break;
			row_fill(&snap->rows[snap->nr++], p);
		}
	} else {
		for (bkt = 0; bkt < (1UL << t->bits) && snap->nr < room; bkt++)
			hlist_for_each_entry_rcu(p, &t->buckets[bkt], hnode) {
				if (snap->nr == room)
					break;
				row_fill(&snap->rows[snap->nr++], p);
			}
	}
	rcu_read_unlock();
	return snap;
}

/* --- the sweep: rows of processes that no probe saw go -------------------- */

/*
 * Every reap is seen by a probe: release_task() or, a grace period later,
 * sched_process_free.  The sweep is the net under both, for what neither
 * can see (an NMI, a probe that lost its instance and its backstop, a
 * kernel bug): every cowstat_sweep_secs a delayed work, never a handler,
 * walks the live table and moves the rows of processes that no longer exist,
 * by (tgid, start), counting each in swept.  A row moves only when two
 * passes in a row found it gone, so a reap still on its way through the
 * probes (one grace period) is never taken for a missed one.  It walks
 * SWEEP_CHUNK buckets per RCU read-side section and reschedules between.
 */
#define SWEEP_CHUNK 256

unsigned int cowstat_sweep_secs = 10;

static void sweep_run(struct work_struct *work);
static DECLARE_DELAYED_WORK(sweep_work, sweep_run);
static bool sweep_stopped;

static void sweep_run(struct work_struct *work)
{
	unsigned long gen = READ_ONCE(table_gen), bkt = 0, end;
	struct cowstat_table *t;
	struct cowstat_proc *p;

	for (;;) {
		rcu_read_lock();
		t = rcu_dereference(cur_table);
		/* A reset started the table over: leave it to the next pass. */
		if (READ_ONCE(table_gen) != gen || bkt >= (1UL << t->bits)) {
			rcu_read_unlock();
			break;
		}
		end = min(bkt + SWEEP_CHUNK, 1UL << t->bits);
		for (; bkt < end; bkt++)
			hlist_for_each_entry_rcu(p, &t->buckets[bkt], hnode) {
				/* hlist_del_init_rcu() keeps ->next: walk on */
				if (process_exists(p->pid, p->start))
					p->sweep_suspect = false;
				else if (!p->sweep_suspect)
					p->sweep_suspect = true;
				else
					proc_move_exited(p, NULL, true);
			}
		rcu_read_unlock();
		cond_resched();
	}
	if (!READ_ONCE(sweep_stopped))
		queue_delayed_work(system_unbound_wq, &sweep_work,
				   cowstat_sweep_secs * HZ);
}

int cowstat_track_init(void)
{
	struct cowstat_table *t;

	proc_cache = KMEM_CACHE(cowstat_proc, SLAB_HWCACHE_ALIGN);
	if (!proc_cache)
		goto err_out;
	t = table_alloc();
	if (!t)
		goto err_cache;
	RCU_INIT_POINTER(cur_table, t);
	pool_target = min_t(unsigned int, cowstat_max_tracked,
			    selftest_pool_fixed ?: POOL_ROWS);
	WRITE_ONCE(pool_stopped, false);
	pool_refill(NULL);
	if (atomic_read(&pool_nr) < pool_target)
		goto err_table;
	/* Until the probes are in, every process predates them. */
	epoch = U64_MAX;
	return 0;

err_table:
	RCU_INIT_POINTER(cur_table, NULL);
	kvfree(t);
	pool_drain();
err_cache:
	kmem_cache_destroy(proc_cache);
err_out:
	return -ENOMEM;
}

/*
 * The probes are registered: from now on a new process gets its entry at
 * fork, and one started before now gets it on its first event.
 */
void cowstat_track_start(void)
{
	WRITE_ONCE(epoch, ktime_get_boottime_ns());
	WRITE_ONCE(sweep_stopped, false);
	queue_delayed_work(system_unbound_wq, &sweep_work, cowstat_sweep_secs * HZ);
}

/* After the probes and the readers are gone: free every entry. */
void cowstat_track_exit(void)
{
	/* The sweep re-arms itself until it sees sweep_stopped. */
	WRITE_ONCE(sweep_stopped, true);
	cancel_delayed_work_sync(&sweep_work);
	WRITE_ONCE(pool_stopped, true);
	cancel_work_sync(&pool_work);
	table_free(rcu_dereference_protected(cur_table, true));
	RCU_INIT_POINTER(cur_table, NULL);
	/* Evicted entries on their way back to the pool. */
	rcu_barrier();
	pool_drain();
	kmem_cache_destroy(proc_cache);
}
