// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat selftests of fork and what follows it: copies in the child and in
 * the parent, reuse, threads, vfork and CLONE_VM, exec, grandchildren,
 * MADV_DONTFORK and MADV_WIPEONFORK, the rows in exited, and processes
 * reaped by a thread's exit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "cow_test.h"

COW_FIXTURE()

/*
 * Scenario 1: a child writes k of n shared pages.  Its cow_copies rises by
 * k; the parent's fork_shared and the child's fork_inherited are the
 * parent's anonymous pages at fork, counted independently.
 */
TEST_F_TIMEOUT(cowstat, fork_child_copies, TMO)
{
	const size_t n = 64, k = 23;
	struct ws *ws = self->e.ws;
	struct report *rep = self->e.rep;
	struct measure m = { .ws = ws };
	struct cs_row c;
	struct job j;
	long anon;
	int status;
	pid_t pid, me = getpid();
	size_t i;

	BAIL_IF_SKIPPED();
	j = (struct job){ .n = n, .first = 5, .k = k, .unit = PG, .off = 100,
			  .ppfn = ws->ppfn, .go = -1, .rep = rep };
	ASSERT_EQ(0, job_region(&j, 1, ws->ppfn));
	status = measure_fork(&self->e, &m, kid_write_measure, &j, &pid, &anon);
	ASSERT_FORK_MEASURED(&self->e, &m, pid, status, anon);
	TH_LOG("anon pages at fork %ld; child wrote %zu: cow_copies +%llu, %ld pages exclusive",
	       anon, k, D(rep->after, rep->before, CS_COW_COPIES),
	       rep->val[R_EXCL]);

	EXPECT_DELTAS(m.a, m.b, FORKED(anon));
	/* the child, from its start to its first reading: only the fork */
	EXPECT_ROW(rep->before, [CS_FORK_INHERITED] = IS(anon));
	EXPECT_DELTAS(rep->after, rep->before, [CS_COW_COPIES] = IS(k),
		      [CS_COW_FAULTS] = IS(k), [CS_COPIED_BYTES] = IS(k * PG));
	/* pagemap in the child: exactly the k written pages are its own */
	EXPECT_EQ((long)k, rep->val[R_EXCL]);
	EXPECT_EQ((long)k, rep->val[R_MOVED]);
	EXPECT_EQ((long)k, rep->val[R_EXCL_MOVED_WRITTEN]);
	EXPECT_EQ(0, rep->val[R_DATA_BAD]);
	/* the parent still sees its own data */
	for (i = 0; i < n; i++)
		EXPECT_EQ((char)(1 + i), j.r[i * PG + 100]);

	/* The reaped child's row: it did nothing but the k copies. */
	ASSERT_EQ(0, cs_read_row(ws, "exited", pid, &c));
	ASSERT_TRUE(c.found) TH_LOG("no exited row for %d", pid);
	EXPECT_EQ(me, c.ppid);
	EXPECT_ROW(c, [CS_FORK_INHERITED] = IS(anon), [CS_COW_COPIES] = IS(k),
		   [CS_COW_FAULTS] = IS(k), [CS_COPIED_BYTES] = IS(k * PG));
	munmap(j.r, n * PG);
}

/*
 * Scenarios 2, 3 and 6: the parent writes k pages it shared at a fork,
 * from one thread or from NTHREADS threads created after the fork, either
 * while the child still maps them or after it has been reaped.  With the
 * child alive each write is a copy, and pagemap shows exactly the k
 * written pages moved to frames of their own.  With the child gone the
 * parent is the only user, but the pages are still write-protected and not
 * marked exclusive: each write is a reuse in place, no frame moves.
 * Threads add up in the process row and get no row of their own.
 */
#define NTHREADS 4

struct tctl;

struct tslot {
	struct tctl *ctl;
	pthread_t th;
	long tid;
	char *r;
	size_t first, k;
};

struct tctl {
	volatile int go, quit;
	int done;
	struct tslot t[NTHREADS];
};

static void *writer_thread(void *arg)
{
	struct tslot *s = arg;

	s->tid = gettid();
	while (!s->ctl->go)
		sched_yield();
	write_units(s->r, s->first, s->k, PG, 7, 0x77);
	__atomic_add_fetch(&s->ctl->done, 1, __ATOMIC_SEQ_CST);
	/* exiting writes libc state shared with the child: not yet */
	while (!s->ctl->quit)
		sched_yield();
	return NULL;
}

FIXTURE(parent_writes) {
	struct cow_env e;
};

FIXTURE_VARIANT(parent_writes) {
	int nthreads;		/* writers; 0: the test's own thread */
	bool child_lives;	/* else it is reaped before the writes */
};

FIXTURE_VARIANT_ADD(parent_writes, child_lives) {
	.child_lives = true,
};

FIXTURE_VARIANT_ADD(parent_writes, child_reaped) {
	.child_lives = false,
};

FIXTURE_VARIANT_ADD(parent_writes, threads_child_lives) {
	.nthreads = NTHREADS,
	.child_lives = true,
};

FIXTURE_VARIANT_ADD(parent_writes, threads_child_reaped) {
	.nthreads = NTHREADS,
	.child_lives = false,
};

FIXTURE_SETUP(parent_writes)
{
	COW_ENV_SETUP(&self->e);
}

FIXTURE_TEARDOWN(parent_writes)
{
	COW_ENV_TEARDOWN(&self->e);
}

/* Starts the job's writers, waiting in writer_thread() for c->go. */
static int threads_start(struct tctl *c, const struct job *j, int nthreads)
{
	size_t per = j->k / nthreads;
	int i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < nthreads; i++) {
		c->t[i] = (struct tslot){ .ctl = c, .r = j->r,
					  .first = j->first + i * per, .k = per };
		if (pthread_create(&c->t[i].th, NULL, writer_thread, &c->t[i]))
			return -1;
	}
	for (i = 0; i < nthreads; i++)
		while (!__atomic_load_n(&c->t[i].tid, __ATOMIC_SEQ_CST))
			sched_yield();
	return 0;
}

/* Lets them write; returns when all have. */
static void threads_write(struct tctl *c, int nthreads)
{
	c->go = 1;
	while (__atomic_load_n(&c->done, __ATOMIC_SEQ_CST) != nthreads)
		sched_yield();
}

TEST_F_TIMEOUT(parent_writes, shared_pages, TMO)
{
	const size_t n = 64, k = 36, first = 2;
	const int nthreads = variant->nthreads;
	struct ws *ws = self->e.ws;
	struct tctl *c = (struct tctl *)ws->ext;
	struct measure m = { .ws = ws };
	struct cs_row t;
	struct job j;
	int i, status;
	pid_t pid, me = getpid();
	long val[8];

	BAIL_IF_SKIPPED();
	_Static_assert(sizeof(struct tctl) <= sizeof(ws->ext), "ext");
	_Static_assert(36 % NTHREADS == 0, "k: whole pages per thread");
	j = (struct job){ .n = n, .first = first, .k = k, .unit = PG, .off = 7,
			  .ppfn = ws->ppfn, .rep = self->e.rep,
			  .go = variant->child_lives ? self->e.ks.go[0] : -1 };
	ASSERT_EQ(0, job_region(&j, 2, ws->ppfn));
	pid = kid_run(&self->e.ks, variant->child_lives ? kid_hold : kid_exit,
		      &j);
	ASSERT_LT(0, pid);
	if (!variant->child_lives) {
		ASSERT_EQ(0, kid_wait(&self->e.ks, 0));
		/* shared no more: pagemap says mapcount 1 */
		ASSERT_EQ(0, pagemap_region(j.r, n, ws->pm));
		region_diff(&j, ws->pm, n, val);
		ASSERT_EQ((long)n, val[R_EXCL]);
		ASSERT_EQ(0, val[R_MOVED]);
	}
	/* Threads are created after the fork: they only exist here. */
	if (nthreads)
		ASSERT_EQ(0, threads_start(c, &j, nthreads));

	MEASURE(&m) {
		if (nthreads)
			threads_write(c, nthreads);
		else
			write_units(j.r, first, k, PG, 7, 0x77);
	}

	c->quit = 1;
	for (i = 0; i < nthreads; i++)
		pthread_join(c->t[i].th, NULL);
	/* While a living child still maps the rest: only the k are ours. */
	ASSERT_EQ(0, pagemap_region(j.r, n, ws->pm));
	region_diff(&j, ws->pm, n, val);
	if (variant->child_lives) {
		kid_release(&self->e.ks);
		status = kid_wait(&self->e.ks, 0);
		ASSERT_EQ(0, status);
	}
	ASSERT_MEASURED(&m);
	if (variant->child_lives) {
		EXPECT_DELTAS(m.a, m.b, [CS_COW_COPIES] = IS(k),
			      [CS_COW_FAULTS] = IS(k),
			      [CS_COPIED_BYTES] = IS(k * PG));
		EXPECT_EQ((long)k, val[R_EXCL]);
		EXPECT_EQ((long)k, val[R_MOVED]);
		EXPECT_EQ((long)k, val[R_EXCL_MOVED_WRITTEN]);
	} else {
		EXPECT_DELTAS(m.a, m.b, [CS_COW_REUSES] = IS(k),
			      [CS_COW_FAULTS] = IS(k));
		/* reused in place: no frame changed */
		EXPECT_EQ((long)n, val[R_EXCL]);
		EXPECT_EQ(0, val[R_MOVED]);
	}
	/* no thread got a row of its own */
	for (i = 0; i < nthreads; i++) {
		ASSERT_NE(me, c->t[i].tid);
		ASSERT_EQ(0, cs_read_row(ws, "processes", c->t[i].tid, &t));
		EXPECT_FALSE(t.found) TH_LOG("thread %ld has a row", c->t[i].tid);
		ASSERT_EQ(0, cs_read_row(ws, "exited", c->t[i].tid, &t));
		EXPECT_FALSE(t.found) TH_LOG("thread %ld has an exited row",
					     c->t[i].tid);
	}
	munmap(j.r, n * PG);
}

/*
 * Scenario 7: vfork and clone(CLONE_VM) create no address space: nothing is
 * shared copy-on-write, nothing counted as a fork, no copies.
 */
FIXTURE(vm_child) {
	struct cow_env e;
};

FIXTURE_VARIANT(vm_child) {
	bool vfork;		/* else clone(CLONE_VM) */
};

FIXTURE_VARIANT_ADD(vm_child, vfork) {
	.vfork = true,
};

FIXTURE_VARIANT_ADD(vm_child, clone_vm) {
	.vfork = false,
};

FIXTURE_SETUP(vm_child)
{
	COW_ENV_SETUP(&self->e);
}

FIXTURE_TEARDOWN(vm_child)
{
	COW_ENV_TEARDOWN(&self->e);
}

/* Out of line: nothing of the caller's frame is live across vfork(). */
static noinline pid_t vfork_and_wait(int *status)
{
	pid_t pid = vfork();

	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid(pid, status, 0);
	return pid;
}

static int clone_vm_fn(void *arg)
{
	(void)arg;
	return 0;
}

/* The child runs in our address space, on ws->cstack. */
static pid_t clone_vm_and_wait(struct ws *ws, int *status)
{
	pid_t pid = clone(clone_vm_fn, ws->cstack + WS_CSTACK,
			  CLONE_VM | SIGCHLD, NULL);

	if (pid > 0)
		waitpid(pid, status, 0);
	return pid;
}

TEST_F_TIMEOUT(vm_child, counts_nothing, TMO)
{
	struct ws *ws = self->e.ws;
	struct measure m = { .ws = ws };
	struct cs_row c;
	int status = -1;
	pid_t pid = -1, me = getpid();

	BAIL_IF_SKIPPED();
	MEASURE(&m) {
		if (variant->vfork)
			pid = vfork_and_wait(&status);
		else
			pid = clone_vm_and_wait(ws, &status);
	}

	ASSERT_LT(0, pid);
	ASSERT_EQ(0, status);
	ASSERT_MEASURED(&m);
	/* no fork, no copy: nothing at all */
	EXPECT_DELTAS(m.a, m.b);
	ASSERT_EQ(0, cs_read_row(ws, "exited", pid, &c));
	ASSERT_TRUE(c.found) TH_LOG("no exited row for %d", pid);
	EXPECT_EQ(me, c.ppid);
	/* every counter 0 */
	EXPECT_ROW(c);
}

/*
 * Scenario 8: the child writes k shared pages and execs /bin/true.  The new
 * image has a fresh mm that shares nothing, so it adds no anonymous COW
 * copy; the row keeps the pid and takes the new name.
 */
static int kid_write_exec(void *arg)
{
	const struct job *j = arg;

	write_units(j->r, j->first, j->k, PG, 0, 0x42);
	execve(j->path, j->argv, environ);
	return 127;
}

#define EXEC_IMAGE "the exec'd /bin/true and its loader fault their own data in"

TEST_F_TIMEOUT(cowstat, fork_exec, TMO)
{
	const size_t n = 32, k = 13;
	static char *const argv[] = { "true", NULL };
	struct ws *ws = self->e.ws;
	struct measure m = { .ws = ws };
	pid_t pid, me = getpid();
	struct job j;
	struct cs_row c;
	int status;
	long anon;

	BAIL_IF_SKIPPED();
	ASSERT_EQ(0, access("/bin/true", X_OK));
	j = (struct job){ .n = n, .first = 3, .k = k, .path = "/bin/true",
			  .argv = argv, .go = -1, .rep = self->e.rep };
	ASSERT_EQ(0, job_region(&j, 8, NULL));
	status = measure_fork(&self->e, &m, kid_write_exec, &j, &pid, &anon);
	ASSERT_FORK_MEASURED(&self->e, &m, pid, status, anon);
	EXPECT_DELTAS(m.a, m.b, FORKED(anon));

	ASSERT_EQ(0, cs_read_row(ws, "exited", pid, &c));
	ASSERT_TRUE(c.found) TH_LOG("no exited row for %d", pid);
	EXPECT_STREQ("true", c.comm);
	EXPECT_EQ(me, c.ppid);
	/*
	 * The new image's fresh mm shares nothing: no anonymous copy of its
	 * own.  How /bin/true and its loader fault their own data in (file
	 * pages copied on write, bss read then written, reused) is theirs.
	 */
	EXPECT_ROW(c, [CS_COW_COPIES] = IS(k), [CS_FORK_INHERITED] = IS(anon),
		   [CS_COW_FAULTS] = ANY(EXEC_IMAGE),
		   [CS_COW_ZERO] = ANY(EXEC_IMAGE),
		   [CS_COW_FILE] = ANY(EXEC_IMAGE),
		   [CS_COW_REUSES] = ANY(EXEC_IMAGE),
		   [CS_COPIED_BYTES] = ANY(EXEC_IMAGE));
	munmap(j.r, n * PG);
}

/*
 * Scenario 9: child C forks grandchild G; G writes k1 pages and exits, C
 * reaps it, writes k2 other pages and exits.  Both rows end up in exited,
 * G's first, linked by ppid; C's row counts its one fork, and C's own
 * anonymous page count right before it (C scans itself) is G's
 * fork_inherited.
 */
static int kid_with_grandchild(void *arg)
{
	const struct job *j = arg;
	struct report *rep = j->rep;
	struct ws *w = ws_new();
	unsigned long stk = (unsigned long)j->stack;
	long anon;
	pid_t g;
	int status = -1;

	KID_CHECK(rep, w);
	/*
	 * G runs on its own stack and never needs ours.  Shared with a live
	 * G, the first write to our stack after the fork (returning from
	 * fresh_fork(), waitpid's status) would be a copy-on-write copy of
	 * our own making: keep our stack out of G.
	 */
	KID_CHECK(rep, !madvise(j->stack, KID_STACK, MADV_DONTFORK));
	anon = anon_pages(w, 0, ~0UL) - anon_pages(w, stk, stk + KID_STACK);
	g = fresh_fork(j->gstack_top, kid_write, (void *)j);
	KID_CHECK(rep, g > 0);
	KID_CHECK(rep, waitpid(g, &status, 0) == g);
	write_units(j->r, j->first2, j->k2, PG, 0, 0x62);
	rep->val[0] = g;
	rep->val[1] = anon;
	KID_CHECK(rep, status == 0);
	return 0;
}

TEST_F_TIMEOUT(cowstat, grandchild_exited_rows, TMO)
{
	const size_t n = 48, k1 = 11, k2 = 19;
	struct ws *ws = self->e.ws;
	struct report *rep = self->e.rep;
	struct cs_row cr, gr;
	struct job j;
	long anon;
	int status;
	pid_t pid, g, me = getpid();

	BAIL_IF_SKIPPED();
	j = (struct job){ .n = n, .first = 1, .k = k1, .first2 = 20, .k2 = k2,
			  .go = -1, .rep = rep };
	ASSERT_EQ(0, job_region(&j, 9, NULL));
	ASSERT_EQ(0, kid_prepare(&self->e.ks, 0));
	self->e.gstack = kid_stack_new();
	ASSERT_NE(NULL, self->e.gstack);
	j.gstack_top = kid_stack_top(self->e.gstack);
	j.stack = self->e.ks.stack[0];

	quiesce(ws);
	anon = anon_pages(ws, 0, ~0UL);
	pid = kid_start(&self->e.ks, 0, kid_with_grandchild, &j);
	ASSERT_LT(0, pid);
	status = kid_wait(&self->e.ks, 0);
	ASSERT_KID_OK(&self->e, status);
	ASSERT_LT(0, anon);
	g = rep->val[0];
	ASSERT_LT(0, rep->val[1]);
	TH_LOG("child %d (anon at fork %ld), grandchild %d (anon at fork %ld)",
	       pid, anon, g, rep->val[1]);

	ASSERT_EQ(0, cs_read_row(ws, "exited", pid, &cr));
	ASSERT_EQ(0, cs_read_row(ws, "exited", g, &gr));
	ASSERT_TRUE(cr.found) TH_LOG("no exited row for child %d", pid);
	ASSERT_TRUE(gr.found) TH_LOG("no exited row for grandchild %d", g);
	EXPECT_LT(gr.index, cr.index) TH_LOG("grandchild reaped first");
	EXPECT_EQ(me, cr.ppid);
	EXPECT_EQ(pid, gr.ppid);
	/* C writes after G is gone, to pages it still shares with us */
	EXPECT_ROW(cr, [CS_FORKS] = IS(1), [CS_FORK_SHARED] = IS(rep->val[1]),
		   [CS_FORK_INHERITED] = IS(anon), [CS_COW_COPIES] = IS(k2),
		   [CS_COW_FAULTS] = IS(k2), [CS_COPIED_BYTES] = IS(k2 * PG));
	EXPECT_ROW(gr, [CS_FORK_INHERITED] = IS(rep->val[1]),
		   [CS_COW_COPIES] = IS(k1), [CS_COW_FAULTS] = IS(k1),
		   [CS_COPIED_BYTES] = IS(k1 * PG));
	munmap(j.r, n * PG);
}

/*
 * Scenario 11: MADV_DONTFORK regions are not in the child at all,
 * MADV_WIPEONFORK regions are there but empty: neither is shared at fork,
 * and the child's writes to the wiped region are fresh pages, not copies.
 */
struct overlap_ctx {
	unsigned long lo, hi;
	int overlaps;
};

static void vma_overlap(char *line, void *arg)
{
	struct overlap_ctx *c = arg;
	const char *p = line;
	unsigned long start, end;

	if (parse_hex(&p, &start) && *p++ == '-' && parse_hex(&p, &end) &&
	    start < c->hi && c->lo < end)
		c->overlaps++;
}

static int kid_wipe(void *arg)
{
	const struct job *j = arg;
	struct report *rep = j->rep;
	struct ws *w = ws_new();
	struct overlap_ctx mc = { 0 };
	struct cs_row b, a;
	long me = getpid();
	size_t i;

	KID_CHECK(rep, w);
	KID_CHECK(rep, !pagemap_region(j->wr, j->wn, w->pm));
	for (i = 0; i < j->wn; i++)
		KID_CHECK(rep, !(w->pm[i] & PM_PRESENT));
	KID_CHECK(rep, !cs_read_row(w, "processes", me, &b) && b.found);
	write_units(j->wr, 0, j->wn, PG, 0, 0x99);
	KID_CHECK(rep, !cs_read_row(w, "processes", me, &a) && a.found);
	rep->before = b;
	rep->after = a;
	/* wiped: the rest of each page is zero, not the parent's pattern */
	for (i = 0; i < j->wn; i++)
		KID_CHECK(rep, j->wr[i * PG + 1] == 0);
	/*
	 * Not mapped at all.  Asked through /proc/self/maps, not msync() or
	 * mincore(): their ENOMEM would write errno, a TLS page still shared
	 * with the parent, and that copy would show in our exited row.
	 */
	mc.lo = (unsigned long)j->dr;
	mc.hi = mc.lo + j->dn * PG;
	KID_CHECK(rep, !read_lines(w, "/proc/self/maps", vma_overlap, &mc));
	KID_CHECK(rep, !mc.overlaps);
	return 0;
}

TEST_F_TIMEOUT(cowstat, dontfork_wipeonfork, TMO)
{
	const size_t n = 16, nd = 13, nw = 10;
	struct ws *ws = self->e.ws;
	struct report *rep = self->e.rep;
	struct measure m = { .ws = ws };
	struct cs_row c;
	struct job j;
	long anon = 0, anon_d = 0, anon_w = 0, anon_r = 0;
	int status;
	pid_t pid = -1;
	char *r;

	BAIL_IF_SKIPPED();
	r = region_new(n, 0x30);
	j = (struct job){ .dr = region_new(nd, 0x50), .dn = nd,
			  .wr = region_new(nw, 0x70), .wn = nw,
			  .go = -1, .rep = rep };
	ASSERT_NE(NULL, r);
	ASSERT_NE(NULL, j.dr);
	ASSERT_NE(NULL, j.wr);
	ASSERT_EQ(0, madvise(j.dr, nd * PG, MADV_DONTFORK));
	ASSERT_EQ(0, madvise(j.wr, nw * PG, MADV_WIPEONFORK));
	ASSERT_EQ(0, kid_prepare(&self->e.ks, 0));

	MEASURE(&m) {
		anon_r = anon_pages(ws, (unsigned long)r,
				    (unsigned long)r + n * PG);
		anon_d = anon_pages(ws, (unsigned long)j.dr,
				    (unsigned long)j.dr + nd * PG);
		anon_w = anon_pages(ws, (unsigned long)j.wr,
				    (unsigned long)j.wr + nw * PG);
		anon = anon_pages(ws, 0, ~0UL);
		pid = kid_start(&self->e.ks, 0, kid_wipe, &j);
	}

	ASSERT_LT(0, pid);
	status = kid_wait(&self->e.ks, 0);
	ASSERT_KID_OK(&self->e, status);
	ASSERT_MEASURED(&m);
	ASSERT_EQ((long)n, anon_r);
	ASSERT_EQ((long)nd, anon_d);
	ASSERT_EQ((long)nw, anon_w);
	ASSERT_LT(0, anon);
	TH_LOG("anon pages %ld, of them %ld MADV_DONTFORK, %ld MADV_WIPEONFORK",
	       anon, anon_d, anon_w);
	EXPECT_DELTAS(m.a, m.b, FORKED(anon - nd - nw));
	EXPECT_ROW(rep->before, [CS_FORK_INHERITED] = IS(anon - nd - nw));
	/* the wiped region's pages are new, not copies: nothing */
	EXPECT_DELTAS(rep->after, rep->before);
	ASSERT_EQ(0, cs_read_row(ws, "exited", pid, &c));
	ASSERT_TRUE(c.found);
	EXPECT_ROW(c, [CS_FORK_INHERITED] = IS(anon - nd - nw));
	munmap(r, n * PG);
	munmap(j.dr, nd * PG);
	munmap(j.wr, nw * PG);
}

/* comm: everything but printable non-space ASCII, and backslash, as \ooo */
static int kid_rename(void *arg)
{
	const struct job *j = arg;

	prctl(PR_SET_NAME, j->name, 0, 0, 0);
	return 0;
}

TEST_F_TIMEOUT(cowstat, comm_escaped, TMO)
{
	struct cs_row c;
	struct job j = { .name = "a b\\c\001\177\351z", .go = -1,
			 .rep = self->e.rep };
	pid_t pid;

	BAIL_IF_SKIPPED();
	pid = kid_run(&self->e.ks, kid_rename, &j);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, kid_wait(&self->e.ks, 0));
	ASSERT_EQ(0, cs_read_row(self->e.ws, "exited", pid, &c));
	ASSERT_TRUE(c.found);
	EXPECT_STREQ("a\\040b\\134c\\001\\177\\351z", c.comm);
}

/*
 * Scenario 12: processes of two threads whose parent ignores SIGCHLD, so
 * that they are reaped as they exit, and which end by exit_group() from
 * the second thread.  Leader and thread race to their exits: when the
 * thread is released first but the leader turns zombie meanwhile, the
 * thread's release_task() goes on to release the leader in the same call,
 * with no call of its own.  Every one of them must leave processes for
 * exited all the same.
 */
#define REAP_STORM 150

static void *exit_group_thread(void *arg)
{
	(void)arg;
	syscall(SYS_exit_group, 0);
	return NULL;
}

static int kid_reap_storm(void *arg)
{
	const struct job *j = arg;
	struct report *rep = j->rep;
	pthread_t th;
	int i;

	KID_CHECK(rep, signal(SIGCHLD, SIG_IGN) != SIG_ERR);
	for (i = 0; i < REAP_STORM; i++) {
		pid_t g = fork();

		if (!g) {
			if (pthread_create(&th, NULL, exit_group_thread, NULL))
				_exit(1);
			/* the leader exits too, racing the thread's exit_group() */
			syscall(SYS_exit, 0);
		}
		KID_CHECK(rep, g > 0);
	}
	/* With SIGCHLD ignored, wait() returns once all are reaped. */
	while (wait(NULL) > 0 || errno == EINTR)
		;
	KID_CHECK(rep, errno == ECHILD);
	return 0;
}

struct ppid_count {
	long ppid;
	int n;
};

static void count_ppid(const struct cs_row *row, void *arg)
{
	struct ppid_count *c = arg;

	if (row->ppid == c->ppid)
		c->n++;
}

TEST_F_TIMEOUT(cowstat, autoreaped_threaded_exits, TMO)
{
	struct ws *ws = self->e.ws;
	struct ppid_count live, dead;
	struct job j = { .go = -1, .rep = self->e.rep };
	pid_t pid;
	int tries;

	BAIL_IF_SKIPPED();
	pid = kid_run(&self->e.ks, kid_reap_storm, &j);
	ASSERT_LT(0, pid);
	ASSERT_KID_OK(&self->e, kid_wait(&self->e.ks, 0));

	/*
	 * wait() returned once the last leader was unhashed, but the thread
	 * that released it may still be on its way out of release_task(),
	 * where the row moves: on PREEMPT_RT it can be preempted there.  So
	 * give rows up to 5 s to move; a row that was missed never does.
	 */
	for (tries = 1;; tries++) {
		live = (struct ppid_count){ .ppid = pid };
		ASSERT_LE(0, cs_scan_rows(ws, "processes", count_ppid, &live, NULL));
		if (!live.n || tries == 50)
			break;
		usleep(100000);
	}
	dead = (struct ppid_count){ .ppid = pid };
	ASSERT_LE(0, cs_scan_rows(ws, "exited", count_ppid, &dead, NULL));
	TH_LOG("%d processes of %d: %d rows left in processes, %d in exited (read %d times)",
	       REAP_STORM, pid, live.n, dead.n, tries);
	EXPECT_EQ(0, live.n);
	EXPECT_EQ(REAP_STORM, dead.n);
}

TEST_HARNESS_MAIN
