// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat selftests: drive known copy-on-write patterns and check that the
 * counters cowstat reports in debugfs move by exactly the number of events
 * the pattern causes.  The expected numbers come from the pattern itself and
 * from what /proc/self/pagemap and /proc/kpageflags show, never from the
 * module.
 *
 * Needs root (debugfs, pagemap PFNs, kpageflags) and cowstat.ko loaded; skips
 * if COWSTAT_DIR does not exist.  See cowstat_util.h for how the measuring
 * processes avoid adding copy-on-write events of their own, and
 * run_vm_tests.sh for the environment this expects (THP "madvise", hugetlb
 * pages reserved).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "cowstat_util.h"

#define TMO	180		/* per test, seconds; the VM is emulated */

/* What a test tells a fresh_fork() child to do. */
struct job {
	char *r;		/* the shared region */
	size_t n;		/* its size in 4 KiB pages */
	size_t first, k;	/* write k units starting at unit first ... */
	size_t first2, k2;	/* ... (grandchild test: second writer) */
	size_t unit;		/* unit size: PG, HPAGE_PMD */
	size_t off;		/* offset of the written byte in a unit */
	const u64 *ppfn;	/* the parent's pagemap of r before fork */
	int go;			/* wait for a byte on this fd before exit */
	struct report *rep;
	void *gstack_top;	/* grandchild's stack */
	void *stack;		/* the child's own stack (whole mapping) */
	const char *path;	/* exec */
	char *const *argv;
	char *wr;		/* MADV_WIPEONFORK region */
	size_t wn;
	char *dr;		/* MADV_DONTFORK region */
	size_t dn;
	const char *name;	/* comm to set */
};

/* What a child reports back, through a MAP_SHARED page. */
struct report {
	int line;		/* line of the first failed check, 0: fine */
	long val[8];
	struct cs_row before, after;
};

enum { R_EXCL, R_MOVED, R_EXCL_MOVED_WRITTEN, R_DATA_BAD };

/*
 * Children cannot use the harness's ASSERTs (no stdio, no abort: see
 * fresh_fork()); they record the failing line and exit non-zero.
 */
#define KID_CHECK(rep, cond) do {			\
	if (!(cond)) {					\
		if (!(rep)->line)			\
			(rep)->line = __LINE__;		\
		return 1;				\
	}						\
} while (0)

#define NKIDS 4

/* fresh_fork() children of a test, and the pipe that releases them */
struct kidset {
	int go[2];
	pid_t pid[NKIDS];
	void *stack[NKIDS];
};

FIXTURE(cowstat) {
	bool skip;
	struct ws *ws;
	struct report *rep;
	struct kidset ks;
	void *gstack;
};

FIXTURE_SETUP(cowstat)
{
	struct cs_row me;

	/* before anything can fail: the teardown closes what is >= 0 */
	self->ks.go[0] = self->ks.go[1] = -1;
	if (access(COWSTAT_DIR, F_OK)) {
		self->skip = true;
		SKIP(return, "%s does not exist: cowstat.ko not loaded (or debugfs not mounted)",
		     COWSTAT_DIR);
	}
	self->ws = ws_new();
	ASSERT_NE(NULL, self->ws);
	self->rep = mmap(NULL, PG, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->rep);
	ASSERT_EQ(0, pipe(self->ks.go));
	/* The harness forked us with the module loaded: we have a row. */
	ASSERT_EQ(0, cs_read_row(self->ws, "processes", getpid(), &me));
	ASSERT_TRUE(me.found) TH_LOG("no row for the test process %d", getpid());
}

FIXTURE_TEARDOWN(cowstat)
{
	int i;

	for (i = 0; i < NKIDS; i++) {
		if (self->ks.pid[i] > 0) {
			kill(self->ks.pid[i], SIGKILL);
			waitpid(self->ks.pid[i], NULL, 0);
		}
		if (self->ks.stack[i])
			munmap(self->ks.stack[i], KID_STACK);
	}
	if (self->gstack)
		munmap(self->gstack, KID_STACK);
	if (self->ks.go[0] >= 0) {
		close(self->ks.go[0]);
		close(self->ks.go[1]);
	}
	if (self->rep && self->rep != MAP_FAILED)
		munmap(self->rep, PG);
	ws_free(self->ws);
}

/* 6.1's harness still runs the test body after SKIP() in the setup. */
#define BAIL_IF_SKIPPED() do { if (self->skip) return; } while (0)

#define D(a, b, c)	((a).v[c] - (b).v[c])

/* A flag test the harness can compare without mixing signedness. */
#define HAS(x, bit)	((int)(((x) & (bit)) != 0))

/* Exact delta of one counter between two readings. */
#define EXPECT_DELTA(exp, a, b, c) do {					\
	EXPECT_EQ((u64)(exp), D(a, b, c))				\
		TH_LOG("%s: delta %llu, expected %llu", cs_names[c],	\
		       D(a, b, c), (u64)(exp));				\
} while (0)

/* Exact value of one counter in a row. */
#define EXPECT_CTR(exp, row, c) do {					\
	EXPECT_EQ((u64)(exp), (row).v[c])				\
		TH_LOG("%s: %llu, expected %llu", cs_names[c],		\
		       (row).v[c], (u64)(exp));				\
} while (0)

#define ASSERT_KID_OK(self, status) do {				\
	ASSERT_EQ(0, (self)->rep->line)					\
		TH_LOG("child failed its check at line %d",		\
		       (self)->rep->line);				\
	ASSERT_EQ(0, status)						\
		TH_LOG("child exit status 0x%x", status);		\
} while (0)

/* A stack for a child; call before quiesce() and the anon scan. */
static int kid_prepare(struct kidset *ks, int slot)
{
	ks->stack[slot] = kid_stack_new();
	return ks->stack[slot] ? 0 : -1;
}

static pid_t kid_start(struct kidset *ks, int slot,
		       int (*fn)(void *), void *arg)
{
	pid_t pid = fresh_fork(kid_stack_top(ks->stack[slot]), fn, arg);

	ks->pid[slot] = pid;
	return pid;
}

static int kid_wait(struct kidset *ks, int slot)
{
	int status = -1;

	if (ks->pid[slot] > 0 &&
	    waitpid(ks->pid[slot], &status, 0) != ks->pid[slot])
		status = -1;
	ks->pid[slot] = 0;
	munmap(ks->stack[slot], KID_STACK);
	ks->stack[slot] = NULL;
	return status;
}

static void kid_release(struct kidset *ks)
{
	ssize_t n = write(ks->go[1], "g", 1);

	(void)n;
}

/* An anonymous 4 KiB-page region, every page written (pattern seed + i). */
static char *region_new(size_t npages, int seed)
{
	char *r = mmap(NULL, npages * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t i;

	if (r == MAP_FAILED)
		return NULL;
	if (keep_4k_pages(r, npages * PG)) {
		munmap(r, npages * PG);
		return NULL;
	}
	for (i = 0; i < npages; i++)
		memset(r + i * PG, (seed + i) & 0xff, PG);
	return r;
}

static void write_units(char *r, size_t first, size_t k, size_t unit,
			size_t off, unsigned char base)
{
	size_t i;

	for (i = 0; i < k; i++)
		((volatile char *)r)[(first + i) * unit + off] = base ^ i;
}

/*
 * Compare r's pagemap (w->pm, n entries) with the parent's snapshot:
 * pages that are exclusive, pages whose PFN changed, and how many of the
 * 4 KiB pages holding a written byte are both.
 */
static void region_diff(const struct job *j, const u64 *pm, size_t n,
			long *val)
{
	size_t i, x;

	val[R_EXCL] = val[R_MOVED] = val[R_EXCL_MOVED_WRITTEN] = 0;
	for (i = 0; i < n; i++) {
		if (pm[i] & PM_EXCLUSIVE)
			val[R_EXCL]++;
		if ((pm[i] & PM_PFN_MASK) != (j->ppfn[i] & PM_PFN_MASK))
			val[R_MOVED]++;
	}
	for (x = 0; x < j->k; x++) {
		i = ((j->first + x) * j->unit + j->off) / PG;
		if ((pm[i] & PM_EXCLUSIVE) &&
		    (pm[i] & PM_PFN_MASK) != (j->ppfn[i] & PM_PFN_MASK))
			val[R_EXCL_MOVED_WRITTEN]++;
	}
}

static void wait_byte(int fd)
{
	char c;
	ssize_t n = read(fd, &c, 1);

	(void)n;
}

/*
 * Child: read own row, write the job's units, read own row again, then
 * look at the region through pagemap.  Runs on a fresh stack with a fresh
 * workspace, so its only copy-on-write faults are the job's writes.
 */
static int kid_write_measure(void *arg)
{
	const struct job *j = arg;
	struct report *rep = j->rep;
	struct ws *w = ws_new();
	struct cs_row b, a;
	long me = getpid();
	size_t x;

	KID_CHECK(rep, w);
	KID_CHECK(rep, !cs_read_row(w, "processes", me, &b) && b.found);
	write_units(j->r, j->first, j->k, j->unit, j->off, 0xa5);
	KID_CHECK(rep, !cs_read_row(w, "processes", me, &a) && a.found);

	KID_CHECK(rep, j->n <= WS_PM);
	KID_CHECK(rep, !pagemap_region(j->r, j->n, w->pm));
	region_diff(j, w->pm, j->n, rep->val);
	for (x = 0; x < j->k; x++)
		if (j->r[(j->first + x) * j->unit + j->off] != (char)(0xa5 ^ x))
			rep->val[R_DATA_BAD]++;
	rep->before = b;
	rep->after = a;
	if (j->go >= 0)
		wait_byte(j->go);
	return 0;
}

/* Child: keep the region shared until released. */
static int kid_hold(void *arg)
{
	const struct job *j = arg;

	wait_byte(j->go);
	return 0;
}

static int kid_exit(void *arg)
{
	(void)arg;
	return 0;
}

#define QUIET_TRIES 5

static int ndiff(const u64 *a, const u64 *b, int n)
{
	int k, diff = 0;

	for (k = 0; k < n; k++)
		diff += a[k] != b[k];
	return diff;
}

/* How many of n counters differ between two readings (logged). */
static int changed(struct __test_metadata *_metadata, const u64 *after,
		   const u64 *before, int n, const char *what)
{
	int k, diff = 0;

	for (k = 0; k < n; k++) {
		if (after[k] == before[k])
			continue;
		diff++;
		TH_LOG("%s %s: %llu, before %llu", what, cs_names[k], after[k],
		       before[k]);
	}
	return diff;
}

/* Own row; on failure the test cannot go on. */
#define READ_OWN(file, row) do {					\
	int __r = cs_read_row(self->ws, file, getpid(), row);		\
	ASSERT_EQ(0, __r) TH_LOG("reading %s: %s", file, strerror(-__r)); \
	ASSERT_TRUE((row)->found) TH_LOG("no row for pid %d in %s",	\
					 getpid(), file);		\
} while (0)

/* -------------------------------------------------------------------- */

TEST_F_TIMEOUT(cowstat, summary_and_headers, TMO)
{
	struct cs_summary s;
	struct cs_row me;
	struct utsname u;
	bool exact = false;
	char buf[64];
	u64 param;
	int k, fd, missing;
	ssize_t n;

	BAIL_IF_SKIPPED();
	ASSERT_EQ(0, cs_read_summary(self->ws, &s));
	EXPECT_EQ(0, s.bad_lines);
	EXPECT_NE(0, s.version[0]);
	ASSERT_EQ(0, uname(&u));
	EXPECT_STREQ(u.release, s.kernel);
	for (k = 0, missing = 0; k < CS_SUM_NR; k++) {
		if (s.found[k])
			continue;
		missing++;
		TH_LOG("summary lacks %s", cs_names[k]);
	}
	EXPECT_EQ(0, missing);
	EXPECT_LT(0, s.probes);
	EXPECT_LT(0, s.probes_required);
	EXPECT_EQ(0, s.probes_missing);

	/* The module parameters are what summary reports. */
	fd = open("/sys/module/cowstat/parameters/max_tracked", O_RDONLY);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		ASSERT_LT(0, n);
		buf[n] = 0;
		buf[strcspn(buf, "\n")] = 0;
		ASSERT_TRUE(parse_u64(buf, &param));
		EXPECT_EQ(param, s.v[CS_MAX_TRACKED]);
	}
	fd = open("/sys/module/cowstat/parameters/history", O_RDONLY);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		ASSERT_LT(0, n);
		buf[n] = 0;
		buf[strcspn(buf, "\n")] = 0;
		ASSERT_TRUE(parse_u64(buf, &param));
		EXPECT_EQ(param, s.v[CS_HISTORY]);
	}

	ASSERT_LE(0, cs_scan_rows(self->ws, "processes", find_row,
				  &(struct find_ctx){ .pid = 0, .out = &me },
				  &exact));
	EXPECT_TRUE(exact) TH_LOG("processes header is not '%s'", CS_HEADER);
	exact = false;
	ASSERT_LE(0, cs_scan_rows(self->ws, "exited", find_row,
				  &(struct find_ctx){ .pid = 0, .out = &me },
				  &exact));
	EXPECT_TRUE(exact) TH_LOG("exited header is not '%s'", CS_HEADER);

	READ_OWN("processes", &me);
	EXPECT_EQ(getppid(), me.ppid);
	EXPECT_STREQ("cowstat_test", me.comm);
}

/*
 * Scenario 1: a child writes k of n shared pages.  Its cow_copies rises by
 * k; the parent's fork_shared and the child's fork_inherited are the
 * parent's anonymous pages at fork, counted independently.
 */
TEST_F_TIMEOUT(cowstat, fork_child_copies, TMO)
{
	const size_t n = 64, k = 23;
	struct ws *ws = self->ws;
	struct report *rep = self->rep;
	struct cs_row b, a, c;
	struct job j;
	long anon;
	int rb, ra, status;
	pid_t pid, me = getpid();
	size_t i;

	BAIL_IF_SKIPPED();
	j = (struct job){ .n = n, .first = 5, .k = k, .unit = PG, .off = 100,
			  .ppfn = ws->ppfn, .go = -1, .rep = rep };
	j.r = region_new(n, 1);
	ASSERT_NE(NULL, j.r);
	ASSERT_EQ(0, pagemap_region(j.r, n, ws->ppfn));
	for (i = 0; i < n; i++) {
		/* present and, as we touched them first, mapped only here */
		ASSERT_TRUE(HAS(ws->ppfn[i], PM_PRESENT));
		ASSERT_TRUE(HAS(ws->ppfn[i], PM_EXCLUSIVE));
		ASSERT_NE(0ULL, ws->ppfn[i] & PM_PFN_MASK) TH_LOG("PFNs hidden");
	}
	ASSERT_EQ(0, kid_prepare(&self->ks, 0));

	quiesce(ws);
	rb = cs_read_row(ws, "processes", me, &b);
	anon = anon_pages(ws, 0, ~0UL);
	pid = kid_start(&self->ks, 0, kid_write_measure, &j);
	ra = cs_read_row(ws, "processes", me, &a);

	ASSERT_LT(0, pid) TH_LOG("fork: %s", strerror(errno));
	status = kid_wait(&self->ks, 0);
	ASSERT_EQ(0, rb);
	ASSERT_EQ(0, ra);
	ASSERT_TRUE(b.found && a.found);
	ASSERT_LT(0, anon) TH_LOG("anon scan: %s", strerror(-anon));
	ASSERT_KID_OK(self, status);
	TH_LOG("anon pages at fork %ld; child wrote %zu: cow_copies +%llu, %ld pages exclusive",
	       anon, k, D(rep->after, rep->before, CS_COW_COPIES),
	       rep->val[R_EXCL]);

	EXPECT_DELTA(1, a, b, CS_FORKS);
	EXPECT_DELTA(anon, a, b, CS_FORK_SHARED);
	EXPECT_CTR(anon, rep->before, CS_FORK_INHERITED);
	EXPECT_DELTA(k, rep->after, rep->before, CS_COW_COPIES);
	EXPECT_DELTA(k, rep->after, rep->before, CS_COW_FAULTS);
	EXPECT_DELTA(k * PG, rep->after, rep->before, CS_COPIED_BYTES);
	EXPECT_DELTA(0, rep->after, rep->before, CS_COW_REUSES);
	EXPECT_DELTA(0, rep->after, rep->before, CS_COW_ZERO);
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
	EXPECT_CTR(0, c, CS_FORKS);
	EXPECT_CTR(anon, c, CS_FORK_INHERITED);
	EXPECT_CTR(k, c, CS_COW_COPIES);
	EXPECT_CTR(k * PG, c, CS_COPIED_BYTES);
	munmap(j.r, n * PG);
}

/* Scenario 2: the parent writes k shared pages while the child lives. */
TEST_F_TIMEOUT(cowstat, parent_copies_while_child_lives, TMO)
{
	const size_t n = 48, k = 17, first = 9;
	struct ws *ws = self->ws;
	struct cs_row b, a;
	struct job j;
	int rb, ra, status;
	pid_t pid, me = getpid();
	long val[8];

	BAIL_IF_SKIPPED();
	j = (struct job){ .n = n, .first = first, .k = k, .unit = PG,
			  .ppfn = ws->ppfn, .go = self->ks.go[0], .rep = self->rep };
	j.r = region_new(n, 2);
	ASSERT_NE(NULL, j.r);
	ASSERT_EQ(0, pagemap_region(j.r, n, ws->ppfn));
	ASSERT_EQ(0, kid_prepare(&self->ks, 0));
	pid = kid_start(&self->ks, 0, kid_hold, &j);
	ASSERT_LT(0, pid);

	quiesce(ws);
	rb = cs_read_row(ws, "processes", me, &b);
	write_units(j.r, first, k, PG, 0, 0x3c);
	ra = cs_read_row(ws, "processes", me, &a);

	/* While the child still maps the rest: only the k are ours. */
	ASSERT_EQ(0, pagemap_region(j.r, n, ws->pm));
	region_diff(&j, ws->pm, n, val);
	kid_release(&self->ks);
	status = kid_wait(&self->ks, 0);
	ASSERT_EQ(0, rb);
	ASSERT_EQ(0, ra);
	ASSERT_TRUE(b.found && a.found);
	ASSERT_EQ(0, status);

	EXPECT_DELTA(k, a, b, CS_COW_COPIES);
	EXPECT_DELTA(k, a, b, CS_COW_FAULTS);
	EXPECT_DELTA(k * PG, a, b, CS_COPIED_BYTES);
	EXPECT_DELTA(0, a, b, CS_COW_REUSES);
	EXPECT_DELTA(0, a, b, CS_COW_ZERO);
	EXPECT_DELTA(0, a, b, CS_FORKS);
	EXPECT_EQ((long)k, val[R_EXCL]);
	EXPECT_EQ((long)k, val[R_MOVED]);
	EXPECT_EQ((long)k, val[R_EXCL_MOVED_WRITTEN]);
	munmap(j.r, n * PG);
}

/*
 * Scenario 3: after the child has been reaped the parent is the only user
 * of the pages, but they are still write-protected and not marked
 * exclusive: each write is a reuse, not a copy.
 */
TEST_F_TIMEOUT(cowstat, parent_reuses_after_child_exit, TMO)
{
	const size_t n = 40, k = 21, first = 11;
	struct ws *ws = self->ws;
	struct cs_row b, a;
	struct job j;
	int rb, ra, status;
	pid_t pid, me = getpid();
	size_t i;

	BAIL_IF_SKIPPED();
	j = (struct job){ .n = n, .ppfn = ws->ppfn, .go = -1, .rep = self->rep };
	j.r = region_new(n, 3);
	ASSERT_NE(NULL, j.r);
	ASSERT_EQ(0, pagemap_region(j.r, n, ws->ppfn));
	ASSERT_EQ(0, kid_prepare(&self->ks, 0));
	pid = kid_start(&self->ks, 0, kid_exit, &j);
	ASSERT_LT(0, pid);
	status = kid_wait(&self->ks, 0);
	ASSERT_EQ(0, status);
	/* shared no more, but not exclusive-marked: pagemap says mapcount 1 */
	ASSERT_EQ(0, pagemap_region(j.r, n, ws->pm));
	for (i = 0; i < n; i++)
		ASSERT_TRUE(HAS(ws->pm[i], PM_EXCLUSIVE));

	quiesce(ws);
	rb = cs_read_row(ws, "processes", me, &b);
	write_units(j.r, first, k, PG, 0, 0x5a);
	ra = cs_read_row(ws, "processes", me, &a);

	ASSERT_EQ(0, rb);
	ASSERT_EQ(0, ra);
	ASSERT_TRUE(b.found && a.found);
	EXPECT_DELTA(k, a, b, CS_COW_REUSES);
	EXPECT_DELTA(k, a, b, CS_COW_FAULTS);
	EXPECT_DELTA(0, a, b, CS_COW_COPIES);
	EXPECT_DELTA(0, a, b, CS_COPIED_BYTES);
	EXPECT_DELTA(0, a, b, CS_COW_ZERO);
	/* reused in place: no PFN changed */
	ASSERT_EQ(0, pagemap_region(j.r, n, ws->pm));
	for (i = 0; i < n; i++)
		EXPECT_EQ(ws->ppfn[i] & PM_PFN_MASK, ws->pm[i] & PM_PFN_MASK);
	munmap(j.r, n * PG);
}

/*
 * Child: once released, write k pages of the region, which an unshare has
 * already made its own, and report its row around the writes and how many
 * written pages kept their frame (reused in place).
 */
static int kid_write_after_unshare(void *arg)
{
	const struct job *j = arg;
	struct report *rep = j->rep;
	struct ws *w;
	struct cs_row b, a;
	long me;
	size_t x;

	wait_byte(j->go);
	w = ws_new();
	me = getpid();
	KID_CHECK(rep, w);
	KID_CHECK(rep, j->n <= WS_PFNS);
	KID_CHECK(rep, !pagemap_region(j->r, j->n, w->ppfn));
	KID_CHECK(rep, !cs_read_row(w, "processes", me, &b) && b.found);
	write_units(j->r, j->first, j->k, PG, 0, 0x77);
	KID_CHECK(rep, !cs_read_row(w, "processes", me, &a) && a.found);
	KID_CHECK(rep, !pagemap_region(j->r, j->n, w->pm));
	rep->val[0] = 0;
	for (x = 0; x < j->k; x++)
		if ((w->pm[j->first + x] & PM_PFN_MASK) ==
		    (w->ppfn[j->first + x] & PM_PFN_MASK))
			rep->val[0]++;
	rep->before = b;
	rep->after = a;
	return 0;
}

/* Is the running kernel at least @major.@minor? */
static bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}

/*
 * Unshare is not a write: process_vm_readv() pins the child's pages
 * read-only (FOLL_PIN), and a pinned anonymous page must be exclusive, so
 * GUP makes the child copy every page it still shares with the parent
 * (FAULT_FLAG_UNSHARE).  Those copies, which pagemap shows, are not COW
 * writes: nothing is counted for either process.  The child's later writes
 * to the pages, now exclusive, are reuses.
 *
 * Before 5.19 there are no unshare faults: the pin takes the shared pages
 * as they are, pagemap shows none moved, and the child's writes copy them
 * as after any fork.
 */
TEST_F_TIMEOUT(cowstat, unshare_not_counted, TMO)
{
	const bool unshares = kernel_at_least(5, 19);
	const size_t n = 16, k = 7, first = 4;
	struct ws *ws = self->ws;
	struct report *rep = self->rep;
	struct cs_row b, a, cb, ca;
	struct iovec local, remote;
	struct job j;
	int rb, ra, rcb, rca, status;
	ssize_t got;
	pid_t pid, me = getpid();
	size_t i, moved = 0, excl = 0, kept = 0;

	BAIL_IF_SKIPPED();
	/* maps: the one buffer that reading debugfs does not reuse */
	ASSERT_LE(n * PG, sizeof(ws->maps));
	j = (struct job){ .n = n, .first = first, .k = k, .unit = PG,
			  .go = self->ks.go[0], .rep = rep };
	j.r = region_new(n, 4);
	ASSERT_NE(NULL, j.r);
	ASSERT_EQ(0, pagemap_region(j.r, n, ws->ppfn));
	ASSERT_EQ(0, kid_prepare(&self->ks, 0));
	pid = kid_start(&self->ks, 0, kid_write_after_unshare, &j);
	ASSERT_LT(0, pid);

	local = (struct iovec){ .iov_base = ws->maps, .iov_len = n * PG };
	remote = (struct iovec){ .iov_base = j.r, .iov_len = n * PG };
	quiesce(ws);
	rb = cs_read_row(ws, "processes", me, &b);
	rcb = cs_read_row(ws, "processes", pid, &cb);
	got = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	ra = cs_read_row(ws, "processes", me, &a);
	rca = cs_read_row(ws, "processes", pid, &ca);

	ASSERT_EQ((ssize_t)(n * PG), got) TH_LOG("process_vm_readv: %s", strerror(errno));
	for (i = 0; i < n; i++)
		EXPECT_EQ((char)(4 + i), ws->maps[i * PG]);
	/* the child has its own copy of every page now, the parent kept its */
	ASSERT_EQ(0, pagemap_region_of(pid, j.r, n, ws->pm));
	ASSERT_EQ(0, pagemap_region(j.r, n, ws->kpf));
	for (i = 0; i < n; i++) {
		moved += (ws->pm[i] & PM_PFN_MASK) != (ws->ppfn[i] & PM_PFN_MASK);
		excl += HAS(ws->pm[i], PM_EXCLUSIVE);
		kept += (ws->kpf[i] & PM_PFN_MASK) == (ws->ppfn[i] & PM_PFN_MASK);
	}
	TH_LOG("after process_vm_readv: %zu of %zu child pages moved, %zu exclusive; parent kept %zu",
	       moved, n, excl, kept);
	EXPECT_EQ(unshares ? n : 0, moved);
	EXPECT_EQ(unshares ? n : 0, excl);
	EXPECT_EQ(n, kept);

	ASSERT_EQ(0, rb);
	ASSERT_EQ(0, ra);
	ASSERT_EQ(0, rcb);
	ASSERT_EQ(0, rca);
	ASSERT_TRUE(b.found && a.found && cb.found && ca.found);
	/* the unshare copies count nowhere */
	EXPECT_DELTA(0, ca, cb, CS_COW_FAULTS);
	EXPECT_DELTA(0, ca, cb, CS_COW_COPIES);
	EXPECT_DELTA(0, ca, cb, CS_COW_REUSES);
	EXPECT_DELTA(0, ca, cb, CS_COPIED_BYTES);
	EXPECT_DELTA(0, a, b, CS_COW_FAULTS);
	EXPECT_DELTA(0, a, b, CS_COW_COPIES);
	EXPECT_DELTA(0, a, b, CS_COPIED_BYTES);

	/* the child's writes: exclusive pages, so reuses in place */
	kid_release(&self->ks);
	status = kid_wait(&self->ks, 0);
	ASSERT_KID_OK(self, status);
	EXPECT_DELTA(k, rep->after, rep->before, CS_COW_FAULTS);
	EXPECT_DELTA(unshares ? k : 0, rep->after, rep->before, CS_COW_REUSES);
	EXPECT_DELTA(unshares ? 0 : k, rep->after, rep->before, CS_COW_COPIES);
	EXPECT_DELTA(unshares ? 0 : k * PG, rep->after, rep->before, CS_COPIED_BYTES);
	EXPECT_EQ((long)(unshares ? k : 0), rep->val[0]);
	munmap(j.r, n * PG);
}

/*
 * Scenario 4: read faults on fresh anonymous memory map the shared zero
 * page; the write that follows allocates a zeroed page (cow_zero), which
 * copies nothing.
 */
TEST_F_TIMEOUT(cowstat, zero_page, TMO)
{
	const size_t n = 37;
	struct ws *ws = self->ws;
	struct cs_row b, a;
	volatile char *z;
	u64 zpfn, fl;
	int rb, ra;
	pid_t me = getpid();
	size_t i;
	char sum = 0;

	BAIL_IF_SKIPPED();
	z = mmap(NULL, n * PG, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, z);
	ASSERT_EQ(0, keep_4k_pages((void *)z, n * PG))
		TH_LOG("MADV_NOHUGEPAGE: %s", strerror(errno));
	for (i = 0; i < n; i++)
		sum += z[i * PG];
	ASSERT_EQ(0, sum);
	ASSERT_EQ(0, pagemap_region((void *)z, n, ws->pm));
	zpfn = ws->pm[0] & PM_PFN_MASK;
	ASSERT_NE(0ULL, zpfn) TH_LOG("PFNs hidden");
	for (i = 0; i < n; i++) {
		ASSERT_TRUE(HAS(ws->pm[i], PM_PRESENT));
		ASSERT_EQ(zpfn, ws->pm[i] & PM_PFN_MASK);
	}
	ASSERT_EQ(0, kpageflags_get(zpfn, 1, &fl));
	ASSERT_TRUE(HAS(fl, KPF(KPF_ZERO_PAGE))) TH_LOG("pfn %llx flags %llx", zpfn, fl);

	quiesce(ws);
	rb = cs_read_row(ws, "processes", me, &b);
	for (i = 0; i < n; i++)
		z[i * PG + 1] = 1;
	ra = cs_read_row(ws, "processes", me, &a);

	ASSERT_EQ(0, rb);
	ASSERT_EQ(0, ra);
	ASSERT_TRUE(b.found && a.found);
	EXPECT_DELTA(n, a, b, CS_COW_ZERO);
	EXPECT_DELTA(n, a, b, CS_COW_FAULTS);
	EXPECT_DELTA(0, a, b, CS_COPIED_BYTES);
	EXPECT_DELTA(0, a, b, CS_COW_COPIES);
	EXPECT_DELTA(0, a, b, CS_COW_REUSES);
	ASSERT_EQ(0, pagemap_region((void *)z, n, ws->pm));
	for (i = 0; i < n; i++) {
		EXPECT_TRUE(HAS(ws->pm[i], PM_EXCLUSIVE));
		EXPECT_NE(zpfn, ws->pm[i] & PM_PFN_MASK);
	}
	munmap((void *)z, n * PG);
}

/*
 * Scenario 5: private file mapping.  A: read, then written: do_wp_page
 * copies the page-cache page.  B (its own VMA, so that fault-around on A
 * cannot map it): written without a read: do_cow_fault.  C: MAP_SHARED,
 * written in place: never copy-on-write, also not when soft-dirty tracking
 * write-protected it (then do_wp_page runs for it, on a shared mapping).
 */
TEST_F_TIMEOUT(cowstat, file_mappings, TMO)
{
	const size_t na = 12, nb = 7, nc = 9;
	const size_t fpages = na + nb + nc + 2;
	struct ws *ws = self->ws;
	struct cs_row b, a, b2, a2;
	char *ma, *mb, *mc;
	int fd, rb, ra, rb2, ra2, cr;
	pid_t me = getpid();
	size_t i;
	char sum = 0;

	BAIL_IF_SKIPPED();
	fd = memfd_create("cowstat_file", MFD_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, fpages * PG));
	/* every file page exists in the page cache, with known contents */
	for (i = 0; i < fpages; i++) {
		memset(ws->small, 0x40 + i, PG);
		ASSERT_EQ((ssize_t)PG, pwrite(fd, ws->small, PG, i * PG));
	}
	ma = mmap(NULL, na * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	/* file offset gap: A and B can never be merged into one VMA */
	mb = mmap(NULL, nb * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd,
		  (na + 1) * PG);
	mc = mmap(NULL, nc * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		  (na + nb + 2) * PG);
	ASSERT_NE(MAP_FAILED, ma);
	ASSERT_NE(MAP_FAILED, mb);
	ASSERT_NE(MAP_FAILED, mc);
	for (i = 0; i < na; i++)
		sum += ((volatile char *)ma)[i * PG];
	for (i = 0; i < nc; i++)
		sum += ((volatile char *)mc)[i * PG];
	(void)sum;
	ASSERT_EQ(0, pagemap_region(ma, na, ws->pm));
	for (i = 0; i < na; i++)
		ASSERT_EQ(PM_PRESENT | PM_FILE,
			  ws->pm[i] & (PM_PRESENT | PM_FILE));
	ASSERT_EQ(0, pagemap_region(mb, nb, ws->pm));
	for (i = 0; i < nb; i++)
		ASSERT_FALSE(HAS(ws->pm[i], PM_PRESENT));

	quiesce(ws);
	rb = cs_read_row(ws, "processes", me, &b);
	write_units(ma, 0, na, PG, 3, 0x11);
	write_units(mb, 0, nb, PG, 3, 0x22);
	write_units(mc, 0, nc, PG, 3, 0x33);
	ra = cs_read_row(ws, "processes", me, &a);

	ASSERT_EQ(0, rb);
	ASSERT_EQ(0, ra);
	ASSERT_TRUE(b.found && a.found);
	EXPECT_DELTA(na + nb, a, b, CS_COW_FILE);
	EXPECT_DELTA(na, a, b, CS_COW_FAULTS);
	EXPECT_DELTA((na + nb) * PG, a, b, CS_COPIED_BYTES);
	EXPECT_DELTA(0, a, b, CS_COW_COPIES);
	EXPECT_DELTA(0, a, b, CS_COW_ZERO);
	EXPECT_DELTA(0, a, b, CS_COW_REUSES);
	EXPECT_DELTA(0, a, b, CS_COW_THP);
	EXPECT_DELTA(0, a, b, CS_COW_HUGETLB);

	/* A and B now map private anonymous copies; the file is unchanged */
	ASSERT_EQ(0, pagemap_region(ma, na, ws->pm));
	for (i = 0; i < na; i++)
		EXPECT_EQ(PM_PRESENT | PM_EXCLUSIVE,
			  ws->pm[i] & (PM_PRESENT | PM_EXCLUSIVE | PM_FILE));
	ASSERT_EQ(0, pagemap_region(mb, nb, ws->pm));
	for (i = 0; i < nb; i++)
		EXPECT_EQ(PM_PRESENT | PM_EXCLUSIVE,
			  ws->pm[i] & (PM_PRESENT | PM_EXCLUSIVE | PM_FILE));
	for (i = 0; i < na + nb + 1; i++) {
		ASSERT_EQ(1, pread(fd, ws->small, 1, i * PG + 3));
		EXPECT_EQ((char)(0x40 + i), ws->small[0]);
	}
	for (i = 0; i < nc; i++) {
		ASSERT_EQ(1, pread(fd, ws->small, 1, (na + nb + 2 + i) * PG + 3));
		EXPECT_EQ((char)(0x33 ^ i), ws->small[0]);
	}

	/*
	 * Clearing soft-dirty write-protects every PTE, C's included, so the
	 * next writes to C enter do_wp_page (wp_page_shared).  Shared: not
	 * copy-on-write, not counted.  Our own private pages are
	 * write-protected too: quiesce() takes those reuse faults first.
	 */
	cr = open("/proc/self/clear_refs", O_WRONLY);
	ASSERT_LE(0, cr);
	ASSERT_EQ(1, write(cr, "4", 1));
	close(cr);
	quiesce(ws);
	rb2 = cs_read_row(ws, "processes", me, &b2);
	write_units(mc, 0, nc, PG, 5, 0x44);
	ra2 = cs_read_row(ws, "processes", me, &a2);

	ASSERT_EQ(0, rb2);
	ASSERT_EQ(0, ra2);
	ASSERT_TRUE(b2.found && a2.found);
	EXPECT_EQ(0, changed(_metadata, a2.v, b2.v, CS_NR, "counter"));
	/* the writes did fault: soft-dirty is set again on all of C */
	ASSERT_EQ(0, pagemap_region(mc, nc, ws->pm));
	for (i = 0; i < nc; i++)
		EXPECT_TRUE(HAS(ws->pm[i], PM_SOFT_DIRTY));
	munmap(ma, na * PG);
	munmap(mb, nb * PG);
	munmap(mc, nc * PG);
	close(fd);
}

/* Scenario 6: threads write shared pages; they add up in the process row. */
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

TEST_F_TIMEOUT(cowstat, threads_add_up, TMO)
{
	const size_t n = 64, per = 9, k = NTHREADS * per;
	struct ws *ws = self->ws;
	struct tctl *c = (struct tctl *)ws->ext;
	struct cs_row b, a, t;
	struct job j;
	int rb, ra, i, status;
	pid_t pid, me = getpid();
	long val[8];

	BAIL_IF_SKIPPED();
	_Static_assert(sizeof(struct tctl) <= sizeof(ws->ext), "ext");
	j = (struct job){ .n = n, .first = 2, .k = k, .unit = PG, .off = 7,
			  .ppfn = ws->ppfn, .go = self->ks.go[0], .rep = self->rep };
	j.r = region_new(n, 6);
	ASSERT_NE(NULL, j.r);
	ASSERT_EQ(0, pagemap_region(j.r, n, ws->ppfn));
	ASSERT_EQ(0, kid_prepare(&self->ks, 0));
	pid = kid_start(&self->ks, 0, kid_hold, &j);
	ASSERT_LT(0, pid);

	/* Threads are created after the fork: they only exist here. */
	memset(c, 0, sizeof(*c));
	for (i = 0; i < NTHREADS; i++) {
		c->t[i] = (struct tslot){ .ctl = c, .r = j.r,
					  .first = j.first + i * per, .k = per };
		ASSERT_EQ(0, pthread_create(&c->t[i].th, NULL, writer_thread,
					    &c->t[i]));
	}
	for (i = 0; i < NTHREADS; i++)
		while (!__atomic_load_n(&c->t[i].tid, __ATOMIC_SEQ_CST))
			sched_yield();

	quiesce(ws);
	rb = cs_read_row(ws, "processes", me, &b);
	c->go = 1;
	while (__atomic_load_n(&c->done, __ATOMIC_SEQ_CST) != NTHREADS)
		sched_yield();
	ra = cs_read_row(ws, "processes", me, &a);

	c->quit = 1;
	for (i = 0; i < NTHREADS; i++)
		pthread_join(c->t[i].th, NULL);
	ASSERT_EQ(0, pagemap_region(j.r, n, ws->pm));
	region_diff(&j, ws->pm, n, val);
	kid_release(&self->ks);
	status = kid_wait(&self->ks, 0);
	ASSERT_EQ(0, status);
	ASSERT_EQ(0, rb);
	ASSERT_EQ(0, ra);
	ASSERT_TRUE(b.found && a.found);
	EXPECT_DELTA(k, a, b, CS_COW_COPIES);
	EXPECT_DELTA(k, a, b, CS_COW_FAULTS);
	EXPECT_DELTA(k * PG, a, b, CS_COPIED_BYTES);
	EXPECT_DELTA(0, a, b, CS_FORKS);
	EXPECT_DELTA(0, a, b, CS_FORK_SHARED);
	EXPECT_EQ((long)k, val[R_EXCL_MOVED_WRITTEN]);
	EXPECT_EQ((long)k, val[R_EXCL]);
	/* no thread got a row of its own */
	for (i = 0; i < NTHREADS; i++) {
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
static void check_vm_child(struct __test_metadata *_metadata,
			   struct ws *ws, pid_t pid, pid_t me)
{
	struct cs_row c;

	ASSERT_EQ(0, cs_read_row(ws, "exited", pid, &c));
	ASSERT_TRUE(c.found) TH_LOG("no exited row for %d", pid);
	EXPECT_EQ(me, c.ppid);
	EXPECT_CTR(0, c, CS_FORKS);
	EXPECT_CTR(0, c, CS_FORK_SHARED);
	EXPECT_CTR(0, c, CS_FORK_INHERITED);
	EXPECT_CTR(0, c, CS_COW_COPIES);
	EXPECT_CTR(0, c, CS_COW_FAULTS);
	EXPECT_CTR(0, c, CS_COPIED_BYTES);
}

static void check_no_fork(struct __test_metadata *_metadata,
			  const struct cs_row *a, const struct cs_row *b)
{
	EXPECT_DELTA(0, *a, *b, CS_FORKS);
	EXPECT_DELTA(0, *a, *b, CS_FORK_SHARED);
	EXPECT_DELTA(0, *a, *b, CS_COW_COPIES);
	EXPECT_DELTA(0, *a, *b, CS_COW_FAULTS);
	EXPECT_DELTA(0, *a, *b, CS_COPIED_BYTES);
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

TEST_F_TIMEOUT(cowstat, vfork_child, TMO)
{
	struct ws *ws = self->ws;
	struct cs_row b, a;
	int rb, ra, status = -1;
	pid_t pid, me = getpid();

	BAIL_IF_SKIPPED();
	quiesce(ws);
	rb = cs_read_row(ws, "processes", me, &b);
	pid = vfork_and_wait(&status);
	ra = cs_read_row(ws, "processes", me, &a);

	ASSERT_LT(0, pid);
	ASSERT_EQ(0, status);
	ASSERT_EQ(0, rb);
	ASSERT_EQ(0, ra);
	ASSERT_TRUE(b.found && a.found);
	check_no_fork(_metadata, &a, &b);
	check_vm_child(_metadata, ws, pid, me);
}

static int clone_vm_fn(void *arg)
{
	(void)arg;
	return 0;
}

TEST_F_TIMEOUT(cowstat, clone_vm_child, TMO)
{
	struct ws *ws = self->ws;
	struct cs_row b, a;
	int rb, ra, status = -1;
	pid_t pid, me = getpid();

	BAIL_IF_SKIPPED();
	quiesce(ws);
	rb = cs_read_row(ws, "processes", me, &b);
	/* the child runs in our address space, on ws->cstack */
	pid = clone(clone_vm_fn, ws->cstack + WS_CSTACK, CLONE_VM | SIGCHLD,
		    NULL);
	if (pid > 0)
		waitpid(pid, &status, 0);
	ra = cs_read_row(ws, "processes", me, &a);

	ASSERT_LT(0, pid);
	ASSERT_EQ(0, status);
	ASSERT_EQ(0, rb);
	ASSERT_EQ(0, ra);
	ASSERT_TRUE(b.found && a.found);
	check_no_fork(_metadata, &a, &b);
	check_vm_child(_metadata, ws, pid, me);
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

TEST_F_TIMEOUT(cowstat, fork_exec, TMO)
{
	const size_t n = 32, k = 13;
	static char *const argv[] = { "true", NULL };
	struct ws *ws = self->ws;
	struct cs_row b, a, c;
	struct job j;
	long anon;
	int rb, ra, status;
	pid_t pid, me = getpid();

	BAIL_IF_SKIPPED();
	ASSERT_EQ(0, access("/bin/true", X_OK));
	j = (struct job){ .n = n, .first = 3, .k = k, .path = "/bin/true",
			  .argv = argv, .go = -1, .rep = self->rep };
	j.r = region_new(n, 8);
	ASSERT_NE(NULL, j.r);
	ASSERT_EQ(0, kid_prepare(&self->ks, 0));

	quiesce(ws);
	rb = cs_read_row(ws, "processes", me, &b);
	anon = anon_pages(ws, 0, ~0UL);
	pid = kid_start(&self->ks, 0, kid_write_exec, &j);
	ra = cs_read_row(ws, "processes", me, &a);

	ASSERT_LT(0, pid);
	status = kid_wait(&self->ks, 0);
	ASSERT_EQ(0, status);
	ASSERT_EQ(0, rb);
	ASSERT_EQ(0, ra);
	ASSERT_TRUE(b.found && a.found);
	ASSERT_LT(0, anon);
	EXPECT_DELTA(1, a, b, CS_FORKS);
	EXPECT_DELTA(anon, a, b, CS_FORK_SHARED);

	ASSERT_EQ(0, cs_read_row(ws, "exited", pid, &c));
	ASSERT_TRUE(c.found) TH_LOG("no exited row for %d", pid);
	EXPECT_STREQ("true", c.comm);
	EXPECT_EQ(me, c.ppid);
	EXPECT_CTR(k, c, CS_COW_COPIES);
	EXPECT_CTR(anon, c, CS_FORK_INHERITED);
	EXPECT_CTR(0, c, CS_FORKS);
	EXPECT_CTR(0, c, CS_COW_HUGETLB);
	EXPECT_CTR(0, c, CS_COW_THP);
	munmap(j.r, n * PG);
}

/*
 * Scenario 9: child C forks grandchild G; G writes k1 pages and exits, C
 * reaps it, writes k2 other pages and exits.  Both rows end up in exited,
 * G's first, linked by ppid; C's row counts its one fork, and C's own
 * anonymous page count right before it (C scans itself) is G's
 * fork_inherited.
 */
static int kid_grandchild(void *arg)
{
	const struct job *j = arg;

	write_units(j->r, j->first, j->k, PG, 0, 0x61);
	return 0;
}

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
	g = fresh_fork(j->gstack_top, kid_grandchild, (void *)j);
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
	struct ws *ws = self->ws;
	struct report *rep = self->rep;
	struct cs_row cr, gr;
	struct job j;
	long anon;
	int status;
	pid_t pid, g, me = getpid();

	BAIL_IF_SKIPPED();
	j = (struct job){ .n = n, .first = 1, .k = k1, .first2 = 20, .k2 = k2,
			  .go = -1, .rep = rep };
	j.r = region_new(n, 9);
	ASSERT_NE(NULL, j.r);
	ASSERT_EQ(0, kid_prepare(&self->ks, 0));
	self->gstack = kid_stack_new();
	ASSERT_NE(NULL, self->gstack);
	j.gstack_top = kid_stack_top(self->gstack);
	j.stack = self->ks.stack[0];

	quiesce(ws);
	anon = anon_pages(ws, 0, ~0UL);
	pid = kid_start(&self->ks, 0, kid_with_grandchild, &j);
	ASSERT_LT(0, pid);
	status = kid_wait(&self->ks, 0);
	ASSERT_KID_OK(self, status);
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
	EXPECT_CTR(1, cr, CS_FORKS);
	EXPECT_CTR(0, gr, CS_FORKS);
	EXPECT_CTR(k2, cr, CS_COW_COPIES);
	EXPECT_CTR(k1, gr, CS_COW_COPIES);
	EXPECT_CTR(k2 * PG, cr, CS_COPIED_BYTES);
	EXPECT_CTR(k1 * PG, gr, CS_COPIED_BYTES);
	EXPECT_CTR(anon, cr, CS_FORK_INHERITED);
	EXPECT_CTR(rep->val[1], cr, CS_FORK_SHARED);
	EXPECT_CTR(rep->val[1], gr, CS_FORK_INHERITED);
	munmap(j.r, n * PG);
}

/*
 * Scenario 10a: THP.  A write to a PMD-mapped THP shared with the parent
 * enters do_huge_pmd_wp_page, which on 6.1 splits the PMD; the retried
 * fault copies the one 4 KiB page (do_wp_page).
 */
struct smaps_ctx {
	unsigned long addr;
	bool in, found;
	u64 anon_huge_kb;
};

static void smaps_line(char *line, void *arg)
{
	struct smaps_ctx *c = arg;
	const char *p = line;
	unsigned long start, end;

	if (parse_hex(&p, &start) && *p == '-' && (p++, parse_hex(&p, &end)) &&
	    *p == ' ') {
		c->in = start <= c->addr && c->addr < end;
		return;
	}
	if (c->in && !strncmp(line, "AnonHugePages:", 14)) {
		char *f[4];

		if (split_fields(line, f, 4) >= 2 && parse_u64(f[1], &c->anon_huge_kb))
			c->found = true;
	}
}

/* THP enabled for MADV_HUGEPAGE regions (run_vm_tests.sh sets madvise) */
static bool thp_mode_ok(char *buf, size_t size)
{
	int fd = open(THP_SYSFS "/enabled", O_RDONLY);
	ssize_t n;

	buf[0] = 0;
	if (fd < 0)
		return false;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return strstr(buf, "[madvise]") || strstr(buf, "[always]");
}

TEST_F_TIMEOUT(cowstat, thp_cow, TMO)
{
	const size_t h = 4, sub = h * HPAGE_PMD / PG;
	struct ws *ws = self->ws;
	struct report *rep = self->rep;
	struct smaps_ctx sc = { 0 };
	struct cs_row b, a;
	struct job j;
	char *m, *r;
	long anon;
	int rb, ra, status;
	size_t i, len = (h + 1) * HPAGE_PMD;
	pid_t pid, me = getpid();
	char mode[128];
	int thp;

	BAIL_IF_SKIPPED();
	/* Skip only when the kernel has no THP; disabled THP is a failure. */
	thp = thp_present();
	ASSERT_LE(0, thp) TH_LOG("%s: %s", THP_SYSFS, strerror(errno));
	if (!thp)
		SKIP(return, "no transparent huge pages on this kernel (no %s)",
		     THP_SYSFS);
	ASSERT_TRUE(thp_mode_ok(mode, sizeof(mode)))
		TH_LOG("THP not enabled for MADV_HUGEPAGE: %s/enabled is '%s'",
		       THP_SYSFS, mode);
	m = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, m);
	r = (char *)(((unsigned long)m + HPAGE_PMD - 1) & ~(HPAGE_PMD - 1));
	if (r > m)
		munmap(m, r - m);
	if (r + h * HPAGE_PMD < m + len)
		munmap(r + h * HPAGE_PMD, m + len - (r + h * HPAGE_PMD));
	ASSERT_EQ(0, madvise(r, h * HPAGE_PMD, MADV_HUGEPAGE));
	for (i = 0; i < h; i++)
		memset(r + i * HPAGE_PMD, 0x10 + i, HPAGE_PMD);

	/* really PMD-mapped THPs: smaps AnonHugePages and kpageflags */
	sc.addr = (unsigned long)r;
	ASSERT_EQ(0, read_lines(ws, "/proc/self/smaps", smaps_line, &sc));
	ASSERT_TRUE(sc.found);
	ASSERT_EQ(h * HPAGE_PMD / 1024, sc.anon_huge_kb)
		TH_LOG("could not get %zu PMD-mapped THPs", h);
	ASSERT_EQ(0, pagemap_region(r, sub, ws->ppfn));
	for (i = 0; i < sub; i += 512) {
		u64 pfn = ws->ppfn[i] & PM_PFN_MASK;
		size_t s;

		ASSERT_EQ(0ULL, pfn % 512);
		ASSERT_EQ(0, kpageflags_get(pfn, 512, ws->kpf));
		for (s = 0; s < 512; s++) {
			ASSERT_EQ(pfn + s, ws->ppfn[i + s] & PM_PFN_MASK);
			ASSERT_TRUE(HAS(ws->kpf[s], KPF(KPF_THP)));
			ASSERT_TRUE(HAS(ws->kpf[s], KPF(KPF_ANON)));
		}
	}

	j = (struct job){ .r = r, .n = sub, .first = 0, .k = h,
			  .unit = HPAGE_PMD, .off = 5 * PG + 9,
			  .ppfn = ws->ppfn, .go = -1, .rep = rep };
	ASSERT_EQ(0, kid_prepare(&self->ks, 0));
	quiesce(ws);
	rb = cs_read_row(ws, "processes", me, &b);
	anon = anon_pages(ws, 0, ~0UL);
	pid = kid_start(&self->ks, 0, kid_write_measure, &j);
	ra = cs_read_row(ws, "processes", me, &a);

	ASSERT_LT(0, pid);
	status = kid_wait(&self->ks, 0);
	ASSERT_KID_OK(self, status);
	ASSERT_EQ(0, rb);
	ASSERT_EQ(0, ra);
	ASSERT_LT((long)sub, anon);
	TH_LOG("%zu THPs, anon pages at fork %ld; child: cow_thp +%llu cow_copies +%llu",
	       h, anon, D(rep->after, rep->before, CS_COW_THP),
	       D(rep->after, rep->before, CS_COW_COPIES));
	EXPECT_DELTA(anon, a, b, CS_FORK_SHARED);
	EXPECT_CTR(anon, rep->before, CS_FORK_INHERITED);
	EXPECT_DELTA(h, rep->after, rep->before, CS_COW_THP);
	EXPECT_DELTA(h, rep->after, rep->before, CS_COW_COPIES);
	EXPECT_DELTA(h, rep->after, rep->before, CS_COW_FAULTS);
	EXPECT_DELTA(h * PG, rep->after, rep->before, CS_COPIED_BYTES);
	EXPECT_DELTA(0, rep->after, rep->before, CS_COW_REUSES);
	EXPECT_DELTA(0, rep->after, rep->before, CS_COW_HUGETLB);
	EXPECT_EQ((long)h, rep->val[R_EXCL_MOVED_WRITTEN]);
	EXPECT_EQ((long)h, rep->val[R_EXCL]);
	EXPECT_EQ((long)h, rep->val[R_MOVED]);
	EXPECT_EQ(0, rep->val[R_DATA_BAD]);
	munmap(r, h * HPAGE_PMD);
}

/* Scenario 10b: hugetlb.  The child's write copies the whole huge page. */
struct meminfo_ctx {
	u64 total, free, size_kb;
};

static void meminfo_line(char *line, void *arg)
{
	struct meminfo_ctx *c = arg;
	char *f[4];
	int n = split_fields(line, f, 4);

	if (n < 2)
		return;
	if (!strcmp(f[0], "HugePages_Total:"))
		parse_u64(f[1], &c->total);
	else if (!strcmp(f[0], "HugePages_Free:"))
		parse_u64(f[1], &c->free);
	else if (!strcmp(f[0], "Hugepagesize:"))
		parse_u64(f[1], &c->size_kb);
}

#define NR_HUGEPAGES	"/proc/sys/vm/nr_hugepages"

/* Returns 0 or -1 with errno set. */
static int set_nr_hugepages(u64 nr)
{
	char buf[32];
	int fd = open(NR_HUGEPAGES, O_WRONLY);
	int len = snprintf(buf, sizeof(buf), "%llu\n", nr);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, buf, len);
	close(fd);
	if (n == len)
		return 0;
	if (n >= 0)
		errno = EIO;
	return -1;
}

TEST_F_TIMEOUT(cowstat, hugetlb_cow, TMO)
{
	const size_t hm = 4;
	struct ws *ws = self->ws;
	struct report *rep = self->rep;
	struct meminfo_ctx mi = { 0 };
	struct cs_row b, a;
	struct job j;
	size_t i, sub, hsz;
	char *r;
	long anon;
	int rb, ra, status;
	pid_t pid, me = getpid();

	BAIL_IF_SKIPPED();
	/* Skip only when the kernel has no hugetlb pages or can reserve none. */
	if (access(NR_HUGEPAGES, F_OK)) {
		ASSERT_EQ(ENOENT, errno) TH_LOG("%s: %s", NR_HUGEPAGES, strerror(errno));
		SKIP(return, "no hugetlb pages on this kernel (no %s)", NR_HUGEPAGES);
	}
	ASSERT_EQ(0, read_lines(ws, "/proc/meminfo", meminfo_line, &mi));
	ASSERT_NE(0ULL, mi.size_kb) TH_LOG("no Hugepagesize in /proc/meminfo");
	/* the parent's pages plus the child's copies, taken unreserved */
	if (mi.free < 2 * hm) {
		u64 want = mi.total + 2 * hm - mi.free;

		ASSERT_EQ(0, set_nr_hugepages(want))
			TH_LOG("writing %llu to %s: %s", want, NR_HUGEPAGES,
			       strerror(errno));
		memset(&mi, 0, sizeof(mi));
		ASSERT_EQ(0, read_lines(ws, "/proc/meminfo", meminfo_line, &mi));
		if (!mi.total)
			SKIP(return, "no hugetlb page can be reserved: %s %s",
			     NR_HUGEPAGES, "is 0 after writing a number to it");
	}
	ASSERT_LE(2 * hm, mi.free) TH_LOG("need %zu free huge pages", 2 * hm);
	hsz = mi.size_kb * 1024;
	sub = hm * hsz / PG;
	ASSERT_LE(sub, (size_t)WS_PFNS);
	r = mmap(NULL, hm * hsz, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	ASSERT_NE(MAP_FAILED, r) TH_LOG("MAP_HUGETLB: %s", strerror(errno));
	for (i = 0; i < hm; i++)
		memset(r + i * hsz, 0x20 + i, hsz);
	ASSERT_EQ(0, pagemap_region(r, sub, ws->ppfn));
	ASSERT_EQ(0, kpageflags_get(ws->ppfn[0] & PM_PFN_MASK, 1, ws->kpf));
	ASSERT_TRUE(HAS(ws->kpf[0], KPF(KPF_HUGE)));

	j = (struct job){ .r = r, .n = sub, .first = 0, .k = hm, .unit = hsz,
			  .off = 3 * PG + 1, .ppfn = ws->ppfn, .go = -1,
			  .rep = rep };
	ASSERT_EQ(0, kid_prepare(&self->ks, 0));
	quiesce(ws);
	rb = cs_read_row(ws, "processes", me, &b);
	anon = anon_pages(ws, 0, ~0UL);
	pid = kid_start(&self->ks, 0, kid_write_measure, &j);
	ra = cs_read_row(ws, "processes", me, &a);

	ASSERT_LT(0, pid);
	status = kid_wait(&self->ks, 0);
	ASSERT_KID_OK(self, status);
	ASSERT_EQ(0, rb);
	ASSERT_EQ(0, ra);
	ASSERT_LT(0, anon);
	TH_LOG("%zu huge pages of %zu KiB, anon pages at fork %ld; child: cow_hugetlb +%llu",
	       hm, hsz >> 10, anon, D(rep->after, rep->before, CS_COW_HUGETLB));
	/* hugetlb pages are not anonymous RSS: not in fork_shared */
	EXPECT_DELTA(anon, a, b, CS_FORK_SHARED);
	EXPECT_CTR(anon, rep->before, CS_FORK_INHERITED);
	EXPECT_DELTA(hm, rep->after, rep->before, CS_COW_HUGETLB);
	EXPECT_DELTA(hm * hsz, rep->after, rep->before, CS_COPIED_BYTES);
	EXPECT_DELTA(0, rep->after, rep->before, CS_COW_COPIES);
	EXPECT_DELTA(0, rep->after, rep->before, CS_COW_FAULTS);
	EXPECT_DELTA(0, rep->after, rep->before, CS_COW_THP);
	/* whole huge pages copied: every 4 KiB part is new and exclusive */
	EXPECT_EQ((long)sub, rep->val[R_EXCL]);
	EXPECT_EQ((long)sub, rep->val[R_MOVED]);
	EXPECT_EQ((long)hm, rep->val[R_EXCL_MOVED_WRITTEN]);
	EXPECT_EQ(0, rep->val[R_DATA_BAD]);
	munmap(r, hm * hsz);
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
	struct ws *ws = self->ws;
	struct report *rep = self->rep;
	struct cs_row b, a, c;
	struct job j;
	long anon, anon_d, anon_w, anon_r;
	int rb, ra, status;
	pid_t pid, me = getpid();
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
	ASSERT_EQ(0, kid_prepare(&self->ks, 0));

	quiesce(ws);
	rb = cs_read_row(ws, "processes", me, &b);
	anon_r = anon_pages(ws, (unsigned long)r, (unsigned long)r + n * PG);
	anon_d = anon_pages(ws, (unsigned long)j.dr,
			    (unsigned long)j.dr + nd * PG);
	anon_w = anon_pages(ws, (unsigned long)j.wr,
			    (unsigned long)j.wr + nw * PG);
	anon = anon_pages(ws, 0, ~0UL);
	pid = kid_start(&self->ks, 0, kid_wipe, &j);
	ra = cs_read_row(ws, "processes", me, &a);

	ASSERT_LT(0, pid);
	status = kid_wait(&self->ks, 0);
	ASSERT_KID_OK(self, status);
	ASSERT_EQ(0, rb);
	ASSERT_EQ(0, ra);
	ASSERT_EQ((long)n, anon_r);
	ASSERT_EQ((long)nd, anon_d);
	ASSERT_EQ((long)nw, anon_w);
	ASSERT_LT(0, anon);
	TH_LOG("anon pages %ld, of them %ld MADV_DONTFORK, %ld MADV_WIPEONFORK",
	       anon, anon_d, anon_w);
	EXPECT_DELTA(1, a, b, CS_FORKS);
	EXPECT_DELTA(anon - nd - nw, a, b, CS_FORK_SHARED);
	EXPECT_CTR(anon - nd - nw, rep->before, CS_FORK_INHERITED);
	EXPECT_DELTA(0, rep->after, rep->before, CS_COW_COPIES);
	EXPECT_DELTA(0, rep->after, rep->before, CS_COW_FAULTS);
	EXPECT_DELTA(0, rep->after, rep->before, CS_COW_ZERO);
	EXPECT_DELTA(0, rep->after, rep->before, CS_COPIED_BYTES);
	ASSERT_EQ(0, cs_read_row(ws, "exited", pid, &c));
	ASSERT_TRUE(c.found);
	EXPECT_CTR(anon - nd - nw, c, CS_FORK_INHERITED);
	EXPECT_CTR(0, c, CS_COW_COPIES);
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
			 .rep = self->rep };
	pid_t pid;

	BAIL_IF_SKIPPED();
	ASSERT_EQ(0, kid_prepare(&self->ks, 0));
	pid = kid_start(&self->ks, 0, kid_rename, &j);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, kid_wait(&self->ks, 0));
	ASSERT_EQ(0, cs_read_row(self->ws, "exited", pid, &c));
	ASSERT_TRUE(c.found);
	EXPECT_STREQ("a\\040b\\134c\\001\\177\\351z", c.comm);
}

/*
 * Scenario 12: control.  Anything but "reset" (with an optional newline) is
 * refused with EINVAL and changes nothing; "reset" forgets every row and
 * zeroes the totals, and rows come back lazily on the next event.
 */
static const struct {
	const char *buf;
	size_t len;
} bad_input[] = {
	{ "", 0 },
	{ "\n", 1 },
	{ "bogus", 5 },
	{ "reset-now", 9 },
	{ "RESET", 5 },
	{ "rese", 4 },
	{ " reset", 6 },
	{ "reset\n\n", 7 },
	{ "reset\0", 6 },
	{ "re\0set", 6 },
	{ "\x01\xff\xfe\x80", 4 },
	{ "resetresetresetresetresetresetresetresetresetresetresetresetresetresetresetresetresetresetresetreset", 100 },
};

#define NBAD ARRAY_SIZE(bad_input)

TEST_F_TIMEOUT(cowstat, control_bad_input, TMO)
{
	struct ws *ws = self->ws;
	struct cs_summary s0, s1;
	struct cs_row b, a;
	long ret[NBAD];
	int r0, r1, rb, ra, accepted = 0, attempt;
	size_t i;
	pid_t me = getpid();

	BAIL_IF_SKIPPED();
	/*
	 * The summary totals also move with every other process on the
	 * machine: on a busy one, try again a few times for a quiet moment.
	 * A bad write that changes something changes it every time.
	 */
	for (attempt = 1; attempt <= QUIET_TRIES; attempt++) {
		quiesce(ws);
		r0 = cs_read_summary(ws, &s0);
		rb = cs_read_row(ws, "processes", me, &b);
		for (i = 0; i < NBAD; i++)
			ret[i] = cs_control(bad_input[i].buf, bad_input[i].len);
		r1 = cs_read_summary(ws, &s1);
		ra = cs_read_row(ws, "processes", me, &a);

		ASSERT_EQ(0, r0);
		ASSERT_EQ(0, r1);
		ASSERT_EQ(0, rb);
		ASSERT_EQ(0, ra);
		for (i = 0; i < NBAD; i++) {
			if (ret[i] == -EINVAL)
				continue;
			accepted++;
			TH_LOG("bad input #%zu (%zu bytes) returned %ld, not -EINVAL",
			       i, bad_input[i].len, ret[i]);
		}
		if (!ndiff(s1.v, s0.v, CS_SUM_NR))
			break;
		if (attempt < QUIET_TRIES)
			TH_LOG("summary moved (attempt %d), trying again", attempt);
	}
	EXPECT_EQ(0, accepted);
	EXPECT_EQ(0, changed(_metadata, s1.v, s0.v, CS_SUM_NR, "summary"));
	EXPECT_EQ(0, changed(_metadata, a.v, b.v, CS_NR, "own row"));
}

static void count_row(const struct cs_row *row, void *arg)
{
	(void)row;
	(*(int *)arg)++;
}

struct alive_ctx {
	int rows, dead;
	long dead_pid;
};

static void check_alive(const struct cs_row *row, void *arg)
{
	struct alive_ctx *c = arg;

	c->rows++;
	if (kill(row->pid, 0) && errno == ESRCH) {
		c->dead++;
		c->dead_pid = row->pid;
	}
}

TEST_F_TIMEOUT(cowstat, control_reset, TMO)
{
	const size_t n = 16, k = 5;
	struct ws *ws = self->ws;
	struct cs_summary s;
	struct cs_row me_row, c;
	struct alive_ctx alive = { 0 };
	struct job j;
	long ret, anon;
	static const u64 zero[CS_NR];
	int rs, rr, status, exited_rows, attempt;
	pid_t pid, me = getpid();

	BAIL_IF_SKIPPED();
	j = (struct job){ .n = n, .first = 4, .k = k, .go = -1,
			  .rep = self->rep };
	j.r = region_new(n, 12);
	ASSERT_NE(NULL, j.r);
	ASSERT_EQ(0, kid_prepare(&self->ks, 0));
	/* as in control_bad_input: other processes may add events */
	for (attempt = 1; attempt <= QUIET_TRIES; attempt++) {
		quiesce(ws);
		ret = cs_control("reset\n", 6);
		rs = cs_read_summary(ws, &s);
		rr = cs_read_row(ws, "processes", me, &me_row);
		exited_rows = cs_scan_rows(ws, "exited", count_row,
					   &(int){ 0 }, NULL);

		ASSERT_EQ(6, ret) TH_LOG("reset: %s", strerror(-ret));
		ASSERT_EQ(0, rs);
		ASSERT_EQ(0, rr);
		ASSERT_LE(0, exited_rows);
		if (!ndiff(s.v, zero, CS_NR) && !s.v[CS_EXITED] && !exited_rows)
			break;
		if (attempt < QUIET_TRIES)
			TH_LOG("events right after reset (attempt %d), again",
			       attempt);
	}
	EXPECT_EQ(0, changed(_metadata, s.v, zero, CS_NR, "total"));
	EXPECT_EQ(0ULL, s.v[CS_EXITED]);
	EXPECT_EQ(0ULL, s.v[CS_DROPPED]);
	EXPECT_EQ(0ULL, s.v[CS_DROPPED_EVENTS]);
	EXPECT_EQ(0ULL, s.v[CS_EVICTED]);
	/* we did nothing since: our row is gone */
	EXPECT_FALSE(me_row.found);
	EXPECT_EQ(0, exited_rows);
	ASSERT_LE(0, cs_scan_rows(ws, "processes", check_alive, &alive,
				  NULL));
	EXPECT_EQ(0, alive.dead) TH_LOG("row of dead pid %ld", alive.dead_pid);

	/* the next fork creates our row again, and the child's */
	quiesce(ws);
	anon = anon_pages(ws, 0, ~0UL);
	pid = kid_start(&self->ks, 0, kid_grandchild, &j);
	ASSERT_LT(0, pid);
	status = kid_wait(&self->ks, 0);
	ASSERT_EQ(0, status);
	ASSERT_LT(0, anon);
	READ_OWN("processes", &me_row);
	EXPECT_CTR(1, me_row, CS_FORKS);
	EXPECT_CTR(anon, me_row, CS_FORK_SHARED);
	ASSERT_EQ(0, cs_read_row(ws, "exited", pid, &c));
	ASSERT_TRUE(c.found);
	EXPECT_CTR(k, c, CS_COW_COPIES);
	EXPECT_CTR(anon, c, CS_FORK_INHERITED);
	EXPECT_EQ(me, c.ppid);
	munmap(j.r, n * PG);
}

/*
 * Before any test: glibc's rseq registration makes the kernel write the
 * current CPU into the thread's TCB on return to user space after being
 * preempted or migrated; after a fork that page is shared, so such a write
 * is a copy-on-write copy nobody asked for.  Re-exec once with rseq off.
 * Then pin to one CPU: a freshly faulted page sits in its CPU's LRU-add
 * batch, holding a reference, and do_wp_page drains only the local CPU's
 * batch before deciding between reuse and copy.
 */
static void __attribute__((constructor)) cowstat_prepare(int argc, char **argv)
{
	static char tun[1024], exe[4096];
	const char *old;
	ssize_t len;
	cpu_set_t set;
	int cpu;

	(void)argc;
	if (__rseq_size && !getenv("COWSTAT_TEST_REEXEC")) {
		old = getenv("GLIBC_TUNABLES");
		snprintf(tun, sizeof(tun), "%s%sglibc.pthread.rseq=0",
			 old ? old : "", old ? ":" : "");
		setenv("GLIBC_TUNABLES", tun, 1);
		setenv("COWSTAT_TEST_REEXEC", "1", 1);
		/* by its real path: comm is the basename of what is exec'd */
		len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (len > 0) {
			exe[len] = 0;
			execv(exe, argv);
		}
	}
	if (__rseq_size)
		fprintf(stderr, "# warning: rseq still registered; counts may be off by one\n");
	if (sched_getaffinity(0, sizeof(set), &set))
		return;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set))
			break;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

TEST_HARNESS_MAIN
