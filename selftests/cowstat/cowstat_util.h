/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Measuring tools for the cowstat selftests: declarations (code in
 * cowstat_util.c, the system call stubs in cowstat_raw.S).
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

#include <stdbool.h>
#include <stddef.h>
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
#define THP_SYSFS	"/sys/kernel/mm/transparent_hugepage"

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
	CS_POOL_EMPTY,
	CS_LOST,
	CS_SWEPT,
	CS_SUM_NR,
};

/* The names in processes, exited and summary, indexed by enum cs_counter. */
extern const char *const cs_names[CS_SUM_NR];

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
 * A system call that leaves errno alone: returns its result or -errno.  For
 * calls that are expected to fail in a fresh_fork() child: errno lives in a
 * TLS page shared with the parent, so setting it would copy that page.
 * (cowstat_raw.S)
 */
long raw_syscall3(long nr, long a, long b, long c);

/*
 * fresh_fork_raw(stack_top, fn, arg): fork(2) by a raw clone(SIGCHLD) whose
 * child starts on stack_top, calls fn(arg) and exits with its return value.
 * Returns the child's PID to the parent, or -errno (cowstat_raw.S).
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
 */
long fresh_fork_raw(void *stack_top, int (*fn)(void *), void *arg);

/* fresh_fork_raw(), returning the PID or -1 with errno set. */
pid_t fresh_fork(void *stack_top, int (*fn)(void *), void *arg);

#define KID_STACK	(256 << 10)

/* A stack for fresh_fork(): mapped, never touched by the caller. */
void *kid_stack_new(void);
void *kid_stack_top(void *stack);

/*
 * Whether the kernel has transparent huge pages (CONFIG_TRANSPARENT_HUGEPAGE,
 * which Debian's PREEMPT_RT kernels lack): 1 yes, 0 no (THP_SYSFS is missing
 * while /sys/kernel/mm, which every kernel has, is there), -1 cannot tell
 * (errno set).  errno is left alone unless it returns -1.
 */
int thp_present(void);

/*
 * MADV_NOHUGEPAGE: keep [p, p + len) in 4 KiB pages, so that every count is
 * per base page.  A kernel without THP refuses the advice (EINVAL) and has
 * nothing but 4 KiB pages there anyway.  Returns 0, errno untouched, or -1
 * with errno set.
 */
int keep_4k_pages(void *p, size_t len);

/* A new workspace, every page written, in 4 KiB pages; NULL on failure. */
struct ws *ws_new(void);
void ws_free(struct ws *w);

/* Write every page of [p, p + len) with the byte already there. */
void touch_range(void *p, size_t len);

/*
 * Make every page the measuring code of this process will write private to
 * it, so that a reading taken afterwards is not followed by copy-on-write
 * faults of the test's own making: the workspace, the stack 128 KiB below
 * and all of it above the caller, errno's TLS page, and everything a
 * debugfs read touches (by doing one).
 */
void quiesce(struct ws *w);

/*
 * Lines of a file, streamed through w->io: fn gets each line without its
 * newline, NUL-terminated and modifiable.  Returns 0 or -errno.
 */
typedef void (*line_fn)(char *line, void *ctx);
int read_lines(struct ws *w, const char *path, line_fn fn, void *ctx);

bool parse_u64(const char *s, u64 *v);
/* Lower-case hex digits at *s; advances *s past them. */
bool parse_hex(const char **s, unsigned long *v);
/* Split a line into whitespace-separated fields in place; returns how many. */
int split_fields(char *line, char **f, int max);

/* processes / exited */

typedef void (*row_fn)(const struct cs_row *row, void *ctx);

/*
 * Call fn for each data row of COWSTAT_DIR/<file>.  Returns the number of
 * data rows, or -errno (-EPROTO: header or a row not as specified).
 * *header_exact (if not NULL): whether the header is CS_HEADER.
 */
int cs_scan_rows(struct ws *w, const char *file, row_fn fn, void *ctx,
		 bool *header_exact);

/* For cs_scan_rows(): the last row of pid goes to *out. */
struct find_ctx {
	long pid;
	struct cs_row *out;
	int matches;
};

void find_row(const struct cs_row *row, void *arg);

/*
 * Read pid's row from "processes" or "exited" (last row with that pid).
 * row->found tells whether there was one.  Returns 0 or -errno.
 */
int cs_read_row(struct ws *w, const char *file, long pid, struct cs_row *row);

int cs_read_summary(struct ws *w, struct cs_summary *s);

/* The module parameter /sys/module/cowstat/parameters/<name>: 0 or -errno. */
int cs_param(const char *name, u64 *v);

/* Write buf to the control file; returns bytes written or -errno. */
long cs_control(const void *buf, size_t len);

/* pagemap and kpageflags */

/* Read exactly len bytes at off; 0, -errno or -ENODATA (end of file). */
int pread_all(int fd, void *buf, size_t len, off_t off);

/* Process pid's pagemap entries of npages pages at addr (0: this one). */
int pagemap_region_of(long pid, const void *addr, size_t npages, u64 *out);

/* This process's pagemap entries of npages pages at addr. */
int pagemap_region(const void *addr, size_t npages, u64 *out);

/* n entries of /proc/kpageflags from pfn. */
int kpageflags_get(u64 pfn, size_t n, u64 *out);

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
long anon_pages(struct ws *w, unsigned long lo, unsigned long hi);

#endif /* COWSTAT_UTIL_H */
