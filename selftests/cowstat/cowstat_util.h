/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Measuring tools for the cowstat selftests.
 *
 * Everything here is written so that a process can read its own cowstat row
 * before and after a write pattern without adding copy-on-write events of
 * its own in between:
 *
 *  - no malloc and no stdio: files are read with open/read into a caller
 *    supplied, already written workspace ("struct ws") and parsed in place;
 *  - quiesce() makes every page the measuring code will write (workspace,
 *    stack below and above the current frame, TLS) private to the process
 *    before the first reading;
 *  - fresh_fork() starts a child on a stack nobody has touched, without any
 *    of glibc's fork bookkeeping, so the child writes no page it shares with
 *    its parent unless the test makes it do so.
 */
#ifndef COWSTAT_UTIL_H
#define COWSTAT_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <linux/kernel-page-flags.h>

typedef unsigned long long u64;

#ifndef noinline
#define noinline	__attribute__((noinline))
#endif
#ifndef __aligned
#define __aligned(x)	__attribute__((aligned(x)))
#endif

#define PG		4096UL
#define HPAGE_PMD	(2UL << 20)

#define COWSTAT_DIR	"/sys/kernel/debug/cowstat"

/* /proc/pid/pagemap entry bits, Documentation/admin-guide/mm/pagemap.rst */
#define PM_PFN_MASK	((1ULL << 55) - 1)
#define PM_SOFT_DIRTY	(1ULL << 55)
#define PM_EXCLUSIVE	(1ULL << 56)
#define PM_FILE		(1ULL << 61)
#define PM_SWAP		(1ULL << 62)
#define PM_PRESENT	(1ULL << 63)

#define KPF(bit)	(1ULL << (bit))

/* Per-process counters, in the order of the spec (not of the file). */
enum cs_counter {
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
	CS_NR,
	/* summary only */
	CS_TRACKED = CS_NR,
	CS_EXITED,
	CS_MAX_TRACKED,
	CS_HISTORY,
	CS_DROPPED,
	CS_DROPPED_EVENTS,
	CS_EVICTED,
	CS_SUM_NR,
};

static const char *const cs_names[CS_SUM_NR] = {
	"forks", "fork_shared", "fork_inherited", "cow_faults", "cow_copies",
	"cow_zero", "cow_file", "cow_reuses", "cow_thp", "cow_hugetlb",
	"copied_bytes",
	"tracked", "exited", "max_tracked", "history", "dropped",
	"dropped_events", "evicted",
};

/* The exact header line of processes and exited. */
#define CS_HEADER "pid ppid comm forks fork_shared fork_inherited cow_faults " \
	"cow_copies cow_zero cow_file cow_reuses cow_thp cow_hugetlb copied_bytes"

struct cs_row {
	bool found;
	int index;		/* 0-based data row number in the file */
	long pid;
	long ppid;
	char comm[72];		/* as printed, i.e. still \ooo-escaped */
	u64 v[CS_NR];
};

struct cs_summary {
	bool found[CS_SUM_NR];
	u64 v[CS_SUM_NR];
	char version[64];
	char kernel[128];
	int probes;		/* probe.* lines */
	int probes_required;	/* ... with required=yes */
	int probes_missing;	/* ... with required=yes and registered=no */
	u64 nmissed;		/* sum over all probes */
	int bad_lines;		/* lines that are not "key: value" */
};

#define WS_IO		(64 << 10)
#define WS_MAPS		(256 << 10)
#define WS_PM		8192
#define WS_PFNS		4096
#define WS_CSTACK	(64 << 10)

struct job;

/*
 * Workspace: every buffer the measuring code writes.  Allocated with mmap so
 * that a child can get a brand-new one (first touch = fresh zero-filled
 * pages, no copy-on-write) and the parent can make its own private again by
 * touching it (quiesce()).
 */
struct ws {
	char io[WS_IO];			/* streaming reads of debugfs and proc */
	char maps[WS_MAPS];		/* /proc/self/maps for anon_pages() */
	u64 pm[WS_PM];			/* pagemap batch */
	u64 kpf[WS_PM];			/* kpageflags batch */
	u64 ppfn[WS_PFNS];		/* a region's pagemap, kept across fork */
	char cstack[WS_CSTACK] __aligned(16);
	char small[4096];		/* pipe bytes, scratch */
	char ext[16384];		/* per-test shared state (threads) */
	struct cs_row scratch;
};

/*
 * Highest address of the main thread's stack that code may be using
 * (glibc's __libc_stack_end, set by main's caller); quiesce() touches the
 * stack from the current frame up to here.
 */
extern void *__libc_stack_end;

/*
 * A system call that leaves errno alone: returns its result or -errno.  For
 * calls that are expected to fail in a fresh_fork() child: errno lives in a
 * TLS page shared with the parent, so setting it would copy that page.
 */
static inline long raw_syscall3(long nr, long a, long b, long c)
{
	long ret;

	asm volatile ("syscall"
		      : "=a" (ret)
		      : "a" (nr), "D" (a), "S" (b), "d" (c)
		      : "rcx", "r11", "memory");
	return ret;
}

#define THP_SYSFS	"/sys/kernel/mm/transparent_hugepage"

/*
 * Whether the kernel has transparent huge pages (CONFIG_TRANSPARENT_HUGEPAGE,
 * which Debian's PREEMPT_RT kernels lack): 1 yes, 0 no (THP_SYSFS is missing
 * while /sys/kernel/mm, which every kernel has, is there), -1 cannot tell
 * (errno set).  errno is left alone unless it returns -1.
 */
static inline int thp_present(void)
{
	long ret = raw_syscall3(SYS_access, (long)THP_SYSFS, F_OK, 0);

	if (!ret)
		return 1;
	if (ret == -ENOENT)
		ret = raw_syscall3(SYS_access, (long)"/sys/kernel/mm", F_OK, 0);
	if (!ret)
		return 0;
	errno = -ret;
	return -1;
}

/*
 * MADV_NOHUGEPAGE: keep [p, p + len) in 4 KiB pages, so that every count is
 * per base page.  A kernel without THP refuses the advice (EINVAL) and has
 * nothing but 4 KiB pages there anyway.  Returns 0, errno untouched, or -1
 * with errno set.
 */
static inline int keep_4k_pages(void *p, size_t len)
{
	long ret = raw_syscall3(SYS_madvise, (long)p, len, MADV_NOHUGEPAGE);

	if (!ret || (ret == -EINVAL && thp_present() == 0))
		return 0;
	errno = -ret;
	return -1;
}

static inline struct ws *ws_new(void)
{
	struct ws *w = mmap(NULL, sizeof(*w), PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (w == MAP_FAILED)
		return NULL;
	if (keep_4k_pages(w, sizeof(*w))) {
		munmap(w, sizeof(*w));
		return NULL;
	}
	memset(w, 0, sizeof(*w));
	return w;
}

static inline void ws_free(struct ws *w)
{
	if (w)
		munmap(w, sizeof(*w));
}

/* Write every page of [p, p + len) with the byte already there. */
static inline void touch_range(void *p, size_t len)
{
	volatile char *c = (volatile char *)((unsigned long)p & ~(PG - 1));
	volatile char *end = (volatile char *)p + len;

	for (; c < end; c += PG)
		*c = *c;
}

#define STACK_TOUCH	(128 << 10)

static noinline void touch_stack_below(void)
{
	char buf[STACK_TOUCH];

	memset(buf, 0x5a, sizeof(buf));
	/* Keep the memset: it only exists for its page faults. */
	asm volatile("" : : "r"(buf) : "memory");
}

static noinline void touch_stack_above(void)
{
	char *here = __builtin_frame_address(0);

	/*
	 * The frames of our callers (test body, harness, main) are written
	 * too, e.g. locals spilled by the compiler.  Rewriting a byte with its
	 * own value is harmless on this thread's own stack.
	 */
	touch_range(here, (char *)__libc_stack_end - here);
}

static inline int pagemap_region(const void *addr, size_t npages, u64 *out);

/*
 * Lines of a file, streamed through w->io: fn gets each line without its
 * newline, NUL-terminated and modifiable.  Returns 0 or -errno.
 */
typedef void (*line_fn)(char *line, void *ctx);

static inline int read_lines(struct ws *w, const char *path, line_fn fn,
			     void *ctx)
{
	size_t have = 0;
	bool eof = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (!eof) {
		ssize_t n = read(fd, w->io + have, WS_IO - 1 - have);
		char *p = w->io, *end, *nl;

		if (n < 0) {
			int e = errno;

			close(fd);
			return -e;
		}
		eof = n == 0;
		have += n;
		end = w->io + have;
		while ((nl = memchr(p, '\n', end - p))) {
			*nl = '\0';
			fn(p, ctx);
			p = nl + 1;
		}
		if (eof && p < end) {
			*end = '\0';
			fn(p, ctx);
			p = end;
		}
		have = end - p;
		if (have >= WS_IO - 1) {	/* one line fills the buffer */
			close(fd);
			return -E2BIG;
		}
		memmove(w->io, p, have);
	}
	close(fd);
	return 0;
}

static inline bool parse_u64(const char *s, u64 *v)
{
	u64 x = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		x = x * 10 + (*s - '0');
	}
	*v = x;
	return true;
}

static inline bool parse_hex(const char **s, unsigned long *v)
{
	unsigned long x = 0;
	const char *p = *s;

	for (;; p++) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else
			break;
		x = x * 16 + d;
	}
	if (p == *s)
		return false;
	*s = p;
	*v = x;
	return true;
}

/* Split a line into whitespace-separated fields in place. */
static inline int split_fields(char *line, char **f, int max)
{
	int n = 0;

	while (*line && n < max) {
		while (*line == ' ' || *line == '\t')
			*line++ = '\0';
		if (!*line)
			break;
		f[n++] = line;
		while (*line && *line != ' ' && *line != '\t')
			line++;
	}
	return n;
}

/* processes / exited */

enum { COL_PID = CS_NR, COL_PPID, COL_COMM, COL_NR };

typedef void (*row_fn)(const struct cs_row *row, void *ctx);

struct rows_ctx {
	int lines;
	int col[COL_NR];
	int ncols;
	bool bad_header;
	int bad_rows;
	bool header_exact;
	row_fn fn;
	void *fn_ctx;
	struct cs_row row;
};

static inline void rows_line(char *line, void *arg)
{
	struct rows_ctx *c = arg;
	char *f[40];
	int i, k, n;

	if (c->lines++ == 0) {
		c->header_exact = !strcmp(line, CS_HEADER);
		n = split_fields(line, f, 40);
		c->ncols = n;
		for (k = 0; k < COL_NR; k++)
			c->col[k] = -1;
		for (i = 0; i < n; i++) {
			for (k = 0; k < CS_NR; k++)
				if (!strcmp(f[i], cs_names[k]))
					c->col[k] = i;
			if (!strcmp(f[i], "pid"))
				c->col[COL_PID] = i;
			else if (!strcmp(f[i], "ppid"))
				c->col[COL_PPID] = i;
			else if (!strcmp(f[i], "comm"))
				c->col[COL_COMM] = i;
		}
		for (k = 0; k < COL_NR; k++)
			if (c->col[k] < 0)
				c->bad_header = true;
		return;
	}
	if (c->bad_header || !*line)
		return;
	n = split_fields(line, f, 40);
	if (n != c->ncols) {
		c->bad_rows++;
		return;
	}
	memset(&c->row, 0, sizeof(c->row));
	c->row.found = true;
	c->row.index = c->lines - 2;
	for (k = 0; k < CS_NR; k++)
		if (!parse_u64(f[c->col[k]], &c->row.v[k]))
			c->bad_rows++;
	{
		u64 pid, ppid;

		if (!parse_u64(f[c->col[COL_PID]], &pid) ||
		    !parse_u64(f[c->col[COL_PPID]], &ppid)) {
			c->bad_rows++;
			return;
		}
		c->row.pid = pid;
		c->row.ppid = ppid;
	}
	strncpy(c->row.comm, f[c->col[COL_COMM]], sizeof(c->row.comm) - 1);
	c->fn(&c->row, c->fn_ctx);
}

/*
 * Call fn for each data row of COWSTAT_DIR/<file>.  Returns the number of
 * data rows, or -errno (-EPROTO: header or a row not as specified).
 */
static inline int cs_scan_rows(struct ws *w, const char *file, row_fn fn,
			       void *ctx, bool *header_exact)
{
	char path[128] = COWSTAT_DIR "/";
	struct rows_ctx c;
	int ret;

	strncat(path, file, sizeof(path) - strlen(path) - 1);
	memset(&c, 0, sizeof(c));
	c.fn = fn;
	c.fn_ctx = ctx;
	ret = read_lines(w, path, rows_line, &c);
	if (ret)
		return ret;
	if (header_exact)
		*header_exact = c.header_exact;
	if (c.lines == 0 || c.bad_header || c.bad_rows)
		return -EPROTO;
	return c.lines - 1;
}

struct find_ctx {
	long pid;
	struct cs_row *out;
	int matches;
};

static inline void find_row(const struct cs_row *row, void *arg)
{
	struct find_ctx *c = arg;

	if (row->pid != c->pid)
		return;
	*c->out = *row;		/* the last one wins (exited: PID reuse) */
	c->matches++;
}

/*
 * Read pid's row from "processes" or "exited" (last row with that pid).
 * row->found tells whether there was one.  Returns 0 or -errno.
 */
static inline int cs_read_row(struct ws *w, const char *file, long pid,
			      struct cs_row *row)
{
	struct find_ctx c = { .pid = pid, .out = row };
	int ret;

	memset(row, 0, sizeof(*row));
	ret = cs_scan_rows(w, file, find_row, &c, NULL);
	return ret < 0 ? ret : 0;
}

static inline void summary_line(char *line, void *arg)
{
	struct cs_summary *s = arg;
	char *val = strstr(line, ": ");
	int k;

	if (!val) {
		if (*line)
			s->bad_lines++;
		return;
	}
	*val = '\0';
	val += 2;
	if (!strcmp(line, "version")) {
		strncpy(s->version, val, sizeof(s->version) - 1);
		return;
	}
	if (!strcmp(line, "kernel")) {
		strncpy(s->kernel, val, sizeof(s->kernel) - 1);
		return;
	}
	if (!strncmp(line, "probe.", 6)) {
		const char *m = strstr(val, "nmissed=");
		u64 n;
		char *f[8];
		int i, nf = split_fields(val, f, 8);
		bool reg = false, req = false;

		s->probes++;
		for (i = 0; i < nf; i++) {
			if (!strcmp(f[i], "registered=yes"))
				reg = true;
			else if (!strcmp(f[i], "required=yes"))
				req = true;
			else if (!strncmp(f[i], "nmissed=", 8) &&
				 parse_u64(f[i] + 8, &n))
				s->nmissed += n;
		}
		if (!m)
			s->bad_lines++;
		if (req) {
			s->probes_required++;
			if (!reg)
				s->probes_missing++;
		}
		return;
	}
	for (k = 0; k < CS_SUM_NR; k++) {
		if (strcmp(line, cs_names[k]))
			continue;
		if (parse_u64(val, &s->v[k]))
			s->found[k] = true;
		else
			s->bad_lines++;
		return;
	}
}

static inline int cs_read_summary(struct ws *w, struct cs_summary *s)
{
	memset(s, 0, sizeof(*s));
	return read_lines(w, COWSTAT_DIR "/summary", summary_line, s);
}

/* Write buf to the control file; returns bytes written or -errno. */
static inline long cs_control(const void *buf, size_t len)
{
	int fd = open(COWSTAT_DIR "/control", O_WRONLY | O_CLOEXEC);
	long ret;

	if (fd < 0)
		return -errno;
	ret = write(fd, buf, len);
	if (ret < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* pagemap and kpageflags */

static inline int pread_all(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done,
				  off + done);

		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENODATA;
		done += n;
	}
	return 0;
}

/* Process pid's pagemap entries of npages pages at addr (0: this one). */
static inline int pagemap_region_of(long pid, const void *addr, size_t npages,
				    u64 *out)
{
	/* no stdio: fresh_fork() children call this too */
	char path[32] = "/proc/self/pagemap", digits[20];
	int fd, ret, nd = 0, at = 6;

	if (pid > 0) {
		for (; pid; pid /= 10)
			digits[nd++] = '0' + pid % 10;
		while (nd)
			path[at++] = digits[--nd];
		memcpy(path + at, "/pagemap", sizeof("/pagemap"));
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = pread_all(fd, out, npages * sizeof(u64),
			(unsigned long)addr / PG * sizeof(u64));
	close(fd);
	return ret;
}

/* This process's pagemap entries of npages pages at addr. */
static inline int pagemap_region(const void *addr, size_t npages, u64 *out)
{
	return pagemap_region_of(0, addr, npages, out);
}

static inline int kpageflags_get(u64 pfn, size_t n, u64 *out)
{
	int fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = pread_all(fd, out, n * sizeof(u64), pfn * sizeof(u64));
	close(fd);
	return ret;
}

struct maps_ctx {
	size_t len;
};

/*
 * Count the anonymous base pages this process maps in [lo, hi), the way the
 * kernel's MM_ANONPAGES counts them: every present PTE (or 4 KiB part of a
 * PMD-mapped THP) whose page is anonymous (KPF_ANON, KSM included), but not
 * the zero page and not hugetlb pages (KPF_HUGE), which have counters of
 * their own.  Anything mapped by pagemap is read, no page is touched, and
 * all buffers are in w, so nothing is faulted in: the count stays valid up
 * to a fork that follows immediately.
 *
 * The exclusive bit of pagemap cannot be used for this: the test process
 * itself shares its pages with the harness process that forked it.
 *
 * Returns the count or -errno (-EPERM: PFNs hidden, i.e. not root).
 */
static inline long anon_pages(struct ws *w, unsigned long lo, unsigned long hi)
{
	int fd, pm = -1, kpf = -1;
	size_t len = 0;
	long count = 0, ret = 0;
	const char *p;

	fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, w->maps + len, WS_MAPS - 1 - len);

		if (n < 0) {
			ret = -errno;
			close(fd);
			return ret;
		}
		if (n == 0)
			break;
		len += n;
		if (len >= WS_MAPS - 1) {
			close(fd);
			return -E2BIG;
		}
	}
	close(fd);
	w->maps[len] = '\0';

	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	kpf = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (pm < 0 || kpf < 0) {
		ret = -errno;
		goto out;
	}

	for (p = w->maps; *p; ) {
		unsigned long start, end, a;

		if (!parse_hex(&p, &start) || *p++ != '-' ||
		    !parse_hex(&p, &end)) {
			ret = -EPROTO;
			goto out;
		}
		p = strchr(p, '\n');
		p = p ? p + 1 : w->maps + len;

		/* [vsyscall] is above TASK_SIZE, pagemap has nothing there */
		if (start >= (1UL << 47))
			continue;
		if (start < lo)
			start = lo;
		if (end > hi)
			end = hi;
		for (a = start; a < end; ) {
			size_t n = (end - a) / PG, i, j, k;

			if (n > WS_PM)
				n = WS_PM;
			ret = pread_all(pm, w->pm, n * sizeof(u64),
					a / PG * sizeof(u64));
			if (ret)
				goto out;
			for (i = 0; i < n; i = j) {
				u64 pfn = w->pm[i] & PM_PFN_MASK;

				j = i + 1;
				if (!(w->pm[i] & PM_PRESENT))
					continue;
				if (!pfn) {
					ret = -EPERM;
					goto out;
				}
				/* one kpageflags read per run of PFNs */
				while (j < n && (w->pm[j] & PM_PRESENT) &&
				       (w->pm[j] & PM_PFN_MASK) == pfn + (j - i))
					j++;
				ret = pread_all(kpf, w->kpf,
						(j - i) * sizeof(u64),
						pfn * sizeof(u64));
				if (ret)
					goto out;
				for (k = 0; k < j - i; k++) {
					u64 fl = w->kpf[k];

					if ((fl & KPF(KPF_ANON)) &&
					    !(fl & KPF(KPF_HUGE)) &&
					    !(fl & KPF(KPF_ZERO_PAGE)))
						count++;
				}
			}
			a += n * PG;
		}
	}
	ret = count;
out:
	if (pm >= 0)
		close(pm);
	if (kpf >= 0)
		close(kpf);
	return ret;
}

/*
 * Make every page the measuring code of this process will write private to
 * it, so that a reading taken afterwards is not followed by copy-on-write
 * faults of the test's own making: the workspace, the stack 128 KiB below
 * and all of it above the caller, errno's TLS page, and everything a
 * debugfs read touches (by doing one).
 */
static inline void quiesce(struct ws *w)
{
	touch_range(w, sizeof(*w));
	touch_stack_below();
	touch_stack_above();
	errno = 0;
	cs_read_row(w, "processes", getpid(), &w->scratch);
}

/*
 * fresh_fork(stack_top, fn, arg): fork(2) by a raw clone(SIGCHLD) whose child
 * starts on stack_top, calls fn(arg) and exits with its return value.
 *
 * Why not fork(): glibc's fork runs atfork handlers and resets locks in the
 * child, and the kernel writes the child's TID into the (shared) TCB for
 * CLONE_CHILD_SETTID and again at exit for CLONE_CHILD_CLEARTID.  Each of
 * those writes is a real copy-on-write copy counted in the child's row,
 * and every function call of a child running on the parent's stack copies
 * a stack page.  Here the child writes nothing shared unless fn does; its
 * stack pages are new (do_anonymous_page).  stack_top must lie in a mapping
 * the parent never touched, 16-byte aligned.
 *
 * The child has glibc's view of the parent's thread (cached TID), so fn must
 * stick to plain system call wrappers: no pthread, no raise/abort, no stdio.
 *
 * Returns the child's PID, or -1 with errno set.
 */
long fresh_fork_raw(void *stack_top, int (*fn)(void *), void *arg);
asm(
"	.text\n"
"	.p2align 4\n"
"	.type	fresh_fork_raw, @function\n"
"fresh_fork_raw:\n"
"	endbr64\n"
"	movq	%rsi, %r9\n"		/* fn: r9 survives the system call */
"	movq	%rdi, %rsi\n"		/* newsp */
"	movl	$17, %edi\n"		/* flags = SIGCHLD */
"	xorl	%r10d, %r10d\n"		/* child_tid (unused) */
"	xorl	%r8d, %r8d\n"		/* tls (unused) */
"	movl	$56, %eax\n"		/* __NR_clone; arg stays in rdx */
"	syscall\n"
"	testq	%rax, %rax\n"
"	jnz	1f\n"
"	xorl	%ebp, %ebp\n"		/* child, on the new stack */
"	movq	%rdx, %rdi\n"
"	call	*%r9\n"
"	movl	%eax, %edi\n"
"	movl	$231, %eax\n"		/* __NR_exit_group */
"	syscall\n"
"	hlt\n"
"1:	ret\n"
"	.size	fresh_fork_raw, .-fresh_fork_raw\n"
);

static inline pid_t fresh_fork(void *stack_top, int (*fn)(void *), void *arg)
{
	long ret = fresh_fork_raw(stack_top, fn, arg);

	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

#define KID_STACK	(256 << 10)

/* A stack for fresh_fork(): mapped, never touched by the caller. */
static inline void *kid_stack_new(void)
{
	void *s = mmap(NULL, KID_STACK, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (s == MAP_FAILED)
		return NULL;
	if (keep_4k_pages(s, KID_STACK)) {
		munmap(s, KID_STACK);
		return NULL;
	}
	return s;
}

static inline void *kid_stack_top(void *s)
{
	return (char *)s + KID_STACK;
}

#endif /* COWSTAT_UTIL_H */
