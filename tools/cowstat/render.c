// SPDX-License-Identifier: GPL-2.0
/* Owns human sizes, names made safe for a terminal, and the tables. */
#define _GNU_SOURCE
#include <langinfo.h>
#include <stdint.h>
#include <string.h>
#include <wchar.h>

#include "cowstat.h"

/* The counters this version knows; others get a generic description. */
static const struct {
	const char *name;
	const char *head;
	const char *unit;
	enum unit kind;
	bool top, human;
} known[] = {
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

/* How the counter c->name is shown: as known, or by its name in upper case. */
void counter_describe(struct counter *c)
{
	size_t k;

	for (k = 0; k < ARRAY_SIZE(known); k++) {
		if (!strcmp(known[k].name, c->name)) {
			snprintf(c->head, sizeof(c->head), "%s", known[k].head);
			c->unit = known[k].unit;
			c->kind = known[k].kind;
			c->top = known[k].top;
			c->human = known[k].human;
			return;
		}
	}
	/* A column of a newer module. */
	for (k = 0; c->name[k] && k < sizeof(c->head) - 1; k++)
		c->head[k] = c->name[k] >= 'a' && c->name[k] <= 'z' ?
			     c->name[k] - 'a' + 'A' : c->name[k];
	c->head[k] = '\0';
	c->unit = "";
	c->kind = U_COUNT;
	c->top = false;
	c->human = false;
}

/* 1536 -> "1.5 KiB" (iec) or "1.5K" (short, for tables). */
char *human(unsigned long long bytes, bool iec, char *buf, size_t size)
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

/*
 * Length of the valid UTF-8 sequence at p, 0 if there is none; its code
 * point in *cp.
 */
int utf8_seq(const unsigned char *p, unsigned int *cp)
{
	unsigned int c = p[0], min, v;
	int n, i;

	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		v = c & 0x1f;
		min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3;
		v = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		v = c & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

/*
 * A name made safe for a terminal, as procps shows names: control
 * characters (C0, DEL, and C1 from U+0080 to U+009F whether a raw byte or
 * UTF-8-encoded) and bytes that are not UTF-8 become '?', one for each; in
 * a UTF-8 locale so do the characters that wcwidth(3) calls unprintable.
 * Returns the display width: in a UTF-8 locale that of wcwidth(3) (2 for a
 * wide character, 0 for a combining one), else one column per character.
 */
int sanitize(const char *in, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)in;
	bool utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	int width = 0, n, w;
	unsigned int cp;
	size_t o = 0;

	while (*p && o + 5 < size) {
		n = *p >= 0x80 ? utf8_seq(p, &cp) : 1;
		w = n > 1 && cp >= 0xa0 ? utf8 ? wcwidth(cp) : 1 : -1;
		if (w >= 0) {
			memcpy(out + o, p, n);
			o += n;
			width += w;
		} else {
			out[o++] = n == 1 && *p >= 0x20 && *p != 0x7f ? *p : '?';
			width++;
		}
		p += n ? n : 1;
	}
	out[o] = '\0';
	return width;
}

enum col_kind { C_PID, C_PPID, C_COMM, C_STATE, C_COUNTER };

struct col {
	enum col_kind kind;
	int idx;
	int width;
};

/* The text of a cell into buf; returns its display width. */
static int cell(const struct schema *sc, const struct row *r,
		const struct col *c, char *buf, size_t size)
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
		if (!sc->c[c->idx].human)
			return snprintf(buf, size, "%llu", v);
		if (sc->c[c->idx].kind == U_PAGES)
			v *= PAGE_BYTES;
		human(v, false, buf, size);
		return strlen(buf);
	}
	return 0;
}

static const char *col_head(const struct schema *sc, const struct col *c)
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
		return sc->c[c->idx].head;
	}
}

/*
 * A table of rows.  Columns: the main counters, a counter that -s selects,
 * and (all_nonzero) every counter that is not 0 in some row.
 */
void print_table(FILE *out, const struct schema *sc, struct row **rows,
		 size_t n, bool state, bool all_nonzero, int sort_idx,
		 size_t max_rows)
{
	struct col cols[MAX_COLS + 1];
	char buf[COMM_MAX * 4 + 32];
	int ncols = 0, i, w;
	bool show, left;
	size_t r;

	cols[ncols++] = (struct col){ C_PID, 0, 7 };
	cols[ncols++] = (struct col){ C_PPID, 0, 7 };
	cols[ncols++] = (struct col){ C_COMM, 0, 15 };
	if (state)
		cols[ncols++] = (struct col){ C_STATE, 0, 6 };
	for (i = 0; i < sc->n; i++) {
		show = sc->c[i].top || i == sort_idx;
		for (r = 0; r < n && all_nonzero && !show; r++)
			show = rows[r]->cnt[i] != 0;
		if (show)
			cols[ncols++] = (struct col){ C_COUNTER, i, 0 };
	}
	if (n > max_rows)
		n = max_rows;
	for (i = 0; i < ncols; i++) {
		w = strlen(col_head(sc, &cols[i]));
		if (cols[i].width < w)
			cols[i].width = w;
		for (r = 0; r < n; r++) {
			w = cell(sc, rows[r], &cols[i], buf, sizeof(buf));
			if (cols[i].width < w)
				cols[i].width = w;
		}
	}
	for (i = 0; i < ncols; i++) {
		left = cols[i].kind == C_COMM || cols[i].kind == C_STATE;
		fprintf(out, left ? "%s%-*s" : "%s%*s", i ? " " : "",
			cols[i].width, col_head(sc, &cols[i]));
	}
	fputc('\n', out);
	for (r = 0; r < n; r++) {
		for (i = 0; i < ncols; i++) {
			w = cell(sc, rows[r], &cols[i], buf, sizeof(buf));
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
void print_counters(FILE *out, const struct schema *sc,
		    const unsigned long long *cnt)
{
	const struct counter *c;
	char buf[32];
	int i;

	for (i = 0; i < sc->n; i++) {
		c = &sc->c[i];
		fprintf(out, "  %-16s %14llu", c->name, cnt[i]);
		if (c->kind != U_COUNT)
			fprintf(out, " %-5s %10s", c->unit,
				human(c->kind == U_PAGES ? cnt[i] * PAGE_BYTES :
				      cnt[i], true, buf, sizeof(buf)));
		else if (*c->unit)
			fprintf(out, " %s", c->unit);
		fputc('\n', out);
	}
}
