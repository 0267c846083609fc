// SPDX-License-Identifier: GPL-2.0
/*
 * Measuring tools for the cowstat selftests: reading cowstat's debugfs files,
 * pagemap and kpageflags without adding copy-on-write events of one's own
 * (see cowstat_util.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "cowstat_util.h"

const char *const cs_names[CS_SUM_NR] = {
	"forks", "fork_shared", "fork_inherited", "cow_faults", "cow_copies",
	"cow_zero", "cow_file", "cow_reuses", "cow_thp", "cow_hugetlb",
	"copied_bytes",
	"tracked", "exited", "max_tracked", "history", "dropped",
	"dropped_events", "evicted", "pool_empty", "lost", "swept",
};

/*
 * Highest address of the main thread's stack that code may be using
 * (glibc's __libc_stack_end, set by main's caller); quiesce() touches the
 * stack from the current frame up to here.
 */
extern void *__libc_stack_end;

int thp_present(void)
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

int keep_4k_pages(void *p, size_t len)
{
	long ret = raw_syscall3(SYS_madvise, (long)p, len, MADV_NOHUGEPAGE);

	if (!ret || (ret == -EINVAL && thp_present() == 0))
		return 0;
	errno = -ret;
	return -1;
}

struct ws *ws_new(void)
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

void ws_free(struct ws *w)
{
	if (w)
		munmap(w, sizeof(*w));
}

void touch_range(void *p, size_t len)
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

int read_lines(struct ws *w, const char *path, line_fn fn,
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

bool parse_u64(const char *s, u64 *v)
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

bool parse_hex(const char **s, unsigned long *v)
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
int split_fields(char *line, char **f, int max)
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

static void rows_line(char *line, void *arg)
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

int cs_scan_rows(struct ws *w, const char *file, row_fn fn,
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

void find_row(const struct cs_row *row, void *arg)
{
	struct find_ctx *c = arg;

	if (row->pid != c->pid)
		return;
	*c->out = *row;		/* the last one wins (exited: PID reuse) */
	c->matches++;
}

int cs_read_row(struct ws *w, const char *file, long pid,
			      struct cs_row *row)
{
	struct find_ctx c = { .pid = pid, .out = row };
	int ret;

	memset(row, 0, sizeof(*row));
	ret = cs_scan_rows(w, file, find_row, &c, NULL);
	return ret < 0 ? ret : 0;
}

static void summary_line(char *line, void *arg)
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

int cs_param(const char *name, u64 *v)
{
	static const char dir[] = "/sys/module/cowstat/parameters/";
	char path[128], buf[32];
	size_t len = strlen(name);
	ssize_t n;
	int fd;

	if (len >= sizeof(path) - sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(path, dir, sizeof(dir) - 1);
	memcpy(path + sizeof(dir) - 1, name, len + 1);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	close(fd);
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return parse_u64(buf, v) ? 0 : -EPROTO;
}

int cs_read_summary(struct ws *w, struct cs_summary *s)
{
	memset(s, 0, sizeof(*s));
	return read_lines(w, COWSTAT_DIR "/summary", summary_line, s);
}

long cs_control(const void *buf, size_t len)
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

int pread_all(int fd, void *buf, size_t len, off_t off)
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

int pagemap_region_of(long pid, const void *addr, size_t npages,
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

int pagemap_region(const void *addr, size_t npages, u64 *out)
{
	return pagemap_region_of(0, addr, npages, out);
}

int kpageflags_get(u64 pfn, size_t n, u64 *out)
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

long anon_pages(struct ws *w, unsigned long lo, unsigned long hi)
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

void quiesce(struct ws *w)
{
	touch_range(w, sizeof(*w));
	touch_stack_below();
	touch_stack_above();
	errno = 0;
	cs_read_row(w, "processes", getpid(), &w->scratch);
}

pid_t fresh_fork(void *stack_top, int (*fn)(void *), void *arg)
{
	long ret = fresh_fork_raw(stack_top, fn, arg);

	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

void *kid_stack_new(void)
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

void *kid_stack_top(void *s)
{
	return (char *)s + KID_STACK;
}
