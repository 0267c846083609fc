// SPDX-License-Identifier: GPL-2.0
/*
 * What the cowstat test programs share: fixture resources, fresh_fork()
 * children, the measuring window, row expectations, and the start-up that
 * keeps glibc and the scheduler from adding copy-on-write events.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/rseq.h>
#include <sys/wait.h>

#include "cow_test.h"

/* summary's lost and swept, which every test asserts unchanged, into v. */
static int cow_env_unseen(struct cow_env *e, u64 *v)
{
	struct cs_summary s;
	int ret = cs_read_summary(e->ws, &s);

	if (ret)
		return ret;
	if (!s.found[CS_LOST] || !s.found[CS_SWEPT])
		return -EPROTO;
	memcpy(v, s.v, sizeof(s.v));
	return 0;
}

long long cow_env_grew(struct cow_env *e, enum cs_counter key)
{
	u64 now[CS_SUM_NR];

	if (!e->ws || cow_env_unseen(e, now))
		return -1;
	return now[key] - e->at_setup[key];
}

int cow_env_setup(struct cow_env *e, const char **why)
{
	struct cs_row me;
	int ret;

	/* before anything can fail: the teardown closes what is >= 0 */
	e->ks.go[0] = e->ks.go[1] = -1;
	if (access(COWSTAT_DIR, F_OK)) {
		e->skip = true;
		return 1;
	}
	*why = "workspace";
	e->ws = ws_new();
	if (!e->ws)
		return -errno;
	*why = "shared report page";
	e->rep = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (e->rep == MAP_FAILED) {
		e->rep = NULL;
		return -errno;
	}
	*why = "pipe";
	if (pipe(e->ks.go))
		return -errno;
	*why = "reading summary";
	ret = cow_env_unseen(e, e->at_setup);
	if (ret)
		return ret;
	/* The harness forked us with the module loaded: we have a row. */
	*why = "reading processes";
	ret = cs_read_row(e->ws, "processes", getpid(), &me);
	if (ret)
		return ret;
	*why = "no row for the test process";
	return me.found ? 0 : -ESRCH;
}

void cow_env_teardown(struct cow_env *e)
{
	int i;

	for (i = 0; i < NKIDS; i++) {
		if (e->ks.pid[i] > 0) {
			kill(e->ks.pid[i], SIGKILL);
			waitpid(e->ks.pid[i], NULL, 0);
		}
		if (e->ks.stack[i])
			munmap(e->ks.stack[i], KID_STACK);
	}
	if (e->gstack)
		munmap(e->gstack, KID_STACK);
	if (e->ks.go[0] >= 0) {
		close(e->ks.go[0]);
		close(e->ks.go[1]);
	}
	if (e->rep)
		munmap(e->rep, PG);
	ws_free(e->ws);
}

int expect_deltas(const struct cs_row *after, const struct cs_row *before,
		  const struct cs_expect *e, const char *what,
		  const char *file, int line)
{
	int k, bad = 0;
	u64 d;

	for (k = 0; k < CS_NR; k++) {
		const struct cs_want *w = &e->c[k];

		d = after->v[k] - (before ? before->v[k] : 0);
		if (w->kind == CS_ANY)
			continue;
		if (d == (w->kind == CS_IS ? w->v : 0))
			continue;
		bad++;
		fprintf(stderr, "# %s:%d: %s: %s %s %llu, expected %llu%s\n",
			file, line, what, cs_names[k],
			before ? "changed by" : "is", d,
			w->kind == CS_IS ? w->v : 0,
			w->kind == CS_IS ? "" : " (not named: unchanged)");
	}
	if (!bad)
		return 0;
	/* the whole picture, the counters left open included */
	for (k = 0; k < CS_NR; k++) {
		if (e->c[k].kind != CS_ANY)
			continue;
		d = after->v[k] - (before ? before->v[k] : 0);
		fprintf(stderr, "# %s:%d: %s: %s %llu (any: %s)\n", file, line,
			what, cs_names[k], d, e->c[k].why);
	}
	return bad;
}

static void measure_read(struct measure *m, long pid, struct cs_row *row,
			 const char *what)
{
	int ret = cs_read_row(m->ws, "processes", pid, row);

	if (!ret && !row->found)
		ret = -ESRCH;
	if (ret && !m->err) {
		m->err = ret;
		m->err_what = what;
		m->err_pid = pid;
	}
}

static void measure_summary(struct measure *m, struct cs_summary *s)
{
	int ret = cs_read_summary(m->ws, s);

	if (ret && !m->err) {
		m->err = ret;
		m->err_what = "summary";
		m->err_pid = 0;
	}
}

void measure_begin(struct measure *m)
{
	if (!m->pid)
		m->pid = getpid();
	m->err = 0;
	quiesce(m->ws);
	if (m->summary)
		measure_summary(m, &m->sb);
	measure_read(m, m->pid, &m->b, "the row before");
	if (m->pid2 > 0)
		measure_read(m, m->pid2, &m->b2, "the second row before");
	m->state = 1;
}

void measure_end(struct measure *m)
{
	if (m->summary)
		measure_summary(m, &m->sa);
	measure_read(m, m->pid, &m->a, "the row after");
	if (m->pid2 > 0)
		measure_read(m, m->pid2, &m->a2, "the second row after");
	m->state = 2;
}

int kid_prepare(struct kidset *ks, int slot)
{
	ks->stack[slot] = kid_stack_new();
	return ks->stack[slot] ? 0 : -1;
}

pid_t kid_start(struct kidset *ks, int slot, int (*fn)(void *), void *arg)
{
	pid_t pid = fresh_fork(kid_stack_top(ks->stack[slot]), fn, arg);

	ks->pid[slot] = pid;
	return pid;
}

pid_t kid_run(struct kidset *ks, int (*fn)(void *), void *arg)
{
	if (kid_prepare(ks, 0))
		return -1;
	return kid_start(ks, 0, fn, arg);
}

int measure_fork(struct cow_env *e, struct measure *m, int (*fn)(void *),
		 struct job *j, pid_t *pid, long *anon)
{
	*pid = -1;
	*anon = 0;
	if (kid_prepare(&e->ks, 0))
		return -1;
	MEASURE(m) {
		*anon = anon_pages(m->ws, 0, ~0UL);
		*pid = kid_start(&e->ks, 0, fn, j);
	}
	return *pid > 0 ? kid_wait(&e->ks, 0) : -1;
}

int kid_wait(struct kidset *ks, int slot)
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

void kid_release(struct kidset *ks)
{
	ssize_t n = write(ks->go[1], "g", 1);

	(void)n;
}

void wait_byte(int fd)
{
	char c;
	ssize_t n = read(fd, &c, 1);

	(void)n;
}

char *region_new(size_t npages, int seed)
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

int job_region(struct job *j, int seed, u64 *pfns)
{
	size_t i;
	int ret;

	j->r = region_new(j->n, seed);
	if (!j->r)
		return -errno;
	if (!pfns)
		return 0;
	ret = pagemap_region(j->r, j->n, pfns);
	if (ret)
		return ret;
	/* present and, as we touched them first, mapped only here */
	for (i = 0; i < j->n; i++)
		if (!(pfns[i] & PM_PRESENT) || !(pfns[i] & PM_EXCLUSIVE) ||
		    !(pfns[i] & PM_PFN_MASK))
			return -EPROTO;
	return 0;
}

void write_units(char *r, size_t first, size_t k, size_t unit, size_t off,
		 unsigned char base)
{
	size_t i;

	for (i = 0; i < k; i++)
		((volatile char *)r)[(first + i) * unit + off] = base ^ i;
}

void region_diff(const struct job *j, const u64 *pm, size_t n, long *val)
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

/*
 * Runs on a fresh stack with a fresh workspace, so its only copy-on-write
 * faults are the job's writes.
 */
int kid_write_measure(void *arg)
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

int kid_hold(void *arg)
{
	const struct job *j = arg;

	wait_byte(j->go);
	return 0;
}

int kid_exit(void *arg)
{
	(void)arg;
	return 0;
}

int kid_write(void *arg)
{
	const struct job *j = arg;

	write_units(j->r, j->first, j->k, PG, 0, 0x61);
	return 0;
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
