// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat selftests of its fixed pools run dry: a kretprobe out of
 * instances, and the pool of rows with no refill.  For the selftest build
 * loaded with selftest_maxactive=1 and selftest_pool_fixed=ROWS (see
 * pools_run_dry in run_vm_tests.sh); with any other load they skip.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "cow_test.h"

FIXTURE(pool) {
	struct ws *ws;
};

FIXTURE_SETUP(pool)
{
	self->ws = ws_new();
	ASSERT_NE(NULL, self->ws);
}

FIXTURE_TEARDOWN(pool)
{
	ws_free(self->ws);
}

struct line_match {
	const char *want;
	bool found;
};

static void line_is(char *line, void *arg)
{
	struct line_match *m = arg;

	if (!strncmp(line, m->want, strlen(m->want)))
		m->found = true;
}

/* Does a line of summary start with @want? */
static bool summary_has(struct ws *w, const char *want)
{
	struct line_match m = { .want = want };

	return !read_lines(w, COWSTAT_DIR "/summary", line_is, &m) && m.found;
}

#define FAULTERS	4

/* A thread that, once released, writes one byte to its page. */
struct faulter {
	pthread_t th;
	int go;
	char *page;
	char byte;
};

static void *faulter_run(void *arg)
{
	struct faulter *f = arg;
	char c;

	if (read(f->go, &c, 1) == 1)
		*(volatile char *)f->page = f->byte;
	return NULL;
}

/*
 * Read userfaultfd messages until @n page faults came, or 60 s passed
 * without one.  Returns how many came.
 */
static int uffd_wait_faults(int uffd, int n)
{
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };
	struct uffd_msg msg;
	int got = 0;

	while (got < n && poll(&pfd, 1, 60000) > 0) {
		if (read(uffd, &msg, sizeof(msg)) == sizeof(msg) &&
		    msg.event == UFFD_EVENT_PAGEFAULT)
			got++;
	}
	return got;
}

/*
 * A kretprobe with one instance, held by a fault that sleeps: FAULTERS
 * threads write to their own page of a private mapping of a memfd that a
 * userfaultfd watches for missing pages.  Each write is a do_fault() on
 * its way to do_cow_fault(), which the module's entry handler keeps, and
 * shmem_fault() puts it to sleep in handle_userfault() until this thread
 * fills the page.  So the first to enter holds the one instance until
 * then, and each of the others is a hit the module saw and could not
 * count: lost and the probes' nmissed grow by FAULTERS - 1, exactly.
 *
 * mlockall() first: every page the process has mapped is present, so no
 * fault of its own reaches do_fault() inside the window.  Filling a page
 * with UFFDIO_COPY installs it writable, so the retried write does not
 * fault again and nothing is copied: the COW counters stay put.
 */
TEST_F_TIMEOUT(pool, kretprobe_out_of_instances_counted_lost, TMO)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	static const int unchanged[] = { CS_COW_FAULTS, CS_COW_COPIES, CS_COW_FILE,
					 CS_COW_REUSES, CS_COPIED_BYTES };
	struct faulter f[FAULTERS];
	struct cs_summary s0, s1, s2;
	pthread_attr_t attr;
	int go[2], uffd, mfd, i, got;
	u64 maxactive;
	char *r, *src;

	if (cs_param("selftest_maxactive", &maxactive) || maxactive != 1)
		SKIP(return, "needs the selftest build loaded with selftest_maxactive=1");
	if (!summary_has(self->ws, "probe.do_fault: registered=yes"))
		SKIP(return, "do_fault() is not probed here: its stand-in finish_fault() never sleeps");
	uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		SKIP(return, "userfaultfd: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api)) TH_LOG("UFFDIO_API: %s", strerror(errno));
	mfd = memfd_create("cowstat_pool", MFD_CLOEXEC);
	ASSERT_LE(0, mfd) TH_LOG("memfd_create: %s", strerror(errno));
	ASSERT_EQ(0, ftruncate(mfd, FAULTERS * PG));
	src = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, src);
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pthread_attr_init(&attr));
	ASSERT_EQ(0, pthread_attr_setstacksize(&attr, 64 << 10));
	for (i = 0; i < FAULTERS; i++) {
		f[i].go = go[0];
		f[i].byte = (char)(0xa0 + i);
		ASSERT_EQ(0, pthread_create(&f[i].th, &attr, faulter_run, &f[i]));
	}
	ASSERT_EQ(0, mlockall(MCL_CURRENT)) TH_LOG("mlockall: %s", strerror(errno));
	/* mapped after mlockall(MCL_CURRENT): not populated */
	r = mmap(NULL, FAULTERS * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, mfd, 0);
	ASSERT_NE(MAP_FAILED, r);
	reg.range.start = (unsigned long)r;
	reg.range.len = FAULTERS * PG;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_REGISTER, &reg))
		TH_LOG("UFFDIO_REGISTER missing on a memfd: %s", strerror(errno));
	for (i = 0; i < FAULTERS; i++)
		f[i].page = r + i * PG;

	ASSERT_EQ(0, cs_read_summary(self->ws, &s0));
	ASSERT_EQ(FAULTERS, write(go[1], "gogogogo", FAULTERS));
	got = uffd_wait_faults(uffd, FAULTERS);
	/* all asleep in do_fault(), one of them with the instance */
	ASSERT_EQ(0, cs_read_summary(self->ws, &s1));
	ASSERT_EQ(FAULTERS, got) TH_LOG("only %d of %d writes reached userfaultfd", got, FAULTERS);
	for (i = 0; i < FAULTERS; i++) {
		struct uffdio_copy copy = {
			.dst = (unsigned long)f[i].page, .src = (unsigned long)src, .len = PG,
		};

		memset(src, i + 1, PG);
		ASSERT_EQ(0, ioctl(uffd, UFFDIO_COPY, &copy)) TH_LOG("UFFDIO_COPY: %s", strerror(errno));
		ASSERT_EQ(0, pthread_join(f[i].th, NULL));
	}
	ASSERT_EQ(0, cs_read_summary(self->ws, &s2));
	munlockall();

	TH_LOG("lost %llu -> %llu, nmissed %llu -> %llu with %d writers asleep in do_fault()",
	       s0.v[CS_LOST], s1.v[CS_LOST], s0.nmissed, s1.nmissed, FAULTERS);
	EXPECT_EQ(FAULTERS - 1, s1.v[CS_LOST] - s0.v[CS_LOST]);
	EXPECT_EQ(FAULTERS - 1, s1.nmissed - s0.nmissed);
	for (i = 0; i < (int)ARRAY_SIZE(unchanged); i++)
		EXPECT_EQ(s0.v[unchanged[i]], s2.v[unchanged[i]]) TH_LOG("%s", cs_names[unchanged[i]]);
	for (i = 0; i < FAULTERS; i++) {
		EXPECT_EQ((char)(0xa0 + i), f[i].page[0]);
		EXPECT_EQ((char)(i + 1), f[i].page[PG - 1]);
	}
	close(go[0]);
	close(go[1]);
	munmap(r, FAULTERS * PG);
	munmap(src, PG);
	close(mfd);
	close(uffd);
}

#define KIDS_MAX	512
#define KIDS_AFTER	16	/* forked once the pool is dry */

/* A child: wait until the parent closes its end of the pipe. */
static int kid_idle(const int go[2])
{
	char c;

	close(go[1]);
	return read(go[0], &c, 1) != 0;
}

struct kid_rows {
	long ppid;
	const pid_t *pid;
	int n;
	int rows;	/* of ppid's children */
	int listed;	/* of pid[0 .. n - 1] */
};

static void kid_row(const struct cs_row *row, void *arg)
{
	struct kid_rows *k = arg;
	int i;

	if (row->ppid != k->ppid)
		return;
	k->rows++;
	for (i = 0; i < k->n; i++)
		if (row->pid == k->pid[i])
			k->listed++;
}

/*
 * Between @a and @b, @forks forks found the pool empty.  Every other take
 * from the empty pool is the first event of a process older than the load
 * (a daemon of the VM, say), which is then counted in dropped_events, and
 * is retried at its next event: pool_empty grew by @forks plus at most the
 * growth of dropped_events.
 */
static bool empty_takes_add_up(const struct cs_summary *a, const struct cs_summary *b,
			       u64 forks)
{
	u64 empty = b->v[CS_POOL_EMPTY] - a->v[CS_POOL_EMPTY];
	u64 events = b->v[CS_DROPPED_EVENTS] - a->v[CS_DROPPED_EVENTS];

	return empty >= forks && empty - forks <= events;
}

/*
 * The pool of rows, ROWS filled at load and never refilled: fork children
 * one by one until a fork finds it empty (is dropped).  Then every row the
 * module made since load came from it (tracked + exited = ROWS, nothing
 * evicted), and all children but that last one have a row.  Each of
 * KIDS_AFTER more forks is one dropped and one pool_empty, and its child
 * gets no row.
 * When all are reaped, the rows of those that had one move to exited,
 * and no exit takes a row.
 */
TEST_F_TIMEOUT(pool, row_pool_dry_counts_every_fork, TMO)
{
	static pid_t kid[KIDS_MAX];
	struct cs_summary s0, s1, s2, s3;
	struct cs_row me0, me1;
	struct kid_rows k;
	int go[2], n1 = 0, n, i, status;
	u64 rows;
	pid_t pid;

	if (cs_param("selftest_pool_fixed", &rows) || !rows)
		SKIP(return, "needs the selftest build loaded with selftest_pool_fixed=ROWS");
	ASSERT_GT(KIDS_MAX - KIDS_AFTER, rows) TH_LOG("selftest_pool_fixed=%llu: too many", rows);
	ASSERT_EQ(0, pipe(go));

	ASSERT_EQ(0, cs_read_summary(self->ws, &s0));
	do {
		pid = fork();
		if (!pid)
			_exit(kid_idle(go));
		ASSERT_LT(0, pid);
		kid[n1++] = pid;
		ASSERT_EQ(0, cs_read_summary(self->ws, &s1));
	} while (s1.v[CS_DROPPED] == s0.v[CS_DROPPED] && n1 <= (int)rows);
	k = (struct kid_rows){ .ppid = getpid(), .pid = &kid[n1 - 1], .n = 1 };
	ASSERT_LE(0, cs_scan_rows(self->ws, "processes", kid_row, &k, NULL));
	TH_LOG("pool of %llu rows dry after %d forks: tracked %llu, exited %llu",
	       rows, n1, s1.v[CS_TRACKED], s1.v[CS_EXITED]);
	ASSERT_EQ(1, s1.v[CS_DROPPED] - s0.v[CS_DROPPED]) TH_LOG("refilled?");
	EXPECT_TRUE(empty_takes_add_up(&s0, &s1, 1));
	EXPECT_EQ(rows, s1.v[CS_TRACKED] + s1.v[CS_EXITED]);
	EXPECT_EQ(0, s1.v[CS_EVICTED]);
	EXPECT_EQ(n1 - 1, k.rows);
	EXPECT_EQ(0, k.listed) TH_LOG("the child whose fork found the pool empty has a row");

	ASSERT_EQ(0, cs_read_row(self->ws, "processes", getpid(), &me0));
	ASSERT_TRUE(me0.found);
	for (i = 0; i < KIDS_AFTER; i++) {
		pid = fork();
		if (!pid)
			_exit(kid_idle(go));
		ASSERT_LT(0, pid);
		kid[n1 + i] = pid;
	}
	n = n1 + KIDS_AFTER;
	ASSERT_EQ(0, cs_read_summary(self->ws, &s2));
	ASSERT_EQ(0, cs_read_row(self->ws, "processes", getpid(), &me1));
	k = (struct kid_rows){ .ppid = getpid(), .pid = &kid[n1], .n = KIDS_AFTER };
	ASSERT_LE(0, cs_scan_rows(self->ws, "processes", kid_row, &k, NULL));
	EXPECT_EQ(KIDS_AFTER, s2.v[CS_DROPPED] - s1.v[CS_DROPPED]);
	EXPECT_TRUE(empty_takes_add_up(&s1, &s2, KIDS_AFTER));
	EXPECT_EQ(s1.v[CS_TRACKED], s2.v[CS_TRACKED]);
	EXPECT_EQ(s1.v[CS_EXITED], s2.v[CS_EXITED]);
	EXPECT_EQ(KIDS_AFTER, me1.v[CS_FORKS] - me0.v[CS_FORKS]);
	EXPECT_EQ(n1 - 1, k.rows);
	EXPECT_EQ(0, k.listed);

	close(go[0]);
	close(go[1]);		/* the children read end of file and exit */
	for (i = 0; i < n; i++) {
		EXPECT_EQ(kid[i], waitpid(kid[i], &status, 0));
		EXPECT_EQ(0, status);
	}
	ASSERT_EQ(0, cs_read_summary(self->ws, &s3));
	/*
	 * The rows of the children that had one, and only theirs, moved to
	 * exited.  Told by pid, not by the totals: any other process forked
	 * since the load (a daemon's helper) may exit meanwhile as well.
	 */
	k = (struct kid_rows){ .ppid = getpid(), .pid = kid, .n = n };
	ASSERT_LE(0, cs_scan_rows(self->ws, "exited", kid_row, &k, NULL));
	EXPECT_EQ(n1 - 1, k.rows);
	EXPECT_EQ(n1 - 1, k.listed);
	k = (struct kid_rows){ .ppid = getpid(), .pid = kid, .n = n };
	ASSERT_LE(0, cs_scan_rows(self->ws, "processes", kid_row, &k, NULL));
	EXPECT_EQ(0, k.rows);
	/* every exit moved its row, none took one */
	EXPECT_LE(n1 - 1, s3.v[CS_EXITED] - s2.v[CS_EXITED]);
	EXPECT_EQ(s3.v[CS_EXITED] - s2.v[CS_EXITED], s2.v[CS_TRACKED] - s3.v[CS_TRACKED]);
	EXPECT_EQ(rows, s3.v[CS_TRACKED] + s3.v[CS_EXITED]);
}

TEST_HARNESS_MAIN
