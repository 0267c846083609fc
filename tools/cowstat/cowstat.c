// SPDX-License-Identifier: GPL-2.0
/*
 * cowstat: show the per-process copy-on-write counters of cowstat.ko.
 *
 *   cowstat [-b] [-d SECS] [-n COUNT] [-s COUNTER]   top-like table
 *   cowstat -p PID[,PID...] [--children]             details
 *   cowstat run [--] CMD [ARG...]                    cost of a command
 *
 * It reads only /sys/kernel/debug/cowstat/{summary,processes,exited} and
 * parses them by key and column name, as Documentation/cowstat.rst asks, so
 * columns added at the end by later module versions are shown too.  The
 * manual page is cowstat.8.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>

#define COWSTAT_VERSION	"0.1.0"
#define DEBUGFS_DIR	"/sys/kernel/debug"
#define DEBUGFS_MAGIC	0x64626720
#define PAGE_BYTES	4096ULL
#define MAX_COUNTERS	32
#define MAX_COLS	(MAX_COUNTERS + 3)
#define MAX_KEYS	128
#define COMM_MAX	64
#define SNAP_TRIES	10
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Exit codes of cowstat itself; "run" passes the command's on. */
enum {
	EXIT_NOPID = 1,		/* a -p PID has no row */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_PERM = 3,		/* no permission: not root */
	EXIT_NODEBUGFS = 4,	/* debugfs not mounted */
	EXIT_NOMODULE = 5,	/* cowstat.ko not loaded */
	EXIT_READ = 6,		/* a file could not be read or parsed */
	EXIT_CANNOT_EXEC = 126,
	EXIT_NOT_FOUND = 127,
};

/* ------------------------------------------------------------------ */
/* Counters */

enum unit { U_COUNT, U_PAGES, U_BYTES };

struct counter_info {
	const char *name;
	const char *head;	/* table heading */
	const char *unit;	/* word after the number in detail blocks */
	enum unit kind;
	bool top;		/* always a column of the tables */
	bool human;		/* shown as a size in the tables */
};

/* The counters this version knows; others get a generic description. */
static const struct counter_info known[] = {
	{ "forks",          "FORKS",   "",           U_COUNT, true,  false },
	{ "fork_shared",    "SHARED",  "pages",      U_PAGES, true,  true },
	{ "fork_inherited", "INHERIT", "pages",      U_PAGES, true,  true },
	{ "cow_faults",     "FAULTS",  "pages",      U_PAGES, false, false },
	{ "cow_copies",     "COPIES",  "pages",      U_PAGES, true,  false },
	{ "cow_zero",       "ZERO",    "pages",      U_PAGES, false, false },
	{ "cow_file",       "FILE",    "pages",      U_PAGES, false, false },
	{ "cow_reuses",     "REUSES",  "pages",      U_PAGES, true,  false },
	{ "cow_thp",        "THP",     "faults",     U_COUNT, false, false },
	{ "cow_hugetlb",    "HUGETLB", "huge pages", U_COUNT, false, false },
	{ "copied_bytes",   "COPIED",  "bytes",      U_BYTES, true,  true },
};

/* The counter columns found in the files, in their order. */
static int ncounters;
static char *counter_name[MAX_COUNTERS];
static struct counter_info counter[MAX_COUNTERS];
static char counter_head[MAX_COUNTERS][32];

static int counter_index(const char *name)
{
	int i;

	for (i = 0; i < ncounters; i++)
		if (!strcmp(counter_name[i], name))
			return i;
	return -1;
}

static int counter_add(const char *name)
{
	size_t k;
	int i = counter_index(name);

	if (i >= 0)
		return i;
	if (ncounters == MAX_COUNTERS)
		return -1;
	i = ncounters++;
	counter_name[i] = strdup(name);
	if (!counter_name[i]) {
		perror("cowstat");
		exit(EXIT_READ);
	}
	for (k = 0; k < ARRAY_SIZE(known); k++) {
		if (!strcmp(known[k].name, name)) {
			counter[i] = known[k];
			counter[i].name = counter_name[i];
			return i;
		}
	}
	/* A column of a newer module: show its name, in upper case. */
	for (k = 0; name[k] && k < sizeof(counter_head[i]) - 1; k++)
		counter_head[i][k] = name[k] >= 'a' && name[k] <= 'z' ?
				     name[k] - 'a' + 'A' : name[k];
	counter[i] = (struct counter_info){ counter_name[i], counter_head[i],
					    "", U_COUNT, false, false };
	return i;
}

static void counters_free(void)
{
	while (ncounters)
		free(counter_name[--ncounters]);
}

/* ------------------------------------------------------------------ */
/* Messages and formatting */

static void err_msg(const char *fmt, ...)
{
	va_list ap;

	fputs("cowstat: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		err_msg("out of memory");
		exit(EXIT_READ);
	}
	return p;
}

/* 1536 -> "1.5 KiB" (iec) or "1.5K" (short, for tables). */
static char *human(unsigned long long bytes, bool iec, char *buf, size_t size)
{
	static const char units[] = "KMGTPE";
	double v = bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, size, iec ? "%llu B" : bytes ? "%lluB" : "0", bytes);
		return buf;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, v < 9.95 ? "%.1f%s%c%s" : "%.0f%s%c%s", v,
		 iec ? " " : "", units[u], iec ? "iB" : "");
	return buf;
}

/* Length of the valid UTF-8 sequence at p, 0 if there is none. */
static int utf8_len(const unsigned char *p)
{
	unsigned int c = p[0], min, cp;
	int n, i;

	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
		min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3;
		cp = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * A name made safe for a terminal: control bytes and bytes that are not
 * UTF-8 become '?'.  Returns the number of characters (display width).
 */
static int sanitize(const char *in, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t o = 0;
	int width = 0, n;

	while (*p && o + 5 < size) {
		n = *p >= 0x80 ? utf8_len(p) : 1;
		if (n > 1) {
			memcpy(out + o, p, n);
			o += n;
			p += n;
		} else {
			out[o++] = n && *p >= 0x20 && *p != 0x7f ? *p : '?';
			p++;
		}
		width++;
	}
	out[o] = '\0';
	return width;
}

static void json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int n;

	fputc('"', f);
	while (*p) {
		if (*p == '"' || *p == '\\') {
			fprintf(f, "\\%c", *p++);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", *p++);
		} else if (*p < 0x80) {
			fputc(*p++, f);
		} else {
			n = utf8_len(p);
			if (n) {
				fwrite(p, 1, n, f);
				p += n;
			} else {
				fputs("\\ufffd", f);	/* not UTF-8 */
				p++;
			}
		}
	}
	fputc('"', f);
}

/* ------------------------------------------------------------------ */
/* The files */

static char cdir[PATH_MAX];	/* .../cowstat */

/*
 * Find the cowstat directory and tell why it cannot be read, with the exit
 * code for that reason.  COWSTAT_DEBUGFS replaces /sys/kernel/debug (for
 * testing with a fake directory; no file system type check then).
 */
static int find_dir(void)
{
	const char *env = getenv("COWSTAT_DEBUGFS");
	bool fake = env && *env;
	const char *base = fake ? env : DEBUGFS_DIR;
	struct statfs sfs;
	struct stat st;

	if (statfs(base, &sfs)) {
		err_msg("%s: %s: debugfs is not mounted", base, strerror(errno));
		return EXIT_NODEBUGFS;
	}
	if (!fake && sfs.f_type != DEBUGFS_MAGIC) {
		err_msg("debugfs is not mounted on %s; as root: mount -t debugfs none %s",
			base, base);
		return EXIT_NODEBUGFS;
	}
	if (snprintf(cdir, sizeof(cdir), "%s/cowstat", base) >= (int)sizeof(cdir)) {
		err_msg("%s: path too long", base);
		return EXIT_USAGE;
	}
	if (stat(cdir, &st)) {
		if (errno == EACCES || errno == EPERM) {
			err_msg("%s: %s: cowstat must run as root", cdir,
				strerror(errno));
			return EXIT_PERM;
		}
		if (errno == ENOENT) {
			err_msg("%s does not exist: the cowstat module is not loaded (insmod cowstat.ko)",
				cdir);
			return EXIT_NOMODULE;
		}
		err_msg("%s: %s", cdir, strerror(errno));
		return EXIT_READ;
	}
	return 0;
}

/* Read a whole file of the cowstat directory into a NUL-terminated buffer. */
static int read_file(const char *name, char **out)
{
	char path[PATH_MAX + 16];
	size_t len = 0, cap = 1 << 16;
	char *buf;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", cdir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		n = errno;
		err_msg("%s: %s%s", path, strerror(n),
			n == EACCES || n == EPERM ? ": cowstat must run as root" :
			n == ENOENT ? ": is the cowstat module loaded?" : "");
		return n == EACCES || n == EPERM ? EXIT_PERM :
		       n == ENOENT ? EXIT_NOMODULE : EXIT_READ;
	}
	buf = xrealloc(NULL, cap);
	for (;;) {
		if (cap - len < 4096) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_msg("%s: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return EXIT_READ;
		}
		if (!n)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	*out = buf;
	return 0;
}

/* summary: "key: value" lines; probe.* lines are summed into "missed". */
struct summary {
	char *buf;
	int n;
	char *key[MAX_KEYS];
	char *val[MAX_KEYS];
	unsigned long long missed;
};

static bool parse_u64(const char *s, size_t len, unsigned long long *v)
{
	unsigned long long x = 0;
	size_t i;

	if (!len)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' || x > (ULLONG_MAX - (s[i] - '0')) / 10)
			return false;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return true;
}

static int parse_summary(struct summary *s)
{
	char *line, *next, *colon, *m;
	unsigned long long v;

	s->n = 0;
	s->missed = 0;
	for (line = s->buf; *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		colon = strstr(line, ": ");
		if (!colon)
			continue;
		*colon = '\0';
		if (!strncmp(line, "probe.", 6)) {
			m = strstr(colon + 2, "nmissed=");
			if (m && parse_u64(m + 8, strspn(m + 8, "0123456789"), &v))
				s->missed += v;
			continue;
		}
		if (s->n < MAX_KEYS) {
			s->key[s->n] = line;
			s->val[s->n++] = colon + 2;
		}
	}
	return 0;
}

static const char *sum_str(const struct summary *s, const char *key)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->key[i], key))
			return s->val[i];
	return NULL;
}

static unsigned long long sum_u64(const struct summary *s, const char *key)
{
	const char *v = sum_str(s, key);
	unsigned long long x;

	return v && parse_u64(v, strlen(v), &x) ? x : 0;
}

/* One row of processes or exited. */
struct row {
	int pid;
	int ppid;
	bool live;		/* from processes, else from exited */
	bool used;		/* already in the tree being built */
	bool virt;		/* stands for a process without a row */
	int depth;
	long long seq;		/* exited: rows ever appended before it */
	struct row *parent;	/* in the tree being built */
	char comm[COMM_MAX];
	unsigned long long cnt[MAX_COUNTERS];
};

struct table {
	struct row *rows;
	size_t n;
};

struct field {
	const char *s;
	size_t len;
};

/* Split on single spaces (an empty comm is an empty field). */
static int split_single(const char *line, struct field *f, int max)
{
	int n = 0;
	const char *sp;

	for (;;) {
		sp = strchr(line, ' ');
		if (n == max)
			return max + 1;
		f[n].s = line;
		f[n++].len = sp ? (size_t)(sp - line) : strlen(line);
		if (!sp)
			return n;
		line = sp + 1;
	}
}

/* Split on runs of blanks. */
static int split_blanks(const char *line, struct field *f, int max)
{
	int n = 0;
	size_t len;

	for (;;) {
		line += strspn(line, " \t");
		if (!*line)
			return n;
		len = strcspn(line, " \t");
		if (n == max)
			return max + 1;
		f[n].s = line;
		f[n++].len = len;
		line += len;
	}
}

/* \ooo -> byte; NUL bytes (an empty name is written \000) are dropped. */
static void unescape(const char *s, size_t len, char *out, size_t size)
{
	size_t i = 0, o = 0;
	unsigned int v;

	while (i < len && o + 1 < size) {
		if (s[i] == '\\' && i + 3 < len &&
		    s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' &&
		    s[i + 3] >= '0' && s[i + 3] <= '7') {
			v = (s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 +
			    (s[i + 3] - '0');
			i += 4;
			if (v)
				out[o++] = v;
			continue;
		}
		out[o++] = s[i++];
	}
	out[o] = '\0';
}

/*
 * Parse processes or exited.  Rows of exited get seq = seq0 + their line
 * number, i.e. how many rows were appended to exited before them since the
 * load (seq0 is the "evicted" count of summary).
 */
static int parse_table(char *buf, const char *file, bool live, long long seq0,
		       struct table *t)
{
	int map[MAX_COLS], ncols = 0, cpid = -1, cppid = -1, ccomm = -1, nf, i;
	struct field f[MAX_COLS + 1];
	char *line, *next, *tok, *save;
	unsigned long long v;
	long long lineno = 0;
	size_t cap = 0;
	bool bad;
	struct row *r;

	t->rows = NULL;
	t->n = 0;
	next = strchr(buf, '\n');
	if (!next) {
		err_msg("%s: no header line", file);
		return EXIT_READ;
	}
	*next++ = '\0';
	for (tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (ncols == MAX_COLS) {
			err_msg("%s: too many columns", file);
			return EXIT_READ;
		}
		map[ncols] = -1;
		if (!strcmp(tok, "pid"))
			cpid = ncols;
		else if (!strcmp(tok, "ppid"))
			cppid = ncols;
		else if (!strcmp(tok, "comm"))
			ccomm = ncols;
		else
			map[ncols] = counter_add(tok);
		if (map[ncols] < 0 && cpid != ncols && cppid != ncols && ccomm != ncols) {
			err_msg("%s: too many columns", file);
			return EXIT_READ;
		}
		ncols++;
	}
	if (cpid < 0 || cppid < 0 || ccomm < 0) {
		err_msg("%s: the header line lacks pid, ppid or comm", file);
		return EXIT_READ;
	}

	for (line = next; *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (!*line)
			continue;
		lineno++;
		nf = split_single(line, f, MAX_COLS);
		if (nf != ncols)
			nf = split_blanks(line, f, MAX_COLS);
		if (nf != ncols) {
			err_msg("%s: line %lld: %d fields, expected %d: skipped",
				file, lineno + 1, nf, ncols);
			continue;
		}
		if (t->n == cap) {
			cap = cap ? 2 * cap : 256;
			t->rows = xrealloc(t->rows, cap * sizeof(*t->rows));
		}
		r = &t->rows[t->n];
		memset(r, 0, sizeof(*r));
		bad = false;
		for (i = 0; i < ncols && !bad; i++) {
			if (i == ccomm) {
				unescape(f[i].s, f[i].len, r->comm, sizeof(r->comm));
				continue;
			}
			if (!parse_u64(f[i].s, f[i].len, &v)) {
				bad = true;
			} else if (i == cpid || i == cppid) {
				if (v > INT_MAX)
					bad = true;
				else if (i == cpid)
					r->pid = v;
				else
					r->ppid = v;
			} else {
				r->cnt[map[i]] = v;
			}
		}
		if (bad) {
			err_msg("%s: line %lld: not a number where one belongs: skipped",
				file, lineno + 1);
			continue;
		}
		r->live = live;
		r->seq = live ? -1 : seq0 + lineno - 1;
		t->n++;
	}
	return 0;
}

/* One reading of the files. */
struct snap {
	struct summary sum;
	char *pbuf, *ebuf;
	struct table live, exited;
	long long evicted;	/* of summary, for the exited rows' seq */
	bool stable;		/* exited did not change between the summaries */
};

static void snap_free(struct snap *s)
{
	free(s->sum.buf);
	free(s->pbuf);
	free(s->ebuf);
	free(s->live.rows);
	free(s->exited.rows);
	memset(s, 0, sizeof(*s));
}

/*
 * Read summary, then the tables, then summary again, until "evicted" is the
 * same in both summaries, so that it also held when exited was opened (each
 * open of a table takes a snapshot).
 */
static int snap_read(struct snap *s, bool want_live, bool want_exited)
{
	unsigned long long ev1;
	struct summary first;
	int rc, tries;

	memset(s, 0, sizeof(*s));
	for (tries = 0; tries < SNAP_TRIES; tries++) {
		snap_free(s);
		memset(&first, 0, sizeof(first));
		rc = read_file("summary", &first.buf);
		if (rc)
			return rc;
		parse_summary(&first);
		ev1 = sum_u64(&first, "evicted");
		free(first.buf);
		if (want_live) {
			rc = read_file("processes", &s->pbuf);
			if (rc)
				return rc;
		}
		if (want_exited) {
			rc = read_file("exited", &s->ebuf);
			if (rc)
				goto fail;
		}
		rc = read_file("summary", &s->sum.buf);
		if (rc)
			goto fail;
		parse_summary(&s->sum);
		s->evicted = sum_u64(&s->sum, "evicted");
		s->stable = ev1 == (unsigned long long)s->evicted;
		if (s->stable || !want_exited)
			break;
	}
	if (want_live) {
		rc = parse_table(s->pbuf, "processes", true, 0, &s->live);
		if (rc)
			goto fail;
	}
	if (want_exited) {
		rc = parse_table(s->ebuf, "exited", false, s->evicted, &s->exited);
		if (rc)
			goto fail;
	}
	return 0;
fail:
	snap_free(s);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Output */

struct opts {
	bool json, batch, children;
	double delay;
	long count;
	const char *sort;
	const char *output;
	int *pids;
	int npids;
};

static FILE *out;

enum col_kind { C_PID, C_PPID, C_COMM, C_STATE, C_COUNTER };

struct col {
	enum col_kind kind;
	int idx;
	int width;
};

static int cell(const struct row *r, const struct col *c, char *buf, size_t size)
{
	unsigned long long v;
	int indent;

	switch (c->kind) {
	case C_PID:
		return snprintf(buf, size, "%d", r->pid);
	case C_PPID:
		return snprintf(buf, size, "%d", r->ppid);
	case C_STATE:
		return snprintf(buf, size, "%s", r->live ? "live" : "exited");
	case C_COMM:
		indent = r->depth > 8 ? 16 : 2 * r->depth;
		memset(buf, ' ', indent);
		return indent + sanitize(r->comm, buf + indent, size - indent);
	case C_COUNTER:
		v = r->cnt[c->idx];
		if (!counter[c->idx].human)
			return snprintf(buf, size, "%llu", v);
		if (counter[c->idx].kind == U_PAGES)
			v *= PAGE_BYTES;
		human(v, false, buf, size);
		return strlen(buf);
	}
	return 0;
}

static const char *col_head(const struct col *c)
{
	switch (c->kind) {
	case C_PID:
		return "PID";
	case C_PPID:
		return "PPID";
	case C_COMM:
		return "COMM";
	case C_STATE:
		return "STATE";
	default:
		return counter[c->idx].head;
	}
}

/*
 * A table of rows.  Columns: the main counters, a counter that -s selects,
 * and (all_nonzero) every counter that is not 0 in some row.
 */
static void print_table(struct row **rows, size_t n, bool state, bool all_nonzero,
			int sort_idx, size_t max_rows)
{
	struct col cols[MAX_COLS + 1];
	char buf[COMM_MAX * 4 + 32];
	int ncols = 0, i, w;
	size_t r;
	bool show;

	cols[ncols++] = (struct col){ C_PID, 0, 7 };
	cols[ncols++] = (struct col){ C_PPID, 0, 7 };
	cols[ncols++] = (struct col){ C_COMM, 0, 15 };
	if (state)
		cols[ncols++] = (struct col){ C_STATE, 0, 6 };
	for (i = 0; i < ncounters; i++) {
		show = counter[i].top || i == sort_idx;
		for (r = 0; r < n && all_nonzero && !show; r++)
			show = rows[r]->cnt[i] != 0;
		if (show)
			cols[ncols++] = (struct col){ C_COUNTER, i, 0 };
	}
	if (n > max_rows)
		n = max_rows;
	for (i = 0; i < ncols; i++) {
		w = strlen(col_head(&cols[i]));
		if (cols[i].width < w)
			cols[i].width = w;
		for (r = 0; r < n; r++) {
			w = cell(rows[r], &cols[i], buf, sizeof(buf));
			if (cols[i].width < w)
				cols[i].width = w;
		}
	}
	for (i = 0; i < ncols; i++)
		fprintf(out, cols[i].kind == C_COMM || cols[i].kind == C_STATE ?
			"%s%-*s" : "%s%*s", i ? " " : "", cols[i].width,
			col_head(&cols[i]));
	fputc('\n', out);
	for (r = 0; r < n; r++) {
		for (i = 0; i < ncols; i++) {
			w = cell(rows[r], &cols[i], buf, sizeof(buf));
			if (i)
				fputc(' ', out);
			if (cols[i].kind == C_COMM || cols[i].kind == C_STATE)
				fprintf(out, "%s%*s", buf, cols[i].width - w, "");
			else
				fprintf(out, "%*s%s", cols[i].width - w, "", buf);
		}
		fputc('\n', out);
	}
}

/* Every counter, one per line: number, unit and (pages, bytes) size. */
static void print_counters(const unsigned long long *cnt)
{
	char buf[32];
	int i;

	for (i = 0; i < ncounters; i++) {
		fprintf(out, "  %-16s %14llu", counter[i].name, cnt[i]);
		if (counter[i].kind != U_COUNT)
			fprintf(out, " %-5s %10s", counter[i].unit,
				human(counter[i].kind == U_PAGES ? cnt[i] * PAGE_BYTES :
				      cnt[i], true, buf, sizeof(buf)));
		else if (*counter[i].unit)
			fprintf(out, " %s", counter[i].unit);
		fputc('\n', out);
	}
}

static void print_proc_head(const struct row *r)
{
	char name[COMM_MAX * 4];

	sanitize(r->comm, name, sizeof(name));
	fprintf(out, "pid %d (%s), ppid %d, %s\n", r->pid, name, r->ppid,
		r->live ? "live" : "exited");
}

static void json_counters(const unsigned long long *cnt)
{
	int i;

	fputc('{', out);
	for (i = 0; i < ncounters; i++)
		fprintf(out, "%s\"%s\":%llu", i ? "," : "", counter_name[i], cnt[i]);
	fputc('}', out);
}

static void json_row(const struct row *r, bool depth, bool close)
{
	int i;

	fprintf(out, "{\"pid\":%d,\"ppid\":%d,\"comm\":", r->pid, r->ppid);
	json_str(out, r->comm);
	fprintf(out, ",\"state\":\"%s\"", r->live ? "live" : "exited");
	if (depth)
		fprintf(out, ",\"depth\":%d", r->depth);
	for (i = 0; i < ncounters; i++)
		fprintf(out, ",\"%s\":%llu", counter_name[i], r->cnt[i]);
	if (close)
		fputc('}', out);
}

/* Lines of @key, which repeat (copy_site, reuse_site), as one array. */
static void json_repeated(const struct summary *s, const char *key,
			  const char *name, bool *first_key)
{
	bool first = true;
	int i;

	fprintf(out, "%s\"%s\":[", *first_key ? "" : ",", name);
	*first_key = false;
	for (i = 0; i < s->n; i++) {
		if (strcmp(s->key[i], key))
			continue;
		fputs(first ? "" : ",", out);
		first = false;
		json_str(out, s->val[i]);
	}
	fputc(']', out);
}

/* The summary's keys other than the counters, numbers as numbers. */
static void json_module(const struct summary *s)
{
	unsigned long long v;
	bool first = true;
	int i;

	fputc('{', out);
	for (i = 0; i < s->n; i++) {
		/* repeated lines: one array each after the loop */
		if (counter_index(s->key[i]) >= 0 || !strcmp(s->key[i], "copy_site") ||
		    !strcmp(s->key[i], "reuse_site"))
			continue;
		fputs(first ? "" : ",", out);
		first = false;
		json_str(out, s->key[i]);
		fputc(':', out);
		if (strcmp(s->key[i], "version") &&
		    parse_u64(s->val[i], strlen(s->val[i]), &v))
			fprintf(out, "%llu", v);
		else
			json_str(out, s->val[i]);
	}
	json_repeated(s, "copy_site", "copy_sites", &first);
	fprintf(out, ",\"probes_nmissed\":%llu", s->missed);
	json_repeated(s, "reuse_site", "reuse_sites", &first);
	fputc('}', out);
}

static void totals_of(const struct summary *s, unsigned long long *cnt)
{
	int i;

	for (i = 0; i < ncounters; i++)
		cnt[i] = sum_u64(s, counter_name[i]);
}

/* ------------------------------------------------------------------ */
/* Mode 1: top */

static int sort_idx;

static int cmp_sort(const void *a, const void *b)
{
	const struct row *x = *(struct row * const *)a, *y = *(struct row * const *)b;

	if (x->cnt[sort_idx] != y->cnt[sort_idx])
		return x->cnt[sort_idx] < y->cnt[sort_idx] ? 1 : -1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static void sleep_secs(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* The totals, wrapped at 80 columns; returns the number of lines. */
static int print_totals_line(const struct summary *s)
{
	unsigned long long tot[MAX_COUNTERS];
	char buf[64], item[128];
	int i, col = 7, lines = 1;

	totals_of(s, tot);
	fputs("totals:", out);
	for (i = 0; i < ncounters; i++) {
		if (counter[i].human)
			snprintf(item, sizeof(item), " %s %s", counter[i].name,
				 human(counter[i].kind == U_PAGES ? tot[i] * PAGE_BYTES :
				       tot[i], false, buf, sizeof(buf)));
		else
			snprintf(item, sizeof(item), " %s %llu", counter[i].name, tot[i]);
		if (col + strlen(item) > 79) {
			fputs("\n       ", out);
			col = 7;
			lines++;
		}
		fputs(item, out);
		col += strlen(item);
	}
	fputc('\n', out);
	return lines;
}

static int cmd_top(const struct opts *o)
{
	bool tty = !o->batch && !o->output && !o->json && isatty(STDOUT_FILENO);
	long count = o->count ? o->count : o->json ? 1 : 0, iter;
	size_t i, max_rows;
	int term_rows, header_lines;
	struct winsize ws;
	struct row **v;
	struct snap s;
	char tbuf[32];
	time_t now;
	int rc;

	for (iter = 0; !count || iter < count; iter++) {
		if (iter)
			sleep_secs(o->delay);
		rc = snap_read(&s, true, false);
		if (rc)
			return rc;
		sort_idx = counter_index(o->sort);
		if (sort_idx < 0) {
			err_msg("-s %s: no such counter (see cowstat -h)", o->sort);
			snap_free(&s);
			return EXIT_USAGE;
		}
		v = xrealloc(NULL, s.live.n * sizeof(*v));
		for (i = 0; i < s.live.n; i++)
			v[i] = &s.live.rows[i];
		qsort(v, s.live.n, sizeof(*v), cmp_sort);
		now = time(NULL);
		if (o->json) {
			unsigned long long tot[MAX_COUNTERS];

			totals_of(&s.sum, tot);
			fprintf(out, "{\"time\":%lld,\"sort\":", (long long)now);
			json_str(out, o->sort);
			fputs(",\"module\":", out);
			json_module(&s.sum);
			fputs(",\"totals\":", out);
			json_counters(tot);
			fputs(",\"processes\":[", out);
			for (i = 0; i < s.live.n; i++) {
				fputs(i ? "," : "", out);
				json_row(v[i], false, true);
			}
			fputs("]}\n", out);
		} else {
			term_rows = 0;
			if (tty) {
				fputs("\033[H\033[2J", out);
				if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws))
					term_rows = ws.ws_row;
			} else if (iter) {
				fputc('\n', out);
			}
			strftime(tbuf, sizeof(tbuf), "%H:%M:%S", localtime(&now));
			fprintf(out, "cowstat %s - module %s on %s - live processes %llu, exited %llu, dropped %llu\n",
				tbuf, sum_str(&s.sum, "version") ?: "?",
				sum_str(&s.sum, "kernel") ?: "?",
				(unsigned long long)s.live.n, sum_u64(&s.sum, "exited"),
				sum_u64(&s.sum, "dropped"));
			header_lines = 1 + print_totals_line(&s.sum) + 2;
			fprintf(out, "sorted by %s; SHARED, INHERIT, COPIED in bytes, other counters in pages\n\n",
				o->sort);
			/* on a terminal: what fits below the header, column names and a spare line */
			max_rows = SIZE_MAX;
			if (term_rows > header_lines + 2)
				max_rows = term_rows - header_lines - 2;
			print_table(v, s.live.n, false, false, sort_idx, max_rows);
		}
		fflush(out);
		free(v);
		snap_free(&s);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Trees: a process and its descendants by ppid links */

/*
 * The rows a tree may use, sorted by pid (for the incarnations of a pid)
 * and by ppid (for the children).
 */
struct cands {
	struct row **bypid, **byppid;
	size_t n;
};

static int cmp_pid(const void *a, const void *b)
{
	const struct row *x = *(struct row * const *)a, *y = *(struct row * const *)b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->live != y->live)
		return x->live ? 1 : -1;	/* exited first, then live */
	return (x->seq > y->seq) - (x->seq < y->seq);
}

static int cmp_ppid(const void *a, const void *b)
{
	const struct row *x = *(struct row * const *)a, *y = *(struct row * const *)b;

	if (x->ppid != y->ppid)
		return x->ppid < y->ppid ? -1 : 1;
	if (x->live != y->live)
		return x->live ? 1 : -1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Live rows, and the exited rows with seq >= min_seq. */
static void cands_build(struct cands *c, struct snap *s, long long min_seq)
{
	size_t i;

	c->n = 0;
	c->bypid = xrealloc(NULL, (s->live.n + s->exited.n) * sizeof(*c->bypid));
	c->byppid = xrealloc(NULL, (s->live.n + s->exited.n) * sizeof(*c->byppid));
	for (i = 0; i < s->live.n; i++)
		c->bypid[c->n++] = &s->live.rows[i];
	for (i = 0; i < s->exited.n; i++)
		if (s->exited.rows[i].seq >= min_seq)
			c->bypid[c->n++] = &s->exited.rows[i];
	for (i = 0; i < c->n; i++) {
		c->bypid[i]->used = false;
		c->bypid[i]->parent = NULL;
	}
	memcpy(c->byppid, c->bypid, c->n * sizeof(*c->bypid));
	qsort(c->bypid, c->n, sizeof(*c->bypid), cmp_pid);
	qsort(c->byppid, c->n, sizeof(*c->byppid), cmp_ppid);
}

static void cands_free(struct cands *c)
{
	free(c->bypid);
	free(c->byppid);
}

/* First index in a sorted array whose pid (or ppid) is >= key. */
static size_t lower(struct row **v, size_t n, int key, bool ppid)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if ((ppid ? v[mid]->ppid : v[mid]->pid) < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct rowvec {
	struct row **v;
	size_t n, cap;
};

static void push(struct rowvec *rv, struct row *r)
{
	if (rv->n == rv->cap) {
		rv->cap = rv->cap ? 2 * rv->cap : 64;
		rv->v = xrealloc(rv->v, rv->cap * sizeof(*rv->v));
	}
	rv->v[rv->n++] = r;
}

/*
 * A pid can have several rows (reuse).  For a node, its own incarnation is
 * the span of exited rows after the previous row with its pid ("lo"); rows
 * with its pid as ppid before that belong to an earlier process.  When a
 * later process has the same pid ("newer"), children reaped after the
 * node's own row and live children are ambiguous and left out.  Adds the
 * node's eligible children to the stack, last first.
 */
static void push_children(struct cands *c, struct row *node, struct rowvec *stack)
{
	long long lo = LLONG_MIN;
	bool newer = false;
	size_t i, first, n;
	struct row *k;

	for (i = lower(c->bypid, c->n, node->pid, false);
	     i < c->n && c->bypid[i]->pid == node->pid; i++) {
		k = c->bypid[i];
		if (k == node)
			continue;
		if (k->live)
			newer |= !node->live;
		else if (node->live || k->seq < node->seq)
			lo = k->seq > lo ? k->seq : lo;
		else
			newer = true;
	}
	first = lower(c->byppid, c->n, node->pid, true);
	for (n = 0; first + n < c->n && c->byppid[first + n]->ppid == node->pid; n++)
		;
	for (i = first + n; i-- > first; ) {
		k = c->byppid[i];
		if (k->used)
			continue;
		if (k->live ? newer : k->seq <= lo ||
		    (newer && !node->live && k->seq > node->seq))
			continue;
		k->used = true;
		k->parent = node->virt ? NULL : node;
		k->depth = node->virt ? node->depth : node->depth + 1;
		push(stack, k);
	}
}

/* The tree of root in preorder (depth-first, children in reap order). */
static void add_tree(struct cands *c, struct row *root, struct rowvec *rv)
{
	struct rowvec stack = { 0 };
	struct row *node;

	root->used = true;
	root->depth = 0;
	root->parent = NULL;
	push(&stack, root);
	while (stack.n) {
		node = stack.v[--stack.n];
		if (!node->virt)
			push(rv, node);
		push_children(c, node, &stack);
	}
	free(stack.v);
}

static void sum_rows(struct rowvec *rv, unsigned long long *cnt)
{
	size_t i;
	int j;

	memset(cnt, 0, MAX_COUNTERS * sizeof(*cnt));
	for (i = 0; i < rv->n; i++)
		for (j = 0; j < ncounters; j++)
			cnt[j] += rv->v[i]->cnt[j];
}

/* ------------------------------------------------------------------ */
/* Mode 2: -p PID */

/* The live row of pid, else its last exited row. */
static struct row *find_pid(struct snap *s, int pid)
{
	struct row *last = NULL;
	size_t i;

	for (i = 0; i < s->live.n; i++)
		if (s->live.rows[i].pid == pid)
			return &s->live.rows[i];
	for (i = 0; i < s->exited.n; i++)
		if (s->exited.rows[i].pid == pid)
			last = &s->exited.rows[i];
	return last;
}

static int cmd_pids(const struct opts *o)
{
	unsigned long long tot[MAX_COUNTERS];
	struct rowvec rv = { 0 };
	struct cands c = { 0 };
	bool first = true;
	int i, rc, missing = 0;
	struct snap s;
	struct row *r;
	size_t j;

	rc = snap_read(&s, true, true);
	if (rc)
		return rc;
	if (o->children)
		cands_build(&c, &s, LLONG_MIN);
	if (o->json) {
		fputs("{\"module\":", out);
		json_module(&s.sum);
		fputs(",\"processes\":[", out);
	}
	for (i = 0; i < o->npids; i++) {
		r = find_pid(&s, o->pids[i]);
		if (!r) {
			err_msg("no row for pid %d in processes or exited", o->pids[i]);
			missing++;
			continue;
		}
		if (o->json)
			fputs(first ? "" : ",", out);
		else if (!first)
			fputc('\n', out);
		first = false;
		if (!o->children) {
			if (o->json) {
				json_row(r, false, true);
			} else {
				print_proc_head(r);
				print_counters(r->cnt);
			}
			continue;
		}
		for (j = 0; j < c.n; j++)
			c.bypid[j]->used = false;
		rv.n = 0;
		add_tree(&c, r, &rv);
		sum_rows(&rv, tot);
		if (o->json) {
			json_row(r, false, false);
			fputs(",\"descendants\":[", out);
			for (j = 1; j < rv.n; j++) {
				fputs(j > 1 ? "," : "", out);
				json_row(rv.v[j], true, true);
			}
			fputs("],\"totals\":", out);
			json_counters(tot);
			fputc('}', out);
			continue;
		}
		print_proc_head(r);
		fprintf(out, "with %zu descendant%s (live and exited):\n\n",
			rv.n - 1, rv.n == 2 ? "" : "s");
		print_table(rv.v, rv.n, true, true, -1, SIZE_MAX);
		fprintf(out, "\ntotals of these %zu processes:\n", rv.n);
		print_counters(tot);
	}
	if (o->json) {
		fputs("],\"not_found\":[", out);
		for (i = 0, first = true; i < o->npids; i++) {
			if (find_pid(&s, o->pids[i]))
				continue;
			fprintf(out, "%s%d", first ? "" : ",", o->pids[i]);
			first = false;
		}
		fputs("]}\n", out);
	}
	free(rv.v);
	if (o->children)
		cands_free(&c);
	snap_free(&s);
	return missing ? EXIT_NOPID : 0;
}

/* ------------------------------------------------------------------ */
/* Mode 3: run */

struct warnings {
	char *msg[16];
	int n;
};

static void warn(struct warnings *w, const char *fmt, ...)
{
	va_list ap;

	if (w->n == (int)ARRAY_SIZE(w->msg))
		return;
	va_start(ap, fmt);
	if (vasprintf(&w->msg[w->n], fmt, ap) < 0)
		w->msg[w->n] = NULL;
	else
		w->n++;
	va_end(ap);
}

static unsigned long long cnt_of(const struct row *r, const char *name)
{
	int i = counter_index(name);

	return i < 0 ? 0 : r->cnt[i];
}

static void print_pages(const char *what, unsigned long long pages)
{
	char buf[32];

	fprintf(out, "%s %llu (%s)", what, pages,
		human(pages * PAGE_BYTES, true, buf, sizeof(buf)));
}

/* Each parent/child pair of the tree: what the fork shared and copied. */
static void print_forks(struct rowvec *rv)
{
	char pn[COMM_MAX * 4], cn[COMM_MAX * 4];
	const struct row *p, *k;
	bool any = false;
	size_t i;

	for (i = 0; i < rv->n; i++) {
		k = rv->v[i];
		p = k->parent;
		if (!p)
			continue;
		if (!any)
			fputs("\nforks (pages; shared = the child's fork_inherited, copied = cow_copies of each side):\n",
			      out);
		any = true;
		sanitize(p->comm, pn, sizeof(pn));
		sanitize(k->comm, cn, sizeof(cn));
		fprintf(out, "  %d %s -> %d %s: ", p->pid, pn, k->pid, cn);
		if (!cnt_of(p, "forks") && !cnt_of(k, "fork_inherited")) {
			fputs("vfork, posix_spawn or another CLONE_VM clone: nothing shared\n",
			      out);
			continue;
		}
		print_pages("shared", cnt_of(k, "fork_inherited"));
		print_pages(", copied by the child", cnt_of(k, "cow_copies"));
		if (cnt_of(k, "forks"))
			fprintf(out, " [its total, it forked %llu times itself]",
				cnt_of(k, "forks"));
		print_pages(", by the parent", cnt_of(p, "cow_copies"));
		if (cnt_of(p, "forks") != 1)
			fprintf(out, " [its total over %llu forks]", cnt_of(p, "forks"));
		else if (cnt_of(p, "fork_inherited"))
			fputs(" [its total, it also shares pages with its own parent]", out);
		fputc('\n', out);
	}
}

static void json_forks(struct rowvec *rv)
{
	const struct row *p, *k;
	bool first = true;
	size_t i;

	fputs("[", out);
	for (i = 0; i < rv->n; i++) {
		k = rv->v[i];
		p = k->parent;
		if (!p)
			continue;
		fprintf(out, "%s{\"parent\":%d,\"child\":%d", first ? "" : ",",
			p->pid, k->pid);
		fprintf(out, ",\"shared_at_fork\":%llu", cnt_of(k, "fork_inherited"));
		fprintf(out, ",\"child_cow_copies\":%llu", cnt_of(k, "cow_copies"));
		fprintf(out, ",\"parent_cow_copies\":%llu", cnt_of(p, "cow_copies"));
		fprintf(out, ",\"child_forks\":%llu", cnt_of(k, "forks"));
		fprintf(out, ",\"parent_forks\":%llu", cnt_of(p, "forks"));
		fprintf(out, ",\"parent_fork_inherited\":%llu",
			cnt_of(p, "fork_inherited"));
		fprintf(out, ",\"child_copies_exact\":%s",
			cnt_of(k, "forks") ? "false" : "true");
		fprintf(out, ",\"parent_copies_exact\":%s}",
			cnt_of(p, "forks") == 1 && !cnt_of(p, "fork_inherited") ?
			"true" : "false");
		first = false;
	}
	fputs("]", out);
}

/* What was in the files before the command started. */
struct mark {
	long long next_seq;		/* seq of the first row reaped after it */
	bool have_anchor;
	struct row anchor;		/* the last row of exited then */
	unsigned long long tot[MAX_COUNTERS];
	unsigned long long evicted, dropped, dropped_events, missed;
};

static void mark_take(struct mark *m, struct snap *s)
{
	memset(m, 0, sizeof(*m));
	m->next_seq = s->evicted + s->exited.n;
	if (s->exited.n) {
		m->have_anchor = true;
		m->anchor = s->exited.rows[s->exited.n - 1];
	}
	totals_of(&s->sum, m->tot);
	m->evicted = s->evicted;
	m->dropped = sum_u64(&s->sum, "dropped");
	m->dropped_events = sum_u64(&s->sum, "dropped_events");
	m->missed = s->sum.missed;
}

/* Was the module reset (or reloaded) between the mark and this reading? */
static bool was_reset(const struct mark *m, struct snap *s)
{
	unsigned long long tot[MAX_COUNTERS];
	const struct row *a;
	long long k;
	int i;

	totals_of(&s->sum, tot);
	for (i = 0; i < ncounters; i++)
		if (tot[i] < m->tot[i])
			return true;
	if ((unsigned long long)s->evicted < m->evicted ||
	    sum_u64(&s->sum, "dropped") < m->dropped ||
	    sum_u64(&s->sum, "dropped_events") < m->dropped_events)
		return true;
	if (!m->have_anchor || s->evicted > m->anchor.seq)
		return false;
	/* the anchor row must still be where it was */
	k = m->anchor.seq - s->evicted;
	if (k >= (long long)s->exited.n)
		return true;
	a = &s->exited.rows[k];
	return a->pid != m->anchor.pid || a->ppid != m->anchor.ppid ||
	       strcmp(a->comm, m->anchor.comm) ||
	       memcmp(a->cnt, m->anchor.cnt, sizeof(a->cnt));
}

static int cmd_run(const struct opts *o, char **argv)
{
	unsigned long long tot[MAX_COUNTERS];
	struct timespec t0, t1;
	struct warnings w = { 0 };
	struct rowvec rv = { 0 };
	struct cands c = { 0 };
	struct row virt, *root = NULL;
	posix_spawnattr_t attr;
	struct snap s;
	struct mark m;
	sigset_t set;
	int rc, status, code, err, i;
	long long min_seq;
	double secs;
	size_t j, nlive = 0;
	pid_t pid;

	rc = snap_read(&s, false, true);
	if (rc)
		return rc;
	mark_take(&m, &s);
	snap_free(&s);

	/* Like time(1): ^C and ^\ go to the command, not to us. */
	posix_spawnattr_init(&attr);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	posix_spawnattr_setsigdefault(&attr, &set);
	sigemptyset(&set);
	posix_spawnattr_setsigmask(&attr, &set);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	fflush(NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* posix_spawn() is a CLONE_VM clone: it shares nothing copy-on-write. */
	err = posix_spawnp(&pid, argv[0], NULL, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	if (err) {
		err_msg("%s: %s", argv[0], strerror(err));
		return err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC;
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			err_msg("waitpid: %s", strerror(errno));
			return EXIT_READ;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	code = WIFEXITED(status) ? WEXITSTATUS(status) :
	       WIFSIGNALED(status) ? 128 + WTERMSIG(status) : EXIT_READ;

	rc = snap_read(&s, true, true);
	if (rc) {
		err_msg("no report for %s (pid %d)", argv[0], pid);
		return code;
	}
	if (!s.stable)
		warn(&w, "exited kept changing while cowstat read it: rows may be attributed wrongly");
	min_seq = m.next_seq;
	if (was_reset(&m, &s)) {
		warn(&w, "the counts were reset or the module reloaded during the run: rows from before that are gone, the numbers are incomplete");
		min_seq = LLONG_MIN;
	} else if (s.evicted > m.next_seq) {
		warn(&w, "%lld rows reaped during the run were evicted from exited before cowstat read them (history=%llu): processes may be missing",
		     s.evicted - m.next_seq, sum_u64(&s.sum, "history"));
	}
	if (sum_u64(&s.sum, "dropped") > m.dropped)
		warn(&w, "%llu processes forked during the run got no row (table full, max_tracked=%llu): processes may be missing",
		     sum_u64(&s.sum, "dropped") - m.dropped,
		     sum_u64(&s.sum, "max_tracked"));
	if (sum_u64(&s.sum, "dropped_events") > m.dropped_events)
		warn(&w, "%llu counter updates during the run found no row: counts may be missing",
		     sum_u64(&s.sum, "dropped_events") - m.dropped_events);
	if (s.sum.missed > m.missed)
		warn(&w, "the probes missed %llu hits during the run: counts may be low",
		     s.sum.missed - m.missed);

	/* The command's row: its pid, with us as parent; the last such. */
	cands_build(&c, &s, min_seq);
	for (j = 0; j < c.n; j++)
		if (c.bypid[j]->pid == pid && c.bypid[j]->ppid == getpid() &&
		    (!root || c.bypid[j]->seq > root->seq || c.bypid[j]->live))
			root = c.bypid[j];
	if (!root) {
		warn(&w, "no row for %s (pid %d): dropped, evicted or reset away; showing its descendants only",
		     argv[0], pid);
		memset(&virt, 0, sizeof(virt));
		virt.pid = pid;
		virt.ppid = getpid();
		virt.live = true;
		virt.virt = true;
		virt.seq = -1;
		root = &virt;
	}
	add_tree(&c, root, &rv);
	sum_rows(&rv, tot);
	for (j = 0; j < rv.n; j++)
		nlive += rv.v[j]->live;

	if (o->json) {
		fputs("{\"command\":[", out);
		for (i = 0; argv[i]; i++) {
			fputs(i ? "," : "", out);
			json_str(out, argv[i]);
		}
		fprintf(out, "],\"pid\":%d,\"exit_status\":%d,", pid, code);
		if (WIFEXITED(status))
			fprintf(out, "\"exit_code\":%d,\"signal\":null,", WEXITSTATUS(status));
		else
			fprintf(out, "\"exit_code\":null,\"signal\":%d,",
				WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		fprintf(out, "\"elapsed_seconds\":%.3f,\"module\":", secs);
		json_module(&s.sum);
		fputs(",\"totals\":", out);
		json_counters(tot);
		fputs(",\"processes\":[", out);
		for (j = 0; j < rv.n; j++) {
			fputs(j ? "," : "", out);
			json_row(rv.v[j], true, true);
		}
		fputs("],\"forks\":", out);
		json_forks(&rv);
		fputs(",\"warnings\":[", out);
		for (i = 0; i < w.n; i++) {
			fputs(i ? "," : "", out);
			json_str(out, w.msg[i]);
		}
		fputs("]}\n", out);
		for (i = 0; i < w.n && out != stderr; i++)
			err_msg("warning: %s", w.msg[i]);
	} else {
		fprintf(out, "\ncowstat: %s (pid %d) ", argv[0], pid);
		if (WIFEXITED(status))
			fprintf(out, "exited with status %d", WEXITSTATUS(status));
		else
			fprintf(out, "was killed by signal %d (%s)", WTERMSIG(status),
				strsignal(WTERMSIG(status)));
		fprintf(out, " after %.3f s; it and its descendants: %zu processes (%zu exited, %zu live)\n\n",
			secs, rv.n, rv.n - nlive, nlive);
		if (rv.n)
			print_table(rv.v, rv.n, true, true, -1, SIZE_MAX);
		fprintf(out, "\ntotals of the %zu processes:\n", rv.n);
		print_counters(tot);
		print_forks(&rv);
		for (i = 0; i < w.n; i++)
			fprintf(out, "cowstat: warning: %s\n", w.msg[i]);
	}
	for (i = 0; i < w.n; i++)
		free(w.msg[i]);
	free(rv.v);
	cands_free(&c);
	snap_free(&s);
	return code;
}

/* ------------------------------------------------------------------ */
/* Command line */

static void print_usage(FILE *f)
{
	fputs("usage: cowstat [-b] [-d SECS] [-n COUNT] [-s COUNTER] [-j] [-o FILE]\n"
	      "       cowstat -p PID[,PID...] [-c] [-j] [-o FILE]\n"
	      "       cowstat [-j] [-o FILE] run [--] CMD [ARG...]\n"
	      "       cowstat -h | -V\n"
	      "\n"
	      "Per-process copy-on-write counters of the cowstat kernel module.\n"
	      "  (no mode)            table of live processes, refreshed like top\n"
	      "  -p, --pid PIDS       every counter of these processes (live or exited)\n"
	      "  -c, --children       with -p: add live and exited descendants, and totals\n"
	      "  run CMD [ARG...]     run CMD, then report it and all its descendants\n"
	      "                       (to stderr unless -o); exits with CMD's status\n"
	      "  -s, --sort COUNTER   sort the table by COUNTER (default cow_copies)\n"
	      "  -d, --delay SECS     refresh every SECS seconds (default 1)\n"
	      "  -n, --iterations N   stop after N refreshes (default: never; 1 with -j)\n"
	      "  -b, --batch          plain output, no screen clearing (default if not a tty)\n"
	      "  -j, --json           JSON, one document per line\n"
	      "  -o, --output FILE    write to FILE\n"
	      "  -h, --help           this help\n"
	      "  -V, --version        the version\n"
	      "\n"
	      "Counters (4 KiB pages unless named): forks fork_shared fork_inherited\n"
	      "cow_faults cow_copies cow_zero cow_file cow_reuses cow_thp cow_hugetlb\n"
	      "copied_bytes.  Exit status: 0 ok, 1 a PID has no row, 2 usage error,\n"
	      "3 not root, 4 debugfs not mounted, 5 module not loaded, 6 read error;\n"
	      "run: CMD's status (128+N if killed by signal N), 126/127 if CMD cannot\n"
	      "be run.  COWSTAT_DEBUGFS=DIR reads DIR/cowstat/ (for tests).  See cowstat(8).\n",
	      f);
}

static int bad_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("cowstat: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (cowstat -h for help)\n", stderr);
	return EXIT_USAGE;
}

static int add_pids(struct opts *o, const char *arg)
{
	const char *p = arg;
	char *end;
	long v;

	for (;;) {
		errno = 0;
		v = strtol(p, &end, 10);
		if (end == p || errno || v <= 0 || v > INT_MAX ||
		    (*end && *end != ','))
			return bad_usage("-p %s: not a list of PIDs", arg);
		o->pids = xrealloc(o->pids, (o->npids + 1) * sizeof(*o->pids));
		o->pids[o->npids++] = v;
		if (!*end)
			return 0;
		p = end + 1;
	}
}

static const struct option longopts[] = {
	{ "batch",      no_argument,       NULL, 'b' },
	{ "children",   no_argument,       NULL, 'c' },
	{ "delay",      required_argument, NULL, 'd' },
	{ "help",       no_argument,       NULL, 'h' },
	{ "iterations", required_argument, NULL, 'n' },
	{ "json",       no_argument,       NULL, 'j' },
	{ "output",     required_argument, NULL, 'o' },
	{ "pid",        required_argument, NULL, 'p' },
	{ "sort",       required_argument, NULL, 's' },
	{ "version",    no_argument,       NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* Returns -1 to go on, else an exit status.  *top: a top-only option. */
static int parse_opts(int argc, char **argv, struct opts *o, bool *top)
{
	char *end;
	int opt, rc;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "+bcd:hjn:o:p:s:V", longopts, NULL)) != -1) {
		switch (opt) {
		case 'b':
			o->batch = *top = true;
			break;
		case 'c':
			o->children = true;
			break;
		case 'd':
			errno = 0;
			o->delay = strtod(optarg, &end);
			if (end == optarg || *end || errno || !(o->delay > 0) ||
			    o->delay > 1e6)
				return bad_usage("-d %s: not a number of seconds", optarg);
			*top = true;
			break;
		case 'h':
			print_usage(stdout);
			return 0;
		case 'j':
			o->json = true;
			break;
		case 'n':
			errno = 0;
			o->count = strtol(optarg, &end, 10);
			if (end == optarg || *end || errno || o->count <= 0)
				return bad_usage("-n %s: not a positive count", optarg);
			*top = true;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'p':
			rc = add_pids(o, optarg);
			if (rc)
				return rc;
			break;
		case 's':
			o->sort = optarg;
			*top = true;
			break;
		case 'V':
			printf("cowstat %s\n", COWSTAT_VERSION);
			return 0;
		default:
			return bad_usage("bad option");
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct opts o = { .delay = 1, .sort = "cow_copies" };
	bool top = false, run = false;
	int rc, first;

	out = stdout;
	rc = parse_opts(argc, argv, &o, &top);
	if (rc >= 0)
		goto done;
	first = optind;
	if (first < argc && !strcmp(argv[first], "run")) {
		run = true;
		/* options may follow "run" too, up to "--" or CMD */
		rc = parse_opts(argc - first, argv + first, &o, &top);
		if (rc >= 0)
			goto done;
		first += optind;
		if (first >= argc) {
			rc = bad_usage("run: no command");
			goto done;
		}
	} else if (first < argc) {
		rc = bad_usage("unexpected argument '%s'", argv[first]);
		goto done;
	}
	if ((run || o.npids) && top) {
		rc = bad_usage("-b, -d, -n and -s are for the table only");
		goto done;
	}
	if (run && o.npids) {
		rc = bad_usage("-p and run do not go together");
		goto done;
	}
	if (o.children && !o.npids) {
		rc = bad_usage("--children needs -p");
		goto done;
	}
	rc = find_dir();
	if (rc)
		goto done;
	if (run)
		out = stderr;
	if (o.output) {
		out = fopen(o.output, "w");
		if (!out) {
			err_msg("%s: %s", o.output, strerror(errno));
			rc = EXIT_READ;
			goto done;
		}
	}
	if (run)
		rc = cmd_run(&o, argv + first);
	else if (o.npids)
		rc = cmd_pids(&o);
	else
		rc = cmd_top(&o);
	if (fflush(out) || ferror(out)) {
		err_msg("write error: %s", strerror(errno));
		if (!run)
			rc = EXIT_READ;
	}
	if (out != stdout && out != stderr)
		fclose(out);
done:
	free(o.pids);
	counters_free();
	return rc;
}
