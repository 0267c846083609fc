/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the cowstat test programs (cow_*.c) share: the fixture's resources,
 * fresh_fork() children and their jobs, the measuring window and the
 * expectation of a whole row (code in cow_test.c).  Include it after
 * kselftest_harness.h: its macros use the harness's.
 */
#ifndef COW_TEST_H
#define COW_TEST_H

#include <sys/types.h>

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

/* val[] of region_diff() */
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

/* The resources of every test: FIXTURE(cowstat) { struct cow_env e; } */
struct cow_env {
	bool skip;
	struct ws *ws;
	struct report *rep;
	struct kidset ks;
	void *gstack;
	u64 at_setup[CS_SUM_NR];	/* summary's values at setup */
};

/*
 * 0: ready; 1: cowstat is not loaded (skip); -errno: *why names the step
 * that failed.
 */
int cow_env_setup(struct cow_env *e, const char **why);
/* Kills and reaps the children left, frees everything. */
void cow_env_teardown(struct cow_env *e);
/*
 * How much summary's lost (CS_LOST) or swept (CS_SWEPT) grew since the
 * setup (-1: cannot read it).
 */
long long cow_env_grew(struct cow_env *e, enum cs_counter key);

/*
 * The body of every FIXTURE_TEARDOWN: no test may make a probe hit that the
 * module could not count, nor a reap that only the sweep found, whatever
 * the test asserts itself.
 */
#define COW_ENV_TEARDOWN(e) do {					\
	if (!(e)->skip) {						\
		EXPECT_EQ(0, cow_env_grew(e, CS_LOST))			\
			TH_LOG("summary's lost grew during the test");	\
		EXPECT_EQ(0, cow_env_grew(e, CS_SWEPT))			\
			TH_LOG("summary's swept grew during the test");	\
	}								\
	cow_env_teardown(e);						\
} while (0)

#define COW_NOT_LOADED \
	COWSTAT_DIR " does not exist: cowstat.ko not loaded (or debugfs not mounted)"

/* The body of every FIXTURE_SETUP(cowstat). */
#define COW_ENV_SETUP(e) do {						\
	const char *__why = "";						\
	int __r = cow_env_setup(e, &__why);				\
									\
	if (__r > 0)							\
		SKIP(return, "%s", COW_NOT_LOADED);			\
	ASSERT_EQ(0, __r) TH_LOG("%s: %s", __why, strerror(-__r));	\
} while (0)

/* 6.1's harness still runs the test body after SKIP() in the setup. */
#define BAIL_IF_SKIPPED() do { if (self->e.skip) return; } while (0)

/* A flag test the harness can compare without mixing signedness. */
#define HAS(x, bit)	((int)(((x) & (bit)) != 0))

#define D(a, b, c)	((a).v[c] - (b).v[c])

/*
 * The expectation of a row's counters, all of them at once: a counter that
 * is not named must not change; a named one changes by exactly IS(n), or
 * by anything at all with ANY("why it legitimately varies").
 *
 *	EXPECT_DELTAS(after, before, [CS_COW_COPIES] = IS(k),
 *		      [CS_COW_FAULTS] = IS(k), [CS_COPIED_BYTES] = IS(k * PG));
 *
 * EXPECT_ROW() is the same for a row's values since the row began (exited
 * rows): a counter not named must be 0.
 */
enum cs_want_kind { CS_SAME, CS_IS, CS_ANY };

struct cs_want {
	enum cs_want_kind kind;
	u64 v;
	const char *why;
};

struct cs_expect {
	struct cs_want c[CS_NR];
};

#define IS(n)		{ .kind = CS_IS, .v = (u64)(n) }
#define ANY(reason)	{ .kind = CS_ANY, .why = (reason) }

/*
 * A parent's counters of copy-on-write faults in a window with a fork in
 * it: whatever the parent writes after the fork (its stack, the workspace a
 * reading lands in, the fixture) is a page the child still shares, which it
 * copies, or one the child has already let go of, which it reuses.  Which,
 * depends on how far the child has got.
 */
#define AFTER_FORK \
	"the parent's own writes after the fork copy or reuse pages, depending on whether the child has exited"

/*
 * How many counters of after (minus before, if not NULL) are not as e
 * says; each of them is logged, with what, file and line.
 */
int expect_deltas(const struct cs_row *after, const struct cs_row *before,
		  const struct cs_expect *e, const char *what,
		  const char *file, int line);

#define EXPECT_DELTAS(after, before, ...)				\
	EXPECT_EQ(0, expect_deltas(&(after), &(before),		\
		  &(const struct cs_expect){ .c = { __VA_ARGS__ } },	\
		  #after " - " #before, __FILE__, __LINE__))

#define EXPECT_ROW(row, ...)						\
	EXPECT_EQ(0, expect_deltas(&(row), NULL,			\
		  &(const struct cs_expect){ .c = { __VA_ARGS__ } },	\
		  #row, __FILE__, __LINE__))

/*
 * A measuring window: quiesce(), read the rows (and summary), run the body,
 * read them again.  Nothing in between but the body:
 *
 *	struct measure m = { .ws = ws };
 *
 *	MEASURE(&m)
 *		write_units(...);
 *	ASSERT_MEASURED(&m);
 *	EXPECT_DELTAS(m.a, m.b, ...);
 *
 * The body must not break out of the window.
 */
struct measure {
	struct ws *ws;
	pid_t pid;		/* whose row: b and a (0: this process) */
	pid_t pid2;		/* if > 0, also this one's: b2 and a2 */
	bool summary;		/* also the summary, before the rows: sb, sa */
	int state;		/* 1: inside the window, 2: done */
	int err;		/* the first failed reading, -errno */
	const char *err_what;	/* ... of what */
	long err_pid;
	struct cs_row b, a, b2, a2;
	struct cs_summary sb, sa;
};

void measure_begin(struct measure *m);
void measure_end(struct measure *m);

#define MEASURE(m) for (measure_begin(m); (m)->state == 1; measure_end(m))

#define ASSERT_MEASURED(m) do {						\
	ASSERT_EQ(0, (m)->err) TH_LOG("reading %s of %ld: %s",		\
				      (m)->err_what, (m)->err_pid,	\
				      strerror(-(m)->err));		\
} while (0)

#define ASSERT_KID_OK(e, status) do {					\
	ASSERT_EQ(0, (e)->rep->line)					\
		TH_LOG("child failed its check at line %d",		\
		       (e)->rep->line);					\
	ASSERT_EQ(0, status)						\
		TH_LOG("child exit status 0x%x", status);		\
} while (0)

/*
 * The window of a fork from this process: child slot 0 starts on fn(j)
 * right after *anon is set to this process's anonymous pages, in the
 * window; after it, the child is reaped.  *pid is its PID (-1 if it did
 * not start); returns its wait status.
 */
int measure_fork(struct cow_env *e, struct measure *m, int (*fn)(void *),
		 struct job *j, pid_t *pid, long *anon);

#define ASSERT_FORK_MEASURED(e, m, pid, status, anon) do {		\
	ASSERT_LT(0, pid) TH_LOG("fork: %s", strerror(errno));		\
	ASSERT_KID_OK(e, status);					\
	ASSERT_MEASURED(m);						\
	ASSERT_LT(0, anon) TH_LOG("anon scan: %s", strerror(-(anon)));	\
} while (0)

/*
 * The parent's expectation of that window: one fork that shared the
 * anonymous pages counted, and only AFTER_FORK's faults besides.
 */
#define FORKED(shared)							\
	[CS_FORKS] = IS(1), [CS_FORK_SHARED] = IS(shared),		\
	[CS_COW_FAULTS] = ANY(AFTER_FORK),				\
	[CS_COW_COPIES] = ANY(AFTER_FORK),				\
	[CS_COW_REUSES] = ANY(AFTER_FORK),				\
	[CS_COPIED_BYTES] = ANY(AFTER_FORK)

/*
 * The fixture of a scenario file without variants: each test gets a fresh
 * cow_env.  Once per file, after kselftest_harness.h, with no semicolon.
 */
#define COW_FIXTURE()								FIXTURE(cowstat) {								struct cow_env e;						};									FIXTURE_SETUP(cowstat)							{										COW_ENV_SETUP(&self->e);					}									FIXTURE_TEARDOWN(cowstat)						{										COW_ENV_TEARDOWN(&self->e);					}

/* A stack for child slot; call before quiesce() and the anon scan. */
int kid_prepare(struct kidset *ks, int slot);
/* fresh_fork() fn(arg) as child slot; its PID or -1 (errno). */
pid_t kid_start(struct kidset *ks, int slot, int (*fn)(void *), void *arg);
/* kid_prepare() and kid_start() of slot 0: its PID, or -1 (errno). */
pid_t kid_run(struct kidset *ks, int (*fn)(void *), void *arg);
/* Reap child slot, free its stack; its wait status or -1. */
int kid_wait(struct kidset *ks, int slot);
/* One byte down the go pipe: releases one child waiting on it. */
void kid_release(struct kidset *ks);
void wait_byte(int fd);

/* An anonymous 4 KiB-page region, every page written (pattern seed + i). */
char *region_new(size_t npages, int seed);
/*
 * j->r = region_new(j->n, seed), and if pfns is not NULL its pagemap there,
 * which must show every page present, exclusive and with its PFN (root):
 * 0, or -errno.
 */
int job_region(struct job *j, int seed, u64 *pfns);
/* Write byte base ^ i at (first + i) * unit + off, for i < k. */
void write_units(char *r, size_t first, size_t k, size_t unit, size_t off,
		 unsigned char base);
/*
 * Compare r's pagemap (pm, n entries) with the parent's snapshot j->ppfn:
 * val[R_EXCL] pages exclusive, val[R_MOVED] pages whose PFN changed,
 * val[R_EXCL_MOVED_WRITTEN] how many of the 4 KiB pages holding a written
 * byte are both.
 */
void region_diff(const struct job *j, const u64 *pm, size_t n, long *val);

/*
 * Children (fresh_fork() functions, arg a struct job):
 * kid_write_measure: read own row, write the job's units, read own row
 * again (rep->before, rep->after), then compare the region through pagemap
 * (rep->val, region_diff()); waits on j->go if >= 0.
 * kid_hold: keep the region shared until released.
 * kid_exit: exit at once.
 * kid_write: write the job's units and exit.
 */
int kid_write_measure(void *arg);
int kid_hold(void *arg);
int kid_exit(void *arg);
int kid_write(void *arg);

#endif /* COW_TEST_H */
