// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat selftests of the module's interface: summary, the file headers,
 * and the control file (bad input refused, reset).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>

#include "kselftest_harness.h"
#include "cow_test.h"

/* comm of this program's process, as cowstat prints it */
#define COMM	"cow_control"

#define QUIET_TRIES 5

/* Own row; on failure the test cannot go on. */
#define READ_OWN(file, row) do {					\
	int __r = cs_read_row(self->e.ws, file, getpid(), row);	\
	ASSERT_EQ(0, __r) TH_LOG("reading %s: %s", file, strerror(-__r)); \
	ASSERT_TRUE((row)->found) TH_LOG("no row for pid %d in %s",	\
					 getpid(), file);		\
} while (0)

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

COW_FIXTURE()

TEST_F_TIMEOUT(cowstat, summary_and_headers, TMO)
{
	struct cs_summary s;
	struct cs_row me;
	struct utsname u;
	bool exact = false;
	u64 param;
	int k, err, missing;

	BAIL_IF_SKIPPED();
	ASSERT_EQ(0, cs_read_summary(self->e.ws, &s));
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

	/* The module parameters (0444, so always there) are what summary reports. */
	for (k = 0; k < 2; k++) {
		static const struct { const char *name; int key; } params[] = {
			{ "max_tracked", CS_MAX_TRACKED }, { "history", CS_HISTORY },
		};

		err = cs_param(params[k].name, &param);
		ASSERT_EQ(0, err) TH_LOG("%s: %s", params[k].name, strerror(-err));
		EXPECT_EQ(param, s.v[params[k].key]) TH_LOG("%s", params[k].name);
	}

	ASSERT_LE(0, cs_scan_rows(self->e.ws, "processes", find_row,
				  &(struct find_ctx){ .pid = 0, .out = &me },
				  &exact));
	EXPECT_TRUE(exact) TH_LOG("processes header is not '%s'", CS_HEADER);
	exact = false;
	ASSERT_LE(0, cs_scan_rows(self->e.ws, "exited", find_row,
				  &(struct find_ctx){ .pid = 0, .out = &me },
				  &exact));
	EXPECT_TRUE(exact) TH_LOG("exited header is not '%s'", CS_HEADER);

	READ_OWN("processes", &me);
	EXPECT_EQ(getppid(), me.ppid);
	EXPECT_STREQ(COMM, me.comm);
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
	struct measure m = { .ws = self->e.ws, .summary = true };
	long ret[NBAD];
	int accepted = 0, attempt;
	size_t i;

	BAIL_IF_SKIPPED();
	/*
	 * The summary totals also move with every other process on the
	 * machine: on a busy one, try again a few times for a quiet moment.
	 * A bad write that changes something changes it every time.
	 */
	for (attempt = 1; attempt <= QUIET_TRIES; attempt++) {
		MEASURE(&m)
			for (i = 0; i < NBAD; i++)
				ret[i] = cs_control(bad_input[i].buf,
						    bad_input[i].len);

		ASSERT_MEASURED(&m);
		for (i = 0; i < NBAD; i++) {
			if (ret[i] == -EINVAL)
				continue;
			accepted++;
			TH_LOG("bad input #%zu (%zu bytes) returned %ld, not -EINVAL",
			       i, bad_input[i].len, ret[i]);
		}
		if (!ndiff(m.sa.v, m.sb.v, CS_SUM_NR))
			break;
		if (attempt < QUIET_TRIES)
			TH_LOG("summary moved (attempt %d), trying again", attempt);
	}
	EXPECT_EQ(0, accepted);
	EXPECT_EQ(0, changed(_metadata, m.sa.v, m.sb.v, CS_SUM_NR, "summary"));
	/* own row: nothing at all */
	EXPECT_DELTAS(m.a, m.b);
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
	struct ws *ws = self->e.ws;
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
			  .rep = self->e.rep };
	ASSERT_EQ(0, job_region(&j, 12, NULL));
	ASSERT_EQ(0, kid_prepare(&self->e.ks, 0));
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
	EXPECT_EQ(0ULL, s.v[CS_POOL_EMPTY]);
	/* we did nothing since: our row is gone */
	EXPECT_FALSE(me_row.found);
	EXPECT_EQ(0, exited_rows);
	ASSERT_LE(0, cs_scan_rows(ws, "processes", check_alive, &alive,
				  NULL));
	EXPECT_EQ(0, alive.dead) TH_LOG("row of dead pid %ld", alive.dead_pid);

	/* the next fork creates our row again, and the child's */
	quiesce(ws);
	anon = anon_pages(ws, 0, ~0UL);
	pid = kid_start(&self->e.ks, 0, kid_write, &j);
	ASSERT_LT(0, pid);
	status = kid_wait(&self->e.ks, 0);
	ASSERT_EQ(0, status);
	ASSERT_LT(0, anon);
	READ_OWN("processes", &me_row);
	/* the row began with the fork: fork_inherited is for rows of children */
	EXPECT_ROW(me_row, FORKED(anon));
	ASSERT_EQ(0, cs_read_row(ws, "exited", pid, &c));
	ASSERT_TRUE(c.found);
	EXPECT_ROW(c, [CS_FORK_INHERITED] = IS(anon), [CS_COW_COPIES] = IS(k),
		   [CS_COW_FAULTS] = IS(k), [CS_COPIED_BYTES] = IS(k * PG));
	EXPECT_EQ(me, c.ppid);
	munmap(j.r, n * PG);
}

TEST_HARNESS_MAIN
