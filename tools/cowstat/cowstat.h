/* SPDX-License-Identifier: GPL-2.0 */
/* Owns what crosses the tool's files: exit codes, options, interfaces. */
#ifndef COWSTAT_H
#define COWSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "files.h"

#define COWSTAT_VERSION	"0.1.0"
#define PAGE_BYTES	4096ULL
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define __printf(a, b)	__attribute__((format(printf, a, b)))

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

struct opts {
	bool json, batch, children;
	double delay;
	long count;
	const char *sort;
	const char *output;
	int *pids;
	int npids;
};

/* main.c */
void err_msg(const char *fmt, ...) __printf(1, 2);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* render.c */
void counter_describe(struct counter *c);
int utf8_seq(const unsigned char *p, unsigned int *cp);
char *human(unsigned long long bytes, bool iec, char *buf, size_t size);
int sanitize(const char *in, char *out, size_t size);
void print_table(FILE *out, const struct schema *sc, struct row **rows,
		 size_t n, bool state, bool all_nonzero, int sort_idx,
		 size_t max_rows);
void print_counters(FILE *out, const struct schema *sc,
		    const unsigned long long *cnt);

/* json.c: a streaming writer; it places the commas itself. */
#define JSON_MAX_DEPTH	16

struct json {
	FILE *f;
	int depth;
	bool after_key;			/* a value completes "key": */
	bool more[JSON_MAX_DEPTH];	/* the container at a depth has items */
};

void json_init(struct json *j, FILE *f);
void json_obj(struct json *j);
void json_obj_end(struct json *j);
void json_arr(struct json *j);
void json_arr_end(struct json *j);
void json_key(struct json *j, const char *key);
void json_str(struct json *j, const char *s);
void json_u64(struct json *j, unsigned long long v);
void json_int(struct json *j, long long v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
void json_fixed3(struct json *j, double v);
void json_kv_str(struct json *j, const char *key, const char *s);
void json_kv_u64(struct json *j, const char *key, unsigned long long v);
void json_kv_int(struct json *j, const char *key, long long v);
void json_kv_bool(struct json *j, const char *key, bool v);
void json_end(struct json *j);
void json_counters(struct json *j, const struct schema *sc,
		   const unsigned long long *cnt);
void json_row_fields(struct json *j, const struct schema *sc,
		     const struct row *r, bool depth);
void json_row(struct json *j, const struct schema *sc, const struct row *r,
	      bool depth);
void json_module(struct json *j, const struct schema *sc,
		 const struct summary *s);

/* tree.c: descendants by ppid links, across live and exited rows */
struct rowvec {
	struct row **v;
	size_t n, cap;
};

/* The rows a tree may use, sorted by pid and by ppid. */
struct cands {
	struct row **bypid, **byppid;
	size_t n;
};

void cands_build(struct cands *c, struct snap *s, long long min_seq);
void cands_free(struct cands *c);
void add_tree(struct cands *c, struct row *root, struct rowvec *rv);
void sum_rows(const struct schema *sc, const struct rowvec *rv,
	      unsigned long long *cnt);
struct row *find_pid(struct snap *s, int pid);

/* The modes: top.c, pids.c, run.c */
int cmd_top(const struct opts *o, const char *dir, FILE *out);
int cmd_pids(const struct opts *o, const char *dir, FILE *out);
int cmd_run(const struct opts *o, const char *dir, FILE *out, char **argv);

#endif /* COWSTAT_H */
