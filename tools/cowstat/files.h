/* SPDX-License-Identifier: GPL-2.0 */
/* Owns the snapshot of the debugfs files and its column schema. */
#ifndef COWSTAT_FILES_H
#define COWSTAT_FILES_H

#include <stdbool.h>
#include <stddef.h>

#define DEBUGFS_DIR	"/sys/kernel/debug"
#define MAX_COUNTERS	32
#define MAX_COLS	(MAX_COUNTERS + 3)
#define MAX_KEYS	128
#define COMM_MAX	64
#define HEAD_MAX	32

enum unit { U_COUNT, U_PAGES, U_BYTES };

/* A counter column: its name in the files and how to show it. */
struct counter {
	char *name;
	char head[HEAD_MAX];	/* table heading */
	const char *unit;	/* word after the number in detail blocks */
	enum unit kind;
	bool top;		/* always a column of the tables */
	bool human;		/* shown as a size in the tables */
};

/* The counter columns found in the files, in their order. */
struct schema {
	int n;
	struct counter c[MAX_COUNTERS];
};

int schema_index(const struct schema *sc, const char *name);
void schema_copy(struct schema *dst, const struct schema *src);
void schema_free(struct schema *sc);

/* summary: "key: value" lines; probe.* lines are summed into "missed". */
struct summary {
	char *buf;
	int n;
	char *key[MAX_KEYS];
	char *val[MAX_KEYS];
	unsigned long long missed;
};

bool parse_u64(const char *s, size_t len, unsigned long long *v);
const char *sum_str(const struct summary *s, const char *key);
unsigned long long sum_u64(const struct summary *s, const char *key);

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
	unsigned long long cnt[MAX_COUNTERS];	/* indexed like the schema */
};

struct table {
	struct row *rows;
	size_t n;
};

/* One reading of the files. */
struct snap {
	struct schema schema;	/* the columns of live and exited */
	struct summary sum;
	char *pbuf, *ebuf;
	struct table live, exited;
	long long evicted;	/* of summary, for the exited rows' seq */
	bool stable;		/* exited did not change between the summaries */
};

int find_dir(char *dir, size_t size);
int snap_read(struct snap *s, const char *dir, const struct schema *base,
	      bool want_live, bool want_exited);
void snap_free(struct snap *s);
void snap_totals(const struct snap *s, unsigned long long *cnt);

#endif /* COWSTAT_FILES_H */
