// SPDX-License-Identifier: GPL-2.0
/* Owns finding debugfs and parsing summary and the tables into a snapshot. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "cowstat.h"

#define DEBUGFS_MAGIC	0x64626720
#define SNAP_TRIES	10

int schema_index(const struct schema *sc, const char *name)
{
	int i;

	for (i = 0; i < sc->n; i++)
		if (!strcmp(sc->c[i].name, name))
			return i;
	return -1;
}

/* The index of the column @name, added if new; -1 if there are too many. */
static int schema_add(struct schema *sc, const char *name)
{
	struct counter *c;
	int i = schema_index(sc, name);

	if (i >= 0)
		return i;
	if (sc->n == MAX_COUNTERS)
		return -1;
	i = sc->n++;
	c = &sc->c[i];
	memset(c, 0, sizeof(*c));
	c->name = xstrdup(name);
	counter_describe(c);
	return i;
}

void schema_copy(struct schema *dst, const struct schema *src)
{
	int i;

	*dst = *src;
	for (i = 0; i < dst->n; i++)
		dst->c[i].name = xstrdup(src->c[i].name);
}

void schema_free(struct schema *sc)
{
	while (sc->n)
		free(sc->c[--sc->n].name);
}

/*
 * Find the cowstat directory, into @dir, and tell why it cannot be read,
 * with the exit code for that reason.  COWSTAT_DEBUGFS replaces
 * /sys/kernel/debug (for testing with a fake directory; no file system
 * type check then).
 */
int find_dir(char *dir, size_t size)
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
	if (snprintf(dir, size, "%s/cowstat", base) >= (int)size) {
		err_msg("%s: path too long", base);
		return EXIT_USAGE;
	}
	if (stat(dir, &st)) {
		if (errno == EACCES || errno == EPERM) {
			err_msg("%s: %s: cowstat must run as root", dir,
				strerror(errno));
			return EXIT_PERM;
		}
		if (errno == ENOENT) {
			err_msg("%s does not exist: the cowstat module is not loaded (insmod cowstat.ko)",
				dir);
			return EXIT_NOMODULE;
		}
		err_msg("%s: %s", dir, strerror(errno));
		return EXIT_READ;
	}
	return 0;
}

/* Read a whole file of the cowstat directory into a NUL-terminated buffer. */
static int read_whole(const char *dir, const char *name, char **out)
{
	char path[PATH_MAX + 16];
	size_t len = 0, cap = 1 << 16;
	char *buf;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
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

bool parse_u64(const char *s, size_t len, unsigned long long *v)
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

static void parse_summary(struct summary *s)
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
}

const char *sum_str(const struct summary *s, const char *key)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->key[i], key))
			return s->val[i];
	return NULL;
}

unsigned long long sum_u64(const struct summary *s, const char *key)
{
	const char *v = sum_str(s, key);
	unsigned long long x;

	return v && parse_u64(v, strlen(v), &x) ? x : 0;
}

/* The module's total of each counter of the schema. */
void snap_totals(const struct snap *s, unsigned long long *cnt)
{
	int i;

	for (i = 0; i < s->schema.n; i++)
		cnt[i] = sum_u64(&s->sum, s->schema.c[i].name);
}

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

/* The header line: the pid, ppid and comm columns, the counters into @sc. */
struct header {
	int ncols, cpid, cppid, ccomm;
	int map[MAX_COLS];	/* column -> counter index, or -1 */
};

static int parse_header(char *line, const char *file, struct schema *sc,
			struct header *h)
{
	char *tok, *save;
	int i;

	h->ncols = 0;
	h->cpid = h->cppid = h->ccomm = -1;
	for (tok = strtok_r(line, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (h->ncols == MAX_COLS) {
			err_msg("%s: too many columns", file);
			return EXIT_READ;
		}
		i = h->ncols++;
		h->map[i] = -1;
		if (!strcmp(tok, "pid"))
			h->cpid = i;
		else if (!strcmp(tok, "ppid"))
			h->cppid = i;
		else if (!strcmp(tok, "comm"))
			h->ccomm = i;
		else
			h->map[i] = schema_add(sc, tok);
		if (h->map[i] < 0 && i != h->cpid && i != h->cppid && i != h->ccomm) {
			err_msg("%s: too many columns", file);
			return EXIT_READ;
		}
	}
	if (h->cpid < 0 || h->cppid < 0 || h->ccomm < 0) {
		err_msg("%s: the header line lacks pid, ppid or comm", file);
		return EXIT_READ;
	}
	return 0;
}

/* A data line into @r; false if a number field is not one. */
static bool parse_row(const struct header *h, const struct field *f,
		      struct row *r)
{
	unsigned long long v;
	int i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < h->ncols; i++) {
		if (i == h->ccomm) {
			unescape(f[i].s, f[i].len, r->comm, sizeof(r->comm));
			continue;
		}
		if (!parse_u64(f[i].s, f[i].len, &v))
			return false;
		if (i == h->cpid || i == h->cppid) {
			if (v > INT_MAX)
				return false;
			if (i == h->cpid)
				r->pid = v;
			else
				r->ppid = v;
		} else {
			r->cnt[h->map[i]] = v;
		}
	}
	return true;
}

/*
 * Parse processes or exited, adding its counter columns to @sc.  Rows of
 * exited get seq = seq0 + their line number, i.e. how many rows were
 * appended to exited before them since the load (seq0 is the "evicted"
 * count of summary).
 */
static int parse_table(char *buf, const char *file, bool live, long long seq0,
		       struct schema *sc, struct table *t)
{
	struct field f[MAX_COLS + 1];
	long long lineno = 0;
	struct header h;
	char *line, *next;
	size_t cap = 0;
	int nf, rc;

	t->rows = NULL;
	t->n = 0;
	next = strchr(buf, '\n');
	if (!next) {
		err_msg("%s: no header line", file);
		return EXIT_READ;
	}
	*next++ = '\0';
	rc = parse_header(buf, file, sc, &h);
	if (rc)
		return rc;

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
		if (nf != h.ncols)
			nf = split_blanks(line, f, MAX_COLS);
		if (nf != h.ncols) {
			err_msg("%s: line %lld: %d fields, expected %d: skipped",
				file, lineno + 1, nf, h.ncols);
			continue;
		}
		if (t->n == cap) {
			cap = cap ? 2 * cap : 256;
			t->rows = xrealloc(t->rows, cap * sizeof(*t->rows));
		}
		if (!parse_row(&h, f, &t->rows[t->n])) {
			err_msg("%s: line %lld: not a number where one belongs: skipped",
				file, lineno + 1);
			continue;
		}
		t->rows[t->n].live = live;
		t->rows[t->n].seq = live ? -1 : seq0 + lineno - 1;
		t->n++;
	}
	return 0;
}

void snap_free(struct snap *s)
{
	schema_free(&s->schema);
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
 * open of a table takes a snapshot).  The snapshot's columns start as those
 * of @base (if not NULL), so that its counters keep their indexes, and go
 * on with the new columns of processes, then of exited.
 */
int snap_read(struct snap *s, const char *dir, const struct schema *base,
	      bool want_live, bool want_exited)
{
	unsigned long long ev1;
	struct summary first;
	int rc, tries;

	memset(s, 0, sizeof(*s));
	for (tries = 0; tries < SNAP_TRIES; tries++) {
		snap_free(s);
		memset(&first, 0, sizeof(first));
		rc = read_whole(dir, "summary", &first.buf);
		if (rc)
			return rc;
		parse_summary(&first);
		ev1 = sum_u64(&first, "evicted");
		free(first.buf);
		if (want_live) {
			rc = read_whole(dir, "processes", &s->pbuf);
			if (rc)
				return rc;
		}
		if (want_exited) {
			rc = read_whole(dir, "exited", &s->ebuf);
			if (rc)
				goto fail;
		}
		rc = read_whole(dir, "summary", &s->sum.buf);
		if (rc)
			goto fail;
		parse_summary(&s->sum);
		s->evicted = sum_u64(&s->sum, "evicted");
		s->stable = ev1 == (unsigned long long)s->evicted;
		if (s->stable || !want_exited)
			break;
	}
	if (base)
		schema_copy(&s->schema, base);
	if (want_live) {
		rc = parse_table(s->pbuf, "processes", true, 0, &s->schema,
				 &s->live);
		if (rc)
			goto fail;
	}
	if (want_exited) {
		rc = parse_table(s->ebuf, "exited", false, s->evicted,
				 &s->schema, &s->exited);
		if (rc)
			goto fail;
	}
	return 0;
fail:
	snap_free(s);
	return rc;
}
